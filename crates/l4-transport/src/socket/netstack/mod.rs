//! [`NetStack`]: one layer 3 interface with TCP and UDP on top, sans-IO.

mod pmtu;
mod ports;
mod tcp;
mod udp;

pub use ports::EPHEMERAL_PORTS;
pub use udp::MAX_UDP_PAYLOAD;

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::time::Instant;

use l2_link::device::PacketType;
use l3_net::stack::{Delivery, Event, Interface, SendError};
use l3_net::wire::{DstUnreachable, IpProtocol};

use self::ports::EphemeralPorts;
use self::tcp::{ListenEntry, TcpEntry};
use self::udp::UdpEntry;
use super::config::StackConfig;
use super::trace::TraceRecord;
use crate::tcp::IsnGenerator;

/// A TCP connection of a [`NetStack`], as its program names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpHandle(u32);

/// A listening TCP port of a [`NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerHandle(u32);

/// A UDP socket of a [`NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UdpHandle(u32);

/// One layer 3 [`Interface`] with layer 4 on top — TCP connections and
/// listeners, UDP sockets — sans-IO, like everything it is made of.
///
/// ```text
///   frame ──► Interface::receive ──► Delivery ─┬─ TCP ─► parse (checksum) ─► connection by four-tuple
///                                              │                          ├► listener by port (SYN)
///                                              │                          └► nobody: RST (RFC 9293 §3.10.7.1)
///                                              ├─ UDP ─► parse (checksum) ─► socket by port
///                                              │                          └► nobody: ICMP port unreachable
///                                              ├─ ICMP ─► frag needed about our segment ─► its connection's MSS
///                                              └─ other ─► ICMP protocol unreachable
///
///   program's call ──► connection's buffers     poll(now) ──► every connection's segments
///                                                             ──► Interface::send ──► frames
/// ```
///
/// Time comes in as `now`; frames come out of
/// [`drain_transmit`](NetStack::drain_transmit). The program's side is a
/// set of calls on handles ([`TcpHandle`], [`ListenerHandle`],
/// [`UdpHandle`]) that never block: where a blocking socket would wait,
/// they say [`io::ErrorKind::WouldBlock`]. The blocking API
/// ([`super::TcpStream`] and the others) waits on top of them.
#[derive(Debug)]
pub struct NetStack {
    interface: Interface,
    config: StackConfig,
    isn: IsnGenerator,
    tcp_ports: EphemeralPorts,
    udp_ports: EphemeralPorts,
    next_handle: u32,
    connections: BTreeMap<TcpHandle, TcpEntry>,
    listeners: BTreeMap<ListenerHandle, ListenEntry>,
    udp: BTreeMap<UdpHandle, UdpEntry>,
    trace: Vec<TraceRecord>,
    /// The interface's log, read by the stack on its way to the caller.
    events: Vec<Event>,
}

impl NetStack {
    /// A stack on `interface`. Its secrets come from the caller, so that a
    /// test can make a run reproducible: `isn` makes the initial sequence
    /// numbers (RFC 6528; give it a random key), `port_seed` picks where
    /// the ephemeral ports start.
    pub fn new(
        interface: Interface,
        mut config: StackConfig,
        isn: IsnGenerator,
        port_seed: u16,
    ) -> NetStack {
        config.tcp.trace = config.records_trace();
        NetStack {
            interface,
            config,
            isn,
            tcp_ports: EphemeralPorts::new(port_seed),
            udp_ports: EphemeralPorts::new(port_seed.rotate_left(8)),
            next_handle: 1,
            connections: BTreeMap::new(),
            listeners: BTreeMap::new(),
            udp: BTreeMap::new(),
            trace: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// The layer 3 interface underneath.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// The interface, to add routes.
    pub fn interface_mut(&mut self) -> &mut Interface {
        &mut self.interface
    }

    /// Our IPv4 address.
    pub fn addr(&self) -> Ipv4Addr {
        self.interface.addr()
    }

    // ANCHOR: netstack_receive
    /// Takes one frame from the link at `now`: the interface answers ARP
    /// and pings and hands up datagrams, and each goes to its protocol.
    /// Whatever that makes to send (ACKs, data, RSTs, ICMP errors) waits
    /// in [`drain_transmit`](Self::drain_transmit).
    pub fn receive(&mut self, now: Instant, frame: &[u8], packet_type: PacketType) {
        for delivery in self.interface.receive(now, frame, packet_type) {
            match delivery.header.protocol {
                IpProtocol::TCP => self.tcp_arrives(now, &delivery),
                IpProtocol::UDP => self.udp_arrives(now, &delivery),
                // Echo requests were answered by the interface, and
                // "fragmentation needed" lowered its path MTU; TCP learns
                // it too. Other ICMP messages need no answer.
                IpProtocol::ICMP => self.icmp_arrives(now, &delivery.payload),
                // RFC 1122 §3.2.2.1: a protocol nobody here speaks.
                _ => {
                    self.interface
                        .reject(now, &delivery, DstUnreachable::ProtoUnreachable);
                }
            }
        }
        self.flush(now);
        self.read_interface_events(now);
    }
    // ANCHOR_END: netstack_receive

    // ANCHOR: netstack_poll
    /// Runs every timer due at `now` — ARP retries, reassembly timeouts,
    /// retransmissions, TIME-WAIT — and sends what the programs' calls
    /// since the last poll asked for (data written, a FIN, a window
    /// update after a read).
    pub fn poll(&mut self, now: Instant) {
        self.interface.poll(now);
        self.read_interface_events(now);
        self.flush(now);
    }

    /// When [`poll`](Self::poll) next has work without any input: the
    /// earliest timer of the interface and of every connection. `None`:
    /// nothing will happen until a frame arrives or a program calls.
    pub fn poll_at(&self) -> Option<Instant> {
        let connections = self.connections.values().filter_map(TcpEntry::poll_at);
        let listeners = self.listeners.values().filter_map(|l| l.listener.poll_at());
        self.interface
            .poll_at()
            .into_iter()
            .chain(connections)
            .chain(listeners)
            .min()
    }
    // ANCHOR_END: netstack_poll

    /// The frames to put on the wire, oldest first.
    pub fn drain_transmit(&mut self) -> Vec<Vec<u8>> {
        self.interface.drain_transmit()
    }

    /// The interface's log (ARP, ICMP, fragments) up to the last
    /// [`receive`](Self::receive) or [`poll`](Self::poll). Drain it now
    /// and then: it is not bounded otherwise.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes the interface's new events, and acts on the one layer 4
    /// cares about: ARP gave up on a neighbour, so connections through it
    /// learn that their peer is unreachable.
    fn read_interface_events(&mut self, now: Instant) {
        for event in self.interface.drain_events() {
            if let Event::ArpFailed { ip, .. } = event {
                self.tcp_neighbour_unreachable(now, ip);
            }
            self.events.push(event);
        }
    }

    /// The TCP trace since the last call (empty unless
    /// [`StackConfig::records_trace`]): every segment in and out, per
    /// connection, with the connections' state changes and timers.
    pub fn drain_trace(&mut self) -> Vec<TraceRecord> {
        std::mem::take(&mut self.trace)
    }

    /// Puts everything the connections want sent on its way, collects
    /// their traces, and forgets what is over.
    fn flush(&mut self, now: Instant) {
        self.tcp_flush(now);
    }

    /// A new handle number.
    fn take_handle(&mut self) -> u32 {
        let id = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1);
        id
    }

    /// Records a trace event, if tracing.
    fn record(&mut self, record: impl FnOnce() -> TraceRecord) {
        if self.config.records_trace() {
            self.trace.push(record());
        }
    }

    /// Answers a datagram for a port nobody listens on (RFC 1122
    /// §4.1.3.1 for UDP), within the interface's rules and rate limit.
    fn port_unreachable(&mut self, now: Instant, delivery: &Delivery) {
        self.interface
            .reject(now, delivery, DstUnreachable::PortUnreachable);
    }
}

/// The [`io::Error`] a program sees when the network layer could not send.
pub(crate) fn send_error(error: SendError) -> io::Error {
    let kind = match error {
        SendError::NoRoute(_) => io::ErrorKind::NetworkUnreachable,
        SendError::HostUnreachable(_) => io::ErrorKind::HostUnreachable,
        SendError::TooLong(_) | SendError::TooBig { .. } => io::ErrorKind::InvalidInput,
        SendError::NoBuffer => io::ErrorKind::OutOfMemory,
    };
    io::Error::new(kind, error)
}

/// "Would block": the non-blocking calls' way of saying "not yet".
pub(crate) fn would_block() -> io::Error {
    io::Error::from(io::ErrorKind::WouldBlock)
}

/// The error for a handle the stack does not know (already closed).
fn no_such_socket() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "no such socket")
}
