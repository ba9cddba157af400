//! etherparse, an independent implementation, as the oracle for our layer 2
//! encoders and decoders:
//!
//! - it parses every frame we emit and must agree on every field;
//! - where it can build the same frame (Ethernet II, one 802.1Q tag, ARP),
//!   its bytes must equal ours, byte for byte;
//! - our decoder parses the frames it builds and must agree with what it
//!   was given;
//! - the frames pinned in `snapshots/` are exactly the frames checked here
//!   (the hex is read back out of the snapshot files).

use std::net::Ipv4Addr;

use etherparse as ep;
use l2_link::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, MacAddr,
    MessagePacket, MessageRepr, VlanTag, ethernet::MIN_FRAME_LEN,
};
use proptest::prelude::*;

const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const RAW_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

/// What a frame carries after its Ethernet header.
#[derive(Debug, Clone)]
enum Upper {
    Arp(ArpRepr),
    Message(&'static str),
    Raw(Vec<u8>),
}

/// A frame as the encoders are asked to build it.
#[derive(Debug, Clone)]
struct Spec {
    /// The snapshot that shows this frame (wire_snapshots.rs).
    snapshot: &'static str,
    ethernet: EthernetRepr,
    upper: Upper,
}

impl Spec {
    /// The payload our encoders write for `upper`.
    fn payload(&self) -> Vec<u8> {
        match &self.upper {
            Upper::Arp(repr) => {
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&mut ArpPacket::new_unchecked(&mut bytes));
                bytes
            }
            Upper::Message(text) => {
                let repr = MessageRepr::new(text).unwrap();
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&mut MessagePacket::new_unchecked(&mut bytes));
                bytes
            }
            Upper::Raw(bytes) => bytes.clone(),
        }
    }

    /// The whole frame, built by our encoders.
    fn frame(&self) -> Vec<u8> {
        self.ethernet.build(&self.payload())
    }
}

/// The frames wire_snapshots.rs pins, built the same way.
fn snapshot_specs() -> Vec<Spec> {
    let ethernet = |destination, source, vlan, ethertype| EthernetRepr {
        destination,
        source,
        vlan,
        ethertype,
    };
    let tag = VlanTag {
        pcp: 3,
        dei: false,
        vid: 5,
    };
    let request = ArpRepr::request(OUR_MAC, OUR_IP, ALPHA_IP);
    let reply = ArpRepr::reply_to(&ArpRepr::request(ALPHA_MAC, ALPHA_IP, OUR_IP), OUR_MAC);
    let broadcast = MacAddr::BROADCAST;
    vec![
        Spec {
            snapshot: "ethernet_ipv4",
            ethernet: ethernet(RAW_MAC, ALPHA_MAC, None, EtherType::IPV4),
            upper: Upper::Raw((0..20).collect()),
        },
        Spec {
            snapshot: "ethernet_vlan_arp",
            ethernet: ethernet(broadcast, OUR_MAC, Some(tag), EtherType::ARP),
            upper: Upper::Arp(request),
        },
        Spec {
            snapshot: "arp_request",
            ethernet: ethernet(broadcast, OUR_MAC, None, EtherType::ARP),
            upper: Upper::Arp(request),
        },
        Spec {
            snapshot: "arp_reply",
            ethernet: ethernet(ALPHA_MAC, OUR_MAC, None, EtherType::ARP),
            upper: Upper::Arp(reply),
        },
        Spec {
            snapshot: "arp_gratuitous",
            ethernet: ethernet(broadcast, OUR_MAC, None, EtherType::ARP),
            upper: Upper::Arp(ArpRepr::gratuitous(OUR_MAC, OUR_IP)),
        },
        Spec {
            snapshot: "message_hello_padded",
            ethernet: ethernet(ALPHA_MAC, OUR_MAC, None, EtherType::LOCAL_EXPERIMENTAL_1),
            upper: Upper::Message("hello"),
        },
    ]
}

/// etherparse's Ethernet II header (and tag) for `repr`.
fn ep_ethernet(repr: &EthernetRepr) -> (ep::Ethernet2Header, Option<ep::SingleVlanHeader>) {
    let outer = match repr.vlan {
        Some(_) => ep::EtherType::VLAN_TAGGED_FRAME,
        None => ep::EtherType(repr.ethertype.0),
    };
    let header = ep::Ethernet2Header {
        source: repr.source.0,
        destination: repr.destination.0,
        ether_type: outer,
    };
    let vlan = repr.vlan.map(|tag| ep::SingleVlanHeader {
        pcp: ep::VlanPcp::try_new(tag.pcp).unwrap(),
        drop_eligible_indicator: tag.dei,
        vlan_id: ep::VlanId::try_new(tag.vid).unwrap(),
        ether_type: ep::EtherType(repr.ethertype.0),
    });
    (header, vlan)
}

/// etherparse's ARP packet for `repr`.
fn ep_arp(repr: &ArpRepr) -> ep::ArpPacket {
    ep::ArpEthIpv4Packet {
        operation: ep::ArpOperation(repr.operation.into()),
        sender_mac: repr.sender_mac.0,
        sender_ipv4: repr.sender_ip.octets(),
        target_mac: repr.target_mac.0,
        target_ipv4: repr.target_ip.octets(),
    }
    .to_arp_packet()
}

/// The frame built by etherparse alone, without padding.
fn ep_frame(spec: &Spec) -> Vec<u8> {
    let (header, vlan) = ep_ethernet(&spec.ethernet);
    let mut bytes = header.to_bytes().to_vec();
    if let Some(vlan) = vlan {
        bytes.extend_from_slice(&vlan.to_bytes());
    }
    match &spec.upper {
        Upper::Arp(repr) => bytes.extend_from_slice(&ep_arp(repr).to_bytes()),
        // etherparse knows nothing of our message protocol: write it the
        // way its definition says, length then text.
        Upper::Message(text) => {
            bytes.extend_from_slice(&(text.len() as u16).to_be_bytes());
            bytes.extend_from_slice(text.as_bytes());
        }
        Upper::Raw(payload) => bytes.extend_from_slice(payload),
    }
    bytes
}

/// etherparse reads `frame` and must find exactly what `spec` asked for.
fn assert_etherparse_reads(spec: &Spec, frame: &[u8]) {
    let (header, rest) = ep::Ethernet2Header::from_slice(frame).unwrap();
    assert_eq!(header.destination, spec.ethernet.destination.0);
    assert_eq!(header.source, spec.ethernet.source.0);
    let payload = match spec.ethernet.vlan {
        Some(tag) => {
            assert_eq!(header.ether_type, ep::EtherType::VLAN_TAGGED_FRAME);
            let (vlan, rest) = ep::SingleVlanHeader::from_slice(rest).unwrap();
            assert_eq!(vlan.pcp.value(), tag.pcp);
            assert_eq!(vlan.drop_eligible_indicator, tag.dei);
            assert_eq!(vlan.vlan_id.value(), tag.vid);
            assert_eq!(vlan.ether_type.0, spec.ethernet.ethertype.0);
            rest
        }
        None => {
            assert_eq!(header.ether_type.0, spec.ethernet.ethertype.0);
            rest
        }
    };
    match &spec.upper {
        Upper::Arp(repr) => {
            // The whole stack of slices, as a capture tool would see it.
            let sliced = ep::SlicedPacket::from_ethernet(frame).unwrap();
            let Some(ep::NetSlice::Arp(arp)) = &sliced.net else {
                panic!("etherparse found no ARP in {frame:02x?}");
            };
            assert_eq!(arp.hw_addr_type(), ep::ArpHardwareId::ETHERNET);
            assert_eq!(arp.proto_addr_type(), ep::EtherType::IPV4);
            assert_eq!((arp.hw_addr_size(), arp.proto_addr_size()), (6, 4));
            assert_eq!(arp.operation().0, u16::from(repr.operation));
            assert_eq!(arp.sender_hw_addr(), &repr.sender_mac.0);
            assert_eq!(arp.sender_protocol_addr(), &repr.sender_ip.octets());
            assert_eq!(arp.target_hw_addr(), &repr.target_mac.0);
            assert_eq!(arp.target_protocol_addr(), &repr.target_ip.octets());
            assert_eq!(
                sliced.vlan_ids().len(),
                usize::from(spec.ethernet.vlan.is_some())
            );
        }
        Upper::Message(text) => {
            assert_eq!(payload[..2], (text.len() as u16).to_be_bytes());
            assert_eq!(&payload[2..2 + text.len()], text.as_bytes());
        }
        Upper::Raw(bytes) => assert_eq!(&payload[..bytes.len()], &bytes[..]),
    }
}

/// Our frame equals etherparse's byte for byte, then zeros to 60 bytes.
fn assert_same_bytes_as_etherparse(spec: &Spec, frame: &[u8]) {
    let theirs = ep_frame(spec);
    assert_eq!(frame[..theirs.len()], theirs[..], "{}", spec.snapshot);
    assert!(frame[theirs.len()..].iter().all(|&b| b == 0));
    assert_eq!(frame.len(), theirs.len().max(MIN_FRAME_LEN));
}

#[test]
fn etherparse_agrees_with_the_snapshot_frames() {
    for spec in snapshot_specs() {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        assert_same_bytes_as_etherparse(&spec, &frame);
    }
}

#[test]
fn the_packet_builder_builds_our_arp_frames() {
    // etherparse's high-level builder too, not just its header types.
    for spec in snapshot_specs() {
        let Upper::Arp(repr) = &spec.upper else {
            continue;
        };
        let eth = &spec.ethernet;
        let builder = ep::PacketBuilder::ethernet2(eth.source.0, eth.destination.0);
        let mut theirs = Vec::new();
        match ep_ethernet(eth).1 {
            Some(vlan) => builder
                .vlan(ep::VlanHeader::Single(vlan))
                .arp(ep_arp(repr))
                .write(&mut theirs)
                .unwrap(),
            None => builder.arp(ep_arp(repr)).write(&mut theirs).unwrap(),
        }
        assert_eq!(
            spec.frame()[..theirs.len()],
            theirs[..],
            "{}",
            spec.snapshot
        );
    }
}

/// The bytes of an annotated hex dump: every line that starts with a
/// four-digit offset, hex read from the byte columns.
fn bytes_in_hexdump(dump: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in dump.lines() {
        let is_dump_line = line.len() > 6
            && line[..4].bytes().all(|b| b.is_ascii_hexdigit())
            && &line[4..6] == "  ";
        if !is_dump_line {
            continue;
        }
        // Offset (4), two spaces, then 16 × "xx " minus the last space.
        let columns = &line[6..line.len().min(6 + 47)];
        for pair in columns.split_whitespace() {
            bytes.push(u8::from_str_radix(pair, 16).unwrap());
        }
    }
    bytes
}

#[test]
fn snapshots_show_the_bytes_etherparse_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots");
    for spec in snapshot_specs() {
        let path = format!("{dir}/wire_snapshots__{}.snap", spec.snapshot);
        let snapshot = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run the wire_snapshots tests first)"));
        assert_eq!(bytes_in_hexdump(&snapshot), spec.frame(), "{path}");
    }
}

// Random frames, both directions.

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn vlan() -> impl Strategy<Value = Option<VlanTag>> {
    proptest::option::of(
        (0u8..8, any::<bool>(), 0u16..4096).prop_map(|(pcp, dei, vid)| VlanTag { pcp, dei, vid }),
    )
}

fn arp() -> impl Strategy<Value = ArpRepr> {
    (any::<u16>(), mac(), ipv4(), mac(), ipv4()).prop_map(
        |(op, sender_mac, sender_ip, target_mac, target_ip)| ArpRepr {
            operation: ArpOperation::from(op),
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        },
    )
}

/// An ARP frame with random addresses, tag and payload.
fn arp_spec() -> impl Strategy<Value = Spec> {
    (mac(), vlan(), arp()).prop_map(|(destination, vlan, arp)| Spec {
        snapshot: "(random)",
        ethernet: EthernetRepr {
            destination,
            source: arp.sender_mac,
            vlan,
            ethertype: EtherType::ARP,
        },
        upper: Upper::Arp(arp),
    })
}

/// A frame of any EtherType except the tag's own (which would make it a
/// different frame), with random payload.
fn raw_spec() -> impl Strategy<Value = Spec> {
    let ethertype = any::<u16>()
        .prop_filter("not a tag", |t| *t != 0x8100)
        .prop_map(EtherType);
    (
        mac(),
        mac(),
        vlan(),
        ethertype,
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(destination, source, vlan, ethertype, payload)| Spec {
            snapshot: "(random)",
            ethernet: EthernetRepr {
                destination,
                source,
                vlan,
                ethertype,
            },
            upper: Upper::Raw(payload),
        })
}

proptest! {
    #[test]
    fn etherparse_reads_our_arp_frames(spec in arp_spec()) {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        assert_same_bytes_as_etherparse(&spec, &frame);
    }

    #[test]
    fn etherparse_reads_our_ethernet_headers(spec in raw_spec()) {
        let frame = spec.frame();
        assert_etherparse_reads(&spec, &frame);
        assert_same_bytes_as_etherparse(&spec, &frame);
    }

    #[test]
    fn we_read_etherparse_frames(spec in arp_spec()) {
        let theirs = ep_frame(&spec);
        let frame = EthernetFrame::new_checked(&theirs[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&frame).unwrap(), spec.ethernet);
        let arp = ArpPacket::new_checked(frame.payload()).unwrap();
        let Upper::Arp(expected) = spec.upper else { unreachable!() };
        prop_assert_eq!(ArpRepr::parse(&arp).unwrap(), expected);
    }

    #[test]
    fn we_read_etherparse_headers(spec in raw_spec()) {
        let theirs = ep_frame(&spec);
        let frame = EthernetFrame::new_checked(&theirs[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&frame).unwrap(), spec.ethernet);
        let Upper::Raw(payload) = spec.upper else { unreachable!() };
        prop_assert_eq!(frame.payload(), &payload[..]);
    }
}
