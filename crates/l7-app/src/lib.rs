//! # l7-app — layer 7 of rawstack (to come)
//!
//! Will hold DNS (RFC 1035) messages with name compression and a resolver
//! over rawstack's UDP, and HTTP/1.1 (RFC 9112) client and server over
//! rawstack's TCP: the whole journey from a name to a web page.
#![deny(unsafe_code)]

pub mod dns;
pub mod http;
