//! The one room with `unsafe`: libc calls for AF_PACKET sockets, ioctls and
//! socket options. Every `unsafe` block carries a `// SAFETY:` note.
//!
//! - [`PacketSocket`] — `socket(AF_PACKET, SOCK_RAW, …)` bound to one
//!   interface: whole Ethernet frames in and out, with the kernel's notes
//!   about each received frame (`PACKET_AUXDATA`, `SO_TIMESTAMPNS`).
//! - [`interface_index`], [`interface_mac`], [`interface_mtu`],
//!   [`interface_is_up`], [`interface_exists`] — facts about an interface,
//!   asked by name with the `SIOCGIF*` ioctls (no privilege needed).
//! - [`bpf`] — classic BPF programs, the filters the kernel runs on every
//!   frame before it reaches a packet socket (safe code; only attaching one
//!   is a syscall).
//! - [`drop_capabilities`] — give up every privilege once the sockets are
//!   open, as iputils ping does; every layer's exercises call it.
//! - [`RxRing`] — a TPACKET_V3 receive ring: the kernel writes frames
//!   into memory shared with us and hands them over a block at a time,
//!   with no system call or copy per frame.
//! - [`signal`] — a Ctrl-C handler that only sets a flag, so capture loops
//!   can stop cleanly.
//! - [`socket_util`] — what every socket needs, whatever its family:
//!   errors that name the call, integer socket options, `SO_ERROR`,
//!   waiting with `poll`, `recvmsg` and its control messages, kernel
//!   timestamps. The upper layers' `sys` modules use these too, rather
//!   than keeping copies.
//!
//! Errors are `std::io::Error`s whose message says which call failed and, for
//! the ones a learner meets first (no CAP_NET_RAW, no such interface, the
//! interface is down), what it means.
#![allow(unsafe_code)]

pub mod bpf;
mod capabilities;
mod errors;
mod interface;
mod packet_socket;
mod ring;
pub mod signal;
pub mod socket_util;

pub use bpf::BpfInstruction;
pub use capabilities::{drop_capabilities, effective_capabilities};
pub use interface::{
    interface_exists, interface_index, interface_is_up, interface_mac, interface_mtu,
};
pub use packet_socket::{PacketSocket, PacketStats};
pub use ring::{Block, Frames, RingConfig, RingFrame, RingStats, RxRing};
