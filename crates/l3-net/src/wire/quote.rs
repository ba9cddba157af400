//! The original datagram inside an ICMP error message.
//!
//! An ICMP error (destination unreachable, time exceeded) carries "the
//! internet header plus the first 64 bits of the original datagram's data"
//! (RFC 792) — modern routers send more, up to 576 bytes in all (RFC 1812
//! §4.3.2.3). Those first 8 bytes are what make the error useful: they
//! hold the UDP or TCP ports, or the ICMP echo identifier and sequence
//! number, which tell the sender which of its packets failed. traceroute
//! lives on them.

use l2_link::wire::{Error, Result};

use super::ipv4::{self, Ipv4Packet, Ipv4Repr};

/// The longest quote an ICMP error should carry so that the whole error
/// datagram stays within 576 bytes (RFC 1812 §4.3.2.3): 576 minus a
/// 20-byte IPv4 header and the 8-byte ICMP header.
pub const MAX_ERROR_QUOTE_LEN: usize =
    ipv4::MIN_REASSEMBLY_LEN - ipv4::HEADER_LEN - super::icmpv4::HEADER_LEN;

// ANCHOR: quoted_datagram
/// The original datagram as an ICMP error quotes it: its IPv4 header, and
/// the first bytes of its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedDatagram<'a> {
    /// The original header, as the router saw it. `payload_len` is what its
    /// Total Length said, even though the quote holds less.
    pub header: Ipv4Repr,
    /// The start of the original payload: at least 8 bytes from a router
    /// that follows RFC 792, so UDP/TCP ports or an echo's identifier and
    /// sequence number are there. Never more than Total Length promised.
    pub payload_start: &'a [u8],
}

impl<'a> QuotedDatagram<'a> {
    /// Reads the quote of an ICMP error (its
    /// [`Icmpv4Repr`](super::Icmpv4Repr) `quoted` bytes).
    ///
    /// Only what is needed to find the payload is required: a whole header
    /// (version 4, IHL ≥ 5, all IHL × 4 bytes present) whose Total Length
    /// covers the header, and well-formed options. The header checksum is
    /// not checked, nor is the payload required to be all there: a router
    /// quotes the datagram as it held it (RFC 1812 §4.3.2.3 even has it
    /// quote the TTL it decremented), and the quote is cut short on
    /// purpose.
    pub fn parse(quoted: &'a [u8]) -> Result<QuotedDatagram<'a>> {
        let got = quoted.len();
        let truncated = |needed| Error::Truncated {
            what: "quoted IPv4",
            needed,
            got,
        };
        let malformed = |reason| Error::Malformed {
            what: "quoted IPv4",
            reason,
        };
        if got < ipv4::HEADER_LEN {
            return Err(truncated(ipv4::HEADER_LEN));
        }
        let packet = Ipv4Packet::new_unchecked(quoted);
        if packet.version() != 4 {
            return Err(malformed("version is not 4"));
        }
        let header_len = packet.header_len();
        if header_len < ipv4::HEADER_LEN {
            return Err(malformed("IHL is below 5 (20 bytes)"));
        }
        if got < header_len {
            return Err(truncated(header_len));
        }
        let total_len = usize::from(packet.total_len());
        if total_len < header_len {
            return Err(malformed("total length is shorter than the header"));
        }
        let header = Ipv4Repr::from_header(&packet)?;
        // Anything past Total Length is not the original's (padding).
        let payload_start = quoted
            .get(header_len..got.min(total_len))
            .unwrap_or_default();
        Ok(QuotedDatagram {
            header,
            payload_start,
        })
    }
}

/// The part of `original_ip_packet` an ICMP error about it should quote:
/// as much of it as possible (RFC 1812 §4.3.2.3) but at most `max_len`
/// bytes — [`MAX_ERROR_QUOTE_LEN`] keeps the error within 576 bytes — and
/// never anything past its Total Length (Ethernet padding is not part of
/// the datagram).
///
/// RFC 792 asks for at least the header and 8 bytes of data; a `max_len`
/// below that gives less, which no caller should want.
pub fn icmp_error_quote(original_ip_packet: &[u8], max_len: usize) -> &[u8] {
    let datagram_len = match Ipv4Packet::new_checked(original_ip_packet) {
        Ok(packet) => usize::from(packet.total_len()),
        // Not a whole IPv4 packet: quote what there is.
        Err(_) => original_ip_packet.len(),
    };
    let len = datagram_len.min(max_len).min(original_ip_packet.len());
    &original_ip_packet[..len]
}
// ANCHOR_END: quoted_datagram

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{IpProtocol, Ipv4Options};
    use std::net::Ipv4Addr;

    fn udp_probe() -> Vec<u8> {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(198, 18, 0, 1),
            dst_addr: Ipv4Addr::new(198, 18, 1, 1),
            protocol: IpProtocol::UDP,
            ttl: 1,
            ident: 0x4242,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: 0,
        };
        // UDP 44444 → 33434, length 40, checksum 0, then 32 bytes.
        let mut udp = vec![0xad, 0x9c, 0x82, 0x9a, 0x00, 0x28, 0x00, 0x00];
        udp.resize(40, 0x40);
        repr.build(&udp)
    }

    #[test]
    fn reads_a_quote_cut_after_eight_bytes() {
        let probe = udp_probe();
        let quote = QuotedDatagram::parse(&probe[..28]).unwrap();
        assert_eq!(quote.header.dst_addr, Ipv4Addr::new(198, 18, 1, 1));
        assert_eq!(quote.header.payload_len, 40);
        assert_eq!(quote.payload_start, &probe[20..28]);
    }

    #[test]
    fn ignores_the_checksum_and_padding() {
        let mut probe = udp_probe();
        probe[8] = 0; // the TTL a router decremented, checksum now wrong
        probe.extend_from_slice(&[0; 6]);
        let quote = QuotedDatagram::parse(&probe).unwrap();
        assert_eq!(quote.header.ttl, 0);
        assert_eq!(quote.payload_start.len(), 40);
    }

    #[test]
    fn needs_a_whole_header() {
        let probe = udp_probe();
        assert!(matches!(
            QuotedDatagram::parse(&probe[..19]),
            Err(Error::Truncated { needed: 20, .. })
        ));
        let mut not_v4 = probe.clone();
        not_v4[0] = 0x65;
        assert!(QuotedDatagram::parse(&not_v4).is_err());
    }

    #[test]
    fn quote_length() {
        let mut probe = udp_probe();
        assert_eq!(icmp_error_quote(&probe, MAX_ERROR_QUOTE_LEN).len(), 60);
        assert_eq!(icmp_error_quote(&probe, 28).len(), 28);
        probe.extend_from_slice(&[0; 4]); // padding is not quoted
        assert_eq!(icmp_error_quote(&probe, 1000).len(), 60);
        assert_eq!(MAX_ERROR_QUOTE_LEN, 548);
    }
}
