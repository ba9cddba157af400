//! Step tests of our own IPv4 stack, sans-IO, on a virtual clock: frames
//! in, frames out, "advance the clock 1 s", no privileges and no waiting.
//!
//! Every frame fed to the stack is built by etherparse, and every frame the
//! stack sends is read back by etherparse (headers, checksums, reassembly
//! with its own defragmenter), so a mistake shared by our encoder and our
//! decoder cannot hide.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use etherparse::defrag::IpDefragPool;
use etherparse::icmpv4::{DestUnreachableHeader, TimeExceededCode};
use etherparse::{
    ArpEthIpv4Packet, ArpHardwareId, ArpPacket, Ethernet2Header, IcmpEchoHeader, Icmpv4Header,
    Icmpv4Slice, Icmpv4Type, IpFragOffset, IpNumber, Ipv4Header, SlicedPacket,
};
use l2_link::device::PacketType;
use l2_link::exercise::lab;
use l2_link::wire::MacAddr;
use l3_net::stack::{
    Event, IcmpRateLimit, Interface, InterfaceConfig, ReassemblyConfig, ReassemblyError, Router,
    RouterEvent, SendError, SendOptions, StackLimits, fragment,
};
use l3_net::wire::IpProtocol;

const US: Ipv4Addr = lab::STACK_IP;
const OUR_MAC: MacAddr = lab::STACK_MAC;
const ALPHA: Ipv4Addr = lab::ALPHA_IP;
const ALPHA_MAC: MacAddr = lab::ALPHA_MAC;
const BETA: Ipv4Addr = lab::BETA_IP;
const BETA_MAC: MacAddr = lab::BETA_MAC;
const ROUTER_LAB2: Ipv4Addr = lab::STACK_BETA_IP;
const ROUTER_LAB2_MAC: MacAddr = lab::STACK_BETA_MAC;
const SECOND: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// Frames, built and read by etherparse
// ---------------------------------------------------------------------------

/// An Ethernet II frame, padded to 60 bytes as a NIC would.
fn ethernet(dst: MacAddr, src: MacAddr, ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let header = Ethernet2Header {
        destination: dst.0,
        source: src.0,
        ether_type: etherparse::EtherType(ether_type),
    };
    let mut frame = header.to_bytes().to_vec();
    frame.extend_from_slice(payload);
    frame.resize(frame.len().max(60), 0);
    frame
}

fn arp(
    op: etherparse::ArpOperation,
    sender: (MacAddr, Ipv4Addr),
    target: (MacAddr, Ipv4Addr),
) -> Vec<u8> {
    ArpPacket::new(
        ArpHardwareId::ETHERNET,
        etherparse::EtherType::IPV4,
        op,
        &sender.0.0,
        &sender.1.octets(),
        &target.0.0,
        &target.1.octets(),
    )
    .expect("a valid ARP packet")
    .to_bytes()
    .to_vec()
}

/// "who-has `target` tell `sender`", broadcast.
fn arp_request(sender: (MacAddr, Ipv4Addr), target: Ipv4Addr) -> Vec<u8> {
    let body = arp(
        etherparse::ArpOperation::REQUEST,
        sender,
        (MacAddr::ZERO, target),
    );
    ethernet(MacAddr::BROADCAST, sender.0, 0x0806, &body)
}

/// "`sender` is-at …", unicast to `target`.
fn arp_reply(sender: (MacAddr, Ipv4Addr), target: (MacAddr, Ipv4Addr)) -> Vec<u8> {
    let body = arp(etherparse::ArpOperation::REPLY, sender, target);
    ethernet(target.0, sender.0, 0x0806, &body)
}

/// An IPv4 header as Linux would send it, DF clear; total length and
/// checksum are filled in by [`ip_datagram`].
fn ip_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, ttl: u8, ident: u16) -> Ipv4Header {
    Ipv4Header {
        identification: ident,
        dont_fragment: false,
        time_to_live: ttl,
        protocol: IpNumber(protocol),
        source: src.octets(),
        destination: dst.octets(),
        ..Default::default()
    }
}

/// A whole datagram: `header` (length and checksum computed) and `payload`.
fn ip_datagram(mut header: Ipv4Header, payload: &[u8]) -> Vec<u8> {
    header.total_len = (header.header_len() + payload.len()) as u16;
    header.header_checksum = header.calc_header_checksum();
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// `datagram`'s fragments: `header` with MF and offsets, `chunk` bytes of
/// payload each (a multiple of 8), the way a sender fragments.
fn ip_fragments(header: &Ipv4Header, payload: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    payload
        .chunks(chunk)
        .enumerate()
        .map(|(i, piece)| {
            let mut h = header.clone();
            h.more_fragments = (i + 1) * chunk < payload.len();
            h.fragment_offset = IpFragOffset::try_new((i * chunk / 8) as u16).unwrap();
            ip_datagram(h, piece)
        })
        .collect()
}

fn ip_frame(dst: MacAddr, src: MacAddr, datagram: &[u8]) -> Vec<u8> {
    ethernet(dst, src, 0x0800, datagram)
}

/// An ICMP message (header with checksum, then `data`).
fn icmp(icmp_type: Icmpv4Type, data: &[u8]) -> Vec<u8> {
    let mut bytes = Icmpv4Header::with_checksum(icmp_type, data)
        .to_bytes()
        .to_vec();
    bytes.extend_from_slice(data);
    bytes
}

fn echo_request(id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    icmp(Icmpv4Type::EchoRequest(IcmpEchoHeader { id, seq }), data)
}

/// The 56 bytes of data iputils ping sends by default (after its
/// timestamp): 0x10, 0x11, …
fn ping_data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 256) as u8).collect()
}

/// A UDP datagram (ports 40000 → 33435, checksum 0 = none) carrying `data`.
fn udp_datagram(data: &[u8]) -> Vec<u8> {
    let len = (8 + data.len()) as u16;
    let mut udp = vec![0x9c, 0x40, 0x82, 0x9b];
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(data);
    udp
}

/// Reads an ARP frame: Ethernet header and the Ethernet/IPv4 ARP body.
fn read_arp(frame: &[u8]) -> (Ethernet2Header, ArpEthIpv4Packet) {
    let (ethernet, rest) = Ethernet2Header::from_slice(frame).expect("Ethernet II");
    assert_eq!(
        ethernet.ether_type,
        etherparse::EtherType::ARP,
        "not ARP: {frame:02x?}"
    );
    let arp = ArpPacket::from_slice(rest)
        .expect("ARP")
        .try_eth_ipv4()
        .expect("Ethernet/IPv4 ARP");
    (ethernet, arp)
}

/// Reads an IPv4 frame and checks its header checksum independently.
fn read_ip(frame: &[u8]) -> (Ethernet2Header, Ipv4Header, Vec<u8>) {
    let (ethernet, rest) = Ethernet2Header::from_slice(frame).expect("Ethernet II");
    assert_eq!(ethernet.ether_type, etherparse::EtherType::IPV4, "not IPv4");
    let (ip, _) = Ipv4Header::from_slice(rest).expect("IPv4 header");
    assert_eq!(
        ip.header_checksum,
        ip.calc_header_checksum(),
        "IPv4 header checksum"
    );
    let payload = rest[ip.header_len()..usize::from(ip.total_len)].to_vec();
    (ethernet, ip, payload)
}

/// Reads an ICMP message and checks its checksum independently.
fn read_icmp(payload: &[u8]) -> (Icmpv4Type, Vec<u8>) {
    let slice = Icmpv4Slice::from_slice(payload).expect("ICMP");
    let expected = Icmpv4Header::with_checksum(slice.icmp_type(), slice.payload());
    assert_eq!(slice.checksum(), expected.checksum, "ICMP checksum");
    (slice.icmp_type(), slice.payload().to_vec())
}

/// Reassembles the IPv4 frames with etherparse's defragmenter; returns the
/// payload once complete.
fn etherparse_reassemble(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut pool = IpDefragPool::<(), ()>::new();
    for frame in frames {
        let sliced = SlicedPacket::from_ethernet(frame).expect("etherparse slices it");
        if let Some(whole) = pool.process_sliced_packet(&sliced, (), ()).expect("defrag") {
            return whole.payload;
        }
    }
    panic!("etherparse could not reassemble {} frames", frames.len());
}

// ---------------------------------------------------------------------------
// The script: receive, send, advance, expect
// ---------------------------------------------------------------------------

/// Our host (198.18.0.2/24 at 02:00:00:00:00:12, MTU 1500) on a virtual clock.
struct Host {
    iface: Interface,
    now: Instant,
    wire: VecDeque<Vec<u8>>,
    events: Vec<Event>,
}

impl Host {
    fn new() -> Host {
        Host::with_limits(StackLimits::default())
    }

    fn with_limits(limits: StackLimits) -> Host {
        let config = InterfaceConfig {
            mac: OUR_MAC,
            addr: US,
            prefix_len: 24,
            mtu: 1500,
        };
        Host {
            iface: Interface::with_limits(config, limits),
            now: Instant::now(),
            wire: VecDeque::new(),
            events: Vec::new(),
        }
    }

    /// A frame arrives, classified as raw's kernel would classify it (the
    /// card's own MAC is 02:00:00:00:00:02, so ours is "other host").
    fn receive(&mut self, frame: &[u8]) -> Vec<l3_net::stack::Delivery> {
        let mut destination = [0u8; 6];
        destination.copy_from_slice(&frame[..6]);
        let packet_type = PacketType::for_destination(MacAddr(destination), lab::RAW_KERNEL_MAC);
        self.receive_as(frame, packet_type)
    }

    fn receive_as(
        &mut self,
        frame: &[u8],
        packet_type: PacketType,
    ) -> Vec<l3_net::stack::Delivery> {
        let delivered = self.iface.receive(self.now, frame, packet_type);
        self.collect();
        delivered
    }

    fn send(&mut self, dst: Ipv4Addr, payload: &[u8]) -> Result<(), SendError> {
        let result = self.iface.send(self.now, dst, IpProtocol::UDP, payload);
        self.collect();
        result
    }

    fn send_with(
        &mut self,
        dst: Ipv4Addr,
        payload: &[u8],
        options: SendOptions,
    ) -> Result<(), SendError> {
        let result = self
            .iface
            .send_with(self.now, dst, IpProtocol::UDP, payload, options);
        self.collect();
        result
    }

    // ANCHOR: step_script
    /// Moves the clock and runs the timers, as the driver does when
    /// `poll_at` comes.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.iface.poll(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        self.wire.extend(self.iface.drain_transmit());
        self.events.extend(self.iface.drain_events());
    }

    fn expect_frame(&mut self) -> Vec<u8> {
        self.wire.pop_front().unwrap_or_else(|| {
            panic!(
                "expected a frame, the wire is empty; events: {:#?}",
                self.events
            )
        })
    }
    // ANCHOR_END: step_script

    fn expect_frames(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|_| self.expect_frame()).collect()
    }

    fn expect_nothing(&mut self) {
        assert!(
            self.wire.is_empty(),
            "expected silence, got {} frame(s): {:02x?}",
            self.wire.len(),
            self.wire
        );
    }

    /// Alpha introduces itself: asks for us, so we learn its MAC (RFC 826's
    /// merge rule) and answer.
    fn meet_alpha(&mut self) {
        self.receive(&arp_request((ALPHA_MAC, ALPHA), US));
        self.expect_frame();
        self.events.clear();
    }
}

// ---------------------------------------------------------------------------
// ARP
// ---------------------------------------------------------------------------

#[test]
fn answers_arp_for_its_address_byte_for_byte_and_learns_the_asker() {
    let mut host = Host::new();
    host.receive(&arp_request((ALPHA_MAC, ALPHA), US));
    let reply = host.expect_frame();
    assert_eq!(
        reply,
        arp_reply((OUR_MAC, US), (ALPHA_MAC, ALPHA)),
        "the reply as etherparse builds it"
    );
    host.expect_nothing();
    let replied = host
        .events
        .iter()
        .find(|e| {
            matches!(
                e,
                Event::ArpReplied {
                    asker_ip: ALPHA,
                    ..
                }
            )
        })
        .expect("an ArpReplied event");
    assert_eq!(
        replied.to_string(),
        "ARP who-has 198.18.0.2 tell 198.18.0.1 (02:00:00:00:00:01) → replied 198.18.0.2 is-at 02:00:00:00:00:12"
    );

    // Learned from the request: the next datagram to alpha needs no ARP.
    host.send(ALPHA, b"hello").unwrap();
    let (ethernet, ip, payload) = read_ip(&host.expect_frame());
    assert_eq!(
        (ethernet.destination, ethernet.source),
        (ALPHA_MAC.0, OUR_MAC.0)
    );
    assert_eq!((ip.source, ip.destination), (US.octets(), ALPHA.octets()));
    assert_eq!(payload, b"hello");
}

#[test]
fn no_answer_for_other_addresses_other_macs_or_our_own_outgoing_frames() {
    let mut host = Host::new();
    // Somebody asks for raw's kernel address: not ours.
    host.receive(&arp_request((ALPHA_MAC, ALPHA), lab::RAW_KERNEL_IP));
    host.expect_nothing();
    // A ping to our address, but to raw's kernel MAC: not our frame.
    let ping = ip_datagram(ip_header(ALPHA, US, 1, 64, 1), &echo_request(1, 1, b"x"));
    host.receive(&ip_frame(lab::RAW_KERNEL_MAC, ALPHA_MAC, &ping));
    host.expect_nothing();
    // The same ping to our MAC, but seen leaving this machine (another
    // program on raw sent it): a stack ignores PACKET_OUTGOING.
    host.receive_as(&ip_frame(OUR_MAC, ALPHA_MAC, &ping), PacketType::Outgoing);
    host.expect_nothing();
    assert!(host.events.is_empty(), "{:?}", host.events);

    // The request for someone else did not teach us alpha's MAC either
    // (RFC 826 creates entries only from packets for us): sending asks.
    host.send(ALPHA, b"x").unwrap();
    let (ethernet, request) = read_arp(&host.expect_frame());
    assert_eq!(ethernet.destination, [0xff; 6]);
    assert_eq!(request.target_ipv4_addr(), ALPHA);
}

#[test]
fn a_packet_waits_for_arp_and_leaves_when_the_reply_comes() {
    let mut host = Host::new();
    host.send(ALPHA, b"queued").unwrap();
    let (ethernet, request) = read_arp(&host.expect_frame());
    assert_eq!(
        (ethernet.destination, ethernet.source),
        ([0xff; 6], OUR_MAC.0)
    );
    assert_eq!(request.operation, etherparse::ArpOperation::REQUEST);
    assert_eq!(
        (request.sender_mac, request.sender_ipv4_addr()),
        (OUR_MAC.0, US)
    );
    assert_eq!(
        (request.target_mac, request.target_ipv4_addr()),
        ([0; 6], ALPHA)
    );
    host.expect_nothing();

    host.receive(&arp_reply((ALPHA_MAC, ALPHA), (OUR_MAC, US)));
    let (ethernet, ip, payload) = read_ip(&host.expect_frame());
    assert_eq!(ethernet.destination, ALPHA_MAC.0);
    assert_eq!(ip.destination, ALPHA.octets());
    assert_eq!(payload, b"queued");
    host.expect_nothing();
    assert!(host.events.contains(&Event::ArpLearned {
        ip: ALPHA,
        mac: ALPHA_MAC,
        released: 1
    }));
}

// ANCHOR: arp_retry_test
#[test]
fn arp_asks_three_times_a_second_apart_then_drops_and_says_so() {
    let mut host = Host::new();
    let nobody = Ipv4Addr::new(198, 18, 0, 77);
    host.send(nobody, b"1").unwrap();
    host.send(nobody, b"2").unwrap();
    assert_eq!(read_arp(&host.expect_frame()).1.target_ipv4_addr(), nobody);
    host.expect_nothing(); // the second packet waits quietly

    host.advance(SECOND - Duration::from_millis(1));
    host.expect_nothing();
    host.advance(Duration::from_millis(1));
    assert_eq!(read_arp(&host.expect_frame()).1.target_ipv4_addr(), nobody);
    host.advance(SECOND);
    assert_eq!(read_arp(&host.expect_frame()).1.target_ipv4_addr(), nobody);
    host.expect_nothing();
    host.advance(SECOND);
    host.expect_nothing();
    assert!(
        host.events.contains(&Event::ArpFailed {
            ip: nobody,
            requests: 3,
            dropped: 2
        }),
        "{:?}",
        host.events
    );
    // Failed for a while: no new round of requests for every packet.
    assert_eq!(
        host.send(nobody, b"3"),
        Err(SendError::HostUnreachable(nobody))
    );
    host.expect_nothing();
}
// ANCHOR_END: arp_retry_test

#[test]
fn a_learned_address_expires_after_60_seconds_and_is_asked_for_again() {
    let mut host = Host::new();
    host.meet_alpha();
    host.advance(Duration::from_secs(59));
    host.send(ALPHA, b"still known").unwrap();
    read_ip(&host.expect_frame());
    host.advance(SECOND);
    host.send(ALPHA, b"forgotten").unwrap();
    let (_, request) = read_arp(&host.expect_frame());
    assert_eq!(request.target_ipv4_addr(), ALPHA);
    host.expect_nothing();
}

// ---------------------------------------------------------------------------
// ICMP echo
// ---------------------------------------------------------------------------

#[test]
fn echo_reply_is_the_frame_etherparse_builds_for_it() {
    let mut host = Host::new();
    host.meet_alpha();
    let data = ping_data(56);
    let request = ip_datagram(
        ip_header(ALPHA, US, 1, 64, 0x4d2),
        &echo_request(0x1234, 1, &data),
    );
    assert!(
        host.receive(&ip_frame(OUR_MAC, ALPHA_MAC, &request))
            .is_empty()
    );

    let reply = host.expect_frame();
    let mut header = ip_header(US, ALPHA, 1, 64, 1); // our first datagram: ident 1
    header.dont_fragment = false;
    let expected_icmp = icmp(
        Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0x1234, seq: 1 }),
        &data,
    );
    let expected = ip_frame(ALPHA_MAC, OUR_MAC, &ip_datagram(header, &expected_icmp));
    assert_eq!(reply, expected);
    host.expect_nothing();
    assert_eq!(
        host.events,
        [Event::EchoReplied {
            from: ALPHA,
            ident: 0x1234,
            seq: 1,
            len: 64
        }]
    );
    assert_eq!(
        host.events[0].to_string(),
        "ICMP echo request from 198.18.0.1 id 0x1234 seq 1, 64 bytes → replied"
    );
}

#[test]
fn pings_to_the_broadcast_address_get_no_answer() {
    let mut host = Host::new();
    host.meet_alpha();
    let ping = ip_datagram(
        ip_header(ALPHA, Ipv4Addr::new(198, 18, 0, 255), 1, 64, 9),
        &echo_request(1, 1, b"smurf"),
    );
    host.receive(&ip_frame(MacAddr::BROADCAST, ALPHA_MAC, &ping));
    host.expect_nothing();
}

// ---------------------------------------------------------------------------
// Reassembly
// ---------------------------------------------------------------------------

/// A 3000-byte ping (`ping -s 2972`), cut by alpha's kernel into fragments
/// of 1480, 1480 and 20 bytes of payload.
fn big_ping(ident: u16, seq: u16) -> (Vec<u8>, Vec<Vec<u8>>) {
    let message = echo_request(0x77, seq, &ping_data(2972));
    assert_eq!(message.len(), 2980);
    let fragments = ip_fragments(&ip_header(ALPHA, US, 1, 64, ident), &message, 1480)
        .iter()
        .map(|datagram| ip_frame(OUR_MAC, ALPHA_MAC, datagram))
        .collect();
    (message, fragments)
}

/// Checks that `frames` are our echo reply to `request_message`, cut to
/// MTU 1500, and that etherparse puts them back together.
fn assert_fragmented_reply(frames: &[Vec<u8>], request_message: &[u8]) {
    for frame in frames {
        let (ethernet, ip, _) = read_ip(frame);
        assert_eq!(ethernet.destination, ALPHA_MAC.0);
        assert!(usize::from(ip.total_len) <= 1500);
    }
    let reply = etherparse_reassemble(frames);
    let (icmp_type, data) = read_icmp(&reply);
    assert_eq!(
        icmp_type,
        Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0x77, seq: 1 })
    );
    assert_eq!(
        data,
        request_message[8..],
        "the reply carries the request's data back"
    );
}

#[test]
fn reassembles_in_order_out_of_order_and_with_duplicates() {
    for order in [&[0, 1, 2][..], &[2, 0, 1], &[1, 2, 0], &[0, 0, 2, 1]] {
        let mut host = Host::new();
        host.meet_alpha();
        let (message, fragments) = big_ping(0x2a, 1);
        for &i in order {
            host.receive(&fragments[i]);
        }
        let frames = host.expect_frames(3);
        host.expect_nothing();
        assert_fragmented_reply(&frames, &message);
        assert!(
            host.events.iter().any(|e| matches!(e, Event::Reassembled { len: 2980, fragments, .. } if *fragments == order.len())),
            "order {order:?}: {:?}",
            host.events
        );
        assert_eq!(host.iface.reassembly_usage(), (0, 0), "nothing left behind");
    }
}

#[test]
fn overlapping_fragments_discard_the_datagram() {
    let mut host = Host::new();
    host.meet_alpha();
    let message = echo_request(0x77, 1, &ping_data(2972));
    let header = ip_header(ALPHA, US, 1, 64, 0x99);
    let mut pieces = ip_fragments(&header, &message, 1480);
    // A second "first" fragment, 8 bytes longer than a piece ends: overlaps.
    let mut evil = header.clone();
    evil.more_fragments = true;
    evil.fragment_offset = IpFragOffset::try_new(1472 / 8).unwrap();
    pieces.insert(1, ip_datagram(evil, &[0xee; 16]));
    for piece in &pieces {
        host.receive(&ip_frame(OUR_MAC, ALPHA_MAC, piece));
    }
    host.expect_nothing();
    assert!(host.events.iter().any(|e| matches!(
        e,
        Event::ReassemblyDropped {
            reason: ReassemblyError::Overlap,
            ..
        }
    )));
}

// ANCHOR: reassembly_timeout_test
#[test]
fn reassembly_times_out_with_icmp_only_if_the_first_fragment_came() {
    // Fragments 0 and 2 arrive, 1 never does.
    let mut host = Host::new();
    host.meet_alpha();
    let (_, fragments) = big_ping(0x51, 1);
    host.receive(&fragments[0]);
    host.receive(&fragments[2]);
    host.advance(Duration::from_secs(30) - Duration::from_millis(1));
    host.expect_nothing();
    host.advance(Duration::from_millis(1));
    let (ethernet, ip, payload) = read_ip(&host.expect_frame());
    host.expect_nothing();
    assert_eq!(ethernet.destination, ALPHA_MAC.0);
    assert_eq!((ip.source, ip.destination), (US.octets(), ALPHA.octets()));
    let (icmp_type, quoted) = read_icmp(&payload);
    assert_eq!(
        icmp_type,
        Icmpv4Type::TimeExceeded(TimeExceededCode::FragmentReassemblyTimeExceeded)
    );
    // The quote: fragment zero's header and its first 8 bytes of data.
    let first_datagram = &fragments[0][14..14 + 20 + 1480];
    assert_eq!(quoted, first_datagram[..28]);

    // Fragments 1 and 2 only: nothing to quote, so no ICMP (RFC 1122 §3.3.2).
    let mut host = Host::new();
    host.meet_alpha();
    let (_, fragments) = big_ping(0x52, 1);
    host.receive(&fragments[1]);
    host.receive(&fragments[2]);
    host.advance(Duration::from_secs(30));
    host.expect_nothing();
    assert!(
        host.events
            .iter()
            .any(|e| matches!(e, Event::ReassemblyTimedOut { fragments: 2, .. }))
    );
    assert_eq!(host.iface.reassembly_usage(), (0, 0));
}
// ANCHOR_END: reassembly_timeout_test

#[test]
fn a_fragment_flood_stays_within_the_memory_limit() {
    let limits = StackLimits {
        reassembly: ReassemblyConfig {
            max_datagrams: 8,
            max_bytes: 16 * 1024,
            ..ReassemblyConfig::default()
        },
        ..StackLimits::default()
    };
    let mut host = Host::with_limits(limits);
    host.meet_alpha();
    // A thousand first fragments of datagrams that never complete.
    for ident in 0..1000u16 {
        let mut header = ip_header(ALPHA, US, 17, 64, ident);
        header.more_fragments = true;
        host.receive(&ip_frame(
            OUR_MAC,
            ALPHA_MAC,
            &ip_datagram(header, &[0xaa; 1480]),
        ));
        let (datagrams, bytes) = host.iface.reassembly_usage();
        assert!(
            datagrams <= 8 && bytes <= 16 * 1024,
            "{datagrams} datagrams, {bytes} bytes"
        );
    }
    host.expect_nothing();
    assert!(host.events.iter().any(|e| matches!(
        e,
        Event::ReassemblyDropped {
            reason: ReassemblyError::NoRoom,
            ..
        }
    )));
    // When the flood times out, a real fragmented ping gets through.
    host.advance(Duration::from_secs(30));
    host.wire.clear(); // the time-exceeded messages about the flood
    let (message, fragments) = big_ping(0x1001, 1);
    for fragment in &fragments {
        host.receive(fragment);
    }
    assert_fragmented_reply(&host.expect_frames(3), &message);
}

// ---------------------------------------------------------------------------
// Fragmentation and path MTU
// ---------------------------------------------------------------------------

#[test]
fn fragments_parse_in_etherparse_and_reassemble_to_the_original() {
    // A 4000-byte UDP datagram with options: No Operation, Record Route
    // (type 7, not copied) and Loose Source Route (type 131, copied).
    let options = [1, 7, 7, 4, 0, 0, 0, 0, 131, 7, 4, 198, 18, 1, 1, 0];
    let mut header = ip_header(US, BETA, 17, 64, 0xabcd);
    header.options = options[..].try_into().unwrap();
    let payload = ping_data(3980 - 16);
    let datagram = ip_datagram(header, &payload);
    let pieces = fragment(&datagram, 1500).unwrap();
    assert_eq!(pieces.len(), 3);
    let mut frames = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let (ip, rest) = Ipv4Header::from_slice(piece).unwrap();
        assert_eq!(ip.header_checksum, ip.calc_header_checksum());
        assert!(piece.len() <= 1500);
        assert_eq!(ip.identification, 0xabcd);
        if i == 0 {
            assert_eq!(
                ip.options.as_slice(),
                &options[..],
                "the first fragment carries them all"
            );
        } else {
            assert_eq!(
                ip.options.as_slice(),
                &[131, 7, 4, 198, 18, 1, 1, 0][..],
                "only copied ones"
            );
        }
        assert_eq!(ip.more_fragments, i < 2);
        if ip.more_fragments {
            assert_eq!(
                rest.len() % 8,
                0,
                "every piece but the last is whole 8-byte units"
            );
        }
        frames.push(ip_frame(BETA_MAC, OUR_MAC, piece));
    }
    assert_eq!(etherparse_reassemble(&frames), payload);
    // One that fits comes back unchanged; DF refuses.
    assert_eq!(fragment(&datagram, 4000).unwrap(), vec![datagram.clone()]);
    let df = header_with_df(&datagram);
    assert!(matches!(
        fragment(&df, 1500),
        Err(l3_net::stack::FragmentError::DontFragment { mtu: 1500 })
    ));
}

/// `datagram` with Don't Fragment set (checksum recomputed by etherparse).
fn header_with_df(datagram: &[u8]) -> Vec<u8> {
    let (mut header, payload) = Ipv4Header::from_slice(datagram).unwrap();
    header.dont_fragment = true;
    ip_datagram(header, payload)
}

#[test]
fn fragmentation_needed_lowers_the_path_mtu_and_ten_minutes_raise_it() {
    let mut host = Host::new();
    host.meet_alpha();
    host.iface
        .add_route(Ipv4Addr::new(198, 18, 1, 0), 24, Some(ALPHA))
        .unwrap();
    let df = SendOptions {
        dont_frag: true,
        ..SendOptions::default()
    };
    host.send_with(BETA, &[0; 1380], df).unwrap();
    let sent = host.expect_frame();
    let (_, ip, _) = read_ip(&sent);
    assert!(ip.dont_fragment);
    assert_eq!(ip.total_len, 1400);

    // The router on the way answers: the next link carries only 1280.
    let original = &sent[14..14 + 1400];
    let too_big = icmp(
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: 1280,
        }),
        &original[..548],
    );
    let router = Ipv4Addr::new(198, 18, 0, 9);
    let message = ip_datagram(ip_header(router, US, 1, 64, 5), &too_big);
    let delivered = host.receive(&ip_frame(OUR_MAC, ALPHA_MAC, &message));
    assert_eq!(
        delivered.len(),
        1,
        "the error also goes up, for the socket that sent"
    );
    assert!(host.events.contains(&Event::PathMtuLowered {
        dst: BETA,
        mtu: 1280,
        reported_by: router
    }));
    assert_eq!(host.iface.path_mtu(host.now, BETA), 1280);
    assert_eq!(
        host.iface.path_mtu(host.now, ALPHA),
        1500,
        "per destination"
    );

    assert_eq!(
        host.send_with(BETA, &[0; 1380], df),
        Err(SendError::TooBig { mtu: 1280 })
    );
    let udp = udp_datagram(&ping_data(1372));
    host.send(BETA, &udp).unwrap();
    let frames = host.expect_frames(2);
    for frame in &frames {
        assert!(read_ip(frame).1.total_len <= 1280);
    }
    assert_eq!(etherparse_reassemble(&frames), udp);

    // A forged message about a datagram we never sent changes nothing.
    let mut forged_quote = original[..548].to_vec();
    forged_quote[12..16].copy_from_slice(&ALPHA.octets());
    let forged = icmp(
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: 576,
        }),
        &forged_quote,
    );
    host.receive(&ip_frame(
        OUR_MAC,
        ALPHA_MAC,
        &ip_datagram(ip_header(router, US, 1, 64, 6), &forged),
    ));
    assert_eq!(host.iface.path_mtu(host.now, BETA), 1280);

    host.advance(Duration::from_secs(600));
    assert_eq!(
        host.iface.path_mtu(host.now, BETA),
        1500,
        "aged out (RFC 1191 §6.3)"
    );
}

#[test]
fn unwanted_datagrams_get_port_unreachable() {
    let mut host = Host::new();
    host.meet_alpha();
    let mut udp = vec![0x9c, 0x40, 0x82, 0x9b, 0, 12, 0, 0];
    udp.extend_from_slice(b"knock");
    let datagram = ip_datagram(ip_header(ALPHA, US, 17, 64, 3), &udp);
    let delivered = host.receive(&ip_frame(OUR_MAC, ALPHA_MAC, &datagram));
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].payload, udp);
    assert!(host.iface.reject(
        host.now,
        &delivered[0],
        l3_net::wire::DstUnreachable::PortUnreachable
    ));
    host.collect();
    let (_, ip, payload) = read_ip(&host.expect_frame());
    assert_eq!(ip.destination, ALPHA.octets());
    let (icmp_type, quoted) = read_icmp(&payload);
    assert_eq!(
        icmp_type,
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Port)
    );
    assert_eq!(quoted, datagram, "a short datagram is quoted whole");
}

// ---------------------------------------------------------------------------
// The router
// ---------------------------------------------------------------------------

/// Our router: lab1 (198.18.0.2/24, MTU 1500) and lab2 (198.18.1.2/24,
/// MTU 1280), on a virtual clock, having met alpha and beta.
struct Net {
    router: Router,
    now: Instant,
    wire: VecDeque<(usize, Vec<u8>)>,
    events: Vec<RouterEvent>,
}

const LAB1: usize = 0;
const LAB2: usize = 1;

impl Net {
    fn new() -> Net {
        Net::with_limits(StackLimits::default())
    }

    fn with_limits(limits: StackLimits) -> Net {
        let mut router = Router::with_limits(limits);
        router.add_interface(
            "lab1",
            InterfaceConfig {
                mac: OUR_MAC,
                addr: US,
                prefix_len: 24,
                mtu: 1500,
            },
        );
        router.add_interface(
            "lab2",
            InterfaceConfig {
                mac: ROUTER_LAB2_MAC,
                addr: ROUTER_LAB2,
                prefix_len: 24,
                mtu: 1280,
            },
        );
        let mut net = Net {
            router,
            now: Instant::now(),
            wire: VecDeque::new(),
            events: Vec::new(),
        };
        net.receive(LAB1, &arp_request((ALPHA_MAC, ALPHA), US));
        net.receive(LAB2, &arp_request((BETA_MAC, BETA), ROUTER_LAB2));
        assert_eq!(net.wire.len(), 2, "two ARP replies");
        net.wire.clear();
        net.events.clear();
        net
    }

    fn receive(&mut self, port: usize, frame: &[u8]) {
        self.router
            .receive(self.now, port, frame, PacketType::OtherHost);
        self.collect();
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.router.poll(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        self.wire.extend(self.router.drain_transmit());
        self.events.extend(self.router.drain_events());
    }

    fn expect_frame(&mut self, port: usize) -> Vec<u8> {
        let (out, frame) = self
            .wire
            .pop_front()
            .unwrap_or_else(|| panic!("expected a frame; events: {:#?}", self.events));
        assert_eq!(out, port, "left by the wrong interface");
        frame
    }

    fn expect_nothing(&mut self) {
        assert!(
            self.wire.is_empty(),
            "expected silence, got {:02x?}",
            self.wire
        );
    }

    /// alpha sends `datagram` to the router's lab1 MAC.
    fn alpha_sends(&mut self, datagram: &[u8]) {
        self.receive(LAB1, &ip_frame(OUR_MAC, ALPHA_MAC, datagram));
    }

    /// Expects an ICMP error to alpha from 198.18.0.2 (the interface the
    /// datagram came in on); returns its type and quote.
    fn expect_error_to_alpha(&mut self) -> (Icmpv4Type, Vec<u8>) {
        let (ethernet, ip, payload) = read_ip(&self.expect_frame(LAB1));
        assert_eq!(
            (ethernet.source, ethernet.destination),
            (OUR_MAC.0, ALPHA_MAC.0)
        );
        assert_eq!((ip.source, ip.destination), (US.octets(), ALPHA.octets()));
        assert!(ip.total_len <= 576, "RFC 1812 §4.3.2.3");
        read_icmp(&payload)
    }
}

/// A traceroute-style UDP probe from alpha to beta.
fn udp_probe(ttl: u8, ident: u16) -> Vec<u8> {
    let udp = [0x9c, 0x40, 0x82, 0x9b, 0, 8 + 32, 0, 0];
    let mut payload = udp.to_vec();
    payload.extend_from_slice(&[0x40; 32]);
    ip_datagram(ip_header(ALPHA, BETA, 17, ttl, ident), &payload)
}

#[test]
fn forwards_with_ttl_minus_one_a_patched_checksum_and_a_new_ethernet_header() {
    let mut net = Net::new();
    let ping = ip_datagram(
        ip_header(ALPHA, BETA, 1, 64, 0x1111),
        &echo_request(7, 1, &ping_data(56)),
    );
    net.alpha_sends(&ping);
    let frame = net.expect_frame(LAB2);
    net.expect_nothing();
    let (ethernet, ip, payload) = read_ip(&frame); // checksum verified by etherparse
    // Layer 2 is local: a new frame, from our lab2 MAC to beta's.
    assert_eq!(
        (ethernet.source, ethernet.destination),
        (ROUTER_LAB2_MAC.0, BETA_MAC.0)
    );
    assert_eq!(ip.time_to_live, 63);
    // Everything else in the datagram is untouched.
    let forwarded = &frame[14..14 + ping.len()];
    for (i, (a, b)) in ping.iter().zip(forwarded).enumerate() {
        if ![8, 10, 11].contains(&i) {
            assert_eq!(a, b, "byte {i} changed");
        }
    }
    assert_eq!(payload, ping[20..]);
    assert_eq!(
        net.events.last().unwrap().to_string(),
        "lab1: IPv4 198.18.0.1 → 198.18.1.1 ICMP ttl 64 → forwarded out lab2 to 198.18.1.1, ttl 63"
    );
}

#[test]
fn ttl_1_gets_time_exceeded_quoting_the_datagram_as_it_arrived() {
    let mut net = Net::new();
    let probe = udp_probe(1, 0x2222);
    net.alpha_sends(&probe);
    let (icmp_type, quoted) = net.expect_error_to_alpha();
    net.expect_nothing();
    assert_eq!(
        icmp_type,
        Icmpv4Type::TimeExceeded(TimeExceededCode::TtlExceededInTransit)
    );
    assert_eq!(quoted, probe, "quoted whole, TTL 1 and all");
}

#[test]
fn no_route_gets_net_unreachable() {
    let mut net = Net::new();
    let lost = ip_datagram(
        ip_header(ALPHA, Ipv4Addr::new(198, 19, 0, 1), 17, 64, 3),
        &[0; 16],
    );
    net.alpha_sends(&lost);
    let (icmp_type, quoted) = net.expect_error_to_alpha();
    assert_eq!(
        icmp_type,
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Network)
    );
    assert_eq!(quoted, lost);
}

#[test]
fn too_big_with_df_gets_fragmentation_needed_with_mtu_1280() {
    let mut net = Net::new();
    let mut header = ip_header(ALPHA, BETA, 1, 64, 0x3333);
    header.dont_fragment = true;
    let big = ip_datagram(header, &echo_request(7, 1, &ping_data(1372)));
    assert_eq!(big.len(), 1400);
    net.alpha_sends(&big);
    let (icmp_type, quoted) = net.expect_error_to_alpha();
    net.expect_nothing();
    assert_eq!(
        icmp_type,
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: 1280
        })
    );
    assert_eq!(quoted, big[..548], "as much as fits in 576 bytes");
}

#[test]
fn too_big_without_df_is_fragmented_to_1280() {
    let mut net = Net::new();
    let message = echo_request(7, 1, &ping_data(1372));
    let big = ip_datagram(ip_header(ALPHA, BETA, 1, 64, 0x4444), &message);
    net.alpha_sends(&big);
    let frames = vec![net.expect_frame(LAB2), net.expect_frame(LAB2)];
    net.expect_nothing();
    for frame in &frames {
        let (ethernet, ip, _) = read_ip(frame);
        assert_eq!(ethernet.destination, BETA_MAC.0);
        assert!(usize::from(ip.total_len) <= 1280);
        assert_eq!((ip.time_to_live, ip.identification), (63, 0x4444));
    }
    assert_eq!(etherparse_reassemble(&frames), message);
}

#[test]
fn no_icmp_error_about_an_icmp_error_a_later_fragment_or_a_broadcast() {
    let mut net = Net::new();
    // A time-exceeded message from alpha to beta that runs out of TTL.
    let error = icmp(
        Icmpv4Type::TimeExceeded(TimeExceededCode::TtlExceededInTransit),
        &udp_probe(1, 1)[..28],
    );
    net.alpha_sends(&ip_datagram(ip_header(ALPHA, BETA, 1, 1, 0x5555), &error));
    // The second fragment of a probe, TTL 1.
    let mut later = ip_header(ALPHA, BETA, 17, 1, 0x6666);
    later.fragment_offset = IpFragOffset::try_new(185).unwrap();
    net.alpha_sends(&ip_datagram(later, &[0; 16]));
    // A probe sent to the Ethernet broadcast address.
    net.receive(
        LAB1,
        &ip_frame(MacAddr::BROADCAST, ALPHA_MAC, &udp_probe(1, 0x7777)),
    );
    // A probe with TTL 1 to the lab's broadcast address.
    let to_broadcast = ip_datagram(
        ip_header(ALPHA, Ipv4Addr::new(198, 18, 1, 255), 17, 1, 8),
        &[0; 8],
    );
    net.alpha_sends(&to_broadcast);
    net.expect_nothing();
    let reasons: Vec<String> = net.events.iter().map(|e| e.to_string()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("it is an ICMP error itself")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("it is not the first fragment")),
        "{reasons:#?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("link-layer broadcast")),
        "{reasons:#?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("directed broadcast")),
        "{reasons:#?}"
    );
}

#[test]
fn icmp_errors_are_rate_limited() {
    let mut net = Net::with_limits(StackLimits {
        icmp_errors: IcmpRateLimit {
            per_second: 10,
            burst: 10,
        },
        ..StackLimits::default()
    });
    for ident in 0..25 {
        net.alpha_sends(&udp_probe(1, ident));
    }
    assert_eq!(net.wire.len(), 10, "the burst");
    net.wire.clear();
    net.now += Duration::from_millis(100);
    net.alpha_sends(&udp_probe(1, 100));
    net.alpha_sends(&udp_probe(1, 101));
    assert_eq!(net.wire.len(), 1, "one more every 100 ms");
    let limited = net
        .events
        .iter()
        .filter(|e| e.to_string().ends_with("not sent: rate limit"))
        .count();
    assert_eq!(limited, 16);
}

#[test]
fn answers_arp_and_ping_on_both_legs() {
    let mut net = Net::new();
    // beta asks for the router again; the reply comes from the lab2 MAC.
    net.receive(LAB2, &arp_request((BETA_MAC, BETA), ROUTER_LAB2));
    assert_eq!(
        net.expect_frame(LAB2),
        arp_reply((ROUTER_LAB2_MAC, ROUTER_LAB2), (BETA_MAC, BETA))
    );
    // beta pings both router addresses: each reply comes from the address
    // pinged, and goes back out of lab2.
    for (seq, target) in [(1, ROUTER_LAB2), (2, US)] {
        let ping = ip_datagram(
            ip_header(BETA, target, 1, 64, seq),
            &echo_request(9, seq, b"hi"),
        );
        net.receive(LAB2, &ip_frame(ROUTER_LAB2_MAC, BETA_MAC, &ping));
        let (ethernet, ip, payload) = read_ip(&net.expect_frame(LAB2));
        assert_eq!(ethernet.destination, BETA_MAC.0);
        assert_eq!(
            (ip.source, ip.destination),
            (target.octets(), BETA.octets())
        );
        assert_eq!(
            read_icmp(&payload).0,
            Icmpv4Type::EchoReply(IcmpEchoHeader { id: 9, seq })
        );
    }
    net.expect_nothing();
}

#[test]
fn a_next_hop_that_never_answers_arp_gets_host_unreachable() {
    let mut net = Net::new();
    let ghost = Ipv4Addr::new(198, 18, 1, 66);
    let datagram = ip_datagram(ip_header(ALPHA, ghost, 17, 64, 0x0abc), &[1; 8]);
    net.alpha_sends(&datagram);
    let (_, request) = read_arp(&net.expect_frame(LAB2));
    assert_eq!(request.sender_ipv4_addr(), ROUTER_LAB2);
    assert_eq!(request.target_ipv4_addr(), ghost);
    net.advance(SECOND);
    net.advance(SECOND);
    net.wire.clear(); // the two retries
    net.advance(SECOND);
    let (icmp_type, quoted) = net.expect_error_to_alpha();
    assert_eq!(
        icmp_type,
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Host)
    );
    assert_eq!(
        Ipv4Header::from_slice(&quoted).unwrap().0.destination,
        ghost.octets()
    );
}
