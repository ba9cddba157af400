//! `arping` — ask "who has this IPv4 address?" on the wire and time the
//! answers, like iputils' arping.
//!
//! On raw it speaks as our userspace stack's identity (02:00:00:00:00:12,
//! 198.18.0.2): a second machine on the cable that the kernel knows nothing
//! about. alpha's kernel answers it all the same, because ARP is just frames.
//!
//! ```text
//! cargo run -p l2-link --example arping                  # who-has 198.18.0.1 on lab1
//! cargo run -p l2-link --example arping -- -c 1 198.18.0.3
//! ```

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab, parse_mac, recv_frame};
use l2_link::sys::{self, PacketSocket, bpf, signal};
use l2_link::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, MacAddr,
};

/// Send ARP requests and print the replies with their round-trip times.
#[derive(Parser)]
#[command(name = "arping", version)]
struct Args {
    /// The IPv4 address to ask for (default: 198.18.0.1, alpha, on raw;
    /// 198.18.0.3, raw's kernel, on alpha; 198.18.1.2, our router, on beta).
    target: Option<Ipv4Addr>,
    /// Interface to send on (default: this lab host's own).
    #[arg(short = 'I', long)]
    interface: Option<String>,
    /// Number of requests to send, one a second.
    #[arg(short = 'c', long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    count: u64,
    /// Seconds to wait for a reply to each request.
    #[arg(short = 'w', long, default_value_t = 1.0)]
    timeout: f64,
    /// Sender MAC address (default: our stack's 02:00:00:00:00:12 on raw,
    /// otherwise the interface's own).
    #[arg(long, value_parser = parse_mac)]
    source_mac: Option<MacAddr>,
    /// Sender IPv4 address (default: the lab host's address; 0.0.0.0, an
    /// RFC 5227 probe, outside the lab).
    #[arg(short = 's', long)]
    source_ip: Option<Ipv4Addr>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match arping(&args) {
        Ok(0) => {
            eprintln!("arping: no reply");
            ExitCode::from(l2_link::exercise::EXIT_NO_ANSWER)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(failure) => failure.report("arping"),
    }
}

/// Who we pretend to be and whom we ask, from where we run.
fn defaults(whereabouts: Whereabouts) -> (Option<MacAddr>, Ipv4Addr, Ipv4Addr) {
    match whereabouts {
        Whereabouts::Raw => (Some(lab::STACK_MAC), lab::STACK_IP, lab::ALPHA_IP),
        Whereabouts::Alpha => (None, lab::ALPHA_IP, lab::RAW_KERNEL_IP),
        Whereabouts::Beta => (None, lab::BETA_IP, lab::STACK_BETA_IP),
        Whereabouts::OutsideLab => (None, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
    }
}

fn arping(args: &Args) -> Result<u64, Failure> {
    let whereabouts = Whereabouts::detect();
    check_may_send(whereabouts, args.interface.is_some(), args.target.is_some())?;
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(Failure::Usage(format!(
            "invalid timeout {} (seconds, 0 < t ≤ 3600)",
            args.timeout
        )));
    }
    let (default_mac, default_ip, default_target) = defaults(whereabouts);
    let interface = args
        .interface
        .clone()
        .unwrap_or_else(|| whereabouts.default_interface().to_string());
    let target = args.target.unwrap_or(default_target);
    let socket = PacketSocket::open(&interface)?;
    socket.attach_filter(&bpf::ethertype_filter(EtherType::ARP))?;
    let source_mac = args.source_mac.or(default_mac).unwrap_or(socket.mac());
    if source_mac != socket.mac() {
        // Replies will be addressed to a MAC the card does not own; a real
        // NIC drops those unless it is promiscuous.
        socket.set_promiscuous(true)?;
    }
    let source_ip = args.source_ip.unwrap_or(default_ip);
    // Socket open, filter attached: no privilege is needed any more.
    sys::drop_capabilities()?;
    let stop = signal::StopOnInterrupt::install()?;

    println!("ARPING {target} from {source_ip} {source_mac} {interface}");
    let request = request_frame(source_mac, source_ip, target);
    let wait = Duration::from_secs_f64(args.timeout);
    let mut replies = 0u64;
    let mut sent = 0u64;
    while sent < args.count && !stop.requested() {
        let sent_at = SystemTime::now();
        socket.send(&request)?;
        sent += 1;
        replies += await_replies(
            &socket,
            &stop,
            source_mac,
            target,
            sent_at,
            Instant::now() + wait,
        )?;
    }
    println!("Sent {sent} probe(s) (broadcast)");
    println!("Received {replies} response(s)");
    Ok(replies)
}

// ANCHOR: arping_request
/// An ARP request, broadcast: "who has `target`? tell `source_ip`".
fn request_frame(source_mac: MacAddr, source_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let arp = ArpRepr::request(source_mac, source_ip, target);
    let mut payload = vec![0u8; arp.buffer_len()];
    arp.emit(&mut ArpPacket::new_unchecked(&mut payload[..]));
    EthernetRepr {
        destination: MacAddr::BROADCAST,
        source: source_mac,
        vlan: None,
        ethertype: EtherType::ARP,
    }
    .build(&payload)
}
// ANCHOR_END: arping_request

// ANCHOR: arping_replies
/// Prints every reply from `target` to us until `deadline`; returns how many.
fn await_replies(
    socket: &PacketSocket,
    stop: &signal::StopOnInterrupt,
    our_mac: MacAddr,
    target: Ipv4Addr,
    sent_at: SystemTime,
    deadline: Instant,
) -> Result<u64, Failure> {
    let mut buf = [0u8; 2048];
    let mut replies = 0;
    while Instant::now() < deadline && !stop.requested() {
        let Some(meta) = recv_frame(socket, &mut buf, deadline)? else {
            break;
        };
        if meta.packet_type == PacketType::Outgoing {
            continue; // our own kernel's frames, looped back to sniffers
        }
        let Some(reply) = parse_arp(&buf[..meta.len]) else {
            continue;
        };
        if reply.operation != ArpOperation::Reply
            || reply.sender_ip != target
            || reply.target_mac != our_mac
        {
            continue;
        }
        // Both times come from CLOCK_REALTIME: ours before sendto(), the
        // kernel's SO_TIMESTAMPNS stamp when the reply arrived.
        let rtt = meta.timestamp.duration_since(sent_at).unwrap_or_default();
        println!(
            "Unicast reply from {} [{}]  {:.3}ms",
            reply.sender_ip,
            reply.sender_mac,
            rtt.as_secs_f64() * 1000.0
        );
        replies += 1;
    }
    // Keep one probe a second, however fast the answer came.
    let pause = deadline.saturating_duration_since(Instant::now());
    if !stop.requested() {
        std::thread::sleep(pause);
    }
    Ok(replies)
}
// ANCHOR_END: arping_replies

fn parse_arp(frame: &[u8]) -> Option<ArpRepr> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    if ethernet.ethertype() != EtherType::ARP {
        return None;
    }
    ArpRepr::parse(&ArpPacket::new_checked(ethernet.payload()).ok()?).ok()
}
