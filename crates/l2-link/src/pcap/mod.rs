//! Capture files: classic pcap (written and read) and pcapng (read).
//!
//! A capture is what lets Wireshark check our work: every frame a device
//! sends or receives can be written with [`PcapWriter`] (or
//! [`crate::device::PcapTap`]) and opened in Wireshark or `tshark -r`.
//! [`PcapReader`] reads both the classic format and pcapng, which is what
//! Wireshark and dumpcap save by default.
//!
//! - classic pcap: `pcap-savefile(5)`, <https://www.tcpdump.org/manpages/pcap-savefile.5.html>,
//!   and draft-ietf-opsawg-pcap;
//! - pcapng: draft-ietf-opsawg-pcapng.

mod error;
mod pcapng;
mod reader;
mod writer;

pub use error::Error;
pub use reader::{MAX_BLOCK_LEN, MAX_PACKET_LEN, PcapReader, Record};
pub use writer::{PcapWriter, SNAPLEN};

/// Link type of Ethernet frames (`LINKTYPE_ETHERNET`, the tcpdump.org
/// link-layer header types registry): every frame begins with an Ethernet
/// II (or 802.3) header.
pub const LINKTYPE_ETHERNET: u16 = 1;

/// Link type of bare IPv4/IPv6 packets with no link-layer header
/// (`LINKTYPE_RAW`), what a layer 3 raw socket captures.
pub const LINKTYPE_RAW: u16 = 101;

/// Bytes of the two MAC addresses (destination, source) that open an
/// Ethernet frame; an 802.1Q tag goes right after them.
const MAC_ADDRESSES_LEN: usize = 12;

/// The Tag Protocol Identifier of an IEEE 802.1Q tag.
const TPID_8021Q: u16 = 0x8100;

/// Put an 802.1Q tag back into a frame the kernel received tagged.
///
/// Linux removes the tag from a received frame before a packet socket sees
/// it, and reports the Tag Control Information (priority, DEI, VLAN id)
/// beside it (`PACKET_AUXDATA`, [`crate::device::RxMeta::vlan_tci`]). A
/// capture should show the frame as it was on the wire, so — as libpcap
/// does — this re-inserts the four tag bytes (TPID 0x8100, then the TCI)
/// after the destination and source MAC addresses (IEEE 802.1Q §9).
///
/// A frame too short to hold the two addresses is returned unchanged.
// ANCHOR: reinsert_vlan_tag
pub fn reinsert_vlan_tag(frame: &[u8], tci: u16) -> Vec<u8> {
    let Some((addresses, rest)) = frame.split_at_checked(MAC_ADDRESSES_LEN) else {
        return frame.to_vec();
    };
    let mut tagged = Vec::with_capacity(frame.len() + 4);
    tagged.extend_from_slice(addresses);
    tagged.extend_from_slice(&TPID_8021Q.to_be_bytes());
    tagged.extend_from_slice(&tci.to_be_bytes());
    tagged.extend_from_slice(rest);
    tagged
}
// ANCHOR_END: reinsert_vlan_tag

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tag_goes_after_the_addresses() {
        let frame = [
            1, 2, 3, 4, 5, 6, // destination
            7, 8, 9, 10, 11, 12, // source
            0x08, 0x06, // ARP
            0xaa,
        ];
        let tagged = reinsert_vlan_tag(&frame, 0x2064); // priority 1, VLAN 100
        assert_eq!(
            tagged,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0x20, 0x64, 0x08, 0x06, 0xaa
            ]
        );
        assert_eq!(reinsert_vlan_tag(&frame[..5], 7), &frame[..5]);
    }
}
