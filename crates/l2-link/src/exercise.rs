//! What every exercise shares: knowing which lab host it runs on, refusing
//! to send outside the lab, and turning errors into one clear message and an
//! exit code.
//!
//! Exit codes follow the tools a learner knows: 0 success, 1 "nothing
//! answered" (like `arping` and `ping`), 2 bad usage (like clap and
//! `tcpdump`), 77 missing privilege (the automake/`sysexits` "skip" code that
//! test harnesses understand).

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use crate::device::RxMeta;
use crate::pcap::PcapWriter;
use crate::sys::PacketSocket;
use crate::wire::MacAddr;

pub mod capture;

/// Exit status when the program ran but nothing answered.
pub const EXIT_NO_ANSWER: u8 = 1;
/// Exit status for bad usage: unknown interface, bad address, bad count.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the program lacks `CAP_NET_RAW`.
pub const EXIT_NO_PRIVILEGE: u8 = 77;

/// The lab's fixed identities (DESIGN §4), so no exercise retypes them.
pub mod lab {
    use crate::wire::MacAddr;
    use std::net::Ipv4Addr;

    /// alpha's interface, wired to raw's `lab1`.
    pub const ALPHA_IFACE: &str = "lab0";
    /// alpha's MAC on lab0.
    pub const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    /// alpha's address on lab0.
    pub const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    /// raw's first interface (toward alpha), where our stack runs.
    pub const RAW_IFACE: &str = "lab1";
    /// The MAC of raw's lab1 as its kernel uses it.
    pub const RAW_KERNEL_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
    /// raw's kernel address on lab1.
    pub const RAW_KERNEL_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
    /// Our userspace stack's own MAC on lab1: a second machine on the cable.
    pub const STACK_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
    /// Our userspace stack's own address on lab1.
    pub const STACK_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    /// raw's second interface (toward beta): our router's second leg.
    pub const RAW_BETA_IFACE: &str = "lab2";
    /// Our stack's MAC on lab2.
    pub const STACK_BETA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x13]);
    /// Our stack's address on lab2.
    pub const STACK_BETA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
    /// beta's interface, wired to raw's `lab2`.
    pub const BETA_IFACE: &str = "lab3";
    /// beta's MAC on lab3.
    pub const BETA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x04]);
    /// beta's address on lab3.
    pub const BETA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
}

/// Where an exercise finds itself: on one of the lab's hosts, or outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// On alpha (has lab0).
    Alpha,
    /// On raw, the learner's host (has lab1).
    Raw,
    /// On beta (has lab3).
    Beta,
    /// No lab interface here: the real machine, or some other namespace.
    OutsideLab,
}

impl Whereabouts {
    /// Looks at this network namespace's interfaces. A lab host is
    /// recognised by the interface the lab gave it, not by an environment
    /// variable, because the interfaces are what a frame would really leave
    /// through.
    pub fn detect() -> Whereabouts {
        Self::detect_with(crate::sys::interface_exists)
    }

    /// [`Whereabouts::detect`] with the question "does interface X exist
    /// here?" answered by the caller (for tests).
    pub fn detect_with(has_interface: impl Fn(&str) -> bool) -> Whereabouts {
        if has_interface(lab::RAW_IFACE) {
            Whereabouts::Raw
        } else if has_interface(lab::ALPHA_IFACE) {
            Whereabouts::Alpha
        } else if has_interface(lab::BETA_IFACE) {
            Whereabouts::Beta
        } else {
            Whereabouts::OutsideLab
        }
    }

    /// The interface an exercise uses when none is named: the host's own
    /// lab interface (lab1 on raw, lab0 on alpha, lab3 on beta).
    pub fn default_interface(self) -> &'static str {
        match self {
            Whereabouts::Alpha => lab::ALPHA_IFACE,
            Whereabouts::Beta => lab::BETA_IFACE,
            Whereabouts::Raw | Whereabouts::OutsideLab => lab::RAW_IFACE,
        }
    }
}

/// Why an exercise stopped: what the person at the terminal is told.
#[derive(Debug)]
pub enum Failure {
    /// The raw socket could not be opened for lack of `CAP_NET_RAW`.
    NoPrivilege {
        /// What we tried, e.g. `socket(AF_PACKET, SOCK_RAW)`.
        operation: String,
    },
    /// Bad usage: unknown interface, bad address, refusal outside the lab.
    Usage(String),
    /// Ran fine, but nothing answered.
    NoAnswer(String),
    /// Anything else the OS said.
    Io(io::Error),
}

impl Failure {
    /// Classifies an OS error: permission errors become [`Failure::NoPrivilege`],
    /// a missing interface becomes [`Failure::Usage`].
    pub fn from_io(err: io::Error) -> Failure {
        match err.kind() {
            io::ErrorKind::PermissionDenied => Failure::NoPrivilege {
                operation: err.to_string(),
            },
            io::ErrorKind::NotFound => Failure::Usage(err.to_string()),
            _ => Failure::Io(err),
        }
    }

    /// The exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::NoPrivilege { .. } => EXIT_NO_PRIVILEGE,
            Failure::Usage(_) => EXIT_USAGE,
            Failure::NoAnswer(_) => EXIT_NO_ANSWER,
            Failure::Io(_) => 1,
        }
    }

    /// Prints the message for `program` on stderr and returns its exit code.
    pub fn report(&self, program: &str) -> ExitCode {
        eprintln!("{}", self.message(program));
        ExitCode::from(self.exit_code())
    }

    /// The message: one line, or for privileges one short paragraph.
    pub fn message(&self, program: &str) -> String {
        match self {
            Failure::NoPrivilege { operation } => privilege_paragraph(program, operation),
            Failure::Usage(msg) | Failure::NoAnswer(msg) => format!("{program}: {msg}"),
            Failure::Io(err) => format!("{program}: {err}"),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Failure::from_io(err)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("rawstack"))
    }
}

// ANCHOR: privilege_paragraph
/// The paragraph a learner sees when a raw socket is refused: what failed,
/// why, and the three ways out (DESIGN §5).
pub fn privilege_paragraph(program: &str, operation: &str) -> String {
    format!(
        "{program}: {operation}\n\
         Raw sockets can read and forge any frame on the wire, so Linux gives them\n\
         only to processes holding the CAP_NET_RAW capability. Three ways to get it:\n\
         \x20 1. run it in rawstack's lab, where you are root over the lab's network only:\n\
         \x20      cargo xtask lab -- cargo run -p <crate> --example {program}\n\
         \x20 2. run it as root:  sudo target/debug/examples/{program} ...\n\
         \x20 3. give the binary the capability (every rebuild drops it again):\n\
         \x20      sudo setcap cap_net_raw+ep target/debug/examples/{program}"
    )
}
// ANCHOR_END: privilege_paragraph

// ANCHOR: outside_lab_refusal
/// Network safety (DESIGN §8): inside the lab an exercise may use its
/// defaults; outside it, it sends only when the person named both the
/// interface and the target, so a stray `sudo` never puts frames on a real
/// network by accident.
pub fn check_may_send(
    whereabouts: Whereabouts,
    interface_named: bool,
    target_named: bool,
) -> Result<(), Failure> {
    if whereabouts != Whereabouts::OutsideLab || (interface_named && target_named) {
        return Ok(());
    }
    Err(Failure::Usage(
        "refusing to send: this is not a rawstack lab host (no lab0/lab1/lab3 here). \
         Run it in `cargo xtask lab`, or name both the interface and the target explicitly"
            .to_string(),
    ))
}
// ANCHOR_END: outside_lab_refusal

/// Parses a MAC address argument (for clap's `value_parser`).
pub fn parse_mac(s: &str) -> Result<MacAddr, String> {
    s.parse::<MacAddr>().map_err(|e| e.to_string())
}

/// Parses a number that may be written in hex with a `0x` prefix
/// (EtherTypes are), for clap's `value_parser`.
pub fn parse_u16_maybe_hex(s: &str) -> Result<u16, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse::<u16>(),
    };
    parsed.map_err(|_| format!("invalid number {s:?} (expected e.g. 0x88b5 or 34997)"))
}

/// Receives one frame for a loop that stops on Ctrl-C: a signal that
/// interrupts the wait is not an error here, it means "look at the stop
/// flag now", so it returns `Ok(None)` like a deadline that passed.
pub fn recv_frame(
    socket: &PacketSocket,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<Option<RxMeta>, Failure> {
    match socket.recv(buf, Some(deadline)) {
        Ok(meta) => Ok(meta),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// `HH:MM:SS.micros` in UTC, like tcpdump's default time stamp.
pub fn clock_time(time: SystemTime) -> String {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since_epoch.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since_epoch.subsec_micros()
    )
}

/// Creates a classic pcap file for `-w FILE`, with a one-line error naming
/// the file if it cannot be created.
pub fn create_pcap(path: &Path) -> Result<PcapWriter<BufWriter<File>>, Failure> {
    let file =
        File::create(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(PcapWriter::new(BufWriter::new(file))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_hosts_by_their_interfaces() {
        assert_eq!(
            Whereabouts::detect_with(|n| n == "lab1" || n == "lab2"),
            Whereabouts::Raw
        );
        assert_eq!(
            Whereabouts::detect_with(|n| n == "lab0"),
            Whereabouts::Alpha
        );
        assert_eq!(Whereabouts::detect_with(|n| n == "lab3"), Whereabouts::Beta);
        assert_eq!(
            Whereabouts::detect_with(|n| n == "eth0"),
            Whereabouts::OutsideLab
        );
        assert_eq!(Whereabouts::Alpha.default_interface(), "lab0");
        assert_eq!(Whereabouts::Beta.default_interface(), "lab3");
        assert_eq!(Whereabouts::Raw.default_interface(), "lab1");
    }

    #[test]
    fn refuses_outside_the_lab_unless_everything_is_explicit() {
        let outside = Whereabouts::OutsideLab;
        for (iface, target) in [(false, false), (true, false), (false, true)] {
            let err = check_may_send(outside, iface, target).unwrap_err();
            assert_eq!(err.exit_code(), EXIT_USAGE);
            assert!(err.message("x").contains("refusing to send"));
        }
        assert!(check_may_send(outside, true, true).is_ok());
        assert!(check_may_send(Whereabouts::Raw, false, false).is_ok());
    }

    #[test]
    fn permission_errors_explain_cap_net_raw() {
        let err = io::Error::new(io::ErrorKind::PermissionDenied, "socket(AF_PACKET): denied");
        let failure = Failure::from_io(err);
        assert_eq!(failure.exit_code(), EXIT_NO_PRIVILEGE);
        let msg = failure.message("sniff");
        assert!(
            msg.contains("CAP_NET_RAW")
                && msg.contains("setcap")
                && msg.contains("cargo xtask lab")
        );
        let missing = Failure::from_io(io::Error::new(
            io::ErrorKind::NotFound,
            "no network interface named \"lab9\"",
        ));
        assert_eq!(missing.exit_code(), EXIT_USAGE);
        assert_eq!(missing.message("sniff").lines().count(), 1);
    }

    #[test]
    fn clock_time_is_utc_time_of_day() {
        let t = SystemTime::UNIX_EPOCH
            + std::time::Duration::from_micros(86_400_000_000 * 3 + 3_723_000_042);
        assert_eq!(clock_time(t), "01:02:03.000042");
    }

    #[test]
    fn parses_hex_and_decimal_numbers() {
        assert_eq!(parse_u16_maybe_hex("0x88b5"), Ok(0x88b5));
        assert_eq!(parse_u16_maybe_hex("2054"), Ok(2054));
        assert!(parse_u16_maybe_hex("0xzz").is_err());
        assert!(parse_u16_maybe_hex("70000").is_err());
    }
}
