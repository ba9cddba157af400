//! Reassembly: putting a fragmented datagram back together (RFC 791 §3.2,
//! RFC 815), with the limits a receiver needs so that fragments from an
//! attacker cannot eat its memory.
//!
//! Fragments of one datagram share (source, destination, protocol,
//! identification) — the [`FragmentKey`]. Each says where its data goes
//! (the fragment offset, in bytes) and whether more follow (MF). The last
//! one (MF clear) tells the total length. The datagram is complete when
//! the received pieces cover `0..total` without a gap.
//!
//! RFC 815 keeps a list of the *holes* still missing; we keep the list of
//! the *pieces* received, sorted by offset, which is the same bookkeeping
//! seen from the other side and makes overlap checks a look at two
//! neighbours.
//!
//! Overlapping fragments are how attacks hide data from firewalls (a
//! later fragment overwrites a header an earlier one showed) or crash
//! reassemblers (teardrop). RFC 5722 made the rule for IPv6: any overlap
//! discards the whole datagram. We apply it to IPv4 too, as Linux does, with
//! its one exception (RFC 5722 errata 3089): an exact duplicate of a piece
//! already held is ignored, because a duplicated frame is not an attack.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::wire::{IpProtocol, Ipv4Packet, Ipv4Repr};

/// The most bytes an IPv4 datagram can have: Total Length is 16 bits.
pub const MAX_DATAGRAM_LEN: usize = 65535;

/// Fragment offsets and lengths (except the last fragment's) are multiples
/// of this: the offset field counts 8-byte units.
pub const FRAGMENT_UNIT: usize = 8;

/// What the memory limit charges for each piece besides its bytes: the
/// bookkeeping (offset, a vector header) rounded up. A flood of tiny
/// fragments costs what it really costs.
pub const PIECE_OVERHEAD: usize = 64;

// ANCHOR: reassembly_config
/// The reassembler's limits, all explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// How long the fragments of one datagram wait for the rest, from the
    /// first one's arrival. RFC 1122 §3.3.2 suggests 60–120 s; Linux uses
    /// 30 s (`net.ipv4.ipfrag_time`). Default 30 s.
    pub timeout: Duration,
    /// Datagrams being reassembled at once. Default 64.
    pub max_datagrams: usize,
    /// Bytes held by all of them together, [`PIECE_OVERHEAD`] included.
    /// Default 1 MiB (Linux: 4 MiB, `ipfrag_high_thresh`).
    pub max_bytes: usize,
    /// Pieces in one datagram: 64 KiB over 576-byte links is 118 pieces.
    /// Default 256.
    pub max_pieces: usize,
}
// ANCHOR_END: reassembly_config

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout: Duration::from_secs(30),
            max_datagrams: 64,
            max_bytes: 1 << 20,
            max_pieces: 256,
        }
    }
}

/// What identifies the fragments of one datagram (RFC 791 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FragmentKey {
    /// The sender.
    pub src_addr: Ipv4Addr,
    /// The destination.
    pub dst_addr: Ipv4Addr,
    /// The protocol carried.
    pub protocol: IpProtocol,
    /// The sender's identification for this datagram.
    pub ident: u16,
}

/// Why a fragment, or the whole datagram it belongs to, was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReassemblyError {
    /// Overlapping data: the whole datagram is discarded (RFC 5722 rule).
    Overlap,
    /// The pieces would make a datagram longer than 65535 bytes (the "ping
    /// of death"): the whole datagram is discarded.
    TooLong,
    /// A fragment other than the last whose length is not a multiple of 8,
    /// or an empty one: only that fragment is dropped.
    BadLength,
    /// Two "last" fragments disagree about the end, or data lies beyond the
    /// end: the whole datagram is discarded.
    Inconsistent,
    /// The datagram has too many pieces ([`ReassemblyConfig::max_pieces`]):
    /// discarded.
    TooManyPieces,
    /// Memory or datagram limits reached: this fragment is dropped (the
    /// datagrams already in progress keep their place).
    NoRoom,
}

impl std::fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReassemblyError::Overlap => "overlapping fragments",
            ReassemblyError::TooLong => "longer than 65535 bytes",
            ReassemblyError::BadLength => "fragment length not a multiple of 8",
            ReassemblyError::Inconsistent => "fragments disagree about the end",
            ReassemblyError::TooManyPieces => "too many fragments",
            ReassemblyError::NoRoom => "reassembly memory full",
        })
    }
}

/// One received piece of payload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    offset: usize,
    data: Vec<u8>,
}

impl Piece {
    fn end(&self) -> usize {
        self.offset + self.data.len()
    }
}

/// What [`FragmentSet::insert`] did with a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// New data, kept.
    Added,
    /// The very same range was already held: ignored.
    Duplicate,
}

// ANCHOR: fragment_set
/// The pieces of one datagram's payload received so far, sorted by offset,
/// never overlapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FragmentSet {
    pieces: Vec<Piece>,
    /// The payload's length, once the last fragment (MF clear) arrived.
    total_len: Option<usize>,
    /// Sum of the pieces' lengths: complete when it equals `total_len`
    /// (pieces never overlap, so no byte is counted twice).
    received: usize,
}

impl FragmentSet {
    /// No pieces yet.
    pub fn new() -> FragmentSet {
        FragmentSet::default()
    }

    /// Adds `data` at `offset`; `last` is true for the fragment with MF
    /// clear. `max_payload` is the most payload the datagram may have
    /// (65535 minus its header).
    pub fn insert(
        &mut self,
        offset: usize,
        data: &[u8],
        last: bool,
        max_payload: usize,
    ) -> Result<Inserted, ReassemblyError> {
        let end = offset + data.len();
        if !last && (data.is_empty() || !data.len().is_multiple_of(FRAGMENT_UNIT)) {
            return Err(ReassemblyError::BadLength);
        }
        if end > max_payload {
            return Err(ReassemblyError::TooLong);
        }
        // The end is fixed by the last fragment; nothing may lie past it,
        // and a second "last" fragment must agree.
        match (self.total_len, last) {
            (Some(total), true) if total != end => return Err(ReassemblyError::Inconsistent),
            (Some(total), false) if end > total => return Err(ReassemblyError::Inconsistent),
            (None, true) if self.pieces.last().is_some_and(|p| p.end() > end) => {
                return Err(ReassemblyError::Inconsistent);
            }
            _ => {}
        }
        // Where the piece would go: after every piece that starts before it.
        let at = self.pieces.partition_point(|p| p.offset < offset);
        if let Some(same) = self.pieces.get(at)
            && same.offset == offset
            && same.data.len() == data.len()
        {
            return Ok(Inserted::Duplicate);
        }
        let overlaps_previous = at > 0 && self.pieces[at - 1].end() > offset;
        let overlaps_next = self.pieces.get(at).is_some_and(|next| next.offset < end);
        if overlaps_previous || overlaps_next {
            return Err(ReassemblyError::Overlap);
        }
        self.pieces.insert(
            at,
            Piece {
                offset,
                data: data.to_vec(),
            },
        );
        self.received += data.len();
        if last {
            self.total_len = Some(end);
        }
        Ok(Inserted::Added)
    }

    /// True when every byte from 0 to the end has arrived.
    pub fn is_complete(&self) -> bool {
        self.total_len == Some(self.received)
    }

    /// The payload's length, if the last fragment has arrived.
    pub fn total_len(&self) -> Option<usize> {
        self.total_len
    }

    /// How many pieces are held.
    pub fn pieces(&self) -> usize {
        self.pieces.len()
    }

    /// The gaps still missing, as RFC 815 would list its holes; the last
    /// one is open-ended (`None`) until the last fragment arrives.
    pub fn holes(&self) -> Vec<(usize, Option<usize>)> {
        let mut holes = Vec::new();
        let mut covered = 0;
        for piece in &self.pieces {
            if piece.offset > covered {
                holes.push((covered, Some(piece.offset)));
            }
            covered = piece.end();
        }
        match self.total_len {
            Some(total) if covered < total => holes.push((covered, Some(total))),
            Some(_) => {}
            None => holes.push((covered, None)),
        }
        holes
    }

    /// What the limit charges for this set: bytes plus overhead per piece.
    pub fn memory(&self) -> usize {
        self.received + self.pieces.len() * PIECE_OVERHEAD
    }

    /// The first `len` bytes of payload, as far as they have arrived
    /// contiguously from offset 0 (for quoting in an ICMP error).
    pub fn prefix(&self, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            if piece.offset != out.len() || out.len() >= len {
                break;
            }
            let take = (len - out.len()).min(piece.data.len());
            out.extend_from_slice(&piece.data[..take]);
        }
        out
    }

    /// The whole payload, if complete.
    pub fn assemble(&self) -> Option<Vec<u8>> {
        if !self.is_complete() {
            return None;
        }
        let mut payload = Vec::with_capacity(self.received);
        for piece in &self.pieces {
            payload.extend_from_slice(&piece.data);
        }
        Some(payload)
    }
}
// ANCHOR_END: fragment_set

/// A datagram put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The first fragment's header (its options are the datagram's), with
    /// the fragment fields cleared and the whole payload's length.
    pub header: Ipv4Repr,
    /// The payload, every fragment's data in place.
    pub payload: Vec<u8>,
    /// How many fragments arrived for it, duplicates included.
    pub fragments: usize,
}

/// What became of one fragment given to [`Reassembler::add`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FragmentOutcome {
    /// Held; the datagram is not complete yet.
    Held,
    /// An exact duplicate of a piece already held: ignored.
    Duplicate,
    /// This fragment completed the datagram.
    Complete(Reassembled),
    /// Dropped, and with it (for every error except
    /// [`ReassemblyError::BadLength`] and [`ReassemblyError::NoRoom`]) the
    /// whole datagram.
    Dropped(ReassemblyError),
}

/// A datagram that did not complete in time, from [`Reassembler::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// Which datagram.
    pub key: FragmentKey,
    /// If the first fragment (offset 0) had arrived: its header and the
    /// start of its data, to quote in ICMP "time exceeded, fragment
    /// reassembly" (RFC 792). Without it, no ICMP error may be sent
    /// (RFC 1122 §3.3.2): the quote could not show the transport header.
    pub first_fragment: Option<Vec<u8>>,
    /// How many fragments had arrived.
    pub fragments: usize,
}

#[derive(Debug)]
struct Partial {
    started: Instant,
    set: FragmentSet,
    /// The first fragment's header bytes (options included), once seen.
    first_header: Option<Vec<u8>>,
    /// Fragments received, duplicates included.
    fragments: usize,
}

impl Partial {
    fn memory(&self) -> usize {
        self.set.memory() + self.first_header.as_ref().map_or(0, Vec::len)
    }
}

/// Datagrams being put back together, with a timeout and memory bounds.
#[derive(Debug)]
pub struct Reassembler {
    config: ReassemblyConfig,
    partials: HashMap<FragmentKey, Partial>,
    /// Sum of `Partial::memory` over `partials`.
    memory: usize,
}

impl Reassembler {
    /// Nothing in progress, with these limits.
    pub fn new(config: ReassemblyConfig) -> Reassembler {
        Reassembler {
            config,
            partials: HashMap::new(),
            memory: 0,
        }
    }

    /// Datagrams in progress.
    pub fn in_progress(&self) -> usize {
        self.partials.len()
    }

    /// Bytes held (as the limit counts them).
    pub fn memory(&self) -> usize {
        self.memory
    }

    // ANCHOR: reassembler_add
    /// Takes one fragment (a packet with MF set or a non-zero offset; its
    /// header checksum already verified by the caller).
    pub fn add(&mut self, now: Instant, packet: &Ipv4Packet<&[u8]>) -> FragmentOutcome {
        let key = FragmentKey {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            ident: packet.ident(),
        };
        let offset = usize::from(packet.frag_offset());
        let last = !packet.more_frags();
        let data = packet.payload();
        let max_payload = MAX_DATAGRAM_LEN - packet.header_len();

        if !self.partials.contains_key(&key) && self.partials.len() >= self.config.max_datagrams {
            return FragmentOutcome::Dropped(ReassemblyError::NoRoom);
        }
        let cost = data.len() + PIECE_OVERHEAD + if offset == 0 { packet.header_len() } else { 0 };
        if self.memory + cost > self.config.max_bytes {
            return FragmentOutcome::Dropped(ReassemblyError::NoRoom);
        }
        let partial = self.partials.entry(key).or_insert_with(|| Partial {
            started: now,
            set: FragmentSet::new(),
            first_header: None,
            fragments: 0,
        });
        partial.fragments += 1;
        let before = partial.memory();
        let result = if partial.set.pieces() >= self.config.max_pieces {
            Err(ReassemblyError::TooManyPieces)
        } else {
            partial.set.insert(offset, data, last, max_payload)
        };
        match result {
            Ok(Inserted::Duplicate) => FragmentOutcome::Duplicate,
            Ok(Inserted::Added) => {
                if offset == 0 {
                    partial.first_header = Some(packet.header().to_vec());
                }
                self.memory = self.memory - before + partial.memory();
                self.complete(key)
            }
            // A bad fragment alone is dropped; the datagram may still
            // complete from good ones.
            Err(error @ ReassemblyError::BadLength) => {
                if partial.set.pieces() == 0 {
                    self.discard(key);
                }
                FragmentOutcome::Dropped(error)
            }
            Err(error) => {
                self.discard(key);
                FragmentOutcome::Dropped(error)
            }
        }
    }
    // ANCHOR_END: reassembler_add

    /// If the datagram `key` is complete, takes it out and returns it.
    fn complete(&mut self, key: FragmentKey) -> FragmentOutcome {
        let Some(partial) = self.partials.get(&key) else {
            return FragmentOutcome::Held;
        };
        let (Some(payload), Some(header)) = (partial.set.assemble(), &partial.first_header) else {
            return FragmentOutcome::Held;
        };
        // The reassembled datagram gets the first fragment's header, which
        // carries all the options (later fragments may carry only some).
        let first = Ipv4Packet::new_unchecked(&header[..]);
        let header = Ipv4Repr {
            src_addr: key.src_addr,
            dst_addr: key.dst_addr,
            protocol: key.protocol,
            ttl: first.ttl(),
            ident: key.ident,
            dont_frag: first.dont_frag(),
            more_frags: false,
            frag_offset: 0,
            dscp: first.dscp(),
            ecn: first.ecn(),
            options: match crate::wire::Ipv4Options::new(first.options()) {
                Ok(options) => options,
                Err(_) => {
                    self.discard(key);
                    return FragmentOutcome::Dropped(ReassemblyError::Inconsistent);
                }
            },
            payload_len: payload.len(),
        };
        let fragments = partial.fragments;
        self.discard(key);
        if header.buffer_len() > MAX_DATAGRAM_LEN {
            return FragmentOutcome::Dropped(ReassemblyError::TooLong);
        }
        FragmentOutcome::Complete(Reassembled {
            header,
            payload,
            fragments,
        })
    }

    fn discard(&mut self, key: FragmentKey) {
        if let Some(partial) = self.partials.remove(&key) {
            self.memory -= partial.memory();
        }
    }

    // ANCHOR: reassembler_poll
    /// Gives up on datagrams older than the timeout.
    pub fn poll(&mut self, now: Instant) -> Vec<Expired> {
        let timeout = self.config.timeout;
        let mut expired: Vec<FragmentKey> = self
            .partials
            .iter()
            .filter(|(_, partial)| now >= partial.started + timeout)
            .map(|(&key, _)| key)
            .collect();
        expired.sort();
        expired
            .into_iter()
            .filter_map(|key| {
                let partial = self.partials.get(&key)?;
                // Quote the first fragment's header and the first 8 bytes
                // of its data (RFC 792): enough for the sender to find
                // its transport connection.
                let first_fragment = partial.first_header.as_ref().map(|header| {
                    let mut quote = header.clone();
                    quote.extend(partial.set.prefix(FRAGMENT_UNIT));
                    quote
                });
                let fragments = partial.fragments;
                self.discard(key);
                Some(Expired {
                    key,
                    first_fragment,
                    fragments,
                })
            })
            .collect()
    }
    // ANCHOR_END: reassembler_poll

    /// When the oldest datagram in progress times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.partials
            .values()
            .map(|partial| partial.started + self.config.timeout)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = MAX_DATAGRAM_LEN - 20;

    #[test]
    fn pieces_in_any_order_make_the_whole() {
        let mut set = FragmentSet::new();
        assert_eq!(set.insert(16, &[3; 4], true, MAX), Ok(Inserted::Added));
        assert_eq!(set.holes(), vec![(0, Some(16))]);
        assert_eq!(set.insert(0, &[1; 8], false, MAX), Ok(Inserted::Added));
        assert_eq!(set.holes(), vec![(8, Some(16))]);
        assert!(!set.is_complete());
        assert_eq!(set.insert(8, &[2; 8], false, MAX), Ok(Inserted::Added));
        assert!(set.is_complete());
        assert!(set.holes().is_empty());
        let mut expected = vec![1; 8];
        expected.extend([2; 8]);
        expected.extend([3; 4]);
        assert_eq!(set.assemble(), Some(expected));
    }

    #[test]
    fn exact_duplicates_are_ignored_overlaps_refused() {
        let mut set = FragmentSet::new();
        set.insert(8, &[1; 16], false, MAX).unwrap();
        assert_eq!(set.insert(8, &[9; 16], false, MAX), Ok(Inserted::Duplicate));
        assert_eq!(set.pieces(), 1);
        for (offset, len) in [(0, 16), (16, 16), (8, 8), (0, 32), (16, 8)] {
            assert_eq!(
                set.insert(offset, &vec![0; len], false, MAX),
                Err(ReassemblyError::Overlap),
                "{offset}+{len}"
            );
        }
        assert_eq!(set.insert(0, &[0; 8], false, MAX), Ok(Inserted::Added));
        assert_eq!(set.insert(24, &[0; 8], false, MAX), Ok(Inserted::Added));
    }

    #[test]
    fn lengths_ends_and_limits() {
        let mut set = FragmentSet::new();
        assert_eq!(
            set.insert(0, &[0; 7], false, MAX),
            Err(ReassemblyError::BadLength)
        );
        assert_eq!(
            set.insert(0, &[], false, MAX),
            Err(ReassemblyError::BadLength)
        );
        assert_eq!(
            set.insert(65512, &[0; 8], true, MAX),
            Err(ReassemblyError::TooLong)
        );
        set.insert(0, &[0; 8], false, MAX).unwrap();
        set.insert(16, &[0; 3], true, MAX).unwrap();
        assert_eq!(set.total_len(), Some(19));
        assert_eq!(
            set.insert(24, &[0; 8], false, MAX),
            Err(ReassemblyError::Inconsistent)
        );
        assert_eq!(
            set.insert(24, &[0; 1], true, MAX),
            Err(ReassemblyError::Inconsistent)
        );
        let mut early_end = FragmentSet::new();
        early_end.insert(32, &[0; 8], false, MAX).unwrap();
        assert_eq!(
            early_end.insert(8, &[0; 2], true, MAX),
            Err(ReassemblyError::Inconsistent)
        );
        assert_eq!(early_end.holes(), vec![(0, Some(32)), (40, None)]);
        assert_eq!(early_end.prefix(8), Vec::<u8>::new());
    }
}
