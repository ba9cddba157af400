//! A token bucket: at most `burst` events at once, refilled at `rate` per
//! second. A router uses one to limit the ICMP errors it sends (RFC 1812
//! §4.3.2.8): a flood of doomed packets must not become a flood of answers.

use std::time::{Duration, Instant};

/// Tokens refill continuously; each event takes one.
///
/// The credit is kept as time rather than as a fraction of a token: one
/// token is worth `1 s / rate`, and the bucket holds at most `burst` of
/// them. No floating point, no rounding drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// The time one token is worth.
    per_token: Duration,
    /// The most credit the bucket holds: `burst` tokens.
    capacity: Duration,
    /// Credit now (as of `updated_at`).
    credit: Duration,
    updated_at: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens, refilled at `rate_per_second`.
    /// A rate of zero never refills.
    pub fn new(rate_per_second: u32, burst: u32) -> TokenBucket {
        let per_token = match rate_per_second {
            0 => Duration::MAX,
            rate => Duration::from_secs(1) / rate,
        };
        let capacity = per_token.saturating_mul(burst);
        TokenBucket {
            per_token,
            capacity,
            credit: capacity,
            updated_at: None,
        }
    }

    /// Takes a token if there is one at `now`; false means "too many, drop".
    pub fn take(&mut self, now: Instant) -> bool {
        if let Some(then) = self.updated_at {
            let earned = now.saturating_duration_since(then);
            self.credit = self.credit.saturating_add(earned).min(self.capacity);
        }
        self.updated_at = Some(now);
        if self.credit >= self.per_token && self.per_token != Duration::MAX {
            self.credit -= self.per_token;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10, 10);
        let granted = (0..25).filter(|_| bucket.take(t0)).count();
        assert_eq!(granted, 10, "the burst");
        assert!(!bucket.take(t0 + Duration::from_millis(99)));
        assert!(
            bucket.take(t0 + Duration::from_millis(100)),
            "one per 100 ms"
        );
        assert!(!bucket.take(t0 + Duration::from_millis(150)));
        // A long quiet spell refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..25).filter(|_| bucket.take(later)).count(), 10);
    }

    #[test]
    fn zero_rate_or_burst_grants_nothing() {
        let t0 = Instant::now();
        assert!(!TokenBucket::new(0, 5).take(t0));
        assert!(!TokenBucket::new(5, 0).take(t0));
    }
}
