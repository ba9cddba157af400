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

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use l2_link::exercise::capture::{self, CaptureOptions};
use l2_link::exercise::{Failure, parse_u16_maybe_hex};
use l2_link::print::Printer;

/// Capture frames on an interface and print one line per frame.
#[derive(Parser)]
#[command(name = "sniff", version)]
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
    /// Receive through a TPACKET_V3 memory-mapped ring instead of one
    /// recvmsg() per frame.
    #[arg(long, conflicts_with = "read")]
    ring: bool,
    /// Kernel buffer in MiB, as dumpcap's -B: the ring's size with --ring
    /// (default 2), else the socket's receive buffer.
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "MiB",
        conflicts_with = "read"
    )]
    buffer_mib: Option<usize>,
    /// Print no frames, only the counts at the end (with -w: just save).
    #[arg(short = 'q', long)]
    quiet: bool,
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
    let printer = Printer::layer2();
    let print = |frame: &[u8], meta: &_| {
        if !args.quiet {
            capture::print_frame(&printer, frame, meta, args.hex);
        }
    };
    if let Some(path) = &args.read {
        return capture::read_capture("sniff", path, args.count, args.ethertype, print);
    }
    let options = CaptureOptions {
        interface: args.interface.clone(),
        count: args.count,
        write: args.write.clone(),
        ethertype: args.ethertype,
        promiscuous: !args.no_promiscuous,
        ring: args.ring,
        buffer_size: args.buffer_mib.map(|mib| mib << 20),
    };
    capture::capture_live(&options, print)?;
    Ok(())
}
// ANCHOR_END: sniff_loop
