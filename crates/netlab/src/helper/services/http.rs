//! A small web site on alpha, port 80: HTTP/1.1 (RFC 9112) with std::net,
//! the kernel's TCP — the independent server our HTTP client is tested
//! against (rawstack's own HTTP lives in l7-app, which netlab does not
//! depend on: the lab must not be built from the code it tests).
//!
//! | path          | what                                                  |
//! |---------------|-------------------------------------------------------|
//! | `/`, `/index.html` | a page with links to the others                  |
//! | `/about.html` | a page about the lab                                  |
//! | `/lab.txt`    | the lab's addresses, as text                          |
//! | `/big.bin`    | [`BIG_LEN`] bytes of [`big_file`], Content-Length      |
//! | `/chunked`    | a text sent with `Transfer-Encoding: chunked`         |
//!
//! GET and HEAD; 404 for other paths, 405 for other methods, 400 for what
//! is not a request; connections are kept alive (HTTP/1.1's default)
//! until the client closes, says `Connection: close`, or is idle for
//! 30 seconds.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The port (RFC 9110 §4.2.1).
pub const HTTP_PORT: u16 = 80;

/// The size of `/big.bin`: 5 MiB.
pub const BIG_LEN: usize = 5 * 1024 * 1024;

/// The seed of `/big.bin`'s generator (the ASCII of "rawstack").
pub const BIG_SEED: u64 = 0x7261_7773_7461_636b;

/// How long a kept-alive connection may sit idle before we close it.
const IDLE: Duration = Duration::from_secs(30);

/// The longest request head we read.
const MAX_HEAD: usize = 16 * 1024;

/// The body of `/chunked`, sent as one chunk per line.
const CHUNKED_LINES: [&str; 4] = [
    "This response was sent in chunks:\n",
    "each line is one chunk,\n",
    "preceded by its size in hex,\n",
    "and a chunk of size 0 ends it.\n",
];

/// The bytes of `/big.bin`: the generator is xorshift64 (Marsaglia 2003,
/// shifts 13, 7, 17) started from `BIG_SEED | 1`; each byte is bits
/// 24–31 of the state after one more step. Tests compute the same bytes
/// with this function, or with the same ten lines of their own.
pub fn big_file() -> Vec<u8> {
    let mut x = BIG_SEED | 1;
    (0..BIG_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The site's pages: path, media type, body.
struct Site {
    pages: Vec<(&'static str, &'static str, Vec<u8>)>,
}

impl Site {
    fn new() -> Site {
        let index = "<!DOCTYPE html>\n<html><head><title>www.lab.test</title></head>\n<body>\n\
<h1>Welcome to www.lab.test</h1>\n<p>Served by alpha's kernel TCP, fetched by your stack.</p>\n\
<ul><li><a href=\"/about.html\">about</a></li><li><a href=\"/lab.txt\">lab.txt</a></li>\
<li><a href=\"/big.bin\">big.bin</a> (5 MiB)</li><li><a href=\"/chunked\">chunked</a></li></ul>\n\
</body></html>\n";
        let about = "<!DOCTYPE html>\n<html><head><title>About</title></head>\n<body>\n\
<h1>About this lab</h1>\n<p>Three network namespaces joined by veth cables: alpha, raw and beta.</p>\n\
</body></html>\n";
        let lab = "alpha 198.18.0.1 (lab0)\nraw   198.18.0.2 (our stack on lab1), 198.18.0.3 (raw's kernel)\n\
beta  198.18.1.1 (lab3)\n";
        Site {
            pages: vec![
                ("/", "text/html; charset=utf-8", index.as_bytes().to_vec()),
                (
                    "/index.html",
                    "text/html; charset=utf-8",
                    index.as_bytes().to_vec(),
                ),
                (
                    "/about.html",
                    "text/html; charset=utf-8",
                    about.as_bytes().to_vec(),
                ),
                (
                    "/lab.txt",
                    "text/plain; charset=utf-8",
                    lab.as_bytes().to_vec(),
                ),
                ("/big.bin", "application/octet-stream", big_file()),
            ],
        }
    }
}

/// Binds port 80 on `address` and serves from a thread (plus one per
/// connection).
pub fn start(address: SocketAddrV4) -> io::Result<()> {
    let listener = TcpListener::bind(address)?;
    let site = Arc::new(Site::new());
    thread::spawn(move || {
        for connection in listener.incoming() {
            match connection {
                Ok(stream) => {
                    let site = Arc::clone(&site);
                    thread::spawn(move || serve(&site, stream));
                }
                Err(error) => {
                    eprintln!("http: accept: {error}");
                    thread::sleep(Duration::from_millis(100));
                }
            }
        }
    });
    Ok(())
}

/// Serves one connection, request after request.
fn serve(site: &Site, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let Some(head) = read_head(&mut reader)? else {
            return Ok(()); // the client closed, or sent too much
        };
        let keep_alive = respond(site, &head, &mut writer)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// The head's lines (request line first), or `None` at end of file or
/// over the size limit.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    let mut size = 0;
    loop {
        let mut line = Vec::new();
        let n = reader.take(MAX_HEAD as u64).read_until(b'\n', &mut line)?;
        size += n;
        if n == 0 || size > MAX_HEAD {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // empty lines before a request are ignored
            }
            return Ok(Some(lines));
        }
        lines.push(text);
    }
}

/// Answers one request; returns whether the connection stays open.
fn respond(site: &Site, head: &[String], out: &mut impl Write) -> io::Result<bool> {
    let request_line: Vec<&str> = head.first().map_or(Vec::new(), |l| l.split(' ').collect());
    let field = |name: &str| {
        head.iter().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let [method, target, version] = request_line[..] else {
        write_response(out, 400, "text/plain", b"bad request\n", false, true)?;
        return Ok(false);
    };
    if !version.starts_with("HTTP/1.") {
        write_response(out, 400, "text/plain", b"bad request\n", false, true)?;
        return Ok(false);
    }
    let connection = field("connection").unwrap_or_default();
    let keep_alive = if version == "HTTP/1.0" {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    let send_body = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        write_response(
            out,
            405,
            "text/plain",
            b"GET and HEAD only\n",
            true,
            !keep_alive,
        )?;
        return Ok(keep_alive);
    }
    let path = target.split('?').next().unwrap_or_default();
    if path == "/chunked" {
        write_chunked(out, send_body, !keep_alive)?;
        return Ok(keep_alive);
    }
    match site.pages.iter().find(|(p, _, _)| *p == path) {
        Some((_, media_type, body)) => {
            write_response(out, 200, media_type, body, send_body, !keep_alive)?
        }
        None => write_response(
            out,
            404,
            "text/plain",
            b"not found\n",
            send_body,
            !keep_alive,
        )?,
    }
    Ok(keep_alive)
}

fn status_line(status: u16) -> &'static str {
    match status {
        200 => "HTTP/1.1 200 OK",
        400 => "HTTP/1.1 400 Bad Request",
        404 => "HTTP/1.1 404 Not Found",
        _ => "HTTP/1.1 405 Method Not Allowed",
    }
}

fn write_response(
    out: &mut impl Write,
    status: u16,
    media_type: &str,
    body: &[u8],
    send_body: bool,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "{}\r\nServer: alpha-std-net\r\nContent-Type: {media_type}\r\nContent-Length: {}\r\n",
        status_line(status),
        body.len()
    );
    if status == 405 {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if send_body {
        out.write_all(body)?;
    }
    out.flush()
}

/// `/chunked`: RFC 9112 §7.1, one chunk per line, then the last chunk
/// with a trailer field (which clients may ignore).
fn write_chunked(out: &mut impl Write, send_body: bool, close: bool) -> io::Result<()> {
    let mut message = String::from(
        "HTTP/1.1 200 OK\r\nServer: alpha-std-net\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n",
    );
    if close {
        message.push_str("Connection: close\r\n");
    }
    message.push_str("\r\n");
    if send_body {
        for line in CHUNKED_LINES {
            message.push_str(&format!("{:x}\r\n{line}\r\n", line.len()));
        }
        message.push_str("0\r\nX-Lines: 4\r\n\r\n");
    }
    out.write_all(message.as_bytes())?;
    out.flush()
}
