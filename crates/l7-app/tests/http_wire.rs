//! Our HTTP bytes checked by an independent implementation: python3's
//! standard library (`http.server`'s request parser, `http.client`'s
//! response reader and chunked decoder) reads what we write, and we read
//! what it writes. python3 is required under `CI=true`; elsewhere a
//! missing python3 skips these tests with a note.

use std::io::Write;
use std::process::{Command, Stdio};

use l7_app::http::body::{LAST_CHUNK, encode_chunk, response_framing};
use l7_app::http::{ChunkedDecoder, Framing, Limits, RequestHead, ResponseHead, parse_response};

/// Runs python3 `script` with `input` on stdin; `None` (skip) if python3
/// is not installed outside CI.
fn python(script: &str, input: &[u8]) -> Option<String> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!ci, "python3 is required under CI=true: {error}");
            eprintln!("skipped: python3 not found ({error})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input)
        .expect("write to python3");
    let out = child.wait_with_output().expect("python3 runs");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("UTF-8 from python3"))
}

/// python3's HTTP server parses a request head from stdin and prints
/// what it understood: method, path, version, then each field.
const PARSE_REQUEST: &str = r#"
import http.server, io, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def __init__(self, data):
        self.rfile = io.BytesIO(data)
        self.wfile = io.BytesIO()
        self.raw_requestline = self.rfile.readline()
        self.error = None
        if not self.parse_request():
            print("rejected")
            sys.exit(0)
    def send_error(self, code, message=None, explain=None):
        print("error", code)
        sys.exit(0)
h = Handler(sys.stdin.buffer.read())
print(h.command, h.path, h.request_version)
for name, value in h.headers.items():
    print(f"{name}={value}")
"#;

#[test]
fn python_reads_our_request_heads_as_we_meant_them() {
    let mut head = RequestHead::new("GET", "/big.bin?x=1");
    head.headers.push("Host", "www.lab.test");
    head.headers.push("User-Agent", "rawstack-http-get/0.1");
    head.headers.push("Accept", "*/*");
    head.headers.push("Connection", "close");
    let Some(seen) = python(PARSE_REQUEST, &head.to_bytes()) else {
        return;
    };
    let expected = "GET /big.bin?x=1 HTTP/1.1\nHost=www.lab.test\nUser-Agent=rawstack-http-get/0.1\nAccept=*/*\nConnection=close\n";
    assert_eq!(seen, expected);
}

/// python3's HTTP client reads a response (head and body, chunked or
/// not) from stdin and prints the status, fields and body length, then
/// the body in hex.
const READ_RESPONSE: &str = r#"
import http.client, io, sys
class Sock:
    def __init__(self, data): self.data = data
    def makefile(self, mode): return io.BytesIO(self.data)
r = http.client.HTTPResponse(Sock(sys.stdin.buffer.read()), method="GET")
r.begin()
body = r.read()
print(r.status, r.reason, r.chunked)
for name, value in r.getheaders():
    print(f"{name}={value}")
print(len(body))
print(body.hex())
"#;

#[test]
fn python_reads_our_chunked_response_and_we_read_the_same() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8 + 1).collect();
    let mut head = ResponseHead::new(200);
    head.headers
        .push("Content-Type", "application/octet-stream");
    head.headers.push("Transfer-Encoding", "chunked");
    let mut message = head.to_bytes();
    for piece in data.chunks(1234) {
        encode_chunk(piece, &mut message);
    }
    message.extend_from_slice(LAST_CHUNK);

    let Some(seen) = python(READ_RESPONSE, &message) else {
        return;
    };
    let mut lines = seen.splitn(5, '\n');
    assert_eq!(lines.next(), Some("200 OK True"));
    assert_eq!(lines.next(), Some("Content-Type=application/octet-stream"));
    assert_eq!(lines.next(), Some("Transfer-Encoding=chunked"));
    assert_eq!(lines.next(), Some("5000"));
    // python3's decoding of our chunks, byte for byte.
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(lines.next().map(str::trim_end), Some(hex.as_str()));
    let ours = decode_response(&message);
    assert_eq!(ours, data);
}

/// Our reading of a whole response message: head, framing, body.
fn decode_response(message: &[u8]) -> Vec<u8> {
    let (head, len) = parse_response(message, &Limits::default())
        .expect("valid")
        .expect("complete");
    let body = &message[len..];
    match response_framing(&head, "GET").expect("framing") {
        Framing::Chunked => {
            let mut decoder = ChunkedDecoder::new(1 << 20);
            let mut out = Vec::new();
            decoder.decode(body, &mut out).expect("chunked");
            assert!(decoder.is_done());
            out
        }
        Framing::Length(n) => body[..n as usize].to_vec(),
        other => panic!("{other:?}"),
    }
}

/// python3's http.server answers a GET of a file: we read its response
/// (HTTP/1.0, Content-Length) as it wrote it.
const SERVE_ONE: &str = r#"
import http.server, io, os, sys, tempfile
d = tempfile.mkdtemp()
open(os.path.join(d, "f.txt"), "w").write("python wrote this\n")
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self):
        self.directory = d
        self.rfile = io.BytesIO(b"GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.wfile = io.BytesIO()
        self.client_address = ("198.18.0.1", 1)
        self.server = None
        self.close_connection = True
        self.handle_one_request()
    def log_message(self, *args): pass
sys.stdout.buffer.write(H().wfile.getvalue())
"#;

#[test]
fn we_read_pythons_response() {
    let Some(response) = python(SERVE_ONE, b"") else {
        return;
    };
    let (head, _) = parse_response(response.as_bytes(), &Limits::default())
        .expect("valid")
        .expect("complete");
    assert_eq!(head.status, 200);
    assert_eq!(head.headers.get("content-length"), Some("18"));
    assert_eq!(decode_response(response.as_bytes()), b"python wrote this\n");
}
