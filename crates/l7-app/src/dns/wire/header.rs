//! The 12-byte header every DNS message starts with (RFC 1035 §4.1.1, with
//! the AD and CD bits of RFC 4035 §3.2).
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```

use std::fmt;

use super::error::{Error, Result};

/// Byte positions of the header fields.
pub mod field {
    use core::ops::Range;

    /// ID: chosen by the asker, copied into the answer.
    pub const ID: Range<usize> = 0..2;
    /// QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    pub const FLAGS: Range<usize> = 2..4;
    /// Number of questions.
    pub const QDCOUNT: Range<usize> = 4..6;
    /// Number of answer records.
    pub const ANCOUNT: Range<usize> = 6..8;
    /// Number of authority records.
    pub const NSCOUNT: Range<usize> = 8..10;
    /// Number of additional records.
    pub const ARCOUNT: Range<usize> = 10..12;
}

/// Length of the header.
pub const HEADER_LEN: usize = 12;

/// The kind of query (4 bits): only QUERY (0) is in everyday use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    /// A standard query.
    pub const QUERY: Opcode = Opcode(0);
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("QUERY"),
            1 => f.write_str("IQUERY"),
            2 => f.write_str("STATUS"),
            4 => f.write_str("NOTIFY"),
            5 => f.write_str("UPDATE"),
            n => write!(f, "RESERVED{n}"),
        }
    }
}

/// The response code (4 bits): how the question went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u8);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// The server could not understand the query.
    pub const FORMERR: Rcode = Rcode(1);
    /// The server failed.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// The name does not exist (authoritative).
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// The server does not do this kind of query.
    pub const NOTIMP: Rcode = Rcode(4);
    /// The server will not answer (policy).
    pub const REFUSED: Rcode = Rcode(5);
}

impl fmt::Display for Rcode {
    /// The names dig prints after `status:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("NOERROR"),
            1 => f.write_str("FORMERR"),
            2 => f.write_str("SERVFAIL"),
            3 => f.write_str("NXDOMAIN"),
            4 => f.write_str("NOTIMP"),
            5 => f.write_str("REFUSED"),
            n => write!(f, "RCODE{n}"),
        }
    }
}

/// The header without its counts: those follow from the sections, and
/// [`super::Message`] writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Matches an answer to its query.
    pub id: u16,
    /// QR: this is a response (not a query).
    pub response: bool,
    /// The kind of query.
    pub opcode: Opcode,
    /// AA: the answer comes from a server that owns the zone.
    pub authoritative: bool,
    /// TC: the message was cut to fit (512 bytes over UDP without EDNS);
    /// ask again over TCP.
    pub truncated: bool,
    /// RD: the asker wants the server to chase the answer for it.
    pub recursion_desired: bool,
    /// RA: the server would do that.
    pub recursion_available: bool,
    /// Z: reserved, must be zero; kept so a message round-trips.
    pub z: bool,
    /// AD: the data was authenticated with DNSSEC (RFC 4035).
    pub authentic_data: bool,
    /// CD: do not check DNSSEC signatures (RFC 4035).
    pub checking_disabled: bool,
    /// How it went.
    pub rcode: Rcode,
}

impl Header {
    /// A query header: `id`, opcode QUERY, RD set, everything else clear.
    pub fn query(id: u16) -> Header {
        Header {
            id,
            response: false,
            opcode: Opcode::QUERY,
            authoritative: false,
            truncated: false,
            recursion_desired: true,
            recursion_available: false,
            z: false,
            authentic_data: false,
            checking_disabled: false,
            rcode: Rcode::NOERROR,
        }
    }

    // ANCHOR: header_flags
    /// The 16-bit flags word.
    pub fn flags(&self) -> u16 {
        let bit = |set: bool, shift: u16| u16::from(set) << shift;
        bit(self.response, 15)
            | u16::from(self.opcode.0 & 0x0f) << 11
            | bit(self.authoritative, 10)
            | bit(self.truncated, 9)
            | bit(self.recursion_desired, 8)
            | bit(self.recursion_available, 7)
            | bit(self.z, 6)
            | bit(self.authentic_data, 5)
            | bit(self.checking_disabled, 4)
            | u16::from(self.rcode.0 & 0x0f)
    }

    /// The header with `id` and the fields of the flags word `flags`.
    pub fn from_flags(id: u16, flags: u16) -> Header {
        let bit = |shift: u16| flags >> shift & 1 == 1;
        Header {
            id,
            response: bit(15),
            opcode: Opcode((flags >> 11 & 0x0f) as u8),
            authoritative: bit(10),
            truncated: bit(9),
            recursion_desired: bit(8),
            recursion_available: bit(7),
            z: bit(6),
            authentic_data: bit(5),
            checking_disabled: bit(4),
            rcode: Rcode((flags & 0x0f) as u8),
        }
    }
    // ANCHOR_END: header_flags

    /// The flags that are set, as dig lists them: `qr aa rd`.
    pub fn flag_names(&self) -> String {
        [
            (self.response, "qr"),
            (self.authoritative, "aa"),
            (self.truncated, "tc"),
            (self.recursion_desired, "rd"),
            (self.recursion_available, "ra"),
            (self.authentic_data, "ad"),
            (self.checking_disabled, "cd"),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// Reads the header and its four counts from the start of `message`.
pub(crate) fn decode_header(message: &[u8]) -> Result<(Header, [u16; 4])> {
    let bytes: &[u8; HEADER_LEN] = message
        .get(..HEADER_LEN)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(Error::Truncated {
            what: "header",
            at: 0,
            needed: HEADER_LEN,
        })?;
    let word = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
    let header = Header::from_flags(word(0), word(2));
    Ok((header, [word(4), word(6), word(8), word(10)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_has_its_own_bit() {
        // Each flag alone, against the bit RFC 1035 / RFC 4035 draw.
        type SetFlag = fn(&mut Header);
        let cases: [(SetFlag, u16); 9] = [
            (|h| h.response = true, 0x8000),
            (|h| h.opcode = Opcode(0x0f), 0x7800),
            (|h| h.authoritative = true, 0x0400),
            (|h| h.truncated = true, 0x0200),
            (|h| h.recursion_available = true, 0x0080),
            (|h| h.z = true, 0x0040),
            (|h| h.authentic_data = true, 0x0020),
            (|h| h.checking_disabled = true, 0x0010),
            (|h| h.rcode = Rcode(0x0f), 0x000f),
        ];
        for (set, bits) in cases {
            let mut header = Header::query(7);
            header.recursion_desired = false;
            set(&mut header);
            assert_eq!(header.flags(), bits);
            assert_eq!(Header::from_flags(7, bits), header);
        }
        assert_eq!(Header::query(1).flags(), 0x0100);
    }

    #[test]
    fn a_short_header_is_an_error() {
        assert!(matches!(
            decode_header(&[0; 11]),
            Err(Error::Truncated { what: "header", .. })
        ));
    }
}
