//! The TCP header (RFC 9293 §3.1), its options (§3.2) and sequence-number
//! arithmetic (§3.4).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           [Options]                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               :
//! :                             Data                              :
//! :                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! (RFC 9293 §3.1's drawing.) A segment has no length field: it is
//! whatever the IP packet carries after the IP header. The drawing above
//! is by hand because it splits a byte into bits; [`LAYOUT`] draws the same
//! header from the parser's byte ranges.

mod flags;
mod options;
mod seq_number;

use core::ops::Range;
use std::net::Ipv4Addr;

use l2_link::wire::{Error, Result};
use l3_net::checksum::pseudo_header;
use l3_net::wire::IpProtocol;

use super::bytes::{read_u16, read_u32, write_u16, write_u32};

pub use flags::TcpFlags;
pub use options::{
    MAX_OPTIONS_LEN, MAX_WINDOW_SCALE, SackBlocks, TcpOption, TcpOptionsIter, option_kind,
};
pub use seq_number::TcpSeqNumber;

// ANCHOR: tcp_field
/// Byte positions of the header fields (RFC 9293 §3.1). Data Offset and
/// the reserved bits share byte 12; the eight flags fill byte 13.
pub(crate) mod field {
    use core::ops::Range;

    /// Source Port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination Port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Sequence Number: of the first data byte (of the SYN, on a SYN).
    pub const SEQ_NUM: Range<usize> = 4..8;
    /// Acknowledgment Number: the next sequence number the sender expects
    /// (meaningful when ACK is set).
    pub const ACK_NUM: Range<usize> = 8..12;
    /// Data Offset (high 4 bits): the header length in 32-bit words; and
    /// 4 reserved bits (low 4), which must be zero.
    pub const DATA_OFFSET: usize = 12;
    /// The control bits: CWR ECE URG ACK PSH RST SYN FIN.
    pub const FLAGS: usize = 13;
    /// Window: how many bytes, from the acknowledgment number on, the
    /// sender is willing to receive (shifted by the window scale).
    pub const WINDOW: Range<usize> = 14..16;
    /// Checksum over pseudo-header, header and data.
    pub const CHECKSUM: Range<usize> = 16..18;
    /// Urgent Pointer: offset from the sequence number to the end of the
    /// urgent data (meaningful when URG is set).
    pub const URGENT: Range<usize> = 18..20;
    /// Where the options start, if Data Offset > 5.
    pub const OPTIONS: usize = 20;
}
// ANCHOR_END: tcp_field

/// Length of a header without options.
pub const HEADER_LEN: usize = field::OPTIONS;
/// Length of the longest header: Data Offset is 4 bits, so 15 words.
pub const MAX_HEADER_LEN: usize = 15 * 4;

/// The one-byte field at `at` as a range, for [`LAYOUT`].
const fn byte(at: usize) -> Range<usize> {
    at..at + 1
}

/// The header without options, byte by byte, for
/// [`l2_link::wire::layout::diagram`]. The diagram is drawn in bytes, so
/// Data Offset and the reserved bits share a box, and so do the flags.
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Source Port", field::SRC_PORT),
    ("Destination Port", field::DST_PORT),
    ("Sequence Number", field::SEQ_NUM),
    ("Acknowledgment Number", field::ACK_NUM),
    ("DOffset, Rsrvd", byte(field::DATA_OFFSET)),
    ("Flags", byte(field::FLAGS)),
    ("Window", field::WINDOW),
    ("Checksum", field::CHECKSUM),
    ("Urgent Pointer", field::URGENT),
    (
        "Options (Data Offset > 5) ...",
        field::OPTIONS..field::OPTIONS + 4,
    ),
];

/// A zero-copy view of a TCP segment: header, options and data.
///
/// TCP has no length field: the segment is the whole buffer, so give the
/// view exactly the IP packet's payload ([`l3_net::wire::Ipv4Packet::payload`]
/// stops at Total Length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than the header. Prefer [`new_checked`](Self::new_checked)
    /// for bytes from the wire.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len). After this no
    /// getter panics.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 20-byte header is there, that Data Offset is at
    /// least 5 words, and that the header with its options fits in the
    /// buffer.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        if got < HEADER_LEN {
            return Err(Error::Truncated {
                what: "TCP",
                needed: HEADER_LEN,
                got,
            });
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "TCP",
                reason: "data offset is below 5 (20 bytes)",
            });
        }
        if got < header_len {
            return Err(Error::Truncated {
                what: "TCP",
                needed: header_len,
                got,
            });
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// Sequence number of the first byte of data (or of the SYN).
    pub fn seq_number(&self) -> TcpSeqNumber {
        TcpSeqNumber(read_u32(self.buffer.as_ref(), field::SEQ_NUM.start))
    }

    /// Acknowledgment number: the next sequence number expected (as sent;
    /// it means something only when [`TcpFlags::ACK`] is set).
    pub fn ack_number(&self) -> TcpSeqNumber {
        TcpSeqNumber(read_u32(self.buffer.as_ref(), field::ACK_NUM.start))
    }

    /// Length of the header with its options, in bytes: Data Offset × 4.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFFSET] >> 4) * 4
    }

    /// The 4 reserved bits after Data Offset (must be zero, RFC 9293 §3.1;
    /// RFC 3540's experimental NS bit, since retired, was the lowest).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFFSET] & 0x0f
    }

    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    /// The window, as sent (not yet shifted by the window scale).
    pub fn window_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::WINDOW.start)
    }

    /// The checksum as stored.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The urgent pointer (meaningful when [`TcpFlags::URG`] is set).
    pub fn urgent_at(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::URGENT.start)
    }

    /// The option bytes (padding included), empty when Data Offset is 5.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// The options one by one ([`TcpOptionsIter`]).
    pub fn options_iter(&self) -> TcpOptionsIter<'_> {
        TcpOptionsIter::new(self.options())
    }

    /// The data: everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// How much sequence space the segment takes: its data, plus one for
    /// a SYN and one for a FIN (RFC 9293 §3.4, SEG.LEN).
    pub fn segment_len(&self) -> usize {
        segment_len(self.flags(), self.payload().len())
    }

    /// The checksum this segment, sent from `src` to `dst`, should carry:
    /// the internet checksum of the pseudo-header (addresses, protocol 6,
    /// the segment's length) followed by the whole segment, with the
    /// checksum field taken as zero (RFC 9293 §3.1, "Checksum"). `None`
    /// for a segment longer than 65535 bytes, which the pseudo-header's
    /// 16-bit length cannot describe (and IPv4 cannot carry).
    pub fn compute_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Option<u16> {
        let segment = self.buffer.as_ref();
        let len = u16::try_from(segment.len()).ok()?;
        let mut sum = pseudo_header(src, dst, IpProtocol::TCP, len);
        sum.add_bytes(&segment[..field::CHECKSUM.start]);
        sum.add_bytes(&segment[field::CHECKSUM.end..]);
        Some(sum.finish())
    }

    /// True when the checksum is right for a segment from `src` to `dst`.
    /// Unlike UDP's, TCP's checksum is mandatory: 0 is just a value.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.compute_checksum(src, dst) == Some(self.checksum())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Writes the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::SRC_PORT.start, value);
    }

    /// Writes the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::DST_PORT.start, value);
    }

    /// Writes the sequence number.
    pub fn set_seq_number(&mut self, value: TcpSeqNumber) {
        write_u32(self.buffer.as_mut(), field::SEQ_NUM.start, value.0);
    }

    /// Writes the acknowledgment number.
    pub fn set_ack_number(&mut self, value: TcpSeqNumber) {
        write_u32(self.buffer.as_mut(), field::ACK_NUM.start, value.0);
    }

    /// Writes Data Offset for a header of `len` bytes (a multiple of 4,
    /// 20..=60), leaving the reserved bits alone.
    pub fn set_header_len(&mut self, len: usize) {
        let byte = &mut self.buffer.as_mut()[field::DATA_OFFSET];
        *byte = (((len / 4) as u8) << 4) | (*byte & 0x0f);
    }

    /// Writes the 4 reserved bits (for crafting; they must be zero).
    pub fn set_reserved(&mut self, value: u8) {
        let byte = &mut self.buffer.as_mut()[field::DATA_OFFSET];
        *byte = (*byte & 0xf0) | (value & 0x0f);
    }

    /// Writes the control bits.
    pub fn set_flags(&mut self, value: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = value.bits();
    }

    /// Writes the window.
    pub fn set_window_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::WINDOW.start, value);
    }

    /// Writes the checksum as given (see
    /// [`fill_checksum`](Self::fill_checksum) to compute it).
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Writes the urgent pointer.
    pub fn set_urgent_at(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::URGENT.start, value);
    }

    /// The option bytes, to write into (Data Offset must be set first).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }

    /// The data, to write into (Data Offset must be set first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Computes and writes the checksum for a segment from `src` to `dst`.
    /// Set every other field and the data first.
    ///
    /// # Panics
    /// If the segment is longer than 65535 bytes.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let checksum = self
            .compute_checksum(src, dst)
            .expect("a TCP segment over IPv4 is at most 65535 bytes");
        self.set_checksum(checksum);
    }
}

/// SEG.LEN (RFC 9293 §3.4): the data, plus one for each of SYN and FIN.
fn segment_len(flags: TcpFlags, payload_len: usize) -> usize {
    payload_len
        + usize::from(flags.contains(TcpFlags::SYN))
        + usize::from(flags.contains(TcpFlags::FIN))
}

// ANCHOR: tcp_repr
/// The meaning of a TCP segment, as plain values. Data Offset and the
/// checksum follow from the rest, so [`parse`](Self::parse) checks them
/// and [`emit`](Self::emit) computes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TcpRepr<'a> {
    /// The sender's port.
    pub src_port: u16,
    /// The receiver's port.
    pub dst_port: u16,
    /// Sequence number of the first data byte (or of the SYN).
    pub seq_number: TcpSeqNumber,
    /// The next sequence number the sender expects: meaningful only when
    /// `flags` has ACK (kept as sent otherwise; send 0 then).
    pub ack_number: TcpSeqNumber,
    /// The control bits.
    pub flags: TcpFlags,
    /// The window field as sent (before any window scaling).
    pub window_len: u16,
    /// The urgent pointer (meaningful only with URG).
    pub urgent_at: u16,
    /// The options in header order, No-Operations included. Never
    /// [`TcpOption::EndOfList`] after [`parse`](Self::parse): it and what
    /// follows are padding. [`emit`](Self::emit) writes them as given and
    /// pads with zeros to a multiple of 4 bytes.
    pub options: Vec<TcpOption<'a>>,
    /// The data.
    pub payload: &'a [u8],
}
// ANCHOR_END: tcp_repr

impl<'a> TcpRepr<'a> {
    /// Reads `packet`, a segment that travelled from `src` to `dst`: its
    /// lengths ([`TcpPacket::check_len`]), its checksum (a damaged segment
    /// is `Malformed { reason: "bad checksum" }`; RFC 9293 §3.1 says to
    /// discard it), then its options (a damaged option list is an error
    /// too: RFC 9293 §3.2 suggests dropping such a segment). The data
    /// borrows from the packet.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &TcpPacket<&'a T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<TcpRepr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Malformed {
                what: "TCP",
                reason: "bad checksum",
            });
        }
        // Borrow from the buffer itself (lifetime 'a), not from the view.
        let segment: &'a [u8] = packet.buffer.as_ref();
        let header_len = packet.header_len();
        let options = TcpOptionsIter::new(&segment[field::OPTIONS..header_len])
            .filter(|option| *option != Ok(TcpOption::EndOfList))
            .collect::<Result<Vec<_>>>()?;
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            options,
            payload: &segment[header_len..],
        })
    }

    /// Bytes of options, without padding.
    fn options_len(&self) -> usize {
        self.options.iter().map(TcpOption::wire_len).sum()
    }

    /// Length of the header this repr emits: 20 bytes and the options,
    /// padded to a multiple of 4.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len().next_multiple_of(4)
    }

    /// Length of the whole segment: header and data.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// How much sequence space the segment takes: the data, plus one for a
    /// SYN and one for a FIN (RFC 9293 §3.4, SEG.LEN).
    pub fn segment_len(&self) -> usize {
        segment_len(self.flags, self.payload.len())
    }

    /// The Maximum Segment Size option's value, if there is one.
    pub fn mss(&self) -> Option<u16> {
        self.options.iter().find_map(|option| match option {
            TcpOption::MaxSegmentSize(mss) => Some(*mss),
            _ => None,
        })
    }

    /// The Window Scale option's shift count, as sent, if there is one
    /// (a receiver uses at most [`MAX_WINDOW_SCALE`], RFC 7323 §2.3).
    pub fn window_scale(&self) -> Option<u8> {
        self.options.iter().find_map(|option| match option {
            TcpOption::WindowScale(shift) => Some(*shift),
            _ => None,
        })
    }

    /// True when the SACK-Permitted option is there.
    pub fn sack_permitted(&self) -> bool {
        self.options.contains(&TcpOption::SackPermitted)
    }

    /// The Timestamps option's `(tsval, tsecr)`, if there is one.
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        self.options.iter().find_map(|option| match option {
            TcpOption::Timestamps { tsval, tsecr } => Some((*tsval, *tsecr)),
            _ => None,
        })
    }

    /// The SACK blocks, `(left, right)` each, or none.
    pub fn sack_blocks(&self) -> &[(TcpSeqNumber, TcpSeqNumber)] {
        self.options
            .iter()
            .find_map(|option| match option {
                TcpOption::SackBlocks(blocks) => Some(blocks.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }

    // ANCHOR: tcp_emit
    /// Writes the segment — header, options, padding and data — into the
    /// start of `packet` and computes the checksum for a segment from `src`
    /// to `dst`. The buffer must be exactly
    /// [`buffer_len`](Self::buffer_len) long: TCP has no length field, so
    /// the checksum covers the whole buffer.
    ///
    /// # Panics
    /// If the buffer is not [`buffer_len`](Self::buffer_len) bytes, or the
    /// options take more than 40 bytes (Data Offset counts to 15 words).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut TcpPacket<&mut T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        let header_len = self.header_len();
        assert!(
            header_len <= MAX_HEADER_LEN,
            "TCP options take at most 40 bytes, these take {}",
            self.options_len()
        );
        assert_eq!(
            packet.buffer.as_ref().len(),
            self.buffer_len(),
            "the buffer must hold exactly the segment"
        );
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        // Data Offset and the reserved bits share a byte: write it whole so
        // the reserved bits go out as zero.
        packet.buffer.as_mut()[field::DATA_OFFSET] = 0;
        packet.set_header_len(header_len);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_at(self.urgent_at);
        let options = packet.options_mut();
        let mut at = 0;
        for option in &self.options {
            at += option.emit(&mut options[at..]);
        }
        // Padding: the first zero is End of Option List, the rest are
        // zeros (RFC 9293 §3.1, "Padding").
        options[at..].fill(0);
        packet.payload_mut().copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }
    // ANCHOR_END: tcp_emit

    /// Builds the whole segment from `src` to `dst`.
    ///
    /// # Panics
    /// As [`emit`](Self::emit): if the options exceed 40 bytes.
    pub fn build(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut buffer = vec![0u8; self.buffer_len()];
        self.emit(&mut TcpPacket::new_unchecked(&mut buffer), src, dst);
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

    /// A SYN from port 40000 to port 7, seq 1000, window 65535, with
    /// MSS 1460, NOP, window scale 7 and one byte of padding, written out
    /// by hand from RFC 9293's layout; the checksum is filled in by the
    /// test, and checked against etherparse and tshark in tests/.
    const SYN: [u8; 28] = [
        0x9c, 0x40, 0x00, 0x07, // ports
        0x00, 0x00, 0x03, 0xe8, // seq 1000
        0x00, 0x00, 0x00, 0x00, // ack 0
        0x70, 0x02, 0xff, 0xff, // data offset 7 (28 bytes), SYN, window 65535
        0x00, 0x00, 0x00, 0x00, // checksum, urgent pointer
        2, 4, 0x05, 0xb4, // MSS 1460
        1, 3, 3, 7, // NOP, window scale 7
    ];

    fn syn_repr() -> TcpRepr<'static> {
        TcpRepr {
            src_port: 40000,
            dst_port: 7,
            seq_number: TcpSeqNumber(1000),
            flags: TcpFlags::SYN,
            window_len: 65535,
            options: vec![
                TcpOption::MaxSegmentSize(1460),
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ],
            ..TcpRepr::default()
        }
    }

    #[test]
    fn reads_a_hand_written_segment() {
        let packet = TcpPacket::new_checked(&SYN[..]).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port()), (40000, 7));
        assert_eq!(packet.seq_number(), TcpSeqNumber(1000));
        assert_eq!(packet.header_len(), 28);
        assert_eq!(packet.flags(), TcpFlags::SYN);
        assert_eq!(packet.window_len(), 65535);
        assert_eq!(packet.options(), &SYN[20..]);
        assert!(packet.payload().is_empty());
        assert_eq!(packet.segment_len(), 1);
    }

    #[test]
    fn emit_writes_the_hand_written_segment() {
        let built = syn_repr().build(SRC, DST);
        assert_eq!(built[..16], SYN[..16]);
        assert_eq!(built[18..], SYN[18..]);
        assert!(TcpPacket::new_unchecked(&built[..]).verify_checksum(SRC, DST));
    }

    #[test]
    fn parse_round_trips_and_checks_the_checksum() {
        let built = syn_repr().build(SRC, DST);
        let packet = TcpPacket::new_checked(&built[..]).unwrap();
        let repr = TcpRepr::parse(&packet, SRC, DST).unwrap();
        assert_eq!(repr, syn_repr());
        assert_eq!(repr.mss(), Some(1460));
        assert_eq!(repr.window_scale(), Some(7));
        assert!(!repr.sack_permitted());
        // Swapping the addresses would not do: the sum does not care about
        // order. Another sender does.
        let other = Ipv4Addr::new(198, 18, 0, 3);
        assert_eq!(
            TcpRepr::parse(&packet, other, DST).unwrap_err(),
            Error::Malformed {
                what: "TCP",
                reason: "bad checksum"
            }
        );
    }

    #[test]
    fn options_are_padded_with_zeros() {
        let repr = TcpRepr {
            options: vec![TcpOption::WindowScale(7)],
            ..syn_repr()
        };
        assert_eq!(repr.header_len(), 24);
        let built = repr.build(SRC, DST);
        assert_eq!(built[20..], [3, 3, 7, 0]);
        let packet = TcpPacket::new_checked(&built[..]).unwrap();
        assert_eq!(TcpRepr::parse(&packet, SRC, DST).unwrap(), repr);
    }

    #[test]
    fn checks_lengths() {
        assert_eq!(
            TcpPacket::new_checked(&SYN[..19]).unwrap_err(),
            Error::Truncated {
                what: "TCP",
                needed: 20,
                got: 19
            }
        );
        assert_eq!(
            TcpPacket::new_checked(&SYN[..27]).unwrap_err(),
            Error::Truncated {
                what: "TCP",
                needed: 28,
                got: 27
            }
        );
        let mut short = SYN;
        short[12] = 0x40;
        assert!(matches!(
            TcpPacket::new_checked(&short[..]),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn helpers_read_the_options() {
        let blocks = [(TcpSeqNumber(5), TcpSeqNumber(9))];
        let repr = TcpRepr {
            flags: TcpFlags::SYN | TcpFlags::FIN,
            options: vec![
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 7, tsecr: 8 },
                TcpOption::SackBlocks(SackBlocks::new(&blocks).unwrap()),
            ],
            payload: b"abc",
            ..TcpRepr::default()
        };
        assert!(repr.sack_permitted());
        assert_eq!(repr.timestamps(), Some((7, 8)));
        assert_eq!(repr.sack_blocks(), blocks);
        assert_eq!(repr.mss(), None);
        assert_eq!(repr.segment_len(), 5);
        assert_eq!(TcpRepr::default().sack_blocks(), []);
    }

    #[test]
    #[should_panic(expected = "at most 40 bytes")]
    fn emit_refuses_too_many_options() {
        let repr = TcpRepr {
            options: vec![TcpOption::Timestamps { tsval: 0, tsecr: 0 }; 5],
            ..TcpRepr::default()
        };
        repr.build(SRC, DST);
    }
}
