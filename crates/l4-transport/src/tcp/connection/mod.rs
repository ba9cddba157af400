//! One TCP connection: its Transmission Control Block (RFC 9293 §3.3.1)
//! and the user calls on it (RFC 9293 §3.10: OPEN, SEND, RECEIVE, CLOSE,
//! ABORT, STATUS).
//!
//! The connection is sans-IO. Segments come in through
//! [`Connection::on_segment`]; segments to send come out of
//! [`Connection::poll_transmit`]; time passes only when the caller says so,
//! through the `now` those two take. A driver loop looks like:
//!
//! ```text
//! loop {
//!     while let Some(segment) = conn.poll_transmit(now) { put it on the wire }
//!     sleep until conn.poll_at(), or until a segment arrives:
//!     conn.on_segment(now, &segment)
//! }
//! ```
//!
//! Drain `poll_transmit` after every call that may want something sent:
//! `on_segment`, `send`, `recv` (a window update), `close`, `abort`.
//!
//! The code is in three files: this one (the TCB and the user's calls),
//! [`arrives`] (RFC 9293 §3.10.7, "SEGMENT ARRIVES") and
//! [`transmit`] (what to send, and the timers).

mod arrives;
mod transmit;

pub use arrives::acceptable;

use std::time::Instant;

use super::Endpoint;
use super::buffer::{RecvBuffer, SendBuffer};
use super::config::{DEFAULT_MSS, MIN_MSS, TcpConfig};
use super::congestion::CongestionControl;
use super::error::ConnectionError;
use super::options::Negotiated;
use super::reassembly::Reassembly;
use super::rto::{RetransmitTimer, RttEstimator, RttSnapshot};
use super::sack::Scoreboard;
use super::segment::OutSegment;
use super::state::State;
use super::timestamps::Timestamps;
use super::trace::{CongestionCause, Trace, TraceEvent};
use crate::wire::{TcpFlags, TcpRepr, TcpSeqNumber};

/// Bytes of IPv4 and TCP headers, without options, in each datagram: the
/// MSS is the MTU minus these (RFC 9293 §3.7.1).
const IPV4_TCP_HEADERS: usize = 40;

/// The send sequence variables (RFC 9293 §3.3.1, Figure 3):
///
/// ```text
///            1         2          3          4
///       ----------|----------|----------|----------
///              SND.UNA    SND.NXT    SND.UNA
///                                   +SND.WND
/// 1 - old sequence numbers that have been acknowledged
/// 2 - sequence numbers of unacknowledged data
/// 3 - sequence numbers allowed for new data transmission
/// 4 - future sequence numbers that are not yet allowed
/// ```
#[derive(Debug, Clone, Copy)]
struct SendSequence {
    /// ISS: our initial sequence number (our SYN's).
    iss: TcpSeqNumber,
    /// SND.UNA: the oldest unacknowledged sequence number.
    una: TcpSeqNumber,
    /// SND.NXT: the next sequence number to send. After a retransmission
    /// timeout it goes back to SND.UNA ("go back"), and the data after it
    /// is sent again.
    nxt: TcpSeqNumber,
    /// The highest sequence number sent so far, plus one ("SND.MAX" in
    /// BSD): SND.NXT before any going back. An ACK up to here is for data
    /// really sent; a segment starting before here is a retransmission.
    max: TcpSeqNumber,
    /// SND.WND: the peer's receive window, from SND.UNA.
    wnd: usize,
    /// SND.WL1, SND.WL2: the SEG.SEQ and SEG.ACK of the segment that last
    /// updated SND.WND, so an older segment cannot undo a newer window.
    wl1: TcpSeqNumber,
    wl2: TcpSeqNumber,
    /// The largest window the peer ever offered (for the sender's silly
    /// window avoidance, RFC 9293 §3.8.6.2.1).
    max_wnd: usize,
}

/// The receive sequence variables (RFC 9293 §3.3.1, Figure 4):
///
/// ```text
///                1          2          3
///            ----------|----------|----------
///                   RCV.NXT    RCV.NXT
///                             +RCV.WND
/// 1 - old sequence numbers that have been acknowledged
/// 2 - sequence numbers allowed for new reception
/// 3 - future sequence numbers that are not yet allowed
/// ```
#[derive(Debug, Clone, Copy)]
struct ReceiveSequence {
    /// IRS: the peer's initial sequence number.
    irs: TcpSeqNumber,
    /// RCV.NXT: the next sequence number we expect.
    nxt: TcpSeqNumber,
    /// RCV.NXT + RCV.WND as last advertised: the right edge of the window
    /// we promised. It never moves left (RFC 9293 §3.8.6.2.2: a receiver
    /// should not shrink the window), so RCV.WND = edge − RCV.NXT.
    edge: TcpSeqNumber,
}

/// Who opened the connection: it decides what a RST in SYN-RECEIVED means
/// (RFC 9293 §3.10.7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// We sent the first SYN ([`Connection::connect`]).
    Active,
    /// A [`super::Listener`] answered the peer's SYN.
    Passive,
}

/// The round-trip time measurement in progress: one segment at a time is
/// timed, as in RFC 6298 §3 ("at least one measurement per RTT").
#[derive(Debug, Clone, Copy)]
struct RttProbe {
    /// The ACK number that acknowledges the timed segment whole.
    ack_needed: TcpSeqNumber,
    /// When it was sent.
    sent_at: Instant,
}

/// A TCP connection (RFC 9293's TCB): the state, the sequence variables,
/// the two buffers and the retransmission timer.
#[derive(Debug, Clone)]
pub struct Connection {
    config: TcpConfig,
    local: Endpoint,
    remote: Endpoint,
    state: State,
    opened: Opened,
    snd: SendSequence,
    rcv: ReceiveSequence,
    send_buffer: SendBuffer,
    recv_buffer: RecvBuffer,
    /// The most data we put in one segment: min(our MSS, the peer's),
    /// less the bytes of options every segment carries (timestamps),
    /// RFC 9293 §3.7.1.
    send_mss: usize,
    rtt: RttEstimator,
    timer: RetransmitTimer,
    rtt_probe: Option<RttProbe>,
    /// The end of the furthest data retransmitted and not yet
    /// acknowledged: an ACK below it may answer either copy, so only a
    /// timestamp echo can measure it (Linux's FLAG_RETRANS_DATA_ACKED).
    retransmitted_until: Option<TcpSeqNumber>,
    /// The SYN was retransmitted (RFC 6298 §5.7 lifts the RTO to 3 s).
    syn_retransmitted: bool,
    /// cwnd and ssthresh (RFC 5681), fast recovery (RFC 6582).
    congestion: CongestionControl,
    /// A segment to resend now, from this sequence number, without
    /// waiting for the timer: fast retransmit, or a partial ACK's hole.
    retransmit_at: Option<TcpSeqNumber>,
    /// Data that arrived beyond RCV.NXT, held until the gap fills.
    reassembly: Reassembly,
    /// What the peer SACKed of ours (RFC 2018, RFC 6675).
    scoreboard: Scoreboard,
    /// Where the peer's FIN sits when it arrived out of order.
    fin_out_of_order: Option<TcpSeqNumber>,
    /// The last (RCV.NXT, window) and (SND.UNA, SND.WND) traced, so a
    /// trace records changes only.
    traced_advertised: Option<(TcpSeqNumber, usize)>,
    traced_peer_window: Option<(TcpSeqNumber, usize)>,
    /// RFC 5961 §7's rate limit: when the current one-second window
    /// began, and challenge ACKs sent in it.
    challenge_window: Option<Instant>,
    challenges_sent: u32,
    /// The persist timer (RFC 9293 §3.8.6.1): when the next zero-window
    /// probe is due, and how many went unanswered by an open window.
    persist_deadline: Option<Instant>,
    persist_backoff: u32,
    /// The user called CLOSE: a FIN follows the last byte of data.
    fin_queued: bool,
    /// The sequence number our FIN took, once it was sent.
    fin_seq: Option<TcpSeqNumber>,
    /// The options in use: what we offer until the peer's SYN arrives,
    /// then what both SYNs agreed on (RFC 7323, RFC 2018).
    options: Negotiated,
    /// Our timestamp clock, TS.Recent and Last.ACK.sent (RFC 7323).
    timestamps: Timestamps,
    /// An ACK (with our current window) should go out now.
    ack_due: bool,
    /// A delayed ACK is owed by this instant (RFC 1122 §4.2.3.2).
    ack_delayed_until: Option<Instant>,
    /// Segments still to be acknowledged at once (quick-ACK mode, see
    /// [`TcpConfig::quick_acks`]).
    quick_acks_left: u8,
    /// A RST to send (ABORT, or an answer to an unacceptable ACK).
    reset_due: Option<OutSegment>,
    /// When TIME-WAIT ends (RFC 9293 §3.6.1: 2·MSL after entering it).
    time_wait_until: Option<Instant>,
    error: Option<ConnectionError>,
    trace: Trace,
}

impl Connection {
    /// Active OPEN (RFC 9293 §3.10.1): a connection from `local` to
    /// `remote` in SYN-SENT, its SYN with sequence number `iss` ready for
    /// [`poll_transmit`](Self::poll_transmit). Take `iss` from an
    /// [`super::IsnGenerator`] (RFC 6528), never a constant.
    pub fn connect(
        local: Endpoint,
        remote: Endpoint,
        iss: TcpSeqNumber,
        now: Instant,
        config: TcpConfig,
    ) -> Connection {
        let mut conn = Connection::new(local, remote, iss, now, config, Opened::Active);
        conn.set_state(now, State::SynSent);
        conn
    }

    /// Passive OPEN, the second half: the [`super::Listener`] on `local`
    /// got `syn` from `remote` (RFC 9293 §3.10.7.2, "third, check for a
    /// SYN"). The connection is in SYN-RECEIVED with its SYN,ACK ready.
    ///
    /// Data or a FIN on the SYN is not taken: our SYN,ACK does not
    /// acknowledge it, so the peer sends it again once we are
    /// synchronized (RFC 9293 allows queueing it; dropping is simpler).
    pub(crate) fn accept_syn(
        local: Endpoint,
        remote: Endpoint,
        iss: TcpSeqNumber,
        now: Instant,
        config: TcpConfig,
        syn: &TcpRepr<'_>,
    ) -> Connection {
        let mut conn = Connection::new(local, remote, iss, now, config, Opened::Passive);
        conn.state = State::Listen;
        conn.synchronize_receive(now, syn);
        conn.snd.wnd = usize::from(syn.window_len);
        conn.snd.max_wnd = conn.snd.wnd;
        conn.snd.wl1 = syn.seq_number;
        conn.set_state(now, State::SynReceived);
        conn
    }

    fn new(
        local: Endpoint,
        remote: Endpoint,
        iss: TcpSeqNumber,
        now: Instant,
        mut config: TcpConfig,
        opened: Opened,
    ) -> Connection {
        // A zero or tiny MSS would have us send empty segments forever.
        config.mss = config.mss.max(MIN_MSS);
        let send_mss = usize::from(config.mss.min(DEFAULT_MSS));
        Connection {
            local,
            remote,
            state: State::Closed,
            opened,
            snd: SendSequence {
                iss,
                una: iss,
                nxt: iss,
                max: iss,
                wnd: 0,
                wl1: TcpSeqNumber(0),
                wl2: iss,
                max_wnd: 0,
            },
            rcv: ReceiveSequence {
                irs: TcpSeqNumber(0),
                nxt: TcpSeqNumber(0),
                edge: TcpSeqNumber(0),
            },
            send_buffer: SendBuffer::new(config.send_buffer),
            recv_buffer: RecvBuffer::new(config.recv_buffer),
            send_mss,
            rtt: RttEstimator::new(config.rto_bounds()),
            timer: RetransmitTimer::default(),
            rtt_probe: None,
            retransmitted_until: None,
            syn_retransmitted: false,
            congestion: CongestionControl::new(send_mss, iss),
            retransmit_at: None,
            reassembly: Reassembly::new(),
            scoreboard: Scoreboard::new(),
            fin_out_of_order: None,
            traced_advertised: None,
            traced_peer_window: None,
            challenge_window: None,
            challenges_sent: 0,
            persist_deadline: None,
            persist_backoff: 0,
            fin_queued: false,
            fin_seq: None,
            options: Negotiated::offer(&config),
            timestamps: Timestamps::new(now, iss.0),
            ack_due: false,
            ack_delayed_until: None,
            quick_acks_left: config.quick_acks,
            reset_due: None,
            time_wait_until: None,
            error: None,
            trace: Trace::new(config.trace),
            config,
        }
    }

    /// The peer's SYN arrived: IRS, RCV.NXT, the window we offered in our
    /// SYN (or are about to: never scaled, so at most 65535, RFC 7323
    /// §2.2), the options both sides agreed on, and the MSS to send with
    /// (RFC 9293 §3.7.1: the smaller of ours and theirs; 536 when they
    /// sent none).
    fn synchronize_receive(&mut self, now: Instant, syn: &TcpRepr<'_>) {
        self.rcv.irs = syn.seq_number;
        self.rcv.nxt = syn.seq_number + 1;
        self.rcv.edge = self.rcv.nxt + self.recv_buffer.free().min(usize::from(u16::MAX));
        self.options = Negotiated::agree(&self.config, syn);
        if let Some((tsval, _)) = syn.timestamps()
            && self.options.timestamps
        {
            self.timestamps.syn_received(now, tsval);
        }
        let theirs = syn.mss().unwrap_or(DEFAULT_MSS).max(MIN_MSS);
        // The MSS counts data only; options come out of it (RFC 9293
        // §3.7.1's Eff.snd.MSS, RFC 6691 §2): with timestamps on every
        // segment, 12 bytes fewer (1448 on Ethernet, as Linux sends).
        self.send_mss = usize::from(self.config.mss.min(theirs))
            .saturating_sub(self.options.option_overhead())
            .max(usize::from(MIN_MSS));
        self.congestion.set_mss(self.send_mss, true);
        if self.options.sack {
            self.congestion.use_sack_recovery();
        }
    }

    // -----------------------------------------------------------------
    // The user's calls (RFC 9293 §3.10)
    // -----------------------------------------------------------------

    /// SEND (RFC 9293 §3.10.2): copies as much of `data` as the send buffer
    /// has room for and returns how much; 0 when full, or when sending is
    /// over (after [`close`](Self::close), or once the connection ended:
    /// see [`may_send`](Self::may_send)). Data written before the
    /// handshake completes waits for it.
    pub fn send(&mut self, data: &[u8]) -> usize {
        if !self.may_send() {
            return 0;
        }
        self.send_buffer.write(data)
    }

    /// RECEIVE (RFC 9293 §3.10.3): moves up to `out.len()` received bytes
    /// into `out`; returns how many (0: nothing there yet, or the end —
    /// see [`may_recv`](Self::may_recv)).
    ///
    /// Reading makes room, and once the room is worth announcing (RFC 9293
    /// §3.8.6.2.2: at least min(half the buffer, one MSS) more than we
    /// offered) an ACK with the new window is due.
    pub fn recv(&mut self, out: &mut [u8]) -> usize {
        let n = self.recv_buffer.read(out);
        if n > 0 && self.state.peer_may_send() && self.window_update_worth_sending() {
            self.ack_due = true;
        }
        n
    }

    /// CLOSE (RFC 9293 §3.10.4): we have nothing more to send. A FIN goes
    /// out after the data already written. In SYN-SENT the connection just
    /// ends; in SYN-RECEIVED the FIN waits for the handshake to complete.
    /// Closing again is harmless.
    pub fn close(&mut self, now: Instant) {
        match self.state {
            State::SynSent => self.set_state(now, State::Closed),
            State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.set_state(now, State::FinWait1);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(now, State::LastAck);
            }
            State::Closed
            | State::Listen
            | State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => {}
        }
    }

    /// ABORT (RFC 9293 §3.10.5): drop everything and, if the peer knows
    /// of us, send `<SEQ=SND.NXT><CTL=RST>`. The connection is CLOSED with
    /// [`ConnectionError::Aborted`].
    ///
    /// We use the highest sequence number sent (SND.NXT before any
    /// going-back after a timeout): the peer's RCV.NXT cannot be past it,
    /// so the RST lands in its window.
    pub fn abort(&mut self, now: Instant) {
        if matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        ) {
            self.reset_due = Some(self.segment(self.snd.max, TcpFlags::RST));
        }
        if self.state != State::Closed {
            self.fail(now, ConnectionError::Aborted);
        }
    }

    /// Turns Nagle's algorithm off (`true`) or on, like `TCP_NODELAY`.
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.config.nodelay = nodelay;
    }

    // ANCHOR: mss_clamp
    /// The path MTU toward the peer is now `mtu` bytes (RFC 1191: an ICMP
    /// "fragmentation needed" said so, and the caller's path-MTU cache
    /// remembered it). If segments of our send MSS no longer fit (MTU − 40
    /// bytes of IPv4 and TCP headers), the MSS is lowered and everything
    /// unacknowledged goes again in the smaller size (RFC 9293 §3.7.2):
    /// the router dropped those segments, and waiting for the RTO would
    /// only delay what we already know. This is not congestion: cwnd and
    /// the RTO are left alone. A larger MTU changes nothing (RFC 1191
    /// raises it only by probing, which we do not do).
    pub fn path_mtu_changed(&mut self, now: Instant, mtu: usize) {
        let fits = mtu
            .saturating_sub(IPV4_TCP_HEADERS + self.options.option_overhead())
            .max(usize::from(MIN_MSS));
        if fits >= self.send_mss {
            return;
        }
        self.send_mss = fits;
        self.congestion.set_mss(fits, false);
        self.trace
            .record(|| TraceEvent::MssChanged { at: now, mss: fits });
        if self.state.is_synchronized() && self.snd.una < self.snd.max {
            // Karn: the timed segment's ACK could now answer either copy.
            self.rtt_probe = None;
            self.retransmit_at = None;
            self.snd.nxt = self.snd.una;
        }
    }
    // ANCHOR_END: mss_clamp

    // -----------------------------------------------------------------
    // STATUS (RFC 9293 §3.10.6)
    // -----------------------------------------------------------------

    /// The state (RFC 9293 §3.3.2).
    pub fn state(&self) -> State {
        self.state
    }

    /// Our end.
    pub fn local(&self) -> Endpoint {
        self.local
    }

    /// The peer's end.
    pub fn remote(&self) -> Endpoint {
        self.remote
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<ConnectionError> {
        self.error
    }

    /// CLOSED: nothing more will happen (TIME-WAIT counts as not closed).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// [`send`](Self::send) would take data: we have not closed, and the
    /// connection is open or opening.
    pub fn may_send(&self) -> bool {
        !self.fin_queued
            && matches!(
                self.state,
                State::SynSent | State::SynReceived | State::Established | State::CloseWait
            )
    }

    /// [`send`](Self::send) would take data now: it may, and there is room.
    pub fn can_send(&self) -> bool {
        self.may_send() && self.send_buffer.free() > 0
    }

    /// More data may come: received bytes wait in the buffer, or the
    /// peer's FIN has not arrived. `false` is end of file.
    pub fn may_recv(&self) -> bool {
        !self.recv_buffer.is_empty() || self.state.peer_may_send()
    }

    /// [`recv`](Self::recv) would return data now.
    pub fn can_recv(&self) -> bool {
        !self.recv_buffer.is_empty()
    }

    /// Bytes written and not yet acknowledged (sent or not).
    pub fn send_queue(&self) -> usize {
        self.send_buffer.len()
    }

    /// Bytes received and not yet read.
    pub fn recv_queue(&self) -> usize {
        self.recv_buffer.len()
    }

    /// The most data per segment we send (RFC 9293 §3.7.1).
    pub fn send_mss(&self) -> usize {
        self.send_mss
    }

    /// The options in use: after the handshake, what both SYNs agreed on
    /// (window scaling, timestamps, SACK); before it, what we offer.
    pub fn options(&self) -> Negotiated {
        self.options
    }

    /// The peer's receive window in bytes, SND.WND (scaled, RFC 7323 §2).
    pub fn send_window(&self) -> usize {
        self.snd.wnd
    }

    /// Sequence space sent and not yet acknowledged (SND.NXT − SND.UNA).
    pub fn bytes_in_flight(&self) -> usize {
        self.snd.nxt - self.snd.una
    }

    /// The congestion window in bytes (RFC 5681).
    pub fn cwnd(&self) -> usize {
        self.congestion.cwnd()
    }

    /// The slow-start threshold in bytes (`usize::MAX` before any loss).
    pub fn ssthresh(&self) -> usize {
        self.congestion.ssthresh()
    }

    /// Whether a fast recovery (RFC 6582) is in progress.
    pub fn in_fast_recovery(&self) -> bool {
        self.congestion.in_recovery()
    }

    /// The ranges of ours the peer has SACKed beyond SND.UNA (RFC 2018).
    pub fn sacked(&self) -> &[(TcpSeqNumber, TcpSeqNumber)] {
        self.scoreboard.ranges()
    }

    /// Out-of-order bytes held for reassembly.
    pub fn reassembly_queue(&self) -> usize {
        self.reassembly.len()
    }

    /// SRTT, RTTVAR and the RTO (RFC 6298).
    pub fn rtt(&self) -> RttSnapshot {
        self.rtt.snapshot()
    }

    /// The trace recorded since the last call (empty unless
    /// [`TcpConfig::trace`] is on).
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.take()
    }

    // -----------------------------------------------------------------
    // Shared helpers
    // -----------------------------------------------------------------

    /// Moves to `to`, recording it; entering TIME-WAIT or CLOSED stops the
    /// retransmission timer (nothing of ours is outstanding any more).
    fn set_state(&mut self, now: Instant, to: State) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.trace
            .record(|| TraceEvent::StateChanged { at: now, from, to });
        match to {
            State::TimeWait => self.enter_time_wait(now),
            State::Closed => {
                self.timer.stop();
                self.time_wait_until = None;
            }
            _ => {}
        }
    }

    /// The connection is over, badly: CLOSED with `error`, the queues
    /// flushed (RFC 9293 §3.10.7.4: "all segment queues should be
    /// flushed").
    fn fail(&mut self, now: Instant, error: ConnectionError) {
        self.error = Some(error);
        self.trace.record(|| TraceEvent::Failed { at: now, error });
        self.send_buffer.acknowledge(usize::MAX);
        self.recv_buffer.clear();
        self.reassembly.clear();
        self.retransmit_at = None;
        self.ack_due = false;
        self.ack_delayed_until = None;
        self.set_state(now, State::Closed);
    }

    /// Records cwnd and ssthresh after a change.
    fn congestion_changed(&mut self, now: Instant, cause: CongestionCause) {
        let (cwnd, ssthresh) = (self.congestion.cwnd(), self.congestion.ssthresh());
        self.trace.record(|| TraceEvent::Congestion {
            at: now,
            cwnd,
            ssthresh,
            cause,
        });
    }

    /// Records why an arriving segment went no further.
    fn drop_segment(&mut self, now: Instant, reason: &'static str) {
        self.trace
            .record(|| TraceEvent::Dropped { at: now, reason });
    }

    /// Whether our FIN has been sent and acknowledged.
    fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|fin| self.snd.una > fin)
    }

    /// The sequence number of the first byte in the send buffer: after the
    /// SYN, which takes ISS.
    fn send_buffer_start(&self) -> TcpSeqNumber {
        if self.snd.una == self.snd.iss {
            self.snd.iss + 1
        } else {
            self.snd.una
        }
    }

    /// RCV.WND: what is left of the window we last advertised.
    fn receive_window(&self) -> usize {
        if self.rcv.edge > self.rcv.nxt {
            self.rcv.edge - self.rcv.nxt
        } else {
            0
        }
    }
}
