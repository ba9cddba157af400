//! From a connection's [`TraceEvent`]s to the lines of a time–sequence
//! graph: which segments carried data in the direction plotted, when
//! they were acknowledged, how far the receiver allowed the sender to go,
//! and (when the sender is us) the congestion window.

use std::time::Instant;

use crate::tcp::{SegmentSummary, TraceEvent};
use crate::wire::{TcpFlags, TcpSeqNumber};

/// Which direction of the connection a graph follows: the data it shows
/// is the data *that* side sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Data we sent: segments from [`TraceEvent::Sent`], ACKs and windows
    /// from the peer's segments, our own cwnd and ssthresh.
    Sent,
    /// Data the peer sent: segments from [`TraceEvent::Received`], ACKs
    /// and windows from ours. The peer's cwnd is not known to us.
    Received,
}

/// One data segment: a vertical tick from `start` to `end` at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataSegment {
    /// Seconds since the connection's first event.
    pub at: f64,
    /// Its first byte, relative to the sender's initial sequence number.
    pub start: f64,
    /// One past its last byte, relative likewise.
    pub end: f64,
    /// It carried sequence space sent before: the sender flagged it (ours),
    /// or it starts below the highest byte already seen (as Wireshark's
    /// `tcp.analysis.retransmission` decides for the peer's segments).
    pub retransmission: bool,
}

/// A value that holds from `at` until the next point: a step line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Seconds since the connection's first event.
    pub at: f64,
    /// Bytes (a relative sequence number, or a window size).
    pub value: f64,
}

/// Everything a time–sequence graph draws, in seconds and relative bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSequence {
    /// The data segments, in the order they were seen.
    pub segments: Vec<DataSegment>,
    /// The cumulative ACK the receiver sent back.
    pub acks: Vec<Step>,
    /// The right edge of the receive window, ACK + window: how far the
    /// sender may go (RFC 9293 §3.8.6).
    pub window_edge: Vec<Step>,
    /// The congestion window, in bytes (RFC 5681; only for
    /// [`Direction::Sent`]).
    pub cwnd: Vec<Step>,
    /// The slow-start threshold, in bytes, once it is finite.
    pub ssthresh: Vec<Step>,
}

impl TimeSequence {
    /// The lines of `events` (one connection's, in the order they
    /// happened) for the data that `direction` sent.
    pub fn from_trace(events: &[TraceEvent], direction: Direction) -> TimeSequence {
        let origin = events.iter().find_map(TraceEvent::at);
        let seconds = |at: Instant| match origin {
            Some(origin) => at.saturating_duration_since(origin).as_secs_f64(),
            None => 0.0,
        };
        let isn = sender_isn(events, direction);
        let relative = |seq: TcpSeqNumber| f64::from(seq.0.wrapping_sub(isn.0));
        let mut series = TimeSequence::default();
        // Windows in bytes, scaled, from the connection's own events; when
        // it recorded none, the 16-bit field of the segments stands in.
        let mut scaled_windows = Vec::new();
        let mut highest_end: Option<f64> = None;
        for event in events {
            if let Some((at, segment, flagged)) = carried_data(event, direction) {
                let start = relative(segment.seq);
                let end = start + segment.len as f64;
                let resent = highest_end.is_some_and(|highest| start < highest);
                highest_end = Some(highest_end.map_or(end, |highest| highest.max(end)));
                series.segments.push(DataSegment {
                    at: seconds(at),
                    start,
                    end,
                    retransmission: flagged || resent,
                });
                continue;
            }
            match (event, direction) {
                (TraceEvent::Received { at, segment }, Direction::Sent)
                | (TraceEvent::Sent { at, segment, .. }, Direction::Received) => {
                    if let Some(ack) = acknowledges(segment) {
                        let at = seconds(*at);
                        let ack = relative(ack);
                        series.acks.push(Step { at, value: ack });
                        series.window_edge.push(Step {
                            at,
                            value: ack + f64::from(segment.window),
                        });
                    }
                }
                (TraceEvent::PeerWindow { at, una, window }, Direction::Sent)
                | (
                    TraceEvent::WindowAdvertised {
                        at,
                        ack: una,
                        window,
                    },
                    Direction::Received,
                ) => {
                    scaled_windows.push(Step {
                        at: seconds(*at),
                        value: relative(*una) + *window as f64,
                    });
                }
                (
                    TraceEvent::Congestion {
                        at, cwnd, ssthresh, ..
                    },
                    Direction::Sent,
                ) => {
                    let at = seconds(*at);
                    series.cwnd.push(Step {
                        at,
                        value: *cwnd as f64,
                    });
                    if *ssthresh != usize::MAX {
                        series.ssthresh.push(Step {
                            at,
                            value: *ssthresh as f64,
                        });
                    }
                }
                _ => {}
            }
        }
        if !scaled_windows.is_empty() {
            series.window_edge = scaled_windows;
        }
        series
    }
}

/// The direction that carried more data in `events`: the one worth
/// plotting when a program does not say (a download is the peer's data,
/// an upload ours).
pub fn busier_direction(events: &[TraceEvent]) -> Direction {
    let (mut sent, mut received) = (0usize, 0usize);
    for event in events {
        match event {
            TraceEvent::Sent { segment, .. } => sent += segment.len,
            TraceEvent::Received { segment, .. } => received += segment.len,
            _ => {}
        }
    }
    if received > sent {
        Direction::Received
    } else {
        Direction::Sent
    }
}

/// The data segment `event` carries in `direction`, if it is one: when,
/// what, and whether its sender flagged it as a retransmission.
fn carried_data(
    event: &TraceEvent,
    direction: Direction,
) -> Option<(Instant, &SegmentSummary, bool)> {
    let (at, segment, flagged) = match (event, direction) {
        (
            TraceEvent::Sent {
                at,
                segment,
                retransmission,
            },
            Direction::Sent,
        ) => (*at, segment, *retransmission),
        (TraceEvent::Received { at, segment }, Direction::Received) => (*at, segment, false),
        _ => return None,
    };
    (segment.len > 0).then_some((at, segment, flagged))
}

/// The initial sequence number of the side whose data is plotted: its
/// SYN's, or else (a trace that starts later) one before its first
/// segment's, so that the first byte seen is byte 1 either way — as
/// Wireshark's relative sequence numbers count.
fn sender_isn(events: &[TraceEvent], direction: Direction) -> TcpSeqNumber {
    let segments = events.iter().filter_map(|event| match (event, direction) {
        (TraceEvent::Sent { segment, .. }, Direction::Sent)
        | (TraceEvent::Received { segment, .. }, Direction::Received) => Some(segment),
        _ => None,
    });
    let mut first = None;
    for segment in segments {
        if segment.flags.contains(TcpFlags::SYN) {
            return segment.seq;
        }
        first.get_or_insert(segment.seq - 1);
    }
    first.unwrap_or_default()
}

/// The ACK a segment carries, unless it is a RST (whose numbers say
/// nothing about data received).
fn acknowledges(segment: &SegmentSummary) -> Option<TcpSeqNumber> {
    if segment.flags.contains(TcpFlags::RST) {
        None
    } else {
        segment.ack
    }
}
