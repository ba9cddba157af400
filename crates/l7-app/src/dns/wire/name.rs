//! Domain names: labels on the wire, and compression (RFC 1035 §3.1,
//! §4.1.4).
//!
//! On the wire a name is a sequence of labels, each a length byte and that
//! many bytes, ending with the empty label (a zero byte):
//! `www.lab.test` is `03 www 03 lab 04 test 00`. A length byte whose top
//! two bits are `11` is instead a *pointer*: with the next byte, 14 bits
//! of offset from the start of the message, where the rest of the name
//! continues. A response repeats the question's name in every answer, and
//! a pointer makes each repetition two bytes.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use super::error::{Error, Result};

/// The longest label: 63 bytes, so a length byte never has its top two bits
/// set (those mean a pointer, or are reserved).
pub const MAX_LABEL_LEN: usize = 63;

/// The longest name in wire form, length bytes and the final zero included
/// (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// The top two bits of a pointer's first byte.
const POINTER_TAG: u8 = 0b1100_0000;

/// The largest offset a pointer can hold (14 bits).
const MAX_POINTER: usize = 0x3fff;

/// A domain name: its labels, without the root's empty label. Comparison
/// is byte for byte; [`Name::eq_ignore_case`] compares as DNS does (RFC
/// 4343: ASCII letters without regard to case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Name {
    labels: Vec<Vec<u8>>,
}

impl Name {
    /// The root, `.`.
    pub const fn root() -> Name {
        Name { labels: Vec::new() }
    }

    /// A name from its labels, checked: no label empty or over 63 bytes,
    /// at most 255 bytes in wire form.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> Result<Name> {
        for label in &labels {
            if label.is_empty() {
                return Err(Error::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(Error::LabelTooLong(label.len()));
            }
        }
        let name = Name { labels };
        if name.wire_len() > MAX_NAME_LEN {
            return Err(Error::NameTooLong);
        }
        Ok(name)
    }

    /// The labels, most specific first (`www`, `lab`, `test`).
    pub fn labels(&self) -> &[Vec<u8>] {
        &self.labels
    }

    /// The length in wire form, uncompressed: a length byte per label, the
    /// labels, and the final zero.
    pub fn wire_len(&self) -> usize {
        self.labels
            .iter()
            .map(|label| 1 + label.len())
            .sum::<usize>()
            + 1
    }

    /// True if the names are equal ignoring ASCII case (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(&other.labels)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// True if this name is `zone` or below it (`www.lab.test` is in
    /// `lab.test`), ignoring case.
    pub fn is_in(&self, zone: &Name) -> bool {
        self.labels.len() >= zone.labels.len()
            && self
                .labels
                .iter()
                .rev()
                .zip(zone.labels.iter().rev())
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

impl FromStr for Name {
    type Err = Error;

    /// Parses `www.lab.test` or `www.lab.test.` (the final dot is the
    /// root, and optional); `.` is the root. No escapes: a name with a dot
    /// inside a label cannot be written this way.
    fn from_str(text: &str) -> Result<Name> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Ok(Name::root());
        }
        Name::from_labels(
            text.split('.')
                .map(|label| label.as_bytes().to_vec())
                .collect(),
        )
    }
}

impl fmt::Display for Name {
    /// As dig prints names: absolute, with the final dot, and bytes other
    /// than letters, digits, `-` and `_` escaped as `\DDD` (RFC 4343 §2.1),
    /// so that what is shown can be read back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labels.is_empty() {
            return f.write_str(".");
        }
        for label in &self.labels {
            for &byte in label {
                if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                    write!(f, "{}", char::from(byte))?;
                } else {
                    write!(f, "\\{byte:03}")?;
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

// ANCHOR: decode_name
/// Reads the name at `message[start..]`, following compression pointers.
/// Returns the name and where the item after it starts (just after the
/// first pointer, if any: a pointer ends the name where it stands).
///
/// Never panics, and always ends: every pointer must point strictly before
/// itself, so each jump goes backwards and a chain of them cannot loop.
/// (RFC 1035 says a pointer refers to a *prior* occurrence.) It rejects
/// pointers to themselves, forwards or past the end, reserved label types,
/// and names over 255 bytes.
pub fn decode_name(message: &[u8], start: usize) -> Result<(Name, usize)> {
    let mut labels = Vec::new();
    let mut wire_len = 1; // the final zero
    let mut at = start;
    // Where the caller's next item starts, once known (after a pointer).
    let mut end = None;
    loop {
        let &len = message.get(at).ok_or(Error::Truncated {
            what: "name",
            at,
            needed: 1,
        })?;
        match len & POINTER_TAG {
            0 if len == 0 => {
                let name = Name { labels };
                return Ok((name, end.unwrap_or(at + 1)));
            }
            0 => {
                let len = usize::from(len);
                let label = message.get(at + 1..at + 1 + len).ok_or(Error::Truncated {
                    what: "label",
                    at,
                    needed: 1 + len,
                })?;
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(Error::NameTooLong);
                }
                labels.push(label.to_vec());
                at += 1 + len;
            }
            POINTER_TAG => {
                let &low = message.get(at + 1).ok_or(Error::Truncated {
                    what: "pointer",
                    at,
                    needed: 2,
                })?;
                let target = usize::from(len & !POINTER_TAG) << 8 | usize::from(low);
                // Strictly backwards: this is what makes the loop end.
                if target >= at {
                    return Err(Error::BadPointer { at, target });
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            _ => return Err(Error::ReservedLabelType { at, byte: len }),
        }
    }
}
// ANCHOR_END: decode_name

// ANCHOR: name_encoder
/// Writes names into a message, compressing: every name suffix written is
/// remembered with its offset, and a later name that ends with the same
/// labels writes a pointer there instead of repeating them.
#[derive(Debug, Default)]
pub struct NameEncoder {
    /// Suffixes already in the message (`lab.test`, `test`), by their
    /// labels, and where they start.
    suffixes: HashMap<Vec<Vec<u8>>, u16>,
}

impl NameEncoder {
    /// An encoder that knows no names yet.
    pub fn new() -> NameEncoder {
        NameEncoder::default()
    }

    /// Appends `name` to `message` (the whole message so far: offsets are
    /// counted from its start).
    pub fn write(&mut self, message: &mut Vec<u8>, name: &Name) {
        for (i, label) in name.labels.iter().enumerate() {
            let suffix = &name.labels[i..];
            if let Some(&offset) = self.suffixes.get(suffix) {
                let pointer = u16::from(POINTER_TAG) << 8 | offset;
                message.extend_from_slice(&pointer.to_be_bytes());
                return;
            }
            // Only offsets a pointer can hold are worth remembering.
            if let Ok(offset) = u16::try_from(message.len())
                && usize::from(offset) <= MAX_POINTER
            {
                self.suffixes.insert(suffix.to_vec(), offset);
            }
            // A Name's labels are at most 63 bytes long: the cast is exact.
            message.push(label.len() as u8);
            message.extend_from_slice(label);
        }
        message.push(0);
    }
}
// ANCHOR_END: name_encoder

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        text.parse().expect("a valid name")
    }

    #[test]
    fn a_name_is_length_prefixed_labels_and_a_zero() {
        let mut message = Vec::new();
        NameEncoder::new().write(&mut message, &name("www.lab.test"));
        assert_eq!(message, b"\x03www\x03lab\x04test\x00");
        assert_eq!(decode_name(&message, 0), Ok((name("www.lab.test."), 14)));
    }

    #[test]
    fn a_repeated_suffix_becomes_a_pointer() {
        let mut message = vec![0; 12]; // a header's worth of offset
        let mut encoder = NameEncoder::new();
        encoder.write(&mut message, &name("www.lab.test"));
        encoder.write(&mut message, &name("alpha.lab.test"));
        encoder.write(&mut message, &name("www.lab.test"));
        // alpha, then a pointer to "lab.test" at 12 + 4 = 16 (0xc010);
        // the second www.lab.test is a pointer to 12 (0xc00c).
        assert_eq!(&message[26..], b"\x05alpha\xc0\x10\xc0\x0c");
        assert_eq!(decode_name(&message, 26), Ok((name("alpha.lab.test"), 34)));
        assert_eq!(decode_name(&message, 34), Ok((name("www.lab.test"), 36)));
    }

    #[test]
    fn pointers_must_point_backwards() {
        // To itself: the simplest loop.
        assert_eq!(
            decode_name(b"\xc0\x00", 0),
            Err(Error::BadPointer { at: 0, target: 0 })
        );
        // Forwards, to a valid name: still refused.
        assert_eq!(
            decode_name(b"\xc0\x02\x00", 0),
            Err(Error::BadPointer { at: 0, target: 2 })
        );
        // Two pointers pointing at each other: the second one is caught.
        assert_eq!(
            decode_name(b"\xc0\x02\xc0\x00", 2),
            Err(Error::BadPointer { at: 0, target: 2 })
        );
        // Past the end.
        assert_eq!(
            decode_name(b"\x01a\xc0\x40", 2),
            Err(Error::BadPointer {
                at: 2,
                target: 0x40
            })
        );
    }

    #[test]
    fn bad_labels_and_names_are_rejected() {
        assert_eq!(
            decode_name(b"\x40", 0),
            Err(Error::ReservedLabelType { at: 0, byte: 0x40 })
        );
        assert!(matches!(
            decode_name(b"\x05abc", 0),
            Err(Error::Truncated { .. })
        ));
        // 128 one-byte labels: 257 bytes in wire form.
        let long: Vec<u8> = std::iter::repeat_n(*b"\x01a", 128)
            .flatten()
            .chain([0])
            .collect();
        assert_eq!(decode_name(&long, 0), Err(Error::NameTooLong));
        assert_eq!("a".repeat(64).parse::<Name>(), Err(Error::LabelTooLong(64)));
        assert_eq!("a..b".parse::<Name>(), Err(Error::EmptyLabel));
        assert!("a".repeat(63).parse::<Name>().is_ok());
    }

    #[test]
    fn names_print_like_dig_and_compare_without_case() {
        assert_eq!(name("WWW.Lab.test").to_string(), "WWW.Lab.test.");
        assert_eq!(Name::root().to_string(), ".");
        let odd = Name::from_labels(vec![b"a b".to_vec()]).expect("valid");
        assert_eq!(odd.to_string(), "a\\032b.");
        assert!(name("WWW.Lab.test").eq_ignore_case(&name("www.lab.TEST")));
        assert!(name("www.lab.test").is_in(&name("LAB.test")));
        assert!(!name("lab.test").is_in(&name("www.lab.test")));
    }
}
