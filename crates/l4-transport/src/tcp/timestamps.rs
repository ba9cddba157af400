//! The Timestamps option (RFC 7323 §3–5): each segment carries the
//! sender's clock (TSval) and echoes the latest clock it heard from the
//! peer (TSecr). Two things come of it:
//!
//! - RTT measurement (§4): an ACK's TSecr is the TSval of the segment it
//!   answers, so `now − TSecr` is a round-trip time, retransmissions
//!   included (the echo says which copy arrived, so Karn's ambiguity is
//!   gone). It counts whole ticks of 1 ms, so like Linux we use it only
//!   for the ACKs of retransmitted data, where no precise time exists;
//!   and never as less than one tick;
//! - PAWS, Protection Against Wrapped Sequences (§5): at high speed the
//!   32-bit sequence space wraps within a segment's lifetime, and an old
//!   duplicate could land in the window. Its timestamp is older than
//!   the latest one seen (TS.Recent), so it is dropped.

use std::time::{Duration, Instant};

use crate::wire::TcpSeqNumber;

/// After this long without a TS.Recent update, TS.Recent is no longer
/// trusted (RFC 7323 §5.5): a 1 ms clock wraps its sign bit in 24.8 days,
/// so an older TS.Recent could make every new segment look old.
pub const PAWS_IDLE_LIMIT: Duration = Duration::from_secs(24 * 24 * 60 * 60);

// ANCHOR: timestamps_paws
/// One connection's timestamp state (RFC 7323 §4.3, §5.3).
#[derive(Debug, Clone)]
pub(crate) struct Timestamps {
    /// The instant our timestamp clock reads `offset`.
    origin: Instant,
    /// A per-connection starting value (RFC 7323 §7.1 recommends a random
    /// one, so that the clock does not reveal the host's uptime): we use
    /// the ISS, which RFC 6528 already made unpredictable.
    offset: u32,
    /// TS.Recent: the TSval to echo, and when it was last updated.
    recent: Option<(u32, Instant)>,
    /// Last.ACK.sent: the ACK field of the last segment we sent.
    last_ack_sent: TcpSeqNumber,
    /// The TSval of the latest (re)transmission of the segment at
    /// SND.UNA: an echo older than this is stale.
    una_sent: Option<u32>,
}

impl Timestamps {
    /// A clock that starts at `offset` at `origin`.
    pub fn new(origin: Instant, offset: u32) -> Timestamps {
        Timestamps {
            origin,
            offset,
            recent: None,
            last_ack_sent: TcpSeqNumber(0),
            una_sent: None,
        }
    }

    /// TSval at `now`: milliseconds since `origin`, plus the offset, modulo
    /// 2^32 (§5.4: a tick between 1 ms and 1 s).
    pub fn clock(&self, now: Instant) -> u32 {
        let ms = now.saturating_duration_since(self.origin).as_millis();
        self.offset.wrapping_add(ms as u32)
    }

    /// TS.Recent, the TSecr of our next segment (0 before any).
    pub fn echo(&self) -> u32 {
        self.recent.map_or(0, |(tsval, _)| tsval)
    }

    /// Our SYN's ACK field, or any later one: Last.ACK.sent (§4.3).
    pub fn note_ack_sent(&mut self, ack: TcpSeqNumber) {
        self.last_ack_sent = ack;
    }

    /// The peer's SYN carried `tsval`: TS.Recent starts there (§3.2).
    pub fn syn_received(&mut self, now: Instant, tsval: u32) {
        self.recent = Some((tsval, now));
    }

    /// PAWS (§5.3, R1): is a segment with timestamp `tsval` an old
    /// duplicate? Yes if `tsval` is older than TS.Recent (modulo 2^32,
    /// as sequence numbers compare) — unless TS.Recent itself is older
    /// than [`PAWS_IDLE_LIMIT`], in which case it proves nothing (§5.5).
    pub fn rejects(&self, now: Instant, tsval: u32) -> bool {
        match self.recent {
            Some((recent, at)) => {
                older(tsval, recent) && now.saturating_duration_since(at) <= PAWS_IDLE_LIMIT
            }
            None => false,
        }
    }

    /// R3 of §5.3 (the rule of §4.3): an acceptable segment at `seq` with
    /// `tsval` updates TS.Recent if its timestamp is not older and it
    /// starts at or before Last.ACK.sent — so TS.Recent is the timestamp
    /// of the segment our next ACK acknowledges, not of one that came
    /// early, out of order (which would make the RTT look shorter). A
    /// stale TS.Recent (§5.5) is replaced whatever its value.
    pub fn segment_accepted(&mut self, now: Instant, seq: TcpSeqNumber, tsval: u32) {
        let update = match self.recent {
            None => true,
            Some((recent, at)) => {
                now.saturating_duration_since(at) > PAWS_IDLE_LIMIT
                    || (!older(tsval, recent) && seq <= self.last_ack_sent)
            }
        };
        if update {
            self.recent = Some((tsval, now));
        }
    }

    /// A segment starting at SND.UNA left with `tsval` (a first
    /// transmission or a retransmission).
    pub fn sent_at_una(&mut self, tsval: u32) {
        self.una_sent = Some(tsval);
    }

    /// The round-trip time an ACK's TSecr gives (§4.1): our clock now
    /// minus the TSval it echoes. `None` for a zero echo (a SYN's, or a
    /// peer that does not echo), one from the future, or a stale one:
    /// older than the last transmission of the oldest data this ACK
    /// covers. The peer echoes TS.Recent, which after losses can be the
    /// timestamp of a segment from long before (§4.3 keeps it so on
    /// purpose, to err long); an ACK that answers a duplicate we sent
    /// after a timeout echoes such an old value, and a sample of many
    /// seconds would blow the RTO up for nothing.
    ///
    /// The answer is at least one tick: an echo of this very millisecond
    /// says the round trip took less than a tick, not nothing, and a zero
    /// fed to the estimator as if exact would drag SRTT and RTTVAR toward
    /// zero (RFC 7323 Appendix G counts in whole ticks; Linux's
    /// `tcp_ack_update_rtt` turns a 0 delta into 1).
    pub fn rtt(&self, now: Instant, tsecr: u32) -> Option<Duration> {
        let elapsed = self.clock(now).wrapping_sub(tsecr);
        let stale = self.una_sent.is_some_and(|sent| older(tsecr, sent));
        (tsecr != 0 && !stale && elapsed < 1 << 31)
            .then(|| Duration::from_millis(u64::from(elapsed.max(1))))
    }
}

/// `a` is before `b` on the 32-bit timestamp circle (§5.2: compared like
/// sequence numbers, by the sign of the difference).
fn older(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
// ANCHOR_END: timestamps_paws
