//! `sniff -r` and `dissect -r` on damaged and unusual captures: they print
//! what they can, say clearly what they could not, and never panic.
//!
//! Captures from the wild are cut short by a full disk or a killed
//! tcpdump, saved with a snapshot length shorter than the frames, taken on
//! links that are not Ethernet, and full of protocols we never heard of.
//! Each file here is built in the test (with our `PcapWriter`, plus raw
//! bytes for the damage) and read by the compiled `sniff` (layer 2's
//! printer) and `dissect` (every layer's, up to DNS and HTTP) exercises, as
//! a learner would run them. No network is involved: these run anywhere.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use l2_link::pcap::{LINKTYPE_RAW, PcapWriter};
use l2_link::wire::{ArpRepr, EtherType, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Repr};
use rawstack_tests::{TempDir, example};

const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const STACK_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

/// A second after the epoch, plus `n` milliseconds: distinct, printable.
fn at(n: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1000 + n)
}

/// alpha asking who has our stack's address: a frame every printer knows.
fn arp_request() -> Vec<u8> {
    let arp = ArpRepr::request(ALPHA_MAC, ALPHA_IP, STACK_IP);
    let mut payload = vec![0u8; arp.buffer_len()];
    arp.emit(&mut l2_link::wire::ArpPacket::new_unchecked(&mut payload));
    ethernet(EtherType::ARP, &payload)
}

fn ethernet(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    EthernetRepr {
        destination: MacAddr::BROADCAST,
        source: ALPHA_MAC,
        vlan: None,
        ethertype,
    }
    .build(payload)
}

/// An IPv4 packet carrying `protocol`, with a few bytes of payload.
fn ipv4(protocol: IpProtocol) -> Vec<u8> {
    Ipv4Repr {
        src_addr: ALPHA_IP,
        dst_addr: STACK_IP,
        protocol,
        ttl: 64,
        ident: 7,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Default::default(),
        payload_len: 0,
    }
    .build(b"hostile?")
}

/// Writes a classic pcap file of `link_type` with `records` (data and
/// original length), then appends `tail` raw bytes.
fn write_capture(
    dir: &Path,
    name: &str,
    link_type: u16,
    records: &[(Vec<u8>, usize)],
    tail: &[u8],
) -> PathBuf {
    let mut writer = PcapWriter::with_link_type(Vec::new(), link_type).expect("header");
    for (n, (data, original_len)) in records.iter().enumerate() {
        writer
            .write_frame(at(n as u64), data, *original_len)
            .expect("record");
    }
    let mut bytes = writer.into_inner();
    bytes.extend_from_slice(tail);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write capture");
    path
}

/// A fresh temporary directory, removed when dropped. (Not under target/:
/// CI runs these tests again as an unprivileged user who cannot write there.)
fn scratch_dir(test: &str) -> TempDir {
    TempDir::new(test)
}

/// An exercise that reads captures with `-r`: its package and name.
type Reader = (&'static str, &'static str);

/// Layer 2's sniffer: Ethernet, 802.1Q and ARP.
const SNIFF: Reader = ("l2-link", "sniff");
/// Every layer's dissector, up to DNS and HTTP.
const DISSECT: Reader = ("l7-app", "dissect");

/// Runs `sniff -r FILE` (plus `extra` arguments); returns exit code,
/// stdout and stderr, having checked that nothing panicked.
fn sniff_read(file: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    read_with(SNIFF, file, extra)
}

/// Runs `READER -r FILE` (plus `extra` arguments); returns exit code,
/// stdout and stderr, having checked that nothing panicked.
fn read_with(
    (package, name): Reader,
    file: &Path,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let output = Command::new(example(package, name))
        .arg("-r")
        .arg(file)
        .args(extra)
        .output()
        .unwrap_or_else(|err| panic!("run {name}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked") && !stdout.contains("panicked"),
        "{name} panicked on {}: {stderr}",
        file.display()
    );
    (output.status.code(), stdout, stderr)
}

/// The one-line summaries in sniff's output (they start with the time of
/// day; hex dump lines start with an offset).
fn summary_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|line| line.starts_with("00:00:01."))
        .collect()
}

#[test]
fn frames_cut_by_the_snapshot_length_are_printed_and_marked() {
    let scratch = scratch_dir("snaplen");
    let dir = scratch.path();
    let frame = arp_request();
    // Saved: the first 20 bytes of a 60-byte frame, as `tcpdump -s 20`.
    let cut = frame[..20].to_vec();
    let file = write_capture(
        dir,
        "cut.pcap",
        1,
        &[(frame.clone(), frame.len()), (cut, frame.len())],
        &[],
    );
    let (code, stdout, stderr) = sniff_read(&file, &["-x"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let lines = summary_lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("who-has 198.18.0.2") && !lines[0].contains("truncated"));
    // The cut frame: its Ethernet header is still read, the ARP part is
    // reported truncated, and the line says how much of it was kept.
    assert!(lines[1].contains("02:00:00:00:00:01"), "{}", lines[1]);
    assert!(
        lines[1].contains("[truncated: 20 of 60 bytes]"),
        "{}",
        lines[1]
    );
}

#[test]
fn a_capture_cut_mid_record_prints_the_whole_records_then_a_note() {
    let scratch = scratch_dir("cut_mid_record");
    let dir = scratch.path();
    let frame = arp_request();
    let mut writer = PcapWriter::new(Vec::new()).expect("header");
    writer
        .write_frame(at(3), &frame, frame.len())
        .expect("record");
    let whole = writer.into_inner();
    let third_record = &whole[24..];
    for (name, tail) in [
        ("half-header.pcap", &third_record[..9]),
        ("half-data.pcap", &third_record[..16 + 30]),
    ] {
        let two = [(frame.clone(), frame.len()), (frame.clone(), frame.len())];
        let file = write_capture(dir, name, 1, &two, tail);
        let (code, stdout, stderr) = sniff_read(&file, &[]);
        assert_eq!(code, Some(0), "{name}: the good records are the result");
        assert_eq!(
            stdout.lines().filter(|l| l.contains("who-has")).count(),
            2,
            "{name}: {stdout}"
        );
        assert!(
            stderr.contains("stopped reading") && stderr.contains("the file ends inside"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn unknown_link_types_are_named_not_decoded() {
    let scratch = scratch_dir("link_types");
    let dir = scratch.path();
    // LINKTYPE_RAW (bare IPv4 packets) and LINKTYPE_IPV4 (228).
    for link_type in [LINKTYPE_RAW, 228] {
        let packet = ipv4(IpProtocol::UDP);
        let file = write_capture(
            dir,
            &format!("link-{link_type}.pcap"),
            link_type,
            &[(packet.clone(), packet.len())],
            &[],
        );
        let (code, stdout, stderr) = sniff_read(&file, &[]);
        assert_eq!(code, Some(0), "stderr: {stderr}");
        assert!(
            stdout.contains(&format!(
                "link type {link_type} is not Ethernet; {} bytes not decoded",
                packet.len()
            )),
            "{stdout}"
        );
    }
}

#[test]
fn unknown_ethertypes_and_ip_protocols_are_shown_as_such() {
    let scratch = scratch_dir("unknown_protocols");
    let dir = scratch.path();
    let unknown_ethertype = ethernet(EtherType(0x88b6), b"who knows what this is");
    let unknown_protocol = ethernet(EtherType::IPV4, &ipv4(IpProtocol(253)));
    let records = [
        (unknown_ethertype.clone(), unknown_ethertype.len()),
        (unknown_protocol.clone(), unknown_protocol.len()),
        (arp_request(), 60),
    ];
    let file = write_capture(dir, "unknown.pcap", 1, &records, &[]);
    let (code, stdout, stderr) = sniff_read(&file, &["-x"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let summaries = summary_lines(&stdout);
    assert_eq!(summaries.len(), 3, "{stdout}");
    // Layer 2 names the EtherType (IANA's "local experimental") and shows
    // the rest as data; the hex dump gives its number.
    assert!(summaries[0].contains("Data 46 bytes"), "{}", summaries[0]);
    assert!(
        stdout.contains("Ethernet.type  local-exp-2 (0x88b6)"),
        "{stdout}"
    );
    // sniff is layer 2's: an IPv4 frame is a known type with data in it.
    assert!(summaries[1].contains("type IPv4"), "{}", summaries[1]);
    assert!(summaries[2].contains("who-has"), "{}", summaries[2]);

    // The full printer, which knows IP, names the protocol number it does
    // not know and leaves its bytes as data.
    let printer = l4_transport::print::printer();
    let line = printer.summary(&unknown_protocol);
    assert!(
        line.contains("198.18.0.1") && line.contains("253"),
        "{line}"
    );
}

#[test]
fn files_that_are_not_captures_are_refused_with_one_line() {
    let scratch = scratch_dir("not_captures");
    let dir = scratch.path();
    for (name, bytes) in [
        ("empty.pcap", Vec::new()),
        ("text.pcap", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("short-header.pcap", vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).expect("write");
        let (code, stdout, stderr) = sniff_read(&file, &[]);
        assert_eq!(code, Some(2), "{name}: usage error, stderr {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains(name),
            "{name}: the note names the file: {stderr}"
        );
    }
}

// ---------------------------------------------------------------- dissect -r

/// A DNS query from our stack to alpha over UDP: a frame only `dissect`
/// reads to the end.
fn dns_query_frame() -> Vec<u8> {
    use l7_app::dns::wire::{Message, RecordType};
    let query = Message::query(0x5151, "www.lab.test".parse().expect("name"), RecordType::A)
        .encode()
        .expect("encodes");
    let udp = l4_transport::wire::UdpRepr {
        src_port: 40000,
        dst_port: 53,
    }
    .build(STACK_IP, ALPHA_IP, &query);
    let mut ip = ipv4(IpProtocol::UDP);
    // Replace the sample payload with the datagram, and fix the header.
    ip.truncate(20);
    ip.extend_from_slice(&udp);
    let total_len = ip.len() as u16;
    let mut packet = l3_net::wire::Ipv4Packet::new_unchecked(&mut ip[..]);
    packet.set_total_len(total_len);
    packet.set_src_addr(STACK_IP);
    packet.set_dst_addr(ALPHA_IP);
    packet.fill_checksum();
    ethernet(EtherType::IPV4, &ip)
}

#[test]
fn dissect_reads_what_sniff_reads_from_damaged_captures() {
    let scratch = scratch_dir("dissect_damaged");
    let dir = scratch.path();
    let frame = arp_request();
    // A record cut mid-header after two good ones: both print, then a note.
    let mut writer = PcapWriter::new(Vec::new()).expect("header");
    writer
        .write_frame(at(3), &frame, frame.len())
        .expect("record");
    let third = writer.into_inner()[24..24 + 9].to_vec();
    let two = [(frame.clone(), frame.len()), (frame.clone(), frame.len())];
    let file = write_capture(dir, "cut.pcap", 1, &two, &third);
    let (code, stdout, stderr) = read_with(DISSECT, &file, &[]);
    assert_eq!(code, Some(0), "the good records are the result: {stderr}");
    assert_eq!(stdout.lines().filter(|l| l.contains("who-has")).count(), 2);
    assert!(
        stderr.contains("stopped reading") && stderr.contains("the file ends inside"),
        "{stderr}"
    );
    // Files that are not captures: one line naming the file, exit 2.
    for (name, bytes) in [
        ("empty.pcap", Vec::new()),
        ("text.pcap", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).expect("write");
        let (code, stdout, stderr) = read_with(DISSECT, &file, &[]);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(
            stdout.is_empty() && stderr.contains(name),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn dissect_marks_frames_cut_inside_layer_7() {
    let scratch = scratch_dir("dissect_snaplen");
    let dir = scratch.path();
    let frame = dns_query_frame();
    // Whole, then cut 10 bytes into the DNS message (tcpdump -s 52).
    let cut = frame[..14 + 20 + 8 + 10].to_vec();
    let file = write_capture(
        dir,
        "dns-cut.pcap",
        1,
        &[(frame.clone(), frame.len()), (cut.clone(), frame.len())],
        &[],
    );
    let (code, stdout, stderr) = read_with(DISSECT, &file, &["-x"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let lines = summary_lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains("www.lab.test") && !lines[0].contains("truncated"),
        "{}",
        lines[0]
    );
    // The cut frame: as tcpdump does, what was captured is shown — the
    // addresses, the ports — and each layer the cut went through says how
    // much of it is there.
    assert!(
        lines[1].contains("198.18.0.2") && lines[1].contains("40000"),
        "{}",
        lines[1]
    );
    let ip_bytes = cut.len() - 14;
    let ip_len = frame.len() - 14;
    assert!(
        lines[1].contains(&format!("IPv4: {ip_bytes} of its {ip_len} bytes captured")),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(&format!(
            "UDP: {} of its {} bytes captured",
            ip_bytes - 20,
            ip_len - 20
        )),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(&format!(
            "[truncated: {} of {} bytes]",
            cut.len(),
            frame.len()
        )),
        "{}",
        lines[1]
    );
}

#[test]
fn dissect_names_link_types_ethertypes_and_protocols_it_does_not_know() {
    let scratch = scratch_dir("dissect_unknown");
    let dir = scratch.path();
    let packet = ipv4(IpProtocol::UDP);
    let file = write_capture(
        dir,
        "raw.pcap",
        LINKTYPE_RAW,
        &[(packet.clone(), packet.len())],
        &[],
    );
    let (code, stdout, stderr) = read_with(DISSECT, &file, &[]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert!(
        stdout.contains(&format!(
            "link type {LINKTYPE_RAW} is not Ethernet; {} bytes not decoded",
            packet.len()
        )),
        "{stdout}"
    );

    let unknown_ethertype = ethernet(EtherType(0x88b6), b"who knows what this is");
    let unknown_protocol = ethernet(EtherType::IPV4, &ipv4(IpProtocol(253)));
    let records = [
        (unknown_ethertype.clone(), unknown_ethertype.len()),
        (unknown_protocol.clone(), unknown_protocol.len()),
    ];
    let file = write_capture(dir, "unknown.pcap", 1, &records, &[]);
    let (code, stdout, stderr) = read_with(DISSECT, &file, &["-x"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let lines = summary_lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("Data 46 bytes"), "{}", lines[0]);
    assert!(
        stdout.contains("Ethernet.type  local-exp-2 (0x88b6)"),
        "{stdout}"
    );
    // dissect knows IPv4: it reads the header and names the protocol
    // number it has no dissector for.
    assert!(
        lines[1].contains("198.18.0.1") && lines[1].contains("253"),
        "{}",
        lines[1]
    );
}
