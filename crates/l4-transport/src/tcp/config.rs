//! The knobs of a connection, each with the RFC value as its default.

use std::time::Duration;

use super::rto::RtoBounds;

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
    /// space, at most 65535 (no window scaling yet, RFC 7323 comes in part
    /// 2). Default 65535.
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
        }
    }
}

impl TcpConfig {
    /// The RTO bounds for the estimator.
    pub fn rto_bounds(&self) -> RtoBounds {
        RtoBounds {
            initial: self.initial_rto,
            min: self.min_rto,
            max: self.max_rto,
        }
    }

    /// How long TIME-WAIT lasts: 2·MSL.
    pub fn time_wait(&self) -> Duration {
        self.msl.saturating_mul(2)
    }
}
