//! Turning an errno into a message that says what went wrong and why.
//!
//! The `io::ErrorKind` is always kept, so callers can still match on it:
//! the exercises turn `PermissionDenied` into exit code 77 and the
//! paragraph about CAP_NET_RAW (`l2_link::exercise::Failure`).

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

/// Prefix `err` with the call that failed, keeping its kind and the
/// original error as the `source()`.
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

/// The error of a `socket()` call that may need CAP_NET_RAW: EPERM and
/// EACCES become `PermissionDenied` naming the capability, anything else
/// keeps its errno with the call in front.
pub(super) fn raw_socket_error(err: io::Error, call: &str) -> io::Error {
    match err.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{call}: permission denied: opening a raw socket needs CAP_NET_RAW"),
        ),
        _ => with_context(err, call),
    }
}

/// Where the kernel keeps the ping socket's permission (ip-sysctl.rst).
pub(super) const PING_GROUP_RANGE_PATH: &str = "/proc/sys/net/ipv4/ping_group_range";

/// EACCES from `socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`: no group of
/// this process lies in `net.ipv4.ping_group_range`. No capability would
/// help here (a ping socket is the way to ping *without* one), only the
/// sysctl, so the message names it and how to change it.
pub(super) fn ping_socket_forbidden(
    call: &str,
    current_range: Option<&str>,
    gid: u32,
) -> io::Error {
    let range = match current_range {
        Some(range) => format!(" (now \"{range}\")"),
        None => String::new(),
    };
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{call}: permission denied: ping sockets are allowed only to the groups in \
             net.ipv4.ping_group_range{range}, and this process's group {gid} is not one of them.\n\
             Allow it with:  sysctl -w net.ipv4.ping_group_range=\"{gid} {gid}\"\n\
             (inside rawstack's lab only mapped groups are valid, so \"0 0\" works and \
             \"0 2147483647\" is refused with EINVAL; on an ordinary machine, as root, \
             \"0 2147483647\" allows every group)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eperm_and_eacces_name_cap_net_raw() {
        for errno in [libc::EPERM, libc::EACCES] {
            let err = raw_socket_error(io::Error::from_raw_os_error(errno), "socket(X)");
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
            let text = err.to_string();
            assert!(text.starts_with("socket(X): "), "{text}");
            assert!(text.contains("CAP_NET_RAW"), "{text}");
        }
        let other = raw_socket_error(io::Error::from_raw_os_error(libc::EMFILE), "socket(X)");
        assert_eq!(other.raw_os_error(), None, "wrapped, but the kind stays");
        assert!(!other.to_string().contains("CAP_NET_RAW"));
        assert!(other.to_string().starts_with("socket(X): "));
    }

    #[test]
    fn ping_socket_refusal_names_the_sysctl_and_the_fix() {
        let err = ping_socket_forbidden("socket(ping)", Some("1\t0"), 0);
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let text = err.to_string();
        assert!(text.contains("net.ipv4.ping_group_range"), "{text}");
        assert!(text.contains("(now \"1\t0\")"), "{text}");
        assert!(
            text.contains("sysctl -w net.ipv4.ping_group_range=\"0 0\""),
            "{text}"
        );
        assert!(!text.contains("CAP_NET_RAW"), "no capability helps: {text}");
    }
}
