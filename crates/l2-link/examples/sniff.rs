//! `sniff` — a tcpdump -e of layer 2: one line per frame, decoded by the
//! pretty printer, from a live AF_PACKET socket or from a capture file.
//!
//! ```text
//! cargo run -p l2-link --example sniff                 # lab1 on raw, until Ctrl-C
//! cargo run -p l2-link --example sniff -- -c 5 -x      # five frames, annotated hex
//! cargo run -p l2-link --example sniff -- --ethertype 0x0806 -w arp.pcap
//! cargo run -p l2-link --example sniff -- -r arp.pcap
//! cargo run -p l2-link --example sniff -- --ring -q -w all.pcap   # mmap ring, no printing
//! ```

use std::process::ExitCode;

use clap::Parser;
use l2_link::exercise::Failure;
use l2_link::exercise::capture::{self, CaptureArgs};
use l2_link::print::Printer;

/// Capture frames on an interface and print one line per frame.
#[derive(Parser)]
#[command(name = "sniff", version)]
struct Args {
    #[command(flatten)]
    capture: CaptureArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("sniff"),
    }
}

// ANCHOR: sniff_loop
fn run(args: &Args) -> Result<(), Failure> {
    let args = &args.capture;
    let printer = Printer::layer2();
    let print = |frame: &[u8], meta: &_| {
        if !args.quiet {
            capture::print_frame(&printer, frame, meta, args.hex);
        }
    };
    if let Some(path) = &args.read {
        return capture::read_capture("sniff", path, args.count, args.ethertype, print);
    }
    capture::capture_live(&args.options(), print)?;
    Ok(())
}
// ANCHOR_END: sniff_loop
