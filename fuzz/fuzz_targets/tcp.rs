//! TCP segments and their options (RFC 9293 §3.1, RFC 7323, RFC 2018).
//! The first 8 input bytes are the pseudo-header's addresses, the rest the
//! segment.
#![no_main]

use std::net::Ipv4Addr;

use l2_link::wire::Error;
use l4_transport::wire::{TcpOptionsIter, TcpPacket, TcpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((addresses, data)) = input.split_first_chunk::<8>() else {
        return;
    };
    let src = Ipv4Addr::new(addresses[0], addresses[1], addresses[2], addresses[3]);
    let dst = Ipv4Addr::new(addresses[4], addresses[5], addresses[6], addresses[7]);
    let packet = TcpPacket::new_unchecked(data);
    match TcpRepr::parse(&packet, src, dst) {
        Ok(repr) => {
            // Options are re-encoded (padding and End of List become
            // zeros, reserved bits zero): compare meaning, then the fixed
            // header and the data byte for byte.
            let rebuilt = repr.build(src, dst);
            let again = TcpRepr::parse(&TcpPacket::new_unchecked(rebuilt.as_slice()), src, dst)
                .expect("our own segment parses");
            assert_eq!(again, repr);
            assert_eq!(rebuilt[..12], data[..12]);
            assert_eq!(rebuilt[13..16], data[13..16]);
            assert_eq!(repr.payload, packet.payload());
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(_) => {}
    }

    // The options iterator on any bytes: options come from bytes that are
    // there, and it stops at the first damage.
    let mut options = TcpOptionsIter::new(data);
    let mut consumed = 0;
    while let Some(option) = options.next() {
        match option {
            Ok(option) => {
                consumed += option.wire_len();
                assert!(consumed <= data.len());
            }
            Err(err) => {
                assert!(matches!(err, Error::Malformed { .. }));
                assert!(options.next().is_none());
                break;
            }
        }
    }
});
