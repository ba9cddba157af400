//! The retransmission timeout (RFC 6298): how long to wait for an
//! acknowledgment before sending a segment again.
//!
//! Two pieces:
//! - [`RttEstimator`] — the smoothed round-trip time (SRTT), its variation
//!   (RTTVAR) and the timeout they give (RTO), updated from each RTT sample
//!   (RFC 6298 §2), doubled on each expiry (§5.5);
//! - [`RetransmitTimer`] — the one timer of RFC 6298 §5: when it runs, when
//!   it stops, and how many times in a row it has expired.
//!
//! Which segments may give a sample (Karn's rule, RFC 6298 §3) is the
//! connection's business: it times one segment at a time and forgets the
//! measurement when that segment is retransmitted.

use std::time::{Duration, Instant};

/// The clock granularity G of RFC 6298 §2. Our clock is [`Instant`], finer
/// than a microsecond; G only matters when RTTVAR is tiny, where it keeps
/// the timeout from collapsing onto SRTT. One millisecond is what Linux
/// uses with HZ=1000.
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

/// The RTO data transfer starts with after a SYN timed out (RFC 6298 §5.7):
/// the handshake has shown that the path is slow, or lossy, and no sample
/// tells us how slow.
pub const RTO_AFTER_SYN_TIMEOUT: Duration = Duration::from_secs(3);

/// The estimator's bounds, from [`super::TcpConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtoBounds {
    /// The RTO before any sample (RFC 6298 §2.1: 1 s).
    pub initial: Duration,
    /// The floor (RFC 6298 §2.4: 1 s; Linux uses 200 ms).
    pub min: Duration,
    /// The ceiling, for backoff too (RFC 6298 §2.5: at least 60 s).
    pub max: Duration,
}

/// What the estimator knows, for traces and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttSnapshot {
    /// The smoothed round-trip time; `None` before the first sample.
    pub srtt: Option<Duration>,
    /// The round-trip time variation (RTTVAR); zero before the first sample.
    pub rttvar: Duration,
    /// The current timeout, backoff included.
    pub rto: Duration,
}

/// SRTT, RTTVAR and RTO, per RFC 6298 §2 and §5.5.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    bounds: RtoBounds,
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
}

impl RttEstimator {
    /// An estimator with no sample yet: RTO = `bounds.initial` (§2.1).
    pub fn new(bounds: RtoBounds) -> RttEstimator {
        RttEstimator {
            bounds,
            srtt: None,
            rttvar: Duration::ZERO,
            rto: bounds.initial.clamp(bounds.min, bounds.max),
        }
    }

    /// The current retransmission timeout.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// SRTT, RTTVAR and RTO as they stand.
    pub fn snapshot(&self) -> RttSnapshot {
        RttSnapshot {
            srtt: self.srtt,
            rttvar: self.rttvar,
            rto: self.rto,
        }
    }

    // ANCHOR: rto_estimator
    /// Takes one round-trip time measurement `r` (RFC 6298 §2.2–2.4).
    ///
    /// The gains are α = 1/8 and β = 1/4, K = 4. RTTVAR is updated before
    /// SRTT because its formula uses the *old* SRTT. A fresh RTO also ends
    /// any backoff (§5.7's note: the backed-off value is kept only until a
    /// valid sample arrives, Karn's algorithm).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            // §2.2: the first measurement.
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            // §2.3: RTTVAR <- (1 - β)·RTTVAR + β·|SRTT - R'|
            //       SRTT   <- (1 - α)·SRTT   + α·R'
            Some(srtt) => {
                let deviation = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + deviation / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        // RTO <- SRTT + max(G, K·RTTVAR), then §2.4's floor and §2.5's ceiling.
        let srtt = self.srtt.unwrap_or(r);
        let rto = srtt + CLOCK_GRANULARITY.max(self.rttvar * 4);
        self.rto = rto.clamp(self.bounds.min, self.bounds.max);
    }
    // ANCHOR_END: rto_estimator

    /// The timer expired: RTO <- RTO · 2, up to the ceiling (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        self.rto = self.rto.saturating_mul(2).min(self.bounds.max);
    }

    /// RFC 6298 §5.7: the SYN timed out and no sample was taken since, so
    /// data transfer starts with the RTO re-initialized to 3 s (within the
    /// configured bounds), whatever the handshake's backoff had reached.
    pub fn after_syn_timeout(&mut self) {
        if self.srtt.is_none() {
            self.rto = RTO_AFTER_SYN_TIMEOUT.clamp(self.bounds.min, self.bounds.max);
        }
    }
}

/// The retransmission timer of RFC 6298 §5: one per connection, for the
/// oldest unacknowledged segment.
#[derive(Debug, Clone, Default)]
pub struct RetransmitTimer {
    deadline: Option<Instant>,
    /// Expiries in a row without an acknowledgment of new data.
    expiries: u32,
}

impl RetransmitTimer {
    /// When the timer fires, if it runs.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the timer runs.
    pub fn is_running(&self) -> bool {
        self.deadline.is_some()
    }

    /// Whether it has fired by `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|at| at <= now)
    }

    /// How many times in a row it fired (retransmissions of the same data).
    pub fn expiries(&self) -> u32 {
        self.expiries
    }

    /// §5.1: a segment carrying data (or SYN, or FIN) left; start the timer
    /// if it is not running.
    pub fn start_if_stopped(&mut self, now: Instant, rto: Duration) {
        if self.deadline.is_none() {
            self.deadline = Some(now + rto);
        }
    }

    /// §5.3: new data was acknowledged and some is still outstanding:
    /// restart with the current RTO. The streak of expiries ends.
    pub fn restart(&mut self, now: Instant, rto: Duration) {
        self.deadline = Some(now + rto);
        self.expiries = 0;
    }

    /// §5.2: everything is acknowledged: stop.
    pub fn stop(&mut self) {
        self.deadline = None;
        self.expiries = 0;
    }

    /// §5.4–5.6: it fired; count it and run again for the (backed-off) RTO.
    pub fn expired(&mut self, now: Instant, backed_off_rto: Duration) {
        self.expiries += 1;
        self.deadline = Some(now + backed_off_rto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn bounds(min_ms: u64) -> RtoBounds {
        RtoBounds {
            initial: Duration::from_secs(1),
            min: MS * min_ms as u32,
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn before_any_sample_the_rto_is_the_initial_one() {
        let rtt = RttEstimator::new(bounds(1000));
        assert_eq!(rtt.rto(), Duration::from_secs(1));
        assert_eq!(rtt.snapshot().srtt, None);
    }

    #[test]
    fn first_sample_sets_srtt_and_half_of_it_as_rttvar() {
        let mut rtt = RttEstimator::new(bounds(10));
        rtt.sample(MS * 100);
        let s = rtt.snapshot();
        assert_eq!(s.srtt, Some(MS * 100));
        assert_eq!(s.rttvar, MS * 50);
        // 100 + 4·50
        assert_eq!(s.rto, MS * 300);
    }

    #[test]
    fn later_samples_use_the_gains_one_eighth_and_one_quarter() {
        let mut rtt = RttEstimator::new(bounds(10));
        rtt.sample(MS * 100);
        rtt.sample(MS * 200);
        let s = rtt.snapshot();
        // RTTVAR = 3/4·50 + 1/4·|100 - 200| = 37.5 + 25 = 62.5 ms
        assert_eq!(s.rttvar, Duration::from_micros(62_500));
        // SRTT = 7/8·100 + 1/8·200 = 112.5 ms
        assert_eq!(s.srtt, Some(Duration::from_micros(112_500)));
        // RTO = 112.5 + 250 = 362.5 ms
        assert_eq!(s.rto, Duration::from_micros(362_500));
    }

    #[test]
    fn the_floor_and_the_granularity_apply() {
        let mut rtt = RttEstimator::new(bounds(1000));
        rtt.sample(MS * 100);
        assert_eq!(rtt.rto(), Duration::from_secs(1), "RFC 6298 §2.4 floor");

        let mut rtt = RttEstimator::new(bounds(0));
        for _ in 0..200 {
            rtt.sample(MS * 10);
        }
        // RTTVAR decays towards 0; G keeps RTO above SRTT.
        assert!(rtt.rto() >= MS * 10 + CLOCK_GRANULARITY);
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling_and_a_sample_ends_it() {
        let mut rtt = RttEstimator::new(bounds(1000));
        let mut seen = vec![];
        for _ in 0..8 {
            rtt.back_off();
            seen.push(rtt.rto().as_secs());
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 60, 60, 60]);
        rtt.sample(MS * 100);
        assert_eq!(rtt.rto(), Duration::from_secs(1));
    }

    #[test]
    fn a_syn_timeout_lifts_the_rto_to_three_seconds_unless_measured() {
        let mut rtt = RttEstimator::new(bounds(1000));
        rtt.back_off();
        rtt.back_off();
        rtt.after_syn_timeout();
        assert_eq!(rtt.rto(), RTO_AFTER_SYN_TIMEOUT, "4 s backed off → 3 s");
        let mut measured = RttEstimator::new(bounds(1000));
        measured.sample(MS * 100);
        measured.after_syn_timeout();
        assert_eq!(measured.rto(), Duration::from_secs(1));
    }

    #[test]
    fn the_timer_starts_once_restarts_and_counts_expiries() {
        let t0 = Instant::now();
        let mut timer = RetransmitTimer::default();
        timer.start_if_stopped(t0, Duration::from_secs(1));
        timer.start_if_stopped(t0 + MS * 500, Duration::from_secs(1));
        assert_eq!(timer.deadline(), Some(t0 + Duration::from_secs(1)));
        assert!(!timer.is_expired(t0 + MS * 999));
        assert!(timer.is_expired(t0 + MS * 1000));
        timer.expired(t0 + MS * 1000, Duration::from_secs(2));
        assert_eq!(timer.expiries(), 1);
        assert_eq!(timer.deadline(), Some(t0 + Duration::from_secs(3)));
        timer.restart(t0 + Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(timer.expiries(), 0);
        timer.stop();
        assert!(!timer.is_running());
    }
}
