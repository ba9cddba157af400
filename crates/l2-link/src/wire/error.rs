//! The one error type every layer 2 decoder returns.

use std::fmt;

/// Why some bytes are not a valid header. Decoders return this on any input;
/// they never panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the header (or than a length field claims).
    Truncated {
        /// What was being decoded, e.g. `"Ethernet"`.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// A field holds a value this decoder does not accept.
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Which rule was broken, in words.
        reason: &'static str,
    },
    /// The header is well formed but describes something we do not
    /// implement (e.g. ARP for a hardware type other than Ethernet).
    Unsupported {
        /// What was being decoded.
        what: &'static str,
        /// What was found.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, needed, got } => {
                write!(f, "{what}: truncated ({got} bytes, need {needed})")
            }
            Error::Malformed { what, reason } => write!(f, "{what}: malformed: {reason}"),
            Error::Unsupported { what, reason } => write!(f, "{what}: unsupported: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a layer 2 decoder.
pub type Result<T> = core::result::Result<T, Error>;
