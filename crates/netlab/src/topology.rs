//! The lab's topology as data: hosts, interfaces, addresses, MACs, routes.
//!
//! The lab sets itself up from these tables (see `helper::configure`), and
//! tests and exercises name addresses through these constants instead of
//! retyping them. DESIGN §4 draws the same picture:
//!
//! ```text
//!   alpha                       raw                                   beta
//!   198.18.0.1/24 [lab0]====[lab1] kernel 198.18.0.3/24
//!                                  ours   198.18.0.2, 02:00:00:00:00:12
//!                                 [lab2] kernel: no address ====[lab3] 198.18.1.1/24
//!                                  ours   198.18.1.2, 02:00:00:00:00:13   (MTU 1280)
//!   route 198.18.1.0/24 via 198.18.0.2         route 198.18.0.0/15 via 198.18.1.2
//! ```
//!
//! Every address comes from 198.18.0.0/15, the benchmarking range
//! (RFC 2544 appendix C, RFC 6890 §2.2.2), and no host has a default route.

use std::fmt;
use std::net::Ipv4Addr;

/// One of the lab's three machines, each its own network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// An ordinary Linux peer on raw's first cable; runs the always-on
    /// services (TCP/UDP echo on port 7).
    Alpha,
    /// The learner's machine: its NIC lab1 is shared by the kernel
    /// (198.18.0.3) and our userspace stack (198.18.0.2); lab2 is our
    /// router's second leg.
    Raw,
    /// An ordinary Linux peer behind our router, on a 1280-byte-MTU cable.
    Beta,
}

impl Host {
    /// All hosts, in the order the lab creates them.
    pub const ALL: [Host; 3] = [Host::Alpha, Host::Raw, Host::Beta];

    /// The host's name, as the `alpha`/`raw`/`beta` commands spell it.
    pub fn name(self) -> &'static str {
        match self {
            Host::Alpha => "alpha",
            Host::Raw => "raw",
            Host::Beta => "beta",
        }
    }

    /// The host with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|host| host.name() == name)
    }

    /// The interfaces that live in this host.
    pub fn interfaces(self) -> impl Iterator<Item = &'static Interface> {
        INTERFACES
            .iter()
            .filter(move |interface| interface.host == self)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One end of a veth cable, as the lab configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// Interface name inside its host (`lab0` … `lab3`).
    pub name: &'static str,
    /// The host whose network namespace holds it.
    pub host: Host,
    /// The name of the other end of the cable.
    pub peer: &'static str,
    /// The interface index. Fixed, so `ip link` prints the same lines every
    /// time (`lab1@if10`), and different from the peer's: the kernel
    /// processes a link change at once only for a device whose index differs
    /// from its peer's (`ifindex != iflink`); with equal indexes (both ends
    /// numbered 2 in their fresh namespaces) it waits up to a second.
    pub index: u32,
    /// A fixed, locally administered MAC (the 0x02 bit of the first octet,
    /// IEEE 802 §8.4), so captures and outputs are reproducible.
    pub mac: [u8; 6],
    /// The link MTU in bytes (the IP packet size the link carries).
    pub mtu: u32,
    /// The kernel's address and prefix length on it, if the kernel has one.
    pub address: Option<(Ipv4Addr, u8)>,
}

impl Interface {
    /// The MAC in the usual colon-separated lower-case hex form.
    pub fn mac_string(&self) -> String {
        let [a, b, c, d, e, f] = self.mac;
        format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
    }
}

/// The IP packet size an Ethernet link carries by default.
pub const ETHERNET_MTU: u32 = 1500;
/// The smaller MTU behind our router (lab2/lab3), so that "fragmentation
/// needed" (RFC 792, RFC 1191) happens for real.
pub const NARROW_MTU: u32 = 1280;

/// alpha's address on lab0.
pub const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// Our userspace stack's address on raw's lab1 (it answers ARP for it).
pub const STACK_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// raw's kernel address on lab1 (kernel-assisted raw sockets use it).
pub const RAW_KERNEL_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
/// beta's address on lab3.
pub const BETA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
/// Our router's address on raw's lab2 (beta's gateway).
pub const ROUTER_BETA_SIDE_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);

/// Our userspace stack's MAC on lab1 (a second machine on raw's cable).
pub const STACK_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x12];
/// Our router's MAC on lab2.
pub const ROUTER_BETA_SIDE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x13];

/// The whole lab's range: 198.18.0.0/15. Nothing in the lab routes
/// anywhere else.
pub const LAB_NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 18, 0, 0), 15);
/// The alpha–raw cable's subnet.
pub const ALPHA_NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 18, 0, 0), 24);
/// The raw–beta cable's subnet.
pub const BETA_NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 18, 1, 0), 24);

/// The echo services' port (RFC 862) on alpha, TCP and UDP.
pub const ECHO_PORT: u16 = 7;

/// The four veth ends.
pub static INTERFACES: [Interface; 4] = [
    Interface {
        name: "lab0",
        index: 10,
        host: Host::Alpha,
        peer: "lab1",
        mac: [0x02, 0, 0, 0, 0, 0x01],
        mtu: ETHERNET_MTU,
        address: Some((ALPHA_IP, 24)),
    },
    Interface {
        name: "lab1",
        index: 11,
        host: Host::Raw,
        peer: "lab0",
        mac: [0x02, 0, 0, 0, 0, 0x02],
        mtu: ETHERNET_MTU,
        address: Some((RAW_KERNEL_IP, 24)),
    },
    Interface {
        name: "lab2",
        index: 12,
        host: Host::Raw,
        peer: "lab3",
        mac: [0x02, 0, 0, 0, 0, 0x03],
        mtu: NARROW_MTU,
        // No kernel address: lab2 is our router's leg alone.
        address: None,
    },
    Interface {
        name: "lab3",
        index: 13,
        host: Host::Beta,
        peer: "lab2",
        mac: [0x02, 0, 0, 0, 0, 0x04],
        mtu: NARROW_MTU,
        address: Some((BETA_IP, 24)),
    },
];

/// A static route (beyond the subnets the hosts are directly on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The host whose routing table holds it.
    pub host: Host,
    /// Destination network and prefix length.
    pub destination: (Ipv4Addr, u8),
    /// The next hop: our userspace stack or router, which exist only while
    /// an exercise runs.
    pub gateway: Ipv4Addr,
    /// The interface the gateway is on.
    pub device: &'static str,
}

/// The lab's static routes. No default routes: nothing in the lab has
/// anywhere else to go.
pub static ROUTES: [Route; 2] = [
    Route {
        host: Host::Alpha,
        destination: BETA_NETWORK,
        gateway: STACK_IP,
        device: "lab0",
    },
    Route {
        host: Host::Beta,
        destination: LAB_NETWORK,
        gateway: ROUTER_BETA_SIDE_IP,
        device: "lab3",
    },
];

/// Looks an interface up by name.
pub fn interface(name: &str) -> Option<&'static Interface> {
    INTERFACES.iter().find(|interface| interface.name == name)
}
