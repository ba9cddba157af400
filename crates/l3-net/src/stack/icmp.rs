//! The ICMP messages a host or router makes itself: echo replies and error
//! messages, and the rules for when an error must *not* be sent.
//!
//! Errors about errors are how networks melt down: a broadcast that every
//! host answers with an error, or two routers bouncing errors about each
//! other's errors. RFC 1122 §3.2.2 and RFC 1812 §4.3.2.7 list what never
//! earns an ICMP error; [`error_forbidden`] checks that list.

use std::fmt;
use std::net::Ipv4Addr;

use crate::wire::{
    DstUnreachable, Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4Repr, MAX_ERROR_QUOTE_LEN,
    TimeExceeded, icmp_error_quote,
};

/// The TTL of every datagram our stack originates (Linux's default,
/// `net.ipv4.ip_default_ttl`).
pub const DEFAULT_TTL: u8 = 64;

/// DSCP of ICMP errors: class selector 6, "internetwork control" — RFC
/// 1812 §4.3.2.5 gives errors precedence 6, as Linux does (TOS 0xc0).
pub const ERROR_DSCP: u8 = 48;

/// An ICMP error our stack can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// Type 3: could not deliver; with [`DstUnreachable::FragRequired`],
    /// the next hop's MTU.
    DstUnreachable(DstUnreachable, u16),
    /// Type 11: TTL ran out, or reassembly took too long.
    TimeExceeded(TimeExceeded),
}

impl fmt::Display for IcmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpError::DstUnreachable(DstUnreachable::FragRequired, mtu) => {
                write!(f, "ICMP fragmentation needed (mtu {mtu})")
            }
            IcmpError::DstUnreachable(reason, _) => write!(f, "ICMP {reason}"),
            IcmpError::TimeExceeded(reason) => write!(f, "ICMP time exceeded {reason}"),
        }
    }
}

/// Why no ICMP error may be sent about a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// It is an ICMP error itself.
    AboutIcmpError,
    /// It is a fragment other than the first (which alone holds the
    /// transport header the error would need to quote).
    NonFirstFragment,
    /// It was sent to an IP broadcast or multicast address.
    ToBroadcast,
    /// It arrived as a link-layer broadcast or multicast.
    LinkBroadcast,
    /// Its source does not name one host: 0.0.0.0, loopback, broadcast,
    /// multicast or reserved (class E).
    BadSource,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forbidden::AboutIcmpError => "it is an ICMP error itself",
            Forbidden::NonFirstFragment => "it is not the first fragment",
            Forbidden::ToBroadcast => "it was sent to a broadcast or multicast address",
            Forbidden::LinkBroadcast => "it arrived as a link-layer broadcast",
            Forbidden::BadSource => "its source is not a single host",
        })
    }
}

/// True for an address that names no single host, so it may not be a
/// datagram's source (RFC 1812 §4.2.2.11, §5.3.7): 0.0.0.0/8, 127.0.0.0/8,
/// multicast 224.0.0.0/4, and 240.0.0.0/4 (reserved, and the limited
/// broadcast 255.255.255.255).
pub fn is_martian_source(addr: Ipv4Addr) -> bool {
    let first = addr.octets()[0];
    first == 0 || addr.is_loopback() || addr.is_multicast() || first >= 240
}

/// ICMP types that are queries, not errors: echo (0, 8), timestamp
/// (13, 14), information (15, 16), address mask (17, 18). Any other type
/// is treated as an error, erring on the side of silence.
fn is_icmp_query(msg_type: u8) -> bool {
    matches!(msg_type, 0 | 8 | 13..=18)
}

// ANCHOR: error_forbidden
/// Checks RFC 1812 §4.3.2.7 (and RFC 1122 §3.2.2): may an ICMP error be
/// sent about the datagram with this `header`, whose payload starts with
/// `payload_start`? `is_broadcast` says whether an address is a broadcast
/// address on the receiving link; `link_broadcast` whether the frame was
/// sent to a broadcast or multicast MAC.
pub fn error_forbidden(
    header: &Ipv4Repr,
    payload_start: &[u8],
    link_broadcast: bool,
    is_broadcast: impl Fn(Ipv4Addr) -> bool,
) -> Option<Forbidden> {
    let dst = header.dst_addr;
    if header.frag_offset != 0 {
        return Some(Forbidden::NonFirstFragment);
    }
    if header.protocol == IpProtocol::ICMP
        && payload_start
            .first()
            .is_some_and(|&msg_type| !is_icmp_query(msg_type))
    {
        return Some(Forbidden::AboutIcmpError);
    }
    if dst.is_multicast() || dst.is_broadcast() || is_broadcast(dst) {
        return Some(Forbidden::ToBroadcast);
    }
    if link_broadcast {
        return Some(Forbidden::LinkBroadcast);
    }
    if is_martian_source(header.src_addr) || is_broadcast(header.src_addr) {
        return Some(Forbidden::BadSource);
    }
    None
}
// ANCHOR_END: error_forbidden

// ANCHOR: error_datagram
/// The whole IPv4 datagram carrying `error` about `original` (the
/// datagram as it arrived), from `source` to `destination`, the
/// original's sender. The quote is as much of the original as keeps the
/// error within 576 bytes (RFC 1812 §4.3.2.3).
pub fn error_datagram(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    ident: u16,
    original: &[u8],
    error: IcmpError,
) -> Vec<u8> {
    let quoted = icmp_error_quote(original, MAX_ERROR_QUOTE_LEN);
    let message = match error {
        IcmpError::DstUnreachable(reason, next_hop_mtu) => Icmpv4Repr::DstUnreachable {
            reason,
            next_hop_mtu,
            quoted,
        },
        IcmpError::TimeExceeded(reason) => Icmpv4Repr::TimeExceeded { reason, quoted },
    };
    originate(source, destination, ident, ERROR_DSCP, &message.build())
}
// ANCHOR_END: error_datagram

// ANCHOR: echo_reply
/// The datagram answering an echo request: source and destination
/// swapped, the same identifier, sequence number and data (RFC 792). The
/// source is the address the request was sent to (RFC 1122 §3.2.2.6).
/// `None` if `payload` is not a valid echo request.
pub fn echo_reply(request: &Ipv4Repr, payload: &[u8], ident: u16) -> Option<Vec<u8>> {
    let packet = crate::wire::Icmpv4Packet::new_checked(payload).ok()?;
    let message = Icmpv4Repr::parse(&packet).ok()?;
    let reply = Icmpv4Repr::echo_reply_to(&message)?;
    Some(originate(
        request.dst_addr,
        request.src_addr,
        ident,
        request.dscp,
        &reply.build(),
    ))
}
// ANCHOR_END: echo_reply

/// An ICMP datagram our stack sends: TTL 64, no options, may be
/// fragmented.
fn originate(src: Ipv4Addr, dst: Ipv4Addr, ident: u16, dscp: u8, icmp: &[u8]) -> Vec<u8> {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::ICMP,
        ttl: DEFAULT_TTL,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        dscp,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len: icmp.len(),
    }
    .build(icmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Packet;

    fn datagram(
        src: &str,
        dst: &str,
        protocol: IpProtocol,
        offset: u16,
        payload: &[u8],
    ) -> Vec<u8> {
        Ipv4Repr {
            src_addr: src.parse().unwrap(),
            dst_addr: dst.parse().unwrap(),
            protocol,
            ttl: 1,
            ident: 7,
            dont_frag: false,
            more_frags: false,
            frag_offset: offset,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: payload.len(),
        }
        .build(payload)
    }

    fn forbidden(bytes: &[u8], link_broadcast: bool) -> Option<Forbidden> {
        let subnet_broadcast: Ipv4Addr = "198.18.0.255".parse().unwrap();
        let packet = Ipv4Packet::new_checked(bytes).unwrap();
        error_forbidden(
            &Ipv4Repr::parse(&packet).unwrap(),
            packet.payload(),
            link_broadcast,
            |a| a == subnet_broadcast,
        )
    }

    #[test]
    fn the_rfc_1812_list() {
        let udp = |src, dst| datagram(src, dst, IpProtocol::UDP, 0, &[0; 8]);
        assert_eq!(forbidden(&udp("198.18.0.1", "198.18.1.1"), false), None);
        assert_eq!(
            forbidden(&udp("198.18.0.1", "198.18.1.1"), true),
            Some(Forbidden::LinkBroadcast)
        );
        for dst in ["255.255.255.255", "198.18.0.255", "224.0.0.1"] {
            assert_eq!(
                forbidden(&udp("198.18.0.1", dst), false),
                Some(Forbidden::ToBroadcast),
                "{dst}"
            );
        }
        for src in [
            "0.0.0.0",
            "127.0.0.1",
            "224.0.0.5",
            "240.0.0.1",
            "198.18.0.255",
        ] {
            assert_eq!(
                forbidden(&udp(src, "198.18.1.1"), false),
                Some(Forbidden::BadSource),
                "{src}"
            );
        }
        let later = datagram("198.18.0.1", "198.18.1.1", IpProtocol::UDP, 1480, &[0; 8]);
        assert_eq!(forbidden(&later, false), Some(Forbidden::NonFirstFragment));
        let icmp = |msg_type| {
            datagram(
                "198.18.0.1",
                "198.18.1.1",
                IpProtocol::ICMP,
                0,
                &[msg_type, 0, 0, 0],
            )
        };
        assert_eq!(forbidden(&icmp(8), false), None, "echo request");
        assert_eq!(forbidden(&icmp(0), false), None, "echo reply");
        for error_type in [3, 4, 5, 11, 12, 42] {
            assert_eq!(
                forbidden(&icmp(error_type), false),
                Some(Forbidden::AboutIcmpError),
                "type {error_type}"
            );
        }
    }
}
