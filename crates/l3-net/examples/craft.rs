//! `craft` — write an IPv4 header by hand, send it, and see what the
//! kernel did to it on the way out.
//!
//! By default the datagram goes through a raw IP socket with `IP_HDRINCL`,
//! and an AF_PACKET socket on the same interface catches the copy the
//! kernel hands to sniffers as it leaves (`PACKET_OUTGOING`): comparing the
//! two shows each field the kernel rewrote. With `--link` the datagram
//! goes out through that AF_PACKET socket instead, in an Ethernet frame,
//! exactly as written — a bad checksum or a lying length included — so the
//! receiving kernel is the one to judge it.
//!
//! ```text
//! cargo run -p l3-net --example craft                          # on raw: an echo request to alpha
//! cargo run -p l3-net --example craft -- --checksum 0 --total-len 20 --ttl 3 --df
//! cargo run -p l3-net --example craft -- --link --bad-checksum  # alpha's kernel drops it
//! ```

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab, parse_mac, recv_frame};
use l2_link::print::Printer;
use l2_link::sys::{PacketSocket, bpf, signal::StopOnInterrupt};
use l2_link::wire::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
use l3_net::print::{IP_PROTO, Icmpv4Dissector, Ipv4Dissector};
use l3_net::sys::{self, RawIpSocket};
use l3_net::wire::{Icmpv4Repr, IpProtocol, Ipv4Packet};

/// Send one hand-made IPv4 datagram and show what the kernel changed.
#[derive(Parser)]
#[command(name = "craft", version)]
struct Args {
    /// Destination address (default in the lab: 198.18.0.1, alpha, from
    /// raw and beta; 198.18.0.3, raw's kernel, from alpha).
    target: Option<Ipv4Addr>,
    /// The interface it leaves by, watched (and with --link, sent on).
    /// Default: this lab host's own (lab1 on raw).
    #[arg(short = 'i', long)]
    interface: Option<String>,
    /// Source address to write. Default: 0.0.0.0, which the kernel fills
    /// in; with --link, the interface's own address (nothing fills it in).
    #[arg(long)]
    src: Option<Ipv4Addr>,
    /// Time to live.
    #[arg(long, default_value_t = 64)]
    ttl: u8,
    /// Identification. 0 (the default) asks the kernel to choose one —
    /// which it does only when DF is not set.
    #[arg(long, default_value_t = 0)]
    id: u16,
    /// Set the Don't Fragment flag.
    #[arg(long)]
    df: bool,
    /// The Protocol field. With 1 (ICMP, the default) the payload is an
    /// ICMP echo request carrying --payload as its data, so the target
    /// answers; with any other number --payload is the whole IP payload.
    #[arg(long, default_value_t = 1)]
    protocol: u8,
    /// The text to carry.
    #[arg(long, default_value = "hand-made by rawstack's craft")]
    payload: String,
    /// Write this header checksum (e.g. 0) instead of the right one.
    #[arg(long, value_parser = parse_u16, conflicts_with = "bad_checksum")]
    checksum: Option<u16>,
    /// Write a wrong header checksum: the right one with its lowest bit
    /// flipped.
    #[arg(long)]
    bad_checksum: bool,
    /// Write this Total Length instead of the real one.
    #[arg(long, value_parser = parse_u16)]
    total_len: Option<u16>,
    /// Send through AF_PACKET, in an Ethernet frame, exactly as written.
    #[arg(long)]
    link: bool,
    /// With --link: the destination MAC. Default: from the kernel's ARP
    /// table, or the lab's fixed MACs.
    #[arg(long, value_parser = parse_mac)]
    dst_mac: Option<MacAddr>,
    /// Seconds to listen for an answer after sending.
    #[arg(short = 'W', long, default_value_t = 1.0)]
    wait: f64,
}

fn parse_u16(s: &str) -> Result<u16, String> {
    l2_link::exercise::parse_u16_maybe_hex(s)
}

fn main() -> ExitCode {
    match craft(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("craft"),
    }
}

fn default_target(whereabouts: Whereabouts) -> Ipv4Addr {
    match whereabouts {
        Whereabouts::Alpha => lab::RAW_KERNEL_IP,
        _ => lab::ALPHA_IP,
    }
}

fn craft(args: &Args) -> Result<(), Failure> {
    let whereabouts = Whereabouts::detect();
    check_may_send(whereabouts, args.interface.is_some(), args.target.is_some())?;
    if !(args.wait.is_finite() && (0.0..=60.0).contains(&args.wait)) {
        return Err(Failure::Usage(format!(
            "invalid wait {} (seconds, 0 to 60)",
            args.wait
        )));
    }
    let target = args.target.unwrap_or(default_target(whereabouts));
    let interface = args
        .interface
        .clone()
        .unwrap_or_else(|| whereabouts.default_interface().to_string());

    // Bound before anything is sent, so the datagram cannot slip past.
    // ETH_P_ALL, filtered to IPv4 by BPF: the kernel hands copies of
    // *outgoing* frames only to packet sockets of protocol ETH_P_ALL.
    let watcher = PacketSocket::open(&interface)?;
    watcher.attach_filter(&bpf::ethertype_filter(EtherType::IPV4))?;
    let src = match (args.src, args.link) {
        (Some(src), _) => src,
        (None, false) => Ipv4Addr::UNSPECIFIED,
        (None, true) => sys::interface_ipv4(&interface)?.ok_or_else(|| {
            Failure::Usage(format!(
                "{interface} has no IPv4 address: name one with --src"
            ))
        })?,
    };
    let written = write_datagram(args, src, target);
    let stop = StopOnInterrupt::install()?;

    println!("As we wrote it ({} bytes):", written.len());
    println!("{}", ip_printer().hexdump(&written));
    let sent_from = if args.link {
        send_on_link(args, &watcher, &written, target)?
    } else {
        send_with_hdrincl(&watcher, &written, target, args.wait)?
    };
    await_answers(&watcher, &stop, target, sent_from, args.wait)
}

// ANCHOR: craft_write
/// The datagram exactly as the flags ask: header field by field, then the
/// payload. Total Length and the checksum are right unless asked
/// otherwise.
fn write_datagram(args: &Args, src: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let protocol = IpProtocol(args.protocol);
    let payload = if protocol == IpProtocol::ICMP {
        Icmpv4Repr::EchoRequest {
            ident: (std::process::id() & 0xffff) as u16,
            seq: 1,
            data: args.payload.as_bytes(),
        }
        .build()
    } else {
        args.payload.as_bytes().to_vec()
    };
    let mut buffer = vec![0u8; 20 + payload.len()];
    // Straight into the buffer: the view's payload_mut() would believe a
    // lying Total Length.
    buffer[20..].copy_from_slice(&payload);
    let mut packet = Ipv4Packet::new_unchecked(&mut buffer[..]);
    packet.set_version(4);
    packet.set_header_len(20);
    packet.set_total_len(args.total_len.unwrap_or((20 + payload.len()) as u16));
    packet.set_ident(args.id);
    packet.set_dont_frag(args.df);
    packet.set_ttl(args.ttl);
    packet.set_protocol(protocol);
    packet.set_src_addr(src);
    packet.set_dst_addr(target);
    packet.fill_checksum();
    let right = packet.checksum();
    if let Some(value) = args.checksum {
        packet.set_checksum(value);
    } else if args.bad_checksum {
        packet.set_checksum(right ^ 1);
    }
    buffer
}
// ANCHOR_END: craft_write

/// A printer that starts at the IPv4 header (for the datagram as written,
/// which has no Ethernet header yet).
fn ip_printer() -> Printer {
    let mut printer = Printer::new(Ipv4Dissector);
    printer.register(IP_PROTO, IpProtocol::ICMP.0.into(), Icmpv4Dissector);
    printer
}

// ANCHOR: craft_hdrincl
/// Sends through IP_HDRINCL, catches the kernel's outgoing copy, and shows
/// what changed. Returns the source address the datagram left with.
fn send_with_hdrincl(
    watcher: &PacketSocket,
    written: &[u8],
    target: Ipv4Addr,
    wait: f64,
) -> Result<Ipv4Addr, Failure> {
    let socket = RawIpSocket::send_only()?;
    // Both sockets are open: no privilege is needed from here on.
    l2_link::sys::drop_capabilities()?;
    socket.send_to(written, target)?;
    println!(
        "Sent through a raw IP socket with IP_HDRINCL to {target}. As it left {} \
         (the kernel's copy for packet sockets, PACKET_OUTGOING):",
        watcher.interface()
    );
    let frame = catch_outgoing(watcher, written, Duration::from_secs_f64(wait.max(1.0)))?;
    println!("{}", l3_net::print::printer().hexdump(&frame));
    // catch_outgoing() checked that the frame holds an IPv4 datagram.
    let ethernet = EthernetFrame::new_unchecked(&frame[..]);
    let on_wire = ethernet.payload();
    let changes = rewritten_fields(written, on_wire);
    if changes.is_empty() {
        println!("The kernel changed nothing.");
    } else {
        println!("What the kernel rewrote:");
        for change in &changes {
            println!("  {change}");
        }
    }
    Ok(Ipv4Packet::new_unchecked(on_wire).src_addr())
}
// ANCHOR_END: craft_hdrincl

/// Waits for the outgoing copy of our datagram: an IPv4 frame leaving
/// this host whose header and payload match what we wrote, except for the
/// fields the kernel may rewrite.
fn catch_outgoing(
    watcher: &PacketSocket,
    written: &[u8],
    wait: Duration,
) -> Result<Vec<u8>, Failure> {
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 65_536];
    let ours = Ipv4Packet::new_unchecked(written);
    while let Some(meta) = recv_frame(watcher, &mut buf, deadline)? {
        if meta.packet_type != PacketType::Outgoing {
            continue;
        }
        let frame = &buf[..meta.len];
        let Ok(ethernet) = EthernetFrame::new_checked(frame) else {
            continue;
        };
        let Ok(ip) = Ipv4Packet::new_checked(ethernet.payload()) else {
            continue;
        };
        if ip.dst_addr() == ours.dst_addr()
            && ip.protocol() == ours.protocol()
            && ip.ttl() == ours.ttl()
            && ip.payload() == &written[20..]
        {
            return Ok(frame.to_vec());
        }
    }
    Err(Failure::NoAnswer(format!(
        "did not see our datagram leave {} within {wait:?}",
        watcher.interface()
    )))
}

// ANCHOR: craft_compare
/// The header fields that differ between what we wrote and what left, each
/// with the reason the kernel had (raw_send_hdrinc() in net/ipv4/raw.c).
fn rewritten_fields(written: &[u8], on_wire: &[u8]) -> Vec<String> {
    let ours = Ipv4Packet::new_unchecked(written);
    let wire = Ipv4Packet::new_unchecked(on_wire);
    let mut changes = Vec::new();
    let mut note = |field: &str, before: String, after: String, why: &str| {
        if before != after {
            changes.push(format!("{field:<16} {before:>11} → {after:<11} {why}"));
        }
    };
    note(
        "total length",
        ours.total_len().to_string(),
        wire.total_len().to_string(),
        "always set to the number of bytes given to sendto()",
    );
    note(
        "header checksum",
        format!("0x{:04x}", ours.checksum()),
        format!("0x{:04x}", wire.checksum()),
        "always recomputed over the final header",
    );
    note(
        "source",
        ours.src_addr().to_string(),
        wire.src_addr().to_string(),
        "a zero source is filled in from the route",
    );
    note(
        "identification",
        ours.ident().to_string(),
        wire.ident().to_string(),
        "a zero ID is replaced by the kernel's, unless DF is set",
    );
    // Everything else should be as we wrote it; say so if it is not.
    let rest = [
        ("version", ours.version(), wire.version()),
        ("TTL", ours.ttl(), wire.ttl()),
        ("protocol", ours.protocol().0, wire.protocol().0),
        ("DSCP", ours.dscp(), wire.dscp()),
    ];
    for (field, before, after) in rest {
        note(field, before.to_string(), after.to_string(), "(unexpected)");
    }
    let flags = [
        ("DF", ours.dont_frag(), wire.dont_frag()),
        ("MF", ours.more_frags(), wire.more_frags()),
    ];
    for (field, before, after) in flags {
        note(field, before.to_string(), after.to_string(), "(unexpected)");
    }
    changes
}
// ANCHOR_END: craft_compare

// ANCHOR: craft_link
/// Sends the datagram in an Ethernet frame through AF_PACKET: nothing
/// between us and the wire rewrites anything. Returns our source address.
fn send_on_link(
    args: &Args,
    socket: &PacketSocket,
    written: &[u8],
    target: Ipv4Addr,
) -> Result<Ipv4Addr, Failure> {
    let destination = match args.dst_mac {
        Some(mac) => mac,
        None => neighbour_mac(target).ok_or_else(|| {
            Failure::Usage(format!(
                "no MAC address known for {target}: ping it first, or name it with --dst-mac"
            ))
        })?,
    };
    let frame = EthernetRepr {
        destination,
        source: socket.mac(),
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(written);
    l2_link::sys::drop_capabilities()?;
    socket.send(&frame)?;
    println!(
        "Sent on {} through AF_PACKET, exactly as written:",
        socket.interface()
    );
    println!("{}", l3_net::print::printer().hexdump(&frame));
    if !Ipv4Packet::new_unchecked(written).verify_checksum() {
        println!(
            "The header checksum is wrong: the receiving kernel drops the datagram without \
             a word, and counts it (nstat's IpInHdrErrors and IpExtInCsumErrors: InHdrErrors \
             in /proc/net/snmp, InCsumErrors in /proc/net/netstat)."
        );
    }
    Ok(Ipv4Packet::new_unchecked(written).src_addr())
}
// ANCHOR_END: craft_link

/// The MAC address of `addr`: the kernel's ARP table (/proc/net/arp), or
/// the lab's fixed MACs.
fn neighbour_mac(addr: Ipv4Addr) -> Option<MacAddr> {
    let table = std::fs::read_to_string("/proc/net/arp").unwrap_or_default();
    // "IP address  HW type  Flags  HW address  Mask  Device"; flag 0x2 is
    // a complete entry.
    let from_kernel = table.lines().skip(1).find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let (ip, flags, mac) = (columns.first()?, columns.get(2)?, columns.get(3)?);
        let complete = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()? & 2 != 0;
        (ip.parse::<Ipv4Addr>().ok()? == addr && complete).then(|| mac.parse().ok())?
    });
    from_kernel.or(match addr {
        a if a == lab::ALPHA_IP => Some(lab::ALPHA_MAC),
        a if a == lab::RAW_KERNEL_IP => Some(lab::RAW_KERNEL_MAC),
        a if a == lab::BETA_IP => Some(lab::BETA_MAC),
        _ => None,
    })
}

/// Prints every datagram to `us` from `target`, and every ICMP message to
/// `us` (a router's "time exceeded" comes from the router), until the
/// wait is over.
fn await_answers(
    watcher: &PacketSocket,
    stop: &StopOnInterrupt,
    target: Ipv4Addr,
    us: Ipv4Addr,
    wait: f64,
) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs_f64(wait);
    let printer = l3_net::print::printer();
    let mut buf = vec![0u8; 65_536];
    let mut answers = 0;
    while !stop.requested() {
        let Some(meta) = recv_frame(watcher, &mut buf, deadline)? else {
            break;
        };
        if meta.packet_type == PacketType::Outgoing {
            continue;
        }
        let frame = &buf[..meta.len];
        let for_us = EthernetFrame::new_checked(frame)
            .ok()
            .and_then(|ethernet| {
                let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
                let from_target_or_icmp =
                    ip.src_addr() == target || ip.protocol() == IpProtocol::ICMP;
                Some(from_target_or_icmp && ip.dst_addr() == us)
            })
            .unwrap_or(false);
        if for_us {
            println!("Answer: {}", printer.summary(frame));
            answers += 1;
        }
    }
    if answers == 0 {
        println!("No answer from {target} within {wait} s.");
    }
    Ok(())
}
