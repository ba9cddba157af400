//! [`Stack`]: a [`NetStack`] with a thread that drives it, and what the
//! blocking sockets share with that thread.
//!
//! ```text
//!            ┌───────────── Mutex<NetStack> ─────────────┐
//!  program ──┤ lock, call (send, recv, accept), unlock   │
//!  threads   │ would block? wait on the Condvar          │
//!            │ changed something? Waker::wake()  ──┐     │
//!            └─────────────────────────────────────┼─────┘
//!                                                  ▼
//!  packet socket ──► poll(socket, eventfd) ◄── Waker (eventfd)
//!                        │
//!                        ▼
//!                  stack thread: read what waits, lock: receive / poll
//!                                unlock: notify_all, sendmmsg the frames
//! ```
//!
//! Over in-memory cables ([`Stack::over_devices`]) a receiving thread per
//! link feeds the stack's thread through a channel instead (l3-net's
//! `Links::split`): the same loop, one hand-over more.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use l2_link::device::{CableEnd, Device};
use l2_link::sys::PacketSocket;
use l2_link::wire::{EtherType, EthernetFrame, MacAddr};
use l3_net::stack::driver::{Waker, Wakeup};
use l3_net::stack::{Interface, InterfaceConfig, Links};
use l3_net::wire::{IpProtocol, Ipv4Packet};

use super::config::StackConfig;
use super::netstack::NetStack;
use super::trace::{TraceFormatter, TraceRecord};
use crate::tcp::IsnGenerator;
use crate::wire::{TcpFlags, TcpOption, TcpPacket, TcpSeqNumber};

/// At most this many messages are taken from the channel in one round
/// before the stack's thread sends what they called for and wakes the
/// sockets: a burst of frames then costs one lock and one round of
/// wake-ups, not one per frame, and the bound keeps the answers from
/// waiting long.
const BATCH: usize = 64;

/// Counters of the stack's thread, for tests and the curious.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Times the thread woke up (a frame, a wake-up, a timer).
    pub wakeups: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Frames the device refused to send (lost, as on a wire; TCP sends
    /// again).
    pub send_errors: u64,
    /// Pure ACKs not sent because a later ACK of the same connection, in
    /// the same round, acknowledged more. A `--trace` still shows them
    /// (the connection made them); a capture of the wire does not.
    pub acks_coalesced: u64,
}

/// What the sockets and the stack's thread share, behind the mutex.
#[derive(Debug)]
pub(crate) struct Guarded {
    /// The stack.
    pub(crate) stack: NetStack,
    /// The [`Stack`] is being dropped: the thread ends.
    stopping: bool,
    /// Why the thread ended, if the device failed.
    failure: Option<(io::ErrorKind, String)>,
    stats: RuntimeStats,
    /// The trace records kept for [`Stack::take_trace`]
    /// ([`StackConfig::keep_trace`]).
    kept_trace: Vec<TraceRecord>,
}

impl Guarded {
    /// The device's failure, as an error for a socket call.
    pub(crate) fn check(&self) -> io::Result<()> {
        match &self.failure {
            None => Ok(()),
            Some((kind, message)) => Err(io::Error::new(
                *kind,
                format!("the network stack stopped: {message}"),
            )),
        }
    }
}

/// The mutex, the condition variable the sockets sleep on, and the waker
/// that tells the stack's thread to look.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<Guarded>,
    changed: Condvar,
    /// Socket calls sleeping on `changed` right now. The stack's thread
    /// notifies only when there is someone to wake: `notify_all` is a
    /// system call (a futex wake) even when nobody waits, and the thread
    /// goes round once per burst of frames.
    sleepers: AtomicUsize,
    waker: Waker,
}

// ANCHOR: stack
/// Our TCP/IP stack, running: a [`NetStack`] and the thread that drives
/// it. Cheap to clone (all clones are the same stack); the sockets hold a
/// clone, so the stack runs until the last socket and the last clone are
/// gone. See the [module documentation](super) for how it works.
#[derive(Debug, Clone)]
pub struct Stack {
    runtime: Arc<Runtime>,
}

#[derive(Debug)]
struct Runtime {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}
// ANCHOR_END: stack

impl Stack {
    /// Our stack in the lab, or on any interface: `addr`/`prefix_len` and
    /// `mac` on `interface`, through a packet socket; the default
    /// [`StackConfig`]. See [`Stack::open`].
    pub fn open_lab(
        interface: &str,
        mac: MacAddr,
        addr: Ipv4Addr,
        prefix_len: u8,
    ) -> io::Result<Stack> {
        Stack::open(interface, mac, addr, prefix_len, StackConfig::default())
    }

    // ANCHOR: stack_open
    /// Our stack on `interface` through a packet socket (needs
    /// CAP_NET_RAW): a second machine on the same card, with its own `mac`
    /// and `addr`. When `mac` is not the card's own, the card is made
    /// promiscuous, so frames for our MAC reach us (raw's kernel sees them
    /// as PACKET_OTHERHOST and drops them before IP: it never answers or
    /// resets for us).
    pub fn open(
        interface: &str,
        mac: MacAddr,
        addr: Ipv4Addr,
        prefix_len: u8,
        config: StackConfig,
    ) -> io::Result<Stack> {
        let socket = PacketSocket::open(interface)?;
        if mac != socket.mac() {
            socket.set_promiscuous(true)?;
        }
        let interface = InterfaceConfig {
            mac,
            addr,
            prefix_len,
            mtu: socket.mtu(),
        };
        Stack::start(interface, Links::packet_socket(socket)?, config)
    }
    // ANCHOR_END: stack_open

    /// Our stack over two one-way devices: frames leave through `send`
    /// and arrive through `receive` (whose MAC is ours). Two in-memory
    /// [`l2_link::device::Cable`]s, one per direction, make a link between
    /// two stacks in a test; [`Stack::cable_pair`] builds exactly that.
    pub fn over_devices(
        send: impl Device + Send + 'static,
        receive: impl Device + Send + 'static,
        addr: Ipv4Addr,
        prefix_len: u8,
        config: StackConfig,
    ) -> io::Result<Stack> {
        let interface = InterfaceConfig {
            mac: receive.mac(),
            addr,
            prefix_len,
            mtu: send.mtu().min(receive.mtu()),
        };
        Stack::start(interface, Links::split(send, receive)?, config)
    }

    /// Two stacks on one in-memory link (MTU 1500): `a` and `b` are each
    /// one's MAC and address, both on the network `prefix_len` says.
    pub fn cable_pair(
        a: (MacAddr, Ipv4Addr),
        b: (MacAddr, Ipv4Addr),
        prefix_len: u8,
        config: StackConfig,
    ) -> io::Result<(Stack, Stack)> {
        let (a_out, b_in): (CableEnd, CableEnd) = l2_link::device::Cable::pair(a.0, b.0);
        let (b_out, a_in) = l2_link::device::Cable::pair(b.0, a.0);
        let first = Stack::over_devices(a_out, a_in, a.1, prefix_len, config.clone())?;
        let second = Stack::over_devices(b_out, b_in, b.1, prefix_len, config)?;
        Ok((first, second))
    }

    /// Starts the stack's thread.
    fn start(interface: InterfaceConfig, links: Links, config: StackConfig) -> io::Result<Stack> {
        let waker = links
            .waker()
            .ok_or_else(|| io::Error::other("the stack's links cannot be woken"))?;
        let addr = interface.addr;
        let mut interface = Interface::new(interface);
        // Numbers a peer must not predict, and that differ from run to run.
        let random = std::collections::hash_map::RandomState::new();
        interface.set_next_ident(random.hash_one("ip ident") as u16);
        let trace = config.trace;
        let keep_trace = config.keep_trace;
        let stack = NetStack::new(
            interface,
            config,
            IsnGenerator::with_random_key(Instant::now()),
            random.hash_one("ports") as u16,
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(Guarded {
                stack,
                stopping: false,
                failure: None,
                stats: RuntimeStats::default(),
                kept_trace: Vec::new(),
            }),
            changed: Condvar::new(),
            sleepers: AtomicUsize::new(0),
            waker,
        });
        let thread = std::thread::Builder::new()
            .name(format!("stack {addr}"))
            .spawn({
                let shared = Arc::clone(&shared);
                let trace = trace.map(TraceFormatter::new);
                move || run(&shared, links, trace, keep_trace)
            })?;
        Ok(Stack {
            runtime: Arc::new(Runtime {
                shared,
                thread: Some(thread),
            }),
        })
    }

    /// Our IPv4 address.
    pub fn addr(&self) -> Ipv4Addr {
        self.lock().stack.addr()
    }

    /// The MTU of our link.
    pub fn mtu(&self) -> usize {
        self.lock().stack.interface().mtu()
    }

    /// The thread's counters so far.
    pub fn stats(&self) -> RuntimeStats {
        self.lock().stats
    }

    /// Takes the kept trace records of the connection between `local` and
    /// `remote` (everything its connection and the stack recorded about
    /// it, in the order it happened), leaving the others' for later.
    /// Empty unless [`StackConfig::keep_trace`] is set.
    pub fn take_trace(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Vec<TraceRecord> {
        let mut state = self.lock();
        let (taken, kept) = std::mem::take(&mut state.kept_trace)
            .into_iter()
            .partition(|record| record.local == local && record.remote == remote);
        state.kept_trace = kept;
        taken
    }

    /// Runs `f` on the stack, under its lock (to look at it, or to add a
    /// route), then lets the stack's thread act on any change.
    pub fn with<T>(&self, f: impl FnOnce(&mut NetStack) -> T) -> T {
        let result = f(&mut self.lock().stack);
        self.wake();
        result
    }

    /// Locks what the sockets share with the stack's thread. A thread that
    /// panicked while holding the lock leaves the stack as consistent as
    /// any call does, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Guarded> {
        self.runtime
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the stack's thread to look: a socket wrote, read or closed.
    pub(crate) fn wake(&self) {
        self.runtime.shared.waker.wake();
    }

    /// Wakes every socket waiting on the condition variable (one socket's
    /// call changed what another may be waiting for).
    pub(crate) fn notify(&self) {
        self.runtime.shared.changed.notify_all();
    }

    // ANCHOR: block_on
    /// The heart of every blocking call: try `attempt` under the lock;
    /// while it says [`io::ErrorKind::WouldBlock`], sleep on the condition
    /// variable until the stack's thread has news, and try again. Past
    /// `deadline`, give up with `timeout` as the error kind. Whatever the
    /// attempt did, the stack's thread is woken to act on it (send the data
    /// written, the window update after a read, the FIN).
    pub(crate) fn block_on<T>(
        &self,
        deadline: Option<Instant>,
        timeout: io::ErrorKind,
        mut attempt: impl FnMut(&mut NetStack) -> io::Result<T>,
    ) -> io::Result<T> {
        let shared = &self.runtime.shared;
        let mut state = self.lock();
        loop {
            state.check()?;
            match attempt(&mut state.stack) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                result => {
                    drop(state);
                    self.wake();
                    return result;
                }
            }
            let left = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::Error::from(timeout));
                    }
                    Some(left)
                }
            };
            // Counted under the lock, so the stack's thread, which looks
            // at the count after its own round under the same lock, either
            // sees us or ran its round before our attempt (whose outcome
            // then already included that round).
            shared.sleepers.fetch_add(1, Ordering::SeqCst);
            state = match left {
                None => shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(left) => {
                    shared
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            shared.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }
    // ANCHOR_END: block_on
}

impl Drop for Runtime {
    /// The last clone is gone: stop the thread and wait for it.
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stopping = true;
        self.shared.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ANCHOR: runtime_loop
/// The stack's thread: sleep until a frame, a wake-up or the next timer;
/// take whatever else is already waiting (without the lock, so the
/// programs keep reading and writing meanwhile); then, under the lock,
/// hand the stack what came and let it run its timers; then, without the
/// lock, wake the sockets and put the frames on the wire. With nothing to
/// do, `poll_at` is `None` and the thread sleeps until something arrives —
/// no periodic wake-ups at all.
fn run(shared: &Shared, mut links: Links, mut trace: Option<TraceFormatter>, keep_trace: bool) {
    let mut deadline: Option<Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let woke = links.wait(deadline);
        take_batch(&mut links, woke, &mut batch);
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.stats.wakeups += 1;
        hand_over(&mut state, batch.drain(..));
        state.stack.poll(Instant::now());
        let frames = state.stack.drain_transmit();
        // The interface's log (ARP, ICMP) is not shown; drained so that
        // it does not grow.
        state.stack.drain_events();
        let mut records = state.stack.drain_trace();
        // Kept in the order things happened, as printed.
        records.sort_by_key(|record| record.event.at());
        if keep_trace {
            state.kept_trace.extend(records.iter().cloned());
        }
        deadline = state.stack.poll_at();
        let mut frames = frames;
        state.stats.acks_coalesced += coalesce_acks(&mut frames) as u64;
        state.stats.frames_out += frames.len() as u64;
        let stop = state.stopping || state.failure.is_some();
        let anyone_sleeping = shared.sleepers.load(Ordering::SeqCst) > 0;
        drop(state);

        // The trace first, so that its lines come before anything a woken
        // program prints about the same events.
        if let Some(formatter) = &mut trace {
            print_trace(formatter, records);
        }
        if anyone_sleeping {
            shared.changed.notify_all();
        }
        send_frames(shared, &mut links, &frames);
        if stop {
            return;
        }
    }
}
// ANCHOR_END: runtime_loop

/// Collects into `batch` what woke the stack's thread, and whatever else
/// is already waiting on the links, up to [`BATCH`] in all; stops at the
/// first error.
fn take_batch(links: &mut Links, first: io::Result<Wakeup>, batch: &mut Vec<io::Result<Wakeup>>) {
    let mut woke = first;
    loop {
        let failed = woke.is_err();
        batch.push(woke);
        if batch.len() == BATCH || failed {
            return;
        }
        woke = match links.wait(Some(Instant::now())) {
            Ok(Wakeup::TimedOut) => return, // nothing more waiting
            other => other,
        };
    }
}

/// Hands the stack a batch (under the lock): the frames, in the order
/// they came; an error ends the stack, as a failed device.
fn hand_over(state: &mut Guarded, batch: impl Iterator<Item = io::Result<Wakeup>>) {
    for woke in batch {
        match woke {
            Ok(Wakeup::Frame(received)) => {
                state.stats.frames_in += 1;
                state
                    .stack
                    .receive(Instant::now(), &received.frame, received.packet_type);
            }
            Ok(Wakeup::Woken | Wakeup::TimedOut) => {}
            Err(error) => state.failure = Some((error.kind(), error.to_string())),
        }
    }
}

// ANCHOR: coalesce_acks
/// Drops every pure ACK that a later pure ACK of the same connection, in
/// the same round, makes redundant; returns how many were dropped.
///
/// A burst of data segments arrives together (the receive batch) and the
/// connections answer each one as it is handed over — an ACK per segment,
/// as RFC 1122 §4.2.3.2 allows. By the time the round's frames are sent,
/// only the last of those ACKs says anything new: an acknowledgment is
/// cumulative (RFC 9293 §3.4), and the last one also carries the newest
/// window and time stamp. Linux gets the same effect from GRO, which hands
/// TCP a burst as one big segment and so acknowledges it once; smoltcp
/// from answering only after it has read everything waiting. It halves
/// the frames we send while receiving, and the peer's work with them.
///
/// What is never dropped: anything with data, SYN, FIN or RST; an ACK with
/// SACK blocks (it reports a hole); and an ACK whose number the later one
/// does not pass — duplicate ACKs are how a receiver asks for a fast
/// retransmit (RFC 5681 §3.2), each one counts.
pub(crate) fn coalesce_acks(frames: &mut Vec<Vec<u8>>) -> usize {
    // Walking backwards: for each connection, the highest ACK number a
    // later pure ACK will carry.
    let mut later: HashMap<PureAckKey, TcpSeqNumber> = HashMap::new();
    let mut keep = vec![true; frames.len()];
    for (index, frame) in frames.iter().enumerate().rev() {
        let Some((key, ack)) = pure_ack(frame) else {
            continue;
        };
        match later.get_mut(&key) {
            Some(highest) if *highest > ack => keep[index] = false,
            Some(highest) => *highest = highest.max(ack),
            None => {
                later.insert(key, ack);
            }
        }
    }
    let before = frames.len();
    let mut verdicts = keep.into_iter();
    frames.retain(|_| verdicts.next().unwrap_or(true));
    before - frames.len()
}

/// Which connection a pure ACK belongs to: its addresses and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PureAckKey {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
}

/// The connection and ACK number of a frame that is a pure ACK: Ethernet,
/// IPv4 (not a fragment), TCP with only the ACK flag, no data, no SACK
/// blocks. Anything else (or anything that does not parse) is `None`, and
/// is sent as it is.
fn pure_ack(frame: &[u8]) -> Option<(PureAckKey, TcpSeqNumber)> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    if ethernet.ethertype() != EtherType::IPV4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
    if ip.protocol() != IpProtocol::TCP || ip.is_fragment() {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    let only_ack = tcp.flags() == TcpFlags::ACK;
    let sack = tcp
        .options_iter()
        .any(|option| matches!(option, Ok(TcpOption::SackBlocks(_))));
    if !only_ack || !tcp.payload().is_empty() || sack {
        return None;
    }
    let key = PureAckKey {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
    };
    Some((key, tcp.ack_number()))
}
// ANCHOR_END: coalesce_acks

/// Prints trace lines on stderr (sorted in the order things happened).
fn print_trace(formatter: &mut TraceFormatter, records: Vec<TraceRecord>) {
    let mut lines = String::new();
    for record in &records {
        lines.push_str(&formatter.format(record));
        lines.push('\n');
    }
    eprint!("{lines}");
}

/// Puts `frames` on the wire (a packet socket takes them with `sendmmsg`,
/// a batch per system call). A frame the device refuses is lost, as on a
/// real wire (TCP sends it again), and counted.
fn send_frames(shared: &Shared, links: &mut Links, frames: &[Vec<u8>]) {
    let refused = links.send_burst(0, frames) as u64;
    if refused > 0 {
        shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stats
            .send_errors += refused;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{PacketBuilder, TcpOptionElement};

    const OURS: [u8; 4] = [198, 18, 0, 2];
    const PEER: [u8; 4] = [198, 18, 0, 1];

    /// A frame from us to the peer built by etherparse (an independent
    /// encoder): `flags` is "A" (ACK), "FA" (FIN+ACK) or "SA".
    fn segment(src_port: u16, ack: u32, flags: &str, sack: bool, data: &[u8]) -> Vec<u8> {
        let mut tcp = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 0x12], [2, 0, 0, 0, 0, 1])
            .ipv4(OURS, PEER, 64)
            .tcp(src_port, 5001, 1000, 64000)
            .ack(ack);
        if flags.contains('F') {
            tcp = tcp.fin();
        }
        if flags.contains('S') {
            tcp = tcp.syn();
        }
        if sack {
            tcp = tcp
                .options(&[TcpOptionElement::SelectiveAcknowledgement(
                    (ack + 2920, ack + 4380),
                    [None, None, None],
                )])
                .expect("the option fits");
        }
        let mut frame = Vec::new();
        tcp.write(&mut frame, data).expect("etherparse writes");
        frame
    }

    #[test]
    fn only_the_last_of_a_run_of_pure_acks_is_sent() {
        let data = segment(40000, 100, "A", false, b"hello");
        let mut frames = vec![
            segment(40000, 1461, "A", false, &[]),
            segment(40000, 2921, "A", false, &[]),
            data.clone(),
            segment(40000, 4381, "A", false, &[]),
        ];
        let last = frames[3].clone();
        assert_eq!(coalesce_acks(&mut frames), 2);
        // Order kept: the data segment, then the newest ACK.
        assert_eq!(frames, vec![data, last]);
    }

    #[test]
    fn duplicate_acks_are_all_sent() {
        let dup = segment(40000, 1461, "A", false, &[]);
        let mut frames = vec![dup.clone(), dup.clone(), dup.clone()];
        assert_eq!(coalesce_acks(&mut frames), 0);
        assert_eq!(frames.len(), 3);
    }

    #[test]
    fn sack_fin_and_other_connections_are_never_dropped() {
        let mut frames = vec![
            // Reports a hole: kept even though a later ACK passes it.
            segment(40000, 1461, "A", true, &[]),
            // Another connection's ACK: not superseded by ours.
            segment(40001, 1461, "A", false, &[]),
            // A FIN is not a pure ACK.
            segment(40000, 1461, "FA", false, &[]),
            segment(40000, 9000, "A", false, &[]),
        ];
        let before = frames.clone();
        assert_eq!(coalesce_acks(&mut frames), 0);
        assert_eq!(frames, before);
    }

    #[test]
    fn frames_that_do_not_parse_are_left_alone() {
        let mut frames = vec![
            vec![0xff; 10],
            Vec::new(),
            segment(40000, 5, "A", false, &[]),
        ];
        assert_eq!(coalesce_acks(&mut frames), 0);
        assert_eq!(frames.len(), 3);
    }
}
