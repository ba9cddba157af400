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

use std::process::ExitCode;

use clap::Parser;
use l2_link::exercise::Failure;
use l2_link::exercise::capture::{self, CaptureArgs};

/// Capture frames on an interface (or read a capture) and print one line
/// per frame, decoded through every layer up to DNS and HTTP.
#[derive(Parser)]
#[command(name = "dissect", version)]
struct Args {
    #[command(flatten)]
    capture: CaptureArgs,
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
    let args = &args.capture;
    let printer = l7_app::printer();
    let print = |frame: &[u8], meta: &_| {
        if !args.quiet {
            capture::print_frame(&printer, frame, meta, args.hex);
        }
    };
    if let Some(path) = &args.read {
        return capture::read_capture("dissect", path, args.count, args.ethertype, print);
    }
    capture::capture_live(&args.options(), print)?;
    Ok(())
}
// ANCHOR_END: dissect_loop
