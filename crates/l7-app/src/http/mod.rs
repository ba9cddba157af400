//! # HTTP/1.1 (RFC 9112 messages, RFC 9110 semantics) over our own TCP
//!
//! - [`head`] — message heads: the request line or status line and the
//!   header fields, parsed within [`Limits`] (never a panic, typed errors
//!   that name the status a server answers: 400, 414, 431, 505);
//! - [`body`] — where a body ends ([`Framing`]: Content-Length, chunked,
//!   until close) and the chunked transfer coding ([`ChunkedDecoder`]);
//! - [`Connection`] — one end of a connection: heads and bodies read from
//!   any `Read + Write` (our [`TcpStream`](l4_transport::socket::TcpStream)
//!   in the exercises, in-memory scripts in tests), with the bytes of the
//!   next message kept for it (keep-alive);
//! - [`Client`] — GET and HEAD, several requests on one connection;
//! - [`StaticSite`] — a static file server: GET/HEAD, 404, 405, 400, 505,
//!   431, no path traversal, a slow-loris deadline on heads;
//! - [`url`] — `http://host:port/path` and how the host is found
//!   ([`url::lab_hosts`]);
//! - [`print`](mod@print) — the printer's HTTP dissector on TCP port 80.
//!
//! Everything here is sans-IO or generic over `Read + Write`: the same code
//! runs over our stack and over the tests' byte scripts.

pub mod body;
pub mod client;
mod conn;
pub mod head;
pub mod print;
pub mod server;
pub mod url;

pub use body::{ChunkedDecoder, Framing};
pub use client::{Client, Response};
pub use conn::{Connection, ReadError};
pub use head::{
    HeadError, Headers, Limits, RequestHead, ResponseHead, Version, parse_request, parse_response,
};
pub use server::{LogLine, StaticSite};
