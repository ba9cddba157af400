//! Facts about a network interface, asked by name with the `SIOCGIF*`
//! ioctls (netdevice(7)).
//!
//! Each ioctl takes a `struct ifreq`: the interface name in, one answer out
//! (the index, the hardware address, the MTU or the flags) in the union
//! `ifr_ifru`. Any socket can carry these ioctls and they need no privilege,
//! so the free functions here use a plain UDP socket; [`super::PacketSocket`]
//! asks through its own descriptor.

use std::ffi::{c_char, c_int};
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::errors::no_such_interface;
use super::socket_util::{last_error, with_context};
use crate::wire::MacAddr;

/// The index the kernel gave the interface `name` (what `ip link` prints
/// before the name). `NotFound` if there is no such interface in this
/// network namespace.
pub fn interface_index(name: &str) -> io::Result<u32> {
    index_via(control_socket()?.as_fd(), name)
}

/// The interface's hardware (MAC) address. Loopback reports all zeros.
/// `Unsupported` for interfaces that are not Ethernet (tunnels, for example),
/// which have no MAC address and no Ethernet header on their frames.
pub fn interface_mac(name: &str) -> io::Result<MacAddr> {
    mac_via(control_socket()?.as_fd(), name)
}

/// The interface's MTU: the largest payload one frame carries (1500 on
/// plain Ethernet, 1280 on the lab's lab2/lab3).
pub fn interface_mtu(name: &str) -> io::Result<usize> {
    mtu_via(control_socket()?.as_fd(), name)
}

/// Whether the interface is administratively up (`IFF_UP`, what
/// `ip link set dev NAME up` sets).
pub fn interface_is_up(name: &str) -> io::Result<bool> {
    let req = ifreq_ioctl(
        control_socket()?.as_fd(),
        libc::SIOCGIFFLAGS,
        name,
        "SIOCGIFFLAGS",
    )?;
    // SAFETY: SIOCGIFFLAGS succeeded, so the kernel wrote `ifru_flags`.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    Ok(c_int::from(flags) & libc::IFF_UP != 0)
}

/// Whether an interface of that name exists in this network namespace.
/// False also when the name cannot be an interface name at all.
pub fn interface_exists(name: &str) -> bool {
    interface_index(name).is_ok()
}

/// The interface index, asked through `fd` (`SIOCGIFINDEX`).
pub(super) fn index_via(fd: BorrowedFd<'_>, name: &str) -> io::Result<u32> {
    let req = ifreq_ioctl(fd, libc::SIOCGIFINDEX, name, "SIOCGIFINDEX")?;
    // SAFETY: SIOCGIFINDEX succeeded, so the kernel wrote `ifru_ifindex`.
    let index = unsafe { req.ifr_ifru.ifru_ifindex };
    // Indexes start at 1; a negative one would be a kernel bug.
    u32::try_from(index).map_err(|_| io::Error::other(format!("{name}: bad ifindex {index}")))
}

/// The hardware address, asked through `fd` (`SIOCGIFHWADDR`).
// ANCHOR: ifreq_mac
pub(super) fn mac_via(fd: BorrowedFd<'_>, name: &str) -> io::Result<MacAddr> {
    let req = ifreq_ioctl(fd, libc::SIOCGIFHWADDR, name, "SIOCGIFHWADDR")?;
    // SAFETY: SIOCGIFHWADDR succeeded, so the kernel wrote `ifru_hwaddr`: a
    // `struct sockaddr` whose family is the hardware type (ARPHRD_*) and
    // whose first bytes of `sa_data` are the address.
    let hwaddr = unsafe { req.ifr_ifru.ifru_hwaddr };
    if hwaddr.sa_family != libc::ARPHRD_ETHER && hwaddr.sa_family != libc::ARPHRD_LOOPBACK {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "interface {name} is not Ethernet (hardware type {}); rawstack speaks Ethernet",
                hwaddr.sa_family
            ),
        ));
    }
    let mut octets = [0u8; 6];
    for (octet, &byte) in octets.iter_mut().zip(&hwaddr.sa_data) {
        *octet = byte as u8; // c_char is i8 on x86: reinterpret, don't convert
    }
    Ok(MacAddr(octets))
}
// ANCHOR_END: ifreq_mac

/// The MTU, asked through `fd` (`SIOCGIFMTU`).
pub(super) fn mtu_via(fd: BorrowedFd<'_>, name: &str) -> io::Result<usize> {
    let req = ifreq_ioctl(fd, libc::SIOCGIFMTU, name, "SIOCGIFMTU")?;
    // SAFETY: SIOCGIFMTU succeeded, so the kernel wrote `ifru_mtu`.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    usize::try_from(mtu).map_err(|_| io::Error::other(format!("{name}: bad MTU {mtu}")))
}

/// A `struct ifreq` naming `name`, everything else zero.
fn ifreq_named(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    // The kernel's limit: IFNAMSIZ (16) bytes including the terminating NUL.
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{name:?} cannot be an interface name (1 to {} bytes, no NUL)",
                libc::IFNAMSIZ - 1
            ),
        ));
    }
    // SAFETY: `ifreq` is plain data — a char array and a union of integers,
    // sockaddrs and a pointer — for all of which all-zero bytes are valid.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = src as c_char;
    }
    Ok(req)
}

/// One `SIOCGIF*` ioctl on `fd` for the interface `name`; the answer is in
/// the returned request's `ifr_ifru`.
fn ifreq_ioctl(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    name: &str,
    call: &str,
) -> io::Result<libc::ifreq> {
    let mut req = ifreq_named(name)?;
    // SAFETY: `fd` is an open socket. The SIOCGIF* requests read `ifr_name`
    // (NUL-terminated: ifreq_named left at least one zero byte) and write
    // one member of `ifr_ifru`, all inside `req`, which outlives the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, &mut req) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return Err(if err.raw_os_error() == Some(libc::ENODEV) {
            no_such_interface(name)
        } else {
            with_context(err, format!("ioctl({call}, {name})"))
        });
    }
    Ok(req)
}

/// A socket to carry interface ioctls: any family works, UDP needs no
/// privilege.
fn control_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; it returns a new descriptor or -1.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last_error("socket(AF_INET, SOCK_DGRAM)"));
    }
    // SAFETY: `fd` was just returned by socket() and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
