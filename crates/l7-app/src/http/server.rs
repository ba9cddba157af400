//! A small static file server (RFC 9110 §9.3.1–9.3.2 GET and HEAD, RFC
//! 9112 framing and persistence): a directory served read-only, with
//! limits on what a client may make it hold or wait for.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::body::request_framing;
use super::conn::{Connection, ReadError};
use super::head::{HeadError, Limits, RequestHead, ResponseHead, Version, parse_request};

/// The largest request body a static server reads (and throws away).
const MAX_REQUEST_BODY: u64 = 1 << 20;

/// One line of the server's log, like the Common Log Format's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `GET /index.html HTTP/1.1`, or what was wrong with the request.
    pub request: String,
    /// The status sent.
    pub status: u16,
    /// Bytes of body sent.
    pub bytes: u64,
}

/// What a request becomes: the head to send, and the body (none for HEAD).
#[derive(Debug)]
struct Reply {
    head: ResponseHead,
    body: Vec<u8>,
}

impl Reply {
    /// A short text page for an error `status`.
    fn error(status: u16) -> Reply {
        let mut head = ResponseHead::new(status);
        let body = format!("{status} {}\n", head.reason).into_bytes();
        head.headers
            .push("Content-Type", "text/plain; charset=utf-8");
        head.headers.push("Content-Length", body.len().to_string());
        Reply { head, body }
    }
}

/// The server's settings and the directory it serves.
#[derive(Debug, Clone)]
pub struct StaticSite {
    root: PathBuf,
    /// Limits on request heads.
    pub limits: Limits,
    /// How long a client has to send a whole request head once it began
    /// (or, on a kept-alive connection, to begin the next one): the
    /// defence against slow-loris clients that trickle a head out to hold
    /// a connection forever.
    pub head_timeout: Duration,
}

impl StaticSite {
    /// Serves `root` (which must exist and be a directory).
    pub fn new(root: &Path) -> io::Result<StaticSite> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                root.display().to_string(),
            ));
        }
        Ok(StaticSite {
            root,
            limits: Limits::default(),
            head_timeout: Duration::from_secs(10),
        })
    }

    // ANCHOR: serve_connection
    /// Serves one connection until the client closes, asks to close, sends
    /// something we cannot answer on this connection, or is too slow.
    /// `set_timeout` sets the transport's read timeout (for our
    /// [`TcpStream`](l4_transport::socket::TcpStream),
    /// `set_read_timeout`). Each request is passed to `log`.
    pub fn serve_connection<S: Read + Write>(
        &self,
        stream: S,
        set_timeout: impl Fn(&S, Option<Duration>) -> io::Result<()>,
        mut log: impl FnMut(LogLine),
    ) -> io::Result<()> {
        let mut connection = Connection::new(stream);
        loop {
            // The whole head must arrive within head_timeout: a client that
            // trickles bytes runs out of time (and is hung up on).
            let deadline = Instant::now() + self.head_timeout;
            let head = match connection.read_head_by(
                &self.limits,
                parse_request,
                deadline,
                &set_timeout,
            ) {
                Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::TimedOut => return Ok(()),
                other => other,
            };
            set_timeout(connection.stream(), None)?;
            let (reply, keep_alive, request_line, method) = match head {
                Ok(None) => return Ok(()), // the client closed
                Ok(Some(request)) => {
                    let line = format!("{} {} {}", request.method, request.target, request.version);
                    match self.read_and_answer(&mut connection, &request) {
                        Ok(reply) => {
                            let keep = request.wants_keep_alive();
                            (reply, keep, line, request.method)
                        }
                        // A body we could not read: framing lost, close.
                        Err(status) => (Reply::error(status), false, line, request.method),
                    }
                }
                Err(ReadError::Head(error)) => (
                    Reply::error(error.status()),
                    false,
                    describe(error),
                    String::new(),
                ),
                Err(ReadError::Truncated) => return Ok(()),
                Err(error) => return Err(error.into()),
            };
            let mut reply = reply;
            if !keep_alive {
                reply.head.headers.push("Connection", "close");
            }
            reply.head.headers.push("Server", "rawstack-http-serve/0.1");
            connection.send(&reply.head.to_bytes())?;
            let sent = if method == "HEAD" {
                0
            } else {
                reply.body.len() as u64
            };
            if sent > 0 {
                connection.send(&reply.body)?;
            }
            log(LogLine {
                request: request_line,
                status: reply.head.status,
                bytes: sent,
            });
            if !keep_alive {
                return Ok(());
            }
        }
    }
    // ANCHOR_END: serve_connection

    /// Reads (and drops) the request's body, then answers it; an error
    /// status if the body cannot be read (the connection must then close).
    fn read_and_answer<S: Read + Write>(
        &self,
        connection: &mut Connection<S>,
        request: &RequestHead,
    ) -> Result<Reply, u16> {
        let framing = request_framing(request).map_err(|error| error.status())?;
        connection
            .read_body(framing, MAX_REQUEST_BODY, &mut io::sink())
            .map_err(|_| 400u16)?;
        Ok(self.answer(request))
    }

    // ANCHOR: answer
    /// The reply to a well-formed request.
    fn answer(&self, request: &RequestHead) -> Reply {
        if request.version > Version::HTTP_11 {
            return Reply::error(505);
        }
        if request.method != "GET" && request.method != "HEAD" {
            let mut reply = Reply::error(405);
            // 405 must say what is allowed (RFC 9110 §15.5.6).
            reply.head.headers.push("Allow", "GET, HEAD");
            return reply;
        }
        let Some(path) = self.resolve(&request.target) else {
            return Reply::error(400);
        };
        let path = if path.is_dir() {
            path.join("index.html")
        } else {
            path
        };
        // Symbolic links could lead out of the root: the real path must
        // still be inside it.
        let contents = path
            .canonicalize()
            .ok()
            .filter(|real| real.starts_with(&self.root))
            .and_then(|real| fs::read(real).ok());
        let Some(body) = contents else {
            return Reply::error(404);
        };
        let mut head = ResponseHead::new(200);
        head.headers.push("Content-Type", content_type(&path));
        head.headers.push("Content-Length", body.len().to_string());
        Reply { head, body }
    }
    // ANCHOR_END: answer

    // ANCHOR: resolve
    /// The file a request-target names under the root, or `None` if it is
    /// not an origin-form path we accept: the query is dropped, each
    /// segment percent-decoded *after* splitting on `/` (so `%2F` cannot
    /// make a separator), and `..`, NUL and `\` refused outright.
    pub fn resolve(&self, target: &str) -> Option<PathBuf> {
        let path = target.split(['?', '#']).next()?;
        let rest = path.strip_prefix('/')?;
        let mut resolved = self.root.clone();
        for segment in rest.split('/') {
            let decoded = percent_decode(segment)?;
            let text = String::from_utf8(decoded).ok()?;
            if text == ".." || text.contains(['/', '\\', '\0']) {
                return None;
            }
            if text.is_empty() || text == "." {
                continue;
            }
            resolved.push(text);
        }
        Some(resolved)
    }
    // ANCHOR_END: resolve
}

/// `%XX` to bytes (RFC 3986 §2.1); `None` for a `%` without two hex digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = core::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    Some(out)
}

/// The log's text for a refused head.
fn describe(error: HeadError) -> String {
    format!("({error})")
}

/// The media type for a file's extension (a few common ones; RFC 9110
/// §8.3: without one, a recipient may sniff — we say octet-stream).
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" | "rs" => "text/plain; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "pcap" => "application/vnd.tcpdump.pcap",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (StaticSite, PathBuf) {
        let dir = std::env::temp_dir().join(format!("l7-http-site-{}", std::process::id()));
        let _ = fs::create_dir_all(dir.join("sub"));
        fs::write(dir.join("index.html"), "<h1>hi</h1>").unwrap();
        fs::write(dir.join("sub/a b.txt"), "spaced").unwrap();
        (StaticSite::new(&dir).unwrap(), dir)
    }

    /// A client's bytes in, the server's bytes out.
    struct Pipe {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Pipe {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn exchange(site: &StaticSite, input: &[u8]) -> (String, Vec<LogLine>) {
        let mut pipe = Pipe {
            input: io::Cursor::new(input.to_vec()),
            output: Vec::new(),
        };
        let mut log = Vec::new();
        site.serve_connection(&mut pipe, |_, _| Ok(()), |line| log.push(line))
            .unwrap();
        (String::from_utf8_lossy(&pipe.output).into_owned(), log)
    }

    #[test]
    fn get_head_404_and_keep_alive() {
        let (site, _dir) = site();
        let (out, log) = exchange(
            &site,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /sub/a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        let statuses: Vec<u16> = log.iter().map(|l| l.status).collect();
        assert_eq!(
            statuses,
            [200, 200, 404],
            "the request after Connection: close is not read"
        );
        assert!(out.starts_with(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n"
        ));
        assert!(out.contains("\r\n\r\n<h1>hi</h1>HTTP/1.1 200 OK\r\nContent-Type: text/plain"));
        assert!(
            out.contains("Content-Length: 6\r\n"),
            "HEAD: the length of the file…"
        );
        assert!(!out.contains("spaced"), "…but not its body");
        assert!(out.contains("HTTP/1.1 404 Not Found\r\n"));
    }

    #[test]
    fn bad_requests_get_their_status_and_close() {
        let (site, _dir) = site();
        for (request, status) in [
            (&b"garbage\r\n\r\n"[..], 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
                405,
            ),
            (b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                501,
            ),
        ] {
            let (out, log) = exchange(&site, request);
            assert_eq!(log.len(), 1, "{out}");
            assert_eq!(
                log[0].status,
                status,
                "{}",
                String::from_utf8_lossy(request)
            );
            assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
        }
        let huge = [
            b"GET / HTTP/1.1\r\nHost: x\r\n".as_slice(),
            &b"X-A: b\r\n".repeat(200),
            b"\r\n",
        ]
        .concat();
        let (out, _) = exchange(&site, &huge);
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
        assert!(out.contains("Connection: close\r\n"));
    }

    /// A client that sends one byte of a never-ending head every 20 ms.
    struct Trickle;

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(20));
            buf[0] = b'X';
            Ok(1)
        }
    }

    impl Write for Trickle {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            panic!("nothing may be answered to a slow loris: {data:?}")
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_slow_loris_is_hung_up_on_at_the_head_deadline() {
        let (mut site, _dir) = site();
        site.head_timeout = Duration::from_millis(300);
        let timeouts = std::cell::RefCell::new(Vec::new());
        let start = Instant::now();
        site.serve_connection(
            Trickle,
            |_, timeout| {
                timeouts.borrow_mut().push(timeout);
                Ok(())
            },
            |line| panic!("{line:?}"),
        )
        .unwrap();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // Each read was given only what was left of the same deadline.
        let timeouts = timeouts.borrow();
        assert!(timeouts.len() > 5);
        assert!(
            timeouts.windows(2).all(|pair| pair[1] <= pair[0]),
            "{timeouts:?}"
        );
    }
}
