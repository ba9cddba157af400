//! IPv4 options (RFC 791 §3.1, "Options"): up to 40 bytes between the
//! fixed header and the data.
//!
//! Each option is one byte of kind, and for all but End of Option List (0)
//! and No Operation (1) a length byte (counting kind and length) and data:
//!
//! ```text
//! +--------+--------+--------...
//! |  kind  | length |  data
//! +--------+--------+--------...
//! ```
//!
//! The header length counts 4-byte words, so the options are padded with
//! zeros (End of Option List) to a multiple of 4.

use core::fmt;

use l2_link::wire::{Error, Result};

/// The most option bytes a header can hold: IHL 15 is 60 bytes, 20 of them
/// fixed.
pub const MAX_OPTIONS_LEN: usize = 40;

/// Option kind numbers: copied flag (1 bit), class (2), number (5) in one
/// byte (RFC 791; IANA "IP Option Numbers").
pub mod option_kind {
    /// End of Option List: the rest is padding.
    pub const END_OF_LIST: u8 = 0;
    /// No Operation: one byte of alignment between options.
    pub const NO_OPERATION: u8 = 1;
    /// Record Route (RFC 791): routers write their address into it.
    pub const RECORD_ROUTE: u8 = 7;
    /// Internet Timestamp (RFC 791).
    pub const TIMESTAMP: u8 = 68;
    /// Router Alert (RFC 2113): routers should look at this packet even
    /// though it is not for them (IGMP, RSVP).
    pub const ROUTER_ALERT: u8 = 148;
}

// ANCHOR: ipv4_options
/// The options of one header: up to 40 raw bytes, padded to a multiple of 4
/// with End of Option List bytes (zero) when made, so that what is stored
/// is exactly what goes on the wire. A plain `Copy` value with no heap
/// allocation, so an [`super::Ipv4Repr`] stays one too.
///
/// [`new`](Self::new) checks the structure (every option's length fits);
/// [`iter`](Self::iter) reads the options one by one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Options {
    /// The bytes; those from `len` on are always zero.
    bytes: [u8; MAX_OPTIONS_LEN],
    /// How many bytes are options (a multiple of 4).
    len: u8,
}

impl Ipv4Options {
    /// No options: a 20-byte header.
    pub const NONE: Ipv4Options = Ipv4Options {
        bytes: [0; MAX_OPTIONS_LEN],
        len: 0,
    };

    /// Takes `bytes` as the options, padded with zeros to a multiple of 4.
    /// Fails when they are longer than 40 bytes, or when an option's length
    /// byte is missing, below 2, or runs past the end (RFC 791 §3.1;
    /// RFC 1122 §3.2.1.8 lets receivers drop such packets).
    pub fn new(bytes: &[u8]) -> Result<Ipv4Options> {
        let malformed = |reason| Error::Malformed {
            what: "IPv4 options",
            reason,
        };
        if bytes.len() > MAX_OPTIONS_LEN {
            return Err(malformed("longer than 40 bytes"));
        }
        check_structure(bytes).map_err(malformed)?;
        let mut options = Ipv4Options::NONE;
        options.bytes[..bytes.len()].copy_from_slice(bytes);
        // A multiple of 4, at most 40: fits in a u8.
        options.len = bytes.len().next_multiple_of(4) as u8;
        Ok(options)
    }

    /// The bytes as they go on the wire, padding included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Length in bytes, padding included (a multiple of 4).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when there are no options.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The options one by one, padding included (as End of Option List).
    pub fn iter(&self) -> Ipv4OptionsIter<'_> {
        Ipv4OptionsIter::new(self.as_bytes())
    }
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options::NONE
    }
}

impl fmt::Debug for Ipv4Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Walks `bytes` option by option; says what is wrong with the first bad
/// one.
fn check_structure(bytes: &[u8]) -> core::result::Result<(), &'static str> {
    let mut at = 0;
    while let Some(&kind) = bytes.get(at) {
        match kind {
            // Everything after End of Option List is padding.
            option_kind::END_OF_LIST => return Ok(()),
            option_kind::NO_OPERATION => at += 1,
            _ => {
                let Some(&len) = bytes.get(at + 1) else {
                    return Err("option length missing");
                };
                let len = usize::from(len);
                if len < 2 {
                    return Err("option length below 2");
                }
                if at + len > bytes.len() {
                    return Err("option runs past the end of the header");
                }
                at += len;
            }
        }
    }
    Ok(())
}
// ANCHOR_END: ipv4_options

/// One option, as [`Ipv4OptionsIter`] reads it. Byte slices borrow from the
/// header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Option<'a> {
    /// End of Option List (kind 0), with the padding after it (which
    /// should be zeros).
    EndOfList {
        /// Bytes after the kind byte, up to the end of the options.
        padding: &'a [u8],
    },
    /// No Operation (kind 1).
    NoOperation,
    /// Record Route (kind 7): `pointer` is the 1-based offset, from the
    /// option's start, of the next free slot (4 when empty); `route` holds
    /// the slots, 4 bytes each, recorded or free.
    RecordRoute {
        /// Where the next address goes (1-based, from the kind byte).
        pointer: u8,
        /// The address slots.
        route: &'a [u8],
    },
    /// Internet Timestamp (kind 68).
    Timestamp {
        /// Where the next entry goes (1-based, from the kind byte; min 5).
        pointer: u8,
        /// How many hops could not record (high 4 bits).
        overflow: u8,
        /// 0: timestamps only; 1: address and timestamp; 3: prespecified
        /// addresses (low 4 bits).
        flag: u8,
        /// The entries.
        data: &'a [u8],
    },
    /// Router Alert (kind 148, RFC 2113), with its 16-bit value (0:
    /// "router shall examine packet").
    RouterAlert {
        /// The value.
        value: u16,
    },
    /// An option we do not decode (or a known kind with an impossible
    /// length), kept raw.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// Everything after the length byte.
        data: &'a [u8],
    },
    /// Bytes that are not a well-formed option (a length byte missing,
    /// below 2, or too long): the iterator yields this once, with the rest
    /// of the bytes, and stops. [`Ipv4Options::new`] never lets such bytes
    /// in; the printer meets them in damaged packets.
    Malformed {
        /// The rest of the option bytes.
        rest: &'a [u8],
    },
}

impl Ipv4Option<'_> {
    /// How many bytes of the header this option takes, kind and length
    /// bytes included (for [`Ipv4Option::EndOfList`], the padding after
    /// it too).
    pub fn wire_len(&self) -> usize {
        match self {
            Ipv4Option::EndOfList { padding } => 1 + padding.len(),
            Ipv4Option::NoOperation => 1,
            Ipv4Option::RecordRoute { route, .. } => 3 + route.len(),
            Ipv4Option::Timestamp { data, .. } => 4 + data.len(),
            Ipv4Option::RouterAlert { .. } => 4,
            Ipv4Option::Unknown { data, .. } => 2 + data.len(),
            Ipv4Option::Malformed { rest } => rest.len(),
        }
    }

    /// The addresses recorded so far in a Record Route option (the slots
    /// before the pointer), or nothing for other options.
    pub fn recorded_route(&self) -> impl Iterator<Item = std::net::Ipv4Addr> + '_ {
        let recorded: &[u8] = match self {
            // The pointer counts from the kind byte (1-based): slot data
            // starts at 4, so pointer − 4 bytes are filled.
            Ipv4Option::RecordRoute { pointer, route } => {
                let filled = usize::from(*pointer).saturating_sub(4).min(route.len());
                &route[..filled]
            }
            _ => &[],
        };
        recorded
            .chunks_exact(4)
            .map(|slot| std::net::Ipv4Addr::new(slot[0], slot[1], slot[2], slot[3]))
    }
}

/// Reads options one by one from raw bytes; see [`Ipv4Options::iter`].
/// Never panics, whatever the bytes: a damaged option ends the walk as
/// [`Ipv4Option::Malformed`].
#[derive(Debug, Clone)]
pub struct Ipv4OptionsIter<'a> {
    rest: &'a [u8],
}

impl<'a> Ipv4OptionsIter<'a> {
    /// Walks `bytes`, which may be anything (a view's
    /// [`options`](super::Ipv4Packet::options), say).
    pub fn new(bytes: &'a [u8]) -> Self {
        Ipv4OptionsIter { rest: bytes }
    }

    /// How many bytes the next option takes: 1 for the kind-only options,
    /// the length byte otherwise, or `None` when that is not possible.
    fn next_len(&self) -> Option<usize> {
        let kind = *self.rest.first()?;
        match kind {
            option_kind::END_OF_LIST => Some(self.rest.len()),
            option_kind::NO_OPERATION => Some(1),
            _ => {
                let len = usize::from(*self.rest.get(1)?);
                (len >= 2 && len <= self.rest.len()).then_some(len)
            }
        }
    }
}

impl<'a> Iterator for Ipv4OptionsIter<'a> {
    type Item = Ipv4Option<'a>;

    fn next(&mut self) -> Option<Ipv4Option<'a>> {
        let (&kind, _) = self.rest.split_first()?;
        let Some(len) = self.next_len() else {
            let rest = core::mem::take(&mut self.rest);
            return Some(Ipv4Option::Malformed { rest });
        };
        let (option, rest) = self.rest.split_at(len);
        self.rest = rest;
        // The bytes after kind and length (empty for the one-byte kinds).
        let data = option.get(2..).unwrap_or_default();
        Some(match (kind, option) {
            (option_kind::END_OF_LIST, _) => Ipv4Option::EndOfList {
                padding: &option[1..],
            },
            (option_kind::NO_OPERATION, _) => Ipv4Option::NoOperation,
            (option_kind::RECORD_ROUTE, [_, _, pointer, route @ ..]) => Ipv4Option::RecordRoute {
                pointer: *pointer,
                route,
            },
            (option_kind::TIMESTAMP, [_, _, pointer, oflw_flag, data @ ..]) => {
                Ipv4Option::Timestamp {
                    pointer: *pointer,
                    overflow: oflw_flag >> 4,
                    flag: oflw_flag & 0x0f,
                    data,
                }
            }
            (option_kind::ROUTER_ALERT, [_, 4, high, low]) => Ipv4Option::RouterAlert {
                value: u16::from_be_bytes([*high, *low]),
            },
            _ => Ipv4Option::Unknown { kind, data },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_four_bytes_with_end_of_list() {
        // Record Route with two empty slots: 3 + 8 = 11 bytes, padded to 12.
        let rr = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0];
        let options = Ipv4Options::new(&rr).unwrap();
        assert_eq!(options.len(), 12);
        assert_eq!(options.as_bytes()[..11], rr);
        assert_eq!(options.as_bytes()[11], 0);
        let items: Vec<_> = options.iter().collect();
        assert_eq!(
            items,
            [
                Ipv4Option::RecordRoute {
                    pointer: 4,
                    route: &[0; 8]
                },
                Ipv4Option::EndOfList { padding: &[] },
            ]
        );
    }

    #[test]
    fn reads_router_alert_nop_and_unknown() {
        let bytes = [148, 4, 0, 0, 1, 0x99, 3, 0xaa, 0];
        let options = Ipv4Options::new(&bytes).unwrap();
        let items: Vec<_> = options.iter().collect();
        assert_eq!(
            items,
            [
                Ipv4Option::RouterAlert { value: 0 },
                Ipv4Option::NoOperation,
                Ipv4Option::Unknown {
                    kind: 0x99,
                    data: &[0xaa]
                },
                Ipv4Option::EndOfList {
                    padding: &[0, 0, 0]
                },
            ]
        );
    }

    #[test]
    fn wire_lengths_add_up() {
        let bytes = [
            1, 148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 68, 4, 5, 0x10, 0x99, 2, 0, 0,
        ];
        let options = Ipv4Options::new(&bytes).unwrap();
        let lens: Vec<usize> = options.iter().map(|o| o.wire_len()).collect();
        assert_eq!(lens, [1, 4, 7, 4, 2, 2]);
        assert_eq!(lens.iter().sum::<usize>(), options.len());
    }

    #[test]
    fn recorded_route_stops_at_the_pointer() {
        let bytes = [7, 11, 8, 198, 18, 0, 2, 0, 0, 0, 0];
        let options = Ipv4Options::new(&bytes).unwrap();
        let first = options.iter().next().unwrap();
        assert_eq!(
            first.recorded_route().collect::<Vec<_>>(),
            [std::net::Ipv4Addr::new(198, 18, 0, 2)]
        );
    }

    #[test]
    fn rejects_bad_structure() {
        let reason = |bytes: &[u8]| match Ipv4Options::new(bytes) {
            Err(Error::Malformed { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(&[7]), "option length missing");
        assert_eq!(reason(&[7, 1, 0, 0]), "option length below 2");
        assert_eq!(
            reason(&[7, 9, 4, 0]),
            "option runs past the end of the header"
        );
        assert_eq!(reason(&[1; 41]), "longer than 40 bytes");
        // After End of Option List anything goes: it is padding.
        assert!(Ipv4Options::new(&[0, 7, 99, 1]).is_ok());
    }

    #[test]
    fn iterator_survives_damage() {
        let items: Vec<_> = Ipv4OptionsIter::new(&[1, 7, 200, 4]).collect();
        assert_eq!(
            items,
            [
                Ipv4Option::NoOperation,
                Ipv4Option::Malformed { rest: &[7, 200, 4] }
            ]
        );
    }
}
