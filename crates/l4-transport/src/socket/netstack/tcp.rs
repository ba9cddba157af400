//! TCP in the stack: the table of connections and listening ports, where
//! each arriving segment goes, where each outgoing one leaves, and the
//! program's calls.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use l3_net::stack::{Delivery, SendError, SendOptions};
use l3_net::wire::IpProtocol;

use super::pmtu::SentSequence;
use super::{ListenerHandle, NetStack, TcpHandle, no_such_socket, send_error, would_block};
use crate::socket::trace::TraceRecord;
use crate::tcp::{
    Connection, ListenOutcome, Listener, OutSegment, SegmentSummary, State, TcpConfig, TraceEvent,
    reset_for,
};
use crate::wire::{TcpFlags, TcpPacket, TcpRepr};

/// IPv4 and TCP headers without options: what an MSS leaves of an MTU
/// (RFC 9293 §3.7.1, RFC 879).
const IPV4_TCP_HEADERS: usize = 40;

/// One connection and what the stack knows about it beyond its TCB.
#[derive(Debug)]
pub(crate) struct TcpEntry {
    pub(super) conn: Connection,
    /// What went on the wire, to check the ICMP errors that quote it.
    pub(super) sent: SentSequence,
    /// Its program let go of it (dropped the stream): the stack finishes
    /// the close alone, throws away what arrives, and forgets it at the end.
    released: bool,
    /// `shutdown(Read)`: what arrives is thrown away, reads say EOF.
    read_shut: bool,
    /// What the network layer last said about sending to the peer, if it
    /// failed: RFC 1122 §4.2.3.9's "soft error", reported if the
    /// connection then times out.
    soft_error: Option<SendError>,
    /// The connection ended for a network-layer reason TCP itself does not
    /// know (ARP found no one while we were opening).
    hard_error: Option<io::ErrorKind>,
    /// When an orphan in FIN-WAIT-2 is given up ([`super::StackConfig::orphan_timeout`]).
    forget_at: Option<Instant>,
}

impl TcpEntry {
    fn new(conn: Connection) -> TcpEntry {
        TcpEntry {
            conn,
            sent: SentSequence::default(),
            released: false,
            read_shut: false,
            soft_error: None,
            hard_error: None,
            forget_at: None,
        }
    }

    /// The connection's next timer, or the orphan's.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        self.conn.poll_at().into_iter().chain(self.forget_at).min()
    }

    /// Why the connection failed, as the program sees it.
    fn error(&self) -> Option<io::Error> {
        if let Some(kind) = self.hard_error {
            return Some(io::Error::from(kind));
        }
        let error = self.conn.error()?;
        Some(match (error, self.soft_error) {
            // RFC 1122 §4.2.3.9: on a timeout, tell the program the likely
            // reason the network layer gave.
            (crate::tcp::ConnectionError::TimedOut, Some(soft)) => send_error(soft),
            (error, _) => error.into(),
        })
    }

    /// Whether the stack should forget it: its program let go, and it is
    /// over (CLOSED, or an orphan that waited too long in FIN-WAIT-2).
    fn finished(&self, now: Instant) -> bool {
        self.released
            && (self.conn.is_closed() || self.forget_at.is_some_and(|forget| forget <= now))
    }
}

/// A listening port.
#[derive(Debug)]
pub(crate) struct ListenEntry {
    pub(crate) listener: Listener,
    /// Its program closed it: forgotten once its last RSTs are sent.
    closing: bool,
}

impl NetStack {
    // ---------------------------------------------------------------
    // Segments in
    // ---------------------------------------------------------------

    // ANCHOR: tcp_demux
    /// A TCP segment for us arrived: the connection with its four-tuple
    /// takes it, else a listener on its port, else it is answered with a
    /// RST (RFC 9293 §3.10.7.1), so the sender stops at once.
    pub(super) fn tcp_arrives(&mut self, now: Instant, delivery: &Delivery) {
        let (src, dst) = (delivery.header.src_addr, delivery.header.dst_addr);
        // RFC 1122 §4.2.3.10: TCP is for one host, never a broadcast or
        // multicast address, and gets no RST from there.
        if self.interface.is_broadcast(dst) || dst.is_multicast() {
            return;
        }
        // A damaged segment is dropped silently (RFC 9293 §3.1: the
        // checksum covers the pseudo-header; parse checks it).
        let Ok(packet) = TcpPacket::new_checked(&delivery.payload[..]) else {
            return;
        };
        let Ok(segment) = TcpRepr::parse(&packet, src, dst) else {
            return;
        };
        let local = SocketAddrV4::new(dst, segment.dst_port);
        let remote = SocketAddrV4::new(src, segment.src_port);

        if let Some(entry) = self.connections.values_mut().find(|entry| {
            entry.conn.local() == local && entry.conn.remote() == remote && !entry.conn.is_closed()
        }) {
            entry.conn.on_segment(now, &segment);
            return;
        }
        if let Some(entry) = self
            .listeners
            .values_mut()
            .find(|entry| entry.listener.wants(dst, &segment))
        {
            let outcome = entry.listener.on_segment(now, src, dst, &segment);
            // The SYN that opens a connection is seen by no connection
            // yet: the stack records it, so a trace starts where the
            // handshake does.
            if matches!(outcome, ListenOutcome::Opened | ListenOutcome::BacklogFull) {
                self.record_arrival(now, local, remote, &segment);
            }
            if outcome == ListenOutcome::BacklogFull {
                self.record(|| TraceRecord {
                    local,
                    remote,
                    event: TraceEvent::Dropped {
                        at: now,
                        reason: "backlog full: SYN dropped",
                    },
                });
            }
            return;
        }
        self.record_arrival(now, local, remote, &segment);
        if let Some(reset) = reset_for(&segment, src, dst) {
            self.emit_segment(now, None, &reset);
        }
    }
    // ANCHOR_END: tcp_demux

    /// Records a segment that no connection saw.
    fn record_arrival(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        segment: &TcpRepr<'_>,
    ) {
        self.record(|| TraceRecord {
            local,
            remote,
            event: TraceEvent::Received {
                at: now,
                segment: SegmentSummary::of(segment),
            },
        });
    }

    // ---------------------------------------------------------------
    // Segments out
    // ---------------------------------------------------------------

    /// Everything every connection and listener wants sent now, then the
    /// traces, then the connections that are over are forgotten.
    pub(super) fn tcp_flush(&mut self, now: Instant) {
        // Orphans and shut readers: what arrived is thrown away, which may
        // open the window (an ACK due), so before collecting segments.
        let mut discard = [0u8; 2048];
        for entry in self.connections.values_mut() {
            if entry.released || entry.read_shut {
                while entry.conn.recv(&mut discard) > 0 {}
            }
        }

        // A segment our own path MTU refuses (Don't Fragment, and a path
        // narrower than the connection knew) lowers its MSS and puts its
        // data back in line: a second round sends it in the smaller size
        // now, not after a retransmission timeout.
        if self.tcp_transmit(now) {
            self.tcp_transmit(now);
        }

        if self.config.records_trace() {
            for entry in self.connections.values_mut() {
                let (local, remote) = (entry.conn.local(), entry.conn.remote());
                self.trace.extend(
                    entry
                        .conn
                        .take_trace()
                        .into_iter()
                        .map(|event| TraceRecord {
                            local,
                            remote,
                            event,
                        }),
                );
            }
        }

        let orphan_timeout = self.config.orphan_timeout;
        for entry in self.connections.values_mut() {
            if entry.released && entry.conn.state() == State::FinWait2 && entry.forget_at.is_none()
            {
                entry.forget_at = Some(now + orphan_timeout);
            }
        }
        self.connections.retain(|_, entry| !entry.finished(now));
        self.listeners.retain(|_, entry| !entry.closing);
    }

    /// One round of sending: every segment each connection and listener
    /// wants sent now goes out. True if a connection's segment was too
    /// big for the path and its MSS went down (another round is due).
    fn tcp_transmit(&mut self, now: Instant) -> bool {
        let mut outgoing: Vec<(Option<TcpHandle>, OutSegment)> = Vec::new();
        for (&handle, entry) in &mut self.connections {
            while let Some(segment) = entry.conn.poll_transmit(now) {
                outgoing.push((Some(handle), segment));
            }
        }
        for entry in self.listeners.values_mut() {
            while let Some(segment) = entry.listener.poll_transmit(now) {
                outgoing.push((None, segment));
            }
        }
        let mut mss_lowered = false;
        for (owner, segment) in outgoing {
            // A listener's RSTs (to an ACK for no connection, or aborting
            // what was never accepted) are in no connection's trace; the
            // handshakes of its queued connections are, once accepted.
            if owner.is_none() && segment.flags.contains(TcpFlags::RST) {
                self.record(|| TraceRecord {
                    local: segment.src,
                    remote: segment.dst,
                    event: TraceEvent::Sent {
                        at: now,
                        segment: segment.summary(),
                        retransmission: false,
                    },
                });
            }
            mss_lowered |= self.emit_segment(now, owner, &segment);
        }
        mss_lowered
    }

    // ANCHOR: emit_segment
    /// Sends one segment: its checksum over the pseudo-header (our
    /// emitter), then an IPv4 datagram through the interface, with Don't
    /// Fragment set (RFC 1191 §6.2: TCP discovers the path MTU, so a
    /// router too narrow says "fragmentation needed" instead of cutting
    /// our segments into fragments). True if the segment was too big for
    /// the path MTU the interface knows: the connection's MSS is lowered
    /// to fit, and what it had sent goes again.
    ///
    /// If the network layer fails otherwise, TCP's own timer will send it
    /// again; the failure is kept as the connection's soft error, and
    /// while opening, a neighbour that does not answer ARP ends the
    /// attempt ("no route to host", as Linux says).
    fn emit_segment(
        &mut self,
        now: Instant,
        owner: Option<TcpHandle>,
        segment: &OutSegment,
    ) -> bool {
        let bytes = segment.build();
        let dont_frag = SendOptions {
            dont_frag: true,
            ..SendOptions::default()
        };
        let sent =
            self.interface
                .send_with(now, *segment.dst.ip(), IpProtocol::TCP, &bytes, dont_frag);
        let Some(entry) = owner.and_then(|handle| self.connections.get_mut(&handle)) else {
            return false;
        };
        let error = match sent {
            Ok(()) => {
                entry.sent.sent(segment);
                return false;
            }
            Err(error) => error,
        };
        if let SendError::TooBig { mtu } = error {
            // Our own layer 3 knows the path is narrower (another
            // connection's ICMP taught it): as Linux does on EMSGSIZE.
            let before = entry.conn.send_mss();
            entry.conn.path_mtu_changed(now, mtu);
            return entry.conn.send_mss() < before;
        }
        entry.soft_error = Some(error);
        if entry.conn.state() == State::SynSent && matches!(error, SendError::HostUnreachable(_)) {
            entry.conn.abort(now);
            entry.hard_error = Some(io::ErrorKind::HostUnreachable);
        }
        false
    }
    // ANCHOR_END: emit_segment

    /// ARP gave up on `neighbour`: every connection whose packets go
    /// through it keeps "host unreachable" as its soft error, and one
    /// still opening fails with it at once (RFC 1122 §4.2.3.9 lets an
    /// opening connection give up on such news; Linux does, after its
    /// three ARP requests).
    pub(super) fn tcp_neighbour_unreachable(&mut self, now: Instant, neighbour: Ipv4Addr) {
        let routes = self.interface.routes();
        for entry in self.connections.values_mut() {
            let peer = *entry.conn.remote().ip();
            let next_hop = routes.lookup(peer).map(|route| route.next_hop(peer));
            if next_hop != Some(neighbour) || entry.conn.is_closed() {
                continue;
            }
            entry.soft_error = Some(SendError::HostUnreachable(neighbour));
            if entry.conn.state() == State::SynSent {
                entry.conn.abort(now);
                entry.hard_error = Some(io::ErrorKind::HostUnreachable);
            }
        }
    }

    // ---------------------------------------------------------------
    // The program's calls
    // ---------------------------------------------------------------

    // ANCHOR: tcp_connect
    /// Active open to `remote`: an ephemeral port, an unpredictable ISN
    /// (RFC 6528), an MSS that fits the path, and the SYN on its way at
    /// the next [`poll`](Self::poll). The handshake goes on in the
    /// background; [`tcp_state`](Self::tcp_state) says when it is done.
    pub fn tcp_connect(&mut self, now: Instant, remote: SocketAddrV4) -> io::Result<TcpHandle> {
        let ip = *remote.ip();
        if remote.port() == 0 || ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot connect to {remote}"),
            ));
        }
        if self.interface.routes().lookup(ip).is_none() {
            return Err(send_error(SendError::NoRoute(ip)));
        }
        let port = self.free_tcp_port()?;
        let local = SocketAddrV4::new(self.interface.addr(), port);
        let iss = self.isn.isn(now, local, remote);
        let config = self.tcp_config_toward(now, ip);
        let handle = TcpHandle(self.take_handle());
        let conn = Connection::connect(local, remote, iss, now, config);
        self.connections.insert(handle, TcpEntry::new(conn));
        Ok(handle)
    }
    // ANCHOR_END: tcp_connect

    /// The connection template with the MSS lowered to what one datagram
    /// toward `dst` carries: the path MTU (the link's, or less if a router
    /// said so, RFC 1191) minus 40 bytes of headers.
    fn tcp_config_toward(&self, now: Instant, dst: Ipv4Addr) -> TcpConfig {
        let mtu = self.interface.path_mtu(now, dst);
        self.tcp_config_for_mtu(mtu)
    }

    fn tcp_config_for_mtu(&self, mtu: usize) -> TcpConfig {
        let fits = u16::try_from(mtu.saturating_sub(IPV4_TCP_HEADERS)).unwrap_or(u16::MAX);
        let mut config = self.config.tcp.clone();
        config.mss = config.mss.min(fits);
        config
    }

    /// A local port no connection or listener uses.
    fn free_tcp_port(&mut self) -> io::Result<u16> {
        let (connections, listeners) = (&self.connections, &self.listeners);
        let in_use = |port: u16| {
            connections
                .values()
                .any(|entry| entry.conn.local().port() == port)
                || listeners
                    .values()
                    .any(|entry| entry.listener.local().port() == port)
        };
        self.tcp_ports.allocate(in_use).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "every ephemeral port is in use",
            )
        })
    }

    /// Passive open: listen on `port` of our address (an ephemeral one if
    /// 0), holding up to `backlog` connections until they are accepted.
    ///
    /// Only another listener makes a port busy: connections still
    /// finishing on it (in TIME-WAIT, say) do not, as with the
    /// `SO_REUSEADDR` that servers set so they can restart at once.
    pub fn tcp_listen(&mut self, port: u16, backlog: usize) -> io::Result<ListenerHandle> {
        let port = if port == 0 {
            self.free_tcp_port()?
        } else {
            port
        };
        if self
            .listeners
            .values()
            .any(|entry| entry.listener.local().port() == port)
        {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("TCP port {port} is already listening"),
            ));
        }
        let local = SocketAddrV4::new(self.interface.addr(), port);
        let config = self.tcp_config_for_mtu(self.interface.mtu());
        let listener = Listener::new(local, backlog.max(1), config, self.isn.clone());
        let handle = ListenerHandle(self.take_handle());
        self.listeners.insert(
            handle,
            ListenEntry {
                listener,
                closing: false,
            },
        );
        Ok(handle)
    }

    /// The listener's address and port.
    pub fn tcp_listener_addr(&self, listener: ListenerHandle) -> io::Result<SocketAddrV4> {
        self.listeners
            .get(&listener)
            .map(|entry| entry.listener.local())
            .ok_or_else(no_such_socket)
    }

    /// The oldest connection whose handshake is complete, now the
    /// program's, and its peer; [`io::ErrorKind::WouldBlock`] if none yet.
    /// Its MSS is clamped to the path MTU toward the peer as it is `now`
    /// (the listener knew only the link's).
    pub fn tcp_accept(
        &mut self,
        now: Instant,
        listener: ListenerHandle,
    ) -> io::Result<(TcpHandle, SocketAddrV4)> {
        let entry = self
            .listeners
            .get_mut(&listener)
            .ok_or_else(no_such_socket)?;
        let mut conn = entry.listener.accept().ok_or_else(would_block)?;
        let remote = conn.remote();
        conn.path_mtu_changed(now, self.interface.path_mtu(now, *remote.ip()));
        let handle = TcpHandle(self.take_handle());
        self.connections.insert(handle, TcpEntry::new(conn));
        Ok((handle, remote))
    }

    /// Stops listening: connections not yet accepted are reset (RFC 9293
    /// §3.10.4), and the port is free again after the next poll.
    pub fn tcp_unlisten(&mut self, now: Instant, listener: ListenerHandle) {
        if let Some(entry) = self.listeners.get_mut(&listener) {
            entry.listener.close(now);
            entry.closing = true;
        }
    }

    fn entry(&self, handle: TcpHandle) -> io::Result<&TcpEntry> {
        self.connections.get(&handle).ok_or_else(no_such_socket)
    }

    fn entry_mut(&mut self, handle: TcpHandle) -> io::Result<&mut TcpEntry> {
        self.connections.get_mut(&handle).ok_or_else(no_such_socket)
    }

    /// The connection's state (RFC 9293 §3.3.2).
    pub fn tcp_state(&self, handle: TcpHandle) -> io::Result<State> {
        Ok(self.entry(handle)?.conn.state())
    }

    /// Our end and the peer's.
    pub fn tcp_endpoints(&self, handle: TcpHandle) -> io::Result<(SocketAddrV4, SocketAddrV4)> {
        let conn = &self.entry(handle)?.conn;
        Ok((conn.local(), conn.remote()))
    }

    /// Why the connection failed, if it did.
    pub fn tcp_error(&self, handle: TcpHandle) -> io::Result<Option<io::Error>> {
        Ok(self.entry(handle)?.error())
    }

    /// Every connection the stack holds, the program's and those it
    /// finishes alone (like `ss -t`).
    pub fn connections(&self) -> impl Iterator<Item = &Connection> {
        self.connections.values().map(|entry| &entry.conn)
    }

    /// The connection itself, to look at (its RTT estimate, its queues).
    pub fn tcp_connection(&self, handle: TcpHandle) -> io::Result<&Connection> {
        Ok(&self.entry(handle)?.conn)
    }

    /// Copies `data` into the send buffer, as much as fits; the segments
    /// leave at the next poll. [`io::ErrorKind::WouldBlock`] when the
    /// buffer is full; [`io::ErrorKind::BrokenPipe`] after our side closed;
    /// the connection's error if it failed.
    pub fn tcp_send(&mut self, handle: TcpHandle, data: &[u8]) -> io::Result<usize> {
        let entry = self.entry_mut(handle)?;
        if let Some(error) = entry.error() {
            return Err(error);
        }
        if !entry.conn.may_send() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the connection is closed for sending",
            ));
        }
        match entry.conn.send(data) {
            0 if !data.is_empty() => Err(would_block()),
            n => {
                entry.sent.wrote(n);
                Ok(n)
            }
        }
    }

    /// Moves received bytes into `buf`: `Ok(0)` is the end (the peer's
    /// FIN, or our `shutdown(Read)`), [`io::ErrorKind::WouldBlock`] means
    /// nothing yet, an error that the connection failed (a reset).
    pub fn tcp_recv(&mut self, handle: TcpHandle, buf: &mut [u8]) -> io::Result<usize> {
        let entry = self.entry_mut(handle)?;
        if entry.read_shut {
            return Ok(0);
        }
        let n = entry.conn.recv(buf);
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        if let Some(error) = entry.error() {
            return Err(error);
        }
        if entry.conn.may_recv() {
            Err(would_block())
        } else {
            Ok(0)
        }
    }

    /// `shutdown(Write)`: CLOSE (RFC 9293 §3.10.4) — a FIN after the data
    /// already written. Reading goes on.
    pub fn tcp_shutdown_write(&mut self, now: Instant, handle: TcpHandle) -> io::Result<()> {
        self.entry_mut(handle)?.conn.close(now);
        Ok(())
    }

    /// `shutdown(Read)`: reads say end of file from now on, and what
    /// arrives is thrown away (the window stays open, so the peer can
    /// finish and send its FIN).
    pub fn tcp_shutdown_read(&mut self, handle: TcpHandle) -> io::Result<()> {
        self.entry_mut(handle)?.read_shut = true;
        Ok(())
    }

    /// Whether our FIN has been acknowledged: `Ok(true)` in FIN-WAIT-2,
    /// TIME-WAIT, or CLOSED after a clean end; the connection's error if
    /// it failed instead.
    pub fn tcp_fin_acked(&self, handle: TcpHandle) -> io::Result<bool> {
        let entry = self.entry(handle)?;
        if let Some(error) = entry.error() {
            return Err(error);
        }
        Ok(matches!(
            entry.conn.state(),
            State::FinWait2 | State::TimeWait | State::Closed
        ))
    }

    /// ABORT (RFC 9293 §3.10.5): a RST to the peer, the connection gone.
    pub fn tcp_abort(&mut self, now: Instant, handle: TcpHandle) -> io::Result<()> {
        self.entry_mut(handle)?.conn.abort(now);
        Ok(())
    }

    /// The program let go of the connection. The stack finishes what is
    /// left (retransmissions, the FIN exchange, TIME-WAIT) and then forgets
    /// it; the handle is no longer valid.
    pub fn tcp_release(&mut self, handle: TcpHandle) {
        if let Some(entry) = self.connections.get_mut(&handle) {
            entry.released = true;
        }
    }
}
