//! `cargo xtask` — rawstack's project commands.
//!
//! - `cargo xtask book [--serve]` builds the book (mdbook-driver as a library)
//!   and fails on any `{{#include}}` or anchor that resolves to nothing.
//! - `cargo xtask lab [-- CMD ARGS…]` opens a shell on the lab's `raw` host, or
//!   runs one command there in a fresh lab.
//! - `cargo xtask tour` runs every exercise in a fresh lab and explains it.
//! - `cargo xtask bench [--quick]` runs every benchmark beside its peer and
//!   prints one table.
//! - `cargo xtask fuzz --seconds N` runs every cargo-fuzz target for N seconds.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod book;
mod fuzz;
mod lab;
mod tour;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "rawstack's project commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the book into book/build (fails on a broken include or anchor).
    Book(book::BookArgs),
    /// Open a shell on the lab's `raw` host, or run one command there.
    Lab(lab::LabArgs),
    /// A guided run of every exercise, in a fresh lab.
    Tour(tour::TourArgs),
    /// Every benchmark beside its peer, one table.
    Bench(bench::BenchArgs),
    /// Every fuzz target for N seconds (needs the nightly toolchain).
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Book(args) => book::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Tour(args) => tour::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fuzz(args) => fuzz::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Errors of xtask commands: a message for the person at the terminal.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The workspace root (xtask lives one level below it).
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}
