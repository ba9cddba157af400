//! `cargo xtask bench [--quick] [--markdown FILE]`: every benchmark, one
//! table.
//!
//! 1. The micro-benchmarks (`bench/benches/micro.rs`, criterion): ours and
//!    the peer in one criterion group; we read the median and its 95 %
//!    confidence interval from
//!    `target/criterion/<group>/<function>/new/estimates.json`.
//! 2. The system benchmarks (`capture`, `transmit`, `tcp_bulk`, `ping`):
//!    each starts its own lab and prints `BENCH {json}` rows (see
//!    `rawstack_bench::Row`), or `BENCH-MISSING <name>` when it has nothing
//!    to measure yet.
//! 3. The cold build: `cargo build` of the stack in a fresh target
//!    directory (skipped with `--quick`).
//!
//! The table says for every row whether its goal is met. Missing a goal is
//! a result, not a failure: the exit status is non-zero only when a
//! benchmark could not run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Fewer samples, one frame size, shorter transfers, no cold build
    /// (under 5 minutes on 2 cores once everything is compiled).
    #[arg(long)]
    quick: bool,
    /// Also write the table as Markdown to FILE (for the book and notes).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

/// The system benchmarks, in the order they run.
const SYSTEM_BENCHES: [&str; 4] = ["capture", "transmit", "tcp_bulk", "ping"];

/// Runs every benchmark and prints the table.
pub fn run(args: BenchArgs) -> crate::Result<ExitCode> {
    let root = crate::workspace_root();
    let target = target_dir(&root);
    let mut table = Table::default();
    let mut failed = Vec::new();

    eprintln!("== micro-benchmarks (criterion) ==");
    let criterion_home = target.join("criterion");
    match run_micro(&root, &criterion_home, args.quick) {
        Ok(()) => table.rows.extend(micro_rows(&criterion_home)?),
        Err(error) => {
            table.rows.push(Line::Failed("micro".into(), error.clone()));
            failed.push(format!("micro: {error}"));
        }
    }

    eprintln!("== exercise binaries (release) ==");
    let examples = cargo(&root)
        .args(["build", "--release", "--examples"])
        .args([
            "-p",
            "l2-link",
            "-p",
            "l3-net",
            "-p",
            "l4-transport",
            "-p",
            "l7-app",
        ])
        .status()?;
    if !examples.success() {
        return Err(format!("building the exercises failed ({examples})").into());
    }

    for name in SYSTEM_BENCHES {
        eprintln!("== system benchmark: {name} ==");
        match run_system(&root, name, args.quick) {
            Ok(lines) => table.rows.extend(lines),
            Err(error) => {
                table.rows.push(Line::Failed(name.into(), error.clone()));
                failed.push(format!("{name}: {error}"));
            }
        }
    }

    if args.quick {
        table.rows.push(Line::Skipped(
            "Build".into(),
            "cold build: skipped in --quick mode (run without --quick)".into(),
        ));
    } else {
        eprintln!("== cold build ==");
        match cold_build(&root) {
            Ok(row) => table.rows.push(Line::Row(row)),
            Err(error) => {
                table.rows.push(Line::Failed("Build".into(), error.clone()));
                failed.push(format!("build: {error}"));
            }
        }
    }

    let machine = Machine::this_one();
    println!("{}", table.to_text(&machine));
    if let Some(path) = &args.markdown {
        std::fs::write(path, table.to_markdown(&machine))?;
        eprintln!("table written to {}", path.display());
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in &failed {
            eprintln!("benchmark failed to run: {failure}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Where cargo puts its output: `$CARGO_TARGET_DIR` or `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // join keeps an absolute path as is
        None => root.join("target"),
    }
}

/// `cargo`, as the one that runs xtask, in the workspace root.
fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

// ---------------------------------------------------------------------
// Micro-benchmarks.

/// Criterion's own settings for a short run: what `--quick` means here.
const QUICK_CRITERION: [&str; 6] = [
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "1",
    "--sample-size",
    "10",
];

/// A full run: still shorter than criterion's defaults (3 s + 5 s per
/// benchmark), which would take over 5 minutes for our 38 benchmarks.
const FULL_CRITERION: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "3"];

fn run_micro(root: &Path, criterion_home: &Path, quick: bool) -> Result<(), String> {
    let settings: &[&str] = if quick {
        &QUICK_CRITERION
    } else {
        &FULL_CRITERION
    };
    let status = cargo(root)
        .args(["bench", "-p", "rawstack-bench", "--bench", "micro", "--"])
        .args(settings)
        // Criterion writes its estimates here; we read them back.
        .env("CRITERION_HOME", criterion_home)
        // Criterion's report is progress for the person watching: on
        // stderr, so that stdout holds nothing but the table.
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo bench --bench micro: {status}"))
    }
}

/// How a micro-benchmark's time becomes the table's figure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Figure {
    /// Nanoseconds per operation (lower is better).
    Time,
    /// Gigabytes per second over this many bytes (higher is better).
    Throughput(u64),
}

/// One micro-benchmark row: a criterion group with our function
/// (`rawstack`) and the peer's.
struct MicroRow {
    group: String,
    section: &'static str,
    what: String,
    peer: &'static str,
    figure: Figure,
    goal: Option<f64>,
}

/// Every micro-benchmark row, in table order. The groups are those of
/// `bench/benches/micro.rs`; the goals those of issue 7.
fn micro_table() -> Vec<MicroRow> {
    let time = |group: &str, section, what: &str, peer, goal| MicroRow {
        group: group.into(),
        section,
        what: what.into(),
        peer,
        figure: Figure::Time,
        goal: Some(goal),
    };
    let mut rows = vec![
        time(
            "parse_tcp_54",
            "Parse",
            "Eth+IPv4+TCP, 54 B: views + every field",
            "etherparse",
            1.0,
        ),
        time(
            "parse_tcp_1514",
            "Parse",
            "Eth+IPv4+TCP, 1514 B: views + every field",
            "etherparse",
            1.0,
        ),
        time(
            "parse_udp_142",
            "Parse",
            "Eth+IPv4+UDP, 142 B: views + every field",
            "etherparse",
            1.0,
        ),
        time(
            "emit_tcp_syn",
            "Emit",
            "Eth/IPv4/TCP SYN + 4 options, 74 B",
            "etherparse",
            1.0,
        ),
        time(
            "emit_udp_142",
            "Emit",
            "Eth/IPv4/UDP, 100 B of data",
            "etherparse",
            1.0,
        ),
    ];
    let sizes: [(u64, &str, &str); 4] = [
        (20, "20", "20 B"),
        (40, "40", "40 B"),
        (1500, "1500", "1500 B"),
        (65536, "64k", "64 KiB"),
    ];
    for (bytes, name, label) in sizes {
        for (alignment, how) in [("aligned", "aligned"), ("offset1", "offset 1")] {
            let group = format!("checksum_{name}_{alignment}");
            let what = format!("internet checksum, {label}, {how}");
            rows.push(MicroRow {
                group: group.clone(),
                section: "Checksum",
                what: what.clone(),
                peer: "internet-checksum",
                figure: Figure::Throughput(bytes),
                goal: Some(1.0),
            });
            rows.push(MicroRow {
                group,
                section: "Checksum",
                what,
                peer: "memcpy",
                figure: Figure::Throughput(bytes),
                // Only the 64 KiB figure has a goal against memcpy.
                goal: (bytes == 65536).then_some(0.4),
            });
        }
    }
    rows.push(time(
        "dns_decode_11_answers",
        "DNS",
        "decode a response, 11 compressed answers",
        "simple-dns",
        1.0,
    ));
    rows.push(time(
        "http_request_720",
        "HTTP",
        "parse a 720-byte request head",
        "httparse",
        1.5,
    ));
    rows
}

/// The table's rows from criterion's estimates.
fn micro_rows(criterion_home: &Path) -> crate::Result<Vec<Line>> {
    let mut lines = Vec::new();
    for row in micro_table() {
        let read = |function: &str| {
            let path = criterion_home
                .join(&row.group)
                .join(function)
                .join("new/estimates.json");
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            median_ns(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        let (ours, peer) = (read("rawstack")?, read(row.peer)?);
        let (unit, better, convert): (&str, Better, fn(Measure, Figure) -> Measure) =
            match row.figure {
                Figure::Time => ("ns", Better::Lower, |m, _| m),
                Figure::Throughput(_) => ("GB/s", Better::Higher, to_throughput),
            };
        lines.push(Line::Row(TableRow {
            section: row.section.into(),
            what: row.what,
            ours_label: "rawstack".into(),
            ours: convert(ours, row.figure),
            peer: Some((row.peer.into(), convert(peer, row.figure))),
            unit: unit.into(),
            better,
            goal: row.goal.map_or(Goal::None, Goal::Ratio),
        }));
    }
    Ok(lines)
}

/// The median time per iteration and its 95 % confidence interval, in
/// nanoseconds, from criterion's `estimates.json`.
fn median_ns(estimates: &str) -> Result<Measure, String> {
    let json: serde_json::Value =
        serde_json::from_str(estimates).map_err(|e| format!("not JSON: {e}"))?;
    let median = &json["median"];
    let number = |value: &serde_json::Value, what: &str| {
        value
            .as_f64()
            .ok_or_else(|| format!("no number at median.{what}"))
    };
    Ok(Measure {
        median: number(&median["point_estimate"], "point_estimate")?,
        min: number(&median["confidence_interval"]["lower_bound"], "lower_bound")?,
        max: number(&median["confidence_interval"]["upper_bound"], "upper_bound")?,
    })
}

/// Nanoseconds per `bytes` bytes as gigabytes (10⁹ bytes) per second:
/// bytes per nanosecond. The slowest time is the lowest throughput.
fn to_throughput(time: Measure, figure: Figure) -> Measure {
    let Figure::Throughput(bytes) = figure else {
        return time;
    };
    let rate = |ns: f64| bytes as f64 / ns;
    Measure {
        median: rate(time.median),
        min: rate(time.max),
        max: rate(time.min),
    }
}

// ---------------------------------------------------------------------
// System benchmarks.

/// Runs one system benchmark and collects its rows.
fn run_system(root: &Path, name: &str, quick: bool) -> Result<Vec<Line>, String> {
    let mut command = cargo(root);
    command.args(["bench", "-p", "rawstack-bench", "--bench", name, "--"]);
    if quick {
        command.arg("--quick").env("RAWSTACK_BENCH_QUICK", "1");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading its output: {e}"))?;
        match parse_output_line(&line) {
            Some(Ok(parsed)) => {
                eprintln!("{line}");
                lines.push(parsed);
            }
            Some(Err(error)) => return Err(format!("bad row {line:?}: {error}")),
            None => eprintln!("{line}"), // not a row: show it as progress
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo bench --bench {name}: {status}"));
    }
    Ok(lines)
}

/// One line of a system benchmark's output: a row, a missing row, or
/// (`None`) anything else.
fn parse_output_line(line: &str) -> Option<Result<Line, String>> {
    if let Some(name) = line.strip_prefix("BENCH-MISSING ") {
        return Some(Ok(Line::Missing(name.trim().to_string())));
    }
    let json = line.strip_prefix("BENCH ")?;
    Some(row_from_json(json).map(Line::Row))
}

/// A `rawstack_bench::Row` from its JSON (see `Row::to_json`).
fn row_from_json(json: &str) -> Result<TableRow, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let text = |name: &str| {
        value[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no text field {name:?}"))
    };
    let measure = |name: &str| -> Result<Measure, String> {
        let field = |part: &str| {
            value[name][part]
                .as_f64()
                .ok_or_else(|| format!("no number {name}.{part}"))
        };
        Ok(Measure {
            median: field("median")?,
            min: field("min")?,
            max: field("max")?,
        })
    };
    let peer = match value.get("peer") {
        Some(_) => Some((text("peer_label")?, measure("peer")?)),
        None => None,
    };
    let better = match text("better")?.as_str() {
        "lower" => Better::Lower,
        "higher" => Better::Higher,
        other => return Err(format!("better is {other:?}, not lower or higher")),
    };
    let goal = match value.get("goal").and_then(serde_json::Value::as_f64) {
        Some(ratio) => Goal::Ratio(ratio),
        None => Goal::None,
    };
    Ok(TableRow {
        section: text("section")?,
        what: text("what")?,
        ours_label: text("ours_label")?,
        ours: measure("ours")?,
        peer,
        unit: text("unit")?,
        better,
        goal,
    })
}

// ---------------------------------------------------------------------
// The cold build.

/// The build a learner's first `cargo build` does, timed: every crate of
/// the stack and its dependencies, debug profile, in an empty target
/// directory (removed afterwards). Not xtask (the book's mdBook) nor the
/// benchmarks' peers.
fn cold_build(root: &Path) -> Result<TableRow, String> {
    let fresh = std::env::temp_dir().join(format!("rawstack-cold-build-{}", std::process::id()));
    let started = Instant::now();
    let status = cargo(root)
        .args([
            "build",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "rawstack-bench",
        ])
        .env("CARGO_TARGET_DIR", &fresh)
        .status();
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&fresh);
    match status {
        Ok(status) if status.success() => Ok(TableRow {
            section: "Build".into(),
            what: "cold cargo build --workspace (debug, fresh target dir)".into(),
            ours_label: "rawstack".into(),
            ours: Measure {
                median: seconds,
                min: seconds,
                max: seconds,
            },
            peer: None,
            unit: "s".into(),
            better: Better::Lower,
            goal: Goal::Below(90.0),
        }),
        Ok(status) => Err(format!("cargo build: {status}")),
        Err(e) => Err(format!("cannot run cargo: {e}")),
    }
}

// ---------------------------------------------------------------------
// The table.

/// A figure: a median and its spread (the min and max of the runs, or a
/// confidence interval for criterion's figures).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measure {
    median: f64,
    min: f64,
    max: f64,
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
}

/// What a row is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Goal {
    /// Reported only.
    None,
    /// ours / peer at most (lower is better) or at least (higher) this.
    Ratio(f64),
    /// Our figure below this, in the row's unit (the build's 90 s).
    Below(f64),
}

/// One measured row.
#[derive(Clone, Debug, PartialEq)]
struct TableRow {
    section: String,
    what: String,
    ours_label: String,
    ours: Measure,
    peer: Option<(String, Measure)>,
    unit: String,
    better: Better,
    goal: Goal,
}

impl TableRow {
    /// ours / peer, medians; `None` without a peer (or a zero peer).
    fn ratio(&self) -> Option<f64> {
        let (_, peer) = self.peer.as_ref()?;
        (peer.median != 0.0).then(|| self.ours.median / peer.median)
    }

    /// Whether the goal is met; `None` when there is no goal to meet.
    fn goal_met(&self) -> Option<bool> {
        match self.goal {
            Goal::None => None,
            Goal::Ratio(goal) => {
                let ratio = self.ratio()?;
                Some(match self.better {
                    Better::Lower => ratio <= goal,
                    Better::Higher => ratio >= goal,
                })
            }
            Goal::Below(limit) => Some(self.ours.median < limit),
        }
    }

    /// The goal column: `≤ 1.0× ✓`, `≥ 0.4× ✗`, `< 90 s ✓`, or `—`.
    fn goal_cell(&self) -> String {
        let mark = match self.goal_met() {
            Some(true) => " ✓",
            Some(false) => " ✗",
            None => "",
        };
        match self.goal {
            Goal::None => "—".into(),
            Goal::Ratio(goal) => {
                let sign = match self.better {
                    Better::Lower => "≤",
                    Better::Higher => "≥",
                };
                format!("{sign} {goal:.1}×{mark}")
            }
            Goal::Below(limit) => format!("< {} {}{mark}", number(limit), self.unit),
        }
    }

    /// The cells of this row, in [`COLUMNS`] order.
    fn cells(&self) -> Vec<String> {
        let (peer_label, peer_value, peer_spread) = match &self.peer {
            Some((label, m)) => (label.clone(), number(m.median), spread(m)),
            None => ("—".into(), String::new(), String::new()),
        };
        vec![
            self.section.clone(),
            self.what.clone(),
            self.ours_label.clone(),
            number(self.ours.median),
            spread(&self.ours),
            peer_label,
            peer_value,
            peer_spread,
            self.unit.clone(),
            self.ratio().map_or("—".into(), |r| format!("{r:.2}×")),
            self.goal_cell(),
        ]
    }
}

/// A figure with three significant digits or so: 0.123, 1.23, 12.3, 123,
/// 12345.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// `min–max`, or nothing when there was one run.
fn spread(m: &Measure) -> String {
    if m.min == m.max {
        String::new()
    } else {
        format!("{}–{}", number(m.min), number(m.max))
    }
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
enum Line {
    /// A measured row.
    Row(TableRow),
    /// A benchmark that said `BENCH-MISSING <name>`.
    Missing(String),
    /// A benchmark that failed to run, and why.
    Failed(String, String),
    /// A part not run on purpose, and why.
    Skipped(String, String),
}

impl Line {
    fn cells(&self) -> Vec<String> {
        let note = |section: &str, what: String| {
            let mut cells = vec![section.to_string(), what];
            cells.resize(COLUMNS.len(), String::new());
            cells
        };
        match self {
            Line::Row(row) => row.cells(),
            Line::Missing(name) => note(
                name,
                "not measured (the benchmark is not written yet)".into(),
            ),
            Line::Failed(name, why) => note(name, format!("FAILED to run: {why}")),
            Line::Skipped(name, why) => note(name, why.clone()),
        }
    }
}

const COLUMNS: [&str; 11] = [
    "section",
    "what",
    "ours",
    "median",
    "spread",
    "peer",
    "median",
    "spread",
    "unit",
    "ours/peer",
    "goal",
];

/// The machine a table was measured on.
struct Machine {
    cpu: String,
    cores: usize,
    kernel: String,
}

impl Machine {
    fn this_one() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
            .map_or("unknown CPU".into(), |(_, model)| model.trim().to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or("unknown kernel".into(), |release| {
                release.trim().to_string()
            });
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Machine { cpu, cores, kernel }
    }

    fn describe(&self) -> String {
        format!(
            "CPU: {} ({} cores available), kernel: Linux {}",
            self.cpu, self.cores, self.kernel
        )
    }
}

/// All the lines, ready to print.
#[derive(Default)]
struct Table {
    rows: Vec<Line>,
}

impl Table {
    /// A plain-text table with aligned columns, the machine on top.
    fn to_text(&self, machine: &Machine) -> String {
        let lines: Vec<Vec<String>> = std::iter::once(COLUMNS.map(String::from).to_vec())
            .chain(self.rows.iter().map(Line::cells))
            .collect();
        let mut widths = [0usize; COLUMNS.len()];
        for cells in &lines {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = format!("{}\n\n", machine.describe());
        for (n, cells) in lines.iter().enumerate() {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
            if n == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                out.push_str(&rule.join("  "));
                out.push('\n');
            }
        }
        out
    }

    /// The same table in Markdown.
    fn to_markdown(&self, machine: &Machine) -> String {
        let row = |cells: &[String]| format!("| {} |\n", cells.join(" | ").replace('\n', " "));
        let mut out = format!("{}\n\n", machine.describe());
        out.push_str(&row(&COLUMNS.map(String::from)));
        out.push_str(&row(&COLUMNS.map(|_| "---".to_string())));
        for line in &self.rows {
            out.push_str(&row(&line.cells()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ours: f64, peer: f64, better: Better, goal: Goal) -> TableRow {
        let m = |v| Measure {
            median: v,
            min: v * 0.9,
            max: v * 1.1,
        };
        TableRow {
            section: "S".into(),
            what: "w".into(),
            ours_label: "rawstack".into(),
            ours: m(ours),
            peer: Some(("peer".into(), m(peer))),
            unit: "ns".into(),
            better,
            goal,
        }
    }

    #[test]
    fn ratio_is_ours_over_peer_and_the_goal_goes_the_right_way() {
        let faster = row(50.0, 100.0, Better::Lower, Goal::Ratio(1.0));
        assert_eq!(faster.ratio(), Some(0.5));
        assert_eq!(faster.goal_met(), Some(true));
        let slower = row(150.0, 100.0, Better::Lower, Goal::Ratio(1.0));
        assert_eq!(slower.goal_met(), Some(false));
        assert_eq!(slower.goal_cell(), "≤ 1.0× ✗");
        // Throughput: higher is better, so 0.5× of memcpy meets ≥ 0.4×.
        let rate = row(5.0, 10.0, Better::Higher, Goal::Ratio(0.4));
        assert_eq!(rate.goal_met(), Some(true));
        assert_eq!(rate.goal_cell(), "≥ 0.4× ✓");
        let too_slow = row(3.0, 10.0, Better::Higher, Goal::Ratio(0.4));
        assert_eq!(too_slow.goal_met(), Some(false));
        // Exactly on the goal meets it.
        assert_eq!(
            row(100.0, 100.0, Better::Lower, Goal::Ratio(1.0)).goal_met(),
            Some(true)
        );
    }

    #[test]
    fn rows_without_peer_or_goal() {
        let mut build = row(70.0, 0.0, Better::Lower, Goal::Below(90.0));
        build.peer = None;
        assert_eq!(build.ratio(), None);
        assert_eq!(build.goal_met(), Some(true));
        build.unit = "s".into();
        assert_eq!(build.goal_cell(), "< 90.0 s ✓");
        build.ours.median = 95.0;
        assert_eq!(build.goal_met(), Some(false));
        let reported = row(1.0, 2.0, Better::Lower, Goal::None);
        assert_eq!(reported.goal_met(), None);
        assert_eq!(reported.goal_cell(), "—");
    }

    #[test]
    fn numbers_keep_about_three_digits() {
        assert_eq!(number(12345.6), "12346");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(0.1234), "0.123");
        let m = Measure {
            median: 2.0,
            min: 1.0,
            max: 3.0,
        };
        assert_eq!(spread(&m), "1.00–3.00");
        assert_eq!(
            spread(&Measure {
                min: 2.0,
                max: 2.0,
                ..m
            }),
            ""
        );
    }

    #[test]
    fn throughput_inverts_the_spread() {
        let time = Measure {
            median: 100.0,
            min: 50.0,
            max: 200.0,
        };
        let rate = to_throughput(time, Figure::Throughput(1000));
        assert_eq!(
            rate,
            Measure {
                median: 10.0,
                min: 5.0,
                max: 20.0
            }
        );
        assert_eq!(to_throughput(time, Figure::Time), time);
    }

    #[test]
    fn criterion_estimates_give_the_median_and_its_interval() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":9.0},"point_estimate":5.0,"standard_error":0.1},
                      "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":40.5,"upper_bound":44.0},"point_estimate":42.0,"standard_error":0.2}}"#;
        assert_eq!(
            median_ns(json),
            Ok(Measure {
                median: 42.0,
                min: 40.5,
                max: 44.0
            })
        );
        assert!(median_ns("{}").is_err());
    }

    #[test]
    fn system_rows_round_trip_from_the_bench_crates_json() {
        // The exact text rawstack_bench::Row::to_json writes (its own test
        // pins it), so the two sides of the contract agree.
        let line = r#"BENCH {"section":"Capture","what":"64-byte \"frames\"","ours_label":"sniff --ring","ours":{"median":2,"min":2,"max":2},"peer_label":"dumpcap","peer":{"median":1,"min":1,"max":1},"unit":"frames/s","better":"higher","goal":1}"#;
        let Some(Ok(Line::Row(row))) = parse_output_line(line) else {
            panic!("not a row");
        };
        assert_eq!(row.what, "64-byte \"frames\"");
        assert_eq!(row.ratio(), Some(2.0));
        assert_eq!(row.goal, Goal::Ratio(1.0));
        assert_eq!(row.goal_met(), Some(true));

        let no_peer = r#"BENCH {"section":"Transmit","what":"w","ours_label":"sendmmsg","ours":{"median":5,"min":4,"max":6},"unit":"frames/s","better":"higher"}"#;
        let Some(Ok(Line::Row(row))) = parse_output_line(no_peer) else {
            panic!("not a row");
        };
        assert_eq!((row.peer, row.goal), (None, Goal::None));

        assert_eq!(
            parse_output_line("BENCH-MISSING ping"),
            Some(Ok(Line::Missing("ping".into())))
        );
        assert_eq!(parse_output_line("progress: 3 of 5"), None);
        assert!(matches!(
            parse_output_line("BENCH {\"section\":1}"),
            Some(Err(_))
        ));
    }

    #[test]
    fn the_table_aligns_columns_and_marks_goals() {
        let machine = Machine {
            cpu: "Test CPU".into(),
            cores: 2,
            kernel: "6.1".into(),
        };
        let table = Table {
            rows: vec![
                Line::Row(row(50.0, 100.0, Better::Lower, Goal::Ratio(1.0))),
                Line::Missing("ping".into()),
            ],
        };
        let text = table.to_text(&machine);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "CPU: Test CPU (2 cores available), kernel: Linux 6.1"
        );
        assert!(lines[2].starts_with("section  what"), "{}", lines[2]);
        assert!(
            lines[4].contains("rawstack  50.0") && lines[4].ends_with("0.50×      ≤ 1.0× ✓"),
            "{}",
            lines[4]
        );
        assert!(lines[5].starts_with("ping") && lines[5].contains("not measured"));
        // Columns line up: "what" and "w" both start after the widest
        // section name ("section", 7 characters) and two spaces.
        assert_eq!(lines[2].find("what"), Some(9));
        assert_eq!(lines[4].chars().nth(9), Some('w'));

        let markdown = table.to_markdown(&machine);
        let rows: Vec<&str> = markdown.lines().skip(2).collect();
        assert_eq!(
            rows[0],
            "| section | what | ours | median | spread | peer | median | spread | unit | ours/peer | goal |"
        );
        assert_eq!(rows[1].matches("---").count(), 11);
        assert_eq!(
            rows[2],
            "| S | w | rawstack | 50.0 | 45.0–55.0 | peer | 100 | 90.0–110 | ns | 0.50× | ≤ 1.0× ✓ |"
        );
        assert!(rows[3].starts_with("| ping | not measured"));
    }
}
