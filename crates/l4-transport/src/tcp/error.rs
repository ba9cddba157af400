//! Why a connection ended badly, in the words the user sees (RFC 9293
//! §3.10 names each "error: connection …" signal).

use std::fmt;
use std::io;

/// How a connection failed. A connection that ended with both FINs
/// exchanged has no error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionError {
    /// The peer answered our SYN with a RST: nobody listens there (RFC 9293
    /// §3.10.7.3, §3.10.7.4 for SYN-RECEIVED after an active open).
    Refused,
    /// The peer reset an established connection (RFC 9293 §3.10.7.4,
    /// "second, check the RST bit").
    Reset,
    /// A segment was retransmitted `max_retries` times without an
    /// acknowledgment (RFC 9293 §3.8.3, threshold R2).
    TimedOut,
    /// We aborted the connection ourselves (RFC 9293 §3.10.5, ABORT).
    Aborted,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionError::Refused => "connection refused",
            ConnectionError::Reset => "connection reset by peer",
            ConnectionError::TimedOut => "connection timed out",
            ConnectionError::Aborted => "connection aborted",
        })
    }
}

impl std::error::Error for ConnectionError {}

impl From<ConnectionError> for io::Error {
    /// The matching [`io::ErrorKind`], so a socket API built on top reads
    /// like std's.
    fn from(error: ConnectionError) -> io::Error {
        let kind = match error {
            ConnectionError::Refused => io::ErrorKind::ConnectionRefused,
            ConnectionError::Reset => io::ErrorKind::ConnectionReset,
            ConnectionError::TimedOut => io::ErrorKind::TimedOut,
            ConnectionError::Aborted => io::ErrorKind::ConnectionAborted,
        };
        io::Error::new(kind, error)
    }
}
