//! Two of our stacks on an in-memory cable, used through the blocking
//! socket API as a program would: a 1 MiB TCP echo, several connections
//! at once, a UDP round trip, "port unreachable", a RST for a closed port,
//! closing that waits for the FIN's ACK over a lossy wire, and a stack
//! that uses no CPU while its connection is idle.
//!
//! A wiretap on each stack's sending end keeps every frame, and etherparse
//! — not our parser — reads them: checksums, flags, ICMP types.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use etherparse::{Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};
use l2_link::device::{Cable, CableEnd, Device, FaultConfig, Faulty, RxMeta};
use l2_link::wire::MacAddr;
use l3_net::stack::Interface;
use l3_net::stack::InterfaceConfig;
use l4_transport::socket::{
    NetStack, Stack, StackConfig, TcpListener, TcpStream, TraceFormatter, TraceStyle, UdpSocket,
};
use l4_transport::tcp::{IsnGenerator, State, TcpConfig, TraceEvent};

const MAC_A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);
const IP_A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
const IP_B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 11);
const MIB: usize = 1 << 20;
/// No test here should take long; a hang fails instead of blocking CI.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Two stacks and a wiretap
// ---------------------------------------------------------------------------

/// Every frame a stack sent, in order.
type Frames = Arc<Mutex<Vec<Vec<u8>>>>;

/// A device that keeps a copy of every frame sent through it.
struct Wiretap<D> {
    inner: D,
    sent: Frames,
}

impl<D: Device> Device for Wiretap<D> {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.sent.lock().unwrap().push(frame.to_vec());
        self.inner.send(frame)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        self.inner.recv(buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        self.inner.mac()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }
}

/// Two stacks, A (198.18.0.10) and B (198.18.0.11), one cable per
/// direction, with what each sent.
struct Pair {
    a: Stack,
    b: Stack,
    a_sent: Frames,
    b_sent: Frames,
}

/// Bytes of every segment the timestamps option takes when both ends use
/// it (RFC 7323 §3: kind, length, TSval, TSecr, padded with two NOPs).
const TIMESTAMPS_OPTION: usize = 12;

fn pair(config: StackConfig) -> Pair {
    pair_with(config, |end| Box::new(end))
}

/// A pair whose A→B sending end is wrapped by `damage` (a [`Faulty`]).
fn pair_with(config: StackConfig, damage: impl FnOnce(CableEnd) -> Box<dyn Device + Send>) -> Pair {
    let (a_out, b_in) = Cable::pair(MAC_A, MAC_B);
    let (b_out, a_in) = Cable::pair(MAC_B, MAC_A);
    let (a_sent, b_sent) = (Frames::default(), Frames::default());
    let a_tap = Wiretap {
        inner: damage(a_out),
        sent: Arc::clone(&a_sent),
    };
    let b_tap = Wiretap {
        inner: b_out,
        sent: Arc::clone(&b_sent),
    };
    Pair {
        a: Stack::over_devices(a_tap, a_in, IP_A, 24, config.clone()).unwrap(),
        b: Stack::over_devices(b_tap, b_in, IP_B, 24, config).unwrap(),
        a_sent,
        b_sent,
    }
}

/// A TCP segment as etherparse reads it from a frame.
#[derive(Debug)]
struct Seen {
    src: SocketAddrV4,
    dst: SocketAddrV4,
    syn: bool,
    rst: bool,
    fin: bool,
    payload: usize,
}

/// Every TCP segment in `frames`, after etherparse checked its checksums
/// (IPv4 header and TCP over the pseudo-header) by its own code.
fn tcp_segments(frames: &Frames) -> Vec<Seen> {
    let frames = frames.lock().unwrap();
    let mut segments = Vec::new();
    for frame in frames.iter() {
        let sliced = SlicedPacket::from_ethernet(frame).expect("etherparse reads our frame");
        let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) =
            (&sliced.net, &sliced.transport)
        else {
            continue;
        };
        let header = ip.header();
        assert_eq!(
            header.header_checksum(),
            header.to_header().calc_header_checksum()
        );
        let (src, dst) = (header.source_addr(), header.destination_addr());
        let expected = tcp
            .to_header()
            .calc_checksum_ipv4_raw(src.octets(), dst.octets(), tcp.payload())
            .unwrap();
        assert_eq!(tcp.checksum(), expected, "TCP checksum");
        segments.push(Seen {
            src: SocketAddrV4::new(src, tcp.source_port()),
            dst: SocketAddrV4::new(dst, tcp.destination_port()),
            syn: tcp.syn(),
            rst: tcp.rst(),
            fin: tcp.fin(),
            payload: tcp.payload().len(),
        });
    }
    segments
}

/// Every ICMP message in `frames`, as etherparse reads it.
fn icmp_messages(frames: &Frames) -> Vec<(Ipv4Addr, Icmpv4Type, Vec<u8>)> {
    let frames = frames.lock().unwrap();
    frames
        .iter()
        .filter_map(|frame| {
            let sliced = SlicedPacket::from_ethernet(frame).ok()?;
            let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Icmpv4(icmp))) =
                (&sliced.net, &sliced.transport)
            else {
                return None;
            };
            Some((
                ip.header().destination_addr(),
                icmp.icmp_type(),
                icmp.payload().to_vec(),
            ))
        })
        .collect()
}

/// 64-bit FNV-1a: a hash written here, independent of the code under test.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` bytes of xorshift64 from `seed`: no pattern a misplaced segment
/// could hide in.
fn stream(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An echo server on `port` of `stack`: a thread per connection, each
/// copying what it reads back until end of file, then closing.
fn echo_server(stack: &Stack, port: u16, connections: usize) -> thread::JoinHandle<Vec<u64>> {
    let listener = TcpListener::bind(stack, port).unwrap();
    thread::spawn(move || {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let (mut stream, _) = listener.accept().unwrap();
                thread::spawn(move || {
                    let mut copied = Vec::new();
                    let mut buf = vec![0u8; 8192];
                    loop {
                        let n = stream.read(&mut buf).unwrap();
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).unwrap();
                        copied.extend_from_slice(&buf[..n]);
                    }
                    stream.close().unwrap();
                    fnv1a(&copied)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// Sends `data` through `stream` from one thread while reading the echo in
/// this one; closes our half when all is written, returns what came back.
fn echo_through(stream: &TcpStream, data: &[u8]) -> Vec<u8> {
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut writer = stream;
            writer.write_all(data).unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
        });
        let mut echoed = Vec::with_capacity(data.len());
        let mut reader = stream;
        reader.read_to_end(&mut echoed).unwrap();
        echoed
    })
}

/// Runs `f` on a thread and fails if it takes longer than [`PATIENCE`].
fn within_patience<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PATIENCE)
        .expect("the test finished within its time")
}

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

#[test]
fn a_mebibyte_echoed_over_tcp_comes_back_byte_identical_and_both_ends_close_cleanly() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        let server = echo_server(&net.b, 7, 1);
        let data = stream(0x5eed, MIB);

        let client = TcpStream::connect(&net.a, SocketAddrV4::new(IP_B, 7)).unwrap();
        assert_eq!(client.state().unwrap(), State::Established);
        assert_eq!(client.peer_addr().unwrap(), SocketAddrV4::new(IP_B, 7));
        let echoed = echo_through(&client, &data);
        assert_eq!(echoed.len(), data.len());
        assert_eq!(fnv1a(&echoed), fnv1a(&data));
        assert!(echoed == data, "every byte in its place");
        client.close().unwrap();
        assert_eq!(server.join().unwrap(), vec![fnv1a(&data)]);

        let segments: Vec<Seen> = tcp_segments(&net.a_sent)
            .into_iter()
            .chain(tcp_segments(&net.b_sent))
            .collect();
        assert!(segments.iter().all(|s| !s.rst), "no RST on the wire");
        assert_eq!(
            segments.iter().filter(|s| s.fin).count(),
            2,
            "one FIN each way"
        );
        assert_eq!(
            segments.iter().filter(|s| s.syn).count(),
            2,
            "SYN and SYN,ACK"
        );
        // Each side's MSS: its MTU (1500) minus 40; the timestamps option
        // (RFC 7323 §3) takes 12 of those bytes in every segment.
        let largest = segments.iter().map(|s| s.payload).max().unwrap();
        assert_eq!(largest, 1460 - TIMESTAMPS_OPTION);
        let carried: usize = tcp_segments(&net.a_sent).iter().map(|s| s.payload).sum();
        assert_eq!(carried, MIB, "no retransmission on a lossless cable");
    });
}

#[test]
fn several_connections_at_once_each_get_their_own_bytes_back() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        const CLIENTS: usize = 5;
        let server = echo_server(&net.b, 7, CLIENTS);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let stack = net.a.clone();
                thread::spawn(move || {
                    let data = stream(i as u64 + 1, 100_000 + 7919 * i);
                    let conn = TcpStream::connect(&stack, SocketAddrV4::new(IP_B, 7)).unwrap();
                    let port = conn.local_addr().unwrap().port();
                    let echoed = echo_through(&conn, &data);
                    assert!(echoed == data, "client {i}: its own bytes back");
                    (port, fnv1a(&data))
                })
            })
            .collect();
        let results: Vec<(u16, u64)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        let mut ports: Vec<u16> = results.iter().map(|r| r.0).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), CLIENTS, "a port each");
        assert!(ports.iter().all(|p| (49152..=65535).contains(p)));
        let mut served = server.join().unwrap();
        let mut sent: Vec<u64> = results.iter().map(|r| r.1).collect();
        served.sort_unstable();
        sent.sort_unstable();
        assert_eq!(served, sent);
    });
}

#[test]
fn a_closed_tcp_port_answers_with_rst_and_connect_says_refused() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        let error = TcpStream::connect(&net.a, SocketAddrV4::new(IP_B, 81)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);

        let resets: Vec<Seen> = tcp_segments(&net.b_sent)
            .into_iter()
            .filter(|s| s.rst)
            .collect();
        assert_eq!(resets.len(), 1, "{resets:?}");
        assert_eq!(resets[0].src, SocketAddrV4::new(IP_B, 81));
        assert_eq!(*resets[0].dst.ip(), IP_A);
    });
}

#[test]
fn connecting_to_an_address_nobody_owns_says_host_unreachable_once_arp_gives_up() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        let started = Instant::now();
        let nobody = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 99), 7);
        let error = TcpStream::connect(&net.a, nobody).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::HostUnreachable, "{error}");
        // Three ARP requests, a second apart (layer 3's ARP cache), and
        // not the minutes of SYN retries a silent host would cost.
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        // The stack forgets the connection at its next round of work.
        let deadline = Instant::now() + Duration::from_secs(1);
        while net.a.with(|net| net.connections().count()) > 0 {
            assert!(Instant::now() < deadline, "the failed connection stays");
            thread::sleep(Duration::from_millis(5));
        }
    });
}

#[test]
fn dropping_a_stream_waits_until_the_fin_is_acknowledged_even_on_a_lossy_wire() {
    within_patience(|| {
        let mut config = StackConfig::default();
        // A short floor for the retransmission timer, so the losses cost
        // little time (the RFC's 1 s is the default).
        config.tcp.min_rto = Duration::from_millis(50);
        config.tcp.initial_rto = Duration::from_millis(200);
        let lossy = FaultConfig {
            loss: 0.03,
            ..FaultConfig::default()
        };
        let net = pair_with(config, |end| Box::new(Faulty::new(end, 7, lossy)));
        let listener = TcpListener::bind(&net.b, 9).unwrap();
        let data = stream(99, 40_000);
        let sent = data.clone();
        let stack = net.a.clone();
        let client = thread::spawn(move || {
            let mut conn = TcpStream::connect(&stack, SocketAddrV4::new(IP_B, 9)).unwrap();
            conn.write_all(&sent).unwrap();
            let started = Instant::now();
            drop(conn); // waits for the FIN's ACK
            // The stack still holds the connection (FIN-WAIT-2 or
            // TIME-WAIT): it finishes alone.
            let state_after = stack.with(|net| net.connections().map(|c| c.state()).next());
            (started.elapsed(), state_after)
        });
        let (mut conn, _) = listener.accept().unwrap();
        let mut received = Vec::new();
        conn.read_to_end(&mut received).unwrap();
        let (waited, state_after) = client.join().unwrap();
        assert!(received == data, "all of it arrived, in order");
        assert!(waited < Duration::from_secs(10), "within the close timeout");
        let state_after = state_after.expect("the stack kept the connection");
        assert!(
            matches!(state_after, State::FinWait2 | State::TimeWait),
            "{state_after:?}: our FIN was acknowledged before drop returned"
        );
        drop(conn);
        // Bytes carried beyond the 40 000: the losses were real, and were
        // made good by retransmissions.
        let carried: usize = tcp_segments(&net.a_sent).iter().map(|s| s.payload).sum();
        assert!(carried > data.len(), "{carried} bytes carried");
    });
}

// ---------------------------------------------------------------------------
// Path MTU: a narrow link in the middle
// ---------------------------------------------------------------------------

// ANCHOR: narrow_path
/// The MTU of the narrow link a router in the middle forwards onto.
const NARROW_MTU: u16 = 1280;
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const ROUTER_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// The sending end of a cable, shared: the stack that owns it sends its
/// frames through it, and so does the router below, which answers on the
/// same wire.
#[derive(Clone)]
struct SharedEnd(Arc<Mutex<CableEnd>>);

impl Device for SharedEnd {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().send(frame)
    }

    fn recv(&mut self, _: &mut [u8], _: Option<Instant>) -> io::Result<Option<RxMeta>> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "a sending end"))
    }

    fn mac(&self) -> MacAddr {
        self.0.lock().unwrap().mac()
    }

    fn mtu(&self) -> usize {
        self.0.lock().unwrap().mtu()
    }
}

/// A's way out, as if through a router whose next link carries only
/// [`NARROW_MTU`] bytes: a datagram bigger than that with Don't Fragment
/// set is dropped, and the sender gets a real ICMP "fragmentation needed"
/// (RFC 792, RFC 1191 §4: type 3 code 4, the next hop's MTU, the dropped
/// datagram's header and first bytes), built with layer 3's wire types.
/// Etherparse, not our parser, decides what is too big.
struct NarrowPath {
    toward_b: CableEnd,
    back_to_a: SharedEnd,
    frag_needed_sent: Arc<Mutex<u32>>,
}

impl Device for NarrowPath {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let Ok(ip) = etherparse::Ipv4HeaderSlice::from_slice(&frame[14..]) else {
            return self.toward_b.send(frame); // ARP
        };
        if ip.total_len() <= NARROW_MTU {
            return self.toward_b.send(frame);
        }
        assert!(ip.dont_fragment(), "our TCP sends with Don't Fragment");
        let datagram = &frame[14..14 + usize::from(ip.total_len())];
        let quote = &datagram[..usize::from(ip.ihl()) * 4 + 8];
        let message = l3_net::wire::Icmpv4Repr::DstUnreachable {
            reason: l3_net::wire::DstUnreachable::FragRequired,
            next_hop_mtu: NARROW_MTU,
            quoted: quote,
        }
        .build();
        let header = l3_net::wire::Ipv4Repr {
            src_addr: ROUTER_IP,
            dst_addr: ip.source_addr(),
            protocol: l3_net::wire::IpProtocol::ICMP,
            ttl: 64,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: l3_net::wire::Ipv4Options::NONE,
            payload_len: message.len(),
        };
        let ethernet = l2_link::wire::EthernetRepr {
            destination: MacAddr(frame[6..12].try_into().unwrap()),
            source: ROUTER_MAC,
            vlan: None,
            ethertype: l2_link::wire::EtherType::IPV4,
        };
        *self.frag_needed_sent.lock().unwrap() += 1;
        self.back_to_a
            .send(&ethernet.build(&header.build(&message)))
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        self.toward_b.recv(buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        self.toward_b.mac()
    }

    fn mtu(&self) -> usize {
        self.toward_b.mtu()
    }
}
// ANCHOR_END: narrow_path

/// The largest TCP payload and whether Don't Fragment was set, for every
/// TCP segment in `frames`, as etherparse reads them.
fn tcp_payloads_and_df(frames: &Frames) -> Vec<(usize, bool)> {
    let frames = frames.lock().unwrap();
    frames
        .iter()
        .filter_map(|frame| {
            let sliced = SlicedPacket::from_ethernet(frame).ok()?;
            let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) =
                (&sliced.net, &sliced.transport)
            else {
                return None;
            };
            Some((tcp.payload().len(), ip.header().dont_fragment()))
        })
        .collect()
}

/// The MSS option of the first SYN in `frames`, as etherparse reads it.
fn syn_mss(frames: &Frames, port: u16) -> Option<u16> {
    let frames = frames.lock().unwrap();
    frames.iter().find_map(|frame| {
        let sliced = SlicedPacket::from_ethernet(frame).ok()?;
        let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
            return None;
        };
        if !tcp.syn() || tcp.source_port() != port {
            return None;
        }
        tcp.options_iterator().find_map(|option| match option {
            Ok(etherparse::TcpOptionElement::MaximumSegmentSize(mss)) => Some(mss),
            _ => None,
        })
    })
}

// ANCHOR: pmtu_test
#[test]
fn a_router_saying_fragmentation_needed_lowers_the_mss_and_a_mebibyte_still_arrives() {
    within_patience(|| {
        let (a_out, b_in) = Cable::pair(MAC_A, MAC_B);
        let (b_out, a_in) = Cable::pair(MAC_B, MAC_A);
        let b_out = SharedEnd(Arc::new(Mutex::new(b_out)));
        let frag_needed_sent = Arc::new(Mutex::new(0));
        let a_sent = Frames::default();
        let a_tap = Wiretap {
            inner: NarrowPath {
                toward_b: a_out,
                back_to_a: b_out.clone(),
                frag_needed_sent: Arc::clone(&frag_needed_sent),
            },
            sent: Arc::clone(&a_sent),
        };
        let config = StackConfig {
            keep_trace: true,
            ..StackConfig::default()
        };
        let a = Stack::over_devices(a_tap, a_in, IP_A, 24, config.clone()).unwrap();
        let b = Stack::over_devices(b_out, b_in, IP_B, 24, config).unwrap();
        let server = echo_server(&b, 7, 2);
        let data = stream(0x1191, MIB);

        let client = TcpStream::connect(&a, SocketAddrV4::new(IP_B, 7)).unwrap();
        let local = client.local_addr().unwrap();
        let echoed = echo_through(&client, &data);
        assert!(echoed == data, "every byte in its place");
        client.close().unwrap();

        // The router spoke, and A listened: its trace says so, and after
        // the first few segments (in flight when the ICMP came) nothing
        // bigger than the narrow link left A.
        let frag_needed = *frag_needed_sent.lock().unwrap();
        assert!((1..=20).contains(&frag_needed), "{frag_needed} ICMP errors");
        let trace = a.take_trace(local, SocketAddrV4::new(IP_B, 7));
        let lowered: Vec<usize> = trace
            .iter()
            .filter_map(|record| match record.event {
                TraceEvent::MssChanged { mss, .. } => Some(mss),
                _ => None,
            })
            .collect();
        assert_eq!(
            lowered,
            vec![usize::from(NARROW_MTU) - 40 - TIMESTAMPS_OPTION]
        );
        let segments = tcp_payloads_and_df(&a_sent);
        assert!(segments.iter().all(|&(_, df)| df), "Don't Fragment on all");
        let too_big = segments.iter().filter(|&&(len, _)| len > 1240).count();
        assert_eq!(too_big as u32, frag_needed, "each big one was answered");
        assert_eq!(
            segments.iter().map(|s| s.0).max(),
            Some(1460 - TIMESTAMPS_OPTION)
        );

        // A second connection starts from what the first one learned:
        // its SYN already asks for segments that fit (the path-MTU cache
        // of layer 3), and no router has to say anything again.
        let second = TcpStream::connect(&a, SocketAddrV4::new(IP_B, 7)).unwrap();
        let port = second.local_addr().unwrap().port();
        let small = stream(7, 100_000);
        assert!(echo_through(&second, &small) == small);
        second.close().unwrap();
        assert_eq!(syn_mss(&a_sent, port), Some(NARROW_MTU - 40));
        assert_eq!(*frag_needed_sent.lock().unwrap(), frag_needed);
        assert_eq!(server.join().unwrap().len(), 2);
    });
}
// ANCHOR_END: pmtu_test

// ---------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------

#[test]
fn a_udp_datagram_goes_round_trip() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        let server = UdpSocket::bind(&net.b, 7).unwrap();
        let echo = thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from).unwrap();
            from
        });
        let client = UdpSocket::bind(&net.a, 0).unwrap();
        let local = client.local_addr().unwrap();
        assert_eq!(*local.ip(), IP_A);
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
            .send_to(b"hello, udp", SocketAddrV4::new(IP_B, 7))
            .unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello, udp");
        assert_eq!(from, SocketAddrV4::new(IP_B, 7));
        assert_eq!(echo.join().unwrap(), local, "the server saw our port");

        // Nothing more comes: the read times out as std's does on Linux.
        client
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let error = client.recv_from(&mut buf).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn a_closed_udp_port_answers_icmp_port_unreachable() {
    within_patience(|| {
        let net = pair(StackConfig::default());
        let client = UdpSocket::bind(&net.a, 5353).unwrap();
        client
            .send_to(b"anyone?", SocketAddrV4::new(IP_B, 9999))
            .unwrap();
        // The answer is an ICMP message from B; wait for it on the wire.
        let deadline = Instant::now() + Duration::from_secs(5);
        let messages = loop {
            let messages = icmp_messages(&net.b_sent);
            if !messages.is_empty() || Instant::now() > deadline {
                break messages;
            }
            thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(messages.len(), 1, "{messages:?}");
        let (to, kind, quoted) = &messages[0];
        assert_eq!(*to, IP_A);
        assert_eq!(
            *kind,
            Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Port)
        );
        // It quotes our datagram: IPv4 header (20 bytes), then our UDP
        // header with ports 5353 → 9999.
        assert_eq!(&quoted[20..24], &[0x14, 0xe9, 0x27, 0x0f]);

        // Once a socket is bound there, the same datagram is delivered.
        let server = UdpSocket::bind(&net.b, 9999).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
            .send_to(b"anyone?", SocketAddrV4::new(IP_B, 9999))
            .unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"anyone?"[..], SocketAddrV4::new(IP_A, 5353))
        );
        assert_eq!(icmp_messages(&net.b_sent).len(), 1, "no second ICMP error");
    });
}

// ---------------------------------------------------------------------------
// Idle costs nothing
// ---------------------------------------------------------------------------

/// CPU time (user + system, in clock ticks) this process has used, from
/// `/proc/self/stat` (fields 14 and 15, counted after the command name).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (the state), so field N is index N - 3.
    fields[14 - 3].parse::<u64>().unwrap() + fields[15 - 3].parse::<u64>().unwrap()
}

/// Context switches of every thread of this process so far: a thread that
/// wakes up, even for nothing, adds one.
fn context_switches() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue; // the thread ended meanwhile
        };
        for line in status.lines() {
            if let Some(count) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += count.trim().parse::<u64>().unwrap();
            }
        }
    }
    total
}

const IDLE_CHILD: &str = "SOCKET_PAIR_IDLE_CHILD";

/// Runs [`idle_child`] in a process of its own, so that no other test's
/// threads count, and checks that it passed.
#[test]
fn idle_connections_use_no_cpu() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "idle_child", "--ignored", "--nocapture"])
        .env(IDLE_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("idle:"), "{stdout}");
}

/// Two stacks, one established connection and one listening port, a UDP
/// socket; then two seconds of nothing. Their threads must not wake up at
/// all: the stacks' own counters say so, and so do the kernel's (CPU time
/// and context switches of the whole process).
#[test]
#[ignore = "run in a process of its own by idle_connections_use_no_cpu"]
fn idle_child() {
    if std::env::var_os(IDLE_CHILD).is_none() {
        return;
    }
    let net = pair(StackConfig::default());
    let _listener = TcpListener::bind(&net.b, 7).unwrap();
    let server = echo_server(&net.b, 8, 1);
    let _udp = UdpSocket::bind(&net.b, 7).unwrap();
    let client = TcpStream::connect(&net.a, SocketAddrV4::new(IP_B, 8)).unwrap();
    (&client).write_all(b"ping").unwrap();
    let mut echo = [0u8; 4];
    (&client).read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"ping");
    // Let the last ACKs cross, so no retransmission timer runs.
    thread::sleep(Duration::from_millis(300));

    let (wakeups_a, wakeups_b) = (net.a.stats().wakeups, net.b.stats().wakeups);
    let (ticks, switches) = (cpu_ticks(), context_switches());
    thread::sleep(Duration::from_secs(2));
    let (ticks_after, switches_after) = (cpu_ticks(), context_switches());
    let (idle_a, idle_b) = (net.a.stats().wakeups, net.b.stats().wakeups);

    println!(
        "idle: {} ticks, {} context switches, stack wake-ups {} and {}",
        ticks_after - ticks,
        switches_after - switches,
        idle_a - wakeups_a,
        idle_b - wakeups_b
    );
    assert_eq!((idle_a, idle_b), (wakeups_a, wakeups_b), "no wake-ups");
    // A tick is 10 ms; 2 s of polling every 10 ms would cost several.
    assert!(ticks_after - ticks <= 1, "CPU time while idle");
    // Only this thread's own sleep (and reading /proc) switches; a thread
    // polling every 100 ms would add 20 per thread.
    assert!(
        switches_after - switches <= 6,
        "context switches while idle"
    );

    // And the connection still works.
    (&client).write_all(b"pong").unwrap();
    (&client).read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"pong");
    client.close().unwrap();
    server.join().unwrap();
}

// ---------------------------------------------------------------------------
// The sans-IO stack alone, on a virtual clock
// ---------------------------------------------------------------------------

/// A [`NetStack`] with fixed secrets, so that its numbers repeat.
fn netstack(mac: MacAddr, addr: Ipv4Addr, t0: Instant, trace: bool) -> NetStack {
    let interface = Interface::new(InterfaceConfig {
        mac,
        addr,
        prefix_len: 24,
        mtu: 1500,
    });
    let config = StackConfig {
        trace: trace.then_some(TraceStyle::Relative),
        // The sans-IO basics (MSS the only option, every segment ACKed at
        // once), so that these tests see exactly the segments they name;
        // the threaded pairs above run the full RFC 7323 default.
        tcp: TcpConfig::default(),
        ..StackConfig::default()
    };
    NetStack::new(interface, config, IsnGenerator::new([7; 16], t0), 0)
}

/// Moves frames between two stacks until neither has anything to say.
fn exchange(a: &mut NetStack, b: &mut NetStack, now: Instant) -> usize {
    let mut moved = 0;
    loop {
        a.poll(now);
        b.poll(now);
        let (from_a, from_b) = (a.drain_transmit(), b.drain_transmit());
        if from_a.is_empty() && from_b.is_empty() {
            return moved;
        }
        moved += from_a.len() + from_b.len();
        for frame in from_a {
            b.receive(now, &frame, l2_link::device::PacketType::Host);
        }
        for frame in from_b {
            a.receive(now, &frame, l2_link::device::PacketType::Host);
        }
    }
}

#[test]
fn two_netstacks_shake_hands_without_threads_and_the_trace_tells_it_like_tcpdump() {
    let t0 = Instant::now();
    let mut a = netstack(MAC_A, IP_A, t0, true);
    let mut b = netstack(MAC_B, IP_B, t0, false);
    let listener = b.tcp_listen(7, 4).unwrap();
    let conn = a.tcp_connect(t0, SocketAddrV4::new(IP_B, 7)).unwrap();
    // The first ephemeral port for seed 0 is the range's first.
    assert_eq!(a.tcp_endpoints(conn).unwrap().0.port(), 49152);
    assert_eq!(
        a.poll_at(),
        None,
        "nothing to wait for before the first poll"
    );

    // ARP request and reply, SYN, SYN-ACK, ACK.
    exchange(&mut a, &mut b, t0);
    assert_eq!(a.tcp_state(conn).unwrap(), State::Established);
    let (accepted, from) = b.tcp_accept(t0, listener).unwrap();
    assert_eq!(from, SocketAddrV4::new(IP_A, 49152));
    assert_eq!(a.poll_at(), None, "an idle connection has no timer");

    assert_eq!(a.tcp_send(conn, b"hello").unwrap(), 5);
    exchange(&mut a, &mut b, t0);
    let mut buf = [0u8; 16];
    assert_eq!(b.tcp_recv(accepted, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    let would_block = b.tcp_recv(accepted, &mut buf).unwrap_err();
    assert_eq!(would_block.kind(), io::ErrorKind::WouldBlock);

    let mut formatter = TraceFormatter::new(TraceStyle::Relative);
    let lines: Vec<String> = a
        .drain_trace()
        .iter()
        .map(|record| formatter.format(record))
        .filter(|line| line.contains(" > "))
        .map(|line| line[11..].to_string())
        .collect();
    let out = "198.18.0.10:49152 > 198.18.0.11:7";
    let back = "198.18.0.11:7 > 198.18.0.10:49152";
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(lines[0].starts_with(&format!("{out}: Flags [S], seq ")));
    // Every option, in header order, as tcpdump prints it: the basic
    // config offers SACK and a window scale of 0 (scaling possible, not used).
    let syn_options = ", win 65535, options [mss 1460,nop,nop,sackOK,nop,wscale 0], length 0";
    assert!(lines[0].ends_with(syn_options), "{}", lines[0]);
    assert!(lines[1].starts_with(&format!("{back}: Flags [S.], seq ")));
    assert!(lines[1].ends_with(syn_options), "{}", lines[1]);
    assert_eq!(
        lines[2],
        format!("{out}: Flags [.], seq 1, ack 1, win 65535, length 0")
    );
    assert_eq!(
        lines[3],
        format!("{out}: Flags [P.], seq 1:6, ack 1, win 65535, length 5")
    );
    assert_eq!(
        lines[4],
        // B has not read the five bytes yet: its window is five smaller.
        format!("{back}: Flags [.], seq 1, ack 6, win 65530, length 0")
    );
}

/// An ICMP "fragmentation needed, next hop MTU 1280" from the router to
/// the sender of `frame` (an Ethernet frame carrying a TCP segment), whose
/// quote has the segment's sequence number replaced by `seq` if given (a
/// forgery by someone who did not see the segment).
fn frag_needed_about(frame: &[u8], seq: Option<u32>) -> Vec<u8> {
    let ip = etherparse::Ipv4HeaderSlice::from_slice(&frame[14..]).unwrap();
    let header_len = usize::from(ip.ihl()) * 4;
    let mut quote = frame[14..14 + header_len + 8].to_vec();
    if let Some(seq) = seq {
        quote[header_len + 4..header_len + 8].copy_from_slice(&seq.to_be_bytes());
    }
    let message = l3_net::wire::Icmpv4Repr::DstUnreachable {
        reason: l3_net::wire::DstUnreachable::FragRequired,
        next_hop_mtu: NARROW_MTU,
        quoted: &quote,
    }
    .build();
    let header = l3_net::wire::Ipv4Repr {
        src_addr: ROUTER_IP,
        dst_addr: ip.source_addr(),
        protocol: l3_net::wire::IpProtocol::ICMP,
        ttl: 64,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        dscp: 0,
        ecn: 0,
        options: l3_net::wire::Ipv4Options::NONE,
        payload_len: message.len(),
    };
    l2_link::wire::EthernetRepr {
        destination: MacAddr(frame[6..12].try_into().unwrap()),
        source: ROUTER_MAC,
        vlan: None,
        ethertype: l2_link::wire::EtherType::IPV4,
    }
    .build(&header.build(&message))
}

/// The TCP payload lengths and sequence numbers of `frames`, by etherparse.
fn tcp_seqs_and_lens(frames: &[Vec<u8>]) -> Vec<(u32, usize)> {
    frames
        .iter()
        .filter_map(|frame| {
            let sliced = SlicedPacket::from_ethernet(frame).ok()?;
            let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
                return None;
            };
            Some((tcp.sequence_number(), tcp.payload().len()))
        })
        .collect()
}

// ANCHOR: pmtu_validation_test
#[test]
fn only_a_frag_needed_quoting_a_sequence_number_in_flight_lowers_the_mss_and_resends_at_once() {
    let t0 = Instant::now();
    let mut a = netstack(MAC_A, IP_A, t0, true);
    let mut b = netstack(MAC_B, IP_B, t0, false);
    let listener = b.tcp_listen(7, 4).unwrap();
    let conn = a.tcp_connect(t0, SocketAddrV4::new(IP_B, 7)).unwrap();
    exchange(&mut a, &mut b, t0);
    let (accepted, _) = b.tcp_accept(t0, listener).unwrap();

    // Two full segments leave A at once; the router drops both.
    let data = stream(5927, 2 * 1460);
    assert_eq!(a.tcp_send(conn, &data).unwrap(), data.len());
    a.poll(t0);
    let dropped = a.drain_transmit();
    let sent = tcp_seqs_and_lens(&dropped);
    assert_eq!(sent.iter().map(|s| s.1).collect::<Vec<_>>(), [1460, 1460]);
    a.poll(t0);
    assert!(a.drain_transmit().is_empty(), "all of it is in flight");

    // A forgery: right addresses and ports, a sequence number A never
    // sent (RFC 5927 §4.1). TCP ignores it: no MSS change, nothing resent.
    let forged = frag_needed_about(&dropped[0], Some(sent[0].0.wrapping_sub(100_000)));
    a.receive(t0, &forged, l2_link::device::PacketType::Host);
    assert!(
        a.drain_transmit().is_empty(),
        "nothing resent for a forgery"
    );
    assert_eq!(a.tcp_connection(conn).unwrap().send_mss(), 1460);

    // The real one quotes the first dropped segment: the MSS falls to
    // 1240 and both segments' bytes go again at once, in pieces that fit,
    // without waiting for the retransmission timer.
    let genuine = frag_needed_about(&dropped[0], None);
    a.receive(t0, &genuine, l2_link::device::PacketType::Host);
    assert_eq!(a.tcp_connection(conn).unwrap().send_mss(), 1240);
    let resent = a.drain_transmit();
    let pieces = tcp_seqs_and_lens(&resent);
    assert_eq!(
        pieces.iter().map(|s| s.1).collect::<Vec<_>>(),
        [1240, 1240, 440]
    );
    assert_eq!(pieces[0].0, sent[0].0, "from the first byte lost");

    let events: Vec<String> = a
        .drain_trace()
        .iter()
        .filter_map(|record| match &record.event {
            TraceEvent::MssChanged { .. } | TraceEvent::Dropped { .. } => {
                Some(record.event.to_string().trim().to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            "dropped: ICMP fragmentation needed: quoted sequence number not in flight (RFC 5927)",
            "path MTU: MSS now 1240"
        ],
        "{events:#?}"
    );

    // And B gets every byte, in order.
    for frame in resent {
        b.receive(t0, &frame, l2_link::device::PacketType::Host);
    }
    exchange(&mut a, &mut b, t0);
    let mut got = vec![0u8; data.len() + 1];
    assert_eq!(b.tcp_recv(accepted, &mut got).unwrap(), data.len());
    assert!(got[..data.len()] == data[..]);
}
// ANCHOR_END: pmtu_validation_test
