//! Least privilege: every long-running exercise that opens a raw socket
//! holds no capability at all once the socket is open.
//!
//! `CAP_NET_RAW` is checked when a raw socket is created, never again; so,
//! like iputils ping, our exercises give up every capability right after
//! `socket()` (`l2_link::sys::drop_capabilities`). From then on, a bug in
//! the code that parses what the network sends has no more power than any
//! process of the learner's own user.
//!
//! The proof is the kernel's own account: `/proc/PID/status` of the
//! running exercise, read in the lab while it works, must say
//! `CapEff: 0000000000000000` (and `CapPrm`, what it could take back, 0
//! too) — while the shell that started it, in the same lab host, holds
//! capabilities (otherwise the test would prove nothing).
//!
//! ping and the SYN scanner have the same check next to their other lab
//! tests (`layer3_kernel.rs`, `layer4_scan.rs`); ping is here again so
//! that this file lists every exercise in one place.

use std::process::Command;

use netlab::{Host, Lab};
use rawstack_tests::{TempDir, example, lab};

/// One exercise to check: where it runs, how it is started, and the line
/// in its output that says its socket is open.
struct Exercise {
    host: Host,
    package: &'static str,
    name: &'static str,
    args: &'static [&'static str],
    ready: &'static str,
}

/// The exercises that open a raw socket and keep running (the others
/// are done before anyone could look at them).
const EXERCISES: &[Exercise] = &[
    Exercise {
        host: Host::Raw,
        package: "l2-link",
        name: "sniff",
        args: &["-c", "100000"],
        ready: "listening on lab1",
    },
    Exercise {
        host: Host::Alpha,
        package: "l2-link",
        name: "send-frame",
        args: &["--listen"],
        ready: "listening on lab0",
    },
    Exercise {
        host: Host::Raw,
        package: "l2-link",
        name: "arping",
        args: &["-c", "50"],
        ready: "reply from",
    },
    Exercise {
        host: Host::Raw,
        package: "l3-net",
        name: "ping",
        args: &["-c", "20", "-i", "0.2"],
        ready: "bytes from",
    },
    Exercise {
        host: Host::Raw,
        package: "l3-net",
        name: "host",
        args: &["--duration", "20"],
        ready: "ready",
    },
    Exercise {
        host: Host::Raw,
        package: "l3-net",
        name: "router",
        args: &["--duration", "20"],
        ready: "ready",
    },
];

/// The capability masks (hex, as in /proc) of the exercise and of the
/// shell that started it, read while the exercise runs.
struct Reading {
    /// What the shell printed, for the failure message.
    transcript: String,
    exercise_eff: u64,
    exercise_prm: u64,
    shell_eff: u64,
}

/// Starts `exercise` in the background on its lab host, waits (up to
/// 10 s) for its ready line, reads its /proc/PID/status, then stops it
/// with Ctrl-C.
fn read_capabilities(lab: &Lab, exercise: &Exercise, dir: &TempDir) -> Reading {
    let program = example(exercise.package, exercise.name);
    let out = dir.path().join(format!("{}.out", exercise.name));
    // `$!` is the exercise itself: sh forks and the child executes it.
    let script = format!(
        r#"{program} {args} > {out} 2>&1 &
        pid=$!
        for _ in $(seq 200); do grep -q "{ready}" {out} && break; sleep 0.05; done
        echo "exercise $(readlink /proc/$pid/exe)"
        grep -E '^Cap(Eff|Prm):' /proc/$pid/status | sed 's/^/exercise /'
        grep -E '^CapEff:' /proc/self/status | sed 's/^/shell /'
        kill -INT $pid
        wait $pid
        sed 's/^/output: /' {out}"#,
        program = program.display(),
        args = exercise.args.join(" "),
        out = out.display(),
        ready = exercise.ready,
    );
    let mut shell: Command = lab.command(exercise.host, "sh");
    shell.args(["-c", &script]);
    let output = shell.output().expect("run sh in the lab");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains(exercise.ready),
        "{}: never printed {:?}: {stdout}",
        exercise.name,
        exercise.ready
    );
    let value = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("hex"))
            .unwrap_or_else(|| panic!("{}: no {prefix:?} in {stdout}", exercise.name))
    };
    Reading {
        transcript: stdout.clone(),
        exercise_eff: value("exercise CapEff:"),
        exercise_prm: value("exercise CapPrm:"),
        shell_eff: value("shell CapEff:"),
    }
}

#[test]
fn raw_socket_exercises_hold_no_capability_once_their_socket_is_open() {
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("least-privilege");
    for exercise in EXERCISES {
        let reading = read_capabilities(&lab, exercise, &dir);
        assert_ne!(
            reading.shell_eff, 0,
            "the lab gives capabilities, else this proves nothing"
        );
        assert_eq!(
            (reading.exercise_eff, reading.exercise_prm),
            (0, 0),
            "{} still holds capabilities (CapEff, CapPrm): {}",
            exercise.name,
            reading.transcript
        );
    }
}
