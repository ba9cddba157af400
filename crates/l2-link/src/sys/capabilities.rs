//! Giving capabilities up: once a raw socket is open, the program needs no
//! privilege at all, so it should hold none (capabilities(7), capset(2)).
//!
//! A capability is checked when a raw socket is *opened*, never again when
//! it is used. So a program like ping needs CAP_NET_RAW for exactly one
//! system call; iputils ping drops every capability right after it, and so
//! do our exercises. A bug in the rest of the program — in the code that
//! parses packets from the network, say — then runs with no more power
//! than any other process of the same user.
//!
//! It lives in layer 2 because every layer's exercises need it (sniff and
//! arping here, ping and traceroute in layer 3, the SYN scanner in layer
//! 4), and the upper layers depend on this one, never the other way.

use std::ffi::c_int;
use std::io;

use super::socket_util::last_error;

/// `_LINUX_CAPABILITY_VERSION_3` (linux/capability.h): 64-bit capability
/// sets, passed as two 32-bit halves.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`: which ABI, and which thread (0: the
/// calling one).
#[repr(C)]
struct CapUserHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct`: one 32-bit half of each of the three
/// sets. Version 3 takes an array of two: capabilities 0–31, then 32–63.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapUserData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops every capability of the calling thread: the effective,
/// permitted and inheritable sets become empty (and with them the ambient
/// set). Nothing can give them back short of executing a new program.
///
/// Capabilities belong to threads: call this before starting any (our
/// exercises are single-threaded), as iputils ping does right after
/// opening its socket.
// ANCHOR: drop_capabilities
pub fn drop_capabilities() -> io::Result<()> {
    let header = CapUserHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    // Empty sets: no capability effective, none we could raise again.
    let empty = [CapUserData::default(); 2];
    // SAFETY: capset reads one header and, for version 3, an array of two
    // data structs; both are live, laid out as the kernel expects
    // (#[repr(C)]), and only read.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &header as *const CapUserHeader,
            empty.as_ptr(),
        )
    };
    if rc != 0 {
        return Err(last_error("capset(all empty)"));
    }
    Ok(())
}
// ANCHOR_END: drop_capabilities

/// The calling thread's effective capabilities as a 64-bit mask (what
/// `/proc/self/status` shows as `CapEff`): 0 after
/// [`drop_capabilities`].
pub fn effective_capabilities() -> io::Result<u64> {
    let header = CapUserHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut sets = [CapUserData::default(); 2];
    // SAFETY: capget reads the header and writes two data structs into
    // `sets`, which is live, writable and #[repr(C)] as the kernel expects.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &header as *const CapUserHeader,
            sets.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(last_error("capget"));
    }
    Ok(u64::from(sets[1].effective) << 32 | u64::from(sets[0].effective))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_leaves_no_effective_capability_in_that_thread() {
        // Capabilities are per thread: drop them in a thread of our own so
        // the rest of the test process keeps whatever it had.
        let after = std::thread::spawn(|| {
            drop_capabilities().expect("capset to empty is always allowed");
            effective_capabilities().expect("capget")
        })
        .join()
        .expect("thread");
        assert_eq!(after, 0);
    }

    #[test]
    fn effective_set_agrees_with_proc_status() {
        // An independent reading: the kernel's own text for this thread.
        let status = std::fs::read_to_string("/proc/thread-self/status").expect("status");
        let cap_eff = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("hex"))
            .expect("CapEff line");
        assert_eq!(effective_capabilities().expect("capget"), cap_eff);
    }
}
