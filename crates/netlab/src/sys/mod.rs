//! The one room with `unsafe`: the syscalls the lab is made of, called
//! through libc so every one is visible. Every `unsafe` block carries a
//! `// SAFETY:` note; everything outside this module is safe Rust.
//!
//! - [`namespace`] — `unshare`, `setns`, the uid/gid maps, `mount`: making
//!   the lab's namespaces and entering them.
//! - [`ethtool`] — the `SIOCETHTOOL` ioctl that turns checksum and
//!   segmentation offloads off on a veth, and reads them back.
//! - [`process`] — the process plumbing: `prctl(PR_SET_PDEATHSIG)`, signal
//!   forwarding, `signalfd`, `poll`, reaping, `flock`.
//!
//! Functions return the kernel's error as an `io::Error` (so callers can
//! still ask `raw_os_error()`); the callers add what they were doing.
#![allow(unsafe_code)]

pub mod ethtool;
pub mod namespace;
pub mod process;

use std::io;

/// Turns a libc return value of -1 into the errno it left behind.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}
