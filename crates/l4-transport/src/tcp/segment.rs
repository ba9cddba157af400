//! Segments the TCP wants sent ([`OutSegment`]), their one-line summary
//! ([`SegmentSummary`]), and the answer to a segment that reaches no
//! connection at all ([`reset_for`], RFC 9293 §3.10.7.1).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::Endpoint;
use crate::wire::{SackBlocks, TcpFlags, TcpOption, TcpRepr, TcpSeqNumber};

/// The options we put on an outgoing segment, as values: MSS, window
/// scale and SACK-Permitted on SYNs only (RFC 9293 §3.7.1, RFC 7323 §2.2,
/// RFC 2018 §2); timestamps on every segment once both ends use them
/// (RFC 7323 §3.2); SACK blocks on ACKs while data is held out of order
/// (RFC 2018 §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutOptions {
    /// Maximum Segment Size: the most data we want per segment (SYN only).
    pub mss: Option<u16>,
    /// Window Scale: our shift count (SYN only).
    pub window_scale: Option<u8>,
    /// SACK-Permitted (SYN only).
    pub sack_permitted: bool,
    /// Timestamps: (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks: data we hold beyond the acknowledgment number.
    pub sack_blocks: Option<SackBlocks>,
}

impl OutOptions {
    /// The options in header order, with No-Operations so that each
    /// multi-byte value sits on a 4-byte boundary (RFC 7323 Appendix A's
    /// layout, as Linux sends it): `MSS, SACK-Permitted, Timestamps, NOP,
    /// Window Scale` on a SYN (20 bytes), `NOP, NOP, Timestamps` and
    /// `NOP, NOP, SACK` on other segments.
    pub fn to_wire(self) -> Vec<TcpOption<'static>> {
        let mut out = Vec::new();
        out.extend(self.mss.map(TcpOption::MaxSegmentSize));
        match (self.sack_permitted, self.timestamps) {
            (true, Some((tsval, tsecr))) => {
                out.push(TcpOption::SackPermitted);
                out.push(TcpOption::Timestamps { tsval, tsecr });
            }
            (false, Some((tsval, tsecr))) => {
                out.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
                out.push(TcpOption::Timestamps { tsval, tsecr });
            }
            (true, None) => {
                out.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
                out.push(TcpOption::SackPermitted);
            }
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            out.push(TcpOption::NoOperation);
            out.push(TcpOption::WindowScale(shift));
        }
        if let Some(blocks) = self.sack_blocks {
            out.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
            out.push(TcpOption::SackBlocks(blocks));
        }
        out
    }
}

/// A segment to put on the wire: owned, so it outlives the connection's
/// borrow, with the addresses its checksum needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutSegment {
    /// Our end (the IPv4 source).
    pub src: Endpoint,
    /// The peer's end (the IPv4 destination).
    pub dst: Endpoint,
    /// SEG.SEQ.
    pub seq_number: TcpSeqNumber,
    /// SEG.ACK: meaningful only when `flags` has ACK (0 otherwise).
    pub ack_number: TcpSeqNumber,
    /// The control bits.
    pub flags: TcpFlags,
    /// SEG.WND: our receive window.
    pub window_len: u16,
    /// Options.
    pub options: OutOptions,
    /// The data.
    pub payload: Vec<u8>,
}

impl OutSegment {
    /// A segment from `src` to `dst` with no data and no options.
    pub fn control(
        src: Endpoint,
        dst: Endpoint,
        seq_number: TcpSeqNumber,
        ack_number: TcpSeqNumber,
        flags: TcpFlags,
        window_len: u16,
    ) -> OutSegment {
        OutSegment {
            src,
            dst,
            seq_number,
            ack_number,
            flags,
            window_len,
            options: OutOptions::default(),
            payload: Vec::new(),
        }
    }

    /// The segment as a [`TcpRepr`], ready for [`TcpRepr::emit`].
    pub fn to_repr(&self) -> TcpRepr<'_> {
        TcpRepr {
            src_port: self.src.port(),
            dst_port: self.dst.port(),
            seq_number: self.seq_number,
            ack_number: self.ack_number,
            flags: self.flags,
            window_len: self.window_len,
            urgent_at: 0,
            options: self.options.to_wire(),
            payload: &self.payload,
        }
    }

    /// The TCP segment's bytes, checksum filled in for its addresses.
    pub fn build(&self) -> Vec<u8> {
        self.to_repr().build(*self.src.ip(), *self.dst.ip())
    }

    /// Sequence space taken: data, plus one each for SYN and FIN (SEG.LEN).
    pub fn segment_len(&self) -> usize {
        self.payload.len()
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    /// The one-line summary for traces.
    pub fn summary(&self) -> SegmentSummary {
        SegmentSummary::of(&self.to_repr())
    }
}

/// What a trace line says about a segment: tcpdump's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    /// The control bits.
    pub flags: TcpFlags,
    /// SEG.SEQ.
    pub seq: TcpSeqNumber,
    /// SEG.ACK, when the ACK bit is set.
    pub ack: Option<TcpSeqNumber>,
    /// SEG.WND, as sent: unscaled (RFC 7323 §2.2 shifts it by the
    /// sender's window scale on every segment but a SYN).
    pub window: u16,
    /// Bytes of data.
    pub len: usize,
    /// Every option, in header order, No-Operations included: the trace
    /// shows the header as it is, like tcpdump.
    pub options: Vec<OptionSummary>,
}

impl SegmentSummary {
    /// Summarizes `segment`.
    pub fn of(segment: &TcpRepr<'_>) -> SegmentSummary {
        SegmentSummary {
            flags: segment.flags,
            seq: segment.seq_number,
            ack: segment
                .flags
                .contains(TcpFlags::ACK)
                .then_some(segment.ack_number),
            window: segment.window_len,
            len: segment.payload.len(),
            options: segment.options.iter().map(OptionSummary::of).collect(),
        }
    }
}

impl fmt::Display for SegmentSummary {
    /// tcpdump's words with the wire's numbers: `[P.] seq 1001:1101 ack
    /// 5001 win 65535 <nop,nop,TS val 7 ecr 3> len 100` (a range when there
    /// is data, as tcpdump prints it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} seq {}", self.flags, self.seq)?;
        if self.len > 0 {
            write!(f, ":{}", self.seq + self.len)?;
        }
        if let Some(ack) = self.ack {
            write!(f, " ack {ack}")?;
        }
        write!(f, " win {}", self.window)?;
        if !self.options.is_empty() {
            f.write_str(" <")?;
            write_options(f, &self.options, |n| u32::from(n) as usize)?;
            f.write_str(">")?;
        }
        write!(f, " len {}", self.len)
    }
}

/// One TCP option as a trace shows it: [`TcpOption`] without the borrow,
/// so that a summary outlives the segment's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionSummary {
    /// End of Option List (kind 0).
    EndOfList,
    /// No-Operation (kind 1): alignment.
    NoOperation,
    /// Maximum Segment Size (kind 2).
    MaxSegmentSize(u16),
    /// Window Scale (kind 3): the sender's shift count.
    WindowScale(u8),
    /// SACK-Permitted (kind 4).
    SackPermitted,
    /// SACK blocks (kind 5).
    SackBlocks(SackBlocks),
    /// Timestamps (kind 8): TSval and TSecr.
    Timestamps {
        /// Timestamp Value.
        tsval: u32,
        /// Timestamp Echo Reply.
        tsecr: u32,
    },
    /// A kind we do not interpret, with the bytes after its length.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// The option's data.
        data: Vec<u8>,
    },
}

impl OptionSummary {
    /// The summary of `option`.
    pub fn of(option: &TcpOption<'_>) -> OptionSummary {
        match *option {
            TcpOption::EndOfList => OptionSummary::EndOfList,
            TcpOption::NoOperation => OptionSummary::NoOperation,
            TcpOption::MaxSegmentSize(mss) => OptionSummary::MaxSegmentSize(mss),
            TcpOption::WindowScale(shift) => OptionSummary::WindowScale(shift),
            TcpOption::SackPermitted => OptionSummary::SackPermitted,
            TcpOption::SackBlocks(blocks) => OptionSummary::SackBlocks(blocks),
            TcpOption::Timestamps { tsval, tsecr } => OptionSummary::Timestamps { tsval, tsecr },
            TcpOption::Unknown { kind, data } => OptionSummary::Unknown {
                kind,
                data: data.to_vec(),
            },
        }
    }
}

/// Writes `options` in tcpdump's words, comma-separated, without the
/// brackets: `mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 3` on a SYN,
/// `nop,nop,sack 1 {1449:2897}` on an ACK. `sack_edge` turns a SACK
/// block's edge into the number to print (tcpdump shows them relative to
/// the ISN of the side whose data they describe, as it does the ACK).
pub fn write_options(
    out: &mut impl fmt::Write,
    options: &[OptionSummary],
    sack_edge: impl Fn(TcpSeqNumber) -> usize,
) -> fmt::Result {
    for (i, option) in options.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        match option {
            OptionSummary::EndOfList => out.write_str("eol")?,
            OptionSummary::NoOperation => out.write_str("nop")?,
            OptionSummary::MaxSegmentSize(mss) => write!(out, "mss {mss}")?,
            OptionSummary::WindowScale(shift) => write!(out, "wscale {shift}")?,
            OptionSummary::SackPermitted => out.write_str("sackOK")?,
            OptionSummary::SackBlocks(blocks) => {
                write!(out, "sack {} ", blocks.as_slice().len())?;
                for &(left, right) in blocks.as_slice() {
                    write!(out, "{{{}:{}}}", sack_edge(left), sack_edge(right))?;
                }
            }
            OptionSummary::Timestamps { tsval, tsecr } => {
                write!(out, "TS val {tsval} ecr {tsecr}")?
            }
            OptionSummary::Unknown { kind, data } => {
                write!(out, "unknown-{kind} 0x")?;
                for byte in data {
                    write!(out, "{byte:02x}")?;
                }
            }
        }
    }
    Ok(())
}

// ANCHOR: reset_for
/// The answer to `segment`, sent from `src` to `dst`, when no connection
/// and no listener wants it (RFC 9293 §3.10.7.1, "If the state is
/// CLOSED"): a RST that the sender will find acceptable, so that it gives
/// up at once instead of retransmitting. `None` for a RST (never answer a
/// RST, or two stacks could reset each other forever).
///
/// - the segment has an ACK: `<SEQ=SEG.ACK><CTL=RST>` — the sequence
///   number the sender expects from us next;
/// - it has none (a SYN, say): `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`
///   — the sender checks our ACK instead.
pub fn reset_for(segment: &TcpRepr<'_>, src: Ipv4Addr, dst: Ipv4Addr) -> Option<OutSegment> {
    if segment.flags.contains(TcpFlags::RST) {
        return None;
    }
    let us = SocketAddrV4::new(dst, segment.dst_port);
    let them = SocketAddrV4::new(src, segment.src_port);
    let reset = if segment.flags.contains(TcpFlags::ACK) {
        OutSegment::control(
            us,
            them,
            segment.ack_number,
            TcpSeqNumber(0),
            TcpFlags::RST,
            0,
        )
    } else {
        OutSegment::control(
            us,
            them,
            TcpSeqNumber(0),
            segment.seq_number + segment.segment_len(),
            TcpFlags::RST | TcpFlags::ACK,
            0,
        )
    };
    Some(reset)
}
// ANCHOR_END: reset_for
