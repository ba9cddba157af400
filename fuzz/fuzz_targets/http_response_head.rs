//! HTTP/1.1 response heads (RFC 9112 §4): what parses is written back out
//! and parses to the same head.
#![no_main]

use l7_app::http::head::{Limits, parse_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    match parse_response(data, &limits) {
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= limits.max_head);
            assert!(head.status <= 999);
            let bytes = head.to_bytes();
            let again = parse_response(&bytes, &limits).expect("our own head parses");
            assert_eq!(again, Some((head, bytes.len())));
        }
        Ok(None) => assert!(data.len() <= limits.max_head),
        Err(_) => {}
    }
});
