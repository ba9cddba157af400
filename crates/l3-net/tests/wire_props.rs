//! Properties of the layer 3 formats, over random inputs:
//!
//! - `parse(emit(r)) == r`: emitting loses nothing (IPv4 with options and
//!   fragment fields, every ICMP variant, the quote of an ICMP error);
//! - `emit(parse(bytes))` gives back the bytes: parsing loses nothing;
//! - no decoder, and no printer, panics on any bytes — random ones, and
//!   real frames damaged at random.

use std::net::Ipv4Addr;

use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::wire::{
    DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4OptionsIter, Ipv4Packet,
    Ipv4Repr, QuotedDatagram, TimeExceeded, icmp_error_quote,
};
use proptest::prelude::*;

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

/// One well-formed option's bytes: the kinds we decode, and others.
fn option() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![1]),
        any::<u16>().prop_map(|v| {
            let [high, low] = v.to_be_bytes();
            vec![148, 4, high, low]
        }),
        (1usize..=9, any::<u8>()).prop_map(|(slots, pointer)| {
            let mut rr = vec![7, (3 + 4 * slots) as u8, pointer];
            rr.resize(3 + 4 * slots, 0);
            rr
        }),
        (0usize..=8, any::<u8>(), any::<u8>()).prop_map(|(len, pointer, flags)| {
            let mut ts = vec![68, (4 + len) as u8, pointer, flags];
            ts.resize(4 + len, 0x11);
            ts
        }),
        (2u8..=255, proptest::collection::vec(any::<u8>(), 0..10)).prop_map(|(kind, data)| {
            let mut option = vec![kind, (2 + data.len()) as u8];
            option.extend_from_slice(&data);
            option
        }),
    ]
}

/// Option bytes that fit in 40 bytes (not yet padded).
fn option_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(option(), 0..6).prop_map(|list| {
        let mut bytes = Vec::new();
        for option in list {
            if bytes.len() + option.len() <= 40 {
                bytes.extend_from_slice(&option);
            }
        }
        bytes
    })
}

/// Any header an encoder may be asked for.
fn ipv4_repr() -> impl Strategy<Value = Ipv4Repr> {
    (
        (
            ipv4_addr(),
            ipv4_addr(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
        ),
        (any::<bool>(), any::<bool>(), 0u16..=0x1fff),
        (0u8..64, 0u8..4, option_bytes(), 0usize..1500),
    )
        .prop_map(
            |(
                (src_addr, dst_addr, protocol, ttl, ident),
                (dont_frag, more_frags, offset_units),
                (dscp, ecn, options, payload_len),
            )| Ipv4Repr {
                src_addr,
                dst_addr,
                protocol: IpProtocol(protocol),
                ttl,
                ident,
                dont_frag,
                more_frags,
                frag_offset: offset_units * 8,
                dscp,
                ecn,
                options: Ipv4Options::new(&options).unwrap(),
                payload_len,
            },
        )
}

/// An owned ICMP message, for strategies (an `Icmpv4Repr` borrows).
#[derive(Debug, Clone)]
struct Icmp {
    kind: u8,
    a: u16,
    b: u16,
    code: u8,
    rest: u32,
    data: Vec<u8>,
}

impl Icmp {
    /// Every variant, chosen by `kind`.
    fn repr(&self) -> Icmpv4Repr<'_> {
        let data = &self.data[..];
        match self.kind % 5 {
            0 => Icmpv4Repr::EchoRequest {
                ident: self.a,
                seq: self.b,
                data,
            },
            1 => Icmpv4Repr::EchoReply {
                ident: self.a,
                seq: self.b,
                data,
            },
            2 => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(self.code),
                next_hop_mtu: self.a,
                quoted: data,
            },
            3 => Icmpv4Repr::TimeExceeded {
                reason: if self.code.is_multiple_of(2) {
                    TimeExceeded::TtlExpired
                } else {
                    TimeExceeded::FragReassembly
                },
                quoted: data,
            },
            // Types with no variant of their own: parsing them gives Other
            // back.
            _ => Icmpv4Repr::Other {
                msg_type: [5, 12, 13, 14, 42, 255][usize::from(self.a % 6)],
                code: self.code,
                rest_of_header: self.rest,
                data,
            },
        }
    }
}

fn icmp() -> impl Strategy<Value = Icmp> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..100),
    )
        .prop_map(|(kind, a, b, code, rest, data)| Icmp {
            kind,
            a,
            b,
            code,
            rest,
            data,
        })
}

/// An Ethernet frame carrying `ip` with `payload`.
fn frame(ip: &Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    EthernetRepr {
        destination: MacAddr([2, 0, 0, 0, 0, 1]),
        source: MacAddr([2, 0, 0, 0, 0, 0x12]),
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(&ip.build(payload))
}

/// Real frames to damage: ICMP messages of every kind (errors quoting an
/// IPv4 header) in IPv4 headers with options and fragment fields.
fn real_frame() -> impl Strategy<Value = Vec<u8>> {
    (ipv4_repr(), icmp(), ipv4_repr()).prop_map(|(outer, icmp, inner)| {
        // Errors quote a real header, so the quote decoder gets work.
        let mut icmp = icmp;
        if matches!(icmp.kind % 5, 2 | 3) {
            let mut quoted = inner.build(&icmp.data);
            quoted.truncate(inner.header_len() + 8);
            icmp.data = quoted;
        }
        let message = icmp.repr().build();
        let outer = Ipv4Repr {
            protocol: IpProtocol::ICMP,
            ..outer
        };
        frame(&outer, &message)
    })
}

/// A real frame with a few bytes changed, and half of the time cut short
/// (uncut, the damage reaches the ICMP and quote decoders more often).
fn damaged_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        real_frame(),
        proptest::option::of(any::<prop::sample::Index>()),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(mut frame, cut, changes)| {
            for (at, value) in changes {
                let at = at.index(frame.len());
                frame[at] = value;
            }
            if let Some(cut) = cut {
                let len = cut.index(frame.len() + 1);
                frame.truncate(len.max(14));
            }
            frame
        })
}

/// Runs every decoder and the printer over `bytes`; only a panic fails
/// (and the printer's output must stay consistent).
fn decode_everything(bytes: &[u8]) {
    if let Ok(packet) = Ipv4Packet::new_checked(bytes) {
        let _ = Ipv4Repr::parse(&packet);
        let _ = (packet.payload(), packet.options(), packet.verify_checksum());
        let _ = Ipv4Options::new(packet.options());
    }
    let _ = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(bytes));
    if let Ok(packet) = Icmpv4Packet::new_checked(bytes) {
        let _ = Icmpv4Repr::parse(&packet);
        let _ = (
            packet.data(),
            packet.rest_of_header(),
            packet.verify_checksum(),
        );
    }
    let _ = Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(bytes));
    let _ = QuotedDatagram::parse(bytes);
    let _ = Ipv4Options::new(bytes);
    for option in Ipv4OptionsIter::new(bytes) {
        let _ = option.recorded_route().count();
        let _ = option.wire_len();
    }
    for max in [0, 28, 548, usize::MAX] {
        assert!(icmp_error_quote(bytes, max).len() <= bytes.len().min(max));
    }

    let printer = l3_net::print::printer();
    let dissection = printer.dissect(bytes);
    let _ = printer.summary(bytes);
    let dump = printer.hexdump(bytes);
    // Every byte is shown exactly once, however damaged the frame.
    let shown: usize = dump
        .lines()
        .filter(|line| !line.starts_with("note:"))
        .map(|line| {
            let columns = line.get(6..).unwrap_or("");
            columns
                .get(..47)
                .unwrap_or(columns)
                .split_whitespace()
                .count()
        })
        .sum();
    assert_eq!(shown, bytes.len(), "{dump}");
    for layer in &dissection.layers {
        for field in &layer.fields {
            assert!(field.range.end <= bytes.len(), "{} {:?}", layer.name, field);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn ipv4_parse_of_emit(repr in ipv4_repr()) {
        let payload = vec![0x5a; repr.payload_len];
        let bytes = repr.build(&payload);
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(Ipv4Repr::parse(&packet).unwrap(), repr);
        prop_assert_eq!(packet.payload(), &payload[..]);
    }

    #[test]
    fn ipv4_emit_of_parse(fields in proptest::collection::vec(any::<u8>(), 20),
                          options in option_bytes(),
                          payload_len in 0usize..64,
                          padding in proptest::collection::vec(any::<u8>(), 0..8)) {
        // A header with random fields, a valid length, checksum and
        // options, and the reserved flag clear (a repr has no room for it:
        // it must be zero).
        let options = Ipv4Options::new(&options).unwrap();
        let header_len = 20 + options.len();
        let mut bytes = fields;
        bytes[0] = 0x40 | (header_len / 4) as u8;
        bytes[2..4].copy_from_slice(&((header_len + payload_len) as u16).to_be_bytes());
        bytes[6] &= 0x7f;
        bytes.extend_from_slice(options.as_bytes());
        bytes.resize(header_len + payload_len, 0x77);
        bytes.extend_from_slice(&padding);
        Ipv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();

        let repr = Ipv4Repr::parse(&Ipv4Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = vec![0; repr.header_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut out));
        prop_assert_eq!(&out[..], &bytes[..header_len]);
    }

    #[test]
    fn icmp_parse_of_emit(message in icmp()) {
        let repr = message.repr();
        let bytes = repr.build();
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(Icmpv4Repr::parse(&packet).unwrap(), repr);
    }

    #[test]
    fn icmp_emit_of_parse(header in any::<[u8; 8]>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Any message with a correct checksum reads as something that
        // writes back the same bytes: Other keeps what the variants cannot.
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(&data);
        Icmpv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();
        let repr = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        prop_assert_eq!(repr.build(), bytes);
    }

    #[test]
    fn quote_parse_of_emit(repr in ipv4_repr(), cut in any::<prop::sample::Index>()) {
        let repr = Ipv4Repr { payload_len: repr.payload_len.min(100), ..repr };
        let payload: Vec<u8> = (0..repr.payload_len).map(|i| i as u8).collect();
        let original = repr.build(&payload);
        // A router quotes anything from the header plus nothing, up to
        // the whole datagram.
        let len = repr.header_len() + cut.index(payload.len() + 1);
        let quote = QuotedDatagram::parse(icmp_error_quote(&original, len)).unwrap();
        prop_assert_eq!(quote.header, repr);
        prop_assert_eq!(quote.payload_start, &payload[..len - repr.header_len()]);
    }

    #[test]
    fn options_keep_their_bytes(bytes in option_bytes()) {
        let options = Ipv4Options::new(&bytes).unwrap();
        prop_assert_eq!(options.len() % 4, 0);
        prop_assert_eq!(&options.as_bytes()[..bytes.len()], &bytes[..]);
        prop_assert!(options.as_bytes()[bytes.len()..].iter().all(|&b| b == 0));
        // The options cover the bytes exactly, and none is malformed.
        let lens: usize = options.iter().map(|o| o.wire_len()).sum();
        prop_assert_eq!(lens, options.len());
        let well_formed = options
            .iter()
            .all(|o| !matches!(o, l3_net::wire::Ipv4Option::Malformed { .. }));
        prop_assert!(well_formed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn nothing_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        decode_everything(&bytes);
    }

    #[test]
    fn nothing_panics_on_damaged_frames(frame in damaged_frame()) {
        decode_everything(&frame);
        // The same bytes without the Ethernet header, as raw sockets and
        // the quote decoder see them.
        decode_everything(&frame[14..]);
    }
}

#[test]
fn damage_becomes_notes() {
    let printer = l3_net::print::printer();
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::new(198, 18, 0, 2),
        dst_addr: Ipv4Addr::new(198, 18, 0, 1),
        protocol: IpProtocol::ICMP,
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
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq: 1,
        data: b"0123456789abcdef",
    };
    // 14 + 20 + 8 + 16 = 58 bytes, padded to 60.
    let good = frame(&ip, &echo.build());
    let packet_end = 14 + 44;
    assert!(printer.dissect(&good).notes.is_empty());

    // TTL changed without updating the checksum.
    let mut bad_ip = good.clone();
    bad_ip[14 + 8] = 63;
    let notes = printer.dissect(&bad_ip).notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("IPv4: bad header checksum"),
        "{notes:?}"
    );

    // A data byte changed: the ICMP checksum no longer matches.
    let mut bad_icmp = good.clone();
    bad_icmp[packet_end - 1] ^= 0xff;
    let notes = printer.dissect(&bad_icmp).notes;
    assert!(notes[0].starts_with("ICMP: bad checksum"), "{notes:?}");

    // Total Length promises more than the frame holds: a capture cut by
    // its snapshot length. What is there is shown, the checksum over the
    // missing byte is not called bad.
    let cut = &good[..packet_end - 1];
    let dissection = printer.dissect(cut);
    assert_eq!(dissection.notes, ["IPv4: 43 of its 44 bytes captured"]);
    let icmp = dissection.layers.last().expect("an ICMP layer");
    assert_eq!(icmp.name, "ICMP");
    let checksum = icmp.fields.iter().find(|f| f.name == "checksum").unwrap();
    assert!(checksum.value.contains("not checked"), "{}", checksum.value);
    // A header that is itself cut is still refused.
    let header_cut = &good[..14 + 19];
    assert_eq!(
        printer.dissect(header_cut).notes,
        ["IPv4: truncated (19 bytes, need 20)"]
    );
}
