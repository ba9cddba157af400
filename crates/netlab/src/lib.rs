//! # netlab — rawstack's rootless lab
//!
//! Raw sockets need `CAP_NET_RAW`. The lab gives a learner that capability
//! without sudo, over a small network of its own and nothing else: three
//! hosts (alpha, raw, beta), each a network namespace, wired with veth
//! pairs (the [`topology`] module has the picture and the addresses).
//!
//! ```no_run
//! use netlab::{Host, Lab};
//! let lab = Lab::start()?;                      // a fresh, private lab
//! let status = lab.command(Host::Alpha, "ping") // ping runs on alpha
//!     .args(["-c1", "198.18.0.3"])
//!     .status()?;
//! assert!(status.success());
//! drop(lab);                                    // everything in it ends
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How it works
//!
//! A **user namespace** makes us root without being root: uid 0 inside is
//! our own uid outside, and root inside has every capability, but only over
//! namespaces that user namespace owns. The lab's network, mount and PID
//! namespaces are created inside it, so the lab is ours to configure and
//! the host's network is out of reach (`src/sys/namespace.rs` quotes the rules).
//!
//! The kernel refuses `unshare(CLONE_NEWUSER)` to a multi-threaded process
//! (EINVAL), and a test harness is one. So the library never makes a
//! namespace itself: it runs the single-threaded **`netlab` helper binary**
//! (found or built by [`helper_path`]), whose subcommands are the lab's
//! processes ([`helper`]):
//!
//! ```text
//! your process (test, xtask)  ── pipe on stdin ──┐
//!  └─ netlab start        new user ns, own empty net ns; checks CAP_NET_RAW
//!      └─ netlab init     PID 1 of the lab's new PID namespace
//!          ├─ netlab hold alpha   ┐ each unshares a net + mount namespace,
//!          ├─ netlab hold raw     │ mounts its own /sys (and /proc),
//!          ├─ netlab hold beta    ┘ and sleeps: it *is* the host
//!          └─ netlab serve-alpha  TCP/UDP echo (7), DNS for lab.test (53), HTTP (80), on alpha
//! ```
//!
//! The init creates the veths with `ip link add … netns PID`, enters each
//! host in turn with `setns` and configures it (MACs, MTUs, addresses,
//! routes, sysctls, offloads off), writes the lab's state directory and
//! prints `ready`. Then it sleeps in `poll`, reaping orphans as any init
//! must, until its owner's pipe closes or it gets SIGTERM.
//!
//! **Teardown** is the PID namespace's job: when its init exits, the kernel
//! kills every process in it, and the namespaces, veths and mounts vanish
//! with their last user. Dropping a [`Lab`] closes the pipe; an owner that
//! dies closes it too (and `netlab start`, if killed, takes the init with it
//! through `PR_SET_PDEATHSIG`), so a lab cannot outlive its owner.
//!
//! **Running a command on a host** is `netlab exec --lab DIR HOST -- CMD`
//! ([`Lab::command`]): `setns` into the lab's user namespace, the host's
//! network and mount namespaces and the lab's PID namespace, then spawn CMD
//! there, in the caller's directory and environment. The lab's `bin/`
//! directory holds `alpha`, `raw` and `beta` scripts that do exactly that,
//! as mininet's `h1 ping h2`. They work from outside the lab and inside it.
//!
//! **Sharing**: [`Lab::join_or_start_shared`] (used by `cargo xtask lab`)
//! keeps one lab per user in a fixed directory; a second terminal joins it
//! instead of starting another. Tests never share: each starts its own.
//!
//! Where the machine does not allow unprivileged user namespaces, starting
//! a lab fails with [`LabError::Unsupported`], one line naming the cause
//! and the fix.
#![deny(unsafe_code)]

pub mod helper;
mod lab;
mod state;
mod sys;
pub mod topology;

pub use lab::{Lab, LabError, helper_path, wait_in_foreground};
pub use topology::Host;
