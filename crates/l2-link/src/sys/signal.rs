//! Ctrl-C without losing the ending: a SIGINT/SIGTERM handler that only
//! sets a flag, so a capture loop can stop at its next wake-up, flush its
//! pcap file and print the kernel's drop counts (as tcpdump does).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the signal handler; read by the loops.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    // Only async-signal-safe work in a handler: one atomic store.
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

/// Proof that the handler is installed; ask it whether to stop.
#[derive(Debug)]
pub struct StopOnInterrupt(());

impl StopOnInterrupt {
    /// Installs the handler for SIGINT (Ctrl-C) and SIGTERM (`kill`).
    pub fn install() -> io::Result<StopOnInterrupt> {
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: `sigaction` is a plain C struct for which all-zero is a
            // valid value (empty mask, no flags); we then set the handler to
            // a function with the signature the kernel calls.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = request_stop as *const () as libc::sighandler_t;
            // No SA_RESTART: a blocking poll() returns EINTR at once, so the
            // loop notices the request without waiting for its timeout.
            action.sa_flags = 0;
            // SAFETY: `action` is initialised above and outlives the call; a
            // null old-action pointer is allowed.
            if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(StopOnInterrupt(()))
    }

    /// True once SIGINT or SIGTERM has arrived.
    pub fn requested(&self) -> bool {
        STOP_REQUESTED.load(Ordering::SeqCst)
    }
}
