//! The plot of a small made-up connection: a snapshot of its SVG, and
//! checks that do not trust the snapshot — the document's tags balance,
//! and there is one tick per data segment of the trace, retransmissions
//! counted apart.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::tcp::{CongestionCause, SegmentSummary};
use crate::wire::{TcpFlags, TcpSeqNumber};

const MSS: usize = 1460;

fn summary(flags: TcpFlags, seq: u32, ack: Option<u32>, len: usize) -> SegmentSummary {
    SegmentSummary {
        flags,
        seq: TcpSeqNumber(seq),
        ack: ack.map(TcpSeqNumber),
        window: 8000,
        len,
        options: Vec::new(),
    }
}

/// Our side sends four segments; the second is lost, two duplicate ACKs
/// come back, the timer fires and it goes again.
fn lossy_upload() -> Vec<TraceEvent> {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let ack = TcpFlags::ACK;
    let sent = |ms, seq, len, retransmission| TraceEvent::Sent {
        at: at(ms),
        segment: summary(ack, seq, Some(5001), len),
        retransmission,
    };
    let received = |ms, acked| TraceEvent::Received {
        at: at(ms),
        segment: summary(ack, 5001, Some(acked), 0),
    };
    let congestion = |ms, cwnd, ssthresh, cause| TraceEvent::Congestion {
        at: at(ms),
        cwnd,
        ssthresh,
        cause,
    };
    vec![
        TraceEvent::Sent {
            at: at(0),
            segment: summary(TcpFlags::SYN, 1000, None, 0),
            retransmission: false,
        },
        TraceEvent::Received {
            at: at(10),
            segment: summary(TcpFlags::SYN | ack, 5000, Some(1001), 0),
        },
        congestion(10, 2 * MSS, usize::MAX, CongestionCause::Initial),
        sent(11, 1001, MSS, false),
        sent(11, 2461, MSS, false),
        received(21, 2461),
        congestion(21, 3 * MSS, usize::MAX, CongestionCause::SlowStart),
        sent(21, 3921, MSS, false),
        sent(22, 5381, MSS, false),
        received(31, 2461),
        received(32, 2461),
        TraceEvent::RetransmitTimeout {
            at: at(300),
            expiries: 1,
            rto: Duration::from_millis(600),
        },
        congestion(300, MSS, 2 * MSS, CongestionCause::LossWindow),
        sent(300, 2461, MSS, true),
        received(310, 6841),
        congestion(310, 2 * MSS, 2 * MSS, CongestionCause::SlowStart),
    ]
}

/// The names of the tags, checked to nest: every `</x>` closes the last
/// `<x …>` still open, and nothing is left open at the end.
fn assert_balanced(document: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = document;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("a tag ends") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes what is open");
        } else {
            open.push(tag.split_whitespace().next().expect("a tag name"));
        }
    }
    assert!(open.is_empty(), "left open: {open:?}");
}

#[test]
fn snapshot_of_a_lossy_upload() {
    let svg = time_sequence_svg(&lossy_upload(), "a lossy upload");
    insta::assert_snapshot!(svg);
}

#[test]
fn the_document_is_well_formed() {
    let svg = time_sequence_svg(&lossy_upload(), "tags <balance> & nest");
    assert!(svg.starts_with("<?xml"));
    assert_balanced(&svg);
    assert!(svg.contains("tags &lt;balance&gt; &amp; nest"));
}

#[test]
fn one_tick_per_data_segment_retransmissions_apart() {
    let trace = lossy_upload();
    let data = |resent: bool| {
        trace
            .iter()
            .filter(|event| {
                matches!(event, TraceEvent::Sent { segment, retransmission, .. }
                    if segment.len > 0 && *retransmission == resent)
            })
            .count()
    };
    let svg = time_sequence_svg(&trace, "ticks");
    assert_eq!(svg.matches("class=\"segment\"").count(), data(false));
    assert_eq!(svg.matches("class=\"retransmission\"").count(), data(true));
    assert_eq!(data(true), 1);
    // Our cwnd is drawn, on the second axis, and so is the finite ssthresh.
    assert!(svg.contains("class=\"cwnd\""));
    assert!(svg.contains("class=\"ssthresh\""));
    assert!(svg.contains("cwnd, ssthresh (bytes)"));
}

/// The same segments as seen by the receiver: a download, where no
/// segment carries a flag, and the one that starts below the highest byte
/// already seen is the retransmission.
#[test]
fn a_download_marks_what_came_again() {
    let swapped: Vec<TraceEvent> = lossy_upload()
        .into_iter()
        .filter_map(|event| match event {
            TraceEvent::Sent { at, segment, .. } => Some(TraceEvent::Received { at, segment }),
            TraceEvent::Received { at, segment } => Some(TraceEvent::Sent {
                at,
                segment,
                retransmission: false,
            }),
            _ => None,
        })
        .collect();
    assert_eq!(busier_direction(&swapped), Direction::Received);
    let series = TimeSequence::from_trace(&swapped, Direction::Received);
    let resent: Vec<f64> = series
        .segments
        .iter()
        .filter(|segment| segment.retransmission)
        .map(|segment| segment.start)
        .collect();
    // Relative to the SYN: the second segment's first byte is 1 + MSS.
    assert_eq!(resent, [1.0 + MSS as f64]);
    assert_eq!(series.acks.last().map(|step| step.value), Some(5841.0));
    assert!(
        series.cwnd.is_empty(),
        "the peer's cwnd is not ours to know"
    );
    let svg = render(&series, "download");
    assert_balanced(&svg);
    assert!(!svg.contains("cwnd"));
}

#[test]
fn an_empty_trace_still_draws_axes() {
    let svg = time_sequence_svg(&[], "nothing");
    assert_balanced(&svg);
    assert_eq!(svg.matches("class=\"segment\"").count(), 0);
}

#[test]
fn a_server_names_a_plot_per_peer_port() {
    assert_eq!(
        path_for_peer(Path::new("out/plot.svg"), 50872),
        Path::new("out/plot-50872.svg")
    );
    assert_eq!(path_for_peer(Path::new("plot"), 7), Path::new("plot-7"));
}
