//! Writing classic pcap files (pcap-savefile(5); draft-ietf-opsawg-pcap).
//!
//! A classic pcap file is one 24-byte global header, then for every frame a
//! 16-byte record header followed by the frame's bytes:
//!
//! ```text
//! global header:  magic | major | minor | thiszone | sigfigs | snaplen | linktype
//!                   4       2       2        4          4         4         4
//! record header:  ts_sec | ts_usec | incl_len | orig_len      then incl_len bytes
//!                   4        4         4          4
//! ```
//!
//! The format lets a writer use its own byte order (readers tell by the
//! magic number); this one always writes little-endian, so the same frames
//! give the same file on every machine.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use super::LINKTYPE_ETHERNET;

/// The magic number of a classic pcap file with microsecond timestamps.
/// Written in the file's byte order, it also tells readers that order.
const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;

/// The format version this writer produces: 2.4, the only one in use.
const VERSION_MAJOR: u16 = 2;
const VERSION_MINOR: u16 = 4;

/// The snapshot length recorded in the header: the most bytes of one frame
/// the file keeps (262144, what tcpdump and Wireshark use). Longer frames
/// are cut to this, with their original length kept in the record.
pub const SNAPLEN: u32 = 262_144;

/// Writes frames to a classic pcap file that tcpdump, Wireshark and
/// [`super::PcapReader`] open.
///
/// Nothing is buffered here: give it a `BufWriter<File>` for a file (and
/// call [`PcapWriter::flush`] before reading the file while it is still
/// being written).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Start a capture of Ethernet frames: writes the global header.
    pub fn new(out: W) -> io::Result<Self> {
        PcapWriter::with_link_type(out, LINKTYPE_ETHERNET)
    }

    /// Start a capture whose frames begin with some other link-layer header
    /// (a `LINKTYPE_*` value, e.g. [`super::LINKTYPE_RAW`] for bare IP).
    pub fn with_link_type(mut out: W, link_type: u16) -> io::Result<Self> {
        // ANCHOR: pcap_global_header
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_MICROSECONDS.to_le_bytes());
        header[4..6].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
        header[6..8].copy_from_slice(&VERSION_MINOR.to_le_bytes());
        // 8..12 thiszone and 12..16 sigfigs stay 0: timestamps are UTC and
        // their accuracy is not claimed (every writer does this).
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&u32::from(link_type).to_le_bytes());
        out.write_all(&header)?;
        // ANCHOR_END: pcap_global_header
        Ok(PcapWriter { out })
    }

    /// Append one frame: `data` as captured (cut to [`SNAPLEN`] bytes if
    /// longer), stamped with `timestamp` to the microsecond, and the length
    /// it had on the wire (`original_len`; at least `data.len()`).
    ///
    /// Fails with `InvalidInput` for a timestamp before 1970 or after 2106,
    /// which the format's 32-bit seconds field cannot hold.
    pub fn write_frame(
        &mut self,
        timestamp: SystemTime,
        data: &[u8],
        original_len: usize,
    ) -> io::Result<()> {
        let since_epoch = timestamp
            .duration_since(UNIX_EPOCH)
            .map_err(|_| invalid_input("a pcap timestamp cannot be before 1970"))?;
        let seconds = u32::try_from(since_epoch.as_secs())
            .map_err(|_| invalid_input("a pcap timestamp cannot be after 2106"))?;
        let microseconds = since_epoch.subsec_micros();
        let captured = &data[..data.len().min(SNAPLEN as usize)];
        let original_len = original_len.max(data.len());

        // ANCHOR: pcap_record
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&seconds.to_le_bytes());
        record[4..8].copy_from_slice(&microseconds.to_le_bytes());
        // incl_len: bytes saved here; orig_len: bytes the frame had. The
        // first is at most SNAPLEN; the second saturates at 4 GiB - 1.
        record[8..12].copy_from_slice(&(captured.len() as u32).to_le_bytes());
        record[12..16].copy_from_slice(&saturating_u32(original_len).to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(captured)?;
        // ANCHOR_END: pcap_record
        Ok(())
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The underlying writer, mutably (writing to it directly would corrupt
    /// the capture).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Give back the underlying writer (not flushed: call `flush` first if
    /// it buffers).
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn header_and_record_bytes() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        let time = UNIX_EPOCH + Duration::new(0x0102_0304, 5_006_007);
        writer.write_frame(time, &[0xaa, 0xbb], 60).unwrap();
        let bytes = writer.into_inner();
        #[rustfmt::skip]
        let expected = [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, // magic (little-endian), version 2.4
            0, 0, 0, 0, 0, 0, 0, 0,             // thiszone, sigfigs
            0, 0, 4, 0, 1, 0, 0, 0,             // snaplen 0x40000, LINKTYPE_ETHERNET
            0x04, 0x03, 0x02, 0x01,             // seconds
            0x8e, 0x13, 0, 0,                   // 5006 microseconds (nanoseconds dropped)
            2, 0, 0, 0, 60, 0, 0, 0,            // 2 bytes saved of 60
            0xaa, 0xbb,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn refuses_timestamps_the_format_cannot_hold() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
        let after_2106 = UNIX_EPOCH + Duration::from_secs(1 << 32);
        for time in [before_1970, after_2106] {
            let err = writer.write_frame(time, &[0; 14], 14).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        assert_eq!(
            writer.into_inner().len(),
            24,
            "nothing written for refused frames"
        );
    }

    #[test]
    fn cuts_frames_to_the_snaplen() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        let big = vec![7u8; SNAPLEN as usize + 10];
        writer.write_frame(UNIX_EPOCH, &big, big.len()).unwrap();
        let bytes = writer.into_inner();
        assert_eq!(bytes.len(), 24 + 16 + SNAPLEN as usize);
        assert_eq!(bytes[32..36], SNAPLEN.to_le_bytes());
        assert_eq!(bytes[36..40], (SNAPLEN + 10).to_le_bytes());
    }
}
