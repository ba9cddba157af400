//! IPv4 and ICMP decoders for layer 2's printer.
//!
//! Layer 2's [`Printer`] knows Ethernet and ARP and dispatches an Ethernet
//! payload by its EtherType. This module adds layer 3 to it without layer 2
//! knowing: IPv4 under EtherType 0x0800, a new table [`IP_PROTO`] (the
//! IPv4 Protocol field) for what IPv4 carries, and ICMP under protocol 1.
//! Layer 4 will add UDP and TCP to [`IP_PROTO`] the same way.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
//! use l3_net::wire::{Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4Repr};
//!
//! let echo = Icmpv4Repr::EchoRequest { ident: 0x1234, seq: 1, data: b"hi" };
//! let ip = Ipv4Repr {
//!     src_addr: Ipv4Addr::new(198, 18, 0, 2),
//!     dst_addr: Ipv4Addr::new(198, 18, 0, 1),
//!     protocol: IpProtocol::ICMP,
//!     ttl: 64,
//!     ident: 1,
//!     dont_frag: true,
//!     more_frags: false,
//!     frag_offset: 0,
//!     dscp: 0,
//!     ecn: 0,
//!     options: Ipv4Options::NONE,
//!     payload_len: 0, // build() sets it
//! };
//! let frame = EthernetRepr {
//!     destination: MacAddr([2, 0, 0, 0, 0, 1]),
//!     source: MacAddr([2, 0, 0, 0, 0, 0x12]),
//!     vlan: None,
//!     ethertype: EtherType::IPV4,
//! }
//! .build(&ip.build(&echo.build()));
//!
//! let summary = l3_net::print::printer().summary(&frame);
//! assert!(summary.ends_with(
//!     r"\ IPv4 198.18.0.2 → 198.18.0.1 ttl 64 id 1 len 30 DF \ ICMP echo request id 0x1234 seq 1"
//! ));
//! ```

mod icmpv4;
mod ipv4;

use core::ops::Range;

use l2_link::print::{Printer, Table};
use l2_link::wire::EtherType;

use crate::wire::IpProtocol;

pub use icmpv4::Icmpv4Dissector;
pub use ipv4::Ipv4Dissector;

/// The dispatch table for what an IPv4 packet carries, keyed by its
/// Protocol field ([`IpProtocol`]): ICMP is entry 1; layer 4 registers
/// UDP (17) and TCP (6).
pub const IP_PROTO: Table = Table::new("ip.proto");

/// Teaches `printer` IPv4 (EtherType 0x0800) and ICMP (IP protocol 1).
pub fn register(printer: &mut Printer) {
    printer.register(Table::ETHERTYPE, EtherType::IPV4.0.into(), Ipv4Dissector);
    printer.register(IP_PROTO, IpProtocol::ICMP.0.into(), Icmpv4Dissector);
}

/// A printer for Ethernet frames that knows layers 2 and 3:
/// [`Printer::layer2`] plus [`register`].
pub fn printer() -> Printer {
    let mut printer = Printer::layer2();
    register(&mut printer);
    printer
}

/// `range` (relative to a header) moved to absolute frame offsets.
fn at(offset: usize, range: Range<usize>) -> Range<usize> {
    offset + range.start..offset + range.end
}

/// The one byte at `at` (relative to a header at `offset`) as an absolute
/// range.
fn byte_at(offset: usize, at: usize) -> Range<usize> {
    offset + at..offset + at + 1
}

/// How the printers show a checksum: its value, and whether it is right
/// (`verifies`: the data, checksum included, sums to 0xFFFF) or what it
/// should have been.
fn checksum_value(stored: u16, verifies: bool, should_be: u16) -> String {
    if verifies {
        format!("0x{stored:04x} (correct)")
    } else {
        format!("0x{stored:04x} (wrong, should be 0x{should_be:04x})")
    }
}
