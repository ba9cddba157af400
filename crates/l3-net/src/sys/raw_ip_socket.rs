//! A raw IP socket with `IP_HDRINCL`: we write the IPv4 header too
//! (raw(7), ip(7)).

use std::ffi::c_int;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use l2_link::sys::socket_util::{raw_socket_error, set_int_option, with_context};

use super::socket::{self, RawRecv};
use super::tx_timestamp::{SentAt, TxTimestamps};
use crate::wire::IpProtocol;

/// A raw IPv4 socket on which every datagram we send starts with the IPv4
/// header we wrote (`IP_HDRINCL`).
///
/// "Our header" is not quite the header that leaves. On the way out the
/// kernel still (raw_send_hdrinc() in net/ipv4/raw.c):
///
/// - sets the **total length** to the number of bytes we passed,
///   whatever we wrote there;
/// - recomputes the **header checksum**, whatever we wrote there;
/// - fills in the **source address** if we left it 0.0.0.0 (from the
///   route), and the **identification** if we left it 0 (unless DF is set:
///   a datagram that may not be fragmented needs no ID);
/// - refuses a datagram longer than the interface's MTU (`EMSGSIZE`)
///   rather than fragmenting it.
///
/// Everything else — version, header length, TOS, flags, fragment offset,
/// TTL, protocol, destination, options, payload — goes out as written. A
/// header the kernel would not accept at all (a bad checksum, a lying
/// length) has to go out below IP, through an AF_PACKET socket.
///
/// The socket's protocol decides only what it *receives*: a copy of each
/// arriving datagram of that protocol, header included. Opened with
/// [`RawIpSocket::send_only`] (`IPPROTO_RAW`) it receives nothing.
pub struct RawIpSocket {
    fd: OwnedFd,
    tx: TxTimestamps,
}

impl RawIpSocket {
    /// Opens a raw IP socket that receives `protocol`'s datagrams (TCP for
    /// a SYN scanner, say) and sends whole IPv4 datagrams.
    ///
    /// Errors: `PermissionDenied` naming CAP_NET_RAW without it.
    pub fn open(protocol: IpProtocol) -> io::Result<RawIpSocket> {
        // ANCHOR: ip_hdrincl
        // SAFETY: socket() takes no pointers; it returns a descriptor or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                c_int::from(protocol.0),
            )
        };
        if fd < 0 {
            let call = format!("socket(AF_INET, SOCK_RAW, {})", protocol.0);
            return Err(raw_socket_error(io::Error::last_os_error(), &call));
        }
        // SAFETY: `fd` was just returned by socket() and nothing else owns
        // it; OwnedFd closes it when dropped, on every path below.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // "Header included": from now on the bytes we send start with the
        // IPv4 header; the kernel no longer builds one.
        set_int_option(
            fd.as_fd(),
            libc::IPPROTO_IP,
            libc::IP_HDRINCL,
            1,
            "IP_HDRINCL",
        )?;
        // ANCHOR_END: ip_hdrincl
        socket::ask_for_receive_notes(fd.as_fd())?;
        let tx = TxTimestamps::enable(fd.as_fd());
        Ok(RawIpSocket { fd, tx })
    }

    /// Opens a send-only raw IP socket: `IPPROTO_RAW` (255), which implies
    /// `IP_HDRINCL` and matches no arriving datagram, so nothing is ever
    /// queued on it.
    pub fn send_only() -> io::Result<RawIpSocket> {
        RawIpSocket::open(IpProtocol(libc::IPPROTO_RAW as u8))
    }

    /// Sends one whole IPv4 datagram (header first). `dst` chooses the
    /// route, as in any `sendto`; it should equal the header's destination.
    /// Returns when it left (see [`SentAt`]).
    ///
    /// `EMSGSIZE` (longer than the MTU) comes back with a sentence saying
    /// that the kernel does not fragment header-included datagrams.
    pub fn send_to(&self, datagram: &[u8], dst: Ipv4Addr) -> io::Result<SentAt> {
        let fd = self.fd.as_fd();
        self.tx
            .send(fd, || {
                socket::send_to(fd, datagram, dst, 0, "sendto(IP_HDRINCL)")
            })
            .map_err(|err| match err.raw_os_error() {
                Some(libc::EMSGSIZE) => too_big(err, datagram.len()),
                _ => err,
            })
    }

    /// Receives the next datagram of this socket's protocol (the whole IPv4
    /// datagram) into `buf`, waiting until `deadline` (forever if `None`).
    /// `Ok(None)` when the deadline passes first; `Interrupted` when a
    /// signal handler ran.
    pub fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RawRecv>> {
        socket::recv(self.fd.as_fd(), buf, deadline, "recvmsg(raw IP)")
    }
}

/// EMSGSIZE from an IP_HDRINCL send, explained.
fn too_big(err: io::Error, len: usize) -> io::Error {
    with_context(
        err,
        format!(
            "a {len}-byte datagram is longer than the interface's MTU, and the kernel \
             does not fragment datagrams whose header we wrote"
        ),
    )
}

impl AsFd for RawIpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for RawIpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl fmt::Debug for RawIpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawIpSocket")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}
