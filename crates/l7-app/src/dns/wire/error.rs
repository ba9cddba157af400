//! What can be wrong with a DNS message, each case by name.

use std::fmt;

/// Why a DNS message (or a name for one) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The message ends inside an item: `needed` bytes from `at`, but it is
    /// shorter.
    Truncated {
        /// What was being read (`"header"`, `"question"`, `"rdata"`).
        what: &'static str,
        /// Where it starts.
        at: usize,
        /// How many bytes it needs.
        needed: usize,
    },
    /// A compression pointer that does not point strictly backwards: to
    /// itself or forwards (which could loop), or past the end.
    BadPointer {
        /// Where the pointer is.
        at: usize,
        /// Where it points.
        target: usize,
    },
    /// A label length byte starting with `01` or `10`: label types RFC
    /// 1035 reserves (§4.1.4; RFC 6891 retired the one that used them).
    ReservedLabelType {
        /// Where the byte is.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// A label longer than 63 bytes (only possible when building a name:
    /// on the wire, a length byte above 63 is a pointer or reserved).
    LabelTooLong(usize),
    /// A name longer than 255 bytes in wire form (RFC 1035 §2.3.4).
    NameTooLong,
    /// A label that is empty in the middle of a name (`a..b`).
    EmptyLabel,
    /// Record data that does not have the shape its type requires (an A
    /// record's data is not 4 bytes, a name runs past the data, …).
    BadRData {
        /// The record type.
        rtype: u16,
        /// What is wrong, in words.
        reason: &'static str,
    },
    /// Bytes left over after the last record the counts announce.
    TrailingBytes(usize),
    /// Something too big to encode: a TXT string over 255 bytes, record
    /// data over 65535 bytes, more than 65535 records in a section.
    TooLong(&'static str),
}

/// A DNS result.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, at, needed } => {
                write!(
                    f,
                    "DNS: truncated {what} at byte {at} (needs {needed} bytes)"
                )
            }
            Error::BadPointer { at, target } => write!(
                f,
                "DNS: compression pointer at byte {at} to {target} does not point backwards"
            ),
            Error::ReservedLabelType { at, byte } => {
                write!(f, "DNS: reserved label type 0x{byte:02x} at byte {at}")
            }
            Error::LabelTooLong(len) => write!(f, "DNS: label of {len} bytes (at most 63)"),
            Error::NameTooLong => write!(f, "DNS: name longer than 255 bytes"),
            Error::EmptyLabel => write!(f, "DNS: empty label inside a name"),
            Error::BadRData { rtype, reason } => {
                write!(
                    f,
                    "DNS: bad data for type {}: {reason}",
                    super::RecordType(*rtype)
                )
            }
            Error::TrailingBytes(n) => write!(f, "DNS: {n} bytes after the last record"),
            Error::TooLong(what) => write!(f, "DNS: too long to encode: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(error: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, error)
    }
}
