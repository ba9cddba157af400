//! # l2-link — layer 2 of rawstack
//!
//! Everything a host needs to put a frame on an Ethernet cable and take one
//! off it, written so a learner can read it:
//!
//! - [`wire`] — the formats, sans-IO: [`wire::MacAddr`], [`wire::EtherType`],
//!   Ethernet II frames with an optional 802.1Q tag, and ARP for
//!   Ethernet/IPv4. Each format is a zero-copy view over bytes plus a `Repr`
//!   (the header's meaning as a plain struct).
//! - [`sys`] — the only place with `unsafe`: the AF_PACKET socket
//!   (`socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))`) and its ioctls and
//!   socket options, called through libc so every syscall is visible.
//! - [`device`] — the [`device::Device`] trait that the upper layers run
//!   over, and its devices: the real wire, an in-memory cable, a pcap tap and
//!   a seeded fault injector.
//! - [`pcap`] — reading and writing captures that Wireshark opens.
//! - [`print`](mod@print) — the annotated hex dump and the one-line-per-layer printer
//!   that upper layers extend with their own protocols.
//! - [`exercise`] — what the exercises share: finding the lab, explaining
//!   privilege errors, exit codes.
#![deny(unsafe_code)]

pub mod device;
pub mod exercise;
pub mod pcap;
pub mod print;
pub mod sys;
pub mod wire;
