//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target in `fuzz/` for
//! N seconds, then one table of executions, speed, crashes and corpus.
//!
//! cargo-fuzz drives libFuzzer, which needs the nightly toolchain (its
//! coverage instrumentation and sanitizers are unstable compiler flags):
//! the command checks for it and says how to get it. `cargo fuzz build`
//! builds every target once, so all of them fuzz the same code; then each
//! built binary runs from a copy of the committed seeds
//! (`fuzz/corpus/<target>/`) in `fuzz/scratch/`, so what the fuzzer adds
//! never grows the repository. A crash is saved by libFuzzer under
//! `fuzz/artifacts/<target>/`, and the command names the file and fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Arguments of `cargo xtask fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// How long each target runs, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Run only this target (`cargo fuzz list` in fuzz/ names them).
    #[arg(long)]
    target: Option<String>,
}

/// What one target's run came to.
struct Outcome {
    target: String,
    executions: u64,
    execs_per_second: u64,
    /// The input that crashed it (libFuzzer stops at the first one).
    crash: Option<PathBuf>,
    /// The run failed without saving an input (see the log).
    failed: bool,
    corpus_files: usize,
}

/// Runs the fuzz targets in turn and prints one row per target.
pub fn run(args: FuzzArgs) -> crate::Result<ExitCode> {
    if !nightly_available() {
        eprintln!(
            "xtask fuzz: the fuzz targets need the nightly toolchain \
             (libFuzzer's instrumentation uses unstable compiler flags).\n\
             Install it with:\n    rustup toolchain install nightly\n\
             then run `cargo xtask fuzz` again."
        );
        return Ok(ExitCode::FAILURE);
    }
    ensure_cargo_fuzz()?;
    let fuzz_dir = crate::workspace_root().join("fuzz");
    let all = list_targets(&fuzz_dir)?;
    let targets = match &args.target {
        Some(name) if all.contains(name) => vec![name.clone()],
        Some(name) => {
            return Err(format!("no fuzz target {name:?}; there are: {}", all.join(", ")).into());
        }
        None => all,
    };
    // Build everything first, so the build is not counted as fuzzing time.
    let built = cargo_fuzz(&fuzz_dir).arg("build").status()?;
    if !built.success() {
        return Err("cargo fuzz build failed".into());
    }
    let binaries = fuzz_dir.join("target").join(host_triple()?).join("release");
    let mut outcomes = Vec::new();
    for target in &targets {
        eprintln!("xtask fuzz: {target} for {} s…", args.seconds);
        outcomes.push(run_target(&fuzz_dir, &binaries, target, args.seconds)?);
    }
    print_table(&outcomes);
    for outcome in outcomes.iter().filter(|o| o.failed) {
        eprintln!(
            "xtask fuzz: {} did not run to the end; see fuzz/scratch/{}.log",
            outcome.target, outcome.target
        );
    }
    let crashed: Vec<&Outcome> = outcomes.iter().filter(|o| o.crash.is_some()).collect();
    for outcome in &crashed {
        let artifact = outcome.crash.as_deref().unwrap_or(Path::new("?"));
        eprintln!(
            "xtask fuzz: {} crashed on {}\n    replay it: (cd fuzz && cargo +nightly fuzz run {} {})",
            outcome.target,
            artifact.display(),
            outcome.target,
            artifact.display()
        );
    }
    Ok(
        if crashed.is_empty() && !outcomes.iter().any(|o| o.failed) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Whether `cargo +nightly` works (rustup's toolchain override).
fn nightly_available() -> bool {
    Command::new("cargo")
        .args(["+nightly", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Installs cargo-fuzz from crates.io unless `cargo fuzz` already runs.
fn ensure_cargo_fuzz() -> crate::Result<()> {
    let present = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if present {
        return Ok(());
    }
    eprintln!("xtask fuzz: cargo-fuzz is missing; running `cargo install cargo-fuzz`");
    let installed = Command::new("cargo")
        .args(["install", "cargo-fuzz"])
        .status()?;
    if installed.success() {
        Ok(())
    } else {
        Err("`cargo install cargo-fuzz` failed".into())
    }
}

/// The host's target triple (`cargo fuzz build` builds for it, into
/// `fuzz/target/<triple>/release/`).
fn host_triple() -> crate::Result<String> {
    let output = Command::new("rustc").args(["+nightly", "-vV"]).output()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV did not name the host".into())
}

/// `cargo +nightly fuzz …`, run in `fuzz/`.
fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command.args(["+nightly", "fuzz"]).current_dir(fuzz_dir);
    command
}

/// The targets, as `cargo fuzz list` names them.
fn list_targets(fuzz_dir: &Path) -> crate::Result<Vec<String>> {
    let output = cargo_fuzz(fuzz_dir).arg("list").output()?;
    if !output.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect())
}

/// Fuzzes one target (its binary in `binaries`) for `seconds`, starting
/// from a scratch copy of its committed seeds; libFuzzer's log goes to
/// `fuzz/scratch/<target>.log`.
fn run_target(
    fuzz_dir: &Path,
    binaries: &Path,
    target: &str,
    seconds: u64,
) -> crate::Result<Outcome> {
    let scratch = fuzz_dir.join("scratch").join(target);
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    fs::create_dir_all(&scratch)?;
    let seeds = fuzz_dir.join("corpus").join(target);
    if seeds.is_dir() {
        for seed in fs::read_dir(&seeds)? {
            let seed = seed?;
            fs::copy(seed.path(), scratch.join(seed.file_name()))?;
        }
    }
    let artifacts = fuzz_dir.join("artifacts").join(target);
    fs::create_dir_all(&artifacts)?;
    let log_path = fuzz_dir.join("scratch").join(format!("{target}.log"));
    let log = fs::File::create(&log_path)?;
    // What `cargo fuzz run` does after building, without building again.
    let status = Command::new(binaries.join(target))
        .arg(&scratch)
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(format!("-max_total_time={seconds}"))
        // An input that takes 10 s is a hang: report it like a crash.
        .arg("-timeout=10")
        .arg("-print_final_stats=1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()?;
    let text = fs::read_to_string(&log_path)?;
    let crash = artifact(&text).map(PathBuf::from);
    Ok(Outcome {
        failed: !status.success() && crash.is_none(),
        target: target.to_string(),
        executions: stat(&text, "stat::number_of_executed_units").unwrap_or(0),
        execs_per_second: stat(&text, "stat::average_exec_per_sec").unwrap_or(0),
        crash,
        corpus_files: fs::read_dir(&scratch)?.count(),
    })
}

/// A `stat::name: value` line of libFuzzer's final statistics.
fn stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .find_map(|value| value.trim().parse().ok())
}

/// The file libFuzzer saved a crashing input to (`Test unit written to
/// …/fuzz/artifacts/<target>/crash-…`).
fn artifact(log: &str) -> Option<String> {
    log.lines()
        .find_map(|line| line.split_once("Test unit written to "))
        .map(|(_, path)| path.trim().to_string())
}

fn print_table(outcomes: &[Outcome]) {
    println!(
        "{:<20} {:>12} {:>9} {:>8} {:>7}",
        "target", "executions", "exec/s", "crashes", "corpus"
    );
    for outcome in outcomes {
        let crashes = if outcome.failed {
            "failed".to_string()
        } else {
            usize::from(outcome.crash.is_some()).to_string()
        };
        println!(
            "{:<20} {:>12} {:>9} {:>8} {:>7}",
            outcome.target,
            outcome.executions,
            outcome.execs_per_second,
            crashes,
            outcome.corpus_files
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as libFuzzer prints them (-print_final_stats=1, and on a crash).
    const LOG: &str = "#1234\tDONE   cov: 88 ft: 120 corp: 14/300b\n\
        ==1== ERROR: libFuzzer: deadly signal\n\
        artifact_prefix='/w/fuzz/artifacts/dns/'; Test unit written to /w/fuzz/artifacts/dns/crash-3a\n\
        stat::number_of_executed_units: 1234\n\
        stat::average_exec_per_sec:     617\n";

    #[test]
    fn reads_libfuzzer_final_stats_and_the_crash_artifact() {
        assert_eq!(stat(LOG, "stat::number_of_executed_units"), Some(1234));
        assert_eq!(stat(LOG, "stat::average_exec_per_sec"), Some(617));
        assert_eq!(stat(LOG, "stat::new_units_added"), None);
        assert_eq!(
            artifact(LOG).as_deref(),
            Some("/w/fuzz/artifacts/dns/crash-3a")
        );
        assert_eq!(artifact("#2 INITED\n"), None);
    }
}
