//! The IPv4 header (RFC 791 §3.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |0|D|M|     Fragment Offset     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 791's "Type of Service" byte is now DSCP (RFC 2474) and ECN
//! (RFC 3168); the flags are reserved (0), Don't Fragment and More
//! Fragments. The drawing above is by hand because it splits bytes into
//! bits; [`LAYOUT`] draws the same header from the parser's byte ranges.

mod options;

use core::ops::Range;
use std::net::Ipv4Addr;

use l2_link::wire::{Error, Result};

use super::IpProtocol;
use super::bytes::{read_ipv4, read_u16, write_u16};
use crate::checksum::checksum;

pub use options::{Ipv4Option, Ipv4Options, Ipv4OptionsIter, MAX_OPTIONS_LEN, option_kind};

// ANCHOR: ipv4_field
/// Byte positions of the header fields (RFC 791 §3.1). Fields smaller than
/// a byte share one: the constants name the byte, the masks below pick the
/// bits.
pub(crate) mod field {
    use core::ops::Range;

    /// Version (high 4 bits) and IHL, the header length in 32-bit words
    /// (low 4 bits).
    pub const VER_IHL: usize = 0;
    /// DSCP (high 6 bits) and ECN (low 2 bits); RFC 791's Type of Service.
    pub const DSCP_ECN: usize = 1;
    /// Total Length: header and data, in bytes.
    pub const TOTAL_LEN: Range<usize> = 2..4;
    /// Identification: which datagram a fragment belongs to.
    pub const IDENT: Range<usize> = 4..6;
    /// Flags (high 3 bits) and Fragment Offset (low 13 bits, in units of
    /// 8 bytes).
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    /// Time to Live: hops left.
    pub const TTL: usize = 8;
    /// Protocol of the payload.
    pub const PROTOCOL: usize = 9;
    /// Header Checksum (RFC 1071), over the header only.
    pub const CHECKSUM: Range<usize> = 10..12;
    /// Source Address.
    pub const SRC_ADDR: Range<usize> = 12..16;
    /// Destination Address.
    pub const DST_ADDR: Range<usize> = 16..20;
    /// Where the options start, if IHL > 5.
    pub const OPTIONS: usize = 20;

    /// Don't Fragment, in the 16 bits of [`FLAGS_FRAG`].
    pub const DONT_FRAG: u16 = 0x4000;
    /// More Fragments.
    pub const MORE_FRAGS: u16 = 0x2000;
    /// The fragment offset's 13 bits.
    pub const FRAG_OFFSET: u16 = 0x1fff;
}
// ANCHOR_END: ipv4_field

/// Length of a header without options.
pub const HEADER_LEN: usize = field::OPTIONS;
/// Length of the longest header: IHL is 4 bits, so 15 words.
pub const MAX_HEADER_LEN: usize = 15 * 4;
/// Fragment offsets count 8-byte units (RFC 791 §3.1): every fragment but
/// the last carries a multiple of 8 bytes.
pub const FRAGMENT_UNIT: usize = 8;
/// The size of datagram every host must be able to reassemble and accept
/// (RFC 791 §3.1: "every internet destination must be able to receive a
/// datagram of 576 octets"; RFC 1122 §3.3.2, EMTU_R). ICMP errors stay
/// within it (RFC 1812 §4.3.2.3).
pub const MIN_REASSEMBLY_LEN: usize = 576;

/// The one-byte field at `at` as a range, for [`LAYOUT`].
const fn byte(at: usize) -> Range<usize> {
    at..at + 1
}

/// The header without options, byte by byte, for
/// [`l2_link::wire::layout::diagram`]. The diagram is drawn in bytes, so
/// the fields that share a byte share a box.
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Version, IHL", byte(field::VER_IHL)),
    ("DSCP, ECN", byte(field::DSCP_ECN)),
    ("Total Length", field::TOTAL_LEN),
    ("Identification", field::IDENT),
    ("Flags, Fragment Offset", field::FLAGS_FRAG),
    ("Time to Live", byte(field::TTL)),
    ("Protocol", byte(field::PROTOCOL)),
    ("Header Checksum", field::CHECKSUM),
    ("Source Address", field::SRC_ADDR),
    ("Destination Address", field::DST_ADDR),
    (
        "Options and Padding (IHL > 5) ...",
        field::OPTIONS..field::OPTIONS + 4,
    ),
];

/// A zero-copy view of an IPv4 packet: header, options and payload.
///
/// The buffer may be longer than the packet (an Ethernet frame's padding);
/// [`payload`](Self::payload) stops where Total Length says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than the header. Prefer [`new_checked`](Self::new_checked)
    /// for bytes from the wire.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len). After this no
    /// getter panics.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    // ANCHOR: ipv4_check_len
    /// Checks what must hold before any field can be trusted: 20 bytes are
    /// there, the version is 4, IHL is at least 5 words and the header fits
    /// in the buffer, and Total Length covers the header and fits in the
    /// buffer (which may be longer: padding).
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        let truncated = |needed| Error::Truncated {
            what: "IPv4",
            needed,
            got,
        };
        let malformed = |reason| Error::Malformed {
            what: "IPv4",
            reason,
        };
        if got < HEADER_LEN {
            return Err(truncated(HEADER_LEN));
        }
        if self.version() != 4 {
            return Err(malformed("version is not 4"));
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(malformed("IHL is below 5 (20 bytes)"));
        }
        if got < header_len {
            return Err(truncated(header_len));
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(malformed("total length is shorter than the header"));
        }
        if got < total_len {
            return Err(truncated(total_len));
        }
        Ok(())
    }
    // ANCHOR_END: ipv4_check_len

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The IP version, 4 for IPv4 (the high 4 bits of byte 0).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Length of the header with its options, in bytes: IHL × 4.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated Services Code Point (RFC 2474): the high 6 bits of
    /// the old Type of Service byte.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit Congestion Notification (RFC 3168): the low 2 bits.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0b11
    }

    /// Total Length: header and data in bytes.
    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::TOTAL_LEN.start)
    }

    /// Identification: the same in every fragment of one datagram.
    pub fn ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::IDENT.start)
    }

    fn flags_frag(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::FLAGS_FRAG.start)
    }

    /// The Don't Fragment flag: routers must drop rather than fragment
    /// (and say so with ICMP "fragmentation needed", RFC 1191).
    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & field::DONT_FRAG != 0
    }

    /// The More Fragments flag: more of this datagram follows.
    pub fn more_frags(&self) -> bool {
        self.flags_frag() & field::MORE_FRAGS != 0
    }

    /// The reserved flag (bit 0 of the flags), which must be zero
    /// (RFC 791; RFC 3514's "evil bit" is a joke about it).
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & 0x8000 != 0
    }

    /// Where this fragment's data goes in the datagram, in BYTES (the field
    /// counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        // At most 0x1fff × 8 = 65528: fits.
        (self.flags_frag() & field::FRAG_OFFSET) * FRAGMENT_UNIT as u16
    }

    /// True when this packet is a fragment: not the whole datagram.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Time to Live: hops left before a router drops the packet.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// What the payload is.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The header checksum as stored.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::SRC_ADDR)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::DST_ADDR)
    }

    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The option bytes (padding included), empty when IHL is 5.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// The data: from the end of the header up to Total Length, so any
    /// padding after the packet is left out.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }

    /// True when the header checksum is right: the header, checksum
    /// included, sums to 0xFFFF (RFC 1071 §1).
    pub fn verify_checksum(&self) -> bool {
        checksum(self.header()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Writes the version (4 for IPv4).
    pub fn set_version(&mut self, value: u8) {
        let byte = &mut self.buffer.as_mut()[field::VER_IHL];
        *byte = (value << 4) | (*byte & 0x0f);
    }

    /// Writes IHL for a header of `len` bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: usize) {
        let byte = &mut self.buffer.as_mut()[field::VER_IHL];
        *byte = (*byte & 0xf0) | ((len / 4) as u8 & 0x0f);
    }

    /// Writes the DSCP (6 bits).
    pub fn set_dscp(&mut self, value: u8) {
        let byte = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *byte = (value << 2) | (*byte & 0b11);
    }

    /// Writes the ECN (2 bits).
    pub fn set_ecn(&mut self, value: u8) {
        let byte = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *byte = (*byte & !0b11) | (value & 0b11);
    }

    /// Writes Total Length.
    pub fn set_total_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::TOTAL_LEN.start, value);
    }

    /// Writes the Identification.
    pub fn set_ident(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::IDENT.start, value);
    }

    fn set_flags_frag(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::FLAGS_FRAG.start, value);
    }

    /// Sets or clears Don't Fragment.
    pub fn set_dont_frag(&mut self, value: bool) {
        let bits = self.flags_frag() & !field::DONT_FRAG;
        self.set_flags_frag(bits | if value { field::DONT_FRAG } else { 0 });
    }

    /// Sets or clears More Fragments.
    pub fn set_more_frags(&mut self, value: bool) {
        let bits = self.flags_frag() & !field::MORE_FRAGS;
        self.set_flags_frag(bits | if value { field::MORE_FRAGS } else { 0 });
    }

    /// Sets or clears the reserved flag (for crafting; it must be zero).
    pub fn set_reserved_flag(&mut self, value: bool) {
        let bits = self.flags_frag() & !0x8000;
        self.set_flags_frag(bits | if value { 0x8000 } else { 0 });
    }

    /// Writes the fragment offset, given in BYTES. The field holds 8-byte
    /// units: the low three bits of `bytes` cannot be expressed and are
    /// dropped.
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let units = bytes / FRAGMENT_UNIT as u16;
        let bits = self.flags_frag() & !field::FRAG_OFFSET;
        self.set_flags_frag(bits | units);
    }

    /// Writes the Time to Live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Writes the Protocol.
    pub fn set_protocol(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.0;
    }

    /// Writes the header checksum as given (see
    /// [`fill_checksum`](Self::fill_checksum) to compute it).
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Writes the source address.
    pub fn set_src_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Writes the destination address.
    pub fn set_dst_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// The option bytes, to write into (IHL must be set first).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }

    /// Computes and writes the header checksum: zero the field, sum the
    /// header (options included), store the complement (RFC 791 §3.1).
    /// Set IHL and every other header field first.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum(self.header());
        self.set_checksum(sum);
    }

    /// The data, to write into (IHL and Total Length must be set first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

// ANCHOR: ipv4_repr
/// The meaning of an IPv4 header, as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Where the packet comes from.
    pub src_addr: Ipv4Addr,
    /// Where it goes.
    pub dst_addr: Ipv4Addr,
    /// What the payload is.
    pub protocol: IpProtocol,
    /// Hops left. Linux sends 64 (`net.ipv4.ip_default_ttl`).
    pub ttl: u8,
    /// Identification, shared by the fragments of one datagram.
    pub ident: u16,
    /// Don't Fragment: drop (and report) rather than fragment.
    pub dont_frag: bool,
    /// More Fragments: this is not the last fragment.
    pub more_frags: bool,
    /// Where this fragment's data goes, in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// Differentiated Services Code Point (6 bits).
    pub dscp: u8,
    /// Explicit Congestion Notification (2 bits).
    pub ecn: u8,
    /// The options, padded to a multiple of 4 bytes.
    pub options: Ipv4Options,
    /// Bytes of data after the header.
    pub payload_len: usize,
}
// ANCHOR_END: ipv4_repr

impl Ipv4Repr {
    // ANCHOR: ipv4_parse
    /// Reads the header of `packet`: its length checks
    /// ([`Ipv4Packet::check_len`]), then the checksum (a damaged header is
    /// `Malformed { reason: "bad header checksum" }`: RFC 1122 §3.2.1.2
    /// says to drop it silently), then the options.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv4Packet<&T>) -> Result<Ipv4Repr> {
        // Checked again so that parse never panics on an unchecked view.
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Malformed {
                what: "IPv4",
                reason: "bad header checksum",
            });
        }
        Ipv4Repr::from_header(packet)
    }
    // ANCHOR_END: ipv4_parse

    /// The header's fields as they are, without the checksum or total
    /// length checks: for [`parse`](Self::parse) once it checked them, and
    /// for the quoted header in an ICMP error, which need not pass them.
    /// The caller has made sure that the whole header (IHL × 4 ≥ 20 bytes)
    /// is in the buffer and that Total Length covers it.
    pub(crate) fn from_header<T: AsRef<[u8]> + ?Sized>(
        packet: &Ipv4Packet<&T>,
    ) -> Result<Ipv4Repr> {
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            ttl: packet.ttl(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            options: Ipv4Options::new(packet.options())?,
            payload_len: usize::from(packet.total_len()).saturating_sub(packet.header_len()),
        })
    }

    /// Length of the header this repr emits: 20 bytes and the options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Length of the whole packet: header and payload. This is what Total
    /// Length will say.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    // ANCHOR: ipv4_emit
    /// Writes the header into the start of `packet` and fills in its
    /// checksum. The payload is the caller's to write, into
    /// [`Ipv4Packet::payload_mut`], after this.
    ///
    /// # Panics
    /// If the buffer is shorter than [`header_len`](Self::header_len), or
    /// if [`buffer_len`](Self::buffer_len) exceeds 65535, the most Total
    /// Length can say.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Ipv4Packet<&mut T>) {
        let total_len = u16::try_from(self.buffer_len())
            .expect("an IPv4 packet is at most 65535 bytes (Total Length is 16 bits)");
        packet.set_version(4);
        packet.set_header_len(self.header_len());
        packet.set_dscp(self.dscp);
        packet.set_ecn(self.ecn);
        packet.set_total_len(total_len);
        packet.set_ident(self.ident);
        // Flags and offset share 16 bits: start from zero so the reserved
        // bit is clear, then set each part.
        packet.set_flags_frag(0);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet
            .options_mut()
            .copy_from_slice(self.options.as_bytes());
        packet.fill_checksum();
    }
    // ANCHOR_END: ipv4_emit

    /// Builds the whole packet: this header, then `payload`. Sets
    /// `payload_len` from `payload`.
    ///
    /// # Panics
    /// If the packet would exceed 65535 bytes.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let repr = Ipv4Repr {
            payload_len: payload.len(),
            ..*self
        };
        let mut buffer = vec![0u8; repr.buffer_len()];
        let mut packet = Ipv4Packet::new_unchecked(&mut buffer);
        repr.emit(&mut packet);
        packet.payload_mut().copy_from_slice(payload);
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo request header from 198.18.0.2 to 198.18.0.1, 84 bytes,
    /// ident 1, DF, TTL 64, written out by hand from RFC 791's layout; the
    /// checksum 0x0000 is filled in by the test.
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x54, // version 4, IHL 5, TOS 0, total length 84
        0x00, 0x01, 0x40, 0x00, // ident 1, DF, offset 0
        0x40, 0x01, 0x00, 0x00, // TTL 64, ICMP, checksum
        198, 18, 0, 2, // source
        198, 18, 0, 1, // destination
    ];

    fn packet_bytes() -> Vec<u8> {
        let mut bytes = HEADER.to_vec();
        bytes.resize(84, 0xab);
        let sum = checksum(&bytes[..20]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    #[test]
    fn reads_a_hand_written_header() {
        let bytes = packet_bytes();
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 84);
        assert!(packet.dont_frag() && !packet.more_frags() && !packet.is_fragment());
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), IpProtocol::ICMP);
        assert_eq!(packet.src_addr(), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(packet.payload().len(), 64);
        assert!(packet.verify_checksum());
    }

    #[test]
    fn fragment_offset_is_in_bytes() {
        let mut bytes = packet_bytes();
        bytes[6..8].copy_from_slice(&[0x20, 0xb9]); // MF, offset 185 units
        let packet = Ipv4Packet::new_unchecked(&bytes[..]);
        assert_eq!(packet.frag_offset(), 1480);
        assert!(packet.more_frags() && !packet.dont_frag());
    }

    #[test]
    fn checks_in_order() {
        let bytes = packet_bytes();
        let err = |b: &[u8]| Ipv4Packet::new_checked(b).unwrap_err();
        assert_eq!(
            err(&bytes[..19]),
            Error::Truncated {
                what: "IPv4",
                needed: 20,
                got: 19
            }
        );
        let mut v6 = bytes.clone();
        v6[0] = 0x65;
        assert!(matches!(err(&v6), Error::Malformed { reason, .. } if reason.contains("version")));
        let mut short_ihl = bytes.clone();
        short_ihl[0] = 0x44;
        assert!(
            matches!(err(&short_ihl), Error::Malformed { reason, .. } if reason.contains("IHL"))
        );
        // IHL 15 needs 60 bytes of header: 84 are there, so the header
        // fits; make the buffer 40 bytes to cut it.
        let mut long_ihl = bytes.clone();
        long_ihl[0] = 0x4f;
        assert_eq!(
            err(&long_ihl[..40]),
            Error::Truncated {
                what: "IPv4",
                needed: 60,
                got: 40
            }
        );
        assert_eq!(
            err(&bytes[..83]),
            Error::Truncated {
                what: "IPv4",
                needed: 84,
                got: 83
            }
        );
        let mut short_total = bytes.clone();
        short_total[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(
            matches!(err(&short_total), Error::Malformed { reason, .. } if reason.contains("total"))
        );
    }

    #[test]
    fn padding_after_total_length_is_not_payload() {
        let mut bytes = packet_bytes();
        bytes.extend_from_slice(&[0; 10]);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.payload(), &[0xab; 64][..]);
    }

    #[test]
    fn parse_rejects_a_bad_checksum() {
        let mut bytes = packet_bytes();
        bytes[8] = 63; // TTL changed, checksum not updated
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            Ipv4Repr::parse(&packet).unwrap_err(),
            Error::Malformed {
                what: "IPv4",
                reason: "bad header checksum"
            }
        );
    }

    #[test]
    fn emit_writes_the_hand_written_header() {
        let bytes = packet_bytes();
        let repr = Ipv4Repr::parse(&Ipv4Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = vec![0xee; 84];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut out));
        assert_eq!(out[..20], bytes[..20]);
    }

    #[test]
    fn setters_leave_the_neighbouring_bits_alone() {
        let mut bytes = packet_bytes();
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_more_frags(true);
        packet.set_frag_offset(2960);
        packet.set_ecn(0b11);
        packet.set_dscp(46);
        assert!(packet.dont_frag() && packet.more_frags());
        assert_eq!(packet.frag_offset(), 2960);
        assert_eq!((packet.dscp(), packet.ecn()), (46, 3));
        packet.set_dont_frag(false);
        assert_eq!(packet.frag_offset(), 2960);
        assert_eq!(packet.version(), 4);
    }
}
