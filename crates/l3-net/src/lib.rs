//! # l3-net — layer 3 of rawstack (to come)
//!
//! Will hold IPv4 (RFC 791) and ICMPv4 (RFC 792) wire formats, the internet
//! checksum (RFC 1071, with the incremental update of RFC 1624), raw IP
//! sockets (`socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`, `IP_HDRINCL`), and a
//! sans-IO interface over [`l2_link::device::Device`]: an ARP cache, a routing
//! table, ICMP echo, fragmentation and reassembly, and a userspace router.
//! Exercises: `ping`, `traceroute`, `host`, `router`, `craft`.
#![deny(unsafe_code)]
