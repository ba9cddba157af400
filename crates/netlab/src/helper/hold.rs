//! `netlab hold HOST`: the process that *is* a host.
//!
//! A namespace lives as long as something uses it. Each host's holder
//! unshares a network and a mount namespace, gives the host its own
//! `/sys` (and `/proc`), tells the init, and then does nothing, forever:
//! others enter the host through its `/proc/PID/ns/*` files. When the lab
//! init exits, the kernel kills the holders and the namespaces go with them.

use std::fs;
use std::io::{self, Write};
use std::process::ExitCode;

use crate::sys::namespace::{self, Namespace, ProcMount};
use crate::topology::Host;

/// Runs `netlab hold HOST`; reports on stdout for the init: `pid N` (this
/// process's PID as seen outside the lab), then `ready` or `error: …`.
pub fn run(host: Host) -> ExitCode {
    let mut out = io::stdout().lock();
    // Our /proc is still the outer one (the init's): its /proc/self is our PID
    // as the world outside the lab numbers it. Read it before mounting a new one.
    let outer_pid = match fs::read_link("/proc/self") {
        Ok(pid) => pid,
        Err(error) => {
            let _ = writeln!(out, "error: reading /proc/self: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _ = writeln!(out, "pid {}", outer_pid.display());
    let outcome = namespace::unshare(&[Namespace::Net, Namespace::Mount])
        .map_err(|e| format!("unshare(CLONE_NEWNET | CLONE_NEWNS): {e}"))
        .and_then(|()| {
            namespace::mount_host_filesystems().map_err(|e| format!("mounting {host}'s /sys: {e}"))
        });
    match outcome {
        Ok(proc_mount) => {
            if let ProcMount::Inherited(error) = proc_mount {
                eprintln!(
                    "netlab: {host} keeps the outer /proc (mounting a new one: {error}); \
                     ps there lists processes outside the lab too"
                );
            }
            let _ = writeln!(out, "ready");
        }
        Err(error) => {
            let _ = writeln!(out, "error: {error}");
            return ExitCode::FAILURE;
        }
    }
    drop(out);
    loop {
        // Nothing to do but exist. park() may wake spuriously: park again.
        std::thread::park();
    }
}
