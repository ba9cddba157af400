//! System benchmark "capture": the highest rate at which a capturer keeps
//! every frame, for our `sniff` reading one frame per `recvmsg()`, our
//! `sniff --ring` (TPACKET_V3), and Wireshark's `dumpcap`, each writing a
//! pcap file to tmpfs with the same kernel buffer (`-B`) and the same
//! kernel filter (EtherType 0x88B5).
//!
//! A fresh lab; this program runs itself on alpha as the blaster
//! (`--blast-child`), sending frames out of lab0 at a set rate with
//! `sendmmsg` (the transmit benchmark's winner). The capturer runs on raw,
//! on lab1. For each capturer the rate climbs a ladder until the first
//! step where a frame is lost — dropped by the kernel (`PACKET_STATISTICS`,
//! dumpcap's own count) or simply missing from the capture — and the
//! highest clean rate is the figure. Each capturer's ladder is climbed
//! several times; the rows show the median and the spread.
//!
//! The blaster has a ceiling of its own (on a veth, the sender's system
//! call also runs the receive path into the capturer's buffer). A run that
//! reaches the blaster's ceiling without loss reports that ceiling, and
//! stderr says so: the capturer might have done more.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use l2_link::exercise::lab;
use l2_link::sys::PacketSocket;
use netlab::{Host, Lab};
use rawstack_bench::{Better, Measure, Row, quick};

/// The argument that makes this program the blaster on alpha.
const CHILD: &str = "--blast-child";
/// The kernel buffer every capturer gets, in MiB (dumpcap's `-B`).
const BUFFER_MIB: usize = 4;
/// Frames per `sendmmsg()` in the blaster.
const BURST: usize = 16;

/// One of the three programs compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capturer {
    Recvmsg,
    Ring,
    Dumpcap,
}

impl Capturer {
    const ALL: [Capturer; 3] = [Capturer::Recvmsg, Capturer::Ring, Capturer::Dumpcap];

    fn label(self) -> &'static str {
        match self {
            Capturer::Recvmsg => "sniff (recvmsg)",
            Capturer::Ring => "sniff --ring",
            Capturer::Dumpcap => "dumpcap",
        }
    }
}

/// The ladder of one benchmark configuration.
struct Plan {
    sizes: &'static [usize],
    runs: usize,
    /// Seconds of blasting per step.
    seconds: f64,
    /// Each step's rate is the previous one's times this.
    factor: f64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD) {
        return child(&args[at + 1..]);
    }
    if let Err(err) = parent() {
        eprintln!("capture: {err}");
        rawstack_bench::not_measured("capture");
    }
    ExitCode::SUCCESS
}

fn parent() -> Result<(), String> {
    if !on_path("dumpcap") {
        return Err("dumpcap is not installed (apt-get install tshark)".into());
    }
    let plan = if quick() {
        Plan {
            sizes: &[64],
            runs: 3,
            seconds: 0.25,
            factor: 1.5,
        }
    } else {
        Plan {
            sizes: &[64, 1514],
            runs: 5,
            seconds: 0.5,
            factor: 1.25,
        }
    };
    let sniff = release_example("l2-link", "sniff")?;
    let lab = Lab::start().map_err(|e| format!("cannot start the lab: {e}"))?;
    // Copies in the lab's directory: cargo may rebuild (and so delete) the
    // originals while the benchmark runs.
    let bin = Bin {
        blaster: copy_into(&lab, Path::new("/proc/self/exe"), "capture-bench")?,
        sniff: copy_into(&lab, &sniff, "sniff")?,
    };
    let out_dir = scratch_dir()?;
    let result = measure_all(&lab, &bin, &out_dir, &plan);
    let _ = std::fs::remove_dir_all(&out_dir);
    result
}

/// The programs the benchmark runs.
struct Bin {
    blaster: PathBuf,
    sniff: PathBuf,
}

fn measure_all(lab: &Lab, bin: &Bin, out_dir: &Path, plan: &Plan) -> Result<(), String> {
    for &size in plan.sizes {
        let start_rate = if size <= 128 { 25_000.0 } else { 10_000.0 };
        let mut best = [Vec::new(), Vec::new(), Vec::new()];
        let mut capped = [0usize; 3];
        for run in 0..plan.runs {
            for (i, &capturer) in Capturer::ALL.iter().enumerate() {
                let (rate, at_ceiling) =
                    climb(lab, bin, out_dir, capturer, size, start_rate, plan)?;
                capped[i] += usize::from(at_ceiling);
                eprintln!(
                    "capture: {size} B, run {}: {} kept every frame up to {rate:.0} frames/s",
                    run + 1,
                    capturer.label()
                );
                best[i].push(rate);
            }
        }
        let [recvmsg, ring, dumpcap] = best.map(|runs| Measure::of(&runs));
        for (peer, peer_figure, goal) in [
            (Capturer::Dumpcap, dumpcap, 1.0),
            (Capturer::Recvmsg, recvmsg, 1.2),
        ] {
            let mut what =
                format!("{size}-byte frames, highest rate with zero drops, writing pcap");
            // Where the blaster, not the capturer, was the limit, the
            // figure is a lower bound: say so in the table.
            let (ours_capped, peer_capped) = (capped[1], capped[peer as usize]);
            if ours_capped + peer_capped > 0 {
                what += &format!(
                    " (blaster's ceiling reached: ring {ours_capped}/{runs}, {} {peer_capped}/{runs})",
                    peer.label(),
                    runs = plan.runs
                );
            }
            Row {
                section: "Capture".into(),
                what,
                ours_label: Capturer::Ring.label().into(),
                ours: ring,
                peer_label: Some(peer.label().into()),
                peer: Some(peer_figure),
                unit: "frames/s".into(),
                better: Better::Higher,
                goal: Some(goal),
            }
            .emit();
        }
    }
    Ok(())
}

/// Climbs the rate ladder for one capturer: the highest rate (as the
/// blaster achieved it) at which every frame was kept, and whether that
/// was the blaster's ceiling rather than the capturer's.
fn climb(
    lab: &Lab,
    bin: &Bin,
    out_dir: &Path,
    capturer: Capturer,
    size: usize,
    start_rate: f64,
    plan: &Plan,
) -> Result<(f64, bool), String> {
    let mut rate = start_rate;
    let mut best = 0.0;
    loop {
        let frames = ((rate * plan.seconds) as u64).max(5_000);
        let trial = trial(lab, bin, out_dir, capturer, size, rate, frames)?;
        if !trial.kept_all(frames) {
            eprintln!(
                "capture: {} lost frames at {:.0} frames/s: {} of {frames} captured, {} dropped",
                capturer.label(),
                trial.achieved_rate,
                trial.captured,
                trial.dropped
            );
            return Ok((best, false));
        }
        best = trial.achieved_rate;
        if trial.achieved_rate < 0.9 * rate {
            eprintln!(
                "capture: the blaster's ceiling ({:.0} frames/s) reached with no loss by {}",
                trial.achieved_rate,
                capturer.label()
            );
            return Ok((best, true));
        }
        rate *= plan.factor;
    }
}

/// What one step of the ladder saw.
#[derive(Debug)]
struct Trial {
    /// Frames the capturer says it wrote.
    captured: u64,
    /// Frames the kernel (or libpcap) says it dropped.
    dropped: u64,
    /// The rate the blaster really sent at.
    achieved_rate: f64,
}

impl Trial {
    fn kept_all(&self, sent: u64) -> bool {
        self.dropped == 0 && self.captured >= sent
    }
}

/// Starts `capturer` on raw, blasts `frames` frames at `rate` from alpha,
/// stops the capturer and reads its counts.
fn trial(
    lab: &Lab,
    bin: &Bin,
    out_dir: &Path,
    capturer: Capturer,
    size: usize,
    rate: f64,
    frames: u64,
) -> Result<Trial, String> {
    let pcap = out_dir.join("capture.pcap");
    let buffer = BUFFER_MIB.to_string();
    let count = frames.to_string();
    let mut command = match capturer {
        Capturer::Dumpcap => {
            let mut command = lab.command(Host::Raw, "dumpcap");
            command.args(["-i", "lab1", "-P", "-B", &buffer, "-c", &count]);
            command.args(["-f", "ether proto 0x88b5", "-w"]).arg(&pcap);
            command
        }
        Capturer::Recvmsg | Capturer::Ring => {
            let mut command = lab.command(Host::Raw, &bin.sniff);
            command.args(["-q", "-i", "lab1", "-B", &buffer, "-c", &count]);
            command.args(["--ethertype", "0x88b5", "-w"]).arg(&pcap);
            if capturer == Capturer::Ring {
                command.arg("--ring");
            }
            command
        }
    };
    let ready = match capturer {
        Capturer::Dumpcap => "Capturing on",
        _ => "listening on",
    };
    let mut running = Running::spawn(&mut command)?;
    running.wait_for(ready, Duration::from_secs(10))?;
    // dumpcap says "Capturing on" a moment before its capture is armed;
    // the same pause for everyone.
    std::thread::sleep(Duration::from_millis(300));

    let output = lab
        .command(Host::Alpha, &bin.blaster)
        .args([CHILD, &size.to_string(), &rate.to_string(), &count])
        .output()
        .map_err(|e| format!("blaster: {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout);
    let achieved_rate: f64 = said.trim().parse().map_err(|_| {
        format!(
            "the blaster said {said:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;

    // A capturer that kept everything stops by itself (-c). Give it time:
    // a ring hands over its last, partly filled block only when the block's
    // timeout passes (libpcap's is longer than ours). Then ask it to stop
    // and report.
    let lines = running.finish(Duration::from_millis(1500))?;
    let (captured, dropped) = match capturer {
        Capturer::Dumpcap => dumpcap_counts(&lines),
        _ => sniff_counts(&lines),
    }
    .ok_or_else(|| format!("{}: no counts in {lines:?}", capturer.label()))?;
    let _ = std::fs::remove_file(&pcap);
    Ok(Trial {
        captured,
        dropped,
        achieved_rate,
    })
}

/// `sniff`'s closing lines: "N frames captured", "D frames dropped by kernel".
fn sniff_counts(lines: &[String]) -> Option<(u64, u64)> {
    let number_before = |suffix: &str| {
        lines
            .iter()
            .find_map(|line| line.strip_suffix(suffix)?.trim().parse::<u64>().ok())
    };
    Some((
        number_before(" frames captured")?,
        number_before(" frames dropped by kernel")?,
    ))
}

/// dumpcap's closing lines: "Packets captured: N" and "Packets
/// received/dropped on interface 'lab1': R/D (…)".
fn dumpcap_counts(lines: &[String]) -> Option<(u64, u64)> {
    let captured = lines.iter().find_map(|line| {
        let rest = line.split("Packets captured: ").nth(1)?;
        rest.trim().parse::<u64>().ok()
    })?;
    let dropped = lines.iter().find_map(|line| {
        let rest = line.split("received/dropped on interface").nth(1)?;
        let counts = rest.split(": ").nth(1)?.split_whitespace().next()?;
        counts.split('/').nth(1)?.parse::<u64>().ok()
    })?;
    Some((captured, dropped))
}

/// A capturer running on raw, its stderr read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(command: &mut Command) -> Result<Running, String> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn capturer: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Running {
            child,
            lines,
            seen: Vec::new(),
        })
    }

    fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return Ok(());
                    }
                }
                Err(_) => return Err(format!("capturer never said {needle:?}: {:?}", self.seen)),
            }
        }
    }

    /// Waits up to `grace` for the program to end by itself, then sends
    /// it SIGTERM (netlab passes it on); returns every stderr line.
    fn finish(mut self, grace: Duration) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait().map_err(|e| e.to_string())?.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            // Our own child, by its PID (it has not been reaped: it runs).
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
        }
        let wait_until = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() > wait_until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!("capturer did not stop: {:?}", self.seen));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The reader thread ends when the pipe closes.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        Ok(self.seen)
    }
}

/// On alpha: `--blast-child SIZE RATE COUNT` sends COUNT frames of SIZE
/// bytes out of lab0 at RATE frames per second, in bursts of [`BURST`]
/// with `sendmmsg`, and prints the rate it really achieved.
fn child(args: &[String]) -> ExitCode {
    let parsed = match args {
        [size, rate, count] => size
            .parse::<usize>()
            .ok()
            .zip(rate.parse::<f64>().ok())
            .zip(count.parse::<u64>().ok()),
        _ => None,
    };
    let Some(((size, rate), count)) = parsed else {
        eprintln!("usage: {CHILD} SIZE RATE COUNT");
        return ExitCode::from(2);
    };
    match blast(size, rate, count) {
        Ok(achieved) => {
            println!("{achieved}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("blaster: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `count` frames at `rate` per second: a burst of [`BURST`] at
/// each tick of a clock that ticks `rate / BURST` times a second, catching
/// up at once when late. Returns the rate achieved.
fn blast(size: usize, rate: f64, count: u64) -> std::io::Result<f64> {
    let socket = PacketSocket::open(lab::ALPHA_IFACE)?;
    let mut frame = vec![0u8; size.max(14)];
    frame[0..6].copy_from_slice(&lab::STACK_MAC.0);
    frame[6..12].copy_from_slice(&lab::ALPHA_MAC.0);
    frame[12..14].copy_from_slice(&[0x88, 0xb5]);
    let burst = vec![frame.as_slice(); BURST];
    let tick = Duration::from_secs_f64(BURST as f64 / rate);
    let start = Instant::now();
    let mut next = start;
    let mut sent = 0u64;
    while sent < count {
        let now = Instant::now();
        if now < next {
            let wait = next - now;
            if wait > Duration::from_micros(200) {
                std::thread::sleep(wait - Duration::from_micros(100));
            }
            continue;
        }
        let n = (count - sent).min(BURST as u64) as usize;
        sent += socket.send_batch(&burst[..n])? as u64;
        next += tick;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Builds an example in release mode and returns its path.
fn release_example(package: &str, name: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("bench/ has no parent")?;
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            package,
            "--example",
            name,
        ])
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release --example {name} failed"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    Ok(target.join("release").join("examples").join(name))
}

fn copy_into(lab: &Lab, from: &Path, name: &str) -> Result<PathBuf, String> {
    let to = lab.dir().join(name);
    std::fs::copy(from, &to).map_err(|e| format!("copy {}: {e}", from.display()))?;
    Ok(to)
}

/// A fresh directory on tmpfs (when there is one) for the captures, so
/// the disk is not what is measured.
fn scratch_dir() -> Result<PathBuf, String> {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("rawstack-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
