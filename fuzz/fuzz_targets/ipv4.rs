//! IPv4 headers and their options (RFC 791 §3.1): what parses re-emits to
//! the same header, and the options iterator accounts for every byte.
#![no_main]

use l2_link::wire::Error;
use l3_net::wire::{Ipv4Option, Ipv4OptionsIter, Ipv4Packet, Ipv4Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let packet = Ipv4Packet::new_unchecked(data);
    match Ipv4Repr::parse(&packet) {
        Ok(repr) => {
            let header_len = repr.header_len();
            assert_eq!(header_len, packet.header_len());
            assert_eq!(repr.buffer_len(), usize::from(packet.total_len()));
            let mut header = vec![0u8; header_len];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut header));
            if packet.reserved_flag() {
                // The one field the encoder normalises (the reserved flag
                // goes out as zero): compare meaning, not bytes.
                let again = [header.as_slice(), packet.payload()].concat();
                let again = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(again.as_slice()))
                    .expect("our own header parses");
                assert_eq!(again, repr);
            } else if header != data[..header_len] {
                // Only the checksum may differ, and only between the two
                // ones' complement zeros, 0x0000 and 0xFFFF (RFC 1071 §1),
                // which both verify.
                assert_eq!(header[..10], data[..10]);
                assert_eq!(header[12..], data[12..header_len]);
                let forms = [[header[10], header[11]], [data[10], data[11]]];
                assert!(forms == [[0, 0], [0xff, 0xff]] || forms == [[0xff, 0xff], [0, 0]]);
            }
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(_) => {}
    }

    // The options iterator on any bytes at all: every byte belongs to
    // exactly one option, and a malformed option can only be the last.
    let options_area = data.get(..data.len().min(40)).unwrap_or_default();
    let options: Vec<Ipv4Option<'_>> = Ipv4OptionsIter::new(options_area).collect();
    let covered: usize = options.iter().map(Ipv4Option::wire_len).sum();
    assert_eq!(covered, options_area.len());
    if let Some(at) = options
        .iter()
        .position(|o| matches!(o, Ipv4Option::Malformed { .. }))
    {
        assert_eq!(at, options.len() - 1);
    }
    for option in &options {
        assert!(option.recorded_route().count() <= options_area.len() / 4);
    }
});
