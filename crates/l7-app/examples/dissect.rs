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

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use l2_link::exercise::capture::{self, CaptureOptions};
use l2_link::exercise::{Failure, parse_u16_maybe_hex};

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
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("dissect"),
    }
}

// ANCHOR: dissect_loop
fn run(args: &Args) -> Result<(), Failure> {
    let printer = l7_app::printer();
    let print = |frame: &[u8], meta: &_| capture::print_frame(&printer, frame, meta, args.hex);
    if let Some(path) = &args.read {
        return capture::read_capture("dissect", path, args.count, args.ethertype, print);
    }
    let options = CaptureOptions {
        interface: args.interface.clone(),
        count: args.count,
        write: args.write.clone(),
        ethertype: args.ethertype,
        promiscuous: !args.no_promiscuous,
        ..CaptureOptions::default()
    };
    capture::capture_live(&options, print)?;
    Ok(())
}
// ANCHOR_END: dissect_loop
