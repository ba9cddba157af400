//! What every socket in rawstack needs, whatever its family: errors that
//! name the call, integer socket options, `SO_ERROR`, waiting with
//! `poll`, `recvmsg` with its control messages, and the kernel's
//! timestamps (socket(7), poll(2), recvmsg(2), cmsg(3)).
//!
//! Layer 2's [`super::PacketSocket`] is built on these, and so are the
//! `sys` modules of the layers above (l3-net's raw, ping and UDP probe
//! sockets): each helper is written once, here, at the lowest layer that
//! needs it (ARCHITECTURE.md), and the upper layers import it from
//! `l2_link::sys::socket_util` instead of keeping a copy.
//!
//! Everything here is a safe function; the `unsafe` calls stay inside.

use std::error::Error;
use std::ffi::{c_int, c_short, c_void};
use std::fmt;
use std::io;
use std::mem::{self, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Errors that name the call

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

/// Prefix `err` with the call that failed ("setsockopt(IP_TTL): Invalid
/// argument"), keeping its `io::ErrorKind` and the original error as the
/// `source()`.
///
/// A bare "Operation not permitted (os error 1)" does not say which of a
/// dozen system calls refused; the kind is kept so that callers can still
/// match on it (the exercises turn `PermissionDenied` into exit code 77).
pub fn with_context(err: io::Error, call: impl Into<String>) -> io::Error {
    io::Error::new(
        err.kind(),
        Context {
            call: call.into(),
            source: err,
        },
    )
}

/// `errno` of the call that just failed, prefixed with its name. Call it
/// right after the failing call, before anything else can change `errno`.
pub fn last_error(call: impl Into<String>) -> io::Error {
    with_context(io::Error::last_os_error(), call)
}

/// The error of a `socket()` call that needs `CAP_NET_RAW` (an `AF_PACKET`
/// socket, a raw IP socket): EPERM and EACCES become `PermissionDenied`
/// saying so, since without the capability the kernel answers with either
/// (packet(7), raw(7)); any other errno keeps its kind with the call in
/// front.
pub fn raw_socket_error(err: io::Error, call: &str) -> io::Error {
    match err.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{call}: permission denied: opening a raw socket needs CAP_NET_RAW"),
        ),
        _ => with_context(err, call),
    }
}

// ---------------------------------------------------------------------------
// Socket options

/// Set an integer socket option (most of them are on/off flags):
/// `setsockopt(fd, level, option, &value, sizeof(int))`. `name` is the
/// option's name for the error message.
pub fn set_int_option(
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

/// Read, and so clear, the error pending on a socket (`SO_ERROR`, socket(7)):
/// an errno the kernel noted for the socket without a call to return it
/// from, such as ENETDOWN after binding to an interface that is down, or
/// ECONNREFUSED after an ICMP port unreachable. 0 if none is pending.
pub fn take_socket_error(fd: BorrowedFd<'_>) -> io::Result<c_int> {
    let mut errno: c_int = 0;
    let mut len = mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `errno` and `len` are live and writable; `len` is its size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut errno as *mut c_int).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(last_error("getsockopt(SO_ERROR)"));
    }
    Ok(errno)
}

// ---------------------------------------------------------------------------
// Waiting

/// Wait with `poll()` until `fd` reports one of `events`, or `deadline`
/// passes (never, if `None`).
///
/// `Some(revents)` when `poll()` reported something: the events asked for,
/// or `POLLERR`/`POLLHUP`, which `poll()` reports whether asked for or not
/// (`events` 0 therefore waits for the error queue alone). `None` when the
/// deadline passed first.
///
/// The timeout is rounded *up* to whole milliseconds, so a wait of 0.3 ms
/// does not become a busy loop of 0 ms waits, and the deadline itself is
/// checked before giving up, so the wait never ends early. A signal that
/// interrupts the wait (EINTR) is returned as an `Interrupted` error, not
/// retried: a program whose Ctrl-C handler only sets a flag gets to look at
/// the flag at once (programs without a handler never see this).
pub fn poll_until(
    fd: BorrowedFd<'_>,
    events: c_short,
    deadline: Option<Instant>,
) -> io::Result<Option<c_short>> {
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
            events,
            revents: 0,
        };
        // SAFETY: `pollfd` is one valid pollfd that outlives the call.
        let ready = unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
        if ready > 0 {
            return Ok(Some(pollfd.revents));
        }
        if ready < 0 {
            // EINTR included: a signal handler ran (Ctrl-C), and the
            // program that installed it wants to look at its flag now.
            return Err(last_error("poll"));
        }
        // Timed out. poll() counts whole milliseconds, so check the
        // deadline itself before giving up.
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(None);
        }
    }
}

/// Wait until something can be read from `fd` (or an error collected), or
/// `deadline` passes: `true` if ready, `false` on the deadline. A signal is
/// an `Interrupted` error; see [`poll_until`].
pub fn wait_readable(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    Ok(poll_until(fd, libc::POLLIN, deadline)?.is_some())
}

/// Wait until any of `fds` can be read (or has an error to collect), or
/// `deadline` passes (forever if `None`): `Some(ready)`, one flag per
/// descriptor in the order given, or `None` on the deadline.
///
/// One `poll(2)` over several descriptors: how one thread waits on a
/// socket and on a wake-up descriptor at once, with no thread per source.
/// The timeout is rounded up and EINTR is an `Interrupted` error, as in
/// [`poll_until`].
pub fn wait_readable_any<const N: usize>(
    fds: [BorrowedFd<'_>; N],
    deadline: Option<Instant>,
) -> io::Result<Option<[bool; N]>> {
    loop {
        let timeout_ms: c_int = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let ms = left.as_nanos().div_ceil(1_000_000);
                c_int::try_from(ms).unwrap_or(c_int::MAX)
            }
        };
        let mut pollfds = fds.map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: `pollfds` is an array of N valid pollfds that outlives
        // the call; the kernel writes only their `revents`.
        let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), N as libc::nfds_t, timeout_ms) };
        if ready > 0 {
            return Ok(Some(pollfds.map(|pollfd| pollfd.revents != 0)));
        }
        if ready < 0 {
            return Err(last_error("poll"));
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(None);
        }
    }
}

// ---------------------------------------------------------------------------
// recvmsg and its control messages

/// Bytes for the control messages one `recvmsg` may return. The largest
/// set rawstack asks for is a transmit stamp from the error queue: three
/// `timespec`s (`SO_TIMESTAMPING`) and a `sock_extended_err` with an
/// address, each behind its `cmsghdr` — well under this.
const CONTROL_CAPACITY: usize = 512;

/// The bytes of a [`ControlBuffer`], aligned like `cmsghdr`, as the
/// `CMSG_*` macros assume.
#[repr(C, align(8))]
struct AlignedBytes([u8; CONTROL_CAPACITY]);

// The alignment above must do for a cmsghdr on this target.
const _: () = assert!(mem::align_of::<AlignedBytes>() >= mem::align_of::<libc::cmsghdr>());

/// Room for the control messages ("ancillary data", cmsg(3)) that
/// [`recv_message`] receives alongside a datagram: the kernel's notes about
/// it, such as its arrival time or the VLAN tag it removed.
///
/// It remembers how much the kernel filled in, so [`ControlBuffer::messages`]
/// walks exactly what the last `recv_message` returned.
pub struct ControlBuffer {
    bytes: AlignedBytes,
    /// How many bytes of `bytes` hold control messages (`msg_controllen`
    /// after `recvmsg`).
    filled: usize,
}

impl ControlBuffer {
    /// An empty buffer: no messages until [`recv_message`] fills it.
    pub fn new() -> ControlBuffer {
        ControlBuffer {
            bytes: AlignedBytes([0; CONTROL_CAPACITY]),
            filled: 0,
        }
    }

    /// The control messages of the last [`recv_message`] into this buffer,
    /// in the order the kernel wrote them.
    pub fn messages(&self) -> ControlMessages<'_> {
        let filled = &self.bytes.0[..self.filled.min(CONTROL_CAPACITY)];
        // SAFETY: msghdr is plain data (integers and pointers); all-zero is
        // a valid value, and the two fields the CMSG_* macros read are set
        // just below.
        let mut header: libc::msghdr = unsafe { mem::zeroed() };
        // The macros only read through this pointer; nothing writes.
        header.msg_control = filled.as_ptr().cast_mut().cast::<c_void>();
        header.msg_controllen = filled.len() as _;
        // SAFETY: `header` describes `filled`, which is initialised and
        // lives as long as the returned walker borrows it. CMSG_FIRSTHDR
        // returns its start if a whole cmsghdr fits in it, else null.
        let next = unsafe { libc::CMSG_FIRSTHDR(&header) };
        ControlMessages {
            header,
            filled,
            next,
        }
    }
}

impl Default for ControlBuffer {
    fn default() -> ControlBuffer {
        ControlBuffer::new()
    }
}

impl fmt::Debug for ControlBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.messages()).finish()
    }
}

/// One control message: which protocol level wrote it, what it is, and
/// its payload (a C struct the receiver reads according to `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMessage<'a> {
    /// `cmsg_level`: `SOL_SOCKET`, `SOL_PACKET`, `IPPROTO_IP`, …
    pub level: c_int,
    /// `cmsg_type`: `SCM_TIMESTAMPNS`, `PACKET_AUXDATA`, `IP_TTL`, …
    pub kind: c_int,
    /// The payload, which may be unaligned for the struct it holds: read
    /// it by copying (`read_unaligned`, [`read_timespec`]), never through
    /// a reference.
    pub data: &'a [u8],
}

/// The walk over a [`ControlBuffer`]'s messages, with the libc
/// `CMSG_FIRSTHDR`/`CMSG_NXTHDR`/`CMSG_DATA` macros.
///
/// The macros trust the lengths inside the buffer. This walk stays inside
/// it whatever those say: `CMSG_NXTHDR` stops at a header that would not
/// fit, and a payload that claims more bytes than are left is cut at the
/// end of the filled part.
pub struct ControlMessages<'a> {
    /// A `msghdr` that describes only the filled part of the buffer: what
    /// `CMSG_NXTHDR` checks the next header against.
    header: libc::msghdr,
    filled: &'a [u8],
    /// The next header, inside `filled`; null when the walk is over.
    next: *const libc::cmsghdr,
}

// ANCHOR: control_messages
impl<'a> Iterator for ControlMessages<'a> {
    type Item = ControlMessage<'a>;

    fn next(&mut self) -> Option<ControlMessage<'a>> {
        let cmsg = self.next;
        if cmsg.is_null() {
            return None;
        }
        // SAFETY: a non-null `next` came from CMSG_FIRSTHDR or CMSG_NXTHDR
        // over `header`, which only return a header lying wholly inside
        // `filled`; cmsghdr is plain integers, valid for any bytes, and
        // read_unaligned copies it without needing alignment.
        let header = unsafe { cmsg.read_unaligned() };
        // SAFETY: CMSG_DATA is the address just past the header, which is
        // inside `filled` or one past its end (the header fits).
        let data_start = unsafe { libc::CMSG_DATA(cmsg) };
        let offset = data_start as usize - self.filled.as_ptr() as usize;
        // cmsg_len is a size_t with glibc but a socklen_t with musl.
        #[allow(clippy::unnecessary_cast)]
        let claimed = (header.cmsg_len as usize).saturating_sub(cmsg_len(0));
        let rest = self.filled.get(offset..).unwrap_or(&[]);
        let data = &rest[..claimed.min(rest.len())];
        // SAFETY: `header` and `cmsg` are the msghdr and current message
        // of this walk. CMSG_NXTHDR reads `cmsg`'s length, which is
        // aligned: the buffer is aligned for cmsghdr and every header sits
        // at a multiple of CMSG_ALIGN. It returns null rather than a
        // header that would not fit inside `filled`.
        self.next = unsafe { libc::CMSG_NXTHDR(&self.header, cmsg) };
        Some(ControlMessage {
            level: header.cmsg_level,
            kind: header.cmsg_type,
            data,
        })
    }
}
// ANCHOR_END: control_messages

impl fmt::Debug for ControlMessages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlMessages")
            .field("filled", &self.filled.len())
            .finish_non_exhaustive()
    }
}

/// `CMSG_LEN(payload)`: a control message's length with its header.
fn cmsg_len(payload: usize) -> usize {
    // SAFETY: CMSG_LEN is arithmetic on its argument; it touches no memory.
    unsafe { libc::CMSG_LEN(payload as u32) as usize }
}

/// A socket address type that [`recv_message`] can fill in with the
/// sender's address: `libc::sockaddr_ll` (packet sockets) and
/// `libc::sockaddr_in` (IPv4).
///
/// Sealed: implemented only here, for C structs of plain integers that are
/// valid whatever bytes the kernel writes (all zeros included), which
/// `recv_message` relies on.
pub trait SocketAddress: sealed::Sealed + Copy {}

impl SocketAddress for libc::sockaddr_ll {}
impl SocketAddress for libc::sockaddr_in {}

mod sealed {
    /// Keeps [`super::SocketAddress`] implemented only in this module.
    pub trait Sealed {}
    impl Sealed for libc::sockaddr_ll {}
    impl Sealed for libc::sockaddr_in {}
}

/// What [`recv_message`] returns besides the bytes and control messages.
#[derive(Debug, Clone, Copy)]
pub struct Received<A> {
    /// What `recvmsg` returned: the bytes written into the buffer, or with
    /// `MSG_TRUNC` the datagram's real length, which may be more.
    pub len: usize,
    /// The sender's address (`msg_name`).
    pub from: A,
}

// ANCHOR: recv_message
/// One `recvmsg(fd, msg, flags)` into `buf`: the datagram (or frame), the
/// sender's address as an `A`, and the control messages into `control`
/// (walk them with [`ControlBuffer::messages`]).
///
/// The error is the bare errno, so the caller can tell `WouldBlock` (with
/// `MSG_DONTWAIT`, nothing was waiting) from a real failure, and name the
/// call in its own words.
pub fn recv_message<A: SocketAddress>(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    control: &mut ControlBuffer,
    flags: c_int,
) -> io::Result<Received<A>> {
    control.filled = 0;
    let mut from = MaybeUninit::<A>::zeroed();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data (integers and pointers); all-zero is a
    // valid value, and the fields that matter are set just below.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = from.as_mut_ptr().cast::<c_void>();
    msg.msg_namelen = mem::size_of::<A>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes.0.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = CONTROL_CAPACITY as _;
    // SAFETY: every pointer in `msg` points into `from`, `iov`/`buf` or
    // `control`, all live and writable for the whole call, with their true
    // lengths.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // The kernel wrote this many bytes of control messages.
    control.filled = (msg.msg_controllen as usize).min(CONTROL_CAPACITY);
    Ok(Received {
        len: n as usize,
        // SAFETY: `from` started all zeros, and the kernel wrote at most
        // size_of::<A>() bytes over it; A is plain integers (SocketAddress
        // is sealed to such types), valid for any bytes.
        from: unsafe { from.assume_init() },
    })
}
// ANCHOR_END: recv_message

// ---------------------------------------------------------------------------
// The kernel's timestamps

/// A `struct timespec` from the start of a control message's payload, if
/// it is long enough (the payload may be unaligned, so it is copied).
pub fn read_timespec(data: &[u8]) -> Option<libc::timespec> {
    let bytes = data.get(..mem::size_of::<libc::timespec>())?;
    // SAFETY: `bytes` holds exactly size_of::<timespec>() initialised
    // bytes; timespec is two integers, valid for any bit pattern, and
    // read_unaligned does not need alignment.
    Some(unsafe { bytes.as_ptr().cast::<libc::timespec>().read_unaligned() })
}

/// A kernel timestamp (CLOCK_REALTIME, as `SO_TIMESTAMPNS` and
/// `SO_TIMESTAMPING` give them) as a `SystemTime`; `None` for all zeros
/// (the kernel's "no stamp"), for values before 1970 and for malformed
/// ones.
pub fn timespec_to_system_time(ts: libc::timespec) -> Option<SystemTime> {
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
    use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
    use std::os::fd::AsFd;

    /// A UDP socket on loopback: every test here stays on `lo`, needs no
    /// privilege and sends nothing off the machine.
    fn loopback_udp() -> UdpSocket {
        UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).expect("loopback is up")
    }

    #[test]
    fn context_names_the_call_and_keeps_kind_and_source() {
        let err = with_context(io::Error::from_raw_os_error(libc::EINVAL), "setsockopt(X)");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let text = err.to_string();
        assert!(text.starts_with("setsockopt(X): "), "{text}");
        let source = err.get_ref().and_then(|inner| inner.source()).unwrap();
        let source = source.downcast_ref::<io::Error>().unwrap();
        assert_eq!(source.raw_os_error(), Some(libc::EINVAL));
    }

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
    fn int_options_reach_the_kernel() {
        let socket = loopback_udp();
        set_int_option(socket.as_fd(), libc::IPPROTO_IP, libc::IP_TTL, 17, "IP_TTL").unwrap();
        // std asks the kernel back with its own getsockopt.
        assert_eq!(socket.ttl().unwrap(), 17);
        let refused = set_int_option(socket.as_fd(), libc::IPPROTO_IP, libc::IP_TTL, 0, "IP_TTL")
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert!(refused.to_string().starts_with("setsockopt(IP_TTL): "));
    }

    #[test]
    fn a_refused_datagram_leaves_a_socket_error_that_reading_clears() {
        // A port nobody listens on: bind one, note it, close it.
        let closed_port = loopback_udp().local_addr().unwrap().port();
        let socket = loopback_udp();
        assert_eq!(take_socket_error(socket.as_fd()).unwrap(), 0);
        socket
            .connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, closed_port))
            .unwrap();
        socket.send(b"anyone?").unwrap();
        // The ICMP port unreachable comes back over lo; `events` 0 waits
        // for POLLERR alone.
        let deadline = Instant::now() + Duration::from_secs(2);
        let revents = poll_until(socket.as_fd(), 0, Some(deadline)).unwrap();
        assert!(
            revents.is_some_and(|r| r & libc::POLLERR != 0),
            "{revents:?}"
        );
        assert_eq!(
            take_socket_error(socket.as_fd()).unwrap(),
            libc::ECONNREFUSED
        );
        assert_eq!(take_socket_error(socket.as_fd()).unwrap(), 0, "cleared");
    }

    #[test]
    fn waiting_ends_at_the_deadline_not_before_and_at_once_when_readable() {
        let socket = loopback_udp();
        let start = Instant::now();
        let deadline = start + Duration::from_micros(2_300);
        assert!(!wait_readable(socket.as_fd(), Some(deadline)).unwrap());
        assert!(Instant::now() >= deadline, "returned before the deadline");

        socket.send_to(b"x", socket.local_addr().unwrap()).unwrap();
        let far = Instant::now() + Duration::from_secs(5);
        assert!(wait_readable(socket.as_fd(), Some(far)).unwrap());
        assert!(Instant::now() < far);
    }

    /// The kernel is the oracle: it fills the control buffer, and the walk
    /// must find the TTL we set on the sender and an arrival stamp between
    /// the moments before and after sending.
    #[test]
    fn recv_message_returns_sender_and_the_kernels_notes() {
        let receiver = loopback_udp();
        let fd = receiver.as_fd();
        set_int_option(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            1,
            "SO_TIMESTAMPNS",
        )
        .unwrap();
        set_int_option(fd, libc::IPPROTO_IP, libc::IP_RECVTTL, 1, "IP_RECVTTL").unwrap();
        let sender = loopback_udp();
        sender.set_ttl(23).unwrap();

        let before = SystemTime::now();
        sender
            .send_to(b"hello, kernel", receiver.local_addr().unwrap())
            .unwrap();
        assert!(wait_readable(fd, Some(Instant::now() + Duration::from_secs(2))).unwrap());

        let mut buf = [0u8; 5];
        let mut control = ControlBuffer::new();
        let got = recv_message::<libc::sockaddr_in>(
            fd,
            &mut buf,
            &mut control,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )
        .unwrap();
        // Not "before send_to returned": just after SO_TIMESTAMPNS is
        // turned on, the kernel may take the stamp as recvmsg hands the
        // datagram over.
        let after = SystemTime::now();
        assert_eq!(
            got.len,
            b"hello, kernel".len(),
            "MSG_TRUNC: the real length"
        );
        assert_eq!(&buf, b"hello");
        assert_eq!(
            u16::from_be(got.from.sin_port),
            sender.local_addr().unwrap().port()
        );
        assert_eq!(got.from.sin_addr.s_addr.to_ne_bytes(), [127, 0, 0, 1]);

        let mut stamp = None;
        let mut ttl = None;
        for message in control.messages() {
            match (message.level, message.kind) {
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    stamp = read_timespec(message.data).and_then(timespec_to_system_time);
                }
                (libc::IPPROTO_IP, libc::IP_TTL) => {
                    ttl = message.data.try_into().ok().map(c_int::from_ne_bytes);
                }
                _ => {}
            }
        }
        let stamp = stamp.expect("an SCM_TIMESTAMPNS message");
        assert!(
            before <= stamp && stamp <= after,
            "{before:?} {stamp:?} {after:?}"
        );
        assert_eq!(ttl, Some(23));

        // Nothing else waiting: the bare WouldBlock, and no stale messages.
        let empty =
            recv_message::<libc::sockaddr_in>(fd, &mut buf, &mut control, libc::MSG_DONTWAIT)
                .unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(control.messages().count(), 0);
    }

    /// Writes one cmsghdr (claiming `cmsg_len` bytes) and `payload` at
    /// `at`, as the kernel lays them out; returns where the next one starts.
    fn put_message(
        control: &mut ControlBuffer,
        at: usize,
        cmsg_len: usize,
        kind: c_int,
        payload: &[u8],
    ) -> usize {
        let header = libc::cmsghdr {
            cmsg_len: cmsg_len as _,
            cmsg_level: libc::SOL_SOCKET,
            cmsg_type: kind,
        };
        assert!(at + mem::size_of::<libc::cmsghdr>() <= CONTROL_CAPACITY);
        // SAFETY: the assert above keeps the whole header inside the
        // buffer; write_unaligned needs no alignment.
        unsafe {
            control
                .bytes
                .0
                .as_mut_ptr()
                .add(at)
                .cast::<libc::cmsghdr>()
                .write_unaligned(header);
        }
        let data = at + super::cmsg_len(0);
        control.bytes.0[data..data + payload.len()].copy_from_slice(payload);
        // CMSG_ALIGN: the next header starts at a multiple of a usize.
        (data + payload.len()).next_multiple_of(mem::size_of::<usize>())
    }

    #[test]
    fn the_walk_stays_inside_the_buffer_whatever_the_lengths_say() {
        let mut control = ControlBuffer::new();
        let second = put_message(&mut control, 0, cmsg_len(3), 1, b"abc");
        // The second message claims far more than the buffer holds.
        let end = put_message(&mut control, second, 10_000, 2, b"xy");
        control.filled = end;
        let messages: Vec<_> = control.messages().collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!((messages[0].kind, messages[0].data), (1, &b"abc"[..]));
        assert_eq!(messages[1].kind, 2);
        // Cut at the end of what was filled: the payload and its padding.
        assert_eq!(messages[1].data.len(), end - second - cmsg_len(0));
        assert!(messages[1].data.starts_with(b"xy"));

        // Less than one header filled: no messages at all.
        control.filled = mem::size_of::<libc::cmsghdr>() - 1;
        assert_eq!(control.messages().count(), 0);
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
