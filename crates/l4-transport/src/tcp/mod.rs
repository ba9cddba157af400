//! A sans-IO TCP (RFC 9293): segments and the time in, segments out.
//!
//! Nothing here calls the operating system. A [`Connection`] takes parsed
//! segments ([`TcpRepr`](crate::wire::TcpRepr)) and the current
//! [`Instant`](std::time::Instant), and hands back [`OutSegment`]s for
//! its caller to put on the wire. So the same TCP runs over a real veth in
//! the lab and in a unit test on a virtual clock, where "wait for the
//! retransmission timer" is one addition.
//!
//! The pieces:
//! - [`State`] — the eleven states of RFC 9293 §3.3.2;
//! - [`Connection`] — one connection (the TCB, §3.3.1): the handshake,
//!   SEGMENT ARRIVES (§3.10.7), data both ways within the windows (§3.8.6),
//!   close and abort, TIME-WAIT;
//! - [`Listener`] — a port in LISTEN with a bounded backlog;
//! - [`reset_for`] — the RST for a segment no connection wants (§3.10.7.1);
//! - [`IsnGenerator`] — initial sequence numbers per RFC 6528;
//! - [`RttEstimator`], [`RetransmitTimer`] — the retransmission timeout of
//!   RFC 6298, with exponential backoff and Karn's rule;
//! - [`SendBuffer`], [`RecvBuffer`] — the bounded byte queues, and
//!   [`Reassembly`], the out-of-order data beside the second;
//! - [`CongestionControl`] — slow start, congestion avoidance, fast
//!   retransmit and fast recovery: NewReno (RFC 5681, RFC 6582), or with
//!   SACK RFC 6675's pipe;
//! - [`Negotiated`] — the options both SYNs agreed on: window scaling and
//!   timestamps (RFC 7323), SACK (RFC 2018);
//! - [`Scoreboard`] — what the peer has SACKed of ours (RFC 6675);
//! - [`TraceEvent`] — what a connection did, for `tcp-client --trace`.
//!
//! Part 2 added: the reassembly queue for out-of-order segments
//! ([`Reassembly`]), congestion control with fast retransmit and NewReno
//! fast recovery ([`CongestionControl`]), Nagle's algorithm
//! ([`TcpConfig::nodelay`]), zero-window probes (the persist timer), the
//! path-MTU hook ([`Connection::path_mtu_changed`]), RFC 5961's checks
//! against blind attacks; then window scaling, timestamps with RTT
//! samples and PAWS (RFC 7323), SACK both ways (RFC 2018, RFC 6675) and
//! delayed ACKs (RFC 1122 §4.2.3.2), each option used only when both
//! SYNs offer it, and limited transmit (RFC 3042). [`TcpConfig::rfc7323`]
//! turns all of them on; [`TcpConfig::default`] offers window scaling and
//! SACK, not yet timestamps, delayed ACKs or limited transmit. Not
//! implemented: D-SACK (RFC 2883).

mod buffer;
mod config;
mod congestion;
mod connection;
mod error;
mod isn;
mod listener;
mod options;
mod reassembly;
mod rto;
mod sack;
mod segment;
mod state;
mod timestamps;
mod trace;

pub use buffer::{RecvBuffer, SendBuffer};
pub use config::{DEFAULT_MSS, LARGE_RECV_BUFFER, MIN_MSS, TcpConfig};
pub use congestion::{
    CongestionControl, DUPLICATE_ACK_THRESHOLD, DuplicateAckAction, NewAckAction, initial_window,
};
pub use connection::{Connection, acceptable};
pub use error::ConnectionError;
pub use isn::IsnGenerator;
pub use listener::{ListenOutcome, Listener, MAX_PENDING_RESETS};
pub use options::Negotiated;
pub use reassembly::Reassembly;
pub use rto::{
    CLOCK_GRANULARITY, RTO_AFTER_SYN_TIMEOUT, RetransmitTimer, RtoBounds, RttEstimator, RttSnapshot,
};
pub use sack::{MAX_SACKED_RANGES, Scoreboard};
pub use segment::{
    OptionSummary, OutOptions, OutSegment, SegmentSummary, reset_for, write_options,
};
pub use state::State;
pub use timestamps::PAWS_IDLE_LIMIT;
pub use trace::{CongestionCause, MAX_UNDRAINED_EVENTS, TraceEvent};

/// One end of a connection: an IPv4 address and a port.
pub type Endpoint = std::net::SocketAddrV4;
