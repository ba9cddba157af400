//! Layer 2 wire formats, sans-IO: bytes in, meaning out, and back.
//!
//! Every format follows the same shape (see ARCHITECTURE.md):
//! a zero-copy view `Xxx<T: AsRef<[u8]>>` with `new_checked` / `new_unchecked`,
//! getters and setters over byte ranges kept in a private `field` module, and
//! a `XxxRepr` with `parse`, `buffer_len` and `emit`.
//!
//! - [`ethernet`] — Ethernet II frames with an optional IEEE 802.1Q tag;
//! - [`arp`] — the Address Resolution Protocol for Ethernet/IPv4 (RFC 826);
//! - [`message`] — rawstack's own tiny protocol on EtherType 0x88B5;
//! - [`layout`] — RFC-style header diagrams drawn from the parsers' own
//!   field ranges.

pub mod arp;
mod error;
pub mod ethernet;
mod ethertype;
pub mod layout;
mod mac;
pub mod message;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::{Error, Result};
pub use ethernet::{EthernetFrame, EthernetRepr, VlanTag};
pub use ethertype::EtherType;
pub use mac::{MacAddr, ParseMacError};
pub use message::{MessagePacket, MessageRepr};

/// Big-endian ("network byte order", RFC 1700) reads and writes at fixed
/// offsets, shared by the views. Like slice indexing they panic when the
/// bytes are not there: the views only call them after a length check
/// (`new_checked`) or on the caller's promise (`new_unchecked`).
mod bytes {
    use super::MacAddr;
    use core::ops::Range;

    /// Reads the two bytes at `at` as one big-endian `u16`.
    pub(crate) fn read_u16(data: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([data[at], data[at + 1]])
    }

    /// Writes `value` big-endian into the two bytes at `at`.
    pub(crate) fn write_u16(data: &mut [u8], at: usize, value: u16) {
        data[at..at + 2].copy_from_slice(&value.to_be_bytes());
    }

    /// Reads the six bytes of `field` as a MAC address.
    pub(crate) fn read_mac(data: &[u8], field: Range<usize>) -> MacAddr {
        let mut octets = [0u8; 6];
        octets.copy_from_slice(&data[field]);
        MacAddr(octets)
    }
}
