//! The eight control bits of a TCP header (RFC 9293 §3.1, RFC 3168 §6.1).

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

// ANCHOR: tcp_flags
/// The control bits of a segment: byte 13 of the header, one bit each
/// (RFC 9293 §3.1 "Control bits"; CWR and ECE from RFC 3168 §6.1).
///
/// ```text
///   bit 7   6   5   4   3   2   1   0
///     CWR ECE URG ACK PSH RST SYN FIN
/// ```
///
/// A tiny set type: combine with `|`, test with
/// [`contains`](Self::contains). Printed the way tcpdump prints them:
/// `[S]`, `[S.]` (SYN and ACK), `[P.]`, `[F.]`, `[R]`, `[.]` (ACK alone).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No control bits at all (a "null" segment, as some scanners send).
    pub const EMPTY: TcpFlags = TcpFlags(0);
    /// FIN: no more data from the sender; takes one sequence number.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronize sequence numbers; takes one sequence number.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push the data to the application now.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgment number is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: the urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN-Echo (RFC 3168): congestion was seen, or (on a SYN) ECN
    /// is supported.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: Congestion Window Reduced (RFC 3168), the answer to ECE.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// The bits as they sit in byte 13.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True when no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every bit of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when some bit of `other` is set in `self`.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the bits of `other`.
    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    /// Clears the bits of `other`.
    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }
}
// ANCHOR_END: tcp_flags

/// tcpdump's letters, in tcpdump's order (print-tcp.c,
/// `tcp_flag_values`): ACK is `.`.
const LETTERS: [(TcpFlags, char); 8] = [
    (TcpFlags::FIN, 'F'),
    (TcpFlags::SYN, 'S'),
    (TcpFlags::RST, 'R'),
    (TcpFlags::PSH, 'P'),
    (TcpFlags::ACK, '.'),
    (TcpFlags::URG, 'U'),
    (TcpFlags::ECE, 'E'),
    (TcpFlags::CWR, 'W'),
];

/// The flags' names, in the same order, for [`fmt::Debug`].
const NAMES: [(TcpFlags, &str); 8] = [
    (TcpFlags::FIN, "FIN"),
    (TcpFlags::SYN, "SYN"),
    (TcpFlags::RST, "RST"),
    (TcpFlags::PSH, "PSH"),
    (TcpFlags::ACK, "ACK"),
    (TcpFlags::URG, "URG"),
    (TcpFlags::ECE, "ECE"),
    (TcpFlags::CWR, "CWR"),
];

impl TcpFlags {
    /// The names of the bits that are set, like `["SYN", "ACK"]`, in
    /// tcpdump's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & other.0)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump's form: `[S.]`, or `[none]` when no bit is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("[none]");
        }
        let letters: String = LETTERS
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, letter)| letter)
            .collect();
        write!(f, "[{letters}]")
    }
}

impl fmt::Debug for TcpFlags {
    /// `TcpFlags(SYN | ACK)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.names().collect();
        write!(f, "TcpFlags({})", names.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_tcpdump() {
        assert_eq!(TcpFlags::SYN.to_string(), "[S]");
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "[S.]");
        assert_eq!((TcpFlags::PSH | TcpFlags::ACK).to_string(), "[P.]");
        assert_eq!((TcpFlags::FIN | TcpFlags::ACK).to_string(), "[F.]");
        assert_eq!(TcpFlags::RST.to_string(), "[R]");
        assert_eq!(TcpFlags::ACK.to_string(), "[.]");
        assert_eq!(TcpFlags::EMPTY.to_string(), "[none]");
        assert_eq!(TcpFlags(0xff).to_string(), "[FSRP.UEW]");
    }

    #[test]
    fn set_operations() {
        let mut flags = TcpFlags::SYN | TcpFlags::ACK;
        assert!(flags.contains(TcpFlags::SYN) && flags.contains(TcpFlags::ACK));
        assert!(!flags.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(flags.intersects(TcpFlags::SYN | TcpFlags::FIN));
        flags.remove(TcpFlags::SYN);
        assert_eq!(flags, TcpFlags::ACK);
        flags.insert(TcpFlags::FIN);
        assert_eq!(flags.bits(), 0x11);
        assert_eq!(flags & TcpFlags::FIN, TcpFlags::FIN);
        assert_eq!(format!("{flags:?}"), "TcpFlags(FIN | ACK)");
    }
}
