//! Snapshots of what every layer 2 encoder writes: each frame as the
//! printer shows it (the summary line, a blank line, the annotated hex
//! dump), and each header diagram. The book includes these files.
//!
//! A snapshot only says "nothing changed". That the bytes are *right* is
//! checked by an independent decoder: `wire_oracle.rs` has etherparse parse
//! these same frames, and reads the hex back out of these snapshot files to
//! make sure of it.
//!
//! Update after an intended change with `INSTA_UPDATE=always cargo test -p
//! l2-link --test wire_snapshots`, then read the diff.

use std::net::Ipv4Addr;

use l2_link::print::Printer;
use l2_link::wire::layout::diagram;
use l2_link::wire::{
    ArpPacket, ArpRepr, EtherType, EthernetRepr, MacAddr, MessagePacket, MessageRepr, VlanTag, arp,
    ethernet, message,
};

/// alpha's lab0.
const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
/// raw's lab1, where raw's kernel lives.
const RAW_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
/// Our userspace stack on lab1.
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

/// What a snapshot holds for a frame.
fn shown(frame: &[u8]) -> String {
    let printer = Printer::layer2();
    format!("{}\n\n{}", printer.summary(frame), printer.hexdump(frame))
}

fn arp_bytes(repr: &ArpRepr) -> Vec<u8> {
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut bytes));
    bytes
}

fn arp_frame(destination: MacAddr, vlan: Option<VlanTag>, repr: &ArpRepr) -> Vec<u8> {
    let ethernet = EthernetRepr {
        destination,
        source: repr.sender_mac,
        vlan,
        ethertype: EtherType::ARP,
    };
    ethernet.build(&arp_bytes(repr))
}

#[test]
fn ethernet_ipv4() {
    // Ethernet cannot tell a payload from its padding: with no IPv4
    // dissector at layer 2, all 46 bytes show as data.
    let payload: Vec<u8> = (0..20).collect();
    let frame = EthernetRepr {
        destination: RAW_MAC,
        source: ALPHA_MAC,
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(&payload);
    insta::assert_snapshot!("ethernet_ipv4", shown(&frame));
}

#[test]
fn ethernet_vlan_arp() {
    let tag = VlanTag {
        pcp: 3,
        dei: false,
        vid: 5,
    };
    let request = ArpRepr::request(OUR_MAC, OUR_IP, ALPHA_IP);
    let frame = arp_frame(MacAddr::BROADCAST, Some(tag), &request);
    insta::assert_snapshot!("ethernet_vlan_arp", shown(&frame));
}

#[test]
fn arp_request() {
    let request = ArpRepr::request(OUR_MAC, OUR_IP, ALPHA_IP);
    let frame = arp_frame(MacAddr::BROADCAST, None, &request);
    insta::assert_snapshot!("arp_request", shown(&frame));
}

#[test]
fn arp_reply() {
    let request = ArpRepr::request(ALPHA_MAC, ALPHA_IP, OUR_IP);
    let reply = ArpRepr::reply_to(&request, OUR_MAC);
    let frame = arp_frame(ALPHA_MAC, None, &reply);
    insta::assert_snapshot!("arp_reply", shown(&frame));
}

#[test]
fn arp_gratuitous() {
    let announcement = ArpRepr::gratuitous(OUR_MAC, OUR_IP);
    let frame = arp_frame(MacAddr::BROADCAST, None, &announcement);
    insta::assert_snapshot!("arp_gratuitous", shown(&frame));
}

#[test]
fn message_hello_padded() {
    let message = MessageRepr::new("hello").unwrap();
    let mut payload = vec![0; message.buffer_len()];
    message.emit(&mut MessagePacket::new_unchecked(&mut payload));
    let frame = EthernetRepr {
        destination: ALPHA_MAC,
        source: OUR_MAC,
        vlan: None,
        ethertype: EtherType::LOCAL_EXPERIMENTAL_1,
    }
    .build(&payload);
    insta::assert_snapshot!("message_hello_padded", shown(&frame));
}

#[test]
fn layout_diagrams() {
    insta::assert_snapshot!("layout_ethernet", diagram(ethernet::LAYOUT, 4));
    insta::assert_snapshot!("layout_ethernet_vlan", diagram(ethernet::VLAN_LAYOUT, 4));
    insta::assert_snapshot!("layout_arp", diagram(arp::LAYOUT, 4));
    insta::assert_snapshot!("layout_message", diagram(message::LAYOUT, 4));
}
