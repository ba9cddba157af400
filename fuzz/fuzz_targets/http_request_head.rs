//! HTTP/1.1 request heads (RFC 9112 §2–§5): what parses is written back
//! out and parses to the same head; what is refused gets its status.
#![no_main]

use l7_app::http::head::{Limits, parse_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    match parse_request(data, &limits) {
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= limits.max_head);
            let bytes = head.to_bytes();
            let again = parse_request(&bytes, &limits).expect("our own head parses");
            assert_eq!(again, Some((head, bytes.len())));
        }
        // Not all there yet: only while it is within the limits.
        Ok(None) => assert!(data.len() <= limits.max_head),
        Err(err) => assert!(matches!(err.status(), 400 | 414 | 431 | 505)),
    }
});
