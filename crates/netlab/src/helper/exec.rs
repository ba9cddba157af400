//! `netlab exec --lab DIR HOST -- CMD [ARGS…]`: run a command on a host.
//!
//! Like `ip netns exec`, for our lab: enter the host (see
//! `enter_host` in `src/sys/namespace.rs`), go back to the
//! caller's working directory, and spawn the command there with the
//! caller's environment plus `RAWSTACK_LAB=DIR` and `RAWSTACK_HOST=HOST`.
//! The command runs as uid 0 of the lab's user namespace, with every
//! capability over the lab's namespaces and none over the host's.
//!
//! We stay as its parent, outside the lab's PID namespace if we came from
//! outside: signals sent to us are passed on, and our exit status is its
//! (or 128 + the signal that killed it, as a shell reports). Exit codes of
//! our own: 125 (we failed), 126 (CMD could not run), 127 (CMD not found).

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::state::State;
use crate::sys::namespace::enter_host;
use crate::sys::process;
use crate::topology::Host;

/// Exit code when `netlab exec` itself fails.
pub const EXIT_EXEC_FAILED: u8 = 125;

/// Runs `netlab exec`.
pub fn run(dir: &Path, host: Host, command: &[OsString]) -> ExitCode {
    match exec(dir, host, command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("netlab exec: {error}");
            ExitCode::from(EXIT_EXEC_FAILED)
        }
    }
}

fn exec(dir: &Path, host: Host, command: &[OsString]) -> io::Result<ExitCode> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command given"))?;
    // Absolute, so it still means the same directory inside the host.
    let dir = dir
        .canonicalize()
        .map_err(|e| with_context(&format!("lab {}", dir.display()), e))?;
    let state = State::read(&dir).map_err(|e| with_context("reading the lab's state", e))?;
    let namespaces = state.open_host(host)?;
    let cwd = std::env::current_dir().ok();
    enter_host(&namespaces).map_err(|e| with_context(&format!("entering {host}"), e))?;
    // Entering the mount namespace took us to `/`; the file system is shared,
    // so the caller's directory is normally still there.
    if let Some(cwd) = cwd
        && std::env::set_current_dir(&cwd).is_err()
    {
        eprintln!(
            "netlab exec: {} is not visible on {host}; running in /",
            cwd.display()
        );
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .env("RAWSTACK_LAB", &dir)
        .env("RAWSTACK_HOST", host.name());
    // `child.kill()` on us (SIGKILL, which we cannot pass on) ends it too.
    process::kill_when_parent_dies(&mut command);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let name = Path::new(program).display();
            let code = if error.kind() == io::ErrorKind::NotFound {
                eprintln!("netlab exec: {name}: command not found on {host}");
                127
            } else {
                eprintln!("netlab exec: {name}: {error}");
                126
            };
            return Ok(ExitCode::from(code));
        }
    };
    process::forward_signals_to(child.id())?;
    let status = child.wait()?;
    Ok(super::exit_code_of(status))
}

fn with_context(what: &str, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}
