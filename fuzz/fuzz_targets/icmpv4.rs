//! ICMPv4 messages (RFC 792) and the datagram an error quotes (RFC 1812
//! §4.3.2.3): what parses rebuilds to the same bytes; a quote's payload
//! lies inside the quote.
#![no_main]

use l2_link::wire::Error;
use l3_net::wire::{Icmpv4Packet, Icmpv4Repr, QuotedDatagram};
use libfuzzer_sys::fuzz_target;

/// What must hold of any quote that parses.
fn check_quote(quoted: &[u8]) {
    if let Ok(quote) = QuotedDatagram::parse(quoted) {
        let header_len = quote.header.header_len();
        let start = quote.payload_start;
        assert!(header_len + start.len() <= quoted.len());
        assert_eq!(start, &quoted[header_len..header_len + start.len()]);
        assert!(start.len() <= quote.header.payload_len);
    }
}

fuzz_target!(|data: &[u8]| {
    match Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(data)) {
        Ok(repr) => {
            let rebuilt = repr.build();
            if rebuilt != data {
                // Ones' complement has two zeros (RFC 1071 §1): when the
                // rest of the message sums to 0xFFFF, a checksum field of
                // 0x0000 and one of 0xFFFF both verify. We write one form;
                // the sender may have used the other. Nothing else may
                // differ.
                assert_eq!(rebuilt.len(), data.len());
                assert_eq!(rebuilt[..2], data[..2]);
                assert_eq!(rebuilt[4..], data[4..]);
                let forms = [[rebuilt[2], rebuilt[3]], [data[2], data[3]]];
                assert!(forms == [[0, 0], [0xff, 0xff]] || forms == [[0xff, 0xff], [0, 0]]);
            }
            if let Icmpv4Repr::DstUnreachable { quoted, .. }
            | Icmpv4Repr::TimeExceeded { quoted, .. } = repr
            {
                check_quote(quoted);
            }
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(Error::Malformed { .. }) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
    // The quote parser on its own, on the bytes after an ICMP header.
    check_quote(data.get(8..).unwrap_or_default());
});
