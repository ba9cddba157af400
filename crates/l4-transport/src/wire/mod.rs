//! Layer 4 wire formats, sans-IO: UDP (RFC 768) and TCP (RFC 9293).
//!
//! Every format has the shape of layers 2 and 3 (see ARCHITECTURE.md): a
//! zero-copy view `Xxx<T: AsRef<[u8]>>` with `new_checked` /
//! `new_unchecked`, getters and setters over byte ranges kept in a `field`
//! module, and a `XxxRepr` with `parse`, `buffer_len` and `emit`. Decoders
//! return layer 2's [`l2_link::wire::Error`], the one wire error type of
//! the project, and never panic.
//!
//! - [`udp`] — UDP datagrams: [`UdpPacket`], [`UdpRepr`];
//! - [`tcp`] — TCP segments: [`TcpPacket`], [`TcpRepr`], with the
//!   sequence-number arithmetic modulo 2^32 ([`TcpSeqNumber`]), the flags
//!   ([`TcpFlags`]) and the options ([`TcpOption`]: MSS, window scale,
//!   SACK, timestamps, and any unknown kind kept as it is).
//!
//! Neither header carries the addresses it travels between, yet both
//! checksums cover them: the checksum is computed over an IPv4
//! *pseudo-header* (source, destination, protocol, length) followed by the
//! segment, by l3-net's [`pseudo_header`](l3_net::checksum::pseudo_header).
//! That is why `verify_checksum`, `fill_checksum`, `parse` and `emit` take
//! the two addresses.
//!
//! The header diagrams (`udp::LAYOUT`, `tcp::LAYOUT`) are drawn by layer
//! 2's [`l2_link::wire::layout::diagram`].

pub mod tcp;
pub mod udp;

pub use tcp::{SackBlocks, TcpFlags, TcpOption, TcpOptionsIter, TcpPacket, TcpRepr, TcpSeqNumber};
pub use udp::{UdpPacket, UdpRepr};

/// Big-endian ("network byte order") reads and writes at fixed offsets.
/// Like slice indexing they panic when the bytes are not there: the views
/// call them only after a length check (`new_checked`) or on the caller's
/// promise (`new_unchecked`).
mod bytes {
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
}
