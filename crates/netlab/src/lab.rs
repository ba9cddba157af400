//! The library side: starting, joining and ending labs, and running
//! commands in them, through the `netlab` helper binary.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, DirBuilder, File};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::state::{self, State};
use crate::sys::namespace::real_uid;
use crate::sys::process::{self, LockKind, lock_file};
use crate::topology::Host;

/// How long a lab may take to say `ready`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a lab may take to end after its pipe is closed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a joiner waits for a shared lab that is being torn down.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a lab could not be started or joined.
#[derive(Debug)]
pub enum LabError {
    /// This machine does not allow the rootless lab (no unprivileged user
    /// namespaces, or namespaces without capabilities). One line: the cause
    /// and the fix.
    Unsupported(String),
    /// The lab could not be started or joined: the helper's message, or
    /// why we stopped waiting for it.
    Helper(String),
    /// Something around the helper failed (building it, spawning it, the
    /// state directory).
    Io {
        /// What we were doing.
        context: String,
        /// What went wrong.
        source: io::Error,
    },
}

impl LabError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Io { context, source }
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabError::Unsupported(reason) => write!(f, "the lab cannot run here: {reason}"),
            LabError::Helper(message) => write!(f, "starting the lab: {message}"),
            LabError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for LabError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LabError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The `netlab` helper binary that creates labs and enters them.
///
/// `$NETLAB_HELPER` if set (for a copy of the binary, e.g. when running as
/// another user); otherwise `cargo build -p netlab --bin netlab` in this
/// workspace (quick when it is up to date; it works from inside a running
/// `cargo test` too), and the path cargo reports. The answer is remembered
/// for the life of the process.
pub fn helper_path() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("NETLAB_HELPER") {
        return Ok(PathBuf::from(path));
    }
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    // One build at a time; a poisoned lock only means another build panicked.
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(path) = built.as_ref() {
        return Ok(path.clone());
    }
    let path = build_helper()?;
    *built = Some(path.clone());
    Ok(path)
}

fn build_helper() -> io::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "-p",
            "netlab",
            "--bin",
            "netlab",
            "--message-format=json",
        ])
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "`cargo build -p netlab --bin netlab` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(netlab_executable)
        .ok_or_else(|| io::Error::other("cargo built no `netlab` executable"))
}

/// The `"executable"` of cargo's JSON message for the `netlab` binary, if
/// this line is that message (see cargo's "JSON messages" documentation).
fn netlab_executable(line: &str) -> Option<PathBuf> {
    let is_netlab_bin = line.contains(r#""reason":"compiler-artifact""#)
        && line.contains(r#""kind":["bin"]"#)
        && line.contains(r#""name":"netlab""#);
    if !is_netlab_bin {
        return None;
    }
    let start = line.find(r#""executable":""#)? + r#""executable":""#.len();
    // A JSON string ends at the first quote not escaped by a backslash.
    let mut path = String::new();
    let mut chars = line[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(PathBuf::from(path)),
            '\\' => path.push(chars.next()?),
            c => path.push(c),
        }
    }
}

/// Waits for `child` as `system(3)` does: while it runs in the foreground,
/// this process ignores SIGINT and SIGQUIT, so Ctrl-C ends the command (which
/// gets it from the terminal) but not us, and we can still clean up after it.
pub fn wait_in_foreground(child: &mut Child) -> io::Result<ExitStatus> {
    process::ignore_interrupts_while(|| child.wait())?
}

/// A running lab: three hosts, wired and configured, until dropped.
///
/// Dropping a lab this process started ends it (every process in it, its
/// namespaces, its directory); dropping a joined lab only leaves it.
#[derive(Debug)]
pub struct Lab {
    dir: PathBuf,
    state: State,
    role: Role,
}

#[derive(Debug)]
enum Role {
    /// We started it: the `netlab start` process, whose stdin is the pipe
    /// that keeps the lab alive.
    Owner {
        process: Child,
        shared: Option<SharedLocks>,
    },
    /// We joined someone's shared lab: a shared lock on `users.lock` says so.
    Joined { _users_lock: File },
}

/// The files a shared lab's creator locks around teardown.
#[derive(Debug)]
struct SharedLocks {
    /// Serialises "join or start" against "tear down" (`…/rawstack/lab.lock`).
    start_lock: PathBuf,
    /// Held exclusively once every joined shell has left.
    users_lock: Option<File>,
}

impl Lab {
    /// Starts a fresh lab of this process's own, with its state in a new
    /// temporary directory. Waits until it is ready (at most 20 s).
    pub fn start() -> Result<Lab, LabError> {
        let dir = unique_temp_dir().map_err(LabError::io("creating the lab's directory"))?;
        Lab::start_in(dir.clone(), None).inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })
    }

    /// Joins this user's shared lab if one is running, or starts it: the lab
    /// of `cargo xtask lab`, in `$XDG_RUNTIME_DIR/rawstack/lab` (else
    /// `/tmp/rawstack-UID/lab`). A stale directory left by a lab that died is
    /// cleaned up. The lab ends when the [`Lab`] that started it is dropped;
    /// before that, its creator calls [`Lab::wait_for_joined`].
    pub fn join_or_start_shared() -> Result<Lab, LabError> {
        let base =
            shared_base_dir().map_err(LabError::io("preparing the shared lab's directory"))?;
        let dir = base.join("lab");
        let start_lock = base.join("lab.lock");
        let deadline = Instant::now() + JOIN_TIMEOUT;
        loop {
            let starting = open_lock_file(&start_lock).map_err(LabError::io("opening lab.lock"))?;
            lock_file(&starting, LockKind::Exclusive, true)
                .map_err(LabError::io("locking lab.lock"))?;
            let running = State::read(&dir).ok().filter(State::is_live);
            let Some(state) = running else {
                // Nothing there, or what a dead lab left: start anew, still
                // holding the lock so nobody else starts one at the same time.
                if dir.exists() {
                    fs::remove_dir_all(&dir)
                        .map_err(LabError::io(format!("removing stale {}", dir.display())))?;
                }
                create_private_dir(&dir)
                    .map_err(LabError::io(format!("creating {}", dir.display())))?;
                let shared = SharedLocks {
                    start_lock,
                    users_lock: None,
                };
                return Lab::start_in(dir.clone(), Some(shared)).inspect_err(|_| {
                    let _ = fs::remove_dir_all(&dir);
                });
            };
            let users = open_lock_file(&state::users_lock_path(&dir))
                .map_err(LabError::io("opening users.lock"))?;
            if lock_file(&users, LockKind::Shared, false)
                .map_err(LabError::io("locking users.lock"))?
            {
                return Ok(Lab {
                    dir,
                    state,
                    role: Role::Joined { _users_lock: users },
                });
            }
            // Its creator holds users.lock exclusively: it is ending the lab.
            // Let it finish, then start a new one.
            drop(starting);
            if Instant::now() > deadline {
                return Err(LabError::Helper(format!(
                    "the lab in {} is ending but has not ended",
                    dir.display()
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the helper on `dir` and waits for its report.
    fn start_in(dir: PathBuf, shared: Option<SharedLocks>) -> Result<Lab, LabError> {
        let helper = helper_path().map_err(LabError::io("building the netlab helper"))?;
        let mut process = Command::new(&helper)
            .arg("start")
            .arg("--dir")
            .arg(&dir)
            // The pipe on its stdin keeps the lab alive: it closes when we drop
            // the lab, or when this process dies, however it dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its own process group: Ctrl-C in our terminal is for the command
            // in the foreground, not for the lab under it.
            .process_group(0)
            .spawn()
            .map_err(LabError::io(format!("running {}", helper.display())))?;
        let started = wait_until_ready(&mut process)
            .and_then(|()| State::read(&dir).map_err(LabError::io("reading the lab's state")));
        match started {
            Ok(state) => Ok(Lab {
                dir,
                state,
                role: Role::Owner { process, shared },
            }),
            Err(error) => {
                stop(&mut process);
                Err(error)
            }
        }
    }

    /// True if this process started the lab (rather than joined it).
    pub fn started_here(&self) -> bool {
        matches!(self.role, Role::Owner { .. })
    }

    /// For the creator of a shared lab: returns once no joined shell remains,
    /// calling `waiting(n)` first if `n` of them are still there. Joined
    /// shells leave when they drop their [`Lab`]. Does nothing for a private
    /// or joined lab.
    pub fn wait_for_joined(&mut self, waiting: impl FnOnce(usize)) -> io::Result<()> {
        let Role::Owner {
            shared: Some(shared),
            ..
        } = &mut self.role
        else {
            return Ok(());
        };
        if shared.users_lock.is_some() {
            return Ok(());
        }
        let users = open_lock_file(&state::users_lock_path(&self.dir))?;
        if !lock_file(&users, LockKind::Exclusive, false)? {
            waiting(count_shared_flocks(&users).unwrap_or(1));
            lock_file(&users, LockKind::Exclusive, true)?;
        }
        shared.users_lock = Some(users);
        Ok(())
    }

    /// A command that runs `program` on `host` (through `netlab exec`): add
    /// arguments, environment and stdio as with any [`Command`]. It runs as
    /// root of the lab's user namespace, in this process's working directory
    /// and environment, plus `RAWSTACK_LAB` and `RAWSTACK_HOST`.
    pub fn command(&self, host: Host, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(&self.state.helper);
        command
            .arg("exec")
            .arg("--lab")
            .arg(&self.dir)
            .arg(host.name())
            .arg("--")
            .arg(program);
        command
    }

    /// The lab's state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the `alpha`, `raw` and `beta` commands: put it first
    /// on `PATH` to type `alpha ping 198.18.0.3`.
    pub fn bin_dir(&self) -> PathBuf {
        state::bin_dir(&self.dir)
    }

    /// The helper binary this lab runs with (its `exec` and `offloads`
    /// subcommands are handy inside the lab).
    pub fn helper(&self) -> &Path {
        &self.state.helper
    }

    /// The lab init's PID, as this process's `/proc` numbers it.
    pub fn init_pid(&self) -> u32 {
        self.state.init_pid
    }

    /// The PID of the process that holds `host`'s namespaces, as this
    /// process's `/proc` numbers it: `nsenter -t PID -n -m` enters the host
    /// by hand, `/proc/PID/ns/` shows its namespaces.
    pub fn holder_pid(&self, host: Host) -> u32 {
        self.state.host(host).outer_pid
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let Role::Owner { process, shared } = &mut self.role else {
            return;
        };
        // A shared lab's creator waits until no joined shell uses it, and
        // keeps newcomers out (they wait for lab.lock) until it is gone.
        let _locks = shared
            .as_mut()
            .map(|shared| shared.lock_for_teardown(&self.dir));
        stop(process);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl SharedLocks {
    /// Takes `users.lock` exclusively (unless [`Lab::wait_for_joined`]
    /// already did), then `lab.lock`; the locks last as long as the files
    /// returned. A lock that cannot be had is skipped: ending the lab matters
    /// more than the courtesy.
    fn lock_for_teardown(&mut self, dir: &Path) -> Option<File> {
        if self.users_lock.is_none()
            && let Ok(users) = open_lock_file(&state::users_lock_path(dir))
        {
            let _ = lock_file(&users, LockKind::Exclusive, true);
            self.users_lock = Some(users);
        }
        let starting = open_lock_file(&self.start_lock).ok()?;
        let _ = lock_file(&starting, LockKind::Exclusive, true);
        Some(starting)
    }
}

/// Reads the helper's stdout until it reports, for at most [`START_TIMEOUT`].
fn wait_until_ready(process: &mut Child) -> Result<(), LabError> {
    let stdout = process
        .stdout
        .take()
        .ok_or_else(|| LabError::Helper("no stdout pipe".into()))?;
    let (report, reported) = mpsc::channel();
    thread::spawn(move || {
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|line| {
                line == "ready" || line.starts_with("error: ") || line.starts_with("unsupported: ")
            });
        let _ = report.send(line);
    });
    match reported.recv_timeout(START_TIMEOUT) {
        Ok(Some(line)) if line == "ready" => Ok(()),
        Ok(Some(line)) => match line.strip_prefix("unsupported: ") {
            Some(reason) => Err(LabError::Unsupported(reason.to_string())),
            None => Err(LabError::Helper(
                line.trim_start_matches("error: ").to_string(),
            )),
        },
        Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = process
                .wait()
                .map(|s| s.to_string())
                .unwrap_or_else(|e| e.to_string());
            Err(LabError::Helper(format!(
                "the helper ended ({status}) before the lab was ready"
            )))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(LabError::Helper(format!(
            "the lab was not ready after {} s",
            START_TIMEOUT.as_secs()
        ))),
    }
}

/// Ends a lab we started: close its pipe, which the init takes as "stop",
/// and wait for `netlab start` to exit (it waits for the init, whose end
/// is the end of every process in the lab). Kills it if it takes too long;
/// then the init dies of PR_SET_PDEATHSIG, and the lab with it.
fn stop(process: &mut Child) {
    drop(process.stdin.take());
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        match process.try_wait() {
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Ok(Some(_)) | Err(_) => return,
        }
    }
    let _ = process.kill();
    let _ = process.wait();
}

/// A new directory under the temp dir, only for us, unique per process and
/// call (tests start labs in parallel).
fn unique_temp_dir() -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("netlab-{}-{n}", std::process::id()));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            // Left by an earlier process with our PID: take the next number.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}

/// `$XDG_RUNTIME_DIR/rawstack`, or `/tmp/rawstack-UID`: created private
/// if missing, and refused if someone else owns it (in a shared /tmp
/// another user could have made it first).
fn shared_base_dir() -> io::Result<PathBuf> {
    let base = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(runtime) if runtime.is_absolute() && runtime.is_dir() => runtime.join("rawstack"),
        _ => PathBuf::from(format!("/tmp/rawstack-{}", real_uid())),
    };
    create_private_dir(&base)?;
    Ok(base)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => return Err(error),
        _ => {}
    }
    let metadata = fs::symlink_metadata(dir)?;
    if !metadata.is_dir() || metadata.uid() != real_uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a directory of yours", dir.display()),
        ));
    }
    Ok(())
}

/// Opens (creating if need be) a file to flock(2).
fn open_lock_file(path: &Path) -> io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// How many shared flock(2) locks are held on `file`, from `/proc/locks`
/// (lines like `3: FLOCK  ADVISORY  READ  4242 00:1c:1234 0 EOF`; waiting
/// requests are shown with `->` and not counted).
fn count_shared_flocks(file: &File) -> Option<usize> {
    let metadata = file.metadata().ok()?;
    // The device as the kernel prints it: major:minor in hex, from the
    // userspace encoding of st_dev (glibc's gnu_dev_major/minor).
    let dev = metadata.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let id = format!("{major:02x}:{minor:02x}:{}", metadata.ino());
    let locks = fs::read_to_string("/proc/locks").ok()?;
    let count = locks
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.get(1) == Some(&"FLOCK") && fields.get(3) == Some(&"READ"))
        .filter(|fields| fields.get(5) == Some(&id.as_str()))
        .count();
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_netlab_binary_in_cargo_json() {
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"netlab"},"executable":null}"#;
        let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"crate_types":["bin"],"name":"netlab"},"executable":"C:\\work\\net\"lab","fresh":true}"#;
        let other = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"xtask"},"executable":"/t/xtask"}"#;
        assert_eq!(netlab_executable(lib), None);
        assert_eq!(netlab_executable(other), None);
        assert_eq!(
            netlab_executable(bin),
            Some(PathBuf::from("C:\\work\\net\"lab"))
        );
        assert_eq!(
            netlab_executable(
                r#""reason":"compiler-artifact","kind":["bin"],"name":"netlab","executable":"/unterminated"#
            ),
            None
        );
    }

    #[test]
    fn counts_shared_flocks_of_one_file() {
        let dir = unique_temp_dir().unwrap();
        let path = dir.join("users.lock");
        let first = File::create(&path).unwrap();
        let second = File::open(&path).unwrap();
        let other = File::create(dir.join("other.lock")).unwrap();
        assert!(lock_file(&first, LockKind::Shared, false).unwrap());
        assert!(lock_file(&second, LockKind::Shared, false).unwrap());
        assert!(lock_file(&other, LockKind::Shared, false).unwrap());
        assert_eq!(count_shared_flocks(&first), Some(2));
        // An exclusive lock cannot be had while they are held.
        let third = File::open(&path).unwrap();
        assert!(!lock_file(&third, LockKind::Exclusive, false).unwrap());
        drop((first, second, other));
        assert!(lock_file(&third, LockKind::Exclusive, false).unwrap());
        fs::remove_dir_all(dir).unwrap();
    }
}
