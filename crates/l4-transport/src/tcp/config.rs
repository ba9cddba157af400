//! The knobs of a connection, each with the RFC value as its default.

use std::time::Duration;

use super::rto::RtoBounds;
use crate::wire::tcp::MAX_WINDOW_SCALE;

/// The MSS assumed when the peer's SYN carries no MSS option (RFC 9293
/// §3.7.1, RFC 1122 §4.2.2.6): 576-byte datagrams minus 40 bytes of
/// headers.
pub const DEFAULT_MSS: u16 = 536;

/// The smallest MSS we use, whatever a peer's option (or our own
/// configuration) says. An MSS of 0 (or 1) would have us send empty or
/// one-byte segments forever; Linux clamps to a similar floor
/// (`TCP_MIN_SND_MSS`, 48).
pub const MIN_MSS: u16 = 64;

/// How a [`super::Connection`] (and a [`super::Listener`]'s connections)
/// behave. `TcpConfig::default()` is RFC-faithful; tests and the lab
/// shorten the timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// The largest segment *we* can receive, announced in our SYN's MSS
    /// option, and the largest we send (we also respect the peer's): the
    /// link MTU minus 40 bytes of IPv4 and TCP headers (RFC 9293 §3.7.1).
    /// Default 1460, for Ethernet's 1500; values below [`MIN_MSS`] are
    /// raised to it.
    pub mss: u16,
    /// Bytes the application may have written but the peer not yet
    /// acknowledged. Default 64 KiB.
    pub send_buffer: usize,
    /// Bytes received and not yet read. Our receive window is its free
    /// space: at most 65535 bytes without window scaling, up to
    /// 65535 · 2^shift with it, the shift being the smallest that covers
    /// the whole buffer ([`TcpConfig::window_shift`], RFC 7323 §2.3).
    /// Default 65535 (shift 0); [`TcpConfig::rfc7323`] sets 256 KiB
    /// (shift 3).
    pub recv_buffer: usize,
    /// Maximum Segment Lifetime: TIME-WAIT lasts 2·MSL (RFC 9293 §3.4.2,
    /// §3.6.1). Default 2 minutes, RFC 9293's "engineering choice" (Linux
    /// waits 60 s in all). The lab shortens it (a second or so) so that a
    /// test can reuse a four-tuple right away; nothing else should.
    pub msl: Duration,
    /// RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    pub initial_rto: Duration,
    /// The RTO's floor (RFC 6298 §2.4: 1 s). Linux uses 200 ms; tests and
    /// the lab may go lower, nothing else should.
    pub min_rto: Duration,
    /// The RTO's ceiling, backoff included (RFC 6298 §2.5: at least 60 s).
    pub max_rto: Duration,
    /// Retransmissions of the same segment before the connection fails
    /// with [`super::ConnectionError::TimedOut`] (RFC 9293 §3.8.3's R2).
    /// Default 8: with a 1 s RTO doubling to the 60 s ceiling, about four
    /// minutes of silence (R2 must be at least 100 s, and 3 minutes for a
    /// SYN).
    pub max_retries: u32,
    /// Record a [`super::TraceEvent`] for everything the connection does
    /// (segments, state changes, RTT samples, timeouts), for
    /// `tcp-client --trace`. Off by default: nobody would drain them.
    pub trace: bool,
    /// Challenge ACKs (RFC 5961) a connection sends per second at most
    /// (§7 asks for a limit; Linux's per-host default is 1000, ours is per
    /// connection). Default 10.
    pub challenge_ack_limit: u32,
    /// Turn Nagle's algorithm off (RFC 896, RFC 9293 §3.7.4), like the
    /// sockets API's `TCP_NODELAY`: send small segments at once even while
    /// data is unacknowledged. Default `false` (Nagle on).
    pub nodelay: bool,
    /// Offer the Window Scale option in our SYN (RFC 7323 §2). It is used
    /// only when the peer's SYN carries it too (§2.2). Default `true`.
    pub window_scaling: bool,
    /// Offer the Timestamps option in our SYN (RFC 7323 §3): RTT samples
    /// from every ACK (§4) and protection against wrapped sequence
    /// numbers (PAWS, §5). Used only when both ends offer it. Default
    /// `false` for now (every segment then carries 12 bytes more, so
    /// 1448 data bytes instead of 1460); [`TcpConfig::rfc7323`] turns it
    /// on.
    pub timestamps: bool,
    /// Offer SACK-Permitted in our SYN (RFC 2018 §2): selective
    /// acknowledgments, and loss recovery that resends only the holes
    /// (RFC 6675). Used only when both ends offer it. Default `true`.
    pub sack: bool,
    /// How long an ACK for in-order data may wait for more data or a
    /// reply to ride on (delayed ACKs, RFC 1122 §4.2.3.2: less than
    /// 0.5 s; RFC 5681 §4.2). Every second segment is acknowledged at
    /// once anyway. Zero turns delayed ACKs off: the default for now;
    /// [`TcpConfig::rfc7323`] sets 40 ms (Linux's floor).
    pub delayed_ack: Duration,
    /// Limited transmit (RFC 3042): on each of the first two duplicate
    /// ACKs, send one new segment beyond cwnd, so that a small window
    /// still produces the third duplicate that fast retransmit needs.
    /// Default `false` for now; [`TcpConfig::rfc7323`] turns it on.
    pub limited_transmit: bool,
    /// Segments acknowledged at once, delayed ACKs notwithstanding, at the
    /// start of a connection and again after the delayed-ACK timer had to
    /// fire (Linux's "quick ACK" mode, up to 16 segments). A timer that
    /// fires means nothing else came to carry the ACK: typically the peer
    /// is holding its next small segment until this one is acknowledged
    /// (Nagle, RFC 896) — a request answered by a head and then a body
    /// stalls 40 ms per response without this. Acknowledging more often
    /// than every second segment is always allowed (RFC 5681 §4.2).
    /// Default 0; [`TcpConfig::rfc7323`] sets 16.
    pub quick_acks: u8,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            mss: 1460,
            send_buffer: 64 * 1024,
            recv_buffer: usize::from(u16::MAX),
            msl: Duration::from_secs(120),
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            max_retries: 8,
            trace: false,
            challenge_ack_limit: 10,
            nodelay: false,
            window_scaling: true,
            timestamps: false,
            sack: true,
            delayed_ack: Duration::ZERO,
            limited_transmit: false,
            quick_acks: 0,
        }
    }
}

/// The receive buffer of [`TcpConfig::rfc7323`]: 256 KiB, a window of
/// more than 64 KiB, which only window scaling can offer.
pub const LARGE_RECV_BUFFER: usize = 256 * 1024;

impl TcpConfig {
    /// The default, with everything of a modern TCP on: a 256 KiB
    /// receive buffer offered through window scaling and timestamps
    /// (RFC 7323), SACK (RFC 2018), 40 ms delayed ACKs (RFC 1122
    /// §4.2.3.2) and limited transmit (RFC 3042) — what Linux does too.
    pub fn rfc7323() -> TcpConfig {
        TcpConfig {
            recv_buffer: LARGE_RECV_BUFFER,
            window_scaling: true,
            timestamps: true,
            sack: true,
            delayed_ack: Duration::from_millis(40),
            limited_transmit: true,
            quick_acks: 16,
            ..TcpConfig::default()
        }
    }

    /// The RTO bounds for the estimator.
    pub fn rto_bounds(&self) -> RtoBounds {
        RtoBounds {
            initial: self.initial_rto,
            min: self.min_rto,
            max: self.max_rto,
        }
    }

    // ANCHOR: window_shift
    /// The window scale we offer (RFC 7323 §2.3): the smallest shift S
    /// with 65535 · 2^S ≥ [`recv_buffer`](Self::recv_buffer), so that the
    /// whole buffer can be offered, and at most 14 (§2.3: a larger window
    /// could not be told apart from old data across the 2^31 half of the
    /// sequence space). Larger shifts only make the window coarser: each
    /// unit of the 16-bit field is 2^S bytes.
    pub fn window_shift(&self) -> u8 {
        let mut shift = 0;
        while shift < MAX_WINDOW_SCALE && (usize::from(u16::MAX) << shift) < self.recv_buffer {
            shift += 1;
        }
        shift
    }
    // ANCHOR_END: window_shift

    /// How long TIME-WAIT lasts: 2·MSL.
    pub fn time_wait(&self) -> Duration {
        self.msl.saturating_mul(2)
    }
}
