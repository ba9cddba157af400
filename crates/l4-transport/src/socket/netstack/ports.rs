//! Ephemeral ports: the local port a connection or socket gets when its
//! program does not choose one.

use std::ops::RangeInclusive;

/// The dynamic (private, ephemeral) ports, RFC 6335 §6: never assigned to a
/// service, so a client can take any of them. (Linux uses 32768–60999 by
/// default, `net.ipv4.ip_local_port_range`.)
pub const EPHEMERAL_PORTS: RangeInclusive<u16> = 49152..=65535;

// ANCHOR: ephemeral_ports
/// Hands out ephemeral ports one after another, from a random start.
///
/// A fixed start would give the first connection of every run the same
/// port, and the four-tuple of a connection from a program restarted at
/// once would be that of the last run's connection, whose segments may
/// still be about (RFC 9293 §3.4.1's reason for TIME-WAIT). A random start
/// avoids both. RFC 6056 goes further — a port per destination from a
/// keyed hash, so an off-path attacker cannot guess the next one from the
/// last — which would fit here in the same few lines.
#[derive(Debug, Clone)]
pub(crate) struct EphemeralPorts {
    next: u16,
}

impl EphemeralPorts {
    /// Starts at the port `seed` picks in the range.
    pub(crate) fn new(seed: u16) -> EphemeralPorts {
        let span = EPHEMERAL_PORTS.end() - EPHEMERAL_PORTS.start() + 1;
        EphemeralPorts {
            next: EPHEMERAL_PORTS.start() + seed % span,
        }
    }

    /// The next port for which `in_use` says no, or `None` when all 16384
    /// are taken.
    pub(crate) fn allocate(&mut self, in_use: impl Fn(u16) -> bool) -> Option<u16> {
        for _ in EPHEMERAL_PORTS {
            let port = self.next;
            self.next = if port == *EPHEMERAL_PORTS.end() {
                *EPHEMERAL_PORTS.start()
            } else {
                port + 1
            };
            if !in_use(port) {
                return Some(port);
            }
        }
        None
    }
}
// ANCHOR_END: ephemeral_ports

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_stay_in_the_dynamic_range_and_wrap() {
        let mut ports = EphemeralPorts::new(16383);
        assert_eq!(ports.allocate(|_| false), Some(65535));
        assert_eq!(ports.allocate(|_| false), Some(49152));
        assert_eq!(EphemeralPorts::new(0).allocate(|_| false), Some(49152));
        assert_eq!(EphemeralPorts::new(16384).allocate(|_| false), Some(49152));
    }

    #[test]
    fn ports_in_use_are_skipped_and_a_full_range_says_none() {
        let mut ports = EphemeralPorts::new(0);
        assert_eq!(ports.allocate(|port| port < 49160), Some(49160));
        assert_eq!(ports.allocate(|_| true), None);
    }
}
