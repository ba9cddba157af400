//! Why a capture file could not be read.

use std::fmt;
use std::io;

/// What was wrong with a capture file. The reader returns one of these for
/// any damaged input; it never panics and never allocates more than a sane
/// limit because a header said so.
#[derive(Debug)]
pub enum Error {
    /// Reading the underlying file failed.
    Io(io::Error),
    /// The file does not start with a pcap magic number or a pcapng Section
    /// Header Block: it is not a capture (or is compressed).
    BadMagic {
        /// The first four bytes.
        magic: [u8; 4],
    },
    /// A format version this reader does not know (classic pcap is 2.x,
    /// pcapng 1.x).
    UnsupportedVersion {
        /// `"pcap"` or `"pcapng"`.
        format: &'static str,
        /// The major version found.
        major: u16,
        /// The minor version found.
        minor: u16,
    },
    /// The file ends in the middle of something.
    Truncated {
        /// What was being read, e.g. `"record header"`.
        what: &'static str,
        /// Byte offset in the file where it started.
        offset: u64,
    },
    /// A length field claims more than any real capture needs.
    TooLarge {
        /// Which length.
        what: &'static str,
        /// The value found.
        len: u64,
        /// The most this reader accepts.
        limit: u64,
        /// Byte offset of the block or record.
        offset: u64,
    },
    /// A field holds an impossible value.
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Which rule was broken.
        reason: &'static str,
        /// Byte offset of the block or record.
        offset: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "reading the capture: {err}"),
            Error::BadMagic { magic } => write!(
                f,
                "not a pcap or pcapng file (it starts with {:02x} {:02x} {:02x} {:02x})",
                magic[0], magic[1], magic[2], magic[3]
            ),
            Error::UnsupportedVersion {
                format,
                major,
                minor,
            } => write!(f, "{format} version {major}.{minor} is not supported"),
            Error::Truncated { what, offset } => {
                write!(f, "the file ends inside a {what} (at byte {offset})")
            }
            Error::TooLarge {
                what,
                len,
                limit,
                offset,
            } => write!(
                f,
                "{what} of {len} bytes at byte {offset} is larger than the limit of {limit}"
            ),
            Error::Malformed {
                what,
                reason,
                offset,
            } => write!(f, "malformed {what} at byte {offset}: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

/// For callers that work in `io::Result`: damaged files become
/// `InvalidData`, keeping the message.
impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Io(err) => err,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
