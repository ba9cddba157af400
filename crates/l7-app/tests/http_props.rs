//! Property tests for HTTP/1.1 messages: the parsers never panic on any
//! bytes; heads round-trip; the chunked coding round-trips whatever the
//! chunk sizes and however the bytes arrive.

use l7_app::http::body::{LAST_CHUNK, encode_chunk};
use l7_app::http::{
    ChunkedDecoder, Limits, RequestHead, ResponseHead, parse_request, parse_response,
};
use proptest::prelude::*;

/// A token (methods, field names): RFC 9110 §5.6.2's tchar.
fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}"
}

/// A field value: visible ASCII and spaces inside, none at the ends
/// (the parser trims OWS, as it must).
fn field_value() -> impl Strategy<Value = String> {
    "[!-~]([ !-~]{0,30}[!-~])?"
}

/// A request-target: visible ASCII, starting with '/'.
fn target() -> impl Strategy<Value = String> {
    "/[!-~]{0,40}"
}

proptest! {
    #[test]
    fn request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_request(&bytes, &Limits::default());
        let small = Limits { max_start_line: 16, max_fields: 2, max_head: 64 };
        let _ = parse_request(&bytes, &small);
    }

    #[test]
    fn response_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_response(&bytes, &Limits::default());
    }

    #[test]
    fn heads_that_almost_parse_never_panic(
        tail in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), any::<u8>()], 0..200),
    ) {
        let bytes = [b"GET / HTTP/1.1\r\nHost: x\r\n".as_slice(), &tail].concat();
        let _ = parse_request(&bytes, &Limits::default());
        let bytes = [b"HTTP/1.1 200 OK\r\n".as_slice(), &tail].concat();
        let _ = parse_response(&bytes, &Limits::default());
    }

    #[test]
    fn request_heads_round_trip(
        method in token(),
        target in target(),
        host in field_value(),
        fields in proptest::collection::vec((token(), field_value()), 0..8),
    ) {
        let mut head = RequestHead::new(&method, &target);
        head.headers.push("Host", &host);
        for (name, value) in &fields {
            // A second Host would make the request invalid (RFC 9112 §3.2).
            if !name.eq_ignore_ascii_case("host") {
                head.headers.push(name, value);
            }
        }
        let bytes = head.to_bytes();
        let parsed = parse_request(&bytes, &Limits::default());
        prop_assert_eq!(parsed, Ok(Some((head, bytes.len()))));
    }

    #[test]
    fn response_heads_round_trip(
        status in 100u16..1000,
        reason in "[ -~]{0,20}",
        fields in proptest::collection::vec((token(), field_value()), 0..8),
    ) {
        let mut head = ResponseHead::new(status);
        head.reason = reason.trim_end().to_string();
        for (name, value) in &fields {
            head.headers.push(name, value);
        }
        let bytes = head.to_bytes();
        let parsed = parse_response(&bytes, &Limits::default());
        prop_assert_eq!(parsed, Ok(Some((head, bytes.len()))));
    }

    #[test]
    fn chunked_round_trips_in_any_pieces(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..10),
        piece in 1usize..50,
    ) {
        let mut encoded = Vec::new();
        for chunk in &chunks {
            encode_chunk(chunk, &mut encoded);
        }
        encoded.extend_from_slice(LAST_CHUNK);
        encoded.extend_from_slice(b"NEXT");
        let mut decoder = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let mut used = 0;
        for part in encoded.chunks(piece) {
            if decoder.is_done() {
                break;
            }
            used += decoder.decode(part, &mut out).unwrap();
        }
        prop_assert!(decoder.is_done());
        prop_assert_eq!(out, chunks.concat());
        prop_assert_eq!(&encoded[used..], b"NEXT");
    }

    #[test]
    fn chunked_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut decoder = ChunkedDecoder::new(1000);
        let _ = decoder.decode(&bytes, &mut Vec::new());
    }
}
