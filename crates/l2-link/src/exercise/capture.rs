//! The capture loop every sniffer-like exercise shares: layer 2's `sniff`
//! and layer 7's `dissect` differ only in how much of a frame they can
//! decode, so the loop lives here and takes the printing as a parameter.
//!
//! - [`capture_live`] opens a packet socket on an interface, sets up the
//!   kernel filter and promiscuous mode, optionally saves every frame to a
//!   pcap file (`-w`), gives up its capabilities, and hands each frame to
//!   the caller until a count is reached or Ctrl-C; on the way out it
//!   flushes the file and prints the kernel's drop counts, as tcpdump does.
//!   With [`CaptureOptions::ring`] the frames come from a TPACKET_V3
//!   memory-mapped ring instead ([`RxRing`]), a block at a time.
//! - [`read_capture`] hands over the frames of a pcap or pcapng file
//!   (`-r`) the same way.
//! - [`print_frame`] is the one-line-per-frame output both programs print
//!   with their own [`Printer`].

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Failure, Whereabouts, clock_time, recv_frame};
use crate::device::{PacketType, RxMeta};
use crate::pcap::{self, PcapReader, PcapWriter};
use crate::print::Printer;
use crate::sys::socket_util::set_int_option;
use crate::sys::{self, PacketSocket, RingConfig, RxRing, bpf, signal};
use crate::wire::EtherType;

/// What a live capture should do: the sniffer's command-line flags.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    /// Interface to capture on; `None`: this lab host's own
    /// ([`Whereabouts::default_interface`]).
    pub interface: Option<String>,
    /// Stop after this many frames (`-c`).
    pub count: Option<u64>,
    /// Also write every frame to this classic pcap file (`-w`).
    pub write: Option<PathBuf>,
    /// Keep only frames of this EtherType, filtered in the kernel by a
    /// classic BPF program (`--ethertype`).
    pub ethertype: Option<u16>,
    /// Put the interface in promiscuous mode (off with `-p`).
    pub promiscuous: bool,
    /// Receive through a TPACKET_V3 memory-mapped ring ([`RxRing`])
    /// instead of one `recvmsg()` per frame (`--ring`).
    pub ring: bool,
    /// The kernel-side buffer in bytes (`-B`, as dumpcap's): the ring's
    /// size with `ring`, else the socket's receive buffer (`SO_RCVBUF`).
    /// `None`: [`DEFAULT_RING_SIZE`] for a ring, the system's default
    /// for a socket.
    pub buffer_size: Option<usize>,
}

/// The command-line flags of a sniffer, shared by `sniff` and `dissect`
/// (flattened into each program's own `Parser` with
/// `#[command(flatten)]`), named as tcpdump and dumpcap name them.
#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    /// Interface to capture on (default: this lab host's own: lab1 on raw,
    /// lab0 on alpha, lab3 on beta).
    #[arg(short = 'i', long)]
    pub interface: Option<String>,
    /// Stop after this many frames.
    #[arg(short = 'c', long)]
    pub count: Option<u64>,
    /// Also write every frame to this classic pcap file (for Wireshark).
    #[arg(short = 'w', long, value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Read frames from a capture file (pcap or pcapng) instead of a socket.
    #[arg(short = 'r', long, value_name = "FILE", conflicts_with_all = ["interface", "write"])]
    pub read: Option<PathBuf>,
    /// Keep only frames of this EtherType, filtered in the kernel by a
    /// classic BPF program (e.g. 0x0806 for ARP).
    #[arg(long, value_parser = super::parse_u16_maybe_hex)]
    pub ethertype: Option<u16>,
    /// Print each frame as an annotated hex dump under its summary line.
    #[arg(short = 'x')]
    pub hex: bool,
    /// Do not put the interface in promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous")]
    pub no_promiscuous: bool,
    /// Receive through a TPACKET_V3 memory-mapped ring instead of one
    /// recvmsg() per frame.
    #[arg(long, conflicts_with = "read")]
    pub ring: bool,
    /// Kernel buffer in MiB, as dumpcap's -B: the ring's size with --ring
    /// (default 2), else the socket's receive buffer.
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "MiB",
        conflicts_with = "read"
    )]
    pub buffer_mib: Option<usize>,
    /// Print no frames, only the counts at the end (with -w: just save).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl CaptureArgs {
    /// What [`capture_live`] should do, from these flags.
    pub fn options(&self) -> CaptureOptions {
        CaptureOptions {
            interface: self.interface.clone(),
            count: self.count,
            write: self.write.clone(),
            ethertype: self.ethertype,
            promiscuous: !self.no_promiscuous,
            ring: self.ring,
            buffer_size: self.buffer_mib.map(|mib| mib << 20),
        }
    }
}

/// The ring's size when none is asked for: 2 MiB, libpcap's (and so
/// tcpdump's and dumpcap's) default buffer.
pub const DEFAULT_RING_SIZE: usize = 2 << 20;

/// Bytes of pcap output gathered before each `write()` to the file: one
/// system call per few thousand small frames, not one per frame.
const PCAP_BUFFER: usize = 256 << 10;

/// Where frames come from: one `recvmsg()` each, or blocks of a ring.
enum Source {
    Socket(PacketSocket),
    Ring(RxRing),
}

/// What the loop counted, for the closing lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureSummary {
    /// Frames handed to the caller (and written to the file).
    pub captured: u64,
    /// The kernel's counters (`PACKET_STATISTICS`) at the end.
    pub stats: sys::PacketStats,
}

/// Captures live frames as `options` say and calls `on_frame` with each,
/// VLAN tag restored, until the count is reached or SIGINT/SIGTERM arrives.
/// Prints tcpdump's "listening on" line first and the counts last (on
/// stderr, so stdout holds only frames).
// ANCHOR: capture_live
pub fn capture_live(
    options: &CaptureOptions,
    mut on_frame: impl FnMut(&[u8], &RxMeta),
) -> Result<CaptureSummary, Failure> {
    let interface = options
        .interface
        .clone()
        .unwrap_or_else(|| Whereabouts::detect().default_interface().to_string());
    let socket = PacketSocket::open(&interface)?;
    if let Some(ethertype) = options.ethertype {
        socket.attach_filter(&bpf::ethertype_filter(EtherType(ethertype)))?;
    }
    if options.promiscuous {
        socket.set_promiscuous(true)?;
    }
    let mut source = if options.ring {
        let size = options.buffer_size.unwrap_or(DEFAULT_RING_SIZE);
        let config = RingConfig::with_total_size(size);
        eprintln!(
            "ring: TPACKET_V3, {} blocks of {} KiB",
            config.block_count,
            config.block_size / 1024
        );
        Source::Ring(RxRing::new(socket, config)?)
    } else {
        if let Some(bytes) = options.buffer_size {
            set_receive_buffer(&socket, bytes)?;
        }
        Source::Socket(socket)
    };
    let mut writer = match &options.write {
        Some(path) => Some(create_pcap_file(path)?),
        None => None,
    };
    // The socket is open and set up: from here on nothing needs a
    // privilege, so hold none while we parse whatever the wire brings.
    sys::drop_capabilities()?;
    let stop = signal::StopOnInterrupt::install()?;
    eprintln!("listening on {interface}, link-type EN10MB (Ethernet), snapshot length 65535 bytes");

    let mut sink = Sink {
        writer: writer.as_mut(),
        on_frame: &mut on_frame,
        captured: 0,
        limit: options.count,
    };
    let stats = match &mut source {
        Source::Socket(socket) => {
            receive_one_by_one(socket, &mut sink, &stop)?;
            socket.statistics()?
        }
        Source::Ring(ring) => {
            receive_from_ring(ring, &mut sink, &stop)?;
            ring.statistics()?.into()
        }
    };
    let summary = CaptureSummary {
        captured: sink.captured,
        stats,
    };
    if let Some(mut writer) = writer {
        writer.flush()?;
    }
    print_summary(&summary);
    Ok(summary)
}
// ANCHOR_END: capture_live

/// The plain path: one `recvmsg()` per frame, into one reused buffer.
// ANCHOR: receive_one_by_one
fn receive_one_by_one(
    socket: &PacketSocket,
    sink: &mut Sink<'_, impl FnMut(&[u8], &RxMeta)>,
    stop: &signal::StopOnInterrupt,
) -> Result<(), Failure> {
    let mut buf = vec![0u8; 65535];
    while !sink.is_full() && !stop.requested() {
        // Wake up a few times a second to notice Ctrl-C.
        let deadline = Instant::now() + Duration::from_millis(200);
        let Some(meta) = recv_frame(socket, &mut buf, deadline)? else {
            continue;
        };
        sink.take(&buf[..meta.len], &meta)?;
    }
    Ok(())
}
// ANCHOR_END: receive_one_by_one

/// The ring path: wait for a block, walk every frame in it where the
/// kernel wrote it, hand the block back (when `block` goes out of scope).
// ANCHOR: receive_from_ring
fn receive_from_ring(
    ring: &mut RxRing,
    sink: &mut Sink<'_, impl FnMut(&[u8], &RxMeta)>,
    stop: &signal::StopOnInterrupt,
) -> Result<(), Failure> {
    while !sink.is_full() && !stop.requested() {
        let deadline = Instant::now() + Duration::from_millis(200);
        let block = match ring.next_block(Some(deadline)) {
            Ok(Some(block)) => block,
            Ok(None) => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err.into()),
        };
        for frame in block.frames() {
            if sink.is_full() {
                break;
            }
            sink.take(frame.data, &frame.meta)?;
        }
    }
    Ok(())
}
// ANCHOR_END: receive_from_ring

/// Where every captured frame goes: the caller's callback and the file.
struct Sink<'a, F> {
    writer: Option<&'a mut PcapWriter<BufWriter<File>>>,
    on_frame: &'a mut F,
    captured: u64,
    limit: Option<u64>,
}

impl<F: FnMut(&[u8], &RxMeta)> Sink<'_, F> {
    /// True once `-c` frames were taken.
    fn is_full(&self) -> bool {
        self.limit.is_some_and(|limit| self.captured >= limit)
    }

    fn take(&mut self, frame: &[u8], meta: &RxMeta) -> Result<(), Failure> {
        deliver(frame, meta, self.writer.as_deref_mut(), self.on_frame)?;
        self.captured += 1;
        Ok(())
    }
}

/// Asks for a receive buffer of `bytes` (the kernel doubles the figure for
/// its bookkeeping, socket(7)). `SO_RCVBUFFORCE` first, which may exceed
/// the system's `net.core.rmem_max` but needs `CAP_NET_ADMIN` (the lab has
/// it); plain `SO_RCVBUF`, capped at that maximum, otherwise.
fn set_receive_buffer(socket: &PacketSocket, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes / 2).unwrap_or(libc::c_int::MAX);
    let fd = socket.as_fd();
    let level = libc::SOL_SOCKET;
    set_int_option(fd, level, libc::SO_RCVBUFFORCE, value, "SO_RCVBUFFORCE")
        .or_else(|_| set_int_option(fd, level, libc::SO_RCVBUF, value, "SO_RCVBUF"))
}

/// Creates the `-w` file with a large write buffer.
fn create_pcap_file(path: &Path) -> Result<PcapWriter<BufWriter<File>>, Failure> {
    let file =
        File::create(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(PcapWriter::new(BufWriter::with_capacity(
        PCAP_BUFFER,
        file,
    ))?)
}

/// One received frame: put back the 802.1Q tag the kernel took off (so we
/// print and save the frame as it was on the wire), hand it to the caller,
/// and append it to the pcap file.
// ANCHOR: deliver_frame
fn deliver(
    received: &[u8],
    meta: &RxMeta,
    writer: Option<&mut PcapWriter<BufWriter<File>>>,
    on_frame: &mut impl FnMut(&[u8], &RxMeta),
) -> Result<(), Failure> {
    // Only a tagged frame is copied; every other one is used where it lies.
    let frame = match meta.vlan_tci {
        Some(tci) => Cow::Owned(pcap::reinsert_vlan_tag(received, tci)),
        None => Cow::Borrowed(received),
    };
    let grown = frame.len() - received.len();
    let meta = RxMeta {
        len: frame.len(),
        original_len: meta.original_len + grown,
        ..*meta
    };
    on_frame(&frame, &meta);
    if let Some(writer) = writer {
        writer.write_frame(meta.timestamp, &frame, meta.original_len)?;
    }
    Ok(())
}
// ANCHOR_END: deliver_frame

/// tcpdump's closing lines: what we got and what the kernel lost.
fn print_summary(summary: &CaptureSummary) {
    eprintln!("{} frames captured", summary.captured);
    eprintln!("{} frames received by filter", summary.stats.received);
    eprintln!("{} frames dropped by kernel", summary.stats.dropped);
}

/// Reads the capture file at `path` (pcap or pcapng) and calls `on_frame`
/// with each Ethernet frame, at most `count` of them, keeping only
/// `ethertype` if given (no kernel filter runs on a file, so it is matched
/// here). Records of another link type get one line saying so. A damaged
/// record ends the reading with a message, keeping what came before.
pub fn read_capture(
    program: &str,
    path: &Path,
    count: Option<u64>,
    ethertype: Option<u16>,
    mut on_frame: impl FnMut(&[u8], &RxMeta),
) -> Result<(), Failure> {
    let file = File::open(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let reader = PcapReader::new(io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let mut shown = 0u64;
    for record in reader {
        if count.is_some_and(|count| shown >= count) {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                eprintln!("{program}: {}: stopped reading: {err}", path.display());
                break;
            }
        };
        if record.link_type != pcap::LINKTYPE_ETHERNET {
            println!(
                "{} link type {} is not Ethernet; {} bytes not decoded",
                clock_time(record.timestamp),
                record.link_type,
                record.data.len()
            );
            shown += 1;
            continue;
        }
        if let Some(ethertype) = ethertype
            && frame_ethertype(&record.data) != Some(ethertype)
        {
            continue;
        }
        let meta = RxMeta {
            len: record.data.len(),
            original_len: record.original_len,
            packet_type: PacketType::Host,
            timestamp: record.timestamp,
            vlan_tci: None,
            checksum_not_ready: false,
        };
        on_frame(&record.data, &meta);
        shown += 1;
    }
    Ok(())
}

/// The EtherType of a frame read from a file (the inner one when tagged),
/// for `--ethertype` on captures, where no kernel filter runs.
fn frame_ethertype(frame: &[u8]) -> Option<u16> {
    let at = |i: usize| Some(u16::from_be_bytes([*frame.get(i)?, *frame.get(i + 1)?]));
    match at(12)? {
        0x8100 => at(16),
        ethertype => Some(ethertype),
    }
}

/// Prints one frame as tcpdump -e would: the time, `Out` for frames this
/// machine sent, the printer's summary of every layer it knows, a note if
/// the frame was cut short, and with `hex` the annotated hex dump below.
pub fn print_frame(printer: &Printer, frame: &[u8], meta: &RxMeta, hex: bool) {
    let direction = if meta.packet_type == PacketType::Outgoing {
        " Out"
    } else {
        ""
    };
    let truncated = if meta.original_len > meta.len {
        format!(" [truncated: {} of {} bytes]", meta.len, meta.original_len)
    } else {
        String::new()
    };
    println!(
        "{}{direction} {}{truncated}",
        clock_time(meta.timestamp),
        printer.summary(frame)
    );
    if hex {
        println!("{}", printer.hexdump(frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ethertype_looks_inside_a_vlan_tag() {
        let mut plain = [0u8; 14];
        plain[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(frame_ethertype(&plain), Some(0x0806));
        let mut tagged = [0u8; 18];
        tagged[12..14].copy_from_slice(&[0x81, 0x00]);
        tagged[16..18].copy_from_slice(&[0x88, 0xb5]);
        assert_eq!(frame_ethertype(&tagged), Some(0x88b5));
        assert_eq!(frame_ethertype(&tagged[..17]), None);
        assert_eq!(frame_ethertype(&[]), None);
    }

    #[test]
    fn a_tagged_frame_is_delivered_and_saved_with_its_tag() {
        let untagged: Vec<u8> = (0u8..20).collect();
        let meta = RxMeta {
            vlan_tci: Some(0x2005),
            ..RxMeta::host(untagged.len())
        };
        let mut seen = Vec::new();
        deliver(
            &untagged,
            &meta,
            None,
            &mut |frame: &[u8], meta: &RxMeta| {
                seen.push((frame.to_vec(), meta.len, meta.original_len))
            },
        )
        .unwrap();
        let (frame, len, original_len) = &seen[0];
        // The tag (TPID 0x8100, TCI 0x2005) sits after the two addresses.
        assert_eq!(&frame[..12], &untagged[..12]);
        assert_eq!(&frame[12..16], &[0x81, 0x00, 0x20, 0x05]);
        assert_eq!(&frame[16..], &untagged[12..]);
        assert_eq!((*len, *original_len), (24, 24));
    }
}
