//! Snapshots of the printer on DNS: a query and a compressed response with
//! two answers, as one-line summaries and annotated hex dumps — what
//! `dissect` shows, and what the book's DNS chapter includes.
//!
//! The response is not ours: it is dnsmasq's answer to `c.lab.test A`,
//! captured in the lab (see `dns_wire.rs`, where dig's output confirms
//! what it says), so the snapshot shows another server's compression.
//! etherparse checks the frames around the DNS bytes; the query's bytes
//! are checked against the question dnsmasq echoed.

use std::net::Ipv4Addr;

use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Repr};
use l4_transport::wire::UdpRepr;
use l7_app::dns::print::printer;
use l7_app::dns::wire::{Message, RecordType};

const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// dnsmasq's response to `c.lab.test A`, ID 0x5151.
const DNSMASQ_RESPONSE: &str = "5151858000010002000000000163036c616204746573740000010001c00c00050001\
     00000000000c0168036c6162047465737400c02800010001000000000004c612000a";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `data` in a UDP datagram from `src` to `dst`, in IPv4, in Ethernet.
fn frame(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), data: &[u8]) -> Vec<u8> {
    let udp = UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
    }
    .build(src.0, dst.0, data);
    let ip = Ipv4Repr {
        src_addr: src.0,
        dst_addr: dst.0,
        protocol: IpProtocol::UDP,
        ttl: 64,
        ident: 0x1c46,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len: 0,
    };
    let (src_mac, dst_mac) = if src.0 == US {
        (MacAddr([2, 0, 0, 0, 0, 0x12]), MacAddr([2, 0, 0, 0, 0, 1]))
    } else {
        (MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 0x12]))
    };
    EthernetRepr {
        destination: dst_mac,
        source: src_mac,
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(&ip.build(&udp))
}

/// etherparse's reading of the frame: the UDP ports and payload.
fn etherparse_udp(frame: &[u8]) -> (u16, u16, Vec<u8>) {
    let sliced = etherparse::SlicedPacket::from_ethernet(frame).expect("etherparse decodes");
    match sliced.transport {
        Some(etherparse::TransportSlice::Udp(udp)) => (
            udp.source_port(),
            udp.destination_port(),
            udp.payload().to_vec(),
        ),
        other => panic!("not UDP: {other:?}"),
    }
}

fn query_frame() -> Vec<u8> {
    let query = Message::query(0x5151, "c.lab.test".parse().expect("valid"), RecordType::A)
        .encode()
        .expect("encodes");
    frame((US, 40000), (SERVER, 53), &query)
}

fn response_frame() -> Vec<u8> {
    frame((SERVER, 53), (US, 40000), &unhex(DNSMASQ_RESPONSE))
}

#[test]
fn the_frames_are_what_etherparse_and_dnsmasq_say() {
    let (sport, dport, query) = etherparse_udp(&query_frame());
    assert_eq!((sport, dport), (40000, 53));
    // dnsmasq echoed our question; the header differs only in the flags
    // (0x0100: RD) and counts (one question).
    let response = unhex(DNSMASQ_RESPONSE);
    assert_eq!(query[..2], response[..2]);
    assert_eq!(query[2..12], *b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
    assert_eq!(query[12..], response[12..query.len()]);
    let (sport, dport, payload) = etherparse_udp(&response_frame());
    assert_eq!((sport, dport, payload), (53, 40000, response));
}

#[test]
fn query_summary_and_hexdump() {
    let printer = printer();
    let frame = query_frame();
    insta::assert_snapshot!("query_summary", printer.summary(&frame));
    insta::assert_snapshot!("query_hexdump", printer.hexdump(&frame));
}

#[test]
fn compressed_response_summary_and_hexdump() {
    let printer = printer();
    let frame = response_frame();
    insta::assert_snapshot!("response_summary", printer.summary(&frame));
    insta::assert_snapshot!("response_hexdump", printer.hexdump(&frame));
}

#[test]
fn a_broken_message_is_shown_not_hidden() {
    // The response with its pointer turned forwards (c0 28 → c0 7f).
    let mut broken = unhex(DNSMASQ_RESPONSE);
    let at = broken.len() - 16;
    assert_eq!(broken[at..at + 2], [0xc0, 0x28]);
    broken[at + 1] = 0x7f;
    let frame = frame((SERVER, 53), (US, 40000), &broken);
    let summary = printer().summary(&frame);
    assert!(
        summary.contains("DNS response 0x5151 (malformed)"),
        "{summary}"
    );
    assert!(summary.contains("does not point backwards"), "{summary}");
    assert!(printer().hexdump(&frame).contains("DNS.undecoded"));
}
