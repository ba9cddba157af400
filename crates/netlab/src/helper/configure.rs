//! Wiring and configuring the hosts, from the tables in
//! [`crate::topology`]: veth cables, MACs, MTUs, addresses, routes, sysctls
//! and offloads.
//!
//! Interfaces, addresses and routes go through iproute2's `ip` (every Linux
//! has it; the commands read like the ones a learner types), the rest
//! through `/proc/sys` and our own ioctl. The init runs all of it from
//! inside each host in turn (see [`enter_host`]), as uid 0 of the lab's user
//! namespace: the kernel allows it there and nowhere else.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::sys::ethtool::offloads_off;
use crate::sys::namespace::{HostNamespaces, enter_host};
use crate::topology::{Host, INTERFACES, Interface, ROUTES};

/// How long an interface may take to become operational.
const OPERATIONAL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the init knows about a host while it builds the lab.
pub(super) struct HostToBuild<'a> {
    /// Which host.
    pub host: Host,
    /// Its holder's PID in the lab's PID namespace (the one `ip … netns PID`
    /// means, since `ip` runs inside the lab).
    pub lab_pid: u32,
    /// Its namespaces.
    pub namespaces: &'a HostNamespaces,
}

/// Builds the whole topology. Runs in the lab init, which ends up inside the
/// last host it configured.
pub(super) fn build(hosts: &[HostToBuild<'_>]) -> Result<(), String> {
    let lab_pid = |host: Host| {
        hosts
            .iter()
            .find(|h| h.host == host)
            .map(|h| h.lab_pid)
            .ok_or(format!("no {host} host"))
    };
    let enter = |host: Host| -> Result<(), String> {
        let to_build = hosts
            .iter()
            .find(|h| h.host == host)
            .ok_or(format!("no {host} host"))?;
        enter_host(to_build.namespaces).map_err(|e| format!("entering {host}: {e}"))
    };
    // Each cable once: from the end whose name sorts first (lab0–lab1, lab2–lab3).
    for end in INTERFACES.iter().filter(|i| i.name < i.peer) {
        let peer =
            crate::topology::interface(end.peer).ok_or(format!("no interface {}", end.peer))?;
        create_veth(end, lab_pid(end.host)?, peer, lab_pid(peer.host)?)?;
    }
    for host in Host::ALL {
        enter(host)?;
        configure_host(host).map_err(|e| format!("configuring {host}: {e}"))?;
    }
    // Routes last: a route through a gateway needs the gateway's subnet, which
    // appears when the address is added and the link is up.
    for route in ROUTES.iter() {
        enter(route.host)?;
        let (network, prefix) = route.destination;
        let (gateway, device) = (route.gateway, route.device);
        ip(&format!(
            "route add {network}/{prefix} via {gateway} dev {device}"
        ))
        .map_err(|e| format!("configuring {}: {e}", route.host))?;
    }
    for host in Host::ALL {
        enter(host)?;
        for interface in host.interfaces() {
            wait_until_operational(interface.name).map_err(|e| format!("{host}: {e}"))?;
        }
    }
    Ok(())
}

/// Waits until the kernel reports `interface` operationally up, which it
/// does a little after the link is set up and its peer is up (link state
/// changes are processed in the background, at most about once a second).
/// After this, `ready` means every cable carries frames.
fn wait_until_operational(interface: &str) -> Result<(), String> {
    let path = format!("/sys/class/net/{interface}/operstate");
    let deadline = Instant::now() + OPERATIONAL_TIMEOUT;
    loop {
        let state = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        if state.trim() == "up" {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{interface} is still {} after {OPERATIONAL_TIMEOUT:?}",
                state.trim()
            ));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

// ANCHOR: create_veth
/// Creates a veth pair, a virtual cable, with each end already in its host's
/// network namespace (`netns PID`: the namespace of that process).
///
/// Write `name`: `ip link add lab0 …` would read `lab0` as `address`.
fn create_veth(
    end: &Interface,
    end_pid: u32,
    peer: &Interface,
    peer_pid: u32,
) -> Result<(), String> {
    ip(&format!(
        "link add name {} index {} netns {end_pid} type veth peer name {} index {} netns {peer_pid}",
        end.name, end.index, peer.name, peer.index,
    ))
}
// ANCHOR_END: create_veth

/// Configures the host this process is in: sysctls, loopback, and its
/// interfaces as the topology table says.
fn configure_host(host: Host) -> Result<(), String> {
    // IPv6 off, before any link is up: otherwise every interface sends router
    // and multicast-listener chatter into every capture. (No /proc/sys/net/ipv6
    // at all means a kernel without IPv6: nothing to turn off.)
    if Path::new("/proc/sys/net/ipv6").exists() {
        for scope in ["all", "default"] {
            set_sysctl(&format!("net.ipv6.conf.{scope}.disable_ipv6"), "1")?;
        }
    }
    if host == Host::Raw {
        // raw's kernel must stay out of our stack's way: never route a packet
        // that arrives for our stack, never send ICMP redirects about it. A new
        // namespace may inherit forwarding=1 from the host, so write and check.
        // (Both are per interface too; "all" and "default" cover them, but the
        // readback includes the interfaces to prove it.)
        for scope in ["all", "default", "lab1", "lab2"] {
            for knob in ["forwarding", "send_redirects"] {
                set_sysctl(&format!("net.ipv4.conf.{scope}.{knob}"), "0")?;
            }
        }
    }
    ip("link set dev lo up")?;
    for interface in host.interfaces() {
        let (name, mac, mtu) = (interface.name, interface.mac_string(), interface.mtu);
        offloads_off(name).map_err(|e| e.to_string())?;
        // Write `dev`: `ip link set lab0 …` would read `lab0` as `address`.
        ip(&format!("link set dev {name} address {mac} mtu {mtu}"))?;
        if let Some((address, prefix)) = interface.address {
            ip(&format!("address add {address}/{prefix} dev {name}"))?;
        }
        ip(&format!("link set dev {name} up"))?;
    }
    Ok(())
}

/// Writes a sysctl of the current network namespace and reads it back.
fn set_sysctl(name: &str, value: &str) -> Result<(), String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::write(&path, value).map_err(|e| format!("sysctl {name}={value}: {e}"))?;
    let read = fs::read_to_string(&path).map_err(|e| format!("reading {name}: {e}"))?;
    if read.trim() != value {
        return Err(format!(
            "sysctl {name} reads back {:?} after writing {value:?}",
            read.trim()
        ));
    }
    Ok(())
}

/// Where iproute2's `ip` is: on PATH, or in the sbin directories an
/// unprivileged user's PATH often lacks.
pub fn ip_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join("ip"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("ip"))
}

/// Runs `ip ARGS`, written as one would type it (no argument here contains
/// a space); on failure, the error is the command and what `ip` said.
fn ip(args: &str) -> Result<(), String> {
    let command_line = format!("ip {args}");
    let output = Command::new(ip_binary())
        .args(args.split_whitespace())
        .output()
        .map_err(|e| format!("`{command_line}`: {e} (is iproute2 installed?)"))?;
    if output.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&output.stderr);
        Err(format!("`{command_line}` failed: {}", said.trim()))
    }
}
