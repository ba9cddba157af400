//! Our stack on a packet socket that loses frames on purpose: `tcp-client
//! --loss 5 --seed 1` drops one frame in twenty of its own, going out and
//! coming in, so that a learner can watch TCP recover on a real
//! connection with a real kernel at the other end (the lab's kernels have
//! no netem to do it for us).
//!
//! The dropping is l2-link's [`Faulty`] device, seeded, so a run can be
//! replayed. `Faulty` wraps a [`Device`], which sends and receives through
//! `&mut self`: it cannot be shared between the stack's thread (sending)
//! and the receiving thread (blocked in `recv`, with no deadline, for as
//! long as the link is quiet). A `Mutex` around it would not do either —
//! the receiving thread would hold it while it waits, and nothing could
//! be sent. So the link is built as two one-way devices, the way
//! [`Stack::over_devices`] takes them: both halves share the one packet
//! socket (whose calls take `&self`), and each half has a `Faulty` of its
//! own — the sending one damages what we send, the receiving one (with
//! [`FaultConfig::on_receive`]) what arrives.
//!
//! ```text
//!   stack thread ── send ──► Faulty (sends) ───► SocketHalf ─┐
//!                                                            ├─ Arc<PacketSocket>
//!   receive thread ◄─ recv ─ Faulty (receives) ◄─ SocketHalf ─┘
//! ```

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use l2_link::device::{Device, FaultConfig, Faulty, RxMeta};
use l2_link::sys::PacketSocket;
use l2_link::wire::MacAddr;

use super::config::StackConfig;
use super::runtime::Stack;

/// Which frames our own stack loses: a share of them, drawn from a seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InjectedLoss {
    /// The share of frames lost, in percent (0 to 100), in each direction.
    pub percent: f64,
    /// The seed of the generator: the same seed and the same frames lose
    /// the same frames.
    pub seed: u64,
}

impl InjectedLoss {
    /// The fault device's settings for one direction.
    fn faults(self, on_receive: bool) -> FaultConfig {
        FaultConfig {
            loss: self.percent / 100.0,
            on_receive,
            ..FaultConfig::default()
        }
    }
}

// ANCHOR: socket_half
/// One direction's view of a packet socket shared by both: a [`Device`]
/// with our stack's MAC (which need not be the card's, see
/// [`Stack::open`]).
#[derive(Debug, Clone)]
struct SocketHalf {
    socket: Arc<PacketSocket>,
    mac: MacAddr,
}

impl Device for SocketHalf {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.socket.send(frame)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        self.socket.recv(buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.socket.mtu()
    }
}
// ANCHOR_END: socket_half

impl Stack {
    // ANCHOR: open_lossy
    /// Like [`Stack::open`], but the stack loses `loss.percent` of its
    /// frames in each direction, as [`InjectedLoss`] draws them.
    pub fn open_lossy(
        interface: &str,
        mac: MacAddr,
        addr: Ipv4Addr,
        prefix_len: u8,
        config: StackConfig,
        loss: InjectedLoss,
    ) -> io::Result<Stack> {
        let socket = PacketSocket::open(interface)?;
        if mac != socket.mac() {
            socket.set_promiscuous(true)?;
        }
        let half = SocketHalf {
            socket: Arc::new(socket),
            mac,
        };
        // One seed for both: the sending device draws from its send
        // generator, the receiving one from its receive generator, and
        // those two differ (see `Faulty::new`).
        let send = Faulty::new(half.clone(), loss.seed, loss.faults(false));
        let receive = Faulty::new(half, loss.seed, loss.faults(true));
        Stack::over_devices(send, receive, addr, prefix_len, config)
    }
    // ANCHOR_END: open_lossy
}
