//! Where a message body ends (RFC 9112 §6.3), and the chunked transfer
//! coding (§7.1) decoded a piece at a time.

use core::fmt;

use super::head::{Headers, RequestHead, ResponseHead};

/// How the body of a message is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (a request without Content-Length or
    /// Transfer-Encoding; a response to HEAD; 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// Chunks, ending with a zero-size chunk (`Transfer-Encoding: chunked`).
    Chunked,
    /// Everything until the server closes (a response with neither field;
    /// the connection cannot be kept).
    UntilClose,
}

/// Why a message's framing cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramingError {
    /// A Content-Length that is not a number, or several that disagree:
    /// 400 (§6.3 rule 5).
    BadContentLength,
    /// Both Transfer-Encoding and Content-Length in a request: a smuggling
    /// attempt, or a broken client; we refuse with 400 (§6.3 rule 3).
    Conflicting,
    /// A transfer coding other than `chunked`, or `chunked` not last: 501
    /// for a request (§6.1), and unreadable in a response.
    UnsupportedCoding,
}

impl FramingError {
    /// The status a server answers with.
    pub fn status(self) -> u16 {
        match self {
            FramingError::UnsupportedCoding => 501,
            _ => 400,
        }
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FramingError::BadContentLength => "bad Content-Length",
            FramingError::Conflicting => "both Transfer-Encoding and Content-Length",
            FramingError::UnsupportedCoding => "unsupported transfer coding",
        })
    }
}

impl std::error::Error for FramingError {}

// ANCHOR: framing
/// The framing of a request's body: chunked, a length, or none (a
/// request never runs until close; §6.3 rule 6).
pub fn request_framing(head: &RequestHead) -> Result<Framing, FramingError> {
    let headers = &head.headers;
    if headers.contains("transfer-encoding") {
        if headers.contains("content-length") {
            return Err(FramingError::Conflicting);
        }
        return chunked_last(headers)
            .then_some(Framing::Chunked)
            .ok_or(FramingError::UnsupportedCoding);
    }
    Ok(match content_length(headers)? {
        Some(0) | None => Framing::Empty,
        Some(len) => Framing::Length(len),
    })
}

/// The framing of a response's body, which also depends on the request
/// it answers (a response to HEAD has none, whatever its fields say).
pub fn response_framing(
    head: &ResponseHead,
    request_method: &str,
) -> Result<Framing, FramingError> {
    let headers = &head.headers;
    if request_method == "HEAD"
        || (100..200).contains(&head.status)
        || head.status == 204
        || head.status == 304
    {
        return Ok(Framing::Empty);
    }
    if headers.contains("transfer-encoding") {
        // Transfer-Encoding wins over Content-Length (§6.3 rule 3); a
        // coding we cannot undo still ends at close (rule 4).
        return Ok(if chunked_last(headers) {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    Ok(match content_length(headers)? {
        Some(len) => Framing::Length(len),
        None => Framing::UntilClose,
    })
}
// ANCHOR_END: framing

/// True if the transfer codings are exactly `chunked` (the only one we
/// decode; gzip or others before it we do not undo).
fn chunked_last(headers: &Headers) -> bool {
    let codings: Vec<&str> = headers
        .get_all("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    codings.len() == 1
        && codings
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case("chunked"))
}

/// The Content-Length, if any: every value (and every comma-separated
/// item) must be the same decimal number (§6.3 rule 5).
fn content_length(headers: &Headers) -> Result<Option<u64>, FramingError> {
    let mut length = None;
    for item in headers.get_all("content-length").flat_map(|v| v.split(',')) {
        let item = item.trim();
        if item.is_empty() || item.len() > 19 || !item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FramingError::BadContentLength);
        }
        let value: u64 = item.parse().map_err(|_| FramingError::BadContentLength)?;
        if length.is_some_and(|known| known != value) {
            return Err(FramingError::BadContentLength);
        }
        length = Some(value);
    }
    // A field present but not UTF-8 is as bad as a wrong one.
    if length.is_none() && headers.contains("content-length") {
        return Err(FramingError::BadContentLength);
    }
    Ok(length)
}

/// What went wrong in a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// Not the chunked syntax (a size that is not hex, no CRLF after the
    /// data, …).
    Malformed(&'static str),
    /// More than the decoder's limit: a chunk size, extension or trailer
    /// section too long, or a body larger than allowed.
    TooLarge,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::Malformed(why) => write!(f, "bad chunked body: {why}"),
            ChunkError::TooLarge => f.write_str("chunked body over the limit"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// Where the decoder is in `chunk-size [ext] CRLF data CRLF … 0 CRLF
/// trailers CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size,
    /// After the size: extensions (skipped) until LF.
    Extension,
    /// Inside a chunk's data; this many bytes to go.
    Data(u64),
    /// After the data: CR then LF.
    DataEnd,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer field line (skipped) until LF.
    Trailer,
    /// The last CRLF was read: the body is complete.
    Done,
}

// ANCHOR: chunked
/// Decodes the chunked transfer coding (RFC 9112 §7.1) from bytes as
/// they arrive, in pieces of any size. Chunk extensions and trailer fields
/// are read and skipped (§7.1.1, §7.1.2: a recipient may ignore them).
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    size_digits: usize,
    /// Bytes of extension or trailer in the current line / section.
    skipped: usize,
    /// Bytes of data so far.
    total: u64,
    /// The largest body accepted.
    max_body: u64,
}

/// The longest chunk-extension or trailer section we skip before refusing.
const MAX_SKIPPED: usize = 8 * 1024;

impl ChunkedDecoder {
    /// A decoder accepting bodies up to `max_body` bytes of data.
    pub fn new(max_body: u64) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            size: 0,
            size_digits: 0,
            skipped: 0,
            total: 0,
            max_body,
        }
    }

    /// True when the final chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, appending data to `out`; returns how many
    /// bytes of `input` were used (all of them, unless the body ended
    /// inside it: what follows belongs to the next message).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut used = 0;
        while used < input.len() && self.state != State::Done {
            let rest = input.get(used..).unwrap_or_default();
            if let State::Data(remaining) = self.state {
                // Copy the data in one go, as much as has arrived.
                let take = rest
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                out.extend_from_slice(rest.get(..take).unwrap_or_default());
                used += take;
                let left = remaining - take as u64;
                self.state = if left == 0 {
                    State::DataEnd
                } else {
                    State::Data(left)
                };
                continue;
            }
            let byte = rest.first().copied().unwrap_or_default();
            used += 1;
            self.step(byte)?;
        }
        Ok(used)
    }

    /// One byte outside chunk data.
    fn step(&mut self, byte: u8) -> Result<(), ChunkError> {
        match self.state {
            State::Size => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    let digit = u64::from((byte as char).to_digit(16).unwrap_or_default());
                    self.size_digits += 1;
                    // 16 hex digits fill a u64; a 17th would overflow.
                    if self.size_digits > 16 {
                        return Err(ChunkError::TooLarge);
                    }
                    self.size = self.size << 4 | digit;
                }
                _ if self.size_digits == 0 => {
                    return Err(ChunkError::Malformed("chunk size is not hex"));
                }
                b';' | b' ' | b'\t' | b'\r' => {
                    self.skipped = 0;
                    self.state = State::Extension;
                }
                b'\n' => self.end_size_line()?,
                _ => return Err(ChunkError::Malformed("bad character after chunk size")),
            },
            State::Extension => {
                if byte == b'\n' {
                    self.end_size_line()?;
                } else {
                    self.skipped += 1;
                    if self.skipped > MAX_SKIPPED {
                        return Err(ChunkError::TooLarge);
                    }
                }
            }
            State::DataEnd => match byte {
                b'\r' => {}
                b'\n' => self.start_size(),
                _ => return Err(ChunkError::Malformed("no CRLF after chunk data")),
            },
            State::TrailerStart => match byte {
                b'\r' => {}
                b'\n' => self.state = State::Done,
                _ => self.trailer_byte(State::Trailer)?,
            },
            State::Trailer => {
                if byte == b'\n' {
                    self.state = State::TrailerStart;
                } else {
                    self.trailer_byte(State::Trailer)?;
                }
            }
            State::Data(_) | State::Done => {}
        }
        Ok(())
    }

    fn trailer_byte(&mut self, next: State) -> Result<(), ChunkError> {
        self.skipped += 1;
        if self.skipped > MAX_SKIPPED {
            return Err(ChunkError::TooLarge);
        }
        self.state = next;
        Ok(())
    }

    /// The size line is over: data follows, or the last chunk's trailers.
    fn end_size_line(&mut self) -> Result<(), ChunkError> {
        if self.size == 0 {
            self.skipped = 0;
            self.state = State::TrailerStart;
            return Ok(());
        }
        self.total = self
            .total
            .checked_add(self.size)
            .ok_or(ChunkError::TooLarge)?;
        if self.total > self.max_body {
            return Err(ChunkError::TooLarge);
        }
        self.state = State::Data(self.size);
        Ok(())
    }

    fn start_size(&mut self) {
        self.size = 0;
        self.size_digits = 0;
        self.state = State::Size;
    }
}
// ANCHOR_END: chunked

/// Encodes `data` as one chunk (none if empty), for a sender.
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if !data.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
}

/// The last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{Limits, parse_response};

    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut decoder = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let used = decoder.decode(input, &mut out)?;
        Ok((out, used, decoder.is_done()))
    }

    #[test]
    fn chunks_extensions_and_trailers() {
        let body = b"4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let (out, used, done) = decode_all(body).unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
        assert_eq!(&body[used..], b"NEXT", "the next message is left alone");
    }

    #[test]
    fn one_byte_at_a_time_gives_the_same() {
        let body = b"a\r\n0123456789\r\n1\r\nX\r\n0\r\n\r\n";
        let mut decoder = ChunkedDecoder::new(100);
        let mut out = Vec::new();
        for byte in body {
            assert_eq!(decoder.decode(&[*byte], &mut out), Ok(1));
        }
        assert!(decoder.is_done());
        assert_eq!(out, b"0123456789X");
    }

    #[test]
    fn bad_and_oversize_chunks_are_refused() {
        assert!(matches!(
            decode_all(b"x\r\n"),
            Err(ChunkError::Malformed(_))
        ));
        assert!(matches!(decode_all(b"\r\n"), Err(ChunkError::Malformed(_))));
        assert!(matches!(
            decode_all(b"3\r\nabcX"),
            Err(ChunkError::Malformed(_))
        ));
        assert_eq!(
            decode_all(b"10000000000000000\r\n"),
            Err(ChunkError::TooLarge)
        );
        assert_eq!(
            decode_all(b"100001\r\n"),
            Err(ChunkError::TooLarge),
            "over the 1 MiB limit"
        );
        let long_ext = [b"1;".as_slice(), &[b'e'; MAX_SKIPPED + 1]].concat();
        assert_eq!(decode_all(&long_ext), Err(ChunkError::TooLarge));
        let (out, _, done) = decode_all(b"3\r\nabc").unwrap();
        assert_eq!(
            (out.as_slice(), done),
            (b"abc".as_slice(), false),
            "incomplete, not wrong"
        );
    }

    #[test]
    fn framing_follows_rfc_9112_section_6_3() {
        let response = |text: &str| {
            parse_response(text.as_bytes(), &Limits::default())
                .unwrap()
                .unwrap()
                .0
        };
        let chunked =
            response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(response_framing(&chunked, "GET"), Ok(Framing::Chunked));
        assert_eq!(response_framing(&chunked, "HEAD"), Ok(Framing::Empty));
        let length = response("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n");
        assert_eq!(response_framing(&length, "GET"), Ok(Framing::Length(7)));
        let differ = response("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n");
        assert_eq!(
            response_framing(&differ, "GET"),
            Err(FramingError::BadContentLength)
        );
        let none = response("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(response_framing(&none, "GET"), Ok(Framing::UntilClose));
        let no_content = response("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(response_framing(&no_content, "GET"), Ok(Framing::Empty));
    }
}
