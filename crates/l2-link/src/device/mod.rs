//! Devices: where the layers meet the wire.
//!
//! Every stack above layer 2 talks to a [`Device`]: send a frame, receive a
//! frame before a deadline, know your MAC and MTU. The same TCP runs over
//! the real wire ([`crate::sys::PacketSocket`]) in the lab and over an
//! in-memory cable in a unit test.

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
