//! The routing table: for a destination address, which interface and which
//! next hop. Longest prefix match (RFC 1812 §5.2.4.3): of all routes whose
//! network contains the address, the most specific one wins.
//!
//! ```text
//!   198.18.0.0/24   connected on lab1         198.18.0.1 → itself, on lab1
//!   198.18.1.0/24   connected on lab2         198.18.1.1 → itself, on lab2
//!   198.18.0.0/15   via 198.18.1.1 on lab2    198.19.0.5 → 198.18.1.1, on lab2
//! ```
//!
//! A kernel keeps thousands of routes in a trie (Linux: an LC-trie); our
//! tables have a handful, so a list kept sorted by prefix length, longest
//! first, is both enough and obviously right: the first match is the answer.

use std::fmt;
use std::net::Ipv4Addr;

// ANCHOR: route
/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The network's address (host bits zero, see [`Route::new`]).
    pub network: Ipv4Addr,
    /// How many leading bits of `network` count: 24 for a /24, 0 for the
    /// default route, 32 for one host.
    pub prefix_len: u8,
    /// The router to hand packets to, or `None` for a network on the link
    /// itself ("connected": send straight to the destination).
    pub gateway: Option<Ipv4Addr>,
    /// Which interface the packets leave by (an index into the owner's list).
    pub interface: usize,
}
// ANCHOR_END: route

/// Why a route cannot be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// A prefix longer than 32 bits.
    PrefixTooLong(u8),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::PrefixTooLong(len) => {
                write!(f, "prefix length {len} is longer than 32 bits")
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// The netmask of a prefix length: `/24` is 255.255.255.0.
pub fn netmask(prefix_len: u8) -> u32 {
    // A shift by 32 would overflow a u32: /0 is the all-zero mask.
    u32::MAX
        .checked_shl(32 - u32::from(prefix_len.min(32)))
        .unwrap_or(0)
}

/// The network `addr/prefix_len` belongs to: its host bits set to zero.
pub fn network_of(addr: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(addr) & netmask(prefix_len))
}

/// The directed broadcast address of `addr/prefix_len`: its host bits set
/// to one (198.18.0.255 for 198.18.0.2/24). /31 and /32 have none
/// (RFC 3021), so for them this is `None`.
pub fn broadcast_of(addr: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    (prefix_len < 31).then(|| Ipv4Addr::from(u32::from(addr) | !netmask(prefix_len)))
}

/// Reads `198.18.0.2/24` as an address and a prefix length (a bare
/// address is a /32), for command lines.
pub fn parse_cidr(text: &str) -> Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = text.split_once('/').unwrap_or((text, "32"));
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("invalid IPv4 address {addr:?}"))?;
    match prefix.parse::<u8>() {
        Ok(len) if len <= 32 => Ok((addr, len)),
        _ => Err(format!("invalid prefix length {prefix:?} (0 to 32)")),
    }
}

impl Route {
    /// A route to `network/prefix_len`; host bits in `network` are cleared,
    /// so `198.18.0.2/24` means 198.18.0.0/24.
    pub fn new(
        network: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
        interface: usize,
    ) -> Result<Route, RouteError> {
        if prefix_len > 32 {
            return Err(RouteError::PrefixTooLong(prefix_len));
        }
        Ok(Route {
            network: network_of(network, prefix_len),
            prefix_len,
            gateway,
            interface,
        })
    }

    /// True if `addr` lies inside this route's network.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        network_of(addr, self.prefix_len) == network_of(self.network, self.prefix_len)
    }

    /// Where a packet for `destination` goes next on the link: the gateway,
    /// or for a connected network the destination itself.
    pub fn next_hop(&self, destination: Ipv4Addr) -> Ipv4Addr {
        self.gateway.unwrap_or(destination)
    }
}

impl fmt::Display for Route {
    /// Like `ip route`: `198.18.0.0/15 via 198.18.1.1 dev #1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix_len == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}/{}", self.network, self.prefix_len)?;
        }
        if let Some(gateway) = self.gateway {
            write!(f, " via {gateway}")?;
        }
        write!(f, " dev #{}", self.interface)
    }
}

/// A routing table: routes sorted longest prefix first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    /// Invariant: sorted by `prefix_len`, descending; among equal prefix
    /// lengths, in the order added.
    routes: Vec<Route>,
}

impl Routes {
    /// An empty table: every lookup fails ("network unreachable").
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Adds `route`, replacing one for the same network and prefix (as
    /// `ip route replace` does).
    pub fn add(&mut self, route: Route) {
        self.routes
            .retain(|r| (r.network, r.prefix_len) != (route.network, route.prefix_len));
        // After every route at least as long: keeps the sort and the order
        // of addition among equals.
        let at = self
            .routes
            .partition_point(|r| r.prefix_len >= route.prefix_len);
        self.routes.insert(at, route);
    }

    /// Removes the route to `network/prefix_len`; true if there was one.
    pub fn remove(&mut self, network: Ipv4Addr, prefix_len: u8) -> bool {
        let network = network_of(network, prefix_len);
        let before = self.routes.len();
        self.routes
            .retain(|r| (r.network, r.prefix_len) != (network, prefix_len));
        self.routes.len() != before
    }

    // ANCHOR: longest_prefix_match
    /// The route for `destination`: the longest prefix that contains it.
    pub fn lookup(&self, destination: Ipv4Addr) -> Option<&Route> {
        // Sorted longest first, so the first route that matches is the
        // most specific one.
        self.routes.iter().find(|route| route.contains(destination))
    }
    // ANCHOR_END: longest_prefix_match

    /// The routes, longest prefix first.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// How many routes there are.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_cidr_notation() {
        assert_eq!(parse_cidr("198.18.0.2/24"), Ok((ip("198.18.0.2"), 24)));
        assert_eq!(parse_cidr("198.18.0.2"), Ok((ip("198.18.0.2"), 32)));
        assert!(parse_cidr("198.18.0.2/33").is_err());
        assert!(parse_cidr("198.18.0/24").is_err());
    }

    #[test]
    fn masks_and_networks() {
        assert_eq!(netmask(0), 0);
        assert_eq!(netmask(24), 0xffff_ff00);
        assert_eq!(netmask(32), u32::MAX);
        assert_eq!(network_of(ip("198.18.0.2"), 24), ip("198.18.0.0"));
        assert_eq!(network_of(ip("198.19.7.7"), 15), ip("198.18.0.0"));
        assert_eq!(broadcast_of(ip("198.18.0.2"), 24), Some(ip("198.18.0.255")));
        assert_eq!(broadcast_of(ip("198.18.0.2"), 31), None);
        assert_eq!(
            Route::new(ip("1.2.3.4"), 33, None, 0),
            Err(RouteError::PrefixTooLong(33))
        );
    }

    #[test]
    fn the_longest_matching_prefix_wins_whatever_the_order_added() {
        let mut routes = Routes::new();
        routes.add(Route::new(ip("0.0.0.0"), 0, Some(ip("198.18.0.1")), 0).unwrap());
        routes.add(Route::new(ip("198.18.0.0"), 15, Some(ip("198.18.1.1")), 1).unwrap());
        routes.add(Route::new(ip("198.18.1.0"), 24, None, 1).unwrap());
        routes.add(Route::new(ip("198.18.0.0"), 24, None, 0).unwrap());

        let hop = |dst: &str| {
            let route = routes.lookup(ip(dst)).expect("a route");
            (route.interface, route.next_hop(ip(dst)))
        };
        assert_eq!(hop("198.18.0.1"), (0, ip("198.18.0.1")));
        assert_eq!(hop("198.18.1.1"), (1, ip("198.18.1.1")));
        assert_eq!(hop("198.19.200.1"), (1, ip("198.18.1.1")));
        assert_eq!(hop("203.0.113.9"), (0, ip("198.18.0.1")));
        let lengths: Vec<u8> = routes.iter().map(|r| r.prefix_len).collect();
        assert_eq!(lengths, [24, 24, 15, 0]);
    }

    #[test]
    fn no_route_means_none_and_replacing_keeps_one_row() {
        let mut routes = Routes::new();
        routes.add(Route::new(ip("198.18.0.0"), 24, None, 0).unwrap());
        assert!(routes.lookup(ip("198.18.1.1")).is_none());
        routes.add(Route::new(ip("198.18.0.0"), 24, Some(ip("198.18.0.9")), 2).unwrap());
        assert_eq!(routes.len(), 1);
        assert_eq!(routes.lookup(ip("198.18.0.7")).unwrap().interface, 2);
        assert!(routes.remove(ip("198.18.0.99"), 24));
        assert!(routes.is_empty());
        assert_eq!(
            Route::new(ip("198.18.0.0"), 15, Some(ip("198.18.1.1")), 1)
                .unwrap()
                .to_string(),
            "198.18.0.0/15 via 198.18.1.1 dev #1"
        );
    }
}
