//! tshark (Wireshark's dissectors) as the oracle for the frames the book
//! shows: the frames pinned in `snapshots/` are written to a pcap file with
//! layer 2's [`PcapWriter`], and tshark must read the ports, numbers, flags
//! and every option we meant, and find every IPv4, UDP and TCP checksum
//! good (`-o tcp.check_checksum:TRUE` and the same for UDP).
//!
//! Without tshark the test says `skipped: tshark not installed` and passes,
//! except under `CI=true`, where it fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use l2_link::pcap::PcapWriter;

/// The snapshot frames, in the order of the conversation (the SACK and UDP
/// frames come from other conversations).
const FRAMES: [&str; 7] = [
    "tcp_syn",
    "tcp_syn_ack",
    "tcp_data",
    "tcp_fin_ack",
    "tcp_rst",
    "tcp_sack",
    "udp_datagram",
];

/// The fields asked of tshark, one column each.
const FIELDS: [&str; 26] = [
    "ip.src",
    "ip.dst",
    "ip.checksum.status",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum.status",
    "udp.payload",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq",
    "tcp.ack",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.checksum.status",
    "tcp.urgent_pointer",
    "tcp.option_kind",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "tcp.len",
    "tcp.payload",
];

/// tshark's checksum status: 1 is "Good" (0 is "Bad", 2 "Unverified").
const GOOD: &str = "1";

/// What tshark must print for each frame, written out from what each
/// frame was meant to be (see wire_snapshots.rs); every field not named
/// must be empty. Lists are comma-separated, in header order.
fn expected(frame: &str) -> Vec<(&'static str, &'static str)> {
    let from_us = [("ip.src", "198.18.0.2"), ("ip.dst", "198.18.0.1")];
    let from_alpha = [("ip.src", "198.18.0.1"), ("ip.dst", "198.18.0.2")];
    let tcp_from_us = [("tcp.srcport", "40000"), ("tcp.dstport", "7")];
    let tcp_from_alpha = [("tcp.srcport", "7"), ("tcp.dstport", "40000")];
    let common = [
        ("ip.checksum.status", GOOD),
        ("tcp.checksum.status", GOOD),
        ("tcp.urgent_pointer", "0"),
    ];
    let (addresses, ports, fields): (_, _, Vec<(&str, &str)>) = match frame {
        "tcp_syn" => (
            from_us,
            tcp_from_us,
            vec![
                ("tcp.seq", "1000"),
                ("tcp.ack", "0"),
                ("tcp.hdr_len", "40"),
                ("tcp.flags", "0x0002"),
                ("tcp.window_size_value", "65535"),
                // MSS, SACK-permitted, timestamps, NOP, window scale.
                ("tcp.option_kind", "2,4,8,1,3"),
                ("tcp.options.mss_val", "1460"),
                ("tcp.options.wscale.shift", "7"),
                ("tcp.options.timestamp.tsval", "1"),
                ("tcp.options.timestamp.tsecr", "0"),
                ("tcp.len", "0"),
            ],
        ),
        "tcp_syn_ack" => (
            from_alpha,
            tcp_from_alpha,
            vec![
                ("tcp.seq", "5000"),
                ("tcp.ack", "1001"),
                ("tcp.hdr_len", "40"),
                ("tcp.flags", "0x0012"),
                ("tcp.window_size_value", "65160"),
                ("tcp.option_kind", "2,4,8,1,3"),
                ("tcp.options.mss_val", "1460"),
                ("tcp.options.wscale.shift", "7"),
                ("tcp.options.timestamp.tsval", "7"),
                ("tcp.options.timestamp.tsecr", "1"),
                ("tcp.len", "0"),
            ],
        ),
        "tcp_data" => (
            from_us,
            tcp_from_us,
            vec![
                ("tcp.seq", "1001"),
                ("tcp.ack", "5001"),
                ("tcp.hdr_len", "32"),
                ("tcp.flags", "0x0018"),
                ("tcp.window_size_value", "512"),
                ("tcp.option_kind", "1,1,8"),
                ("tcp.options.timestamp.tsval", "2"),
                ("tcp.options.timestamp.tsecr", "7"),
                ("tcp.len", "5"),
                ("tcp.payload", "68656c6c6f"), // "hello"
            ],
        ),
        "tcp_fin_ack" => (
            from_us,
            tcp_from_us,
            vec![
                ("tcp.seq", "1006"),
                ("tcp.ack", "5006"),
                ("tcp.hdr_len", "32"),
                ("tcp.flags", "0x0011"),
                ("tcp.window_size_value", "512"),
                ("tcp.option_kind", "1,1,8"),
                ("tcp.options.timestamp.tsval", "3"),
                ("tcp.options.timestamp.tsecr", "8"),
                ("tcp.len", "0"),
            ],
        ),
        "tcp_rst" => (
            from_us,
            tcp_from_us,
            vec![
                ("tcp.seq", "1007"),
                ("tcp.ack", "0"),
                ("tcp.hdr_len", "20"),
                ("tcp.flags", "0x0004"),
                ("tcp.window_size_value", "0"),
                ("tcp.len", "0"),
            ],
        ),
        "tcp_sack" => (
            from_alpha,
            tcp_from_alpha,
            vec![
                ("tcp.seq", "5001"),
                ("tcp.ack", "2001"),
                ("tcp.hdr_len", "52"),
                ("tcp.flags", "0x0010"),
                ("tcp.window_size_value", "501"),
                ("tcp.option_kind", "1,1,8,1,1,5"),
                ("tcp.options.timestamp.tsval", "9"),
                ("tcp.options.timestamp.tsecr", "4"),
                ("tcp.options.sack_le", "3001,5001"),
                ("tcp.options.sack_re", "4001,6001"),
                ("tcp.len", "0"),
            ],
        ),
        "udp_datagram" => {
            return [
                ("ip.src", "198.18.0.2"),
                ("ip.dst", "198.18.0.1"),
                ("ip.checksum.status", GOOD),
                ("udp.srcport", "40000"),
                ("udp.dstport", "7"),
                ("udp.length", "13"),
                ("udp.checksum.status", GOOD),
                ("udp.payload", "68656c6c6f"),
            ]
            .to_vec();
        }
        other => panic!("no expectations for {other}"),
    };
    [&addresses[..], &ports, &common, &fields].concat()
}

/// `Some(())` if tshark runs. Otherwise: under CI=true the test fails; else
/// it says it skipped, and the caller returns.
fn tshark_available() -> Option<()> {
    match Command::new("tshark").arg("--version").output() {
        Ok(output) if output.status.success() => Some(()),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("tshark is required under CI=true (apt-get install tshark)")
        }
        _ => {
            println!("skipped: tshark not installed");
            None
        }
    }
}

/// Reads the frame bytes back out of an annotated hex dump (`0000  xx xx …`
/// lines; every other line is skipped).
fn bytes_in_hexdump(dump: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in dump.lines() {
        let is_dump_line = line.len() > 6
            && line.is_char_boundary(6)
            && line[..4].bytes().all(|b| b.is_ascii_hexdigit())
            && &line[4..6] == "  ";
        if !is_dump_line {
            continue;
        }
        let columns = line.get(6..line.len().min(6 + 47)).unwrap_or_default();
        for pair in columns.split_whitespace() {
            bytes.push(u8::from_str_radix(pair, 16).unwrap());
        }
    }
    bytes
}

/// The frame a snapshot file shows.
fn snapshot_frame(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/snapshots/wire_snapshots__{name}.snap",
        env!("CARGO_MANIFEST_DIR")
    );
    let snapshot = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run the wire_snapshots tests first)"));
    bytes_in_hexdump(&snapshot)
}

/// Writes `frames` to a fresh pcap file, a millisecond apart.
fn write_pcap(name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let path =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let mut pcap = PcapWriter::new(std::io::BufWriter::new(file)).unwrap();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for (n, frame) in frames.iter().enumerate() {
        let time = start + Duration::from_millis(n as u64);
        pcap.write_frame(time, frame, frame.len()).unwrap();
    }
    pcap.flush().unwrap();
    path
}

/// `tshark -r FILE -T fields -e …` with checksum validation on and
/// absolute sequence numbers; one vector of fields per frame, lists
/// comma-separated.
fn tshark_fields(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut command = Command::new("tshark");
    command.arg("-r").arg(path).args([
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "tcp.relative_sequence_numbers:FALSE",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for field in fields {
        command.args(["-e", field]);
    }
    let output = command.output().expect("run tshark");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tshark_agrees_with_the_snapshot_frames() {
    let Some(()) = tshark_available() else { return };
    let frames: Vec<Vec<u8>> = FRAMES.iter().map(|name| snapshot_frame(name)).collect();
    let path = write_pcap("snapshots", &frames);
    let rows = tshark_fields(&path, &FIELDS);
    assert_eq!(rows.len(), FRAMES.len());
    for (name, row) in FRAMES.iter().zip(&rows) {
        let expected: HashMap<&str, &str> = expected(name).into_iter().collect();
        for (field, value) in FIELDS.iter().zip(row) {
            let want = expected.get(field).copied().unwrap_or_default();
            assert_eq!(value, want, "{name}: {field}");
        }
    }

    // Nothing tshark would call an error (a bad checksum, a malformed
    // packet): its expert severities stay below PI_ERROR (0x00800000).
    for (name, row) in FRAMES
        .iter()
        .zip(tshark_fields(&path, &["_ws.expert.severity"]))
    {
        for severity in row[0].split(',').filter(|s| !s.is_empty()) {
            let severity: u32 = severity.parse().unwrap();
            assert!(
                severity < 0x0080_0000,
                "{name}: expert severity {severity:#x}"
            );
        }
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn tshark_sees_a_damaged_segment() {
    // The control experiment: one flipped bit in the data, and tshark must
    // call each checksum bad (status 0). Without it, "Good" above could
    // mean "not checked".
    let Some(()) = tshark_available() else { return };
    let mut tcp = snapshot_frame("tcp_data");
    let mut udp = snapshot_frame("udp_datagram");
    tcp[0x42] ^= 0x01; // the first data byte: 'h' → 'i'
    udp[0x2a] ^= 0x01;
    let path = write_pcap("damaged", &[tcp, udp]);
    let rows = tshark_fields(&path, &["tcp.checksum.status", "udp.checksum.status"]);
    assert_eq!(rows, [["0", ""], ["", "0"]]);
    std::fs::remove_file(&path).unwrap();
}
