//! Resource records (RFC 1035 §3.2, §4.1.3) and the data of the types we
//! know: A, NS, CNAME, SOA, PTR, MX, TXT (RFC 1035 §3.3–3.4) and AAAA (RFC
//! 3596). Other types keep their data as bytes, so they survive a round
//! trip (RFC 3597).
//!
//! ```text
//! NAME      the owner, a (compressible) name
//! TYPE      2 bytes: what the data is
//! CLASS     2 bytes: IN (1) for the internet
//! TTL       4 bytes: seconds it may be cached
//! RDLENGTH  2 bytes: the length of RDATA
//! RDATA     RDLENGTH bytes, shaped by TYPE
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::{Error, Result};
use super::name::{Name, NameEncoder, decode_name};

/// A record type (the TYPE field, and a question's QTYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u16);

impl RecordType {
    /// An IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// An authoritative name server for the zone.
    pub const NS: RecordType = RecordType(2);
    /// The canonical name this name is an alias of.
    pub const CNAME: RecordType = RecordType(5);
    /// The start of a zone of authority.
    pub const SOA: RecordType = RecordType(6);
    /// A name this name points to (reverse lookups).
    pub const PTR: RecordType = RecordType(12);
    /// A mail exchanger.
    pub const MX: RecordType = RecordType(15);
    /// Text strings.
    pub const TXT: RecordType = RecordType(16);
    /// An IPv6 address (RFC 3596).
    pub const AAAA: RecordType = RecordType(28);
    /// EDNS's pseudo-record in the additional section (RFC 6891).
    pub const OPT: RecordType = RecordType(41);

    /// Known mnemonics and their numbers.
    const NAMES: [(&'static str, RecordType); 9] = [
        ("A", RecordType::A),
        ("NS", RecordType::NS),
        ("CNAME", RecordType::CNAME),
        ("SOA", RecordType::SOA),
        ("PTR", RecordType::PTR),
        ("MX", RecordType::MX),
        ("TXT", RecordType::TXT),
        ("AAAA", RecordType::AAAA),
        ("OPT", RecordType::OPT),
    ];
}

impl fmt::Display for RecordType {
    /// The mnemonic, or `TYPE123` for the others (RFC 3597 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match RecordType::NAMES.iter().find(|(_, rtype)| rtype == self) {
            Some((name, _)) => f.write_str(name),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

impl FromStr for RecordType {
    type Err = String;

    /// `A`, `mx`, `TYPE65`, in any case.
    fn from_str(text: &str) -> core::result::Result<RecordType, String> {
        let upper = text.to_ascii_uppercase();
        if let Some((_, rtype)) = RecordType::NAMES.iter().find(|(name, _)| *name == upper) {
            return Ok(*rtype);
        }
        upper
            .strip_prefix("TYPE")
            .and_then(|number| number.parse().ok())
            .map(RecordType)
            .ok_or_else(|| format!("unknown record type {text:?}"))
    }
}

/// A record class. Only IN matters today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(pub u16);

impl Class {
    /// The internet.
    pub const IN: Class = Class(1);
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("IN"),
            3 => f.write_str("CH"),
            n => write!(f, "CLASS{n}"),
        }
    }
}

/// The data of a start-of-authority record (RFC 1035 §3.3.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Soa {
    /// The zone's primary server.
    pub mname: Name,
    /// Its administrator's mailbox, `hostmaster.lab.test` for
    /// hostmaster@lab.test.
    pub rname: Name,
    /// The zone's version.
    pub serial: u32,
    /// Seconds between a secondary's checks.
    pub refresh: u32,
    /// Seconds before a failed check is retried.
    pub retry: u32,
    /// Seconds a secondary keeps serving without a check.
    pub expire: u32,
    /// Seconds to cache a "no such name" (RFC 2308).
    pub minimum: u32,
}

/// What a record says, by type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name of an alias.
    Cname(Name),
    /// A name server.
    Ns(Name),
    /// A pointer to a name.
    Ptr(Name),
    /// A mail exchanger and its preference (lower is preferred).
    Mx {
        /// Lower is tried first.
        preference: u16,
        /// The mail server.
        exchange: Name,
    },
    /// One or more strings of up to 255 bytes each.
    Txt(Vec<Vec<u8>>),
    /// A zone's start of authority.
    Soa(Soa),
    /// Any other type: the bytes as they were (names inside them are not
    /// followed, as RFC 3597 requires for unknown types).
    Unknown {
        /// The type.
        rtype: RecordType,
        /// RDATA.
        data: Vec<u8>,
    },
}

impl RData {
    /// The record type this data belongs to.
    pub fn rtype(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::AAAA,
            RData::Cname(_) => RecordType::CNAME,
            RData::Ns(_) => RecordType::NS,
            RData::Ptr(_) => RecordType::PTR,
            RData::Mx { .. } => RecordType::MX,
            RData::Txt(_) => RecordType::TXT,
            RData::Soa(_) => RecordType::SOA,
            RData::Unknown { rtype, .. } => *rtype,
        }
    }

    /// Reads RDATA of type `rtype` at `message[start..end]`. Names inside
    /// may point anywhere before them in `message`, but must end by `end`.
    fn decode(message: &[u8], rtype: RecordType, start: usize, end: usize) -> Result<RData> {
        let bad = |reason| Error::BadRData {
            rtype: rtype.0,
            reason,
        };
        // `end` was checked against the message by the caller.
        let data = message.get(start..end).ok_or(bad("past the end"))?;
        // A name that must fill the data from `at` exactly to `end`.
        let name_to_end = |at: usize| -> Result<Name> {
            let (name, after) = decode_name(message, at)?;
            if after != end {
                return Err(bad("the name does not end where the data does"));
            }
            Ok(name)
        };
        Ok(match rtype {
            RecordType::A => RData::A(Ipv4Addr::from(
                <[u8; 4]>::try_from(data).map_err(|_| bad("not 4 bytes"))?,
            )),
            RecordType::AAAA => RData::Aaaa(Ipv6Addr::from(
                <[u8; 16]>::try_from(data).map_err(|_| bad("not 16 bytes"))?,
            )),
            RecordType::CNAME => RData::Cname(name_to_end(start)?),
            RecordType::NS => RData::Ns(name_to_end(start)?),
            RecordType::PTR => RData::Ptr(name_to_end(start)?),
            RecordType::MX => {
                let preference = data.get(..2).ok_or(bad("shorter than 2 bytes"))?;
                RData::Mx {
                    preference: u16::from_be_bytes([preference[0], preference[1]]),
                    exchange: name_to_end(start + 2)?,
                }
            }
            RecordType::TXT => {
                RData::Txt(decode_strings(data).ok_or(bad("a string runs past the data"))?)
            }
            RecordType::SOA => {
                let (mname, after_mname) = decode_name(message, start)?;
                let (rname, after_rname) = decode_name(message, after_mname)?;
                let numbers = message
                    .get(after_rname..end)
                    .filter(|numbers| numbers.len() == 20)
                    .ok_or(bad("not two names and five numbers"))?;
                let number = |i: usize| {
                    u32::from_be_bytes([
                        numbers[4 * i],
                        numbers[4 * i + 1],
                        numbers[4 * i + 2],
                        numbers[4 * i + 3],
                    ])
                };
                RData::Soa(Soa {
                    mname,
                    rname,
                    serial: number(0),
                    refresh: number(1),
                    retry: number(2),
                    expire: number(3),
                    minimum: number(4),
                })
            }
            _ => RData::Unknown {
                rtype,
                data: data.to_vec(),
            },
        })
    }

    /// Appends the RDATA (without its length) to `message`. Names in NS,
    /// CNAME, PTR, MX and SOA may be compressed (RFC 3597 §4 allows it for
    /// exactly the types of RFC 1035).
    fn encode(&self, message: &mut Vec<u8>, names: &mut NameEncoder) -> Result<()> {
        match self {
            RData::A(addr) => message.extend_from_slice(&addr.octets()),
            RData::Aaaa(addr) => message.extend_from_slice(&addr.octets()),
            RData::Cname(name) | RData::Ns(name) | RData::Ptr(name) => names.write(message, name),
            RData::Mx {
                preference,
                exchange,
            } => {
                message.extend_from_slice(&preference.to_be_bytes());
                names.write(message, exchange);
            }
            RData::Txt(strings) => {
                for string in strings {
                    let len = u8::try_from(string.len())
                        .map_err(|_| Error::TooLong("a TXT string over 255 bytes"))?;
                    message.push(len);
                    message.extend_from_slice(string);
                }
            }
            RData::Soa(soa) => {
                names.write(message, &soa.mname);
                names.write(message, &soa.rname);
                for number in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                    message.extend_from_slice(&number.to_be_bytes());
                }
            }
            RData::Unknown { data, .. } => message.extend_from_slice(data),
        }
        Ok(())
    }
}

/// TXT data: length-prefixed strings filling `data` exactly; `None` if
/// one runs past the end.
fn decode_strings(mut data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let string = rest.get(..usize::from(len))?;
        strings.push(string.to_vec());
        data = &rest[usize::from(len)..];
    }
    Some(strings)
}

impl fmt::Display for RData {
    /// The data as dig shows it in a record line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(addr) => write!(f, "{addr}"),
            RData::Aaaa(addr) => write!(f, "{addr}"),
            RData::Cname(name) | RData::Ns(name) | RData::Ptr(name) => write!(f, "{name}"),
            RData::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            RData::Txt(strings) => {
                let quoted: Vec<String> = strings.iter().map(|s| quote(s)).collect();
                f.write_str(&quoted.join(" "))
            }
            RData::Soa(soa) => write!(
                f,
                "{} {} {} {} {} {} {}",
                soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
            ),
            // RFC 3597 §5's generic form.
            RData::Unknown { data, .. } => {
                write!(f, "\\# {}", data.len())?;
                if !data.is_empty() {
                    f.write_str(" ")?;
                    for byte in data {
                        write!(f, "{byte:02X}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// A TXT string in double quotes, as dig writes it: `"` and `\` escaped
/// with a backslash, other unprintable bytes as `\DDD`.
fn quote(string: &[u8]) -> String {
    let mut out = String::from("\"");
    for &byte in string {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\{byte:03}")),
        }
    }
    out.push('"');
    out
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The name it is about.
    pub name: Name,
    /// Its class (for OPT, the sender's UDP payload size: kept as is).
    pub class: Class,
    /// Seconds it may be cached (for OPT, extended flags).
    pub ttl: u32,
    /// What it says; its type is [`RData::rtype`].
    pub data: RData,
}

impl Record {
    /// The record's type.
    pub fn rtype(&self) -> RecordType {
        self.data.rtype()
    }

    // ANCHOR: record_decode
    /// Reads the record at `message[start..]`; returns it and where the
    /// next item starts.
    pub fn decode_at(message: &[u8], start: usize) -> Result<(Record, usize)> {
        let (name, at) = decode_name(message, start)?;
        let fixed = message.get(at..at + 10).ok_or(Error::Truncated {
            what: "record",
            at,
            needed: 10,
        })?;
        let word = |i: usize| u16::from_be_bytes([fixed[i], fixed[i + 1]]);
        let rtype = RecordType(word(0));
        let class = Class(word(2));
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdata_start = at + 10;
        let end = rdata_start + usize::from(word(8));
        if end > message.len() {
            return Err(Error::Truncated {
                what: "rdata",
                at: rdata_start,
                needed: usize::from(word(8)),
            });
        }
        let data = RData::decode(message, rtype, rdata_start, end)?;
        Ok((
            Record {
                name,
                class,
                ttl,
                data,
            },
            end,
        ))
    }
    // ANCHOR_END: record_decode

    /// Appends the record to `message`, its names compressed by `names`.
    pub fn encode(&self, message: &mut Vec<u8>, names: &mut NameEncoder) -> Result<()> {
        names.write(message, &self.name);
        message.extend_from_slice(&self.rtype().0.to_be_bytes());
        message.extend_from_slice(&self.class.0.to_be_bytes());
        message.extend_from_slice(&self.ttl.to_be_bytes());
        // RDLENGTH is known once the data is written: reserve, then fill.
        let length_at = message.len();
        message.extend_from_slice(&[0, 0]);
        self.data.encode(message, names)?;
        let len = u16::try_from(message.len() - length_at - 2)
            .map_err(|_| Error::TooLong("record data over 65535 bytes"))?;
        message[length_at..length_at + 2].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

impl fmt::Display for Record {
    /// A line of dig's answer section: `www.lab.test. 60 IN A 198.18.0.1`
    /// (dig uses tabs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}\t{}",
            self.name,
            self.ttl,
            self.class,
            self.rtype(),
            self.data
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_read_and_print_by_name() {
        assert_eq!("aaaa".parse(), Ok(RecordType::AAAA));
        assert_eq!("TYPE65".parse(), Ok(RecordType(65)));
        assert_eq!(RecordType(65).to_string(), "TYPE65");
        assert!("BOGUS".parse::<RecordType>().is_err());
    }

    #[test]
    fn rdata_of_the_wrong_size_is_rejected() {
        // Owner ".", type A, class IN, TTL 0, RDLENGTH 3.
        let message = b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x03\x01\x02\x03";
        assert_eq!(
            Record::decode_at(message, 0),
            Err(Error::BadRData {
                rtype: 1,
                reason: "not 4 bytes"
            })
        );
    }

    #[test]
    fn a_name_in_rdata_must_end_with_it() {
        // CNAME with RDLENGTH 1 but a 3-byte name "a.".
        let message = b"\x00\x00\x05\x00\x01\x00\x00\x00\x00\x00\x01\x01a\x00";
        assert!(matches!(
            Record::decode_at(message, 0),
            Err(Error::BadRData { rtype: 5, .. })
        ));
    }

    #[test]
    fn txt_prints_quoted_like_dig() {
        let txt = RData::Txt(vec![b"say \"hi\"".to_vec(), vec![7]]);
        assert_eq!(txt.to_string(), r#""say \"hi\"" "\007""#);
        let unknown = RData::Unknown {
            rtype: RecordType(99),
            data: vec![0xab, 1],
        };
        assert_eq!(unknown.to_string(), r"\# 2 AB01");
    }
}
