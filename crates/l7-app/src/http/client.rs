//! An HTTP/1.1 client (RFC 9112, RFC 9110 §9.3.1–9.3.2): GET and HEAD on
//! one connection, kept alive for as many requests as the server allows.

use std::io::{self, Read, Write};

use super::body::response_framing;
use super::conn::{Connection, ReadError};
use super::head::{Limits, RequestHead, ResponseHead, parse_response};

/// A response: its head and its body (empty for HEAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status line and fields.
    pub head: ResponseHead,
    /// The body, transfer coding removed.
    pub body: Vec<u8>,
}

/// The client's side of one connection to `host`.
#[derive(Debug)]
pub struct Client<S> {
    connection: Connection<S>,
    host: String,
    /// Limits on response heads.
    pub limits: Limits,
    /// The largest body accepted (default 1 GiB).
    pub max_body: u64,
    /// False once the server said it closes (or its body ran to close).
    open: bool,
}

impl<S: Read + Write> Client<S> {
    /// A client speaking to `host` (the `Host` field's value: name, and
    /// `:port` if not 80) over `stream`.
    pub fn new(stream: S, host: &str) -> Client<S> {
        Client {
            connection: Connection::new(stream),
            host: host.to_string(),
            limits: Limits::default(),
            max_body: 1 << 30,
            open: true,
        }
    }

    /// True while the connection can carry another request.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The transport.
    pub fn stream(&self) -> &S {
        self.connection.stream()
    }

    /// The request this client sends for `method` and `target`: the
    /// request line, `Host` (required, RFC 9112 §3.2), a User-Agent, and
    /// `Connection: close` when `last` (so the server closes after it).
    pub fn request_head(&self, method: &str, target: &str, last: bool) -> RequestHead {
        let mut head = RequestHead::new(method, target);
        head.headers.push("Host", &self.host);
        head.headers.push("User-Agent", "rawstack-http-get/0.1");
        head.headers.push("Accept", "*/*");
        if last {
            head.headers.push("Connection", "close");
        }
        head
    }

    // ANCHOR: send
    /// Sends `request` and reads the response, writing its body to `sink`.
    /// Returns the response head; afterwards [`is_open`](Client::is_open)
    /// says whether another request may follow on this connection.
    pub fn send<W: Write + ?Sized>(
        &mut self,
        request: &RequestHead,
        sink: &mut W,
    ) -> io::Result<ResponseHead> {
        if !self.open {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the server closed this connection",
            ));
        }
        self.connection.send(&request.to_bytes())?;
        let head = loop {
            let head = self
                .connection
                .read_head(&self.limits, parse_response)?
                .ok_or(ReadError::Truncated)?;
            // 1xx are interim (RFC 9110 §15.2): the real answer follows.
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        let framing = response_framing(&head, &request.method)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        self.connection.read_body(framing, self.max_body, sink)?;
        self.open = head.keeps_alive()
            && request.wants_keep_alive()
            && framing != super::body::Framing::UntilClose;
        Ok(head)
    }
    // ANCHOR_END: send

    /// [`send`](Client::send) a GET or HEAD for `target`, the body
    /// collected in memory.
    pub fn fetch(&mut self, method: &str, target: &str) -> io::Result<Response> {
        let request = self.request_head(method, target, false);
        let mut body = Vec::new();
        let head = self.send(&request, &mut body)?;
        Ok(Response { head, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport that replays `input` and records what is written.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            // At most 7 bytes at a time: messages split anywhere.
            let n = buf.len().min(7);
            self.input.read(&mut buf[..n])
        }
    }

    impl Write for Script {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn three_responses_on_one_connection() {
        let replies = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\
\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let script = Script {
            input: io::Cursor::new(replies.to_vec()),
            written: Vec::new(),
        };
        let mut client = Client::new(script, "www.lab.test");
        let first = client.fetch("GET", "/").unwrap();
        assert_eq!(
            (first.head.status, first.body.as_slice()),
            (200, b"hello".as_slice())
        );
        let second = client.fetch("HEAD", "/").unwrap();
        assert!(
            second.body.is_empty(),
            "HEAD: Content-Length without a body"
        );
        let third = client.fetch("GET", "/chunked").unwrap();
        assert_eq!(third.body, b"abcde");
        assert!(client.is_open());
        let sent = String::from_utf8(client.stream().written.clone()).unwrap();
        assert_eq!(sent.matches("Host: www.lab.test\r\n").count(), 3);
        assert!(sent.starts_with("GET / HTTP/1.1\r\n"));
        assert!(sent.contains("HEAD / HTTP/1.1\r\n"));
    }

    #[test]
    fn connection_close_and_truncation() {
        let replies = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nshort";
        let script = Script {
            input: io::Cursor::new(replies.to_vec()),
            written: Vec::new(),
        };
        let mut client = Client::new(script, "x");
        let error = client.fetch("GET", "/").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        let replies = b"HTTP/1.0 200 OK\r\n\r\nuntil the end";
        let script = Script {
            input: io::Cursor::new(replies.to_vec()),
            written: Vec::new(),
        };
        let mut client = Client::new(script, "x");
        assert_eq!(client.fetch("GET", "/").unwrap().body, b"until the end");
        assert!(!client.is_open());
    }
}
