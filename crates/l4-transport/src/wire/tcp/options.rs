//! TCP options (RFC 9293 §3.2): up to 40 bytes between the fixed header
//! and the data.
//!
//! Each option is one byte of kind, and for all but End of Option List (0)
//! and No-Operation (1) a length byte (counting kind and length) and data:
//!
//! ```text
//! +--------+--------+--------...
//! |  kind  | length |  data
//! +--------+--------+--------...
//! ```
//!
//! | kind | length | option                        | defined in          |
//! |------|--------|-------------------------------|---------------------|
//! | 0    | –      | End of Option List            | RFC 9293 §3.2       |
//! | 1    | –      | No-Operation                  | RFC 9293 §3.2       |
//! | 2    | 4      | Maximum Segment Size          | RFC 9293 §3.7.1, RFC 6691 |
//! | 3    | 3      | Window Scale                  | RFC 7323 §2         |
//! | 4    | 2      | SACK-Permitted                | RFC 2018 §2         |
//! | 5    | 2 + 8n | SACK blocks                   | RFC 2018 §3         |
//! | 8    | 10     | Timestamps                    | RFC 7323 §3         |
//!
//! The header length counts 4-byte words, so the options are padded with
//! zeros to a multiple of 4 (the first zero is End of Option List; RFC 9293
//! §3.1 calls the rest padding).

use core::fmt;

use l2_link::wire::{Error, Result};

use super::TcpSeqNumber;

/// The most option bytes a header can hold: Data Offset 15 is 60 bytes,
/// 20 of them fixed.
pub const MAX_OPTIONS_LEN: usize = 40;

/// The largest window shift a receiver honours (RFC 7323 §2.3): a larger
/// one in a SYN is used as 14 (and logged). [`TcpOption::WindowScale`]
/// keeps the value as sent.
pub const MAX_WINDOW_SCALE: u8 = 14;

/// Option kind numbers (IANA "TCP Option Kind Numbers").
pub mod option_kind {
    /// End of Option List: the rest is padding.
    pub const END_OF_LIST: u8 = 0;
    /// No-Operation: one byte, to align the next option.
    pub const NO_OPERATION: u8 = 1;
    /// Maximum Segment Size.
    pub const MAX_SEGMENT_SIZE: u8 = 2;
    /// Window Scale.
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK-Permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (selective acknowledgment) blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// One to four SACK blocks (RFC 2018 §3): the edges of data received out
/// of order, each `(left, right)`: the first sequence number of the block
/// and the one after its last.
///
/// Four is all that fits in 40 bytes of options (2 + 4 × 8 = 34); with
/// timestamps beside them (10 bytes and 2 of NOP alignment), three.
/// A plain `Copy` value with no heap allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlocks {
    /// The blocks; those from `len` on are unused.
    blocks: [(TcpSeqNumber, TcpSeqNumber); SackBlocks::MAX],
    /// How many are used, 1 to 4.
    len: u8,
}

impl SackBlocks {
    /// The most blocks an option can carry.
    pub const MAX: usize = 4;

    /// The blocks in `blocks`, or `None` when there are none or more than
    /// [`MAX`](Self::MAX) (an option with no blocks is malformed, RFC 2018
    /// §3: its length is 8n + 2 for n blocks).
    pub fn new(blocks: &[(TcpSeqNumber, TcpSeqNumber)]) -> Option<SackBlocks> {
        if blocks.is_empty() || blocks.len() > Self::MAX {
            return None;
        }
        let mut sack = SackBlocks {
            blocks: [(TcpSeqNumber(0), TcpSeqNumber(0)); Self::MAX],
            len: blocks.len() as u8,
        };
        sack.blocks[..blocks.len()].copy_from_slice(blocks);
        Some(sack)
    }

    /// The blocks, `(left, right)` each.
    pub fn as_slice(&self) -> &[(TcpSeqNumber, TcpSeqNumber)] {
        &self.blocks[..usize::from(self.len)]
    }
}

impl fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.as_slice().iter().map(|(l, r)| l.0..r.0))
            .finish()
    }
}

// ANCHOR: tcp_options
/// One TCP option, read from or to be written into a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// End of Option List (kind 0): what follows is padding. The iterator
    /// stops after it, and [`TcpRepr::parse`](super::TcpRepr::parse) leaves
    /// it out (it is where padding starts, not information).
    EndOfList,
    /// No-Operation (kind 1): one byte, so the next option starts on a
    /// word boundary.
    NoOperation,
    /// Maximum Segment Size (kind 2, SYN only): the largest segment data
    /// the sender can receive — its MTU minus 40 for the IPv4 and TCP
    /// headers without options (RFC 9293 §3.7.1, RFC 6691 §2); 536 when
    /// absent (RFC 9293 §3.7.1, RFC 1122).
    MaxSegmentSize(u16),
    /// Window Scale (kind 3, SYN only, RFC 7323 §2): the sender's window
    /// fields are to be shifted left by this many bits (0–14).
    WindowScale(u8),
    /// SACK-Permitted (kind 4, SYN only, RFC 2018 §2): the sender can
    /// receive SACK blocks.
    SackPermitted,
    /// SACK (kind 5, RFC 2018 §3): blocks of data received beyond the
    /// acknowledgment number.
    SackBlocks(SackBlocks),
    /// Timestamps (kind 8, RFC 7323 §3): the sender's clock (TSval) and the
    /// latest TSval it received (TSecr), for RTT measurement and PAWS.
    Timestamps {
        /// Timestamp Value: the sender's timestamp clock now.
        tsval: u32,
        /// Timestamp Echo Reply: the TSval being echoed (0 on a SYN).
        tsecr: u32,
    },
    /// An option of a kind we do not interpret, kept as it is so that it can
    /// be shown and forwarded (RFC 9293 §3.2: a TCP implementation MUST
    /// ignore options it does not implement, found by their length).
    Unknown {
        /// The kind byte.
        kind: u8,
        /// Everything after the length byte.
        data: &'a [u8],
    },
}
// ANCHOR_END: tcp_options

impl TcpOption<'_> {
    /// The kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => option_kind::END_OF_LIST,
            TcpOption::NoOperation => option_kind::NO_OPERATION,
            TcpOption::MaxSegmentSize(_) => option_kind::MAX_SEGMENT_SIZE,
            TcpOption::WindowScale(_) => option_kind::WINDOW_SCALE,
            TcpOption::SackPermitted => option_kind::SACK_PERMITTED,
            TcpOption::SackBlocks(_) => option_kind::SACK,
            TcpOption::Timestamps { .. } => option_kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// How many bytes the option takes in the header, kind and length
    /// bytes included.
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::SackBlocks(blocks) => 2 + 8 * blocks.as_slice().len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `buffer`; returns how many bytes
    /// it took ([`wire_len`](Self::wire_len)).
    ///
    /// # Panics
    /// If `buffer` is shorter than `wire_len`, or an unknown option's data
    /// is longer than 253 bytes (the length byte counts to 255).
    pub fn emit(&self, buffer: &mut [u8]) -> usize {
        let len = self.wire_len();
        let out = &mut buffer[..len];
        out[0] = self.kind();
        if len > 1 {
            out[1] = u8::try_from(len).expect("a TCP option is at most 255 bytes long");
        }
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::SackPermitted => {}
            TcpOption::MaxSegmentSize(mss) => out[2..4].copy_from_slice(&mss.to_be_bytes()),
            TcpOption::WindowScale(shift) => out[2] = *shift,
            TcpOption::SackBlocks(blocks) => {
                for (block, (left, right)) in out[2..].chunks_exact_mut(8).zip(blocks.as_slice()) {
                    block[..4].copy_from_slice(&left.0.to_be_bytes());
                    block[4..].copy_from_slice(&right.0.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                out[2..6].copy_from_slice(&tsval.to_be_bytes());
                out[6..10].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Unknown { data, .. } => out[2..].copy_from_slice(data),
        }
        len
    }
}

/// Reads options one by one from raw bytes (a view's
/// [`options`](super::TcpPacket::options), or anything else). Never panics,
/// whatever the bytes: a damaged option — a length byte missing, below 2,
/// running past the end, or wrong for its kind — is yielded as an error,
/// and the walk ends there. So does End of Option List, after itself.
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionsIter<'a> {
    /// Walks `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        TcpOptionsIter { rest: bytes }
    }

    /// Reads the option at the start of `rest` (which is `self.rest`,
    /// starting with `kind`) and moves past it.
    fn read(
        &mut self,
        rest: &'a [u8],
        kind: u8,
        after_kind: &'a [u8],
    ) -> core::result::Result<TcpOption<'a>, &'static str> {
        match kind {
            option_kind::END_OF_LIST => {
                self.rest = &[];
                return Ok(TcpOption::EndOfList);
            }
            option_kind::NO_OPERATION => {
                self.rest = after_kind;
                return Ok(TcpOption::NoOperation);
            }
            _ => {}
        }
        let len = usize::from(*after_kind.first().ok_or("option length missing")?);
        if len < 2 {
            return Err("option length below 2");
        }
        let option = rest
            .get(..len)
            .ok_or("option runs past the end of the header")?;
        self.rest = &rest[len..];
        let data = &option[2..];
        Ok(match (kind, data) {
            (option_kind::MAX_SEGMENT_SIZE, &[high, low]) => {
                TcpOption::MaxSegmentSize(u16::from_be_bytes([high, low]))
            }
            (option_kind::MAX_SEGMENT_SIZE, _) => return Err("MSS option length is not 4"),
            (option_kind::WINDOW_SCALE, &[shift]) => TcpOption::WindowScale(shift),
            (option_kind::WINDOW_SCALE, _) => return Err("window scale option length is not 3"),
            (option_kind::SACK_PERMITTED, []) => TcpOption::SackPermitted,
            (option_kind::SACK_PERMITTED, _) => {
                return Err("SACK-permitted option length is not 2");
            }
            (option_kind::SACK, _) => TcpOption::SackBlocks(read_sack_blocks(data)?),
            (option_kind::TIMESTAMPS, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamps {
                tsval: u32::from_be_bytes([a, b, c, d]),
                tsecr: u32::from_be_bytes([e, f, g, h]),
            },
            (option_kind::TIMESTAMPS, _) => return Err("timestamps option length is not 10"),
            _ => TcpOption::Unknown { kind, data },
        })
    }
}

/// The blocks of a SACK option's data: 8 bytes each, 1 to 4 of them.
fn read_sack_blocks(data: &[u8]) -> core::result::Result<SackBlocks, &'static str> {
    const BAD_LEN: &str = "SACK option length is not 2 + 8n for n = 1 to 4";
    if !data.len().is_multiple_of(8) {
        return Err(BAD_LEN);
    }
    let mut blocks = [(TcpSeqNumber(0), TcpSeqNumber(0)); SackBlocks::MAX];
    let mut count = 0;
    for chunk in data.chunks_exact(8) {
        let slot = blocks.get_mut(count).ok_or(BAD_LEN)?;
        let edge = |at: usize| {
            TcpSeqNumber(u32::from_be_bytes([
                chunk[at],
                chunk[at + 1],
                chunk[at + 2],
                chunk[at + 3],
            ]))
        };
        *slot = (edge(0), edge(4));
        count += 1;
    }
    SackBlocks::new(&blocks[..count]).ok_or(BAD_LEN)
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Result<TcpOption<'a>>> {
        let rest = self.rest;
        let (&kind, after_kind) = rest.split_first()?;
        Some(self.read(rest, kind, after_kind).map_err(|reason| {
            // Nothing after a damaged option can be trusted: stop.
            self.rest = &[];
            Error::Malformed {
                what: "TCP options",
                reason,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Linux puts in a SYN: MSS 1460, SACK-permitted, timestamps,
    /// NOP, window scale 7 (20 bytes, read off a capture).
    const LINUX_SYN: [u8; 20] = [
        2, 4, 0x05, 0xb4, // MSS 1460
        4, 2, // SACK-permitted
        8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // TSval 1, TSecr 0
        1, // NOP
        3, 3, 7, // window scale 7
    ];

    fn read_all(bytes: &[u8]) -> Vec<Result<TcpOption<'_>>> {
        TcpOptionsIter::new(bytes).collect()
    }

    #[test]
    fn reads_linux_syn_options() {
        assert_eq!(
            read_all(&LINUX_SYN),
            [
                Ok(TcpOption::MaxSegmentSize(1460)),
                Ok(TcpOption::SackPermitted),
                Ok(TcpOption::Timestamps { tsval: 1, tsecr: 0 }),
                Ok(TcpOption::NoOperation),
                Ok(TcpOption::WindowScale(7)),
            ]
        );
    }

    #[test]
    fn emits_what_it_reads() {
        let mut out = [0u8; 20];
        let mut at = 0;
        for option in TcpOptionsIter::new(&LINUX_SYN) {
            at += option.unwrap().emit(&mut out[at..]);
        }
        assert_eq!(at, 20);
        assert_eq!(out, LINUX_SYN);
    }

    #[test]
    fn sack_blocks_and_unknown_kinds() {
        let bytes = [
            5, 18, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10, 0x99,
            4, 0xab, 0xcd, 0, 0x42,
        ];
        let blocks = SackBlocks::new(&[
            (TcpSeqNumber(1000), TcpSeqNumber(2000)),
            (TcpSeqNumber(0xffff_fff0), TcpSeqNumber(0x10)),
        ])
        .unwrap();
        assert_eq!(
            read_all(&bytes),
            [
                Ok(TcpOption::SackBlocks(blocks)),
                Ok(TcpOption::Unknown {
                    kind: 0x99,
                    data: &[0xab, 0xcd]
                }),
                Ok(TcpOption::EndOfList),
            ]
        );
        assert_eq!(format!("{blocks:?}"), "[1000..2000, 4294967280..16]");
    }

    #[test]
    fn bad_lengths_are_errors_and_end_the_walk() {
        let reason = |bytes: &[u8]| match read_all(bytes).last() {
            Some(Err(Error::Malformed { reason, .. })) => *reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(&[1, 2]), "option length missing");
        assert_eq!(reason(&[0x99, 1, 0]), "option length below 2");
        assert_eq!(reason(&[0x99, 0]), "option length below 2");
        assert_eq!(reason(&[2, 4, 5]), "option runs past the end of the header");
        assert_eq!(reason(&[2, 3, 5]), "MSS option length is not 4");
        assert_eq!(reason(&[3, 4, 5, 6]), "window scale option length is not 3");
        assert_eq!(reason(&[4, 3, 0]), "SACK-permitted option length is not 2");
        assert_eq!(reason(&[8, 2]), "timestamps option length is not 10");
        assert!(reason(&[5, 2]).starts_with("SACK option length"));
        assert!(reason(&[5, 6, 0, 0, 0, 0]).starts_with("SACK option length"));
        let five_blocks = [&[5u8, 42][..], &[0; 40]].concat();
        assert!(reason(&five_blocks).starts_with("SACK option length"));
        // One error, then nothing.
        assert_eq!(read_all(&[1, 2, 1, 1]).len(), 2);
    }

    #[test]
    fn sack_blocks_hold_one_to_four() {
        let block = (TcpSeqNumber(1), TcpSeqNumber(2));
        assert!(SackBlocks::new(&[]).is_none());
        assert!(SackBlocks::new(&[block; 5]).is_none());
        assert_eq!(SackBlocks::new(&[block; 4]).unwrap().as_slice(), [block; 4]);
    }
}
