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
///
/// The labels are kept as they are on the wire — each a length byte and
/// that many bytes, one after another in a single buffer — rather than as
/// one `Vec` per label. Decoding a name then costs one allocation instead
/// of one per label, and a response repeats its names in every record.
/// The final zero (the root) is left out: every name has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Name {
    /// Length-prefixed labels, `03 www 03 lab 04 test` for `www.lab.test`;
    /// each length is 1 to 63, and the whole at most 254 bytes (255 with
    /// the final zero). Equal byte strings mean equal label lists: the
    /// length bytes leave no two ways to split them.
    wire: Vec<u8>,
}

impl Name {
    /// The root, `.`.
    pub const fn root() -> Name {
        Name { wire: Vec::new() }
    }

    /// A name from its labels, checked: no label empty or over 63 bytes,
    /// at most 255 bytes in wire form.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> Result<Name> {
        let mut wire = Vec::new();
        for label in &labels {
            if label.is_empty() {
                return Err(Error::EmptyLabel);
            }
            // Also what makes the length byte's cast below exact.
            if label.len() > MAX_LABEL_LEN {
                return Err(Error::LabelTooLong(label.len()));
            }
            wire.push(label.len() as u8);
            wire.extend_from_slice(label);
        }
        let name = Name { wire };
        if name.wire_len() > MAX_NAME_LEN {
            return Err(Error::NameTooLong);
        }
        Ok(name)
    }

    /// The labels, most specific first (`www`, `lab`, `test`).
    pub fn labels(&self) -> Labels<'_> {
        Labels { rest: &self.wire }
    }

    /// The length in wire form, uncompressed: a length byte per label, the
    /// labels, and the final zero.
    pub fn wire_len(&self) -> usize {
        self.wire.len() + 1
    }

    /// True if the names are equal ignoring ASCII case (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        // The buffers can be compared whole: a length byte (at most 63) is
        // never a letter, so ignoring case leaves it as it is, and equal
        // length bytes keep both names' labels in step.
        self.wire.eq_ignore_ascii_case(&other.wire)
    }

    /// True if this name is `zone` or below it (`www.lab.test` is in
    /// `lab.test`), ignoring case.
    pub fn is_in(&self, zone: &Name) -> bool {
        // Ending with the zone's bytes is not enough: `ab.test` is
        // `02 a b 04 test`, and those bytes could sit inside a label such
        // as `c\x02ab`. The zone must start where one of our labels does.
        self.suffixes()
            .any(|suffix| suffix.eq_ignore_ascii_case(&zone.wire))
    }

    /// The name and each name above it, in wire form (`www.lab.test`,
    /// `lab.test`, `test`, then the root's empty buffer).
    fn suffixes(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = Some(self.wire.as_slice());
        std::iter::from_fn(move || {
            let suffix = rest?;
            // Past this suffix's first label; after the root, nothing.
            rest = match suffix.split_first() {
                Some((&len, after)) => after.get(usize::from(len)..),
                None => None,
            };
            Some(suffix)
        })
    }
}

/// The labels of a [`Name`], from [`Name::labels`]: each one's bytes,
/// without its length byte.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    /// The length-prefixed labels not yet returned.
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, after) = self.rest.split_first()?;
        // A Name's buffer is well formed, so `get` always succeeds; it is
        // used so that even a broken buffer could not cause a panic.
        let label = after.get(..usize::from(len))?;
        self.rest = after.get(usize::from(len)..)?;
        Some(label)
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
        if self.wire.is_empty() {
            return f.write_str(".");
        }
        for label in self.labels() {
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
    // The labels are gathered on the stack, then copied into the Name in
    // one allocation of the right size. The buffer holds the longest name
    // there can be, less its final zero: a label that does not fit makes
    // the name longer than 255 bytes.
    let mut labels = [0; MAX_NAME_LEN - 1];
    let mut used = 0;
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
                let name = Name {
                    wire: labels[..used].to_vec(),
                };
                return Ok((name, end.unwrap_or(at + 1)));
            }
            0 => {
                // The label with its length byte, copied as it is.
                let len = 1 + usize::from(len);
                let label = message.get(at..at + len).ok_or(Error::Truncated {
                    what: "label",
                    at,
                    needed: len,
                })?;
                let room = labels.get_mut(used..used + len).ok_or(Error::NameTooLong)?;
                room.copy_from_slice(label);
                used += len;
                at += len;
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
    /// length-prefixed labels, and where they start.
    suffixes: HashMap<Vec<u8>, u16>,
}

impl NameEncoder {
    /// An encoder that knows no names yet.
    pub fn new() -> NameEncoder {
        NameEncoder::default()
    }

    /// Appends `name` to `message` (the whole message so far: offsets are
    /// counted from its start).
    pub fn write(&mut self, message: &mut Vec<u8>, name: &Name) {
        // Label by label, with the suffix that starts there: the name
        // itself, then the name without its first label, and so on.
        for (label, suffix) in name.labels().zip(name.suffixes()) {
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
        assert!(name("lab.test").is_in(&Name::root()));
        assert!(!name("www.xlab.test").is_in(&name("lab.test")));
    }

    #[test]
    fn labels_come_back_as_they_went_in() {
        let labels = vec![b"www".to_vec(), b"lab".to_vec(), b"test".to_vec()];
        let name = Name::from_labels(labels.clone()).expect("valid");
        assert!(name.labels().eq(labels.iter().map(Vec::as_slice)));
        assert_eq!(name.wire_len(), 14);
        assert_eq!(Name::root().labels().count(), 0);
    }

    #[test]
    fn a_zone_must_start_where_a_label_does() {
        // The last 8 bytes of `04 c 02 a b 04 test` are `ab.test` in wire
        // form, but they start inside the label `c\x02ab`.
        let inside = Name::from_labels(vec![b"c\x02ab".to_vec(), b"test".to_vec()]).expect("valid");
        assert!(!inside.is_in(&name("ab.test")));
        assert!(inside.is_in(&name("test")));
    }
}
