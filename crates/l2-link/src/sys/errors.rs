//! Turning an errno into a message that says what went wrong and why.
//!
//! A bare "Operation not permitted (os error 1)" teaches nothing; the few
//! errors a learner meets first get a sentence naming the cause. The
//! `io::ErrorKind` is always kept, so callers can still match on it (the
//! exercises turn `PermissionDenied` into exit code 77).

use std::error::Error;
use std::fmt;
use std::io;

/// An OS error together with the call that produced it.
#[derive(Debug)]
struct Context {
    call: String,
    source: io::Error,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.call, self.source)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Prefix `err` with the call that failed, keeping its kind and the original
/// error as the `source()`.
pub(super) fn with_context(err: io::Error, call: impl Into<String>) -> io::Error {
    io::Error::new(
        err.kind(),
        Context {
            call: call.into(),
            source: err,
        },
    )
}

/// `errno` of the call that just failed, prefixed with its name.
pub(super) fn last_error(call: impl Into<String>) -> io::Error {
    with_context(io::Error::last_os_error(), call)
}

/// `socket()` refused with EPERM or EACCES: the process lacks CAP_NET_RAW.
pub(super) fn needs_cap_net_raw(call: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{call}: permission denied: opening a raw socket needs CAP_NET_RAW"),
    )
}

/// The kernel answered ENODEV: there is no interface by that name (in this
/// network namespace).
pub(super) fn no_such_interface(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no network interface named {name:?}"),
    )
}

/// ENETDOWN: the interface exists but is administratively down.
pub(super) fn interface_down(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NetworkDown,
        format!("interface {name} is down (bring it up with: ip link set dev {name} up)"),
    )
}
