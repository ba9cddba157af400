//! The AF_PACKET socket: whole Ethernet frames to and from one interface
//! (packet(7)).

use std::ffi::c_int;
use std::fmt;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use super::bpf::{self, BpfInstruction};
use super::errors::interface_down;
use super::interface;
use super::socket_util::{
    ControlBuffer, last_error, raw_socket_error, read_timespec, recv_message, set_int_option,
    take_socket_error, timespec_to_system_time, wait_readable, with_context,
};
use crate::device::{PacketType, RxMeta};
use crate::wire::{EtherType, MacAddr};

/// An `AF_PACKET`, `SOCK_RAW` socket bound to one network interface.
///
/// What it sends goes out of that interface exactly as given (destination
/// MAC, source MAC, EtherType, payload; the NIC adds the FCS). What it
/// receives is every frame the interface sees — or only one EtherType, see
/// [`PacketSocket::open_ethertype`] — including, as
/// [`PacketType::Outgoing`], frames that the kernel and *other* sockets send
/// (never this socket's own).
///
/// Opening one needs `CAP_NET_RAW` (the lab gives it, see the book). The
/// descriptor is closed when the socket is dropped, which also undoes
/// [`PacketSocket::set_promiscuous`].
pub struct PacketSocket {
    fd: OwnedFd,
    name: String,
    ifindex: u32,
    mac: MacAddr,
    mtu: usize,
    /// Whether this socket holds a promiscuous membership (kept so that
    /// turning it on twice or off twice does what the caller means).
    promiscuous: AtomicBool,
}

/// What the kernel counted for one packet socket since the last time anyone
/// asked (`PACKET_STATISTICS`, `struct tpacket_stats`).
///
/// Reading the counters resets them to zero: two calls do not add up to the
/// total, they split it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketStats {
    /// Frames that passed the socket's filter (`tp_packets`). This *includes*
    /// the dropped ones, as tcpdump's "packets received by filter" does.
    pub received: u32,
    /// Frames the kernel threw away because the socket's receive buffer was
    /// full (`tp_drops`): the reader was too slow.
    pub dropped: u32,
}

impl PacketStats {
    /// Frames that reached the socket's queue: received minus dropped.
    pub fn delivered(&self) -> u32 {
        self.received.saturating_sub(self.dropped)
    }
}

/// `ETH_P_ALL` as the 16-bit protocol number: "every protocol".
const ETH_P_ALL: u16 = libc::ETH_P_ALL as u16;

impl PacketSocket {
    /// Open a packet socket on the interface `name` that receives every
    /// frame (`ETH_P_ALL`).
    ///
    /// Errors: `PermissionDenied` without CAP_NET_RAW, `NotFound` if there
    /// is no such interface, `NetworkDown` if it is down.
    pub fn open(name: &str) -> io::Result<PacketSocket> {
        PacketSocket::open_protocol(name, ETH_P_ALL)
    }

    /// Open a packet socket on `name` that receives only frames of one
    /// EtherType (it can still send anything). The kernel does this
    /// matching itself, before any filter, so frames of other types never
    /// cost this socket anything.
    pub fn open_ethertype(name: &str, ethertype: EtherType) -> io::Result<PacketSocket> {
        PacketSocket::open_protocol(name, ethertype.0)
    }

    fn open_protocol(name: &str, protocol: u16) -> io::Result<PacketSocket> {
        // ANCHOR: open_packet_socket
        // Protocol 0 here: a packet socket hears nothing until bind() names
        // both the interface and the protocol. Opening with
        // htons(ETH_P_ALL) instead would let frames from *every* interface
        // slip into the queue between socket() and bind().
        // SAFETY: socket() takes no pointers; it returns a descriptor or -1.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            // EPERM or EACCES: no CAP_NET_RAW, and the error says so.
            let err = io::Error::last_os_error();
            return Err(raw_socket_error(err, "socket(AF_PACKET, SOCK_RAW)"));
        }
        // SAFETY: `fd` was just returned by socket() and nothing else owns
        // it; OwnedFd closes it when dropped, on every path below.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // ANCHOR_END: open_packet_socket

        let ifindex = interface::index_via(fd.as_fd(), name)?;
        // Ask for the kernel's notes on every received frame before any
        // frame can arrive: the VLAN tag and checksum state, and the time.
        set_int_option(
            fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_AUXDATA,
            1,
            "PACKET_AUXDATA",
        )?;
        set_int_option(
            fd.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            1,
            "SO_TIMESTAMPNS",
        )?;
        bind_interface(&fd, name, ifindex, protocol)?;

        Ok(PacketSocket {
            mac: interface::mac_via(fd.as_fd(), name)?,
            mtu: interface::mtu_via(fd.as_fd(), name)?,
            fd,
            name: name.to_string(),
            ifindex,
            promiscuous: AtomicBool::new(false),
        })
    }

    /// The interface's name, as given to `open`.
    pub fn interface(&self) -> &str {
        &self.name
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's MAC address, as it was when the socket was opened.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// The interface's MTU, as it was when the socket was opened (ask
    /// [`super::interface_mtu`] for the current one).
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Send one whole Ethernet frame (no FCS) out of the interface.
    ///
    /// The kernel refuses frames shorter than an Ethernet header (EINVAL)
    /// and longer than header + MTU (EMSGSIZE; four bytes more for a frame
    /// with an 802.1Q tag).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // A bound packet socket needs no destination address: the frame
        // goes out of the bound interface, its header says the rest.
        // SAFETY: the pointer and length describe `frame`, which outlives
        // the call; the kernel only reads from it.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if sent < 0 {
            return Err(self.explain(io::Error::last_os_error(), "send"));
        }
        if sent as usize != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "send({}): only {sent} of {} bytes sent",
                    self.name,
                    frame.len()
                ),
            ));
        }
        Ok(())
    }

    /// The most frames [`PacketSocket::send_batch`] passes to one system
    /// call.
    pub const MAX_BATCH: usize = 64;

    /// Send several whole frames with one system call, `sendmmsg(2)`:
    /// one trip into the kernel for up to [`Self::MAX_BATCH`] frames
    /// instead of one per frame.
    ///
    /// Returns how many frames went out, always from the front of
    /// `frames`: fewer than given if there were more than `MAX_BATCH`, or
    /// if the kernel stopped part-way (an error after the first frame is
    /// reported as a short count; the next call meets it again). An error
    /// on the very first frame is returned as the error.
    // ANCHOR: send_batch
    pub fn send_batch(&self, frames: &[&[u8]]) -> io::Result<usize> {
        let frames = &frames[..frames.len().min(Self::MAX_BATCH)];
        if frames.is_empty() {
            return Ok(0);
        }
        // One iovec (pointer, length) per frame, and one message header
        // per frame pointing at its iovec. Both arrays live on the stack:
        // no allocation per batch.
        let mut iovecs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; Self::MAX_BATCH];
        // SAFETY: mmsghdr is integers and pointers; all-zero is a valid
        // value (no address, no control data, null iovec, zero lengths).
        let mut messages: [libc::mmsghdr; Self::MAX_BATCH] = unsafe { mem::zeroed() };
        for ((frame, iovec), message) in frames.iter().zip(&mut iovecs).zip(&mut messages) {
            // The kernel only reads through iov_base; *mut is the C type.
            iovec.iov_base = frame.as_ptr().cast_mut().cast();
            iovec.iov_len = frame.len();
            message.msg_hdr.msg_iov = iovec;
            message.msg_hdr.msg_iovlen = 1;
        }
        // A bound packet socket needs no destination (msg_name stays null).
        // SAFETY: the first `frames.len()` headers are initialised and
        // point at iovecs that point at the caller's frames, all alive for
        // the call; the kernel reads them and writes only msg_len.
        let sent = unsafe {
            libc::sendmmsg(
                self.fd.as_raw_fd(),
                messages.as_mut_ptr(),
                frames.len() as libc::c_uint,
                0,
            )
        };
        if sent < 0 {
            return Err(self.explain(io::Error::last_os_error(), "sendmmsg"));
        }
        Ok(sent as usize)
    }
    // ANCHOR_END: send_batch

    /// Receive the next frame into `buf`, waiting until `deadline` (forever
    /// if `None`). `Ok(None)` when the deadline passes first.
    ///
    /// A frame longer than `buf` is cut to fit; [`RxMeta::original_len`]
    /// says how long it was. If a signal handler runs while waiting, the
    /// error is `Interrupted`, so a program that catches Ctrl-C can check
    /// its flag (programs without handlers never see this). Every frame is returned, including
    /// [`PacketType::Outgoing`] ones: a stack drops those, a sniffer shows
    /// them.
    pub fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        loop {
            if !wait_readable(self.fd.as_fd(), deadline)? {
                return Ok(None);
            }
            match self.recv_waiting(buf) {
                Ok(meta) => return Ok(Some(meta)),
                // poll() said readable but the frame is gone (another thread
                // took it, or a filter change dropped it): wait again.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Err(self.explain(err, "recvmsg")),
            }
        }
    }

    /// Receive the next frame into `buf` if one is waiting, without
    /// blocking: `Ok(None)` when none is (EAGAIN). For a loop that waits
    /// in its own `poll` (on this socket's descriptor and others) and then
    /// reads every frame that came, one call each, until `None`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<RxMeta>> {
        match self.recv_waiting(buf) {
            Ok(meta) => Ok(Some(meta)),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(err) => Err(self.explain(err, "recvmsg")),
        }
    }

    /// One recvmsg() that does not block, with the kernel's notes parsed.
    // ANCHOR: recv_auxdata
    fn recv_waiting(&self, buf: &mut [u8]) -> io::Result<RxMeta> {
        let mut control = ControlBuffer::new();
        // The sender's link-layer address comes back as a sockaddr_ll, and
        // with it sll_pkttype: who the frame was for. MSG_TRUNC: return the
        // frame's real length even if `buf` is shorter. MSG_DONTWAIT:
        // poll() already waited.
        let received = recv_message::<libc::sockaddr_ll>(
            self.fd.as_fd(),
            buf,
            &mut control,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )?;
        let mut meta = RxMeta {
            len: received.len.min(buf.len()),
            original_len: received.len,
            packet_type: packet_type(received.from.sll_pkttype),
            timestamp: SystemTime::now(),
            vlan_tci: None,
            checksum_not_ready: false,
        };

        // Walk the control messages the kernel attached.
        for message in control.messages() {
            match (message.level, message.kind) {
                (libc::SOL_PACKET, libc::PACKET_AUXDATA)
                    if message.data.len() >= mem::size_of::<libc::tpacket_auxdata>() =>
                {
                    // SAFETY: the payload holds a whole tpacket_auxdata
                    // (length checked above), plain integers valid for any
                    // bytes; read_unaligned copies it out, as a payload
                    // may be unaligned.
                    let aux = unsafe {
                        message
                            .data
                            .as_ptr()
                            .cast::<libc::tpacket_auxdata>()
                            .read_unaligned()
                    };
                    meta.checksum_not_ready = aux.tp_status & libc::TP_STATUS_CSUMNOTREADY != 0;
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                        meta.vlan_tci = Some(aux.tp_vlan_tci);
                    }
                }
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    if let Some(time) =
                        read_timespec(message.data).and_then(timespec_to_system_time)
                    {
                        meta.timestamp = time;
                    }
                }
                _ => {}
            }
        }
        Ok(meta)
    }
    // ANCHOR_END: recv_auxdata

    /// Receive frames addressed to any MAC, not only this interface's
    /// (and broadcast/multicast): the NIC's promiscuous mode.
    ///
    /// Done as a membership of this socket (`PACKET_ADD_MEMBERSHIP` with
    /// `PACKET_MR_PROMISC`), not as `ip link set dev X promisc on`: the
    /// kernel counts such memberships and drops this one when the socket
    /// closes, even if the program crashes, so the interface never stays
    /// promiscuous by accident. Calling it twice with the same value is
    /// harmless.
    // ANCHOR: promiscuous
    pub fn set_promiscuous(&self, on: bool) -> io::Result<()> {
        if self.promiscuous.load(Ordering::SeqCst) == on {
            return Ok(());
        }
        let request = libc::packet_mreq {
            mr_ifindex: self.ifindex as c_int,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        let (option, call) = if on {
            (libc::PACKET_ADD_MEMBERSHIP, "PACKET_ADD_MEMBERSHIP")
        } else {
            (libc::PACKET_DROP_MEMBERSHIP, "PACKET_DROP_MEMBERSHIP")
        };
        // SAFETY: `request` is a packet_mreq that outlives the call, and
        // the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                option,
                (&request as *const libc::packet_mreq).cast(),
                mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(last_error(format!("setsockopt({call}, {})", self.name)));
        }
        self.promiscuous.store(on, Ordering::SeqCst);
        Ok(())
    }
    // ANCHOR_END: promiscuous

    /// Whether this socket holds the interface in promiscuous mode.
    pub fn is_promiscuous(&self) -> bool {
        self.promiscuous.load(Ordering::SeqCst)
    }

    /// The kernel's counters for this socket since the last call (or since
    /// it was opened): frames received and frames dropped for lack of
    /// buffer space. Reading them resets both to zero.
    // ANCHOR: packet_statistics
    pub fn statistics(&self) -> io::Result<PacketStats> {
        let mut stats = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are live and writable; `len` says how
        // many bytes `stats` has room for.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(last_error("getsockopt(PACKET_STATISTICS)"));
        }
        Ok(PacketStats {
            received: stats.tp_packets,
            dropped: stats.tp_drops,
        })
    }
    // ANCHOR_END: packet_statistics

    /// Let the kernel run `program` on every frame before queueing it here;
    /// frames it drops never reach this socket (see [`bpf`]).
    ///
    /// Frames that arrived before the filter are already queued, unfiltered.
    /// So, as libpcap does, this first attaches a filter that drops
    /// everything, empties the queue, and only then attaches `program`:
    /// afterwards every frame received has passed it.
    // ANCHOR: attach_filter
    pub fn attach_filter(&self, program: &[BpfInstruction]) -> io::Result<()> {
        self.set_filter(&bpf::drop_all())?;
        self.drain_queue()?;
        self.set_filter(program)
    }

    fn set_filter(&self, program: &[BpfInstruction]) -> io::Result<()> {
        let len = u16::try_from(program.len())
            .ok()
            .filter(|&len| len > 0 && c_int::from(len) <= libc::BPF_MAXINSNS)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a BPF program has 1 to {} instructions, not {}",
                        libc::BPF_MAXINSNS,
                        program.len()
                    ),
                )
            })?;
        let fprog = libc::sock_fprog {
            len,
            // The kernel only reads the program; BpfInstruction has the
            // layout of struct sock_filter (a test in bpf.rs checks it).
            filter: program.as_ptr().cast_mut().cast::<libc::sock_filter>(),
        };
        // SAFETY: `fprog` points at `len` instructions laid out as struct
        // sock_filter, alive for the call; the kernel copies them.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&fprog as *const libc::sock_fprog).cast(),
                mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(last_error("setsockopt(SO_ATTACH_FILTER)"));
        }
        Ok(())
    }
    // ANCHOR_END: attach_filter

    /// Throw away every frame already queued on the socket.
    fn drain_queue(&self) -> io::Result<()> {
        let mut scratch = [0u8; 1];
        loop {
            // SAFETY: the pointer and length describe `scratch`; MSG_TRUNC
            // discards the rest of a longer frame.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    scratch.as_mut_ptr().cast(),
                    scratch.len(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(()),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(self.explain(err, "recv")),
                };
            }
        }
    }

    /// Add the interface's name to an error, and a sentence to the ones
    /// whose errno alone would puzzle.
    fn explain(&self, err: io::Error, call: &str) -> io::Error {
        match err.raw_os_error() {
            Some(libc::ENETDOWN) => interface_down(&self.name),
            Some(libc::ENXIO | libc::ENODEV) => io::Error::new(
                io::ErrorKind::NotFound,
                format!("{call}({}): the interface is gone", self.name),
            ),
            Some(libc::EMSGSIZE) => io::Error::new(
                err.kind(),
                format!(
                    "{call}({}): frame longer than the MTU ({}) plus the Ethernet header",
                    self.name, self.mtu
                ),
            ),
            _ => with_context(err, format!("{call}({})", self.name)),
        }
    }
}

/// Bind `fd` to one interface and one protocol: from now on it hears only
/// that interface, and sends out of it.
// ANCHOR: bind_interface
fn bind_interface(fd: &OwnedFd, name: &str, ifindex: u32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain integers and arrays; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    // Network byte order, like every protocol number on the wire.
    addr.sll_protocol = protocol.to_be();
    addr.sll_ifindex = ifindex as c_int;
    // SAFETY: `addr` is a sockaddr_ll that outlives the call, and the
    // length passed is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
            mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_error(format!("bind({name})")));
    }
    // Binding to an interface that is down succeeds, but leaves ENETDOWN
    // pending on the socket; collect it now rather than on the first recv.
    match take_socket_error(fd.as_fd())? {
        0 => Ok(()),
        libc::ENETDOWN => Err(interface_down(name)),
        errno => Err(with_context(
            io::Error::from_raw_os_error(errno),
            format!("bind({name})"),
        )),
    }
}
// ANCHOR_END: bind_interface

/// `sll_pkttype` in words (`<linux/if_packet.h>`).
pub(super) fn packet_type(pkttype: u8) -> PacketType {
    match pkttype {
        libc::PACKET_HOST => PacketType::Host,
        libc::PACKET_BROADCAST => PacketType::Broadcast,
        libc::PACKET_MULTICAST => PacketType::Multicast,
        libc::PACKET_OTHERHOST => PacketType::OtherHost,
        libc::PACKET_OUTGOING => PacketType::Outgoing,
        other => PacketType::Other(other),
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSocket")
            .field("fd", &self.fd.as_raw_fd())
            .field("interface", &self.name)
            .field("ifindex", &self.ifindex)
            .field("mac", &self.mac)
            .field("mtu", &self.mtu)
            .field("promiscuous", &self.is_promiscuous())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkttype_values_map_to_their_names() {
        // The numbers from <linux/if_packet.h>, written out independently.
        assert_eq!(packet_type(0), PacketType::Host);
        assert_eq!(packet_type(1), PacketType::Broadcast);
        assert_eq!(packet_type(2), PacketType::Multicast);
        assert_eq!(packet_type(3), PacketType::OtherHost);
        assert_eq!(packet_type(4), PacketType::Outgoing);
        assert_eq!(packet_type(5), PacketType::Other(5));
    }

    #[test]
    fn stats_delivered_is_received_minus_dropped() {
        let stats = PacketStats {
            received: 10,
            dropped: 3,
        };
        assert_eq!(stats.delivered(), 7);
        assert_eq!(
            PacketStats {
                received: 1,
                dropped: 5
            }
            .delivered(),
            0
        );
    }
}
