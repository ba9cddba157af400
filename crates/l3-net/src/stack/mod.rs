//! Our own IPv4 host and router, sans-IO: frames and the time in, frames out.
//!
//! Nothing here calls the operating system. Every function that depends on
//! time takes the current [`std::time::Instant`] as an argument, and what a
//! stack wants sent comes back as bytes for its caller to put on the wire.
//! So the same code runs over a real veth in the lab and in a unit test on
//! a virtual clock, where "wait 60 seconds" is one addition.
//!
//! The pieces, each usable on its own:
//! - [`ArpCache`] — neighbours' MAC addresses, with expiry, retries and a
//!   bounded queue of packets waiting for an answer (RFC 826, RFC 1122);
//! - [`Routes`] — the routing table, longest prefix match;
//! - [`PathMtuCache`] — path MTU estimates fed by "fragmentation needed"
//!   (RFC 1191);
//! - [`fragment()`] and [`Reassembler`] — cutting datagrams to an MTU and
//!   putting them back together, with a timeout and memory bounds;
//! - [`TokenBucket`] — the rate limit on ICMP errors (RFC 1812).
//!
//! Put together:
//! - [`Interface`] — one MAC and one IPv4 address on one link: answers ARP
//!   and ping, reassembles, delivers datagrams to the layers above, and
//!   sends theirs (route, ARP, fragment). The `host` exercise runs one.
//! - [`Router`] — several interfaces and a routing table, forwarding per
//!   RFC 1812. The `router` exercise runs one between lab1 and lab2.
//! - [`Links`] — the driver: the only part here that does I/O, moving
//!   frames between [`l2_link::device::Device`]s and a stack.
//!
//! Every limit is explicit ([`StackLimits`]) and documented where it is
//! defined, with the RFC that asks for it.

pub mod arp_cache;
pub mod driver;
pub mod event;
pub mod fragment;
pub mod icmp;
pub mod interface;
pub mod path_mtu;
pub mod rate_limit;
pub mod reassembly;
pub mod router;
pub mod routes;

pub use arp_cache::{ArpCache, ArpConfig, ArpTimeout, Resolution};
pub use driver::{Links, Received, STOP_CHECK, SharedDevice};
pub use event::Event;
pub use fragment::{FragmentError, copied_options, fragment};
pub use interface::{
    Delivery, IcmpRateLimit, Interface, InterfaceConfig, SendError, SendOptions, StackLimits,
};
pub use path_mtu::{MIN_MTU, PLATEAUS, PathMtuCache, PathMtuConfig, plateau_below};
pub use rate_limit::TokenBucket;
pub use reassembly::{
    Expired, FRAGMENT_UNIT, FragmentKey, FragmentOutcome, FragmentSet, Inserted, MAX_DATAGRAM_LEN,
    PIECE_OVERHEAD, Reassembled, Reassembler, ReassemblyConfig, ReassemblyError,
};
pub use router::{Router, RouterEvent};
pub use routes::{Route, RouteError, Routes, broadcast_of, netmask, network_of, parse_cidr};
