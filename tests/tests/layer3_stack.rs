//! Layer 3, our own stack, in the lab: alpha's and beta's kernels (and
//! their iputils ping and traceroute) talk to our `host` and through our
//! `router`, and tshark checks the checksums of what the router sent.
//!
//! Each test starts its own fresh lab; see `rawstack_tests::lab`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use netlab::{Host, Lab};
use rawstack_tests::{Background, TempDir, example, lab, require_program, run_on};

const STARTUP: Duration = Duration::from_secs(10);
const RUN: Duration = Duration::from_secs(15);

/// Starts our `host` exercise on raw for `seconds`, and waits until it is
/// bound and answering.
fn start_host(lab: &Lab, seconds: &str) -> Background {
    let mut command = lab.command(Host::Raw, example("l3-net", "host"));
    command.args(["--duration", seconds]);
    let mut host = Background::spawn(command);
    host.wait_for_stderr("ready", STARTUP);
    host
}

/// Starts our `router` exercise on raw for `seconds` (lab1 ⇄ lab2), with
/// `extra` arguments, and waits until it forwards.
fn start_router(lab: &Lab, seconds: &str, extra: &[&str]) -> Background {
    let mut command = lab.command(Host::Raw, example("l3-net", "router"));
    command.args(["--duration", seconds]).args(extra);
    let mut router = Background::spawn(command);
    router.wait_for_stderr("ready", STARTUP);
    router
}

#[test]
fn alphas_ping_gets_no_answer_before_our_host_runs_and_replies_after() {
    let Some(lab) = lab() else { return };
    let (code, stdout, _) = run_on(
        &lab,
        Host::Alpha,
        "ping",
        &["-c", "1", "-W", "1", "198.18.0.2"],
    );
    assert_ne!(code, Some(0), "nobody owns 198.18.0.2 yet: {stdout}");
    assert!(stdout.contains("0 received"), "{stdout}");

    let host = start_host(&lab, "4");
    let (code, stdout, stderr) = run_on(
        &lab,
        Host::Alpha,
        "ping",
        &["-c", "2", "-i", "0.2", "-W", "2", "198.18.0.2"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 received"), "{stdout}");
    assert!(
        stdout.contains("64 bytes from 198.18.0.2: icmp_seq=1 ttl=64"),
        "{stdout}"
    );

    let (code, log, stderr) = host.finish(RUN);
    assert_eq!(code, Some(0), "host: {stderr}");
    assert!(
        log.contains("ARP who-has 198.18.0.2 tell 198.18.0.1 (02:00:00:00:00:01) → replied 198.18.0.2 is-at 02:00:00:00:00:12"),
        "{log}"
    );
    for seq in [1, 2] {
        let line = format!("seq {seq}, 64 bytes → replied");
        assert!(
            log.lines()
                .any(|l| l.contains("ICMP echo request from 198.18.0.1") && l.contains(&line)),
            "{log}"
        );
    }
}

#[test]
fn a_3000_byte_ping_is_reassembled_and_answered_in_fragments() {
    let Some(lab) = lab() else { return };
    let host = start_host(&lab, "3");
    // 2972 bytes of data + 8 of ICMP + 20 of IP = 3000: alpha's kernel
    // sends three fragments (1480 + 1480 + 20 bytes of payload).
    let (code, stdout, stderr) = run_on(
        &lab,
        Host::Alpha,
        "ping",
        &["-c", "1", "-W", "2", "-s", "2972", "198.18.0.2"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("2980 bytes from 198.18.0.2: icmp_seq=1"),
        "{stdout}"
    );
    let (_, log, _) = host.finish(RUN);
    assert!(
        log.contains("3 fragments → reassembled 2980 bytes"),
        "{log}"
    );
    assert!(
        log.contains("IPv4 to 198.18.0.1, 3000 bytes → sent as 3 fragments (MTU 1500)"),
        "{log}"
    );
}

#[test]
fn beta_pings_alpha_through_our_router_and_tshark_finds_every_checksum_good() {
    if !require_program("tshark", "tshark") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("router");
    let capture = dir.path().join("router.pcap");
    let capture_arg = capture.to_str().expect("a UTF-8 temp path");
    let router = start_router(&lab, "3", &["-w", capture_arg]);
    let (code, stdout, stderr) = run_on(
        &lab,
        Host::Beta,
        "ping",
        &["-c", "2", "-i", "0.2", "-W", "2", "198.18.0.1"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 received"), "{stdout}");
    // One router on the way: alpha's reply arrives with TTL 64 - 1.
    assert!(
        stdout.contains("from 198.18.0.1: icmp_seq=1 ttl=63"),
        "{stdout}"
    );
    let (code, log, stderr) = router.finish(RUN);
    assert_eq!(code, Some(0), "router: {stderr}");
    assert!(
        log.contains("lab2: IPv4 198.18.1.1 → 198.18.0.1 ICMP ttl 64 → forwarded out lab1 to 198.18.0.1, ttl 63"),
        "{log}"
    );
    assert!(
        log.contains("lab1: IPv4 198.18.0.1 → 198.18.1.1 ICMP ttl 64 → forwarded out lab2 to 198.18.1.1, ttl 63"),
        "{log}"
    );
    assert_checksums_good(&capture);
}

/// tshark reads the capture: every IPv4 header checksum, and every ICMP
/// checksum of a whole message, is "good" (status 1). Quoted inner headers
/// come after the outer ones in each field; only the outer ones are ours.
fn assert_checksums_good(capture: &Path) {
    let output = Command::new("tshark")
        .args(["-n", "-o", "ip.check_checksum:TRUE", "-r"])
        .arg(capture)
        .args(["-T", "fields", "-E", "separator=;"])
        .args([
            "-e",
            "ip.checksum.status",
            "-e",
            "icmp.checksum.status",
            "-e",
            "ip.ttl",
        ])
        .output()
        .expect("run tshark");
    assert!(
        output.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fields = String::from_utf8_lossy(&output.stdout);
    let mut ipv4 = 0;
    for row in fields.lines() {
        let columns: Vec<&str> = row.split(';').collect();
        let first = |i: usize| {
            columns
                .get(i)
                .and_then(|c| c.split(',').next())
                .unwrap_or("")
        };
        if first(0).is_empty() {
            continue; // ARP
        }
        ipv4 += 1;
        assert_eq!(first(0), "1", "IPv4 checksum status in {row:?}");
        if !first(1).is_empty() {
            assert_eq!(first(1), "1", "ICMP checksum status in {row:?}");
        }
    }
    assert!(
        ipv4 >= 8,
        "expected 2 pings × 4 frames, tshark read: {fields}"
    );
}

#[test]
fn alphas_traceroute_shows_our_router_as_hop_one_and_beta_as_hop_two() {
    if !require_program("traceroute", "traceroute") {
        return;
    }
    let Some(lab) = lab() else { return };
    let router = start_router(&lab, "4", &[]);
    let (code, stdout, stderr) = run_on(
        &lab,
        Host::Alpha,
        "traceroute",
        // Three probes per hop, all sent at once: the router must queue the
        // burst while it asks for beta's MAC.
        &["-n", "-w", "2", "-m", "5", "198.18.1.1"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let hops: Vec<&str> = stdout
        .lines()
        .skip_while(|l| l.starts_with("traceroute"))
        .collect();
    assert!(
        hops.first()
            .is_some_and(|l| l.trim_start().starts_with("1  198.18.0.2 ")),
        "{stdout}"
    );
    assert!(
        hops.get(1)
            .is_some_and(|l| l.trim_start().starts_with("2  198.18.1.1 ")),
        "{stdout}"
    );
    let (_, log, _) = router.finish(RUN);
    assert!(
        log.contains(
            "lab1: ICMP time exceeded in-transit → sent to 198.18.0.1 (about UDP to 198.18.1.1)"
        ),
        "{log}"
    );
}

#[test]
fn big_pings_to_beta_are_fragmented_at_1280_or_refused_with_the_mtu() {
    let Some(lab) = lab() else { return };
    let router = start_router(&lab, "4", &[]);
    // 1372 + 8 + 20 = 1400 bytes: fits alpha's 1500, not lab2's 1280.
    let (code, stdout, stderr) = run_on(
        &lab,
        Host::Alpha,
        "ping",
        &[
            "-c",
            "1",
            "-W",
            "2",
            "-s",
            "1372",
            "-M",
            "dont",
            "198.18.1.1",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("1380 bytes from 198.18.1.1: icmp_seq=1 ttl=63"),
        "{stdout}"
    );

    let (code, stdout, _) = run_on(
        &lab,
        Host::Alpha,
        "ping",
        &["-c", "1", "-W", "2", "-s", "1372", "-M", "do", "198.18.1.1"],
    );
    assert_ne!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("From 198.18.0.2 icmp_seq=1 Frag needed and DF set (mtu = 1280)"),
        "{stdout}"
    );

    let (_, log, _) = router.finish(RUN);
    assert!(
        log.contains("lab2: IPv4 to 198.18.1.1, 1400 bytes → sent as 2 fragments (MTU 1280)"),
        "{log}"
    );
    assert!(
        log.contains("lab1: ICMP fragmentation needed (mtu 1280) → sent to 198.18.0.1 (about ICMP to 198.18.1.1)"),
        "{log}"
    );
}

#[test]
fn host_and_router_refuse_to_run_outside_the_lab() {
    if !require_program("unshare", "util-linux") {
        return;
    }
    let host = example("l3-net", "host");
    let router = example("l3-net", "router");
    // A private network namespace that is not a lab: a veth pair named like
    // a real machine's interfaces. Nothing here reaches any real network.
    let script = format!(
        "ip link add name eth0 type veth peer name eth1 && ip link set dev eth0 up && ip link set dev eth1 up || exit 99
         {host} -d 0.1; echo \"host-defaults=$?\"
         {host} -i eth0 -d 0.1; echo \"host-interface-only=$?\"
         {router} -d 0.1; echo \"router-defaults=$?\"
         {host} -i eth0 -a 198.18.0.9/24 -d 0.1; echo \"host-explicit=$?\"",
        host = host.display(),
        router = router.display()
    );
    let Some((stdout, stderr)) = rawstack_tests::outside_any_lab(&script) else {
        return;
    };
    for refused in [
        "host-defaults=2",
        "host-interface-only=2",
        "router-defaults=2",
    ] {
        assert!(
            stdout.contains(refused),
            "expected {refused}; stdout: {stdout} stderr: {stderr}"
        );
    }
    assert_eq!(stderr.matches("refusing to send").count(), 3, "{stderr}");
    assert!(
        stdout.contains("host-explicit=0"),
        "explicit: {stdout} {stderr}"
    );
}

#[test]
fn our_traceroute_on_alpha_finds_the_same_two_hops_through_our_router() {
    let Some(lab) = lab() else { return };
    let router = start_router(&lab, "6", &[]);
    let traceroute = example("l3-net", "traceroute");
    let traceroute = traceroute.to_str().expect("UTF-8 path");
    // UDP probes (the default), then ICMP echo probes (-I): both kinds of
    // answer — port unreachable and echo reply — must end the trace at beta.
    for extra in [&[][..], &["-I"][..]] {
        let mut args = vec!["-q", "1", "-w", "1", "-m", "5"];
        args.extend_from_slice(extra);
        args.push("198.18.1.1");
        let (code, stdout, stderr) = run_on(&lab, Host::Alpha, traceroute, &args);
        assert_eq!(code, Some(0), "traceroute {args:?}: {stdout}{stderr}");
        let hops: Vec<&str> = stdout
            .lines()
            .skip_while(|l| l.starts_with("traceroute"))
            .map(str::trim_start)
            .collect();
        assert_eq!(
            hops.len(),
            2,
            "traceroute {args:?} stopped at beta: {stdout}"
        );
        assert!(hops[0].starts_with("1  198.18.0.2 "), "{stdout}");
        assert!(hops[1].starts_with("2  198.18.1.1 "), "{stdout}");
    }
    let (_, log, _) = router.finish(RUN);
    assert!(
        log.contains("ICMP time exceeded in-transit → sent to 198.18.0.1"),
        "{log}"
    );
}
