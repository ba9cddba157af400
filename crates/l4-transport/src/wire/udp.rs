//! The User Datagram Protocol header (RFC 768).
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |     Source      |   Destination   |
//! |      Port       |      Port       |
//! +--------+--------+--------+--------+
//! |                 |                 |
//! |     Length      |    Checksum     |
//! +--------+--------+--------+--------+
//! |
//! |          data octets ...
//! +---------------- ...
//! ```
//!
//! Eight bytes, and that is all of UDP: ports to find the application, a
//! length, and a checksum over a pseudo-header, the header and the data.
//! No connection, no order, no retransmission: what the application sends
//! is one datagram, delivered once or not at all.

use core::ops::Range;
use std::net::Ipv4Addr;

use l2_link::wire::{Error, Result};
use l3_net::checksum::pseudo_header;
use l3_net::wire::IpProtocol;

use super::bytes::{read_u16, write_u16};

// ANCHOR: udp_field
/// Byte positions of the header fields (RFC 768, "Format").
pub(crate) mod field {
    use core::ops::Range;

    /// Source Port: where replies go (0 when none are expected).
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination Port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Length of header and data, in bytes (at least 8).
    pub const LENGTH: Range<usize> = 4..6;
    /// Checksum over pseudo-header, header and data; 0 means "none".
    pub const CHECKSUM: Range<usize> = 6..8;
    /// Where the data starts.
    pub const PAYLOAD: usize = 8;
}
// ANCHOR_END: udp_field

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// The header, field by field, for [`l2_link::wire::layout::diagram`].
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Source Port", field::SRC_PORT),
    ("Destination Port", field::DST_PORT),
    ("Length", field::LENGTH),
    ("Checksum", field::CHECKSUM),
    ("data octets ...", field::PAYLOAD..field::PAYLOAD + 4),
];

/// A zero-copy view of a UDP datagram: header and data.
///
/// The buffer may be longer than the datagram (what follows is not UDP's);
/// [`payload`](Self::payload) stops where the Length field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

// `len` reads the Length field; a view is not a collection, and an
// `is_empty` would have nothing sensible to say.
#[allow(clippy::len_without_is_empty)]
impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than the header. Prefer [`new_checked`](Self::new_checked)
    /// for bytes from the wire.
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len). After this no
    /// getter panics.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 8-byte header is there, that Length covers at least
    /// the header, and that the buffer holds Length bytes.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        if got < HEADER_LEN {
            return Err(Error::Truncated {
                what: "UDP",
                needed: HEADER_LEN,
                got,
            });
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "UDP",
                reason: "length is shorter than the 8-byte header",
            });
        }
        if got < len {
            return Err(Error::Truncated {
                what: "UDP",
                needed: len,
                got,
            });
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// Length: header and data, in bytes.
    pub fn len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// The checksum as stored (0: the sender computed none).
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The data: from byte 8 up to Length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..usize::from(self.len())]
    }

    // ANCHOR: udp_checksum
    /// The checksum this datagram, sent from `src` to `dst`, should carry:
    /// the internet checksum of the pseudo-header (RFC 768: addresses,
    /// protocol 17, the UDP length) followed by header and data, with the
    /// checksum field taken as zero.
    ///
    /// A computed 0 is returned as 0xFFFF: in ones' complement both are
    /// zero, and the all-zero field is reserved for "no checksum".
    pub fn compute_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let datagram = &self.buffer.as_ref()[..usize::from(self.len())];
        let mut sum = pseudo_header(src, dst, IpProtocol::UDP, self.len());
        sum.add_bytes(&datagram[..field::CHECKSUM.start]);
        sum.add_bytes(&datagram[field::CHECKSUM.end..]);
        match sum.finish() {
            0 => 0xffff,
            checksum => checksum,
        }
    }

    /// True when the checksum is right for a datagram from `src` to `dst`,
    /// or absent: over IPv4 a sender may put 0 there, meaning "not
    /// computed" (RFC 768; RFC 1122 §4.1.3.4 says a receiver must then
    /// accept the datagram).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let stored = self.checksum();
        stored == 0 || stored == self.compute_checksum(src, dst)
    }
    // ANCHOR_END: udp_checksum
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Writes the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::SRC_PORT.start, value);
    }

    /// Writes the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::DST_PORT.start, value);
    }

    /// Writes Length (header and data).
    pub fn set_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH.start, value);
    }

    /// Writes the checksum as given (see
    /// [`fill_checksum`](Self::fill_checksum) to compute it).
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// The data, to write into (Length must be set first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.buffer.as_mut()[field::PAYLOAD..end]
    }

    /// Computes and writes the checksum for a datagram from `src` to
    /// `dst` ([`compute_checksum`](Self::compute_checksum): a computed 0
    /// goes out as 0xFFFF). Set Length and the data first.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let checksum = self.compute_checksum(src, dst);
        self.set_checksum(checksum);
    }
}

// ANCHOR: udp_repr
/// The meaning of a UDP header: two ports. Length and checksum follow from
/// the data and the addresses, so [`parse`](Self::parse) checks them and
/// [`emit`](Self::emit) computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UdpRepr {
    /// The sender's port.
    pub src_port: u16,
    /// The receiver's port.
    pub dst_port: u16,
}
// ANCHOR_END: udp_repr

impl UdpRepr {
    /// Length of the header: 8 bytes.
    pub const HEADER_LEN: usize = HEADER_LEN;

    /// Reads the header of `packet`, which travelled from `src` to `dst`:
    /// its lengths ([`UdpPacket::check_len`]), then its checksum (a damaged
    /// datagram is `Malformed { reason: "bad checksum" }`; RFC 1122
    /// §4.1.3.4 says to discard it silently). The data is
    /// [`UdpPacket::payload`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &UdpPacket<&T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Malformed {
                what: "UDP",
                reason: "bad checksum",
            });
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
        })
    }

    /// Length of a datagram carrying `payload_len` bytes of data: what
    /// Length will say.
    pub fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes header and `payload` into the start of `packet` and computes
    /// the checksum for a datagram from `src` to `dst`.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len), or
    /// the datagram is longer than 65535 bytes, the most Length can say.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut UdpPacket<&mut T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        let len = u16::try_from(self.buffer_len(payload.len()))
            .expect("a UDP datagram is at most 65535 bytes (Length is 16 bits)");
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.payload_mut().copy_from_slice(payload);
        packet.fill_checksum(src, dst);
    }

    /// Builds the whole datagram from `src` to `dst`: this header, then
    /// `payload`.
    ///
    /// # Panics
    /// If the datagram would exceed 65535 bytes.
    pub fn build(&self, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
        let mut buffer = vec![0u8; self.buffer_len(payload.len())];
        self.emit(
            &mut UdpPacket::new_unchecked(&mut buffer),
            src,
            dst,
            payload,
        );
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

    /// Port 40000 to port 7, "hello": written out by hand from RFC 768's
    /// layout. The checksum was summed by hand, word by word:
    /// pseudo-header c612 + 0002 + c612 + 0001 + 0011 + 000d,
    /// header 9c40 + 0007 + 000d, data 6865 + 6c6c + 6f00 = 0x3_6c6a,
    /// folded 0x6c6d, complemented 0x9392.
    const DATAGRAM: [u8; 13] = [
        0x9c, 0x40, 0x00, 0x07, 0x00, 0x0d, 0x93, 0x92, b'h', b'e', b'l', b'l', b'o',
    ];

    #[test]
    fn reads_a_hand_written_datagram() {
        let packet = UdpPacket::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port()), (40000, 7));
        assert_eq!(packet.len(), 13);
        assert_eq!(packet.payload(), b"hello");
        assert!(packet.verify_checksum(SRC, DST));
        // Another sender, same bytes: the pseudo-header catches it.
        assert!(!packet.verify_checksum(Ipv4Addr::new(198, 18, 0, 3), DST));
    }

    #[test]
    fn emit_writes_the_hand_written_datagram() {
        let repr = UdpRepr {
            src_port: 40000,
            dst_port: 7,
        };
        assert_eq!(repr.build(SRC, DST, b"hello"), DATAGRAM);
    }

    #[test]
    fn zero_means_no_checksum_and_a_computed_zero_is_sent_as_ffff() {
        let mut bytes = DATAGRAM;
        bytes[6..8].copy_from_slice(&[0, 0]);
        assert!(
            UdpPacket::new_checked(&bytes[..])
                .unwrap()
                .verify_checksum(SRC, DST)
        );
        // Make the sum come out as 0: choose the source port so that the
        // words add to 0xffff before complementing.
        let mut packet = UdpPacket::new_unchecked(bytes);
        packet.set_src_port(0);
        let partial = !packet.compute_checksum(SRC, DST); // sum without the port
        packet.set_src_port(!partial);
        assert_eq!(packet.compute_checksum(SRC, DST), 0xffff);
        packet.fill_checksum(SRC, DST);
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum(SRC, DST));
    }

    #[test]
    fn checks_lengths() {
        assert_eq!(
            UdpPacket::new_checked(&DATAGRAM[..7]).unwrap_err(),
            Error::Truncated {
                what: "UDP",
                needed: 8,
                got: 7
            }
        );
        assert_eq!(
            UdpPacket::new_checked(&DATAGRAM[..12]).unwrap_err(),
            Error::Truncated {
                what: "UDP",
                needed: 13,
                got: 12
            }
        );
        let mut short = DATAGRAM;
        short[5] = 7;
        assert!(matches!(
            UdpPacket::new_checked(&short[..]),
            Err(Error::Malformed { .. })
        ));
        // Longer buffers are fine: the payload stops at Length.
        let mut padded = DATAGRAM.to_vec();
        padded.extend_from_slice(&[0; 5]);
        assert_eq!(
            UdpPacket::new_checked(&padded[..]).unwrap().payload(),
            b"hello"
        );
    }

    #[test]
    fn parse_rejects_a_bad_checksum() {
        let mut bytes = DATAGRAM;
        bytes[12] ^= 1;
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            UdpRepr::parse(&packet, SRC, DST).unwrap_err(),
            Error::Malformed {
                what: "UDP",
                reason: "bad checksum"
            }
        );
    }
}
