//! `cargo xtask book`.

use std::process::ExitCode;

/// Arguments of `cargo xtask book`.
#[derive(clap::Args)]
pub struct BookArgs {}

/// Runs `cargo xtask book`.
pub fn run(_args: BookArgs) -> crate::Result<ExitCode> {
    Err("not written yet".into())
}
