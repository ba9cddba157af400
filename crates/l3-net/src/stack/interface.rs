//! One network interface of our own: a MAC address and an IPv4 address on
//! one link, with everything a host needs to be reachable there.
//!
//! ```text
//!              receive(frame)                          send(dst, payload)
//!                   │                                        │
//!        to our MAC or broadcast? ─no→ ignore          route → next hop
//!                   │                                        │
//!          ARP ─────┴───── IPv4                      ARP cache: MAC known?
//!           │                │                         │yes        │no
//!   learn; answer      checksum, for us?              │      queue, ask
//!   requests for us          │                         │     (retry 1 s ×3)
//!                     reassemble fragments             │           │
//!                            │                    fragment to min(link MTU,
//!               ICMP echo → reply                   path MTU); frames out
//!               frag needed → path MTU
//!               anything else → delivered
//! ```
//!
//! Sans-IO: `receive` and `poll` take the time and return nothing but
//! decisions; the frames to send wait in [`Interface::drain_transmit`], the
//! log in [`Interface::drain_events`]. Call both after every `receive`,
//! `send` and `poll`: they are not bounded otherwise.

use std::net::Ipv4Addr;
use std::time::Instant;

use l2_link::device::PacketType;
use l2_link::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, MacAddr,
};

use super::arp_cache::{ArpCache, ArpConfig, ArpTimeout, Resolution};
use super::event::Event;
use super::fragment::fragment;
use super::icmp::{self, IcmpError, echo_reply, error_datagram, error_forbidden};
use super::path_mtu::{PathMtuCache, PathMtuConfig};
use super::rate_limit::TokenBucket;
use super::reassembly::{FragmentOutcome, Reassembler, ReassemblyConfig};
use super::routes::{Route, RouteError, Routes, broadcast_of};
use crate::wire::{
    DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr,
    QuotedDatagram,
};

// ANCHOR: interface_config
/// Who an interface is on its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Its MAC address: frames to it (or to broadcast) are ours.
    pub mac: MacAddr,
    /// Its IPv4 address.
    pub addr: Ipv4Addr,
    /// The length of the link's network prefix (24 for 198.18.0.0/24):
    /// which addresses are neighbours, reached directly.
    pub prefix_len: u8,
    /// The largest IP datagram one frame carries (1500 on Ethernet; 1280
    /// on the lab's lab2/lab3 cable).
    pub mtu: usize,
}
// ANCHOR_END: interface_config

/// The limits of every part, all explicit; `Default` gives the values
/// each part documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackLimits {
    /// The ARP cache's size, timers and queue.
    pub arp: ArpConfig,
    /// The reassembler's timeout and memory bounds.
    pub reassembly: ReassemblyConfig,
    /// The path MTU cache's size and aging.
    pub path_mtu: PathMtuConfig,
    /// ICMP errors this interface sends: at most `burst` at once, then
    /// `per_second` (RFC 1812 §4.3.2.8; default 10 and 10).
    pub icmp_errors: IcmpRateLimit,
}

/// A token bucket's two numbers, for [`StackLimits::icmp_errors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpRateLimit {
    /// Tokens added per second.
    pub per_second: u32,
    /// Most tokens held.
    pub burst: u32,
}

impl Default for IcmpRateLimit {
    fn default() -> Self {
        IcmpRateLimit {
            per_second: 10,
            burst: 10,
        }
    }
}

/// A datagram for the layers above (UDP, TCP, a raw-socket reader),
/// reassembled if it came in fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its header (for a reassembled datagram: the first fragment's, with
    /// the fragment fields cleared).
    pub header: Ipv4Repr,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// How to send a datagram; [`Default`] is TTL 64 and fragmentable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Time to live.
    pub ttl: u8,
    /// Set Don't Fragment: refuse ([`SendError::TooBig`]) rather than
    /// fragment, and let routers report a narrower path (RFC 1191).
    pub dont_frag: bool,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            ttl: icmp::DEFAULT_TTL,
            dont_frag: false,
        }
    }
}

/// Why [`Interface::send`] could not send (or queue) a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No route to the destination.
    NoRoute(Ipv4Addr),
    /// The payload does not fit in one IPv4 datagram (65535 bytes).
    TooLong(usize),
    /// Don't Fragment is set and the datagram exceeds the path MTU.
    TooBig {
        /// The MTU it exceeds.
        mtu: usize,
    },
    /// The next hop did not answer ARP recently.
    HostUnreachable(Ipv4Addr),
    /// The ARP cache is full of addresses still being resolved.
    NoBuffer,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NoRoute(dst) => write!(f, "no route to {dst}"),
            SendError::TooLong(len) => write!(f, "{len} bytes do not fit in an IPv4 datagram"),
            SendError::TooBig { mtu } => write!(f, "message too long, mtu={mtu}"),
            SendError::HostUnreachable(ip) => write!(f, "{ip} does not answer ARP"),
            SendError::NoBuffer => f.write_str("ARP cache full"),
        }
    }
}

impl std::error::Error for SendError {}

/// A datagram on its way out, waiting in the ARP queue if need be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    /// The whole datagram.
    pub(crate) datagram: Vec<u8>,
    /// The MTU to fragment it to once the MAC is known.
    pub(crate) mtu: usize,
    /// For a router: the interface it arrived on, whose address an ICMP
    /// error about it comes from.
    pub(crate) came_in_on: Option<usize>,
}

/// What [`Interface::ingress`] found in a frame.
#[derive(Debug)]
pub(crate) enum Ingress {
    /// Nothing for anyone above: not ours, ARP (handled), a fragment held,
    /// or dropped (with an event).
    Nothing,
    /// A datagram for one of our addresses (or a broadcast).
    Local {
        delivery: Delivery,
        link_broadcast: bool,
    },
    /// A valid datagram for someone else: a router forwards it, a host
    /// drops it.
    Transit {
        datagram: Vec<u8>,
        link_broadcast: bool,
    },
}

/// One MAC address and one IPv4 address on one link. See the [module
/// documentation](self).
#[derive(Debug)]
pub struct Interface {
    config: InterfaceConfig,
    arp: ArpCache<Outgoing>,
    routes: Routes,
    path_mtu: PathMtuCache,
    reassembler: Reassembler,
    icmp_errors: TokenBucket,
    next_ident: u16,
    /// Datagrams we made (echo replies, ICMP errors), not yet routed: a
    /// host routes them itself, a router through its own table.
    outbox: Vec<Vec<u8>>,
    transmit: Vec<Vec<u8>>,
    events: Vec<Event>,
}

impl Interface {
    /// An interface with the default limits, knowing only its own network
    /// (a connected route).
    pub fn new(config: InterfaceConfig) -> Interface {
        Interface::with_limits(config, StackLimits::default())
    }

    /// An interface with explicit limits.
    pub fn with_limits(config: InterfaceConfig, limits: StackLimits) -> Interface {
        let mut routes = Routes::new();
        if let Ok(connected) = Route::new(config.addr, config.prefix_len, None, 0) {
            routes.add(connected);
        }
        Interface {
            config,
            arp: ArpCache::new(limits.arp),
            routes,
            path_mtu: PathMtuCache::new(limits.path_mtu),
            reassembler: Reassembler::new(limits.reassembly),
            icmp_errors: TokenBucket::new(limits.icmp_errors.per_second, limits.icmp_errors.burst),
            next_ident: 1,
            outbox: Vec::new(),
            transmit: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Who this interface is.
    pub fn config(&self) -> &InterfaceConfig {
        &self.config
    }

    /// Its MAC address.
    pub fn mac(&self) -> MacAddr {
        self.config.mac
    }

    /// Its IPv4 address.
    pub fn addr(&self) -> Ipv4Addr {
        self.config.addr
    }

    /// Its link's MTU.
    pub fn mtu(&self) -> usize {
        self.config.mtu
    }

    /// The routing table (a connected route for the own network to start
    /// with). Every route's `interface` is 0: there is only this one.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Adds a route through a gateway on this link, e.g. the default route
    /// `0.0.0.0/0 via 198.18.0.1`.
    pub fn add_route(
        &mut self,
        network: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), RouteError> {
        self.routes
            .add(Route::new(network, prefix_len, gateway, 0)?);
        Ok(())
    }

    /// The MTU to use toward `dst` now: the link's, or less if a router
    /// said the path is narrower (RFC 1191). Layer 4 sizes segments by it.
    pub fn path_mtu(&self, now: Instant, dst: Ipv4Addr) -> usize {
        self.path_mtu.effective(now, dst, self.config.mtu)
    }

    /// The neighbours whose MAC address is known: (address, MAC, time
    /// left), like `ip neigh`.
    pub fn neighbours(&self, now: Instant) -> Vec<(Ipv4Addr, MacAddr, std::time::Duration)> {
        self.arp.resolved(now)
    }

    /// Datagrams being reassembled, and the bytes they hold (as the limit
    /// in [`ReassemblyConfig::max_bytes`] counts them).
    pub fn reassembly_usage(&self) -> (usize, usize) {
        (self.reassembler.in_progress(), self.reassembler.memory())
    }

    /// Sets the identification the next datagram we originate gets. (It
    /// starts at 1, which keeps tests readable; a program can start from
    /// something less predictable.)
    pub fn set_next_ident(&mut self, ident: u16) {
        self.next_ident = ident;
    }

    /// True if `addr` is a broadcast address on this link: 255.255.255.255
    /// or the network's directed broadcast.
    pub fn is_broadcast(&self, addr: Ipv4Addr) -> bool {
        addr.is_broadcast() || broadcast_of(self.config.addr, self.config.prefix_len) == Some(addr)
    }

    // ANCHOR: interface_receive
    /// Takes one frame from the link: answers ARP and pings itself, and
    /// returns the datagrams for the layers above. `packet_type` is how the
    /// packet socket classified the frame; frames our own machine sent
    /// ([`PacketType::Outgoing`]) are ignored.
    pub fn receive(
        &mut self,
        now: Instant,
        frame: &[u8],
        packet_type: PacketType,
    ) -> Vec<Delivery> {
        let own = self.config.addr;
        let delivered = match self.ingress(now, frame, packet_type, &|addr| addr == own) {
            Ingress::Nothing => None,
            Ingress::Local { delivery, .. } => self.answer_local(now, delivery),
            // A host is not a router (RFC 1122 §3.3.1.6: it must not
            // forward unless configured to).
            Ingress::Transit { datagram, .. } => {
                let packet = Ipv4Packet::new_unchecked(&datagram[..]);
                self.events.push(Event::Dropped {
                    src: Some(packet.src_addr()),
                    dst: Some(packet.dst_addr()),
                    reason: "not for us (a host does not forward)".to_string(),
                });
                None
            }
        };
        self.flush_outbox(now);
        delivered.into_iter().collect()
    }
    // ANCHOR_END: interface_receive

    /// Sends `payload` to `dst` as one IPv4 datagram of `protocol`, with
    /// TTL 64, fragmentable. See [`Interface::send_with`].
    pub fn send(
        &mut self,
        now: Instant,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload: &[u8],
    ) -> Result<(), SendError> {
        self.send_with(now, dst, protocol, payload, SendOptions::default())
    }

    // ANCHOR: interface_send
    /// Sends `payload` to `dst`: routes it, finds the next hop's MAC (or
    /// queues the datagram and asks), and fragments it to the path MTU
    /// unless `options.dont_frag`. `Ok` means sent or queued.
    pub fn send_with(
        &mut self,
        now: Instant,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload: &[u8],
        options: SendOptions,
    ) -> Result<(), SendError> {
        let header = Ipv4Repr {
            src_addr: self.config.addr,
            dst_addr: dst,
            protocol,
            ttl: options.ttl,
            ident: self.take_ident(),
            dont_frag: options.dont_frag,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: payload.len(),
        };
        if header.buffer_len() > super::reassembly::MAX_DATAGRAM_LEN {
            return Err(SendError::TooLong(payload.len()));
        }
        self.route_and_transmit(now, header.build(payload))
    }
    // ANCHOR_END: interface_send

    /// Answers a delivered datagram the layers above do not want with ICMP
    /// "destination unreachable" (RFC 1122 §3.2.2.1: port unreachable for
    /// a closed UDP port, protocol unreachable for a protocol nobody
    /// speaks), unless RFC 1812 §4.3.2.7 forbids it or the rate limit
    /// says no. True if the error was sent.
    pub fn reject(&mut self, now: Instant, delivery: &Delivery, reason: DstUnreachable) -> bool {
        let original = delivery.header.build(&delivery.payload);
        let sent = self.icmp_error(now, &original, false, IcmpError::DstUnreachable(reason, 0));
        self.flush_outbox(now);
        sent
    }

    /// Runs the timers: ARP retries and give-ups, reassembly timeouts.
    pub fn poll(&mut self, now: Instant) {
        // A host has nobody to tell about packets ARP gave up on: the event
        // is all.
        let _dropped = self.poll_timers(now);
        self.flush_outbox(now);
    }

    /// When [`poll`](Self::poll) next has work: `None` if no timer runs.
    pub fn poll_at(&self) -> Option<Instant> {
        [self.arp.poll_at(), self.reassembler.poll_at()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The frames to put on the wire, oldest first.
    pub fn drain_transmit(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.transmit)
    }

    /// What happened since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    // ---- The parts a router shares (crate-private) ----

    /// Takes a frame: handles ARP, validates IPv4, reassembles what is
    /// `is_ours` (or broadcast), and says what is left to do.
    pub(crate) fn ingress(
        &mut self,
        now: Instant,
        frame: &[u8],
        packet_type: PacketType,
        is_ours: &dyn Fn(Ipv4Addr) -> bool,
    ) -> Ingress {
        if packet_type == PacketType::Outgoing {
            return Ingress::Nothing; // our own machine's frames, looped back
        }
        let Ok(ethernet) = EthernetFrame::new_checked(frame) else {
            return Ingress::Nothing;
        };
        let destination = ethernet.destination();
        // What our card would accept: frames to our MAC, or to everyone. A
        // multicast group we never joined is not for us either.
        let link_broadcast = destination.is_broadcast();
        if (destination != self.config.mac && !link_broadcast) || ethernet.vlan().is_some() {
            return Ingress::Nothing;
        }
        match ethernet.ethertype() {
            EtherType::ARP => {
                self.receive_arp(now, ethernet.payload());
                Ingress::Nothing
            }
            EtherType::IPV4 => self.receive_ipv4(now, ethernet.payload(), link_broadcast, is_ours),
            _ => Ingress::Nothing,
        }
    }

    // ANCHOR: receive_arp
    /// RFC 826's algorithm for a received ARP packet: learn the sender
    /// (update if known; add only if the packet is for us), then answer a
    /// request for our address.
    fn receive_arp(&mut self, now: Instant, payload: &[u8]) {
        let Ok(arp) = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) else {
            return;
        };
        let for_us = arp.target_ip == self.config.addr;
        // An RFC 5227 probe (sender 0.0.0.0) names nobody to learn; a
        // packet claiming our own address is a conflict, not a neighbour.
        if !arp.sender_ip.is_unspecified() && arp.sender_ip != self.config.addr {
            let known = self.arp.mac(now, arp.sender_ip);
            if let Some(waiting) = self.arp.learn(now, arp.sender_ip, arp.sender_mac, for_us) {
                let released = waiting.len();
                for outgoing in waiting {
                    self.emit_frames(arp.sender_mac, outgoing);
                }
                if known != Some(arp.sender_mac) {
                    self.events.push(Event::ArpLearned {
                        ip: arp.sender_ip,
                        mac: arp.sender_mac,
                        released,
                    });
                }
            }
        }
        if for_us && arp.operation == ArpOperation::Request {
            let reply = ArpRepr::reply_to(&arp, self.config.mac);
            self.push_arp(reply, arp.sender_mac);
            self.events.push(Event::ArpReplied {
                asker_ip: arp.sender_ip,
                asker_mac: arp.sender_mac,
                our_ip: self.config.addr,
                our_mac: self.config.mac,
            });
        }
    }
    // ANCHOR_END: receive_arp

    /// Checks an IPv4 datagram and decides whose it is.
    fn receive_ipv4(
        &mut self,
        now: Instant,
        bytes: &[u8],
        link_broadcast: bool,
        is_ours: &dyn Fn(Ipv4Addr) -> bool,
    ) -> Ingress {
        let packet = match Ipv4Packet::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                self.drop_event(None, None, error.to_string());
                return Ingress::Nothing;
            }
        };
        // RFC 1122 §3.2.1.2: a datagram with a bad header checksum is
        // silently discarded (silently on the wire; our log says so).
        let header = match Ipv4Repr::parse(&packet) {
            Ok(header) => header,
            Err(error) => {
                self.drop_event(
                    Some(packet.src_addr()),
                    Some(packet.dst_addr()),
                    error.to_string(),
                );
                return Ingress::Nothing;
            }
        };
        // Ethernet padding after Total Length is not the datagram's.
        let datagram = &bytes[..usize::from(packet.total_len())];
        if !is_ours(header.dst_addr) && !self.is_broadcast(header.dst_addr) {
            return Ingress::Transit {
                datagram: datagram.to_vec(),
                link_broadcast,
            };
        }
        if !header.more_frags && header.frag_offset == 0 {
            let delivery = Delivery {
                header,
                payload: packet.payload().to_vec(),
            };
            return Ingress::Local {
                delivery,
                link_broadcast,
            };
        }
        match self
            .reassembler
            .add(now, &Ipv4Packet::new_unchecked(datagram))
        {
            FragmentOutcome::Held | FragmentOutcome::Duplicate => Ingress::Nothing,
            FragmentOutcome::Dropped(reason) => {
                self.events.push(Event::ReassemblyDropped {
                    src: header.src_addr,
                    ident: header.ident,
                    reason,
                });
                Ingress::Nothing
            }
            FragmentOutcome::Complete(whole) => {
                self.events.push(Event::Reassembled {
                    src: whole.header.src_addr,
                    ident: whole.header.ident,
                    len: whole.payload.len(),
                    fragments: whole.fragments,
                });
                Ingress::Local {
                    delivery: Delivery {
                        header: whole.header,
                        payload: whole.payload,
                    },
                    link_broadcast,
                }
            }
        }
    }

    // ANCHOR: answer_local
    /// What a host does itself with a datagram for it: answers echo
    /// requests and learns from "fragmentation needed"; everything else is
    /// for the layers above.
    pub(crate) fn answer_local(&mut self, now: Instant, delivery: Delivery) -> Option<Delivery> {
        let header = delivery.header;
        if header.protocol == IpProtocol::ICMP {
            let message = Icmpv4Packet::new_checked(&delivery.payload[..])
                .and_then(|packet| Icmpv4Repr::parse(&packet));
            match message {
                Err(error) => {
                    self.drop_event(
                        Some(header.src_addr),
                        Some(header.dst_addr),
                        error.to_string(),
                    );
                    return None;
                }
                Ok(Icmpv4Repr::EchoRequest { ident, seq, .. }) => {
                    // RFC 1122 §3.2.2.6 lets a host ignore pings to a
                    // broadcast address, and Linux does: a "smurf" amplifier
                    // answers one spoofed packet with a reply from everyone.
                    if !self.is_broadcast(header.dst_addr) && !header.dst_addr.is_multicast() {
                        let ip_ident = self.take_ident();
                        if let Some(reply) = echo_reply(&header, &delivery.payload, ip_ident) {
                            self.outbox.push(reply);
                            self.events.push(Event::EchoReplied {
                                from: header.src_addr,
                                ident,
                                seq,
                                len: delivery.payload.len(),
                            });
                        }
                    }
                    return None;
                }
                Ok(Icmpv4Repr::DstUnreachable {
                    reason: DstUnreachable::FragRequired,
                    next_hop_mtu,
                    quoted,
                }) => self.learn_path_mtu(now, header.src_addr, next_hop_mtu, quoted),
                Ok(_) => {}
            }
        }
        self.events.push(Event::Delivered {
            src: header.src_addr,
            dst: header.dst_addr,
            protocol: header.protocol,
            len: delivery.payload.len(),
        });
        Some(delivery)
    }
    // ANCHOR_END: answer_local

    // ANCHOR: learn_path_mtu
    /// RFC 1191: a router on the way to the quoted datagram's destination
    /// says its next link carries only `next_hop_mtu` bytes.
    fn learn_path_mtu(&mut self, now: Instant, router: Ipv4Addr, next_hop_mtu: u16, quoted: &[u8]) {
        let Ok(original) = QuotedDatagram::parse(quoted) else {
            return;
        };
        // Only about datagrams we sent: anyone can forge this message, and
        // one about someone else's traffic is certainly forged.
        if original.header.src_addr != self.config.addr {
            return;
        }
        let failed_size = u16::try_from(original.header.buffer_len()).unwrap_or(u16::MAX);
        let dst = original.header.dst_addr;
        if let Some(mtu) = self
            .path_mtu
            .frag_needed(now, dst, next_hop_mtu, failed_size)
        {
            self.events.push(Event::PathMtuLowered {
                dst,
                mtu,
                reported_by: router,
            });
        }
    }
    // ANCHOR_END: learn_path_mtu

    // ANCHOR: icmp_error
    /// Queues an ICMP error about `original` (the datagram as it arrived)
    /// to its sender, from this interface's address — unless RFC 1812
    /// §4.3.2.7 forbids it or the rate limit says no. True if queued.
    pub(crate) fn icmp_error(
        &mut self,
        now: Instant,
        original: &[u8],
        link_broadcast: bool,
        error: IcmpError,
    ) -> bool {
        let Ok(quoted) = QuotedDatagram::parse(original) else {
            return false;
        };
        let to = quoted.header.src_addr;
        let forbidden =
            error_forbidden(&quoted.header, quoted.payload_start, link_broadcast, |a| {
                self.is_broadcast(a)
            });
        if let Some(reason) = forbidden {
            self.events
                .push(Event::IcmpErrorForbidden { error, to, reason });
            return false;
        }
        if !self.icmp_errors.take(now) {
            self.events.push(Event::IcmpErrorRateLimited { error, to });
            return false;
        }
        let ident = self.take_ident();
        self.outbox
            .push(error_datagram(self.config.addr, to, ident, original, error));
        self.events.push(Event::IcmpErrorSent {
            error,
            to,
            about_dst: quoted.header.dst_addr,
            about_protocol: quoted.header.protocol,
        });
        true
    }
    // ANCHOR_END: icmp_error

    /// ARP retries and give-ups, reassembly timeouts (with ICMP "time
    /// exceeded" when the first fragment had arrived). Returns the packets
    /// ARP gave up on, for a router to answer "host unreachable".
    pub(crate) fn poll_timers(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut dropped = Vec::new();
        for timeout in self.arp.poll(now) {
            match timeout {
                ArpTimeout::Retry { ip, attempt } => {
                    self.push_arp(
                        ArpRepr::request(self.config.mac, self.config.addr, ip),
                        MacAddr::BROADCAST,
                    );
                    self.events.push(Event::ArpRequestSent { ip, attempt });
                }
                ArpTimeout::GaveUp {
                    ip,
                    dropped: packets,
                } => {
                    self.events.push(Event::ArpFailed {
                        ip,
                        requests: self.arp.config().max_requests,
                        dropped: packets.len(),
                    });
                    dropped.extend(packets);
                }
            }
        }
        for expired in self.reassembler.poll(now) {
            self.events.push(Event::ReassemblyTimedOut {
                src: expired.key.src_addr,
                ident: expired.key.ident,
                fragments: expired.fragments,
            });
            // RFC 1122 §3.3.2 / RFC 792: "time exceeded, fragment
            // reassembly" only if fragment zero arrived — without it there
            // is no transport header to quote.
            if let Some(first) = expired.first_fragment {
                let error = IcmpError::TimeExceeded(crate::wire::TimeExceeded::FragReassembly);
                self.icmp_error(now, &first, false, error);
            }
        }
        self.path_mtu.poll(now);
        dropped
    }

    /// The datagrams this interface made since the last call, for a router
    /// to route.
    pub(crate) fn take_outbox(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outbox)
    }

    /// Moves this interface's events into `out`.
    pub(crate) fn move_events(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.events);
    }

    /// Records an event (a router's own decisions, logged on the interface
    /// where they happened).
    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push(event);
    }

    // ANCHOR: transmit_to
    /// Sends `outgoing` to the neighbour `next_hop` on this link: at once
    /// if its MAC is known, else after ARP (the first packet for an address
    /// broadcasts the request).
    pub(crate) fn transmit_to(
        &mut self,
        now: Instant,
        next_hop: Ipv4Addr,
        outgoing: Outgoing,
    ) -> Result<(), SendError> {
        if self.is_broadcast(next_hop) {
            self.emit_frames(MacAddr::BROADCAST, outgoing);
            return Ok(());
        }
        match self.arp.resolve(now, next_hop, outgoing) {
            Resolution::Send(mac, outgoing) => {
                self.emit_frames(mac, outgoing);
                Ok(())
            }
            Resolution::Queued {
                send_request,
                dropped,
            } => {
                if send_request {
                    let request = ArpRepr::request(self.config.mac, self.config.addr, next_hop);
                    self.push_arp(request, MacAddr::BROADCAST);
                    self.events.push(Event::ArpRequestSent {
                        ip: next_hop,
                        attempt: 1,
                    });
                }
                if dropped.is_some() {
                    self.events.push(Event::ArpDropped {
                        ip: next_hop,
                        reason: "queue full, the oldest waiting packet went",
                    });
                }
                Ok(())
            }
            Resolution::Unreachable(_) => {
                self.events.push(Event::ArpDropped {
                    ip: next_hop,
                    reason: "it did not answer ARP recently",
                });
                Err(SendError::HostUnreachable(next_hop))
            }
            Resolution::CacheFull(_) => {
                self.events.push(Event::ArpDropped {
                    ip: next_hop,
                    reason: "ARP cache full",
                });
                Err(SendError::NoBuffer)
            }
        }
    }
    // ANCHOR_END: transmit_to

    // ---- Private helpers ----

    /// Routes a datagram we originated by our own table and sends it.
    fn route_and_transmit(&mut self, now: Instant, datagram: Vec<u8>) -> Result<(), SendError> {
        let packet = Ipv4Packet::new_unchecked(&datagram[..]);
        let (dst, dont_frag, len) = (packet.dst_addr(), packet.dont_frag(), datagram.len());
        let next_hop = if self.is_broadcast(dst) {
            dst
        } else {
            self.routes
                .lookup(dst)
                .ok_or(SendError::NoRoute(dst))?
                .next_hop(dst)
        };
        let mtu = self.path_mtu(now, dst);
        if dont_frag && len > mtu {
            return Err(SendError::TooBig { mtu });
        }
        let outgoing = Outgoing {
            datagram,
            mtu,
            came_in_on: None,
        };
        self.transmit_to(now, next_hop, outgoing)
    }

    /// Sends what we made (echo replies, ICMP errors) by our own routes.
    fn flush_outbox(&mut self, now: Instant) {
        for datagram in self.take_outbox() {
            let dst = Ipv4Packet::new_unchecked(&datagram[..]).dst_addr();
            if let Err(error) = self.route_and_transmit(now, datagram) {
                self.drop_event(Some(self.config.addr), Some(dst), error.to_string());
            }
        }
    }

    // ANCHOR: emit_frames
    /// Frames `outgoing` to `mac`, fragmented to its MTU if need be.
    fn emit_frames(&mut self, mac: MacAddr, outgoing: Outgoing) {
        let pieces = match fragment(&outgoing.datagram, outgoing.mtu) {
            Ok(pieces) => pieces,
            Err(error) => {
                let packet = Ipv4Packet::new_unchecked(&outgoing.datagram[..]);
                self.drop_event(
                    Some(packet.src_addr()),
                    Some(packet.dst_addr()),
                    error.to_string(),
                );
                return;
            }
        };
        if pieces.len() > 1 {
            let dst = Ipv4Packet::new_unchecked(&outgoing.datagram[..]).dst_addr();
            self.events.push(Event::Fragmented {
                dst,
                len: outgoing.datagram.len(),
                fragments: pieces.len(),
                mtu: outgoing.mtu,
            });
        }
        let ethernet = EthernetRepr {
            destination: mac,
            source: self.config.mac,
            vlan: None,
            ethertype: EtherType::IPV4,
        };
        for piece in pieces {
            self.transmit.push(ethernet.build(&piece));
        }
    }
    // ANCHOR_END: emit_frames

    /// Frames an ARP packet to `destination`.
    fn push_arp(&mut self, arp: ArpRepr, destination: MacAddr) {
        let mut payload = vec![0u8; arp.buffer_len()];
        arp.emit(&mut ArpPacket::new_unchecked(&mut payload[..]));
        let ethernet = EthernetRepr {
            destination,
            source: self.config.mac,
            vlan: None,
            ethertype: EtherType::ARP,
        };
        self.transmit.push(ethernet.build(&payload));
    }

    fn take_ident(&mut self) -> u16 {
        let ident = self.next_ident;
        self.next_ident = ident.wrapping_add(1);
        ident
    }

    fn drop_event(&mut self, src: Option<Ipv4Addr>, dst: Option<Ipv4Addr>, reason: String) {
        self.events.push(Event::Dropped { src, dst, reason });
    }
}
