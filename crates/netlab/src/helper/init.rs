//! `netlab init --dir DIR`: PID 1 of the lab's PID namespace.
//!
//! It starts one holder per host, wires and configures the topology from
//! inside each host, starts alpha's services, writes the state directory,
//! prints `ready`, and then waits: for its owner's pipe to close (the owner
//! died or dropped the lab), for SIGTERM/SIGINT/SIGHUP, or for an essential
//! process to die. As any init, it reaps the orphans the kernel hands it.
//! When it returns, the kernel ends every process in the lab.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};

use super::configure::{self, HostToBuild};
use crate::state::{self, HostState, State};
use crate::sys::namespace::{self, HostNamespaces, Namespace};
use crate::sys::process::{self, SignalFd};
use crate::topology::Host;

/// A host whose holder is running.
struct RunningHost {
    host: Host,
    holder: Child,
    outer_pid: u32,
    namespaces: HostNamespaces,
}

/// A process the lab cannot do without: if it dies, the lab ends.
struct Essential {
    pid: u32,
    what: String,
}

/// Runs `netlab init`.
pub fn run(dir: &Path) -> ExitCode {
    // Before anything else, so no stop request is lost.
    let signals = match SignalFd::open() {
        Ok(signals) => signals,
        Err(error) => {
            println!("error: signalfd: {error}");
            return ExitCode::FAILURE;
        }
    };
    let essentials = match set_up(dir) {
        Ok(essentials) => essentials,
        Err(error) => {
            println!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("ready");
    // Nothing is written to stdout after this line: the reader stops here.
    let _ = io::stdout().flush();
    match serve_until_stopped(&signals, &essentials) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("netlab: {error}; the lab has ended");
            ExitCode::FAILURE
        }
    }
}

/// Everything between "PID 1 exists" and "ready".
fn set_up(dir: &Path) -> Result<Vec<Essential>, String> {
    let helper = std::env::current_exe().map_err(|e| format!("finding our own binary: {e}"))?;
    // The init's /proc is still the outer one: /proc/self names us as the
    // world outside the lab does.
    let init_pid = read_pid_link("/proc/self").map_err(|e| format!("reading /proc/self: {e}"))?;
    let mut hosts = Vec::new();
    for host in Host::ALL {
        hosts.push(start_holder(&helper, host).map_err(|e| format!("starting {host}: {e}"))?);
    }
    let mut essentials: Vec<Essential> = hosts
        .iter()
        .map(|h| Essential {
            pid: h.holder.id(),
            what: format!("the {} host's holder", h.host),
        })
        .collect();
    let to_build: Vec<HostToBuild<'_>> = hosts
        .iter()
        .map(|h| HostToBuild {
            host: h.host,
            lab_pid: h.holder.id(),
            namespaces: &h.namespaces,
        })
        .collect();
    configure::build(&to_build)?;
    let alpha = hosts
        .iter()
        .find(|h| h.host == Host::Alpha)
        .ok_or("no alpha host")?;
    let services =
        start_alpha_services(&helper, alpha).map_err(|e| format!("alpha's services: {e}"))?;
    essentials.push(Essential {
        pid: services.id(),
        what: "alpha's services".into(),
    });
    write_state_dir(dir, &helper, init_pid, &hosts)
        .map_err(|e| format!("writing {}: {e}", dir.display()))?;
    Ok(essentials)
}

/// Reads a `/proc` symlink whose target is a PID (`/proc/self`).
fn read_pid_link(path: &str) -> io::Result<u32> {
    let target = fs::read_link(path)?;
    target
        .to_str()
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path} -> {}", target.display()),
            )
        })
}

/// Starts `netlab hold HOST` and waits for it to report.
fn start_holder(helper: &Path, host: Host) -> io::Result<RunningHost> {
    let mut holder = Command::new(helper)
        .arg("hold")
        .arg(host.name())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = holder
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut next_line = || {
        lines
            .next()
            .unwrap_or_else(|| Err(io::Error::other("holder exited")))
    };
    let first = next_line()?;
    let outer_pid = first
        .strip_prefix("pid ")
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| io::Error::other(first.clone()))?;
    let second = next_line()?;
    if second != "ready" {
        return Err(io::Error::other(second));
    }
    // Our /proc numbers processes as the outside world does.
    let namespaces = HostNamespaces::of_process(outer_pid)?;
    Ok(RunningHost {
        host,
        holder,
        outer_pid,
        namespaces,
    })
}

/// Starts `netlab serve-alpha` on alpha and waits until it listens.
fn start_alpha_services(helper: &Path, alpha: &RunningHost) -> io::Result<Child> {
    namespace::enter_host(&alpha.namespaces)?;
    let mut services = Command::new(helper)
        .arg("serve-alpha")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = services
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if line.trim() != "listening" {
        return Err(io::Error::other(format!("said {:?}", line.trim())));
    }
    Ok(services)
}

/// The state file and the host commands.
fn write_state_dir(
    dir: &Path,
    helper: &Path,
    init_pid: u32,
    hosts: &[RunningHost],
) -> io::Result<()> {
    let lab_ns = |ns: Namespace| {
        hosts
            .first()
            .ok_or_else(|| io::Error::other("no hosts"))?
            .namespaces
            .id(ns)
    };
    let state = State {
        helper: helper.to_path_buf(),
        user_ns: lab_ns(Namespace::User)?,
        pid_ns: lab_ns(Namespace::Pid)?,
        init_pid,
        hosts: hosts
            .iter()
            .map(|h| {
                Ok(HostState {
                    host: h.host,
                    outer_pid: h.outer_pid,
                    lab_pid: h.holder.id(),
                    net_ns: h.namespaces.id(Namespace::Net)?,
                    mount_ns: h.namespaces.id(Namespace::Mount)?,
                })
            })
            .collect::<io::Result<_>>()?,
    };
    let bin = state::bin_dir(dir);
    fs::create_dir_all(&bin)?;
    for host in Host::ALL {
        let path = bin.join(host.name());
        fs::write(&path, host_command_script(helper, dir, host))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
    }
    // Last: a state file means "this lab is ready".
    state.write(dir)
}

/// `bin/HOST`: `HOST CMD ARGS…` runs CMD on that host.
fn host_command_script(helper: &Path, dir: &Path, host: Host) -> String {
    format!(
        "#!/bin/sh\n\
         # {host} CMD [ARGS...]: run a command on the lab's {host} host.\n\
         if [ $# -eq 0 ]; then echo \"usage: {host} CMD [ARGS...]\" >&2; exit 2; fi\n\
         exec {} exec --lab {} {host} -- \"$@\"\n",
        shell_quote(helper),
        shell_quote(dir),
    )
}

/// Quotes a path for sh: inside single quotes nothing is special but the
/// single quote itself, written as '\''.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"))
}

// ANCHOR: init_loop
/// The init's life after `ready`: sleep in poll(2) until the owner's pipe
/// closes or a signal comes; reap every child that ends (orphans of the
/// whole lab land here); stop when asked or when an essential process died.
fn serve_until_stopped(signals: &SignalFd, essentials: &[Essential]) -> Result<(), String> {
    let stdin = io::stdin();
    // Our owner keeps the write end of a pipe on our stdin; when it exits, or
    // drops the lab, the pipe reports end-of-file. (Started by hand with a
    // terminal or /dev/null on stdin, only signals stop the lab.)
    let watch_owner = File::from(
        stdin
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| e.to_string())?,
    )
    .metadata()
    .is_ok_and(|m| m.file_type().is_fifo());
    loop {
        let mut fds = vec![signals.as_fd()];
        if watch_owner {
            fds.push(stdin.as_fd());
        }
        let ready = process::wait_readable(&fds, None).map_err(|e| format!("poll: {e}"))?;
        if ready.get(1) == Some(&true) {
            let mut buffer = [0; 64];
            if stdin.lock().read(&mut buffer).map_err(|e| e.to_string())? == 0 {
                return Ok(()); // The owner is gone: end the lab.
            }
        }
        if ready[0] {
            match signals.read().map_err(|e| format!("signalfd: {e}"))? {
                libc::SIGCHLD => {
                    while let Some(pid) =
                        process::reap_any_child().map_err(|e| format!("waitpid: {e}"))?
                    {
                        if let Some(essential) = essentials.iter().find(|e| e.pid == pid) {
                            return Err(format!("{} ended", essential.what));
                        }
                    }
                }
                _stop => return Ok(()),
            }
        }
    }
}
// ANCHOR_END: init_loop

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_quote_paths_for_sh() {
        let script = host_command_script(
            Path::new("/opt/it's/netlab"),
            Path::new("/tmp/a b"),
            Host::Beta,
        );
        assert!(
            script.contains("exec '/opt/it'\\''s/netlab' exec --lab '/tmp/a b' beta -- \"$@\"\n"),
            "{script}"
        );
        assert!(script.starts_with("#!/bin/sh\n"));
    }
}
