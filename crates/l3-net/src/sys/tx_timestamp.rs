//! When did a datagram really leave? Software transmit time stamps
//! (`SO_TIMESTAMPING`, Documentation/networking/timestamping.rst).
//!
//! A round-trip time is "reply arrived" minus "request left". The arrival
//! time comes from the kernel (`SO_TIMESTAMPNS`, taken when the packet
//! reached the network stack, on CLOCK_REALTIME). The obvious departure
//! time — `SystemTime::now()` just before `sendto()` — also counts the
//! system call, the routing decision, an ARP lookup, queueing: everything
//! the kernel did before the packet reached the driver. With
//! `SOF_TIMESTAMPING_TX_SOFTWARE` the kernel stamps the packet as the
//! driver takes it and hands the stamp back on the socket's *error queue*
//! (`recvmsg(…, MSG_ERRQUEUE)`), on the same CLOCK_REALTIME — so the two
//! ends of the subtraction are measured the same way, by the same clock.
//!
//! Where the stamp does not come (an old kernel, a driver that never calls
//! `skb_tx_timestamp`), the user-space time is used instead, and
//! [`SentAt::source`] says so.

use std::ffi::{c_int, c_uint};
use std::io;
use std::mem;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use l2_link::sys::socket_util::{
    ControlBuffer, poll_until, read_timespec, recv_message, set_int_option, take_socket_error,
    timespec_to_system_time, with_context,
};

/// When a datagram left, and whose clock says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAt {
    /// The send time, on CLOCK_REALTIME like every receive stamp.
    pub time: SystemTime,
    /// Who took it.
    pub source: SendTimeSource,
}

/// Who stamped a departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTimeSource {
    /// The kernel, as the driver took the packet (`SCM_TSTAMP_SND`, a
    /// software transmit stamp).
    Kernel,
    /// Our own `SystemTime::now()` just before `sendto()`: the fallback.
    UserSpace,
}

/// How long to wait for the transmit stamp after `sendto()` returns. On a
/// veth it is there before `sendto()` even returns; a packet waiting for
/// ARP is stamped only when it finally leaves, which may be later than
/// this (then the user-space time is used and the late stamp discarded).
const STAMP_WAIT: Duration = Duration::from_millis(50);

/// `SCM_TSTAMP_SND` (linux/errqueue.h): "the driver sent it", the kind of
/// stamp `SOF_TIMESTAMPING_TX_SOFTWARE` asks for. Not in the libc crate.
const SCM_TSTAMP_SND: u32 = 0;

/// One socket's transmit stamping: whether it is on, and the number the
/// kernel will give the next send (`SOF_TIMESTAMPING_OPT_ID` numbers each
/// send from 0, so a stamp can be matched to its datagram).
#[derive(Debug)]
pub(super) struct TxTimestamps {
    enabled: bool,
    next_key: AtomicU32,
    /// Sends in a row whose stamp did not come in time. A driver that
    /// never stamps would otherwise cost every send the whole wait.
    misses: AtomicU32,
}

/// After this many sends in a row without a stamp, stop waiting for them.
const GIVE_UP_AFTER_MISSES: u32 = 3;

impl TxTimestamps {
    /// Turns software transmit stamps on for `fd`; if the kernel refuses,
    /// sends are stamped in user space instead.
    // ANCHOR: tx_timestamp
    pub(super) fn enable(fd: BorrowedFd<'_>) -> TxTimestamps {
        // TX_SOFTWARE: stamp each packet as the driver takes it.
        // SOFTWARE: report software stamps to us.
        // OPT_ID: number the stamps, one per send, from 0.
        // OPT_TSONLY: hand back only the stamp, not a copy of the packet.
        let flags: c_uint = libc::SOF_TIMESTAMPING_TX_SOFTWARE
            | libc::SOF_TIMESTAMPING_SOFTWARE
            | libc::SOF_TIMESTAMPING_OPT_ID
            | libc::SOF_TIMESTAMPING_OPT_TSONLY;
        let enabled = set_int_option(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPING,
            flags as c_int,
            "SO_TIMESTAMPING",
        )
        .is_ok();
        TxTimestamps {
            enabled,
            next_key: AtomicU32::new(0),
            misses: AtomicU32::new(0),
        }
    }

    /// Turns transmit stamps off again: every send is then timed in user
    /// space, just before `sendto()`, and nothing waits on the error
    /// queue. For comparisons (`ping --user-timing`), to show what the
    /// kernel's stamps are worth.
    pub(super) fn disable(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        if self.enabled {
            set_int_option(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPING,
                0,
                "SO_TIMESTAMPING",
            )?;
            self.enabled = false;
        }
        Ok(())
    }

    /// Runs `send` (one `sendto` of one datagram) and says when the
    /// datagram left: the kernel's stamp if it comes within a few
    /// milliseconds, else the time just before the call.
    pub(super) fn send(
        &self,
        fd: BorrowedFd<'_>,
        send: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<SentAt> {
        let before = SystemTime::now();
        send()?;
        let fallback = SentAt {
            time: before,
            source: SendTimeSource::UserSpace,
        };
        if !self.enabled {
            return Ok(fallback);
        }
        // The kernel numbers every send, stamped in time or not.
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        if self.misses.load(Ordering::Relaxed) >= GIVE_UP_AFTER_MISSES {
            return Ok(fallback);
        }
        let deadline = Instant::now() + STAMP_WAIT;
        while let Some(stamp) = next_stamp(fd, deadline)? {
            // A stamp numbered below ours is a late one for an earlier
            // send: drop it. One above ours means a send we did not count
            // (one that failed after the kernel numbered it): catch up.
            if stamp.key.wrapping_sub(key) < u32::MAX / 2 {
                self.next_key
                    .store(stamp.key.wrapping_add(1), Ordering::Relaxed);
                self.misses.store(0, Ordering::Relaxed);
                return Ok(SentAt {
                    time: stamp.time,
                    source: SendTimeSource::Kernel,
                });
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Ok(fallback)
    }
    // ANCHOR_END: tx_timestamp
}

/// One transmit stamp from the error queue.
struct Stamp {
    key: u32,
    time: SystemTime,
}

/// Waits (until `deadline`) for the next transmit stamp on the error
/// queue. `None` when the deadline passes first.
fn next_stamp(fd: BorrowedFd<'_>, deadline: Instant) -> io::Result<Option<Stamp>> {
    loop {
        match read_error_queue(fd)? {
            ErrorQueue::Stamp(stamp) => return Ok(Some(stamp)),
            ErrorQueue::Other => continue,
            ErrorQueue::Empty => {}
        }
        // events = 0: wake only for POLLERR, which the kernel reports when
        // the error queue is not empty.
        match poll_until(fd, 0, Some(deadline)) {
            Ok(Some(_)) => continue,
            Ok(None) => return Ok(None),
            // Ctrl-C: the caller's loop will notice; use the fallback.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(err) => return Err(err),
        }
    }
}

/// What one non-blocking read of the error queue found.
enum ErrorQueue {
    /// Nothing queued.
    Empty,
    /// A transmit stamp.
    Stamp(Stamp),
    /// Something that is not a transmit stamp (an ICMP error, with
    /// `IP_RECVERR` on); consumed and ignored.
    Other,
}

/// One `recvmsg(MSG_ERRQUEUE | MSG_DONTWAIT)`.
fn read_error_queue(fd: BorrowedFd<'_>) -> io::Result<ErrorQueue> {
    // OPT_TSONLY: no packet comes back, only control messages; a small
    // buffer still takes whatever data a kernel might attach. The address
    // the kernel gives (where the stamped datagram was going) is not needed.
    let mut data = [0u8; 64];
    let mut control = ControlBuffer::new();
    let received = recv_message::<libc::sockaddr_in>(
        fd,
        &mut data,
        &mut control,
        libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
    );
    if let Err(err) = received {
        return match err.kind() {
            io::ErrorKind::WouldBlock => Ok(ErrorQueue::Empty),
            io::ErrorKind::Interrupted => Ok(ErrorQueue::Other),
            _ => Err(with_context(err, "recvmsg(MSG_ERRQUEUE)")),
        };
    }
    let mut time = None;
    let mut key = None;
    for message in control.messages() {
        match (message.level, message.kind) {
            // struct scm_timestamping: three timespecs; software stamps
            // are in the first.
            (libc::SOL_SOCKET, libc::SCM_TIMESTAMPING) => {
                time = read_timespec(message.data).and_then(timespec_to_system_time);
            }
            // For an IPv4 socket the stamp's description comes as
            // IP_RECVERR.
            (libc::IPPROTO_IP, libc::IP_RECVERR) => {
                if let Some(err) = read_extended_err(message.data)
                    && err.ee_origin == libc::SO_EE_ORIGIN_TIMESTAMPING
                    && err.ee_info == SCM_TSTAMP_SND
                {
                    key = Some(err.ee_data);
                }
            }
            _ => {}
        }
    }
    Ok(match (key, time) {
        (Some(key), Some(time)) => ErrorQueue::Stamp(Stamp { key, time }),
        _ => ErrorQueue::Other,
    })
}

/// A `struct sock_extended_err` from a control message's payload.
fn read_extended_err(payload: &[u8]) -> Option<libc::sock_extended_err> {
    let bytes = payload.get(..mem::size_of::<libc::sock_extended_err>())?;
    // SAFETY: `bytes` holds exactly one sock_extended_err's worth of
    // initialised bytes; it is plain integers (any bit pattern is valid)
    // and read_unaligned needs no alignment.
    Some(unsafe {
        bytes
            .as_ptr()
            .cast::<libc::sock_extended_err>()
            .read_unaligned()
    })
}

/// Empties the error queue (stamps that came too late to be used) and
/// clears a pending socket error, so `poll` stops reporting `POLLERR`.
pub(super) fn discard_error_queue(fd: BorrowedFd<'_>) -> io::Result<()> {
    while !matches!(read_error_queue(fd)?, ErrorQueue::Empty) {}
    take_socket_error(fd)?;
    Ok(())
}
