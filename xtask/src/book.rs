//! `cargo xtask book`: check the book, then build it with mdbook-driver.
//!
//! The book's listings are included from the crates (`{{#include
//! ../../crates/…:anchor}}`), so a renamed file or anchor must break the
//! build rather than leave an empty code block. [`check`] finds every such
//! problem first and names its file and line; only a clean book is built.
//!
//! - `cargo xtask book` — check, then build `book/` into `book/build`.
//! - `cargo xtask book --check` — check only (quick, for CI).
//! - `cargo xtask book --serve` — build, serve on 127.0.0.1 and rebuild on
//!   change ([`serve`]).

mod check;
mod dedent;
mod serve;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;

/// Arguments of `cargo xtask book`.
#[derive(clap::Args)]
pub struct BookArgs {
    /// After building, serve the book on http://127.0.0.1:PORT (loopback
    /// only) and rebuild it when a chapter or an included file changes.
    #[arg(long, conflicts_with = "check")]
    serve: bool,
    /// Only check includes, anchors and links; build nothing.
    #[arg(long)]
    check: bool,
    /// The port `--serve` listens on (always on 127.0.0.1).
    #[arg(long, default_value_t = 3000, requires = "serve")]
    port: u16,
}

/// Runs `cargo xtask book`.
pub fn run(args: BookArgs) -> crate::Result<ExitCode> {
    let book = BookPaths::locate(&crate::workspace_root())?;
    if args.check {
        let report = book.check();
        return Ok(if report.problems.is_empty() {
            println!(
                "book: {} files checked: every include, anchor and link resolves",
                report.inputs.len()
            );
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    match book.check_then_build()? {
        Built::Yes(inputs) if args.serve => serve::serve(&book, args.port, inputs),
        Built::Yes(_) => Ok(ExitCode::SUCCESS),
        Built::No => Ok(ExitCode::FAILURE),
    }
}

/// Where the book's parts are, from `book/book.toml`.
#[derive(Clone)]
pub(crate) struct BookPaths {
    /// The workspace root; problems are shown relative to it.
    workspace: PathBuf,
    /// `book/`, where book.toml is.
    root: PathBuf,
    /// The Markdown sources (`[book] src`).
    src: PathBuf,
    /// The HTML output (`[build] build-dir`).
    build: PathBuf,
}

/// Whether [`BookPaths::check_then_build`] built the book.
pub(crate) enum Built {
    /// Built; these are the files it read (for `--serve` to watch).
    Yes(BTreeSet<PathBuf>),
    /// The check found problems (already printed); nothing was built.
    No,
}

impl BookPaths {
    /// Reads `book/book.toml` under the workspace root.
    fn locate(workspace: &Path) -> crate::Result<BookPaths> {
        let root = workspace.join("book");
        let config = Config::from_disk(root.join("book.toml"))
            .map_err(|err| format!("cannot read {}: {err:#}", root.join("book.toml").display()))?;
        Ok(BookPaths {
            workspace: workspace.to_path_buf(),
            src: root.join(&config.book.src),
            build: root.join(&config.build.build_dir),
            root,
        })
    }

    /// Checks the book, printing each problem as `file:line: message` on
    /// stderr.
    fn check(&self) -> check::Report {
        let report = check::check_book(&self.src);
        for problem in &report.problems {
            eprintln!("{}", problem.display_relative_to(&self.workspace));
        }
        if !report.problems.is_empty() {
            let count = report.problems.len();
            let plural = if count == 1 { "" } else { "s" };
            eprintln!("book: {count} problem{plural}; nothing was built");
        }
        report
    }

    /// Checks the book and, if it is clean, builds it.
    fn check_then_build(&self) -> crate::Result<Built> {
        let report = self.check();
        if !report.problems.is_empty() {
            return Ok(Built::No);
        }
        // mdBook reports through `tracing`, which nobody subscribes to here:
        // the check above already caught what it would only have logged.
        let mut book = MDBook::load(&self.root)
            .map_err(|err| format!("cannot load the book in {}: {err:#}", self.root.display()))?;
        book.with_preprocessor(dedent::Dedent);
        book.build()
            .map_err(|err| format!("building the book failed: {err:#}"))?;
        let shown = self
            .build
            .strip_prefix(&self.workspace)
            .unwrap_or(&self.build);
        println!(
            "book: built {} ({} files read; open {}/index.html)",
            shown.display(),
            report.inputs.len(),
            shown.display()
        );
        Ok(Built::Yes(report.inputs))
    }
}
