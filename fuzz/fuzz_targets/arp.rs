//! ARP packets (RFC 826): what parses re-emits to the bytes it came from.
#![no_main]

use l2_link::wire::{ArpPacket, ArpRepr, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ArpRepr::parse(&ArpPacket::new_unchecked(data)) {
        Ok(repr) => {
            let mut packet = vec![0u8; repr.buffer_len()];
            repr.emit(&mut ArpPacket::new_unchecked(&mut packet));
            assert_eq!(packet, data[..packet.len()]);
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(Error::Unsupported { .. }) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
});
