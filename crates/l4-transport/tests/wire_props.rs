//! Property tests of the layer 4 wire formats:
//!
//! - `parse(emit(r)) == r` for any UDP header and any TCP segment, with
//!   any list of options (unknown kinds included) that fits in 40 bytes;
//! - `emit(parse(x)) == x` for well-formed TCP segments written here byte
//!   by byte;
//! - sequence numbers compare and subtract modulo 2^32, across the wrap;
//! - no decoder, iterator or printer panics on any bytes, random or
//!   damaged.

use std::net::Ipv4Addr;

use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Repr};
use l4_transport::wire::{
    SackBlocks, TcpFlags, TcpOption, TcpOptionsIter, TcpPacket, TcpRepr, TcpSeqNumber, UdpPacket,
    UdpRepr,
};
use proptest::prelude::*;

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..200)
}

/// An option as raw bytes, written by hand from RFC 9293 §3.2 and the RFCs
/// of each kind: the known kinds with any values, and unknown kinds (not
/// 0–5 or 8) with up to 10 bytes of data.
fn raw_option() -> impl Strategy<Value = Vec<u8>> {
    let kind_len_data =
        |kind: u8, data: Vec<u8>| [&[kind, 2 + data.len() as u8][..], &data].concat();
    prop_oneof![
        Just(vec![1]),
        any::<u16>().prop_map(move |mss| kind_len_data(2, mss.to_be_bytes().to_vec())),
        any::<u8>().prop_map(move |shift| kind_len_data(3, vec![shift])),
        Just(vec![4, 2]),
        (1usize..=4)
            .prop_flat_map(|blocks| proptest::collection::vec(any::<u8>(), blocks * 8))
            .prop_map(move |blocks| kind_len_data(5, blocks)),
        proptest::collection::vec(any::<u8>(), 8).prop_map(move |ts| kind_len_data(8, ts)),
        (
            any::<u8>().prop_filter("a kind we interpret", |k| !matches!(k, 0..=5 | 8)),
            proptest::collection::vec(any::<u8>(), 0..=10)
        )
            .prop_map(move |(kind, data)| kind_len_data(kind, data)),
    ]
}

/// Raw options that fit in 40 bytes: the list is cut before the option
/// that would not fit.
fn raw_options() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(raw_option(), 0..8).prop_map(|list| {
        let mut bytes = Vec::new();
        for option in list {
            if bytes.len() + option.len() > 40 {
                break;
            }
            bytes.extend_from_slice(&option);
        }
        bytes
    })
}

/// Any option list that fits: decoded from raw bytes by hand (not by the
/// code under test), owning its data through a leaked buffer so the
/// options can borrow it for the test's lifetime.
fn options() -> impl Strategy<Value = Vec<TcpOption<'static>>> {
    raw_options().prop_map(|bytes| {
        let bytes: &'static [u8] = Vec::leak(bytes);
        decode_by_hand(bytes)
    })
}

/// The options in `bytes` (well-formed, as [`raw_option`] writes them).
fn decode_by_hand(mut bytes: &[u8]) -> Vec<TcpOption<'_>> {
    let mut options = Vec::new();
    while let [kind, rest @ ..] = bytes {
        if *kind == 1 {
            options.push(TcpOption::NoOperation);
            bytes = rest;
            continue;
        }
        let len = usize::from(rest[0]);
        let data = &bytes[2..len];
        let word =
            |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        options.push(match kind {
            2 => TcpOption::MaxSegmentSize(u16::from_be_bytes([data[0], data[1]])),
            3 => TcpOption::WindowScale(data[0]),
            4 => TcpOption::SackPermitted,
            5 => {
                let blocks: Vec<_> = (0..data.len() / 8)
                    .map(|i| (TcpSeqNumber(word(8 * i)), TcpSeqNumber(word(8 * i + 4))))
                    .collect();
                TcpOption::SackBlocks(SackBlocks::new(&blocks).unwrap())
            }
            8 => TcpOption::Timestamps {
                tsval: word(0),
                tsecr: word(4),
            },
            _ => TcpOption::Unknown { kind: *kind, data },
        });
        bytes = &bytes[len..];
    }
    options
}

fn tcp_repr() -> impl Strategy<Value = TcpRepr<'static>> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (any::<u8>(), any::<u16>(), any::<u16>()),
        options(),
        payload(),
    )
        .prop_map(
            |((src_port, dst_port, seq, ack), (flags, window_len, urgent_at), options, payload)| {
                TcpRepr {
                    src_port,
                    dst_port,
                    seq_number: TcpSeqNumber(seq),
                    ack_number: TcpSeqNumber(ack),
                    flags: TcpFlags(flags),
                    window_len,
                    urgent_at,
                    options,
                    payload: Vec::leak(payload),
                }
            },
        )
}

/// A TCP segment written byte by byte: any fixed fields (reserved bits
/// zero), well-formed options padded with zeros, any data; checksum left 0.
fn raw_segment() -> impl Strategy<Value = Vec<u8>> {
    (any::<[u8; 20]>(), raw_options(), payload()).prop_map(|(mut header, options, payload)| {
        let options_len = options.len().next_multiple_of(4);
        header[12] = (((20 + options_len) / 4) as u8) << 4;
        header[16..18].copy_from_slice(&[0, 0]);
        let mut segment = header.to_vec();
        segment.extend_from_slice(&options);
        segment.resize(20 + options_len, 0);
        segment.extend_from_slice(&payload);
        segment
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn udp_round_trip(
        src in ipv4_addr(),
        dst in ipv4_addr(),
        ports in any::<(u16, u16)>(),
        data in payload(),
    ) {
        let repr = UdpRepr { src_port: ports.0, dst_port: ports.1 };
        let bytes = repr.build(src, dst, &data);
        prop_assert_eq!(bytes.len(), 8 + data.len());
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(UdpRepr::parse(&packet, src, dst).unwrap(), repr);
        prop_assert_eq!(packet.payload(), &data[..]);
        // Never the reserved "no checksum" value.
        prop_assert_ne!(packet.checksum(), 0);
    }

    #[test]
    fn tcp_round_trip(src in ipv4_addr(), dst in ipv4_addr(), repr in tcp_repr()) {
        let bytes = repr.build(src, dst);
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        prop_assert_eq!(repr.header_len() % 4, 0);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum(src, dst));
        prop_assert_eq!(TcpRepr::parse(&packet, src, dst).unwrap(), repr);
    }

    #[test]
    fn tcp_emit_of_parse_is_the_same_bytes(
        src in ipv4_addr(),
        dst in ipv4_addr(),
        mut segment in raw_segment(),
    ) {
        let mut packet = TcpPacket::new_unchecked(&mut segment[..]);
        packet.fill_checksum(src, dst);
        let packet = TcpPacket::new_checked(&segment[..]).unwrap();
        let repr = TcpRepr::parse(&packet, src, dst).unwrap();
        prop_assert_eq!(repr.build(src, dst), segment.clone());
    }

    #[test]
    fn a_damaged_segment_fails_its_checksum(
        src in ipv4_addr(),
        dst in ipv4_addr(),
        repr in tcp_repr(),
        at in any::<prop::sample::Index>(),
        bit in 0..8u8,
    ) {
        let mut bytes = repr.build(src, dst);
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        let packet = TcpPacket::new_checked(&bytes[..]);
        // One flipped bit changes one 16-bit word by a power of two: the
        // ones' complement sum always notices.
        if let Ok(packet) = packet {
            prop_assert!(!packet.verify_checksum(src, dst));
            prop_assert!(TcpRepr::parse(&packet, src, dst).is_err());
        }
    }

    // Sequence numbers: RFC 9293 §3.4 arithmetic modulo 2^32.

    #[test]
    fn forward_less_than_half_way_round_is_greater(a in any::<u32>(), n in 1usize..(1 << 31)) {
        let a = TcpSeqNumber(a);
        let b = a + n;
        prop_assert!(b > a);
        prop_assert!(a < b);
        prop_assert!(a != b);
        prop_assert_eq!(b - a, n);
        prop_assert_eq!(b - n, a);
        prop_assert_eq!(a.max(b), b);
        prop_assert_eq!(b.min(a), a);
    }

    #[test]
    fn forward_more_than_half_way_round_is_behind(a in any::<u32>(), n in (1usize << 31) + 1..(1 << 32)) {
        let a = TcpSeqNumber(a);
        let b = a + n;
        prop_assert!(b < a);
        prop_assert_eq!(b - a, n);
        // ... and `a` is 2^32 − n ahead of `b`.
        prop_assert_eq!(a - b, (1 << 32) - n);
    }

    #[test]
    fn exactly_half_way_round_is_unordered(a in any::<u32>()) {
        // RFC 1982 §3.2 leaves this comparison undefined; we say neither.
        let (a, b) = (TcpSeqNumber(a), TcpSeqNumber(a) + (1 << 31));
        prop_assert_eq!(a.partial_cmp(&b), None);
        prop_assert!(!a.lt(&b) && !a.gt(&b) && a != b);
        prop_assert_eq!(b - a, 1 << 31);
    }

    #[test]
    fn comparison_is_antisymmetric(a in any::<u32>(), b in any::<u32>()) {
        let (a, b) = (TcpSeqNumber(a), TcpSeqNumber(b));
        prop_assert_eq!(a < b, b > a);
        prop_assert_eq!(a.partial_cmp(&b).map(|o| o.reverse()), b.partial_cmp(&a));
        let half_way = b.0.wrapping_sub(a.0) == 1 << 31;
        prop_assert_eq!(a.partial_cmp(&b).is_none(), half_way);
        prop_assert_eq!(a.partial_cmp(&b) == Some(core::cmp::Ordering::Equal), a == b);
    }

    // Nothing panics.

    #[test]
    fn udp_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), src in ipv4_addr(), dst in ipv4_addr()) {
        if let Ok(packet) = UdpPacket::new_checked(&bytes[..]) {
            let _ = (packet.src_port(), packet.dst_port(), packet.len(), packet.payload());
            let _ = packet.verify_checksum(src, dst);
            let _ = UdpRepr::parse(&packet, src, dst);
        }
        let _ = UdpRepr::parse(&UdpPacket::new_unchecked(&bytes[..]), src, dst);
    }

    #[test]
    fn tcp_decoding_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..100), src in ipv4_addr(), dst in ipv4_addr()) {
        let _ = TcpRepr::parse(&TcpPacket::new_unchecked(&bytes[..]), src, dst);
        if TcpPacket::new_checked(&bytes[..]).is_ok() {
            // Give it a right checksum, so parse goes on to the options.
            TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(src, dst);
            let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
            let _ = (packet.seq_number(), packet.ack_number(), packet.flags(), packet.segment_len());
            let _ = packet.options_iter().count();
            let parsed = TcpRepr::parse(&packet, src, dst);
            // parse fails exactly when an option is damaged.
            let damaged = packet.options_iter().any(|option| option.is_err());
            prop_assert_eq!(parsed.is_err(), damaged);
        }
    }

    #[test]
    fn the_options_iterator_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        let items: Vec<_> = TcpOptionsIter::new(&bytes).collect();
        // It stops at the first error, and never reads past the end.
        let errors = items.iter().filter(|item| item.is_err()).count();
        prop_assert!(errors <= 1);
        if errors == 1 {
            prop_assert!(items.last().unwrap().is_err());
        }
        let used: usize = items.iter().flatten().map(|option| option.wire_len()).sum();
        prop_assert!(used <= bytes.len());
        // End of Option List ends the walk too.
        if let Some(eol) = items.iter().position(|i| *i == Ok(TcpOption::EndOfList)) {
            prop_assert_eq!(eol, items.len() - 1);
        }
    }

    #[test]
    fn the_printer_never_panics_on_random_segments(
        tcp in any::<bool>(),
        segment in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let protocol = if tcp { IpProtocol::TCP } else { IpProtocol::UDP };
        let frame = frame(protocol, &segment);
        let printer = l4_transport::print::printer();
        let _ = printer.summary(&frame);
        let _ = printer.hexdump(&frame);
    }

    #[test]
    fn the_printer_never_panics_on_damaged_frames(
        repr in tcp_repr(),
        udp in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let (src, dst) = (Ipv4Addr::new(198, 18, 0, 2), Ipv4Addr::new(198, 18, 0, 1));
        let (protocol, segment) = if udp {
            (IpProtocol::UDP, UdpRepr { src_port: repr.src_port, dst_port: repr.dst_port }.build(src, dst, repr.payload))
        } else {
            (IpProtocol::TCP, repr.build(src, dst))
        };
        let mut frame = frame(protocol, &segment);
        // Damage past the IPv4 header, so the transport dissectors run.
        for (at, xor) in flips {
            let at = 34 + at.index(frame.len() - 34);
            frame[at] ^= xor;
        }
        frame.truncate(34 + cut.index(frame.len() - 34 + 1));
        let printer = l4_transport::print::printer();
        let _ = printer.summary(&frame);
        let _ = printer.hexdump(&frame);
    }
}

/// `segment` in a well-formed IPv4 packet and Ethernet frame, so the
/// printer reaches the transport dissectors.
fn frame(protocol: IpProtocol, segment: &[u8]) -> Vec<u8> {
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::new(198, 18, 0, 2),
        dst_addr: Ipv4Addr::new(198, 18, 0, 1),
        protocol,
        ttl: 64,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len: 0,
    };
    EthernetRepr {
        destination: MacAddr([2, 0, 0, 0, 0, 1]),
        source: MacAddr([2, 0, 0, 0, 0, 0x12]),
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(&ip.build(segment))
}
