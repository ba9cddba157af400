//! The reassembly queue: data that arrived beyond RCV.NXT, held until the
//! gap before it is filled (RFC 9293 §3.10.7.4, "segments with higher
//! beginning sequence numbers may be held for later processing").
//!
//! The caller only offers bytes inside the receive window it advertised,
//! and the window never promises more than the receive buffer's free
//! space, so what is held here always fits in the buffer once the gap is
//! filled: the queue's bytes are bounded by the window.
//!
//! Its *blocks* are bounded too, by `MAX_BLOCKS`. Without that bound a
//! peer sending one byte at every other sequence number would make tens of
//! thousands of one-byte blocks in a 64 KiB window, each costing far more
//! memory than its byte and every insert walking all of them. Data that
//! would open a new block beyond the bound is not held: it is dropped, as
//! if lost, and the sender retransmits it (smoltcp's assembler holds a
//! fixed handful of ranges the same way; Linux prunes its out-of-order
//! queue under memory pressure).

use crate::wire::TcpSeqNumber;

// ANCHOR: max_blocks
/// The most separate blocks held at once. A real peer's losses make a few
/// holes per window; 64 is far beyond that and keeps every insert cheap.
pub const MAX_BLOCKS: usize = 64;
// ANCHOR_END: max_blocks

/// How many recently changed blocks are remembered for SACK: an option has
/// room for four at most (RFC 2018 §3).
const MAX_RECENT: usize = 4;

// ANCHOR: ooo_reassembly
/// Out-of-order data, as sorted, disjoint, non-adjacent blocks of bytes.
#[derive(Debug, Clone, Default)]
pub struct Reassembly {
    /// (first sequence number, bytes), in sequence order, with gaps
    /// between them.
    blocks: Vec<(TcpSeqNumber, Vec<u8>)>,
    /// The sequence numbers of the blocks most recently changed, newest
    /// first (RFC 2018 §4: the first SACK block reports the newest data).
    recent: Vec<TcpSeqNumber>,
}

impl Reassembly {
    /// An empty queue.
    pub fn new() -> Reassembly {
        Reassembly::default()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.blocks.iter().map(|(_, bytes)| bytes.len()).sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Forgets everything (the connection was reset).
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.recent.clear();
    }

    /// Blocks held: separate runs of bytes with gaps between them.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Holds `data`, which starts at `seq`, keeping only what no block has
    /// already (duplicates are common: the peer retransmits). The caller
    /// has trimmed `data` to the window. Returns false, holding nothing,
    /// when the data would open a block beyond `MAX_BLOCKS`.
    pub fn insert(&mut self, seq: TcpSeqNumber, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        let end = seq + data.len();
        // ANCHOR: max_blocks_check
        if self.blocks.len() >= MAX_BLOCKS && !self.touches_a_block(seq, end) {
            return false;
        }
        // ANCHOR_END: max_blocks_check
        // Copy in the parts that fall between existing blocks.
        let mut cursor = seq;
        let mut pieces = Vec::new();
        for (start, bytes) in &self.blocks {
            let block_end = *start + bytes.len();
            if *start > cursor {
                let piece_end = if *start < end { *start } else { end };
                pieces.push((cursor, piece_end));
            }
            if block_end > cursor {
                cursor = block_end;
            }
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        for (from, to) in pieces {
            let (a, b) = (from - seq, to - seq);
            let at = self.blocks.partition_point(|(start, _)| *start < from);
            self.blocks.insert(at, (from, data[a..b].to_vec()));
        }
        self.coalesce();
        // The block that now holds `seq` is the most recent.
        if let Some(start) = self
            .blocks
            .iter()
            .map(|(start, bytes)| (*start, *start + bytes.len()))
            .find(|&(start, block_end)| start <= seq && seq < block_end)
            .map(|(start, _)| start)
        {
            self.recent.retain(|s| *s != start);
            self.recent.insert(0, start);
            self.recent.truncate(MAX_RECENT);
        }
        self.forget_stale_recent();
        true
    }

    /// Whether `[seq, end)` overlaps or adjoins a block held: then it
    /// extends or joins blocks rather than opening a new one.
    fn touches_a_block(&self, seq: TcpSeqNumber, end: TcpSeqNumber) -> bool {
        // The first block starting after `end` and everything beyond it
        // cannot touch; of the others only the last can reach `seq`.
        let after = self.blocks.partition_point(|(start, _)| *start <= end);
        after
            .checked_sub(1)
            .and_then(|last| self.blocks.get(last))
            .is_some_and(|(start, bytes)| *start + bytes.len() >= seq)
    }

    /// Takes the bytes that now continue the stream at `rcv_nxt` (the
    /// first block, if it starts at or before it), dropping anything
    /// older. Returns them (empty if the gap is still open).
    pub fn take_contiguous(&mut self, rcv_nxt: TcpSeqNumber) -> Vec<u8> {
        let mut out = Vec::new();
        let mut next = rcv_nxt;
        while let Some((start, bytes)) = self.blocks.first() {
            if *start > next {
                break;
            }
            let skip = next - *start;
            if let Some(fresh) = bytes.get(skip..) {
                out.extend_from_slice(fresh);
                next += fresh.len();
            }
            self.blocks.remove(0);
        }
        self.forget_stale_recent();
        out
    }

    /// The blocks as `[left, right)` ranges, the most recently changed
    /// first, at most `max` of them: what a SACK option reports (RFC 2018
    /// §4).
    pub fn sack_blocks(&self, max: usize) -> Vec<(TcpSeqNumber, TcpSeqNumber)> {
        let mut out = Vec::new();
        for start in &self.recent {
            if let Some((s, bytes)) = self.blocks.iter().find(|(s, _)| s == start) {
                out.push((*s, *s + bytes.len()));
            }
        }
        for (s, bytes) in &self.blocks {
            if !self.recent.contains(s) {
                out.push((*s, *s + bytes.len()));
            }
        }
        out.truncate(max);
        out
    }

    /// Merges blocks that touch.
    fn coalesce(&mut self) {
        let mut merged: Vec<(TcpSeqNumber, Vec<u8>)> = Vec::with_capacity(self.blocks.len());
        for (start, bytes) in self.blocks.drain(..) {
            match merged.last_mut() {
                Some((prev, prev_bytes)) if *prev + prev_bytes.len() == start => {
                    prev_bytes.extend_from_slice(&bytes);
                }
                _ => merged.push((start, bytes)),
            }
        }
        self.blocks = merged;
    }

    /// Drops recency entries whose block no longer starts there.
    fn forget_stale_recent(&mut self) {
        let blocks = &self.blocks;
        self.recent
            .retain(|s| blocks.iter().any(|(start, _)| start == s));
    }
}
// ANCHOR_END: ooo_reassembly

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_fill_in_any_order_and_duplicates_are_ignored() {
        let base = TcpSeqNumber(u32::MAX - 5); // across the wrap
        let stream: Vec<u8> = (0..40u8).collect();
        let mut queue = Reassembly::new();
        queue.insert(base + 30, &stream[30..40]);
        queue.insert(base + 10, &stream[10..20]);
        queue.insert(base + 12, &stream[12..25]); // overlaps, extends
        assert_eq!(queue.len(), 25);
        assert_eq!(
            queue.sack_blocks(4),
            vec![(base + 10, base + 25), (base + 30, base + 40)]
        );
        assert!(queue.take_contiguous(base).is_empty(), "gap still open");
        // The gap 0..10 arrives in order elsewhere: 10.. continues it.
        assert_eq!(queue.take_contiguous(base + 10), stream[10..25].to_vec());
        queue.insert(base + 25, &stream[25..35]);
        assert_eq!(queue.take_contiguous(base + 25), stream[25..40].to_vec());
        assert!(queue.is_empty());
    }

    #[test]
    fn a_flood_of_one_byte_islands_is_held_to_max_blocks_and_still_assembles() {
        let base = TcpSeqNumber(1000);
        let stream: Vec<u8> = (0..=255u8).cycle().take(65_536).collect();
        let mut queue = Reassembly::new();
        // One byte at every other sequence number: 32k islands offered.
        let mut held = 0;
        for at in (1..stream.len()).step_by(2) {
            if queue.insert(base + at, &stream[at..at + 1]) {
                held += 1;
            }
            assert!(queue.block_count() <= MAX_BLOCKS);
        }
        assert_eq!(held, MAX_BLOCKS, "islands beyond the bound are dropped");
        assert_eq!(queue.len(), MAX_BLOCKS);
        // Bytes that touch a held block are still taken at the bound…
        assert!(queue.insert(base + 2, &stream[2..3]));
        assert_eq!(queue.block_count(), MAX_BLOCKS - 1, "two islands joined");
        // …and the whole stream assembles once the peer resends it.
        queue.insert(base + 1, &stream[1..]);
        assert_eq!(queue.block_count(), 1);
        assert!(queue.take_contiguous(base + 1) == stream[1..], "the stream");
        assert!(queue.sack_blocks(4).is_empty());
    }

    #[test]
    fn sack_remembers_only_the_four_newest_blocks_first() {
        let base = TcpSeqNumber(0);
        let mut queue = Reassembly::new();
        for island in 1..=6 {
            queue.insert(base + island * 10, &[island as u8]);
        }
        let blocks = queue.sack_blocks(4);
        let starts: Vec<u32> = blocks.iter().map(|(s, _)| s.0).collect();
        assert_eq!(starts, [60, 50, 40, 30]);
    }
}
