//! Our TCP and UDP as a program uses them: [`TcpStream`], [`TcpListener`]
//! and [`UdpSocket`], shaped like std::net's, over our own stack instead of
//! the kernel's.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use l2_link::exercise::lab;
//! use l4_transport::socket::{Stack, TcpStream};
//!
//! let stack = Stack::open_lab("lab1", lab::STACK_MAC, lab::STACK_IP, 24)?;
//! let mut stream = TcpStream::connect(&stack, SocketAddrV4::new(lab::ALPHA_IP, 7))?;
//! stream.write_all(b"hello")?;
//! let mut echo = [0u8; 5];
//! stream.read_exact(&mut echo)?;
//! assert_eq!(&echo, b"hello");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # A blocking API on a sans-IO stack
//!
//! The stack itself, [`NetStack`], never blocks and never reads a clock:
//! like every part of rawstack it takes frames and the time, and gives
//! back frames (see [`crate::tcp`]). A program, though, wants to *wait*:
//! `read` should sleep until data is there. Three things sit between the
//! two, in [`Stack`]:
//!
//! 1. **One thread owns the driving.** The stack's thread is the only one
//!    that hands frames to the stack, runs its timers and sends frames.
//!    It sleeps in [`Links::wait`](l3_net::stack::Links::wait) on a
//!    channel, with the stack's next timer as its deadline
//!    ([`NetStack::poll_at`]: the retransmission timer, TIME-WAIT, ARP
//!    retries — whichever is first).
//! 2. **Two kinds of news arrive on that channel.** The device's receive
//!    thread puts every frame there; and a program's thread that changed
//!    something — wrote data, read (the window opened), closed — puts a
//!    wake-up there with a [`Waker`](l3_net::stack::driver::Waker)
//!    ("I wrote, go and send it").
//! 3. **The program's thread sleeps on a condition variable.** The
//!    `NetStack` sits in a `Mutex`. A socket call locks it and tries the
//!    non-blocking call (`tcp_recv`, `tcp_send`, `tcp_accept`); if that
//!    says "would block", it waits on the `Condvar`, which releases the
//!    lock. After every round of work the stack's thread notifies the
//!    condition variable, and the sleepers look again.
//!
//! ```text
//!   program thread                 stack thread                  receive thread
//!   ──────────────                 ────────────                  ──────────────
//!   write(data):                   wait(channel, poll_at) ◄──────── frame
//!     lock; tcp_send; unlock              │ ◄─────────────────┐
//!     wake() ─────────────────────────────┘                   │
//!   read(buf):                     lock; receive / poll;      │
//!     lock; tcp_recv: nothing      frames = drain_transmit    │
//!     wait on Condvar ◄──────────  unlock; notify_all         │
//!     tcp_recv: data! unlock       send frames ──► device     │
//!     wake() (window update) ─────────────────────────────────┘
//! ```
//!
//! **Idle costs nothing.** When no timer runs (an established connection
//! with nothing in flight has none), `poll_at` is `None` and the stack's
//! thread waits with no deadline at all — in one `poll` on the packet
//! socket and the waker's eventfd
//! ([`Links::packet_socket`](l3_net::stack::Links::packet_socket)), or, on
//! devices without a file descriptor, on a channel fed by a receive thread
//! that blocks with no deadline either
//! ([`Links::shared_quiet`](l3_net::stack::Links::shared_quiet)); the
//! program sleeps on the condition variable. No thread wakes up until a
//! frame arrives, a program calls, or a timer is really due — no polling
//! every few milliseconds "just in case". The test
//! `idle_connections_use_no_cpu` (in `tests/socket_pair.rs`) reads the
//! process's CPU time and context switches from `/proc` over two idle
//! seconds to check it.
//!
//! **Closing waits for the FIN's ACK.** Dropping a [`TcpStream`] (or
//! [`TcpStream::close`]) sends our FIN after the data written and then
//! sleeps until the peer acknowledges it, for at most
//! [`StackConfig::close_timeout`]. Without that, a program that writes its
//! last bytes and returns from `main` would take the stack's thread with
//! it while those bytes — and the FIN — were still waiting to be sent or
//! retransmitted, and the peer would see the conversation simply stop. The
//! kernel does not need this, because the kernel outlives the program;
//! our stack lives inside it. What remains after the ACK (waiting for the
//! peer's FIN, TIME-WAIT) the stack finishes alone while the program goes
//! on, and forgets at the end.
//!
//! # The parts
//!
//! - [`NetStack`] — sans-IO: an l3 [`Interface`](l3_net::stack::Interface),
//!   the TCP connections and listeners, the UDP sockets; demultiplexing by
//!   protocol and four-tuple; RST for closed TCP ports, ICMP port
//!   unreachable for closed UDP ports; ephemeral ports; RFC 6528 ISNs;
//!   the MSS clamped to the path MTU;
//! - [`Stack`] — a `NetStack` and the thread that drives it, over a packet
//!   socket ([`Stack::open_lab`]) or in-memory cables
//!   ([`Stack::cable_pair`]), or over a packet socket that loses frames
//!   on purpose ([`Stack::open_lossy`], `--loss`);
//! - [`TcpStream`], [`TcpListener`], [`UdpSocket`] — the blocking API;
//! - [`TraceFormatter`] — `--trace`: one line per segment, like tcpdump;
//! - [`exercise`] — how the exercises open a stack in the lab.

mod config;
pub mod exercise;
mod faults;
mod netstack;
mod runtime;
mod tcp;
mod trace;
mod udp;

pub use config::{StackConfig, TraceStyle};
pub use faults::InjectedLoss;
pub use netstack::{
    EPHEMERAL_PORTS, ListenerHandle, MAX_UDP_PAYLOAD, NetStack, TcpHandle, UdpHandle,
};
pub use runtime::{RuntimeStats, Stack};
pub use tcp::{Incoming, TcpListener, TcpStream};
pub use trace::{TraceFormatter, TraceRecord};
pub use udp::UdpSocket;
