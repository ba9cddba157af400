//! System benchmark "ping": round-trip times from raw to alpha over the
//! lab's veth, by our `ping` (l3-net's exercise, release build) and by
//! iputils `ping`, with the same count, interval and size.
//!
//! Each program prints one `time=… ms` line per reply, as iputils does;
//! the benchmark reads those lines, so both are measured by the same
//! ruler. Per run it takes the median round trip and the spread, defined
//! here as the interdecile range p90 − p10 (robust against the odd
//! scheduler hiccup that would dominate a standard deviation such as
//! iputils' `mdev`). The rows are the medians over several runs, which
//! take turns (ours, ours --user-timing, iputils, ours, …).
//!
//! How each program times a round trip:
//! - ours: the kernel's software transmit stamp of the request
//!   (`SO_TIMESTAMPING`) and its receive stamp of the reply
//!   (`SO_TIMESTAMPNS`);
//! - ours with `--user-timing`: the clock read just before `sendto` and
//!   just after `recvmsg` returns — the row that shows what the kernel's
//!   stamps are worth;
//! - iputils: `gettimeofday` just before `sendmsg` (carried in the echo
//!   data) and the kernel's receive stamp (`SO_TIMESTAMP`).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use netlab::Lab;
use netlab::topology::Host;
use rawstack_bench::{Better, Measure, Row};

/// Alpha, from raw, across lab1–lab0.
const TARGET: &str = "198.18.0.1";
/// Seconds between requests: 10 ms.
const INTERVAL: &str = "0.01";

fn main() -> ExitCode {
    match measure() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ping bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Who pings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pinger {
    /// Our ping, kernel time stamps.
    Ours,
    /// Our ping, `--user-timing`.
    OursUserTiming,
    /// iputils ping.
    Iputils,
}

impl Pinger {
    const ALL: [Pinger; 3] = [Pinger::Ours, Pinger::OursUserTiming, Pinger::Iputils];

    fn label(self) -> &'static str {
        match self {
            Pinger::Ours => "our ping (kernel stamps)",
            Pinger::OursUserTiming => "our ping --user-timing",
            Pinger::Iputils => "iputils ping",
        }
    }
}

/// One run's figures, in microseconds.
#[derive(Clone, Copy, Debug)]
struct RunFigures {
    median: f64,
    spread: f64,
}

fn measure() -> io::Result<()> {
    let quick = rawstack_bench::quick();
    let (count, runs) = if quick { (200, 3) } else { (1000, 3) };
    let ours = build_our_ping()?;
    let lab = match Lab::start() {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("ping bench: no lab ({error})");
            rawstack_bench::not_measured("ping");
            return Ok(());
        }
    };
    let mut results: Vec<(Pinger, RunFigures)> = Vec::new();
    for run in 1..=runs {
        for pinger in Pinger::ALL {
            let mut command = match pinger {
                Pinger::Ours => lab.command(Host::Raw, &ours),
                Pinger::OursUserTiming => {
                    let mut command = lab.command(Host::Raw, &ours);
                    command.arg("--user-timing");
                    command
                }
                Pinger::Iputils => lab.command(Host::Raw, "ping"),
            };
            command.args(["-c", &count.to_string(), "-i", INTERVAL, TARGET]);
            match ping_once(command) {
                Ok(times) if times.len() * 10 >= count * 9 => {
                    let figures = figures_of(times);
                    eprintln!(
                        "ping bench: run {run}/{runs} {}: median {:.1} µs, p90−p10 {:.1} µs",
                        pinger.label(),
                        figures.median,
                        figures.spread
                    );
                    results.push((pinger, figures));
                }
                Ok(times) => eprintln!(
                    "ping bench: run {run}/{runs} {}: only {} of {count} replies, run dropped",
                    pinger.label(),
                    times.len()
                ),
                Err(error) => eprintln!("ping bench: run {run}/{runs} {}: {error}", pinger.label()),
            }
        }
    }
    drop(lab);

    let of = |pinger: Pinger, pick: fn(&RunFigures) -> f64| -> Option<Measure> {
        let runs: Vec<f64> = results
            .iter()
            .filter(|(p, _)| *p == pinger)
            .map(|(_, figures)| pick(figures))
            .collect();
        (!runs.is_empty()).then(|| Measure::of(&runs))
    };
    let median = |f: &RunFigures| f.median;
    let spread = |f: &RunFigures| f.spread;
    let rows = [
        (
            Pinger::Ours,
            "median",
            median as fn(&RunFigures) -> f64,
            Some(1.1),
        ),
        (Pinger::Ours, "spread (p90 − p10)", spread, Some(1.2)),
        (Pinger::OursUserTiming, "median", median, None),
        (Pinger::OursUserTiming, "spread (p90 − p10)", spread, None),
    ];
    for (pinger, what, pick, goal) in rows {
        let Some(ours) = of(pinger, pick) else {
            rawstack_bench::not_measured(&format!("ping {what} ({})", pinger.label()));
            continue;
        };
        Row {
            section: "Ping".into(),
            what: match pinger {
                Pinger::OursUserTiming => {
                    format!("round trip raw → alpha, {what} of {count} at 10 ms, ours timed in user space")
                }
                _ => format!("round trip raw → alpha, {what} of {count} at 10 ms"),
            },
            ours_label: pinger.label().into(),
            ours,
            peer_label: Some(Pinger::Iputils.label().into()),
            peer: of(Pinger::Iputils, pick),
            unit: "µs".into(),
            better: Better::Lower,
            goal,
        }
        .emit();
    }
    Ok(())
}

/// Runs one ping and returns its round-trip times in microseconds.
fn ping_once(mut command: Command) -> io::Result<Vec<f64>> {
    let output = command.stdin(Stdio::null()).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(stdout.lines().filter_map(reply_time_micros).collect())
}

/// The `time=0.045 ms` of one reply line, in microseconds.
fn reply_time_micros(line: &str) -> Option<f64> {
    let rest = line.split_once(" time=")?.1;
    let millis = rest
        .strip_suffix(" ms")
        .or_else(|| rest.split_once(" ms").map(|(t, _)| t))?;
    millis.trim().parse::<f64>().ok().map(|ms| ms * 1000.0)
}

/// Median and p90 − p10 of one run's times (at least one).
fn figures_of(mut times: Vec<f64>) -> RunFigures {
    times.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        // Nearest rank: simple, and at 200+ samples the same as any other.
        let index = ((times.len() - 1) as f64 * q).round() as usize;
        times[index]
    };
    RunFigures {
        median: quantile(0.5),
        spread: quantile(0.9) - quantile(0.1),
    }
}

/// Builds our ping in release mode and returns its path (cargo says where
/// the executable is).
fn build_our_ping() -> io::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| io::Error::other("bench/ has no parent"))?;
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--quiet",
            "--message-format=json",
            "-p",
            "l3-net",
            "--example",
            "ping",
        ])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(
            "cargo build -p l3-net --example ping failed",
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("\"compiler-artifact\"") && line.contains("\"name\":\"ping\""))
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .ok_or_else(|| io::Error::other("cargo did not say where our ping is"))
}
