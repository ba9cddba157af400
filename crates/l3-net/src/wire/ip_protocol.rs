//! The IPv4 Protocol field: what the payload is.

use std::fmt;

/// The protocol an IPv4 packet carries (RFC 791 §3.1 "Protocol"; the
/// numbers are IANA's "Assigned Internet Protocol Numbers" registry, once
/// RFC 790/1700). IPv6 calls the same numbers "Next Header".
// ANCHOR: ip_protocol
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// Internet Control Message Protocol (RFC 792).
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// Internet Group Management Protocol (RFC 3376).
    pub const IGMP: IpProtocol = IpProtocol(2);
    /// Transmission Control Protocol (RFC 9293).
    pub const TCP: IpProtocol = IpProtocol(6);
    /// User Datagram Protocol (RFC 768).
    pub const UDP: IpProtocol = IpProtocol(17);

    /// A short name for the well-known values, for printers.
    pub fn name(&self) -> Option<&'static str> {
        Some(match *self {
            Self::ICMP => "ICMP",
            Self::IGMP => "IGMP",
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            _ => return None,
        })
    }
}
// ANCHOR_END: ip_protocol

impl From<u8> for IpProtocol {
    fn from(value: u8) -> Self {
        IpProtocol(value)
    }
}

impl From<IpProtocol> for u8 {
    fn from(value: IpProtocol) -> Self {
        value.0
    }
}

impl fmt::Display for IpProtocol {
    /// The name (`UDP`), or `proto 253` for numbers without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "proto {}", self.0),
        }
    }
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpProtocol({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(IpProtocol::UDP.to_string(), "UDP");
        assert_eq!(IpProtocol(253).to_string(), "proto 253");
        assert_eq!(u8::from(IpProtocol::TCP), 6);
        assert_eq!(format!("{:?}", IpProtocol::ICMP), "IpProtocol(1)");
    }
}
