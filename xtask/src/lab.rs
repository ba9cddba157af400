//! `cargo xtask lab`.

use std::process::ExitCode;

/// Arguments of `cargo xtask lab`.
#[derive(clap::Args)]
pub struct LabArgs {}

/// Runs `cargo xtask lab`.
pub fn run(_args: LabArgs) -> crate::Result<ExitCode> {
    Err("not written yet".into())
}
