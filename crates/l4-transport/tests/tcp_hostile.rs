//! Hostile peers against our sans-IO TCP, on a virtual clock: a SYN flood,
//! blind RSTs and SYNs, segments far outside the window, an out-of-order
//! flood, a window that never opens, a peer that never answers.
//!
//! Each test asserts on the connection's *state* (it is still up, or it
//! failed with the right error) and on *memory*: a counting global
//! allocator ([`sys::Counting`]) knows the bytes this process holds, and
//! while the attack goes on a hundred or a thousand times longer, that
//! number may grow only by a stated bound. The tests take a lock
//! ([`alone`]) so that only one runs at a time: the counter is the whole
//! process's.
//!
//! The peer is this file, not a second copy of our TCP: its SYN carries
//! only an MSS option, so the connection uses no option the peer did not
//! offer, and the tests hold whatever options our TCP learns to speak.
//! Nothing here depends on exactly when our TCP sends an ACK (it may delay
//! them): the tests let virtual time pass before they count.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use l4_transport::tcp::{
    Connection, ConnectionError, IsnGenerator, ListenOutcome, Listener, OutSegment, State,
    TcpConfig,
};
use l4_transport::wire::{TcpFlags, TcpOption, TcpRepr, TcpSeqNumber};

const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const OUR_PORT: u16 = 40000;
const PEER_PORT: u16 = 7;
const ISS: u32 = 1000;
const PEER_ISS: u32 = 5000;
const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const KIB: isize = 1024;

// ---------------------------------------------------------------------------
// Counting memory
// ---------------------------------------------------------------------------

/// The counting allocator: `unsafe` because `GlobalAlloc` is an unsafe
/// trait; it adds nothing to the system allocator but two counters.
#[allow(unsafe_code)]
mod sys {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicIsize, Ordering};

    /// Bytes allocated and not yet freed, by the whole process.
    pub static ALLOCATED: AtomicIsize = AtomicIsize::new(0);
    /// The most [`ALLOCATED`] reached since the last reset.
    pub static PEAK: AtomicIsize = AtomicIsize::new(0);

    // ANCHOR: counting_allocator
    /// The system allocator, counting: every allocation adds its size,
    /// every free subtracts it, and the peak is kept.
    pub struct Counting;

    fn grew(by: usize) {
        let now = ALLOCATED.fetch_add(by as isize, Ordering::Relaxed) + by as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(by: usize) {
        ALLOCATED.fetch_sub(by as isize, Ordering::Relaxed);
    }

    // SAFETY: every method hands the caller's arguments to `System`
    // unchanged and returns what it returns, so `System`'s guarantees are
    // ours; the counters are atomics, touched without allocating.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller upholds `alloc`'s contract (a non-zero
            // size), which is `System.alloc`'s.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as for `alloc`.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by us, that is by `System`, with
            // `layout` (the caller's promise).
            unsafe { System.dealloc(ptr, layout) };
            shrank(layout.size());
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: `ptr` and `layout` come from `System` through us; the
            // caller upholds the rest of `realloc`'s contract.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                shrank(layout.size());
                grew(new_size);
            }
            new
        }
    }
    // ANCHOR_END: counting_allocator
}

#[global_allocator]
static COUNTING: sys::Counting = sys::Counting;

/// One test at a time: the allocator counts for the whole process.
fn alone() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Memory from a starting point: how far above it the process has been.
struct Memory {
    baseline: isize,
}

impl Memory {
    /// Starts counting from what is allocated now.
    fn from_now() -> Memory {
        use std::sync::atomic::Ordering;
        let baseline = sys::ALLOCATED.load(Ordering::Relaxed);
        sys::PEAK.store(baseline, Ordering::Relaxed);
        Memory { baseline }
    }

    /// The highest the process went above the baseline.
    fn peak_growth(&self) -> isize {
        sys::PEAK.load(std::sync::atomic::Ordering::Relaxed) - self.baseline
    }

    /// Asserts that the peak stayed below `bound` bytes above the
    /// baseline, and shows it (`--nocapture`).
    fn assert_peak_below(&self, bound: isize, what: &str) {
        let peak = self.peak_growth();
        eprintln!("memory {what}: at most {peak} bytes more (bound {bound})");
        assert!(peak < bound, "memory grew by {peak} bytes {what}");
    }

    /// Where it is now, against the baseline.
    fn growth(&self) -> isize {
        sys::ALLOCATED.load(std::sync::atomic::Ordering::Relaxed) - self.baseline
    }
}

// ---------------------------------------------------------------------------
// The peer, and a connection to it
// ---------------------------------------------------------------------------

/// xorshift64: the attacker's random numbers, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A segment from the peer to us.
fn from_peer<'a>(seq: u32, ack: Option<u32>, flags: TcpFlags, payload: &'a [u8]) -> TcpRepr<'a> {
    TcpRepr {
        src_port: PEER_PORT,
        dst_port: OUR_PORT,
        seq_number: TcpSeqNumber(seq),
        ack_number: TcpSeqNumber(ack.unwrap_or(0)),
        flags: if ack.is_some() {
            flags | TcpFlags::ACK
        } else {
            flags
        },
        window_len: u16::MAX,
        urgent_at: 0,
        options: Vec::new(),
        payload,
    }
}

/// What our connection sent, in the terms the tests count.
#[derive(Debug, Default)]
struct Sent {
    /// Segments without data, SYN, FIN or RST: ACKs (and window probes).
    empty_acks: Vec<(u32, u32)>,
    /// (SEG.SEQ, bytes) of segments with data.
    data: Vec<(u32, usize)>,
    resets: usize,
}

impl Sent {
    fn take(conn: &mut Connection, now: Instant) -> Sent {
        let mut sent = Sent::default();
        while let Some(segment) = conn.poll_transmit(now) {
            sent.add(&segment);
        }
        sent
    }

    fn add(&mut self, segment: &OutSegment) {
        if segment.flags.contains(TcpFlags::RST) {
            self.resets += 1;
        } else if !segment.payload.is_empty() {
            self.data
                .push((segment.seq_number.0, segment.payload.len()));
        } else if segment.segment_len() == 0 {
            self.empty_acks
                .push((segment.seq_number.0, segment.ack_number.0));
        }
    }

    fn extend(&mut self, other: Sent) {
        self.empty_acks.extend(other.empty_acks);
        self.data.extend(other.data);
        self.resets += other.resets;
    }
}

/// Our connection, established with the scripted peer: our SYN, the
/// peer's SYN,ACK (MSS 1460, window 65535, no other option), our ACK.
/// The peer's next sequence number is `PEER_ISS + 1`.
fn established(t0: Instant, config: TcpConfig) -> Connection {
    let mut conn = Connection::connect(
        SocketAddrV4::new(US, OUR_PORT),
        SocketAddrV4::new(PEER, PEER_PORT),
        TcpSeqNumber(ISS),
        t0,
        config,
    );
    let syn = conn.poll_transmit(t0).expect("our SYN");
    assert!(syn.flags.contains(TcpFlags::SYN));
    let mut syn_ack = from_peer(PEER_ISS, Some(ISS + 1), TcpFlags::SYN, &[]);
    syn_ack.options = vec![TcpOption::MaxSegmentSize(1460)];
    conn.on_segment(t0, &syn_ack);
    Sent::take(&mut conn, t0);
    assert_eq!(conn.state(), State::Established);
    conn
}

/// Lets `by` of virtual time pass in steps of at most `step`, running
/// the connection's timers; returns what it sent meanwhile.
fn wait(conn: &mut Connection, now: &mut Instant, by: Duration, step: Duration) -> Sent {
    let end = *now + by;
    let mut sent = Sent::default();
    while *now < end {
        *now = (*now + step).min(end);
        sent.extend(Sent::take(conn, *now));
    }
    sent
}

/// Everything the connection has received, read out.
fn read_all(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.recv(&mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The peer's byte stream: byte `i` of it.
fn peer_byte(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

// ---------------------------------------------------------------------------
// (a) A SYN flood
// ---------------------------------------------------------------------------

// ANCHOR: syn_flood
/// 100 000 SYNs from random spoofed addresses and ports: the listener
/// holds at most its backlog of half-open connections, drops the rest,
/// and its memory stays flat. Once the half-open ones time out, a real
/// client gets in.
#[test]
fn a_syn_flood_is_held_to_the_backlog_and_memory_stays_flat() {
    let _alone = alone();
    const BACKLOG: usize = 16;
    const SYNS: usize = 100_000;
    let t0 = Instant::now();
    let mut now = t0;
    let local = SocketAddrV4::new(US, 80);
    let mut listener = Listener::new(
        local,
        BACKLOG,
        TcpConfig::default(),
        IsnGenerator::new([7; 16], t0),
    );
    let mut rng = Rng(0x5eed);
    let mut spoofed_syn = |listener: &mut Listener, now: Instant| {
        // Anywhere in 198.18.0.0/15, any port, any ISN: nobody will answer.
        let src = Ipv4Addr::from(0xc612_0000 | (rng.next() as u32 & 0x1_ffff));
        let syn = TcpRepr {
            src_port: 1024 + rng.below(60_000) as u16,
            dst_port: 80,
            seq_number: TcpSeqNumber(rng.next() as u32),
            ack_number: TcpSeqNumber(0),
            flags: TcpFlags::SYN,
            window_len: 65535,
            urgent_at: 0,
            options: vec![TcpOption::MaxSegmentSize(1460)],
            payload: &[],
        };
        let outcome = listener.on_segment(now, src, US, &syn);
        // The SYN,ACKs go nowhere: the addresses were made up.
        while listener.poll_transmit(now).is_some() {}
        outcome
    };

    // The first SYNs fill the backlog; from here on, memory must not grow.
    for _ in 0..BACKLOG {
        assert_eq!(spoofed_syn(&mut listener, now), ListenOutcome::Opened);
    }
    let memory = Memory::from_now();
    let mut dropped = 0;
    for i in 0..SYNS {
        // 100 000 SYNs in 10 virtual seconds.
        if i % 10 == 0 {
            now += Duration::from_micros(1000);
        }
        if spoofed_syn(&mut listener, now) == ListenOutcome::BacklogFull {
            dropped += 1;
        }
        assert!(listener.queued() <= BACKLOG);
    }
    assert_eq!(listener.queued(), BACKLOG);
    assert!(dropped >= SYNS - BACKLOG, "{dropped} SYNs dropped");
    memory.assert_peak_below(16 * KIB, "under the SYN flood");

    // The half-open connections give up after their SYN,ACK retries
    // (about four minutes with the RFC's timers); then a real client, who
    // answers our SYN,ACK, is accepted.
    for _ in 0..600 {
        now += SECOND;
        while listener.poll_transmit(now).is_some() {}
    }
    assert_eq!(listener.queued(), 0, "the half-open connections timed out");
    let client = SocketAddrV4::new(PEER, 33_000);
    let mut syn = from_peer(PEER_ISS, None, TcpFlags::SYN, &[]);
    syn.src_port = client.port();
    syn.dst_port = 80;
    assert_eq!(
        listener.on_segment(now, PEER, US, &syn),
        ListenOutcome::Opened
    );
    let syn_ack = listener.poll_transmit(now).expect("SYN,ACK");
    let mut ack = from_peer(
        PEER_ISS + 1,
        Some(syn_ack.seq_number.0 + 1),
        TcpFlags::EMPTY,
        &[],
    );
    ack.src_port = client.port();
    ack.dst_port = 80;
    listener.on_segment(now, PEER, US, &ack);
    let accepted = listener.accept().expect("the real client is accepted");
    assert_eq!(accepted.remote(), client);
    assert_eq!(accepted.state(), State::Established);
}
// ANCHOR_END: syn_flood

// ---------------------------------------------------------------------------
// (b) Blind RSTs and SYNs in the window
// ---------------------------------------------------------------------------

// ANCHOR: blind_reset
/// 10 000 RSTs and 10 000 SYNs, each somewhere in the receive window but
/// not at RCV.NXT, as an off-path attacker who knows the four-tuple would
/// send them (RFC 5961 §3, §4). None of them resets the connection; each
/// may earn a challenge ACK, at most `challenge_ack_limit` a second
/// (§7); and data still flows both ways afterwards.
#[test]
fn blind_rsts_and_syns_in_the_window_get_rate_limited_challenge_acks_and_the_connection_lives() {
    let _alone = alone();
    let t0 = Instant::now();
    let mut now = t0;
    let config = TcpConfig::default();
    let limit = config.challenge_ack_limit as usize;
    let mut conn = established(t0, config);
    let rcv_nxt = PEER_ISS + 1;
    let mut rng = Rng(5961);
    let mut challenges = Vec::new();
    let memory = Memory::from_now();

    // 20 000 forged segments over 20 virtual seconds.
    const FORGED: usize = 20_000;
    for i in 0..FORGED {
        if i % 1000 == 0 {
            now += SECOND;
        }
        // In the window, never exactly RCV.NXT.
        let seq = rcv_nxt + 1 + rng.below(60_000) as u32;
        let flags = if i % 2 == 0 {
            TcpFlags::RST
        } else {
            TcpFlags::SYN
        };
        conn.on_segment(now, &from_peer(seq, None, flags, &[]));
        challenges.extend(Sent::take(&mut conn, now).empty_acks);
        assert_eq!(conn.state(), State::Established, "after forged segment {i}");
    }
    challenges.extend(wait(&mut conn, &mut now, SECOND, 100 * MS).empty_acks);
    memory.assert_peak_below(16 * KIB, "under blind RSTs and SYNs");

    // Challenges came, each acknowledging exactly RCV.NXT, and no more
    // than the limit allows in the 21 seconds (RFC 5961 §7).
    assert!(!challenges.is_empty(), "challenge ACKs were sent");
    assert!(challenges.iter().all(|&(_, ack)| ack == rcv_nxt));
    assert!(
        challenges.len() <= limit * 22,
        "{} challenge ACKs in 21 s",
        challenges.len()
    );

    // The connection still carries data, both ways.
    assert_eq!(conn.send(b"still here"), 10);
    let sent = wait(&mut conn, &mut now, SECOND, 10 * MS);
    assert_eq!(sent.data, vec![(ISS + 1, 10)]);
    conn.on_segment(
        now,
        &from_peer(rcv_nxt, Some(ISS + 11), TcpFlags::PSH, b"and so am I"),
    );
    wait(&mut conn, &mut now, SECOND, 10 * MS);
    assert_eq!(read_all(&mut conn), b"and so am I");
    assert_eq!(conn.send_queue(), 0, "our 10 bytes were acknowledged");
    assert_eq!(conn.state(), State::Established);
}
// ANCHOR_END: blind_reset

// ---------------------------------------------------------------------------
// (c) Segments far outside the window
// ---------------------------------------------------------------------------

// ANCHOR: outside_window
/// 100 000 segments of 1000 bytes each, a gigabyte away from RCV.NXT:
/// none of their data is taken (RFC 9293 §3.10.7.4: an unacceptable
/// segment is answered with an ACK and dropped), the connection holds
/// nothing more, and memory stays flat.
#[test]
fn segments_far_outside_the_window_are_dropped_and_acked_and_memory_stays_flat() {
    let _alone = alone();
    let t0 = Instant::now();
    let mut now = t0;
    let mut conn = established(t0, TcpConfig::default());
    let rcv_nxt = PEER_ISS + 1;
    let mut rng = Rng(9293);
    let junk = vec![0xa5u8; 1000];
    let memory = Memory::from_now();
    // Counted, not kept: a list of 100 000 ACKs would be the test's own
    // memory growing.
    let mut acks = 0;
    let mut check = |sent: Sent| {
        assert!(
            sent.empty_acks.iter().all(|&(_, ack)| ack == rcv_nxt),
            "every ACK still says RCV.NXT"
        );
        assert!(sent.data.is_empty() && sent.resets == 0);
        acks += sent.empty_acks.len();
    };
    for i in 0..100_000u32 {
        if i % 1000 == 0 {
            now += 10 * MS;
        }
        // 2^30 ahead or behind, and a bit.
        let far = (1u32 << 30) + rng.below(1 << 20) as u32;
        let seq = if i % 2 == 0 {
            rcv_nxt.wrapping_add(far)
        } else {
            rcv_nxt.wrapping_sub(far)
        };
        conn.on_segment(now, &from_peer(seq, Some(ISS + 1), TcpFlags::PSH, &junk));
        check(Sent::take(&mut conn, now));
    }
    check(wait(&mut conn, &mut now, SECOND, 100 * MS));
    memory.assert_peak_below(16 * KIB, "under segments outside the window");
    assert_eq!(conn.recv_queue(), 0, "no data taken");
    assert_eq!(conn.reassembly_queue(), 0, "none held for later");
    assert!(acks > 0, "the unacceptable segments were answered");
    assert_eq!(conn.state(), State::Established);

    // The real next segment is still welcome.
    conn.on_segment(
        now,
        &from_peer(rcv_nxt, Some(ISS + 1), TcpFlags::PSH, b"real"),
    );
    wait(&mut conn, &mut now, SECOND, 10 * MS);
    assert_eq!(read_all(&mut conn), b"real");
}
// ANCHOR_END: outside_window

// ---------------------------------------------------------------------------
// (d) An out-of-order flood
// ---------------------------------------------------------------------------

// ANCHOR: ooo_flood
/// 200 000 segments of 1 to 64 bytes scattered over (and past) the
/// receive window, never at RCV.NXT, so nothing can be delivered and
/// everything in the window is held for reassembly: the queue never holds
/// more than the window (65 535 bytes; the reassembly queue's limit),
/// memory stays within a bound, and when the missing first bytes come the
/// real data arrives whole and in order.
#[test]
fn an_out_of_order_flood_stays_within_the_window_and_the_real_data_still_arrives() {
    let _alone = alone();
    let t0 = Instant::now();
    let mut now = t0;
    let config = TcpConfig::default();
    let window = config.recv_buffer.min(usize::from(u16::MAX));
    let mut conn = established(t0, config);
    let rcv_nxt = PEER_ISS + 1;
    let stream: Vec<u8> = (0..4 * window).map(peer_byte).collect();
    let mut rng = Rng(2018);
    let memory = Memory::from_now();
    let mut most_held = 0;
    for i in 0..200_000 {
        if i % 1000 == 0 {
            now += 10 * MS;
        }
        // Offsets 1 up to a little past the window's edge.
        let offset = 1 + rng.below(window as u64 + 4096) as usize;
        let len = 1 + rng.below(64) as usize;
        let bytes = &stream[offset..offset + len];
        conn.on_segment(
            now,
            &from_peer(
                rcv_nxt + offset as u32,
                Some(ISS + 1),
                TcpFlags::EMPTY,
                bytes,
            ),
        );
        Sent::take(&mut conn, now);
        most_held = most_held.max(conn.reassembly_queue());
        assert_eq!(conn.recv_queue(), 0, "nothing before the gap is filled");
    }
    wait(&mut conn, &mut now, SECOND, 100 * MS);
    assert!(most_held <= window, "{most_held} bytes held");
    assert!(most_held > window / 2, "the flood did fill the queue");
    // The bytes held, plus bookkeeping per block: a few times the window.
    let bound = 4 * window as isize;
    memory.assert_peak_below(bound, "under the out-of-order flood");

    // The real peer fills the gap: the stream arrives whole, in order.
    let mut received = Vec::new();
    let mut next = 0;
    while next < stream.len() {
        let len = 1000.min(stream.len() - next);
        conn.on_segment(
            now,
            &from_peer(
                rcv_nxt + next as u32,
                Some(ISS + 1),
                TcpFlags::PSH,
                &stream[next..next + len],
            ),
        );
        Sent::take(&mut conn, now);
        received.extend(read_all(&mut conn));
        next = received.len();
    }
    assert!(received == stream, "every byte, in order");
    assert_eq!(conn.reassembly_queue(), 0);
    assert_eq!(conn.state(), State::Established);
}
// ANCHOR_END: ooo_flood

// ---------------------------------------------------------------------------
// (e) A window that never opens
// ---------------------------------------------------------------------------

// ANCHOR: endless_zero_window
/// The peer takes 4 KiB and then keeps its window shut for an hour of
/// virtual time, answering every probe with "window 0". Our TCP probes
/// with backoff (at most one a minute once backed off, RFC 9293
/// §3.8.6.1: the connection never gives up on a zero window), holds no
/// more memory at the end than after the first minute, and the moment the
/// window opens the rest of the data goes.
#[test]
fn an_endless_zero_window_is_probed_with_backoff_for_an_hour_and_then_the_data_flows() {
    let _alone = alone();
    let t0 = Instant::now();
    let mut now = t0;
    let config = TcpConfig::default();
    let max_rto = config.max_rto;
    let mut conn = established(t0, config);
    let rcv_nxt = PEER_ISS + 1;
    let data: Vec<u8> = (0..20_000).map(peer_byte).collect();
    assert_eq!(conn.send(&data), data.len());

    // The first 4 KiB (whatever segments carry them) are acknowledged with
    // a closed window.
    let mut delivered = 0;
    let mut shut_at = None;
    while shut_at.is_none() {
        let sent = wait(&mut conn, &mut now, 10 * MS, MS);
        delivered += sent.data.iter().map(|&(_, len)| len).sum::<usize>();
        if delivered >= 4096 {
            let mut ack = from_peer(
                rcv_nxt,
                Some(ISS + 1 + delivered as u32),
                TcpFlags::EMPTY,
                &[],
            );
            ack.window_len = 0;
            conn.on_segment(now, &ack);
            shut_at = Some(now);
        }
        assert!(now < t0 + SECOND, "the first bytes went at once");
    }

    // An hour of a shut window: every probe is answered "window 0".
    let mut probes: Vec<Instant> = Vec::new();
    let mut memory = None;
    let hour = Duration::from_secs(3600);
    // (The persist timer starts when the connection next looks at what
    // it may send.)
    Sent::take(&mut conn, now);
    while now < t0 + hour {
        let next = conn.poll_at().expect("a timer runs while data waits");
        assert!(next > now && next <= now + max_rto, "probes keep coming");
        now = next;
        let sent = Sent::take(&mut conn, now);
        assert!(sent.data.is_empty(), "no data into a zero window");
        for _ in &sent.empty_acks {
            probes.push(now);
            let mut answer = from_peer(
                rcv_nxt,
                Some(ISS + 1 + delivered as u32),
                TcpFlags::EMPTY,
                &[],
            );
            answer.window_len = 0;
            conn.on_segment(now, &answer);
            Sent::take(&mut conn, now);
        }
        if memory.is_none() && now > t0 + Duration::from_secs(60) {
            memory = Some(Memory::from_now());
        }
    }
    let memory = memory.expect("an hour passed");
    memory.assert_peak_below(4 * KIB, "while probing a zero window");
    // Backed off: not one probe a second, but not silence either.
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "backoff: {gaps:?}");
    assert!(gaps.iter().all(|&gap| gap <= max_rto));
    let per_hour = probes.len();
    assert!(
        (55..=80).contains(&per_hour),
        "{per_hour} probes in an hour"
    );
    assert_eq!(conn.state(), State::Established);
    assert_eq!(conn.error(), None);

    // The window opens: the rest goes, and all of it is acknowledged.
    let mut open = from_peer(
        rcv_nxt,
        Some(ISS + 1 + delivered as u32),
        TcpFlags::EMPTY,
        &[],
    );
    open.window_len = u16::MAX;
    conn.on_segment(now, &open);
    while delivered < data.len() {
        let sent = wait(&mut conn, &mut now, 10 * MS, MS);
        for &(seq, len) in &sent.data {
            let offset = seq.wrapping_sub(ISS + 1) as usize;
            delivered = delivered.max(offset + len);
        }
        conn.on_segment(
            now,
            &from_peer(
                rcv_nxt,
                Some(ISS + 1 + delivered as u32),
                TcpFlags::EMPTY,
                &[],
            ),
        );
        assert!(now < t0 + hour + 10 * SECOND, "the data went at once");
    }
    Sent::take(&mut conn, now);
    assert_eq!(conn.send_queue(), 0, "all 20 000 bytes acknowledged");
}
// ANCHOR_END: endless_zero_window

// ---------------------------------------------------------------------------
// (f) A peer that never answers
// ---------------------------------------------------------------------------

// ANCHOR: never_acks
/// The peer goes silent after the handshake: our data is retransmitted
/// with exponential backoff, `max_retries` times, then the connection
/// fails with "connection timed out" (RFC 9293 §3.8.3's R2: at least
/// 100 seconds), and lets go of its buffers.
#[test]
fn a_peer_that_never_acks_times_out_after_the_retries_with_a_clear_error() {
    let _alone = alone();
    let t0 = Instant::now();
    let mut now = t0;
    let config = TcpConfig::default();
    let retries = config.max_retries as usize;
    let memory = Memory::from_now();
    let mut conn = established(t0, config);
    let data: Vec<u8> = (0..10_000).map(peer_byte).collect();
    assert_eq!(conn.send(&data), data.len());

    let mut first_byte_sent = 0;
    loop {
        let sent = Sent::take(&mut conn, now);
        first_byte_sent += sent.data.iter().filter(|&&(seq, _)| seq == ISS + 1).count();
        if conn.is_closed() {
            break;
        }
        now = conn.poll_at().expect("the retransmission timer runs");
        assert!(now < t0 + Duration::from_secs(3600), "it gives up");
    }
    let error = conn.error().expect("the connection failed");
    assert_eq!(error, ConnectionError::TimedOut);
    assert_eq!(error.to_string(), "connection timed out");
    let io_error = std::io::Error::from(error);
    assert_eq!(io_error.kind(), std::io::ErrorKind::TimedOut);
    // The first segment: once, then max_retries retransmissions.
    assert_eq!(first_byte_sent, 1 + retries);
    let waited = now - t0;
    assert!(
        waited >= Duration::from_secs(100) && waited <= Duration::from_secs(15 * 60),
        "gave up after {waited:?}"
    );
    // While it tried, it held its two buffers (64 KiB each by default)
    // and the data; failed, its queues are empty; dropped by its owner
    // (the stack forgets a closed connection), nothing is left.
    assert_eq!(conn.send_queue(), 0);
    drop((conn, data));
    assert!(
        memory.growth() < KIB,
        "{} bytes still held",
        memory.growth()
    );
    memory.assert_peak_below(192 * KIB, "while retrying");
}
// ANCHOR_END: never_acks
