//! Shared helpers for rawstack's cross-layer lab tests.
//!
//! Every lab test starts its own fresh lab ([`lab`]), runs the exercises as
//! a learner would (the compiled example binaries, found by [`example`]),
//! and checks what really crossed the veth cables.
//!
//! Skipping is allowed only where the machine cannot do the work, and never
//! under `CI=true`: [`lab`] skips when the machine cannot give the lab its
//! capabilities, [`require_program`] when an outside program is missing.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use l2_link::pcap::{PcapReader, Record};
use netlab::{Host, Lab, LabError};

/// True when running under CI (`CI=true`), where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh lab, or `None` (after printing one line saying why) when this
/// machine cannot create one. Under CI that is a failure, not a skip.
pub fn lab() -> Option<Lab> {
    match Lab::start() {
        Ok(lab) => Some(lab),
        Err(LabError::Unsupported(reason)) if !under_ci() => {
            eprintln!("skipped: {reason}");
            None
        }
        Err(err) => panic!("cannot start the lab: {err}"),
    }
}

/// True if `program` is on PATH. When it is not, prints one line and
/// returns false outside CI; under CI, fails the test.
pub fn require_program(program: &str, package: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            !under_ci(),
            "{program} is required under CI=true (apt-get install {package})"
        );
        eprintln!("skipped: {program} not installed (apt-get install {package})");
    }
    found
}

/// The path of a compiled exercise, `cargo run -p PACKAGE --example NAME`'s
/// binary. With `RAWSTACK_BIN_DIR` set (CI's unprivileged run, where cargo
/// cannot write target/), the prebuilt `$RAWSTACK_BIN_DIR/examples/NAME`;
/// otherwise cargo builds it (a no-op when it is fresh).
pub fn example(package: &str, name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("RAWSTACK_BIN_DIR") {
        let path = Path::new(&dir).join("examples").join(name);
        assert!(path.is_file(), "{} missing", path.display());
        return path;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent");
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            package,
            "--example",
            name,
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build -p {package} --example {name} failed"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter(|line| {
            line.contains("\"compiler-artifact\"") && line.contains(&format!("\"name\":\"{name}\""))
        })
        .find_map(|line| json_string_field(line, "executable"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("cargo did not report the executable of example {name}"))
}

/// The value of `"key":"value"` in one line of cargo's JSON (no escapes
/// other than `\\` and `\"` occur in paths we use).
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// A program running in the background on a lab host, killed (by its PID)
/// when dropped so a failing test leaves nothing behind.
pub struct Background {
    child: Child,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
}

impl Background {
    /// Starts `command` with stdout captured and stderr read line by line.
    pub fn spawn(mut command: Command) -> Background {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn background program");
        let stderr: ChildStderr = child.stderr.take().expect("stderr is piped");
        let (tx, stderr_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            stderr_lines,
            stderr_seen: Vec::new(),
        }
    }

    /// Waits (up to `timeout`) for a stderr line containing `needle`, e.g.
    /// a sniffer's "listening on" that says its socket is bound.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.stderr_seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no {needle:?} on stderr within {timeout:?}; stderr so far: {:?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// Waits for the program to exit (up to `timeout`, then kills it and
    /// fails) and returns (exit code, stdout, stderr).
    pub fn finish(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let deadline = std::time::Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "program did not finish within {timeout:?}; stderr: {:?}",
                    self.stderr_seen
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("read stdout");
        }
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_millis(200)) {
            self.stderr_seen.push(line);
        }
        (status.code(), stdout, self.stderr_seen.join("\n"))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A temporary directory for a test's files, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/rawstack-test-<name>-<pid>-<n>`, readable by the
    /// lab (which shares the file system).
    pub fn new(name: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("rawstack-test-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True when this process runs as uid 0 (CI does; learners usually don't).
pub fn running_as_root() -> bool {
    // /proc/self/status has "Uid: real effective saved fs".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// What a finished program said: its exit code (`None` if a signal ended
/// it), its stdout and its stderr.
pub type Finished = (Option<i32>, String, String);

/// Runs `command` to the end and returns what it said.
pub fn run(mut command: Command) -> Finished {
    let out = command.output().expect("run program");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `program args…` on `host` in the lab, to the end.
pub fn run_on(lab: &Lab, host: Host, program: impl AsRef<OsStr>, args: &[&str]) -> Finished {
    let mut command = lab.command(host, program);
    command.args(args);
    run(command)
}

/// Starts python3 running `script` with `args` on `host`, and waits (up to
/// `startup`) for the script's "ready" on stderr.
pub fn python(lab: &Lab, host: Host, script: &str, args: &[&str], startup: Duration) -> Background {
    let mut command = lab.command(host, "python3");
    command.arg("-c").arg(script).args(args);
    let mut program = Background::spawn(command);
    program.wait_for_stderr("ready", startup);
    program
}

/// Runs python3 `script` with `args` on `host`, to the end.
pub fn python_once(lab: &Lab, host: Host, script: &str, args: &[&str]) -> Finished {
    let mut command = lab.command(host, "python3");
    command.arg("-c").arg(script).args(args);
    run(command)
}

/// A path as a program argument (our temp paths are UTF-8).
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// `len` bytes of xorshift64 (shifts 13, 7, 17) from `seed | 1`, one byte
/// (bits 24–31) per step: the generator netlab's `http` service documents
/// for alpha's `/big.bin`, written again here so the tests do not take the
/// server's word for it.
pub fn xorshift_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A file of `len` deterministic bytes ([`xorshift_bytes`]) in `dir`, and
/// the bytes.
pub fn data_file(dir: &Path, name: &str, len: usize, seed: u64) -> (PathBuf, Vec<u8>) {
    let data = xorshift_bytes(seed, len);
    let path = dir.join(name);
    std::fs::write(&path, &data).expect("write test data");
    (path, data)
}

/// Every record of the classic pcap or pcapng file at `path`.
pub fn read_pcap(path: &Path) -> Vec<Record> {
    let reader = PcapReader::new(File::open(path).expect("open capture")).expect("pcap header");
    reader
        .collect::<Result<Vec<_>, _>>()
        .expect("capture records")
}

/// Runs `script` with `sh -c` in a new user and network namespace that is
/// not a lab: no lab0/lab1/lab3, nothing that reaches any real network. It
/// is where the exercises must refuse to send unless told exactly where.
/// The script exits 99 when its own setup (say, making a veth pair) fails.
///
/// Returns (stdout, stderr), or `None` after one line saying why when this
/// machine cannot make such a namespace — a failure under CI.
pub fn outside_any_lab(script: &str) -> Option<(String, String)> {
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--net", "sh", "-c", script])
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(99) || (!out.status.success() && stderr.contains("unshare")) {
        assert!(
            !under_ci(),
            "cannot create a network namespace under CI: {stderr}"
        );
        eprintln!("skipped: cannot create a private network namespace here: {stderr}");
        return None;
    }
    Some((stdout, stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_json_fields() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"sniff"},"executable":"/w/target/debug/examples/sniff","fresh":true}"#;
        assert_eq!(
            json_string_field(line, "executable").as_deref(),
            Some("/w/target/debug/examples/sniff")
        );
        assert_eq!(
            json_string_field(r#"{"executable":"C:\\t\\x"}"#, "executable").as_deref(),
            Some(r"C:\t\x")
        );
        assert_eq!(
            json_string_field(r#"{"executable":null}"#, "executable"),
            None
        );
    }
}
