//! The one room with `unsafe`: the kernel's AF_INET raw sockets and their
//! options, called through libc. Every `unsafe` block carries a
//! `// SAFETY:` note.
//!
//! Layer 2 gave us whole frames (`l2_link::sys::PacketSocket`); here the
//! kernel keeps doing IP for us, and we choose how much:
//!
//! - [`IcmpSocket`] — `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`: we write
//!   ICMP, the kernel writes the IP header; we receive every ICMP datagram
//!   whole. What ping and traceroute are built on. Needs CAP_NET_RAW.
//! - [`RawIpSocket`] — `IP_HDRINCL`: we write the IP header too, and the
//!   kernel still rewrites a few fields of it (see there). For `craft`,
//!   and for the SYN scanner of layer 4. Needs CAP_NET_RAW.
//! - [`PingSocket`] — `socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`: echo
//!   without any capability, if `net.ipv4.ping_group_range` allows.
//! - [`UdpProbeSocket`] — an ordinary UDP socket with a chosen TTL:
//!   traceroute's probes.
//! - giving up every privilege once the sockets are open is layer 2's
//!   `l2_link::sys::drop_capabilities`, which the exercises call directly.
//! - [`interface_ipv4`] — the address the kernel holds on an interface.
//! - [`WakeFd`] — an `eventfd`: how a program's thread wakes the stack's
//!   thread that waits in `poll` on its packet socket.
//!
//! Time: every receive carries the kernel's arrival stamp
//! (`SO_TIMESTAMPNS`), and every send returns the kernel's software
//! transmit stamp where the kernel gives one (`SO_TIMESTAMPING`, see
//! [`SentAt`]) — both on CLOCK_REALTIME, so a round-trip time subtracts two
//! readings of the same clock.
//!
//! Errors are `std::io::Error`s whose message says which call failed; EPERM
//! and EACCES on a raw socket become `PermissionDenied` naming
//! CAP_NET_RAW, and the ping socket's EACCES names the sysctl instead.
//!
//! What every socket needs whatever its family — errors that name the
//! call, socket options, `poll` with a deadline, `recvmsg` and its control
//! messages, kernel timestamps — is not repeated here: it is layer 2's,
//! `l2_link::sys::socket_util`.
#![allow(unsafe_code)]

mod errors;
mod icmp_socket;
mod interface;
mod ping_socket;
mod raw_ip_socket;
mod socket;
mod tx_timestamp;
mod udp_probe;
mod wake_fd;

pub use icmp_socket::IcmpSocket;
pub use interface::interface_ipv4;
pub use ping_socket::PingSocket;
pub use raw_ip_socket::RawIpSocket;
pub use socket::RawRecv;
pub use tx_timestamp::{SendTimeSource, SentAt};
pub use udp_probe::UdpProbeSocket;
pub use wake_fd::WakeFd;
