//! Ethernet II headers, with 802.1Q tags (IEEE 802.3 §3.2, IEEE 802.1Q
//! §9): anything that parses re-emits to the very bytes it was read from.
#![no_main]

use l2_link::wire::{Error, EthernetFrame, EthernetRepr};
use libfuzzer_sys::fuzz_target;

// ANCHOR: target
fuzz_target!(|data: &[u8]| {
    match EthernetRepr::parse(&EthernetFrame::new_unchecked(data)) {
        Ok(repr) => {
            // Round trip: our encoder writes back exactly the header read.
            let len = repr.header_len();
            let mut header = vec![0u8; len];
            repr.emit(&mut EthernetFrame::new_unchecked(&mut header));
            assert_eq!(header, data[..len]);
            // The checked view agrees on where the payload starts.
            let frame = EthernetFrame::new_checked(data).expect("parsed, so checks pass");
            assert_eq!(frame.payload(), &data[len..]);
        }
        // The only way a header fails is by being short, and then it must
        // really be short.
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
});
// ANCHOR_END: target
