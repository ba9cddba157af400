//! MAC addresses (IEEE 802 48-bit addresses).

use std::fmt;
use std::str::FromStr;

/// A 48-bit IEEE 802 MAC address, as it travels on the wire.
///
/// Two bits of the first octet carry meaning (IEEE 802-2014 §8.2):
/// bit 0 (the I/G bit) marks a group (multicast) address, and bit 1 (the U/L
/// bit) marks a locally administered one — the kind the lab gives its
/// interfaces (`02:00:00:00:00:xx`).
// ANCHOR: mac_addr
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`: every station on the segment.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`: "unknown", as in an ARP request's target field.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// True for the all-ones broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True for group addresses (I/G bit set), which includes broadcast.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for an address to one station (I/G bit clear).
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// True when the U/L bit says the address was assigned locally rather
    /// than burned in by a manufacturer under its OUI.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}
// ANCHOR_END: mac_addr

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMacError(String);

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid MAC address {:?} (expected six hex pairs like 02:00:00:00:00:12)",
            self.0
        )
    }
}

impl std::error::Error for ParseMacError {}

impl FromStr for MacAddr {
    type Err = ParseMacError;

    /// Parses `aa:bb:cc:dd:ee:ff` (also accepts `-` as the separator).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError(s.to_string());
        let mut octets = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for octet in octets.iter_mut() {
            let part = parts.next().ok_or_else(err)?;
            // from_str_radix alone would accept "+2": insist on two hex digits.
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(octets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let mac: MacAddr = "02:00:00:00:00:12".parse().unwrap();
        assert_eq!(mac, MacAddr([2, 0, 0, 0, 0, 0x12]));
        assert_eq!(mac.to_string(), "02:00:00:00:00:12");
        assert_eq!(
            "AA-BB-cc-dd-ee-ff".parse::<MacAddr>().unwrap().to_string(),
            "aa:bb:cc:dd:ee:ff"
        );
    }

    #[test]
    fn rejects_bad_strings() {
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:12:34",
            "2:0:0:0:0:12",
            "zz:00:00:00:00:00",
            "+2:00:00:00:00:00",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn address_bits() {
        assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
        let lab: MacAddr = "02:00:00:00:00:12".parse().unwrap();
        assert!(lab.is_unicast() && lab.is_locally_administered() && !lab.is_broadcast());
        let ipv4_mcast: MacAddr = "01:00:5e:00:00:01".parse().unwrap();
        assert!(
            ipv4_mcast.is_multicast()
                && !ipv4_mcast.is_broadcast()
                && !ipv4_mcast.is_locally_administered()
        );
    }
}
