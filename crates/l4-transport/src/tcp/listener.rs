//! A listening port: the LISTEN state (RFC 9293 §3.10.7.2) and the queue
//! of connections it has started and the application has not yet taken.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use super::Endpoint;
use super::config::TcpConfig;
use super::connection::Connection;
use super::isn::IsnGenerator;
use super::segment::{OutSegment, reset_for};
use super::state::State;
use crate::wire::{TcpFlags, TcpRepr};

/// RSTs waiting to go out, at most; beyond, answers are not sent (a flood
/// of stray ACKs must not become a flood of RSTs in memory).
pub const MAX_PENDING_RESETS: usize = 16;

/// What a [`Listener`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenOutcome {
    /// Not for this listener's address and port.
    NotForUs,
    /// Handed to one of its queued connections (the handshake's ACK, say).
    Delivered,
    /// A SYN: a new connection in SYN-RECEIVED, its SYN,ACK ready.
    Opened,
    /// A SYN, dropped: the backlog is full. The peer will retry.
    BacklogFull,
    /// Answered with a RST (an ACK to a port nobody is connected on).
    Reset,
    /// Dropped without an answer (a RST, or a segment without SYN or ACK).
    Ignored,
}

/// A passive OPEN (RFC 9293 §3.10.1): a port that takes connections.
///
/// Each SYN starts a [`Connection`] in SYN-RECEIVED, kept here until its
/// handshake completes and [`accept`](Listener::accept) hands it out. The
/// caller routes segments of accepted connections to them first, then to
/// the listener ([`on_segment`](Listener::on_segment)), and answers the
/// rest with [`super::reset_for`].
#[derive(Debug, Clone)]
pub struct Listener {
    local: Endpoint,
    config: TcpConfig,
    backlog: usize,
    isn: IsnGenerator,
    /// Half-open and established-but-not-accepted connections, oldest
    /// first. All count against the backlog.
    queue: Vec<Connection>,
    resets: VecDeque<OutSegment>,
    open: bool,
}

impl Listener {
    /// Listens on `local` (address 0.0.0.0: any of ours) with room for
    /// `backlog` connections not yet accepted; each new connection gets
    /// `config` and an ISN from `isn`.
    pub fn new(local: Endpoint, backlog: usize, config: TcpConfig, isn: IsnGenerator) -> Listener {
        Listener {
            local,
            config,
            backlog,
            isn,
            queue: Vec::new(),
            resets: VecDeque::new(),
            open: true,
        }
    }

    /// The address and port listened on.
    pub fn local(&self) -> Endpoint {
        self.local
    }

    /// LISTEN, or CLOSED after [`close`](Listener::close).
    pub fn state(&self) -> State {
        if self.open {
            State::Listen
        } else {
            State::Closed
        }
    }

    /// Connections held: half-open plus established-not-accepted.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether a segment from `src` to `dst` with these ports is for this
    /// listener.
    pub fn wants(&self, dst: Ipv4Addr, segment: &TcpRepr<'_>) -> bool {
        self.open
            && segment.dst_port == self.local.port()
            && (self.local.ip().is_unspecified() || *self.local.ip() == dst)
    }

    // ANCHOR: listener_backlog
    /// A segment from `src` to `dst` arrived at `now`.
    ///
    /// One of our queued connections gets it if it is from that peer.
    /// Otherwise this is the LISTEN state of RFC 9293 §3.10.7.2: a RST is
    /// ignored; an ACK is answered with `<SEQ=SEG.ACK><CTL=RST>` (nothing
    /// here was sent that it could acknowledge); a SYN starts a connection
    /// — unless the backlog is full, and then it is dropped without a word
    /// (like Linux): the peer's SYN timer tries again, maybe when there is
    /// room.
    pub fn on_segment(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        segment: &TcpRepr<'_>,
    ) -> ListenOutcome {
        if !self.wants(dst, segment) {
            return ListenOutcome::NotForUs;
        }
        let remote = SocketAddrV4::new(src, segment.src_port);
        let local = SocketAddrV4::new(dst, segment.dst_port);
        if let Some(conn) = self
            .queue
            .iter_mut()
            .find(|conn| conn.remote() == remote && conn.local() == local && !conn.is_closed())
        {
            conn.on_segment(now, segment);
            return ListenOutcome::Delivered;
        }
        let flags = segment.flags;
        if flags.contains(TcpFlags::RST) {
            return ListenOutcome::Ignored;
        }
        if flags.contains(TcpFlags::ACK) {
            if self.resets.len() < MAX_PENDING_RESETS {
                self.resets.extend(reset_for(segment, src, dst));
            }
            return ListenOutcome::Reset;
        }
        if !flags.contains(TcpFlags::SYN) {
            return ListenOutcome::Ignored;
        }
        self.forget_closed();
        if self.queue.len() >= self.backlog {
            return ListenOutcome::BacklogFull;
        }
        let iss = self.isn.isn(now, local, remote);
        let conn = Connection::accept_syn(local, remote, iss, now, self.config.clone(), segment);
        self.queue.push(conn);
        ListenOutcome::Opened
    }
    // ANCHOR_END: listener_backlog

    /// The oldest connection whose handshake is complete, now the caller's
    /// to drive; `None` if none is ready. A connection the peer already
    /// closed (CLOSE-WAIT) is ready too: its data can still be read.
    pub fn accept(&mut self) -> Option<Connection> {
        let ready = self.queue.iter().position(|conn| {
            conn.state().is_synchronized() && conn.state() != State::SynReceived
        })?;
        Some(self.queue.remove(ready))
    }

    /// The next segment any queued connection (or the listener's RSTs)
    /// wants sent at `now`; as [`Connection::poll_transmit`].
    pub fn poll_transmit(&mut self, now: Instant) -> Option<OutSegment> {
        if let Some(reset) = self.resets.pop_front() {
            return Some(reset);
        }
        let segment = self
            .queue
            .iter_mut()
            .find_map(|conn| conn.poll_transmit(now));
        if segment.is_none() {
            self.forget_closed();
        }
        segment
    }

    /// The earliest timer of the queued connections.
    pub fn poll_at(&self) -> Option<Instant> {
        self.queue.iter().filter_map(Connection::poll_at).min()
    }

    /// CLOSE in LISTEN (RFC 9293 §3.10.4): stop listening; connections not
    /// yet accepted are aborted (a RST tells their peers).
    pub fn close(&mut self, now: Instant) {
        self.open = false;
        for conn in &mut self.queue {
            conn.abort(now);
        }
    }

    /// Half-open connections that were reset or timed out, and accepted
    /// ones that were aborted, leave the queue (once their last segment,
    /// if any, has been taken by poll_transmit).
    fn forget_closed(&mut self) {
        self.queue.retain(|conn| !conn.is_closed());
    }
}
