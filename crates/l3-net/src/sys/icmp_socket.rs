//! The raw ICMP socket: `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`, what
//! ping and traceroute have always been built on (raw(7), icmp(7)).

use std::ffi::c_int;
use std::fmt;
use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use l2_link::sys::socket_util::{last_error, raw_socket_error};

use super::socket::{self, RawRecv};
use super::tx_timestamp::{SentAt, TxTimestamps};

/// A raw ICMP socket.
///
/// It sends ICMP messages — type, code, checksum and body, which we build —
/// and the kernel puts the IPv4 header in front (source address, TTL, ID,
/// header checksum: all the kernel's). It receives a copy of *every* ICMP
/// message that arrives at this host, whoever it is for, each as the whole
/// IPv4 datagram with its header: sorting out which replies are ours is
/// the program's job (ping matches its identifier).
///
/// Opening one needs `CAP_NET_RAW`. Every send is time-stamped by the
/// kernel where it can be (see [`SentAt`]), every receive too
/// ([`RawRecv::timestamp`]), both on CLOCK_REALTIME.
pub struct IcmpSocket {
    fd: OwnedFd,
    tx: TxTimestamps,
}

/// `ICMP_FILTER` (linux/icmp.h): a raw ICMP socket option, a bit mask of
/// the message types to *drop*. Not in the libc crate.
const ICMP_FILTER: c_int = 1;

impl IcmpSocket {
    /// Opens a raw ICMP socket, asks for receive time stamps and the TTL of
    /// each datagram, and turns on software transmit stamps.
    ///
    /// Errors: `PermissionDenied` naming CAP_NET_RAW without the capability.
    pub fn open() -> io::Result<IcmpSocket> {
        // ANCHOR: open_icmp_socket
        // The seed's line: int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        // SOCK_CLOEXEC: a program we exec never inherits a raw socket.
        // SAFETY: socket() takes no pointers; it returns a descriptor or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            )
        };
        if fd < 0 {
            let call = "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)";
            return Err(raw_socket_error(io::Error::last_os_error(), call));
        }
        // SAFETY: `fd` was just returned by socket() and nothing else owns
        // it; OwnedFd closes it when dropped, on every path below.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // ANCHOR_END: open_icmp_socket
        socket::ask_for_receive_notes(fd.as_fd())?;
        let tx = TxTimestamps::enable(fd.as_fd());
        Ok(IcmpSocket { fd, tx })
    }

    /// The TTL of the datagrams sent from now on (`IP_TTL`; 64 unless
    /// changed, Linux's `net.ipv4.ip_default_ttl`). traceroute counts it
    /// up from 1.
    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        socket::set_ttl(self.fd.as_fd(), ttl)
    }

    /// Lets the kernel drop every ICMP message whose type is not in
    /// `types` before it is queued here (`ICMP_FILTER`, as iputils ping
    /// does): a busy host's other ICMP never wakes us. Types 32 and above
    /// cannot be filtered and always pass.
    pub fn accept_only(&self, types: &[u8]) -> io::Result<()> {
        // Bit n set: drop type n. Start with "drop all", clear the wanted.
        let mut drop_mask: u32 = u32::MAX;
        for &icmp_type in types {
            if let Some(bit) = 1u32.checked_shl(u32::from(icmp_type)) {
                drop_mask &= !bit;
            }
        }
        // SAFETY: `drop_mask` is the u32 `struct icmp_filter` holds; it
        // outlives the call and the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_RAW,
                ICMP_FILTER,
                (&drop_mask as *const u32).cast(),
                mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(last_error("setsockopt(ICMP_FILTER)"));
        }
        Ok(())
    }

    /// Stops asking the kernel for transmit stamps: from now on every
    /// [`SentAt`] is the user-space time just before `sendto()`
    /// ([`super::SendTimeSource::UserSpace`]). Receive stamps are not
    /// affected.
    pub fn disable_tx_timestamps(&mut self) -> io::Result<()> {
        self.tx.disable(self.fd.as_fd())
    }

    /// Sends one ICMP message (header and body, checksum filled in by the
    /// caller) to `dst`; the kernel adds the IPv4 header. Returns when it
    /// left (the kernel's transmit stamp if it came, see [`SentAt`]).
    pub fn send_to(&self, message: &[u8], dst: Ipv4Addr) -> io::Result<SentAt> {
        let fd = self.fd.as_fd();
        self.tx
            .send(fd, || socket::send_to(fd, message, dst, 0, "sendto"))
    }

    /// Receives the next ICMP datagram — the whole IPv4 datagram, header
    /// first — into `buf`, waiting until `deadline` (forever if `None`).
    /// `Ok(None)` when the deadline passes first; an `Interrupted` error
    /// when a signal handler ran (Ctrl-C), so the caller can look at its
    /// flag.
    pub fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RawRecv>> {
        socket::recv(self.fd.as_fd(), buf, deadline, "recvmsg(raw ICMP)")
    }
}

impl AsFd for IcmpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for IcmpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl fmt::Debug for IcmpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IcmpSocket")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}
