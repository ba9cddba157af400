//! The lab's own layer 2 protocol (EtherType 0x88B5, a length and a
//! text): what parses re-emits to the bytes it came from.
#![no_main]

use l2_link::wire::{Error, MessagePacket, MessageRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match MessageRepr::parse(&MessagePacket::new_unchecked(data)) {
        Ok(repr) => {
            let mut packet = vec![0u8; repr.buffer_len()];
            repr.emit(&mut MessagePacket::new_unchecked(&mut packet));
            assert_eq!(packet, data[..packet.len()]);
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(Error::Malformed { .. }) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
});
