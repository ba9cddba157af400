//! Devices: where the layers meet the wire.
//!
//! Every stack above layer 2 talks to a [`Device`]: send a frame, receive a
//! frame before a deadline, know your MAC and MTU. The same TCP runs over
//! the real wire ([`crate::sys::PacketSocket`]) in the lab and over an
//! in-memory cable in a unit test.
//!
//! The devices:
//! - [`crate::sys::PacketSocket`] — the real wire (an AF_PACKET socket);
//! - [`Cable`] — two [`CableEnd`]s joined in memory, for tests;
//! - [`PcapTap`] — wraps any device and writes what passes to a pcap file;
//! - [`Faulty`] — wraps any device and loses, duplicates, reorders and
//!   corrupts frames, reproducibly from a seed.
//!
//! Wrappers take any `D: Device`, including `&mut D` and `Box<dyn Device>`,
//! so they stack: `PcapTap<Faulty<CableEnd>, _>` records what survived.

mod cable;
mod faulty;
mod packet_socket;
mod pcap_tap;

pub use cable::{Cable, CableEnd};
pub use faulty::{FaultConfig, FaultStats, Faulty};
pub use pcap_tap::PcapTap;

use std::io;
use std::time::{Instant, SystemTime};

use crate::wire::MacAddr;

/// Who a received frame was for, as the kernel classified it
/// (`sockaddr_ll.sll_pkttype`, `<linux/if_packet.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// To this interface's MAC (`PACKET_HOST`).
    Host,
    /// To the broadcast address (`PACKET_BROADCAST`).
    Broadcast,
    /// To a multicast group (`PACKET_MULTICAST`).
    Multicast,
    /// To some other station's MAC, seen because the card is promiscuous or
    /// because a second stack shares it (`PACKET_OTHERHOST`).
    OtherHost,
    /// Sent by this machine (another socket or the kernel), looped back to
    /// sniffers (`PACKET_OUTGOING`). A stack must ignore these.
    Outgoing,
    /// Any other value the kernel reports.
    Other(u8),
}

impl PacketType {
    /// How a station whose address is `own` classifies a frame sent to
    /// `destination`, as the kernel does for `sll_pkttype`: broadcast,
    /// other group addresses, its own address, anyone else's.
    pub fn for_destination(destination: MacAddr, own: MacAddr) -> PacketType {
        if destination.is_broadcast() {
            PacketType::Broadcast
        } else if destination.is_multicast() {
            PacketType::Multicast
        } else if destination == own {
            PacketType::Host
        } else {
            PacketType::OtherHost
        }
    }
}

/// What came with a received frame besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMeta {
    /// Bytes of the frame written into the caller's buffer.
    pub len: usize,
    /// Bytes the frame really had (more than `len` if the buffer was short).
    pub original_len: usize,
    /// How the frame was addressed.
    pub packet_type: PacketType,
    /// When the frame arrived, by the wall clock (pcap files want this).
    pub timestamp: SystemTime,
    /// The 802.1Q tag control information the kernel stripped from the frame
    /// before we saw it (from `PACKET_AUXDATA`), if it was tagged.
    pub vlan_tci: Option<u16>,
    /// The kernel has not computed the transport checksum yet
    /// (`TP_STATUS_CSUMNOTREADY`): an outgoing frame caught before the NIC
    /// would have filled it in. Do not report its checksum as wrong.
    pub checksum_not_ready: bool,
}

impl RxMeta {
    /// Metadata for a frame that arrived whole, now, to this host.
    pub fn host(len: usize) -> RxMeta {
        RxMeta {
            len,
            original_len: len,
            packet_type: PacketType::Host,
            timestamp: SystemTime::now(),
            vlan_tci: None,
            checksum_not_ready: false,
        }
    }
}

/// A network interface as a layer 2 stack sees it.
// ANCHOR: device_trait
pub trait Device {
    /// Put one whole Ethernet frame (header and payload, no FCS) on the wire.
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;

    /// Wait for the next frame until `deadline` (forever if `None`).
    /// Returns `Ok(None)` when the deadline passes with nothing received.
    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>>;

    /// This interface's own MAC address.
    fn mac(&self) -> MacAddr;

    /// The largest payload one frame carries (1500 on plain Ethernet).
    fn mtu(&self) -> usize;
}
// ANCHOR_END: device_trait

/// A mutable borrow of a device is a device: wrappers can borrow instead of
/// own (`PcapTap::new(&mut socket, …)`).
impl<D: Device + ?Sized> Device for &mut D {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        (**self).send(frame)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        (**self).recv(buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        (**self).mac()
    }

    fn mtu(&self) -> usize {
        (**self).mtu()
    }
}

/// A boxed device is a device, so `Box<dyn Device>` can hold whichever one
/// the command line chose.
impl<D: Device + ?Sized> Device for Box<D> {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        (**self).send(frame)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        (**self).recv(buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        (**self).mac()
    }

    fn mtu(&self) -> usize {
        (**self).mtu()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_destinations_like_the_kernel() {
        let own = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
        let other = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
        let ipv4_multicast = MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]);
        assert_eq!(PacketType::for_destination(own, own), PacketType::Host);
        assert_eq!(
            PacketType::for_destination(other, own),
            PacketType::OtherHost
        );
        assert_eq!(
            PacketType::for_destination(MacAddr::BROADCAST, own),
            PacketType::Broadcast
        );
        assert_eq!(
            PacketType::for_destination(ipv4_multicast, own),
            PacketType::Multicast
        );
    }
}
