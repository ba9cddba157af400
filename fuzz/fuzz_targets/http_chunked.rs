//! The chunked transfer coding (RFC 9112 §7.1), decoded as bytes arrive.
//! The first input byte says where to split the rest in two: the decoder
//! must reach the same result whether the body comes in one piece or two
//! (as TCP may deliver it), and a complete body, re-chunked our way,
//! decodes to the same data.
#![no_main]

use l7_app::http::ChunkedDecoder;
use l7_app::http::body::encode_chunk;
use libfuzzer_sys::fuzz_target;

/// The largest body the decoders here accept.
const MAX_BODY: u64 = 64 * 1024;

fuzz_target!(|input: &[u8]| {
    let Some((&split, body)) = input.split_first() else {
        return;
    };
    let mut whole = ChunkedDecoder::new(MAX_BODY);
    let mut data = Vec::new();
    let result = whole.decode(body, &mut data);
    if let Ok(used) = result {
        assert!(used <= body.len());
        assert!(whole.is_done() || used == body.len());
    }
    assert!(data.len() as u64 <= MAX_BODY);

    // The same bytes in two pieces.
    let at = usize::from(split).min(body.len());
    let mut pieces = ChunkedDecoder::new(MAX_BODY);
    let mut data_in_pieces = Vec::new();
    let first = pieces.decode(&body[..at], &mut data_in_pieces);
    let result_in_pieces = match first {
        Ok(used) if used < at => Ok(used), // done inside the first piece
        Ok(used) => pieces
            .decode(&body[at..], &mut data_in_pieces)
            .map(|more| used + more),
        Err(err) => Err(err),
    };
    assert_eq!(result_in_pieces, result);
    assert_eq!(pieces.is_done(), whole.is_done());
    if result.is_ok() {
        assert_eq!(data_in_pieces, data);
    }

    // A complete body, encoded again, decodes to the same data.
    if whole.is_done() {
        let mut encoded = Vec::new();
        encode_chunk(&data, &mut encoded);
        encoded.extend_from_slice(b"0\r\n\r\n");
        let mut again = ChunkedDecoder::new(MAX_BODY);
        let mut data_again = Vec::new();
        assert_eq!(again.decode(&encoded, &mut data_again), Ok(encoded.len()));
        assert!(again.is_done());
        assert_eq!(data_again, data);
    }
});
