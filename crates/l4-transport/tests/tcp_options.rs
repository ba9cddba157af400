//! Step tests of the options a modern TCP negotiates in its handshake —
//! window scaling and timestamps (RFC 7323), SACK (RFC 2018) — and of
//! delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2), on a virtual clock.
//!
//! As in `tcp_steps.rs`, the peer's segments are built by etherparse and
//! every segment we send is read back by etherparse (checksum included),
//! so our option encoder and decoder cannot agree on a shared mistake.
//! Expected values are worked out here from the RFCs.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use etherparse::{TcpHeader, TcpOptionElement};
use l4_transport::tcp::{
    Connection, IsnGenerator, ListenOutcome, Listener, PAWS_IDLE_LIMIT, State, TcpConfig,
    TraceEvent,
};
use l4_transport::wire::{TcpPacket, TcpRepr, TcpSeqNumber};

const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_PORT: u16 = 40000;
const PEER_PORT: u16 = 7;
const ISS: u32 = 1000;
const PEER_ISS: u32 = 5000;
const MS: Duration = Duration::from_millis(1);

/// A segment from the peer, in plain terms.
#[derive(Debug, Clone, Default)]
struct Seg {
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    win: u16,
    options: Vec<TcpOptionElement>,
    data: Vec<u8>,
}

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
    fn win(mut self, win: u16) -> Seg {
        self.win = win;
        self
    }
    fn opt(mut self, option: TcpOptionElement) -> Seg {
        self.options.push(option);
        self
    }
    fn ts(self, tsval: u32, tsecr: u32) -> Seg {
        self.opt(TcpOptionElement::Noop)
            .opt(TcpOptionElement::Noop)
            .opt(TcpOptionElement::Timestamp(tsval, tsecr))
    }
    fn sack(self, blocks: &[(u32, u32)]) -> Seg {
        let mut rest = [None; 3];
        for (slot, block) in rest.iter_mut().zip(&blocks[1..]) {
            *slot = Some(*block);
        }
        self.opt(TcpOptionElement::Noop)
            .opt(TcpOptionElement::Noop)
            .opt(TcpOptionElement::SelectiveAcknowledgement(blocks[0], rest))
    }
    fn data(mut self, data: &[u8]) -> Seg {
        self.data = data.to_vec();
        self
    }
}

/// The peer's segment as bytes, built and checksummed by etherparse.
fn encode(seg: &Seg) -> Vec<u8> {
    let mut header = TcpHeader::new(PEER_PORT, OUR_PORT, seg.seq, seg.win);
    header.syn = seg.syn;
    header.ack = seg.ack.is_some();
    header.acknowledgment_number = seg.ack.unwrap_or(0);
    header.set_options(&seg.options).unwrap();
    header.checksum = header
        .calc_checksum_ipv4_raw(PEER.octets(), US.octets(), &seg.data)
        .unwrap();
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(&seg.data);
    bytes
}

/// One of our segments, as etherparse reads it.
#[derive(Debug, Clone)]
struct Ours {
    header: TcpHeader,
    data: Vec<u8>,
}

impl Ours {
    fn options(&self) -> Vec<TcpOptionElement> {
        self.header
            .options_iterator()
            .map(|o| o.expect("etherparse reads our options"))
            .collect()
    }
    fn timestamps(&self) -> Option<(u32, u32)> {
        self.options().into_iter().find_map(|o| match o {
            TcpOptionElement::Timestamp(a, b) => Some((a, b)),
            _ => None,
        })
    }
    fn window_scale(&self) -> Option<u8> {
        self.options().into_iter().find_map(|o| match o {
            TcpOptionElement::WindowScale(s) => Some(s),
            _ => None,
        })
    }
    fn sack_permitted(&self) -> bool {
        self.options()
            .contains(&TcpOptionElement::SelectiveAcknowledgementPermitted)
    }
    fn sack_blocks(&self) -> Vec<(u32, u32)> {
        self.options()
            .into_iter()
            .find_map(|o| match o {
                TcpOptionElement::SelectiveAcknowledgement(first, rest) => Some(
                    std::iter::once(first)
                        .chain(rest.into_iter().flatten())
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default()
    }
    fn ack(&self) -> Option<u32> {
        self.header.ack.then_some(self.header.acknowledgment_number)
    }
    fn seq(&self) -> u32 {
        self.header.sequence_number
    }
}

struct Test {
    t0: Instant,
    now: Instant,
    conn: Connection,
}

impl Test {
    /// We connect with `config`; our SYN is returned, read by etherparse.
    fn client(config: TcpConfig) -> (Test, Ours) {
        let t0 = Instant::now();
        let conn = Connection::connect(
            SocketAddrV4::new(US, OUR_PORT),
            SocketAddrV4::new(PEER, PEER_PORT),
            TcpSeqNumber(ISS),
            t0,
            config,
        );
        let mut t = Test { t0, now: t0, conn };
        let syn = t.expect_one();
        assert!(syn.header.syn);
        (t, syn)
    }

    fn recv(&mut self, seg: &Seg) {
        let bytes = encode(seg);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        let repr =
            TcpRepr::parse(&packet, PEER, US).expect("our parser reads etherparse's segment");
        self.conn.on_segment(self.now, &repr);
    }

    fn drain(&mut self) -> Vec<Ours> {
        let mut out = vec![];
        while let Some(segment) = self.conn.poll_transmit(self.now) {
            let bytes = segment.build();
            let (header, payload) = TcpHeader::from_slice(&bytes).expect("etherparse reads ours");
            let checksum = header
                .calc_checksum_ipv4_raw(US.octets(), PEER.octets(), payload)
                .unwrap();
            assert_eq!(header.checksum, checksum);
            out.push(Ours {
                header,
                data: payload.to_vec(),
            });
        }
        out
    }

    #[track_caller]
    fn expect_one(&mut self) -> Ours {
        let mut out = self.drain();
        assert_eq!(out.len(), 1, "{out:#?}");
        out.remove(0)
    }

    #[track_caller]
    fn expect_nothing(&mut self) {
        let out = self.drain();
        assert!(out.is_empty(), "{out:#?}");
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }
}

/// Everything on, except delayed ACKs where a test wants every ACK now;
/// no quick-ACK mode, so that the delayed-ACK tests see delays from the
/// first segment (quick ACKs have a test of their own).
fn modern() -> TcpConfig {
    TcpConfig {
        trace: true,
        quick_acks: 0,
        ..TcpConfig::rfc7323()
    }
}

fn immediate_acks() -> TcpConfig {
    TcpConfig {
        delayed_ack: Duration::ZERO,
        ..modern()
    }
}

/// The peer's SYN,ACK options: everything Linux offers.
fn all_options(tsval: u32, tsecr: u32, shift: u8) -> Vec<TcpOptionElement> {
    vec![
        TcpOptionElement::MaximumSegmentSize(1460),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOptionElement::Timestamp(tsval, tsecr),
        TcpOptionElement::Noop,
        TcpOptionElement::WindowScale(shift),
    ]
}

/// Established as a client with every option agreed: the peer's shift is
/// `shift`, its clock `peer_ts` at the SYN,ACK.
fn established(config: TcpConfig, shift: u8, peer_ts: u32) -> (Test, Ours) {
    let (mut t, syn) = Test::client(config);
    let (our_ts, _) = syn.timestamps().expect("we offer timestamps");
    let mut syn_ack = seg(PEER_ISS).syn().ack(ISS + 1);
    syn_ack.options = all_options(peer_ts, our_ts, shift);
    t.recv(&syn_ack);
    let ack = t.expect_one();
    assert_eq!(t.conn.state(), State::Established);
    (t, ack)
}

// ---------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------

#[test]
fn our_syn_carries_all_four_options_as_etherparse_reads_them() {
    let (_, syn) = Test::client(modern());
    let options = syn.options();
    // 256 KiB = 262144 bytes: 65535·2^2 = 262140 is short of it by 4,
    // 65535·2^3 covers it: shift 3 (RFC 7323 §2.3).
    assert_eq!(options.len(), 5, "{options:?}");
    assert_eq!(options[0], TcpOptionElement::MaximumSegmentSize(1460));
    assert_eq!(
        options[1],
        TcpOptionElement::SelectiveAcknowledgementPermitted
    );
    assert!(
        matches!(options[2], TcpOptionElement::Timestamp(_, 0)),
        "TSecr 0 in a SYN"
    );
    assert_eq!(options[3], TcpOptionElement::Noop);
    assert_eq!(options[4], TcpOptionElement::WindowScale(3));
    // 20 bytes of options: a 40-byte header.
    assert_eq!(syn.header.header_len(), 40);
    // Turned off, none is offered but MSS.
    let (_, plain) = Test::client(TcpConfig {
        window_scaling: false,
        timestamps: false,
        sack: false,
        ..modern()
    });
    assert_eq!(
        plain.options(),
        [TcpOptionElement::MaximumSegmentSize(1460)]
    );
}

/// Every combination of (we offer, the peer offers) for each option, as
/// a client: the option is used only in the first.
#[test]
fn each_option_is_used_only_when_both_syns_carry_it_as_a_client() {
    for we_offer in [true, false] {
        for peer_offers in [true, false] {
            let config = TcpConfig {
                window_scaling: we_offer,
                timestamps: we_offer,
                sack: we_offer,
                ..immediate_acks()
            };
            let (mut t, syn) = Test::client(config);
            assert_eq!(syn.window_scale().is_some(), we_offer);
            assert_eq!(syn.timestamps().is_some(), we_offer);
            assert_eq!(syn.sack_permitted(), we_offer);
            let mut syn_ack = seg(PEER_ISS).syn().ack(ISS + 1).win(1000);
            syn_ack.options = if peer_offers {
                all_options(77, 0, 5)
            } else {
                vec![TcpOptionElement::MaximumSegmentSize(1460)]
            };
            t.recv(&syn_ack);
            let ack = t.expect_one();
            let both = we_offer && peer_offers;
            let agreed = t.conn.options();
            let case = format!("we offer {we_offer}, peer offers {peer_offers}");
            assert_eq!(agreed.window_scaling, both, "{case}");
            assert_eq!(agreed.timestamps, both, "{case}");
            assert_eq!(agreed.sack, both, "{case}");
            // What the wire shows: our ACK carries timestamps only if
            // agreed, and its window is scaled only if agreed.
            assert_eq!(ack.timestamps().is_some(), both, "{case}");
            if both {
                assert_eq!(ack.header.window_size, 32768, "262144 >> 3");
            } else {
                assert_eq!(ack.header.window_size, 65535, "{case}: unscaled");
            }
            // The peer's window: its SYN,ACK's 1000 is never scaled; a
            // later 1000 is scaled by 5 only if agreed.
            assert_eq!(t.conn.send_window(), 1000, "{case}");
            let mut update = seg(PEER_ISS + 1).ack(ISS + 1).win(1000);
            if both {
                update = update.ts(78, ack.timestamps().unwrap().0);
            }
            t.recv(&update);
            let expected = if both { 1000 << 5 } else { 1000 };
            assert_eq!(t.conn.send_window(), expected, "{case}");
        }
    }
}

/// The same four combinations as a server: our SYN,ACK answers with an
/// option only if the SYN carried it and we want it (RFC 7323 §2.2, §3.2;
/// RFC 2018 §2).
#[test]
fn each_option_is_used_only_when_both_syns_carry_it_as_a_server() {
    for we_offer in [true, false] {
        for peer_offers in [true, false] {
            let t0 = Instant::now();
            let config = TcpConfig {
                window_scaling: we_offer,
                timestamps: we_offer,
                sack: we_offer,
                ..modern()
            };
            let mut listener = Listener::new(
                SocketAddrV4::new(US, PEER_PORT),
                1,
                config,
                IsnGenerator::new([7; 16], t0),
            );
            let mut syn = seg(PEER_ISS).syn();
            if peer_offers {
                syn.options = all_options(500, 0, 2);
            }
            let mut header = TcpHeader::new(50000, PEER_PORT, syn.seq, syn.win);
            header.syn = true;
            header.set_options(&syn.options).unwrap();
            header.checksum = header
                .calc_checksum_ipv4_raw(PEER.octets(), US.octets(), &[])
                .unwrap();
            let bytes = header.to_bytes().to_vec();
            let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
            let repr = TcpRepr::parse(&packet, PEER, US).unwrap();
            assert_eq!(
                listener.on_segment(t0, PEER, US, &repr),
                ListenOutcome::Opened
            );
            let syn_ack = listener.poll_transmit(t0).expect("a SYN,ACK");
            let bytes = syn_ack.build();
            let (header, _) = TcpHeader::from_slice(&bytes).unwrap();
            let ours = Ours {
                header,
                data: vec![],
            };
            let both = we_offer && peer_offers;
            let case = format!("we offer {we_offer}, peer offers {peer_offers}");
            assert_eq!(ours.window_scale(), both.then_some(3), "{case}");
            assert_eq!(ours.sack_permitted(), both, "{case}");
            assert_eq!(
                ours.timestamps().map(|(_, echo)| echo),
                both.then_some(500),
                "{case}: TSecr echoes the SYN's TSval"
            );
            // A SYN,ACK's window is never scaled.
            assert_eq!(ours.header.window_size, 65535, "{case}");
        }
    }
}

// ---------------------------------------------------------------------------
// Window scaling (RFC 7323 §2)
// ---------------------------------------------------------------------------

#[test]
fn the_scaled_window_is_the_free_buffer_shifted_and_the_edge_never_moves_left() {
    let (mut t, syn) = Test::client(immediate_acks());
    assert_eq!(
        syn.header.window_size, 65535,
        "SYN: min(262144, 65535), unscaled"
    );
    let mut syn_ack = seg(PEER_ISS).syn().ack(ISS + 1).win(2000);
    syn_ack.options = all_options(1, syn.timestamps().unwrap().0, 7);
    t.recv(&syn_ack);
    let ack = t.expect_one();
    assert_eq!(
        t.conn.send_window(),
        2000,
        "the SYN,ACK's window is not scaled"
    );
    assert_eq!(ack.header.window_size, (256 * 1024 / 8) as u16);
    let mut edges = vec![ack.ack().unwrap() as u64 + 8 * u64::from(ack.header.window_size)];
    // 1001 bytes arrive and are not read: free 262144 − 1001 = 261143,
    // which is 32642.875 units of 8: the field rounds up to 32643 so the
    // right edge stays where it was promised (RFC 7323 §2.4).
    let data = vec![9u8; 1001];
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).win(3).ts(2, 0).data(&data));
    assert_eq!(t.conn.send_window(), 3 << 7, "scaled by the peer's shift 7");
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 1 + 1001));
    assert_eq!(ack.header.window_size, 32643);
    edges.push(ack.ack().unwrap() as u64 + 8 * u64::from(ack.header.window_size));
    assert!(edges[1] >= edges[0], "{edges:?}");
}

// ---------------------------------------------------------------------------
// Timestamps: RTT and PAWS (RFC 7323 §3–5)
// ---------------------------------------------------------------------------

/// The RTT samples of a connection's trace since the last look.
fn rtt_samples(t: &mut Test) -> Vec<Duration> {
    t.conn
        .take_trace()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::RttSample { rtt, .. } => Some(rtt),
            _ => None,
        })
        .collect()
}

/// Linux's rule (`tcp_ack_update_rtt`): the timed segment gives a
/// precise sample; the timestamp echo, which counts whole milliseconds,
/// is used only for the ACK of retransmitted data, where Karn's rule
/// leaves no precise time, and is never less than one tick.
#[test]
fn the_rtt_is_the_timed_segments_precise_time_and_the_timestamp_echo_only_after_a_retransmission() {
    let us = Duration::from_micros(1);
    let (mut t, _) = established(immediate_acks(), 0, 100);
    t.conn.take_trace();
    assert_eq!(t.conn.send(b"hello"), 5);
    let data = t.expect_one();
    let (tsval, tsecr) = data.timestamps().expect("every segment carries them");
    assert_eq!(tsecr, 100, "TS.Recent: the SYN,ACK's TSval");
    // A LAN's round trip: 300 µs. The echo would say 0 ticks; the timed
    // segment says 300 µs.
    t.advance(300 * us);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 6).ts(101, tsval));
    assert_eq!(rtt_samples(&mut t), [300 * us]);

    // Lost, then retransmitted at the RTO (1 s). Karn's rule forbids a
    // sample from the send times (the ACK could answer either copy); the
    // echo tells which copy arrived, so the retransmission is measured
    // in whole ticks: 30 ms, not 30.4.
    t.conn.send(b"again");
    let first = t.expect_one();
    t.advance(Duration::from_secs(1));
    let resent = t.expect_one();
    assert_eq!(resent.seq(), first.seq());
    let (resent_ts, _) = resent.timestamps().unwrap();
    assert_eq!(
        resent_ts.wrapping_sub(first.timestamps().unwrap().0),
        1000,
        "a 1 ms clock: 1000 ticks later"
    );
    t.advance(30 * MS + 400 * us);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 11).ts(102, resent_ts));
    assert_eq!(rtt_samples(&mut t), [30 * MS]);

    // Once the retransmitted data is acknowledged, new data is timed
    // precisely again.
    t.conn.send(b"fresh");
    let fresh = t.expect_one();
    t.advance(250 * us);
    t.recv(
        &seg(PEER_ISS + 1)
            .ack(ISS + 16)
            .ts(103, fresh.timestamps().unwrap().0),
    );
    assert_eq!(rtt_samples(&mut t), [250 * us]);
}

/// An echo of the current tick is a round trip shorter than a tick, not
/// none: the sample is one tick (RFC 7323 Appendix G, Linux), so SRTT is
/// not pulled to zero.
#[test]
fn a_timestamp_echo_of_this_very_tick_counts_as_one_tick() {
    let (mut t, _) = established(immediate_acks(), 0, 100);
    t.conn.take_trace();
    t.conn.send(b"lost");
    let first = t.expect_one();
    t.advance(Duration::from_secs(1));
    let resent = t.expect_one();
    assert_eq!(resent.seq(), first.seq(), "retransmitted at the RTO");
    let (resent_ts, _) = resent.timestamps().unwrap();
    t.advance(Duration::from_micros(200));
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 5).ts(101, resent_ts));
    let samples = rtt_samples(&mut t);
    assert_eq!(samples, [MS], "0 ticks elapsed, sampled as 1");
}

#[test]
fn paws_drops_an_old_duplicate_and_answers_with_an_ack_until_ts_recent_is_24_days_old() {
    let (mut t, _) = established(immediate_acks(), 0, 1_000);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).ts(2_000, 0).data(b"new"));
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 4));
    assert_eq!(ack.timestamps().unwrap().1, 2_000, "TS.Recent updated");
    // An old duplicate: its sequence number fits the window (the
    // sequence space has wrapped), its timestamp is older than TS.Recent.
    t.recv(&seg(PEER_ISS + 4).ack(ISS + 1).ts(1_500, 0).data(b"old"));
    let answer = t.expect_one();
    assert_eq!(answer.ack(), Some(PEER_ISS + 4), "not taken");
    assert_eq!(answer.timestamps().unwrap().1, 2_000);
    assert_eq!(t.conn.recv_queue(), 3);
    // 23 days of silence: TS.Recent is still trusted.
    t.advance(Duration::from_secs(23 * 24 * 3600));
    t.recv(&seg(PEER_ISS + 4).ack(ISS + 1).ts(1_500, 0).data(b"old"));
    assert_eq!(t.expect_one().ack(), Some(PEER_ISS + 4));
    assert_eq!(t.conn.recv_queue(), 3);
    // Past 24 days (RFC 7323 §5.5), TS.Recent proves nothing: the
    // segment is taken and its timestamp becomes TS.Recent.
    assert_eq!(PAWS_IDLE_LIMIT, Duration::from_secs(24 * 24 * 3600));
    t.advance(Duration::from_secs(24 * 3600) + MS);
    t.recv(&seg(PEER_ISS + 4).ack(ISS + 1).ts(1_500, 0).data(b"now"));
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 7));
    assert_eq!(ack.timestamps().unwrap().1, 1_500);
}

#[test]
fn a_segment_without_timestamps_is_dropped_once_both_use_them() {
    let (mut t, _) = established(immediate_acks(), 0, 1_000);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).data(b"bare"));
    t.expect_nothing();
    assert_eq!(t.conn.recv_queue(), 0);
}

// ---------------------------------------------------------------------------
// Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2)
// ---------------------------------------------------------------------------

#[test]
fn one_segment_is_acknowledged_when_the_delayed_ack_timer_fires() {
    let (mut t, _) = established(modern(), 0, 1);
    assert_eq!(t.conn.poll_at(), None, "idle: no timer at all");
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).ts(2, 0).data(&[1; 1448]));
    t.expect_nothing();
    assert_eq!(t.conn.poll_at(), Some(t.now + 40 * MS));
    t.advance(39 * MS);
    t.expect_nothing();
    t.advance(MS);
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 1449));
    assert_eq!(t.conn.poll_at(), None, "nothing owed any more");
    assert_eq!(t.now - t.t0, 40 * MS);
}

#[test]
fn the_second_full_segment_is_acknowledged_at_once() {
    let (mut t, _) = established(modern(), 0, 1);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).ts(2, 0).data(&[1; 1448]));
    t.expect_nothing();
    t.recv(&seg(PEER_ISS + 1449).ack(ISS + 1).ts(2, 0).data(&[2; 1448]));
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 1 + 2 * 1448));
    assert_eq!(t.conn.poll_at(), None);
}

#[test]
fn a_reply_carries_the_delayed_ack() {
    let (mut t, _) = established(modern(), 0, 1);
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).ts(2, 0).data(b"GET /"));
    t.expect_nothing();
    t.advance(5 * MS);
    t.conn.send(b"200 OK");
    let reply = t.expect_one();
    assert_eq!(reply.data, b"200 OK");
    assert_eq!(reply.ack(), Some(PEER_ISS + 6), "piggybacked");
    t.advance(40 * MS);
    t.expect_nothing();
}

/// A server that writes a response head and then its body, Nagle on:
/// the body waits for the ACK of the head. Quick-ACK mode acknowledges
/// the connection's first segments at once, and the segments after a
/// delayed ACK had to wait for its timer.
#[test]
fn quick_acks_at_the_start_and_after_the_timer_had_to_fire() {
    let config = TcpConfig {
        quick_acks: 2,
        ..modern()
    };
    let (mut t, _) = established(config, 0, 1);
    // The first two segments: acknowledged at once, no timer.
    t.recv(
        &seg(PEER_ISS + 1)
            .ack(ISS + 1)
            .ts(2, 0)
            .data(b"HTTP/1.1 200 OK"),
    );
    assert_eq!(t.expect_one().ack(), Some(PEER_ISS + 16));
    t.recv(&seg(PEER_ISS + 16).ack(ISS + 1).ts(2, 0).data(b"body"));
    assert_eq!(t.expect_one().ack(), Some(PEER_ISS + 20));
    // Then delayed ACKs as usual: the third waits for the timer…
    t.recv(&seg(PEER_ISS + 20).ack(ISS + 1).ts(3, 0).data(b"more"));
    t.expect_nothing();
    t.advance(40 * MS);
    assert_eq!(t.expect_one().ack(), Some(PEER_ISS + 24));
    // …and because it had to, the next one is acknowledged at once.
    t.recv(&seg(PEER_ISS + 24).ack(ISS + 1).ts(43, 0).data(b"last"));
    assert_eq!(t.expect_one().ack(), Some(PEER_ISS + 28));
    assert_eq!(t.conn.poll_at(), None);
}

#[test]
fn an_out_of_order_segment_is_acknowledged_at_once_with_a_sack_block() {
    let (mut t, _) = established(modern(), 0, 1);
    t.recv(&seg(PEER_ISS + 1001).ack(ISS + 1).ts(2, 0).data(&[3; 500]));
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 1));
    assert_eq!(ack.sack_blocks(), [(PEER_ISS + 1001, PEER_ISS + 1501)]);
    // The segment that fills the gap: at once too, and no block is left.
    t.recv(&seg(PEER_ISS + 1).ack(ISS + 1).ts(3, 0).data(&[1; 1000]));
    let ack = t.expect_one();
    assert_eq!(ack.ack(), Some(PEER_ISS + 1501));
    assert!(ack.sack_blocks().is_empty());
}

// ---------------------------------------------------------------------------
// SACK as a receiver (RFC 2018 §4)
// ---------------------------------------------------------------------------

/// The maximal runs of `bytes` (sequence offsets), as [start, end).
fn runs(bytes: &BTreeSet<u32>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = vec![];
    for &b in bytes {
        match out.last_mut() {
            Some((_, end)) if *end == b => *end += 1,
            _ => out.push((b, b + 1)),
        }
    }
    out
}

#[test]
fn sack_blocks_report_what_arrived_the_newest_first() {
    for (timestamps, limit) in [(true, 3), (false, 4)] {
        let config = TcpConfig {
            timestamps,
            ..immediate_acks()
        };
        let (mut t, syn) = Test::client(config);
        let mut syn_ack = seg(PEER_ISS).syn().ack(ISS + 1);
        syn_ack.options = if timestamps {
            all_options(1, syn.timestamps().unwrap().0, 0)
        } else {
            vec![
                TcpOptionElement::MaximumSegmentSize(1460),
                TcpOptionElement::SelectiveAcknowledgementPermitted,
            ]
        };
        t.recv(&syn_ack);
        t.expect_one();
        // 100-byte pieces at offsets (from IRS+1) in a scrambled order,
        // the gap at 0..100 open until the end.
        let order = [
            500, 300, 900, 700, 1100, 400, 1300, 800, 200, 1000, 600, 1200, 100, 0,
        ];
        let mut held: BTreeSet<u32> = BTreeSet::new();
        let mut rcv_nxt = 0;
        for &offset in &order {
            let mut piece = seg(PEER_ISS + 1 + offset)
                .ack(ISS + 1)
                .data(&[offset as u8; 100]);
            if timestamps {
                piece = piece.ts(5, 0);
            }
            t.recv(&piece);
            held.extend(offset..offset + 100);
            while held.remove(&rcv_nxt) {
                rcv_nxt += 1;
            }
            let ack = t.expect_one();
            assert_eq!(ack.ack(), Some(PEER_ISS + 1 + rcv_nxt));
            let expected = runs(&held);
            let blocks: Vec<(u32, u32)> = ack
                .sack_blocks()
                .iter()
                .map(|(l, r)| (l - PEER_ISS - 1, r - PEER_ISS - 1))
                .collect();
            assert_eq!(
                blocks.len(),
                expected.len().min(limit),
                "{blocks:?} {expected:?}"
            );
            for block in &blocks {
                assert!(expected.contains(block), "{block:?} is a run of held data");
            }
            let unique: BTreeSet<_> = blocks.iter().collect();
            assert_eq!(unique.len(), blocks.len(), "no block twice");
            // (An in-order segment is acknowledged, not reported.)
            if let Some(first) = blocks.first()
                && offset >= rcv_nxt
            {
                assert!(
                    first.0 <= offset && offset + 100 <= first.1,
                    "the first block holds the segment just arrived (RFC 2018 §4)"
                );
            }
        }
        assert!(held.is_empty());
        assert_eq!(t.conn.recv_queue(), 1400);
    }
}

// ---------------------------------------------------------------------------
// SACK as a sender (RFC 2018, RFC 6675)
// ---------------------------------------------------------------------------

/// Established with SACK (no timestamps, so the numbers stay simple) and
/// a peer MSS of 500; the peer acknowledges our first four segments one
/// by one so that cwnd grows (slow start) to eight segments. Limited
/// transmit is off unless asked for, so that the recovery tests see only
/// the segments recovery sends.
fn sack_sender() -> (Test, u32) {
    sack_sender_with(false)
}

fn sack_sender_with(limited_transmit: bool) -> (Test, u32) {
    let config = TcpConfig {
        timestamps: false,
        send_buffer: 1 << 20,
        limited_transmit,
        ..immediate_acks()
    };
    let (mut t, _) = Test::client(config);
    let mut syn_ack = seg(PEER_ISS).syn().ack(ISS + 1);
    syn_ack.options = vec![
        TcpOptionElement::MaximumSegmentSize(500),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
    ];
    t.recv(&syn_ack);
    t.expect_one();
    assert!(t.conn.options().sack);
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(t.conn.send(&data), data.len());
    let first = t.drain();
    assert_eq!(first.len(), 4, "initial window: 4 segments of 500");
    for s in &first {
        t.recv(&seg(PEER_ISS + 1).ack(s.seq() + 500));
    }
    (t, ISS + 1 + 2000)
}

#[test]
fn in_a_sack_recovery_only_the_holes_are_resent() {
    let (mut t, base) = sack_sender();
    let flight = t.drain();
    assert_eq!(
        flight.len(),
        8,
        "cwnd 8 segments after four ACKs in slow start"
    );
    let at = |i: u32| base + 500 * i;
    assert_eq!(flight[0].seq(), at(0));
    let mut highest_sent = at(8);
    // Segments 2 and 5 are lost. What the peer holds, as the test
    // reckons it, and the SACK blocks it sends (newest first).
    let arrivals: [(u32, Vec<(u32, u32)>); 5] = [
        (3, vec![(at(3), at(4))]),
        (4, vec![(at(3), at(5))]),
        (6, vec![(at(6), at(7)), (at(3), at(5))]),
        (7, vec![(at(6), at(8)), (at(3), at(5))]),
        (8, vec![(at(6), at(9)), (at(3), at(5))]),
    ];
    let mut held: Vec<(u32, u32)> = vec![(at(0), at(2))];
    let mut resent = vec![];
    for (arrived, blocks) in arrivals {
        if arrived == 8 {
            // The segment at 8 is one of the new ones sent meanwhile.
            assert!(highest_sent >= at(9), "segment 8 was sent");
        }
        held.push((at(arrived), at(arrived + 1)));
        t.recv(&seg(PEER_ISS + 1).ack(at(2)).sack(&blocks));
        for s in t.drain() {
            let (start, end) = (s.seq(), s.seq() + s.data.len() as u32);
            if start < highest_sent {
                for &(l, r) in &held {
                    assert!(
                        end <= l || start >= r,
                        "resent {start}..{end} overlaps {l}..{r}, which the peer SACKed"
                    );
                }
                resent.push((start, end));
            } else {
                highest_sent = end;
            }
        }
    }
    // The third duplicate ACK resent segment 2; segment 5 once three
    // segments above it were SACKed (RFC 6675's IsLost: more than
    // 2·SMSS SACKed above). Nothing else.
    assert_eq!(resent, [(at(2), at(3)), (at(5), at(6))]);
    assert!(t.conn.in_fast_recovery());
    // The holes arrive: everything up to what was sent is acknowledged,
    // the recovery ends, nothing is left to resend.
    t.recv(&seg(PEER_ISS + 1).ack(highest_sent));
    assert!(!t.conn.in_fast_recovery());
    assert!(t.conn.sacked().is_empty());
    for s in t.drain() {
        assert!(s.seq() >= highest_sent, "only new data now");
    }
}

#[test]
fn a_retransmission_timeout_forgets_the_sacks_and_resends_from_snd_una() {
    let (mut t, base) = sack_sender();
    let flight = t.drain();
    let at = |i: u32| base + 500 * i;
    // Only segment 4 arrived (one duplicate ACK: no fast retransmit).
    t.recv(&seg(PEER_ISS + 1).ack(at(0)).sack(&[(at(4), at(5))]));
    assert_eq!(
        t.conn.sacked(),
        [(TcpSeqNumber(at(4)), TcpSeqNumber(at(5)))]
    );
    t.expect_nothing();
    t.advance(Duration::from_secs(1));
    let resent = t.expect_one();
    assert_eq!(resent.seq(), flight[0].seq(), "go back to SND.UNA");
    // RFC 2018 §8: the receiver may renege, so the SACKs are forgotten.
    assert!(t.conn.sacked().is_empty());
    // It still holds segment 4 and says so again: going back, the sender
    // skips it. ACKs of 0..2 and 2..4 open cwnd to 3 segments.
    t.recv(&seg(PEER_ISS + 1).ack(at(2)).sack(&[(at(4), at(5))]));
    let next = t.drain();
    let starts: Vec<u32> = next.iter().map(Ours::seq).collect();
    assert_eq!(starts, [at(2), at(3)], "cwnd 2 after one ACK in slow start");
    t.recv(&seg(PEER_ISS + 1).ack(at(4)).sack(&[(at(4), at(5))]));
    let next = t.drain();
    let starts: Vec<u32> = next.iter().map(Ours::seq).collect();
    assert!(
        !starts.contains(&at(4)),
        "segment 4 is SACKed: not resent ({starts:?})"
    );
    assert_eq!(starts.first(), Some(&at(5)));
}

#[test]
fn limited_transmit_sends_one_new_segment_on_each_of_the_first_two_duplicates() {
    let (mut t, base) = sack_sender_with(true);
    let at = |i: u32| base + 500 * i;
    assert_eq!(t.drain().len(), 8, "cwnd: 8 segments");
    // RFC 3042: the first duplicate lets one new segment go beyond cwnd,
    // the second one more; cwnd itself does not change.
    let cwnd = t.conn.cwnd();
    t.recv(&seg(PEER_ISS + 1).ack(at(0)).sack(&[(at(1), at(2))]));
    let first: Vec<u32> = t.drain().iter().map(Ours::seq).collect();
    assert_eq!(first, [at(8)]);
    t.recv(&seg(PEER_ISS + 1).ack(at(0)).sack(&[(at(1), at(3))]));
    let second: Vec<u32> = t.drain().iter().map(Ours::seq).collect();
    assert_eq!(second, [at(9)]);
    assert_eq!(t.conn.cwnd(), cwnd);
    // The third is fast retransmit, of the hole only.
    t.recv(&seg(PEER_ISS + 1).ack(at(0)).sack(&[(at(1), at(4))]));
    let third = t.drain();
    assert_eq!(third[0].seq(), at(0));
    assert_eq!(third[0].data.len(), 500);
    assert!(t.conn.in_fast_recovery());
    // Without limited transmit, the first two duplicates send nothing.
    let (mut t, base) = sack_sender_with(false);
    t.drain();
    t.recv(
        &seg(PEER_ISS + 1)
            .ack(base)
            .sack(&[(base + 500, base + 1000)]),
    );
    t.expect_nothing();
}
