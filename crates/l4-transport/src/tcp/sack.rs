//! The sender's side of SACK (RFC 2018, RFC 6675): a scoreboard of what
//! the peer told us it holds beyond the cumulative ACK, so that loss
//! recovery resends only the holes.
//!
//! Without SACK, three duplicate ACKs say "one segment is missing", and
//! nothing about the rest; after a timeout the sender resends everything
//! from SND.UNA (go-back-N), much of which the receiver already holds.
//! With SACK, each duplicate ACK carries the blocks that arrived, and the
//! sender sees the holes.

use super::congestion::DUPLICATE_ACK_THRESHOLD;
use crate::wire::TcpSeqNumber;

/// The most SACKed ranges remembered. A receiver reports at most four
/// blocks per ACK, and each loss makes one hole; beyond this many, the
/// highest ranges are forgotten — which is safe: forgetting a SACK only
/// means resending data the receiver holds (RFC 2018 §8 expects the
/// sender to cope with a receiver that forgets too).
pub const MAX_SACKED_RANGES: usize = 32;

/// A byte range `[start, end)` of sequence space.
type Range = (TcpSeqNumber, TcpSeqNumber);

// ANCHOR: sack_scoreboard
/// The SACK scoreboard (RFC 6675 §3): the ranges above SND.UNA the peer
/// has selectively acknowledged, and HighRxt, how far this recovery has
/// resent.
#[derive(Debug, Clone, Default)]
pub struct Scoreboard {
    /// SACKed ranges, sorted, disjoint and not touching, all above
    /// SND.UNA.
    sacked: Vec<Range>,
    /// RFC 6675's HighRxt: the end of the highest range resent since the
    /// recovery began (`None`: nothing resent yet).
    high_rxt: Option<TcpSeqNumber>,
}

impl Scoreboard {
    /// An empty scoreboard.
    pub fn new() -> Scoreboard {
        Scoreboard::default()
    }

    /// Whether nothing is SACKed.
    pub fn is_empty(&self) -> bool {
        self.sacked.is_empty()
    }

    /// The SACKed ranges, lowest first.
    pub fn ranges(&self) -> &[Range] {
        &self.sacked
    }

    /// Forgets everything: after a retransmission timeout the receiver may
    /// have thrown away what it SACKed ("reneging", RFC 2018 §8), so the
    /// sender must not trust old SACKs; the next ACKs report again what
    /// is really there.
    pub fn clear(&mut self) {
        self.sacked.clear();
        self.high_rxt = None;
    }

    /// A new recovery begins: nothing resent in it yet.
    pub fn start_recovery(&mut self) {
        self.high_rxt = None;
    }

    /// Takes the SACK blocks of an ACK (RFC 2018 §3). Only the part of a
    /// block between `snd_una` and `snd_max` counts: below is already
    /// acknowledged, above was never sent (a forged or broken block).
    pub fn record(&mut self, blocks: &[Range], snd_una: TcpSeqNumber, snd_max: TcpSeqNumber) {
        for &(left, right) in blocks {
            let start = left.max(snd_una);
            let end = right.min(snd_max);
            if start < end && left < right {
                self.insert(start, end);
            }
        }
        self.sacked.truncate(MAX_SACKED_RANGES);
    }

    /// SND.UNA moved to `snd_una`: what lies below it is acknowledged
    /// cumulatively and leaves the scoreboard.
    pub fn acknowledge(&mut self, snd_una: TcpSeqNumber) {
        self.sacked.retain(|&(_, end)| end > snd_una);
        if let Some(first) = self.sacked.first_mut()
            && first.0 < snd_una
        {
            first.0 = snd_una;
        }
    }

    /// A retransmission of `[start, end)` left: HighRxt moves up.
    pub fn retransmitted(&mut self, end: TcpSeqNumber) {
        if self.high_rxt.is_none_or(|high| end > high) {
            self.high_rxt = Some(end);
        }
    }

    /// If `seq` is SACKed, the end of its range.
    pub fn sacked_end(&self, seq: TcpSeqNumber) -> Option<TcpSeqNumber> {
        self.sacked
            .iter()
            .find(|&&(start, end)| start <= seq && seq < end)
            .map(|&(_, end)| end)
    }

    /// The first SACKed byte after `seq`: where a hole starting at `seq`
    /// ends.
    pub fn next_sacked(&self, seq: TcpSeqNumber) -> Option<TcpSeqNumber> {
        self.sacked
            .iter()
            .map(|&(start, _)| start)
            .find(|&start| start > seq)
    }

    /// RFC 6675 §4's IsLost(seq): the peer has SACKed at least
    /// DupThresh (3) separate ranges above `seq`, or more than
    /// (DupThresh − 1)·SMSS bytes: so many later segments got through
    /// that this one is not merely late.
    pub fn is_lost(&self, seq: TcpSeqNumber, mss: usize) -> bool {
        let above = self.sacked.iter().filter(|&&(start, _)| start > seq);
        let (ranges, bytes) =
            above.fold((0, 0), |(n, b), &(start, end)| (n + 1, b + (end - start)));
        ranges >= DUPLICATE_ACK_THRESHOLD as usize
            || bytes > (DUPLICATE_ACK_THRESHOLD as usize - 1) * mss
    }

    /// The holes: the unSACKed ranges from `snd_una` up to the highest
    /// SACKed byte.
    pub fn holes(&self, snd_una: TcpSeqNumber) -> Vec<Range> {
        let mut out = Vec::new();
        let mut cursor = snd_una;
        for &(start, end) in &self.sacked {
            if start > cursor {
                out.push((cursor, start));
            }
            cursor = end;
        }
        out
    }

    /// The next hole to resend in recovery (RFC 6675 §4's NextSeg, rules
    /// 1 and 3): the first unSACKed range above HighRxt (and at or above
    /// `snd_una`) — only one judged lost when `lost_only`.
    pub fn next_hole(&self, snd_una: TcpSeqNumber, mss: usize, lost_only: bool) -> Option<Range> {
        self.holes(snd_una).into_iter().find_map(|(start, end)| {
            let start = match self.high_rxt {
                Some(high) if high >= end => return None,
                Some(high) if high > start => high,
                _ => start,
            };
            (!lost_only || self.is_lost(start, mss)).then_some((start, end))
        })
    }

    /// RFC 6675 §4's SetPipe: the bytes the sender believes are in the
    /// network between `snd_una` and `snd_max`. A byte counts once if it
    /// is neither SACKed nor judged lost, and once more if it was resent
    /// in this recovery (the copy is in flight too). During recovery the
    /// sender may send while pipe < cwnd.
    pub fn pipe(&self, snd_una: TcpSeqNumber, snd_max: TcpSeqNumber, mss: usize) -> usize {
        let mut unsacked = self.holes(snd_una);
        let highest = self.sacked.last().map_or(snd_una, |&(_, end)| end);
        if highest < snd_max {
            unsacked.push((highest, snd_max));
        }
        unsacked
            .into_iter()
            .map(|(start, end)| {
                // Within a hole the SACKed data above is the same for every
                // byte, so IsLost holds for all of it or none.
                let in_flight = if self.is_lost(start, mss) {
                    0
                } else {
                    end - start
                };
                let resent = match self.high_rxt {
                    Some(high) if high > start => (high.min(end)) - start,
                    _ => 0,
                };
                in_flight + resent
            })
            .sum()
    }

    /// Adds `[start, end)`, merging it with the ranges it touches.
    fn insert(&mut self, mut start: TcpSeqNumber, mut end: TcpSeqNumber) {
        let mut kept = Vec::with_capacity(self.sacked.len() + 1);
        for &(s, e) in &self.sacked {
            if e < start || s > end {
                kept.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        let at = kept.partition_point(|&(s, _)| s < start);
        kept.insert(at, (start, end));
        self.sacked = kept;
    }
}
// ANCHOR_END: sack_scoreboard

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 100;

    #[test]
    fn blocks_merge_are_clipped_and_leave_below_snd_una() {
        let base = TcpSeqNumber(u32::MAX - 150); // across the wrap
        let mut board = Scoreboard::new();
        let max = base + 1000;
        board.record(
            &[(base + 300, base + 400), (base + 100, base + 200)],
            base,
            max,
        );
        board.record(
            &[(base + 200, base + 250), (base + 900, base + 5000)],
            base,
            max,
        );
        assert_eq!(
            board.ranges(),
            [
                (base + 100, base + 250),
                (base + 300, base + 400),
                (base + 900, max)
            ]
        );
        assert_eq!(
            board.holes(base),
            [
                (base, base + 100),
                (base + 250, base + 300),
                (base + 400, base + 900)
            ]
        );
        board.acknowledge(base + 320);
        assert_eq!(
            board.ranges(),
            [(base + 320, base + 400), (base + 900, max)]
        );
    }

    #[test]
    fn pipe_counts_what_is_neither_sacked_nor_lost_plus_what_was_resent() {
        let una = TcpSeqNumber(0);
        let max = una + 1000;
        let mut board = Scoreboard::new();
        // Segments of 100: 0 lost, 100..400 SACKed, 400 lost? No: only
        // 500..600 is SACKed above it (100 bytes, one range), so not lost.
        board.record(&[(una + 100, una + 400), (una + 500, una + 600)], una, max);
        assert!(board.is_lost(una, MSS), "400 bytes SACKed above: > 2·SMSS");
        assert!(!board.is_lost(una + 400, MSS));
        // Hole 0..100 lost: 0. Hole 400..500 not lost: 100. Tail 600..1000: 400.
        assert_eq!(board.pipe(una, max, MSS), 500);
        assert_eq!(board.next_hole(una, MSS, true), Some((una, una + 100)));
        board.retransmitted(una + 100);
        assert_eq!(
            board.pipe(una, max, MSS),
            600,
            "the resent copy is in flight"
        );
        assert_eq!(
            board.next_hole(una, MSS, true),
            None,
            "400..500 is not lost"
        );
        assert_eq!(
            board.next_hole(una, MSS, false),
            Some((una + 400, una + 500))
        );
    }
}
