//! The errors of layer 2's own calls whose errno alone would puzzle a
//! learner: a sentence naming the cause, with the `io::ErrorKind` callers
//! match on. The errors every socket shares (the call's name in front,
//! CAP_NET_RAW) are in [`super::socket_util`].

use std::io;

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
