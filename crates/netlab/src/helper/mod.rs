//! The `netlab` helper binary's side of the lab: the code that runs as the
//! lab's processes. Library users never call it; it is public so that
//! `src/main.rs` (a separate crate) can, and so the book can show it.
//!
//! Each subcommand is one role in the process tree (crate docs draw it):
//!
//! - [`start`] — `netlab start --dir DIR`: creates the user and PID
//!   namespaces and runs the lab init in them; exits when the lab ends.
//! - [`init`] — `netlab init --dir DIR`: PID 1 of the lab; builds the
//!   topology, says `ready`, and reaps until told to stop.
//! - [`hold`] — `netlab hold HOST`: one per host, a process whose only job
//!   is to own the host's network and mount namespaces.
//! - [`exec`] — `netlab exec --lab DIR HOST -- CMD…`: runs a command on a
//!   host of a running lab.
//! - [`services`] — `netlab serve-alpha`: alpha's always-on servers.
//! - [`print_offloads`] — `netlab offloads IFACE…`: reads offloads back.
//!
//! Every subcommand runs in a fresh single-threaded process (until it
//! chooses to start threads): `unshare(CLONE_NEWUSER)` and `setns` into a
//! user or mount namespace refuse multi-threaded callers.

mod configure;
pub mod exec;
pub mod hold;
pub mod init;
pub mod services;
pub mod start;

use std::process::ExitCode;

use crate::sys::ethtool;

/// Prints each offload of each interface as `IFACE NAME on|off`, read back
/// with the same `SIOCETHTOOL` ioctl the lab uses to turn them off. Run it on
/// a host: `raw netlab offloads lab1 lab2`.
pub fn print_offloads(interfaces: &[String]) -> ExitCode {
    for interface in interfaces {
        match ethtool::offload_states(interface) {
            Ok(states) => {
                for (name, on) in states {
                    // One line per offload, as `ethtool -k` but greppable.
                    println!("{interface} {name} {}", if on { "on" } else { "off" });
                }
            }
            Err(error) => {
                eprintln!("netlab offloads: {interface}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The exit code a shell would report for a finished child: its own code,
/// or 128 + the signal that killed it.
fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
