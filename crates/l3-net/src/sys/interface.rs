//! An interface's IPv4 address, asked by name (`SIOCGIFADDR`,
//! netdevice(7)).

use std::ffi::c_char;
use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use l2_link::sys::socket_util::with_context;

use super::socket::from_sockaddr_in;

/// The (first) IPv4 address the kernel holds on interface `name`, or
/// `None` if it holds none (like raw's `lab2` in the lab). `NotFound` if
/// there is no such interface here. Needs no privilege.
pub fn interface_ipv4(name: &str) -> io::Result<Option<Ipv4Addr>> {
    let bytes = name.as_bytes();
    // IFNAMSIZ (16) bytes, the terminating NUL included.
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be an interface name"),
        ));
    }
    // Any socket carries interface ioctls; UDP needs no privilege.
    let carrier = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    // SAFETY: ifreq is plain data (a char array and a union of integers,
    // sockaddrs and a pointer); all-zero bytes are valid for all of them.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = src as c_char;
    }
    req.ifr_ifru.ifru_addr.sa_family = libc::AF_INET as libc::sa_family_t;
    // SAFETY: the socket is open; SIOCGIFADDR reads the NUL-terminated
    // `ifr_name` (at least one zero byte is left) and writes a sockaddr
    // into `ifr_ifru`, all inside `req`, which outlives the call.
    let rc = unsafe { libc::ioctl(carrier.as_raw_fd(), libc::SIOCGIFADDR, &mut req) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EADDRNOTAVAIL) => Ok(None),
            Some(libc::ENODEV) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no network interface named {name:?}"),
            )),
            _ => Err(with_context(err, format!("ioctl(SIOCGIFADDR, {name})"))),
        };
    }
    // SAFETY: SIOCGIFADDR succeeded with family AF_INET, so the union holds
    // a sockaddr_in (which fits in the sockaddr it was written as); it is
    // read without alignment assumptions.
    let addr = unsafe {
        (&req.ifr_ifru.ifru_addr as *const libc::sockaddr)
            .cast::<libc::sockaddr_in>()
            .read_unaligned()
    };
    Ok(Some(from_sockaddr_in(&addr).0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_127_0_0_1_when_up() {
        // Every network namespace has lo; it holds 127.0.0.1 once it is up
        // (a fresh namespace's lo may be down and address-less).
        match interface_ipv4("lo") {
            Ok(Some(addr)) => assert_eq!(addr, Ipv4Addr::LOCALHOST),
            Ok(None) => {}
            Err(err) => panic!("lo: {err}"),
        }
    }

    #[test]
    fn unknown_and_impossible_names_are_errors() {
        let err = interface_ipv4("nosuchif0").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("nosuchif0"));
        let err = interface_ipv4("a-name-far-too-long-for-linux").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
