//! `netlab start --dir DIR`: the lab's first process.
//!
//! It becomes root of a new user namespace, moves itself into a new
//! (empty) network namespace, checks it really got CAP_NET_RAW there, then
//! creates the lab's PID namespace and runs the lab init as its PID 1. It
//! stays outside that PID namespace as the init's parent: it forwards
//! SIGTERM/SIGINT/SIGHUP to the init and exits when the init has ended, by
//! which time the kernel has ended every process of the lab.
//!
//! It reports on stdout, one line, what the library waits for: `ready`
//! (printed by the init), `unsupported: REASON` or `error: REASON`.

use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::sys::namespace::{self, Namespace};
use crate::sys::process;

/// Exit code of `netlab start` when the machine cannot make a user namespace
/// (77 means "skipped" to automake-style test drivers).
pub const EXIT_UNSUPPORTED: u8 = 77;

/// Runs `netlab start`.
pub fn run(dir: &Path) -> ExitCode {
    if let Err(reason) = enter_lab_namespaces() {
        println!("unsupported: {reason}");
        return ExitCode::from(EXIT_UNSUPPORTED);
    }
    match pid_namespace_init(dir) {
        Ok(code) => code,
        Err(error) => {
            println!("error: starting the lab init: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The user namespace, a network namespace of our own, and proof that they
/// give us CAP_NET_RAW. Any failure here means "this machine does not allow
/// a rootless lab": the error is that one-line explanation.
fn enter_lab_namespaces() -> Result<(), String> {
    namespace::create_user_namespace().map_err(|e| explain_unsupported(e.step, &e.error))?;
    // The init and everything it starts live here unless they enter a host:
    // nothing of the lab ever sits in the host's network namespace.
    namespace::unshare(&[Namespace::Net])
        .map_err(|e| explain_unsupported("unshare(CLONE_NEWNET)", &e))?;
    namespace::probe_packet_socket()
        .map_err(|e| explain_unsupported("socket(AF_PACKET, SOCK_RAW)", &e))?;
    Ok(())
}

// ANCHOR: pid_namespace_init
/// Creates the lab's PID namespace and runs `netlab init` as its PID 1, then
/// waits for it. When the init exits, for whatever reason, the kernel kills
/// every other process in its PID namespace: ending the lab needs no list
/// of what was started in it.
fn pid_namespace_init(dir: &Path) -> io::Result<ExitCode> {
    // Only our children enter the new PID namespace; the first one is its init.
    namespace::unshare(&[Namespace::Pid])?;
    let mut init = Command::new(std::env::current_exe()?);
    init.arg("init").arg("--dir").arg(dir);
    // If we are killed (SIGKILL cannot be forwarded), the init dies too.
    process::kill_when_parent_dies(&mut init);
    let mut init = init.spawn()?;
    process::forward_signals_to(init.id())?;
    let status = init.wait()?;
    Ok(super::exit_code_of(status))
}
// ANCHOR_END: pid_namespace_init

/// Reads a sysctl, if it exists.
fn sysctl(name: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::read_to_string(path)
        .ok()
        .map(|value| value.trim().to_string())
}

/// One line: why the lab cannot be made here, and how to fix it.
fn explain_unsupported(step: &str, error: &io::Error) -> String {
    let failed = format!("{step}: {error}");
    let restricted = |name: &str, value: &str| sysctl(name).as_deref() == Some(value);
    if restricted("kernel.apparmor_restrict_unprivileged_userns", "1") {
        format!(
            "AppArmor restricts unprivileged user namespaces ({failed}): run as root, or \
             `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
        )
    } else if restricted("kernel.unprivileged_userns_clone", "0") {
        format!(
            "unprivileged user namespaces are disabled ({failed}): run as root, or \
             `sudo sysctl -w kernel.unprivileged_userns_clone=1`"
        )
    } else if restricted("user.max_user_namespaces", "0")
        || error.raw_os_error() == Some(libc::ENOSPC)
    {
        format!(
            "user namespaces are disabled or used up ({failed}): \
             `sudo sysctl -w user.max_user_namespaces=15000`"
        )
    } else {
        format!(
            "cannot create a user namespace here ({failed}); in a container, allow unshare \
             (e.g. `docker run --security-opt seccomp=unconfined`), or run on the host"
        )
    }
}
