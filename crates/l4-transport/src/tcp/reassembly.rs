//! The reassembly queue: data that arrived beyond RCV.NXT, held until the
//! gap before it is filled (RFC 9293 §3.10.7.4, "segments with higher
//! beginning sequence numbers may be held for later processing").
//!
//! The caller only offers bytes inside the receive window it advertised,
//! and the window never promises more than the receive buffer's free
//! space, so what is held here always fits in the buffer once the gap is
//! filled: the queue is bounded by the window.

use crate::wire::TcpSeqNumber;

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

    /// Holds `data`, which starts at `seq`, keeping only what no block has
    /// already (duplicates are common: the peer retransmits). The caller
    /// has trimmed `data` to the window.
    pub fn insert(&mut self, seq: TcpSeqNumber, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = seq + data.len();
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
        }
        self.forget_stale_recent();
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
}
