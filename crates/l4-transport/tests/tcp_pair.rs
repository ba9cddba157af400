//! Our TCP talking to our TCP: a client [`Connection`] and a server behind
//! a [`Listener`], joined by an in-memory wire with a fixed latency, on a
//! virtual clock. Every segment crosses as bytes (our emitter, then our
//! parser with its checksum check), as it would cross a cable.
//!
//! Each side sends 1 MiB of its own pseudo-random bytes while reading the
//! other's; both must arrive byte-identical (length, FNV-1a hash and every
//! byte), both ends must close cleanly (CLOSED or TIME-WAIT, no error, no
//! RST ever on the wire, no retransmission on a lossless wire), and on the
//! way the test checks, as an observer of the wire, that no data segment
//! exceeds the MSS or ends beyond the window its receiver had announced.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use l4_transport::tcp::{
    Connection, IsnGenerator, ListenOutcome, Listener, OutSegment, State, TcpConfig, TraceEvent,
    reset_for,
};
use l4_transport::wire::{TcpFlags, TcpPacket, TcpRepr, TcpSeqNumber};

const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 2), 40000);
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 7);
const MIB: usize = 1 << 20;

/// 64-bit FNV-1a: a hash written here, independent of the code under test.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` bytes from xorshift64 seeded with `seed`: no repeating pattern a
/// misplaced segment could hide in.
fn stream(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Which end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// A segment on the wire.
struct InFlight {
    arrives: Instant,
    to: Side,
    bytes: Vec<u8>,
}

/// An application: writes its stream, reads the other's, closes when it
/// has written everything.
struct App {
    outgoing: Vec<u8>,
    written: usize,
    received: Vec<u8>,
    closed: bool,
    read_chunk: usize,
}

impl App {
    fn new(outgoing: Vec<u8>, read_chunk: usize) -> App {
        App {
            outgoing,
            written: 0,
            received: Vec::new(),
            closed: false,
            read_chunk,
        }
    }

    /// Writes and reads what the connection allows; true if anything moved.
    fn run(&mut self, conn: &mut Connection, now: Instant) -> bool {
        let mut moved = false;
        if self.written < self.outgoing.len() {
            let n = conn.send(&self.outgoing[self.written..]);
            self.written += n;
            moved |= n > 0;
        } else if !self.closed {
            conn.close(now);
            self.closed = true;
            moved = true;
        }
        let mut buf = vec![0u8; self.read_chunk];
        loop {
            let n = conn.recv(&mut buf);
            if n == 0 {
                break;
            }
            self.received.extend_from_slice(&buf[..n]);
            moved = true;
        }
        moved
    }
}

/// What the observer of the wire checks, per direction.
#[derive(Default)]
struct Observer {
    /// The right edge (ACK + window) each side has *received* from the
    /// other, i.e. what it may send up to.
    edge_known: [Option<TcpSeqNumber>; 2],
    resets: usize,
    data_segments: usize,
    largest_payload: usize,
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

struct Pair {
    t0: Instant,
    now: Instant,
    latency: Duration,
    client: Connection,
    listener: Listener,
    server: Option<Connection>,
    apps: [App; 2],
    wire: VecDeque<InFlight>,
    observer: Observer,
    mss_limit: usize,
    timeouts: usize,
}

/// One run's settings.
struct Setup {
    client: TcpConfig,
    server: TcpConfig,
    client_iss: u32,
    latency: Duration,
    read_chunk: usize,
}

impl Pair {
    fn new(setup: Setup) -> Pair {
        let t0 = Instant::now();
        let mss_limit = usize::from(setup.client.mss.min(setup.server.mss));
        let client = Connection::connect(
            CLIENT,
            SERVER,
            TcpSeqNumber(setup.client_iss),
            t0,
            setup.client,
        );
        let listener = Listener::new(SERVER, 4, setup.server, IsnGenerator::new([3; 16], t0));
        Pair {
            t0,
            now: t0,
            latency: setup.latency,
            client,
            listener,
            server: None,
            apps: [
                App::new(stream(1, MIB), setup.read_chunk),
                App::new(stream(2, MIB), setup.read_chunk),
            ],
            wire: VecDeque::new(),
            observer: Observer::default(),
            mss_limit,
            timeouts: 0,
        }
    }

    /// A segment `from` one side leaves: the observer looks at it, then
    /// it is emitted to bytes and queued for the other side.
    fn put_on_wire(&mut self, from: Side, segment: OutSegment) {
        let to = match from {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        if segment.flags.contains(TcpFlags::RST) {
            self.observer.resets += 1;
        }
        let len = segment.payload.len();
        assert!(
            len <= self.mss_limit,
            "{len}-byte segment, MSS {}",
            self.mss_limit
        );
        if len > 0 || segment.flags.contains(TcpFlags::FIN) {
            self.observer.data_segments += usize::from(len > 0);
            self.observer.largest_payload = self.observer.largest_payload.max(len);
            let end = segment.seq_number + segment.segment_len();
            let edge = self.observer.edge_known[index(from)]
                .expect("data before any window was announced");
            assert!(
                end <= edge,
                "{from:?} sent up to {end}, beyond the window edge {edge} it was given"
            );
        }
        self.wire.push_back(InFlight {
            arrives: self.now + self.latency,
            to,
            bytes: segment.build(),
        });
    }

    /// Delivers one segment: parsed (checksum checked), then to the
    /// connection with its four-tuple, the listener, or `reset_for`.
    fn deliver(&mut self, segment: InFlight) {
        let (src, dst) = match segment.to {
            Side::Server => (*CLIENT.ip(), *SERVER.ip()),
            Side::Client => (*SERVER.ip(), *CLIENT.ip()),
        };
        let packet = TcpPacket::new_checked(&segment.bytes[..]).expect("a whole header");
        let repr = TcpRepr::parse(&packet, src, dst).expect("a valid segment");
        if repr.flags.contains(TcpFlags::ACK) && !repr.flags.contains(TcpFlags::RST) {
            let edge = repr.ack_number + usize::from(repr.window_len);
            let known = &mut self.observer.edge_known[index(segment.to)];
            *known = Some(known.map_or(edge, |k| k.max(edge)));
        }
        let now = self.now;
        match segment.to {
            Side::Client => self.client.on_segment(now, &repr),
            Side::Server => match self.server.as_mut() {
                Some(conn) if conn.remote().port() == repr.src_port => {
                    conn.on_segment(now, &repr);
                }
                _ => {
                    if self.listener.on_segment(now, src, dst, &repr) == ListenOutcome::NotForUs {
                        let reset = reset_for(&repr, src, dst).expect("a RST to answer");
                        self.put_on_wire(Side::Server, reset);
                    }
                }
            },
        }
    }

    /// Runs until both streams arrived and both ends closed (or until
    /// `limit` of virtual time has passed: then it is stuck).
    fn run(&mut self, limit: Duration) {
        loop {
            let mut busy = false;
            while self.wire.front().is_some_and(|s| s.arrives <= self.now) {
                let segment = self.wire.pop_front().unwrap();
                self.deliver(segment);
                busy = true;
            }
            if self.server.is_none()
                && let Some(conn) = self.listener.accept()
            {
                self.server = Some(conn);
            }
            let now = self.now;
            busy |= self.apps[0].run(&mut self.client, now);
            if let Some(server) = self.server.as_mut() {
                busy |= self.apps[1].run(server, now);
            }
            while let Some(segment) = self.client.poll_transmit(now) {
                self.put_on_wire(Side::Client, segment);
                busy = true;
            }
            while let Some(segment) = self.listener.poll_transmit(now) {
                self.put_on_wire(Side::Server, segment);
                busy = true;
            }
            while let Some(segment) = self.server.as_mut().and_then(|s| s.poll_transmit(now)) {
                self.put_on_wire(Side::Server, segment);
                busy = true;
            }
            self.count_timeouts();
            if busy {
                continue;
            }
            if self.finished() {
                return;
            }
            // Nothing to do now: jump to the next event.
            let next = [
                self.wire.front().map(|s| s.arrives),
                self.client.poll_at(),
                self.listener.poll_at(),
                self.server.as_ref().and_then(Connection::poll_at),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else {
                panic!("stuck with nothing scheduled: {}", self.status());
            };
            assert!(
                next - self.t0 < limit,
                "still not done after {limit:?}: {}",
                self.status()
            );
            self.now = self.now.max(next);
        }
    }

    fn count_timeouts(&mut self) {
        let mut events = self.client.take_trace();
        if let Some(server) = self.server.as_mut() {
            events.extend(server.take_trace());
        }
        self.timeouts += events
            .iter()
            .filter(|e| matches!(e, TraceEvent::RetransmitTimeout { .. }))
            .count();
    }

    fn finished(&self) -> bool {
        let done = |conn: &Connection| matches!(conn.state(), State::Closed | State::TimeWait);
        self.wire.is_empty()
            && done(&self.client)
            && self.server.as_ref().is_some_and(done)
            && self.apps.iter().all(|app| app.closed)
    }

    fn status(&self) -> String {
        format!(
            "client {} ({} of {} received), server {:?} ({} received), {} on the wire",
            self.client.state(),
            self.apps[0].received.len(),
            MIB,
            self.server.as_ref().map(Connection::state),
            self.apps[1].received.len(),
            self.wire.len()
        )
    }

    /// The checks every run ends with.
    fn check_clean_transfer(&mut self) {
        let server = self.server.as_ref().expect("the server accepted");
        for (receiver, sender) in [(0, 1), (1, 0)] {
            let got = &self.apps[receiver].received;
            let sent = &self.apps[sender].outgoing;
            assert_eq!(got.len(), sent.len(), "bytes received by side {receiver}");
            assert_eq!(fnv1a(got), fnv1a(sent), "hash of side {receiver}'s data");
            assert!(got == sent, "side {receiver}'s bytes differ");
        }
        assert_eq!(self.observer.resets, 0, "a RST crossed the wire");
        assert_eq!(self.timeouts, 0, "a retransmission on a lossless wire");
        for conn in [&self.client, server] {
            assert_eq!(conn.error(), None);
            assert!(matches!(conn.state(), State::Closed | State::TimeWait));
        }
        // The one that closed first (or both, when the FINs crossed) is in
        // TIME-WAIT; after 2·MSL nobody is.
        assert!(
            self.client.state() == State::TimeWait || server.state() == State::TimeWait,
            "someone waits in TIME-WAIT"
        );
        let mut last = self.now;
        for conn in [&self.client, server] {
            if let Some(at) = conn.poll_at() {
                last = last.max(at);
            }
        }
        self.now = last;
        assert!(self.client.poll_transmit(last).is_none());
        let server = self.server.as_mut().unwrap();
        assert!(server.poll_transmit(last).is_none());
        assert_eq!(self.client.state(), State::Closed);
        assert_eq!(server.state(), State::Closed);
    }
}

fn config(mss: u16, recv_buffer: usize, send_buffer: usize) -> TcpConfig {
    TcpConfig {
        mss,
        recv_buffer,
        send_buffer,
        msl: Duration::from_secs(1),
        trace: true,
        ..TcpConfig::default()
    }
}

#[test]
fn one_mebibyte_each_way_with_default_windows() {
    let mut pair = Pair::new(Setup {
        client: config(1460, 65535, 64 * 1024),
        server: config(1460, 65535, 64 * 1024),
        client_iss: 1,
        latency: Duration::from_millis(5),
        read_chunk: 8192,
    });
    pair.run(Duration::from_secs(60));
    assert_eq!(pair.observer.largest_payload, 1460, "full-size segments");
    pair.check_clean_transfer();
}

#[test]
fn one_mebibyte_each_way_through_a_tiny_window_and_a_small_mss() {
    let mut pair = Pair::new(Setup {
        client: config(100, 1000, 2000),
        server: config(100, 1000, 2000),
        client_iss: 77,
        latency: Duration::from_millis(2),
        // Reading in odd sizes exercises the window updates.
        read_chunk: 333,
    });
    pair.run(Duration::from_secs(3600));
    assert_eq!(pair.observer.largest_payload, 100);
    assert!(
        pair.observer.data_segments >= 2 * MIB / 100,
        "{} data segments",
        pair.observer.data_segments
    );
    pair.check_clean_transfer();
}

#[test]
fn one_mebibyte_each_way_across_the_sequence_wrap_with_unequal_mss() {
    // The client's sequence numbers wrap early in the transfer; the
    // server's MSS (536) bounds both directions.
    let mut pair = Pair::new(Setup {
        client: config(1460, 65535, 16 * 1024),
        server: config(536, 4096, 64 * 1024),
        client_iss: u32::MAX - 10_000,
        latency: Duration::from_millis(1),
        read_chunk: 1000,
    });
    pair.run(Duration::from_secs(600));
    assert_eq!(pair.observer.largest_payload, 536);
    pair.check_clean_transfer();
}

#[test]
fn a_connect_to_a_port_nobody_listens_on_is_refused() {
    let mut pair = Pair::new(Setup {
        client: config(1460, 65535, 64 * 1024),
        server: config(1460, 65535, 64 * 1024),
        client_iss: 1,
        latency: Duration::from_millis(1),
        read_chunk: 1024,
    });
    // Aim the client at another port: the server side answers with
    // reset_for, and the client reports the refusal.
    pair.client = Connection::connect(
        CLIENT,
        SocketAddrV4::new(*SERVER.ip(), 9),
        TcpSeqNumber(1),
        pair.now,
        config(1460, 65535, 64 * 1024),
    );
    let syn = pair.client.poll_transmit(pair.now).unwrap();
    pair.put_on_wire(Side::Client, syn);
    pair.now += pair.latency;
    let segment = pair.wire.pop_front().unwrap();
    pair.deliver(segment);
    assert_eq!(pair.observer.resets, 1);
    pair.now += pair.latency;
    let segment = pair.wire.pop_front().unwrap();
    pair.deliver(segment);
    assert_eq!(pair.client.state(), State::Closed);
    assert_eq!(
        pair.client.error(),
        Some(l4_transport::tcp::ConnectionError::Refused)
    );
}
