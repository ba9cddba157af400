//! The devices without privileges: the in-memory cable, the pcap tap and the
//! fault injector. (`PacketSocket` needs CAP_NET_RAW and is tested in the
//! lab.)

use std::collections::VecDeque;
use std::io;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use etherparse::{SlicedPacket, VlanSlice};
use l2_link::device::{
    Cable, CableEnd, Device, FaultConfig, FaultStats, Faulty, PacketType, PcapTap, RxMeta,
};
use l2_link::pcap::PcapReader;
use l2_link::wire::MacAddr;

const ALPHA: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const STACK: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x12]);
const STRANGER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x99]);
const IPV4_MULTICAST: MacAddr = MacAddr([0x01, 0x00, 0x5e, 0, 0, 0x01]);

/// An Ethernet II frame of the local experimental EtherType 0x88B5.
fn frame(destination: MacAddr, source: MacAddr, payload: &[u8]) -> Vec<u8> {
    [&destination.0[..], &source.0, &[0x88, 0xb5], payload].concat()
}

/// A frame numbered `n` in its payload, to follow it through faults.
fn numbered(n: u32) -> Vec<u8> {
    frame(ALPHA, STACK, &n.to_be_bytes())
}

fn number_of(frame: &[u8]) -> u32 {
    u32::from_be_bytes(frame[14..18].try_into().unwrap())
}

fn recv_frame(end: &mut CableEnd, deadline: Duration) -> Option<(Vec<u8>, RxMeta)> {
    let mut buf = [0u8; 2048];
    let meta = end
        .recv(&mut buf, Some(Instant::now() + deadline))
        .unwrap()?;
    Some((buf[..meta.len].to_vec(), meta))
}

// ---------------------------------------------------------------------------
// The cable.

#[test]
fn cable_delivers_both_ways_and_classifies_destinations() {
    let (mut alpha, mut stack) = Cable::pair(ALPHA, STACK);
    assert_eq!((alpha.mac(), stack.mac()), (ALPHA, STACK));
    assert_eq!(alpha.mtu(), 1500);

    let cases = [
        (STACK, PacketType::Host),
        (MacAddr::BROADCAST, PacketType::Broadcast),
        (IPV4_MULTICAST, PacketType::Multicast),
        (STRANGER, PacketType::OtherHost),
    ];
    for (destination, expected) in cases {
        let sent = frame(destination, ALPHA, b"to whom?");
        let before = SystemTime::now();
        alpha.send(&sent).unwrap();
        let (received, meta) = recv_frame(&mut stack, Duration::from_secs(1)).unwrap();
        assert_eq!(received, sent);
        assert_eq!(meta.packet_type, expected, "to {destination}");
        assert_eq!(meta.original_len, sent.len());
        assert!(meta.timestamp >= before && meta.timestamp <= SystemTime::now());
        assert_eq!((meta.vlan_tci, meta.checksum_not_ready), (None, false));
    }

    let reply = frame(ALPHA, STACK, b"back");
    stack.send(&reply).unwrap();
    let (received, meta) = recv_frame(&mut alpha, Duration::from_secs(1)).unwrap();
    assert_eq!((received, meta.packet_type), (reply, PacketType::Host));
    // Nothing echoes back to the sender.
    assert!(recv_frame(&mut stack, Duration::ZERO).is_none());
}

#[test]
fn cable_recv_returns_none_at_the_deadline() {
    let (_alpha, mut stack) = Cable::pair(ALPHA, STACK);
    let start = Instant::now();
    assert!(recv_frame(&mut stack, Duration::from_millis(80)).is_none());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(80),
        "returned early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(2), "returned late: {waited:?}");

    // A deadline already past: a quick look, no wait.
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let past = Instant::now() - Duration::from_millis(5);
    assert!(stack.recv(&mut buf, Some(past)).unwrap().is_none());
    assert!(start.elapsed() < Duration::from_millis(50));
}

#[test]
fn cable_wakes_a_waiting_receiver() {
    let (mut alpha, mut stack) = Cable::pair(ALPHA, STACK);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        alpha.send(&frame(STACK, ALPHA, b"late")).unwrap();
        alpha // keep the end alive until joined
    });
    let start = Instant::now();
    let (received, _) = recv_frame(&mut stack, Duration::from_secs(10)).unwrap();
    assert_eq!(&received[14..], b"late");
    assert!(start.elapsed() < Duration::from_secs(5));
    sender.join().unwrap();
}

#[test]
fn cable_cuts_frames_to_the_buffer_and_says_so() {
    let (mut alpha, mut stack) = Cable::pair(ALPHA, STACK);
    let sent = frame(STACK, ALPHA, &[7; 100]);
    alpha.send(&sent).unwrap();
    let mut small = [0u8; 20];
    let meta = stack.recv(&mut small, None).unwrap().unwrap();
    assert_eq!((meta.len, meta.original_len), (20, 114));
    assert_eq!(small[..], sent[..20]);
}

#[test]
fn cable_enforces_length_limits_like_the_kernel() {
    let (mut alpha, _stack) = Cable::new().mtu(1280).connect(ALPHA, STACK);
    assert_eq!(alpha.mtu(), 1280);
    assert!(alpha.send(&frame(STACK, ALPHA, &[0; 1280])).is_ok());
    let too_long = alpha.send(&frame(STACK, ALPHA, &[0; 1281])).unwrap_err();
    assert_eq!(too_long.kind(), io::ErrorKind::InvalidInput);
    assert!(alpha.send(&[0; 13]).is_err(), "shorter than a header");
    // A tagged frame may be 4 bytes longer: the tag is not payload.
    let tagged = [
        &STACK.0[..],
        &ALPHA.0,
        &[0x81, 0x00, 0x00, 0x64, 0x88, 0xb5],
        &[0; 1280],
    ]
    .concat();
    assert!(alpha.send(&tagged).is_ok());
}

#[test]
fn cable_counts_frames_in_flight_and_drops_when_full() {
    let (mut alpha, mut stack) = Cable::new().queue_capacity(3).connect(ALPHA, STACK);
    for n in 0..5 {
        alpha.send(&numbered(n)).unwrap();
    }
    assert_eq!((alpha.in_flight(), stack.pending()), (3, 3));
    assert_eq!(stack.dropped(), 2);
    let (first, _) = recv_frame(&mut stack, Duration::ZERO).unwrap();
    assert_eq!(number_of(&first), 0, "the oldest frames are kept");
    assert_eq!(alpha.in_flight(), 2);
}

#[test]
fn cable_reports_an_unplugged_peer() {
    let (mut alpha, mut stack) = Cable::pair(ALPHA, STACK);
    alpha.send(&numbered(1)).unwrap();
    drop(alpha);
    // What was already on the wire still arrives, then the error.
    assert!(recv_frame(&mut stack, Duration::ZERO).is_some());
    let mut buf = [0u8; 64];
    let err = stack.recv(&mut buf, None).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected);
    // Sending into an unplugged cable loses the frame quietly.
    assert!(stack.send(&numbered(2)).is_ok());
}

// ---------------------------------------------------------------------------
// The pcap tap.

/// A device that replays scripted received frames (with their metadata),
/// and keeps what is sent to it.
struct Scripted {
    incoming: VecDeque<(Vec<u8>, RxMeta)>,
    sent: Vec<Vec<u8>>,
}

impl Scripted {
    fn new(incoming: Vec<(Vec<u8>, RxMeta)>) -> Self {
        Scripted {
            incoming: incoming.into(),
            sent: Vec::new(),
        }
    }
}

impl Device for Scripted {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.sent.push(frame.to_vec());
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], _deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        let Some((frame, mut meta)) = self.incoming.pop_front() else {
            return Ok(None);
        };
        meta.len = frame.len().min(buf.len());
        buf[..meta.len].copy_from_slice(&frame[..meta.len]);
        Ok(Some(meta))
    }

    fn mac(&self) -> MacAddr {
        STACK
    }

    fn mtu(&self) -> usize {
        1500
    }
}

#[test]
fn pcap_tap_records_sent_and_received_frames() {
    let (mut alpha, stack) = Cable::pair(ALPHA, STACK);
    let mut tap = PcapTap::new(stack, Vec::new()).unwrap();
    assert_eq!(tap.mac(), STACK);

    let request = frame(ALPHA, STACK, b"ping");
    tap.send(&request).unwrap();
    let (on_the_wire, _) = recv_frame(&mut alpha, Duration::from_secs(1)).unwrap();
    assert_eq!(
        on_the_wire, request,
        "the tap passes frames through unchanged"
    );

    let reply = frame(STACK, ALPHA, b"pong");
    alpha.send(&reply).unwrap();
    let mut buf = [0u8; 2048];
    let meta = tap.recv(&mut buf, None).unwrap().unwrap();
    assert_eq!(&buf[..meta.len], reply);
    assert!(tap.recv(&mut buf, Some(Instant::now())).unwrap().is_none());

    let (_, capture) = tap.into_parts();
    let records: Vec<_> = PcapReader::new(&capture.into_inner()[..])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 2, "a timeout records nothing");
    assert_eq!(
        (&records[0].data, records[0].original_len),
        (&request, request.len())
    );
    assert_eq!(
        (&records[1].data, records[1].original_len),
        (&reply, reply.len())
    );
    assert!(records[0].timestamp <= records[1].timestamp);
}

#[test]
fn pcap_tap_puts_a_stripped_vlan_tag_back() {
    // As the kernel delivers a frame that was tagged VLAN 100, priority 5:
    // tag removed, TCI in the metadata.
    let untagged = [
        &ALPHA.0[..],
        &STACK.0,
        &[0x08, 0x06], // ARP
        &[0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01],
        &STACK.0,
        &[198, 18, 0, 2],
        &[0; 6],
        &[198, 18, 0, 1],
    ]
    .concat();
    let tci = (5 << 13) | 100;
    let meta = RxMeta {
        vlan_tci: Some(tci),
        ..RxMeta::host(untagged.len())
    };
    let mut tap = PcapTap::new(Scripted::new(vec![(untagged.clone(), meta)]), Vec::new()).unwrap();
    let mut buf = [0u8; 2048];
    let got = tap.recv(&mut buf, None).unwrap().unwrap();
    assert_eq!(
        &buf[..got.len],
        untagged,
        "the caller sees the frame as delivered"
    );

    let (_, capture) = tap.into_parts();
    let record = PcapReader::new(&capture.into_inner()[..])
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(record.data.len(), untagged.len() + 4);
    assert_eq!(record.original_len, untagged.len() + 4);
    // etherparse reads the recorded frame as tagged, carrying ARP.
    let packet = SlicedPacket::from_ethernet(&record.data).unwrap();
    let Some(VlanSlice::SingleVlan(vlan)) = packet.vlan() else {
        panic!("no VLAN tag in {:02x?}", record.data);
    };
    assert_eq!(vlan.vlan_identifier().value(), 100);
    assert_eq!(vlan.priority_code_point().value(), 5);
    assert_eq!(vlan.ether_type().0, 0x0806);
    assert_eq!(record.data[..12], untagged[..12]);
    assert_eq!(record.data[16..], untagged[12..]);
}

#[test]
fn pcap_tap_wraps_borrowed_and_boxed_devices() {
    let (alpha, mut stack) = Cable::pair(ALPHA, STACK);
    {
        let mut tap = PcapTap::new(&mut stack, Vec::new()).unwrap();
        tap.send(&frame(ALPHA, STACK, b"borrowed")).unwrap();
    }
    let boxed: Box<dyn Device> = Box::new(alpha);
    let mut tap = PcapTap::new(boxed, Vec::new()).unwrap();
    let mut buf = [0u8; 64];
    let meta = tap.recv(&mut buf, None).unwrap().unwrap();
    assert_eq!(&buf[14..meta.len], b"borrowed");
}

// ---------------------------------------------------------------------------
// The fault injector.

/// Send frames 0..count through a Faulty over a Scripted sink; return what
/// came out and the stats.
fn run_faults(seed: u64, config: FaultConfig, count: u32) -> (Vec<Vec<u8>>, FaultStats) {
    let mut faulty = Faulty::new(Scripted::new(Vec::new()), seed, config);
    for n in 0..count {
        faulty.send(&numbered(n)).unwrap();
    }
    faulty.release_held().unwrap();
    let stats = faulty.sent_stats();
    (faulty.into_inner().sent, stats)
}

fn all_faults() -> FaultConfig {
    FaultConfig {
        loss: 0.1,
        duplicate: 0.1,
        reorder: 0.1,
        corrupt: 0.1,
        on_receive: false,
    }
}

#[test]
fn faults_are_the_same_for_the_same_seed() {
    let (first, first_stats) = run_faults(42, all_faults(), 500);
    let (again, again_stats) = run_faults(42, all_faults(), 500);
    assert_eq!(first, again);
    assert_eq!(first_stats, again_stats);
    let (other, _) = run_faults(43, all_faults(), 500);
    assert_ne!(first, other, "another seed, other faults");
    assert_eq!(first_stats.frames, 500);
}

#[test]
fn loss_rate_is_near_the_probability() {
    // Binomial(n, p): mean n·p, standard deviation sqrt(n·p·(1-p)). Five
    // deviations either way: a correct implementation fails about once in
    // 1.7 million runs (fixed seeds make it never); one that loses at
    // half or twice the rate is dozens of deviations out.
    let n = 20_000u32;
    for (seed, p) in [(1, 0.01), (2, 0.1), (3, 0.5), (4, 0.9)] {
        let config = FaultConfig {
            loss: p,
            ..FaultConfig::default()
        };
        let (out, stats) = run_faults(seed, config, n);
        let mean = f64::from(n) * p;
        let bound = 5.0 * (mean * (1.0 - p)).sqrt();
        let lost = stats.lost as f64;
        assert!(
            (lost - mean).abs() <= bound,
            "p = {p}: lost {lost}, expected {mean} ± {bound}"
        );
        assert_eq!(
            out.len() as u64,
            u64::from(n) - stats.lost,
            "what was not lost arrived"
        );
        // Survivors arrive whole and in order.
        assert!(out.windows(2).all(|w| number_of(&w[0]) < number_of(&w[1])));
    }
    let (out, stats) = run_faults(
        5,
        FaultConfig {
            loss: 1.0,
            ..FaultConfig::default()
        },
        100,
    );
    assert_eq!((out.len(), stats.lost), (0, 100));
}

#[test]
fn corruption_flips_exactly_one_bit() {
    let config = FaultConfig {
        corrupt: 1.0,
        ..FaultConfig::default()
    };
    let (out, stats) = run_faults(7, config, 400);
    assert_eq!((out.len(), stats.corrupted), (400, 400));
    let mut positions = std::collections::BTreeSet::new();
    for (n, damaged) in out.iter().enumerate() {
        let original = numbered(n as u32);
        assert_eq!(damaged.len(), original.len());
        let flipped: u32 = original
            .iter()
            .zip(damaged)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1, "frame {n}");
        positions.insert(original.iter().zip(damaged).position(|(a, b)| a != b));
    }
    // Every byte of an 18-byte frame gets hit somewhere in 400 frames.
    assert_eq!(positions.len(), 18);
}

#[test]
fn reordering_swaps_neighbours() {
    let config = FaultConfig {
        reorder: 1.0,
        ..FaultConfig::default()
    };
    let (out, _) = run_faults(9, config, 6);
    let order: Vec<_> = out.iter().map(|f| number_of(f)).collect();
    assert_eq!(order, [1, 0, 3, 2, 5, 4]);

    // At a lower rate: every frame arrives, none moves more than one place.
    let config = FaultConfig {
        reorder: 0.3,
        ..FaultConfig::default()
    };
    let (out, stats) = run_faults(10, config, 1000);
    let order: Vec<_> = out.iter().map(|f| number_of(f)).collect();
    assert_eq!(order.len(), 1000);
    assert!(stats.reordered > 100, "{stats:?}");
    for (place, &n) in order.iter().enumerate() {
        assert!(
            place.abs_diff(n as usize) <= 1,
            "frame {n} arrived at {place}"
        );
    }
    // Each held frame swaps with the next, except a last one released by
    // release_held() with nothing after it.
    let swaps = order.windows(2).filter(|w| w[0] > w[1]).count() as u64;
    assert!(stats.reordered - swaps <= 1, "{swaps} swaps, {stats:?}");
}

#[test]
fn duplication_sends_twice() {
    let config = FaultConfig {
        duplicate: 1.0,
        ..FaultConfig::default()
    };
    let (out, stats) = run_faults(11, config, 3);
    let order: Vec<_> = out.iter().map(|f| number_of(f)).collect();
    assert_eq!(order, [0, 0, 1, 1, 2, 2]);
    assert_eq!(stats.duplicated, 3);
}

#[test]
fn faults_on_receive_too() {
    // Received frames reordered: the held one comes after the next, or
    // when the deadline passes with nothing else.
    let incoming = (0..3).map(|n| (numbered(n), RxMeta::host(18))).collect();
    let config = FaultConfig {
        reorder: 1.0,
        on_receive: true,
        ..FaultConfig::default()
    };
    let mut faulty = Faulty::new(Scripted::new(incoming), 1, config);
    let mut buf = [0u8; 64];
    let mut order = Vec::new();
    while let Some(meta) = faulty.recv(&mut buf, Some(Instant::now())).unwrap() {
        order.push(number_of(&buf[..meta.len]));
    }
    assert_eq!(order, [1, 0, 2]);
    assert_eq!(faulty.received_stats().reordered, 2);
    assert_eq!(faulty.sent_stats(), FaultStats::default());

    // Without on_receive, received frames are untouched.
    let incoming = (0..3).map(|n| (numbered(n), RxMeta::host(18))).collect();
    let config = FaultConfig {
        loss: 1.0,
        ..FaultConfig::default()
    };
    let mut faulty = Faulty::new(Scripted::new(incoming), 1, config);
    let mut count = 0;
    while faulty
        .recv(&mut buf, Some(Instant::now()))
        .unwrap()
        .is_some()
    {
        count += 1;
    }
    assert_eq!(count, 3);
}

#[test]
fn faulty_stacks_with_the_cable_and_the_tap() {
    // The tap outside the fault injector records what was sent, before
    // the faults; the cable carries what survived.
    let (alpha, mut stack) = Cable::new().queue_capacity(10_000).connect(ALPHA, STACK);
    let config = FaultConfig {
        loss: 0.5,
        ..FaultConfig::default()
    };
    let mut tap = PcapTap::new(Faulty::new(alpha, 3, config), Vec::new()).unwrap();
    for n in 0..200 {
        tap.send(&numbered(n)).unwrap();
    }
    let lost = tap.device().sent_stats().lost;
    assert_eq!(stack.pending() as u64, 200 - lost);
    let (_, capture) = tap.into_parts();
    let recorded = PcapReader::new(&capture.into_inner()[..]).unwrap().count();
    assert_eq!(recorded, 200);
    assert!(recv_frame(&mut stack, Duration::ZERO).is_some());
}
