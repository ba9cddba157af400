//! Micro-benchmarks: our wire code beside the crate a learner would
//! compare it to, in the same criterion group, on the same bytes.
//!
//! Group names are what `cargo xtask bench` looks for under
//! `target/criterion/<group>/<function>/new/estimates.json`; ours is
//! always the function `rawstack`. Every field a parser reads goes through
//! `black_box`, so neither side's work can be optimised away.
//!
//! Run alone with `cargo bench -p rawstack-bench --bench micro`; add
//! `-- <filter>` for one group, e.g. `-- checksum_1500`.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use etherparse::{
    LinkSlice, NetSlice, PacketBuilder, SlicedPacket, TcpOptionElement, TransportSlice,
};

use l2_link::wire::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use l4_transport::wire::{
    TcpFlags, TcpOption, TcpPacket, TcpRepr, TcpSeqNumber, UdpPacket, UdpRepr,
};

const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x12];
const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SRC_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const DST_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

// ---------------------------------------------------------------------
// The frames every parse benchmark reads, built by etherparse (so our
// parser reads bytes it did not write).

/// An Ethernet/IPv4/TCP ACK carrying `payload_len` bytes: 54 bytes for an
/// empty one, 1514 for a full 1460-byte segment.
fn tcp_frame(payload_len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
    let builder = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP.octets(), DST_IP.octets(), 64)
        .tcp(40000, 80, 1_000_000, 64240)
        .ack(2_000_000);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, &payload).expect("a valid frame");
    frame
}

/// An Ethernet/IPv4/UDP datagram with 100 bytes of data (a DNS query's
/// size): 142 bytes.
fn udp_frame() -> Vec<u8> {
    let payload = [0x5a; 100];
    let builder = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP.octets(), DST_IP.octets(), 64)
        .udp(44444, 53);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, &payload).expect("a valid frame");
    frame
}

// ---------------------------------------------------------------------
// Header parse: build the three views, read every field.

/// Our views over Ethernet, IPv4 and TCP, every field read.
fn parse_tcp_ours(frame: &[u8]) -> Option<()> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    black_box(ethernet.destination());
    black_box(ethernet.source());
    black_box(ethernet.vlan());
    black_box(ethernet.ethertype());
    let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
    read_ipv4_fields(&ip);
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    black_box(tcp.src_port());
    black_box(tcp.dst_port());
    black_box(tcp.seq_number());
    black_box(tcp.ack_number());
    black_box(tcp.header_len());
    black_box(tcp.flags());
    black_box(tcp.window_len());
    black_box(tcp.checksum());
    black_box(tcp.urgent_at());
    black_box(tcp.options());
    black_box(tcp.payload());
    Some(())
}

/// Our views over Ethernet, IPv4 and UDP, every field read.
fn parse_udp_ours(frame: &[u8]) -> Option<()> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    black_box(ethernet.destination());
    black_box(ethernet.source());
    black_box(ethernet.vlan());
    black_box(ethernet.ethertype());
    let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
    read_ipv4_fields(&ip);
    let udp = UdpPacket::new_checked(ip.payload()).ok()?;
    black_box(udp.src_port());
    black_box(udp.dst_port());
    black_box(udp.len());
    black_box(udp.checksum());
    black_box(udp.payload());
    Some(())
}

fn read_ipv4_fields(ip: &Ipv4Packet<&[u8]>) {
    black_box(ip.version());
    black_box(ip.header_len());
    black_box(ip.dscp());
    black_box(ip.ecn());
    black_box(ip.total_len());
    black_box(ip.ident());
    black_box(ip.dont_frag());
    black_box(ip.more_frags());
    black_box(ip.frag_offset());
    black_box(ip.ttl());
    black_box(ip.protocol());
    black_box(ip.checksum());
    black_box(ip.src_addr());
    black_box(ip.dst_addr());
    black_box(ip.options());
}

/// etherparse's slices over the same frame, the same fields read.
fn parse_tcp_etherparse(frame: &[u8]) -> Option<()> {
    let packet = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(LinkSlice::Ethernet2(ethernet)) = &packet.link else {
        return None;
    };
    black_box(ethernet.destination());
    black_box(ethernet.source());
    black_box(&packet.link_exts); // the VLAN tags, if any
    black_box(ethernet.ether_type());
    let Some(NetSlice::Ipv4(ip)) = &packet.net else {
        return None;
    };
    read_etherparse_ipv4_fields(ip);
    let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
        return None;
    };
    black_box(tcp.source_port());
    black_box(tcp.destination_port());
    black_box(tcp.sequence_number());
    black_box(tcp.acknowledgment_number());
    black_box(tcp.data_offset());
    // Our flags() is one read of the flags byte; etherparse has one
    // getter per flag.
    black_box((tcp.ns(), tcp.fin(), tcp.syn(), tcp.rst(), tcp.psh()));
    black_box((tcp.ack(), tcp.urg(), tcp.ece(), tcp.cwr()));
    black_box(tcp.window_size());
    black_box(tcp.checksum());
    black_box(tcp.urgent_pointer());
    black_box(tcp.options());
    black_box(tcp.payload());
    Some(())
}

/// etherparse's slices over the UDP frame, the same fields read.
fn parse_udp_etherparse(frame: &[u8]) -> Option<()> {
    let packet = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(LinkSlice::Ethernet2(ethernet)) = &packet.link else {
        return None;
    };
    black_box(ethernet.destination());
    black_box(ethernet.source());
    black_box(&packet.link_exts);
    black_box(ethernet.ether_type());
    let Some(NetSlice::Ipv4(ip)) = &packet.net else {
        return None;
    };
    read_etherparse_ipv4_fields(ip);
    let Some(TransportSlice::Udp(udp)) = &packet.transport else {
        return None;
    };
    black_box(udp.source_port());
    black_box(udp.destination_port());
    black_box(udp.length());
    black_box(udp.checksum());
    black_box(udp.payload());
    Some(())
}

fn read_etherparse_ipv4_fields(ip: &etherparse::Ipv4Slice<'_>) {
    let header = ip.header();
    black_box(header.version());
    black_box(header.ihl());
    black_box(header.dcp());
    black_box(header.ecn());
    black_box(header.total_len());
    black_box(header.identification());
    black_box(header.dont_fragment());
    black_box(header.more_fragments());
    black_box(header.fragments_offset());
    black_box(header.ttl());
    black_box(header.protocol());
    black_box(header.header_checksum());
    black_box(header.source_addr());
    black_box(header.destination_addr());
    black_box(header.options());
}

fn parse(c: &mut Criterion) {
    let cases: [(&str, Vec<u8>, ParseFn, ParseFn); 3] = [
        (
            "parse_tcp_54",
            tcp_frame(0),
            parse_tcp_ours,
            parse_tcp_etherparse,
        ),
        (
            "parse_tcp_1514",
            tcp_frame(1460),
            parse_tcp_ours,
            parse_tcp_etherparse,
        ),
        (
            "parse_udp_142",
            udp_frame(),
            parse_udp_ours,
            parse_udp_etherparse,
        ),
    ];
    for (group_name, frame, ours, theirs) in cases {
        // Both must accept the frame, or we would time an early error.
        assert!(
            ours(&frame).is_some() && theirs(&frame).is_some(),
            "{group_name}"
        );
        let mut group = c.benchmark_group(group_name);
        group.bench_function("rawstack", |b| b.iter(|| ours(black_box(&frame))));
        group.bench_function("etherparse", |b| b.iter(|| theirs(black_box(&frame))));
        group.finish();
    }
}

type ParseFn = fn(&[u8]) -> Option<()>;

// ---------------------------------------------------------------------
// Header emit: the headers of a whole frame, checksums included, into a
// buffer that is reused (no allocation for the frame on either side).

/// Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window
/// scale (20 bytes, so a 40-byte TCP header and a 74-byte frame).
const SYN_MSS: u16 = 1460;
const SYN_TSVAL: u32 = 0x0102_0304;
const SYN_WSCALE: u8 = 7;

/// Our SYN: three reprs, each emitted into its part of `buffer`.
fn emit_syn_ours(buffer: &mut [u8]) -> usize {
    let tcp = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq_number: TcpSeqNumber(1_000_000),
        ack_number: TcpSeqNumber(0),
        flags: TcpFlags::SYN,
        window_len: 64240,
        urgent_at: 0,
        options: vec![
            TcpOption::MaxSegmentSize(SYN_MSS),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                tsval: SYN_TSVAL,
                tsecr: 0,
            },
            TcpOption::NoOperation,
            TcpOption::WindowScale(SYN_WSCALE),
        ],
        payload: &[],
    };
    let ip = ipv4_repr(IpProtocol::TCP, tcp.buffer_len());
    emit_frame(buffer, &ip, |segment| {
        tcp.emit(&mut TcpPacket::new_unchecked(segment), SRC_IP, DST_IP);
    })
}

/// Our UDP datagram carrying `payload`.
fn emit_udp_ours(buffer: &mut [u8], payload: &[u8]) -> usize {
    let udp = UdpRepr {
        src_port: 44444,
        dst_port: 53,
    };
    let ip = ipv4_repr(IpProtocol::UDP, udp.buffer_len(payload.len()));
    emit_frame(buffer, &ip, |datagram| {
        udp.emit(
            &mut UdpPacket::new_unchecked(datagram),
            SRC_IP,
            DST_IP,
            payload,
        );
    })
}

fn ipv4_repr(protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: SRC_IP,
        dst_addr: DST_IP,
        protocol,
        ttl: 64,
        ident: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: Ipv4Options::NONE,
        payload_len,
    }
}

/// Ethernet and IPv4 headers, then `transport` writes the rest into the
/// IPv4 payload. Returns the frame's length.
fn emit_frame(buffer: &mut [u8], ip: &Ipv4Repr, transport: impl FnOnce(&mut [u8])) -> usize {
    let ethernet = EthernetRepr {
        destination: MacAddr(DST_MAC),
        source: MacAddr(SRC_MAC),
        vlan: None,
        ethertype: EtherType::IPV4,
    };
    let len = ethernet.header_len() + ip.buffer_len();
    let mut frame = EthernetFrame::new_unchecked(&mut buffer[..len]);
    ethernet.emit(&mut frame);
    let mut packet = Ipv4Packet::new_unchecked(frame.payload_mut());
    ip.emit(&mut packet);
    transport(packet.payload_mut());
    len
}

/// etherparse's SYN with the same options.
fn emit_syn_etherparse(buffer: &mut Vec<u8>) -> usize {
    buffer.clear();
    PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP.octets(), DST_IP.octets(), 64)
        .tcp(40000, 80, 1_000_000, 64240)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(SYN_MSS),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(SYN_TSVAL, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(SYN_WSCALE),
        ])
        .expect("20 bytes of options fit")
        .write(buffer, &[])
        .expect("a valid frame");
    buffer.len()
}

/// etherparse's UDP datagram carrying `payload`.
fn emit_udp_etherparse(buffer: &mut Vec<u8>, payload: &[u8]) -> usize {
    buffer.clear();
    PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP.octets(), DST_IP.octets(), 64)
        .udp(44444, 53)
        .write(buffer, payload)
        .expect("a valid frame");
    buffer.len()
}

fn emit(c: &mut Criterion) {
    let mut ours = vec![0u8; 2048];
    let mut theirs = Vec::with_capacity(2048);
    // Same bytes on the wire, except IPv4's DF flag (etherparse's builder
    // leaves it clear, Linux sets it): check every other byte.
    let len = emit_syn_ours(&mut ours);
    assert_eq!(len, 74);
    assert_eq!(emit_syn_etherparse(&mut theirs), len);
    assert_same_but_df(&ours[..len], &theirs);

    let payload = [0x5a; 100];
    let len = emit_udp_ours(&mut ours, &payload);
    assert_eq!(emit_udp_etherparse(&mut theirs, &payload), len);
    assert_same_but_df(&ours[..len], &theirs);

    let mut group = c.benchmark_group("emit_tcp_syn");
    group.bench_function("rawstack", |b| {
        b.iter(|| emit_syn_ours(black_box(&mut ours)))
    });
    group.bench_function("etherparse", |b| {
        b.iter(|| emit_syn_etherparse(black_box(&mut theirs)))
    });
    group.finish();

    let mut group = c.benchmark_group("emit_udp_142");
    group.bench_function("rawstack", |b| {
        b.iter(|| emit_udp_ours(black_box(&mut ours), black_box(&payload)))
    });
    group.bench_function("etherparse", |b| {
        b.iter(|| emit_udp_etherparse(black_box(&mut theirs), black_box(&payload)))
    });
    group.finish();
}

/// The two frames are equal once the DF bit (and the IPv4 checksum that
/// covers it) are set aside.
fn assert_same_but_df(ours: &[u8], theirs: &[u8]) {
    assert_eq!(ours.len(), theirs.len());
    for (at, (a, b)) in ours.iter().zip(theirs).enumerate() {
        // 14 + 6: flags byte; 14 + 10..12: header checksum.
        if at != 20 && at != 24 && at != 25 {
            assert_eq!(a, b, "byte {at}");
        }
    }
}

// ---------------------------------------------------------------------
// The internet checksum: ours, the internet-checksum crate's, and a
// memcpy of the same bytes (the speed of just reading them, and then some).

fn checksum(c: &mut Criterion) {
    const SIZES: [(usize, &str); 4] = [(20, "20"), (40, "40"), (1500, "1500"), (65536, "64k")];
    // One buffer: from malloc, so offset 0 is 16-byte aligned; offset 1
    // is not even 2-byte aligned.
    let buffer: Vec<u8> = (0..65536 + 8).map(|i| (i * 7 + 3) as u8).collect();
    let mut copy = vec![0u8; 65536 + 8];
    for (size, size_name) in SIZES {
        for (offset, alignment) in [(0, "aligned"), (1, "offset1")] {
            let data = &buffer[offset..offset + size];
            assert_eq!(
                l3_net::checksum::checksum(data).to_be_bytes(),
                internet_checksum::checksum(data)
            );
            let mut group = c.benchmark_group(format!("checksum_{size_name}_{alignment}"));
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function("rawstack", |b| {
                b.iter(|| l3_net::checksum::checksum(black_box(data)))
            });
            group.bench_function("internet-checksum", |b| {
                b.iter(|| internet_checksum::checksum(black_box(data)))
            });
            bench_memcpy(&mut group, data, &mut copy[offset..offset + size]);
            group.finish();
        }
    }
}

fn bench_memcpy(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    data: &[u8],
    copy: &mut [u8],
) {
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            copy.copy_from_slice(black_box(data));
            black_box(&mut *copy);
        })
    });
}

// ---------------------------------------------------------------------
// DNS: decode a response with 11 answers whose names are compressed.

/// A response for `www.lab.test A`: a CNAME to `web.lab.test`, then ten
/// addresses of it. Every name after the question is a pointer (or ends
/// in one), as a real server writes it. Encoded by our encoder, checked
/// by simple-dns below.
fn dns_response() -> Vec<u8> {
    use l7_app::dns::wire::{Class, Header, Message, Name, RData, Record, RecordType};
    let www: Name = "www.lab.test".parse().expect("a valid name");
    let web: Name = "web.lab.test".parse().expect("a valid name");
    let mut message = Message::query(0x1234, www.clone(), RecordType::A);
    message.header = Header::from_flags(0x1234, 0x8180); // QR RD RA, NOERROR
    message.answers.push(Record {
        name: www,
        class: Class::IN,
        ttl: 300,
        data: RData::Cname(web.clone()),
    });
    for host in 1..=10 {
        message.answers.push(Record {
            name: web.clone(),
            class: Class::IN,
            ttl: 300,
            data: RData::A(Ipv4Addr::new(198, 18, 0, host)),
        });
    }
    message.encode().expect("a small message")
}

fn dns(c: &mut Criterion) {
    use l7_app::dns::wire::Message;
    let response = dns_response();
    let ours = Message::decode(&response).expect("ours decodes it");
    let theirs = simple_dns::Packet::parse(&response).expect("simple-dns decodes it");
    assert_eq!((ours.answers.len(), theirs.answers.len()), (11, 11));
    // Compression: 10 A records for one name take 16 bytes each with a
    // pointer, 30 without.
    assert!(
        response.len() < 12 + 18 + 11 * 30,
        "{} bytes",
        response.len()
    );

    let mut group = c.benchmark_group("dns_decode_11_answers");
    group.bench_function("rawstack", |b| {
        b.iter(|| Message::decode(black_box(&response)))
    });
    group.bench_function("simple-dns", |b| {
        b.iter(|| simple_dns::Packet::parse(black_box(&response)))
    });
    group.finish();
}

// ---------------------------------------------------------------------
// HTTP/1.1: parse a browser's request head of 720 bytes.

/// A request head as a desktop browser sends it, its cookie cut so the
/// whole head is exactly 720 bytes.
fn http_request() -> Vec<u8> {
    let fields = [
        ("Host", "www.lab.test"),
        ("Connection", "keep-alive"),
        ("Upgrade-Insecure-Requests", "1"),
        (
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        ),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
             image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        ),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", "document"),
        ("Referer", "http://www.lab.test/"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept-Language", "en-GB,en-US;q=0.9,en;q=0.8"),
    ];
    let mut head = String::from("GET /articles/measuring-a-network-stack?page=2 HTTP/1.1\r\n");
    for (name, value) in fields {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let cookie_start = "Cookie: session=";
    let room = 720 - head.len() - cookie_start.len() - "\r\n\r\n".len();
    let cookie: String = "0123456789abcdef".chars().cycle().take(room).collect();
    head.push_str(&format!("{cookie_start}{cookie}\r\n\r\n"));
    assert_eq!(head.len(), 720);
    head.into_bytes()
}

/// Our parse, every part read.
fn http_ours(bytes: &[u8], limits: &l7_app::http::head::Limits) -> Option<usize> {
    let (head, len) = l7_app::http::head::parse_request(bytes, limits).ok()??;
    black_box(&head.method);
    black_box(&head.target);
    black_box(head.version);
    for field in head.headers.iter() {
        black_box(field);
    }
    Some(len)
}

/// httparse's parse, every part read.
fn http_httparse(bytes: &[u8]) -> Option<usize> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = request.parse(bytes).ok()? else {
        return None;
    };
    black_box(request.method);
    black_box(request.path);
    black_box(request.version);
    for field in request.headers.iter() {
        black_box((field.name, field.value));
    }
    Some(len)
}

fn http(c: &mut Criterion) {
    let request = http_request();
    let limits = l7_app::http::head::Limits::default();
    assert_eq!(http_ours(&request, &limits), Some(720));
    assert_eq!(http_httparse(&request), Some(720));

    let mut group = c.benchmark_group("http_request_720");
    group.bench_function("rawstack", |b| {
        b.iter(|| http_ours(black_box(&request), &limits))
    });
    group.bench_function("httparse", |b| {
        b.iter(|| http_httparse(black_box(&request)))
    });
    group.finish();
}

criterion_group!(benches, parse, emit, checksum, dns, http);
criterion_main!(benches);
