//! etherparse, an independent implementation, as the oracle for our layer 4
//! encoders and decoders:
//!
//! - it parses every frame we emit and must agree on every UDP and TCP
//!   field, options included (its `TcpOptionElement`s), and its own
//!   checksum computation over the IPv4 pseudo-header must give the
//!   checksums we wrote;
//! - its `PacketBuilder` builds the same frames, which must equal ours byte
//!   for byte;
//! - our decoders parse the packets it builds and must agree with what it
//!   was given;
//! - the frames pinned in `snapshots/` are exactly the frames checked here
//!   (the hex is read back out of the snapshot files).

use std::net::Ipv4Addr;

use etherparse as ep;
use l2_link::wire::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use l4_transport::wire::{
    SackBlocks, TcpFlags, TcpOption, TcpPacket, TcpRepr, TcpSeqNumber, UdpPacket, UdpRepr,
};
use proptest::prelude::*;

const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const OUR_PORT: u16 = 40000;
const ECHO_PORT: u16 = 7;

/// A TCP option as a test states it, owning its bytes.
#[derive(Debug, Clone, PartialEq)]
enum Opt {
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamps(u32, u32),
    /// A kind neither we nor etherparse interpret, with its data.
    Unknown(u8, Vec<u8>),
}

impl Opt {
    /// What our encoder gets.
    fn ours(&self) -> TcpOption<'_> {
        match self {
            Opt::Nop => TcpOption::NoOperation,
            Opt::Mss(mss) => TcpOption::MaxSegmentSize(*mss),
            Opt::WindowScale(shift) => TcpOption::WindowScale(*shift),
            Opt::SackPermitted => TcpOption::SackPermitted,
            Opt::Sack(blocks) => {
                let blocks: Vec<_> = blocks
                    .iter()
                    .map(|&(l, r)| (TcpSeqNumber(l), TcpSeqNumber(r)))
                    .collect();
                TcpOption::SackBlocks(SackBlocks::new(&blocks).unwrap())
            }
            Opt::Timestamps(tsval, tsecr) => TcpOption::Timestamps {
                tsval: *tsval,
                tsecr: *tsecr,
            },
            Opt::Unknown(kind, data) => TcpOption::Unknown { kind: *kind, data },
        }
    }

    /// The same option in etherparse's terms; it has none for unknown
    /// kinds (it reports them as `UnknownId`).
    fn theirs(&self) -> Result<ep::TcpOptionElement, ep::TcpOptionReadError> {
        use ep::TcpOptionElement as E;
        Ok(match self {
            Opt::Nop => E::Noop,
            Opt::Mss(mss) => E::MaximumSegmentSize(*mss),
            Opt::WindowScale(shift) => E::WindowScale(*shift),
            Opt::SackPermitted => E::SelectiveAcknowledgementPermitted,
            Opt::Sack(blocks) => {
                let mut rest = [None; 3];
                for (slot, block) in rest.iter_mut().zip(&blocks[1..]) {
                    *slot = Some(*block);
                }
                E::SelectiveAcknowledgement(blocks[0], rest)
            }
            Opt::Timestamps(tsval, tsecr) => E::Timestamp(*tsval, *tsecr),
            Opt::Unknown(kind, _) => return Err(ep::TcpOptionReadError::UnknownId(*kind)),
        })
    }

    /// The option's bytes, written out here by hand from RFC 9293 §3.2's
    /// kind–length–data rule: for the unknown kinds, which etherparse
    /// cannot build, we hand it raw bytes.
    fn raw(&self) -> Vec<u8> {
        match self {
            Opt::Nop => vec![1],
            Opt::Unknown(kind, data) => [&[*kind, 2 + data.len() as u8][..], data].concat(),
            other => panic!("only NOP and unknown kinds are written by hand: {other:?}"),
        }
    }
}

/// What a segment carries, as the test states it.
#[derive(Debug, Clone)]
enum Transport {
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: Vec<u8>,
    },
    Tcp(Tcp),
}

#[derive(Debug, Clone)]
struct Tcp {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    urgent: u16,
    options: Vec<Opt>,
    payload: Vec<u8>,
}

impl Tcp {
    /// What our encoder gets.
    fn repr(&self) -> TcpRepr<'_> {
        TcpRepr {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq_number: TcpSeqNumber(self.seq),
            ack_number: TcpSeqNumber(self.ack),
            flags: TcpFlags(self.flags),
            window_len: self.window,
            urgent_at: self.urgent,
            options: self.options.iter().map(Opt::ours).collect(),
            payload: &self.payload,
        }
    }

    /// What etherparse's option iterator must yield: every option up to
    /// the first unknown kind, where it stops with `UnknownId`.
    fn expected_ep_options(&self) -> Vec<Result<ep::TcpOptionElement, ep::TcpOptionReadError>> {
        let mut expected = Vec::new();
        for option in &self.options {
            let theirs = option.theirs();
            let stop = theirs.is_err();
            expected.push(theirs);
            if stop {
                break;
            }
        }
        expected
    }

    /// etherparse's header with the same fields: options as elements when
    /// all are known to it, else as raw bytes written by hand.
    fn ep_header(&self) -> ep::TcpHeader {
        let bit = |flag: TcpFlags| self.flags & flag.bits() != 0;
        let mut header = ep::TcpHeader {
            source_port: self.src_port,
            destination_port: self.dst_port,
            sequence_number: self.seq,
            acknowledgment_number: self.ack,
            ns: false,
            fin: bit(TcpFlags::FIN),
            syn: bit(TcpFlags::SYN),
            rst: bit(TcpFlags::RST),
            psh: bit(TcpFlags::PSH),
            ack: bit(TcpFlags::ACK),
            urg: bit(TcpFlags::URG),
            ece: bit(TcpFlags::ECE),
            cwr: bit(TcpFlags::CWR),
            window_size: self.window,
            checksum: 0,
            urgent_pointer: self.urgent,
            options: Default::default(),
        };
        let elements: Result<Vec<_>, _> = self.options.iter().map(Opt::theirs).collect();
        match elements {
            Ok(elements) => header.set_options(&elements).unwrap(),
            Err(_) => {
                // Known options through etherparse's own writer, one at a
                // time; the rest by hand.
                let mut raw = Vec::new();
                for option in &self.options {
                    match option.theirs() {
                        Ok(element) => {
                            let mut one = ep::TcpHeader::default();
                            one.set_options(&[element]).unwrap();
                            raw.extend_from_slice(&one.options.as_slice()[..wire_len(option)]);
                        }
                        Err(_) => raw.extend_from_slice(&option.raw()),
                    }
                }
                header.set_options_raw(&raw).unwrap();
            }
        }
        header
    }
}

/// An option's length on the wire, by RFC 9293 §3.2 and the RFCs of each
/// kind (not asked of the code under test).
fn wire_len(option: &Opt) -> usize {
    match option {
        Opt::Nop => 1,
        Opt::Mss(_) => 4,
        Opt::WindowScale(_) => 3,
        Opt::SackPermitted => 2,
        Opt::Sack(blocks) => 2 + 8 * blocks.len(),
        Opt::Timestamps(..) => 10,
        Opt::Unknown(_, data) => 2 + data.len(),
    }
}

/// A segment in an IPv4 packet in an Ethernet frame.
#[derive(Debug, Clone)]
struct Spec {
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    ident: u16,
    transport: Transport,
}

impl Spec {
    fn protocol(&self) -> IpProtocol {
        match self.transport {
            Transport::Udp { .. } => IpProtocol::UDP,
            Transport::Tcp(_) => IpProtocol::TCP,
        }
    }

    /// The segment, built by our encoders.
    fn segment(&self) -> Vec<u8> {
        match &self.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => UdpRepr {
                src_port: *src_port,
                dst_port: *dst_port,
            }
            .build(self.src_ip, self.dst_ip, payload),
            Transport::Tcp(tcp) => tcp.repr().build(self.src_ip, self.dst_ip),
        }
    }

    /// The IPv4 header, Linux's defaults, as wire_snapshots.rs writes it.
    fn ip(&self) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: self.src_ip,
            dst_addr: self.dst_ip,
            protocol: self.protocol(),
            ttl: 64,
            ident: self.ident,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: 0,
        }
    }

    /// The frame, built by our encoders.
    fn frame(&self) -> Vec<u8> {
        EthernetRepr {
            destination: self.dst_mac,
            source: self.src_mac,
            vlan: None,
            ethertype: EtherType::IPV4,
        }
        .build(&self.ip().build(&self.segment()))
    }

    /// The frame, built by etherparse (without Ethernet's padding to 60
    /// bytes, which its builder does not add).
    fn ep_frame(&self) -> Vec<u8> {
        let mut ipv4 = ep::Ipv4Header {
            identification: self.ident,
            dont_fragment: true,
            time_to_live: 64,
            source: self.src_ip.octets(),
            destination: self.dst_ip.octets(),
            ..Default::default()
        };
        ipv4.protocol = ep::IpNumber(self.protocol().0);
        let builder = ep::PacketBuilder::ethernet2(self.src_mac.0, self.dst_mac.0)
            .ip(ep::IpHeaders::Ipv4(ipv4, Default::default()));
        let mut out = Vec::new();
        match &self.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => builder
                .udp(*src_port, *dst_port)
                .write(&mut out, payload)
                .unwrap(),
            Transport::Tcp(tcp) => builder
                .tcp_header(tcp.ep_header())
                .write(&mut out, &tcp.payload)
                .unwrap(),
        }
        out
    }
}

// The frames of wire_snapshots.rs, stated again here.

fn lab(from_us: bool, ident: u16, transport: Transport) -> Spec {
    let (src_mac, dst_mac, src_ip, dst_ip) = if from_us {
        (OUR_MAC, ALPHA_MAC, OUR_IP, ALPHA_IP)
    } else {
        (ALPHA_MAC, OUR_MAC, ALPHA_IP, OUR_IP)
    };
    Spec {
        src_mac,
        dst_mac,
        src_ip,
        dst_ip,
        ident,
        transport,
    }
}

fn tcp(from_us: bool, seq: u32, ack: u32, flags: TcpFlags, window: u16) -> Tcp {
    let (src_port, dst_port) = if from_us {
        (OUR_PORT, ECHO_PORT)
    } else {
        (ECHO_PORT, OUR_PORT)
    };
    Tcp {
        src_port,
        dst_port,
        seq,
        ack,
        flags: flags.bits(),
        window,
        urgent: 0,
        options: Vec::new(),
        payload: Vec::new(),
    }
}

fn syn_options(tsval: u32, tsecr: u32) -> Vec<Opt> {
    vec![
        Opt::Mss(1460),
        Opt::SackPermitted,
        Opt::Timestamps(tsval, tsecr),
        Opt::Nop,
        Opt::WindowScale(7),
    ]
}

fn timestamps(tsval: u32, tsecr: u32) -> Vec<Opt> {
    vec![Opt::Nop, Opt::Nop, Opt::Timestamps(tsval, tsecr)]
}

/// The frame each snapshot file shows.
fn snapshot_specs() -> Vec<(&'static str, Spec)> {
    let udp = Transport::Udp {
        src_port: OUR_PORT,
        dst_port: ECHO_PORT,
        payload: b"hello".to_vec(),
    };
    let syn = Tcp {
        options: syn_options(1, 0),
        ..tcp(true, 1000, 0, TcpFlags::SYN, 65535)
    };
    let syn_ack = Tcp {
        options: syn_options(7, 1),
        ..tcp(false, 5000, 1001, TcpFlags::SYN | TcpFlags::ACK, 65160)
    };
    let data = Tcp {
        options: timestamps(2, 7),
        payload: b"hello".to_vec(),
        ..tcp(true, 1001, 5001, TcpFlags::PSH | TcpFlags::ACK, 512)
    };
    let mut sack_options = timestamps(9, 4);
    sack_options.extend([
        Opt::Nop,
        Opt::Nop,
        Opt::Sack(vec![(3001, 4001), (5001, 6001)]),
    ]);
    let sack = Tcp {
        options: sack_options,
        ..tcp(false, 5001, 2001, TcpFlags::ACK, 501)
    };
    let fin = Tcp {
        options: timestamps(3, 8),
        ..tcp(true, 1006, 5006, TcpFlags::FIN | TcpFlags::ACK, 512)
    };
    let rst = tcp(true, 1007, 0, TcpFlags::RST, 0);
    vec![
        ("udp_datagram", lab(true, 0x0101, udp)),
        ("tcp_syn", lab(true, 0x0201, Transport::Tcp(syn))),
        ("tcp_syn_ack", lab(false, 0, Transport::Tcp(syn_ack))),
        ("tcp_data", lab(true, 0x0202, Transport::Tcp(data))),
        ("tcp_sack", lab(false, 0x5a01, Transport::Tcp(sack))),
        ("tcp_fin_ack", lab(true, 0x0203, Transport::Tcp(fin))),
        ("tcp_rst", lab(true, 0x0204, Transport::Tcp(rst))),
    ]
}

// What etherparse sees.

/// etherparse reads `frame` and must find `spec` in it, with correct IPv4,
/// UDP and TCP checksums by its own computation.
fn assert_etherparse_reads(spec: &Spec, frame: &[u8]) {
    let sliced = ep::SlicedPacket::from_ethernet(frame).unwrap();
    let Some(ep::LinkSlice::Ethernet2(ethernet)) = &sliced.link else {
        panic!("no Ethernet II header");
    };
    assert_eq!(ethernet.source(), spec.src_mac.0);
    assert_eq!(ethernet.destination(), spec.dst_mac.0);
    let Some(ep::NetSlice::Ipv4(ipv4)) = &sliced.net else {
        panic!("no IPv4 in {frame:02x?}");
    };
    let ip = ipv4.header();
    assert_eq!(ip.source_addr(), spec.src_ip);
    assert_eq!(ip.destination_addr(), spec.dst_ip);
    assert_eq!(ip.protocol().0, spec.protocol().0);
    assert_eq!(ip.identification(), spec.ident);
    assert_eq!(usize::from(ip.total_len()), 20 + spec.segment().len());
    assert_eq!(ip.header_checksum(), ip.to_header().calc_header_checksum());
    let (src, dst) = (spec.src_ip.octets(), spec.dst_ip.octets());
    match (&spec.transport, &sliced.transport) {
        (
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            },
            Some(ep::TransportSlice::Udp(udp)),
        ) => {
            assert_eq!(udp.source_port(), *src_port);
            assert_eq!(udp.destination_port(), *dst_port);
            assert_eq!(usize::from(udp.length()), 8 + payload.len());
            assert_eq!(udp.payload(), &payload[..]);
            let theirs = udp
                .to_header()
                .calc_checksum_ipv4_raw(src, dst, udp.payload())
                .unwrap();
            assert_eq!(udp.checksum(), theirs, "UDP checksum");
        }
        (Transport::Tcp(expected), Some(ep::TransportSlice::Tcp(tcp))) => {
            assert_eq!(tcp.source_port(), expected.src_port);
            assert_eq!(tcp.destination_port(), expected.dst_port);
            assert_eq!(tcp.sequence_number(), expected.seq);
            assert_eq!(tcp.acknowledgment_number(), expected.ack);
            let flags = [
                (tcp.fin(), TcpFlags::FIN),
                (tcp.syn(), TcpFlags::SYN),
                (tcp.rst(), TcpFlags::RST),
                (tcp.psh(), TcpFlags::PSH),
                (tcp.ack(), TcpFlags::ACK),
                (tcp.urg(), TcpFlags::URG),
                (tcp.ece(), TcpFlags::ECE),
                (tcp.cwr(), TcpFlags::CWR),
            ];
            for (set, flag) in flags {
                assert_eq!(set, expected.flags & flag.bits() != 0, "{flag:?}");
            }
            assert!(!tcp.ns());
            assert_eq!(tcp.window_size(), expected.window);
            assert_eq!(tcp.urgent_pointer(), expected.urgent);
            let options_len: usize = expected.options.iter().map(wire_len).sum();
            assert_eq!(
                usize::from(tcp.data_offset()) * 4,
                20 + options_len.next_multiple_of(4)
            );
            let options: Vec<_> = tcp.options_iterator().collect();
            assert_eq!(options, expected.expected_ep_options());
            // Padding is zeros (End of Option List, then padding).
            assert!(tcp.options()[options_len..].iter().all(|&b| b == 0));
            assert_eq!(tcp.payload(), &expected.payload[..]);
            let theirs = tcp
                .to_header()
                .calc_checksum_ipv4_raw(src, dst, tcp.payload())
                .unwrap();
            assert_eq!(tcp.checksum(), theirs, "TCP checksum");
        }
        (_, other) => panic!("wrong transport: {other:?}"),
    }
}

/// Our frame and etherparse's are the same bytes, but for the zeros
/// Ethernet pads a short frame with.
fn assert_same_bytes(ours: &[u8], theirs: &[u8]) {
    assert_eq!(&ours[..theirs.len()], theirs, "byte for byte");
    assert!(ours[theirs.len()..].iter().all(|&b| b == 0), "padding");
    assert_eq!(ours.len(), theirs.len().max(60));
}

/// Our decoders read etherparse's frame and find `spec` in it.
fn assert_we_read(spec: &Spec, theirs: &[u8]) {
    let ethernet = EthernetFrame::new_checked(theirs).unwrap();
    let ip = Ipv4Packet::new_checked(ethernet.payload()).unwrap();
    let ip_repr = Ipv4Repr::parse(&ip).unwrap();
    assert_eq!(
        (ip_repr.src_addr, ip_repr.dst_addr),
        (spec.src_ip, spec.dst_ip)
    );
    match &spec.transport {
        Transport::Udp {
            src_port,
            dst_port,
            payload,
        } => {
            let udp = UdpPacket::new_checked(ip.payload()).unwrap();
            let repr = UdpRepr::parse(&udp, spec.src_ip, spec.dst_ip).unwrap();
            assert_eq!((repr.src_port, repr.dst_port), (*src_port, *dst_port));
            assert_eq!(udp.payload(), &payload[..]);
        }
        Transport::Tcp(tcp) => {
            let packet = TcpPacket::new_checked(ip.payload()).unwrap();
            let repr = TcpRepr::parse(&packet, spec.src_ip, spec.dst_ip).unwrap();
            assert_eq!(repr, tcp.repr());
        }
    }
}

#[test]
fn etherparse_reads_the_snapshot_frames() {
    for (_, spec) in snapshot_specs() {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        assert_same_bytes(&frame, &spec.ep_frame());
    }
}

#[test]
fn we_read_etherparse_snapshot_frames() {
    for (_, spec) in snapshot_specs() {
        assert_we_read(&spec, &spec.ep_frame());
    }
}

#[test]
fn unknown_options_are_where_etherparse_stops() {
    // An experimental option (kind 253, RFC 4727) between known ones: we
    // keep it and go on; etherparse reports its kind and stops.
    let spec = lab(
        true,
        7,
        Transport::Tcp(Tcp {
            options: vec![
                Opt::Mss(1400),
                Opt::Unknown(253, vec![0xab, 0xcd]),
                Opt::WindowScale(2),
            ],
            ..tcp(true, 1, 0, TcpFlags::SYN, 1024)
        }),
    );
    let frame = spec.frame();
    assert_etherparse_reads(&spec, &frame);
    assert_same_bytes(&frame, &spec.ep_frame());
    assert_we_read(&spec, &spec.ep_frame());
}

#[test]
fn a_computed_zero_udp_checksum_goes_out_as_ffff() {
    // Find a payload whose checksum comes out 0 (so 0xffff is sent), then
    // ask etherparse to agree: it applies the same RFC 768 rule.
    let spec_for = |word: u16| {
        lab(
            true,
            1,
            Transport::Udp {
                src_port: 1,
                dst_port: 2,
                payload: word.to_be_bytes().to_vec(),
            },
        )
    };
    let word = (0..=u16::MAX)
        .find(|&w| {
            let segment = spec_for(w).segment();
            UdpPacket::new_unchecked(&segment[..]).checksum() == 0xffff
        })
        .expect("some payload word makes the sum come out zero");
    let spec = spec_for(word);
    assert_etherparse_reads(&spec, &spec.frame());
    assert_same_bytes(&spec.frame(), &spec.ep_frame());
}

/// Reads the frame bytes back out of an annotated hex dump (`0000  xx xx …`
/// lines; every other line is skipped).
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
    for (name, spec) in snapshot_specs() {
        let path = format!("{dir}/wire_snapshots__{name}.snap");
        let snapshot = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run the wire_snapshots tests first)"));
        assert_eq!(bytes_in_hexdump(&snapshot), spec.frame(), "{path}");
    }
}

// Random segments, both directions.

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

/// Any option: the known kinds with any values, and unknown kinds (not
/// 0–5 or 8) with up to 8 bytes of data.
fn option() -> impl Strategy<Value = Opt> {
    prop_oneof![
        Just(Opt::Nop),
        any::<u16>().prop_map(Opt::Mss),
        any::<u8>().prop_map(Opt::WindowScale),
        Just(Opt::SackPermitted),
        proptest::collection::vec(any::<(u32, u32)>(), 1..=4).prop_map(Opt::Sack),
        any::<(u32, u32)>().prop_map(|(v, e)| Opt::Timestamps(v, e)),
        (
            any::<u8>().prop_filter("a kind we interpret", |k| !matches!(k, 0..=5 | 8)),
            proptest::collection::vec(any::<u8>(), 0..=8)
        )
            .prop_map(|(kind, data)| Opt::Unknown(kind, data)),
    ]
}

/// Up to 40 bytes of options: the list is cut before the option that
/// would not fit.
fn options() -> impl Strategy<Value = Vec<Opt>> {
    proptest::collection::vec(option(), 0..8).prop_map(|list| {
        let mut used = 0;
        list.into_iter()
            .take_while(|option| {
                used += wire_len(option);
                used <= 40
            })
            .collect()
    })
}

fn transport() -> impl Strategy<Value = Transport> {
    let payload = || proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (any::<u16>(), any::<u16>(), payload()).prop_map(|(src_port, dst_port, payload)| {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            }
        }),
        (
            (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
            (any::<u8>(), any::<u16>(), any::<u16>()),
            options(),
            payload()
        )
            .prop_map(
                |((src_port, dst_port, seq, ack), (flags, window, urgent), options, payload)| {
                    Transport::Tcp(Tcp {
                        src_port,
                        dst_port,
                        seq,
                        ack,
                        flags,
                        window,
                        urgent,
                        options,
                        payload,
                    })
                }
            ),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        ipv4_addr(),
        ipv4_addr(),
        any::<u16>(),
        transport(),
    )
        .prop_map(
            |(src_mac, dst_mac, src_ip, dst_ip, ident, transport)| Spec {
                src_mac: MacAddr(src_mac),
                dst_mac: MacAddr(dst_mac),
                src_ip,
                dst_ip,
                ident,
                transport,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn etherparse_reads_our_frames(spec in spec()) {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        assert_same_bytes(&frame, &spec.ep_frame());
    }

    #[test]
    fn we_read_etherparse_frames(spec in spec()) {
        assert_we_read(&spec, &spec.ep_frame());
    }
}
