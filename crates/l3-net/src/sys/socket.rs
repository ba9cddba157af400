//! What every AF_INET socket here shares: socket options, `sendto` with a
//! `sockaddr_in`, waiting with `poll`, and `recvmsg` with the kernel's
//! notes about each datagram (ip(7), socket(7)). What does not depend on
//! the family — setting an option, `poll` with a deadline, `recvmsg` and
//! walking its control messages, reading a timestamp — is layer 2's, in
//! `l2_link::sys::socket_util`.

use std::ffi::c_int;
use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Instant, SystemTime};

use l2_link::sys::socket_util::{
    ControlBuffer, poll_until, read_timespec, recv_message, set_int_option,
    timespec_to_system_time, with_context,
};

use super::tx_timestamp::discard_error_queue;

/// One datagram as a raw or ping socket delivers it.
///
/// What `buf[..len]` holds depends on the socket: a raw socket
/// ([`super::IcmpSocket`], [`super::RawIpSocket`]) delivers the whole IPv4
/// datagram, header included; a ping socket ([`super::PingSocket`]) only
/// the ICMP message, the kernel having read and removed the IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecv {
    /// Bytes written into the buffer (a longer datagram was cut to fit;
    /// see `original_len`).
    pub len: usize,
    /// The datagram's full length before any cut.
    pub original_len: usize,
    /// Who sent it: the IPv4 source address.
    pub from: Ipv4Addr,
    /// When the kernel received it (`SO_TIMESTAMPNS`, CLOCK_REALTIME), or
    /// when `recvmsg` returned if the kernel gave no stamp.
    pub timestamp: SystemTime,
    /// The TTL it arrived with (`IP_RECVTTL`), if the kernel said.
    pub ttl: Option<u8>,
}

/// Every datagram socket here wants the same two notes on what it
/// receives: the kernel's arrival time and the TTL.
pub(super) fn ask_for_receive_notes(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(
        fd,
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPNS,
        1,
        "SO_TIMESTAMPNS",
    )?;
    set_int_option(fd, libc::IPPROTO_IP, libc::IP_RECVTTL, 1, "IP_RECVTTL")
}

/// The TTL of the datagrams this socket sends from now on (`IP_TTL`).
pub(super) fn set_ttl(fd: BorrowedFd<'_>, ttl: u8) -> io::Result<()> {
    set_int_option(
        fd,
        libc::IPPROTO_IP,
        libc::IP_TTL,
        c_int::from(ttl),
        "IP_TTL",
    )
}

/// An IPv4 socket address (`struct sockaddr_in`), both numbers in network
/// byte order as the kernel expects.
pub(super) fn sockaddr_in(addr: Ipv4Addr, port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            // The octets in wire order, read as the in-memory u32.
            s_addr: u32::from_ne_bytes(addr.octets()),
        },
        sin_zero: [0; 8],
    }
}

/// The address and port of a `sockaddr_in` the kernel filled in.
pub(super) fn from_sockaddr_in(addr: &libc::sockaddr_in) -> (Ipv4Addr, u16) {
    (
        Ipv4Addr::from(addr.sin_addr.s_addr.to_ne_bytes()),
        u16::from_be(addr.sin_port),
    )
}

/// `sendto(fd, bytes, 0, {AF_INET, port, dst})`: the whole of `bytes` as one
/// datagram, or an error. For raw sockets the port is 0 (it means nothing
/// to them).
pub(super) fn send_to(
    fd: BorrowedFd<'_>,
    bytes: &[u8],
    dst: Ipv4Addr,
    port: u16,
    call: &str,
) -> io::Result<()> {
    let addr = sockaddr_in(dst, port);
    // SAFETY: the pointer and length describe `bytes`, and the address
    // pointer and length describe `addr`; both outlive the call and the
    // kernel only reads them.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(with_context(
            io::Error::last_os_error(),
            format!("{call} to {dst}"),
        ));
    }
    if sent as usize != bytes.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("{call} to {dst}: only {sent} of {} bytes sent", bytes.len()),
        ));
    }
    Ok(())
}

/// What `poll` found on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Readiness {
    /// A datagram is waiting.
    Readable,
    /// Only the error queue has something (`POLLERR`): a late transmit
    /// time stamp, for example.
    ErrorQueue,
    /// The deadline passed first.
    TimedOut,
}

/// Wait with poll() until a datagram is waiting, the error queue is not
/// empty, or `deadline` passes (never, if `None`). A signal that
/// interrupts the wait is an `Interrupted` error, so a program that
/// catches Ctrl-C can look at its flag.
pub(super) fn wait(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<Readiness> {
    Ok(match poll_until(fd, libc::POLLIN, deadline)? {
        None => Readiness::TimedOut,
        Some(revents) if revents & libc::POLLIN != 0 => Readiness::Readable,
        // POLLERR is reported whether asked for or not.
        Some(_) => Readiness::ErrorQueue,
    })
}

/// Receive the next datagram into `buf`, waiting until `deadline` (forever
/// if `None`); `Ok(None)` when the deadline passes first. Transmit stamps
/// that arrive too late to be used are thrown away on the way.
pub(super) fn recv(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    deadline: Option<Instant>,
    call: &str,
) -> io::Result<Option<RawRecv>> {
    loop {
        match wait(fd, deadline)? {
            Readiness::TimedOut => return Ok(None),
            Readiness::ErrorQueue => discard_error_queue(fd)?,
            Readiness::Readable => match recv_waiting(fd, buf) {
                Ok(received) => return Ok(Some(received)),
                // poll() said readable but the datagram is gone: wait again.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Err(with_context(err, call)),
            },
        }
    }
}

/// One `recvmsg()` that does not block, with the sender's address, the
/// kernel's receive time and the TTL parsed from the control messages.
/// `WouldBlock` if nothing is waiting.
// ANCHOR: recv_timestamp
pub(super) fn recv_waiting(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<RawRecv> {
    let mut control = ControlBuffer::new();
    // MSG_TRUNC: return the datagram's real length even if `buf` is
    // shorter. MSG_DONTWAIT: poll() already waited.
    let got = recv_message::<libc::sockaddr_in>(
        fd,
        buf,
        &mut control,
        libc::MSG_TRUNC | libc::MSG_DONTWAIT,
    )?;
    let (from, _) = from_sockaddr_in(&got.from);
    let mut received = RawRecv {
        len: got.len.min(buf.len()),
        original_len: got.len,
        from,
        timestamp: SystemTime::now(),
        ttl: None,
    };
    for message in control.messages() {
        match (message.level, message.kind) {
            (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                if let Some(time) = read_timespec(message.data).and_then(timespec_to_system_time) {
                    received.timestamp = time;
                }
            }
            // ip(7): IP_TTL carries the TTL as an int.
            (libc::IPPROTO_IP, libc::IP_TTL) => {
                let int = message.data.get(..mem::size_of::<c_int>());
                if let Some(bytes) = int.and_then(|bytes| <[u8; 4]>::try_from(bytes).ok()) {
                    received.ttl = u8::try_from(c_int::from_ne_bytes(bytes)).ok();
                }
            }
            _ => {}
        }
    }
    Ok(received)
}
// ANCHOR_END: recv_timestamp

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_in_is_in_network_byte_order() {
        let addr = sockaddr_in(Ipv4Addr::new(198, 18, 0, 1), 33434);
        // The bytes as they sit in memory: 198.18.0.1, port 0x829a.
        assert_eq!(addr.sin_addr.s_addr.to_ne_bytes(), [198, 18, 0, 1]);
        assert_eq!(addr.sin_port.to_ne_bytes(), [0x82, 0x9a]);
        assert_eq!(
            from_sockaddr_in(&addr),
            (Ipv4Addr::new(198, 18, 0, 1), 33434)
        );
    }
}
