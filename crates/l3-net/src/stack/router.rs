//! A router: several [`Interface`]s and one routing table, forwarding
//! datagrams between links as RFC 1812 ("Requirements for IP Version 4
//! Routers") describes.
//!
//! ```text
//!  frame in on lab1 ──► Interface: ARP? for one of our addresses? ──► answered there
//!                              │ for someone else (transit)
//!                              ▼
//!        martian source/destination, link broadcast ──► dropped
//!        TTL ≤ 1 ──────────────────────────────────► ICMP time exceeded
//!        no route (longest prefix match) ───────────► ICMP net unreachable
//!        too big for the next link, DF set ─────────► ICMP fragmentation needed (mtu)
//!                              │
//!        TTL − 1, checksum patched (RFC 1624), fragmented if need be
//!                              ▼
//!  frame out on lab2 ◄── Interface: ARP for the next hop, new Ethernet header
//! ```
//!
//! The Ethernet header does not survive the trip: the frame that arrived
//! was addressed to the router's MAC on lab1; what leaves is a new frame
//! from the router's MAC on lab2 to the next hop's. Layer 2 is local to
//! one link; only the IP datagram crosses.

use std::net::Ipv4Addr;
use std::time::Instant;

use l2_link::device::PacketType;

use super::event::Event;
use super::icmp::{IcmpError, is_martian_source};
use super::interface::{
    Delivery, Ingress, Interface, InterfaceConfig, Outgoing, SendError, StackLimits,
};
use super::routes::{Route, RouteError, Routes};
use crate::checksum;
use crate::wire::{DstUnreachable, IpProtocol, Ipv4Packet, TimeExceeded};

/// Something the router did, and the interface where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterEvent {
    /// The interface's name (`lab1`).
    pub interface: String,
    /// What happened.
    pub event: Event,
}

impl std::fmt::Display for RouterEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.interface, self.event)
    }
}

#[derive(Debug)]
struct Port {
    name: String,
    interface: Interface,
}

/// Several interfaces and a routing table. See the [module
/// documentation](self).
#[derive(Debug, Default)]
pub struct Router {
    ports: Vec<Port>,
    routes: Routes,
    limits: StackLimits,
}

impl Router {
    /// A router with no interfaces yet, and the default limits.
    pub fn new() -> Router {
        Router::default()
    }

    /// A router whose interfaces get these limits.
    pub fn with_limits(limits: StackLimits) -> Router {
        Router {
            limits,
            ..Router::default()
        }
    }

    /// Adds an interface called `name`, and the connected route to its
    /// network. Returns its index, which frames and routes refer to.
    pub fn add_interface(&mut self, name: &str, config: InterfaceConfig) -> usize {
        let index = self.ports.len();
        self.ports.push(Port {
            name: name.to_string(),
            interface: Interface::with_limits(config, self.limits),
        });
        if let Ok(connected) = Route::new(config.addr, config.prefix_len, None, index) {
            self.routes.add(connected);
        }
        index
    }

    /// Adds a route through a gateway, e.g. `198.19.0.0/16 via
    /// 198.18.1.1` out of interface 1.
    pub fn add_route(
        &mut self,
        network: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
        interface: usize,
    ) -> Result<(), RouteError> {
        self.routes
            .add(Route::new(network, prefix_len, gateway, interface)?);
        Ok(())
    }

    /// The routing table.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// The interface with this index.
    pub fn interface(&self, index: usize) -> Option<&Interface> {
        self.ports.get(index).map(|port| &port.interface)
    }

    /// The name of the interface with this index.
    pub fn interface_name(&self, index: usize) -> Option<&str> {
        self.ports.get(index).map(|port| port.name.as_str())
    }

    /// How many interfaces there are.
    pub fn interfaces(&self) -> usize {
        self.ports.len()
    }

    // ANCHOR: router_receive
    /// Takes a frame that arrived on interface `port`.
    pub fn receive(&mut self, now: Instant, port: usize, frame: &[u8], packet_type: PacketType) {
        if port >= self.ports.len() {
            return;
        }
        let ours: Vec<Ipv4Addr> = self.ports.iter().map(|p| p.interface.addr()).collect();
        let interface = &mut self.ports[port].interface;
        match interface.ingress(now, frame, packet_type, &|addr| ours.contains(&addr)) {
            Ingress::Nothing => {}
            Ingress::Local {
                delivery,
                link_broadcast,
            } => self.answer_local(now, port, delivery, link_broadcast),
            Ingress::Transit {
                datagram,
                link_broadcast,
            } => self.forward(now, port, datagram, link_broadcast),
        }
        self.route_outboxes(now);
    }
    // ANCHOR_END: router_receive

    /// Runs every interface's timers; for packets ARP gave up on, answers
    /// "host unreachable" to their senders (RFC 1812 §5.2.7.1).
    pub fn poll(&mut self, now: Instant) {
        for port in 0..self.ports.len() {
            for lost in self.ports[port].interface.poll_timers(now) {
                if let Some(came_in_on) = lost.came_in_on {
                    let error = IcmpError::DstUnreachable(DstUnreachable::HostUnreachable, 0);
                    self.ports[came_in_on]
                        .interface
                        .icmp_error(now, &lost.datagram, false, error);
                }
            }
        }
        self.route_outboxes(now);
    }

    /// When [`poll`](Self::poll) next has work.
    pub fn poll_at(&self) -> Option<Instant> {
        self.ports
            .iter()
            .filter_map(|port| port.interface.poll_at())
            .min()
    }

    /// The frames to send, with the index of the interface each leaves by.
    pub fn drain_transmit(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut frames = Vec::new();
        for (index, port) in self.ports.iter_mut().enumerate() {
            frames.extend(
                port.interface
                    .drain_transmit()
                    .into_iter()
                    .map(|f| (index, f)),
            );
        }
        frames
    }

    /// What happened since the last call, interface by interface.
    pub fn drain_events(&mut self) -> Vec<RouterEvent> {
        let mut all = Vec::new();
        for port in &mut self.ports {
            let mut events = Vec::new();
            port.interface.move_events(&mut events);
            all.extend(events.into_iter().map(|event| RouterEvent {
                interface: port.name.clone(),
                event,
            }));
        }
        all
    }

    /// A datagram for one of the router's own addresses: pings are answered
    /// (by the interface it arrived on); the router runs no UDP or TCP
    /// service, so those get "port unreachable" (which also ends a
    /// traceroute aimed at the router), other protocols "protocol
    /// unreachable".
    fn answer_local(
        &mut self,
        now: Instant,
        port: usize,
        delivery: Delivery,
        link_broadcast: bool,
    ) {
        let interface = &mut self.ports[port].interface;
        let Some(unwanted) = interface.answer_local(now, delivery) else {
            return;
        };
        let reason = match unwanted.header.protocol {
            IpProtocol::ICMP => return, // an ICMP message (an error, a reply): nothing to answer
            IpProtocol::UDP | IpProtocol::TCP => DstUnreachable::PortUnreachable,
            _ => DstUnreachable::ProtoUnreachable,
        };
        let original = unwanted.header.build(&unwanted.payload);
        interface.icmp_error(
            now,
            &original,
            link_broadcast,
            IcmpError::DstUnreachable(reason, 0),
        );
    }

    // ANCHOR: forward
    /// Forwards a datagram that arrived on `in_port` for someone else.
    fn forward(&mut self, now: Instant, in_port: usize, datagram: Vec<u8>, link_broadcast: bool) {
        // The interface checked the header (length, checksum) already.
        let packet = Ipv4Packet::new_unchecked(&datagram[..]);
        let (src, dst, ttl) = (packet.src_addr(), packet.dst_addr(), packet.ttl());
        let (protocol, dont_frag) = (packet.protocol(), packet.dont_frag());

        // RFC 1812 §5.3.7 and §4.2.2.11: never forward "martians" (a
        // source that names no single host, or a destination that is
        // not a unicast address), nor a link-layer broadcast (§5.3.4),
        // nor a directed broadcast to one of our networks (RFC 2644).
        let directed_broadcast = self.ports.iter().any(|p| p.interface.is_broadcast(dst));
        if let Some(reason) = refuse_to_forward(src, dst, link_broadcast, directed_broadcast) {
            self.drop_on(in_port, src, dst, reason);
            return;
        }
        // §5.3.1: a datagram that would leave with TTL 0 dies here, and its
        // sender hears about it (which is what traceroute counts on).
        if ttl <= 1 {
            let error = IcmpError::TimeExceeded(TimeExceeded::TtlExpired);
            self.error_on(now, in_port, &datagram, link_broadcast, error);
            return;
        }
        // §5.2.4.3: the longest prefix that matches.
        let Some(route) = self.routes.lookup(dst).copied() else {
            let error = IcmpError::DstUnreachable(DstUnreachable::NetUnreachable, 0);
            self.error_on(now, in_port, &datagram, link_broadcast, error);
            return;
        };
        let out_mtu = self.ports[route.interface].interface.mtu();
        // §5.2.6 and RFC 1191 §4: too big and not to be fragmented: drop,
        // and tell the sender the MTU that would have fitted.
        if dont_frag && datagram.len() > out_mtu {
            let mtu = u16::try_from(out_mtu).unwrap_or(u16::MAX);
            let error = IcmpError::DstUnreachable(DstUnreachable::FragRequired, mtu);
            self.error_on(now, in_port, &datagram, link_broadcast, error);
            return;
        }

        let forwarded = decrement_ttl(datagram.clone());
        let next_hop = route.next_hop(dst);
        let outgoing = Outgoing {
            datagram: forwarded,
            mtu: out_mtu,
            came_in_on: Some(in_port),
        };
        let out_name = self.ports[route.interface].name.clone();
        self.ports[in_port].interface.push_event(Event::Forwarded {
            src,
            dst,
            protocol,
            ttl,
            out: out_name,
            next_hop,
        });
        // Fragmentation, if the datagram exceeds the MTU, happens as it
        // is framed for the next hop (see Interface::emit_frames).
        if let Err(SendError::HostUnreachable(_)) = self.ports[route.interface]
            .interface
            .transmit_to(now, next_hop, outgoing)
        {
            let error = IcmpError::DstUnreachable(DstUnreachable::HostUnreachable, 0);
            self.error_on(now, in_port, &datagram, link_broadcast, error);
        }
    }
    // ANCHOR_END: forward

    /// Sends an ICMP error about `original` from the interface it came in
    /// on (its address is the error's source; RFC 1812 §4.3.2.4 prefers the
    /// outgoing interface's address for the reply, which here is the same
    /// interface).
    fn error_on(
        &mut self,
        now: Instant,
        port: usize,
        original: &[u8],
        link_broadcast: bool,
        error: IcmpError,
    ) {
        self.ports[port]
            .interface
            .icmp_error(now, original, link_broadcast, error);
    }

    fn drop_on(&mut self, port: usize, src: Ipv4Addr, dst: Ipv4Addr, reason: &str) {
        self.ports[port].interface.push_event(Event::Dropped {
            src: Some(src),
            dst: Some(dst),
            reason: reason.to_string(),
        });
    }

    /// Routes what the interfaces made (echo replies, ICMP errors) by the
    /// router's table.
    fn route_outboxes(&mut self, now: Instant) {
        for port in 0..self.ports.len() {
            for datagram in self.ports[port].interface.take_outbox() {
                let dst = Ipv4Packet::new_unchecked(&datagram[..]).dst_addr();
                let Some(route) = self.routes.lookup(dst).copied() else {
                    let src = self.ports[port].interface.addr();
                    self.drop_on(port, src, dst, "no route for our own datagram");
                    continue;
                };
                let out = &mut self.ports[route.interface].interface;
                let outgoing = Outgoing {
                    datagram,
                    mtu: out.mtu(),
                    came_in_on: None,
                };
                // A failure is already an event on that interface.
                let _ = out.transmit_to(now, route.next_hop(dst), outgoing);
            }
        }
    }
}

// ANCHOR: decrement_ttl
/// Takes one off the TTL and patches the header checksum for the change
/// (RFC 1624 eqn. 3) instead of summing the header again: the TTL is the
/// high byte of the 16-bit word it shares with the protocol, so that word
/// is all that changed (RFC 1812 §5.3.1, RFC 1141).
fn decrement_ttl(mut datagram: Vec<u8>) -> Vec<u8> {
    let mut packet = Ipv4Packet::new_unchecked(&mut datagram[..]);
    let (ttl, protocol) = (packet.ttl(), packet.protocol().0);
    let old_word = u16::from_be_bytes([ttl, protocol]);
    let new_word = u16::from_be_bytes([ttl - 1, protocol]);
    packet.set_ttl(ttl - 1);
    let patched = checksum::update(packet.checksum(), old_word, new_word);
    packet.set_checksum(patched);
    datagram
}
// ANCHOR_END: decrement_ttl

/// Why a datagram must not be forwarded at all (no ICMP error either), or
/// `None` if it may be.
fn refuse_to_forward(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    link_broadcast: bool,
    directed_broadcast: bool,
) -> Option<&'static str> {
    if is_martian_source(src) {
        Some("martian source (not a single host)")
    } else if dst.is_multicast() || dst.is_broadcast() || dst.octets()[0] == 0 || dst.is_loopback()
    {
        Some("destination is not a unicast address")
    } else if directed_broadcast {
        Some("a directed broadcast (not forwarded, RFC 2644)")
    } else if link_broadcast {
        Some("arrived as a link-layer broadcast (RFC 1812 §5.3.4)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ipv4Options, Ipv4Repr};

    #[test]
    fn decrementing_the_ttl_patches_the_checksum_as_a_full_sum_would() {
        for ttl in [2u8, 64, 128, 255] {
            let datagram = Ipv4Repr {
                src_addr: Ipv4Addr::new(198, 18, 0, 1),
                dst_addr: Ipv4Addr::new(198, 18, 1, 1),
                protocol: IpProtocol::UDP,
                ttl,
                ident: 0xbeef,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                dscp: 0,
                ecn: 0,
                options: Ipv4Options::NONE,
                payload_len: 4,
            }
            .build(&[1, 2, 3, 4]);
            let forwarded = decrement_ttl(datagram);
            let packet = Ipv4Packet::new_checked(&forwarded[..]).unwrap();
            assert_eq!(packet.ttl(), ttl - 1);
            assert!(packet.verify_checksum(), "ttl {ttl}");
        }
    }
}
