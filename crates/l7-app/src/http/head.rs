//! Message heads (RFC 9112 §2–§5): the request line or status line, then
//! header fields, then an empty line — parsed from bytes, never panicking,
//! within [`Limits`], and written back out.

use core::fmt;
use core::ops::Range;

/// How much of a head we accept before refusing it. A peer decides how
/// many bytes it sends; without limits a server holds whatever it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest request line or status line, CRLF excluded (RFC 9112 §3
    /// recommends supporting at least 8000 octets). Longer: 414.
    pub max_start_line: usize,
    /// The most header fields. More: 431.
    pub max_fields: usize,
    /// The most bytes of the whole head, the empty line included. More: 431.
    pub max_head: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_start_line: 8 * 1024,
            max_fields: 100,
            max_head: 64 * 1024,
        }
    }
}

/// Why a head was refused, each with the status a server answers
/// ([`HeadError::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP/1.x syntax: 400 Bad Request. The text says what was wrong.
    Malformed(&'static str),
    /// The request line is longer than [`Limits::max_start_line`]: 414 URI
    /// Too Long (RFC 9112 §3).
    StartLineTooLong,
    /// More fields than [`Limits::max_fields`], or a head longer than
    /// [`Limits::max_head`]: 431 Request Header Fields Too Large (RFC 6585
    /// §5).
    HeadTooLarge,
    /// A well-formed version we do not speak (HTTP/2.0 in an HTTP/1 request
    /// line, say): 505 HTTP Version Not Supported (RFC 9110 §15.6.6).
    UnsupportedVersion,
}

impl HeadError {
    /// The status code a server answers this error with.
    pub fn status(self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::StartLineTooLong => 414,
            HeadError::HeadTooLarge => 431,
            HeadError::UnsupportedVersion => 505,
        }
    }
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Malformed(why) => write!(f, "malformed head: {why}"),
            HeadError::StartLineTooLong => f.write_str("start line too long"),
            HeadError::HeadTooLarge => f.write_str("head too large"),
            HeadError::UnsupportedVersion => f.write_str("HTTP version not supported"),
        }
    }
}

impl std::error::Error for HeadError {}

/// An HTTP version, `HTTP/1.1` on the wire (RFC 9112 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// The digit before the dot.
    pub major: u8,
    /// The digit after it.
    pub minor: u8,
}

impl Version {
    /// HTTP/1.0 (RFC 1945): one request per connection unless asked.
    pub const HTTP_10: Version = Version { major: 1, minor: 0 };
    /// HTTP/1.1 (RFC 9112): persistent connections by default.
    pub const HTTP_11: Version = Version { major: 1, minor: 1 };

    /// Reads `HTTP/D.D` — exactly that shape, case-sensitive (§2.3).
    fn parse(bytes: &[u8]) -> Result<Version, HeadError> {
        match bytes {
            [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
                if major.is_ascii_digit() && minor.is_ascii_digit() =>
            {
                Ok(Version {
                    major: major - b'0',
                    minor: minor - b'0',
                })
            }
            _ => Err(HeadError::Malformed("bad HTTP-version")),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

// ANCHOR: headers
/// Header fields in the order received, names as sent; lookups ignore
/// case, as field names are case-insensitive (RFC 9110 §5.1). Values are
/// bytes: obs-text (0x80–0xFF) is allowed in them, and need not be UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name, one after the other: a head of a dozen fields costs
    /// one allocation here (and one in `values`), not two per field.
    names: String,
    /// Every value, one after the other.
    values: Vec<u8>,
    /// Where each field's name is in `names` and its value in `values`,
    /// in order.
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// No fields.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a field (a repeated name is a second line, not a merge).
    pub fn push(&mut self, name: &str, value: impl AsRef<[u8]>) {
        let name_start = self.names.len();
        self.names.push_str(name);
        let value_start = self.values.len();
        self.values.extend_from_slice(value.as_ref());
        self.fields
            .push((name_start..self.names.len(), value_start..self.values.len()));
    }

    /// The first value of `name` as text, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .find_map(|(_, v)| core::str::from_utf8(v).ok())
    }

    /// Every value of `name` that is UTF-8, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| core::str::from_utf8(v).ok())
    }

    /// True if `name` is present at all.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// True if the comma-separated list field `name` holds `token`, in any
    /// case (`Connection: keep-alive, Upgrade`; RFC 9110 §5.6.1).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|value| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    }

    /// The fields, in order: name and raw value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(name, value)| {
            // The ranges are those push recorded, so both are always there.
            let name = self.names.get(name.clone()).unwrap_or_default();
            let value = self.values.get(value.clone()).unwrap_or_default();
            (name, value)
        })
    }

    /// No fields, with room for `bytes` bytes of names and as many of
    /// values, and for `fields` fields: what a parser knows before it
    /// starts.
    fn with_capacity(bytes: usize, fields: usize) -> Headers {
        Headers {
            names: String::with_capacity(bytes),
            values: Vec::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
        }
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Writes `name: value\r\n` for each field.
    fn write_to(&self, out: &mut Vec<u8>) {
        for (name, value) in self.iter() {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
}
// ANCHOR_END: headers

/// A request's head: `GET /index.html HTTP/1.1` and its fields (RFC 9112
/// §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, case-sensitive (`GET`, `HEAD`, …; RFC 9110 §9).
    pub method: String,
    /// The request-target as sent (`/`, `/a?b`, `http://host/`, `*`).
    pub target: String,
    /// The version from the request line.
    pub version: Version,
    /// The header fields.
    pub headers: Headers,
}

/// A response's head: `HTTP/1.1 200 OK` and its fields (RFC 9112 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The version from the status line.
    pub version: Version,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase, for people only (may be empty).
    pub reason: String,
    /// The header fields.
    pub headers: Headers,
}

impl RequestHead {
    /// A request with no fields yet.
    pub fn new(method: &str, target: &str) -> RequestHead {
        RequestHead {
            method: method.to_string(),
            target: target.to_string(),
            version: Version::HTTP_11,
            headers: Headers::new(),
        }
    }

    /// The head as bytes: request line, fields, empty line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.method, self.target, self.version).into_bytes();
        self.headers.write_to(&mut out);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Whether the client wants the connection kept open after this
    /// exchange (RFC 9112 §9.3): HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

impl ResponseHead {
    /// A response with no fields yet, its reason phrase the standard one.
    pub fn new(status: u16) -> ResponseHead {
        ResponseHead {
            version: Version::HTTP_11,
            status,
            reason: reason_phrase(status).to_string(),
            headers: Headers::new(),
        }
    }

    /// The head as bytes: status line, fields, empty line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            format!("{} {:03} {}\r\n", self.version, self.status, self.reason).into_bytes();
        self.headers.write_to(&mut out);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Whether the server keeps the connection open (RFC 9112 §9.3).
    pub fn keeps_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

fn keep_alive(version: Version, headers: &Headers) -> bool {
    if headers.has_token("connection", "close") {
        false
    } else if version >= Version::HTTP_11 {
        true
    } else {
        headers.has_token("connection", "keep-alive")
    }
}

/// The reason phrase RFC 9110 §15 gives a status code (`""` if unknown).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

// ANCHOR: find_head
/// Where the head in `buf` ends: the length up to and including the empty
/// line, or `None` if it has not all arrived. A line ends with LF, CRLF
/// being the norm (RFC 9112 §2.2 lets a recipient accept a bare LF).
/// Empty lines before the start line are skipped (§2.2), and counted.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    // Leading CRLFs (a client's leftover from a previous body).
    while let Some(rest) = buf.get(start..) {
        match rest {
            [b'\r', b'\n', ..] => start += 2,
            [b'\n', ..] => start += 1,
            _ => break,
        }
    }
    let mut line_start = start;
    while let Some(offset) = find_byte(b'\n', buf.get(line_start..)?) {
        let line_end = line_start + offset; // where the LF is
        let line = buf.get(line_start..line_end).unwrap_or_default();
        if (line.is_empty() || line == b"\r") && line_start > start {
            return Some(line_end + 1);
        }
        line_start = line_end + 1;
    }
    None
}
// ANCHOR_END: find_head

// ANCHOR: find_byte
/// Where the first `needle` is in `haystack`, eight bytes at a time.
///
/// A head is searched for line ends and colons again and again, and a
/// plain `position` looks at one byte per step. This reads eight bytes as
/// one `u64` and asks "is any byte of it `needle`?" with three integer
/// operations (the "has a zero byte" trick that C's `memchr` uses):
///
/// 1. `word ^ pattern`, where `pattern` is `needle` in all eight bytes,
///    turns every matching byte into zero and no other;
/// 2. `(x - 0x0101…01) & !x & 0x8080…80` sets the top bit of a byte when
///    that byte was zero: subtracting 1 from a zero byte borrows and sets
///    its top bit, and `!x` keeps only bytes whose top bit was clear to
///    begin with. A borrow can only mark bytes *above* a real zero, so
///    the lowest marked byte is always a real match.
///
/// The words are read little-endian, so byte 0 is the lowest: the number
/// of trailing zero bits, divided by 8, is the first match's place.
fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOP_BITS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut words = haystack.chunks_exact(8);
    let mut word_start = 0;
    for word in &mut words {
        let word: [u8; 8] = word.try_into().unwrap_or_default();
        let x = u64::from_le_bytes(word) ^ pattern;
        let zero_bytes = x.wrapping_sub(ONES) & !x & TOP_BITS;
        if zero_bytes != 0 {
            return Some(word_start + zero_bytes.trailing_zeros() as usize / 8);
        }
        word_start += 8;
    }
    let tail = words.remainder().iter().position(|&byte| byte == needle)?;
    Some(word_start + tail)
}
// ANCHOR_END: find_byte

/// The lines of a complete head (start line first, the empty line
/// dropped), without their CR LF.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = head;
    // Like `head.split(|&b| b == b'\n')`, with the faster search; the
    // piece after the last LF (empty in a complete head) is not needed.
    core::iter::from_fn(move || {
        let (line, after) = rest.split_at(find_byte(b'\n', rest)?);
        rest = after.get(1..).unwrap_or_default();
        Some(line)
    })
    .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
    .skip_while(|line| line.is_empty())
    .take_while(|line| !line.is_empty())
}

/// Checks the size limits on a head that may not be complete yet, so a
/// peer cannot make us buffer without end: `None` if it may go on.
fn check_incomplete(buf: &[u8], limits: &Limits, is_request: bool) -> Result<(), HeadError> {
    let trimmed = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .map_or(&[][..], |p| &buf[p..]);
    let first_line_len = trimmed
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(trimmed.len());
    if first_line_len > limits.max_start_line + 1 {
        return Err(if is_request {
            HeadError::StartLineTooLong
        } else {
            HeadError::Malformed("status line too long")
        });
    }
    if buf.len() > limits.max_head {
        return Err(HeadError::HeadTooLarge);
    }
    Ok(())
}

// ANCHOR: parse_request
/// Parses a request head at the start of `buf`: `Ok(Some((head, len)))`
/// when it is complete (`len` bytes, the body follows), `Ok(None)` when
/// more bytes are needed, an error when it can never be valid.
pub fn parse_request(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let Some(len) = head_end(buf) else {
        check_incomplete(buf, limits, true)?;
        return Ok(None);
    };
    if len > limits.max_head {
        return Err(HeadError::HeadTooLarge);
    }
    let head = buf.get(..len).unwrap_or_default();
    let mut lines = lines(head);
    let start = lines.next().unwrap_or_default();
    if start.len() > limits.max_start_line {
        return Err(HeadError::StartLineTooLong);
    }
    // method SP request-target SP HTTP-version (§3): exactly single spaces.
    let mut parts = start.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not 'method target version'",
        ));
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(HeadError::Malformed("bad request-target"));
    }
    let version = Version::parse(version)?;
    if version.major != 1 {
        return Err(HeadError::UnsupportedVersion);
    }
    let headers = parse_fields(lines, head.len(), limits)?;
    // A Host field is required in HTTP/1.1 requests, exactly one (§3.2).
    if version >= Version::HTTP_11
        && headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
            .count()
            != 1
    {
        return Err(HeadError::Malformed(
            "HTTP/1.1 request without exactly one Host",
        ));
    }
    Ok(Some((
        RequestHead {
            // Both were checked to be ASCII above.
            method: String::from_utf8_lossy(method).into_owned(),
            target: String::from_utf8_lossy(target).into_owned(),
            version,
            headers,
        },
        len,
    )))
}
// ANCHOR_END: parse_request

/// Parses a response head at the start of `buf`, like [`parse_request`].
pub fn parse_response(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let Some(len) = head_end(buf) else {
        check_incomplete(buf, limits, false)?;
        return Ok(None);
    };
    if len > limits.max_head {
        return Err(HeadError::HeadTooLarge);
    }
    let head = buf.get(..len).unwrap_or_default();
    let mut lines = lines(head);
    let start = lines.next().unwrap_or_default();
    if start.len() > limits.max_start_line {
        return Err(HeadError::Malformed("status line too long"));
    }
    // HTTP-version SP status-code SP [ reason-phrase ] (§4); a missing
    // last SP is tolerated, as §4 suggests.
    let version = Version::parse(start.get(..8).unwrap_or(start))?;
    let rest = start.get(8..).unwrap_or_default();
    let (code, reason) = match rest {
        [b' ', a, b, c, tail @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            let reason = match tail {
                [] => &[][..],
                [b' ', reason @ ..] => reason,
                _ => return Err(HeadError::Malformed("bad status code")),
            };
            (code, reason)
        }
        _ => return Err(HeadError::Malformed("bad status code")),
    };
    if reason.iter().any(|&b| is_ctl(b) && b != b'\t') {
        return Err(HeadError::Malformed("control character in reason phrase"));
    }
    let headers = parse_fields(lines, head.len(), limits)?;
    Ok(Some((
        ResponseHead {
            version,
            status: code,
            reason: String::from_utf8_lossy(reason).into_owned(),
            headers,
        },
        len,
    )))
}

// ANCHOR: parse_fields
/// `field-name ":" OWS field-value OWS` per line (RFC 9112 §5). The
/// lines come from a head of `head_len` bytes: room enough for every
/// name and value.
fn parse_fields<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
    head_len: usize,
    limits: &Limits,
) -> Result<Headers, HeadError> {
    // Browsers send about a dozen fields; more only costs a reallocation.
    let mut headers = Headers::with_capacity(head_len, 16);
    for line in lines {
        if headers.len() >= limits.max_fields {
            return Err(HeadError::HeadTooLarge);
        }
        // obs-fold: a line starting with whitespace continues the last
        // one. §5.2 lets us reject it; we do (no guessing, no smuggling).
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err(HeadError::Malformed("obsolete line folding"));
        }
        let Some(colon) = find_byte(b':', line) else {
            return Err(HeadError::Malformed("field without a colon"));
        };
        let (name, value) = (
            line.get(..colon).unwrap_or_default(),
            line.get(colon + 1..).unwrap_or_default(),
        );
        // No whitespace before the colon (§5.1: MUST reject with 400).
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(HeadError::Malformed("bad field name"));
        }
        let value = trim_ows(value);
        // `|` over every byte rather than `any`, which stops at the first
        // hit: without the early exit the compiler is free to check many
        // bytes per step. (A bad value is rare; finding it late is fine.)
        let has_control = value
            .iter()
            .fold(false, |found, &b| found | (is_ctl(b) & (b != b'\t')));
        if has_control {
            return Err(HeadError::Malformed("control character in field value"));
        }
        // Token characters are ASCII, so this is always text.
        let Ok(name) = core::str::from_utf8(name) else {
            return Err(HeadError::Malformed("bad field name"));
        };
        headers.push(name, value);
    }
    Ok(headers)
}
// ANCHOR_END: parse_fields

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// A token character (RFC 9110 §5.6.2): what names and methods are made of.
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// The answer of [`is_tchar`] for each of the 256 byte values, worked out
/// once, at compile time: every byte of every field name is checked, and
/// one table lookup is cheaper than searching the list of symbols.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let symbols = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < symbols.len() {
        table[symbols[i] as usize] = true;
        i += 1;
    }
    table
};

/// A control character (US-ASCII CTL: 0x00–0x1F and DEL).
fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(bytes: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
        parse_request(bytes, &Limits::default())
    }

    #[test]
    fn tchar_table_is_rfc_9110s_list() {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" /
        // "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        let spelled_out: Vec<u8> = (b'0'..=b'9')
            .chain(b'a'..=b'z')
            .chain(b'A'..=b'Z')
            .chain(*b"!#$%&'*+-.^_`|~")
            .collect();
        for byte in 0..=255u8 {
            assert_eq!(
                is_tchar(byte),
                spelled_out.contains(&byte),
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn find_byte_agrees_with_position_at_every_place() {
        // Lengths around the 8-byte words, the needle at every place (or
        // nowhere), a second needle after the first, and fillers that
        // could fool the word trick: zero, the needle's neighbours, bytes
        // with the top bit set.
        for filler in [b'a', 0x00, 0x09, 0x0b, 0x80, 0x8a, 0xff] {
            for len in 0..40 {
                for at in 0..=len {
                    let mut bytes = vec![filler; len];
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte = b'\n';
                    }
                    if let Some(byte) = bytes.get_mut(at + 3) {
                        *byte = b'\n';
                    }
                    let expected = bytes.iter().position(|&b| b == b'\n');
                    assert_eq!(
                        find_byte(b'\n', &bytes),
                        expected,
                        "filler {filler:#04x} len {len} at {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_get_with_fields_in_any_case() {
        let bytes = b"GET /a?b HTTP/1.1\r\nHost: lab.test\r\nconnection:  Keep-Alive \r\n\r\nBODY";
        let (head, len) = request(bytes).unwrap().unwrap();
        assert_eq!(len, bytes.len() - 4);
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("GET", "/a?b")
        );
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.headers.get("HOST"), Some("lab.test"));
        assert_eq!(head.headers.get("Connection"), Some("Keep-Alive"));
        assert!(head.wants_keep_alive());
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        let bytes = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..bytes.len() {
            assert_eq!(request(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn bare_lf_and_leading_empty_lines_are_accepted() {
        let (head, len) = request(b"\r\nGET / HTTP/1.0\n\n").unwrap().unwrap();
        assert_eq!(len, 18);
        assert_eq!(head.version, Version::HTTP_10);
        assert!(!head.wants_keep_alive());
    }

    #[test]
    fn errors_map_to_their_status() {
        let cases: [(&[u8], u16); 9] = [
            (b"GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400),
            (b"G\xc3\xa9T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ];
        for (bytes, status) in cases {
            let error = request(bytes).expect_err(&String::from_utf8_lossy(bytes));
            assert_eq!(
                error.status(),
                status,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn limits_are_enforced_before_the_head_is_complete() {
        let limits = Limits {
            max_start_line: 20,
            max_fields: 2,
            max_head: 100,
        };
        let long_target = format!("GET /{} HTTP/1.1", "a".repeat(30));
        assert_eq!(
            parse_request(long_target.as_bytes(), &limits),
            Err(HeadError::StartLineTooLong)
        );
        let many = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(parse_request(many, &limits), Err(HeadError::HeadTooLarge));
        let endless = [b"GET / HTTP/1.1\r\n".as_slice(), &[b'X'; 200]].concat();
        assert_eq!(
            parse_request(&endless, &limits),
            Err(HeadError::HeadTooLarge)
        );
    }

    #[test]
    fn a_status_line_with_and_without_reason() {
        let (head, _) = parse_response(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!((head.status, head.reason.as_str()), (404, "Not Found"));
        let (head, _) = parse_response(b"HTTP/1.0 200\r\n\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.version),
            (200, "", Version::HTTP_10)
        );
        assert!(parse_response(b"HTTP/1.1 20 OK\r\n\r\n", &Limits::default()).is_err());
    }

    #[test]
    fn heads_round_trip() {
        let mut head = RequestHead::new("HEAD", "/x.txt");
        head.headers.push("Host", "www.lab.test");
        head.headers.push("X-Obs", b"caf\xe9");
        let bytes = head.to_bytes();
        assert_eq!(request(&bytes), Ok(Some((head, bytes.len()))));
        let mut response = ResponseHead::new(431);
        response.headers.push("Content-Length", "0");
        let bytes = response.to_bytes();
        assert_eq!(
            parse_response(&bytes, &Limits::default()),
            Ok(Some((response, bytes.len())))
        );
    }
}
