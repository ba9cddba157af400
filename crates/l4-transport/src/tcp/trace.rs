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
