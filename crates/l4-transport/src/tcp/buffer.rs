//! The two byte queues of a connection, each with a fixed capacity: what
//! the application wrote and the peer has not acknowledged yet, and what
//! arrived in order and the application has not read yet (RFC 9293 §3.8.6:
//! the receive window is the free space of the second).
//!
//! Both are plain [`VecDeque<u8>`]s: a ring buffer whose two halves
//! ([`VecDeque::as_slices`]) are copied with `memcpy`, never byte by byte.

use std::collections::VecDeque;

/// Bytes the application handed to [`super::Connection::send`]: the
/// front is the oldest unacknowledged byte (SND.UNA, or ISS + 1 while the
/// SYN is unacknowledged), the back the newest byte written.
///
/// Data stays here until it is acknowledged, so a retransmission copies
/// it again from the same place (RFC 9293 §3.8.1: "the retransmission
/// queue").
#[derive(Debug, Clone)]
pub struct SendBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl SendBuffer {
    /// An empty buffer holding at most `capacity` bytes.
    pub fn new(capacity: usize) -> SendBuffer {
        SendBuffer {
            bytes: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Bytes held: sent-but-unacknowledged plus not-yet-sent.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Room left for the application.
    pub fn free(&self) -> usize {
        self.capacity - self.bytes.len()
    }

    /// Appends as much of `data` as fits; returns how much that was.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.bytes.extend(&data[..n]);
        n
    }

    /// Copies `len` bytes starting `offset` bytes after the front into
    /// `out` (appended). Asks for no more than [`SendBuffer::len`] holds:
    /// the range is clipped to what is there.
    pub fn copy_out(&self, offset: usize, len: usize, out: &mut Vec<u8>) {
        let start = offset.min(self.bytes.len());
        let end = offset.saturating_add(len).min(self.bytes.len());
        let (front, back) = self.bytes.as_slices();
        // The wanted range, cut where the ring wraps.
        let in_front = start.min(front.len())..end.min(front.len());
        let in_back = start.saturating_sub(front.len())..end.saturating_sub(front.len());
        out.extend_from_slice(&front[in_front]);
        out.extend_from_slice(&back[in_back]);
    }

    /// Forgets the `n` oldest bytes: the peer acknowledged them.
    pub fn acknowledge(&mut self, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
    }
}

/// Bytes received in order, waiting for [`super::Connection::recv`].
///
/// Only in-order data comes here; a segment that starts beyond RCV.NXT
/// waits in the [`super::Reassembly`] queue beside it (RFC 9293
/// §3.10.7.4, "segments with higher beginning sequence numbers may be held
/// for later processing"), bounded by the same window.
#[derive(Debug, Clone)]
pub struct RecvBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl RecvBuffer {
    /// An empty buffer holding at most `capacity` bytes.
    pub fn new(capacity: usize) -> RecvBuffer {
        RecvBuffer {
            bytes: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// The buffer's size: the most we can ever offer as a window.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes waiting for the application.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Room left: the receive window we can offer (RFC 9293 §3.8.6.2.2).
    pub fn free(&self) -> usize {
        self.capacity - self.bytes.len()
    }

    /// Appends as much of `data` as fits; returns how much that was.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.bytes.extend(&data[..n]);
        n
    }

    /// Throws away everything waiting (the connection was reset).
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Moves up to `out.len()` of the oldest bytes into `out`; returns how
    /// many.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.bytes.len());
        let (front, back) = self.bytes.as_slices();
        let from_front = n.min(front.len());
        out[..from_front].copy_from_slice(&front[..from_front]);
        out[from_front..n].copy_from_slice(&back[..n - from_front]);
        self.bytes.drain(..n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_buffer_is_bounded_and_copies_any_range() {
        let mut buf = SendBuffer::new(10);
        assert_eq!(buf.write(b"0123456"), 7);
        buf.acknowledge(5);
        // Now the ring wraps: the next bytes go to the start of storage.
        assert_eq!(buf.write(b"789abcdefgh"), 8, "only 8 bytes of room");
        assert_eq!(buf.free(), 0);
        for offset in 0..=10 {
            for len in 0..=11 {
                let mut out = vec![];
                buf.copy_out(offset, len, &mut out);
                let all = b"56789abcde";
                let start = offset.min(10);
                let end = (offset + len).min(10);
                assert_eq!(out, &all[start..end], "offset {offset} len {len}");
            }
        }
        buf.acknowledge(100);
        assert!(buf.is_empty());
    }

    #[test]
    fn recv_buffer_reads_in_order_across_the_wrap() {
        let mut buf = RecvBuffer::new(8);
        assert_eq!(buf.write(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(buf.read(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(buf.free(), 6);
        assert_eq!(buf.write(b"ghijklmn"), 6);
        let mut out = [0u8; 16];
        assert_eq!(buf.read(&mut out), 8);
        assert_eq!(&out[..8], b"efghijkl");
        assert_eq!(buf.read(&mut out), 0);
    }
}
