//! The ARP cache: which MAC address answers for which neighbour's IPv4
//! address (RFC 826), with the timers and bounds of RFC 1122 §2.3.2.
//!
//! An entry is in one of three states:
//!
//! ```text
//!   (none) --packet to send--> Resolving --reply--> Resolved --60 s--> (none)
//!                               |  ^  request            ^ learn
//!                               |  +--every 1 s, 3 times |
//!                               +--no reply after 3----> Failed --3 s--> (none)
//! ```
//!
//! The cache never sends anything itself (sans-IO): it tells its owner,
//! through return values, when to broadcast a request and which waiting
//! packets may now go out or were given up on. Its queue holds anything
//! (`P`): the interface keeps whole IPv4 datagrams in it.

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use l2_link::wire::MacAddr;

// ANCHOR: arp_config
/// The cache's limits and timers, all explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConfig {
    /// Most entries held at once; a new address evicts the entry that was
    /// updated longest ago (an address still being resolved is never
    /// evicted: its queued packets would vanish silently). Default 256.
    pub capacity: usize,
    /// How long a learned MAC address is believed without hearing from
    /// the neighbour again (RFC 1122 §2.3.2.1 asks for a timeout; Linux keeps
    /// an entry usable for 30–60 s). Default 60 s.
    pub lifetime: Duration,
    /// Time between requests for the same address: RFC 1122 §2.3.2.1
    /// recommends at most one a second, to prevent ARP flooding.
    /// Default 1 s.
    pub retry_interval: Duration,
    /// Requests sent before giving up on an address. Default 3 (Linux's
    /// `mcast_solicit`).
    pub max_requests: u32,
    /// Packets waiting per unresolved address. When full, the oldest is
    /// dropped, so the latest is always kept (RFC 1122 §2.3.2.2 asks for at
    /// least one). Default 4.
    pub queue_len: usize,
    /// How long an address that did not answer stays "failed": packets to it
    /// are dropped at once instead of starting another round of requests.
    /// Default 3 s.
    pub failed_hold: Duration,
}
// ANCHOR_END: arp_config

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            capacity: 256,
            lifetime: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            max_requests: 3,
            queue_len: 4,
            failed_hold: Duration::from_secs(3),
        }
    }
}

/// What became of a packet handed to [`ArpCache::resolve`].
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<P> {
    /// The neighbour's MAC address is known: send the packet to it now.
    Send(MacAddr, P),
    /// The packet waits for an answer.
    Queued {
        /// Broadcast an ARP request now: this packet started a new
        /// resolution. (Later packets join the queue quietly; the retries
        /// come from [`ArpCache::poll`].)
        send_request: bool,
        /// The oldest waiting packet, pushed out of a full queue.
        dropped: Option<P>,
    },
    /// The address did not answer recently (it is "failed"): dropped.
    Unreachable(P),
    /// Every entry is busy resolving another address: dropped.
    CacheFull(P),
}

/// Something the cache's timers want done, from [`ArpCache::poll`].
#[derive(Debug, PartialEq, Eq)]
pub enum ArpTimeout<P> {
    /// Broadcast another request for `ip`; `attempt` counts from 1.
    Retry {
        /// The address still being resolved.
        ip: Ipv4Addr,
        /// Which request this is (2 for the first retry).
        attempt: u32,
    },
    /// Nobody answered for `ip`: the address is now failed and its waiting
    /// packets are dropped (returned here so the owner can report them, or,
    /// as a router, answer "host unreachable").
    GaveUp {
        /// The address that did not answer.
        ip: Ipv4Addr,
        /// The packets that were waiting for it.
        dropped: Vec<P>,
    },
}

/// One neighbour's state.
#[derive(Debug)]
enum State<P> {
    Resolved {
        mac: MacAddr,
        expires_at: Instant,
    },
    Resolving {
        requests_sent: u32,
        next_request_at: Instant,
        queue: VecDeque<P>,
    },
    Failed {
        until: Instant,
    },
}

#[derive(Debug)]
struct Entry<P> {
    state: State<P>,
    /// When the entry last changed: the eviction order.
    updated_at: Instant,
}

/// A bounded ARP cache with a bounded queue of packets per unresolved
/// address. See the [module documentation](self) for the states.
#[derive(Debug)]
pub struct ArpCache<P> {
    config: ArpConfig,
    entries: HashMap<Ipv4Addr, Entry<P>>,
}

impl<P> ArpCache<P> {
    /// An empty cache with these limits.
    pub fn new(config: ArpConfig) -> ArpCache<P> {
        ArpCache {
            config,
            entries: HashMap::new(),
        }
    }

    /// The limits this cache was made with.
    pub fn config(&self) -> &ArpConfig {
        &self.config
    }

    /// The MAC address of `ip`, if it is known and has not expired.
    pub fn mac(&self, now: Instant, ip: Ipv4Addr) -> Option<MacAddr> {
        match self.entries.get(&ip)?.state {
            State::Resolved { mac, expires_at } if now < expires_at => Some(mac),
            _ => None,
        }
    }

    /// Entries held, in every state (expired ones until the next
    /// [`poll`](Self::poll) sweeps them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Packets waiting for `ip` to be resolved.
    pub fn queued(&self, ip: Ipv4Addr) -> usize {
        match self.entries.get(&ip) {
            Some(Entry {
                state: State::Resolving { queue, .. },
                ..
            }) => queue.len(),
            _ => 0,
        }
    }

    // ANCHOR: arp_resolve
    /// Wants to send `packet` to the neighbour `ip`: either its MAC is known,
    /// or the packet waits (and the caller may have to broadcast a request).
    pub fn resolve(&mut self, now: Instant, ip: Ipv4Addr, packet: P) -> Resolution<P> {
        let queue_len = self.config.queue_len.max(1);
        match self.entries.get_mut(&ip).map(|entry| &mut entry.state) {
            Some(State::Resolved { mac, expires_at }) if now < *expires_at => {
                return Resolution::Send(*mac, packet);
            }
            Some(State::Failed { until }) if now < *until => {
                return Resolution::Unreachable(packet);
            }
            Some(State::Resolving { queue, .. }) => {
                // Keep the newest: a dropped old packet is the one most
                // likely to have been retransmitted already.
                let dropped = if queue.len() >= queue_len {
                    queue.pop_front()
                } else {
                    None
                };
                queue.push_back(packet);
                return Resolution::Queued {
                    send_request: false,
                    dropped,
                };
            }
            // Expired, or a failure that is over: start again below.
            Some(_) => {}
            None => {
                if self.entries.len() >= self.config.capacity && !self.evict_one() {
                    return Resolution::CacheFull(packet);
                }
            }
        }
        let entry = Entry {
            state: State::Resolving {
                requests_sent: 1,
                next_request_at: now + self.config.retry_interval,
                queue: VecDeque::from([packet]),
            },
            updated_at: now,
        };
        self.entries.insert(ip, entry);
        Resolution::Queued {
            send_request: true,
            dropped: None,
        }
    }
    // ANCHOR_END: arp_resolve

    // ANCHOR: arp_learn
    /// Takes note that `ip` is at `mac`, as RFC 826's "merge" rule says: an
    /// address already in the cache is always updated (the neighbour may
    /// have a new card), but a new entry is made only when `may_create` —
    /// when the packet was addressed to us, so we are about to talk to the
    /// sender anyway. Returns `None` if nothing was stored, otherwise the
    /// packets that were waiting for this address, ready to go to `mac`.
    pub fn learn(
        &mut self,
        now: Instant,
        ip: Ipv4Addr,
        mac: MacAddr,
        may_create: bool,
    ) -> Option<Vec<P>> {
        if !self.entries.contains_key(&ip)
            && (!may_create || (self.entries.len() >= self.config.capacity && !self.evict_one()))
        {
            return None;
        }
        let resolved = Entry {
            state: State::Resolved {
                mac,
                expires_at: now + self.config.lifetime,
            },
            updated_at: now,
        };
        let waiting = match self.entries.insert(ip, resolved) {
            Some(Entry {
                state: State::Resolving { queue, .. },
                ..
            }) => queue.into_iter().collect(),
            _ => Vec::new(),
        };
        Some(waiting)
    }
    // ANCHOR_END: arp_learn

    // ANCHOR: arp_poll
    /// Runs the timers: retries for addresses still unanswered, giving up
    /// after [`ArpConfig::max_requests`], and sweeping expired entries.
    pub fn poll(&mut self, now: Instant) -> Vec<ArpTimeout<P>> {
        let mut due = Vec::new();
        let config = self.config;
        self.entries.retain(|&ip, entry| match &mut entry.state {
            State::Resolved { expires_at, .. } => now < *expires_at,
            State::Failed { until } => now < *until,
            State::Resolving {
                next_request_at, ..
            } if now < *next_request_at => true,
            State::Resolving {
                requests_sent,
                next_request_at,
                queue,
            } => {
                if *requests_sent < config.max_requests {
                    *requests_sent += 1;
                    *next_request_at = now + config.retry_interval;
                    due.push(ArpTimeout::Retry {
                        ip,
                        attempt: *requests_sent,
                    });
                } else {
                    let dropped = queue.drain(..).collect();
                    due.push(ArpTimeout::GaveUp { ip, dropped });
                    entry.state = State::Failed {
                        until: now + config.failed_hold,
                    };
                    entry.updated_at = now;
                }
                true
            }
        });
        // HashMap order is arbitrary; report in address order so a log (and
        // a test) reads the same every run.
        due.sort_by_key(|timeout| match timeout {
            ArpTimeout::Retry { ip, .. } | ArpTimeout::GaveUp { ip, .. } => *ip,
        });
        due
    }
    // ANCHOR_END: arp_poll

    /// When [`poll`](Self::poll) next has something to do: the earliest
    /// retry. (Expiry needs no wake-up: an expired entry is simply not used,
    /// and swept at the next poll.)
    pub fn poll_at(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|entry| match entry.state {
                State::Resolving {
                    next_request_at, ..
                } => Some(next_request_at),
                _ => None,
            })
            .min()
    }

    /// The resolved entries, for a table like `ip neigh`: (address, MAC,
    /// time left), in address order.
    pub fn resolved(&self, now: Instant) -> Vec<(Ipv4Addr, MacAddr, Duration)> {
        let mut list: Vec<_> = self
            .entries
            .iter()
            .filter_map(|(&ip, entry)| match entry.state {
                State::Resolved { mac, expires_at } if now < expires_at => {
                    Some((ip, mac, expires_at - now))
                }
                _ => None,
            })
            .collect();
        list.sort_by_key(|&(ip, _, _)| ip);
        list
    }

    /// Makes room for one entry by evicting the one updated longest ago,
    /// never one still resolving. False if every entry is resolving.
    fn evict_one(&mut self) -> bool {
        let oldest = self
            .entries
            .iter()
            .filter(|(_, entry)| !matches!(entry.state, State::Resolving { .. }))
            .min_by_key(|(ip, entry)| (entry.updated_at, **ip))
            .map(|(&ip, _)| ip);
        match oldest {
            Some(ip) => {
                self.entries.remove(&ip);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHA: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const ALPHA_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const SECOND: Duration = Duration::from_secs(1);

    fn cache() -> ArpCache<&'static str> {
        ArpCache::new(ArpConfig::default())
    }

    #[test]
    fn first_packet_asks_later_ones_wait_quietly() {
        let t0 = Instant::now();
        let mut arp = cache();
        assert_eq!(
            arp.resolve(t0, ALPHA, "a"),
            Resolution::Queued {
                send_request: true,
                dropped: None
            }
        );
        assert_eq!(
            arp.resolve(t0, ALPHA, "b"),
            Resolution::Queued {
                send_request: false,
                dropped: None
            }
        );
        assert_eq!(arp.poll_at(), Some(t0 + SECOND));
        assert_eq!(arp.learn(t0, ALPHA, ALPHA_MAC, false), Some(vec!["a", "b"]));
        assert_eq!(
            arp.resolve(t0, ALPHA, "c"),
            Resolution::Send(ALPHA_MAC, "c")
        );
        assert_eq!(arp.poll_at(), None);
    }

    #[test]
    fn a_full_queue_keeps_the_newest_packets() {
        let t0 = Instant::now();
        let mut arp = cache();
        for packet in ["1", "2", "3", "4"] {
            assert!(matches!(
                arp.resolve(t0, ALPHA, packet),
                Resolution::Queued { dropped: None, .. }
            ));
        }
        assert_eq!(
            arp.resolve(t0, ALPHA, "5"),
            Resolution::Queued {
                send_request: false,
                dropped: Some("1")
            }
        );
        assert_eq!(arp.queued(ALPHA), 4);
        assert_eq!(
            arp.learn(t0, ALPHA, ALPHA_MAC, true),
            Some(vec!["2", "3", "4", "5"])
        );
    }

    #[test]
    fn retries_once_a_second_then_gives_up_and_holds_the_failure() {
        let t0 = Instant::now();
        let mut arp = cache();
        arp.resolve(t0, ALPHA, "ping");
        assert!(arp.poll(t0 + SECOND / 2).is_empty());
        assert_eq!(
            arp.poll(t0 + SECOND),
            vec![ArpTimeout::Retry {
                ip: ALPHA,
                attempt: 2
            }]
        );
        assert_eq!(
            arp.poll(t0 + 2 * SECOND),
            vec![ArpTimeout::Retry {
                ip: ALPHA,
                attempt: 3
            }]
        );
        assert_eq!(
            arp.poll(t0 + 3 * SECOND),
            vec![ArpTimeout::GaveUp {
                ip: ALPHA,
                dropped: vec!["ping"]
            }]
        );
        assert_eq!(arp.poll_at(), None);
        assert_eq!(
            arp.resolve(t0 + 4 * SECOND, ALPHA, "again"),
            Resolution::Unreachable("again")
        );
        // After the hold, a new packet starts a new round.
        assert!(matches!(
            arp.resolve(t0 + 6 * SECOND, ALPHA, "later"),
            Resolution::Queued {
                send_request: true,
                ..
            }
        ));
    }

    #[test]
    fn entries_expire_and_are_asked_for_again() {
        let t0 = Instant::now();
        let mut arp = cache();
        assert_eq!(arp.learn(t0, ALPHA, ALPHA_MAC, true), Some(vec![]));
        let almost = t0 + Duration::from_secs(59);
        assert_eq!(arp.mac(almost, ALPHA), Some(ALPHA_MAC));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(arp.mac(later, ALPHA), None);
        assert!(matches!(
            arp.resolve(later, ALPHA, "x"),
            Resolution::Queued {
                send_request: true,
                ..
            }
        ));
    }

    #[test]
    fn merge_rule_updates_known_addresses_but_creates_only_when_asked() {
        let t0 = Instant::now();
        let mut arp = cache();
        assert_eq!(arp.learn(t0, ALPHA, ALPHA_MAC, false), None);
        assert!(arp.is_empty());
        arp.learn(t0, ALPHA, ALPHA_MAC, true);
        let new_card = MacAddr([2, 0, 0, 0, 0, 0x99]);
        assert_eq!(arp.learn(t0, ALPHA, new_card, false), Some(vec![]));
        assert_eq!(arp.mac(t0, ALPHA), Some(new_card));
    }

    #[test]
    fn full_cache_evicts_the_oldest_resolved_entry_never_a_resolving_one() {
        let t0 = Instant::now();
        let mut arp: ArpCache<u32> = ArpCache::new(ArpConfig {
            capacity: 2,
            ..ArpConfig::default()
        });
        let a = Ipv4Addr::new(198, 18, 0, 10);
        let b = Ipv4Addr::new(198, 18, 0, 11);
        let c = Ipv4Addr::new(198, 18, 0, 12);
        arp.learn(t0, a, ALPHA_MAC, true);
        arp.resolve(t0, b, 1);
        arp.learn(t0 + SECOND, c, ALPHA_MAC, true);
        assert_eq!(arp.len(), 2);
        assert_eq!(arp.mac(t0 + SECOND, a), None, "a was the oldest resolved");
        assert_eq!(arp.queued(b), 1, "b is still resolving");
        // Now b (resolving) and c (resolved): a new address evicts c.
        assert!(matches!(
            arp.resolve(t0 + SECOND, a, 2),
            Resolution::Queued { .. }
        ));
        assert_eq!(arp.mac(t0 + SECOND, c), None);
        // Both resolving: nothing can be evicted.
        assert_eq!(arp.resolve(t0 + SECOND, c, 3), Resolution::CacheFull(3));
    }
}
