//! Fragmentation: cutting a datagram that is too big for a link into
//! pieces that fit (RFC 791 §2.3 "Fragmentation", §3.2 the procedure).
//!
//! ```text
//!  a 3000-byte datagram, MTU 1500:
//!  [hdr 20|            2980 bytes of payload                               ]
//!
//!  [hdr 20|payload 0..1480   ] MF offset 0
//!  [hdr 20|payload 1480..2960] MF offset 1480
//!  [hdr 20|2960..2980]            offset 2960
//! ```
//!
//! Each fragment is a datagram of its own, with a copy of the header: the
//! same identification, source, destination and protocol; its own total
//! length, offset, MF flag and checksum. Offsets count 8-byte units, so
//! every fragment but the last carries a multiple of 8 bytes. Only the
//! first fragment carries all the options; the others carry those whose
//! *copy* flag (the high bit of the option type) says so.

use std::fmt;

use l2_link::wire::Error;

use crate::wire::{Ipv4Options, Ipv4Packet, Ipv4Repr};

use super::reassembly::FRAGMENT_UNIT;

/// Why a datagram could not be fragmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentError {
    /// Don't Fragment is set and the datagram exceeds the MTU: the sender
    /// must be told "fragmentation needed" with this MTU (RFC 1191).
    DontFragment {
        /// The MTU it did not fit.
        mtu: usize,
    },
    /// The MTU cannot hold a header and 8 bytes of data (RFC 791's minimum
    /// is 68).
    MtuTooSmall {
        /// The MTU asked for.
        mtu: usize,
    },
    /// The bytes are not a valid IPv4 datagram.
    Malformed(Error),
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FragmentError::DontFragment { mtu } => {
                write!(
                    f,
                    "needs fragmenting to MTU {mtu} but Don't Fragment is set"
                )
            }
            FragmentError::MtuTooSmall { mtu } => {
                write!(f, "MTU {mtu} cannot carry a header and 8 bytes of data")
            }
            FragmentError::Malformed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FragmentError {}

// ANCHOR: copied_options
/// The options that go into every fragment: those whose type has the copy
/// flag (0x80) set — security, source routes (RFC 791 §3.1). End of
/// Option List and No Operation have it clear, so they stay behind; the
/// result is padded with zeros (End of Option List) to a multiple of 4.
pub fn copied_options(options: &[u8]) -> Vec<u8> {
    const END_OF_LIST: u8 = 0;
    const NO_OPERATION: u8 = 1;
    const COPY_FLAG: u8 = 0x80;
    let mut copied = Vec::new();
    let mut at = 0;
    while let Some(&kind) = options.get(at) {
        match kind {
            END_OF_LIST => break,
            NO_OPERATION => at += 1,
            _ => {
                // type, length (counting both), data
                let Some(option) = options
                    .get(at + 1)
                    .map(|&len| usize::from(len))
                    .filter(|&len| len >= 2)
                    .and_then(|len| options.get(at..at + len))
                else {
                    break; // malformed: copy nothing more
                };
                if kind & COPY_FLAG != 0 {
                    copied.extend_from_slice(option);
                }
                at += option.len();
            }
        }
    }
    copied.resize(copied.len().next_multiple_of(4), END_OF_LIST);
    copied
}
// ANCHOR_END: copied_options

// ANCHOR: fragment
/// Cuts the IPv4 datagram `datagram` into datagrams of at most `mtu` bytes.
/// One that already fits comes back whole, unchanged. A fragment can be
/// fragmented again: its pieces keep its offset, and the last keeps its MF.
pub fn fragment(datagram: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, FragmentError> {
    let packet = Ipv4Packet::new_checked(datagram).map_err(FragmentError::Malformed)?;
    let original = Ipv4Repr::parse(&packet).map_err(FragmentError::Malformed)?;
    let total_len = usize::from(packet.total_len());
    if total_len <= mtu {
        // Without any Ethernet padding that came after it.
        return Ok(vec![datagram[..total_len].to_vec()]);
    }
    if original.dont_frag {
        return Err(FragmentError::DontFragment { mtu });
    }
    let later_options =
        Ipv4Options::new(&copied_options(packet.options())).map_err(FragmentError::Malformed)?;

    let payload = packet.payload();
    let mut fragments = Vec::new();
    let mut done = 0;
    while done < payload.len() {
        let options = if done == 0 {
            original.options
        } else {
            later_options
        };
        // The most data that fits after this fragment's header, rounded
        // down to whole 8-byte units.
        let header_len = Ipv4Repr {
            options,
            ..original
        }
        .header_len();
        let room = mtu.saturating_sub(header_len) / FRAGMENT_UNIT * FRAGMENT_UNIT;
        if room == 0 {
            return Err(FragmentError::MtuTooSmall { mtu });
        }
        let take = room.min(payload.len() - done);
        let last = done + take == payload.len();
        let piece = Ipv4Repr {
            options,
            // Fits: offset + payload ≤ 65535 - 20 for any valid datagram.
            frag_offset: original.frag_offset + done as u16,
            more_frags: !last || original.more_frags,
            payload_len: take,
            ..original
        };
        fragments.push(piece.build(&payload[done..done + take]));
        done += take;
    }
    Ok(fragments)
}
// ANCHOR_END: fragment

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_only_options_with_the_copy_flag() {
        // NOP, Record Route (7, not copied, len 7), Loose Source Route
        // (131 = 0x83, copied, len 7), End of List.
        let options = [1, 7, 7, 4, 0, 0, 0, 0, 131, 7, 4, 198, 18, 1, 1, 0];
        assert_eq!(copied_options(&options), vec![131, 7, 4, 198, 18, 1, 1, 0]);
        assert_eq!(copied_options(&[1, 1, 0, 0]), Vec::<u8>::new());
        // A length running past the end stops the walk without a panic.
        assert_eq!(copied_options(&[0x83, 40, 1]), Vec::<u8>::new());
        assert_eq!(copied_options(&[0x83, 1]), Vec::<u8>::new());
    }
}
