//! [`WakeFd`]: an `eventfd(2)`, the descriptor one thread writes to wake
//! another that waits in `poll` on it together with its sockets.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use l2_link::sys::socket_util::last_error;

/// A wake-up descriptor: readable after [`WakeFd::wake`], until
/// [`WakeFd::clear`]. The kernel keeps a counter (eventfd(2)): `wake` adds
/// one, `clear` reads it back to zero, and `poll` reports the descriptor
/// readable while the counter is not zero. Any thread may call either
/// method (`&self`), so a program's thread wakes a stack's thread that
/// sleeps in `poll` on its packet socket and on this, at once — without a
/// thread per source and a channel between them.
#[derive(Debug)]
pub struct WakeFd {
    fd: OwnedFd,
}

impl WakeFd {
    /// A new eventfd, non-blocking (so `clear` on a zero counter returns
    /// at once) and closed on exec.
    pub fn new() -> io::Result<WakeFd> {
        // SAFETY: eventfd takes no pointers; it returns a new descriptor
        // or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(last_error("eventfd"));
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(WakeFd { fd })
    }

    /// Makes the descriptor readable: a thread in `poll` on it wakes up.
    pub fn wake(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: the pointer and length describe `one`, eight bytes as
        // eventfd requires, alive for the call; the kernel only reads.
        let written = unsafe { libc::write(self.fd.as_raw_fd(), (&raw const one).cast(), 8) };
        if written == 8 {
            return Ok(());
        }
        let err = last_error("write(eventfd)");
        // EAGAIN: the counter is at its maximum, so it is readable anyway.
        if err.kind() == io::ErrorKind::WouldBlock {
            return Ok(());
        }
        Err(err)
    }

    /// Resets the counter to zero: the descriptor is no longer readable
    /// until the next [`WakeFd::wake`]. Nothing to clear is not an error.
    pub fn clear(&self) -> io::Result<()> {
        let mut count: u64 = 0;
        // SAFETY: the pointer and length describe `count`, eight writable
        // bytes, alive for the call.
        let read = unsafe { libc::read(self.fd.as_raw_fd(), (&raw mut count).cast(), 8) };
        if read == 8 {
            return Ok(());
        }
        let err = last_error("read(eventfd)");
        if err.kind() == io::ErrorKind::WouldBlock {
            return Ok(());
        }
        Err(err)
    }
}

impl AsFd for WakeFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2_link::sys::socket_util::wait_readable;
    use std::time::Instant;

    #[test]
    fn readable_after_wake_until_cleared() {
        let wake = WakeFd::new().unwrap();
        assert!(!wait_readable(wake.as_fd(), Some(Instant::now())).unwrap());
        wake.wake().unwrap();
        wake.wake().unwrap();
        assert!(wait_readable(wake.as_fd(), Some(Instant::now())).unwrap());
        wake.clear().unwrap();
        assert!(!wait_readable(wake.as_fd(), Some(Instant::now())).unwrap());
        // Clearing twice is harmless.
        wake.clear().unwrap();
    }
}
