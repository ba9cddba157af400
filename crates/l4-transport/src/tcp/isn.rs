//! Initial sequence numbers that an off-path attacker cannot guess
//! (RFC 6528, which RFC 9293 §3.4.1 requires).
//!
//! ```text
//! ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//! ```
//!
//! M is a timer ticking every 4 µs, so that successive connections between
//! the same two endpoints get increasing ISNs (an old duplicate segment of
//! the previous incarnation stays below the new one's window, RFC 9293
//! §3.4.1). F is a keyed hash of the connection's four-tuple: another
//! four-tuple gives an unrelated offset, so watching one's own connections
//! tells nothing about anyone else's.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddrV4;
use std::time::Instant;

use super::Endpoint;
use crate::wire::TcpSeqNumber;

// ANCHOR: isn_generator
/// RFC 6528's ISN generator, with the secret key and the clock's origin
/// given by the caller, so a test can make the numbers reproducible.
#[derive(Debug, Clone)]
pub struct IsnGenerator {
    key: [u8; 16],
    origin: Instant,
}

impl IsnGenerator {
    /// A generator with this secret `key` whose 4 µs timer M counts from
    /// `origin`.
    pub fn new(key: [u8; 16], origin: Instant) -> IsnGenerator {
        IsnGenerator { key, origin }
    }

    /// A generator with a key that nobody outside this process knows: 128
    /// bits from std's per-process random hash seed (`RandomState`, seeded
    /// by the operating system). The one place that touches the OS, and
    /// only when the caller asks.
    pub fn with_random_key(origin: Instant) -> IsnGenerator {
        let state = std::collections::hash_map::RandomState::new();
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&state.hash_one(0u8).to_le_bytes());
        key[8..].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        IsnGenerator::new(key, origin)
    }

    /// The ISN for a connection from `local` to `remote` opened at `now`.
    pub fn isn(&self, now: Instant, local: Endpoint, remote: Endpoint) -> TcpSeqNumber {
        // M: microseconds / 4 since the origin, modulo 2^32 (it wraps every
        // 4.77 hours, as RFC 6528 §3's timer does).
        let ticks = now.saturating_duration_since(self.origin).as_micros() / 4;
        let m = ticks as u32; // keeps the low 32 bits: the timer wraps.
        TcpSeqNumber::from(m.wrapping_add(self.offset(local, remote)))
    }

    /// F: a keyed hash of the four-tuple. RFC 6528 suggests MD5 over the
    /// tuple and the secret; we use std's `DefaultHasher` (SipHash-1-3)
    /// with the secret key as the first input: SipHash is built to be a
    /// keyed function, but std lets one set its key only through
    /// `RandomState`, so the key goes in as data, as in RFC 6528's MD5
    /// example. std does not promise the same output across Rust
    /// versions; a running stack only needs it stable within one build.
    fn offset(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        hasher.write(&self.key);
        hasher.write(&local.ip().octets());
        hasher.write(&local.port().to_be_bytes());
        hasher.write(&remote.ip().octets());
        hasher.write(&remote.port().to_be_bytes());
        let hash = hasher.finish();
        // Fold the 64 bits into 32, keeping every bit's influence.
        (hash ^ (hash >> 32)) as u32
    }
}
// ANCHOR_END: isn_generator

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn ep(last: u8, port: u16) -> Endpoint {
        SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, last), port)
    }

    fn raw(seq: TcpSeqNumber) -> u32 {
        u32::from(seq)
    }

    #[test]
    fn same_key_same_tuple_same_time_same_isn() {
        let t0 = Instant::now();
        let a = IsnGenerator::new([7; 16], t0);
        let b = IsnGenerator::new([7; 16], t0);
        assert_eq!(
            a.isn(t0, ep(2, 40000), ep(1, 7)),
            b.isn(t0, ep(2, 40000), ep(1, 7))
        );
    }

    #[test]
    fn m_advances_one_per_four_microseconds() {
        let t0 = Instant::now();
        let isn = IsnGenerator::new([7; 16], t0);
        let first = raw(isn.isn(t0, ep(2, 40000), ep(1, 7)));
        let later = raw(isn.isn(t0 + Duration::from_millis(1), ep(2, 40000), ep(1, 7)));
        assert_eq!(later.wrapping_sub(first), 250);
    }

    #[test]
    fn another_tuple_or_key_gives_an_unrelated_isn() {
        let t0 = Instant::now();
        let isn = IsnGenerator::new([7; 16], t0);
        let base = raw(isn.isn(t0, ep(2, 40000), ep(1, 7)));
        let other_port = raw(isn.isn(t0, ep(2, 40001), ep(1, 7)));
        let other_key = raw(IsnGenerator::new([8; 16], t0).isn(t0, ep(2, 40000), ep(1, 7)));
        // Not a small step apart: the offsets are hashed, not counted.
        assert!(
            base.wrapping_sub(other_port)
                .min(other_port.wrapping_sub(base))
                > 1 << 16
        );
        assert!(
            base.wrapping_sub(other_key)
                .min(other_key.wrapping_sub(base))
                > 1 << 16
        );
    }

    #[test]
    fn random_keys_differ() {
        let t0 = Instant::now();
        let a = IsnGenerator::with_random_key(t0).isn(t0, ep(2, 40000), ep(1, 7));
        let b = IsnGenerator::with_random_key(t0).isn(t0, ep(2, 40000), ep(1, 7));
        assert_ne!(a, b);
    }
}
