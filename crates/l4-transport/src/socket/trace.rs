//! The trace a stack prints with `--trace`: one line per TCP segment in or
//! out, in tcpdump's words, plus what the connections did in between
//! (state changes, RTT samples, timeouts).
//!
//! ```text
//!   0.000000 198.18.0.2:52181 <> 198.18.0.1:7: CLOSED → SYN-SENT
//!   0.000089 198.18.0.2:52181 > 198.18.0.1:7: Flags [S], seq 3877584707, win 65535, options [mss 1460,sackOK,TS val 3877584707 ecr 0,nop,wscale 3], length 0
//!   0.000412 198.18.0.1:7 > 198.18.0.2:52181: Flags [S.], seq 2431606554, ack 3877584708, win 65160, options [mss 1460,sackOK,TS val 2721866602 ecr 3877584707,nop,wscale 10], length 0
//!   0.000412 198.18.0.2:52181 > 198.18.0.1:7: Flags [.], seq 1, ack 1, win 32768, options [nop,nop,TS val 3877584707 ecr 2721866602], length 0
//! ```
//!
//! Lines come from the connections' own [`TraceEvent`]s, and from the
//! stack for segments no connection saw (a SYN to a listening port, a
//! segment answered with a RST).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddrV4;
use std::time::Instant;

use super::config::TraceStyle;
use crate::tcp::{SegmentSummary, State, TraceEvent, write_options};
use crate::wire::{TcpFlags, TcpSeqNumber};

/// One event of one connection (or of the stack, about a segment for no
/// connection), with the connection's two ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// Our end.
    pub local: SocketAddrV4,
    /// The peer's end.
    pub remote: SocketAddrV4,
    /// What happened.
    pub event: TraceEvent,
}

/// The initial sequence numbers of one connection, as seen on its SYNs.
#[derive(Debug, Clone, Copy, Default)]
struct Isns {
    ours: Option<TcpSeqNumber>,
    theirs: Option<TcpSeqNumber>,
}

// ANCHOR: trace_formatter
/// Turns [`TraceRecord`]s into lines. It remembers each connection's
/// initial sequence numbers (from the SYNs it formats), so it can show
/// the others relative to them, as tcpdump does: after the handshake, a
/// segment's `seq 1:101` says "the first hundred bytes" at a glance.
/// Times count from the first record.
#[derive(Debug)]
pub struct TraceFormatter {
    style: TraceStyle,
    origin: Option<Instant>,
    isns: HashMap<(SocketAddrV4, SocketAddrV4), Isns>,
}

impl TraceFormatter {
    /// A formatter that shows sequence numbers in `style`.
    pub fn new(style: TraceStyle) -> TraceFormatter {
        TraceFormatter {
            style,
            origin: None,
            isns: HashMap::new(),
        }
    }

    /// The line for `record`, without a newline.
    pub fn format(&mut self, record: &TraceRecord) -> String {
        let at = record.event.at();
        let origin = *self
            .origin
            .get_or_insert_with(|| at.unwrap_or_else(Instant::now));
        let elapsed = at.map(|at| at.saturating_duration_since(origin));
        let mut line = match elapsed {
            Some(t) => format!("{:3}.{:06} ", t.as_secs(), t.subsec_micros()),
            None => " ".repeat(11),
        };
        let (local, remote) = (record.local, record.remote);
        let key = (local, remote);
        let _ = match &record.event {
            TraceEvent::Sent {
                segment,
                retransmission,
                ..
            } => {
                let text = self.segment(key, segment, Direction::Out);
                let note = if *retransmission {
                    " (retransmission)"
                } else {
                    ""
                };
                write!(line, "{local} > {remote}: {text}{note}")
            }
            TraceEvent::Received { segment, .. } => {
                let text = self.segment(key, segment, Direction::In);
                write!(line, "{remote} > {local}: {text}")
            }
            TraceEvent::StateChanged { from, to, .. } => {
                if *to == State::Closed {
                    self.isns.remove(&key);
                }
                write!(line, "{local} <> {remote}: {from} → {to}")
            }
            TraceEvent::Dropped { reason, .. } => {
                write!(line, "{local} <> {remote}: dropped: {reason}")
            }
            TraceEvent::RttSample { rtt, srtt, rto, .. } => write!(
                line,
                "{local} <> {remote}: rtt {rtt:.1?}, srtt {srtt:.1?}, rto {rto:.1?}"
            ),
            TraceEvent::RetransmitTimeout { expiries, rto, .. } => write!(
                line,
                "{local} <> {remote}: retransmission timeout #{expiries}, rto now {rto:.1?}"
            ),
            TraceEvent::Failed { error, .. } => write!(line, "{local} <> {remote}: {error}"),
            // Congestion control, SACK and windows: the connection's own
            // words (RFC 5681, RFC 2018, RFC 7323).
            TraceEvent::Congestion { .. }
            | TraceEvent::DuplicateAck { .. }
            | TraceEvent::FastRetransmit { .. }
            | TraceEvent::SackReceived { .. }
            | TraceEvent::WindowAdvertised { .. }
            | TraceEvent::PeerWindow { .. }
            | TraceEvent::ChallengeAck { .. }
            | TraceEvent::MssChanged { .. } => {
                write!(line, "{local} <> {remote}: {}", record.event)
            }
            TraceEvent::Overflowed { lost } => write!(line, "{lost} trace events lost"),
        };
        line
    }

    /// tcpdump's description of a segment: `Flags [P.], seq 1:6, ack 1,
    /// win 65535, length 5`.
    fn segment(
        &mut self,
        key: (SocketAddrV4, SocketAddrV4),
        segment: &SegmentSummary,
        direction: Direction,
    ) -> String {
        let isns = self.isns.entry(key).or_default();
        let syn = segment.flags.contains(TcpFlags::SYN);
        if syn {
            match direction {
                Direction::Out => isns.ours = Some(segment.seq),
                Direction::In => isns.theirs = Some(segment.seq),
            }
        }
        let (sender, receiver) = match direction {
            Direction::Out => (isns.ours, isns.theirs),
            Direction::In => (isns.theirs, isns.ours),
        };
        // Like tcpdump: a SYN shows the real numbers (they are what it
        // announces); every later segment counts from them.
        let relative = self.style == TraceStyle::Relative && !syn;
        let show = |n: TcpSeqNumber, isn: Option<TcpSeqNumber>| match isn {
            Some(isn) if relative => n - isn,
            _ => u32::from(n) as usize,
        };
        let seq = show(segment.seq, sender);
        let mut text = format!("Flags {}, seq {seq}", segment.flags);
        if segment.len > 0 {
            let _ = write!(text, ":{}", seq.wrapping_add(segment.len));
        }
        if let Some(ack) = segment.ack {
            let _ = write!(text, ", ack {}", show(ack, receiver));
        }
        let _ = write!(text, ", win {}", segment.window);
        if !segment.options.is_empty() {
            // SACK blocks describe the receiver's data, so they count from
            // its ISN, as the ACK does (tcpdump's relative SACK).
            text.push_str(", options [");
            let _ = write_options(&mut text, &segment.options, |n| show(n, receiver));
            text.push(']');
        }
        let _ = write!(text, ", length {}", segment.len);
        text
    }
}
// ANCHOR_END: trace_formatter

/// Which way a segment went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Out,
    In,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::OptionSummary;
    use crate::wire::SackBlocks;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    const US: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 2), 50000);
    const THEM: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 7);

    /// A segment with Linux's option layout: on a SYN, `mss 1460,sackOK,
    /// TS val 100 ecr 0,nop,wscale 7`; on others, no options.
    fn summary(flags: TcpFlags, seq: u32, ack: Option<u32>, len: usize) -> SegmentSummary {
        let options = if flags.contains(TcpFlags::SYN) {
            vec![
                OptionSummary::MaxSegmentSize(1460),
                OptionSummary::SackPermitted,
                OptionSummary::Timestamps {
                    tsval: 100,
                    tsecr: 0,
                },
                OptionSummary::NoOperation,
                OptionSummary::WindowScale(7),
            ]
        } else {
            Vec::new()
        };
        SegmentSummary {
            flags,
            seq: TcpSeqNumber::from(seq),
            ack: ack.map(TcpSeqNumber::from),
            window: 65535,
            len,
            options,
        }
    }

    fn record(event: TraceEvent) -> TraceRecord {
        TraceRecord {
            local: US,
            remote: THEM,
            event,
        }
    }

    fn sent(at: Instant, segment: SegmentSummary) -> TraceRecord {
        record(TraceEvent::Sent {
            at,
            segment,
            retransmission: false,
        })
    }

    fn received(at: Instant, segment: SegmentSummary) -> TraceRecord {
        record(TraceEvent::Received { at, segment })
    }

    /// A handshake whose ISNs straddle the wrap: 4294967295 + 1 is 0.
    fn handshake(t0: Instant) -> Vec<TraceRecord> {
        let ms = Duration::from_millis(1);
        vec![
            sent(t0, summary(TcpFlags::SYN, u32::MAX, None, 0)),
            received(
                t0 + ms,
                summary(TcpFlags::SYN | TcpFlags::ACK, 1000, Some(0), 0),
            ),
            sent(t0 + ms, summary(TcpFlags::ACK, 0, Some(1001), 0)),
            sent(
                t0 + 2 * ms,
                summary(TcpFlags::PSH | TcpFlags::ACK, 0, Some(1001), 5),
            ),
            received(t0 + 3 * ms, summary(TcpFlags::ACK, 1001, Some(5), 0)),
        ]
    }

    #[test]
    fn relative_numbers_count_from_each_sides_isn_across_the_wrap() {
        let t0 = Instant::now();
        let mut formatter = TraceFormatter::new(TraceStyle::Relative);
        let lines: Vec<String> = handshake(t0).iter().map(|r| formatter.format(r)).collect();
        assert_eq!(
            lines,
            [
                "  0.000000 198.18.0.2:50000 > 198.18.0.1:7: Flags [S], seq 4294967295, win 65535, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0",
                "  0.001000 198.18.0.1:7 > 198.18.0.2:50000: Flags [S.], seq 1000, ack 0, win 65535, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0",
                "  0.001000 198.18.0.2:50000 > 198.18.0.1:7: Flags [.], seq 1, ack 1, win 65535, length 0",
                "  0.002000 198.18.0.2:50000 > 198.18.0.1:7: Flags [P.], seq 1:6, ack 1, win 65535, length 5",
                "  0.003000 198.18.0.1:7 > 198.18.0.2:50000: Flags [.], seq 1, ack 6, win 65535, length 0",
            ]
        );
    }

    #[test]
    fn absolute_numbers_are_the_wires() {
        let t0 = Instant::now();
        let mut formatter = TraceFormatter::new(TraceStyle::Absolute);
        let lines: Vec<String> = handshake(t0).iter().map(|r| formatter.format(r)).collect();
        assert!(lines[2].ends_with("Flags [.], seq 0, ack 1001, win 65535, length 0"));
        assert!(lines[3].ends_with("Flags [P.], seq 0:5, ack 1001, win 65535, length 5"));
    }

    /// After the handshake, timestamps and SACK blocks show as tcpdump
    /// shows them; the blocks count from the ISN of the side whose data
    /// they describe (the peer's, 1000 here: edge 3001 shows as 2001),
    /// or are the wire's numbers in the absolute style.
    #[test]
    fn later_segments_show_their_timestamps_and_sack_blocks() {
        let t0 = Instant::now();
        let mut ack = summary(TcpFlags::ACK, 0, Some(2001), 0);
        let blocks = [(TcpSeqNumber(3001), TcpSeqNumber(4449))];
        ack.options = vec![
            OptionSummary::NoOperation,
            OptionSummary::NoOperation,
            OptionSummary::Timestamps {
                tsval: 130,
                tsecr: 456,
            },
            OptionSummary::NoOperation,
            OptionSummary::NoOperation,
            OptionSummary::SackBlocks(SackBlocks::new(&blocks).expect("one block")),
        ];
        let expected = [
            (
                TraceStyle::Relative,
                "Flags [.], seq 1, ack 1001, win 65535, options [nop,nop,TS val 130 ecr 456,nop,nop,sack 1 {2001:3449}], length 0",
            ),
            (
                TraceStyle::Absolute,
                "Flags [.], seq 0, ack 2001, win 65535, options [nop,nop,TS val 130 ecr 456,nop,nop,sack 1 {3001:4449}], length 0",
            ),
        ];
        for (style, tail) in expected {
            let mut formatter = TraceFormatter::new(style);
            let mut records = handshake(t0);
            records.truncate(2);
            records.push(sent(t0 + Duration::from_millis(2), ack.clone()));
            let lines: Vec<String> = records.iter().map(|r| formatter.format(r)).collect();
            assert!(lines[2].ends_with(tail), "{style:?}: {}", lines[2]);
        }
    }

    #[test]
    fn a_reset_for_an_unknown_connection_shows_absolute_numbers() {
        let t0 = Instant::now();
        let mut formatter = TraceFormatter::new(TraceStyle::Relative);
        let line = formatter.format(&sent(
            t0,
            summary(TcpFlags::RST | TcpFlags::ACK, 0, Some(77), 0),
        ));
        assert!(
            line.ends_with("Flags [R.], seq 0, ack 77, win 65535, length 0"),
            "{line}"
        );
    }

    #[test]
    fn state_changes_and_timeouts_have_lines_too() {
        let t0 = Instant::now();
        let mut formatter = TraceFormatter::new(TraceStyle::Relative);
        let state = formatter.format(&record(TraceEvent::StateChanged {
            at: t0,
            from: State::SynSent,
            to: State::Established,
        }));
        assert_eq!(
            state,
            "  0.000000 198.18.0.2:50000 <> 198.18.0.1:7: SYN-SENT → ESTABLISHED"
        );
        let timeout = formatter.format(&record(TraceEvent::RetransmitTimeout {
            at: t0 + Duration::from_secs(1),
            expiries: 1,
            rto: Duration::from_secs(2),
        }));
        assert_eq!(
            timeout,
            "  1.000000 198.18.0.2:50000 <> 198.18.0.1:7: retransmission timeout #1, rto now 2.0s"
        );
    }
}
