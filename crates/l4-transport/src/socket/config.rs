//! The settings of a stack: the template for its TCP connections, and the
//! limits of what it holds for programs that have not come to collect it.

use std::time::Duration;

use crate::tcp::TcpConfig;

/// How a [`super::NetStack`] (and the [`super::Stack`] that runs one)
/// behaves. `StackConfig::default()` is RFC-faithful, with Linux's choices
/// where the RFCs leave one open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    /// The template for every TCP connection. The stack lowers its `mss`
    /// per connection to what the path carries (the interface's MTU or the
    /// path MTU, minus 40 bytes of IPv4 and TCP headers, RFC 9293
    /// §3.7.1), and sets its `trace` from [`StackConfig::trace`]. Default
    /// [`TcpConfig::rfc7323`]: window scaling, timestamps, SACK, delayed
    /// ACKs and limited transmit, as a stack on a real network should
    /// have (the sans-IO `TcpConfig::default()` keeps them off, so that
    /// step tests of the basics see the basics).
    pub tcp: TcpConfig,
    /// Connections a listening port holds before they are accepted (half-open
    /// ones included), for [`super::TcpListener::bind`]. Default 16.
    pub backlog: usize,
    /// Datagrams a UDP socket holds before they are read; more are dropped,
    /// as a kernel drops them when a socket's receive buffer is full.
    /// Default 64.
    pub udp_queue: usize,
    /// How long closing a [`super::TcpStream`] (dropping it, or
    /// [`close`](super::TcpStream::close)) waits for the peer to
    /// acknowledge our FIN. Default 10 s. After that the stack goes on
    /// alone, and the program may end.
    pub close_timeout: Duration,
    /// How long a connection that its program let go of waits in
    /// FIN-WAIT-2 for the peer's FIN before the stack forgets it (RFC 9293
    /// has no such timer, so a silent peer would hold it forever; Linux's
    /// `tcp_fin_timeout` is 60 s, and so is the default).
    pub orphan_timeout: Duration,
    /// Record every TCP segment in and out, state changes, RTT samples and
    /// timeouts ([`super::TraceRecord`]); a [`super::Stack`] prints them to
    /// stderr in this style. `None` (the default): record nothing.
    pub trace: Option<TraceStyle>,
    /// Record the same events, and keep them until the program collects
    /// them with [`super::Stack::take_trace`] — for `--plot`, which draws a
    /// connection once it is over. Without `trace` nothing is printed.
    /// Default `false`. The records are kept until taken: a program that
    /// asks for them must collect them.
    pub keep_trace: bool,
}

/// How trace lines show sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceStyle {
    /// Like tcpdump: the SYNs show the initial sequence numbers, every
    /// later segment counts from them (`seq 1:6, ack 1`).
    Relative,
    /// The numbers as on the wire (tcpdump's `-S`).
    Absolute,
}

impl Default for StackConfig {
    fn default() -> StackConfig {
        StackConfig {
            tcp: TcpConfig::rfc7323(),
            backlog: 16,
            udp_queue: 64,
            close_timeout: Duration::from_secs(10),
            orphan_timeout: Duration::from_secs(60),
            trace: None,
            keep_trace: false,
        }
    }
}

impl StackConfig {
    /// Whether the connections record their events at all: to print them
    /// ([`StackConfig::trace`]), to keep them
    /// ([`StackConfig::keep_trace`]), or both.
    pub fn records_trace(&self) -> bool {
        self.trace.is_some() || self.keep_trace
    }
}
