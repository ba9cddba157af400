//! `cargo xtask fuzz --seconds N`: every fuzz target for N seconds (not written yet).

use std::process::ExitCode;

/// Arguments of `cargo xtask fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// How long each target runs.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

/// Runs every fuzz target in turn and prints executions and crashes.
pub fn run(args: FuzzArgs) -> crate::Result<ExitCode> {
    let _ = args.seconds;
    Err("cargo xtask fuzz is not written yet".into())
}
