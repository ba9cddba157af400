//! `traceroute` — find the routers on the way to a host by sending probes
//! with TTL 1, 2, 3, … and listening for who says "time exceeded", like
//! the classic traceroute (`-n`: addresses only, no DNS).
//!
//! ```text
//! cargo run -p l3-net --example traceroute                  # on alpha: to beta, 198.18.1.1
//! cargo run -p l3-net --example traceroute -- 198.18.0.3    # one hop: raw's kernel
//! cargo run -p l3-net --example traceroute -- -I -q 1 198.18.0.3
//! ```
//!
//! beta is reachable from alpha only through our userspace `router` (run it
//! on raw first); without it, every hop after the first is silent.

use std::io;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab};
use l2_link::sys::signal::StopOnInterrupt;
use l3_net::sys::{IcmpSocket, RawRecv, SentAt, UdpProbeSocket};
use l3_net::wire::icmpv4::{
    TYPE_DST_UNREACHABLE, TYPE_ECHO_REPLY, TYPE_ECHO_REQUEST, TYPE_TIME_EXCEEDED,
};
use l3_net::wire::{
    DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, QuotedDatagram,
};

/// Print the route IPv4 packets take to a host.
#[derive(Parser)]
#[command(name = "traceroute", version)]
struct Args {
    /// The host to trace the route to (default in the lab: 198.18.1.1,
    /// beta, from alpha; 198.18.0.1, alpha, from raw and beta).
    target: Option<Ipv4Addr>,
    /// Probe with ICMP echo requests instead of UDP datagrams.
    #[arg(short = 'I', long)]
    icmp: bool,
    /// The largest TTL to try: give up after this many hops.
    #[arg(short = 'm', long = "max-hops", default_value_t = 30,
          value_parser = clap::value_parser!(u8).range(1..))]
    max_hops: u8,
    /// The TTL to start with.
    #[arg(short = 'f', long = "first", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..))]
    first_ttl: u8,
    /// Probes sent to each hop.
    #[arg(short = 'q', long = "queries", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    queries: u8,
    /// Seconds to wait for the answer to each probe.
    #[arg(short = 'w', long, default_value_t = 5.0)]
    wait: f64,
    /// The first UDP destination port; each probe uses the next one
    /// (33434 up: ports nobody listens on, so the target answers "port
    /// unreachable"). With -I, unused.
    #[arg(short = 'p', long, default_value_t = BASE_PORT)]
    port: u16,
}

/// traceroute's traditional first port: 32768 + 666.
const BASE_PORT: u16 = 33434;

/// Each probe is 60 bytes on the wire, as traceroute's default: a 20-byte
/// IPv4 header, an 8-byte UDP or ICMP header, and this much data.
const PROBE_DATA_LEN: usize = 32;

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("traceroute"),
    }
}

fn default_target(whereabouts: Whereabouts) -> Ipv4Addr {
    match whereabouts {
        Whereabouts::Alpha => lab::BETA_IP,
        _ => lab::ALPHA_IP,
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let whereabouts = Whereabouts::detect();
    // No interface to name: the kernel's routing table picks it.
    check_may_send(whereabouts, true, args.target.is_some())?;
    if !(args.wait.is_finite() && args.wait > 0.0 && args.wait <= 60.0) {
        return Err(Failure::Usage(format!(
            "invalid wait {} (seconds, 0 < w ≤ 60)",
            args.wait
        )));
    }
    if args.first_ttl > args.max_hops {
        return Err(Failure::Usage(format!(
            "first TTL {} is above the maximum {}",
            args.first_ttl, args.max_hops
        )));
    }
    let target = args.target.unwrap_or(default_target(whereabouts));

    // Only hearing the answers needs a raw socket; then no privilege at all.
    let listener = IcmpSocket::open()?;
    let prober = if args.icmp {
        Prober::Icmp { ident: our_ident() }
    } else {
        let socket = UdpProbeSocket::open()?;
        Prober::Udp {
            source_port: socket.local_port()?,
            socket,
            base_port: args.port,
        }
    };
    l2_link::sys::drop_capabilities()?;
    listener.accept_only(&[TYPE_ECHO_REPLY, TYPE_DST_UNREACHABLE, TYPE_TIME_EXCEEDED])?;
    let stop = StopOnInterrupt::install()?;

    println!(
        "traceroute to {target} ({target}), {} hops max, {} byte packets",
        args.max_hops,
        20 + 8 + PROBE_DATA_LEN
    );
    let tracer = Tracer {
        listener,
        prober,
        target,
        wait: Duration::from_secs_f64(args.wait),
    };
    let mut probe_number: u16 = 0;
    for ttl in args.first_ttl..=args.max_hops {
        let mut line = format!("{ttl:2} ");
        let mut last_from = None;
        let mut done = false;
        for _ in 0..args.queries {
            if stop.requested() {
                break;
            }
            let answer = tracer.probe(ttl, probe_number, &stop)?;
            probe_number = probe_number.wrapping_add(1);
            let Some(answer) = answer else {
                line.push_str(" *");
                continue;
            };
            if last_from != Some(answer.from) {
                line.push_str(&format!(" {}", answer.from));
                last_from = Some(answer.from);
            }
            line.push_str(&format!("  {:.3} ms", answer.rtt.as_secs_f64() * 1e3));
            match answer.kind {
                AnswerKind::OnTheWay => {}
                AnswerKind::Arrived => done = true,
                AnswerKind::Unreachable(mark) => {
                    line.push_str(&format!(" {mark}"));
                    done = true;
                }
            }
        }
        println!("{line}");
        if done || stop.requested() {
            break;
        }
    }
    Ok(())
}

/// Our echo identifier for -I: the process ID's low 16 bits.
fn our_ident() -> u16 {
    (std::process::id() & 0xffff) as u16
}

/// How probes are sent.
enum Prober {
    /// UDP datagrams to unused ports, through an ordinary UDP socket.
    Udp {
        socket: UdpProbeSocket,
        /// The source port of every probe (the kernel chose it).
        source_port: u16,
        base_port: u16,
    },
    /// ICMP echo requests through the raw ICMP socket.
    Icmp { ident: u16 },
}

/// One probe's answer.
struct Answer {
    from: Ipv4Addr,
    rtt: Duration,
    kind: AnswerKind,
}

/// What an answer says about the route.
enum AnswerKind {
    /// A router on the way: "time exceeded".
    OnTheWay,
    /// The target itself: "port unreachable" (UDP) or an echo reply (-I).
    Arrived,
    /// Some other "unreachable": traceroute's mark for it (!H, !N, …).
    Unreachable(&'static str),
}

struct Tracer {
    listener: IcmpSocket,
    prober: Prober,
    target: Ipv4Addr,
    wait: Duration,
}

impl Tracer {
    // ANCHOR: traceroute_probe
    /// Sends probe number `n` with `ttl`, and waits for its answer.
    fn probe(&self, ttl: u8, n: u16, stop: &StopOnInterrupt) -> Result<Option<Answer>, Failure> {
        let data: Vec<u8> = (0..PROBE_DATA_LEN).map(|i| 0x40 + i as u8).collect();
        let sent = match &self.prober {
            Prober::Udp {
                socket, base_port, ..
            } => {
                socket.set_ttl(ttl)?;
                socket.send_to(&data, self.target, base_port.wrapping_add(n))?
            }
            Prober::Icmp { ident } => {
                let request = Icmpv4Repr::EchoRequest {
                    ident: *ident,
                    seq: n.wrapping_add(1),
                    data: &data,
                }
                .build();
                self.listener.set_ttl(ttl)?;
                self.listener.send_to(&request, self.target)?
            }
        };
        self.await_answer(n, sent, stop)
    }
    // ANCHOR_END: traceroute_probe

    /// Reads ICMP until the answer to probe `n` comes, or the wait is over.
    fn await_answer(
        &self,
        n: u16,
        sent: SentAt,
        stop: &StopOnInterrupt,
    ) -> Result<Option<Answer>, Failure> {
        let deadline = Instant::now() + self.wait;
        let mut buf = vec![0u8; 65_536];
        while !stop.requested() {
            let received = match self.listener.recv(&mut buf, Some(deadline)) {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(None),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(None),
                Err(err) => return Err(err.into()),
            };
            if let Some(kind) = self.answer_to(n, &buf[..received.len]) {
                return Ok(Some(answer(&received, sent, kind)));
            }
        }
        Ok(None)
    }

    // ANCHOR: traceroute_match
    /// Whether `datagram` (an IPv4 datagram carrying ICMP) answers probe
    /// `n`, and what it says.
    fn answer_to(&self, n: u16, datagram: &[u8]) -> Option<AnswerKind> {
        let ip = Ipv4Packet::new_checked(datagram).ok()?;
        if ip.protocol() != IpProtocol::ICMP {
            return None;
        }
        let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
        match Icmpv4Repr::parse(&icmp).ok()? {
            // The target answered an echo probe.
            Icmpv4Repr::EchoReply { ident, seq, .. } => {
                let ours = matches!(self.prober, Prober::Icmp { ident: mine } if mine == ident);
                (ours && seq == n.wrapping_add(1) && ip.src_addr() == self.target)
                    .then_some(AnswerKind::Arrived)
            }
            // A router on the way: the probe's TTL ran out there.
            Icmpv4Repr::TimeExceeded { quoted, .. } => {
                self.quotes_probe(quoted, n).then_some(AnswerKind::OnTheWay)
            }
            Icmpv4Repr::DstUnreachable { reason, quoted, .. } => {
                if !self.quotes_probe(quoted, n) {
                    return None;
                }
                Some(match reason {
                    // A UDP probe reached the target: nobody listens there.
                    DstUnreachable::PortUnreachable if ip.src_addr() == self.target => {
                        AnswerKind::Arrived
                    }
                    DstUnreachable::NetUnreachable => AnswerKind::Unreachable("!N"),
                    DstUnreachable::HostUnreachable => AnswerKind::Unreachable("!H"),
                    DstUnreachable::ProtoUnreachable => AnswerKind::Unreachable("!P"),
                    DstUnreachable::FragRequired => AnswerKind::Unreachable("!F"),
                    _ => AnswerKind::Unreachable("!X"),
                })
            }
            _ => None,
        }
    }

    /// Whether an ICMP error's quote is probe `n`: our destination, our
    /// protocol, and in the first 8 bytes of the quoted payload our ports
    /// (UDP) or our identifier and sequence number (ICMP).
    fn quotes_probe(&self, quoted: &[u8], n: u16) -> bool {
        let Ok(quote) = QuotedDatagram::parse(quoted) else {
            return false;
        };
        let first8 = quote.payload_start;
        if quote.header.dst_addr != self.target || first8.len() < 8 {
            return false;
        }
        let word = |at: usize| u16::from_be_bytes([first8[at], first8[at + 1]]);
        match &self.prober {
            Prober::Udp {
                source_port,
                base_port,
                ..
            } => {
                quote.header.protocol == IpProtocol::UDP
                    && word(0) == *source_port
                    && word(2) == base_port.wrapping_add(n)
            }
            Prober::Icmp { ident } => {
                quote.header.protocol == IpProtocol::ICMP
                    && first8[0] == TYPE_ECHO_REQUEST
                    && word(4) == *ident
                    && word(6) == n.wrapping_add(1)
            }
        }
    }
    // ANCHOR_END: traceroute_match
}

/// An answer with its round-trip time: the kernel's receive stamp minus
/// the probe's send stamp (same clock, CLOCK_REALTIME).
fn answer(received: &RawRecv, sent: SentAt, kind: AnswerKind) -> Answer {
    Answer {
        from: received.from,
        rtt: received
            .timestamp
            .duration_since(sent.time)
            .unwrap_or_default(),
        kind,
    }
}
