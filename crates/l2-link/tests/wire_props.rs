//! Properties of the layer 2 formats, over random inputs:
//!
//! - `parse(emit(r)) == r`: emitting loses nothing;
//! - `emit(parse(bytes))` gives back the header bytes: parsing loses nothing;
//! - no decoder, and no printer, panics on any bytes.

use std::net::Ipv4Addr;

use l2_link::print::Printer;
use l2_link::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, MacAddr,
    MessagePacket, MessageRepr, VlanTag,
};
use proptest::prelude::*;

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn vlan_tag() -> impl Strategy<Value = VlanTag> {
    (0u8..8, any::<bool>(), 0u16..4096).prop_map(|(pcp, dei, vid)| VlanTag { pcp, dei, vid })
}

/// Any header an encoder may be asked for. An untagged frame cannot say
/// "my type is 0x8100" (that is what a tag looks like), so that one
/// combination is left out.
fn ethernet() -> impl Strategy<Value = EthernetRepr> {
    (mac(), mac(), proptest::option::of(vlan_tag()), any::<u16>())
        .prop_filter(
            "untagged 0x8100 reads as a tag",
            |(_, _, vlan, ethertype)| vlan.is_some() || *ethertype != EtherType::VLAN.0,
        )
        .prop_map(|(destination, source, vlan, ethertype)| EthernetRepr {
            destination,
            source,
            vlan,
            ethertype: EtherType(ethertype),
        })
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

/// Bytes that start like a frame of a type the printer decodes further, so
/// random input reaches the ARP and message dissectors, not only Ethernet.
fn frame_like() -> impl Strategy<Value = Vec<u8>> {
    let ethertype = prop_oneof![
        Just(EtherType::ARP.0),
        Just(EtherType::VLAN.0),
        Just(EtherType::LOCAL_EXPERIMENTAL_1.0),
        any::<u16>(),
    ];
    (
        proptest::collection::vec(any::<u8>(), 12),
        ethertype,
        proptest::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(addresses, ethertype, rest)| {
            let mut frame = addresses;
            frame.extend_from_slice(&ethertype.to_be_bytes());
            frame.extend_from_slice(&rest);
            frame
        })
}

/// Runs every decoder and the printer over `bytes`; only a panic fails.
fn decode_everything(bytes: &[u8]) {
    if let Ok(frame) = EthernetFrame::new_checked(bytes) {
        let _ = EthernetRepr::parse(&frame);
        let _ = frame.payload();
    }
    let _ = EthernetRepr::parse(&EthernetFrame::new_unchecked(bytes));
    if let Ok(packet) = ArpPacket::new_checked(bytes) {
        let _ = ArpRepr::parse(&packet);
        let _ = packet.target_protocol_addr();
    }
    let _ = ArpRepr::parse(&ArpPacket::new_unchecked(bytes));
    if let Ok(packet) = MessagePacket::new_checked(bytes) {
        let _ = MessageRepr::parse(&packet);
    }
    let _ = MessageRepr::parse(&MessagePacket::new_unchecked(bytes));

    let printer = Printer::layer2();
    let dissection = printer.dissect(bytes);
    let _ = printer.summary(bytes);
    let dump = printer.hexdump(bytes);
    // Every byte is shown exactly once, however damaged the frame.
    let shown: usize = dump
        .lines()
        .filter(|line| !line.starts_with("note:"))
        // The byte columns: after the offset, 47 characters (a short last
        // line ends sooner).
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
    // Every field lies within the frame.
    for layer in &dissection.layers {
        for field in &layer.fields {
            assert!(field.range.end <= bytes.len(), "{} {:?}", layer.name, field);
        }
    }
}

proptest! {
    #[test]
    fn ethernet_parse_of_emit(repr in ethernet(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let frame = repr.build(&payload);
        let view = EthernetFrame::new_checked(&frame[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&view).unwrap(), repr);
        prop_assert_eq!(view.header_len(), repr.header_len());
        prop_assert_eq!(&view.payload()[..payload.len()], &payload[..]);
        prop_assert_eq!(frame.len(), repr.frame_len(payload.len()));
    }

    #[test]
    fn ethernet_emit_of_parse(bytes in proptest::collection::vec(any::<u8>(), 14..64)) {
        if let Ok(view) = EthernetFrame::new_checked(&bytes[..]) {
            let repr = EthernetRepr::parse(&view).unwrap();
            let mut out = vec![0; repr.header_len()];
            repr.emit(&mut EthernetFrame::new_unchecked(&mut out));
            prop_assert_eq!(&out[..], &bytes[..repr.header_len()]);
        }
    }

    #[test]
    fn vlan_tag_is_exactly_its_sixteen_bits(tci in any::<u16>(), tag in vlan_tag()) {
        prop_assert_eq!(VlanTag::from_tci(tci).tci(), tci);
        prop_assert_eq!(VlanTag::from_tci(tag.tci()), tag);
    }

    #[test]
    fn arp_parse_of_emit(repr in arp()) {
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut ArpPacket::new_unchecked(&mut bytes));
        let packet = ArpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(ArpRepr::parse(&packet).unwrap(), repr);
    }

    #[test]
    fn arp_emit_of_parse(addresses in proptest::collection::vec(any::<u8>(), 22), op in any::<u16>(), padding in proptest::collection::vec(any::<u8>(), 0..20)) {
        // The fixed part of every Ethernet/IPv4 packet, then anything.
        let mut bytes = vec![0, 1, 8, 0, 6, 4];
        bytes.extend_from_slice(&op.to_be_bytes());
        bytes.extend_from_slice(&addresses);
        bytes.extend_from_slice(&padding);
        let repr = ArpRepr::parse(&ArpPacket::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = vec![0; repr.buffer_len()];
        repr.emit(&mut ArpPacket::new_unchecked(&mut out));
        prop_assert_eq!(&out[..], &bytes[..28]);
    }

    #[test]
    fn message_parse_of_emit(text in ".{0,60}") {
        let repr = MessageRepr::new(&text).unwrap();
        let mut bytes = vec![0; repr.buffer_len() + 10];
        repr.emit(&mut MessagePacket::new_unchecked(&mut bytes));
        let packet = MessagePacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(MessageRepr::parse(&packet).unwrap(), repr);
        prop_assert_eq!(packet.packet_len(), 2 + text.len());
    }

    #[test]
    fn message_emit_of_parse(text in ".{0,60}", padding in proptest::collection::vec(any::<u8>(), 0..20)) {
        let mut bytes = (text.len() as u16).to_be_bytes().to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let message_len = bytes.len();
        bytes.extend_from_slice(&padding);
        let repr = MessageRepr::parse(&MessagePacket::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = vec![0; repr.buffer_len()];
        repr.emit(&mut MessagePacket::new_unchecked(&mut out));
        prop_assert_eq!(&out[..], &bytes[..message_len]);
    }

    #[test]
    fn nothing_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        decode_everything(&bytes);
    }

    #[test]
    fn nothing_panics_on_random_frames(bytes in frame_like()) {
        decode_everything(&bytes);
    }
}

#[test]
fn truncated_frames_become_notes() {
    let printer = Printer::layer2();
    let summary = printer.summary(&[0xff; 10]);
    assert_eq!(
        summary,
        "Ethernet (truncated) [Ethernet: truncated (10 bytes, need 14)]"
    );

    // An ARP header cut after 20 of its 28 bytes.
    let mut frame = vec![0xff; 12];
    frame.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&[0; 12]);
    let dissection = printer.dissect(&frame);
    assert_eq!(dissection.notes, ["ARP: truncated (20 bytes, need 28)"]);
    assert!(printer.hexdump(&frame).contains("ARP.undecoded"));
}
