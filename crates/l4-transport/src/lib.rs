//! # l4-transport — layer 4 of rawstack (to come)
//!
//! Will hold UDP (RFC 768) and TCP (RFC 9293) wire formats with their
//! pseudo-header checksums (reusing l3-net's internet checksum), a SYN
//! scanner over `AF_INET SOCK_RAW IPPROTO_TCP`, and a sans-IO TCP with a
//! std-like blocking API (`TcpListener`, `TcpStream`) over layer 3.
#![deny(unsafe_code)]
