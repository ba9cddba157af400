//! Snapshots of HTTP/1.1 messages as annotated text: each line of a head
//! with its offset and what our parser made of it, and a chunked body
//! with what our decoder produced for each line. The same kinds of bytes
//! are checked against python3's HTTP implementation in `http_wire.rs`;
//! these snapshots pin down the reading, line by line, for the book.

use l7_app::http::body::{LAST_CHUNK, encode_chunk};
use l7_app::http::{
    ChunkedDecoder, Limits, RequestHead, ResponseHead, parse_request, parse_response,
};

/// A line as printed: CR and LF made visible.
fn visible(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// The head's lines, each with its offset, then `meanings` beside them.
fn annotate(bytes: &[u8], meanings: &[String]) -> String {
    let mut out = String::new();
    let mut offset = 0;
    for (line, meaning) in bytes.split_inclusive(|&b| b == b'\n').zip(meanings) {
        out.push_str(&format!("{offset:04x}  {:<44} {meaning}\n", visible(line)));
        offset += line.len();
    }
    out
}

fn field_meanings<'a>(fields: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<String> {
    fields
        .map(|(name, value)| format!("field {name:?} = {:?}", String::from_utf8_lossy(value)))
        .collect()
}

#[test]
fn a_get_request_head() {
    let bytes = b"GET /about.html HTTP/1.1\r\nHost: www.lab.test\r\nUser-Agent: rawstack-http-get/0.1\r\nAccept: */*\r\nconnection: keep-alive\r\n\r\n";
    let (head, len) = parse_request(bytes, &Limits::default())
        .expect("valid")
        .expect("complete");
    assert_eq!(len, bytes.len());
    let mut meanings = vec![format!(
        "request-line: method {}, target {}, version {}",
        head.method, head.target, head.version
    )];
    meanings.extend(field_meanings(head.headers.iter()));
    meanings.push(format!(
        "end of head ({len} bytes); keep-alive: {}",
        head.wants_keep_alive()
    ));
    insta::assert_snapshot!(annotate(bytes, &meanings));
}

#[test]
fn a_response_head() {
    let mut response = ResponseHead::new(200);
    response
        .headers
        .push("Content-Type", "text/html; charset=utf-8");
    response.headers.push("Content-Length", "178");
    response.headers.push("Server", "alpha-std-net");
    let bytes = response.to_bytes();
    let (head, len) = parse_response(&bytes, &Limits::default())
        .expect("valid")
        .expect("complete");
    let mut meanings = vec![format!(
        "status-line: version {}, status {}, reason {:?}",
        head.version, head.status, head.reason
    )];
    meanings.extend(field_meanings(head.headers.iter()));
    meanings.push(format!(
        "end of head ({len} bytes); keeps alive: {}",
        head.keeps_alive()
    ));
    insta::assert_snapshot!(annotate(&bytes, &meanings));
}

#[test]
fn a_request_we_send() {
    let mut head = RequestHead::new("HEAD", "/big.bin");
    head.headers.push("Host", "www.lab.test");
    head.headers.push("Connection", "close");
    insta::assert_snapshot!(visible(&head.to_bytes()));
}

#[test]
fn a_chunked_body() {
    let mut body = Vec::new();
    for line in [
        "This response was sent in chunks:\n",
        "each line is one chunk.\n",
    ] {
        encode_chunk(line.as_bytes(), &mut body);
    }
    body.extend_from_slice(b"0\r\nX-Lines: 2\r\n\r\n");
    assert!(body.ends_with(LAST_CHUNK) || body.ends_with(b"\r\n\r\n"));
    // Feed the decoder one line at a time and note what each line gave.
    let mut decoder = ChunkedDecoder::new(1 << 20);
    let mut meanings = Vec::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        let mut out = Vec::new();
        let used = decoder.decode(line, &mut out).expect("valid chunked");
        assert_eq!(used, line.len());
        meanings.push(if out.is_empty() {
            format!("(no data) done: {}", decoder.is_done())
        } else {
            format!("data {:?}", String::from_utf8_lossy(&out))
        });
    }
    assert!(decoder.is_done());
    insta::assert_snapshot!(annotate(&body, &meanings));
}
