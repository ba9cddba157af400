//! `cargo xtask lab`: a shell on the lab's `raw` host, or one command there.
//!
//! - `cargo xtask lab` joins this user's shared lab if one is running (say,
//!   in another terminal), or starts it, and opens an interactive shell on
//!   raw with `alpha`, `beta` and `raw` on its PATH. The lab ends when the
//!   shell that started it exits and no joined shell remains.
//! - `cargo xtask lab -- CMD ARGS…` starts a fresh, private lab, runs CMD on
//!   raw (with the same commands on its PATH), ends the lab and exits with
//!   CMD's status: for scripts and checks.

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, ExitCode, ExitStatus};

use netlab::topology::{self, INTERFACES};
use netlab::{Host, Lab};

/// Arguments of `cargo xtask lab`.
#[derive(clap::Args)]
pub struct LabArgs {
    /// Run this command on raw in a fresh, private lab, instead of opening a
    /// shell on the shared one (`cargo xtask lab -- ip -br addr`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    cmd: Vec<String>,
}

/// Runs `cargo xtask lab`.
pub fn run(args: LabArgs) -> crate::Result<ExitCode> {
    // `netlab exec` marks every process in a lab. A lab inside the lab would
    // work, but is never what was meant.
    if let Some(host) = std::env::var_os("RAWSTACK_HOST") {
        let host = host.to_string_lossy();
        return Err(format!(
            "this shell is already in the lab (on {host}): run alpha, beta or raw CMD here, or exit first"
        )
        .into());
    }
    match args.cmd.split_first() {
        Some((program, rest)) => run_one_command(program, rest),
        None => interactive_shell(),
    }
}

/// `cargo xtask lab -- CMD ARGS…`.
fn run_one_command(program: &str, args: &[String]) -> crate::Result<ExitCode> {
    let lab = Lab::start()?;
    let mut child = lab
        .command(Host::Raw, program)
        .args(args)
        .env("PATH", path_with_host_commands(&lab))
        .spawn()?;
    let status = netlab::wait_in_foreground(&mut child)?;
    drop(lab);
    Ok(exit_code(status))
}

/// `cargo xtask lab`.
fn interactive_shell() -> crate::Result<ExitCode> {
    let mut lab = Lab::join_or_start_shared()?;
    print_banner(&lab);
    let mut shell = shell_on_raw(&lab)?;
    let status = netlab::wait_in_foreground(&mut shell.spawn()?)?;
    if lab.started_here() {
        lab.wait_for_joined(|others| {
            eprintln!("waiting for {others} other lab shell(s) to exit before ending the lab…");
        })?;
        eprintln!("rawstack lab: ended");
    }
    drop(lab);
    Ok(exit_code(status))
}

/// PATH with the lab's `alpha`/`beta`/`raw` commands first.
fn path_with_host_commands(lab: &Lab) -> OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(lab.bin_dir()).chain(std::env::split_paths(&current));
    std::env::join_paths(dirs).unwrap_or(current)
}

/// What the prompt says: which lab, which host.
const PROMPT_PREFIX: &str = "[rawstack lab:raw]";

/// An interactive shell on raw. bash if we can find it (its prompt can be
/// set reliably, after the user's own ~/.bashrc), else sh with PS1 from the
/// environment. Other shells' startup files would override the prompt, so
/// a zsh or fish user gets bash here too.
fn shell_on_raw(lab: &Lab) -> crate::Result<Command> {
    let from_env = std::env::var_os("SHELL").map(PathBuf::from);
    let named = |name: &str| {
        from_env
            .clone()
            .filter(|shell| shell.file_name().is_some_and(|n| n == name))
    };
    let bash = named("bash").or_else(|| Some(PathBuf::from("/bin/bash")).filter(|p| p.is_file()));
    let mut command = match bash {
        Some(bash) => {
            let rcfile = write_bashrc(lab)?;
            let mut command = lab.command(Host::Raw, bash);
            command.arg("--rcfile").arg(rcfile).arg("-i");
            command
        }
        None => {
            let sh = named("sh")
                .or_else(|| named("dash"))
                .unwrap_or_else(|| PathBuf::from("/bin/sh"));
            let mut command = lab.command(Host::Raw, sh);
            command.arg("-i").env("PS1", format!("{PROMPT_PREFIX} $ "));
            command
        }
    };
    command.env("PATH", path_with_host_commands(lab));
    Ok(command)
}

/// The bash startup file of lab shells: the user's own ~/.bashrc first,
/// then the lab's commands (unless already on PATH) and prompt on top.
/// `RAWSTACK_LAB` and `RAWSTACK_HOST` come from `netlab exec`.
const BASHRC: &str = r#"# Written by `cargo xtask lab`: your ~/.bashrc, then the lab's commands and prompt.
[ -r ~/.bashrc ] && . ~/.bashrc
case ":$PATH:" in *":$RAWSTACK_LAB/bin:"*) ;; *) PATH="$RAWSTACK_LAB/bin:$PATH" ;; esac
PS1='[rawstack lab:'"$RAWSTACK_HOST"'] \w\$ '
"#;

/// Writes [`BASHRC`] into the lab's directory.
fn write_bashrc(lab: &Lab) -> std::io::Result<PathBuf> {
    let rcfile = lab.dir().join("bashrc");

    // Written whole under a private name, then renamed: a shell joining at the
    // same moment reads the old file or the new one, never half of one.
    let temporary = lab.dir().join(format!("bashrc.{}", std::process::id()));
    fs::write(&temporary, BASHRC)?;
    fs::rename(&temporary, &rcfile)?;
    Ok(rcfile)
}

/// Hosts, addresses, and how to use them, from netlab's topology tables.
fn print_banner(lab: &Lab) {
    let how = if lab.started_here() {
        "started"
    } else {
        "joined"
    };
    println!("rawstack lab {how} (state in {})", lab.dir().display());
    for host in Host::ALL {
        for (i, interface) in host.interfaces().enumerate() {
            let name = if i == 0 { host.name() } else { "" };
            println!("  {name:<6} {}", describe(interface));
        }
    }
    println!(
        "  (our stack on lab1: {}; alpha echoes TCP and UDP on port {})",
        topology::STACK_IP,
        topology::ECHO_PORT
    );
    println!("This shell is on raw. Run a command on a host with: alpha CMD…, beta CMD…, raw CMD…");
    println!("  for example: alpha ping -c1 {}", topology::RAW_KERNEL_IP);
    println!("Type exit to leave; the lab ends when its last shell has left.");
}

/// `lab1  02:00:00:00:00:02  198.18.0.3/24  mtu 1500  (to alpha's lab0)`.
fn describe(interface: &topology::Interface) -> String {
    let address = match interface.address {
        Some((address, prefix)) => format!("{address}/{prefix}"),
        None => "no address".to_string(),
    };
    let peer = INTERFACES.iter().find(|other| other.name == interface.peer);
    let cable = peer
        .map(|p| format!("cable to {}'s {}", p.host, p.name))
        .unwrap_or_default();
    format!(
        "{}  {}  {address:<15}  mtu {}  {cable}",
        interface.name,
        interface.mac_string(),
        interface.mtu
    )
}

/// A child's status as our exit code (128 + signal if it was killed, as a
/// shell reports it).
fn exit_code(status: ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lines_describe_the_topology() {
        let lab1 = topology::interface("lab1").unwrap();
        assert_eq!(
            describe(lab1),
            "lab1  02:00:00:00:00:02  198.18.0.3/24    mtu 1500  cable to alpha's lab0"
        );
        let lab2 = topology::interface("lab2").unwrap();
        assert!(describe(lab2).contains("no address       mtu 1280  cable to beta's lab3"));
    }

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), ExitCode::from(3));
        assert_eq!(exit_code(ExitStatus::from_raw(9)), ExitCode::from(137));
    }
}
