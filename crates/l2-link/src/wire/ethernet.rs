//! Ethernet II frames (IEEE 802.3 §3.1.1, "Type" interpretation of the
//! Length/Type field) with an optional IEEE 802.1Q VLAN tag.
//!
//! An untagged frame as our code sees it (the NIC adds the preamble before
//! and the 4-byte FCS after, and strips them on receive):
//!
//! ```text
//!  0      6      12   14                          ≥ 60
//! +------+------+----+---------------------------+
//! | dst  | src  |type| payload (padded to 46)    |
//! +------+------+----+---------------------------+
//! ```
//!
//! A tagged frame puts four bytes between the source address and the type
//! (IEEE 802.1Q §9.3): the TPID 0x8100 where the type would be, then the tag
//! control information (TCI), then the real EtherType.

use core::ops::Range;

use super::bytes::{read_mac, read_u16, write_u16};
use super::{Error, EtherType, MacAddr, Result};

/// Byte ranges of the header fields. The getters, setters, the diagrams
/// ([`LAYOUT`], [`VLAN_LAYOUT`]) and the printer all use these, so they cannot
/// disagree about where a field is.
// ANCHOR: ethernet_field
pub(crate) mod field {
    use core::ops::Range;

    /// Destination MAC address.
    pub const DESTINATION: Range<usize> = 0..6;
    /// Source MAC address.
    pub const SOURCE: Range<usize> = 6..12;
    /// The EtherType of an untagged frame, or the TPID (0x8100) of a
    /// tagged one.
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// 802.1Q tag control information: PCP, DEI, VID (tagged frames only).
    pub const VLAN_TCI: Range<usize> = 14..16;
    /// The EtherType of the payload in a tagged frame.
    pub const VLAN_ETHERTYPE: Range<usize> = 16..18;
}

/// Length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = field::ETHERTYPE.end;
/// Length of a header carrying one 802.1Q tag.
pub const VLAN_HEADER_LEN: usize = field::VLAN_ETHERTYPE.end;
// ANCHOR_END: ethernet_field

/// The untagged header, field by field, for [`super::layout::diagram`].
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Destination Address", field::DESTINATION),
    ("Source Address", field::SOURCE),
    ("EtherType", field::ETHERTYPE),
];

/// The header with one 802.1Q tag, field by field.
pub const VLAN_LAYOUT: &[(&str, Range<usize>)] = &[
    ("Destination Address", field::DESTINATION),
    ("Source Address", field::SOURCE),
    ("TPID = 0x8100", field::ETHERTYPE),
    ("TCI: PCP, DEI, VID", field::VLAN_TCI),
    ("EtherType", field::VLAN_ETHERTYPE),
];

// ANCHOR: min_frame_len
/// The shortest frame Ethernet allows, without the 4-byte FCS that the NIC
/// appends: IEEE 802.3's minFrameSize of 64 bytes minus 4, which leaves at
/// least 46 bytes of payload (RFC 894). A shorter frame must be padded by
/// its sender; Linux does not pad what an AF_PACKET socket sends.
pub const MIN_FRAME_LEN: usize = 60;
// ANCHOR_END: min_frame_len

/// A zero-copy view of an Ethernet II frame in a byte buffer.
///
/// Getters read the bytes where they are; setters (when the buffer is
/// mutable) write them in place. Nothing is copied or allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without looking at it. The getters panic if the buffer
    /// is shorter than the header: use this only on bytes you have checked
    /// (or built) yourself, and [`new_checked`](Self::new_checked) otherwise.
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after checking that it holds a whole header (14 bytes,
    /// or 18 when the type field says 0x8100, a tagged frame). After this,
    /// no getter can panic.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds a whole header, tag included.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        let truncated = |needed| Error::Truncated {
            what: "Ethernet",
            needed,
            got,
        };
        if got < HEADER_LEN {
            return Err(truncated(HEADER_LEN));
        }
        // Only now is it safe to look at the type field to learn whether a
        // tag makes the header four bytes longer.
        if self.is_tagged() && got < VLAN_HEADER_LEN {
            return Err(truncated(VLAN_HEADER_LEN));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The station the frame is for.
    pub fn destination(&self) -> MacAddr {
        read_mac(self.buffer.as_ref(), field::DESTINATION)
    }

    /// The station that sent the frame.
    pub fn source(&self) -> MacAddr {
        read_mac(self.buffer.as_ref(), field::SOURCE)
    }

    /// True when bytes 12..14 hold the 802.1Q TPID (0x8100) instead of the
    /// payload's EtherType.
    fn is_tagged(&self) -> bool {
        EtherType(read_u16(self.buffer.as_ref(), field::ETHERTYPE.start)) == EtherType::VLAN
    }

    /// The 802.1Q tag, if the frame carries one.
    pub fn vlan(&self) -> Option<VlanTag> {
        self.is_tagged()
            .then(|| VlanTag::from_tci(read_u16(self.buffer.as_ref(), field::VLAN_TCI.start)))
    }

    /// What the payload is: the EtherType after the tag in a tagged frame,
    /// the one at bytes 12..14 otherwise. Values up to 1500 are IEEE 802.3
    /// lengths rather than types (see [`EtherType::is_length`]).
    pub fn ethertype(&self) -> EtherType {
        let at = if self.is_tagged() {
            field::VLAN_ETHERTYPE.start
        } else {
            field::ETHERTYPE.start
        };
        EtherType(read_u16(self.buffer.as_ref(), at))
    }

    /// Length of the header: 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        if self.is_tagged() {
            VLAN_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Everything after the header, padding included: Ethernet itself does
    /// not say where the payload ends; the payload's own length field does.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Writes the destination address.
    pub fn set_destination(&mut self, value: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.0);
    }

    /// Writes the source address.
    pub fn set_source(&mut self, value: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.0);
    }

    /// Makes the frame untagged with the given EtherType: writes it at bytes
    /// 12..14. The payload then starts at byte 14.
    pub fn set_untagged(&mut self, ethertype: EtherType) {
        write_u16(self.buffer.as_mut(), field::ETHERTYPE.start, ethertype.0);
    }

    /// Makes the frame tagged with `tag`: writes the TPID 0x8100 at bytes
    /// 12..14 and the TCI at 14..16. The payload then starts at byte 18;
    /// write its EtherType with [`set_ethertype`](Self::set_ethertype).
    /// Nothing is moved: bytes 14..18 are overwritten.
    pub fn set_vlan(&mut self, tag: VlanTag) {
        let buffer = self.buffer.as_mut();
        write_u16(buffer, field::ETHERTYPE.start, EtherType::VLAN.0);
        write_u16(buffer, field::VLAN_TCI.start, tag.tci());
    }

    /// Writes the payload's EtherType where [`ethertype`](Self::ethertype)
    /// reads it: after the tag if the frame is tagged, at 12..14 otherwise.
    pub fn set_ethertype(&mut self, value: EtherType) {
        let at = if self.is_tagged() {
            field::VLAN_ETHERTYPE.start
        } else {
            field::ETHERTYPE.start
        };
        write_u16(self.buffer.as_mut(), at, value.0);
    }

    /// The payload, to write into.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

// ANCHOR: vlan_tag
/// An IEEE 802.1Q VLAN tag: the meaning of the 16-bit tag control
/// information (TCI, IEEE 802.1Q-2018 §9.6):
///
/// ```text
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | PCP |D|         VID           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanTag {
    /// Priority code point, 0..=7 (IEEE 802.1p class of service).
    pub pcp: u8,
    /// Drop eligible indicator: may be dropped first under congestion.
    pub dei: bool,
    /// VLAN identifier, 0..=4095. 0 means "no VLAN, priority only"; 4095 is
    /// reserved.
    pub vid: u16,
}

impl VlanTag {
    /// Packs the tag into its 16 bits. Out-of-range `pcp` (> 7) or `vid`
    /// (> 4095) are cut to their 3 and 12 bits, as the wire has no room
    /// for more.
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 0b111) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }

    /// Unpacks 16 bits of TCI. Every value is a valid tag.
    pub fn from_tci(tci: u16) -> Self {
        VlanTag {
            pcp: (tci >> 13) as u8, // the top 3 bits: fits in a u8
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }
}
// ANCHOR_END: vlan_tag

// ANCHOR: ethernet_repr
/// The meaning of an Ethernet II header, as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// The station the frame is for (or broadcast/multicast).
    pub destination: MacAddr,
    /// The sending station.
    pub source: MacAddr,
    /// The 802.1Q tag, if any.
    pub vlan: Option<VlanTag>,
    /// What the payload is. Not [`EtherType::VLAN`]: a tag is `vlan`.
    pub ethertype: EtherType,
}
// ANCHOR_END: ethernet_repr

impl EthernetRepr {
    // ANCHOR: ethernet_parse
    /// Reads the header of `frame`. Fails only when the buffer is too short
    /// for the header; every 14 (or 18) bytes are some Ethernet header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &EthernetFrame<&T>) -> Result<EthernetRepr> {
        // Checked again here so that parse never panics, even on a view made
        // with new_unchecked.
        frame.check_len()?;
        Ok(EthernetRepr {
            destination: frame.destination(),
            source: frame.source(),
            vlan: frame.vlan(),
            ethertype: frame.ethertype(),
        })
    }
    // ANCHOR_END: ethernet_parse

    /// Length of the header this repr emits: 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => VLAN_HEADER_LEN,
            None => HEADER_LEN,
        }
    }

    // ANCHOR: ethernet_emit
    /// Writes the header into the start of `frame`.
    ///
    /// # Panics
    /// If the buffer is shorter than [`header_len`](Self::header_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, frame: &mut EthernetFrame<&mut T>) {
        frame.set_destination(self.destination);
        frame.set_source(self.source);
        match self.vlan {
            Some(tag) => {
                frame.set_vlan(tag);
                frame.set_ethertype(self.ethertype);
            }
            None => frame.set_untagged(self.ethertype),
        }
    }
    // ANCHOR_END: ethernet_emit

    // ANCHOR: ethernet_padding
    /// Length of a frame carrying `payload_len` bytes: the header plus the
    /// payload, but never less than [`MIN_FRAME_LEN`].
    pub fn frame_len(&self, payload_len: usize) -> usize {
        (self.header_len() + payload_len).max(MIN_FRAME_LEN)
    }

    /// Builds a whole frame: this header, `payload`, then zeros up to the
    /// minimum frame length ("padded (with octets of zero)", RFC 894;
    /// zeros also leak nothing from an old buffer).
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        // vec! zero-fills, so the padding is already in place.
        let mut buffer = vec![0u8; self.frame_len(payload.len())];
        let mut frame = EthernetFrame::new_unchecked(&mut buffer);
        self.emit(&mut frame);
        frame.payload_mut()[..payload.len()].copy_from_slice(payload);
        buffer
    }
    // ANCHOR_END: ethernet_padding
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP request from the lab's alpha, written out by hand from
    /// IEEE 802.3's field order rather than by our encoder.
    const UNTAGGED: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
        0x08, 0x06, // EtherType ARP
        0xaa, 0xbb, // first payload bytes
    ];

    /// The same with a tag: VID 5, PCP 3, DEI 1 → TCI 0b011_1_000000000101.
    const TAGGED: [u8; 20] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
        0x81, 0x00, // TPID
        0x70, 0x05, // TCI
        0x08, 0x06, // EtherType ARP
        0xaa, 0xbb,
    ];

    const ALPHA: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn reads_an_untagged_frame() {
        let frame = EthernetFrame::new_checked(&UNTAGGED[..]).unwrap();
        assert_eq!(frame.destination(), MacAddr::BROADCAST);
        assert_eq!(frame.source(), ALPHA);
        assert_eq!(frame.vlan(), None);
        assert_eq!(frame.ethertype(), EtherType::ARP);
        assert_eq!(frame.header_len(), 14);
        assert_eq!(frame.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn reads_a_tagged_frame() {
        let frame = EthernetFrame::new_checked(&TAGGED[..]).unwrap();
        let tag = VlanTag {
            pcp: 3,
            dei: true,
            vid: 5,
        };
        assert_eq!(frame.vlan(), Some(tag));
        assert_eq!(frame.ethertype(), EtherType::ARP);
        assert_eq!(frame.header_len(), 18);
        assert_eq!(frame.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn rejects_truncated_headers() {
        assert_eq!(
            EthernetFrame::new_checked(&UNTAGGED[..13]).unwrap_err(),
            Error::Truncated {
                what: "Ethernet",
                needed: 14,
                got: 13
            }
        );
        // 14 bytes are a whole untagged header, but a tagged one needs 18.
        assert_eq!(
            EthernetFrame::new_checked(&TAGGED[..17]).unwrap_err(),
            Error::Truncated {
                what: "Ethernet",
                needed: 18,
                got: 17
            }
        );
        assert!(EthernetFrame::new_checked(&TAGGED[..18]).is_ok());
    }

    #[test]
    fn parse_checks_the_length_of_an_unchecked_view() {
        let frame = EthernetFrame::new_unchecked(&UNTAGGED[..5]);
        assert!(EthernetRepr::parse(&frame).is_err());
    }

    #[test]
    fn tci_packs_the_standard_bit_positions() {
        let tag = VlanTag {
            pcp: 3,
            dei: true,
            vid: 5,
        };
        assert_eq!(tag.tci(), 0x7005);
        assert_eq!(VlanTag::from_tci(0xffff).tci(), 0xffff);
        assert_eq!(
            VlanTag::from_tci(0xe000),
            VlanTag {
                pcp: 7,
                dei: false,
                vid: 0
            }
        );
    }

    #[test]
    fn emits_the_hand_written_bytes() {
        for bytes in [&UNTAGGED[..], &TAGGED[..]] {
            let repr = EthernetRepr::parse(&EthernetFrame::new_checked(bytes).unwrap()).unwrap();
            let mut out = vec![0xee; bytes.len()];
            repr.emit(&mut EthernetFrame::new_unchecked(&mut out));
            assert_eq!(out[..repr.header_len()], bytes[..repr.header_len()]);
        }
    }

    #[test]
    fn emitting_untagged_over_a_stale_tagged_buffer() {
        let mut buffer = TAGGED;
        let repr = EthernetRepr {
            destination: ALPHA,
            source: ALPHA,
            vlan: None,
            ethertype: EtherType::IPV4,
        };
        repr.emit(&mut EthernetFrame::new_unchecked(&mut buffer));
        assert_eq!(buffer[12..14], [0x08, 0x00]);
    }

    #[test]
    fn build_pads_short_frames_with_zeros() {
        let repr = EthernetRepr {
            destination: MacAddr::BROADCAST,
            source: ALPHA,
            vlan: None,
            ethertype: EtherType::LOCAL_EXPERIMENTAL_1,
        };
        assert_eq!(repr.frame_len(5), 60);
        assert_eq!(repr.frame_len(46), 60);
        assert_eq!(repr.frame_len(47), 61);
        let frame = repr.build(b"hello");
        assert_eq!(frame.len(), 60);
        assert_eq!(&frame[14..19], b"hello");
        assert!(frame[19..].iter().all(|&b| b == 0));

        let tagged = EthernetRepr {
            vlan: Some(VlanTag::default()),
            ..repr
        };
        assert_eq!(tagged.frame_len(1500), 1518);
    }
}
