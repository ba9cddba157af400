//! Snapshots of what the layer 4 encoders write, as whole Ethernet frames
//! between the lab's machines — our stack (198.18.0.2, port 40000) and
//! alpha's echo service (198.18.0.1, port 7): each frame as the printer
//! shows it (the summary line, a blank line, the annotated hex dump), and
//! the header diagrams. The book includes these files.
//!
//! The TCP frames tell one short conversation: the handshake (SYN with
//! every option Linux sends, SYN-ACK), "hello" sent, a later ACK that
//! reports a hole with SACK blocks, our FIN, and a RST.
//!
//! A snapshot only says "nothing changed". That the bytes are *right* is
//! checked by independent decoders: `wire_oracle.rs` builds the same
//! frames with etherparse and reads the hex back out of these files, and
//! `tshark.rs` has Wireshark's dissectors check the frames in these files.
//!
//! Update after an intended change with `INSTA_UPDATE=always cargo test -p
//! l4-transport --test wire_snapshots`, then read the diff.

use std::net::Ipv4Addr;

use l2_link::wire::layout::diagram;
use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Repr};
use l4_transport::wire::{
    SackBlocks, TcpFlags, TcpOption, TcpRepr, TcpSeqNumber, UdpRepr, tcp, udp,
};

/// alpha's lab0.
const ALPHA_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
/// Our userspace stack on lab1.
const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const ALPHA_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// Our client's (ephemeral) port, and alpha's echo service.
const OUR_PORT: u16 = 40000;
const ECHO_PORT: u16 = 7;

/// What a snapshot holds for a frame.
fn shown(frame: &[u8]) -> String {
    let printer = l4_transport::print::printer();
    format!("{}\n\n{}", printer.summary(frame), printer.hexdump(frame))
}

/// `segment` (UDP or TCP) from one lab machine to the other, in an IPv4
/// packet with Linux's defaults (TTL 64, Don't Fragment: Linux does path
/// MTU discovery) and an Ethernet frame.
fn frame(from_us: bool, protocol: IpProtocol, ident: u16, segment: &[u8]) -> Vec<u8> {
    let (src_addr, dst_addr, source, destination) = if from_us {
        (OUR_IP, ALPHA_IP, OUR_MAC, ALPHA_MAC)
    } else {
        (ALPHA_IP, OUR_IP, ALPHA_MAC, OUR_MAC)
    };
    let ip = Ipv4Repr {
        src_addr,
        dst_addr,
        protocol,
        ttl: 64,
        ident,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len: 0,
    };
    EthernetRepr {
        destination,
        source,
        vlan: None,
        ethertype: EtherType::IPV4,
    }
    .build(&ip.build(segment))
}

/// A TCP segment between us and alpha's echo port, in its frame.
fn tcp_frame(from_us: bool, ident: u16, repr: TcpRepr<'_>) -> Vec<u8> {
    let (src, dst) = if from_us {
        (OUR_IP, ALPHA_IP)
    } else {
        (ALPHA_IP, OUR_IP)
    };
    let (src_port, dst_port) = if from_us {
        (OUR_PORT, ECHO_PORT)
    } else {
        (ECHO_PORT, OUR_PORT)
    };
    let repr = TcpRepr {
        src_port,
        dst_port,
        ..repr
    };
    frame(from_us, IpProtocol::TCP, ident, &repr.build(src, dst))
}

/// The options of a Linux SYN (and SYN-ACK), in Linux's order: MSS,
/// SACK-permitted, timestamps, a NOP so window scale ends on a word
/// boundary, window scale.
fn syn_options(tsval: u32, tsecr: u32) -> Vec<TcpOption<'static>> {
    vec![
        TcpOption::MaxSegmentSize(1460),
        TcpOption::SackPermitted,
        TcpOption::Timestamps { tsval, tsecr },
        TcpOption::NoOperation,
        TcpOption::WindowScale(7),
    ]
}

/// Timestamps after two NOPs, as on every Linux segment after the
/// handshake: the 10-byte option then ends on a word boundary.
fn timestamps(tsval: u32, tsecr: u32) -> Vec<TcpOption<'static>> {
    vec![
        TcpOption::NoOperation,
        TcpOption::NoOperation,
        TcpOption::Timestamps { tsval, tsecr },
    ]
}

#[test]
fn udp_datagram() {
    let udp = UdpRepr {
        src_port: OUR_PORT,
        dst_port: ECHO_PORT,
    }
    .build(OUR_IP, ALPHA_IP, b"hello");
    let frame = frame(true, IpProtocol::UDP, 0x0101, &udp);
    insta::assert_snapshot!("udp_datagram", shown(&frame));
}

#[test]
fn tcp_syn() {
    let syn = TcpRepr {
        seq_number: TcpSeqNumber(1000),
        flags: TcpFlags::SYN,
        window_len: 65535,
        options: syn_options(1, 0),
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_syn", shown(&tcp_frame(true, 0x0201, syn)));
}

#[test]
fn tcp_syn_ack() {
    let syn_ack = TcpRepr {
        seq_number: TcpSeqNumber(5000),
        ack_number: TcpSeqNumber(1001),
        flags: TcpFlags::SYN | TcpFlags::ACK,
        window_len: 65160,
        options: syn_options(7, 1),
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_syn_ack", shown(&tcp_frame(false, 0, syn_ack)));
}

#[test]
fn tcp_data() {
    let data = TcpRepr {
        seq_number: TcpSeqNumber(1001),
        ack_number: TcpSeqNumber(5001),
        flags: TcpFlags::PSH | TcpFlags::ACK,
        window_len: 512,
        options: timestamps(2, 7),
        payload: b"hello",
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_data", shown(&tcp_frame(true, 0x0202, data)));
}

#[test]
fn tcp_sack() {
    // alpha has 1001..2001, then 3001..4001 and 5001..6001: the segments
    // 2001..3001 and 4001..5001 were lost. It acknowledges 2001 and
    // reports the two blocks beyond the holes.
    let blocks = SackBlocks::new(&[
        (TcpSeqNumber(3001), TcpSeqNumber(4001)),
        (TcpSeqNumber(5001), TcpSeqNumber(6001)),
    ])
    .unwrap();
    let mut options = timestamps(9, 4);
    options.extend([
        TcpOption::NoOperation,
        TcpOption::NoOperation,
        TcpOption::SackBlocks(blocks),
    ]);
    let ack = TcpRepr {
        seq_number: TcpSeqNumber(5001),
        ack_number: TcpSeqNumber(2001),
        flags: TcpFlags::ACK,
        window_len: 501,
        options,
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_sack", shown(&tcp_frame(false, 0x5a01, ack)));
}

#[test]
fn tcp_fin_ack() {
    let fin = TcpRepr {
        seq_number: TcpSeqNumber(1006),
        ack_number: TcpSeqNumber(5006),
        flags: TcpFlags::FIN | TcpFlags::ACK,
        window_len: 512,
        options: timestamps(3, 8),
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_fin_ack", shown(&tcp_frame(true, 0x0203, fin)));
}

#[test]
fn tcp_rst() {
    // We abort after our FIN (which took sequence number 1006): a RST
    // carries no ACK and no options, and its frame is so short that
    // Ethernet pads it to 60 bytes.
    let rst = TcpRepr {
        seq_number: TcpSeqNumber(1007),
        flags: TcpFlags::RST,
        ..TcpRepr::default()
    };
    insta::assert_snapshot!("tcp_rst", shown(&tcp_frame(true, 0x0204, rst)));
}

#[test]
fn layout_diagrams() {
    insta::assert_snapshot!("layout_udp", diagram(udp::LAYOUT, 4));
    insta::assert_snapshot!("layout_tcp", diagram(tcp::LAYOUT, 4));
}
