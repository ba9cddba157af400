//! Shared pieces of rawstack's benchmarks.
//!
//! Micro-benchmarks (`benches/micro.rs`) are criterion groups that run our
//! code and the peer's side by side; `cargo xtask bench` reads criterion's
//! estimates. System benchmarks (`benches/capture.rs`, `transmit.rs`,
//! `tcp_bulk.rs`, `ping.rs`) start a fresh lab, measure, and print one
//! line per table row: `BENCH ` followed by a JSON object ([`Row::emit`]).
//! `cargo xtask bench` runs them all and prints one table.

use std::fmt::Write as _;

/// One measured figure: the median of several runs and their spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    /// The median of the runs.
    pub median: f64,
    /// The smallest run.
    pub min: f64,
    /// The largest run.
    pub max: f64,
}

impl Measure {
    /// The median and spread of `runs` (at least one).
    ///
    /// # Panics
    /// If `runs` is empty or holds a NaN: a benchmark with no figure is a
    /// bug in the benchmark, not a measurement.
    pub fn of(runs: &[f64]) -> Measure {
        assert!(!runs.is_empty(), "a measure needs at least one run");
        let mut sorted = runs.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN in measurements"));
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[middle]
        } else {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        };
        Measure {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Which way is better for a row's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Times, sizes: ours / peer ≤ goal meets the goal.
    Lower,
    /// Rates, throughputs: ours / peer ≥ goal meets the goal.
    Higher,
}

/// One row of the benchmark table: what was measured, ours, the peer's.
#[derive(Clone, Debug)]
pub struct Row {
    /// The table's section ("Capture", "TCP bulk", …).
    pub section: String,
    /// What was measured ("64-byte frames, highest rate with zero drops").
    pub what: String,
    /// Whose figure `ours` is ("sniff --ring").
    pub ours_label: String,
    /// Our figure.
    pub ours: Measure,
    /// Whose figure `peer` is ("dumpcap"), if there is a peer.
    pub peer_label: Option<String>,
    /// The peer's figure from the same run.
    pub peer: Option<Measure>,
    /// The unit of both figures ("frames/s", "MB/s", "µs").
    pub unit: String,
    /// Which way is better.
    pub better: Better,
    /// The goal for ours / peer, from the issue (`None`: reported only).
    pub goal: Option<f64>,
}

impl Row {
    /// Prints the row on stdout as `BENCH {json}` for `cargo xtask bench`.
    pub fn emit(&self) {
        println!("BENCH {}", self.to_json());
    }

    /// The row as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        field_str(&mut out, "section", &self.section);
        field_str(&mut out, "what", &self.what);
        field_str(&mut out, "ours_label", &self.ours_label);
        field_measure(&mut out, "ours", &self.ours);
        if let (Some(label), Some(peer)) = (&self.peer_label, &self.peer) {
            field_str(&mut out, "peer_label", label);
            field_measure(&mut out, "peer", peer);
        }
        field_str(&mut out, "unit", &self.unit);
        let better = match self.better {
            Better::Lower => "lower",
            Better::Higher => "higher",
        };
        field_str(&mut out, "better", better);
        if let Some(goal) = self.goal {
            let _ = write!(out, "\"goal\":{goal},");
        }
        out.pop(); // the last comma
        out.push('}');
        out
    }
}

fn field_str(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "\"{name}\":\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str("\",");
}

fn field_measure(out: &mut String, name: &str, m: &Measure) {
    let _ = write!(
        out,
        "\"{name}\":{{\"median\":{},\"min\":{},\"max\":{}}},",
        m.median, m.min, m.max
    );
}

/// True when the benchmark was asked for its quick mode (`--quick` among
/// the arguments, or `RAWSTACK_BENCH_QUICK=1`, which `cargo xtask bench
/// --quick` sets): fewer runs, one frame size, shorter transfers.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
        || std::env::var("RAWSTACK_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// What a system benchmark whose code is not written yet prints: a row
/// that the table shows as "not measured", never a made-up figure.
pub fn not_measured(section: &str) {
    println!("BENCH-MISSING {section}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Measure::of(&[3.0, 1.0, 2.0]).median, 2.0);
        assert_eq!(Measure::of(&[4.0, 1.0, 3.0, 2.0]).median, 2.5);
        let m = Measure::of(&[5.0, 9.0, 1.0]);
        assert_eq!((m.min, m.max), (1.0, 9.0));
    }

    #[test]
    fn rows_are_one_line_of_json_with_escapes() {
        let row = Row {
            section: "Capture".into(),
            what: "64-byte \"frames\"".into(),
            ours_label: "sniff --ring".into(),
            ours: Measure::of(&[2.0]),
            peer_label: Some("dumpcap".into()),
            peer: Some(Measure::of(&[1.0])),
            unit: "frames/s".into(),
            better: Better::Higher,
            goal: Some(1.0),
        };
        let json = row.to_json();
        assert_eq!(
            json,
            r#"{"section":"Capture","what":"64-byte \"frames\"","ours_label":"sniff --ring","ours":{"median":2,"min":2,"max":2},"peer_label":"dumpcap","peer":{"median":1,"min":1,"max":1},"unit":"frames/s","better":"higher","goal":1}"#
        );
    }
}
