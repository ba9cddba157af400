//! The lab's state directory: what a running lab leaves for those who join
//! it or run commands in it.
//!
//! ```text
//! DIR/state        who the lab is: PIDs and namespace ids (below)
//! DIR/bin/alpha    `alpha CMD…`: a sh script calling `netlab exec`
//! DIR/bin/raw      `raw CMD…`
//! DIR/bin/beta     `beta CMD…`
//! DIR/users.lock   shared lab only: joined shells hold a shared flock on it
//! ```
//!
//! `state` is a few lines of text, one fact per line:
//!
//! ```text
//! helper /path/to/target/debug/netlab
//! user 4026532280
//! pid 4026532282
//! init 41235
//! host alpha 41240 2 4026532347 4026532345
//! ```
//!
//! `user` and `pid` are the ids of the lab's user and PID namespaces (the
//! inode numbers `ls -l /proc/PID/ns` shows). `init` is the lab init's PID
//! outside the lab. Each `host` line gives the host's holder process as
//! PID outside, PID inside the lab, then the ids of its network and mount
//! namespaces. Two PIDs because a `/proc` only knows the PIDs of its own
//! PID namespace: outside the lab we look up the outer PID, inside (a host
//! whose `/proc` is the lab's) the inner one. The namespace ids tell which
//! one is right, and tell a live lab from a stale file whose PIDs were
//! reused by someone else.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::sys::namespace::{HostNamespaces, Namespace, namespace_id};
use crate::topology::Host;

/// The state file inside a lab directory.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("state")
}

/// The directory of the `alpha`/`raw`/`beta` scripts.
pub fn bin_dir(dir: &Path) -> PathBuf {
    dir.join("bin")
}

/// The lock file joined shells share (shared lab only).
pub fn users_lock_path(dir: &Path) -> PathBuf {
    dir.join("users.lock")
}

/// One host's holder process and namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    /// Which host.
    pub host: Host,
    /// The holder's PID outside the lab.
    pub outer_pid: u32,
    /// The holder's PID inside the lab's PID namespace.
    pub lab_pid: u32,
    /// Id of the host's network namespace.
    pub net_ns: u64,
    /// Id of the host's mount namespace.
    pub mount_ns: u64,
}

/// Everything in the state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The helper binary that runs the lab (the scripts call it too).
    pub helper: PathBuf,
    /// Id of the lab's user namespace.
    pub user_ns: u64,
    /// Id of the lab's PID namespace.
    pub pid_ns: u64,
    /// The lab init's PID outside the lab.
    pub init_pid: u32,
    /// The three hosts, in [`Host::ALL`] order.
    pub hosts: Vec<HostState>,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl State {
    /// Writes the state file: to a temporary name first, then renamed, so a
    /// reader never sees half a file.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let mut text = String::new();
        let helper = self
            .helper
            .to_str()
            .ok_or_else(|| invalid("helper path is not UTF-8".into()))?;
        // Writing to a String cannot fail.
        let _ = writeln!(text, "helper {helper}");
        let _ = writeln!(text, "user {}", self.user_ns);
        let _ = writeln!(text, "pid {}", self.pid_ns);
        let _ = writeln!(text, "init {}", self.init_pid);
        for h in &self.hosts {
            let _ = writeln!(
                text,
                "host {} {} {} {} {}",
                h.host, h.outer_pid, h.lab_pid, h.net_ns, h.mount_ns
            );
        }
        let temporary = dir.join("state.tmp");
        fs::write(&temporary, text)?;
        fs::rename(temporary, state_path(dir))
    }

    /// Reads and parses the state file of the lab in `dir`.
    pub fn read(dir: &Path) -> io::Result<State> {
        let path = state_path(dir);
        let text = fs::read_to_string(&path)?;
        Self::parse(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
    }

    fn parse(text: &str) -> Result<State, String> {
        fn number<T: std::str::FromStr>(word: Option<&str>, what: &str) -> Result<T, String> {
            word.and_then(|w| w.parse().ok())
                .ok_or_else(|| format!("bad or missing {what}"))
        }
        let (mut helper, mut user_ns, mut pid_ns, mut init_pid) = (None, None, None, None);
        let mut hosts = Vec::new();
        for line in text.lines() {
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let mut words = rest.split(' ');
            match key {
                "helper" => helper = Some(PathBuf::from(rest)),
                "user" => user_ns = Some(number(words.next(), "user namespace id")?),
                "pid" => pid_ns = Some(number(words.next(), "pid namespace id")?),
                "init" => init_pid = Some(number(words.next(), "init pid")?),
                "host" => {
                    let name = words.next().unwrap_or("");
                    let host =
                        Host::from_name(name).ok_or_else(|| format!("unknown host {name:?}"))?;
                    hosts.push(HostState {
                        host,
                        outer_pid: number(words.next(), "outer pid")?,
                        lab_pid: number(words.next(), "lab pid")?,
                        net_ns: number(words.next(), "net namespace id")?,
                        mount_ns: number(words.next(), "mount namespace id")?,
                    });
                }
                _ => {}
            }
        }
        let missing = |what: &str| format!("no {what} line");
        if hosts.iter().map(|h| h.host).ne(Host::ALL) {
            return Err("host lines missing or out of order".into());
        }
        Ok(State {
            helper: helper.ok_or_else(|| missing("helper"))?,
            user_ns: user_ns.ok_or_else(|| missing("user"))?,
            pid_ns: pid_ns.ok_or_else(|| missing("pid"))?,
            init_pid: init_pid.ok_or_else(|| missing("init"))?,
            hosts,
        })
    }

    /// The entry for `host`.
    pub fn host(&self, host: Host) -> &HostState {
        // `parse` guarantees one entry per host, in Host::ALL order.
        &self.hosts[Host::ALL.iter().position(|&h| h == host).unwrap_or(0)]
    }

    /// True if the lab init this file describes is still running: a process
    /// with its PID is in the recorded PID namespace. Seen from outside the
    /// lab that is the recorded outer PID; from a host whose `/proc` is the
    /// lab's own, PID 1.
    pub fn is_live(&self) -> bool {
        [self.init_pid, 1].into_iter().any(|pid| {
            let path = format!("/proc/{pid}/ns/pid");
            namespace_id(Path::new(&path)).is_ok_and(|id| id == self.pid_ns)
        })
    }

    /// Opens `host`'s namespaces, through whichever of its two PIDs this
    /// process's `/proc` knows; checks the namespace ids so a reused PID can
    /// never send us into someone else's namespaces.
    pub fn open_host(&self, host: Host) -> io::Result<HostNamespaces> {
        let entry = self.host(host);
        for pid in [entry.outer_pid, entry.lab_pid] {
            let Ok(namespaces) = HostNamespaces::of_process(pid) else {
                continue;
            };
            let matches = namespaces.id(Namespace::Net).ok() == Some(entry.net_ns)
                && namespaces.id(Namespace::Mount).ok() == Some(entry.mount_ns)
                && namespaces.id(Namespace::User).ok() == Some(self.user_ns);
            if matches {
                return Ok(namespaces);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("the lab's {host} host is not running (the lab has ended)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> State {
        State {
            helper: PathBuf::from("/work/target/debug/net lab"),
            user_ns: 4026532280,
            pid_ns: 4026532282,
            init_pid: 41235,
            hosts: Host::ALL
                .iter()
                .enumerate()
                .map(|(i, &host)| HostState {
                    host,
                    outer_pid: 41240 + i as u32,
                    lab_pid: 2 + i as u32,
                    net_ns: 4026532347 + i as u64,
                    mount_ns: 4026532345 + i as u64,
                })
                .collect(),
        }
    }

    #[test]
    fn state_survives_a_write_and_read() {
        let dir = std::env::temp_dir().join(format!("netlab-state-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        example().write(&dir).unwrap();
        let text = fs::read_to_string(state_path(&dir)).unwrap();
        assert!(
            text.contains("host raw 41241 3 4026532348 4026532346\n"),
            "{text}"
        );
        assert_eq!(State::read(&dir).unwrap(), example());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_state_is_an_error_not_a_panic() {
        let text = "helper /x\nuser 1\npid 2\ninit 3\nhost alpha 4 5 6 7\nhost raw 8\n";
        for end in 0..text.len() {
            assert!(State::parse(&text[..end]).is_err());
        }
    }
}
