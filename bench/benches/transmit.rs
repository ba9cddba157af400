//! System benchmark "transmit": how many frames per second one AF_PACKET
//! socket puts on a lab veth, one `send()` system call per frame versus
//! `sendmmsg()` with up to [`PacketSocket::MAX_BATCH`] frames per call.
//!
//! The benchmark starts a fresh lab and runs itself on alpha
//! (`--transmit-child`), where it sends a burst of frames out of lab0 as
//! fast as it can and prints the rate; raw's kernel drops the frames on
//! arrival (they are for our stack's MAC, which no socket is listening
//! for). Only the two send paths differ, so the ratio is the worth of
//! batching the system calls. The winner is what the capture benchmark's
//! blaster uses.

use std::process::ExitCode;
use std::time::Instant;

use l2_link::exercise::lab;
use l2_link::sys::PacketSocket;
use netlab::{Host, Lab};
use rawstack_bench::{Better, Measure, Row, quick};

/// The argument that makes this program the sender on alpha.
const CHILD: &str = "--transmit-child";

/// How a burst is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SendPath {
    /// One `send()` per frame.
    PerFrame,
    /// `sendmmsg()`, up to 64 frames per call.
    Batched,
}

impl SendPath {
    fn name(self) -> &'static str {
        match self {
            SendPath::PerFrame => "send",
            SendPath::Batched => "sendmmsg",
        }
    }

    fn from_name(name: &str) -> Option<SendPath> {
        [SendPath::PerFrame, SendPath::Batched]
            .into_iter()
            .find(|path| path.name() == name)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD) {
        return child(&args[at + 1..]);
    }
    match parent() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("transmit: {err}");
            rawstack_bench::not_measured("transmit");
            ExitCode::SUCCESS
        }
    }
}

/// Starts a lab and measures each send path and frame size several times.
fn parent() -> Result<(), String> {
    let lab = Lab::start().map_err(|e| format!("cannot start the lab: {e}"))?;
    // Run a copy kept in the lab's directory: cargo may rebuild (and so
    // delete) this very binary while the benchmark runs.
    let exe = lab.dir().join("transmit-bench");
    std::fs::copy("/proc/self/exe", &exe).map_err(|e| format!("copy of myself: {e}"))?;
    let (sizes, runs, frames): (&[usize], usize, u64) = if quick() {
        (&[64], 3, 200_000)
    } else {
        (&[64, 1514], 7, 500_000)
    };
    for &size in sizes {
        let mut rates = [Vec::new(), Vec::new()];
        for run in 0..runs {
            // Alternate the order, so neither path always goes first.
            let mut order = [SendPath::PerFrame, SendPath::Batched];
            if run % 2 == 1 {
                order.reverse();
            }
            for path in order {
                let output = lab
                    .command(Host::Alpha, &exe)
                    .args([CHILD, path.name(), &size.to_string(), &frames.to_string()])
                    .output()
                    .map_err(|e| e.to_string())?;
                let text = String::from_utf8_lossy(&output.stdout);
                let rate: f64 = text.trim().parse().map_err(|_| {
                    format!(
                        "the sender on alpha said {text:?}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                })?;
                eprintln!(
                    "transmit: {size}-byte frames, {}: {rate:.0} frames/s",
                    path.name()
                );
                rates[path as usize].push(rate);
            }
        }
        Row {
            section: "Transmit".into(),
            what: format!("{size}-byte frames per second, one AF_PACKET socket"),
            ours_label: "sendmmsg, 64 per call".into(),
            ours: Measure::of(&rates[SendPath::Batched as usize]),
            peer_label: Some("send per frame".into()),
            peer: Some(Measure::of(&rates[SendPath::PerFrame as usize])),
            unit: "frames/s".into(),
            better: Better::Higher,
            goal: None,
        }
        .emit();
    }
    Ok(())
}

/// On alpha: `--transmit-child PATH SIZE COUNT` sends COUNT frames of SIZE
/// bytes out of lab0 and prints frames per second.
fn child(args: &[String]) -> ExitCode {
    let parsed = match args {
        [path, size, count] => SendPath::from_name(path)
            .zip(size.parse::<usize>().ok())
            .zip(count.parse::<u64>().ok()),
        _ => None,
    };
    let Some(((path, size), count)) = parsed else {
        eprintln!("usage: {CHILD} send|sendmmsg SIZE COUNT");
        return ExitCode::from(2);
    };
    match send_burst(path, size, count) {
        Ok(rate) => {
            println!("{rate}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("transmit child: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `count` copies of one frame and returns frames per second.
fn send_burst(path: SendPath, size: usize, count: u64) -> std::io::Result<f64> {
    let socket = PacketSocket::open(lab::ALPHA_IFACE)?;
    let frame = test_frame(size);
    let batch = vec![frame.as_slice(); PacketSocket::MAX_BATCH];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < count {
        let left = (count - sent).min(batch.len() as u64) as usize;
        match path {
            SendPath::PerFrame => {
                for _ in 0..left {
                    socket.send(&frame)?;
                }
                sent += left as u64;
            }
            SendPath::Batched => sent += socket.send_batch(&batch[..left])? as u64,
        }
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// A frame of `size` bytes from alpha to our stack's MAC (raw's kernel
/// drops it: not its address), EtherType 0x88B5 (local experimental).
fn test_frame(size: usize) -> Vec<u8> {
    let mut frame = vec![0u8; size.max(14)];
    frame[0..6].copy_from_slice(&lab::STACK_MAC.0);
    frame[6..12].copy_from_slice(&lab::ALPHA_MAC.0);
    frame[12..14].copy_from_slice(&[0x88, 0xb5]);
    frame
}
