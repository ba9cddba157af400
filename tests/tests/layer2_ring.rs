//! The TPACKET_V3 ring in the lab: `sniff --ring` captures exactly what
//! alpha sent, and exactly what the plain recvmsg path captures beside it.
//!
//! alpha's kernel sends the frames (a python3 AF_PACKET socket reading
//! them from a file this test wrote), so neither the sender nor the
//! expected bytes are our code. Both sniffers run on raw at the same time;
//! etherparse reads the ring's capture as an independent check. And
//! like every exercise, `sniff --ring` holds no capability once set up.

use std::time::Duration;

use l2_link::pcap::Record;
use netlab::Host;
use rawstack_tests::{
    Background, TempDir, arg, example, lab, python_once, read_pcap, require_program, xorshift_bytes,
};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(30);

/// How many frames alpha sends.
const FRAMES: usize = 300;
/// The one frame alpha sends with an 802.1Q tag (VLAN 5).
const TAGGED: usize = 150;

/// Sends every frame of the file argv[1] (each a 2-byte big-endian length,
/// then the frame) out of lab0, in order.
const SEND_FILE: &str = r#"
import socket, struct, sys, time
data = open(sys.argv[1], 'rb').read()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('lab0', 0))
at, sent = 0, 0
while at < len(data):
    (n,) = struct.unpack('>H', data[at:at + 2])
    s.send(data[at + 2:at + 2 + n])
    at += 2 + n
    sent += 1
    if sent % 50 == 0:
        time.sleep(0.01)
print(sent)
"#;

/// The frames alpha will send: to our stack's MAC (so raw's kernel drops
/// them before IP), EtherType 0x88B5, sizes from 60 to 1514 bytes, one
/// tagged for VLAN 5.
fn frames_to_send() -> Vec<Vec<u8>> {
    (0..FRAMES)
        .map(|i| {
            let len = 60 + (i * 97) % (1514 - 60 + 1);
            let mut frame = Vec::with_capacity(len);
            frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x12]); // destination
            frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]); // alpha's lab0
            if i == TAGGED {
                frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
            }
            frame.extend_from_slice(&[0x88, 0xb5]);
            let payload_len = len - frame.len();
            frame.extend_from_slice(&xorshift_bytes(i as u64 + 1, payload_len));
            frame
        })
        .collect()
}

fn start_sniffer(lab: &netlab::Lab, extra: &[&str], capture: &str) -> Background {
    let mut sniffer = lab.command(Host::Raw, example("l2-link", "sniff"));
    sniffer
        .args(extra)
        .args(["-q", "--ethertype", "0x88b5", "-c", &FRAMES.to_string()])
        .args(["-w", capture]);
    let mut sniffer = Background::spawn(sniffer);
    sniffer.wait_for_stderr("listening on lab1", STARTUP);
    sniffer
}

#[test]
fn ring_capture_equals_what_alpha_sent_and_the_recvmsg_capture() {
    let Some(lab) = lab() else { return };
    if !require_program("python3", "python3") {
        return;
    }
    let dir = TempDir::new("ring");
    let (ring_pcap, plain_pcap, frames_file) = (
        dir.path().join("ring.pcap"),
        dir.path().join("plain.pcap"),
        dir.path().join("frames.bin"),
    );
    let sent = frames_to_send();
    let mut file = Vec::new();
    for frame in &sent {
        file.extend_from_slice(&(frame.len() as u16).to_be_bytes());
        file.extend_from_slice(frame);
    }
    std::fs::write(&frames_file, file).expect("write frames");

    let ring = start_sniffer(&lab, &["--ring"], arg(&ring_pcap));
    let plain = start_sniffer(&lab, &[], arg(&plain_pcap));
    let (code, stdout, stderr) = python_once(&lab, Host::Alpha, SEND_FILE, &[arg(&frames_file)]);
    assert_eq!(code, Some(0), "sender: {stderr}");
    assert_eq!(stdout.trim(), FRAMES.to_string());

    for (name, sniffer) in [("sniff --ring", ring), ("sniff", plain)] {
        let (code, stdout, stderr) = sniffer.finish(RUN);
        assert_eq!(
            stderr.contains("ring: TPACKET_V3"),
            name.ends_with("--ring"),
            "{name} did not take the path asked for: {stderr}"
        );
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name} -q printed frames: {stdout}");
        assert!(
            stderr.contains(&format!("{FRAMES} frames captured"))
                && stderr.contains("0 frames dropped by kernel"),
            "{name}: {stderr}"
        );
    }

    let ring = read_pcap(&ring_pcap);
    let plain = read_pcap(&plain_pcap);
    let data = |records: &[Record]| records.iter().map(|r| r.data.clone()).collect::<Vec<_>>();
    assert_eq!(
        data(&ring),
        sent,
        "the ring's capture differs from what alpha sent"
    );
    assert_eq!(
        data(&plain),
        sent,
        "the recvmsg capture differs from what alpha sent"
    );

    for (ring, plain) in ring.iter().zip(&plain) {
        assert_eq!(ring.original_len, ring.data.len());
        // Both paths report the kernel's arrival stamp for the same
        // frame: the same instant, to the pcap's microsecond (allow a
        // little, in case the two stamps were taken separately).
        let apart = match ring.timestamp.duration_since(plain.timestamp) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(
            apart < Duration::from_millis(50),
            "timestamps {apart:?} apart"
        );
    }
    assert!(
        ring.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "ring timestamps go backwards"
    );

    // An independent reading of the ring's capture: etherparse.
    for (i, record) in ring.iter().enumerate() {
        let packet = etherparse::SlicedPacket::from_ethernet(&record.data).expect("Ethernet");
        let Some(etherparse::LinkSlice::Ethernet2(ethernet)) = &packet.link else {
            panic!("frame {i} is not Ethernet II");
        };
        assert_eq!(ethernet.source(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(ethernet.destination(), [2, 0, 0, 0, 0, 0x12]);
        let vlan_id = packet.vlan_ids().first().map(|id| id.value());
        assert_eq!(vlan_id, (i == TAGGED).then_some(5), "frame {i}'s tag");
    }
}

/// Like every exercise (least_privilege.rs), `sniff --ring` gives up its
/// capabilities once the socket and its ring are set up: the kernel's own
/// account, /proc/PID/status, read while it runs, says it holds none,
/// while the shell that started it does.
#[test]
fn ring_sniffer_holds_no_capability_once_its_ring_is_mapped() {
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("ring-privilege");
    let out = dir.path().join("sniff.out");
    let sniff = example("l2-link", "sniff");
    let script = format!(
        r#"{sniff} --ring -q -c 100000 > {out} 2>&1 &
        pid=$!
        for _ in $(seq 200); do grep -q "listening on" {out} && break; sleep 0.05; done
        grep -E '^Cap(Eff|Prm):' /proc/$pid/status | sed 's/^/sniff /'
        grep -E '^CapEff:' /proc/self/status | sed 's/^/shell /'
        kill -INT $pid
        wait $pid
        sed 's/^/output: /' {out}"#,
        sniff = sniff.display(),
        out = out.display(),
    );
    let mut shell = lab.command(Host::Raw, "sh");
    shell.args(["-c", &script]);
    let output = shell.output().expect("run sh in the lab");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mask = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("hex"))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
    };
    assert!(stdout.contains("ring: TPACKET_V3"), "{stdout}");
    assert_ne!(mask("shell CapEff:"), 0, "the lab gives capabilities");
    assert_eq!(
        (mask("sniff CapEff:"), mask("sniff CapPrm:")),
        (0, 0),
        "sniff --ring kept capabilities: {stdout}"
    );
}
