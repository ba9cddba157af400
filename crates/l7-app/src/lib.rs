//! # l7-app — layer 7 of rawstack
//!
//! The whole journey from a name to a web page, on rawstack's own stack:
//!
//! - [`dns`] — DNS messages (RFC 1035) with name compression, and a stub
//!   resolver over our UDP (with TCP fallback);
//! - [`http`] — HTTP/1.1 (RFC 9112) heads, chunked bodies, a keep-alive
//!   client and a static file server over our TCP;
//! - [`journey`] — one request traced through every layer, for the
//!   `journey` exercise;
//! - [`printer`] — every layer's dissector in one printer (`dissect`).
#![deny(unsafe_code)]

pub mod dns;
pub mod http;
pub mod journey;

/// A printer that knows every layer of rawstack: Ethernet, 802.1Q and ARP
/// (layer 2), IPv4 and ICMP (layer 3), UDP and TCP (layer 4), DNS on port
/// 53 and HTTP on port 80 (this crate) — what the `dissect` and `journey`
/// exercises decode frames with.
pub fn printer() -> l2_link::print::Printer {
    let mut printer = l4_transport::print::printer();
    dns::print::register(&mut printer);
    http::print::register(&mut printer);
    printer
}
