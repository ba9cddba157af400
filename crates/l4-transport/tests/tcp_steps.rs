//! Step tests of our sans-IO TCP on a virtual clock: "the peer sends this",
//! "we send that", "advance the clock 1 s", "we send nothing". No
//! privileges, no sockets, no waiting.
//!
//! The peer's segments are built by etherparse, turned into bytes, and
//! read back by our parser, as they would be off the wire; every segment
//! we send is turned into bytes and read by etherparse, which also checks
//! its checksum. So a mistake shared by our encoder and decoder cannot
//! hide. Expected values (sequence numbers, RTO formulas, backoff times)
//! are computed here from the RFCs, not taken from the code under test.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use etherparse::{TcpHeader, TcpOptionElement};
use l4_transport::tcp::{
    Connection, ConnectionError, IsnGenerator, ListenOutcome, Listener, OutSegment, State,
    TcpConfig, TraceEvent, acceptable, reset_for,
};
use l4_transport::wire::{TcpPacket, TcpRepr, TcpSeqNumber};

const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// Our port as a client, and the server's.
const CLIENT_PORT: u16 = 40000;
const SERVER_PORT: u16 = 7;
/// Our ISS in client tests, and the peer's.
const ISS: u32 = 1000;
const PEER_ISS: u32 = 5000;
const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// Segments, as the test writes and reads them
// ---------------------------------------------------------------------------

/// A TCP segment in plain terms. Ports left at 0 are filled in by the
/// test harness (peer → us).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Seg {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    psh: bool,
    win: u16,
    mss: Option<u16>,
    data: Vec<u8>,
}

/// A segment at `seq` with a 65535 window and nothing else.
fn seg(seq: u32) -> Seg {
    Seg {
        seq,
        win: 65535,
        ..Seg::default()
    }
}

impl Seg {
    fn syn(mut self) -> Seg {
        self.syn = true;
        self
    }
    fn ack(mut self, ack: u32) -> Seg {
        self.ack = Some(ack);
        self
    }
    fn fin(mut self) -> Seg {
        self.fin = true;
        self
    }
    fn rst(mut self) -> Seg {
        self.rst = true;
        self
    }
    fn win(mut self, win: u16) -> Seg {
        self.win = win;
        self
    }
    fn mss(mut self, mss: u16) -> Seg {
        self.mss = Some(mss);
        self
    }
    fn data(mut self, data: &[u8]) -> Seg {
        self.data = data.to_vec();
        self
    }
    fn sent_from(mut self, port: u16) -> Seg {
        self.src_port = port;
        self
    }
    /// SEG.LEN (RFC 9293 §3.4): data, plus one for SYN and one for FIN.
    fn len(&self) -> u32 {
        self.data.len() as u32 + u32::from(self.syn) + u32::from(self.fin)
    }
    /// tcpdump-like flags, for readable assertions: "S", "S.", ".", "F.", "R".
    fn flags(&self) -> String {
        let mut s = String::new();
        for (on, c) in [
            (self.syn, 'S'),
            (self.fin, 'F'),
            (self.rst, 'R'),
            (self.psh, 'P'),
            (self.ack.is_some(), '.'),
        ] {
            if on {
                s.push(c);
            }
        }
        s
    }
}

/// The segment's bytes, built and checksummed by etherparse.
fn encode(seg: &Seg, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut header = TcpHeader::new(seg.src_port, seg.dst_port, seg.seq, seg.win);
    header.syn = seg.syn;
    header.fin = seg.fin;
    header.rst = seg.rst;
    header.psh = seg.psh;
    header.ack = seg.ack.is_some();
    header.acknowledgment_number = seg.ack.unwrap_or(0);
    if let Some(mss) = seg.mss {
        header
            .set_options(&[TcpOptionElement::MaximumSegmentSize(mss)])
            .unwrap();
    }
    header.checksum = header
        .calc_checksum_ipv4_raw(src.octets(), dst.octets(), &seg.data)
        .unwrap();
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(&seg.data);
    bytes
}

/// Reads our segment's bytes with etherparse, checksum included.
fn decode(bytes: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Seg {
    let (header, payload) = TcpHeader::from_slice(bytes).expect("etherparse reads our segment");
    let checksum = header
        .calc_checksum_ipv4_raw(src.octets(), dst.octets(), payload)
        .unwrap();
    assert_eq!(header.checksum, checksum, "TCP checksum (etherparse's)");
    let mss = header.options_iterator().find_map(|option| match option {
        Ok(TcpOptionElement::MaximumSegmentSize(mss)) => Some(mss),
        _ => None,
    });
    assert_eq!(header.urgent_pointer, 0);
    assert!(!header.urg, "we never send urgent data");
    Seg {
        src_port: header.source_port,
        dst_port: header.destination_port,
        seq: header.sequence_number,
        ack: header.ack.then_some(header.acknowledgment_number),
        syn: header.syn,
        fin: header.fin,
        rst: header.rst,
        psh: header.psh,
        win: header.window_size,
        mss,
        data: payload.to_vec(),
    }
}

// ---------------------------------------------------------------------------
// The harness: one of our connections (and/or a listener) and a clock
// ---------------------------------------------------------------------------

struct Test {
    t0: Instant,
    now: Instant,
    /// Our end's port, and the peer's default port.
    our_port: u16,
    peer_port: u16,
    conn: Option<Connection>,
    listener: Option<Listener>,
    /// RSTs from `reset_for` for segments nobody wanted.
    resets: VecDeque<OutSegment>,
    last_outcome: Option<ListenOutcome>,
}

/// A config whose trace is on (so tests can look at it).
fn traced() -> TcpConfig {
    TcpConfig {
        trace: true,
        ..TcpConfig::default()
    }
}

impl Test {
    /// We connect from 198.18.0.2:40000 to 198.18.0.1:7 with ISS 1000.
    fn client(config: TcpConfig) -> Test {
        Test::client_with_iss(ISS, config)
    }

    fn client_with_iss(iss: u32, config: TcpConfig) -> Test {
        let t0 = Instant::now();
        let conn = Connection::connect(
            SocketAddrV4::new(US, CLIENT_PORT),
            SocketAddrV4::new(PEER, SERVER_PORT),
            TcpSeqNumber(iss),
            t0,
            config,
        );
        assert_eq!(conn.state(), State::SynSent);
        Test {
            t0,
            now: t0,
            our_port: CLIENT_PORT,
            peer_port: SERVER_PORT,
            conn: Some(conn),
            listener: None,
            resets: VecDeque::new(),
            last_outcome: None,
        }
    }

    /// We listen on 198.18.0.2:7; peers come from 198.18.0.1:50000 by default.
    fn server(backlog: usize, config: TcpConfig) -> Test {
        let t0 = Instant::now();
        let listener = Listener::new(
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT),
            backlog,
            config,
            IsnGenerator::new([42; 16], t0),
        );
        assert_eq!(listener.state(), State::Listen);
        Test {
            t0,
            now: t0,
            our_port: SERVER_PORT,
            peer_port: 50000,
            conn: None,
            listener: Some(listener),
            resets: VecDeque::new(),
            last_outcome: None,
        }
    }

    /// Nobody listens: every segment goes to `reset_for`.
    fn nobody() -> Test {
        let t0 = Instant::now();
        Test {
            t0,
            now: t0,
            our_port: 9,
            peer_port: 50000,
            conn: None,
            listener: None,
            resets: VecDeque::new(),
            last_outcome: None,
        }
    }

    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("a connection")
    }

    fn conn_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a connection")
    }

    fn state(&self) -> State {
        self.conn().state()
    }

    fn listener(&mut self) -> &mut Listener {
        self.listener.as_mut().expect("a listener")
    }

    fn elapsed_ms(&self) -> f64 {
        (self.now - self.t0).as_secs_f64() * 1000.0
    }

    /// The peer's segment arrives: etherparse's bytes, our parser, then the
    /// connection with that four-tuple, the listener, or `reset_for`.
    fn recv(&mut self, mut seg: Seg) {
        if seg.src_port == 0 {
            seg.src_port = self.peer_port;
        }
        if seg.dst_port == 0 {
            seg.dst_port = self.our_port;
        }
        let bytes = encode(&seg, PEER, US);
        let packet = TcpPacket::new_checked(&bytes[..]).expect("a whole TCP header");
        let repr =
            TcpRepr::parse(&packet, PEER, US).expect("our parser reads etherparse's segment");
        let now = self.now;
        if let Some(conn) = self.conn.as_mut()
            && conn.local().port() == repr.dst_port
            && conn.remote().port() == repr.src_port
        {
            conn.on_segment(now, &repr);
        } else if let Some(listener) = self.listener.as_mut()
            && listener.wants(US, &repr)
        {
            self.last_outcome = Some(listener.on_segment(now, PEER, US, &repr));
        } else {
            self.resets.extend(reset_for(&repr, PEER, US));
        }
    }

    fn poll(&mut self) -> Option<OutSegment> {
        let now = self.now;
        if let Some(reset) = self.resets.pop_front() {
            return Some(reset);
        }
        if let Some(out) = self.conn.as_mut().and_then(|c| c.poll_transmit(now)) {
            return Some(out);
        }
        self.listener.as_mut().and_then(|l| l.poll_transmit(now))
    }

    /// We must send a segment now; `check` looks at it (as etherparse
    /// read it).
    #[track_caller]
    fn expect(&mut self, check: impl FnOnce(&Seg)) -> Seg {
        let Some(out) = self.poll() else {
            panic!(
                "expected a segment at {} ms, got nothing",
                self.elapsed_ms()
            );
        };
        assert_eq!(out.src.ip(), &US);
        assert_eq!(out.dst.ip(), &PEER);
        let seg = decode(&out.build(), US, PEER);
        assert_eq!(seg.src_port, self.our_port, "from our port");
        check(&seg);
        seg
    }

    /// We must send nothing now.
    #[track_caller]
    fn expect_nothing(&mut self) {
        if let Some(out) = self.poll() {
            panic!(
                "expected nothing at {} ms, got {}",
                self.elapsed_ms(),
                out.summary()
            );
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now += MS * ms as u32;
    }

    fn advance_by(&mut self, d: Duration) {
        self.now += d;
    }

    /// The listener's next ready connection becomes the one under test.
    fn accept(&mut self) {
        let conn = self.listener().accept().expect("a connection to accept");
        self.conn = Some(conn);
    }

    fn send(&mut self, data: &[u8]) -> usize {
        self.conn_mut().send(data)
    }

    fn read_all(&mut self) -> Vec<u8> {
        let mut out = vec![0u8; 1 << 20];
        let n = self.conn_mut().recv(&mut out);
        out.truncate(n);
        out
    }

    fn close(&mut self) {
        let now = self.now;
        self.conn_mut().close(now);
    }

    fn abort(&mut self) {
        let now = self.now;
        self.conn_mut().abort(now);
    }
}

/// Asserts `seg` has exactly these flags, seq and ack.
#[track_caller]
fn is(seg: &Seg, flags: &str, seq: u32, ack: Option<u32>) {
    assert_eq!(seg.flags().replace('P', ""), flags, "flags of {seg:?}");
    assert_eq!(seg.seq, seq, "seq of {seg:?}");
    assert_eq!(seg.ack, ack, "ack of {seg:?}");
}

/// The handshake as a client; afterwards our next seq is ISS+1, theirs
/// PEER_ISS+1.
fn established_client(config: TcpConfig) -> Test {
    let mut t = Test::client(config);
    t.expect(|s| is(s, "S", ISS, None));
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(1460));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.state(), State::Established);
    t
}

// ---------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------

#[test]
fn active_open_sends_syn_with_mss_and_completes_on_syn_ack() {
    let mut t = Test::client(TcpConfig::default());
    let syn = t.expect(|s| is(s, "S", ISS, None));
    assert_eq!(syn.mss, Some(1460), "our MSS on the SYN (RFC 9293 §3.7.1)");
    assert!(syn.data.is_empty());
    t.expect_nothing();
    t.advance(20);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(1000));
    assert_eq!(t.state(), State::Established);
    let ack = t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(ack.mss, None, "MSS only on SYNs");
    assert_eq!(t.conn().send_mss(), 1000, "min(ours 1460, theirs 1000)");
    t.expect_nothing();
}

#[test]
fn mss_is_536_when_the_peer_sends_none() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1));
    t.expect(|_| {});
    assert_eq!(t.conn().send_mss(), 536);
    assert_eq!(t.send(&[7; 2000]), 2000);
    let first = t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(first.data.len(), 536, "RFC 9293 §3.7.1 default");
}

#[test]
fn our_mss_bounds_what_we_send_even_if_the_peer_takes_more() {
    let mut t = Test::client(TcpConfig {
        mss: 300,
        ..TcpConfig::default()
    });
    let syn = t.expect(|_| {});
    assert_eq!(syn.mss, Some(300));
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(1460));
    t.expect(|_| {});
    t.send(&[1; 1000]);
    for _ in 0..3 {
        t.expect(|s| assert_eq!(s.data.len(), 300));
    }
    // The 100-byte tail waits for an ACK (Nagle, RFC 896).
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 901));
    t.expect(|s| assert_eq!(s.data.len(), 100));
}

#[test]
fn passive_open_through_the_listener() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn().mss(1200).win(30000));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Opened));
    let syn_ack = t.expect(|s| {
        assert_eq!(s.flags(), "S.");
        assert_eq!(s.ack, Some(PEER_ISS + 1));
        assert_eq!(s.dst_port, 50000);
        assert_eq!(s.mss, Some(1460));
    });
    t.expect_nothing();
    assert!(t.listener().accept().is_none(), "not yet established");
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1).win(30000));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Delivered));
    t.expect_nothing();
    t.accept();
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.conn().send_mss(), 1200);
    assert_eq!(t.conn().send_window(), 30000);
    assert_eq!(t.conn().remote(), SocketAddrV4::new(PEER, 50000));
    // Data both ways.
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1).data(b"hello"));
    t.expect(|s| is(s, ".", syn_ack.seq + 1, Some(PEER_ISS + 6)));
    assert_eq!(t.read_all(), b"hello");
    t.send(b"world");
    let out = t.expect(|s| is(s, ".", syn_ack.seq + 1, Some(PEER_ISS + 6)));
    assert_eq!(out.data, b"world");
    assert!(out.psh);
    assert_eq!(t.listener().queued(), 0);
}

#[test]
fn listener_isns_differ_per_peer() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn().sent_from(50001));
    let a = t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().sent_from(50002));
    let b = t.expect(|_| {});
    assert_eq!((a.dst_port, b.dst_port), (50001, 50002));
    assert_ne!(a.seq, b.seq, "RFC 6528: the four-tuple is hashed in");
}

#[test]
fn simultaneous_open_through_syn_received() {
    // RFC 9293 §3.5, Figure 7: both SYNs cross.
    let mut t = Test::client(TcpConfig::default());
    t.expect(|s| is(s, "S", ISS, None));
    t.recv(seg(PEER_ISS).syn().mss(1400));
    assert_eq!(t.state(), State::SynReceived);
    let syn_ack = t.expect(|s| is(s, "S.", ISS, Some(PEER_ISS + 1)));
    assert_eq!(syn_ack.mss, Some(1460));
    t.expect_nothing();
    // Their SYN,ACK: its SYN is the one we have; its ACK completes ours.
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(1400));
    assert_eq!(t.state(), State::Established);
    t.expect_nothing();
    assert_eq!(t.conn().send_mss(), 1400);
    t.send(b"x");
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
}

#[test]
fn simultaneous_open_completed_by_a_plain_ack() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn());
    t.expect(|s| is(s, "S.", ISS, Some(PEER_ISS + 1)));
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn syn_received_answers_a_repeated_syn_with_syn_ack_again() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn());
    let first = t.expect(|s| assert_eq!(s.flags(), "S."));
    t.advance(300);
    t.recv(seg(PEER_ISS).syn());
    assert_eq!(t.last_outcome, Some(ListenOutcome::Delivered));
    let again = t.expect(|s| assert_eq!(s.flags(), "S."));
    assert_eq!((again.seq, again.ack), (first.seq, first.ack));
    t.expect_nothing();
}

#[test]
fn syn_received_resets_an_ack_of_something_else() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn());
    let syn_ack = t.expect(|_| {});
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 77));
    // RFC 9293 §3.10.7.4 fifth: <SEQ=SEG.ACK><CTL=RST>.
    t.expect(|s| is(s, "R", syn_ack.seq + 77, None));
    assert!(t.listener().accept().is_none());
    // The half-open connection is still there and completes.
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1));
    t.accept();
    assert_eq!(t.state(), State::Established);
}

// ---------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------

#[test]
fn active_close_through_fin_wait_1_fin_wait_2_and_time_wait() {
    let msl = Duration::from_secs(5);
    let mut t = established_client(TcpConfig { msl, ..traced() });
    t.send(b"bye");
    t.close();
    assert_eq!(t.state(), State::FinWait1);
    assert!(!t.conn().may_send());
    assert_eq!(t.send(b"more"), 0, "nothing after CLOSE");
    // The FIN rides on the last data.
    let fin = t.expect(|s| is(s, "F.", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(fin.data, b"bye");
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 5));
    assert_eq!(t.state(), State::FinWait2);
    t.expect_nothing();
    // The peer still sends, then closes.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 5).data(b"ok"));
    t.expect(|s| is(s, ".", ISS + 5, Some(PEER_ISS + 3)));
    t.advance(100);
    t.recv(seg(PEER_ISS + 3).ack(ISS + 5).fin());
    assert_eq!(t.state(), State::TimeWait);
    t.expect(|s| is(s, ".", ISS + 5, Some(PEER_ISS + 4)));
    assert_eq!(t.read_all(), b"ok");
    assert!(!t.conn().may_recv(), "end of stream");
    // 2·MSL later, and not before, the connection is gone.
    let entered = t.now;
    assert_eq!(t.conn().poll_at(), Some(entered + 2 * msl));
    t.advance_by(2 * msl - MS);
    t.expect_nothing();
    assert_eq!(t.state(), State::TimeWait);
    t.advance(1);
    t.expect_nothing();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), None);
    let states: Vec<(State, State)> = t
        .conn_mut()
        .take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::StateChanged { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            (State::Closed, State::SynSent),
            (State::SynSent, State::Established),
            (State::Established, State::FinWait1),
            (State::FinWait1, State::FinWait2),
            (State::FinWait2, State::TimeWait),
            (State::TimeWait, State::Closed),
        ]
    );
}

#[test]
fn time_wait_acks_a_repeated_fin_and_restarts_its_timer() {
    let msl = Duration::from_secs(10);
    let mut t = established_client(TcpConfig {
        msl,
        ..TcpConfig::default()
    });
    t.close();
    t.expect(|s| is(s, "F.", ISS + 1, Some(PEER_ISS + 1)));
    // ACK and FIN together: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT at once.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 2).fin());
    assert_eq!(t.state(), State::TimeWait);
    t.expect(|s| is(s, ".", ISS + 2, Some(PEER_ISS + 2)));
    t.advance(15_000);
    // Our ACK was lost; the FIN comes again.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 2).fin());
    t.expect(|s| is(s, ".", ISS + 2, Some(PEER_ISS + 2)));
    // The 2·MSL count starts again from here.
    t.advance(19_999);
    t.expect_nothing();
    assert_eq!(t.state(), State::TimeWait);
    t.advance(1);
    t.expect_nothing();
    assert_eq!(t.state(), State::Closed);
    // A closed connection answers with a RST.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 2).fin());
    t.expect(|s| is(s, "R", ISS + 2, None));
}

#[test]
fn passive_close_through_close_wait_and_last_ack() {
    let mut t = established_client(TcpConfig::default());
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(b"last words").fin());
    assert_eq!(t.state(), State::CloseWait);
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 12)));
    assert!(t.conn().may_recv(), "data still to read");
    assert_eq!(t.read_all(), b"last words");
    assert!(!t.conn().may_recv(), "then end of stream");
    // We may still send in CLOSE-WAIT.
    assert!(t.conn().may_send());
    t.send(b"reply");
    t.expect(|s| {
        is(s, ".", ISS + 1, Some(PEER_ISS + 12));
        assert_eq!(s.data, b"reply");
    });
    t.close();
    assert_eq!(t.state(), State::LastAck);
    t.expect(|s| is(s, "F.", ISS + 6, Some(PEER_ISS + 12)));
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 12).ack(ISS + 6));
    assert_eq!(t.state(), State::LastAck, "data acknowledged, not the FIN");
    t.recv(seg(PEER_ISS + 12).ack(ISS + 7));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), None);
    t.expect_nothing();
}

#[test]
fn simultaneous_close_through_closing() {
    let msl = Duration::from_secs(1);
    let mut t = established_client(TcpConfig {
        msl,
        ..TcpConfig::default()
    });
    t.close();
    t.expect(|s| is(s, "F.", ISS + 1, Some(PEER_ISS + 1)));
    // Their FIN crosses ours: it does not acknowledge our FIN.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).fin());
    assert_eq!(t.state(), State::Closing);
    t.expect(|s| is(s, ".", ISS + 2, Some(PEER_ISS + 2)));
    t.recv(seg(PEER_ISS + 2).ack(ISS + 2));
    assert_eq!(t.state(), State::TimeWait);
    t.advance(2000);
    t.expect_nothing();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), None);
}

#[test]
fn close_in_syn_sent_just_ends_and_close_in_syn_received_waits_for_the_handshake() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.close();
    assert_eq!(t.state(), State::Closed);
    t.expect_nothing();

    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn());
    let syn_ack = t.expect(|_| {});
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1));
    t.accept();
    // (Closing a freshly accepted connection: FIN-WAIT-1 at once.)
    t.close();
    assert_eq!(t.state(), State::FinWait1);
    t.expect(|s| is(s, "F.", syn_ack.seq + 1, Some(PEER_ISS + 1)));
}

#[test]
fn abort_sends_rst_and_the_closed_connection_resets_what_follows() {
    let mut t = established_client(TcpConfig::default());
    t.send(b"unsent? no, sent");
    t.expect(|_| {});
    t.abort();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), Some(ConnectionError::Aborted));
    // <SEQ=SND.NXT><CTL=RST>
    t.expect(|s| is(s, "R", ISS + 17, None));
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 17).data(b"?"));
    t.expect(|s| is(s, "R", ISS + 17, None));
    // Never a RST for a RST.
    t.recv(seg(PEER_ISS + 1).rst());
    t.expect_nothing();
}

// ---------------------------------------------------------------------------
// RST in each state
// ---------------------------------------------------------------------------

/// Brings a client connection to `state`; returns the harness and
/// RCV.NXT there.
fn client_in(state: State) -> (Test, u32) {
    let mut t = established_client(TcpConfig::default());
    let rcv_nxt = match state {
        State::Established => PEER_ISS + 1,
        State::FinWait1 => {
            t.close();
            t.expect(|s| assert!(s.fin));
            PEER_ISS + 1
        }
        State::FinWait2 => {
            t.close();
            t.expect(|s| assert!(s.fin));
            t.recv(seg(PEER_ISS + 1).ack(ISS + 2));
            PEER_ISS + 1
        }
        State::CloseWait => {
            t.recv(seg(PEER_ISS + 1).ack(ISS + 1).fin());
            t.expect(|_| {});
            PEER_ISS + 2
        }
        State::Closing => {
            t.close();
            t.expect(|s| assert!(s.fin));
            t.recv(seg(PEER_ISS + 1).ack(ISS + 1).fin());
            t.expect(|_| {});
            PEER_ISS + 2
        }
        State::LastAck => {
            t.recv(seg(PEER_ISS + 1).ack(ISS + 1).fin());
            t.expect(|_| {});
            t.close();
            t.expect(|s| assert!(s.fin));
            PEER_ISS + 2
        }
        State::TimeWait => {
            t.close();
            t.expect(|s| assert!(s.fin));
            t.recv(seg(PEER_ISS + 1).ack(ISS + 2).fin());
            t.expect(|_| {});
            PEER_ISS + 2
        }
        other => panic!("not a synchronized client state: {other}"),
    };
    assert_eq!(t.state(), state);
    (t, rcv_nxt)
}

#[test]
fn rst_in_each_synchronized_state() {
    // RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2's stricter test
    // (which RFC 9293 recommends): a RST at exactly RCV.NXT ends the connection
    // ("connection reset" where the user still expected data), an
    // unacceptable one is dropped without an answer.
    let cases = [
        (State::Established, Some(ConnectionError::Reset)),
        (State::FinWait1, Some(ConnectionError::Reset)),
        (State::FinWait2, Some(ConnectionError::Reset)),
        (State::CloseWait, Some(ConnectionError::Reset)),
        (State::Closing, None),
        (State::LastAck, None),
        (State::TimeWait, None),
    ];
    for (state, error) in cases {
        // Out of the window (and behind it): ignored, not answered.
        let (mut t, rcv_nxt) = client_in(state);
        t.recv(seg(rcv_nxt + 70_000).rst());
        t.recv(seg(rcv_nxt.wrapping_sub(1)).rst());
        t.expect_nothing();
        assert_eq!(t.state(), state, "unacceptable RST in {state}");
        // In the window but not at RCV.NXT: a challenge ACK (RFC 5961
        // §3.2), and the connection lives on.
        let (mut t, rcv_nxt) = client_in(state);
        t.recv(seg(rcv_nxt + 1000).rst());
        t.expect(|s| {
            assert!(!s.rst);
            assert_eq!(s.ack, Some(rcv_nxt), "challenge ACK of RCV.NXT");
        });
        assert_eq!(t.state(), state, "in-window RST in {state}");
        // At exactly RCV.NXT: CLOSED.
        let (mut t, rcv_nxt) = client_in(state);
        t.recv(seg(rcv_nxt).rst());
        assert_eq!(t.state(), State::Closed, "acceptable RST in {state}");
        assert_eq!(t.conn().error(), error, "{state}");
        t.expect_nothing();
        assert_eq!(t.conn().poll_at(), None, "no timer left in {state}");
    }
}

#[test]
fn rst_in_syn_sent_counts_only_if_it_acks_our_syn() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    // No ACK: anyone could have sent it.
    t.recv(seg(0).rst());
    assert_eq!(t.state(), State::SynSent);
    // An ACK of something else: dropped (and a RST is never answered).
    t.recv(seg(0).rst().ack(ISS + 5));
    t.recv(seg(0).rst().ack(ISS));
    t.expect_nothing();
    assert_eq!(t.state(), State::SynSent);
    // The real thing: the port is closed.
    t.recv(seg(0).rst().ack(ISS + 1));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), Some(ConnectionError::Refused));
    assert_eq!(t.conn().error().unwrap().to_string(), "connection refused");
    t.expect_nothing();
}

#[test]
fn syn_sent_answers_a_bad_ack_with_rst() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 9));
    // <SEQ=SEG.ACK><CTL=RST>, and still waiting.
    t.expect(|s| is(s, "R", ISS + 9, None));
    assert_eq!(t.state(), State::SynSent);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn rst_in_syn_received_after_a_passive_open_frees_the_backlog_slot() {
    let mut t = Test::server(1, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn());
    t.expect(|_| {});
    assert_eq!(t.listener().queued(), 1);
    // Out of window: ignored.
    t.recv(seg(PEER_ISS + 100_000).rst());
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 1);
    t.recv(seg(PEER_ISS + 1).rst());
    assert_eq!(t.last_outcome, Some(ListenOutcome::Delivered));
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 0, "back to LISTEN");
    assert!(t.listener().accept().is_none());
    assert_eq!(t.listener().state(), State::Listen);
    // The slot is free again.
    t.recv(seg(PEER_ISS + 9).syn().sent_from(50001));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Opened));
}

#[test]
fn rst_in_syn_received_after_a_simultaneous_open_is_a_refusal() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS + 1).rst());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), Some(ConnectionError::Refused));
}

#[test]
fn unacceptable_segments_are_answered_with_an_ack() {
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(b"abc"));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 4)));
    // An old duplicate: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, data dropped.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(b"abc"));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 4)));
    // Far beyond the window.
    t.recv(seg(PEER_ISS + 200_000).ack(ISS + 1).data(b"zzz"));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 4)));
    assert_eq!(t.read_all(), b"abc");
    // A segment straddling RCV.NXT: only the new part is taken.
    t.recv(seg(PEER_ISS + 2).ack(ISS + 1).data(b"bcdef"));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 7)));
    assert_eq!(t.read_all(), b"def");
}

#[test]
fn an_in_window_syn_gets_a_challenge_ack_not_a_reset() {
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 10).syn());
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn an_ack_of_data_never_sent_is_answered_and_dropped() {
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 1).ack(ISS + 50).data(b"x"));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.read_all(), b"", "the segment was dropped");
}

#[test]
fn segments_without_ack_are_dropped_in_synchronized_states() {
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 1).data(b"no ack bit"));
    t.expect_nothing();
    assert_eq!(t.read_all(), b"");
}

#[test]
fn urgent_data_is_ordinary_data() {
    let (mut t, _) = client_in(State::Established);
    let mut header = TcpHeader::new(SERVER_PORT, CLIENT_PORT, PEER_ISS + 1, 65535);
    header.ack = true;
    header.acknowledgment_number = ISS + 1;
    header.urg = true;
    header.urgent_pointer = 60_000; // far beyond the data: must not matter
    header.checksum = header
        .calc_checksum_ipv4_raw(PEER.octets(), US.octets(), b"urgent")
        .unwrap();
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(b"urgent");
    let repr = TcpRepr::parse(&TcpPacket::new_checked(&bytes[..]).unwrap(), PEER, US).unwrap();
    let now = t.now;
    t.conn_mut().on_segment(now, &repr);
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 7)));
    assert_eq!(t.read_all(), b"urgent");
}

// ---------------------------------------------------------------------------
// Segments to nobody; the listener's own answers; the backlog
// ---------------------------------------------------------------------------

#[test]
fn reset_for_a_segment_to_a_closed_port() {
    let mut t = Test::nobody();
    // A SYN (no ACK): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    t.recv(seg(PEER_ISS).syn());
    t.expect(|s| {
        is(s, "R.", 0, Some(PEER_ISS + 1));
        assert_eq!(s.dst_port, 50000);
        assert_eq!(s.win, 0);
    });
    // Data and FIN without ACK: the ACK covers all of it.
    t.recv(seg(PEER_ISS).data(b"12345").fin());
    t.expect(|s| is(s, "R.", 0, Some(PEER_ISS + 6)));
    // With an ACK: <SEQ=SEG.ACK><CTL=RST>.
    t.recv(seg(PEER_ISS).ack(777).data(b"x"));
    t.expect(|s| is(s, "R", 777, None));
    // A RST is never answered.
    t.recv(seg(PEER_ISS).rst());
    t.recv(seg(PEER_ISS).rst().ack(5));
    t.expect_nothing();
    // Across the wrap.
    t.recv(seg(u32::MAX).syn().data(b"ab"));
    t.expect(|s| is(s, "R.", 0, Some(2)));
}

#[test]
fn listen_answers_an_ack_with_rst_and_ignores_rst() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).ack(4242));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Reset));
    t.expect(|s| is(s, "R", 4242, None));
    t.recv(seg(PEER_ISS).rst());
    assert_eq!(t.last_outcome, Some(ListenOutcome::Ignored));
    t.recv(seg(PEER_ISS).data(b"no flags"));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Ignored));
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 0);
}

#[test]
fn syns_beyond_the_backlog_get_no_syn_ack() {
    let mut t = Test::server(2, TcpConfig::default());
    let mut syn_acks = vec![];
    for port in [50001, 50002] {
        t.recv(seg(PEER_ISS).syn().sent_from(port));
        assert_eq!(t.last_outcome, Some(ListenOutcome::Opened));
        syn_acks.push(t.expect(|s| assert_eq!(s.flags(), "S.")));
    }
    // Half-open connections fill the backlog: the third SYN is dropped.
    t.recv(seg(PEER_ISS).syn().sent_from(50003));
    assert_eq!(t.last_outcome, Some(ListenOutcome::BacklogFull));
    t.expect_nothing();
    // Established but not accepted still counts.
    for (port, syn_ack) in [50001, 50002].into_iter().zip(&syn_acks) {
        t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1).sent_from(port));
    }
    t.expect_nothing();
    t.recv(seg(PEER_ISS).syn().sent_from(50003));
    assert_eq!(t.last_outcome, Some(ListenOutcome::BacklogFull));
    t.expect_nothing();
    // Accepting one makes room; the next SYN is answered.
    t.accept();
    assert_eq!(t.conn().remote().port(), 50001, "oldest first");
    t.recv(seg(PEER_ISS).syn().sent_from(50003));
    assert_eq!(t.last_outcome, Some(ListenOutcome::Opened));
    t.expect(|s| {
        assert_eq!(s.flags(), "S.");
        assert_eq!(s.dst_port, 50003);
    });
    // Several connections at once: the second is ready too.
    let second = t.listener().accept().expect("50002 is established");
    assert_eq!(second.remote().port(), 50002);
    assert_eq!(second.state(), State::Established);
}

#[test]
fn a_half_open_connection_that_times_out_leaves_the_backlog() {
    let config = TcpConfig {
        max_retries: 2,
        ..TcpConfig::default()
    };
    let mut t = Test::server(1, config);
    t.recv(seg(PEER_ISS).syn());
    t.expect(|s| assert_eq!(s.flags(), "S."));
    // SYN,ACK again at 1 s and 3 s (RFC 6298 backoff), then give up at 7 s.
    t.advance(1000);
    t.expect(|s| assert_eq!(s.flags(), "S."));
    t.advance(2000);
    t.expect(|s| assert_eq!(s.flags(), "S."));
    t.advance(3999);
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 1);
    t.advance(1);
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 0);
}

#[test]
fn closing_the_listener_resets_connections_not_yet_accepted() {
    let mut t = Test::server(4, TcpConfig::default());
    t.recv(seg(PEER_ISS).syn());
    let syn_ack = t.expect(|_| {});
    t.recv(seg(PEER_ISS + 1).ack(syn_ack.seq + 1));
    let now = t.now;
    t.listener().close(now);
    assert_eq!(t.listener().state(), State::Closed);
    t.expect(|s| is(s, "R", syn_ack.seq + 1, None));
    t.expect_nothing();
    assert_eq!(t.listener().queued(), 0);
    // Nobody listens any more.
    t.recv(seg(PEER_ISS + 50).syn().sent_from(50009));
    t.expect(|s| is(s, "R.", 0, Some(PEER_ISS + 51)));
}

// ---------------------------------------------------------------------------
// Sequence numbers across 2^32
// ---------------------------------------------------------------------------

#[test]
fn acceptability_table_across_the_wrap() {
    let nxt = TcpSeqNumber(u32::MAX - 9);
    // Zero-length segments.
    assert!(acceptable(nxt, 0, nxt, 0));
    assert!(!acceptable(nxt + 1, 0, nxt, 0));
    assert!(acceptable(nxt + 19, 0, nxt, 20), "window straddles 0");
    assert!(!acceptable(nxt + 20, 0, nxt, 20));
    assert!(!acceptable(nxt - 1, 0, nxt, 20));
    // With data.
    assert!(!acceptable(nxt, 5, nxt, 0), "zero window takes no data");
    assert!(acceptable(nxt - 3, 5, nxt, 20), "tail in the window");
    assert!(!acceptable(nxt - 5, 5, nxt, 20), "wholly old");
    assert!(acceptable(nxt + 19, 5, nxt, 20), "head in the window");
    assert!(!acceptable(nxt + 20, 5, nxt, 20), "wholly beyond");
    assert!(acceptable(TcpSeqNumber(3), 100, nxt, 20), "past the wrap");
}

#[test]
fn data_flows_across_the_wrap_of_2_pow_32() {
    let iss = u32::MAX - 3;
    let peer_iss = u32::MAX - 1;
    let mut t = Test::client_with_iss(iss, TcpConfig::default());
    t.expect(|s| is(s, "S", iss, None));
    t.recv(seg(peer_iss).syn().ack(iss.wrapping_add(1)).mss(100));
    t.expect(|s| is(s, ".", u32::MAX - 2, Some(u32::MAX)));
    // 250 bytes out, in segments of 100 crossing 2^32.
    let out: Vec<u8> = (0..250u32).map(|i| (i * 7) as u8).collect();
    t.send(&out);
    let a = t.expect(|s| is(s, ".", u32::MAX - 2, Some(u32::MAX)));
    let b = t.expect(|s| is(s, ".", 97, Some(u32::MAX)));
    // The 50-byte tail waits for an ACK (Nagle, RFC 896).
    t.expect_nothing();
    t.recv(seg(u32::MAX).ack(97));
    assert_eq!(t.conn().bytes_in_flight(), 100);
    t.expect_nothing();
    t.recv(seg(u32::MAX).ack(197));
    assert_eq!(t.conn().bytes_in_flight(), 0);
    let c = t.expect(|s| is(s, ".", 197, Some(u32::MAX)));
    assert_eq!([a.data, b.data, c.data].concat(), out);
    assert_eq!(t.conn().bytes_in_flight(), 50);
    t.recv(seg(u32::MAX).ack(247));
    assert_eq!(t.conn().bytes_in_flight(), 0);
    assert_eq!(t.conn().poll_at(), None, "all acknowledged: timer stopped");
    // 300 bytes in, across the wrap too: 4294967295, then 0, 1, …
    let incoming: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
    t.recv(seg(u32::MAX).ack(247).data(&incoming[..150]));
    t.expect(|s| is(s, ".", 247, Some(149)));
    t.recv(seg(149).ack(247).data(&incoming[150..]));
    t.expect(|s| is(s, ".", 247, Some(299)));
    // An old duplicate from before the wrap is recognized as old.
    t.recv(seg(u32::MAX).ack(247).data(&incoming[..10]));
    t.expect(|s| is(s, ".", 247, Some(299)));
    assert_eq!(t.read_all(), incoming);
    // And the close, across nothing in particular.
    t.close();
    t.expect(|s| is(s, "F.", 247, Some(299)));
    t.recv(seg(299).ack(248).fin());
    assert_eq!(t.state(), State::TimeWait);
    t.expect(|s| is(s, ".", 248, Some(300)));
}

// ---------------------------------------------------------------------------
// The retransmission timer (RFC 6298)
// ---------------------------------------------------------------------------

/// The expiry times RFC 6298 §5.5 predicts: the timer doubles from
/// `first` each time (ceiling 60 s, RFC 6298 §2.5).
fn backoff_schedule(first: Duration, count: usize) -> Vec<Duration> {
    let mut rto = first;
    let mut waits = vec![];
    for _ in 0..count {
        waits.push(rto);
        rto = (rto * 2).min(Duration::from_secs(60));
    }
    waits
}

#[test]
fn data_is_retransmitted_at_1_2_4_8_s_then_the_connection_times_out() {
    let config = TcpConfig {
        max_retries: 4,
        ..traced()
    };
    let mut t = established_client(config);
    t.send(b"anyone there?");
    let original = t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    for (i, wait) in backoff_schedule(SECOND, 5).into_iter().enumerate() {
        t.advance_by(wait - MS);
        t.expect_nothing();
        t.advance(1);
        if i < 4 {
            let again = t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
            assert_eq!(again.data, original.data, "retransmission {}", i + 1);
            t.expect_nothing();
        } else {
            // 1 + 2 + 4 + 8 + 16 s after the first send: give up.
            t.expect_nothing();
            assert_eq!(t.state(), State::Closed);
            assert_eq!(t.conn().error(), Some(ConnectionError::TimedOut));
            assert_eq!(
                t.conn().error().unwrap().to_string(),
                "connection timed out"
            );
        }
    }
    assert_eq!(t.now - t.t0, Duration::from_secs(31));
    // The trace shows each timeout and the RTO it left.
    let rtos: Vec<(u32, u64)> = t
        .conn_mut()
        .take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::RetransmitTimeout { expiries, rto, .. } => Some((expiries, rto.as_secs())),
            _ => None,
        })
        .collect();
    assert_eq!(rtos, [(1, 2), (2, 4), (3, 8), (4, 16)]);
}

#[test]
fn an_unanswered_syn_is_retransmitted_with_backoff_then_times_out() {
    let config = TcpConfig {
        max_retries: 3,
        ..TcpConfig::default()
    };
    let mut t = Test::client(config);
    t.expect(|s| is(s, "S", ISS, None));
    for wait in backoff_schedule(SECOND, 3) {
        t.advance_by(wait - MS);
        t.expect_nothing();
        t.advance(1);
        let syn = t.expect(|s| is(s, "S", ISS, None));
        assert_eq!(syn.mss, Some(1460));
    }
    t.advance(7999);
    t.expect_nothing();
    assert_eq!(t.state(), State::SynSent);
    t.advance(1);
    t.expect_nothing();
    assert_eq!(t.conn().error(), Some(ConnectionError::TimedOut));
}

#[test]
fn the_rto_ceiling_caps_the_backoff() {
    let config = TcpConfig {
        max_rto: Duration::from_secs(3),
        max_retries: 5,
        ..TcpConfig::default()
    };
    let mut t = established_client(config);
    t.send(b"x");
    t.expect(|_| {});
    // 1 s, then 2 s, then 3 s, 3 s (capped) …
    for wait_ms in [1000, 2000, 3000, 3000] {
        t.advance(wait_ms - 1);
        t.expect_nothing();
        t.advance(1);
        t.expect(|s| assert_eq!(s.data, b"x"));
    }
}

#[test]
fn an_ack_during_backoff_restarts_the_timer_and_sending_resumes() {
    let mut t = established_client(TcpConfig {
        mss: 100,
        ..TcpConfig::default()
    });
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).mss(100));
    t.send(&[5; 300]);
    for seq in [ISS + 1, ISS + 101, ISS + 201] {
        t.expect(|s| is(s, ".", seq, Some(PEER_ISS + 1)));
    }
    t.advance(1000);
    // Only the oldest segment goes again (RFC 6298 §5.4).
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    t.expect_nothing();
    // The peer had the first 200 bytes: the rest follows.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 201));
    t.expect(|s| is(s, ".", ISS + 201, Some(PEER_ISS + 1)));
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 301));
    assert_eq!(t.conn().poll_at(), None);
}

#[test]
fn karns_rule_no_rtt_sample_from_a_retransmitted_segment() {
    let mut t = Test::client(traced());
    t.expect(|_| {});
    t.advance(100);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1));
    t.expect(|_| {});
    // The handshake gave the first sample: SRTT 100 ms, RTTVAR 50 ms.
    let rtt = t.conn().rtt();
    assert_eq!(rtt.srtt, Some(100 * MS));
    assert_eq!(rtt.rttvar, 50 * MS);
    assert_eq!(rtt.rto, SECOND, "300 ms, raised to the 1 s floor");

    t.send(b"first");
    t.expect(|_| {});
    t.advance(1000);
    t.expect(|s| assert_eq!(s.data, b"first"));
    t.advance(300);
    // Was this ACK for the first copy (1.3 s) or the second (300 ms)?
    // Nobody can tell: no sample.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 6));
    let rtt = t.conn().rtt();
    assert_eq!(rtt.srtt, Some(100 * MS));
    assert_eq!(rtt.rttvar, 50 * MS);
    assert_eq!(rtt.rto, 2 * SECOND, "the backed-off RTO stays");
    // … and it times the next segment too, until a valid sample.
    t.send(b"second");
    t.expect(|_| {});
    t.advance(1999);
    t.expect_nothing();
    t.advance(1);
    t.expect(|s| assert_eq!(s.data, b"second"));
    t.advance(50);
    t.recv(seg(PEER_ISS + 1).ack(ISS + 12));
    assert_eq!(t.conn().rtt().srtt, Some(100 * MS), "still no sample");
    // A segment sent once, acknowledged after 200 ms: a sample at last.
    t.send(b"third");
    t.expect(|_| {});
    t.advance(200);
    t.recv(seg(PEER_ISS + 1).ack(ISS + 17));
    let rtt = t.conn().rtt();
    // RFC 6298 §2.3 by hand: RTTVAR = 3/4·50 + 1/4·|100−200| = 62.5 ms,
    // SRTT = 7/8·100 + 1/8·200 = 112.5 ms.
    assert_eq!(rtt.rttvar, Duration::from_micros(62_500));
    assert_eq!(rtt.srtt, Some(Duration::from_micros(112_500)));
    assert_eq!(rtt.rto, SECOND);
    let samples: Vec<Duration> = t
        .conn_mut()
        .take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::RttSample { rtt, .. } => Some(rtt),
            _ => None,
        })
        .collect();
    assert_eq!(samples, [100 * MS, 200 * MS]);
}

#[test]
fn a_retransmitted_syn_gives_no_sample_and_an_rto_of_3_s() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.advance(1000);
    t.expect(|s| is(s, "S", ISS, None));
    t.advance(100);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1));
    t.expect(|_| {});
    assert_eq!(t.conn().rtt().srtt, None, "Karn");
    // RFC 6298 §5.7: data transmission starts with RTO = 3 s.
    assert_eq!(t.conn().rtt().rto, 3 * SECOND);
    t.send(b"x");
    t.expect(|_| {});
    t.advance(2999);
    t.expect_nothing();
    t.advance(1);
    t.expect(|s| assert_eq!(s.data, b"x"));
}

#[test]
fn rto_follows_rfc_6298_from_measured_rtts() {
    // A low floor so the formula shows.
    let config = TcpConfig {
        min_rto: MS,
        ..TcpConfig::default()
    };
    let mut t = Test::client(config);
    t.expect(|_| {});
    let rtts_ms = [300.0, 500.0, 200.0, 250.0, 240.0];
    t.advance(300);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1));
    t.expect(|_| {});
    // RFC 6298 §2, in floating point, here in the test.
    let (alpha, beta, k) = (1.0 / 8.0, 1.0 / 4.0, 4.0);
    let mut srtt: f64 = rtts_ms[0];
    let mut rttvar: f64 = rtts_ms[0] / 2.0;
    let mut seq = ISS + 1;
    for &r in &rtts_ms[1..] {
        t.send(b"ping");
        t.expect(|s| assert_eq!(s.seq, seq));
        seq += 4;
        t.advance_by(Duration::from_secs_f64(r / 1000.0));
        t.recv(seg(PEER_ISS + 1).ack(seq));
        rttvar = (1.0 - beta) * rttvar + beta * (srtt - r).abs();
        srtt = (1.0 - alpha) * srtt + alpha * r;
    }
    let rto = srtt + f64::max(1.0, k * rttvar);
    let got = t.conn().rtt();
    let close = |a: Duration, b_ms: f64| (a.as_secs_f64() * 1000.0 - b_ms).abs() < 0.001;
    assert!(
        close(got.srtt.unwrap(), srtt),
        "SRTT {:?} vs {srtt} ms",
        got.srtt
    );
    assert!(
        close(got.rttvar, rttvar),
        "RTTVAR {:?} vs {rttvar} ms",
        got.rttvar
    );
    assert!(close(got.rto, rto), "RTO {:?} vs {rto} ms", got.rto);
    // And the timer runs for exactly that long.
    t.send(b"lost");
    t.expect(|_| {});
    t.advance_by(Duration::from_secs_f64(rto / 1000.0 - 0.000_01));
    t.expect_nothing();
    t.advance_by(Duration::from_micros(20));
    t.expect(|s| assert_eq!(s.data, b"lost"));
}

// ---------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------

/// Asserts every data segment ends within the window the peer offered.
#[track_caller]
fn within(seg: &Seg, window_edge: u32) {
    let end = seg.seq.wrapping_add(seg.len());
    assert!(
        end.wrapping_sub(window_edge) as i32 <= 0,
        "segment ends at {end}, beyond the peer's window edge {window_edge}"
    );
}

#[test]
fn the_peers_window_is_never_exceeded_and_a_zero_window_waits() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(500).win(1000));
    t.expect(|_| {});
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(t.send(&data), 5000);
    let mut got = vec![];
    let mut edge = ISS + 1 + 1000;
    for _ in 0..2 {
        got.push(t.expect(|s| within(s, edge)));
    }
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 501).win(1000));
    edge = ISS + 501 + 1000;
    got.push(t.expect(|s| within(s, edge)));
    t.expect_nothing();
    // A zero window: no data may be sent, however long we wait; only
    // window probes (see zero_window_is_probed_with_backoff_until_it_opens).
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1501).win(0));
    t.expect_nothing();
    t.advance(30_000);
    t.expect(|s| {
        assert!(s.data.is_empty(), "a probe, not data");
        assert_eq!(s.seq, ISS + 1500, "SND.UNA - 1");
    });
    t.expect_nothing();
    // The window opens to 3000; after 30 s idle cwnd is back to the
    // restart window (RFC 5681 §4.1): 4 segments of 500 (§3.1's initial
    // window for an MSS under 1095), the rest after their ACK.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1501).win(3000));
    edge = ISS + 1501 + 3000;
    for _ in 0..4 {
        got.push(t.expect(|s| {
            within(s, edge);
            assert_eq!(s.data.len(), 500);
        }));
    }
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 2501).win(2000));
    for _ in 0..2 {
        got.push(t.expect(|s| {
            within(s, edge);
            assert_eq!(s.data.len(), 500);
        }));
    }
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 4501).win(3000));
    got.push(t.expect(|s| assert!(s.psh, "the last byte written")));
    t.expect_nothing();
    let sent: Vec<u8> = got.into_iter().flat_map(|s| s.data).collect();
    assert_eq!(sent, data);
}

#[test]
fn the_sender_avoids_silly_windows() {
    // RFC 9293 §3.8.6.2.1: no runt segment into a sliver of window.
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(500).win(1000));
    t.expect(|_| {});
    t.send(&[9; 3000]);
    t.expect(|s| assert_eq!(s.data.len(), 500));
    t.expect(|s| assert_eq!(s.data.len(), 500));
    // 300 bytes acknowledged and the window slides by 300: sending 300
    // would be a runt (less than the MSS and than half the biggest
    // window, with more data waiting). Wait.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 301).win(1000));
    t.expect_nothing();
    // Another 200: a full segment fits.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 501).win(1000));
    t.expect(|s| {
        is(s, ".", ISS + 1001, Some(PEER_ISS + 1));
        assert_eq!(s.data.len(), 500);
    });
    // The last bytes written go even as a runt: that is all there is.
    let mut t = established_client(TcpConfig::default());
    t.send(b"tiny");
    t.expect(|s| assert_eq!(s.data, b"tiny"));
}

#[test]
fn a_retransmission_goes_even_into_a_shrunken_window() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(500).win(1000));
    t.expect(|_| {});
    t.send(&[4; 1000]);
    t.expect(|s| assert_eq!(s.data.len(), 500));
    t.expect(|s| assert_eq!(s.data.len(), 500));
    // The peer shrinks its window to 300 (RFC 9293 discourages it, a
    // sender must cope) and the data is lost.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).win(300));
    t.advance(1000);
    // The oldest data goes again, as much as the window takes, even though
    // a 300-byte segment would be "silly" for new data.
    t.expect(|s| {
        is(s, ".", ISS + 1, Some(PEER_ISS + 1));
        assert_eq!(s.data.len(), 300);
    });
    t.expect_nothing();
}

#[test]
fn the_fin_waits_for_room_in_the_window() {
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).win(5));
    t.expect(|_| {});
    t.send(b"fives");
    t.close();
    // The data fills the window; the FIN's sequence number does not fit.
    t.expect(|s| {
        is(s, ".", ISS + 1, Some(PEER_ISS + 1));
        assert_eq!(s.data, b"fives");
    });
    t.expect_nothing();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 6).win(5));
    t.expect(|s| is(s, "F.", ISS + 6, Some(PEER_ISS + 1)));
}

#[test]
fn an_older_segment_cannot_undo_a_newer_window() {
    // RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 guard the window update.
    let mut t = Test::client(TcpConfig::default());
    t.expect(|_| {});
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(100).win(1000));
    t.expect(|_| {});
    // The peer's segments arrive out of order: the later one (higher
    // SEG.SEQ, in the window but beyond RCV.NXT) closes the window …
    t.recv(seg(PEER_ISS + 11).ack(ISS + 1).data(b"later").win(0));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.conn().send_window(), 0);
    // … and the earlier one, sent when the window was still open, must
    // not reopen it (SND.WL1 > SEG.SEQ). It fills the gap before the
    // held "later": both are acknowledged.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(b"earlier...").win(5000));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 16)));
    assert_eq!(t.conn().send_window(), 0);
    t.send(b"held back");
    t.expect_nothing();
    // A newer segment does update it (SEG.SEQ beyond WL1).
    t.recv(seg(PEER_ISS + 16).ack(ISS + 1).win(700));
    assert_eq!(t.conn().send_window(), 700);
    t.expect(|s| assert_eq!(s.data, b"held back"));
}

#[test]
fn our_receive_window_is_our_free_buffer_and_never_shrinks() {
    let config = TcpConfig {
        recv_buffer: 1000,
        ..TcpConfig::default()
    };
    let mut t = Test::client(config);
    let syn = t.expect(|_| {});
    assert_eq!(syn.win, 1000);
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(1460));
    let mut edges = vec![];
    let mut note = |s: &Seg| edges.push(s.ack.unwrap() + u32::from(s.win));
    note(&t.expect(|s| assert_eq!(s.win, 1000)));
    let incoming: Vec<u8> = (0..1100u32).map(|i| (i % 199) as u8).collect();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(&incoming[..600]));
    note(&t.expect(|s| {
        assert_eq!(s.ack, Some(PEER_ISS + 601));
        assert_eq!(s.win, 400);
    }));
    // 500 more than the 400 offered: 400 taken, the rest trimmed.
    t.recv(seg(PEER_ISS + 601).ack(ISS + 1).data(&incoming[600..]));
    note(&t.expect(|s| {
        assert_eq!(s.ack, Some(PEER_ISS + 1001));
        assert_eq!(s.win, 0);
    }));
    // A probe into the closed window is answered, not taken.
    t.recv(
        seg(PEER_ISS + 1001)
            .ack(ISS + 1)
            .data(&incoming[1000..1001]),
    );
    note(&t.expect(|s| {
        assert_eq!(s.ack, Some(PEER_ISS + 1001));
        assert_eq!(s.win, 0);
    }));
    // Reading 100 bytes frees too little to announce (silly window
    // avoidance: at least min(½·1000, MSS) = 500).
    let mut buf = [0u8; 100];
    assert_eq!(t.conn_mut().recv(&mut buf), 100);
    t.expect_nothing();
    // Nor does an ACK for another reason carry the 100-byte window.
    t.recv(
        seg(PEER_ISS + 1001)
            .ack(ISS + 1)
            .data(&incoming[1000..1001]),
    );
    note(&t.expect(|s| {
        assert_eq!(s.ack, Some(PEER_ISS + 1001));
        assert_eq!(s.win, 0, "no silly window");
    }));
    // Reading 400 more frees 500: the window update goes out.
    let mut buf2 = [0u8; 400];
    assert_eq!(t.conn_mut().recv(&mut buf2), 400);
    note(&t.expect(|s| {
        assert_eq!(s.ack, Some(PEER_ISS + 1001));
        assert_eq!(s.win, 500);
    }));
    assert!(
        edges
            .windows(2)
            .all(|w| w[1].wrapping_sub(w[0]) as i32 >= 0),
        "{edges:?}"
    );
    let mut rest = t.read_all();
    let mut all = buf.to_vec();
    all.extend_from_slice(&buf2);
    all.append(&mut rest);
    assert_eq!(all, incoming[..1000]);
}

#[test]
fn out_of_order_segments_are_held_and_reassembled() {
    // RFC 5681 §4.2: an out-of-order segment is acknowledged at once (a
    // duplicate ACK of RCV.NXT), and held until the gap fills.
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 201).ack(ISS + 1).data(&[3; 100]));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    t.recv(seg(PEER_ISS + 101).ack(ISS + 1).data(&[2; 100]));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.conn().recv_queue(), 0, "nothing readable before the gap");
    assert_eq!(t.conn().reassembly_queue(), 200);
    // A duplicate of held data changes nothing.
    t.recv(seg(PEER_ISS + 151).ack(ISS + 1).data(&[2; 50]));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.conn().reassembly_queue(), 200);
    // The gap fills: everything is acknowledged at once.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(&[1; 100]));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 301)));
    assert_eq!(t.conn().reassembly_queue(), 0);
    let got = t.read_all();
    assert_eq!(got, [[1u8; 100], [2u8; 100], [3u8; 100]].concat());
}

#[test]
fn a_fin_held_out_of_order_is_taken_when_the_gap_fills() {
    let (mut t, _) = client_in(State::Established);
    t.recv(seg(PEER_ISS + 11).ack(ISS + 1).data(b"tail").fin());
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.state(), State::Established);
    t.recv(seg(PEER_ISS + 1).ack(ISS + 1).data(b"0123456789"));
    // 10 + 4 bytes and the FIN.
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 16)));
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(t.read_all(), b"0123456789tail");
}

#[test]
fn the_trace_records_segments_both_ways() {
    let mut t = established_client(traced());
    let lines: Vec<String> = t
        .conn_mut()
        .take_trace()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "state CLOSED → SYN-SENT",
            "out [S] seq 1000 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 0> len 0",
            "in  [S.] seq 5000 ack 1001 win 65535 <mss 1460> len 0",
            "rtt 0ns: srtt 0ns rttvar 0ns rto 1s",
            "state SYN-SENT → ESTABLISHED",
            "cwnd 4380 ssthresh ∞ (initial window)",
            "window advertised 5001+65535",
            "out [.] seq 1001 ack 5001 win 65535 len 0",
        ]
    );
    assert!(t.conn_mut().take_trace().is_empty(), "drained");
    // Off by default: nothing recorded.
    let mut quiet = established_client(TcpConfig::default());
    assert!(quiet.conn_mut().take_trace().is_empty());
}

// ---------------------------------------------------------------------------
// Congestion control (RFC 5681, RFC 6582)
// ---------------------------------------------------------------------------

/// SMSS in the congestion tests: the peer's MSS option.
const SMSS: u32 = 1000;

/// Established as a client with a big send buffer; the peer's MSS is
/// `SMSS` and its window 65535.
fn established_for_congestion() -> Test {
    let mut t = Test::client(TcpConfig {
        send_buffer: 1 << 20,
        trace: true,
        ..TcpConfig::default()
    });
    t.expect(|s| is(s, "S", ISS, None));
    t.recv(seg(PEER_ISS).syn().ack(ISS + 1).mss(SMSS as u16));
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    t
}

/// Every segment we send now.
fn drain(t: &mut Test) -> Vec<Seg> {
    let mut out = vec![];
    let now = t.now;
    while let Some(segment) = t.conn_mut().poll_transmit(now) {
        out.push(decode(&segment.build(), US, PEER));
    }
    out
}

/// The peer acknowledges each of `segments` in turn.
fn ack_each(t: &mut Test, segments: &[Seg]) {
    for s in segments {
        t.recv(seg(PEER_ISS + 1).ack(s.seq + s.len()));
    }
}

#[test]
fn cwnd_grows_exponentially_then_linearly_and_halves_on_three_duplicate_acks() {
    let mut t = established_for_congestion();
    t.send(&vec![7u8; 400_000]);
    // RFC 5681 §3.1: IW = 4·SMSS for SMSS ≤ 1095 bytes.
    let mut cwnd = 4 * SMSS;
    assert_eq!(t.conn().cwnd(), cwnd as usize);
    // Slow start: each ACK of a full segment adds SMSS, so each round trip
    // sends twice as many segments as the last.
    let mut round = drain(&mut t);
    for expected in [4, 8, 16] {
        assert_eq!(round.len(), expected, "slow start round");
        assert!(round.iter().all(|s| s.data.len() == SMSS as usize));
        ack_each(&mut t, &round);
        cwnd += expected as u32 * SMSS;
        assert_eq!(t.conn().cwnd(), cwnd as usize);
        round = drain(&mut t);
    }
    // 32 segments out (cwnd 32000). The first is lost; the next three
    // arrive and each brings a duplicate ACK.
    assert_eq!(round.len(), 32);
    let lost = round[0].seq;
    let flight = 32 * SMSS;
    let highest = round.last().map(|s| s.seq + s.len()).unwrap();
    for dup in 1..=3 {
        t.recv(seg(PEER_ISS + 1).ack(lost));
        let sent = drain(&mut t);
        if dup < 3 {
            assert!(sent.is_empty(), "no retransmission on duplicate {dup}");
        } else {
            // Exactly one fast retransmit: the lost segment, at once.
            assert_eq!(sent.len(), 1, "{sent:?}");
            assert_eq!(sent[0].seq, lost);
            assert_eq!(sent[0].data.len(), SMSS as usize);
        }
    }
    // ssthresh = flight / 2; cwnd = ssthresh + 3·SMSS (RFC 5681 §3.2).
    let ssthresh = flight / 2;
    assert_eq!(t.conn().ssthresh(), ssthresh as usize);
    assert_eq!(t.conn().cwnd(), (ssthresh + 3 * SMSS) as usize);
    assert!(t.conn().in_fast_recovery());
    // A fourth duplicate inflates cwnd by one SMSS; still below the flight,
    // so nothing new goes.
    t.recv(seg(PEER_ISS + 1).ack(lost));
    assert_eq!(t.conn().cwnd(), (ssthresh + 4 * SMSS) as usize);
    assert!(drain(&mut t).is_empty());
    // The retransmission filled the hole: everything is acknowledged.
    // Recovery ends with cwnd = ssthresh: half the flight at the loss.
    t.recv(seg(PEER_ISS + 1).ack(highest));
    assert!(!t.conn().in_fast_recovery());
    assert_eq!(t.conn().cwnd(), ssthresh as usize, "halved");
    // Congestion avoidance: one SMSS more per round trip (a whole cwnd
    // acknowledged), not per ACK.
    let mut cwnd = ssthresh;
    for _ in 0..3 {
        let round = drain(&mut t);
        assert_eq!(round.len() as u32, cwnd / SMSS, "a cwnd's worth");
        let (last, rest) = round.split_last().unwrap();
        ack_each(&mut t, rest);
        assert_eq!(t.conn().cwnd(), cwnd as usize, "not yet a whole cwnd acked");
        ack_each(&mut t, std::slice::from_ref(last));
        cwnd += SMSS;
        assert_eq!(t.conn().cwnd(), cwnd as usize, "linear growth");
    }
    // One fast retransmit in all, marked as a retransmission in the trace.
    let trace = t.conn_mut().take_trace();
    let fast = trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::FastRetransmit { .. }))
        .count();
    assert_eq!(fast, 1);
    let resent: Vec<_> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Sent {
                segment,
                retransmission: true,
                ..
            } => Some(segment.seq.0),
            _ => None,
        })
        .collect();
    assert_eq!(resent, [lost]);
}

#[test]
fn a_retransmission_timeout_resets_cwnd_to_one_segment() {
    let mut t = established_for_congestion();
    t.send(&vec![1u8; 100_000]);
    let first = drain(&mut t);
    ack_each(&mut t, &first);
    // cwnd 8000: eight segments out, and every one lost.
    let round = drain(&mut t);
    assert_eq!(round.len(), 8);
    let rto = t.conn().rtt().rto;
    t.advance_by(rto);
    // RFC 5681 §3.1: ssthresh = max(FlightSize/2, 2·SMSS), cwnd = 1 SMSS
    // (the loss window): one segment goes, the oldest.
    let sent = drain(&mut t);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].seq, round[0].seq);
    assert_eq!(t.conn().cwnd(), SMSS as usize);
    assert_eq!(t.conn().ssthresh(), (8 * SMSS / 2) as usize);
    // Its ACK opens cwnd by slow start: the next two go (go-back-N).
    ack_each(&mut t, &sent);
    assert_eq!(t.conn().cwnd(), 2 * SMSS as usize);
    let next = drain(&mut t);
    assert_eq!(next.len(), 2);
    assert_eq!(next[0].seq, round[1].seq);
    assert_eq!(next[1].seq, round[2].seq);
}

#[test]
fn after_an_idle_rto_cwnd_restarts_from_the_initial_window() {
    // RFC 5681 §4.1: no burst of a stale cwnd after an idle period.
    let mut t = established_for_congestion();
    t.send(&vec![1u8; 12_000]);
    let round = drain(&mut t);
    ack_each(&mut t, &round);
    let round = drain(&mut t);
    ack_each(&mut t, &round);
    assert_eq!(
        t.conn().cwnd(),
        16 * SMSS as usize,
        "4 + 4 + 8 segments acked"
    );
    assert_eq!(t.conn().bytes_in_flight(), 0);
    t.advance(10_000);
    t.send(&vec![2u8; 12_000]);
    assert_eq!(drain(&mut t).len(), 4, "the restart window, 4·SMSS");
    assert_eq!(t.conn().cwnd(), 4 * SMSS as usize);
}

// ---------------------------------------------------------------------------
// Blind attacks (RFC 5961)
// ---------------------------------------------------------------------------

#[test]
fn a_challenge_ack_answers_an_in_window_rst_and_the_connection_survives() {
    let mut t = established_client(traced());
    t.send(b"hello");
    t.expect(|s| assert_eq!(s.data, b"hello"));
    // A forged RST that guessed the window but not RCV.NXT.
    t.recv(seg(PEER_ISS + 1 + 30_000).rst());
    t.expect(|s| is(s, ".", ISS + 6, Some(PEER_ISS + 1)));
    t.expect_nothing();
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.conn().error(), None);
    // The connection goes on: data both ways.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 6).data(b"world"));
    t.expect(|s| is(s, ".", ISS + 6, Some(PEER_ISS + 6)));
    assert_eq!(t.read_all(), b"world");
    let challenges = t
        .conn_mut()
        .take_trace()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::ChallengeAck { .. }))
        .count();
    assert_eq!(challenges, 1);
    // A peer that really reset answers the challenge with a RST at
    // exactly the number we acknowledged: that one counts.
    t.recv(seg(PEER_ISS + 6).rst());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn().error(), Some(ConnectionError::Reset));
}

#[test]
fn an_out_of_window_rst_is_ignored_silently() {
    let mut t = established_client(TcpConfig::default());
    t.recv(seg(PEER_ISS + 1 + 70_000).rst());
    t.recv(seg(PEER_ISS - 100).rst());
    t.expect_nothing();
    assert_eq!(t.state(), State::Established);
}

#[test]
fn a_syn_in_established_gets_a_challenge_ack() {
    // RFC 5961 §4.2: wherever the SYN falls, in the window or not.
    for syn_seq in [PEER_ISS + 1, PEER_ISS + 500, PEER_ISS + 1 + 100_000, 7] {
        let mut t = established_client(TcpConfig::default());
        t.recv(seg(syn_seq).syn());
        t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
        t.expect_nothing();
        assert_eq!(t.state(), State::Established, "SYN at {syn_seq}");
    }
}

#[test]
fn challenge_acks_are_rate_limited() {
    // RFC 5961 §7: at most `challenge_ack_limit` a second.
    let limit = 3;
    let mut t = established_client(TcpConfig {
        challenge_ack_limit: limit,
        ..TcpConfig::default()
    });
    for i in 0..10 {
        t.recv(seg(PEER_ISS + 2000).rst());
        if i < limit {
            t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
        } else {
            t.expect_nothing();
        }
    }
    // A second later, the budget is back.
    t.advance(1000);
    t.recv(seg(PEER_ISS + 2000).syn());
    t.expect(|s| is(s, ".", ISS + 1, Some(PEER_ISS + 1)));
    assert_eq!(t.state(), State::Established);
}

// ---------------------------------------------------------------------------
// Nagle (RFC 896) and path MTU (RFC 1191)
// ---------------------------------------------------------------------------

#[test]
fn nagle_holds_small_segments_while_data_is_unacknowledged() {
    let mut t = established_client(TcpConfig::default());
    t.send(b"a");
    t.expect(|s| assert_eq!(s.data, b"a", "nothing in flight: it goes"));
    t.send(b"b");
    t.send(b"c");
    t.expect_nothing();
    // The ACK of "a" releases what gathered meanwhile, in one segment.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 2));
    t.expect(|s| {
        is(s, ".", ISS + 2, Some(PEER_ISS + 1));
        assert_eq!(s.data, b"bc");
    });
    // A full segment is never held.
    t.send(&[5; 3000]);
    t.expect(|s| assert_eq!(s.data.len(), 1460));
    t.expect(|s| assert_eq!(s.data.len(), 1460));
    t.expect_nothing();
}

#[test]
fn nodelay_sends_small_segments_at_once() {
    let mut t = established_client(TcpConfig {
        nodelay: true,
        ..TcpConfig::default()
    });
    t.send(b"a");
    t.expect(|s| assert_eq!(s.data, b"a"));
    t.send(b"b");
    t.expect(|s| {
        is(s, ".", ISS + 2, Some(PEER_ISS + 1));
        assert_eq!(s.data, b"b");
    });
    // And switched on again like setsockopt(TCP_NODELAY, 0).
    t.conn_mut().set_nodelay(false);
    t.send(b"c");
    t.expect_nothing();
}

#[test]
fn fragmentation_needed_lowers_the_mss_and_resends_in_smaller_pieces() {
    let mut t = established_client(traced());
    assert_eq!(t.conn().send_mss(), 1460);
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 241) as u8).collect();
    t.send(&data);
    t.expect(|s| assert_eq!(s.data.len(), 1460));
    t.expect(|s| assert_eq!(s.data.len(), 1460));
    // (The 80-byte tail waits for an ACK: Nagle.)
    t.expect_nothing();
    // A router behind a 1280-byte link answered the full-size segments
    // (sent with DF) with "fragmentation needed, MTU 1280": 1280 − 20
    // (IPv4) − 20 (TCP) = 1240.
    let now = t.now;
    t.conn_mut().path_mtu_changed(now, 1280);
    assert_eq!(t.conn().send_mss(), 1240);
    // Everything unacknowledged goes again, at once, in 1240-byte pieces.
    let mut resent = vec![];
    for (seq, len) in [(ISS + 1, 1240), (ISS + 1241, 1240), (ISS + 2481, 520)] {
        let s = t.expect(|s| {
            is(s, ".", seq, Some(PEER_ISS + 1));
            assert_eq!(s.data.len(), len);
        });
        resent.extend(s.data);
    }
    t.expect_nothing();
    assert_eq!(resent, data);
    let cwnd_before = t.conn().cwnd();
    t.recv(seg(PEER_ISS + 1).ack(ISS + 3001));
    assert!(t.conn().cwnd() >= cwnd_before, "not treated as congestion");
    // A larger MTU later does not raise it (RFC 1191: only probing does).
    let now = t.now;
    t.conn_mut().path_mtu_changed(now, 1500);
    assert_eq!(t.conn().send_mss(), 1240);
    assert!(
        t.conn_mut()
            .take_trace()
            .iter()
            .any(|e| matches!(e, TraceEvent::MssChanged { mss: 1240, .. }))
    );
}

// ---------------------------------------------------------------------------
// Zero-window probing (RFC 9293 §3.8.6.1)
// ---------------------------------------------------------------------------

#[test]
fn zero_window_is_probed_with_backoff_until_it_opens() {
    let mut t = established_client(TcpConfig::default());
    t.send(&[1; 100]);
    t.expect(|s| assert_eq!(s.data.len(), 100));
    // The peer takes the data and shuts its window.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 101).win(0));
    t.send(&[2; 50]);
    t.expect_nothing();
    // Probes at the RTO (1 s), then 2 s later, then 4 s later: RFC 6298's
    // backoff applied to the persist timer.
    let rto = 1000;
    let mut at = 0;
    for backoff in 0..4u32 {
        let wait = rto << backoff;
        t.advance(wait - 1);
        t.expect_nothing();
        t.advance(1);
        at += wait;
        t.expect(|s| {
            is(s, ".", ISS + 100, Some(PEER_ISS + 1));
            assert!(s.data.is_empty());
        });
        t.expect_nothing();
        // The answer: still zero.
        t.recv(seg(PEER_ISS + 1).ack(ISS + 101).win(0));
        t.expect_nothing();
    }
    assert_eq!(at, 1000 + 2000 + 4000 + 8000);
    assert_eq!(
        t.state(),
        State::Established,
        "a zero window is not a failure"
    );
    // The window opens (this answer to a probe could equally be the lost
    // window update): the data goes, and probing stops.
    t.recv(seg(PEER_ISS + 1).ack(ISS + 101).win(1000));
    t.expect(|s| {
        is(s, ".", ISS + 101, Some(PEER_ISS + 1));
        assert_eq!(s.data, [2; 50]);
    });
    t.recv(seg(PEER_ISS + 1).ack(ISS + 151).win(1000));
    t.expect_nothing();
    assert_eq!(t.conn().poll_at(), None, "no timer left");
}
