//! Layer 4 in the lab: our TCP and UDP (the `tcp-client`, `tcp-server` and
//! `udp-echo` exercises on raw) against alpha's kernel.
//!
//! The oracles are the kernel's: its TCP sends and receives 10 MiB with us
//! (python3's sockets on alpha, so nothing of ours is on the other side),
//! its UDP socket reports our "port unreachable" as ECONNREFUSED, its echo
//! service answers our datagrams; and `dumpcap` on alpha, with a kernel
//! filter for RST segments, shows that nobody reset anything — after a
//! deliberate RST proves the capture would have seen one. Each test starts
//! its own fresh lab.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use netlab::{Host, Lab};
use rawstack_tests::{
    Background, TempDir, arg, data_file, example, lab, python, python_once, require_program, run,
};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(25);
const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Watching for RSTs on alpha's cable
// ---------------------------------------------------------------------------

/// dumpcap on alpha, keeping only TCP segments with RST or FIN set (a
/// kernel BPF filter, so ten mebibytes of data do not have to be captured
/// to find the few segments that end connections).
struct ResetWatch {
    dumpcap: Background,
    pid_file: PathBuf,
    capture: PathBuf,
}

impl ResetWatch {
    fn start(lab: &Lab, dir: &Path) -> ResetWatch {
        let pid_file = dir.join("dumpcap.pid");
        let capture = dir.join("resets.pcap");
        // The shell writes its PID and becomes dumpcap, so that PID is
        // dumpcap's, for a SIGINT that makes it close its file cleanly.
        let script = format!(
            "echo $$ > {}; exec dumpcap -q -P -i lab0 -f 'tcp[tcpflags] & (tcp-rst|tcp-fin) != 0' -w {}",
            arg(&pid_file),
            arg(&capture)
        );
        let mut command = lab.command(Host::Alpha, "sh");
        command.args(["-c", &script]);
        let mut dumpcap = Background::spawn(command);
        dumpcap.wait_for_stderr("Capturing on 'lab0'", STARTUP);
        ResetWatch {
            dumpcap,
            pid_file,
            capture,
        }
    }

    /// Stops the capture and returns the segments seen that end
    /// connections, in order, as tshark reads them.
    fn endings(self, lab: &Lab) -> Vec<Ending> {
        // dumpcap writes a packet out shortly after it sees it.
        std::thread::sleep(Duration::from_millis(1000));
        let pid = std::fs::read_to_string(&self.pid_file).expect("dumpcap's PID");
        let mut kill = lab.command(Host::Alpha, "kill");
        kill.args(["-INT", pid.trim()]);
        let (code, _, stderr) = run(kill);
        assert_eq!(code, Some(0), "kill dumpcap: {stderr}");
        let (_, _, stderr) = self.dumpcap.finish(RUN);
        assert!(stderr.contains("Packets captured"), "{stderr}");
        let tshark = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&self.capture)
            .args(["-T", "fields", "-E", "separator=:"])
            .args(["-e", "ip.src", "-e", "tcp.srcport"])
            .args(["-e", "ip.dst", "-e", "tcp.dstport"])
            .args([
                "-e",
                "tcp.flags.reset",
                "-e",
                "tcp.flags.fin",
                "-e",
                "tcp.seq",
            ])
            .output()
            .expect("run tshark");
        assert!(
            tshark.status.success(),
            "tshark: {}",
            String::from_utf8_lossy(&tshark.stderr)
        );
        String::from_utf8_lossy(&tshark.stdout)
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                Ending {
                    path: format!("{}:{} > {}:{}", f[0], f[1], f[2], f[3]),
                    rst: f[4] == "1" || f[4] == "True",
                    fin: f[5] == "1" || f[5] == "True",
                    seq: f[6].parse().expect("tshark's relative sequence number"),
                }
            })
            .collect()
    }
}

/// A segment with RST or FIN set, as tshark read it.
#[derive(Debug)]
struct Ending {
    /// `src:port > dst:port`.
    path: String,
    rst: bool,
    fin: bool,
    /// tshark's relative sequence number (1 = the first byte of data).
    seq: u64,
}

/// The RSTs among `endings`.
fn resets(endings: &[Ending]) -> Vec<&Ending> {
    endings.iter().filter(|e| e.rst).collect()
}

// ---------------------------------------------------------------------------
// TCP: our client, the kernel's server
// ---------------------------------------------------------------------------

/// A kernel TCP server on alpha: sends the file `argv[1]` to the first
/// client on port `argv[2]`, then closes its half and reads until the
/// client's FIN (so it never closes with unread data, which would reset).
const SEND_FILE_SERVER: &str = r#"
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("198.18.0.1", int(sys.argv[2])))
server.listen(1)
print("ready", file=sys.stderr, flush=True)
conn, peer = server.accept()
conn.sendall(open(sys.argv[1], "rb").read())
conn.shutdown(socket.SHUT_WR)
while conn.recv(65536):
    pass
conn.close()
print("served", peer[0], file=sys.stderr, flush=True)
"#;

#[test]
fn our_client_downloads_10_mib_from_alphas_kernel_and_nobody_resets() {
    if !require_program("tshark", "tshark") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l4-download");
    let (file, data) = data_file(dir.path(), "data.bin", 10 * MIB, 0xd0_0d1e);
    let received = dir.path().join("received.bin");
    let watch = ResetWatch::start(&lab, dir.path());

    let server = python(
        &lab,
        Host::Alpha,
        SEND_FILE_SERVER,
        &[arg(&file), "5001"],
        STARTUP,
    );
    let mut client = lab.command(Host::Raw, example("l4-transport", "tcp-client"));
    client
        .args(["198.18.0.1", "5001"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&received).expect("create output"));
    let (code, _, stderr) = run(client);
    assert_eq!(code, Some(0), "tcp-client: {stderr}");
    let (code, _, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "server: {stderr}");
    assert!(stderr.contains("served 198.18.0.2"), "{stderr}");

    let got = std::fs::read(&received).expect("read what arrived");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "byte for byte the file alpha sent");

    // The control, last, when the capture has long been running: alpha's
    // port 9 is closed, its kernel resets our SYN, and tcp-client says what
    // connect() says. Its RST proves the capture sees resets.
    let mut refused = lab.command(Host::Raw, example("l4-transport", "tcp-client"));
    refused.args(["198.18.0.1", "9"]).stdin(Stdio::null());
    let (code, _, stderr) = run(refused);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("198.18.0.1:9: connection refused"),
        "{stderr}"
    );

    // Nobody reset the download. The one RST alpha may send on port 5001
    // is not a reset of it: alpha's last segment (the end of the data and
    // its FIN) is sometimes sent twice — Linux's tail loss probe (RFC 8985
    // §7) fires after about two round trips, under a millisecond here, if
    // our ACK is a moment late — and our ACK of the copy reaches an alpha
    // that has already closed, which answers it with a RST just past its
    // FIN (RFC 9293 §3.10.7.1). That RST is allowed only then, and only
    // with that sequence number.
    let endings = watch.endings(&lab);
    let alpha_fins = endings
        .iter()
        .filter(|e| e.fin && e.path.starts_with("198.18.0.1:5001 >"))
        .count();
    let after_close = (data.len() + 2) as u64; // SYN, the data, the FIN
    let (late, others): (Vec<&Ending>, Vec<&Ending>) = resets(&endings)
        .into_iter()
        .partition(|e| e.path.starts_with("198.18.0.1:5001 >"));
    for reset in &late {
        assert!(
            alpha_fins >= 2 && reset.seq == after_close,
            "a reset of the download: {endings:?}"
        );
    }
    // Otherwise exactly one RST on the wire: the control's.
    assert_eq!(others.len(), 1, "{endings:?}");
    assert!(
        others[0].path.starts_with("198.18.0.1:9 > 198.18.0.2:"),
        "{endings:?}"
    );
}

#[test]
fn tcp_client_trace_shows_the_handshake_the_data_and_the_teardown() {
    let Some(lab) = lab() else { return };
    let mut client = lab.command(Host::Raw, example("l4-transport", "tcp-client"));
    client
        .arg("--trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = client.spawn().expect("start tcp-client");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(b"hello\n").expect("write stdin");
    } // stdin closed: end of input
    let out = child.wait_with_output().expect("tcp-client ends");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "hello\n", "alpha's echo came back");

    // The segments, in order, as our trace names them (the port is
    // ephemeral, the ISNs random: only the shape is fixed).
    let segments: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.split_once(": Flags ").map(|(_, rest)| rest))
        .collect();
    let us_to_alpha: Vec<bool> = stderr
        .lines()
        .filter(|line| line.contains(": Flags "))
        .map(|line| line.contains("198.18.0.1:7: Flags"))
        .collect();
    assert!(segments.len() >= 6, "{stderr}");
    assert!(segments[0].starts_with("[S], seq "), "{stderr}");
    // Every option of our SYN, in tcpdump's words and in the order Linux
    // puts them; alpha's kernel offers SACK and timestamps back.
    assert!(
        segments[0].contains("options [mss 1460,sackOK,TS val ")
            && segments[0].contains(" ecr 0,nop,wscale 3]"),
        "{stderr}"
    );
    assert!(segments[1].starts_with("[S.], seq "), "{stderr}");
    assert!(
        segments[1].contains("options [mss 1460,sackOK,TS val "),
        "{stderr}"
    );
    assert!(segments[2].starts_with("[.], seq 1, ack 1, "), "{stderr}");
    assert_eq!(
        &us_to_alpha[..3],
        [true, false, true],
        "SYN out, SYN-ACK in, ACK out"
    );
    // Six bytes each way, and one FIN each way; no RST.
    assert!(
        segments
            .iter()
            .any(|s| s.contains("seq 1:7") && s.ends_with("length 6"))
    );
    assert_eq!(
        segments.iter().filter(|s| s.starts_with("[F")).count(),
        2,
        "{stderr}"
    );
    assert!(!segments.iter().any(|s| s.starts_with("[R")), "{stderr}");
    for change in [
        "CLOSED → SYN-SENT",
        "SYN-SENT → ESTABLISHED",
        "ESTABLISHED → FIN-WAIT-1",
        "FIN-WAIT-2 → TIME-WAIT",
    ] {
        assert!(stderr.contains(change), "{change}: {stderr}");
    }
}

// ---------------------------------------------------------------------------
// TCP: the kernel's clients, our server
// ---------------------------------------------------------------------------

/// A kernel client on alpha: connects to our port 7, sends the file
/// `argv[1]` from one thread while reading the echo in another, writes
/// what came back to `argv[2]`.
const UPLOAD_CLIENT: &str = r#"
import socket, sys, threading
data = open(sys.argv[1], "rb").read()
conn = socket.create_connection(("198.18.0.2", 7), timeout=20)
def send():
    conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
sender = threading.Thread(target=send)
sender.start()
echo = bytearray()
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    echo += chunk
sender.join()
conn.close()
open(sys.argv[2], "wb").write(echo)
print("echoed", len(echo))
"#;

/// A kernel client on alpha trying our closed port 9: our stack's RST
/// makes connect() fail with ECONNREFUSED.
const CONNECT_TO_CLOSED_PORT: &str = r#"
import socket
try:
    socket.create_connection(("198.18.0.2", 9), timeout=5)
    print("connected")
except ConnectionRefusedError:
    print("refused")
"#;

/// Starts our `tcp-server` on raw, serving `count` connections.
fn start_server(lab: &Lab, count: usize) -> Background {
    let mut command = lab.command(Host::Raw, example("l4-transport", "tcp-server"));
    command.args(["--count", &count.to_string()]);
    let mut server = Background::spawn(command);
    server.wait_for_stderr("listening on 198.18.0.2:7", STARTUP);
    server
}

#[test]
fn a_kernel_client_uploads_10_mib_to_our_server_gets_it_all_back_and_nobody_resets() {
    if !require_program("tshark", "tshark") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l4-upload");
    let (file, data) = data_file(dir.path(), "data.bin", 10 * MIB, 0x0b_10ad);
    let echoed = dir.path().join("echoed.bin");
    let server = start_server(&lab, 1);
    let watch = ResetWatch::start(&lab, dir.path());

    // The control: our stack resets a SYN to a port nobody listens on.
    let (code, stdout, stderr) = python_once(&lab, Host::Alpha, CONNECT_TO_CLOSED_PORT, &[]);
    assert_eq!((code, stdout.trim()), (Some(0), "refused"), "{stderr}");

    let (code, stdout, stderr) = python_once(
        &lab,
        Host::Alpha,
        UPLOAD_CLIENT,
        &[arg(&file), arg(&echoed)],
    );
    assert_eq!(code, Some(0), "client: {stdout}{stderr}");
    assert_eq!(stdout.trim(), format!("echoed {}", 10 * MIB));
    let (code, log, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "tcp-server: {stderr}");
    assert!(log.contains(": connected"), "{log}");
    assert!(
        log.contains(&format!(": {} bytes echoed, closed", 10 * MIB)),
        "{log}"
    );

    let got = std::fs::read(&echoed).expect("read the echo");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "byte for byte what alpha sent");

    let endings = watch.endings(&lab);
    let resets = resets(&endings);
    assert_eq!(resets.len(), 1, "only the control's RST: {endings:?}");
    assert!(
        resets[0].path.starts_with("198.18.0.2:9 > 198.18.0.1:"),
        "{resets:?}"
    );
}

/// Three kernel clients on alpha, connected at once (a barrier holds each
/// until all three are), each sending its own megabyte of random bytes
/// and checking the echo.
const THREE_CLIENTS: &str = r#"
import os, socket, threading
barrier = threading.Barrier(3)
results = [None] * 3
def client(i):
    data = os.urandom(1 << 20)
    conn = socket.create_connection(("198.18.0.2", 7), timeout=20)
    barrier.wait()
    def send():
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
    sender = threading.Thread(target=send)
    sender.start()
    echo = bytearray()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        echo += chunk
    sender.join()
    conn.close()
    results[i] = echo == data
threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join("ok" if r else "WRONG" for r in results))
"#;

#[test]
fn three_kernel_clients_at_once_each_get_their_own_echo() {
    let Some(lab) = lab() else { return };
    let server = start_server(&lab, 3);
    let (code, stdout, stderr) = python_once(&lab, Host::Alpha, THREE_CLIENTS, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "ok ok ok");
    let (code, log, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "tcp-server: {stderr}");
    let connected: Vec<&str> = log.lines().filter(|l| l.ends_with(": connected")).collect();
    let closed: Vec<&str> = log
        .lines()
        .filter(|l| l.ends_with(&format!(": {MIB} bytes echoed, closed")))
        .collect();
    assert_eq!((connected.len(), closed.len()), (3, 3), "{log}");
    // All three were accepted before any finished: they ran at once.
    let lines: Vec<&str> = log.lines().collect();
    let first_closed = lines.iter().position(|l| l.contains("echoed")).unwrap();
    let last_connected = lines
        .iter()
        .rposition(|l| l.ends_with(": connected"))
        .unwrap();
    assert!(last_connected < first_closed, "{log}");
}

// ---------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------

#[test]
fn udp_echo_client_round_trips_with_alphas_echo_service() {
    let Some(lab) = lab() else { return };
    let mut client = lab.command(Host::Raw, example("l4-transport", "udp-echo"));
    client.arg("--client");
    let (code, stdout, stderr) = run(client);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("UDP ECHO 198.18.0.1:7 from 198.18.0.2:"),
        "{stdout}"
    );
    for seq in 1..=3 {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("32 bytes from 198.18.0.1:7: seq={seq} time="))),
            "{stdout}"
        );
    }
    assert!(stdout.contains("3 datagrams sent, 3 echoed"), "{stdout}");
}

/// A kernel UDP socket on alpha, connected to our closed port 9999: our
/// ICMP "port unreachable" comes back as ECONNREFUSED on its next recv.
/// Then a datagram to port 7, where our `udp-echo` serves.
const UDP_PROBES: &str = r#"
import socket
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.settimeout(5)
closed.connect(("198.18.0.2", 9999))
closed.send(b"anyone there?")
try:
    closed.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("silence")
echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.settimeout(5)
echo.sendto(b"hello, our stack", ("198.18.0.2", 7))
data, peer = echo.recvfrom(100)
print(data.decode(), peer[0], peer[1])
"#;

#[test]
fn a_closed_udp_port_on_our_stack_answers_port_unreachable() {
    let Some(lab) = lab() else { return };
    let mut command = lab.command(Host::Raw, example("l4-transport", "udp-echo"));
    command.args(["--count", "1"]);
    let mut server = Background::spawn(command);
    server.wait_for_stderr("serving on 198.18.0.2:7", STARTUP);
    let (code, stdout, stderr) = python_once(&lab, Host::Alpha, UDP_PROBES, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["refused", "hello, our stack 198.18.0.2 7"],
        "{stderr}"
    );
    let (code, log, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "udp-echo: {stderr}");
    assert!(log.contains(": 16 bytes: \"hello, our stack\""), "{log}");
}

// ---------------------------------------------------------------------------
// Outside the lab
// ---------------------------------------------------------------------------

#[test]
fn outside_the_lab_the_exercises_refuse_to_send() {
    // Run here, on the machine itself (no lab interfaces): each exercise
    // must refuse before opening anything.
    for (name, args) in [
        ("tcp-client", &[][..]),
        ("tcp-server", &[][..]),
        ("udp-echo", &[][..]),
        ("udp-echo", &["--client"][..]),
    ] {
        let mut command = Command::new(example("l4-transport", name));
        command.args(args).stdin(Stdio::null());
        let (code, _, stderr) = run(command);
        assert_eq!(code, Some(2), "{name} {args:?}: {stderr}");
        assert!(stderr.contains("refusing to send"), "{name}: {stderr}");
    }
}
