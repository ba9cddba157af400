//! One end of an HTTP/1.1 connection: bytes arrive in pieces of any size
//! (TCP keeps no message boundaries), so a buffer holds what was read
//! beyond the current head or body — the start of the next message on a
//! kept-alive connection.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::body::{ChunkedDecoder, Framing};
use super::head::{HeadError, Limits};

/// Something went wrong reading a message.
#[derive(Debug)]
pub enum ReadError {
    /// The transport failed (a reset, a timeout: `WouldBlock`/`TimedOut`).
    Io(io::Error),
    /// The peer closed in the middle of a message.
    Truncated,
    /// The head can never be valid.
    Head(HeadError),
    /// The body is not what its framing says, or is too large.
    Body(String),
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> ReadError {
        ReadError::Io(error)
    }
}

impl core::fmt::Display for ReadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReadError::Io(error) => write!(f, "{error}"),
            ReadError::Truncated => f.write_str("connection closed in the middle of a message"),
            ReadError::Head(error) => write!(f, "{error}"),
            ReadError::Body(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for io::Error {
    fn from(error: ReadError) -> io::Error {
        match error {
            ReadError::Io(error) => error,
            ReadError::Truncated => io::Error::new(io::ErrorKind::UnexpectedEof, error.to_string()),
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// A transport (our [`TcpStream`](l4_transport::socket::TcpStream), or
/// anything `Read + Write` in tests) and the bytes read ahead of use.
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    buffer: Vec<u8>,
}

/// A time by which a head must be complete, and how to tell the
/// transport how long it may still wait.
type Deadline<'a, S> = (Instant, &'a dyn Fn(&S, Option<Duration>) -> io::Result<()>);

/// How much is read from the transport at a time.
const READ_SIZE: usize = 64 * 1024;

impl<S: Read + Write> Connection<S> {
    /// Wraps a transport.
    pub fn new(stream: S) -> Connection<S> {
        Connection {
            stream,
            buffer: Vec::new(),
        }
    }

    /// The transport.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Gives the transport back (bytes read ahead are lost).
    pub fn into_stream(self) -> S {
        self.stream
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Reads more from the transport into the buffer: how many bytes
    /// (0 at end of file).
    fn fill(&mut self) -> io::Result<usize> {
        let old = self.buffer.len();
        self.buffer.resize(old + READ_SIZE, 0);
        let result = self
            .stream
            .read(self.buffer.get_mut(old..).unwrap_or_default());
        let n = *result.as_ref().unwrap_or(&0);
        self.buffer.truncate(old + n);
        result
    }

    // ANCHOR: read_head
    /// Reads one head with `parse` ([`parse_request`](super::parse_request)
    /// or [`parse_response`](super::parse_response)): `Ok(None)` if the
    /// peer closed cleanly before sending anything (the end of a
    /// kept-alive connection), the head otherwise.
    pub fn read_head<H>(
        &mut self,
        limits: &Limits,
        parse: impl Fn(&[u8], &Limits) -> Result<Option<(H, usize)>, HeadError>,
    ) -> Result<Option<H>, ReadError> {
        self.read_head_inner(limits, parse, None)
    }

    /// [`read_head`](Connection::read_head), but the whole head must have
    /// arrived by `deadline`: before each read, `set_timeout` gives the
    /// transport what time is left. A client that trickles its head a
    /// byte at a time (slow loris) gets [`io::ErrorKind::TimedOut`], not
    /// a fresh timeout per byte.
    pub fn read_head_by<H>(
        &mut self,
        limits: &Limits,
        parse: impl Fn(&[u8], &Limits) -> Result<Option<(H, usize)>, HeadError>,
        deadline: Instant,
        set_timeout: &dyn Fn(&S, Option<Duration>) -> io::Result<()>,
    ) -> Result<Option<H>, ReadError> {
        self.read_head_inner(limits, parse, Some((deadline, set_timeout)))
    }

    fn read_head_inner<H>(
        &mut self,
        limits: &Limits,
        parse: impl Fn(&[u8], &Limits) -> Result<Option<(H, usize)>, HeadError>,
        deadline: Option<Deadline<'_, S>>,
    ) -> Result<Option<H>, ReadError> {
        loop {
            if let Some((head, len)) = parse(&self.buffer, limits).map_err(ReadError::Head)? {
                self.buffer.drain(..len);
                return Ok(Some(head));
            }
            if let Some((deadline, set_timeout)) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReadError::Io(io::ErrorKind::TimedOut.into()));
                }
                set_timeout(&self.stream, Some(left))?;
            }
            let filled = match self.fill() {
                // Our TcpStream and std's say WouldBlock when a read
                // timeout passes.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(ReadError::Io(io::ErrorKind::TimedOut.into()));
                }
                other => other?,
            };
            if filled == 0 {
                let only_blank = self.buffer.iter().all(|&b| b == b'\r' || b == b'\n');
                return if only_blank {
                    Ok(None)
                } else {
                    Err(ReadError::Truncated)
                };
            }
        }
    }
    // ANCHOR_END: read_head

    // ANCHOR: read_body
    /// Reads a body framed as `framing` and hands it to `sink` piece by
    /// piece; more than `max_body` bytes is an error. Returns the bytes
    /// of data.
    pub fn read_body<W: Write + ?Sized>(
        &mut self,
        framing: Framing,
        max_body: u64,
        sink: &mut W,
    ) -> Result<u64, ReadError> {
        match framing {
            Framing::Empty => Ok(0),
            Framing::Length(len) => {
                if len > max_body {
                    return Err(ReadError::Body(format!(
                        "body of {len} bytes over the limit"
                    )));
                }
                let mut left = len;
                while left > 0 {
                    if self.buffer.is_empty() && self.fill()? == 0 {
                        return Err(ReadError::Truncated);
                    }
                    let take = self
                        .buffer
                        .len()
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    sink.write_all(self.buffer.get(..take).unwrap_or_default())?;
                    self.buffer.drain(..take);
                    left -= take as u64;
                }
                Ok(len)
            }
            Framing::Chunked => {
                let mut decoder = ChunkedDecoder::new(max_body);
                let mut total = 0;
                let mut out = Vec::new();
                loop {
                    let used = decoder
                        .decode(&self.buffer, &mut out)
                        .map_err(|error| ReadError::Body(error.to_string()))?;
                    self.buffer.drain(..used);
                    sink.write_all(&out)?;
                    total += out.len() as u64;
                    out.clear();
                    if decoder.is_done() {
                        return Ok(total);
                    }
                    if self.fill()? == 0 {
                        return Err(ReadError::Truncated);
                    }
                }
            }
            Framing::UntilClose => {
                let mut total = 0u64;
                loop {
                    total += self.buffer.len() as u64;
                    if total > max_body {
                        return Err(ReadError::Body("body over the limit".into()));
                    }
                    sink.write_all(&self.buffer)?;
                    self.buffer.clear();
                    if self.fill()? == 0 {
                        return Ok(total);
                    }
                }
            }
        }
    }
    // ANCHOR_END: read_body
}
