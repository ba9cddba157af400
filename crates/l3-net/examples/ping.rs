//! `ping` — ICMP echo, like iputils ping, over the raw ICMP socket
//! (`socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`), or with `--dgram` over the
//! unprivileged ping socket.
//!
//! ```text
//! cargo run -p l3-net --example ping                   # on raw: 4 pings to alpha, 198.18.0.1
//! cargo run -p l3-net --example ping -- -c 2 -s 1000 -t 1 198.18.0.1
//! cargo run -p l3-net --example ping -- --dgram        # no capability needed (see --help)
//! ```
//!
//! Both times of each round trip are the kernel's, on CLOCK_REALTIME: the
//! software transmit stamp of the request and the receive stamp of the
//! reply (see `l3_net::sys`). `--user-timing` takes both in user space
//! instead (just before `sendto`, just after `recvmsg` returns), to show
//! what the kernel's stamps leave out: the system calls, the wake-up, the
//! scheduler.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use l2_link::exercise::{self, Failure, Whereabouts, check_may_send, lab};
use l2_link::sys::signal::StopOnInterrupt;
use l3_net::sys::{IcmpSocket, PingSocket, RawRecv, SentAt};
use l3_net::wire::icmpv4::{TYPE_DST_UNREACHABLE, TYPE_ECHO_REPLY, TYPE_TIME_EXCEEDED};
use l3_net::wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, QuotedDatagram};

/// Send ICMP echo requests and print each reply with its round-trip time.
#[derive(Parser)]
#[command(name = "ping", version)]
struct Args {
    /// The IPv4 address to ping (default in the lab: 198.18.0.1, alpha,
    /// from raw and beta; 198.18.0.3, raw's kernel, from alpha).
    target: Option<Ipv4Addr>,
    /// Stop after this many requests (default: 4 in the lab; until Ctrl-C
    /// outside it).
    #[arg(short = 'c', long, value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Seconds between requests (at least 0.01).
    #[arg(short = 'i', long, default_value_t = 1.0)]
    interval: f64,
    /// Bytes of data in each request, after the 8-byte ICMP header (56 makes
    /// the classic 64-byte ICMP message, 84 bytes with the IP header).
    #[arg(short = 's', long = "size", default_value_t = 56,
          value_parser = clap::value_parser!(u16).range(0..=MAX_DATA as i64))]
    size: u16,
    /// Time to live of the requests: how many routers they may cross.
    #[arg(short = 't', long, default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(1..))]
    ttl: u8,
    /// Seconds to wait for the last replies after the last request.
    #[arg(short = 'W', long, default_value_t = 10.0)]
    timeout: f64,
    /// Use the unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) instead
    /// of a raw socket. Every capability is dropped *before* it is opened,
    /// to prove none is needed; the sysctl net.ipv4.ping_group_range must
    /// include our group (in the lab: sysctl -w net.ipv4.ping_group_range="0 0").
    /// The kernel replaces our echo identifier with the socket's own.
    #[arg(long)]
    dgram: bool,
    /// Time each round trip in user space only: the clock read just before
    /// sendto() and just after recvmsg() returns, instead of the kernel's
    /// transmit and receive stamps. Slower and noisier: the difference is
    /// what the kernel's stamps are worth.
    #[arg(long)]
    user_timing: bool,
}

/// The largest echo data that fits one IPv4 datagram: 65535 minus the
/// 20-byte IPv4 and 8-byte ICMP headers.
const MAX_DATA: u16 = 65_535 - 20 - 8;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(stats) if stats.received == 0 => ExitCode::from(exercise::EXIT_NO_ANSWER),
        Ok(_) => ExitCode::SUCCESS,
        // A refused ping socket is a missing permission, but not one
        // CAP_NET_RAW would fix: its message names the sysctl instead.
        Err(Failure::Io(err)) if args.dgram && err.kind() == io::ErrorKind::PermissionDenied => {
            eprintln!("ping: {err}");
            ExitCode::from(exercise::EXIT_NO_PRIVILEGE)
        }
        Err(failure) => failure.report("ping"),
    }
}

/// Where requests go, by where we run.
fn default_target(whereabouts: Whereabouts) -> Ipv4Addr {
    match whereabouts {
        Whereabouts::Alpha => lab::RAW_KERNEL_IP,
        _ => lab::ALPHA_IP,
    }
}

/// The socket requests leave through: raw (needs CAP_NET_RAW) or ping.
enum EchoSocket {
    Raw(IcmpSocket),
    Ping(PingSocket),
}

fn run(args: &Args) -> Result<Stats, Failure> {
    let whereabouts = Whereabouts::detect();
    // No interface to name: the kernel's routing table picks it.
    check_may_send(whereabouts, true, args.target.is_some())?;
    let interval = seconds(args.interval, 0.01, "interval")?;
    let linger = seconds(args.timeout, 0.001, "timeout")?;
    let target = args.target.unwrap_or(default_target(whereabouts));
    let count = args.count.or(match whereabouts {
        Whereabouts::OutsideLab => None,
        _ => Some(4),
    });
    let mut socket = open_socket(args.dgram)?;
    if args.user_timing {
        // No transmit stamps: nothing waits for them after each send.
        match &mut socket {
            EchoSocket::Raw(raw) => raw.disable_tx_timestamps()?,
            EchoSocket::Ping(ping) => ping.disable_tx_timestamps()?,
        }
    }
    let ident = match &socket {
        EchoSocket::Raw(_) => our_ident(),
        EchoSocket::Ping(ping) => ping.ident(),
    };
    match &socket {
        EchoSocket::Raw(raw) => raw.set_ttl(args.ttl)?,
        EchoSocket::Ping(ping) => ping.set_ttl(args.ttl)?,
    }
    let stop = StopOnInterrupt::install()?;

    let data = echo_data(usize::from(args.size));
    println!(
        "PING {target} ({target}) {}({}) bytes of data.",
        data.len(),
        data.len() + 8 + 20
    );
    let mut pinger = Pinger {
        socket,
        target,
        ident,
        data,
        stats: Stats::default(),
        sent_at: HashMap::new(),
        answered: HashSet::new(),
        user_timing: args.user_timing,
    };
    // ANCHOR: ping_loop
    let started = Instant::now();
    let mut next_send = started;
    // Once the last request is out: how long to wait for its reply.
    let mut linger_until = None;
    while !stop.requested() {
        let all_sent = count.is_some_and(|count| pinger.stats.transmitted >= count);
        if !all_sent && Instant::now() >= next_send {
            pinger.send_next()?;
            next_send += interval;
            continue;
        }
        let deadline = if all_sent {
            let linger_until = *linger_until.get_or_insert_with(|| Instant::now() + linger);
            if pinger.all_answered() || Instant::now() >= linger_until {
                break;
            }
            linger_until
        } else {
            next_send
        };
        pinger.receive_until(deadline)?;
    }
    // ANCHOR_END: ping_loop
    pinger.stats.elapsed = started.elapsed();
    print!("{}", pinger.stats.summary(target));
    Ok(pinger.stats)
}

/// Opens the socket. A raw socket first, then every capability dropped; a
/// ping socket the other way round, so that it proves it needs none.
// ANCHOR: ping_open
fn open_socket(dgram: bool) -> Result<EchoSocket, Failure> {
    if dgram {
        l2_link::sys::drop_capabilities()?;
        let ping = PingSocket::open().map_err(Failure::Io)?;
        eprintln!(
            "ping: ping socket (SOCK_DGRAM, IPPROTO_ICMP), no capabilities held. \
             The kernel gave it identifier 0x{:04x} and writes that into every \
             request in place of ours (0x{:04x}): it is the socket's \"port\".",
            ping.ident(),
            our_ident()
        );
        return Ok(EchoSocket::Ping(ping));
    }
    let raw = IcmpSocket::open()?;
    // The capability was needed for socket() alone: give it up now.
    l2_link::sys::drop_capabilities()?;
    // Echo replies and the two errors that can answer an echo request;
    // the kernel drops every other ICMP type before it reaches us.
    raw.accept_only(&[TYPE_ECHO_REPLY, TYPE_DST_UNREACHABLE, TYPE_TIME_EXCEEDED])?;
    Ok(EchoSocket::Raw(raw))
}
// ANCHOR_END: ping_open

/// Our echo identifier: the process ID's low 16 bits, as iputils ping has
/// long done, so two pings on one host can tell their replies apart.
fn our_ident() -> u16 {
    (std::process::id() & 0xffff) as u16
}

/// The echo data: byte i is i (mod 256), iputils' pattern. The reply must
/// bring it back unchanged.
fn echo_data(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

/// One ping run: the socket, what was sent, what came back.
struct Pinger {
    socket: EchoSocket,
    target: Ipv4Addr,
    ident: u16,
    data: Vec<u8>,
    stats: Stats,
    /// When each outstanding request left, by sequence number.
    sent_at: HashMap<u16, SentAt>,
    /// Sequence numbers already answered (a second answer is a duplicate).
    answered: HashSet<u16>,
    /// `--user-timing`: a reply's arrival is when `recvmsg` returned, not
    /// the kernel's stamp.
    user_timing: bool,
}

impl Pinger {
    // ANCHOR: ping_send
    /// Sends request number `transmitted + 1` (sequence numbers start at 1
    /// and wrap to 0 after 65535, like iputils').
    fn send_next(&mut self) -> Result<(), Failure> {
        let seq = (self.stats.transmitted + 1) as u16;
        let request = Icmpv4Repr::EchoRequest {
            ident: self.ident,
            seq,
            data: &self.data,
        }
        .build();
        let sent = match &self.socket {
            EchoSocket::Raw(raw) => raw.send_to(&request, self.target),
            EchoSocket::Ping(ping) => ping.send_to(&request, self.target),
        };
        self.stats.transmitted += 1;
        match sent {
            Ok(sent) => {
                self.sent_at.insert(seq, sent);
                self.answered.remove(&seq);
            }
            // "No route to host" and the like: say so and keep going, as
            // iputils does; the request counts as sent and lost.
            Err(err) if err.kind() != io::ErrorKind::PermissionDenied => {
                eprintln!("ping: {err}");
                self.stats.errors += 1;
            }
            Err(err) => return Err(err.into()),
        }
        Ok(())
    }
    // ANCHOR_END: ping_send

    fn all_answered(&self) -> bool {
        self.sent_at.is_empty()
    }

    /// Reads and prints replies until `deadline` (or Ctrl-C).
    fn receive_until(&mut self, deadline: Instant) -> Result<(), Failure> {
        let mut buf = vec![0u8; 65_536];
        let received = match &self.socket {
            EchoSocket::Raw(raw) => raw.recv(&mut buf, Some(deadline)),
            EchoSocket::Ping(ping) => ping.recv(&mut buf, Some(deadline)),
        };
        let mut received = match received {
            Ok(Some(received)) => received,
            Ok(None) => return Ok(()),
            // Ctrl-C: the main loop looks at the flag.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(err) => return Err(err.into()),
        };
        // ANCHOR: user_timing
        // --user-timing: the reply "arrived" when recvmsg returned to us,
        // after the wake-up and the system call, not when the kernel
        // stamped it.
        if self.user_timing {
            received.timestamp = SystemTime::now();
        }
        // ANCHOR_END: user_timing
        let datagram = &buf[..received.len];
        match &self.socket {
            EchoSocket::Raw(_) => self.on_ip_datagram(datagram, &received),
            // A ping socket hands over the ICMP message alone.
            EchoSocket::Ping(_) => self.on_icmp(datagram, &received, received.ttl),
        }
        Ok(())
    }

    /// A raw ICMP socket delivers the whole IPv4 datagram: the TTL is in
    /// its header, the ICMP message is its payload.
    fn on_ip_datagram(&mut self, datagram: &[u8], received: &RawRecv) {
        let Ok(ip) = Ipv4Packet::new_checked(datagram) else {
            return;
        };
        if ip.protocol() != IpProtocol::ICMP || ip.is_fragment() {
            return;
        }
        self.on_icmp(ip.payload(), received, Some(ip.ttl()));
    }

    // ANCHOR: ping_reply
    /// Prints an echo reply for us, or an error quoting one of our
    /// requests; ignores everything else (other programs' ICMP).
    fn on_icmp(&mut self, message: &[u8], received: &RawRecv, ttl: Option<u8>) {
        let Ok(packet) = Icmpv4Packet::new_checked(message) else {
            return;
        };
        // parse() checks the ICMP checksum: a damaged reply is no reply.
        let Ok(repr) = Icmpv4Repr::parse(&packet) else {
            return;
        };
        match repr {
            Icmpv4Repr::EchoReply { ident, seq, data } if ident == self.ident => {
                self.on_reply(seq, data, message.len(), received, ttl);
            }
            Icmpv4Repr::DstUnreachable { quoted, .. } | Icmpv4Repr::TimeExceeded { quoted, .. } => {
                if let Some(seq) = self.our_quoted_request(quoted) {
                    self.stats.errors += 1;
                    self.sent_at.remove(&seq);
                    println!(
                        "From {} icmp_seq={seq} {}",
                        received.from,
                        error_text(&repr)
                    );
                }
            }
            _ => {}
        }
    }

    fn on_reply(&mut self, seq: u16, data: &[u8], len: usize, received: &RawRecv, ttl: Option<u8>) {
        let duplicate = !self.answered.insert(seq);
        // The round trip: the kernel's receive stamp of the reply minus the
        // send stamp of the request, both CLOCK_REALTIME.
        let rtt = match self.sent_at.remove(&seq) {
            Some(sent) => received.timestamp.duration_since(sent.time).ok(),
            None => None,
        };
        if duplicate {
            self.stats.duplicates += 1;
        } else {
            self.stats.received += 1;
            if let Some(rtt) = rtt {
                self.stats.record(rtt);
            }
        }
        let mut line = format!("{len} bytes from {}: icmp_seq={seq}", received.from);
        if let Some(ttl) = ttl {
            line.push_str(&format!(" ttl={ttl}"));
        }
        if let Some(rtt) = rtt {
            line.push_str(&format!(" time={} ms", iputils_ms(rtt)));
        }
        if duplicate {
            line.push_str(" (DUP!)");
        }
        if data != self.data.as_slice() {
            line.push_str(" (data differs from what we sent)");
        }
        println!("{line}");
    }
    // ANCHOR_END: ping_reply

    /// The sequence number of our echo request that an ICMP error quotes,
    /// if it quotes one of ours: to our target, ICMP, an echo request with
    /// our identifier in its first 8 bytes.
    fn our_quoted_request(&self, quoted: &[u8]) -> Option<u16> {
        let quote = QuotedDatagram::parse(quoted).ok()?;
        if quote.header.protocol != IpProtocol::ICMP || quote.header.dst_addr != self.target {
            return None;
        }
        // Only the first 8 bytes are promised: don't ask for a checksum.
        let echo = Icmpv4Packet::new_checked(quote.payload_start).ok()?;
        let ours = echo.msg_type() == l3_net::wire::icmpv4::TYPE_ECHO_REQUEST
            && echo.echo_ident() == self.ident;
        ours.then(|| echo.echo_seq())
    }
}

/// iputils' words for the errors an echo request meets.
fn error_text(repr: &Icmpv4Repr<'_>) -> String {
    use l3_net::wire::{DstUnreachable, TimeExceeded};
    match repr {
        Icmpv4Repr::TimeExceeded {
            reason: TimeExceeded::TtlExpired,
            ..
        } => "Time to live exceeded".into(),
        Icmpv4Repr::TimeExceeded { .. } => "Frag reassembly time exceeded".into(),
        Icmpv4Repr::DstUnreachable { reason, .. } => match reason {
            DstUnreachable::NetUnreachable => "Destination Net Unreachable".into(),
            DstUnreachable::HostUnreachable => "Destination Host Unreachable".into(),
            DstUnreachable::ProtoUnreachable => "Destination Protocol Unreachable".into(),
            DstUnreachable::PortUnreachable => "Destination Port Unreachable".into(),
            DstUnreachable::FragRequired => "Frag needed and DF set".into(),
            other => format!("Destination unreachable ({other})"),
        },
        _ => "unexpected ICMP error".into(),
    }
}

/// A round-trip time in milliseconds as iputils prints it: three
/// significant digits or so (0.045, 1.23, 12.3, 123).
fn iputils_ms(rtt: Duration) -> String {
    let micros = rtt.as_micros();
    if micros >= 100_000 - 50 {
        format!("{}", (micros + 500) / 1000)
    } else if micros >= 10_000 - 5 {
        format!("{:.1}", rtt.as_secs_f64() * 1e3)
    } else if micros >= 1000 {
        format!("{:.2}", rtt.as_secs_f64() * 1e3)
    } else {
        format!("{:.3}", rtt.as_secs_f64() * 1e3)
    }
}

/// What the summary counts.
#[derive(Default)]
struct Stats {
    transmitted: u64,
    received: u64,
    duplicates: u64,
    errors: u64,
    elapsed: Duration,
    rtt_min: Option<Duration>,
    rtt_max: Duration,
    /// Sum of the RTTs and of their squares, in seconds (for mean and mdev).
    rtt_sum: f64,
    rtt_sum_squares: f64,
    rtt_count: u64,
}

impl Stats {
    fn record(&mut self, rtt: Duration) {
        self.rtt_min = Some(self.rtt_min.map_or(rtt, |min| min.min(rtt)));
        self.rtt_max = self.rtt_max.max(rtt);
        let secs = rtt.as_secs_f64();
        self.rtt_sum += secs;
        self.rtt_sum_squares += secs * secs;
        self.rtt_count += 1;
    }

    // ANCHOR: ping_summary
    /// iputils' closing lines.
    fn summary(&self, target: Ipv4Addr) -> String {
        let mut out = format!("\n--- {target} ping statistics ---\n");
        out.push_str(&format!(
            "{} packets transmitted, {} received",
            self.transmitted, self.received
        ));
        if self.duplicates > 0 {
            out.push_str(&format!(", +{} duplicates", self.duplicates));
        }
        if self.errors > 0 {
            out.push_str(&format!(", +{} errors", self.errors));
        }
        if self.transmitted > 0 {
            let lost = self.transmitted.saturating_sub(self.received);
            let loss = lost as f64 * 100.0 / self.transmitted as f64;
            out.push_str(&format!(", {}% packet loss", percent(loss)));
        }
        out.push_str(&format!(", time {}ms\n", self.elapsed.as_millis()));
        if let (Some(min), true) = (self.rtt_min, self.rtt_count > 0) {
            let n = self.rtt_count as f64;
            let mean = self.rtt_sum / n;
            // mdev: the standard deviation, sqrt(E[x²] − E[x]²).
            let mdev = (self.rtt_sum_squares / n - mean * mean).max(0.0).sqrt();
            out.push_str(&format!(
                "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms\n",
                min.as_secs_f64() * 1e3,
                mean * 1e3,
                self.rtt_max.as_secs_f64() * 1e3,
                mdev * 1e3
            ));
        }
        out
    }
    // ANCHOR_END: ping_summary
}

/// A percentage as C's `%g` prints it: "0", "25", "33.3333".
fn percent(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A number of seconds from the command line, checked.
fn seconds(value: f64, min: f64, what: &str) -> Result<Duration, Failure> {
    if value.is_finite() && value >= min && value <= 3600.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::Usage(format!(
            "invalid {what} {value} (seconds, {min} to 3600)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_printed_like_iputils() {
        assert_eq!(iputils_ms(Duration::from_micros(45)), "0.045");
        assert_eq!(iputils_ms(Duration::from_micros(1234)), "1.23");
        assert_eq!(iputils_ms(Duration::from_micros(12_345)), "12.3");
        assert_eq!(iputils_ms(Duration::from_micros(123_456)), "123");
    }

    #[test]
    fn loss_is_printed_like_printf_g() {
        assert_eq!(percent(0.0), "0");
        assert_eq!(percent(25.0), "25");
        assert_eq!(percent(100.0), "100");
        assert_eq!(percent(100.0 / 3.0), "33.3333");
    }

    #[test]
    fn summary_has_loss_and_mdev() {
        let mut stats = Stats {
            transmitted: 4,
            received: 3,
            elapsed: Duration::from_millis(3004),
            ..Stats::default()
        };
        for micros in [100, 200, 300] {
            stats.record(Duration::from_micros(micros));
        }
        // mean 0.2 ms; mdev = sqrt((0.01+0.04+0.09)/3 - 0.04) = 0.0816 ms.
        assert_eq!(
            stats.summary(Ipv4Addr::new(198, 18, 0, 1)),
            "\n--- 198.18.0.1 ping statistics ---\n\
             4 packets transmitted, 3 received, 25% packet loss, time 3004ms\n\
             rtt min/avg/max/mdev = 0.100/0.200/0.300/0.082 ms\n"
        );
    }
}
