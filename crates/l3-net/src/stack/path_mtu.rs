//! The path MTU cache (RFC 1191): the largest datagram that crosses the
//! whole path to a destination without being fragmented, learned from the
//! routers that say "fragmentation needed" (ICMP type 3 code 4).
//!
//! A host starts by assuming the path MTU is its own link's MTU and sends
//! with DF set. A router whose next link is narrower drops the datagram and
//! answers with the next hop's MTU; the host lowers its estimate for that
//! destination and sends smaller datagrams. Routes change, so an estimate
//! is forgotten after ten minutes (RFC 1191 §6.3) and the host tries the
//! large size again. TCP (layer 4) reads the estimate to size its segments.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// The smallest MTU every IPv4 link must carry (RFC 791: 68 octets, a
/// 60-byte header and 8 bytes of data). No estimate goes below it.
pub const MIN_MTU: u16 = 68;

// ANCHOR: plateaus
/// RFC 1191 §7's table of common MTUs ("plateaus"), for routers that
/// predate RFC 1191 and report a next-hop MTU of zero: the host then
/// guesses the next plateau below the size that failed.
pub const PLATEAUS: [u16; 11] = [
    65535, // official maximum (RFC 791)
    32000, // just in case
    17914, // 16 Mb IBM token ring
    8166,  // IEEE 802.4
    4352,  // FDDI
    2002,  // IEEE 802.5 (4 Mb recommended)
    1492,  // IEEE 802.3
    1006,  // SLIP, ARPANET
    508,   // IEEE 802/Source-Route Bridge, ARCNET
    296,   // point-to-point (low delay)
    68,    // official minimum (RFC 791)
];
// ANCHOR_END: plateaus

/// The largest plateau strictly smaller than `failed_size`, never below
/// [`MIN_MTU`].
pub fn plateau_below(failed_size: u16) -> u16 {
    PLATEAUS
        .iter()
        .copied()
        .find(|&plateau| plateau < failed_size)
        .unwrap_or(MIN_MTU)
}

/// The cache's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathMtuConfig {
    /// Destinations remembered; a new one evicts the oldest estimate.
    /// Default 256.
    pub capacity: usize,
    /// How long a lowered estimate holds before the cache forgets it and
    /// the sender tries its link MTU again (RFC 1191 §6.3 recommends
    /// 10 minutes). Default 10 min.
    pub aging: Duration,
}

impl Default for PathMtuConfig {
    fn default() -> Self {
        PathMtuConfig {
            capacity: 256,
            aging: Duration::from_secs(10 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Estimate {
    mtu: u16,
    lowered_at: Instant,
}

/// Path MTU estimates per destination, lowered by ICMP "fragmentation
/// needed" and aged back up.
#[derive(Debug, Clone)]
pub struct PathMtuCache {
    config: PathMtuConfig,
    estimates: HashMap<Ipv4Addr, Estimate>,
}

impl PathMtuCache {
    /// An empty cache: every path is assumed as wide as the first link.
    pub fn new(config: PathMtuConfig) -> PathMtuCache {
        PathMtuCache {
            config,
            estimates: HashMap::new(),
        }
    }

    /// The estimate for `destination`, if one was learned and has not aged
    /// out; `None` means "use the link MTU".
    pub fn get(&self, now: Instant, destination: Ipv4Addr) -> Option<u16> {
        let estimate = self.estimates.get(&destination)?;
        (now < estimate.lowered_at + self.config.aging).then_some(estimate.mtu)
    }

    /// The MTU to send to `destination` with: the estimate, or `link_mtu`.
    pub fn effective(&self, now: Instant, destination: Ipv4Addr, link_mtu: usize) -> usize {
        match self.get(now, destination) {
            Some(mtu) => link_mtu.min(usize::from(mtu)),
            None => link_mtu,
        }
    }

    // ANCHOR: frag_needed
    /// A router said a datagram to `destination` of `failed_size` bytes
    /// (the quoted header's total length) needed fragmentation, and that
    /// its next hop carries `next_hop_mtu` (0 from a pre-RFC 1191 router).
    /// Returns the new estimate if this lowered it.
    ///
    /// RFC 1191 §3: the estimate only ever goes down on such a message
    /// (an increase would be a lie or a stale route), and never below 68.
    pub fn frag_needed(
        &mut self,
        now: Instant,
        destination: Ipv4Addr,
        next_hop_mtu: u16,
        failed_size: u16,
    ) -> Option<u16> {
        // A reported MTU of zero, or one the failed datagram would have fit
        // in, tells us nothing: guess the next plateau down (RFC 1191 §5).
        let reported = if next_hop_mtu == 0 || next_hop_mtu >= failed_size {
            plateau_below(failed_size)
        } else {
            next_hop_mtu
        };
        let mtu = reported.max(MIN_MTU);
        if self
            .get(now, destination)
            .is_some_and(|current| current <= mtu)
        {
            return None;
        }
        if !self.estimates.contains_key(&destination)
            && self.estimates.len() >= self.config.capacity
        {
            self.evict_oldest();
        }
        self.estimates.insert(
            destination,
            Estimate {
                mtu,
                lowered_at: now,
            },
        );
        Some(mtu)
    }
    // ANCHOR_END: frag_needed

    /// Forgets estimates older than [`PathMtuConfig::aging`] (they are
    /// ignored anyway; this returns their memory).
    pub fn poll(&mut self, now: Instant) {
        let aging = self.config.aging;
        self.estimates
            .retain(|_, estimate| now < estimate.lowered_at + aging);
    }

    /// Destinations with a current estimate.
    pub fn len(&self) -> usize {
        self.estimates.len()
    }

    /// True when no estimate is held.
    pub fn is_empty(&self) -> bool {
        self.estimates.is_empty()
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .estimates
            .iter()
            .min_by_key(|(ip, estimate)| (estimate.lowered_at, **ip))
            .map(|(&ip, _)| ip);
        if let Some(ip) = oldest {
            self.estimates.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BETA: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);

    #[test]
    fn plateaus_step_down() {
        assert_eq!(plateau_below(1500), 1492);
        assert_eq!(plateau_below(1492), 1006);
        assert_eq!(plateau_below(69), 68);
        assert_eq!(plateau_below(68), MIN_MTU);
        assert_eq!(plateau_below(0), MIN_MTU);
    }

    #[test]
    fn lowered_by_frag_needed_never_raised_and_aged_out() {
        let t0 = Instant::now();
        let mut pmtu = PathMtuCache::new(PathMtuConfig::default());
        assert_eq!(pmtu.effective(t0, BETA, 1500), 1500);
        assert_eq!(pmtu.frag_needed(t0, BETA, 1280, 1400), Some(1280));
        assert_eq!(pmtu.effective(t0, BETA, 1500), 1280);
        assert_eq!(pmtu.frag_needed(t0, BETA, 1400, 1500), None, "never up");
        assert_eq!(pmtu.frag_needed(t0, BETA, 20, 1280), Some(MIN_MTU));
        let later = t0 + Duration::from_secs(600);
        assert_eq!(pmtu.get(later - Duration::from_secs(1), BETA), Some(68));
        assert_eq!(pmtu.get(later, BETA), None);
        pmtu.poll(later);
        assert!(pmtu.is_empty());
    }

    #[test]
    fn a_zero_mtu_from_an_old_router_means_the_next_plateau() {
        let t0 = Instant::now();
        let mut pmtu = PathMtuCache::new(PathMtuConfig::default());
        assert_eq!(pmtu.frag_needed(t0, BETA, 0, 1500), Some(1492));
        assert_eq!(pmtu.frag_needed(t0, BETA, 0, 1492), Some(1006));
    }

    #[test]
    fn bounded() {
        let t0 = Instant::now();
        let mut pmtu = PathMtuCache::new(PathMtuConfig {
            capacity: 2,
            ..PathMtuConfig::default()
        });
        for (i, host) in [1u8, 2, 3].into_iter().enumerate() {
            let at = t0 + Duration::from_secs(i as u64);
            pmtu.frag_needed(at, Ipv4Addr::new(198, 18, 1, host), 1280, 1500);
        }
        assert_eq!(pmtu.len(), 2);
        assert_eq!(pmtu.get(t0, Ipv4Addr::new(198, 18, 1, 1)), None);
    }
}
