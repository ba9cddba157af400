//! Reading captures: classic pcap (either byte order, micro- or nanosecond
//! timestamps) and pcapng.
//!
//! The reader trusts nothing in the file. Every length is checked against
//! what is left and against a fixed limit before it is used, and buffers
//! grow only as bytes actually arrive, so a header claiming four gigabytes
//! costs nothing: damaged input gives an [`Error`], never a panic.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Error;
use super::pcapng::{self, Section};

/// The most bytes of one frame the reader accepts (262144, Wireshark's
/// limit for Ethernet and most link types). A record claiming more is
/// damage, not a frame.
pub const MAX_PACKET_LEN: u32 = 262_144;

/// The largest pcapng block the reader accepts (16 MiB, as Wireshark).
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When it was captured. pcapng's Simple Packet Blocks carry no time:
    /// their frames get `UNIX_EPOCH`.
    pub timestamp: SystemTime,
    /// The bytes saved, starting with the link-layer header.
    pub data: Vec<u8>,
    /// How long the frame was on the wire (more than `data.len()` when the
    /// capture kept only the start of it).
    pub original_len: usize,
    /// What `data` starts with: a `LINKTYPE_*` value, e.g.
    /// [`super::LINKTYPE_ETHERNET`]. Returned as found, known or not.
    pub link_type: u16,
    /// Which interface captured it: the pcapng interface id (0 in a
    /// classic pcap file, which has one).
    pub interface_id: u32,
}

/// Reads the records of a capture file, one at a time.
///
/// Use it as an iterator of `Result<Record, Error>`; it stops after the
/// first error, since nothing after damage can be trusted.
///
/// ```no_run
/// # fn main() -> Result<(), l2_link::pcap::Error> {
/// for record in l2_link::pcap::PcapReader::open("capture.pcapng")? {
///     let record = record?;
///     println!("{} bytes", record.data.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PcapReader<R: Read> {
    input: Input<R>,
    format: Format,
    failed: bool,
}

#[derive(Debug)]
enum Format {
    Classic(ClassicHeader),
    Pcapng(Section),
}

/// What a classic pcap global header says about every record.
#[derive(Debug, Clone, Copy)]
struct ClassicHeader {
    order: ByteOrder,
    /// Whether the record's second timestamp field counts nanoseconds
    /// (magic 0xa1b23c4d) rather than microseconds (0xa1b2c3d4).
    nanoseconds: bool,
    link_type: u16,
}

impl PcapReader<BufReader<File>> {
    /// Open a capture file by path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        PcapReader::new(BufReader::new(File::open(path)?))
    }
}

impl<R: Read> PcapReader<R> {
    /// Start reading: the file header tells the format and byte order.
    pub fn new(input: R) -> Result<Self, Error> {
        let mut input = Input::new(input);
        let mut magic = [0u8; 4];
        input.read_exact(&mut magic, "file header", 0)?;
        let format = if let Some((order, nanoseconds)) = classic_magic(magic) {
            Format::Classic(read_classic_header(&mut input, order, nanoseconds)?)
        } else if magic == pcapng::SECTION_HEADER_TYPE {
            let mut length = [0u8; 4];
            input.read_exact(&mut length, "section header block", 0)?;
            Format::Pcapng(pcapng::read_section_header(&mut input, length, 0)?)
        } else {
            return Err(Error::BadMagic { magic });
        };
        Ok(PcapReader {
            input,
            format,
            failed: false,
        })
    }

    /// The next record, `Ok(None)` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, Error> {
        if self.failed {
            return Ok(None);
        }
        let result = match &mut self.format {
            Format::Classic(header) => read_classic_record(&mut self.input, *header),
            Format::Pcapng(section) => pcapng::next_packet(&mut self.input, section),
        };
        self.failed = result.is_err();
        result
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// The byte order of a file (or pcapng section), learned from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    pub(super) fn u16(self, bytes: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(bytes),
            ByteOrder::Big => u16::from_be_bytes(bytes),
        }
    }

    pub(super) fn u32(self, bytes: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(bytes),
            ByteOrder::Big => u32::from_be_bytes(bytes),
        }
    }

    pub(super) fn i64(self, bytes: [u8; 8]) -> i64 {
        match self {
            ByteOrder::Little => i64::from_le_bytes(bytes),
            ByteOrder::Big => i64::from_be_bytes(bytes),
        }
    }

    /// The `u16` at `at` in `bytes`, if it is all there.
    pub(super) fn u16_at(self, bytes: &[u8], at: usize) -> Option<u16> {
        Some(self.u16(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
    }

    /// The `u32` at `at` in `bytes`, if it is all there.
    pub(super) fn u32_at(self, bytes: &[u8], at: usize) -> Option<u32> {
        Some(self.u32(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
    }
}

/// The classic pcap magic numbers, as the first four bytes of a file:
/// which byte order wrote it, and whether timestamps are in nanoseconds.
fn classic_magic(magic: [u8; 4]) -> Option<(ByteOrder, bool)> {
    const MICROSECONDS: u32 = 0xa1b2_c3d4;
    const NANOSECONDS: u32 = 0xa1b2_3c4d;
    match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
        (MICROSECONDS, _) => Some((ByteOrder::Little, false)),
        (_, MICROSECONDS) => Some((ByteOrder::Big, false)),
        (NANOSECONDS, _) => Some((ByteOrder::Little, true)),
        (_, NANOSECONDS) => Some((ByteOrder::Big, true)),
        _ => None,
    }
}

/// The rest of the 24-byte global header, after the magic.
fn read_classic_header<R: Read>(
    input: &mut Input<R>,
    order: ByteOrder,
    nanoseconds: bool,
) -> Result<ClassicHeader, Error> {
    let mut rest = [0u8; 20];
    input.read_exact(&mut rest, "file header", 0)?;
    let major = order.u16([rest[0], rest[1]]);
    let minor = order.u16([rest[2], rest[3]]);
    if major != 2 {
        return Err(Error::UnsupportedVersion {
            format: "pcap",
            major,
            minor,
        });
    }
    // rest[4..8] thiszone and rest[8..12] sigfigs are 0 in practice;
    // rest[12..16] snaplen is advisory. The link type field keeps FCS
    // information in its upper bits; the type is the low 16.
    let link_type = order.u32([rest[16], rest[17], rest[18], rest[19]]) & 0xffff;
    Ok(ClassicHeader {
        order,
        nanoseconds,
        link_type: link_type as u16,
    })
}

/// One record: a 16-byte header, then the saved bytes.
fn read_classic_record<R: Read>(
    input: &mut Input<R>,
    header: ClassicHeader,
) -> Result<Option<Record>, Error> {
    let start = input.offset();
    let mut fields = [0u8; 16];
    match input.fill(&mut fields)? {
        0 => return Ok(None), // the clean end, between records
        16 => {}
        _ => {
            return Err(Error::Truncated {
                what: "record header",
                offset: start,
            });
        }
    }
    let field = |i: usize| {
        header
            .order
            .u32([fields[i], fields[i + 1], fields[i + 2], fields[i + 3]])
    };
    let (seconds, fraction, captured_len, original_len) = (field(0), field(4), field(8), field(12));
    if captured_len > MAX_PACKET_LEN {
        return Err(Error::TooLarge {
            what: "record",
            len: captured_len.into(),
            limit: MAX_PACKET_LEN.into(),
            offset: start,
        });
    }
    let data = input.read_vec(captured_len as usize, "record", start)?;
    let nanos = if header.nanoseconds {
        u64::from(fraction)
    } else {
        u64::from(fraction) * 1_000
    };
    // Both parts fit easily: at most 2^32 s plus 2^32 µs past 1970.
    let timestamp = UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds.into()) + Duration::from_nanos(nanos))
        .ok_or(Error::Malformed {
            what: "record",
            reason: "timestamp out of range",
            offset: start,
        })?;
    Ok(Some(Record {
        timestamp,
        data,
        original_len: original_len as usize,
        link_type: header.link_type,
        interface_id: 0,
    }))
}

/// The file being read, with the count of bytes consumed (for error
/// messages that say where the damage is).
#[derive(Debug)]
pub(super) struct Input<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input { inner, offset: 0 }
    }

    /// Bytes consumed so far.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Fill `buf` as far as the input goes; fewer bytes only at its end.
    pub(super) fn fill(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::Io(err)),
            }
        }
        self.offset += filled as u64;
        Ok(filled)
    }

    /// Fill `buf` completely, or fail with `Truncated` naming `what`, which
    /// started at byte `start`.
    pub(super) fn read_exact(
        &mut self,
        buf: &mut [u8],
        what: &'static str,
        start: u64,
    ) -> Result<(), Error> {
        if self.fill(buf)? < buf.len() {
            return Err(Error::Truncated {
                what,
                offset: start,
            });
        }
        Ok(())
    }

    /// Read exactly `len` bytes into a new vector. The vector grows as bytes
    /// arrive, so a length that lies about a short file allocates nothing
    /// extra; callers bound `len` beforehand.
    pub(super) fn read_vec(
        &mut self,
        len: usize,
        what: &'static str,
        start: u64,
    ) -> Result<Vec<u8>, Error> {
        let mut data = Vec::new();
        let got = (&mut self.inner).take(len as u64).read_to_end(&mut data)?;
        self.offset += got as u64;
        if got < len {
            return Err(Error::Truncated {
                what,
                offset: start,
            });
        }
        Ok(data)
    }

    /// Skip `len` bytes without keeping them.
    pub(super) fn skip(&mut self, len: usize, what: &'static str, start: u64) -> Result<(), Error> {
        let got = io::copy(&mut (&mut self.inner).take(len as u64), &mut io::sink())?;
        self.offset += got;
        if got < len as u64 {
            return Err(Error::Truncated {
                what,
                offset: start,
            });
        }
        Ok(())
    }
}
