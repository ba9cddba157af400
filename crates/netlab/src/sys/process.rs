//! Process plumbing: dying with a parent, forwarding and waiting for
//! signals, reaping, and file locks.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use super::check;

/// Makes the command's process receive `SIGKILL` when the thread that spawns
/// it exits (`prctl(PR_SET_PDEATHSIG)`), so a killed parent cannot leave it
/// running. Spawn from a thread that lives as long as the child should.
pub fn kill_when_parent_dies(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed; prctl is a plain syscall that
    // allocates nothing and takes no locks.
    unsafe {
        command.pre_exec(|| {
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            Ok(())
        })
    }
}

/// The process the signal handler forwards to (0: nobody yet).
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    // A signal the kernel sent on behalf of the terminal (Ctrl-C, hang-up:
    // si_code SI_KERNEL > 0) went to the whole foreground process group, the
    // child included: forwarding it would deliver it twice. Forward only
    // what a process sent to us alone (kill, sigqueue, tkill: si_code <= 0).
    if code > 0 {
        return;
    }
    let target = FORWARD_TO.load(Ordering::SeqCst);
    if target > 0 {
        // SAFETY: kill is async-signal-safe and takes only integers.
        unsafe { libc::kill(target, signal) };
    }
}

/// Signals a supervising process passes on to its child.
const FORWARDED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Installs handlers so SIGINT, SIGTERM and SIGHUP sent to this process go to
/// `child` instead of killing us: the child decides how to end, and we
/// report how it did. Handlers revert to the default in a child at exec.
pub fn forward_signals_to(child: u32) -> io::Result<()> {
    let child = i32::try_from(child).map_err(|_| io::Error::other("pid out of range"))?;
    FORWARD_TO.store(child, Ordering::SeqCst);
    for signal in FORWARDED {
        // SAFETY: sigaction is a plain C struct; all-zero is valid (empty
        // mask, no flags) and we then set a handler with the SA_SIGINFO
        // signature.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = forward_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        // SAFETY: `action` is initialised and outlives the call; a null
        // old-action pointer is allowed.
        check(unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) })?;
    }
    Ok(())
}

/// Runs `wait` with SIGINT and SIGQUIT ignored in this process, as
/// `system(3)` does: while a command runs in the foreground, Ctrl-C belongs
/// to it (the terminal sends it to the whole foreground group), and the
/// caller must survive to clean up after it. Call it after spawning, so the
/// child does not inherit "ignored".
pub fn ignore_interrupts_while<T>(wait: impl FnOnce() -> T) -> io::Result<T> {
    let mut saved = Vec::new();
    for signal in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: sigaction is plain C data; all-zero is valid.
        let mut ignore: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above; the kernel overwrites it with the old action.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        ignore.sa_sigaction = libc::SIG_IGN;
        // SAFETY: both pointers point at initialised sigaction structs that
        // outlive the call.
        check(unsafe { libc::sigaction(signal, &ignore, &mut old) })?;
        saved.push((signal, old));
    }
    let result = wait();
    for (signal, old) in saved {
        // SAFETY: `old` is what the kernel gave us above.
        check(unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) })?;
    }
    Ok(result)
}

/// The lab init's way of hearing signals: SIGTERM, SIGINT, SIGHUP (stop) and
/// SIGCHLD (a child ended) are blocked and read from a `signalfd(2)`, so one
/// `poll` waits for them and for the owner's pipe together, with no handler
/// racing the main loop.
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

/// Signals [`SignalFd`] receives.
pub const STOP_AND_CHILD_SIGNALS: [libc::c_int; 4] =
    [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD];

impl SignalFd {
    /// Blocks [`STOP_AND_CHILD_SIGNALS`] and opens a signalfd for them.
    ///
    /// (std's `Command` clears the signal mask in its children, so what we
    /// spawn afterwards still gets these signals normally.)
    pub fn open() -> io::Result<SignalFd> {
        // SAFETY: sigset_t is plain data; sigemptyset initialises it.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid sigset_t for the calls below.
        unsafe {
            check(libc::sigemptyset(&mut set))?;
            for signal in STOP_AND_CHILD_SIGNALS {
                check(libc::sigaddset(&mut set, signal))?;
            }
            // Blocked signals stay pending (even for a PID-namespace init,
            // which otherwise ignores signals it has no handler for) until
            // read from the signalfd.
            check(libc::sigprocmask(
                libc::SIG_BLOCK,
                &set,
                std::ptr::null_mut(),
            ))?;
        }
        // SAFETY: `set` is initialised; -1 asks for a new descriptor.
        let fd = check(unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by signalfd(2) and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SignalFd { fd })
    }

    /// The descriptor, for `poll`.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// Reads one pending signal's number (blocks if none is pending).
    pub fn read(&self) -> io::Result<libc::c_int> {
        // SAFETY: signalfd_siginfo is plain data; all-zero is valid.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: we pass a buffer of exactly `size` writable bytes.
        let read = unsafe { libc::read(self.fd.as_raw_fd(), (&raw mut info).cast(), size) };
        if read < 0 {
            return Err(io::Error::last_os_error());
        }
        if read as usize != size {
            return Err(io::Error::other("short read from signalfd"));
        }
        Ok(info.ssi_signo as libc::c_int)
    }
}

/// `poll(2)`: waits until one of `fds` is readable or hung up (or `timeout`
/// passes); returns which are. `None` waits forever.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let timeout_ms = match timeout {
        None => -1,
        Some(timeout) => libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX),
    };
    loop {
        // SAFETY: `polled` is a valid array of `polled.len()` pollfds.
        let ready = unsafe {
            libc::poll(
                polled.as_mut_ptr(),
                polled.len() as libc::nfds_t,
                timeout_ms,
            )
        };
        if ready >= 0 {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    Ok(polled
        .iter()
        .map(|p| p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
        .collect())
}

/// Reaps one ended child, any child, without blocking: `Some(pid)`, or
/// `None` if no child has ended. A PID-namespace init must do this for
/// every orphan the kernel hands it, or they stay zombies.
pub fn reap_any_child() -> io::Result<Option<u32>> {
    let mut status = 0;
    // SAFETY: `status` is a valid int to write the wait status into.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match pid {
        0 => Ok(None),
        -1 => {
            let error = io::Error::last_os_error();
            // ECHILD: no children at all.
            if error.raw_os_error() == Some(libc::ECHILD) {
                Ok(None)
            } else {
                Err(error)
            }
        }
        pid => Ok(Some(pid as u32)),
    }
}

/// Kinds of `flock(2)` lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Many holders at once (the shells that joined a shared lab).
    Shared,
    /// One holder, and no shared holders (the lab's creator, to tear down).
    Exclusive,
}

/// Takes an advisory lock on the whole file. With `wait == false`, returns
/// `Ok(false)` instead of blocking when someone holds a conflicting lock.
/// The lock lasts until the file (every descriptor sharing it) is closed.
pub fn lock_file(file: &File, kind: LockKind, wait: bool) -> io::Result<bool> {
    let mut operation = match kind {
        LockKind::Shared => libc::LOCK_SH,
        LockKind::Exclusive => libc::LOCK_EX,
    };
    if !wait {
        operation |= libc::LOCK_NB;
    }
    loop {
        // SAFETY: the descriptor is valid for the call (borrowed from `file`).
        let result = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if result == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(false),
            _ => return Err(error),
        }
    }
}
