//! A device that damages traffic on purpose, reproducibly: the lab's kernel
//! has no netem, and a random failure that cannot be replayed cannot be
//! debugged.

use std::collections::VecDeque;
use std::io;
use std::time::Instant;

use super::{Device, RxMeta};
use crate::wire::MacAddr;

/// How often each fault happens, as probabilities from 0.0 (never) to 1.0
/// (every frame). Values outside that range are clamped; NaN counts as 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultConfig {
    /// The frame vanishes.
    pub loss: f64,
    /// The frame arrives twice.
    pub duplicate: f64,
    /// The frame is held back and delivered after the next one.
    pub reorder: f64,
    /// One random bit of one random byte of the frame is flipped.
    pub corrupt: f64,
    /// Damage received frames too, not only sent ones.
    pub on_receive: bool,
}

/// What a [`Faulty`] device did to the frames of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Frames that came through (before any fault).
    pub frames: u64,
    /// Frames dropped.
    pub lost: u64,
    /// Frames delivered twice.
    pub duplicated: u64,
    /// Frames held back behind the next one.
    pub reordered: u64,
    /// Frames with one bit flipped.
    pub corrupted: u64,
}

/// Wraps a device and, by chance, loses, duplicates, reorders or corrupts
/// the frames sent through it (and, if asked, received from it).
///
/// Deterministic: the same seed and the same frames give the same faults,
/// on any machine. Each direction has its own generator, so how sends and
/// receives interleave does not change what happens to either.
///
/// A frame held for reordering goes out right after the next frame sent;
/// if no next frame comes, [`Faulty::release_held`] sends it. A received
/// frame held back is handed over after the next one, or when a `recv`
/// deadline passes with nothing else to give.
#[derive(Debug)]
pub struct Faulty<D> {
    inner: D,
    config: FaultConfig,
    send_rng: SplitMix64,
    send_stats: FaultStats,
    /// A sent frame held back (and whether it is also to be duplicated).
    send_held: Option<(Vec<u8>, bool)>,
    recv_rng: SplitMix64,
    recv_stats: FaultStats,
    recv_held: Option<(Vec<u8>, RxMeta)>,
    /// Received frames ready to hand over (duplicates, released frames).
    recv_ready: VecDeque<(Vec<u8>, RxMeta)>,
}

/// What happens to one frame. Drawn before anything is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    lose: bool,
    duplicate: bool,
    hold: bool,
    /// Byte index and bit mask to flip.
    flip: Option<(usize, u8)>,
}

impl<D: Device> Faulty<D> {
    /// Wrap `inner`, with faults as `config` says, drawn from `seed`.
    pub fn new(inner: D, seed: u64, config: FaultConfig) -> Self {
        let clamp = |p: f64| if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        let config = FaultConfig {
            loss: clamp(config.loss),
            duplicate: clamp(config.duplicate),
            reorder: clamp(config.reorder),
            corrupt: clamp(config.corrupt),
            on_receive: config.on_receive,
        };
        // Two streams from one seed: the receive generator starts from
        // the first number the send generator will produce.
        let send_rng = SplitMix64::new(seed);
        let recv_rng = SplitMix64::new(send_rng.clone().next_u64());
        Faulty {
            inner,
            config,
            send_rng,
            send_stats: FaultStats::default(),
            send_held: None,
            recv_rng,
            recv_stats: FaultStats::default(),
            recv_held: None,
            recv_ready: VecDeque::new(),
        }
    }

    /// What was done to sent frames so far.
    pub fn sent_stats(&self) -> FaultStats {
        self.send_stats
    }

    /// What was done to received frames so far (all zero unless
    /// `on_receive`).
    pub fn received_stats(&self) -> FaultStats {
        self.recv_stats
    }

    /// Send the frame held back for reordering now, if there is one.
    pub fn release_held(&mut self) -> io::Result<()> {
        match self.send_held.take() {
            Some((frame, duplicate)) => self.transmit(&frame, duplicate),
            None => Ok(()),
        }
    }

    /// The wrapped device.
    pub fn get_ref(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn get_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwrap the device. A frame still held back is lost.
    pub fn into_inner(self) -> D {
        self.inner
    }

    fn transmit(&mut self, frame: &[u8], duplicate: bool) -> io::Result<()> {
        self.inner.send(frame)?;
        if duplicate {
            self.inner.send(frame)?;
        }
        Ok(())
    }
}

// ANCHOR: fault_decision
/// Decide the fate of one frame of `len` bytes.
///
/// Every frame consumes exactly six draws, in this order, whatever the
/// probabilities: so raising the loss rate does not change which frames
/// get duplicated, and a run can be replayed from its seed.
fn decide(rng: &mut SplitMix64, config: &FaultConfig, len: usize) -> Decision {
    let lose = rng.chance(config.loss);
    let duplicate = rng.chance(config.duplicate);
    let hold = rng.chance(config.reorder);
    let corrupt = rng.chance(config.corrupt);
    let byte = rng.below(len as u64) as usize;
    let bit = 1u8 << rng.below(8);
    Decision {
        lose,
        duplicate,
        hold,
        flip: (corrupt && len > 0).then_some((byte, bit)),
    }
}
// ANCHOR_END: fault_decision

/// Apply a decision's bit flip (if any) to `frame`. True if it flipped.
fn apply_flip(frame: &mut [u8], decision: &Decision) -> bool {
    match decision
        .flip
        .and_then(|(byte, bit)| Some((frame.get_mut(byte)?, bit)))
    {
        Some((byte, bit)) => {
            *byte ^= bit;
            true
        }
        None => false,
    }
}

impl<D: Device> Device for Faulty<D> {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let decision = decide(&mut self.send_rng, &self.config, frame.len());
        let stats = &mut self.send_stats;
        stats.frames += 1;
        if decision.lose {
            stats.lost += 1;
            return Ok(()); // The sender never knows: a wire gives no receipt.
        }
        let mut frame = frame.to_vec();
        stats.corrupted += u64::from(apply_flip(&mut frame, &decision));
        stats.duplicated += u64::from(decision.duplicate);
        if decision.hold && self.send_held.is_none() {
            stats.reordered += 1;
            self.send_held = Some((frame, decision.duplicate));
            return Ok(());
        }
        self.transmit(&frame, decision.duplicate)?;
        // A held frame goes out right behind this one: the two swapped.
        self.release_held()
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        if !self.config.on_receive {
            return self.inner.recv(buf, deadline);
        }
        loop {
            if let Some((frame, mut meta)) = self.recv_ready.pop_front() {
                meta.len = frame.len().min(buf.len());
                buf[..meta.len].copy_from_slice(&frame[..meta.len]);
                return Ok(Some(meta));
            }
            let Some(meta) = self.inner.recv(buf, deadline)? else {
                // Nothing more came before the deadline: a held frame has
                // waited long enough.
                match self.recv_held.take() {
                    Some(held) => {
                        self.recv_ready.push_back(held);
                        continue;
                    }
                    None => return Ok(None),
                }
            };
            let len = meta.len.min(buf.len());
            let frame = &mut buf[..len];
            let decision = decide(&mut self.recv_rng, &self.config, frame.len());
            let stats = &mut self.recv_stats;
            stats.frames += 1;
            if decision.lose {
                stats.lost += 1;
                continue;
            }
            stats.corrupted += u64::from(apply_flip(frame, &decision));
            if decision.hold && self.recv_held.is_none() {
                stats.reordered += 1;
                self.recv_held = Some((frame.to_vec(), meta));
                continue;
            }
            if decision.duplicate {
                stats.duplicated += 1;
                self.recv_ready.push_back((frame.to_vec(), meta));
            }
            if let Some(held) = self.recv_held.take() {
                self.recv_ready.push_back(held);
            }
            return Ok(Some(meta));
        }
    }

    fn mac(&self) -> MacAddr {
        self.inner.mac()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014; the version in Vigna's public-domain C code):
/// a 64-bit counter advanced by the golden ratio, scrambled by two
/// multiply-xorshift rounds. Tiny, fast, statistically fine for choosing
/// faults — and not for anything secret.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1): the top 53 bits, as many as an f64's
    /// mantissa holds.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (always draws, even for p = 0 or 1).
    fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A number in `0..n` (0 when n is 0) by Lemire's multiply-shift: the
    /// high half of a 64×64-bit product. Its bias, at most n/2^64, is far
    /// below anything a test could see.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_output() {
        // The first outputs of Vigna's reference splitmix64.c for this
        // seed, as listed in the `reference` test of the rand_xoshiro crate
        // (rust-random/rngs, rand_xoshiro/src/splitmix64.rs).
        let mut rng = SplitMix64::new(1477776061723855037);
        let expected: [u64; 5] = [
            1985237415132408290,
            2979275885539914483,
            13511426838097143398,
            8488337342461049707,
            15141737807933549159,
        ];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn below_stays_in_range_and_floats_in_unit_interval() {
        let mut rng = SplitMix64::new(7);
        for n in [1u64, 2, 3, 8, 1500, u64::MAX] {
            for _ in 0..1000 {
                assert!(rng.below(n) < n);
            }
        }
        assert_eq!(rng.below(0), 0);
        for _ in 0..1000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn every_frame_draws_six_numbers() {
        let config = FaultConfig {
            corrupt: 1.0,
            ..FaultConfig::default()
        };
        let mut a = SplitMix64::new(99);
        let mut b = SplitMix64::new(99);
        decide(&mut a, &config, 60);
        decide(&mut b, &FaultConfig::default(), 0);
        assert_eq!(
            a.next_u64(),
            b.next_u64(),
            "draws must not depend on the config"
        );
    }
}
