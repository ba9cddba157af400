//! Layer 2 in the lab: our frames cross a real veth cable, alpha's kernel
//! answers our ARP, and tshark reads our captures as we wrote them.
//!
//! Each test starts its own fresh lab; see `rawstack_tests::lab`.

use std::process::Command;
use std::time::Duration;

use netlab::Host;
use rawstack_tests::{Background, TempDir, example, lab, read_pcap, require_program, run};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(30);

#[test]
fn custom_ethertype_frame_arrives_on_alpha_byte_identical() {
    let Some(lab) = lab() else { return };
    let send_frame = example("l2-link", "send-frame");
    let dir = TempDir::new("custom-frame");
    let (sent_pcap, received_pcap) = (
        dir.path().join("sent.pcap"),
        dir.path().join("received.pcap"),
    );

    let mut listener = lab.command(Host::Alpha, &send_frame);
    listener
        .args(["--listen", "-c", "1", "-w"])
        .arg(&received_pcap);
    let mut listener = Background::spawn(listener);
    listener.wait_for_stderr("listening on lab0", STARTUP);

    let mut sender = lab.command(Host::Raw, &send_frame);
    sender.args(["-w"]).arg(&sent_pcap).arg("hello, alpha");
    let (code, stdout, stderr) = run(sender);
    assert_eq!(code, Some(0), "send-frame failed: {stdout}{stderr}");

    let (code, stdout, stderr) = listener.finish(RUN);
    assert_eq!(code, Some(0), "listener failed: {stderr}");
    assert!(
        stdout.contains(r#"from 02:00:00:00:00:02 to ff:ff:ff:ff:ff:ff: "hello, alpha""#),
        "listener printed: {stdout}"
    );

    let sent = read_pcap(&sent_pcap);
    let received = read_pcap(&received_pcap);
    assert_eq!(sent.len(), 1);
    assert_eq!(received.len(), 1);
    assert_eq!(
        sent[0].data, received[0].data,
        "the frame changed on its way"
    );

    // An independent reading of the same bytes: etherparse.
    let frame = &received[0].data;
    let (ethernet, payload) = etherparse::Ethernet2Header::from_slice(frame).expect("Ethernet II");
    assert_eq!(ethernet.source, [2, 0, 0, 0, 0, 2]);
    assert_eq!(ethernet.destination, [0xff; 6]);
    assert_eq!(ethernet.ether_type, etherparse::EtherType(0x88b5));
    assert_eq!(
        frame.len(),
        60,
        "a short frame is padded to Ethernet's minimum"
    );
    assert_eq!(&payload[..2], &[0, 12], "text length field");
    assert_eq!(&payload[2..14], b"hello, alpha");
    assert!(payload[14..].iter().all(|&b| b == 0), "padding is zeros");
}

#[test]
fn vlan_tag_stripped_by_the_kernel_is_put_back() {
    let Some(lab) = lab() else { return };
    let send_frame = example("l2-link", "send-frame");
    let sniff = example("l2-link", "sniff");
    let dir = TempDir::new("vlan");
    let capture = dir.path().join("vlan.pcap");

    let mut sniffer = lab.command(Host::Alpha, &sniff);
    sniffer
        .args(["-c", "1", "--ethertype", "0x88b5", "-w"])
        .arg(&capture);
    let mut sniffer = Background::spawn(sniffer);
    sniffer.wait_for_stderr("listening on lab0", STARTUP);

    let mut sender = lab.command(Host::Raw, &send_frame);
    sender.args(["--vlan", "5", "tagged"]);
    let (code, _, stderr) = run(sender);
    assert_eq!(code, Some(0), "send-frame --vlan failed: {stderr}");
    let (code, stdout, stderr) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff failed: {stderr}");
    assert!(stdout.contains("vlan 5"), "sniff output: {stdout}");

    let records = read_pcap(&capture);
    assert_eq!(records.len(), 1);
    let frame = &records[0].data;
    assert_eq!(&frame[12..14], &[0x81, 0x00], "TPID back in place");
    let sliced = etherparse::SlicedPacket::from_ethernet(frame).expect("etherparse reads it");
    match sliced.vlan() {
        Some(etherparse::VlanSlice::SingleVlan(tag)) => {
            assert_eq!(tag.vlan_identifier().value(), 5);
            assert_eq!(tag.ether_type(), etherparse::EtherType(0x88b5));
        }
        other => panic!("expected one VLAN tag, got {other:?}"),
    }
}

#[test]
fn arping_on_raw_gets_alphas_kernel_reply() {
    let Some(lab) = lab() else { return };
    let mut arping = lab.command(Host::Raw, example("l2-link", "arping"));
    arping.args(["-c", "2"]);
    let (code, stdout, stderr) = run(arping);
    assert_eq!(code, Some(0), "arping failed: {stdout}{stderr}");
    let replies = stdout
        .lines()
        .filter(|line| line.starts_with("Unicast reply from 198.18.0.1 [02:00:00:00:00:01]"))
        .count();
    assert_eq!(replies, 2, "arping printed: {stdout}");
    assert!(stdout.contains("Received 2 response(s)"), "{stdout}");
}

#[test]
fn arping_with_nobody_answering_exits_1() {
    let Some(lab) = lab() else { return };
    let mut arping = lab.command(Host::Raw, example("l2-link", "arping"));
    arping.args(["-c", "1", "-w", "0.3", "198.18.0.77"]);
    let (code, stdout, _) = run(arping);
    assert_eq!(code, Some(1), "arping printed: {stdout}");
    assert!(stdout.contains("Received 0 response(s)"), "{stdout}");
}

#[test]
fn sniffed_capture_reads_the_same_in_tshark() {
    if !require_program("tshark", "tshark") {
        return;
    }
    let Some(lab) = lab() else { return };
    let sniff = example("l2-link", "sniff");
    let dir = TempDir::new("tshark");
    let capture = dir.path().join("arp.pcap");

    // Capture on alpha: the request from our stack's identity and alpha's
    // own reply (an outgoing frame, which sniffers see too).
    let mut sniffer = lab.command(Host::Alpha, &sniff);
    sniffer
        .args(["-c", "2", "--ethertype", "0x0806", "-w"])
        .arg(&capture);
    let mut sniffer = Background::spawn(sniffer);
    sniffer.wait_for_stderr("listening on lab0", STARTUP);
    let mut arping = lab.command(Host::Raw, example("l2-link", "arping"));
    arping.args(["-c", "1"]);
    let (code, stdout, _) = run(arping);
    assert_eq!(code, Some(0), "arping: {stdout}");
    let (code, sniffed, stderr) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff: {stderr}");
    assert!(stderr.contains("2 frames captured"), "{stderr}");

    let tshark = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&capture)
        .args(["-T", "fields", "-E", "separator=,"])
        .args(["-e", "eth.src", "-e", "eth.dst", "-e", "eth.type"])
        .args([
            "-e",
            "arp.opcode",
            "-e",
            "arp.src.hw_mac",
            "-e",
            "arp.src.proto_ipv4",
        ])
        .args(["-e", "arp.dst.hw_mac", "-e", "arp.dst.proto_ipv4"])
        .output()
        .expect("run tshark");
    assert!(
        tshark.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&tshark.stderr)
    );
    let fields = String::from_utf8_lossy(&tshark.stdout);
    let rows: Vec<&str> = fields.lines().collect();
    assert_eq!(
        rows,
        [
            "02:00:00:00:00:12,ff:ff:ff:ff:ff:ff,0x0806,1,02:00:00:00:00:12,198.18.0.2,00:00:00:00:00:00,198.18.0.1",
            "02:00:00:00:00:01,02:00:00:00:00:12,0x0806,2,02:00:00:00:00:01,198.18.0.1,02:00:00:00:00:12,198.18.0.2",
        ],
        "tshark's reading of our capture"
    );

    // Our printer tells the same story, live and from the file.
    let from_file = run({
        let mut cmd = Command::new(&sniff);
        cmd.arg("-r").arg(&capture);
        cmd
    });
    assert_eq!(from_file.0, Some(0), "sniff -r: {}", from_file.2);
    for output in [&sniffed, &from_file.1] {
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), 2, "{output}");
        assert!(
            lines[0].contains("who-has 198.18.0.1 tell 198.18.0.2"),
            "{output}"
        );
        assert!(
            lines[1].contains("198.18.0.1 is-at 02:00:00:00:00:01"),
            "{output}"
        );
    }
}

#[test]
fn sniff_without_cap_net_raw_explains_and_exits_77() {
    let sniff = example("l2-link", "sniff");
    // Outside the lab, as an unprivileged user: drop root if we are root.
    let mut command = if rawstack_tests::running_as_root() {
        if !require_program("setpriv", "util-linux") {
            return;
        }
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&sniff);
        cmd
    } else {
        Command::new(&sniff)
    };
    // No interface named: it would default to lab1, which does not exist
    // out here; the socket() call fails first anyway, for lack of CAP_NET_RAW.
    command.args(["-c", "1"]);
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, Some(77), "stdout: {stdout} stderr: {stderr}");
    assert!(stderr.contains("CAP_NET_RAW"), "{stderr}");
    assert!(
        stderr.contains("cargo xtask lab") && stderr.contains("setcap"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn exercises_refuse_to_send_outside_the_lab() {
    if !require_program("unshare", "util-linux") {
        return;
    }
    let send_frame = example("l2-link", "send-frame");
    let arping = example("l2-link", "arping");
    // A private network namespace that is not a lab: a veth pair named like
    // a real machine's interfaces. Nothing here reaches any real network.
    let script = format!(
        "ip link add name eth0 type veth peer name eth1 && ip link set dev eth0 up && ip link set dev eth1 up || exit 99
         {sf} -i eth0 hello; echo \"send-frame-interface-only=$?\"
         {sf} --to 02:00:00:00:00:99 hello; echo \"send-frame-target-only=$?\"
         {ap} -I eth0 -c 1 -w 0.2; echo \"arping-interface-only=$?\"
         {sf} -i eth0 --to 02:00:00:00:00:99 hello; echo \"send-frame-explicit=$?\"",
        sf = send_frame.display(),
        ap = arping.display()
    );
    let Some((stdout, stderr)) = rawstack_tests::outside_any_lab(&script) else {
        return;
    };
    for refused in [
        "send-frame-interface-only=2",
        "send-frame-target-only=2",
        "arping-interface-only=2",
    ] {
        assert!(
            stdout.contains(refused),
            "expected {refused}; stdout: {stdout} stderr: {stderr}"
        );
    }
    assert_eq!(stderr.matches("refusing to send").count(), 3, "{stderr}");
    assert!(
        stdout.contains("send-frame-explicit=0"),
        "explicit send must work: {stdout} {stderr}"
    );
}

#[test]
fn unknown_interface_is_one_line_and_exit_2() {
    let Some(lab) = lab() else { return };
    let mut sniff = lab.command(Host::Raw, example("l2-link", "sniff"));
    sniff.args(["-i", "lab9", "-c", "1"]);
    let (code, _, stderr) = run(sniff);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("lab9"), "{stderr}");
}
