//! The driver: the one part of `stack` that does I/O. It moves frames
//! between [`Device`]s and a sans-IO stack, and waits — for a frame, or
//! until the stack's next timer ([`Interface::poll_at`]).
//!
//! ```text
//!   loop {
//!       stack.poll(now)                        timers: ARP retries, reassembly
//!       for frame in stack.drain_transmit() {  links.send(port, frame) }
//!       match links.recv(stack.poll_at()) {    wait for a frame or the next timer
//!           Some(rx) => stack.receive(now, rx.port, &rx.frame, rx.packet_type),
//!           None => {}                         a timer is due (or Ctrl-C)
//!       }
//!   }
//! ```
//!
//! The examples write that loop out, so a reader sees it; [`Links`] is the
//! waiting. With one device it is a plain blocking `recv` with a deadline.
//! With several (a router), one thread per device blocks in `recv` and
//! passes frames through a channel to the stack's thread, which sends
//! through a shared reference to the device: no busy polling, no CPU used
//! while the links are quiet, and no `unsafe` `poll()` over several
//! descriptors. The stack itself stays on one thread.
//!
//! A stack that serves programs (layer 4's sockets) has a second kind of
//! news besides frames: "I wrote data, send it". Such a stack waits on the
//! same channel with [`Links::wait`], and a program's thread puts a wake-up
//! into it with a [`Waker`]. Its receiving threads ([`Links::shared_quiet`],
//! [`Links::split`]) block with no deadline at all, so a stack with nothing
//! to do never runs: no thread wakes up until a frame, a wake-up or the
//! stack's own next timer.
//!
//! ```text
//!   device ──recv──► receive thread ──┐
//!                                     ├──► channel ──► stack thread: wait(next timer)
//!   program ──Waker::wake()───────────┘
//! ```
//!
//! A packet socket needs no receiving thread: its descriptor can be
//! polled. [`Links::packet_socket`] makes the stack's own thread wait in
//! one `poll` on the socket and on an `eventfd` ([`WakeFd`]) that the
//! [`Waker`] writes to; once awake, it reads every frame waiting without
//! blocking, and [`Links::send_burst`] sends a round's frames with one
//! `sendmmsg`. One thread, like smoltcp's loop: no hand-over per frame.
//!
//! ```text
//!   device ────────────────┐
//!                          ├──► poll ──► stack thread: try_recv until empty
//!   program ──Waker::wake()──► eventfd
//! ```
//!
//! [`Interface::poll_at`]: super::Interface::poll_at

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use std::os::fd::AsFd;

use l2_link::device::{Device, PacketType, RxMeta};
use l2_link::sys::PacketSocket;
use l2_link::sys::socket_util::wait_readable_any;

use crate::sys::WakeFd;

/// Room for any frame: far more than an Ethernet frame, so nothing is cut.
const FRAME_BUFFER: usize = 65536;

/// How often a waiting thread looks up to see whether it should stop
/// (Ctrl-C, or the links being dropped). Waiting in a channel cannot be
/// interrupted by a signal, so this bounds how long Ctrl-C takes.
pub const STOP_CHECK: Duration = Duration::from_millis(100);

/// A device that one thread can send on while another waits to receive on
/// it: a kernel socket, whose calls take `&self`. ([`Device`] takes `&mut
/// self`, which a device shared between threads cannot give.)
pub trait SharedDevice: Send + Sync + 'static {
    /// Sends one whole frame.
    fn send(&self, frame: &[u8]) -> io::Result<()>;
    /// Receives one frame, waiting until `deadline`.
    fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>>;
}

impl SharedDevice for PacketSocket {
    fn send(&self, frame: &[u8]) -> io::Result<()> {
        PacketSocket::send(self, frame)
    }

    fn recv(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        PacketSocket::recv(self, buf, deadline)
    }
}

/// One frame from one of the links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Which link (its index in the list the [`Links`] were made from).
    pub port: usize,
    /// The frame.
    pub frame: Vec<u8>,
    /// How the kernel classified it.
    pub packet_type: PacketType,
    /// When it arrived (wall clock, for pcap files).
    pub timestamp: SystemTime,
}

/// What [`Links::wait`] returns: why the stack's thread woke up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wakeup {
    /// A frame arrived.
    Frame(Received),
    /// Someone called [`Waker::wake`] (or, with [`Links::one`], a signal
    /// interrupted the wait).
    Woken,
    /// The deadline passed: a timer of the stack is due.
    TimedOut,
}

/// What travels through the channel to the stack's thread.
enum Message {
    /// A frame, or the error that ended a receiving thread.
    Frame(io::Result<Received>),
    /// A [`Waker`] was used.
    Wake,
}

// ANCHOR: waker
/// A handle that wakes the thread waiting in [`Links::wait`] (or
/// [`Links::recv`]): it puts a wake-up into the channel the receiving
/// threads put frames into, or, for [`Links::packet_socket`], makes the
/// `eventfd` the thread polls readable. Cheap to clone, and `Send`, so
/// every socket of a stack can hold one.
///
/// Wake-ups coalesce: while one is waiting in the channel, more calls add
/// nothing, so a program writing byte by byte cannot flood the channel.
/// The stack's thread clears the flag when it takes the wake-up, *before*
/// it looks at the stack, so a change made after that look always brings a
/// new wake-up.
#[derive(Clone)]
pub struct Waker {
    target: WakeTarget,
    pending: Arc<AtomicBool>,
}

/// Where a [`Waker`] puts its wake-up.
#[derive(Clone)]
enum WakeTarget {
    /// Into the channel of threaded links.
    Channel(mpsc::Sender<Message>),
    /// Into the eventfd that a polling stack thread waits on.
    Fd(Arc<WakeFd>),
}

impl Waker {
    /// Wakes the stack's thread (at once if it waits, else after the work
    /// it is doing). Does nothing once the links are gone.
    pub fn wake(&self) {
        if !self.pending.swap(true, Ordering::SeqCst) {
            // The links may be gone (the stack stopped): nobody to wake.
            match &self.target {
                WakeTarget::Channel(sender) => {
                    let _ = sender.send(Message::Wake);
                }
                WakeTarget::Fd(fd) => {
                    let _ = fd.wake();
                }
            }
        }
    }
}
// ANCHOR_END: waker

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker")
            .field("pending", &self.pending.load(Ordering::SeqCst))
            .finish()
    }
}

/// The devices a stack runs over.
pub struct Links {
    inner: Inner,
}

enum Inner {
    One {
        device: Box<dyn Device + Send>,
        buf: Vec<u8>,
    },
    /// One packet socket, polled by the stack's own thread together with
    /// the wake-up descriptor ([`Links::packet_socket`]).
    Polled(Box<Polled>),
    Threaded {
        transmit: Vec<Transmit>,
        messages: mpsc::Receiver<Message>,
        waker: Waker,
        stop: Arc<AtomicBool>,
        /// Receiving threads that look at `stop` every [`STOP_CHECK`], and
        /// so can be joined. Quiet ones ([`Links::shared_quiet`],
        /// [`Links::split`]) are not kept: they end at their device's next
        /// frame or error.
        threads: Vec<JoinHandle<()>>,
    },
}

/// A packet socket and the eventfd its [`Waker`]s write to.
struct Polled {
    socket: PacketSocket,
    wake_fd: Arc<WakeFd>,
    waker: Waker,
    buf: Vec<u8>,
    /// The last `try_recv` found nothing: a wait whose deadline has
    /// passed need not ask again, and one that blocks goes straight to
    /// `poll`.
    known_empty: bool,
}

impl Polled {
    // ANCHOR: polled_wait
    /// Waits for a frame, a wake-up or `deadline`: frames already waiting
    /// are read without blocking; only when there are none does the thread
    /// sleep, in one `poll` on the socket and the eventfd.
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Wakeup> {
        loop {
            // A wake-up noticed without a system call. Cleared before the
            // caller looks at its stack, as in the threaded links.
            if self.waker.pending.load(Ordering::SeqCst) {
                return self.take_wake_up();
            }
            if !self.known_empty {
                if let Some(meta) = self.socket.try_recv(&mut self.buf)? {
                    return Ok(Wakeup::Frame(received(0, &self.buf[..meta.len], meta)));
                }
                self.known_empty = true;
            }
            if deadline.is_some_and(|deadline| deadline <= Instant::now()) {
                return Ok(Wakeup::TimedOut);
            }
            let fds = [self.socket.as_fd(), self.wake_fd.as_fd()];
            match wait_readable_any(fds, deadline) {
                Ok(None) => return Ok(Wakeup::TimedOut),
                Ok(Some([frame, woken])) => {
                    if woken {
                        return self.take_wake_up();
                    }
                    self.known_empty = !frame;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(Wakeup::Woken),
                Err(err) => return Err(err),
            }
        }
    }
    // ANCHOR_END: polled_wait

    /// Takes a wake-up: the flag first, then the eventfd's counter. A
    /// `wake()` between the two writes to the eventfd after it was
    /// cleared, and only costs one more round.
    fn take_wake_up(&mut self) -> io::Result<Wakeup> {
        self.waker.pending.store(false, Ordering::SeqCst);
        self.wake_fd.clear()?;
        // Frames may have come while we were busy.
        self.known_empty = false;
        Ok(Wakeup::Woken)
    }

    /// Sends `frames` with `sendmmsg`, a batch per call; a frame the
    /// kernel refuses is skipped. Returns how many were refused.
    fn send_burst(&self, frames: &[Vec<u8>]) -> usize {
        let slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let (mut next, mut refused) = (0, 0);
        while next < slices.len() {
            match self.socket.send_batch(&slices[next..]) {
                Ok(0) | Err(_) => {
                    // The first frame of the batch was refused.
                    refused += 1;
                    next += 1;
                }
                Ok(sent) => next += sent,
            }
        }
        refused
    }
}

/// Where a threaded link sends from.
enum Transmit {
    /// A device shared with its receiving thread.
    Shared(Arc<dyn SharedDevice>),
    /// A one-way device of its own ([`Links::split`]).
    Owned(Box<dyn Device + Send>),
}

impl Links {
    /// One device of any kind (a packet socket, one end of an in-memory
    /// cable): receiving blocks in the device itself.
    pub fn one(device: impl Device + Send + 'static) -> Links {
        Links {
            inner: Inner::One {
                device: Box::new(device),
                buf: vec![0; FRAME_BUFFER],
            },
        }
    }

    /// One packet socket, waited on by the stack's own thread: no
    /// receiving thread, no channel. The thread sleeps in one `poll` on
    /// the socket and on an `eventfd` that the [`Waker`] writes to, with
    /// no periodic wake-ups; awake, it reads the frames waiting without
    /// blocking, one `recvmsg` each.
    pub fn packet_socket(socket: PacketSocket) -> io::Result<Links> {
        let wake_fd = Arc::new(WakeFd::new()?);
        let waker = Waker {
            target: WakeTarget::Fd(Arc::clone(&wake_fd)),
            pending: Arc::new(AtomicBool::new(false)),
        };
        Ok(Links {
            inner: Inner::Polled(Box::new(Polled {
                socket,
                wake_fd,
                waker,
                buf: vec![0; FRAME_BUFFER],
                known_empty: false,
            })),
        })
    }

    // ANCHOR: links_shared
    /// Several devices, each with a receiving thread of its own.
    pub fn shared(devices: Vec<Arc<dyn SharedDevice>>) -> io::Result<Links> {
        Links::threaded(devices, Some(STOP_CHECK))
    }
    // ANCHOR_END: links_shared

    /// Like [`Links::shared`], but the receiving threads never wake up by
    /// themselves: each blocks in its device's `recv` with no deadline, so
    /// quiet links cost no CPU at all. The price: such a thread cannot be
    /// told to stop while it waits. Dropping the links abandons it, and it
    /// ends at its device's next frame (finding nobody to give it to) or
    /// error. Meant for a stack that lives as long as its program.
    pub fn shared_quiet(devices: Vec<Arc<dyn SharedDevice>>) -> io::Result<Links> {
        Links::threaded(devices, None)
    }

    /// One link made of two one-way devices: frames go out through `send`,
    /// and come in through `receive`, which its receiving thread owns and
    /// blocks on with no deadline (as [`Links::shared_quiet`]). Two
    /// in-memory cables, one per direction, make a full-duplex link of
    /// devices that cannot be shared between threads; when one side's
    /// links are dropped, its `send` end goes with them, and the other
    /// side's receiving thread sees the cable unplugged and ends.
    pub fn split(
        send: impl Device + Send + 'static,
        receive: impl Device + Send + 'static,
    ) -> io::Result<Links> {
        let (waker, sender, messages, stop) = Links::channel();
        let stopping = Arc::clone(&stop);
        let mut receive = receive;
        std::thread::Builder::new()
            .name("link 0".to_string())
            .spawn(move || {
                let recv = |buf: &mut [u8], deadline| receive.recv(buf, deadline);
                receive_forever(0, recv, &sender, &stopping, None);
            })?;
        Ok(Links {
            inner: Inner::Threaded {
                transmit: vec![Transmit::Owned(Box::new(send))],
                messages,
                waker,
                stop,
                threads: Vec::new(),
            },
        })
    }

    /// The channel of a threaded `Links` (its waker, a sending end for
    /// the receiving threads, its receiving end), and its stop flag.
    fn channel() -> (
        Waker,
        mpsc::Sender<Message>,
        mpsc::Receiver<Message>,
        Arc<AtomicBool>,
    ) {
        let (sender, messages) = mpsc::channel();
        let waker = Waker {
            target: WakeTarget::Channel(sender.clone()),
            pending: Arc::new(AtomicBool::new(false)),
        };
        (waker, sender, messages, Arc::new(AtomicBool::new(false)))
    }

    /// A receiving thread per shared device; `check_every` is how often
    /// they look at the stop flag (never, if `None`).
    fn threaded(
        devices: Vec<Arc<dyn SharedDevice>>,
        check_every: Option<Duration>,
    ) -> io::Result<Links> {
        let (waker, sender, messages, stop) = Links::channel();
        let mut threads = Vec::new();
        for (port, device) in devices.iter().enumerate() {
            let (device, sender, stop) = (Arc::clone(device), sender.clone(), Arc::clone(&stop));
            let thread = std::thread::Builder::new()
                .name(format!("link {port}"))
                .spawn(move || {
                    let recv = |buf: &mut [u8], deadline| device.recv(buf, deadline);
                    receive_forever(port, recv, &sender, &stop, check_every);
                })?;
            if check_every.is_some() {
                threads.push(thread);
            }
        }
        Ok(Links {
            inner: Inner::Threaded {
                transmit: devices.into_iter().map(Transmit::Shared).collect(),
                messages,
                waker,
                stop,
                threads,
            },
        })
    }

    /// A [`Waker`] for the thread that waits on these links; `None` for
    /// [`Links::one`], whose waiting happens inside the device, where no
    /// other thread can reach it.
    pub fn waker(&self) -> Option<Waker> {
        match &self.inner {
            Inner::One { .. } => None,
            Inner::Polled(polled) => Some(polled.waker.clone()),
            Inner::Threaded { waker, .. } => Some(waker.clone()),
        }
    }

    /// Sends `frame` out of link `port`.
    pub fn send(&mut self, port: usize, frame: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Inner::One { device, .. } if port == 0 => device.send(frame),
            Inner::Polled(polled) if port == 0 => polled.socket.send(frame),
            Inner::Polled(_) => Err(no_link(port)),
            Inner::Threaded { transmit, .. } => match transmit.get_mut(port) {
                Some(Transmit::Shared(device)) => device.send(frame),
                Some(Transmit::Owned(device)) => device.send(frame),
                None => Err(no_link(port)),
            },
            Inner::One { .. } => Err(no_link(port)),
        }
    }

    /// Sends a round's `frames` out of link `port`, and returns how many
    /// the device refused (each is lost, as on a wire). A packet socket
    /// ([`Links::packet_socket`]) sends them with `sendmmsg`, up to
    /// [`PacketSocket::MAX_BATCH`] frames per system call; other devices
    /// one [`send`](Links::send) each.
    pub fn send_burst(&mut self, port: usize, frames: &[Vec<u8>]) -> usize {
        match &mut self.inner {
            Inner::Polled(polled) if port == 0 => polled.send_burst(frames),
            _ => frames
                .iter()
                .filter(|frame| self.send(port, frame).is_err())
                .count(),
        }
    }

    /// Waits for the next frame until `deadline` (forever if `None`).
    /// `Ok(None)` when the deadline passed, when a signal interrupted the
    /// wait, or after at most [`STOP_CHECK`] with several links: the caller
    /// looks at its clock and its Ctrl-C flag, and calls again.
    pub fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Received>> {
        match &mut self.inner {
            Inner::One { device, buf } => match device.recv(buf, deadline) {
                Ok(Some(meta)) => Ok(Some(received(0, &buf[..meta.len], meta))),
                Ok(None) => Ok(None),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(None),
                Err(err) => Err(err),
            },
            Inner::Polled(polled) => match polled.wait(deadline)? {
                Wakeup::Frame(received) => Ok(Some(received)),
                Wakeup::Woken | Wakeup::TimedOut => Ok(None),
            },
            Inner::Threaded {
                messages, waker, ..
            } => {
                let now = Instant::now();
                let wait = deadline
                    .map_or(STOP_CHECK, |d| d.saturating_duration_since(now))
                    .min(STOP_CHECK);
                match messages.recv_timeout(wait) {
                    Ok(Message::Frame(received)) => received.map(Some),
                    Ok(Message::Wake) => {
                        waker.pending.store(false, Ordering::SeqCst);
                        Ok(None)
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(all_stopped()),
                }
            }
        }
    }

    // ANCHOR: links_wait
    /// Waits for a frame, a wake-up or `deadline` (forever if `None`),
    /// whichever comes first. Unlike [`recv`](Links::recv), it never wakes
    /// up early to look for Ctrl-C: a stack that waits here wants no
    /// periodic wake-ups at all. A `deadline` already past does not block:
    /// it takes what is waiting, or says [`Wakeup::TimedOut`].
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Wakeup> {
        match &mut self.inner {
            Inner::One { device, buf } => match device.recv(buf, deadline) {
                Ok(Some(meta)) => Ok(Wakeup::Frame(received(0, &buf[..meta.len], meta))),
                Ok(None) => Ok(Wakeup::TimedOut),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(Wakeup::Woken),
                Err(err) => Err(err),
            },
            Inner::Polled(polled) => polled.wait(deadline),
            Inner::Threaded {
                messages, waker, ..
            } => {
                let message = match deadline {
                    None => messages.recv().map_err(|_| all_stopped())?,
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        let next = if left.is_zero() {
                            messages.try_recv().map_err(|err| match err {
                                mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
                                mpsc::TryRecvError::Disconnected => {
                                    mpsc::RecvTimeoutError::Disconnected
                                }
                            })
                        } else {
                            messages.recv_timeout(left)
                        };
                        match next {
                            Ok(message) => message,
                            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(Wakeup::TimedOut),
                            Err(mpsc::RecvTimeoutError::Disconnected) => {
                                return Err(all_stopped());
                            }
                        }
                    }
                };
                match message {
                    Message::Frame(received) => received.map(Wakeup::Frame),
                    Message::Wake => {
                        // Cleared before the caller looks at its stack:
                        // whatever changes after that look wakes us again.
                        waker.pending.store(false, Ordering::SeqCst);
                        Ok(Wakeup::Woken)
                    }
                }
            }
        }
    }
    // ANCHOR_END: links_wait
}

impl Drop for Links {
    /// Stops the receiving threads: those of [`Links::shared`] notice
    /// within [`STOP_CHECK`] and are joined; quiet ones are abandoned (see
    /// [`Links::shared_quiet`]).
    fn drop(&mut self) {
        if let Inner::Threaded { stop, threads, .. } = &mut self.inner {
            stop.store(true, Ordering::SeqCst);
            for thread in threads.drain(..) {
                let _ = thread.join();
            }
        }
    }
}

/// The error for a port that does not exist.
fn no_link(port: usize) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("no link {port}"))
}

/// The error once no receiving thread (and no waker) is left.
fn all_stopped() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "every link's receiving thread has stopped",
    )
}

/// A [`Received`] from a frame and its metadata.
fn received(port: usize, frame: &[u8], meta: RxMeta) -> Received {
    Received {
        port,
        frame: frame.to_vec(),
        packet_type: meta.packet_type,
        timestamp: meta.timestamp,
    }
}

/// A link's receiving thread: every frame into the channel, until told to
/// stop, the device fails (the error goes into the channel too), or nobody
/// listens any more. It looks at `stop` every `check_every`; with `None`
/// it blocks until a frame comes.
fn receive_forever(
    port: usize,
    mut recv: impl FnMut(&mut [u8], Option<Instant>) -> io::Result<Option<RxMeta>>,
    messages: &mpsc::Sender<Message>,
    stop: &AtomicBool,
    check_every: Option<Duration>,
) {
    let mut buf = vec![0u8; FRAME_BUFFER];
    while !stop.load(Ordering::SeqCst) {
        let deadline = check_every.map(|every| Instant::now() + every);
        let frame = match recv(&mut buf, deadline) {
            Ok(Some(meta)) => Ok(received(port, &buf[..meta.len], meta)),
            Ok(None) => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Err(err),
        };
        let failed = frame.is_err();
        if messages.send(Message::Frame(frame)).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2_link::device::{Cable, CableEnd};
    use l2_link::wire::MacAddr;

    #[test]
    fn one_link_carries_frames_both_ways_and_times_out() {
        let (a, mut b) = Cable::pair(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]));
        let mut links = Links::one(a);
        let frame = [0xffu8; 60];
        links.send(0, &frame).unwrap();
        let mut buf = [0u8; 100];
        let meta = b.recv(&mut buf, Some(Instant::now())).unwrap().unwrap();
        assert_eq!(&buf[..meta.len], &frame[..]);
        assert!(links.send(1, &frame).is_err());

        b.send(&[0x02; 60]).unwrap();
        let got = links
            .recv(Some(Instant::now() + STOP_CHECK))
            .unwrap()
            .unwrap();
        assert_eq!((got.port, got.frame.len()), (0, 60));
        let start = Instant::now();
        assert_eq!(
            links.recv(Some(start + Duration::from_millis(20))).unwrap(),
            None
        );
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    fn pair() -> (CableEnd, CableEnd) {
        Cable::pair(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]))
    }

    #[test]
    fn a_waker_ends_a_wait_without_a_deadline_and_wake_ups_coalesce() {
        let (ours, _theirs) = pair();
        let (_out, unused) = pair();
        let mut links = Links::split(unused, ours).unwrap();
        let waker = links.waker().expect("threaded links have a waker");
        let other = waker.clone();
        // A wake() from another thread ends a wait that has no deadline.
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            other.wake();
        });
        let start = Instant::now();
        assert_eq!(links.wait(None).unwrap(), Wakeup::Woken);
        assert!(start.elapsed() >= Duration::from_millis(30));
        thread.join().unwrap();
        // Wakes that come while one is pending collapse into it. (Both
        // from this thread: from another, the second could land after
        // the first was taken, and rightly count again.)
        waker.wake();
        waker.wake();
        assert_eq!(links.wait(Some(Instant::now())).unwrap(), Wakeup::Woken);
        assert_eq!(
            links.wait(Some(Instant::now())).unwrap(),
            Wakeup::TimedOut,
            "the second wake() added nothing while the first was pending"
        );
        // Taken, so the next wake() counts again.
        waker.wake();
        assert_eq!(links.wait(Some(Instant::now())).unwrap(), Wakeup::Woken);
    }

    #[test]
    fn split_links_send_on_one_cable_and_receive_on_the_other() {
        let (a_out, mut b_in) = pair();
        let (mut b_out, a_in) =
            Cable::pair(MacAddr([2, 0, 0, 0, 0, 2]), MacAddr([2, 0, 0, 0, 0, 1]));
        let mut links = Links::split(a_out, a_in).unwrap();
        links.send(0, &[0xff; 60]).unwrap();
        let mut buf = [0u8; 100];
        let meta = b_in.recv(&mut buf, Some(Instant::now())).unwrap().unwrap();
        assert_eq!(meta.len, 60);
        assert!(links.send(1, &[0xff; 60]).is_err());

        b_out.send(&[0x02; 60]).unwrap();
        match links
            .wait(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap()
        {
            Wakeup::Frame(got) => assert_eq!((got.port, got.frame.len()), (0, 60)),
            other => panic!("expected a frame, got {other:?}"),
        }
        let start = Instant::now();
        let deadline = start + Duration::from_millis(20);
        assert_eq!(links.wait(Some(deadline)).unwrap(), Wakeup::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(20));

        // Unplugging the other end ends the receiving thread, with the
        // error in the channel.
        drop(b_out);
        assert!(links.wait(None).is_err());
    }

    #[test]
    fn the_one_device_links_have_no_waker() {
        let (a, _b) = pair();
        assert!(Links::one(a).waker().is_none());
    }
}
