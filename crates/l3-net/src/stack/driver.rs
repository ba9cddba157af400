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
//! [`Interface::poll_at`]: super::Interface::poll_at

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use l2_link::device::{Device, PacketType, RxMeta};
use l2_link::sys::PacketSocket;

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

/// The devices a stack runs over.
pub struct Links {
    inner: Inner,
}

enum Inner {
    One {
        device: Box<dyn Device + Send>,
        buf: Vec<u8>,
    },
    Many {
        devices: Vec<Arc<dyn SharedDevice>>,
        frames: mpsc::Receiver<io::Result<Received>>,
        stop: Arc<AtomicBool>,
        threads: Vec<JoinHandle<()>>,
    },
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

    // ANCHOR: links_shared
    /// Several devices, each with a receiving thread of its own.
    pub fn shared(devices: Vec<Arc<dyn SharedDevice>>) -> io::Result<Links> {
        let (sender, frames) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (port, device) in devices.iter().enumerate() {
            let (device, sender, stop) = (Arc::clone(device), sender.clone(), Arc::clone(&stop));
            let thread = std::thread::Builder::new()
                .name(format!("link {port}"))
                .spawn(move || receive_forever(port, &*device, &sender, &stop))?;
            threads.push(thread);
        }
        Ok(Links {
            inner: Inner::Many {
                devices,
                frames,
                stop,
                threads,
            },
        })
    }
    // ANCHOR_END: links_shared

    /// Sends `frame` out of link `port`.
    pub fn send(&mut self, port: usize, frame: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Inner::One { device, .. } if port == 0 => device.send(frame),
            Inner::Many { devices, .. } if port < devices.len() => devices[port].send(frame),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no link {port}"),
            )),
        }
    }

    /// Waits for the next frame until `deadline` (forever if `None`).
    /// `Ok(None)` when the deadline passed, when a signal interrupted the
    /// wait, or after at most [`STOP_CHECK`] with several links: the caller
    /// looks at its clock and its Ctrl-C flag, and calls again.
    pub fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Received>> {
        match &mut self.inner {
            Inner::One { device, buf } => match device.recv(buf, deadline) {
                Ok(Some(meta)) => Ok(Some(Received {
                    port: 0,
                    frame: buf[..meta.len].to_vec(),
                    packet_type: meta.packet_type,
                    timestamp: meta.timestamp,
                })),
                Ok(None) => Ok(None),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(None),
                Err(err) => Err(err),
            },
            Inner::Many { frames, .. } => {
                let now = Instant::now();
                let wait = deadline
                    .map_or(STOP_CHECK, |d| d.saturating_duration_since(now))
                    .min(STOP_CHECK);
                match frames.recv_timeout(wait) {
                    Ok(received) => received.map(Some),
                    Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "every link's receiving thread has stopped",
                    )),
                }
            }
        }
    }
}

impl Drop for Links {
    /// Stops the receiving threads (each notices within [`STOP_CHECK`]).
    fn drop(&mut self) {
        if let Inner::Many { stop, threads, .. } = &mut self.inner {
            stop.store(true, Ordering::SeqCst);
            for thread in threads.drain(..) {
                let _ = thread.join();
            }
        }
    }
}

/// A link's receiving thread: every frame into the channel, until told to
/// stop or the device fails (the error goes into the channel too).
fn receive_forever(
    port: usize,
    device: &dyn SharedDevice,
    frames: &mpsc::Sender<io::Result<Received>>,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; FRAME_BUFFER];
    while !stop.load(Ordering::SeqCst) {
        let received = match device.recv(&mut buf, Some(Instant::now() + STOP_CHECK)) {
            Ok(Some(meta)) => Ok(Received {
                port,
                frame: buf[..meta.len].to_vec(),
                packet_type: meta.packet_type,
                timestamp: meta.timestamp,
            }),
            Ok(None) => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Err(err),
        };
        let failed = received.is_err();
        if frames.send(received).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2_link::device::Cable;
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
}
