//! etherparse, an independent implementation, as the oracle for our layer 3
//! encoders and decoders:
//!
//! - it parses every frame we emit and must agree on every IPv4 and ICMP
//!   field, and find both checksums right;
//! - where it can build the same packet (an IPv4 header with any options,
//!   an ICMP echo, unreachable or time exceeded), its bytes must equal
//!   ours, byte for byte;
//! - our decoders parse the packets it builds and must agree with what it
//!   was given;
//! - it reassembles our fragments into the datagram we cut;
//! - the frames pinned in `snapshots/` are exactly the frames checked here
//!   (the hex is read back out of the snapshot files).

use std::net::Ipv4Addr;

use etherparse as ep;
use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::checksum::pseudo_header;
use l3_net::wire::{
    DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr,
    MAX_ERROR_QUOTE_LEN, QuotedDatagram, TimeExceeded, icmp_error_quote,
};
use proptest::prelude::*;

const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const BETA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);

/// An ICMP message as the encoder is asked to build it, owning its bytes.
#[derive(Debug, Clone)]
enum Icmp {
    Echo {
        request: bool,
        ident: u16,
        seq: u16,
        data: Vec<u8>,
    },
    Unreachable {
        reason: DstUnreachable,
        next_hop_mtu: u16,
        quoted: Vec<u8>,
    },
    TimeExceeded {
        reason: TimeExceeded,
        quoted: Vec<u8>,
    },
    Other {
        msg_type: u8,
        code: u8,
        rest_of_header: u32,
        data: Vec<u8>,
    },
}

impl Icmp {
    /// What our encoder gets.
    fn repr(&self) -> Icmpv4Repr<'_> {
        match self {
            Icmp::Echo {
                request: true,
                ident,
                seq,
                data,
            } => Icmpv4Repr::EchoRequest {
                ident: *ident,
                seq: *seq,
                data,
            },
            Icmp::Echo {
                request: false,
                ident,
                seq,
                data,
            } => Icmpv4Repr::EchoReply {
                ident: *ident,
                seq: *seq,
                data,
            },
            Icmp::Unreachable {
                reason,
                next_hop_mtu,
                quoted,
            } => Icmpv4Repr::DstUnreachable {
                reason: *reason,
                next_hop_mtu: *next_hop_mtu,
                quoted,
            },
            Icmp::TimeExceeded { reason, quoted } => Icmpv4Repr::TimeExceeded {
                reason: *reason,
                quoted,
            },
            Icmp::Other {
                msg_type,
                code,
                rest_of_header,
                data,
            } => Icmpv4Repr::Other {
                msg_type: *msg_type,
                code: *code,
                rest_of_header: *rest_of_header,
                data,
            },
        }
    }

    /// Everything after the 8-byte header.
    fn data(&self) -> &[u8] {
        match self {
            Icmp::Echo { data, .. } | Icmp::Other { data, .. } => data,
            Icmp::Unreachable { quoted, .. } | Icmp::TimeExceeded { quoted, .. } => quoted,
        }
    }

    /// The same message in etherparse's terms.
    fn ep_type(&self) -> ep::Icmpv4Type {
        match self {
            Icmp::Echo {
                request,
                ident,
                seq,
                ..
            } => {
                let echo = ep::IcmpEchoHeader {
                    id: *ident,
                    seq: *seq,
                };
                if *request {
                    ep::Icmpv4Type::EchoRequest(echo)
                } else {
                    ep::Icmpv4Type::EchoReply(echo)
                }
            }
            Icmp::Unreachable {
                reason,
                next_hop_mtu,
                ..
            } => ep::Icmpv4Type::DestinationUnreachable(
                ep::icmpv4::DestUnreachableHeader::from_values(u8::from(*reason), *next_hop_mtu)
                    .expect("a code etherparse knows"),
            ),
            Icmp::TimeExceeded { reason, .. } => ep::Icmpv4Type::TimeExceeded(
                ep::icmpv4::TimeExceededCode::from_u8(reason.code()).unwrap(),
            ),
            Icmp::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => ep::Icmpv4Type::Unknown {
                type_u8: *msg_type,
                code_u8: *code,
                bytes5to8: rest_of_header.to_be_bytes(),
            },
        }
    }
}

/// An IPv4 packet carrying ICMP, in an Ethernet frame.
#[derive(Debug, Clone)]
struct Spec {
    source: MacAddr,
    destination: MacAddr,
    /// The header; `payload_len` is set from the ICMP message.
    ip: Ipv4Repr,
    icmp: Icmp,
}

impl Spec {
    /// The header with its true payload length.
    fn ip(&self) -> Ipv4Repr {
        Ipv4Repr {
            payload_len: self.icmp.repr().buffer_len(),
            ..self.ip
        }
    }

    /// The IPv4 packet, built by our encoders.
    fn packet(&self) -> Vec<u8> {
        self.ip.build(&self.icmp.repr().build())
    }

    /// The frame, built by our encoders.
    fn frame(&self) -> Vec<u8> {
        in_frame(self.source, self.destination, &self.packet())
    }
}

fn in_frame(source: MacAddr, destination: MacAddr, packet: &[u8]) -> Vec<u8> {
    EthernetRepr {
        destination,
        source,
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(packet)
}

// The frames of wire_snapshots.rs, built the same way.

fn ip(src_addr: Ipv4Addr, dst_addr: Ipv4Addr, protocol: IpProtocol, ident: u16) -> Ipv4Repr {
    Ipv4Repr {
        src_addr,
        dst_addr,
        protocol,
        ttl: 64,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len: 0,
    }
}

fn ping_data(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut stamp = 1_700_000_000u64.to_le_bytes().to_vec();
    stamp.extend_from_slice(&123_456u64.to_le_bytes());
    let n = stamp.len().min(len);
    data[..n].copy_from_slice(&stamp[..n]);
    data
}

fn echo(request: bool, seq: u16, len: usize) -> Icmp {
    Icmp::Echo {
        request,
        ident: 0x1234,
        seq,
        data: ping_data(len),
    }
}

fn echo_request() -> Spec {
    Spec {
        source: OUR_MAC,
        destination: ALPHA_MAC,
        ip: Ipv4Repr {
            dont_frag: true,
            ..ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, 1)
        },
        icmp: echo(true, 1, 56),
    }
}

fn echo_reply() -> Spec {
    Spec {
        source: ALPHA_MAC,
        destination: OUR_MAC,
        ip: ip(ALPHA_IP, OUR_IP, IpProtocol::ICMP, 0x5d3a),
        icmp: echo(false, 1, 56),
    }
}

/// The 3000-byte datagram that wire_snapshots.rs fragments.
fn big_ping() -> Spec {
    Spec {
        source: OUR_MAC,
        destination: ALPHA_MAC,
        ip: ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, 7),
        icmp: echo(true, 2, 2972),
    }
}

/// traceroute's UDP probe, as wire_snapshots.rs builds it.
fn traceroute_probe() -> Vec<u8> {
    let data = [0x40u8; 32];
    let length = 8 + data.len() as u16;
    let mut udp = Vec::new();
    udp.extend_from_slice(&44444u16.to_be_bytes());
    udp.extend_from_slice(&33434u16.to_be_bytes());
    udp.extend_from_slice(&length.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&data);
    let mut sum = pseudo_header(ALPHA_IP, BETA_IP, IpProtocol::UDP, length);
    sum.add_bytes(&udp);
    udp[6..8].copy_from_slice(&sum.finish().to_be_bytes());
    Ipv4Repr {
        ttl: 1,
        ..ip(ALPHA_IP, BETA_IP, IpProtocol::UDP, 0x4242)
    }
    .build(&udp)
}

fn error_header(ident: u16) -> Ipv4Repr {
    Ipv4Repr {
        dscp: 48,
        ..ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, ident)
    }
}

fn time_exceeded() -> Spec {
    Spec {
        source: OUR_MAC,
        destination: ALPHA_MAC,
        ip: error_header(0x0100),
        icmp: Icmp::TimeExceeded {
            reason: TimeExceeded::TtlExpired,
            quoted: icmp_error_quote(&traceroute_probe(), MAX_ERROR_QUOTE_LEN).to_vec(),
        },
    }
}

/// alpha's 1400-byte ping to beta with DF.
fn too_big_for_lab2() -> Spec {
    Spec {
        source: ALPHA_MAC,
        destination: OUR_MAC,
        ip: Ipv4Repr {
            dont_frag: true,
            ..ip(ALPHA_IP, BETA_IP, IpProtocol::ICMP, 0x4243)
        },
        icmp: echo(true, 3, 1372),
    }
}

fn fragmentation_needed() -> Spec {
    Spec {
        source: OUR_MAC,
        destination: ALPHA_MAC,
        ip: error_header(0x0101),
        icmp: Icmp::Unreachable {
            reason: DstUnreachable::FragRequired,
            next_hop_mtu: 1280,
            quoted: icmp_error_quote(&too_big_for_lab2().packet(), MAX_ERROR_QUOTE_LEN).to_vec(),
        },
    }
}

fn record_route() -> Spec {
    let mut option = vec![7, 39, 8];
    option.extend_from_slice(&ALPHA_IP.octets());
    option.resize(39, 0);
    Spec {
        source: ALPHA_MAC,
        destination: OUR_MAC,
        ip: Ipv4Repr {
            dont_frag: true,
            options: Ipv4Options::new(&option).unwrap(),
            ..ip(ALPHA_IP, OUR_IP, IpProtocol::ICMP, 0x4244)
        },
        icmp: echo(true, 4, 56),
    }
}

/// The fragments of `spec`'s packet for a link of `mtu` bytes, cut by
/// hand (RFC 791 §3.2), each as (header, fragment payload).
fn fragments(spec: &Spec, mtu: usize) -> Vec<(Ipv4Repr, Vec<u8>)> {
    let icmp = spec.icmp.repr().build();
    let per_fragment = (mtu - 20) / 8 * 8;
    let count = icmp.len().div_ceil(per_fragment);
    icmp.chunks(per_fragment)
        .enumerate()
        .map(|(n, chunk)| {
            let header = Ipv4Repr {
                more_frags: n + 1 < count,
                frag_offset: (n * per_fragment) as u16,
                payload_len: chunk.len(),
                ..spec.ip
            };
            (header, chunk.to_vec())
        })
        .collect()
}

/// The frames each snapshot file shows, in order.
fn snapshot_frames() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let big = big_ping();
    let fragment_frames = fragments(&big, 1500)
        .iter()
        .map(|(header, payload)| in_frame(big.source, big.destination, &header.build(payload)))
        .collect();
    vec![
        ("icmp_echo_request", vec![echo_request().frame()]),
        ("icmp_echo_reply", vec![echo_reply().frame()]),
        ("ipv4_fragments_1500", fragment_frames),
        ("icmp_time_exceeded", vec![time_exceeded().frame()]),
        (
            "icmp_fragmentation_needed",
            vec![fragmentation_needed().frame()],
        ),
        ("ipv4_options_record_route", vec![record_route().frame()]),
    ]
}

// What etherparse sees.

/// etherparse's IPv4 header for `repr` (checksum filled in by etherparse).
fn ep_ipv4(repr: &Ipv4Repr) -> ep::Ipv4Header {
    let mut header = ep::Ipv4Header {
        dscp: ep::IpDscp::try_new(repr.dscp).unwrap(),
        ecn: ep::IpEcn::try_new(repr.ecn).unwrap(),
        total_len: repr.buffer_len() as u16,
        identification: repr.ident,
        dont_fragment: repr.dont_frag,
        more_fragments: repr.more_frags,
        fragment_offset: ep::IpFragOffset::try_new(repr.frag_offset / 8).unwrap(),
        time_to_live: repr.ttl,
        protocol: ep::IpNumber(repr.protocol.0),
        header_checksum: 0,
        source: repr.src_addr.octets(),
        destination: repr.dst_addr.octets(),
        options: ep::Ipv4Options::try_from(repr.options.as_bytes()).unwrap(),
    };
    header.header_checksum = header.calc_header_checksum();
    header
}

/// etherparse's bytes for the whole packet of `spec`.
fn ep_packet(spec: &Spec) -> Vec<u8> {
    let mut bytes = ep_ipv4(&spec.ip()).to_bytes().to_vec();
    let icmp = ep::Icmpv4Header::with_checksum(spec.icmp.ep_type(), spec.icmp.data());
    bytes.extend_from_slice(&icmp.to_bytes());
    bytes.extend_from_slice(spec.icmp.data());
    bytes
}

/// etherparse reads an IPv4 header and must find `expected` in it, with a
/// correct checksum. Returns the header slice's length.
fn assert_etherparse_reads_ipv4(header: &ep::Ipv4HeaderSlice<'_>, expected: &Ipv4Repr) {
    assert_eq!(header.version(), 4);
    assert_eq!(usize::from(header.ihl()) * 4, expected.header_len());
    assert_eq!(header.dcp().value(), expected.dscp);
    assert_eq!(header.ecn().value(), expected.ecn);
    assert_eq!(usize::from(header.total_len()), expected.buffer_len());
    assert_eq!(header.identification(), expected.ident);
    assert_eq!(header.dont_fragment(), expected.dont_frag);
    assert_eq!(header.more_fragments(), expected.more_frags);
    assert_eq!(
        header.fragments_offset().byte_offset(),
        expected.frag_offset
    );
    assert_eq!(header.ttl(), expected.ttl);
    assert_eq!(header.protocol().0, expected.protocol.0);
    assert_eq!(header.source_addr(), expected.src_addr);
    assert_eq!(header.destination_addr(), expected.dst_addr);
    assert_eq!(header.options(), expected.options.as_bytes());
    assert_eq!(
        header.header_checksum(),
        header.to_header().calc_header_checksum(),
        "IPv4 header checksum"
    );
}

/// etherparse reads an ICMP message and must find `expected`, with a
/// correct checksum.
fn assert_etherparse_reads_icmp(icmp: &ep::Icmpv4Slice<'_>, expected: &Icmp) {
    assert_eq!(icmp.icmp_type(), expected.ep_type());
    assert_eq!(icmp.payload(), expected.data());
    assert_eq!(
        icmp.checksum(),
        icmp.icmp_type().calc_checksum(icmp.payload()),
        "ICMP checksum"
    );
}

/// etherparse reads the whole frame of `spec`.
fn assert_etherparse_reads(spec: &Spec, frame: &[u8]) {
    let sliced = ep::SlicedPacket::from_ethernet(frame).unwrap();
    let Some(ep::LinkSlice::Ethernet2(ethernet)) = &sliced.link else {
        panic!("no Ethernet II header");
    };
    assert_eq!(ethernet.source(), spec.source.0);
    assert_eq!(ethernet.destination(), spec.destination.0);
    assert_eq!(ethernet.ether_type(), ep::EtherType::IPV4);
    let Some(ep::NetSlice::Ipv4(ipv4)) = &sliced.net else {
        panic!("no IPv4 in {frame:02x?}");
    };
    assert_etherparse_reads_ipv4(&ipv4.header(), &spec.ip());
    let Some(ep::TransportSlice::Icmpv4(icmp)) = &sliced.transport else {
        panic!("no ICMP");
    };
    assert_etherparse_reads_icmp(icmp, &spec.icmp);
}

/// The quote in an ICMP error is the start of `original`, which etherparse
/// reads as the original's header, and our QuotedDatagram agrees.
fn assert_quote_of(quoted: &[u8], original: &[u8], original_repr: &Ipv4Repr) {
    let expected_len = original.len().min(MAX_ERROR_QUOTE_LEN);
    assert_eq!(quoted, &original[..expected_len]);
    let header = ep::Ipv4HeaderSlice::from_slice(quoted).unwrap();
    assert_etherparse_reads_ipv4(&header, original_repr);
    let ours = QuotedDatagram::parse(quoted).unwrap();
    assert_eq!(ours.header, *original_repr);
    assert_eq!(
        ours.payload_start,
        &original[original_repr.header_len()..expected_len]
    );
}

#[test]
fn etherparse_reads_the_snapshot_frames() {
    for spec in [
        echo_request(),
        echo_reply(),
        time_exceeded(),
        fragmentation_needed(),
        record_route(),
    ] {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        let theirs = ep_packet(&spec);
        assert_eq!(frame[14..], theirs[..], "byte for byte: {spec:?}");
    }
}

#[test]
fn the_echo_reply_mirrors_the_request() {
    let request = echo_request();
    let reply = Icmpv4Repr::echo_reply_to(&request.icmp.repr()).unwrap();
    assert_eq!(reply, echo_reply().icmp.repr());
}

#[test]
fn time_exceeded_quotes_the_whole_probe() {
    let probe = traceroute_probe();
    let Icmp::TimeExceeded { quoted, .. } = time_exceeded().icmp else {
        unreachable!()
    };
    let probe_repr = Ipv4Repr {
        ttl: 1,
        payload_len: 40,
        ..ip(ALPHA_IP, BETA_IP, IpProtocol::UDP, 0x4242)
    };
    assert_quote_of(&quoted, &probe, &probe_repr);
    // The quoted UDP header, and its checksum, as etherparse reads them.
    let sliced = ep::SlicedPacket::from_ip(&quoted).unwrap();
    let Some(ep::TransportSlice::Udp(udp)) = &sliced.transport else {
        panic!("no UDP in the quote");
    };
    assert_eq!((udp.source_port(), udp.destination_port()), (44444, 33434));
    assert_eq!(
        udp.checksum(),
        udp.to_header()
            .calc_checksum_ipv4_raw(ALPHA_IP.octets(), BETA_IP.octets(), udp.payload())
            .unwrap()
    );
}

#[test]
fn fragmentation_needed_quotes_548_bytes() {
    let original = too_big_for_lab2();
    let Icmp::Unreachable { quoted, .. } = fragmentation_needed().icmp else {
        unreachable!()
    };
    assert_eq!(quoted.len(), 548);
    assert_quote_of(&quoted, &original.packet(), &original.ip());
    // The whole error datagram is 576 bytes (RFC 1812 §4.3.2.3).
    assert_eq!(fragmentation_needed().packet().len(), 576);
}

#[test]
fn etherparse_reassembles_our_fragments() {
    let spec = big_ping();
    assert_eq!(spec.packet().len(), 3000);
    for mtu in [1500, 1280] {
        let fragments = fragments(&spec, mtu);
        let mut pool = ep::defrag::IpDefragPool::<(), ()>::new();
        let mut reassembled = None;
        for (n, (header, payload)) in fragments.iter().enumerate() {
            let frame = in_frame(spec.source, spec.destination, &header.build(payload));
            assert!(frame.len() - 14 <= mtu, "fragment {n} exceeds {mtu}");
            let sliced = ep::SlicedPacket::from_ethernet(&frame).unwrap();
            let Some(ep::NetSlice::Ipv4(ipv4)) = &sliced.net else {
                panic!("no IPv4");
            };
            assert_etherparse_reads_ipv4(&ipv4.header(), header);
            assert!(sliced.transport.is_none(), "a fragment is not ICMP yet");
            // Byte for byte what etherparse writes for this fragment.
            let mut theirs = ep_ipv4(header).to_bytes().to_vec();
            theirs.extend_from_slice(payload);
            assert_eq!(frame[14..14 + theirs.len()], theirs[..]);
            if let Some(done) = pool.process_sliced_packet(&sliced, (), ()).unwrap() {
                reassembled = Some(done);
            }
        }
        let datagram = reassembled.expect("etherparse completed the datagram");
        assert_eq!(datagram.ip_number, ep::IpNumber::ICMP);
        let icmp = ep::Icmpv4Slice::from_slice(&datagram.payload).unwrap();
        assert_etherparse_reads_icmp(&icmp, &spec.icmp);
    }
}

/// Reads the frame bytes back out of an annotated hex dump (`0000  xx xx …`
/// lines; every other line is skipped). Several frames in one file come
/// out one after the other.
fn bytes_in_hexdump(dump: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in dump.lines() {
        let is_dump_line = line.len() > 6
            && line.is_char_boundary(6)
            && line[..4].bytes().all(|b| b.is_ascii_hexdigit())
            && &line[4..6] == "  ";
        if !is_dump_line {
            continue;
        }
        // Offset (4), two spaces, then 16 × "xx " minus the last space.
        let columns = line.get(6..line.len().min(6 + 47)).unwrap_or_default();
        for pair in columns.split_whitespace() {
            bytes.push(u8::from_str_radix(pair, 16).unwrap());
        }
    }
    bytes
}

#[test]
fn snapshots_show_the_bytes_etherparse_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots");
    for (name, frames) in snapshot_frames() {
        let path = format!("{dir}/wire_snapshots__{name}.snap");
        let snapshot = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run the wire_snapshots tests first)"));
        assert_eq!(bytes_in_hexdump(&snapshot), frames.concat(), "{path}");
    }
}

// Random packets, both directions.

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

/// One well-formed option's bytes.
fn option() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![1]),
        (any::<u16>()).prop_map(|v| {
            let [high, low] = v.to_be_bytes();
            vec![148, 4, high, low]
        }),
        (1usize..=4, 0usize..=4).prop_map(|(slots, used)| {
            let used = used.min(slots);
            let mut rr = vec![7, (3 + 4 * slots) as u8, (4 + 4 * used) as u8];
            rr.resize(3 + 4 * slots, 0xc6);
            rr
        }),
        (1usize..=3).prop_map(|entries| {
            let mut ts = vec![68, (4 + 4 * entries) as u8, 5, 0];
            ts.resize(4 + 4 * entries, 0);
            ts
        }),
        (
            any::<u8>().prop_filter("not a kind we decode", |k| ![0, 1, 7, 68, 148].contains(k)),
            proptest::collection::vec(any::<u8>(), 0..6)
        )
            .prop_map(|(kind, data)| {
                let mut option = vec![kind, (2 + data.len()) as u8];
                option.extend_from_slice(&data);
                option
            }),
    ]
}

/// Options that fit in 40 bytes.
fn options() -> impl Strategy<Value = Ipv4Options> {
    proptest::collection::vec(option(), 0..5).prop_map(|list| {
        let mut bytes = Vec::new();
        for option in list {
            if bytes.len() + option.len() <= 40 {
                bytes.extend_from_slice(&option);
            }
        }
        Ipv4Options::new(&bytes).unwrap()
    })
}

/// Any ICMP message etherparse can also build.
fn icmp() -> impl Strategy<Value = Icmp> {
    let data = || proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (any::<bool>(), any::<u16>(), any::<u16>(), data()).prop_map(
            |(request, ident, seq, data)| Icmp::Echo {
                request,
                ident,
                seq,
                data
            }
        ),
        // etherparse knows codes 0..=15 and keeps the MTU only for code 4.
        (0u8..=15, any::<u16>(), data()).prop_map(|(code, mtu, quoted)| Icmp::Unreachable {
            reason: DstUnreachable::from(code),
            next_hop_mtu: if code == 4 { mtu } else { 0 },
            quoted
        }),
        (any::<bool>(), data()).prop_map(|(ttl, quoted)| Icmp::TimeExceeded {
            reason: if ttl {
                TimeExceeded::TtlExpired
            } else {
                TimeExceeded::FragReassembly
            },
            quoted
        }),
        // Types neither we nor etherparse decode.
        (
            any::<u8>().prop_filter("undecoded type", |t| {
                ![0, 3, 5, 8, 11, 12, 13, 14].contains(t)
            }),
            any::<u8>(),
            any::<u32>(),
            data()
        )
            .prop_map(|(msg_type, code, rest_of_header, data)| Icmp::Other {
                msg_type,
                code,
                rest_of_header,
                data
            }),
    ]
}

/// A whole packet spec with random header fields (not fragmented: the
/// ICMP layer must be readable).
fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            ipv4_addr(),
            ipv4_addr(),
            any::<u8>(),
            any::<u16>(),
            any::<bool>(),
        ),
        (0u8..64, 0u8..4, options()),
        icmp(),
    )
        .prop_map(
            |((src_addr, dst_addr, ttl, ident, dont_frag), (dscp, ecn, options), icmp)| Spec {
                source: OUR_MAC,
                destination: ALPHA_MAC,
                ip: Ipv4Repr {
                    src_addr,
                    dst_addr,
                    protocol: IpProtocol::ICMP,
                    ttl,
                    ident,
                    dont_frag,
                    more_frags: false,
                    frag_offset: 0,
                    dscp,
                    ecn,
                    options,
                    payload_len: 0,
                },
                icmp,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn etherparse_reads_our_packets(spec in spec()) {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        // Up to Total Length: a short packet is followed by Ethernet padding.
        let theirs = ep_packet(&spec);
        prop_assert_eq!(&frame[14..14 + theirs.len()], &theirs[..]);
    }

    #[test]
    fn we_read_etherparse_packets(spec in spec()) {
        let theirs = ep_packet(&spec);
        let packet = Ipv4Packet::new_checked(&theirs[..]).unwrap();
        prop_assert_eq!(Ipv4Repr::parse(&packet).unwrap(), spec.ip());
        let icmp = Icmpv4Packet::new_checked(packet.payload()).unwrap();
        prop_assert_eq!(Icmpv4Repr::parse(&icmp).unwrap(), spec.icmp.repr());
    }
}
