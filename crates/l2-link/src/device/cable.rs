//! Two devices joined by an in-memory cable, for tests: what one end sends,
//! the other receives.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use super::{Device, PacketType, RxMeta};
use crate::wire::MacAddr;

/// Bytes of an Ethernet II header: destination MAC, source MAC, EtherType.
const ETHERNET_HEADER_LEN: usize = 14;
/// Bytes an 802.1Q tag adds (TPID + TCI) after the source MAC.
const VLAN_TAG_LEN: usize = 4;
/// Offset of the EtherType (or the 802.1Q TPID) in a frame.
const ETHERTYPE_OFFSET: usize = 12;
/// The TPID that marks an 802.1Q-tagged frame.
const TPID_8021Q: [u8; 2] = [0x81, 0x00];

/// How to build a cable: its MTU and how many frames each end's receive
/// queue holds. [`Cable::pair`] is the common case.
///
/// The cable delivers instantly and in order, and never touches a frame; it
/// checks lengths as the kernel does for a packet socket. Add loss and
/// disorder with [`super::Faulty`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cable {
    mtu: usize,
    queue_capacity: usize,
}

impl Default for Cable {
    fn default() -> Self {
        Cable {
            mtu: 1500,
            queue_capacity: 1024,
        }
    }
}

impl Cable {
    /// A cable with MTU 1500 and room for 1024 frames at each end.
    pub fn new() -> Cable {
        Cable::default()
    }

    /// Two ends of a default cable, with these MACs.
    // ANCHOR: cable_pair
    pub fn pair(mac_a: MacAddr, mac_b: MacAddr) -> (CableEnd, CableEnd) {
        Cable::new().connect(mac_a, mac_b)
    }
    // ANCHOR_END: cable_pair

    /// Set the MTU both ends report and enforce (the lab's lab2/lab3 use 1280).
    pub fn mtu(self, mtu: usize) -> Cable {
        Cable { mtu, ..self }
    }

    /// Set how many unreceived frames an end holds before it drops new ones,
    /// as a socket with a full receive buffer does.
    pub fn queue_capacity(self, frames: usize) -> Cable {
        Cable {
            queue_capacity: frames,
            ..self
        }
    }

    /// Make the cable: the two ends, with these MACs.
    pub fn connect(self, mac_a: MacAddr, mac_b: MacAddr) -> (CableEnd, CableEnd) {
        let a_to_b = Arc::new(Lane::new(self.queue_capacity));
        let b_to_a = Arc::new(Lane::new(self.queue_capacity));
        let a = CableEnd {
            mac: mac_a,
            mtu: self.mtu,
            outgoing: Arc::clone(&a_to_b),
            incoming: Arc::clone(&b_to_a),
        };
        let b = CableEnd {
            mac: mac_b,
            mtu: self.mtu,
            outgoing: b_to_a,
            incoming: a_to_b,
        };
        (a, b)
    }
}

/// One end of a [`Cable`]: a [`Device`] that can move to another thread.
///
/// Receiving classifies each frame by its destination MAC against this
/// end's own ([`PacketType::for_destination`]), and stamps it with the time
/// it was sent. When the other end is dropped, frames sent fall off the
/// cable, and `recv` fails with `NotConnected` once the queue is empty.
#[derive(Debug)]
pub struct CableEnd {
    mac: MacAddr,
    mtu: usize,
    outgoing: Arc<Lane>,
    incoming: Arc<Lane>,
}

/// One direction of the cable: a queue, and a condition variable to wake a
/// receiver waiting on it.
#[derive(Debug)]
struct Lane {
    state: Mutex<LaneState>,
    arrived: Condvar,
}

#[derive(Debug)]
struct LaneState {
    frames: VecDeque<InFlight>,
    capacity: usize,
    dropped: u64,
    sender_gone: bool,
    receiver_gone: bool,
}

#[derive(Debug)]
struct InFlight {
    data: Vec<u8>,
    sent_at: SystemTime,
}

impl Lane {
    fn new(capacity: usize) -> Lane {
        Lane {
            state: Mutex::new(LaneState {
                frames: VecDeque::new(),
                capacity,
                dropped: 0,
                sender_gone: false,
                receiver_gone: false,
            }),
            arrived: Condvar::new(),
        }
    }

    /// Lock the queue. A thread that panicked while holding it (a failing
    /// test) leaves it consistent, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, LaneState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CableEnd {
    /// Frames this end sent that the other end has not received yet.
    pub fn in_flight(&self) -> usize {
        self.outgoing.lock().frames.len()
    }

    /// Frames waiting for this end to receive them.
    pub fn pending(&self) -> usize {
        self.incoming.lock().frames.len()
    }

    /// Frames dropped at this end because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.incoming.lock().dropped
    }

    /// The largest frame this cable carries: header plus MTU, plus a tag's
    /// four bytes for a tagged frame (the kernel's rule for packet sockets).
    fn max_frame_len(&self, frame: &[u8]) -> usize {
        let tagged = frame.get(ETHERTYPE_OFFSET..ETHERTYPE_OFFSET + 2) == Some(&TPID_8021Q[..]);
        ETHERNET_HEADER_LEN + self.mtu + if tagged { VLAN_TAG_LEN } else { 0 }
    }
}

impl Device for CableEnd {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        if frame.len() < ETHERNET_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a {}-byte frame is shorter than an Ethernet header",
                    frame.len()
                ),
            ));
        }
        if frame.len() > self.max_frame_len(frame) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a {}-byte frame exceeds the cable's MTU ({}) plus the Ethernet header",
                    frame.len(),
                    self.mtu
                ),
            ));
        }
        let mut lane = self.outgoing.lock();
        if lane.receiver_gone {
            return Ok(()); // Nobody at the other end: the frame is lost, as on a real cable.
        }
        if lane.frames.len() >= lane.capacity {
            lane.dropped += 1;
            return Ok(());
        }
        lane.frames.push_back(InFlight {
            data: frame.to_vec(),
            sent_at: SystemTime::now(),
        });
        drop(lane);
        self.outgoing.arrived.notify_all();
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        let mut lane = self.incoming.lock();
        loop {
            if let Some(frame) = lane.frames.pop_front() {
                let len = frame.data.len().min(buf.len());
                buf[..len].copy_from_slice(&frame.data[..len]);
                let mut destination = [0u8; 6];
                destination.copy_from_slice(&frame.data[..6]); // send() checked ≥ 14 bytes
                return Ok(Some(RxMeta {
                    len,
                    original_len: frame.data.len(),
                    packet_type: PacketType::for_destination(MacAddr(destination), self.mac),
                    timestamp: frame.sent_at,
                    vlan_tci: None,
                    checksum_not_ready: false,
                }));
            }
            if lane.sender_gone {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the other end of the cable was dropped",
                ));
            }
            lane = match deadline {
                None => self
                    .incoming
                    .arrived
                    .wait(lane)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(None);
                    }
                    self.incoming
                        .arrived
                        .wait_timeout(lane, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }
}

impl Drop for CableEnd {
    /// Unplug this end: wake a receiver waiting at the other end, and stop
    /// queueing frames nobody will read.
    fn drop(&mut self) {
        self.outgoing.lock().sender_gone = true;
        self.outgoing.arrived.notify_all();
        let mut incoming = self.incoming.lock();
        incoming.receiver_gone = true;
        incoming.frames.clear();
    }
}
