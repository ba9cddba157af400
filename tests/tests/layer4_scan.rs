//! Layer 4's SYN scanner in the lab: `syn-scan` on raw against alpha's
//! real kernel.
//!
//! The oracles are independent of our code: which ports alpha's kernel
//! really listens on (/proc/net/tcp), how many RSTs each kernel says it
//! sent (/proc/net/snmp), and what crossed the cable, captured on alpha
//! and read by etherparse. Each test starts its own fresh lab.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use etherparse::{NetHeaders, PacketHeaders, TcpHeader, TcpOptionElement, TransportHeader};
use l2_link::pcap::PcapReader;
use netlab::{Host, Lab};
use rawstack_tests::{Background, TempDir, example, lab, require_program, run};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(20);

const ALPHA: [u8; 4] = [198, 18, 0, 1];
const RAW_KERNEL: [u8; 4] = [198, 18, 0, 3];

/// Kernel TCP sockets listening on alpha on `ports` (bound to any
/// address), started with python3: nothing of ours is involved, and they
/// end when the returned program is dropped. `None` (after one line)
/// where python3 is missing, outside CI.
fn listen_on_alpha(lab: &Lab, ports: &[u16]) -> Option<Background> {
    if !require_program("python3", "python3") {
        return None;
    }
    let script = "import socket, sys, time\n\
                  listeners = []\n\
                  for port in sys.argv[1:]:\n\
                  \x20   s = socket.socket()\n\
                  \x20   s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
                  \x20   s.bind(('0.0.0.0', int(port)))\n\
                  \x20   s.listen()\n\
                  \x20   listeners.append(s)\n\
                  print('listening', file=sys.stderr, flush=True)\n\
                  time.sleep(600)\n";
    let mut python = lab.command(Host::Alpha, "python3");
    python.args(["-c", script]);
    python.args(ports.iter().map(u16::to_string));
    let mut python = Background::spawn(python);
    python.wait_for_stderr("listening", STARTUP);
    Some(python)
}

/// The ports alpha's kernel listens on, from its own table of TCP sockets
/// (/proc/net/tcp: `sl local_address rem_address st ...`, state 0A is
/// LISTEN, addresses as HEX_IP:HEX_PORT).
fn listening_on_alpha(lab: &Lab) -> BTreeSet<u16> {
    let mut cat = lab.command(Host::Alpha, "cat");
    cat.arg("/proc/net/tcp");
    let (code, table, stderr) = run(cat);
    assert_eq!(code, Some(0), "cat /proc/net/tcp: {stderr}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let (local, state) = (columns.get(1)?, columns.get(3)?);
            let port = local.rsplit(':').next()?;
            (*state == "0A").then(|| u16::from_str_radix(port, 16).expect("hex port"))
        })
        .collect()
}

/// One counter of a host's kernel from /proc/net/snmp's two-line tables
/// ("Tcp: names…" then "Tcp: values…").
fn snmp_counter(lab: &Lab, host: Host, group: &str, name: &str) -> u64 {
    let mut cat = lab.command(host, "cat");
    cat.arg("/proc/net/snmp");
    let (code, text, stderr) = run(cat);
    assert_eq!(code, Some(0), "cat /proc/net/snmp: {stderr}");
    let prefix = format!("{group}:");
    let mut rows = text.lines().filter(|line| line.starts_with(&prefix));
    let (names, values) = (rows.next().expect("names"), rows.next().expect("values"));
    let index = names
        .split_whitespace()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no {group} {name} in /proc/net/snmp"));
    values
        .split_whitespace()
        .nth(index)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// The ports syn-scan reported open (`7/tcp open`).
fn open_ports(stdout: &str) -> BTreeSet<u16> {
    stdout
        .lines()
        .filter_map(|line| line.strip_suffix("/tcp open"))
        .map(|port| port.parse().expect("a port number"))
        .collect()
}

/// Starts our sniffer on alpha writing `capture` (IPv4 only), and waits
/// until it is bound.
fn sniff_on_alpha(lab: &Lab, capture: &Path, count: u32) -> Background {
    let mut sniffer = lab.command(Host::Alpha, example("l2-link", "sniff"));
    sniffer
        .args(["-c", &count.to_string(), "--ethertype", "0x0800", "-w"])
        .arg(capture);
    let mut sniffer = Background::spawn(sniffer);
    sniffer.wait_for_stderr("listening on lab0", STARTUP);
    sniffer
}

/// A TCP segment from a capture, as etherparse read it.
struct Segment {
    src: [u8; 4],
    dst: [u8; 4],
    tcp: TcpHeader,
    /// etherparse's own checksum of the segment over the pseudo-header.
    checksum_ok: bool,
}

fn tcp_segments(capture: &Path) -> Vec<Segment> {
    let reader = PcapReader::new(File::open(capture).expect("open capture")).expect("pcap header");
    reader
        .map(|record| record.expect("a capture record"))
        .filter_map(|record| {
            let headers = PacketHeaders::from_ethernet_slice(&record.data).ok()?;
            let (Some(NetHeaders::Ipv4(ip, _)), Some(TransportHeader::Tcp(tcp))) =
                (headers.net, headers.transport)
            else {
                return None;
            };
            let payload = headers.payload.slice();
            let checksum_ok = tcp.calc_checksum_ipv4(&ip, payload).ok() == Some(tcp.checksum);
            Some(Segment {
                src: ip.source,
                dst: ip.destination,
                tcp,
                checksum_ok,
            })
        })
        .collect()
}

#[test]
fn syn_scan_reports_exactly_the_ports_alpha_listens_on() {
    let Some(lab) = lab() else { return };
    let Some(_listeners) = listen_on_alpha(&lab, &[2222, 8080]) else {
        return;
    };
    // The oracle: alpha's kernel's own list, which must hold the echo
    // service and the two we opened (else the comparison proves little).
    let listening = listening_on_alpha(&lab);
    for port in [7, 2222, 8080] {
        assert!(listening.contains(&port), "{port} not in {listening:?}");
    }
    let scanned: BTreeSet<u16> = (1..=1024).chain([2222]).chain(8079..=8081).collect();
    let expected_open: BTreeSet<u16> = listening.intersection(&scanned).copied().collect();
    let resets_from_alpha = snmp_counter(&lab, Host::Alpha, "Tcp", "OutRsts");
    let resets_from_raw = snmp_counter(&lab, Host::Raw, "Tcp", "OutRsts");

    let mut scan = lab.command(Host::Raw, example("l4-transport", "syn-scan"));
    scan.args(["-p", "1-1024,2222,8079-8081"]);
    let (code, stdout, stderr) = run(scan);
    assert_eq!(code, Some(0), "syn-scan: {stdout}{stderr}");

    assert!(
        stdout.starts_with("Starting syn-scan of 198.18.0.1 from 198.18.0.3:"),
        "{stdout}"
    );
    assert_eq!(open_ports(&stdout), expected_open, "{stdout}");
    let closed = scanned.len() - expected_open.len();
    assert!(
        stdout.contains(&format!("Not shown: {closed} closed, 0 filtered\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Done: {} ports in ", scanned.len())),
        "{stdout}"
    );

    // Each kernel counted its own RSTs: alpha one per closed port (the
    // answer to a SYN for a port nobody listens on), raw's kernel one per
    // open port (the answer to a SYN-ACK for a connection it never
    // opened). A veth loses nothing, so no probe needed a retry.
    let from_alpha = snmp_counter(&lab, Host::Alpha, "Tcp", "OutRsts") - resets_from_alpha;
    let from_raw = snmp_counter(&lab, Host::Raw, "Tcp", "OutRsts") - resets_from_raw;
    assert_eq!(from_alpha, closed as u64, "alpha's RSTs");
    assert_eq!(from_raw, expected_open.len() as u64, "raw's kernel's RSTs");
}

#[test]
fn raws_kernel_resets_the_syn_ack_it_never_asked_for() {
    let Some(lab) = lab() else { return };
    let Some(_listener) = listen_on_alpha(&lab, &[2222]) else {
        return;
    };
    let dir = TempDir::new("syn-scan");
    let capture = dir.path().join("scan.pcap");
    // 2222 (open): SYN, SYN-ACK, raw's RST. 2223 (closed): SYN, RST-ACK.
    let sniffer = sniff_on_alpha(&lab, &capture, 5);
    let mut scan = lab.command(Host::Raw, example("l4-transport", "syn-scan"));
    scan.args(["-p", "2222,2223"]);
    let (code, stdout, stderr) = run(scan);
    assert_eq!(code, Some(0), "syn-scan: {stdout}{stderr}");
    let (code, _, sniff_err) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff: {sniff_err}");
    assert_eq!(open_ports(&stdout), BTreeSet::from([2222]), "{stdout}");
    assert!(
        stdout.contains("Not shown: 1 closed, 0 filtered\n"),
        "{stdout}"
    );

    let segments = tcp_segments(&capture);
    assert_eq!(segments.len(), 5, "five TCP segments on the wire");
    for segment in &segments {
        assert!(segment.checksum_ok, "bad checksum: {:?}", segment.tcp);
    }
    let position = |what: &str, found: &dyn Fn(&Segment) -> bool| {
        segments
            .iter()
            .position(found)
            .unwrap_or_else(|| panic!("no {what} in the capture"))
    };
    let syn_to = |port: u16| {
        position(&format!("SYN to {port}"), &|s: &Segment| {
            s.src == RAW_KERNEL && s.tcp.syn && !s.tcp.ack && s.tcp.destination_port == port
        })
    };

    // Our SYNs: from raw's kernel address (learned from the route), from
    // one source port, with an MSS option and a correct checksum (above).
    let (syn_open, syn_closed) = (syn_to(2222), syn_to(2223));
    let syn = &segments[syn_open].tcp;
    assert_eq!(
        syn.source_port, segments[syn_closed].tcp.source_port,
        "one source port for the whole scan"
    );
    let options: Vec<TcpOptionElement> = syn
        .options_iterator()
        .collect::<Result<_, _>>()
        .expect("options");
    assert_eq!(options, [TcpOptionElement::MaximumSegmentSize(1460)]);
    assert_ne!(
        syn.sequence_number, segments[syn_closed].tcp.sequence_number,
        "each probe has its own sequence number"
    );

    // The open port: alpha's SYN-ACK acknowledges our SYN...
    let syn_ack = position("SYN-ACK", &|s: &Segment| {
        s.src == ALPHA && s.tcp.syn && s.tcp.ack
    });
    let answer = &segments[syn_ack].tcp;
    assert_eq!(answer.source_port, 2222);
    assert_eq!(answer.destination_port, syn.source_port);
    assert_eq!(
        answer.acknowledgment_number,
        syn.sequence_number.wrapping_add(1)
    );
    // ...and raw's kernel, whose TCP never sent that SYN, resets it: a RST
    // with the sequence number the SYN-ACK asked for (RFC 9293 §3.10.7.1:
    // SEQ = SEG.ACK of the segment that had no connection).
    let reset = position("RST from raw's kernel", &|s: &Segment| {
        s.src == RAW_KERNEL && s.tcp.rst
    });
    assert!(reset > syn_ack, "the RST answers the SYN-ACK");
    let rst = &segments[reset];
    assert_eq!(rst.dst, ALPHA);
    assert_eq!(
        (rst.tcp.source_port, rst.tcp.destination_port),
        (syn.source_port, 2222)
    );
    assert_eq!(rst.tcp.sequence_number, answer.acknowledgment_number);
    assert!(!rst.tcp.ack, "a RST for an ACK-bearing segment has no ACK");

    // The closed port: alpha's kernel resets our SYN, acknowledging it.
    let refused = position("RST from alpha", &|s: &Segment| s.src == ALPHA && s.tcp.rst);
    let refused = &segments[refused].tcp;
    assert!(refused.ack, "the RST for a SYN carries an ACK");
    assert_eq!(refused.source_port, 2223);
    assert_eq!(
        refused.acknowledgment_number,
        segments[syn_closed].tcp.sequence_number.wrapping_add(1)
    );
}

#[test]
fn silence_after_every_retry_is_filtered() {
    let Some(lab) = lab() else { return };
    // Nobody has 198.18.0.77: ARP goes unanswered, so do the SYNs.
    let mut scan = lab.command(Host::Raw, example("l4-transport", "syn-scan"));
    scan.args([
        "198.18.0.77",
        "-p",
        "1-3",
        "-W",
        "0.3",
        "--max-retries",
        "2",
    ]);
    let (code, stdout, stderr) = run(scan);
    assert_eq!(code, Some(0), "syn-scan: {stdout}{stderr}");
    assert!(open_ports(&stdout).is_empty(), "{stdout}");
    assert!(
        stdout.contains("Not shown: 0 closed, 3 filtered\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Done: 3 ports in ") && stdout.contains(", 9 SYNs sent"),
        "three tries for each of three ports: {stdout}"
    );
}

#[test]
fn syn_scan_holds_no_capability_once_its_socket_is_open() {
    let Some(lab) = lab() else { return };
    let scan = example("l4-transport", "syn-scan");
    let dir = TempDir::new("syn-scan-caps");
    let out = dir.path().join("scan.out");
    // A slow scan of nobody, so there is time to look at it: wait for its
    // first line (printed after the socket is open), read /proc.
    let script = format!(
        r#"{scan} 198.18.0.77 -p 1 -W 3 --max-retries 0 > {out} 2>&1 &
        pid=$!
        for _ in $(seq 100); do grep -q "Starting" {out} && break; sleep 0.05; done
        grep -E '^Cap(Eff|Prm):' /proc/$pid/status | sed 's/^/scan /'
        grep -E '^CapEff:' /proc/self/status | sed 's/^/shell /'
        wait $pid
        echo "exit=$?""#,
        scan = scan.display(),
        out = out.display()
    );
    let mut shell = lab.command(Host::Raw, "sh");
    shell.args(["-c", &script]);
    let (code, stdout, stderr) = run(shell);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let value = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("hex"))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
    };
    assert_ne!(
        value("shell CapEff:"),
        0,
        "the lab gives capabilities, else this proves nothing"
    );
    assert_eq!(value("scan CapEff:"), 0, "{stdout}");
    assert_eq!(value("scan CapPrm:"), 0, "{stdout}");
    assert!(stdout.contains("exit=0"), "{stdout}");
}

#[test]
fn syn_scan_refuses_to_scan_outside_the_lab_unless_the_host_is_named() {
    if !require_program("unshare", "util-linux") {
        return;
    }
    let scan = example("l4-transport", "syn-scan");
    // A private network namespace that is not a lab (no lab0/lab1/lab3),
    // with no route anywhere: nothing here reaches any real network.
    let script = format!(
        "ip link add name eth0 type veth peer name eth1 && ip link set dev eth0 up || exit 99
         {scan}; echo \"no-host=$?\"
         {scan} -p 7; echo \"ports-only=$?\"
         {scan} 198.18.0.77 -p 7; echo \"named-host=$?\"",
        scan = scan.display()
    );
    let Some((stdout, stderr)) = rawstack_tests::outside_any_lab(&script) else {
        return;
    };
    for expected in ["no-host=2", "ports-only=2", "named-host=2"] {
        assert!(
            stdout.contains(expected),
            "expected {expected}; stdout: {stdout} stderr: {stderr}"
        );
    }
    assert_eq!(stderr.matches("refusing to send").count(), 2, "{stderr}");
    // With the host named it is allowed to try, and stops at the missing
    // route, before opening any socket.
    assert!(stderr.contains("no route to 198.18.0.77"), "{stderr}");
    assert!(!stdout.contains("Starting syn-scan"), "{stdout}");
}

#[test]
fn bad_port_lists_are_usage_errors() {
    // clap rejects these before the program does anything at all.
    let scan = example("l4-transport", "syn-scan");
    for (ports, why) in [
        ("0", "invalid port \"0\""),
        ("5-3", "5 is above 3"),
        ("7,x", "invalid port \"x\""),
        ("1-70000", "invalid port \"70000\""),
    ] {
        let mut command = Command::new(&scan);
        command.args(["-p", ports]);
        let (code, stdout, stderr) = run(command);
        assert_eq!(code, Some(2), "-p {ports}: {stdout}{stderr}");
        assert!(stderr.contains(why), "-p {ports}: {stderr}");
    }
    let (code, stdout, _) = run({
        let mut help = Command::new(&scan);
        help.arg("--help");
        help
    });
    assert_eq!(code, Some(0));
    for flag in [
        "--ports",
        "--max-rate",
        "--max-retries",
        "--timeout",
        "--source-port",
    ] {
        assert!(stdout.contains(flag), "--help explains {flag}: {stdout}");
    }
}
