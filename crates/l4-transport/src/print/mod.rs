//! UDP and TCP decoders for layer 2's printer.
//!
//! l3-net's printer decodes IPv4 and hands its payload to the dissector
//! registered in its [`IP_PROTO`] table for the Protocol field. This module
//! adds UDP (17) and TCP (6) there without l3-net knowing, and two new
//! tables, [`UDP_PORT`] and [`TCP_PORT`], for what the segments carry, so
//! layer 7 can plug in DNS on UDP port 53 or HTTP on TCP port 80 the same
//! way.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
//! use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Repr};
//! use l4_transport::wire::UdpRepr;
//!
//! let (src, dst) = (Ipv4Addr::new(198, 18, 0, 2), Ipv4Addr::new(198, 18, 0, 1));
//! let udp = UdpRepr { src_port: 40000, dst_port: 7 }.build(src, dst, b"hello");
//! let ip = Ipv4Repr {
//!     src_addr: src,
//!     dst_addr: dst,
//!     protocol: IpProtocol::UDP,
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
//! .build(&ip.build(&udp));
//!
//! let summary = l4_transport::print::printer().summary(&frame);
//! assert!(summary.ends_with(r"\ UDP 198.18.0.2:40000 → 198.18.0.1:7 len 5 \ Data 5 bytes"));
//! ```
//!
//! Both checksums cover the IPv4 addresses (the pseudo-header), which are
//! not in the UDP or TCP header: the dissectors read them from the IPv4
//! header that the IPv4 dissector decoded just before.

mod tcp;
mod udp;

use core::ops::Range;
use std::net::Ipv4Addr;

use l2_link::print::{Dissection, Printer, Table};
use l3_net::print::IP_PROTO;
use l3_net::wire::{IpProtocol, Ipv4Packet};

pub use tcp::TcpDissector;
pub use udp::UdpDissector;

/// The dispatch table for what a UDP datagram carries, keyed by port (the
/// lower of the two ports is tried first, then the other, as Wireshark
/// does): layer 7 registers DNS as 53.
pub const UDP_PORT: Table = Table::new("udp.port");

/// The dispatch table for what a TCP segment carries, keyed by port (the
/// lower first, then the other): layer 7 registers HTTP as 80.
pub const TCP_PORT: Table = Table::new("tcp.port");

/// Teaches `printer` UDP (IP protocol 17) and TCP (IP protocol 6).
pub fn register(printer: &mut Printer) {
    printer.register(IP_PROTO, IpProtocol::UDP.0.into(), UdpDissector);
    printer.register(IP_PROTO, IpProtocol::TCP.0.into(), TcpDissector);
}

/// A printer for Ethernet frames that knows layers 2, 3 and 4:
/// [`l3_net::print::printer`] plus [`register`].
pub fn printer() -> Printer {
    let mut printer = l3_net::print::printer();
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

/// The source and destination of the IPv4 packet whose payload starts at
/// `offset`: the addresses a UDP or TCP checksum covers. Found through the
/// last IPv4 layer already decoded, whose header must end exactly at
/// `offset`; `None` when there is no such layer (a segment seen without
/// its IP header).
fn ip_addresses(frame: &[u8], offset: usize, out: &Dissection) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let layer = out.layers.iter().rev().find(|layer| layer.name == "IPv4")?;
    let start = layer.range.start;
    let packet = Ipv4Packet::new_checked(frame.get(start..)?).ok()?;
    (start + packet.header_len() == offset).then(|| (packet.src_addr(), packet.dst_addr()))
}

/// `198.18.0.2:40000`, or the port alone when the address is unknown.
fn endpoint(addr: Option<Ipv4Addr>, port: u16) -> String {
    match addr {
        Some(addr) => format!("{addr}:{port}"),
        None => port.to_string(),
    }
}

/// What a checksum check found, for the field's value and the notes.
enum ChecksumCheck {
    /// The stored checksum is right.
    Correct,
    /// It is wrong; this is what it should be.
    Wrong(u16),
    /// No IPv4 header to take the pseudo-header from.
    Unchecked,
    /// UDP over IPv4 may leave it out: 0.
    Absent,
}

/// How the printers show a checksum: its value, and whether it is right or
/// what it should have been.
fn checksum_value(stored: u16, check: &ChecksumCheck) -> String {
    match check {
        ChecksumCheck::Correct => format!("0x{stored:04x} (correct)"),
        ChecksumCheck::Wrong(should_be) => {
            format!("0x{stored:04x} (wrong, should be 0x{should_be:04x})")
        }
        ChecksumCheck::Unchecked => format!("0x{stored:04x} (not checked: no IPv4 header)"),
        ChecksumCheck::Absent => format!("0x{stored:04x} (none)"),
    }
}

/// Hands the payload `frame[range]` to the dissector registered in `table`
/// for the lower port, else the higher one; shows it as data when neither
/// has one.
fn dispatch_payload(
    printer: &Printer,
    table: Table,
    ports: (u16, u16),
    frame: &[u8],
    range: Range<usize>,
    out: &mut Dissection,
) {
    if range.is_empty() {
        return;
    }
    let frame = frame.get(..range.end).unwrap_or(frame);
    let (low, high) = (ports.0.min(ports.1), ports.0.max(ports.1));
    let dispatched = printer.dispatch(table, low.into(), frame, range.start, out)
        || (high != low && printer.dispatch(table, high.into(), frame, range.start, out));
    if !dispatched {
        out.push_data(range);
    }
}

#[cfg(test)]
mod tests {
    use l2_link::print::{Dissector, Layer};
    use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
    use l3_net::wire::{Ipv4Options, Ipv4Repr};

    use super::*;
    use crate::wire::UdpRepr;

    const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const ALPHA: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

    /// A dissector that says which port it was registered for.
    struct Marker(u16);
    impl Dissector for Marker {
        fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
            let summary = format!("Marker {}", self.0);
            out.layers
                .push(Layer::new("Marker", offset..frame.len(), summary));
        }
    }

    /// A UDP datagram from `src` to `dst` in an IPv4 packet and a frame.
    fn udp_frame(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), data: &[u8]) -> Vec<u8> {
        let udp = UdpRepr {
            src_port: src.1,
            dst_port: dst.1,
        }
        .build(src.0, dst.0, data);
        let ip = Ipv4Repr {
            src_addr: src.0,
            dst_addr: dst.0,
            protocol: IpProtocol::UDP,
            ttl: 64,
            ident: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: 0,
        };
        EthernetRepr {
            destination: MacAddr([2, 0, 0, 0, 0, 1]),
            source: MacAddr([2, 0, 0, 0, 0, 0x12]),
            vlan: None,
            ethertype: EtherType::IPV4,
        }
        .build(&ip.build(&udp))
    }

    #[test]
    fn the_lower_port_is_tried_first_then_the_other() {
        let mut printer = printer();
        printer.register(UDP_PORT, 7, Marker(7));
        printer.register(UDP_PORT, 40000, Marker(40000));
        let request = udp_frame((US, 40000), (ALPHA, 7), b"hi");
        let reply = udp_frame((ALPHA, 7), (US, 40000), b"hi");
        assert!(printer.summary(&request).ends_with(r"len 2 \ Marker 7"));
        assert!(printer.summary(&reply).ends_with(r"len 2 \ Marker 7"));
        // Only the higher port known: it is tried second.
        let mut printer = super::printer();
        printer.register(UDP_PORT, 40000, Marker(40000));
        assert!(printer.summary(&request).ends_with(r"\ Marker 40000"));
        // Neither: the bytes are shown as data.
        assert!(
            super::printer()
                .summary(&request)
                .ends_with(r"\ Data 2 bytes")
        );
    }

    #[test]
    fn a_wrong_checksum_says_what_it_should_be() {
        let good = udp_frame((US, 40000), (ALPHA, 7), b"hi");
        let mut bad = good.clone();
        let checksum_at = 14 + 20 + 6;
        bad[checksum_at] ^= 0xff;
        let printer = printer();
        assert!(!printer.summary(&good).contains("bad checksum"));
        let stored = u16::from_be_bytes([bad[checksum_at], bad[checksum_at + 1]]);
        let right = u16::from_be_bytes([good[checksum_at], good[checksum_at + 1]]);
        let note = format!("[UDP: bad checksum (0x{stored:04x}, should be 0x{right:04x})]");
        assert!(
            printer.summary(&bad).ends_with(&note),
            "{}",
            printer.summary(&bad)
        );
        assert!(printer.hexdump(&bad).contains("(wrong, should be"));
    }

    #[test]
    fn without_an_ipv4_header_the_checksum_is_not_checked() {
        // The UDP dissector as the root of a printer: no addresses.
        let udp = UdpRepr {
            src_port: 1,
            dst_port: 2,
        }
        .build(US, ALPHA, b"x");
        let printer = Printer::new(UdpDissector);
        assert_eq!(printer.summary(&udp), r"UDP 1 → 2 len 1 \ Data 1 bytes");
        assert!(
            printer
                .hexdump(&udp)
                .contains("(not checked: no IPv4 header)")
        );
    }
}
