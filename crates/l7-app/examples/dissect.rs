//! `dissect` — the tcpdump -v of rawstack: one line per frame, decoded by
//! every layer's dissector (Ethernet, 802.1Q, ARP, IPv4 and fragments,
//! ICMP with the quoted datagram, UDP, TCP with options, DNS on port 53,
//! HTTP on port 80), from a live AF_PACKET socket or from a capture file.
//! The flags are layer 2's `sniff`'s; only the printer is bigger
//! ([`l7_app::printer`]).
//!
//! ```text
//! cargo run -p l7-app --example dissect                # lab1 on raw, until Ctrl-C
//! cargo run -p l7-app --example dissect -- -c 5 -x      # five frames, annotated hex
//! cargo run -p l7-app --example dissect -- --ethertype 0x0800 -w lab.pcap
//! cargo run -p l7-app --example dissect -- -r lab.pcap
//! ```

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::device::{PacketType, RxMeta};
use l2_link::exercise::{
    Failure, Whereabouts, clock_time, create_pcap, parse_u16_maybe_hex, recv_frame,
};
use l2_link::pcap::{self, PcapReader};
use l2_link::print::Printer;
use l2_link::sys::{PacketSocket, bpf, signal};
use l2_link::wire::EtherType;

/// Capture frames on an interface (or read a capture) and print one line
/// per frame, decoded through every layer up to DNS and HTTP.
#[derive(Parser)]
#[command(name = "dissect", version)]
struct Args {
    /// Interface to capture on (default: this lab host's own: lab1 on raw,
    /// lab0 on alpha, lab3 on beta).
    #[arg(short = 'i', long)]
    interface: Option<String>,
    /// Stop after this many frames.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Also write every frame to this classic pcap file (for Wireshark).
    #[arg(short = 'w', long, value_name = "FILE.pcap")]
    write: Option<PathBuf>,
    /// Read frames from a capture file (pcap or pcapng) instead of a socket.
    #[arg(short = 'r', long, value_name = "FILE", conflicts_with_all = ["interface", "write"])]
    read: Option<PathBuf>,
    /// Keep only frames of this EtherType, filtered in the kernel by a
    /// classic BPF program (e.g. 0x0806 for ARP).
    #[arg(long, value_parser = parse_u16_maybe_hex)]
    ethertype: Option<u16>,
    /// Print each frame as an annotated hex dump under its summary line.
    #[arg(short = 'x')]
    hex: bool,
    /// Do not put the interface in promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous")]
    no_promiscuous: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.read {
        Some(path) => read_capture(&args, path),
        None => capture_live(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("dissect"),
    }
}

// ANCHOR: dissect_loop
fn capture_live(args: &Args) -> Result<(), Failure> {
    let interface = args
        .interface
        .clone()
        .unwrap_or_else(|| Whereabouts::detect().default_interface().to_string());
    let socket = PacketSocket::open(&interface)?;
    if let Some(ethertype) = args.ethertype {
        socket.attach_filter(&bpf::ethertype_filter(EtherType(ethertype)))?;
    }
    if !args.no_promiscuous {
        socket.set_promiscuous(true)?;
    }
    let mut writer = match &args.write {
        Some(path) => Some(create_pcap(path)?),
        None => None,
    };
    let stop = signal::StopOnInterrupt::install()?;
    eprintln!("listening on {interface}, link-type EN10MB (Ethernet), snapshot length 65535 bytes");

    let printer = l7_app::printer();
    let mut buf = vec![0u8; 65535];
    let mut captured = 0u64;
    while args.count.is_none_or(|count| captured < count) && !stop.requested() {
        // Wake up a few times a second to notice Ctrl-C.
        let deadline = Instant::now() + Duration::from_millis(200);
        let Some(meta) = recv_frame(&socket, &mut buf, deadline)? else {
            continue;
        };
        // The kernel stripped any 802.1Q tag into PACKET_AUXDATA: put it
        // back so we print (and save) the frame as it was on the wire.
        let frame = match meta.vlan_tci {
            Some(tci) => pcap::reinsert_vlan_tag(&buf[..meta.len], tci),
            None => buf[..meta.len].to_vec(),
        };
        print_frame(&printer, &frame, &meta, args.hex);
        if let Some(writer) = writer.as_mut() {
            let original_len = meta.original_len + (frame.len() - meta.len);
            writer.write_frame(meta.timestamp, &frame, original_len)?;
        }
        captured += 1;
    }
    if let Some(mut writer) = writer {
        writer.flush()?;
    }
    let stats = socket.statistics()?;
    eprintln!("{captured} frames captured");
    eprintln!("{} frames received by filter", stats.received);
    eprintln!("{} frames dropped by kernel", stats.dropped);
    Ok(())
}
// ANCHOR_END: dissect_loop

fn read_capture(args: &Args, path: &PathBuf) -> Result<(), Failure> {
    let file = File::open(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let reader = PcapReader::new(io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let printer = l7_app::printer();
    let mut shown = 0u64;
    for record in reader {
        if args.count.is_some_and(|count| shown >= count) {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                eprintln!("dissect: {}: stopped reading: {err}", path.display());
                break;
            }
        };
        if record.link_type != pcap::LINKTYPE_ETHERNET {
            println!(
                "{} link type {} is not Ethernet; {} bytes not decoded",
                clock_time(record.timestamp),
                record.link_type,
                record.data.len()
            );
            shown += 1;
            continue;
        }
        if let Some(ethertype) = args.ethertype
            && frame_ethertype(&record.data) != Some(ethertype)
        {
            continue;
        }
        let meta = RxMeta {
            len: record.data.len(),
            original_len: record.original_len,
            packet_type: PacketType::Host,
            timestamp: record.timestamp,
            vlan_tci: None,
            checksum_not_ready: false,
        };
        print_frame(&printer, &record.data, &meta, args.hex);
        shown += 1;
    }
    Ok(())
}

/// The EtherType of a frame read from a file (the inner one when tagged),
/// for `--ethertype` on captures, where no kernel filter runs.
fn frame_ethertype(frame: &[u8]) -> Option<u16> {
    let at = |i: usize| Some(u16::from_be_bytes([*frame.get(i)?, *frame.get(i + 1)?]));
    match at(12)? {
        0x8100 => at(16),
        ethertype => Some(ethertype),
    }
}

fn print_frame(printer: &Printer, frame: &[u8], meta: &RxMeta, hex: bool) {
    let direction = if meta.packet_type == PacketType::Outgoing {
        " Out"
    } else {
        ""
    };
    let truncated = if meta.original_len > meta.len {
        format!(" [truncated: {} of {} bytes]", meta.len, meta.original_len)
    } else {
        String::new()
    };
    println!(
        "{}{direction} {}{truncated}",
        clock_time(meta.timestamp),
        printer.summary(frame)
    );
    if hex {
        println!("{}", printer.hexdump(frame));
    }
}
