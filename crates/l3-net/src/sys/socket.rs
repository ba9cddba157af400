//! What every AF_INET socket here shares: socket options, `sendto` with a
//! `sockaddr_in`, waiting with `poll`, and `recvmsg` with the kernel's
//! notes about each datagram (ip(7), socket(7)).

use std::ffi::{c_int, c_void};
use std::io;
use std::mem::{self, MaybeUninit};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::errors::{last_error, with_context};
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

/// Room for the control messages `recvmsg` may return: a `timespec`, a
/// TTL, three `timespec`s of `SO_TIMESTAMPING` and a `sock_extended_err`
/// with its address, each with its `cmsghdr`, with room to spare. Aligned
/// like `cmsghdr`, as the CMSG_* macros assume.
#[repr(C, align(8))]
pub(super) struct ControlBuffer(pub(super) [u8; 512]);

impl ControlBuffer {
    pub(super) fn new() -> ControlBuffer {
        ControlBuffer([0; 512])
    }
}

/// Set an integer socket option (most of them are on/off flags).
pub(super) fn set_int_option(
    fd: BorrowedFd<'_>,
    level: c_int,
    option: c_int,
    value: c_int,
    name: &str,
) -> io::Result<()> {
    // SAFETY: `value` is a c_int that outlives the call; the length passed
    // is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            option,
            (&value as *const c_int).cast(),
            mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_error(format!("setsockopt({name})")));
    }
    Ok(())
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
    loop {
        let timeout_ms: c_int = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up: a 0.3 ms wait must not become a busy 0 ms.
                let ms = left.as_nanos().div_ceil(1_000_000);
                c_int::try_from(ms).unwrap_or(c_int::MAX)
            }
        };
        let mut pollfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pollfd` is one valid pollfd that outlives the call.
        let ready = unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
        if ready < 0 {
            return Err(with_context(io::Error::last_os_error(), "poll"));
        }
        if ready > 0 {
            // POLLERR is reported whether asked for or not.
            if pollfd.revents & libc::POLLIN != 0 {
                return Ok(Readiness::Readable);
            }
            return Ok(Readiness::ErrorQueue);
        }
        // poll() counts whole milliseconds: check the deadline itself.
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(Readiness::TimedOut);
        }
    }
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
    let mut from = MaybeUninit::<libc::sockaddr_in>::zeroed();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = ControlBuffer::new();
    // SAFETY: msghdr is plain data (integers and pointers); all-zero is a
    // valid value, and the fields that matter are set just below.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = from.as_mut_ptr().cast::<c_void>();
    msg.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = control.0.len() as _;

    // MSG_TRUNC: return the datagram's real length even if `buf` is
    // shorter. MSG_DONTWAIT: poll() already waited.
    // SAFETY: every pointer in `msg` points into `from`, `iov`/`buf` or
    // `control`, all live and writable for the whole call, with their true
    // lengths.
    let n = unsafe {
        libc::recvmsg(
            fd.as_raw_fd(),
            &mut msg,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: recvmsg succeeded on an AF_INET socket, so it wrote a
    // sockaddr_in into `from` (which started zeroed anyway).
    let (from, _) = from_sockaddr_in(&unsafe { from.assume_init() });
    let mut received = RawRecv {
        len: (n as usize).min(buf.len()),
        original_len: n as usize,
        from,
        timestamp: SystemTime::now(),
        ttl: None,
    };
    for_each_control_message(&msg, |level, kind, data| match (level, kind) {
        (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
            if let Some(time) = read_timespec(data).and_then(timespec_to_system_time) {
                received.timestamp = time;
            }
        }
        // ip(7): IP_TTL carries the TTL as an int.
        (libc::IPPROTO_IP, libc::IP_TTL) => {
            let int = data.get(..mem::size_of::<c_int>());
            if let Some(bytes) = int.and_then(|bytes| <[u8; 4]>::try_from(bytes).ok()) {
                received.ttl = u8::try_from(c_int::from_ne_bytes(bytes)).ok();
            }
        }
        _ => {}
    });
    Ok(received)
}
// ANCHOR_END: recv_timestamp

/// Calls `visit(level, type, payload)` for every control message in a
/// `msghdr` that `recvmsg` just filled in.
pub(super) fn for_each_control_message(
    msg: &libc::msghdr,
    mut visit: impl FnMut(c_int, c_int, &[u8]),
) {
    // SAFETY: `msg` is the header recvmsg just filled in; its
    // msg_control/msg_controllen describe the part of the control buffer
    // that holds well-formed cmsghdrs, which CMSG_FIRSTHDR and CMSG_NXTHDR
    // walk (returning null at the end).
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is non-null and points at a cmsghdr inside the
        // control buffer, as CMSG_FIRSTHDR/CMSG_NXTHDR guarantee.
        let header = unsafe { &*cmsg };
        let payload_len = (header.cmsg_len as usize).saturating_sub(cmsg_len(0));
        // SAFETY: CMSG_DATA points just past the header, and the kernel
        // wrote `cmsg_len` bytes in all (the walk above stays inside the
        // buffer), so `payload_len` bytes there are initialised.
        let payload = unsafe { std::slice::from_raw_parts(libc::CMSG_DATA(cmsg), payload_len) };
        visit(header.cmsg_level, header.cmsg_type, payload);
        // SAFETY: `msg` and `cmsg` are the header and current message of
        // the walk above.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
}

/// `CMSG_LEN(payload)`: a control message's length with its header.
fn cmsg_len(payload: usize) -> usize {
    // SAFETY: CMSG_LEN is arithmetic on its argument; it touches no memory.
    unsafe { libc::CMSG_LEN(payload as u32) as usize }
}

/// A `struct timespec` from the start of a control message's payload, if
/// it is long enough (the payload may be unaligned, so it is copied).
pub(super) fn read_timespec(data: &[u8]) -> Option<libc::timespec> {
    let bytes = data.get(..mem::size_of::<libc::timespec>())?;
    // SAFETY: `bytes` holds exactly size_of::<timespec>() initialised
    // bytes; timespec is two integers, valid for any bit pattern, and
    // read_unaligned does not need alignment.
    Some(unsafe { bytes.as_ptr().cast::<libc::timespec>().read_unaligned() })
}

/// A kernel timestamp (CLOCK_REALTIME) as a `SystemTime`; `None` for all
/// zeros (the kernel's "no stamp"), values before 1970 or malformed ones.
pub(super) fn timespec_to_system_time(ts: libc::timespec) -> Option<SystemTime> {
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec)
        .ok()
        .filter(|&n| n < 1_000_000_000)?;
    if secs == 0 && nanos == 0 {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

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

    #[test]
    fn timestamps_convert_and_reject_nonsense() {
        let ts = libc::timespec {
            tv_sec: 1_700_000_000,
            tv_nsec: 123_456_789,
        };
        assert_eq!(
            timespec_to_system_time(ts)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap(),
            Duration::new(1_700_000_000, 123_456_789)
        );
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        assert_eq!(timespec_to_system_time(zero), None, "no stamp");
        let negative = libc::timespec {
            tv_sec: -1,
            tv_nsec: 0,
        };
        assert_eq!(timespec_to_system_time(negative), None);
        let bad_nanos = libc::timespec {
            tv_sec: 1,
            tv_nsec: 1_000_000_000,
        };
        assert_eq!(timespec_to_system_time(bad_nanos), None);
    }

    #[test]
    fn timespecs_are_read_from_unaligned_bytes_and_short_input_refused() {
        let ts = libc::timespec {
            tv_sec: 7,
            tv_nsec: 9,
        };
        let mut bytes = vec![0u8; 1 + mem::size_of::<libc::timespec>()];
        let (secs, nanos) = (ts.tv_sec.to_ne_bytes(), ts.tv_nsec.to_ne_bytes());
        bytes[1..1 + secs.len()].copy_from_slice(&secs);
        bytes[1 + secs.len()..].copy_from_slice(&nanos);
        let read = read_timespec(&bytes[1..]).unwrap();
        assert_eq!((read.tv_sec, read.tv_nsec), (7, 9));
        assert!(read_timespec(&bytes[2..]).is_none());
    }
}
