//! ICMP for IPv4 (RFC 792): echo request and reply (ping), destination
//! unreachable and time exceeded (what traceroute listens for).
//!
//! Every message starts with the same 8 bytes; what the second word means
//! depends on the type:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Identifier          |        Sequence Number        |  echo
//! |             unused            |         Next-Hop MTU          |  unreachable
//! |                             unused                            |  time exceeded
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Data (echo) or Internet Header + leading data (errors) ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//! ```
//!
//! The checksum covers the whole ICMP message (RFC 792), with no
//! pseudo-header. An error message quotes the start of the datagram that
//! caused it; [`QuotedDatagram`](super::QuotedDatagram) reads that quote.

use core::fmt;
use core::ops::Range;

use l2_link::wire::{Error, Result};

use super::bytes::{read_u16, read_u32, write_u16, write_u32};
use crate::checksum::checksum;

// ANCHOR: icmp_field
/// Byte positions of the fields (RFC 792).
pub(crate) mod field {
    use core::ops::Range;

    /// The message type.
    pub const TYPE: usize = 0;
    /// The code: a subtype (which kind of "unreachable").
    pub const CODE: usize = 1;
    /// Checksum of the whole message.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The second word, whose meaning depends on the type.
    pub const REST_OF_HEADER: Range<usize> = 4..8;
    /// Echo: identifier (which ping process).
    pub const ECHO_IDENT: Range<usize> = 4..6;
    /// Echo: sequence number (which ping of that process).
    pub const ECHO_SEQ: Range<usize> = 6..8;
    /// Destination unreachable: the unused half before the MTU.
    pub const UNUSED: Range<usize> = 4..6;
    /// Destination unreachable, fragmentation needed: the MTU of the next
    /// hop (RFC 1191 §4).
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    /// Where the data starts.
    pub const DATA: usize = 8;
}
// ANCHOR_END: icmp_field

/// Length of the fixed part of every ICMP message.
pub const HEADER_LEN: usize = field::DATA;

/// Type 0: echo reply.
pub const TYPE_ECHO_REPLY: u8 = 0;
/// Type 3: destination unreachable.
pub const TYPE_DST_UNREACHABLE: u8 = 3;
/// Type 5: redirect.
pub const TYPE_REDIRECT: u8 = 5;
/// Type 8: echo request.
pub const TYPE_ECHO_REQUEST: u8 = 8;
/// Type 11: time exceeded.
pub const TYPE_TIME_EXCEEDED: u8 = 11;
/// Type 12: parameter problem.
pub const TYPE_PARAMETER_PROBLEM: u8 = 12;
/// Type 13: timestamp request.
pub const TYPE_TIMESTAMP: u8 = 13;
/// Type 14: timestamp reply.
pub const TYPE_TIMESTAMP_REPLY: u8 = 14;

/// The name of an ICMP type, for printers (RFC 792; IANA "ICMP Type
/// Numbers"), or `None` for types we do not name.
pub fn type_name(msg_type: u8) -> Option<&'static str> {
    Some(match msg_type {
        TYPE_ECHO_REPLY => "echo reply",
        TYPE_DST_UNREACHABLE => "destination unreachable",
        TYPE_REDIRECT => "redirect",
        TYPE_ECHO_REQUEST => "echo request",
        TYPE_TIME_EXCEEDED => "time exceeded",
        TYPE_PARAMETER_PROBLEM => "parameter problem",
        TYPE_TIMESTAMP => "timestamp request",
        TYPE_TIMESTAMP_REPLY => "timestamp reply",
        _ => return None,
    })
}

/// The first 8 bytes of an echo request or reply, for
/// [`l2_link::wire::layout::diagram`]; the data follows.
pub const ECHO_LAYOUT: &[(&str, Range<usize>)] = &[
    ("Type", field::TYPE..field::TYPE + 1),
    ("Code", field::CODE..field::CODE + 1),
    ("Checksum", field::CHECKSUM),
    ("Identifier", field::ECHO_IDENT),
    ("Sequence Number", field::ECHO_SEQ),
    ("Data ...", field::DATA..field::DATA + 4),
];

/// The first 8 bytes of a destination unreachable message (with RFC
/// 1191's next-hop MTU) and the quote that follows.
pub const DST_UNREACHABLE_LAYOUT: &[(&str, Range<usize>)] = &[
    ("Type = 3", field::TYPE..field::TYPE + 1),
    ("Code", field::CODE..field::CODE + 1),
    ("Checksum", field::CHECKSUM),
    ("unused = 0", field::UNUSED),
    ("Next-Hop MTU", field::NEXT_HOP_MTU),
    (
        "Internet Header + leading data of the original ...",
        field::DATA..field::DATA + 4,
    ),
];

/// A zero-copy view of an ICMP message. The buffer is the message: the
/// checksum covers all of it, so pass exactly the IPv4 payload
/// ([`Ipv4Packet::payload`](super::Ipv4Packet::payload)), not a frame
/// with padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than 8 bytes. Prefer [`new_checked`](Self::new_checked).
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer` after checking that it holds the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 8-byte header is there.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        if got < HEADER_LEN {
            return Err(Error::Truncated {
                what: "ICMP",
                needed: HEADER_LEN,
                got,
            });
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type (`TYPE_ECHO_REQUEST`, …).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// The code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum as stored.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// Echo identifier (bytes 4..6).
    pub fn echo_ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ECHO_IDENT.start)
    }

    /// Echo sequence number (bytes 6..8).
    pub fn echo_seq(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ECHO_SEQ.start)
    }

    /// Next-hop MTU of a "fragmentation needed" message (bytes 6..8,
    /// RFC 1191 §4); zero from routers older than RFC 1191.
    pub fn next_hop_mtu(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::NEXT_HOP_MTU.start)
    }

    /// The whole second word, whatever the type.
    pub fn rest_of_header(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::REST_OF_HEADER.start)
    }

    /// Everything after the 8-byte header: echo data, or an error's quote.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }

    /// True when the message, checksum included, sums to 0xFFFF.
    pub fn verify_checksum(&self) -> bool {
        checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Writes the type.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    /// Writes the code.
    pub fn set_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Writes the checksum as given.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Writes the echo identifier.
    pub fn set_echo_ident(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::ECHO_IDENT.start, value);
    }

    /// Writes the echo sequence number.
    pub fn set_echo_seq(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::ECHO_SEQ.start, value);
    }

    /// Writes the next-hop MTU.
    pub fn set_next_hop_mtu(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::NEXT_HOP_MTU.start, value);
    }

    /// Writes the whole second word.
    pub fn set_rest_of_header(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::REST_OF_HEADER.start, value);
    }

    /// The data, to write into.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }

    /// Computes and writes the checksum over the whole buffer (RFC 792:
    /// "the 16-bit one's complement of the one's complement sum of the
    /// ICMP message starting with the ICMP Type").
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum(self.buffer.as_ref());
        self.set_checksum(sum);
    }
}

/// Why a destination is unreachable: the code of a type 3 message
/// (RFC 792; codes 6–12 RFC 1122 §3.2.2.1, 13–15 RFC 1812 §5.2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstUnreachable {
    /// 0: no route to the network.
    NetUnreachable,
    /// 1: the host did not answer ARP, or no route to it.
    HostUnreachable,
    /// 2: the host does not speak the IP protocol.
    ProtoUnreachable,
    /// 3: nothing listens on the UDP port (what traceroute's last hop
    /// answers).
    PortUnreachable,
    /// 4: the datagram needs fragmenting but has Don't Fragment set; the
    /// message carries the next hop's MTU (RFC 1191).
    FragRequired,
    /// 5: a source route failed.
    SourceRouteFailed,
    /// 6: destination network unknown.
    DstNetUnknown,
    /// 7: destination host unknown.
    DstHostUnknown,
    /// 8: source host isolated.
    SrcHostIsolated,
    /// 9: network administratively prohibited.
    NetProhibited,
    /// 10: host administratively prohibited.
    HostProhibited,
    /// 11: network unreachable for the type of service.
    NetUnreachableForTos,
    /// 12: host unreachable for the type of service.
    HostUnreachableForTos,
    /// 13: communication administratively prohibited (a filter).
    CommProhibited,
    /// 14: host precedence violation.
    HostPrecedenceViolation,
    /// 15: precedence cutoff in effect.
    PrecedenceCutoff,
    /// Any other code, kept as its number.
    Other(u8),
}

impl From<u8> for DstUnreachable {
    fn from(code: u8) -> Self {
        use DstUnreachable::*;
        match code {
            0 => NetUnreachable,
            1 => HostUnreachable,
            2 => ProtoUnreachable,
            3 => PortUnreachable,
            4 => FragRequired,
            5 => SourceRouteFailed,
            6 => DstNetUnknown,
            7 => DstHostUnknown,
            8 => SrcHostIsolated,
            9 => NetProhibited,
            10 => HostProhibited,
            11 => NetUnreachableForTos,
            12 => HostUnreachableForTos,
            13 => CommProhibited,
            14 => HostPrecedenceViolation,
            15 => PrecedenceCutoff,
            other => Other(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(reason: DstUnreachable) -> Self {
        use DstUnreachable::*;
        match reason {
            NetUnreachable => 0,
            HostUnreachable => 1,
            ProtoUnreachable => 2,
            PortUnreachable => 3,
            FragRequired => 4,
            SourceRouteFailed => 5,
            DstNetUnknown => 6,
            DstHostUnknown => 7,
            SrcHostIsolated => 8,
            NetProhibited => 9,
            HostProhibited => 10,
            NetUnreachableForTos => 11,
            HostUnreachableForTos => 12,
            CommProhibited => 13,
            HostPrecedenceViolation => 14,
            PrecedenceCutoff => 15,
            Other(code) => code,
        }
    }
}

impl fmt::Display for DstUnreachable {
    /// In the words tcpdump uses, roughly: `port unreachable`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DstUnreachable::*;
        let text = match self {
            NetUnreachable => "net unreachable",
            HostUnreachable => "host unreachable",
            ProtoUnreachable => "protocol unreachable",
            PortUnreachable => "port unreachable",
            FragRequired => "fragmentation needed",
            SourceRouteFailed => "source route failed",
            DstNetUnknown => "net unknown",
            DstHostUnknown => "host unknown",
            SrcHostIsolated => "source host isolated",
            NetProhibited => "net prohibited",
            HostProhibited => "host prohibited",
            NetUnreachableForTos => "net unreachable for TOS",
            HostUnreachableForTos => "host unreachable for TOS",
            CommProhibited => "communication prohibited by filter",
            HostPrecedenceViolation => "host precedence violation",
            PrecedenceCutoff => "precedence cutoff",
            Other(code) => return write!(f, "unreachable code {code}"),
        };
        f.write_str(text)
    }
}

/// What ran out: the code of a type 11 message (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeExceeded {
    /// 0: the TTL reached zero at a router (what traceroute provokes).
    TtlExpired,
    /// 1: a host gave up reassembling a fragmented datagram.
    FragReassembly,
}

impl TimeExceeded {
    /// The reason for `code`, or `None` for codes RFC 792 does not define.
    pub fn from_code(code: u8) -> Option<TimeExceeded> {
        match code {
            0 => Some(TimeExceeded::TtlExpired),
            1 => Some(TimeExceeded::FragReassembly),
            _ => None,
        }
    }

    /// The code.
    pub fn code(self) -> u8 {
        match self {
            TimeExceeded::TtlExpired => 0,
            TimeExceeded::FragReassembly => 1,
        }
    }
}

impl fmt::Display for TimeExceeded {
    /// tcpdump's words: `in-transit`, `reassembly`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeExceeded::TtlExpired => "in-transit",
            TimeExceeded::FragReassembly => "reassembly",
        })
    }
}

// ANCHOR: icmp_repr
/// The meaning of an ICMP message. Byte slices borrow from the buffer it
/// was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Type 8: "are you there?" (ping).
    EchoRequest {
        /// Chosen by the sender to tell its pings from others' (iputils
        /// ping uses its process ID; a ping socket's kernel picks it).
        ident: u16,
        /// Counts the requests: matches a reply to its request.
        seq: u16,
        /// Anything; the reply must carry it back unchanged.
        data: &'a [u8],
    },
    /// Type 0: the answer, with the request's identifier, sequence number
    /// and data.
    EchoReply {
        /// The request's identifier.
        ident: u16,
        /// The request's sequence number.
        seq: u16,
        /// The request's data.
        data: &'a [u8],
    },
    /// Type 3: the datagram quoted could not be delivered.
    DstUnreachable {
        /// Why.
        reason: DstUnreachable,
        /// With [`DstUnreachable::FragRequired`], the MTU of the link that
        /// was too small (RFC 1191 §4); zero otherwise.
        next_hop_mtu: u16,
        /// The original IP header and the start of its data.
        quoted: &'a [u8],
    },
    /// Type 11: the datagram quoted ran out of TTL (or of time to
    /// reassemble).
    TimeExceeded {
        /// Which.
        reason: TimeExceeded,
        /// The original IP header and the start of its data.
        quoted: &'a [u8],
    },
    /// Any other message (or one of the above with values RFC 792 does not
    /// allow, like a code on an echo), kept field by field so it can be
    /// emitted again unchanged.
    Other {
        /// The type.
        msg_type: u8,
        /// The code.
        code: u8,
        /// The second word.
        rest_of_header: u32,
        /// Everything after.
        data: &'a [u8],
    },
}
// ANCHOR_END: icmp_repr

impl<'a> Icmpv4Repr<'a> {
    /// Reads the message in `packet`, after checking its length and its
    /// checksum (a bad one is `Malformed { reason: "bad checksum" }`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Malformed {
                what: "ICMP",
                reason: "bad checksum",
            });
        }
        // `packet.data()` would borrow from the view; go through the
        // buffer, which lives for 'a.
        let data = packet
            .buffer
            .as_ref()
            .get(field::DATA..)
            .unwrap_or_default();
        let (msg_type, code, rest) = (packet.msg_type(), packet.code(), packet.rest_of_header());
        Ok(match (msg_type, code) {
            (TYPE_ECHO_REQUEST, 0) => Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq: packet.echo_seq(),
                data,
            },
            (TYPE_ECHO_REPLY, 0) => Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq: packet.echo_seq(),
                data,
            },
            // The first half of the word is unused and must be zero
            // (RFC 1191 §4); if it is not, keep the message as Other so
            // that nothing is lost.
            (TYPE_DST_UNREACHABLE, code) if rest >> 16 == 0 => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: packet.next_hop_mtu(),
                quoted: data,
            },
            (TYPE_TIME_EXCEEDED, code) if rest == 0 => match TimeExceeded::from_code(code) {
                Some(reason) => Icmpv4Repr::TimeExceeded {
                    reason,
                    quoted: data,
                },
                None => Icmpv4Repr::Other {
                    msg_type,
                    code,
                    rest_of_header: rest,
                    data,
                },
            },
            _ => Icmpv4Repr::Other {
                msg_type,
                code,
                rest_of_header: rest,
                data,
            },
        })
    }

    /// The data (echo) or quote (errors) this message carries.
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::Other { data, .. } => data,
            Icmpv4Repr::DstUnreachable { quoted, .. } | Icmpv4Repr::TimeExceeded { quoted, .. } => {
                quoted
            }
        }
    }

    /// Length of the message [`emit`](Self::emit) writes: 8 bytes and the
    /// data.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Type, code and second word, as they go on the wire.
    fn header_words(&self) -> (u8, u8, u32) {
        match *self {
            Icmpv4Repr::EchoRequest { ident, seq, .. } => {
                (TYPE_ECHO_REQUEST, 0, echo_word(ident, seq))
            }
            Icmpv4Repr::EchoReply { ident, seq, .. } => (TYPE_ECHO_REPLY, 0, echo_word(ident, seq)),
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => (TYPE_DST_UNREACHABLE, reason.into(), u32::from(next_hop_mtu)),
            Icmpv4Repr::TimeExceeded { reason, .. } => (TYPE_TIME_EXCEEDED, reason.code(), 0),
            Icmpv4Repr::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => (msg_type, code, rest_of_header),
        }
    }

    // ANCHOR: icmp_emit
    /// Writes the message into the start of `packet` and fills in the
    /// checksum, computed over the first [`buffer_len`](Self::buffer_len)
    /// bytes: the message, not whatever the buffer holds after it.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Icmpv4Packet<&mut T>) {
        let (msg_type, code, rest) = self.header_words();
        let data = self.data();
        packet.set_msg_type(msg_type);
        packet.set_code(code);
        packet.set_rest_of_header(rest);
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.set_checksum(0);
        let sum = checksum(&packet.buffer.as_ref()[..self.buffer_len()]);
        packet.set_checksum(sum);
    }
    // ANCHOR_END: icmp_emit

    /// Builds the whole message.
    pub fn build(&self) -> Vec<u8> {
        let mut buffer = vec![0u8; self.buffer_len()];
        self.emit(&mut Icmpv4Packet::new_unchecked(&mut buffer));
        buffer
    }
}

/// The second word of an echo: identifier, then sequence number.
fn echo_word(ident: u16, seq: u16) -> u32 {
    (u32::from(ident) << 16) | u32::from(seq)
}

// ANCHOR: icmp_echo
impl<'a> Icmpv4Repr<'a> {
    /// The echo reply to `request` (RFC 792, "Echo or Echo Reply Message"):
    /// the same identifier, sequence number and data, with the type changed
    /// to 0. `None` when `request` is not an echo request: only requests
    /// are answered (never an error about an error, or a reply to a reply).
    pub fn echo_reply_to(request: &Icmpv4Repr<'a>) -> Option<Icmpv4Repr<'a>> {
        match *request {
            Icmpv4Repr::EchoRequest { ident, seq, data } => {
                Some(Icmpv4Repr::EchoReply { ident, seq, data })
            }
            _ => None,
        }
    }
}
// ANCHOR_END: icmp_echo

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo request, id 0x1234 seq 1, data "abcd", by hand: the checksum
    /// is !(0x0800 + 0x1234 + 0x0001 + 0x6162 + 0x6364) = !0xdefb = 0x2104.
    const ECHO: [u8; 12] = [
        8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd',
    ];

    #[test]
    fn reads_a_hand_written_echo_request() {
        let packet = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert!(packet.verify_checksum());
        assert_eq!(
            Icmpv4Repr::parse(&packet).unwrap(),
            Icmpv4Repr::EchoRequest {
                ident: 0x1234,
                seq: 1,
                data: b"abcd"
            }
        );
    }

    #[test]
    fn emits_the_hand_written_echo_request() {
        let repr = Icmpv4Repr::EchoRequest {
            ident: 0x1234,
            seq: 1,
            data: b"abcd",
        };
        // A longer buffer: the checksum must cover only the message.
        let mut out = vec![0xee; 20];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out));
        assert_eq!(out[..12], ECHO);
    }

    #[test]
    fn rejects_bad_checksums_and_short_buffers() {
        let mut bad = ECHO;
        bad[11] ^= 1;
        let packet = Icmpv4Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            Icmpv4Repr::parse(&packet).unwrap_err(),
            Error::Malformed {
                what: "ICMP",
                reason: "bad checksum"
            }
        );
        assert!(Icmpv4Packet::new_checked(&ECHO[..7]).is_err());
        assert!(Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(&ECHO[..7])).is_err());
    }

    #[test]
    fn codes_convert_both_ways() {
        for code in 0..=255u8 {
            assert_eq!(u8::from(DstUnreachable::from(code)), code);
        }
        assert_eq!(DstUnreachable::from(4), DstUnreachable::FragRequired);
        assert_eq!(TimeExceeded::from_code(2), None);
    }

    #[test]
    fn unusual_values_are_kept_as_other() {
        // An echo request with code 1 is not an echo request RFC 792 knows.
        let mut odd = ECHO;
        odd[1] = 1;
        let mut packet = Icmpv4Packet::new_unchecked(&mut odd[..]);
        packet.fill_checksum();
        let repr = Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(&odd[..])).unwrap();
        assert!(matches!(
            repr,
            Icmpv4Repr::Other {
                msg_type: 8,
                code: 1,
                ..
            }
        ));
        assert_eq!(repr.build(), odd);
    }

    #[test]
    fn echo_reply_mirrors_the_request() {
        let request = Icmpv4Repr::EchoRequest {
            ident: 7,
            seq: 9,
            data: b"x",
        };
        assert_eq!(
            Icmpv4Repr::echo_reply_to(&request),
            Some(Icmpv4Repr::EchoReply {
                ident: 7,
                seq: 9,
                data: b"x"
            })
        );
        let reply = Icmpv4Repr::echo_reply_to(&request).unwrap();
        assert_eq!(Icmpv4Repr::echo_reply_to(&reply), None);
    }
}
