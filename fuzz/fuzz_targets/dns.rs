//! DNS messages with name compression (RFC 1035 §4.1, §4.1.4): what
//! decodes encodes again (compressed our way) to a message that decodes
//! to the same thing; names at any offset decode or fail, and always end.
#![no_main]

use l7_app::dns::wire::{MAX_NAME_LEN, Message, decode_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        // Our compression may differ from the sender's, so the bytes can
        // differ; what they say cannot.
        if let Ok(bytes) = message.encode() {
            assert_eq!(Message::decode(&bytes), Ok(message.clone()));
            // And encoding is deterministic: the same message, the same bytes.
            assert_eq!(message.encode(), Ok(bytes));
        }
    }
    // Names anywhere, as a hostile pointer might send the decoder: each
    // decode ends (pointers only go backwards), within the 255-byte limit.
    for start in 0..data.len().min(64) {
        if let Ok((name, next)) = decode_name(data, start) {
            assert!(name.wire_len() <= MAX_NAME_LEN);
            assert!(next > start && next <= data.len());
        }
    }
});
