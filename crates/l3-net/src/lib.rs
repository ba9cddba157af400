//! # l3-net — layer 3 of rawstack
//!
//! IPv4 (RFC 791) and ICMPv4 (RFC 792), from two sides:
//!
//! - through the kernel's raw IP sockets ([`sys`]):
//!   `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`, `IP_HDRINCL`, the
//!   unprivileged ping socket — `ping`, `traceroute`, `craft`;
//! - as our own stack over layer 2 ([`stack`]): a sans-IO interface that owns
//!   a MAC and an IPv4 address, with an ARP cache, a routing table, ICMP echo,
//!   path MTU, fragmentation and reassembly, and a router — `host`, `router`.
//!
//! Rooms, as in every layer crate: [`wire`] (formats), [`checksum`] (the
//! internet checksum, shared with layer 4), [`sys`] (the only `unsafe`),
//! [`stack`] (sans-IO logic), [`print`](mod@print) (decoders for layer 2's printer).
#![deny(unsafe_code)]

pub mod checksum;
pub mod print;
pub mod stack;
pub mod sys;
pub mod wire;
