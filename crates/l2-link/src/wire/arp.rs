//! ARP, the Address Resolution Protocol (RFC 826): "who has IPv4 address X?
//! tell me your MAC address".
//!
//! The packet format is generic — a hardware type and a protocol type, each
//! with its address length — so [`ArpPacket`] reads any ARP packet.
//! [`ArpRepr`] is the one combination a host on an Ethernet speaking IPv4
//! uses: hardware Ethernet (6-byte addresses), protocol IPv4 (4-byte
//! addresses), 28 bytes in all.

use core::ops::Range;
use std::net::Ipv4Addr;

use super::bytes::{read_mac, read_u16, write_u16};
use super::{Error, EtherType, MacAddr, Result};

/// Hardware type 1: Ethernet (RFC 826, "ar$hrd"; IANA "Hardware Types").
pub const HARDWARE_ETHERNET: u16 = 1;

/// Byte positions of the fields (RFC 826, "Packet format"). The first five
/// are fixed; the four addresses follow, and where each one sits depends on
/// the two length fields, so they are functions of those lengths.
// ANCHOR: arp_field
pub(crate) mod field {
    use core::ops::Range;

    /// ar$hrd: hardware address space (1 = Ethernet).
    pub const HARDWARE_TYPE: Range<usize> = 0..2;
    /// ar$pro: protocol address space, an EtherType (0x0800 = IPv4).
    pub const PROTOCOL_TYPE: Range<usize> = 2..4;
    /// ar$hln: length of each hardware address.
    pub const HARDWARE_LEN: usize = 4;
    /// ar$pln: length of each protocol address.
    pub const PROTOCOL_LEN: usize = 5;
    /// ar$op: request or reply.
    pub const OPERATION: Range<usize> = 6..8;
    /// Where the addresses start.
    pub const ADDRESSES: usize = 8;

    /// ar$sha: sender hardware address.
    pub const fn sender_hardware(hlen: usize, _plen: usize) -> Range<usize> {
        ADDRESSES..ADDRESSES + hlen
    }
    /// ar$spa: sender protocol address.
    pub const fn sender_protocol(hlen: usize, plen: usize) -> Range<usize> {
        let start = sender_hardware(hlen, plen).end;
        start..start + plen
    }
    /// ar$tha: target hardware address.
    pub const fn target_hardware(hlen: usize, plen: usize) -> Range<usize> {
        let start = sender_protocol(hlen, plen).end;
        start..start + hlen
    }
    /// ar$tpa: target protocol address.
    pub const fn target_protocol(hlen: usize, plen: usize) -> Range<usize> {
        let start = target_hardware(hlen, plen).end;
        start..start + plen
    }
}
// ANCHOR_END: arp_field

/// Length of an Ethernet/IPv4 ARP packet: 8 fixed bytes and 2 × (6 + 4).
pub const ETHERNET_IPV4_LEN: usize = field::target_protocol(6, 4).end;

/// The Ethernet/IPv4 packet, field by field, for [`super::layout::diagram`].
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Hardware Type", field::HARDWARE_TYPE),
    ("Protocol Type", field::PROTOCOL_TYPE),
    ("HLEN", field::HARDWARE_LEN..field::HARDWARE_LEN + 1),
    ("PLEN", field::PROTOCOL_LEN..field::PROTOCOL_LEN + 1),
    ("Operation", field::OPERATION),
    ("Sender Hardware Address", field::sender_hardware(6, 4)),
    ("Sender Protocol Address", field::sender_protocol(6, 4)),
    ("Target Hardware Address", field::target_hardware(6, 4)),
    ("Target Protocol Address", field::target_protocol(6, 4)),
];

/// A zero-copy view of an ARP packet of any hardware and protocol type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than the packet. Prefer [`new_checked`](Self::new_checked)
    /// for bytes from the wire.
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after checking that it holds the fixed part and the
    /// four addresses its length fields announce.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the whole packet.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        let truncated = |needed| Error::Truncated {
            what: "ARP",
            needed,
            got,
        };
        if got < field::ADDRESSES {
            return Err(truncated(field::ADDRESSES));
        }
        // The length fields are inside the fixed part, just checked.
        let needed = self.target_protocol_range().end;
        if got < needed {
            return Err(truncated(needed));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (ar$hrd); [`HARDWARE_ETHERNET`] on Ethernet.
    pub fn hardware_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::HARDWARE_TYPE.start)
    }

    /// Protocol type (ar$pro), in EtherType numbering.
    pub fn protocol_type(&self) -> EtherType {
        EtherType(read_u16(self.buffer.as_ref(), field::PROTOCOL_TYPE.start))
    }

    /// Length in bytes of each hardware address (ar$hln).
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HARDWARE_LEN]
    }

    /// Length in bytes of each protocol address (ar$pln).
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL_LEN]
    }

    /// What the sender asks or answers (ar$op).
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(read_u16(self.buffer.as_ref(), field::OPERATION.start))
    }

    /// The two lengths as `usize`, for computing address positions.
    fn lens(&self) -> (usize, usize) {
        (self.hardware_len().into(), self.protocol_len().into())
    }

    fn sender_hardware_range(&self) -> Range<usize> {
        let (hlen, plen) = self.lens();
        field::sender_hardware(hlen, plen)
    }

    fn sender_protocol_range(&self) -> Range<usize> {
        let (hlen, plen) = self.lens();
        field::sender_protocol(hlen, plen)
    }

    fn target_hardware_range(&self) -> Range<usize> {
        let (hlen, plen) = self.lens();
        field::target_hardware(hlen, plen)
    }

    fn target_protocol_range(&self) -> Range<usize> {
        let (hlen, plen) = self.lens();
        field::target_protocol(hlen, plen)
    }

    /// Sender hardware address (ar$sha), `hardware_len` bytes.
    pub fn sender_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sender_hardware_range()]
    }

    /// Sender protocol address (ar$spa), `protocol_len` bytes.
    pub fn sender_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sender_protocol_range()]
    }

    /// Target hardware address (ar$tha), `hardware_len` bytes.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.target_hardware_range()]
    }

    /// Target protocol address (ar$tpa), `protocol_len` bytes.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.target_protocol_range()]
    }

    /// Length of the packet as its length fields describe it; bytes after
    /// that (Ethernet padding) are not part of it.
    pub fn packet_len(&self) -> usize {
        self.target_protocol_range().end
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Writes the hardware type.
    pub fn set_hardware_type(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::HARDWARE_TYPE.start, value);
    }

    /// Writes the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        write_u16(self.buffer.as_mut(), field::PROTOCOL_TYPE.start, value.0);
    }

    /// Writes the hardware address length. Set the lengths before the
    /// addresses: they decide where the addresses go.
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HARDWARE_LEN] = value;
    }

    /// Writes the protocol address length.
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PROTOCOL_LEN] = value;
    }

    /// Writes the operation.
    pub fn set_operation(&mut self, value: ArpOperation) {
        write_u16(self.buffer.as_mut(), field::OPERATION.start, value.into());
    }

    /// Writes the sender hardware address.
    ///
    /// # Panics
    /// If `value` is not `hardware_len` bytes long.
    pub fn set_sender_hardware_addr(&mut self, value: &[u8]) {
        let range = self.sender_hardware_range();
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Writes the sender protocol address.
    ///
    /// # Panics
    /// If `value` is not `protocol_len` bytes long.
    pub fn set_sender_protocol_addr(&mut self, value: &[u8]) {
        let range = self.sender_protocol_range();
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Writes the target hardware address.
    ///
    /// # Panics
    /// If `value` is not `hardware_len` bytes long.
    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        let range = self.target_hardware_range();
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Writes the target protocol address.
    ///
    /// # Panics
    /// If `value` is not `protocol_len` bytes long.
    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        let range = self.target_protocol_range();
        self.buffer.as_mut()[range].copy_from_slice(value);
    }
}

/// What an ARP packet asks or answers (RFC 826 ar$op; RFC 5494 lists the
/// rest of the registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// 1: "who has this protocol address?"
    Request,
    /// 2: "I have it, here is my hardware address."
    Reply,
    /// Anything else (RARP, InARP, …), kept as its number.
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(value: u16) -> Self {
        match value {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(value: ArpOperation) -> Self {
        match value {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

// ANCHOR: arp_repr
/// The meaning of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Request or reply.
    pub operation: ArpOperation,
    /// The MAC address of the station sending this packet.
    pub sender_mac: MacAddr,
    /// The IPv4 address of the station sending this packet.
    pub sender_ip: Ipv4Addr,
    /// The MAC address asked about: zero in a request (unknown, that is the
    /// question), the requester's in a reply.
    pub target_mac: MacAddr,
    /// The IPv4 address asked about (request) or the requester's (reply).
    pub target_ip: Ipv4Addr,
}
// ANCHOR_END: arp_repr

impl ArpRepr {
    /// Reads an Ethernet/IPv4 ARP packet. Other hardware or protocol types,
    /// or other address lengths, are [`Error::Unsupported`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &ArpPacket<&T>) -> Result<ArpRepr> {
        packet.check_len()?;
        let unsupported = |reason| Error::Unsupported {
            what: "ARP",
            reason,
        };
        if packet.hardware_type() != HARDWARE_ETHERNET {
            return Err(unsupported("hardware type is not Ethernet (1)"));
        }
        if packet.protocol_type() != EtherType::IPV4 {
            return Err(unsupported("protocol type is not IPv4 (0x0800)"));
        }
        if packet.hardware_len() != 6 {
            return Err(unsupported("hardware address length is not 6"));
        }
        if packet.protocol_len() != 4 {
            return Err(unsupported("protocol address length is not 4"));
        }
        // The lengths are now 6 and 4: the addresses sit at the fixed
        // Ethernet/IPv4 positions.
        let data = packet.buffer.as_ref();
        Ok(ArpRepr {
            operation: packet.operation(),
            sender_mac: read_mac(data, field::sender_hardware(6, 4)),
            sender_ip: read_ipv4(data, field::sender_protocol(6, 4)),
            target_mac: read_mac(data, field::target_hardware(6, 4)),
            target_ip: read_ipv4(data, field::target_protocol(6, 4)),
        })
    }

    /// Length of the packet [`emit`](Self::emit) writes: always 28.
    pub fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into the start of `packet`.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut ArpPacket<&mut T>) {
        packet.set_hardware_type(HARDWARE_ETHERNET);
        packet.set_protocol_type(EtherType::IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_sender_hardware_addr(&self.sender_mac.0);
        packet.set_sender_protocol_addr(&self.sender_ip.octets());
        packet.set_target_hardware_addr(&self.target_mac.0);
        packet.set_target_protocol_addr(&self.target_ip.octets());
    }

    // ANCHOR: arp_request
    /// "Who has `target_ip`? Tell `sender_ip`": the question a host
    /// broadcasts before it can send to a neighbour (RFC 826). The target
    /// MAC is what we want to learn, so it is zero.
    pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            sender_mac,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        }
    }
    // ANCHOR_END: arp_request

    // ANCHOR: arp_reply
    /// The answer to `request` from the station that owns its target
    /// address, `my_mac`: RFC 826 says to swap sender and target, put our
    /// own addresses in the sender fields and set the opcode to reply.
    /// (Whether to answer at all — is the target IP ours? — is the
    /// caller's decision.)
    pub fn reply_to(request: &ArpRepr, my_mac: MacAddr) -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Reply,
            sender_mac: my_mac,
            sender_ip: request.target_ip,
            target_mac: request.sender_mac,
            target_ip: request.sender_ip,
        }
    }
    // ANCHOR_END: arp_reply

    // ANCHOR: arp_gratuitous
    /// An ARP announcement (RFC 5227 §3): a request, broadcast, that asks
    /// for our own address. Nobody should answer; every neighbour that has
    /// `ip` in its cache updates it to `mac`.
    pub fn gratuitous(mac: MacAddr, ip: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: mac,
            sender_ip: ip,
            target_mac: MacAddr::ZERO,
            target_ip: ip,
        }
    }

    /// True for a gratuitous ARP: a request or reply whose sender announces
    /// the very address it names as target.
    pub fn is_gratuitous(&self) -> bool {
        matches!(self.operation, ArpOperation::Request | ArpOperation::Reply)
            && self.sender_ip == self.target_ip
    }
    // ANCHOR_END: arp_gratuitous
}

/// Reads four bytes of `field` as an IPv4 address.
fn read_ipv4(data: &[u8], field: Range<usize>) -> Ipv4Addr {
    let mut octets = [0u8; 4];
    octets.copy_from_slice(&data[field]);
    Ipv4Addr::from(octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Who has 198.18.0.1? Tell 198.18.0.2", laid out by hand from the
    /// field order of RFC 826.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, // hardware type: Ethernet
        0x08, 0x00, // protocol type: IPv4
        6, 4, // address lengths
        0x00, 0x01, // operation: request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x12, // sender MAC
        198, 18, 0, 2, // sender IP
        0, 0, 0, 0, 0, 0, // target MAC: unknown
        198, 18, 0, 1, // target IP
    ];

    const OUR_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x12]);
    const ALPHA_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

    #[test]
    fn parses_a_request() {
        let packet = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let repr = ArpRepr::parse(&packet).unwrap();
        assert_eq!(repr, ArpRepr::request(OUR_MAC, OUR_IP, ALPHA_IP));
        assert_eq!(packet.packet_len(), 28);
    }

    #[test]
    fn emits_a_request() {
        let mut out = [0xee; 28];
        ArpRepr::request(OUR_MAC, OUR_IP, ALPHA_IP).emit(&mut ArpPacket::new_unchecked(&mut out));
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn rejects_truncated_packets() {
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..7]).unwrap_err(),
            Error::Truncated {
                what: "ARP",
                needed: 8,
                got: 7
            }
        );
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated {
                what: "ARP",
                needed: 28,
                got: 27
            }
        );
        // parse checks too, even when the view was made unchecked.
        assert!(ArpRepr::parse(&ArpPacket::new_unchecked(&REQUEST[..20])).is_err());
    }

    #[test]
    fn reads_other_address_lengths_but_does_not_parse_them() {
        // A made-up hardware type with 2-byte addresses, IPv4 protocol.
        let packet = [
            0, 9, 8, 0, 2, 4, 0, 1, 0xa, 0xb, 1, 2, 3, 4, 0xc, 0xd, 5, 6, 7, 8,
        ];
        let view = ArpPacket::new_checked(&packet[..]).unwrap();
        assert_eq!(view.sender_hardware_addr(), &[0xa, 0xb]);
        assert_eq!(view.sender_protocol_addr(), &[1, 2, 3, 4]);
        assert_eq!(view.target_hardware_addr(), &[0xc, 0xd]);
        assert_eq!(view.target_protocol_addr(), &[5, 6, 7, 8]);
        assert!(matches!(
            ArpRepr::parse(&view),
            Err(Error::Unsupported { what: "ARP", .. })
        ));
    }

    #[test]
    fn rejects_each_unsupported_field() {
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut packet = [0u8; 64];
            packet[..28].copy_from_slice(&REQUEST);
            packet[at] = value;
            let result = ArpRepr::parse(&ArpPacket::new_unchecked(&packet[..]));
            assert!(
                matches!(result, Err(Error::Unsupported { .. })),
                "byte {at} = {value}: {result:?}"
            );
        }
    }

    #[test]
    fn reply_swaps_the_roles() {
        let request = ArpRepr::request(ALPHA_MAC, ALPHA_IP, OUR_IP);
        let reply = ArpRepr::reply_to(&request, OUR_MAC);
        assert_eq!(reply.operation, ArpOperation::Reply);
        assert_eq!((reply.sender_mac, reply.sender_ip), (OUR_MAC, OUR_IP));
        assert_eq!((reply.target_mac, reply.target_ip), (ALPHA_MAC, ALPHA_IP));
        assert!(!request.is_gratuitous() && !reply.is_gratuitous());
    }

    #[test]
    fn gratuitous_announces_its_own_address() {
        let announce = ArpRepr::gratuitous(OUR_MAC, OUR_IP);
        assert_eq!(announce.operation, ArpOperation::Request);
        assert_eq!(announce.sender_ip, announce.target_ip);
        assert_eq!(announce.target_mac, MacAddr::ZERO);
        assert!(announce.is_gratuitous());
        let odd = ArpRepr {
            operation: ArpOperation::Unknown(3),
            ..announce
        };
        assert!(!odd.is_gratuitous());
    }

    #[test]
    fn operation_numbers() {
        assert_eq!(ArpOperation::from(1), ArpOperation::Request);
        assert_eq!(ArpOperation::from(2), ArpOperation::Reply);
        assert_eq!(ArpOperation::from(8), ArpOperation::Unknown(8));
        assert_eq!(u16::from(ArpOperation::Reply), 2);
    }
}
