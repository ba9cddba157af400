//! Layer 3 through the kernel's raw sockets, in the lab: our `ping`,
//! `traceroute` and `craft` against alpha's and raw's real kernels.
//!
//! The oracles are independent of our code: alpha's kernel (does it
//! answer? what do its counters in /proc/net/snmp say?), captures read by
//! etherparse and tshark, /proc/PID/status for capabilities, and the
//! system's own traceroute. Each test starts its own fresh lab.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use netlab::{Host, Lab};
use rawstack_tests::{Background, TempDir, example, lab, read_pcap, require_program, run};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(15);

/// One counter of a host's kernel, from the two-line tables of
/// /proc/net/snmp or /proc/net/netstat ("Ip: names…" then "Ip: values…").
fn kernel_counter(lab: &Lab, host: Host, file: &str, group: &str, name: &str) -> u64 {
    let mut cat = lab.command(host, "cat");
    cat.arg(file);
    let (code, text, stderr) = run(cat);
    assert_eq!(code, Some(0), "cat {file}: {stderr}");
    let prefix = format!("{group}:");
    let mut rows = text.lines().filter(|line| line.starts_with(&prefix));
    let (names, values) = (rows.next().expect("names"), rows.next().expect("values"));
    let index = names
        .split_whitespace()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no {group} {name} in {file}"));
    values
        .split_whitespace()
        .nth(index)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// The reply lines of iputils-style ping output: (seq, ttl, time in ms).
fn reply_lines(stdout: &str, from: &str) -> Vec<(u16, u8, f64)> {
    let prefix = format!("64 bytes from {from}: ");
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|rest| {
            let field = |key: &str| {
                rest.split_whitespace()
                    .find_map(|word| word.strip_prefix(key))
                    .unwrap_or_else(|| panic!("no {key} in {rest:?}"))
                    .to_string()
            };
            (
                field("icmp_seq=").parse().expect("seq"),
                field("ttl=").parse().expect("ttl"),
                field("time=").parse().expect("time"),
            )
        })
        .collect()
}

/// Starts our sniffer on alpha writing `capture`, and waits until it is
/// bound.
fn sniff_on_alpha(lab: &Lab, capture: &Path, count: u32) -> Background {
    let mut sniffer = lab.command(Host::Alpha, example("l2-link", "sniff"));
    sniffer
        .args(["-c", &count.to_string(), "--ethertype", "0x0800", "-w"])
        .arg(capture);
    let mut sniffer = Background::spawn(sniffer);
    sniffer.wait_for_stderr("listening on lab0", STARTUP);
    sniffer
}

#[test]
fn ping_on_raw_gets_three_replies_from_alphas_kernel() {
    let Some(lab) = lab() else { return };
    let echoes_before = kernel_counter(&lab, Host::Alpha, "/proc/net/snmp", "Icmp", "InEchos");
    let mut ping = lab.command(Host::Raw, example("l3-net", "ping"));
    ping.args(["-c", "3", "-i", "0.2"]);
    let (code, stdout, stderr) = run(ping);
    assert_eq!(code, Some(0), "ping failed: {stdout}{stderr}");

    assert!(
        stdout.starts_with("PING 198.18.0.1 (198.18.0.1) 56(84) bytes of data.\n"),
        "{stdout}"
    );
    let replies = reply_lines(&stdout, "198.18.0.1");
    assert_eq!(
        replies.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 3],
        "{stdout}"
    );
    for (_, ttl, time) in &replies {
        assert_eq!(*ttl, 64, "alpha's kernel sends with TTL 64, one hop away");
        assert!(
            *time > 0.0 && *time < 1000.0,
            "a veth round trip: {time} ms"
        );
    }
    assert!(
        stdout.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{stdout}"
    );
    let rtt = stdout
        .lines()
        .find_map(|line| line.strip_prefix("rtt min/avg/max/mdev = "))
        .expect("rtt line");
    let values: Vec<f64> = rtt
        .trim_end_matches(" ms")
        .split('/')
        .map(|v| v.parse().expect("number"))
        .collect();
    let (min, avg, max) = (values[0], values[1], values[2]);
    assert!(min <= avg && avg <= max, "{rtt}");

    // alpha's kernel saw three echo requests: the replies were its.
    let echoes_after = kernel_counter(&lab, Host::Alpha, "/proc/net/snmp", "Icmp", "InEchos");
    assert_eq!(echoes_after - echoes_before, 3);
}

#[test]
fn ping_to_nobody_exits_1() {
    let Some(lab) = lab() else { return };
    let mut ping = lab.command(Host::Raw, example("l3-net", "ping"));
    ping.args(["-c", "1", "-W", "0.3", "198.18.0.77"]);
    let (code, stdout, stderr) = run(ping);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("1 packets transmitted, 0 received, 100% packet loss"),
        "{stdout}"
    );
}

#[test]
fn ping_socket_works_without_any_capability_once_the_sysctl_allows() {
    if !require_program("setpriv", "util-linux") {
        return;
    }
    let Some(lab) = lab() else { return };
    let ping = example("l3-net", "ping");
    // Every capability gone before our program even starts: an empty
    // bounding set means root of the lab's namespace gets none at exec.
    let without_capabilities = |args: &[&str]| {
        let mut command = lab.command(Host::Raw, "setpriv");
        command
            .args(["--inh-caps=-all", "--bounding-set=-all", "--"])
            .arg(&ping)
            .args(args);
        run(command)
    };

    // Proof that setpriv really took CAP_NET_RAW away: the raw socket fails.
    let (code, _, stderr) = without_capabilities(&["-c", "1"]);
    assert_eq!(code, Some(77), "{stderr}");
    assert!(stderr.contains("CAP_NET_RAW"), "{stderr}");

    // The lab's default range admits no group: refused, with the fix named.
    let (code, _, stderr) = without_capabilities(&["--dgram", "-c", "1"]);
    assert_eq!(code, Some(77), "{stderr}");
    assert!(
        stderr.contains("net.ipv4.ping_group_range")
            && stderr.contains("sysctl -w net.ipv4.ping_group_range=\"0 0\""),
        "{stderr}"
    );
    assert!(!stderr.contains("CAP_NET_RAW"), "{stderr}");

    let mut sysctl = lab.command(Host::Raw, "sysctl");
    sysctl.args(["-w", "net.ipv4.ping_group_range=0 0"]);
    let (code, _, stderr) = run(sysctl);
    assert_eq!(code, Some(0), "sysctl: {stderr}");

    let dir = TempDir::new("ping-socket");
    let capture = dir.path().join("ping.pcap");
    let sniffer = sniff_on_alpha(&lab, &capture, 4);
    let (code, stdout, stderr) = without_capabilities(&["--dgram", "-c", "2", "-i", "0.2"]);
    assert_eq!(code, Some(0), "ping --dgram: {stdout}{stderr}");
    let (code, _, sniff_err) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff: {sniff_err}");
    let replies = reply_lines(&stdout, "198.18.0.1");
    assert_eq!(replies.len(), 2, "{stdout}");
    assert!(
        stdout.contains("2 packets transmitted, 2 received, 0% packet loss"),
        "{stdout}"
    );

    // What the ping socket's kernel put on the wire: the identifier it
    // announced (parsed from our stderr), not the one we wrote.
    let announced = stderr
        .split("identifier 0x")
        .nth(1)
        .and_then(|rest| u16::from_str_radix(&rest[..4], 16).ok())
        .expect("the kernel's identifier on stderr");
    let ours = stderr
        .split("ours (0x")
        .nth(1)
        .and_then(|rest| u16::from_str_radix(&rest[..4], 16).ok())
        .expect("our identifier on stderr");
    let mut requests = 0;
    for record in read_pcap(&capture) {
        let sliced = etherparse::SlicedPacket::from_ethernet(&record.data).expect("etherparse");
        if let Some(etherparse::TransportSlice::Icmpv4(icmp)) = sliced.transport
            && let etherparse::Icmpv4Type::EchoRequest(echo) = icmp.icmp_type()
        {
            assert_eq!(echo.id, announced, "the kernel's identifier is on the wire");
            requests += 1;
        }
    }
    assert_eq!(requests, 2);
    assert_ne!(
        announced, ours,
        "a pid-based identifier and the kernel's choice could coincide, but \
         then this test proves nothing: rerun"
    );
}

#[test]
fn ping_holds_no_capability_once_its_socket_is_open_and_prints_the_summary_on_ctrl_c() {
    let Some(lab) = lab() else { return };
    let ping = example("l3-net", "ping");
    let dir = TempDir::new("ping-caps");
    let out = dir.path().join("ping.out");
    // On raw: start ping, wait for its first reply (so its socket is open),
    // read its capabilities from /proc, then Ctrl-C it.
    let script = format!(
        r#"{ping} -c 100 -i 0.2 > {out} 2>&1 &
        pid=$!
        for _ in $(seq 100); do grep -q "bytes from" {out} && break; sleep 0.05; done
        grep -E '^Cap(Eff|Prm):' /proc/$pid/status | sed 's/^/ping /'
        grep -E '^CapEff:' /proc/self/status | sed 's/^/shell /'
        kill -INT $pid
        wait $pid
        echo "exit=$?""#,
        ping = ping.display(),
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
    assert_eq!(value("ping CapEff:"), 0, "{stdout}");
    assert_eq!(value("ping CapPrm:"), 0, "{stdout}");

    assert!(
        stdout.contains("exit=0"),
        "Ctrl-C after replies is success: {stdout}"
    );
    let printed = std::fs::read_to_string(&out).expect("ping output");
    assert!(
        printed.contains("--- 198.18.0.1 ping statistics ---"),
        "{printed}"
    );
    assert!(printed.contains("rtt min/avg/max/mdev"), "{printed}");
}

#[test]
fn craft_shows_the_kernel_rewriting_checksum_and_length() {
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("craft-hdrincl");
    let capture = dir.path().join("craft.pcap");
    // The request and alpha's reply.
    let sniffer = sniff_on_alpha(&lab, &capture, 2);
    let mut craft = lab.command(Host::Raw, example("l3-net", "craft"));
    craft.args(["--checksum", "0", "--total-len", "20", "--ttl", "9"]);
    let (code, stdout, stderr) = run(craft);
    assert_eq!(code, Some(0), "craft: {stdout}{stderr}");
    let (code, _, sniff_err) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff: {sniff_err}");

    let rewritten: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("What the kernel rewrote:"))
        .collect();
    let row = |field: &str| {
        rewritten
            .iter()
            .find(|line| line.trim_start().starts_with(field))
            .unwrap_or_else(|| panic!("no {field} row in {stdout}"))
            .to_string()
    };
    assert!(row("total length").contains("20 →"), "{stdout}");
    assert!(row("header checksum").contains("0x0000 →"), "{stdout}");
    assert!(row("source").contains("0.0.0.0 → 198.18.0.3"), "{stdout}");
    assert!(
        stdout.contains("Answer: ") && stdout.contains("ICMP echo reply"),
        "{stdout}"
    );

    // What alpha received, read by etherparse: a real length and a correct
    // checksum, as craft said, and our TTL untouched.
    let records = read_pcap(&capture);
    let request = records
        .iter()
        .find_map(|record| {
            let (header, _) = etherparse::Ipv4Header::from_slice(record.data.get(14..)?).ok()?;
            (header.source == [198, 18, 0, 3]).then_some((header, record.data.len() - 14))
        })
        .expect("the crafted datagram in alpha's capture");
    let (header, ip_len) = request;
    assert_eq!(usize::from(header.total_len), ip_len, "the real length");
    assert_ne!(header.header_checksum, 0);
    assert_eq!(header.header_checksum, header.calc_header_checksum());
    assert_eq!(header.time_to_live, 9);
    let shown = format!("0x{:04x}", header.header_checksum);
    assert!(
        row("header checksum").contains(&shown),
        "craft shows the checksum alpha saw ({shown}): {stdout}"
    );
}

#[test]
fn craft_over_the_link_with_a_bad_checksum_is_dropped_by_alphas_kernel() {
    let Some(lab) = lab() else { return };
    let craft = example("l3-net", "craft");
    let counters = |lab: &Lab| {
        (
            kernel_counter(lab, Host::Alpha, "/proc/net/snmp", "Ip", "InHdrErrors"),
            kernel_counter(
                lab,
                Host::Alpha,
                "/proc/net/netstat",
                "IpExt",
                "InCsumErrors",
            ),
            kernel_counter(lab, Host::Alpha, "/proc/net/snmp", "Icmp", "InEchos"),
        )
    };

    // First the same datagram with a good checksum: alpha answers it, so
    // silence below is the checksum's doing, not the path's.
    let mut good = lab.command(Host::Raw, &craft);
    good.args(["--link", "--payload", "good"]);
    let (code, stdout, stderr) = run(good);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("ICMP echo reply"), "{stdout}");

    let before = counters(&lab);
    let mut bad = lab.command(Host::Raw, &craft);
    bad.args(["--link", "--bad-checksum", "--payload", "bad", "-W", "0.5"]);
    let (code, stdout, stderr) = run(bad);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No answer from 198.18.0.1"), "{stdout}");
    assert!(stdout.contains("(wrong, should be 0x"), "{stdout}");
    let after = counters(&lab);
    assert_eq!(after.0 - before.0, 1, "InHdrErrors: {before:?} → {after:?}");
    assert_eq!(
        after.1 - before.1,
        1,
        "InCsumErrors: {before:?} → {after:?}"
    );
    assert_eq!(after.2, before.2, "no echo request reached ICMP");
}

#[test]
fn tshark_finds_our_pings_checksums_good() {
    if !require_program("tshark", "tshark") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("ping-tshark");
    let capture = dir.path().join("ping.pcap");
    let sniffer = sniff_on_alpha(&lab, &capture, 4);
    let mut ping = lab.command(Host::Raw, example("l3-net", "ping"));
    ping.args(["-c", "2", "-i", "0.2", "-s", "100"]);
    let (code, stdout, stderr) = run(ping);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, _, sniff_err) = sniffer.finish(RUN);
    assert_eq!(code, Some(0), "sniff: {sniff_err}");

    let tshark = Command::new("tshark")
        .args(["-n", "-o", "ip.check_checksum:TRUE", "-r"])
        .arg(&capture)
        .args(["-T", "fields", "-E", "separator=,"])
        .args(["-e", "ip.src", "-e", "ip.dst", "-e", "ip.checksum.status"])
        .args([
            "-e",
            "icmp.type",
            "-e",
            "icmp.seq",
            "-e",
            "icmp.checksum.status",
        ])
        .args(["-e", "data.len"])
        .output()
        .expect("run tshark");
    assert!(
        tshark.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&tshark.stderr)
    );
    let fields = String::from_utf8_lossy(&tshark.stdout);
    let rows: Vec<&str> = fields.lines().collect();
    // 1 is Wireshark's "Good" for a checksum it verified.
    assert_eq!(
        rows,
        [
            "198.18.0.3,198.18.0.1,1,8,1,1,100",
            "198.18.0.1,198.18.0.3,1,0,1,1,100",
            "198.18.0.3,198.18.0.1,1,8,2,1,100",
            "198.18.0.1,198.18.0.3,1,0,2,1,100",
        ],
        "tshark's reading of the capture"
    );
}

#[test]
fn traceroute_from_alpha_to_raws_kernel_is_one_direct_hop() {
    let Some(lab) = lab() else { return };
    let traceroute = example("l3-net", "traceroute");
    for mode in [&[][..], &["-I"][..]] {
        let mut ours = lab.command(Host::Alpha, &traceroute);
        ours.args(mode).args(["-w", "1", "198.18.0.3"]);
        let (code, stdout, stderr) = run(ours);
        assert_eq!(code, Some(0), "traceroute {mode:?}: {stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines[0], "traceroute to 198.18.0.3 (198.18.0.3), 30 hops max, 60 byte packets",
            "{stdout}"
        );
        assert_eq!(lines.len(), 2, "one hop, then done: {stdout}");
        let hop: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(&hop[..2], ["1", "198.18.0.3"], "{stdout}");
        let times: Vec<f64> = hop[2..]
            .chunks(2)
            .map(|pair| {
                assert_eq!(pair.get(1), Some(&"ms"), "{stdout}");
                pair[0].parse().expect("a time")
            })
            .collect();
        assert_eq!(times.len(), 3, "three answered probes: {stdout}");
    }

    // The system's traceroute sees the same single hop.
    if require_program("traceroute", "traceroute") {
        let mut system = lab.command(Host::Alpha, "traceroute");
        system.args(["-n", "-w", "1", "198.18.0.3"]);
        let (code, stdout, stderr) = run(system);
        assert_eq!(code, Some(0), "{stderr}");
        let hops: Vec<&str> = stdout.lines().skip(1).collect();
        assert_eq!(hops.len(), 1, "{stdout}");
        assert!(hops[0].starts_with(" 1  198.18.0.3  "), "{stdout}");
    }
}

#[test]
fn layer3_exercises_refuse_to_send_outside_the_lab() {
    if !require_program("unshare", "util-linux") {
        return;
    }
    let ping = example("l3-net", "ping");
    let traceroute = example("l3-net", "traceroute");
    let craft = example("l3-net", "craft");
    // A private network namespace that is not a lab (no lab0/lab1/lab3):
    // nothing here reaches any real network, and nothing is sent anyway.
    let script = format!(
        "ip link add name eth0 type veth peer name eth1 && ip link set dev eth0 up || exit 99
         {ping} -c 1; echo \"ping-no-target=$?\"
         {trace}; echo \"traceroute-no-target=$?\"
         {craft} 198.18.0.77; echo \"craft-target-only=$?\"
         {craft} -i eth0; echo \"craft-interface-only=$?\"",
        ping = ping.display(),
        trace = traceroute.display(),
        craft = craft.display()
    );
    let Some((stdout, stderr)) = rawstack_tests::outside_any_lab(&script) else {
        return;
    };
    for refused in [
        "ping-no-target=2",
        "traceroute-no-target=2",
        "craft-target-only=2",
        "craft-interface-only=2",
    ] {
        assert!(
            stdout.contains(refused),
            "expected {refused}; stdout: {stdout} stderr: {stderr}"
        );
    }
    assert_eq!(stderr.matches("refusing to send").count(), 4, "{stderr}");
}
