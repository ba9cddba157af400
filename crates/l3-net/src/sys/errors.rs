//! The one refusal of layer 3's own: the ping socket's, which no
//! capability would cure.
//!
//! The errors every socket shares — the call's name in front
//! (`with_context`, `last_error`) and EPERM/EACCES naming CAP_NET_RAW
//! (`raw_socket_error`) — are layer 2's, in `l2_link::sys::socket_util`.
//! The `io::ErrorKind` is always kept, so callers can still match on it:
//! the exercises turn `PermissionDenied` into exit code 77
//! (`l2_link::exercise::Failure`).

use std::io;

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
