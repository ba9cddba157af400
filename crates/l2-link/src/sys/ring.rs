//! A memory-mapped receive ring, `TPACKET_V3` (the kernel's
//! Documentation/networking/packet_mmap.rst, packet(7)).
//!
//! A plain packet socket costs one `recvmsg()` per frame: a system call,
//! a copy into the caller's buffer, control messages to parse. With a
//! ring, the kernel and the program share memory instead. The program asks
//! for a ring of *blocks* (`PACKET_RX_RING`), maps it into its address
//! space (`mmap`), and from then on the kernel writes each arriving frame
//! straight into the current block, behind a small header
//! (`struct tpacket3_hdr`: length, timestamp, VLAN tag). When a block is
//! full — or its retire timeout passes — the kernel hands the whole block
//! to the program by setting the block's status to `TP_STATUS_USER`. The
//! program walks every frame in it, then hands it back
//! (`TP_STATUS_KERNEL`). No system call per frame, no copy: one `poll()`
//! per block at most, and none at all while blocks keep coming.
//!
//! ```text
//!  mmap'd ring:  | block 0 | block 1 | block 2 | ... | block N-1 |
//!  one block:    | tpacket_block_desc | frame | frame | ... |
//!  one frame:    | tpacket3_hdr | sockaddr_ll | pad | Ethernet frame |
//!                  tp_next_offset ----------------------------> next frame
//! ```
//!
//! [`RxRing`] is the safe face of it: [`RxRing::next_block`] waits for the
//! next block the kernel handed over and returns a [`Block`] that borrows
//! the ring; [`Block::frames`] iterates over its frames, each a
//! [`RingFrame`] whose bytes point into the shared memory. Dropping the
//! [`Block`] returns it to the kernel, so the borrow checker makes sure no
//! frame is read after the kernel may have overwritten it.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::mem;
use std::os::fd::{AsFd, AsRawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::packet_socket::{PacketSocket, PacketStats, packet_type};
use super::socket_util::{last_error, poll_until};
use crate::device::RxMeta;

/// The shape of a receive ring (`struct tpacket_req3`).
///
/// Its size is `block_size * block_count` bytes of memory shared with the
/// kernel; that is the capture's buffer, like `tcpdump -B` / `dumpcap -B`
/// (libpcap uses the same kind of ring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block: a multiple of the page size. The kernel hands
    /// blocks over whole, so this is also the batch size of the walk.
    pub block_size: u32,
    /// How many blocks the ring has.
    pub block_count: u32,
    /// Nominal frame slot size. TPACKET_V3 packs frames of any length
    /// tightly into a block, so this only has to be a multiple of 16 that
    /// divides the block size (the kernel checks the arithmetic).
    pub frame_size: u32,
    /// Milliseconds after which the kernel hands over a block that is not
    /// full yet (`tp_retire_blk_tov`), so a quiet link still delivers.
    pub retire_timeout_ms: u32,
}

impl RingConfig {
    /// The block size used by [`RingConfig::with_total_size`]: 256 KiB, a
    /// few thousand small frames per hand-over.
    pub const DEFAULT_BLOCK_SIZE: u32 = 256 * 1024;

    /// A ring of about `bytes` in total, in blocks of
    /// [`Self::DEFAULT_BLOCK_SIZE`] (at least two, so the kernel can fill
    /// one while the program reads another), 2 KiB frame slots and a
    /// 10 ms retire timeout.
    pub fn with_total_size(bytes: usize) -> RingConfig {
        let block_size = Self::DEFAULT_BLOCK_SIZE;
        let blocks = bytes / block_size as usize;
        RingConfig {
            block_size,
            block_count: u32::try_from(blocks.max(2)).unwrap_or(u32::MAX),
            frame_size: 2048,
            retire_timeout_ms: 10,
        }
    }

    /// Total bytes of the ring.
    pub fn total_size(&self) -> usize {
        self.block_size as usize * self.block_count as usize
    }
}

/// What the kernel counted for a ring since the last time anyone asked
/// (`PACKET_STATISTICS` on a TPACKET_V3 socket: `struct tpacket_stats_v3`).
/// As with a plain socket, reading resets the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RingStats {
    /// Frames that passed the filter (`tp_packets`), dropped ones included.
    pub received: u32,
    /// Frames lost because every block was still in the program's hands
    /// (`tp_drops`).
    pub dropped: u32,
    /// How many times the kernel found the ring full and froze its queue
    /// until the program returned a block (`tp_freeze_q_cnt`).
    pub freezes: u32,
}

impl From<RingStats> for PacketStats {
    fn from(stats: RingStats) -> PacketStats {
        PacketStats {
            received: stats.received,
            dropped: stats.dropped,
        }
    }
}

/// A packet socket with a TPACKET_V3 receive ring mapped into memory.
///
/// Frames arrive through [`RxRing::next_block`], no longer through
/// [`PacketSocket::recv`]. The socket can still send, filter and hold the
/// interface promiscuous ([`RxRing::socket`]).
pub struct RxRing {
    socket: PacketSocket,
    /// Start of the mapping: `block_size * block_count` bytes.
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    /// The block the kernel will hand over next (they go round in order).
    next: usize,
}

// SAFETY: the ring owns its mapping (nothing else refers to it) and the
// socket; moving it to another thread moves that ownership with it.
unsafe impl Send for RxRing {}

impl RxRing {
    /// Turns `socket` into a ring receiver: selects TPACKET_V3, asks for
    /// the ring `config` describes, and maps it.
    ///
    /// Errors: `InvalidInput` for a shape the kernel refuses (block size not
    /// a multiple of the page size, frame size not a multiple of 16 …),
    /// `OutOfMemory` if the kernel cannot find the memory.
    // ANCHOR: ring_setup
    pub fn new(socket: PacketSocket, config: RingConfig) -> io::Result<RxRing> {
        let fd = socket.as_fd();
        // 1. The version first: the ring's layout depends on it, and it
        //    cannot change once a ring exists.
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_option(
            fd.as_raw_fd(),
            libc::PACKET_VERSION,
            &version,
            "PACKET_VERSION",
        )?;

        // 2. The ring: how many blocks of what size. The kernel allocates
        //    them, and from now on writes frames there, not to the queue
        //    recvmsg() reads.
        let frames_per_block = config.block_size / config.frame_size.max(1);
        let request = libc::tpacket_req3 {
            tp_block_size: config.block_size,
            tp_block_nr: config.block_count,
            tp_frame_size: config.frame_size,
            tp_frame_nr: frames_per_block.saturating_mul(config.block_count),
            tp_retire_blk_tov: config.retire_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_option(
            fd.as_raw_fd(),
            libc::PACKET_RX_RING,
            &request,
            "PACKET_RX_RING",
        )?;

        // 3. Map the blocks into our address space, shared with the kernel.
        let map_len = config.total_size();
        // SAFETY: a fresh shared mapping of the socket's ring: no existing
        // memory is touched; the kernel checks the length against the ring.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(last_error("mmap(PACKET_RX_RING)"));
        }
        let map = NonNull::new(map.cast::<u8>()).ok_or_else(|| last_error("mmap"))?;
        Ok(RxRing {
            socket,
            map,
            map_len,
            block_size: config.block_size as usize,
            block_count: config.block_count as usize,
            next: 0,
        })
    }
    // ANCHOR_END: ring_setup

    /// The socket under the ring (to filter, go promiscuous, or send).
    pub fn socket(&self) -> &PacketSocket {
        &self.socket
    }

    /// Waits until the kernel hands over the next block, or `deadline`
    /// passes (`Ok(None)`; forever if `None`). A signal that interrupts the
    /// wait is an `Interrupted` error, as with [`PacketSocket::recv`].
    ///
    /// The block goes back to the kernel when the returned [`Block`] is
    /// dropped; until then the kernel fills the other blocks.
    // ANCHOR: ring_next_block
    pub fn next_block(&mut self, deadline: Option<Instant>) -> io::Result<Option<Block<'_>>> {
        loop {
            if self.block_status(self.next) & libc::TP_STATUS_USER != 0 {
                break;
            }
            // Not ours yet: sleep in poll() until the kernel retires a
            // block (full, or its timeout passed) and wakes us.
            let events = libc::POLLIN | libc::POLLERR;
            if poll_until(self.socket.as_fd(), events, deadline)?.is_none() {
                return Ok(None);
            }
        }
        let index = self.next;
        self.next = (self.next + 1) % self.block_count;
        // SAFETY: `index` < block_count, so the block lies inside the
        // mapping; its status is TP_STATUS_USER (read with Acquire above),
        // so the kernel has finished writing it and will not touch it
        // until we store TP_STATUS_KERNEL, which only Block::drop does.
        let start = unsafe { self.map.as_ptr().add(index * self.block_size) };
        Ok(Some(Block {
            start,
            len: self.block_size,
            _ring: PhantomData,
        }))
    }
    // ANCHOR_END: ring_next_block

    /// The status word of block `index`, read with Acquire ordering: if it
    /// says TP_STATUS_USER, everything the kernel wrote into the block
    /// before setting it is visible to us.
    fn block_status(&self, index: usize) -> u32 {
        // SAFETY: index < block_count, so the descriptor is inside the
        // mapping, page-aligned (so aligned for u32); the kernel writes it
        // concurrently, which is why it is only accessed atomically.
        let status = unsafe { block_status_word(self.map.as_ptr().add(index * self.block_size)) };
        status.load(Ordering::Acquire)
    }

    /// The kernel's counters since the last call: frames received,
    /// dropped for lack of a free block, and ring freezes. Reading resets
    /// them.
    pub fn statistics(&self) -> io::Result<RingStats> {
        // SAFETY: tpacket_stats_v3 is three integers; all-zero is valid.
        let mut stats: libc::tpacket_stats_v3 = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are live and writable; `len` says how
        // many bytes `stats` has room for (on a V3 socket the kernel fills
        // the V3 struct).
        let rc = unsafe {
            libc::getsockopt(
                self.socket.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(last_error("getsockopt(PACKET_STATISTICS)"));
        }
        Ok(RingStats {
            received: stats.tp_packets,
            dropped: stats.tp_drops,
            freezes: stats.tp_freeze_q_cnt,
        })
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are exactly what mmap returned, and no
        // Block (which borrows the ring) can outlive it. The socket closes
        // after this, when its field is dropped.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

impl fmt::Debug for RxRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RxRing")
            .field("socket", &self.socket)
            .field("block_size", &self.block_size)
            .field("block_count", &self.block_count)
            .field("next", &self.next)
            .finish()
    }
}

/// `setsockopt(fd, SOL_PACKET, option, value, sizeof *value)`.
fn set_option<T>(fd: libc::c_int, option: libc::c_int, value: &T, name: &str) -> io::Result<()> {
    // SAFETY: `value` is a live T and the length passed is its size; the
    // kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            option,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(last_error(format!("setsockopt({name})")));
    }
    Ok(())
}

/// The `block_status` word of the block descriptor at `block`.
///
/// # Safety
/// `block` must be the page-aligned start of a block of the mapped ring,
/// which stays mapped for `'a`.
unsafe fn block_status_word<'a>(block: *mut u8) -> &'a AtomicU32 {
    let offset = mem::offset_of!(libc::tpacket_block_desc, hdr)
        + mem::offset_of!(libc::tpacket_hdr_v1, block_status);
    // SAFETY: the caller promises a live, page-aligned block; the status
    // word is a u32 at a 4-aligned offset inside its descriptor, and all
    // accesses to it (ours and the kernel's) are atomic.
    unsafe { AtomicU32::from_ptr(block.add(offset).cast::<u32>()) }
}

/// One block the kernel handed over: a batch of frames, ours to read until
/// dropped, when it goes back to the kernel.
pub struct Block<'ring> {
    start: *mut u8,
    len: usize,
    /// Holds the ring mutably borrowed: no second block while this one is
    /// out, and the mapping outlives the block.
    _ring: PhantomData<&'ring mut RxRing>,
}

impl Block<'_> {
    /// The block's descriptor fields (`struct tpacket_hdr_v1`): number of
    /// frames, where the first one starts, the sequence number.
    fn header(&self) -> libc::tpacket_hdr_v1 {
        // SAFETY: the descriptor sits at the start of the block (inside the
        // mapping); it is ours while the block is; read_unaligned copies
        // the plain integers out.
        unsafe {
            self.start
                .add(mem::offset_of!(libc::tpacket_block_desc, hdr))
                .cast::<libc::tpacket_hdr_v1>()
                .read_unaligned()
        }
    }

    /// How many frames the block holds.
    pub fn frame_count(&self) -> u32 {
        self.header().num_pkts
    }

    /// The block's sequence number: consecutive blocks count up by one,
    /// so a gap would show a block we missed.
    pub fn sequence(&self) -> u64 {
        self.header().seq_num
    }

    /// Whether the kernel handed the block over because its retire timeout
    /// passed rather than because it was full (`TP_STATUS_BLK_TMO`).
    pub fn timed_out(&self) -> bool {
        self.header().block_status & libc::TP_STATUS_BLK_TMO != 0
    }

    /// The frames in the block, in arrival order.
    pub fn frames(&self) -> Frames<'_> {
        let header = self.header();
        Frames {
            // SAFETY: the block's `len` bytes are inside the mapping and
            // ours (status TP_STATUS_USER) until the Block is dropped, which
            // the returned borrow of `self` prevents while they are read.
            block: unsafe { std::slice::from_raw_parts(self.start, self.len) },
            offset: header.offset_to_first_pkt as usize,
            left: header.num_pkts,
        }
    }
}

// ANCHOR: ring_release_block
impl Drop for Block<'_> {
    /// Hands the block back: the kernel may fill it again. Release
    /// ordering: our reads of the block happen before the kernel sees it
    /// as free.
    fn drop(&mut self) {
        // SAFETY: `start` is the start of a block of the live mapping
        // (the ring is borrowed for our lifetime), and no frame slice of
        // it is alive any more (they borrow `self`).
        let status = unsafe { block_status_word(self.start) };
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}
// ANCHOR_END: ring_release_block

impl fmt::Debug for Block<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("sequence", &self.sequence())
            .field("frames", &self.frame_count())
            .field("timed_out", &self.timed_out())
            .finish()
    }
}

/// One frame in a block: its bytes, where they lie in the shared memory,
/// and what the kernel noted about it.
#[derive(Debug, Clone, Copy)]
pub struct RingFrame<'block> {
    /// The frame as captured (`tp_snaplen` bytes from `tp_mac`), VLAN tag
    /// removed as with recvmsg (its TCI is in [`RxMeta::vlan_tci`]).
    pub data: &'block [u8],
    /// Length, original length, packet type, kernel timestamp, VLAN tag,
    /// checksum state — as [`PacketSocket::recv`] reports them.
    pub meta: RxMeta,
}

/// Iterator over the frames of a [`Block`].
#[derive(Debug)]
pub struct Frames<'block> {
    block: &'block [u8],
    /// Where the next frame's `tpacket3_hdr` starts, from the block start.
    offset: usize,
    /// Frames not yet returned.
    left: u32,
}

/// Where the `sockaddr_ll` of a frame starts: after its `tpacket3_hdr`,
/// aligned to 16 bytes (`TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`).
const SOCKADDR_OFFSET: usize =
    mem::size_of::<libc::tpacket3_hdr>().next_multiple_of(libc::TPACKET_ALIGNMENT);

impl<'block> Frames<'block> {
    /// The frame whose `tpacket3_hdr` starts at `offset`, and the offset
    /// of the next one relative to it (`tp_next_offset`).
    // ANCHOR: ring_walk_block
    fn frame_at(&self, offset: usize) -> Option<(RingFrame<'block>, usize)> {
        // Every offset comes from the kernel; check it anyway, so that a
        // misunderstanding of the layout ends the walk instead of reading
        // outside the block.
        let header = read_struct::<libc::tpacket3_hdr>(self.block, offset)?;
        let address = read_struct::<libc::sockaddr_ll>(self.block, offset + SOCKADDR_OFFSET)?;
        let data_start = offset + usize::from(header.tp_mac);
        let data_end = data_start.checked_add(header.tp_snaplen as usize)?;
        let data = self.block.get(data_start..data_end)?;

        let meta = RxMeta {
            len: data.len(),
            original_len: header.tp_len as usize,
            packet_type: packet_type(address.sll_pkttype),
            // Stamped by the kernel when the frame arrived, in nanoseconds.
            timestamp: UNIX_EPOCH
                + Duration::new(u64::from(header.tp_sec), header.tp_nsec.min(999_999_999)),
            vlan_tci: (header.tp_status & libc::TP_STATUS_VLAN_VALID != 0)
                .then_some(header.hv1.tp_vlan_tci as u16),
            checksum_not_ready: header.tp_status & libc::TP_STATUS_CSUMNOTREADY != 0,
        };
        Some((RingFrame { data, meta }, header.tp_next_offset as usize))
    }
    // ANCHOR_END: ring_walk_block
}

impl<'block> Iterator for Frames<'block> {
    type Item = RingFrame<'block>;

    fn next(&mut self) -> Option<RingFrame<'block>> {
        if self.left == 0 {
            return None;
        }
        match self.frame_at(self.offset) {
            Some((frame, next_offset)) => {
                self.left -= 1;
                // The last frame has tp_next_offset 0; nothing follows it.
                self.offset += next_offset;
                Some(frame)
            }
            None => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// A copy of the `T` at `offset` in `block`, if it lies wholly inside.
/// Only for the kernel's plain-integer structs, valid for any bytes.
fn read_struct<T: Copy>(block: &[u8], offset: usize) -> Option<T> {
    let bytes = block.get(offset..offset.checked_add(mem::size_of::<T>())?)?;
    // SAFETY: `bytes` holds size_of::<T>() bytes; T is one of libc's
    // packet structs (integers only), so any bit pattern is a valid T, and
    // read_unaligned does not need alignment.
    Some(unsafe { bytes.as_ptr().cast::<T>().read_unaligned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a block in memory laid out as the kernel lays out TPACKET_V3
    /// (written from packet_mmap.rst, independently of the walker).
    fn fake_block(frames: &[(&[u8], u8)]) -> Vec<u8> {
        let mut block = vec![0u8; 4096];
        let first = 48usize; // after the 48-byte block descriptor
        block[12..16].copy_from_slice(&(frames.len() as u32).to_ne_bytes()); // num_pkts
        block[16..20].copy_from_slice(&(first as u32).to_ne_bytes()); // offset_to_first_pkt
        let mut at = first;
        for (i, (data, pkttype)) in frames.iter().enumerate() {
            let mac = 82usize; // TPACKET_ALIGN(68 + 16) - 14, as the kernel computes
            let next = (mac + data.len()).next_multiple_of(16);
            let last = i + 1 == frames.len();
            let h = &mut block[at..];
            h[0..4].copy_from_slice(&(if last { 0 } else { next as u32 }).to_ne_bytes());
            h[4..8].copy_from_slice(&1_700_000_000u32.to_ne_bytes()); // tp_sec
            h[8..12].copy_from_slice(&(i as u32 * 1000).to_ne_bytes()); // tp_nsec
            h[12..16].copy_from_slice(&(data.len() as u32).to_ne_bytes()); // tp_snaplen
            h[16..20].copy_from_slice(&(data.len() as u32 + 4).to_ne_bytes()); // tp_len
            h[20..24].copy_from_slice(&libc::TP_STATUS_VLAN_VALID.to_ne_bytes());
            h[24..26].copy_from_slice(&(mac as u16).to_ne_bytes()); // tp_mac
            h[32..36].copy_from_slice(&(7u32 + i as u32).to_ne_bytes()); // hv1.tp_vlan_tci
            h[48 + 10] = *pkttype; // sockaddr_ll.sll_pkttype
            h[mac..mac + data.len()].copy_from_slice(data);
            at += next;
        }
        block
    }

    fn walk(block: &[u8]) -> Vec<RingFrame<'_>> {
        Frames {
            block,
            offset: u32::from_ne_bytes(block[16..20].try_into().unwrap()) as usize,
            left: u32::from_ne_bytes(block[12..16].try_into().unwrap()),
        }
        .collect()
    }

    #[test]
    fn layout_constants_match_the_kernel_headers() {
        // Sizes from <linux/if_packet.h>, counted by hand.
        assert_eq!(mem::size_of::<libc::tpacket3_hdr>(), 48);
        assert_eq!(SOCKADDR_OFFSET, 48);
        assert_eq!(mem::offset_of!(libc::tpacket_block_desc, hdr), 8);
        assert_eq!(mem::offset_of!(libc::tpacket_hdr_v1, num_pkts), 4);
        assert_eq!(
            mem::offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt),
            8
        );
    }

    #[test]
    fn walks_every_frame_of_a_block() {
        let a = [0xaau8; 60];
        let b = [0xbbu8; 1514];
        let block = fake_block(&[(&a, libc::PACKET_HOST), (&b, libc::PACKET_OUTGOING)]);
        let frames = walk(&block);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, &a);
        assert_eq!(frames[1].data, &b);
        assert_eq!(frames[0].meta.original_len, 64);
        assert_eq!(
            frames[1].meta.packet_type,
            crate::device::PacketType::Outgoing
        );
        assert_eq!(frames[0].meta.vlan_tci, Some(7));
        assert_eq!(frames[1].meta.vlan_tci, Some(8));
        assert_eq!(
            frames[1].meta.timestamp,
            UNIX_EPOCH + Duration::new(1_700_000_000, 1000)
        );
    }

    #[test]
    fn a_lying_block_ends_the_walk_instead_of_reading_outside() {
        let a = [1u8; 100];
        let mut block = fake_block(&[(&a, 0), (&a, 0)]);
        // Claim a third frame that is not there, and a huge snaplen on the
        // second: the walk stops at what fits.
        block[12..16].copy_from_slice(&3u32.to_ne_bytes());
        let second = 48 + (82 + 100usize).next_multiple_of(16);
        block[second + 12..second + 16].copy_from_slice(&100_000u32.to_ne_bytes());
        assert_eq!(walk(&block).len(), 1);
        // An offset to the first frame past the end: nothing at all.
        block[16..20].copy_from_slice(&5000u32.to_ne_bytes());
        assert_eq!(walk(&block).len(), 0);
    }
}
