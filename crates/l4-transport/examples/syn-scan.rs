//! `syn-scan` — a half-open ("SYN") port scanner, like `nmap -sS`, over a
//! raw IP socket (`socket(AF_INET, SOCK_RAW, IPPROTO_TCP)` with
//! `IP_HDRINCL`).
//!
//! For each port it sends a SYN, the first segment of a handshake, and
//! reads what comes back: a SYN-ACK means something listens there
//! (**open**), a RST means nothing does (**closed**), and silence after
//! every retry means something in between dropped the SYN or the answer
//! (**filtered**). It never completes a handshake: raw's kernel does the
//! last step for it, with a RST (see the book's chapter "The SYN
//! scanner").
//!
//! ```text
//! cargo run -p l4-transport --example syn-scan                  # on raw: alpha, ports 1-1024
//! cargo run -p l4-transport --example syn-scan -- -p 7,80,2000-2300
//! cargo run -p l4-transport --example syn-scan -- 198.18.0.77 -p 1-3   # nobody there: filtered
//! ```
//!
//! Scan only what you own: here, the lab. Outside a lab the scanner
//! refuses to run unless the target is named explicitly.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab};
use l3_net::sys::RawIpSocket;
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use l4_transport::tcp::IsnGenerator;
use l4_transport::wire::{TcpFlags, TcpOption, TcpPacket, TcpRepr, TcpSeqNumber};

/// Find which TCP ports of a host are open, closed or filtered, by sending
/// SYNs and reading the answers (a half-open scan, like nmap -sS).
#[derive(Parser)]
#[command(name = "syn-scan", version)]
struct Args {
    /// The IPv4 address to scan (default in the lab: 198.18.0.1, alpha,
    /// from raw and beta; 198.18.0.3, raw's kernel, from alpha). Outside
    /// a lab it must be given: scan only hosts you own.
    host: Option<Ipv4Addr>,
    /// The ports: single ports and ranges separated by commas, like
    /// nmap's -p ("22", "1-1024", "7,80,8000-8100").
    #[arg(short = 'p', long = "ports", default_value = "1-1024")]
    ports: PortList,
    /// At most this many SYNs a second. A scan is a burst of traffic to
    /// one host; keeping it modest keeps it from looking (and acting) like
    /// a flood, and leaves room for the answers.
    #[arg(long, default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_rate: u32,
    /// How many more times to probe a port that did not answer before
    /// calling it filtered (a SYN or its answer may simply be lost).
    #[arg(long, default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    max_retries: u32,
    /// Seconds to wait for late answers after each round of SYNs.
    #[arg(short = 'W', long, default_value_t = 1.0)]
    timeout: f64,
    /// The source port of every SYN (default: one picked at random for
    /// this scan, as nmap does). Answers come back to it.
    #[arg(short = 'g', long, value_parser = clap::value_parser!(u16).range(1..))]
    source_port: Option<u16>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("syn-scan"),
    }
}

/// Whom to scan when no host is named, by where we run.
fn default_host(whereabouts: Whereabouts) -> Ipv4Addr {
    match whereabouts {
        Whereabouts::Alpha => lab::RAW_KERNEL_IP,
        _ => lab::ALPHA_IP,
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let whereabouts = Whereabouts::detect();
    // No interface to name: the kernel's routing table picks it, so the
    // host is the whole of the explicit choice outside the lab.
    check_may_send(whereabouts, true, args.host.is_some())?;
    if !(args.timeout.is_finite() && (0.0..=60.0).contains(&args.timeout)) {
        return Err(Failure::Usage(format!(
            "invalid timeout {} (seconds, 0 to 60)",
            args.timeout
        )));
    }
    let target = args.host.unwrap_or(default_host(whereabouts));
    let source = source_address_for(target)?;
    let socket = RawIpSocket::open(IpProtocol::TCP)?;
    // The socket is open: no privilege is needed from here on, and the
    // code that reads answers from the network runs with none.
    l2_link::sys::drop_capabilities()?;

    let source_port = args.source_port.unwrap_or_else(random_source_port);
    let mut scan = Scan::new(socket, SocketAddrV4::new(source, source_port), target);
    let ports = args.ports.ports();
    println!(
        "Starting syn-scan of {target} from {source}:{source_port}: {} ports, \
         at most {} SYNs a second",
        ports.len(),
        args.max_rate
    );
    let started = Instant::now();
    let pace = Duration::from_secs_f64(1.0 / f64::from(args.max_rate));
    let wait = Duration::from_secs_f64(args.timeout);
    let states = scan.run(ports, args.max_retries + 1, pace, wait)?;
    print_report(target, &states);
    println!(
        "Done: {} ports in {:.2} s, {} SYNs sent",
        ports.len(),
        started.elapsed().as_secs_f64(),
        scan.probes_sent
    );
    Ok(())
}

// ANCHOR: scan_source_address
/// The address raw's kernel would send from to reach `target`: the
/// source of the route to it. Our SYNs must carry it, and so must the
/// checksum's pseudo-header, so the kernel cannot fill it in for us.
///
/// `connect()` on a UDP socket sends nothing: it only looks up the route
/// and fixes the socket's addresses, which `local_addr()` then reports.
fn source_address_for(target: Ipv4Addr) -> Result<Ipv4Addr, Failure> {
    let no_route = |err: io::Error| {
        Failure::Usage(format!(
            "no route to {target} ({err}): this host cannot reach it"
        ))
    };
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    // Port 9 (discard): any port would do, nothing is sent.
    socket.connect((target, 9)).map_err(no_route)?;
    match socket.local_addr()? {
        SocketAddr::V4(local) => Ok(*local.ip()),
        SocketAddr::V6(local) => Err(Failure::Usage(format!(
            "the route to {target} leaves from an IPv6 address ({local})"
        ))),
    }
}
// ANCHOR_END: scan_source_address

/// A source port for this scan: std's per-process random hash seed
/// (seeded by the operating system) folded into 49152-65535, the dynamic
/// range (RFC 6335 §6).
fn random_source_port() -> u16 {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one("syn-scan");
    49_152 + (random % 16_384) as u16
}

/// What a port's answer says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortState {
    /// A SYN-ACK: a listening socket accepted the first step of a
    /// handshake.
    Open,
    /// A RST: the host is there, and no socket listens on the port.
    Closed,
    /// No answer at all, after every retry.
    Filtered,
}

/// One scan of one host: the socket, our side of every probe, and each
/// port's answer so far.
struct Scan {
    socket: RawIpSocket,
    /// Our address and the source port of every SYN.
    us: SocketAddrV4,
    target: Ipv4Addr,
    /// Where each probe's sequence number comes from (see
    /// [`Scan::probe_seq`]).
    cookies: IsnGenerator,
    cookie_time: Instant,
    /// Every port to scan, with its answer once one came.
    answers: BTreeMap<u16, Option<PortState>>,
    /// How many of them have no answer yet.
    waiting_for: usize,
    probes_sent: u64,
    buf: Vec<u8>,
}

impl Scan {
    fn new(socket: RawIpSocket, us: SocketAddrV4, target: Ipv4Addr) -> Scan {
        let cookie_time = Instant::now();
        Scan {
            socket,
            us,
            target,
            cookies: IsnGenerator::with_random_key(cookie_time),
            cookie_time,
            answers: BTreeMap::new(),
            waiting_for: 0,
            probes_sent: 0,
            buf: vec![0u8; 65_535],
        }
    }

    // ANCHOR: scan_rounds
    /// Probes every port up to `tries` times, at most one SYN per `pace`,
    /// waiting `wait` after each round for late answers; ports that never
    /// answered are filtered.
    fn run(
        &mut self,
        ports: &[u16],
        tries: u32,
        pace: Duration,
        wait: Duration,
    ) -> io::Result<BTreeMap<u16, PortState>> {
        self.answers = ports.iter().map(|&port| (port, None)).collect();
        self.waiting_for = self.answers.len();
        for _ in 0..tries {
            let unanswered: Vec<u16> = self
                .answers
                .iter()
                .filter(|(_, state)| state.is_none())
                .map(|(&port, _)| port)
                .collect();
            if unanswered.is_empty() {
                break;
            }
            let mut turn = Instant::now();
            for port in unanswered {
                // Read answers while waiting for our turn to send.
                self.receive_until(turn)?;
                self.send_probe(port)?;
                turn = next_turn(turn, pace, Instant::now());
            }
            self.receive_until(Instant::now() + wait)?;
        }
        Ok(self
            .answers
            .iter()
            .map(|(&port, state)| (port, state.unwrap_or(PortState::Filtered)))
            .collect())
    }
    // ANCHOR_END: scan_rounds

    // ANCHOR: scan_probe_seq
    /// The sequence number of our SYN to `port`. An answer to that SYN
    /// acknowledges it plus one, and nothing else does: that is how an
    /// answer is told from any other segment, without remembering a thing
    /// per probe (the idea of SYN cookies, RFC 4987 §3.6).
    ///
    /// It is RFC 6528's keyed hash F of the four-tuple with the timer M
    /// held at zero (always asked at the same instant): unguessable to
    /// anyone without this scan's random key, and the same every time we
    /// ask, so a retry and its answer agree.
    fn probe_seq(&self, port: u16) -> TcpSeqNumber {
        let them = SocketAddrV4::new(self.target, port);
        self.cookies.isn(self.cookie_time, self.us, them)
    }
    // ANCHOR_END: scan_probe_seq

    // ANCHOR: scan_probe
    /// The whole IPv4 datagram of our SYN to `port`: what the kernel's TCP
    /// would send to open a connection, minus most options.
    fn probe(&self, port: u16) -> Vec<u8> {
        let syn = TcpRepr {
            src_port: self.us.port(),
            dst_port: port,
            seq_number: self.probe_seq(port),
            flags: TcpFlags::SYN,
            // nmap's choice: a small window, and only the one option
            // almost every real SYN carries.
            window_len: 1024,
            options: vec![TcpOption::MaxSegmentSize(1460)],
            ..TcpRepr::default()
        };
        // The checksum covers the pseudo-header: our address and theirs.
        let segment = syn.build(*self.us.ip(), self.target);
        let ip = Ipv4Repr {
            src_addr: *self.us.ip(),
            dst_addr: self.target,
            protocol: IpProtocol::TCP,
            ttl: 64,
            // With DF set the kernel leaves a zero ID alone: an
            // unfragmentable datagram needs none (RFC 6864 §4.1).
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::default(),
            payload_len: segment.len(),
        };
        ip.build(&segment)
    }
    // ANCHOR_END: scan_probe

    fn send_probe(&mut self, port: u16) -> io::Result<()> {
        let datagram = self.probe(port);
        match self.socket.send_to(&datagram, self.target) {
            Ok(_) => {}
            // The kernel could not resolve the target's MAC address (ARP
            // failed) and says so on a later send: that SYN is lost like
            // any other, and the port stays unanswered.
            Err(err) if matches!(err.raw_os_error(), Some(libc::EHOSTUNREACH)) => {}
            Err(err) => return Err(err),
        }
        self.probes_sent += 1;
        Ok(())
    }

    /// Reads answers until `deadline`, or until every port has answered.
    fn receive_until(&mut self, deadline: Instant) -> io::Result<()> {
        while self.waiting_for > 0 {
            let received = match self.socket.recv(&mut self.buf, Some(deadline)) {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            let datagram = self.buf.get(..received.len).unwrap_or_default();
            if let Some((port, state)) = self.classify(datagram)
                && let Some(answer @ None) = self.answers.get_mut(&port)
            {
                // The first answer counts; a duplicate changes nothing.
                *answer = Some(state);
                self.waiting_for -= 1;
            }
        }
        Ok(())
    }

    // ANCHOR: scan_classify
    /// What a datagram from the raw socket says, if it is an answer to one
    /// of our SYNs: `(port, open or closed)`. The socket receives a copy
    /// of every TCP datagram arriving at this host, for any connection, so
    /// most checks here are about whether it is ours at all.
    fn classify(&self, datagram: &[u8]) -> Option<(u16, PortState)> {
        let ip = Ipv4Packet::new_checked(datagram).ok()?;
        if ip.src_addr() != self.target
            || ip.dst_addr() != *self.us.ip()
            || ip.protocol() != IpProtocol::TCP
            || ip.is_fragment()
        {
            return None;
        }
        let packet = TcpPacket::new_checked(ip.payload()).ok()?;
        // parse() also checks the checksum over the pseudo-header.
        let segment = TcpRepr::parse(&packet, ip.src_addr(), ip.dst_addr()).ok()?;
        if segment.dst_port != self.us.port() || !segment.flags.contains(TcpFlags::ACK) {
            return None;
        }
        // Both answers acknowledge our SYN: its sequence number plus one
        // (RFC 9293 §3.10.7.1 for the RST of a closed port).
        if segment.ack_number != self.probe_seq(segment.src_port) + 1 {
            return None;
        }
        let state = if segment.flags.contains(TcpFlags::RST) {
            PortState::Closed
        } else if segment.flags.contains(TcpFlags::SYN) {
            PortState::Open
        } else {
            return None;
        };
        Some((segment.src_port, state))
    }
    // ANCHOR_END: scan_classify
}

/// The most SYNs sent back to back to catch up with the rate.
const MAX_BURST: u32 = 8;

/// When the next SYN may go: one `pace` after the previous turn. A wait
/// can overrun its turn (poll() sleeps in whole milliseconds, longer than
/// the pace at a high rate); counting from the turn rather than from
/// `now` sends the SYNs that fell behind at once, keeping the average
/// rate. But never more than [`MAX_BURST`] of them: a long stall is not
/// made up for with a flood.
fn next_turn(previous: Instant, pace: Duration, now: Instant) -> Instant {
    let earliest = now.checked_sub(pace * MAX_BURST).unwrap_or(now);
    (previous + pace).max(earliest)
}

// ANCHOR: scan_report
/// nmap's report: one line per open port, then how many of the others
/// were closed and filtered.
fn print_report(target: Ipv4Addr, states: &BTreeMap<u16, PortState>) {
    println!("syn-scan report for {target}");
    let count = |wanted: PortState| states.values().filter(|&&s| s == wanted).count();
    for (port, _) in states.iter().filter(|(_, s)| **s == PortState::Open) {
        println!("{port}/tcp open");
    }
    println!(
        "Not shown: {} closed, {} filtered",
        count(PortState::Closed),
        count(PortState::Filtered)
    );
}
// ANCHOR_END: scan_report

/// A set of ports, from nmap's -p syntax: "22", "1-1024", "7,80,8000-8100".
#[derive(Debug, Clone)]
struct PortList(Vec<u16>);

impl PortList {
    /// The ports, ascending, each once.
    fn ports(&self) -> &[u16] {
        &self.0
    }
}

impl FromStr for PortList {
    type Err = String;

    fn from_str(text: &str) -> Result<PortList, String> {
        let port = |s: &str| match s.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("invalid port {s:?} (1 to 65535)")),
            Ok(port) => Ok(port),
        };
        let mut ports = Vec::new();
        for item in text.split(',') {
            let (first, last) = match item.split_once('-') {
                Some((first, last)) => (port(first)?, port(last)?),
                None => (port(item)?, port(item)?),
            };
            if first > last {
                return Err(format!("invalid range {item:?}: {first} is above {last}"));
            }
            ports.extend(first..=last);
        }
        ports.sort_unstable();
        ports.dedup();
        Ok(PortList(ports))
    }
}
