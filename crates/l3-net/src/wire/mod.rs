//! Layer 3 wire formats, sans-IO: IPv4 (RFC 791) and ICMPv4 (RFC 792).
//!
//! Every format has the shape layer 2's do (see ARCHITECTURE.md): a
//! zero-copy view `Xxx<T: AsRef<[u8]>>` with `new_checked` /
//! `new_unchecked`, getters and setters over byte ranges kept in a
//! `field` module, and a `XxxRepr` with `parse`, `buffer_len` and `emit`.
//! Decoders return layer 2's [`l2_link::wire::Error`], the one wire error
//! type of the project, and never panic.
//!
//! - [`ipv4`] — the IPv4 header: [`Ipv4Packet`], [`Ipv4Repr`], and its
//!   options ([`Ipv4Options`]);
//! - [`icmpv4`] — ICMP messages: [`Icmpv4Packet`], [`Icmpv4Repr`], and the
//!   original datagram an error message quotes ([`QuotedDatagram`]);
//! - [`IpProtocol`] — the number that says what an IPv4 packet carries.
//!
//! The header diagrams (`ipv4::LAYOUT`, `icmpv4::ECHO_LAYOUT`, …) are drawn
//! by layer 2's [`l2_link::wire::layout::diagram`].

pub mod icmpv4;
mod ip_protocol;
pub mod ipv4;
mod quote;

pub use icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, TimeExceeded};
pub use ip_protocol::IpProtocol;
pub use ipv4::{Ipv4Option, Ipv4Options, Ipv4OptionsIter, Ipv4Packet, Ipv4Repr};
pub use quote::{MAX_ERROR_QUOTE_LEN, QuotedDatagram, icmp_error_quote};

/// Big-endian ("network byte order") reads and writes at fixed offsets.
/// Like slice indexing they panic when the bytes are not there: the views
/// call them only after a length check (`new_checked`) or on the caller's
/// promise (`new_unchecked`).
mod bytes {
    use core::ops::Range;
    use std::net::Ipv4Addr;

    /// The two bytes at `at` as a big-endian `u16`.
    pub(crate) fn read_u16(data: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([data[at], data[at + 1]])
    }

    /// Writes `value` big-endian into the two bytes at `at`.
    pub(crate) fn write_u16(data: &mut [u8], at: usize, value: u16) {
        data[at..at + 2].copy_from_slice(&value.to_be_bytes());
    }

    /// The four bytes at `at` as a big-endian `u32`.
    pub(crate) fn read_u32(data: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
    }

    /// Writes `value` big-endian into the four bytes at `at`.
    pub(crate) fn write_u32(data: &mut [u8], at: usize, value: u32) {
        data[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    /// The four bytes of `field` as an IPv4 address.
    pub(crate) fn read_ipv4(data: &[u8], field: Range<usize>) -> Ipv4Addr {
        read_u32(data, field.start).into()
    }
}
