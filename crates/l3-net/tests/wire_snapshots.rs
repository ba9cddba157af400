//! Snapshots of what the layer 3 encoders write, as whole Ethernet frames
//! between the lab's machines: each frame as the printer shows it (the
//! summary line, a blank line, the annotated hex dump), and the header
//! diagrams. The book includes these files.
//!
//! A snapshot only says "nothing changed". That the bytes are *right* is
//! checked by an independent decoder: `wire_oracle.rs` builds the same
//! frames, has etherparse check every field and checksum, and reads the hex
//! back out of these snapshot files to make sure they are those frames.
//!
//! Update after an intended change with `INSTA_UPDATE=always cargo test -p
//! l3-net --test wire_snapshots`, then read the diff.

use std::net::Ipv4Addr;

use l2_link::wire::layout::diagram;
use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::checksum::pseudo_header;
use l3_net::wire::{
    DstUnreachable, Icmpv4Repr, IpProtocol, Ipv4Options, Ipv4Repr, MAX_ERROR_QUOTE_LEN,
    TimeExceeded, icmp_error_quote, icmpv4, ipv4,
};

/// alpha's lab0.
const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
/// Our userspace stack (host or router) on lab1.
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const BETA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);

/// What a snapshot holds for a frame.
fn shown(frame: &[u8]) -> String {
    let printer = l3_net::print::printer();
    format!("{}\n\n{}", printer.summary(frame), printer.hexdump(frame))
}

/// An IPv4 header with Linux's defaults (TTL 64, no options) for
/// `payload_len` bytes of `protocol`.
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

/// `packet` in an Ethernet frame from `source` to `destination`.
fn frame(source: MacAddr, destination: MacAddr, packet: &[u8]) -> Vec<u8> {
    EthernetRepr {
        destination,
        source,
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(packet)
}

/// What iputils ping puts in 56 bytes of echo data: a `struct timeval`
/// (16 bytes, little-endian on x86-64: here 1700000000 s, 123456 µs), then
/// bytes counting up from 0x10.
fn ping_data(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut stamp = 1_700_000_000u64.to_le_bytes().to_vec();
    stamp.extend_from_slice(&123_456u64.to_le_bytes());
    let n = stamp.len().min(len);
    data[..n].copy_from_slice(&stamp[..n]);
    data
}

/// The IPv4 packet carrying `icmp` under `header`.
fn ip_icmp(header: Ipv4Repr, icmp: &Icmpv4Repr<'_>) -> Vec<u8> {
    header.build(&icmp.build())
}

#[test]
fn icmp_echo_request() {
    let data = ping_data(56);
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq: 1,
        data: &data,
    };
    let header = Ipv4Repr {
        dont_frag: true,
        ..ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, 1)
    };
    let frame = frame(OUR_MAC, ALPHA_MAC, &ip_icmp(header, &echo));
    insta::assert_snapshot!("icmp_echo_request", shown(&frame));
}

#[test]
fn icmp_echo_reply() {
    let data = ping_data(56);
    let request = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq: 1,
        data: &data,
    };
    let reply = Icmpv4Repr::echo_reply_to(&request).unwrap();
    let header = ip(ALPHA_IP, OUR_IP, IpProtocol::ICMP, 0x5d3a);
    let frame = frame(ALPHA_MAC, OUR_MAC, &ip_icmp(header, &reply));
    insta::assert_snapshot!("icmp_echo_reply", shown(&frame));
}

/// The fragments of `datagram` (a whole IPv4 packet without options) for a
/// link of `mtu` bytes, cut by hand as RFC 791 §3.2 says: each fragment
/// carries the largest multiple of 8 bytes that fits, with the original
/// header, More Fragments on all but the last, and its offset in bytes.
fn fragments(header: Ipv4Repr, payload: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let per_fragment = (mtu - ipv4::HEADER_LEN) / 8 * 8;
    let chunks: Vec<&[u8]> = payload.chunks(per_fragment).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(n, chunk)| {
            let fragment = Ipv4Repr {
                more_frags: n + 1 < chunks.len(),
                frag_offset: (n * per_fragment) as u16,
                ..header
            };
            fragment.build(chunk)
        })
        .collect()
}

/// A ping of 2972 data bytes from our host to alpha: 8 + 2972 bytes of
/// ICMP, a 3000-byte datagram.
fn big_ping() -> (Ipv4Repr, Vec<u8>) {
    let data = ping_data(2972);
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq: 2,
        data: &data,
    };
    (ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, 7), echo.build())
}

#[test]
fn ipv4_fragments() {
    let (header, icmp) = big_ping();
    let at_1500: Vec<String> = fragments(header, &icmp, 1500)
        .iter()
        .map(|packet| shown(&frame(OUR_MAC, ALPHA_MAC, packet)))
        .collect();
    insta::assert_snapshot!("ipv4_fragments_1500", at_1500.join("\n"));

    // Behind the router, on lab2's 1280-byte MTU: only the summaries.
    let printer = l3_net::print::printer();
    let at_1280: Vec<String> = fragments(header, &icmp, 1280)
        .iter()
        .map(|packet| printer.summary(&frame(OUR_MAC, ALPHA_MAC, packet)))
        .collect();
    insta::assert_snapshot!("ipv4_fragments_1280", at_1280.join("\n"));
}

/// traceroute's first probe from alpha to beta: UDP from port 44444 to
/// 33434 with 32 bytes of data, TTL 1, a 60-byte datagram. The UDP checksum
/// covers the pseudo-header (RFC 768).
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
    let header = Ipv4Repr {
        ttl: 1,
        ..ip(ALPHA_IP, BETA_IP, IpProtocol::UDP, 0x4242)
    };
    header.build(&udp)
}

/// The header of an ICMP error our router sends to alpha: Linux sends them
/// with DSCP 48 (CS6, "network control").
fn error_header(ident: u16) -> Ipv4Repr {
    Ipv4Repr {
        dscp: 48,
        ..ip(OUR_IP, ALPHA_IP, IpProtocol::ICMP, ident)
    }
}

#[test]
fn icmp_time_exceeded() {
    let probe = traceroute_probe();
    let error = Icmpv4Repr::TimeExceeded {
        reason: TimeExceeded::TtlExpired,
        quoted: icmp_error_quote(&probe, MAX_ERROR_QUOTE_LEN),
    };
    let frame = frame(OUR_MAC, ALPHA_MAC, &ip_icmp(error_header(0x0100), &error));
    insta::assert_snapshot!("icmp_time_exceeded", shown(&frame));
}

#[test]
fn icmp_fragmentation_needed() {
    // alpha pings beta with 1372 data bytes and DF: a 1400-byte datagram,
    // too big for lab2's 1280.
    let data = ping_data(1372);
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq: 3,
        data: &data,
    };
    let original = ip_icmp(
        Ipv4Repr {
            dont_frag: true,
            ..ip(ALPHA_IP, BETA_IP, IpProtocol::ICMP, 0x4243)
        },
        &echo,
    );
    let error = Icmpv4Repr::DstUnreachable {
        reason: DstUnreachable::FragRequired,
        next_hop_mtu: 1280,
        quoted: icmp_error_quote(&original, MAX_ERROR_QUOTE_LEN),
    };
    let frame = frame(OUR_MAC, ALPHA_MAC, &ip_icmp(error_header(0x0101), &error));
    insta::assert_snapshot!("icmp_fragmentation_needed", shown(&frame));
}

/// `ping -R` from alpha to our host: a Record Route option with room for
/// nine addresses (3 + 9 × 4 = 39 bytes, padded to 40: IHL 15), alpha's own
/// address already recorded.
fn record_route() -> Ipv4Options {
    let mut option = vec![7, 39, 8];
    option.extend_from_slice(&ALPHA_IP.octets());
    option.resize(39, 0);
    Ipv4Options::new(&option).unwrap()
}

#[test]
fn ipv4_options_record_route() {
    let data = ping_data(56);
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq: 4,
        data: &data,
    };
    let header = Ipv4Repr {
        dont_frag: true,
        options: record_route(),
        ..ip(ALPHA_IP, OUR_IP, IpProtocol::ICMP, 0x4244)
    };
    let frame = frame(ALPHA_MAC, OUR_MAC, &ip_icmp(header, &echo));
    insta::assert_snapshot!("ipv4_options_record_route", shown(&frame));
}

#[test]
fn layout_diagrams() {
    insta::assert_snapshot!("layout_ipv4", diagram(ipv4::LAYOUT, 4));
    insta::assert_snapshot!("layout_icmp_echo", diagram(icmpv4::ECHO_LAYOUT, 4));
    insta::assert_snapshot!(
        "layout_icmp_dst_unreachable",
        diagram(icmpv4::DST_UNREACHABLE_LAYOUT, 4)
    );
}
