//! The whole journey in the lab: `journey` on raw resolves www.lab.test
//! with our DNS, fetches `/` with our HTTP over our TCP/IP/Ethernet, and
//! writes the exchange to a pcap; `dissect -r` reads that pcap back.
//!
//! The oracles: curl on alpha (the kernel's TCP, nothing of ours) fetches
//! the same page, whose first line journey must print; tshark, an
//! independent dissector, reads journey's pcap and must find DNS, TCP and
//! HTTP in it, and must agree with `dissect -r` frame by frame on the
//! addresses, ports and protocols.

use std::process::{Command, Stdio};

use netlab::Host;
use rawstack_tests::{TempDir, arg, example, lab, require_program, run};

/// What both dissectors must agree on for one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FrameFacts {
    /// IPv4 source and destination, if an IPv4 packet.
    addresses: Option<(String, String)>,
    /// TCP or UDP source and destination ports.
    ports: Option<(u16, u16)>,
    /// The protocols found, among arp, ip, udp, tcp, dns, http, in order.
    protocols: Vec<&'static str>,
}

/// The protocols both sides name, tshark's spelling first, ours second.
const PROTOCOLS: [(&str, &str); 6] = [
    ("arp", "ARP"),
    ("ip", "IPv4"),
    ("udp", "UDP"),
    ("tcp", "TCP"),
    ("dns", "DNS"),
    ("http", "HTTP"),
];

/// One line of `tshark -T fields -e frame.protocols -e ip.src -e ip.dst
/// -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport
/// -e http.request -e http.response`.
///
/// Without reassembly tshark calls every port-80 segment with data
/// `http` (a body's middle is "continuation"); our per-frame dissector
/// names HTTP only a segment that starts a message and shows the middle
/// of a body as data, as tcpdump does. So "http" here means what both
/// can know from one frame: tshark found a request or a status line in it.
fn tshark_facts(line: &str) -> FrameFacts {
    let fields: Vec<&str> = line.split('\t').collect();
    let field = |i: usize| fields.get(i).copied().unwrap_or("");
    let starts_http = !field(7).is_empty() || !field(8).is_empty();
    let names: Vec<&str> = field(0)
        .split(':')
        .filter(|name| *name != "http" || starts_http)
        .collect();
    let protocols = PROTOCOLS
        .iter()
        .filter(|(theirs, _)| names.contains(theirs))
        .map(|(theirs, _)| *theirs)
        .collect();
    let addresses = (!field(1).is_empty()).then(|| (field(1).to_string(), field(2).to_string()));
    let port = |s: &str| s.parse::<u16>().ok();
    let ports = match (
        port(field(3)),
        port(field(4)),
        port(field(5)),
        port(field(6)),
    ) {
        (Some(src), Some(dst), _, _) | (_, _, Some(src), Some(dst)) => Some((src, dst)),
        _ => None,
    };
    FrameFacts {
        addresses,
        ports,
        protocols,
    }
}

/// A layer summary's first word: its protocol's name.
fn word<'a>(layer: &&'a str) -> &'a str {
    layer.split(' ').next().unwrap_or("")
}

/// One line of `dissect -r`: `TIME layer \ layer \ …`, where the IPv4
/// layer reads `IPv4 SRC → DST …` and TCP/UDP `TCP A:P → B:Q …`.
fn dissect_facts(line: &str) -> FrameFacts {
    let summary = line.split_once(' ').map_or("", |(_, rest)| rest);
    let layers: Vec<&str> = summary.split(" \\ ").collect();
    let protocols = PROTOCOLS
        .iter()
        .filter(|(_, ours)| layers.iter().any(|layer| word(layer) == *ours))
        .map(|(theirs, _)| *theirs)
        .collect();
    // `NAME X → Y …`: X and Y.
    let ends = |name: &str| {
        layers
            .iter()
            .find(|layer| word(layer) == name)
            .and_then(|layer| {
                let mut words = layer.split(' ');
                let from = words.nth(1)?;
                let arrow = words.next()?;
                let to = words.next()?;
                (arrow == "→").then(|| (from.to_string(), to.to_string()))
            })
    };
    let port = |endpoint: &str| endpoint.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
    let ports = ends("TCP")
        .or_else(|| ends("UDP"))
        .and_then(|(from, to)| Some((port(&from)?, port(&to)?)));
    FrameFacts {
        addresses: ends("IPv4"),
        ports,
        protocols,
    }
}

#[test]
fn journey_fetches_the_page_and_its_pcap_reads_the_same_in_tshark_and_dissect() {
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l7-journey");
    let pcap = dir.path().join("journey.pcap");
    let mut journey = lab.command(Host::Raw, example("l7-app", "journey"));
    journey.args(["-w", arg(&pcap)]).stdin(Stdio::null());
    let (code, stdout, stderr) = run(journey);
    assert_eq!(code, Some(0), "journey: {stdout}\n{stderr}");

    // The page's first line, as the kernel's curl on alpha reads it.
    let mut curl = lab.command(Host::Alpha, "curl");
    curl.args(["-sS", "-H", "Host: www.lab.test", "http://198.18.0.1/"]);
    let (code, page, _) = run(curl);
    assert_eq!(code, Some(0), "curl on alpha");
    let first_line = page.lines().next().expect("a non-empty page");
    assert!(
        stdout.contains(&format!("The page's first line: {first_line}\n")),
        "{stdout}"
    );
    // Every layer wrapped the request, and the response was unwrapped.
    for needle in [
        "=== Going down",
        "TCP adds a ",
        "IPv4 adds a 20-byte header",
        "Ethernet adds a 14-byte header",
        "=== On the wire",
        "=== Coming up",
        "HTTP gets ",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing:\n{stdout}");
    }

    // dissect reads the pcap back: one line per frame.
    let mut dissect = Command::new(example("l7-app", "dissect"));
    dissect.args(["-r", arg(&pcap)]);
    let (code, ours, stderr) = run(dissect);
    assert_eq!(code, Some(0), "dissect -r: {stderr}");
    let ours: Vec<FrameFacts> = ours.lines().map(dissect_facts).collect();

    if !require_program("tshark", "tshark") {
        return;
    }
    // Without TCP reassembly every segment of port 80 with data is HTTP
    // to tshark, as it is to our per-frame dissector.
    let mut tshark = Command::new("tshark");
    tshark
        .args([
            "-n",
            "-r",
            arg(&pcap),
            "-o",
            "tcp.desegment_tcp_streams:FALSE",
        ])
        .args([
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
        ])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport"])
        .args(["-e", "udp.srcport", "-e", "udp.dstport"])
        .args(["-e", "http.request", "-e", "http.response"]);
    let (code, theirs, stderr) = run(tshark);
    assert_eq!(code, Some(0), "tshark: {stderr}");
    let theirs: Vec<FrameFacts> = theirs.lines().map(tshark_facts).collect();

    // The whole exchange is there: ARP, DNS both ways, TCP, HTTP.
    for protocol in ["arp", "dns", "tcp", "http"] {
        assert!(
            theirs.iter().any(|f| f.protocols.contains(&protocol)),
            "tshark finds no {protocol} in journey's pcap: {theirs:#?}"
        );
    }
    assert!(
        theirs
            .iter()
            .filter(|f| f.protocols.contains(&"dns"))
            .count()
            >= 2
    );

    assert_eq!(ours.len(), theirs.len(), "frame counts");
    for (number, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(ours, theirs, "frame {}", number + 1);
    }
}
