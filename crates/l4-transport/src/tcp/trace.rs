//! A record of what a connection did, for `tcp-client --trace` and for
//! tests: every segment in and out, every state change, every RTT sample
//! and every retransmission timeout with the RTO it left behind.
//!
//! Recording is off unless [`super::TcpConfig::trace`] asks for it; the
//! caller drains the events with [`super::Connection::take_trace`].

use std::fmt;
use std::time::{Duration, Instant};

use super::error::ConnectionError;
use super::segment::SegmentSummary;
use super::state::State;
use crate::wire::TcpSeqNumber;

/// Why the congestion window or the slow-start threshold changed (RFC 5681,
/// RFC 6582), for [`TraceEvent::Congestion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CongestionCause {
    /// The connection started: the initial window (RFC 5681 §3.1).
    Initial,
    /// An ACK of new data grew cwnd by up to one MSS (slow start, §3.1).
    SlowStart,
    /// An ACK grew cwnd by about MSS·MSS/cwnd (congestion avoidance, §3.1).
    CongestionAvoidance,
    /// Three duplicate ACKs: ssthresh halved, fast recovery entered
    /// (RFC 5681 §3.2, RFC 6582 §3.2 step 2).
    FastRetransmit,
    /// Another duplicate ACK inflated cwnd during fast recovery (§3.2 step 4).
    RecoveryInflate,
    /// A partial ACK during fast recovery deflated cwnd (RFC 6582 §3.2
    /// step 5).
    PartialAck,
    /// A full ACK ended fast recovery: cwnd = ssthresh (RFC 6582 §3.2
    /// step 3).
    RecoveryExit,
    /// The retransmission timer fired: cwnd = one MSS, the loss window
    /// (RFC 5681 §3.1, equation 4).
    LossWindow,
    /// The connection was idle for an RTO: cwnd back to the restart window
    /// (RFC 5681 §4.1).
    IdleRestart,
}

impl fmt::Display for CongestionCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CongestionCause::Initial => "initial window",
            CongestionCause::SlowStart => "slow start",
            CongestionCause::CongestionAvoidance => "congestion avoidance",
            CongestionCause::FastRetransmit => "fast retransmit",
            CongestionCause::RecoveryInflate => "fast recovery (inflate)",
            CongestionCause::PartialAck => "partial ACK",
            CongestionCause::RecoveryExit => "fast recovery over",
            CongestionCause::LossWindow => "loss window",
            CongestionCause::IdleRestart => "restart after idle",
        })
    }
}

/// Undrained events kept at most; beyond, events are counted, not kept,
/// so a forgotten trace cannot eat all memory.
pub const MAX_UNDRAINED_EVENTS: usize = 1 << 16;

/// One thing a connection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// A segment left.
    Sent {
        /// When.
        at: Instant,
        /// What.
        segment: SegmentSummary,
        /// It carried sequence space sent before (after a timeout).
        retransmission: bool,
    },
    /// A segment arrived (before any check).
    Received {
        /// When.
        at: Instant,
        /// What.
        segment: SegmentSummary,
    },
    /// A segment that arrived was ignored, or only answered with an ACK.
    Dropped {
        /// When.
        at: Instant,
        /// Why, in RFC 9293's words where it has them.
        reason: &'static str,
    },
    /// The connection moved to another state (RFC 9293 §3.3.2).
    StateChanged {
        /// When.
        at: Instant,
        /// From.
        from: State,
        /// To.
        to: State,
    },
    /// A round-trip time was measured and the estimator updated (RFC 6298
    /// §2).
    RttSample {
        /// When the ACK arrived.
        at: Instant,
        /// The measurement.
        rtt: Duration,
        /// The new SRTT.
        srtt: Duration,
        /// The new RTTVAR.
        rttvar: Duration,
        /// The new RTO.
        rto: Duration,
    },
    /// The retransmission timer fired: the oldest unacknowledged segment
    /// goes again and the RTO doubles (RFC 6298 §5.4–5.6).
    RetransmitTimeout {
        /// When.
        at: Instant,
        /// Expiries in a row (1 for the first).
        expiries: u32,
        /// The RTO after the backoff.
        rto: Duration,
    },
    /// The congestion window or the slow-start threshold changed
    /// (RFC 5681): the second axis of a time–sequence plot.
    Congestion {
        /// When.
        at: Instant,
        /// The congestion window, in bytes.
        cwnd: usize,
        /// The slow-start threshold, in bytes (`usize::MAX` until the
        /// first loss: "arbitrarily high", RFC 5681 §3.1).
        ssthresh: usize,
        /// Why.
        cause: CongestionCause,
    },
    /// A duplicate ACK arrived (RFC 5681 §2: no data, no window change,
    /// SEG.ACK = SND.UNA with data outstanding).
    DuplicateAck {
        /// When.
        at: Instant,
        /// The acknowledgment number repeated.
        ack: TcpSeqNumber,
        /// Duplicates in a row (3 triggers fast retransmit).
        count: u32,
    },
    /// Fast retransmit (RFC 5681 §3.2, RFC 6582): the segment at `seq`
    /// goes again without waiting for the timer; the
    /// [`TraceEvent::Sent`] that carries it is marked as a retransmission.
    FastRetransmit {
        /// When.
        at: Instant,
        /// The first byte resent (SND.UNA, or a hole SACK showed).
        seq: TcpSeqNumber,
        /// The "recover" point of RFC 6582: recovery ends when this is
        /// acknowledged.
        recover: TcpSeqNumber,
    },
    /// SACK blocks arrived on an ACK (RFC 2018): ranges the peer holds
    /// beyond the cumulative ACK, `[left, right)`.
    SackReceived {
        /// When.
        at: Instant,
        /// The blocks, as sent (most recent first).
        blocks: Vec<(TcpSeqNumber, TcpSeqNumber)>,
    },
    /// The window we advertise changed: the peer may send up to
    /// `ack + window` (RFC 9293 §3.8.6, scaled bytes, not the 16-bit field).
    WindowAdvertised {
        /// When.
        at: Instant,
        /// RCV.NXT, the left edge.
        ack: TcpSeqNumber,
        /// RCV.WND in bytes.
        window: usize,
    },
    /// The peer's window as we now know it (SND.UNA, SND.WND in bytes,
    /// scaling applied): a plot's "receive window" line is `una + window`.
    PeerWindow {
        /// When.
        at: Instant,
        /// SND.UNA.
        una: TcpSeqNumber,
        /// SND.WND in bytes.
        window: usize,
    },
    /// A challenge ACK answered a suspicious segment (RFC 5961): a RST
    /// in the window but not at RCV.NXT, a SYN, or a very old ACK.
    ChallengeAck {
        /// When.
        at: Instant,
        /// What provoked it.
        why: &'static str,
    },
    /// The send MSS fell: the path MTU is smaller than we thought
    /// (RFC 1191, "fragmentation needed").
    MssChanged {
        /// When.
        at: Instant,
        /// The new MSS.
        mss: usize,
    },
    /// The connection failed.
    Failed {
        /// When.
        at: Instant,
        /// Why.
        error: ConnectionError,
    },
    /// Events were lost because nobody drained the trace.
    Overflowed {
        /// How many.
        lost: usize,
    },
}

impl TraceEvent {
    /// When it happened (`None` for [`TraceEvent::Overflowed`]).
    pub fn at(&self) -> Option<Instant> {
        match self {
            TraceEvent::Sent { at, .. }
            | TraceEvent::Received { at, .. }
            | TraceEvent::Dropped { at, .. }
            | TraceEvent::StateChanged { at, .. }
            | TraceEvent::RttSample { at, .. }
            | TraceEvent::RetransmitTimeout { at, .. }
            | TraceEvent::Congestion { at, .. }
            | TraceEvent::DuplicateAck { at, .. }
            | TraceEvent::FastRetransmit { at, .. }
            | TraceEvent::SackReceived { at, .. }
            | TraceEvent::WindowAdvertised { at, .. }
            | TraceEvent::PeerWindow { at, .. }
            | TraceEvent::ChallengeAck { at, .. }
            | TraceEvent::MssChanged { at, .. }
            | TraceEvent::Failed { at, .. } => Some(*at),
            TraceEvent::Overflowed { .. } => None,
        }
    }
}

impl fmt::Display for TraceEvent {
    /// One line without the time (the caller knows its clock's origin):
    /// `out [S] seq 1000 win 65535 <mss 1460> len 0`,
    /// `state SYN-SENT → ESTABLISHED`, `rtt 100ms: srtt 100ms rttvar 50ms rto 1s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Sent {
                segment,
                retransmission,
                ..
            } => {
                write!(f, "out {segment}")?;
                if *retransmission {
                    f.write_str(" (retransmission)")?;
                }
                Ok(())
            }
            TraceEvent::Received { segment, .. } => write!(f, "in  {segment}"),
            TraceEvent::Dropped { reason, .. } => write!(f, "    dropped: {reason}"),
            TraceEvent::StateChanged { from, to, .. } => write!(f, "state {from} → {to}"),
            TraceEvent::RttSample {
                rtt,
                srtt,
                rttvar,
                rto,
                ..
            } => write!(
                f,
                "rtt {rtt:?}: srtt {srtt:?} rttvar {rttvar:?} rto {rto:?}"
            ),
            TraceEvent::RetransmitTimeout { expiries, rto, .. } => {
                write!(f, "timeout #{expiries}: retransmitting, rto now {rto:?}")
            }
            TraceEvent::Congestion {
                cwnd,
                ssthresh,
                cause,
                ..
            } => {
                write!(f, "cwnd {cwnd} ssthresh ")?;
                if *ssthresh == usize::MAX {
                    f.write_str("∞")?;
                } else {
                    write!(f, "{ssthresh}")?;
                }
                write!(f, " ({cause})")
            }
            TraceEvent::DuplicateAck { ack, count, .. } => {
                write!(f, "duplicate ACK #{count} of {ack}")
            }
            TraceEvent::FastRetransmit { seq, recover, .. } => {
                write!(f, "fast retransmit from {seq}, recover {recover}")
            }
            TraceEvent::SackReceived { blocks, .. } => {
                f.write_str("SACK")?;
                for (left, right) in blocks {
                    write!(f, " {left}-{right}")?;
                }
                Ok(())
            }
            TraceEvent::WindowAdvertised { ack, window, .. } => {
                write!(f, "window advertised {ack}+{window}")
            }
            TraceEvent::PeerWindow { una, window, .. } => {
                write!(f, "peer window {una}+{window}")
            }
            TraceEvent::ChallengeAck { why, .. } => write!(f, "challenge ACK: {why}"),
            TraceEvent::MssChanged { mss, .. } => write!(f, "path MTU: MSS now {mss}"),
            TraceEvent::Failed { error, .. } => write!(f, "failed: {error}"),
            TraceEvent::Overflowed { lost } => {
                write!(f, "{lost} trace events lost (not drained)")
            }
        }
    }
}

/// The connection's recorder: a bounded `Vec`, or nothing when disabled.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    enabled: bool,
    events: Vec<TraceEvent>,
    lost: usize,
}

impl Trace {
    /// A recorder that keeps events only if `enabled`.
    pub(crate) fn new(enabled: bool) -> Trace {
        Trace {
            enabled,
            ..Trace::default()
        }
    }

    /// Records `event` (built only when recording: tracing off costs a
    /// branch).
    pub(crate) fn record(&mut self, event: impl FnOnce() -> TraceEvent) {
        if !self.enabled {
            return;
        }
        if self.events.len() >= MAX_UNDRAINED_EVENTS {
            self.lost += 1;
        } else {
            self.events.push(event());
        }
    }

    /// Everything recorded since the last call.
    pub(crate) fn take(&mut self) -> Vec<TraceEvent> {
        let mut events = std::mem::take(&mut self.events);
        if self.lost > 0 {
            events.push(TraceEvent::Overflowed { lost: self.lost });
            self.lost = 0;
        }
        events
    }
}
