//! EtherType: the two bytes that say what an Ethernet frame carries.

use std::fmt;

/// The protocol carried in an Ethernet II frame (IEEE 802.3 §3.2.6; the
/// registry is IEEE's). Values below 0x0600 are not EtherTypes but 802.3
/// lengths; [`EtherType::is_length`] tells them apart.
// ANCHOR: ethertype
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtherType(pub u16);

impl EtherType {
    /// Internet Protocol version 4 (RFC 894).
    pub const IPV4: EtherType = EtherType(0x0800);
    /// Address Resolution Protocol (RFC 826).
    pub const ARP: EtherType = EtherType(0x0806);
    /// IEEE 802.1Q VLAN tag (the TPID of a tagged frame).
    pub const VLAN: EtherType = EtherType(0x8100);
    /// Internet Protocol version 6 (RFC 2464).
    pub const IPV6: EtherType = EtherType(0x86DD);
    /// IEEE 802 "local experimental" EtherType 1: free for anyone's own
    /// protocol on their own network. rawstack's custom protocol uses it.
    pub const LOCAL_EXPERIMENTAL_1: EtherType = EtherType(0x88B5);
    /// IEEE 802 local experimental EtherType 2.
    pub const LOCAL_EXPERIMENTAL_2: EtherType = EtherType(0x88B6);

    /// True when the value is an 802.3 length (≤ 1500), not a protocol.
    pub fn is_length(&self) -> bool {
        self.0 <= 1500
    }

    /// A short name for the well-known values, for printers.
    pub fn name(&self) -> Option<&'static str> {
        Some(match *self {
            Self::IPV4 => "IPv4",
            Self::ARP => "ARP",
            Self::VLAN => "802.1Q",
            Self::IPV6 => "IPv6",
            Self::LOCAL_EXPERIMENTAL_1 => "local-exp-1",
            Self::LOCAL_EXPERIMENTAL_2 => "local-exp-2",
            _ => return None,
        })
    }
}
// ANCHOR_END: ethertype

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        EtherType(value)
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        value.0
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None if self.is_length() => write!(f, "length {}", self.0),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

impl fmt::Debug for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EtherType(0x{:04x})", self.0)
    }
}
