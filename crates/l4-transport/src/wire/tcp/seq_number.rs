//! Sequence numbers: 32-bit counters that wrap (RFC 9293 §3.4).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

// ANCHOR: tcp_seq_number
/// A TCP sequence (or acknowledgment) number: a position in the byte stream,
/// counted modulo 2^32 (RFC 9293 §3.4, "Sequence Numbers").
///
/// The counter starts at a random-looking initial sequence number and
/// wraps from 4294967295 to 0 — at 10 Gbit/s, every 3.4 seconds. So
/// numbers are compared the way RFC 1982 ("Serial Number Arithmetic")
/// says: `a < b` when `b` is less than 2^31 *ahead* of `a` going forward
/// around the circle, that is when `b - a`, taken as a signed 32-bit
/// number, is positive. Near the wrap 4294967295 < 5, because 5 is six
/// steps ahead.
///
/// This is a partial order: two numbers exactly 2^31 apart are neither
/// less nor greater than each other (`partial_cmp` is `None`), and it is
/// not transitive across more than half the circle. TCP never needs more:
/// a window is at most 2^30 bytes (RFC 7323 §2.3) so everything it compares
/// lies well within half the circle.
///
/// Arithmetic wraps too: `seq + n` and `seq - n` move `n` bytes
/// forward or back (modulo 2^32), and `b - a` is how many bytes `b` lies
/// ahead of `a`, going forward.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpSeqNumber(pub u32);

impl PartialOrd for TcpSeqNumber {
    /// Compares modulo 2^32: `self` is greater when it lies less than
    /// 2^31 ahead of `other`; `None` when exactly 2^31 apart.
    fn partial_cmp(&self, other: &TcpSeqNumber) -> Option<Ordering> {
        // How far self lies ahead of other, as a signed distance.
        let ahead = self.0.wrapping_sub(other.0) as i32;
        match ahead {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            1.. => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}
// ANCHOR_END: tcp_seq_number

impl Add<usize> for TcpSeqNumber {
    type Output = TcpSeqNumber;

    /// `n` bytes further on, modulo 2^32 (an `n` of 2^32 or more wraps
    /// around whole circles: it is taken modulo 2^32 too).
    fn add(self, n: usize) -> TcpSeqNumber {
        TcpSeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl Sub<usize> for TcpSeqNumber {
    type Output = TcpSeqNumber;

    /// `n` bytes back, modulo 2^32.
    fn sub(self, n: usize) -> TcpSeqNumber {
        TcpSeqNumber(self.0.wrapping_sub(n as u32))
    }
}

impl Sub<TcpSeqNumber> for TcpSeqNumber {
    type Output = usize;

    /// How many bytes `self` lies ahead of `earlier`, going forward around
    /// the circle: `(a + n) - a == n` for any `n` below 2^32. Never
    /// negative and never panics: if `self` is in fact *behind* `earlier`
    /// by `k` bytes, the answer is 2^32 − k. Compare first (`a >= b`) when
    /// that matters.
    fn sub(self, earlier: TcpSeqNumber) -> usize {
        self.0.wrapping_sub(earlier.0) as usize
    }
}

impl AddAssign<usize> for TcpSeqNumber {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

impl SubAssign<usize> for TcpSeqNumber {
    fn sub_assign(&mut self, n: usize) {
        *self = *self - n;
    }
}

impl TcpSeqNumber {
    /// The later of the two (modulo 2^32); `self` when they are equal or
    /// exactly 2^31 apart.
    pub fn max(self, other: TcpSeqNumber) -> TcpSeqNumber {
        if other > self { other } else { self }
    }

    /// The earlier of the two (modulo 2^32); `self` when they are equal or
    /// exactly 2^31 apart.
    pub fn min(self, other: TcpSeqNumber) -> TcpSeqNumber {
        if other < self { other } else { self }
    }
}

impl From<u32> for TcpSeqNumber {
    fn from(value: u32) -> Self {
        TcpSeqNumber(value)
    }
}

impl From<TcpSeqNumber> for u32 {
    fn from(value: TcpSeqNumber) -> Self {
        value.0
    }
}

impl fmt::Display for TcpSeqNumber {
    /// The number, as tcpdump shows absolute sequence numbers (`-S`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for TcpSeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpSeqNumber({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: TcpSeqNumber = TcpSeqNumber(u32::MAX);

    #[test]
    fn wraps_around() {
        assert_eq!(TOP + 1, TcpSeqNumber(0));
        assert_eq!(TOP + 6, TcpSeqNumber(5));
        assert_eq!(TcpSeqNumber(5) - 6usize, TOP);
        assert_eq!(TcpSeqNumber(5) - TOP, 6);
        let mut seq = TOP;
        seq += 2;
        assert_eq!(seq, TcpSeqNumber(1));
        seq -= 2;
        assert_eq!(seq, TOP);
    }

    #[test]
    fn compares_modulo_2_pow_32() {
        assert!(TOP < TcpSeqNumber(5));
        assert!(TcpSeqNumber(5) > TOP);
        assert!(TcpSeqNumber(1000) < TcpSeqNumber(2000));
        // 2^31 − 1 ahead: still greater. 2^31 + 1 ahead: behind.
        assert!(TcpSeqNumber(0x7fff_ffff) > TcpSeqNumber(0));
        assert!(TcpSeqNumber(0x8000_0001) < TcpSeqNumber(0));
    }

    #[test]
    fn half_way_round_is_unordered() {
        let (a, b) = (TcpSeqNumber(0), TcpSeqNumber(0x8000_0000));
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!(b.partial_cmp(&a), None);
        // Neither is less, and they are not equal.
        assert!(!a.lt(&b) && !b.lt(&a) && a != b);
        assert_eq!(a.max(b), a);
        assert_eq!(b.min(a), b);
    }

    #[test]
    fn max_and_min_across_the_wrap() {
        assert_eq!(TOP.max(TcpSeqNumber(3)), TcpSeqNumber(3));
        assert_eq!(TcpSeqNumber(3).min(TOP), TOP);
    }

    #[test]
    fn distance_behind_is_the_way_round() {
        assert_eq!(TcpSeqNumber(10) - TcpSeqNumber(11), u32::MAX as usize);
    }
}
