//! The `netlab` helper binary: creates labs and runs commands in them.
//!
//! Namespace syscalls need a single-threaded process, so the library (used
//! from multi-threaded test harnesses and xtask) never makes them itself:
//! it runs this binary. Each subcommand is one role of the lab's process
//! tree; see the `netlab` crate docs and `netlab::helper`.
//!
//! ```text
//! netlab start --dir DIR                     create a lab (stdin: the owner's pipe)
//! netlab exec --lab DIR HOST -- CMD [ARGS…]  run CMD on alpha, raw or beta
//! netlab offloads IFACE…                     read offloads back (run on a host)
//! netlab init --dir DIR | hold HOST | serve-alpha   (the lab's own processes)
//! ```

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use netlab::Host;
use netlab::helper;

const USAGE: &str = "\
usage: netlab start --dir DIR
       netlab exec --lab DIR HOST -- CMD [ARGS...]     (HOST: alpha, raw or beta)
       netlab offloads IFACE...
       netlab init --dir DIR | hold HOST | serve-alpha  (started by the lab itself)";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("netlab: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Picks the subcommand; `Err` is a usage error.
fn dispatch(args: &[OsString]) -> Result<ExitCode, String> {
    let (command, rest) = args.split_first().ok_or("no subcommand")?;
    let word = |arg: &OsString| arg.to_str().unwrap_or("").to_string();
    match word(command).as_str() {
        "start" => Ok(helper::start::run(&dir_option(rest, "--dir")?)),
        "init" => Ok(helper::init::run(&dir_option(rest, "--dir")?)),
        "hold" => {
            let [host] = rest else {
                return Err("hold takes one host".into());
            };
            Ok(helper::hold::run(parse_host(&word(host))?))
        }
        "serve-alpha" => Ok(helper::services::serve_alpha()),
        "offloads" => Ok(helper::print_offloads(
            &rest.iter().map(word).collect::<Vec<_>>(),
        )),
        "exec" => {
            // exec --lab DIR HOST -- CMD [ARGS...]
            let [flag, dir, host, separator, command @ ..] = rest else {
                return Err("exec needs --lab DIR HOST -- CMD".into());
            };
            if word(flag) != "--lab" || word(separator) != "--" || command.is_empty() {
                return Err("exec needs --lab DIR HOST -- CMD".into());
            }
            let host = parse_host(&word(host))?;
            Ok(helper::exec::run(&PathBuf::from(dir), host, command))
        }
        other => Err(format!("unknown subcommand {other:?}")),
    }
}

/// `--dir DIR` (the only option of `start` and `init`).
fn dir_option(rest: &[OsString], flag: &str) -> Result<PathBuf, String> {
    match rest {
        [given, dir] if given == flag => Ok(PathBuf::from(dir)),
        _ => Err(format!("expected {flag} DIR")),
    }
}

fn parse_host(name: &str) -> Result<Host, String> {
    Host::from_name(name).ok_or_else(|| format!("unknown host {name:?} (alpha, raw or beta)"))
}
