//! The lab isolates: what a learner sends from a lab host can only reach
//! the other lab hosts.
//!
//! Each host is a network namespace of its own. This test asks each one,
//! with the kernel's own tools (`ip`, /proc), what it can reach:
//! - no interface but loopback and the veth cables the lab gave it (no
//!   way out through an interface of the real machine),
//! - no default route, and no route to anything outside 198.18.0.0/15,
//!   the range RFC 2544 set aside for benchmarking networks, which no one
//!   uses on the internet,
//! - raw's kernel does not forward (our userspace router is the only path
//!   between alpha and beta, and only while it runs).
//!
//! The other half of network safety, that an exercise started outside the
//! lab refuses to send unless both the interface and the target are named,
//! is tested next to each layer's exercises: `layer2.rs`
//! (`exercises_refuse_to_send_outside_the_lab`), `layer3_kernel.rs`,
//! `layer3_stack.rs`, `layer4_scan.rs`, `layer4_tcp.rs` and `layer7_dns.rs`.

use std::net::Ipv4Addr;
use std::process::Command;

use netlab::{Host, Lab};
use rawstack_tests::lab;

/// Runs `program args` on `host` and returns its stdout (it must succeed).
fn on(lab: &Lab, host: Host, program: &str, args: &[&str]) -> String {
    let mut command: Command = lab.command(host, program);
    command.args(args);
    let output = command.output().expect("run in the lab");
    assert!(
        output.status.success(),
        "{program} {args:?} on {host:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The interface names `ip -o link show` lists (`lab0@if3` → `lab0`).
fn interfaces(lab: &Lab, host: Host) -> Vec<String> {
    let mut names: Vec<String> = on(lab, host, "ip", &["-o", "link", "show"])
        .lines()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    names.sort();
    names
}

/// True if `prefix` (e.g. `198.18.1.0/24` or `198.18.0.1`) lies inside
/// 198.18.0.0/15.
fn inside_lab_range(prefix: &str) -> bool {
    let (addr, len) = prefix.split_once('/').unwrap_or((prefix, "32"));
    let (Ok(addr), Ok(len)) = (addr.parse::<Ipv4Addr>(), len.parse::<u32>()) else {
        return false;
    };
    len >= 15 && u32::from(addr) & 0xfffe_0000 == u32::from(Ipv4Addr::new(198, 18, 0, 0))
}

#[test]
fn each_host_has_only_its_own_cables_and_routes_inside_the_lab_range() {
    let Some(lab) = lab() else { return };
    let expected: [(Host, &[&str]); 3] = [
        (Host::Alpha, &["lab0", "lo"]),
        (Host::Raw, &["lab1", "lab2", "lo"]),
        (Host::Beta, &["lab3", "lo"]),
    ];
    for (host, cables) in expected {
        assert_eq!(interfaces(&lab, host), cables, "{host:?}'s interfaces");

        // Every IPv4 route of every table but `local` (which holds only
        // the host's own addresses and loopback).
        let routes = on(&lab, host, "ip", &["-4", "route", "show", "table", "all"]);
        let mut checked = 0;
        for route in routes.lines() {
            if route.contains("table local") {
                continue;
            }
            checked += 1;
            let destination = route.split_whitespace().next().unwrap_or_default();
            assert_ne!(destination, "default", "{host:?} has a default route");
            assert!(
                inside_lab_range(destination),
                "{host:?} routes outside 198.18.0.0/15: {route}"
            );
        }
        assert!(
            checked > 0,
            "{host:?} has no route to its own cable: {routes}"
        );
        // The route lookup agrees: an address on the internet is
        // unreachable from here.
        let mut lookup = lab.command(host, "ip");
        lookup.args(["-4", "route", "get", "192.0.2.1"]);
        let output = lookup.output().expect("ip route get");
        assert!(
            !output.status.success(),
            "{host:?} has a route to 192.0.2.1: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let forwarding = on(&lab, Host::Raw, "cat", &["/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(forwarding.trim(), "0", "raw's kernel must not forward");
}

#[test]
fn the_lab_range_check_itself() {
    assert!(inside_lab_range("198.18.0.0/24"));
    assert!(inside_lab_range("198.19.255.1"));
    assert!(inside_lab_range("198.18.0.0/15"));
    assert!(!inside_lab_range("198.16.0.0/12"));
    assert!(!inside_lab_range("198.20.0.1"));
    assert!(!inside_lab_range("203.0.113.0/24"));
    assert!(!inside_lab_range("default"));
}
