//! `cargo xtask tour`.

use std::process::ExitCode;

/// Arguments of `cargo xtask tour`.
#[derive(clap::Args)]
pub struct TourArgs {}

/// Runs `cargo xtask tour`.
pub fn run(_args: TourArgs) -> crate::Result<ExitCode> {
    Err("not written yet".into())
}
