//! The unprivileged ICMP "ping socket": `socket(AF_INET, SOCK_DGRAM,
//! IPPROTO_ICMP)` (icmp(7), Linux 3.0+; the sysctl in ip-sysctl.rst).

use std::fmt;
use std::io;
use std::mem::{self, MaybeUninit};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use l2_link::sys::socket_util::{last_error, with_context};

use super::errors::{PING_GROUP_RANGE_PATH, ping_socket_forbidden};
use super::socket::{self, RawRecv};
use super::tx_timestamp::{SentAt, TxTimestamps};

/// An ICMP ping socket: ICMP echo without `CAP_NET_RAW`.
///
/// It is a *datagram* socket, and the kernel treats an echo exchange like
/// a tiny UDP conversation:
///
/// - Opening one needs no capability, only a group ID inside the sysctl
///   `net.ipv4.ping_group_range` (by default an empty range such as
///   "1 0": nobody).
/// - The socket has a "port", and that port **is the echo identifier**:
///   whatever identifier we write into a request, the kernel overwrites it
///   with the socket's ([`PingSocket::ident`]) and fixes the checksum.
///   That is how it knows which socket a reply belongs to.
/// - It sends only echo requests, and receives only the replies (and ICMP
///   errors) that carry its own identifier — no IP header, just the ICMP
///   message; the TTL comes separately ([`RawRecv::ttl`]).
pub struct PingSocket {
    fd: OwnedFd,
    tx: TxTimestamps,
    ident: u16,
}

impl PingSocket {
    /// Opens a ping socket and binds it, letting the kernel choose its
    /// identifier.
    ///
    /// Errors: `PermissionDenied` naming `net.ipv4.ping_group_range` and
    /// the command that allows this process's group.
    pub fn open() -> io::Result<PingSocket> {
        let call = "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)";
        // ANCHOR: ping_socket
        // SOCK_DGRAM, not SOCK_RAW: the kernel builds the IP header, checks
        // that we send only echo requests, and routes replies to us by
        // their identifier. No capability is checked; a group range is.
        // SAFETY: socket() takes no pointers; it returns a descriptor or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            )
        };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EACCES) => {
                    // The file says "low<TAB>high"; show it as sysctl takes it.
                    let range = std::fs::read_to_string(PING_GROUP_RANGE_PATH)
                        .ok()
                        .map(|range| range.split_whitespace().collect::<Vec<_>>().join(" "));
                    // SAFETY: getegid() cannot fail and touches no memory.
                    let gid = unsafe { libc::getegid() };
                    ping_socket_forbidden(call, range.as_deref(), gid)
                }
                _ => with_context(err, call),
            });
        }
        // SAFETY: `fd` was just returned by socket() and nothing else owns
        // it; OwnedFd closes it when dropped, on every path below.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // ANCHOR_END: ping_socket
        socket::ask_for_receive_notes(fd.as_fd())?;
        let tx = TxTimestamps::enable(fd.as_fd());
        let ident = bind_any_ident(fd.as_fd())?;
        Ok(PingSocket { fd, tx, ident })
    }

    /// The echo identifier the kernel gave this socket: every request sent
    /// through it carries this identifier, whatever we wrote.
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// The TTL of the requests sent from now on (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        socket::set_ttl(self.fd.as_fd(), ttl)
    }

    /// Stops asking the kernel for transmit stamps: from now on every
    /// [`SentAt`] is the user-space time just before `sendto()`
    /// ([`super::SendTimeSource::UserSpace`]). Receive stamps are not
    /// affected.
    pub fn disable_tx_timestamps(&mut self) -> io::Result<()> {
        self.tx.disable(self.fd.as_fd())
    }

    /// Sends one ICMP echo request (header and data) to `dst`. The kernel
    /// writes its own identifier ([`PingSocket::ident`]) and checksum over
    /// ours, and refuses (`EINVAL`) any other ICMP type.
    pub fn send_to(&self, request: &[u8], dst: Ipv4Addr) -> io::Result<SentAt> {
        let fd = self.fd.as_fd();
        self.tx
            .send(fd, || socket::send_to(fd, request, dst, 0, "sendto"))
    }

    /// Receives the next echo reply for this socket's identifier — the ICMP
    /// message only, no IP header — waiting until `deadline` (forever if
    /// `None`). `Ok(None)` when the deadline passes first; `Interrupted`
    /// when a signal handler ran.
    pub fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RawRecv>> {
        socket::recv(self.fd.as_fd(), buf, deadline, "recvmsg(ping socket)")
    }
}

/// `bind(0.0.0.0, port 0)`: "any address, any identifier", then
/// `getsockname` to learn which identifier the kernel picked.
fn bind_any_ident(fd: BorrowedFd<'_>) -> io::Result<u16> {
    let any = socket::sockaddr_in(Ipv4Addr::UNSPECIFIED, 0);
    // SAFETY: `any` is a sockaddr_in that outlives the call, and the length
    // passed is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&any as *const libc::sockaddr_in).cast(),
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_error("bind(ping socket)"));
    }
    let mut bound = MaybeUninit::<libc::sockaddr_in>::zeroed();
    let mut len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `bound` has room for `len` bytes, and both are live and
    // writable for the call.
    let rc = unsafe { libc::getsockname(fd.as_raw_fd(), bound.as_mut_ptr().cast(), &mut len) };
    if rc < 0 {
        return Err(last_error("getsockname(ping socket)"));
    }
    // SAFETY: getsockname succeeded on an AF_INET socket and wrote a
    // sockaddr_in (which started zeroed anyway).
    let (_, ident) = socket::from_sockaddr_in(&unsafe { bound.assume_init() });
    Ok(ident)
}

impl AsFd for PingSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PingSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl fmt::Debug for PingSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PingSocket")
            .field("fd", &self.fd.as_raw_fd())
            .field("ident", &self.ident)
            .finish()
    }
}
