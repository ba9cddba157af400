//! # l4-transport — layer 4 of rawstack
//!
//! UDP (RFC 768) and TCP (RFC 9293), with their checksums over the IPv4
//! pseudo-header computed by l3-net's internet checksum (not a copy):
//!
//! - [`wire`] — UDP datagrams and TCP segments with every flag and option;
//! - [`tcp`] — a sans-IO TCP: the connection state machine, sequence-number
//!   arithmetic modulo 2^32, unpredictable initial sequence numbers
//!   (RFC 6528), the retransmission timer (RFC 6298);
//! - [`socket`] — our TCP and UDP as a program uses them: a blocking API
//!   shaped like std::net's (`TcpStream`, `TcpListener`, `UdpSocket`) over
//!   the sans-IO stack, driven by one thread that sleeps until a frame, a
//!   socket call or a timer needs it;
//! - [`print`](mod@print) — UDP and TCP decoders for the frame printer.
#![deny(unsafe_code)]

pub mod plot;
pub mod print;
pub mod socket;
pub mod tcp;
pub mod wire;
