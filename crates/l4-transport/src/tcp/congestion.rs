//! Congestion control (RFC 5681) with NewReno's fast recovery (RFC 6582):
//! how much a sender may have in flight so that it does not overrun the
//! network, as opposed to the receiver's window, which keeps it from
//! overrunning the peer.
//!
//! The sender keeps two numbers, in bytes:
//! - `cwnd`, the congestion window: the most data in flight;
//! - `ssthresh`, the slow-start threshold: below it cwnd grows by one MSS
//!   per ACK (doubling every round trip, "slow start"), above it by about
//!   one MSS per round trip ("congestion avoidance").
//!
//! Loss is the signal of congestion. Three duplicate ACKs say one segment
//! was lost while later ones got through: halve (fast retransmit and fast
//! recovery, RFC 5681 §3.2). A retransmission timeout says nothing got
//! through: start over from one segment (§3.1, the loss window).
//!
//! [`CongestionControl`] holds only the numbers and the rules; the
//! connection feeds it ACKs and timeouts and does the retransmitting.

use std::time::{Duration, Instant};

use super::trace::CongestionCause;
use crate::wire::TcpSeqNumber;

/// Duplicate ACKs that signal a loss (RFC 5681 §3.2: "three").
pub const DUPLICATE_ACK_THRESHOLD: u32 = 3;

/// What a duplicate ACK asks of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateAckAction {
    /// Nothing yet (the first or second duplicate, or one that may not
    /// start a recovery).
    None,
    /// The third: retransmit the segment at SND.UNA now (fast retransmit).
    FastRetransmit,
    /// In fast recovery already: cwnd grew by one MSS, new data may go.
    Inflated,
}

/// What an ACK of new data asks of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewAckAction {
    /// Nothing special: cwnd may have grown.
    None,
    /// A partial ACK in fast recovery (RFC 6582 §3.2 step 5): the segment
    /// at the new SND.UNA was lost too; retransmit it now.
    RetransmitFirst,
}

// ANCHOR: congestion_control
/// The congestion state of one connection (RFC 5681 §3, RFC 6582 §3.2).
///
/// We count in bytes, and in congestion avoidance we count bytes
/// acknowledged (Appropriate Byte Counting, RFC 3465): cwnd grows by one
/// MSS once a whole cwnd's worth of data has been acknowledged, whatever
/// the receiver's ACK habits (delayed ACKs, stretch ACKs).
#[derive(Debug, Clone)]
pub struct CongestionControl {
    mss: usize,
    cwnd: usize,
    ssthresh: usize,
    /// Duplicate ACKs in a row.
    dup_acks: u32,
    /// RFC 6582's "recover": the highest sequence number sent when the
    /// last recovery (or timeout) began. A new fast retransmit needs an
    /// ACK beyond it, so one window of losses is one halving.
    recover: TcpSeqNumber,
    /// In fast recovery until `recover` is acknowledged.
    in_recovery: bool,
    /// Bytes acknowledged toward the next congestion-avoidance increase.
    bytes_acked: usize,
    /// When data was last sent (for the restart after idle, §4.1).
    last_send: Option<Instant>,
    /// SACK is in use: recovery follows RFC 6675 (cwnd = ssthresh, the
    /// pipe estimate decides what may go) instead of NewReno's inflation.
    sack: bool,
}

impl CongestionControl {
    /// The state of a new connection whose first sequence number is `iss`
    /// and whose segments carry `mss` bytes: cwnd = the initial window,
    /// ssthresh "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(mss: usize, iss: TcpSeqNumber) -> CongestionControl {
        CongestionControl {
            mss,
            cwnd: initial_window(mss),
            ssthresh: usize::MAX,
            dup_acks: 0,
            recover: iss,
            in_recovery: false,
            bytes_acked: 0,
            last_send: None,
            sack: false,
        }
    }

    /// The congestion window in bytes.
    pub fn cwnd(&self) -> usize {
        self.cwnd
    }

    /// The slow-start threshold in bytes (`usize::MAX` before any loss).
    pub fn ssthresh(&self) -> usize {
        self.ssthresh
    }

    /// Whether a fast recovery is in progress.
    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// Duplicate ACKs in a row so far.
    pub fn duplicate_acks(&self) -> u32 {
        self.dup_acks
    }

    /// The segment size changed (the peer's MSS became known, or the path
    /// MTU fell): the initial window follows; cwnd is kept, but never
    /// below one segment.
    pub fn set_mss(&mut self, mss: usize, before_any_data: bool) {
        self.mss = mss;
        if before_any_data {
            self.cwnd = initial_window(mss);
        }
        self.cwnd = self.cwnd.max(mss);
    }

    /// Both ends agreed on SACK: recover as RFC 6675 §5 says. On the
    /// third duplicate ACK, cwnd = ssthresh (no "+3 segments": the
    /// scoreboard knows what left the network); during recovery neither
    /// duplicates nor partial ACKs change cwnd — the connection sends
    /// while its pipe estimate is below cwnd.
    pub fn use_sack_recovery(&mut self) {
        self.sack = true;
    }

    /// `acked` bytes of new data were acknowledged, up to `ack`
    /// (RFC 5681 §3.1; RFC 6582 §3.2 steps 3 and 5). Returns the action
    /// and, when cwnd or ssthresh changed, why.
    pub fn on_new_ack(
        &mut self,
        acked: usize,
        ack: TcpSeqNumber,
    ) -> (NewAckAction, Option<CongestionCause>) {
        self.dup_acks = 0;
        if self.in_recovery {
            if ack >= self.recover {
                // Full ACK: everything sent before the loss is in; deflate
                // to ssthresh ("option 1" of RFC 6582 §3.2 step 3).
                self.in_recovery = false;
                self.cwnd = self.ssthresh.max(self.mss);
                self.bytes_acked = 0;
                return (NewAckAction::None, Some(CongestionCause::RecoveryExit));
            }
            if self.sack {
                // RFC 6675: the scoreboard shows the holes; cwnd stays.
                return (NewAckAction::None, None);
            }
            // Partial ACK: the next hole is lost too. Deflate by what was
            // acknowledged, add back one MSS (step 5), and resend it.
            self.cwnd = self.cwnd.saturating_sub(acked).max(self.mss);
            if acked >= self.mss {
                self.cwnd += self.mss;
            }
            return (
                NewAckAction::RetransmitFirst,
                Some(CongestionCause::PartialAck),
            );
        }
        if self.cwnd < self.ssthresh {
            // Slow start: cwnd += min(N, SMSS) (RFC 5681 equation 2).
            self.cwnd += acked.min(self.mss);
            return (NewAckAction::None, Some(CongestionCause::SlowStart));
        }
        // Congestion avoidance: one MSS per cwnd of bytes acknowledged.
        self.bytes_acked += acked;
        if self.bytes_acked >= self.cwnd {
            self.bytes_acked -= self.cwnd;
            self.cwnd += self.mss;
            return (
                NewAckAction::None,
                Some(CongestionCause::CongestionAvoidance),
            );
        }
        (NewAckAction::None, None)
    }

    /// A duplicate ACK arrived (RFC 5681 §2's definition, checked by the
    /// caller) with `flight` bytes outstanding, `snd_una` the ACK repeated
    /// and `snd_max` the highest sequence number sent.
    pub fn on_duplicate_ack(
        &mut self,
        flight: usize,
        snd_una: TcpSeqNumber,
        snd_max: TcpSeqNumber,
    ) -> (DuplicateAckAction, Option<CongestionCause>) {
        self.dup_acks = self.dup_acks.saturating_add(1);
        if self.in_recovery && self.sack {
            // RFC 6675: the SACK blocks of this ACK lowered the pipe.
            return (DuplicateAckAction::None, None);
        }
        if self.in_recovery {
            // Each duplicate means a segment left the network: inflate.
            self.cwnd += self.mss;
            return (
                DuplicateAckAction::Inflated,
                Some(CongestionCause::RecoveryInflate),
            );
        }
        // RFC 6582 §3.2 step 2: only if the ACK covers more than
        // `recover`; else these duplicates may come from the previous
        // recovery's retransmissions, and halving again would punish one
        // loss event twice.
        if self.dup_acks != DUPLICATE_ACK_THRESHOLD || snd_una < self.recover {
            return (DuplicateAckAction::None, None);
        }
        self.ssthresh = self.halved(flight);
        self.recover = snd_max;
        self.in_recovery = true;
        // NewReno: three segments left the network, cwnd = ssthresh +
        // 3·SMSS. With SACK the pipe estimate counts them instead.
        self.cwnd = if self.sack {
            self.ssthresh
        } else {
            self.ssthresh + 3 * self.mss
        };
        (
            DuplicateAckAction::FastRetransmit,
            Some(CongestionCause::FastRetransmit),
        )
    }

    /// The retransmission timer fired with `flight` bytes outstanding
    /// (RFC 5681 §3.1, equations 4 and 1): ssthresh = max(flight/2,
    /// 2·SMSS) — on the first expiry only, later expiries keep it (so
    /// repeated timeouts do not drive it to the floor) — and cwnd = one
    /// segment. `snd_max` becomes RFC 6582's `recover`.
    pub fn on_timeout(&mut self, flight: usize, first_expiry: bool, snd_max: TcpSeqNumber) {
        if first_expiry {
            self.ssthresh = self.halved(flight);
        }
        self.cwnd = self.mss;
        self.dup_acks = 0;
        self.in_recovery = false;
        self.bytes_acked = 0;
        self.recover = snd_max;
    }

    /// New data is about to go at `now` with nothing in flight. After an
    /// idle period longer than `rto`, cwnd falls back to the restart
    /// window, min(initial window, cwnd) (RFC 5681 §4.1): the ACK clock
    /// stopped, and a full window sent at once could swamp a queue.
    /// Returns whether cwnd changed.
    pub fn restart_if_idle(&mut self, now: Instant, rto: Duration) -> bool {
        let idle = self
            .last_send
            .is_some_and(|last| now.saturating_duration_since(last) > rto);
        let restart = initial_window(self.mss);
        if idle && self.cwnd > restart {
            self.cwnd = restart;
            return true;
        }
        false
    }

    /// A segment with sequence space left at `now` (for the idle test).
    pub fn note_send(&mut self, now: Instant) {
        self.last_send = Some(now);
    }

    /// max(flight / 2, 2·SMSS) (RFC 5681 equation 4).
    fn halved(&self, flight: usize) -> usize {
        (flight / 2).max(2 * self.mss)
    }
}

/// The initial window (RFC 5681 §3.1): 2, 3 or 4 segments, fewer for
/// larger segments, never more than 4380 bytes for mid-size ones.
pub fn initial_window(mss: usize) -> usize {
    if mss > 2190 {
        2 * mss
    } else if mss > 1095 {
        3 * mss
    } else {
        4 * mss
    }
}
// ANCHOR_END: congestion_control

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1000;

    #[test]
    fn slow_start_then_avoidance_then_halving() {
        let iss = TcpSeqNumber(0);
        let mut cc = CongestionControl::new(MSS, iss);
        assert_eq!(cc.cwnd(), 4 * MSS, "RFC 5681: 4 segments at MSS 1000");
        cc.on_new_ack(MSS, iss + 1000);
        assert_eq!(cc.cwnd(), 5 * MSS);
        // A 3000-byte stretch ACK grows slow start by one MSS only.
        cc.on_new_ack(3 * MSS, iss + 4000);
        assert_eq!(cc.cwnd(), 6 * MSS);
        cc.on_timeout(6 * MSS, true, iss + 10_000);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (MSS, 3 * MSS));
        cc.on_new_ack(MSS, iss + 11_000);
        cc.on_new_ack(MSS, iss + 12_000);
        assert_eq!(cc.cwnd(), 3 * MSS, "slow start up to ssthresh");
        cc.on_new_ack(MSS, iss + 13_000);
        cc.on_new_ack(MSS, iss + 14_000);
        assert_eq!(cc.cwnd(), 3 * MSS, "avoidance: not yet a cwnd acked");
        cc.on_new_ack(MSS, iss + 15_000);
        assert_eq!(cc.cwnd(), 4 * MSS, "a whole cwnd acked: one MSS more");
    }

    #[test]
    fn the_third_duplicate_starts_one_recovery() {
        let iss = TcpSeqNumber(0);
        let mut cc = CongestionControl::new(MSS, iss);
        let una = iss + 1;
        let max = iss + 8001;
        for _ in 0..2 {
            assert_eq!(
                cc.on_duplicate_ack(8000, una, max).0,
                DuplicateAckAction::None
            );
        }
        assert_eq!(
            cc.on_duplicate_ack(8000, una, max).0,
            DuplicateAckAction::FastRetransmit
        );
        assert_eq!((cc.ssthresh(), cc.cwnd()), (4000, 7000));
        assert_eq!(
            cc.on_duplicate_ack(8000, una, max).0,
            DuplicateAckAction::Inflated
        );
        assert_eq!(cc.cwnd(), 8000);
        // Partial ACK: deflate by 2000, add one MSS back.
        let (action, _) = cc.on_new_ack(2000, una + 2000);
        assert_eq!(action, NewAckAction::RetransmitFirst);
        assert_eq!(cc.cwnd(), 7000);
        let (action, cause) = cc.on_new_ack(6000, max);
        assert_eq!(action, NewAckAction::None);
        assert_eq!(cause, Some(CongestionCause::RecoveryExit));
        assert_eq!(cc.cwnd(), 4000, "deflated to ssthresh");
    }
}
