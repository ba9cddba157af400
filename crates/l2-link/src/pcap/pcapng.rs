//! Reading pcapng (draft-ietf-opsawg-pcapng), the format Wireshark and
//! dumpcap save by default.
//!
//! A pcapng file is a sequence of blocks, each framed the same way so a
//! reader can skip the kinds it does not know (§3.1):
//!
//! ```text
//! block type (4) | block total length (4) | body … | block total length (4)
//! ```
//!
//! A Section Header Block starts each section and fixes its byte order; an
//! Interface Description Block describes each capturing interface (link
//! type, snap length, timestamp resolution); Enhanced and Simple Packet
//! Blocks carry the frames. Everything else (name resolution, statistics,
//! custom blocks) is skipped.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Error;
use super::reader::{ByteOrder, Input, MAX_BLOCK_LEN, MAX_PACKET_LEN, Record};

/// The Section Header Block's type, 0x0A0D0D0A: a palindrome, so it reads
/// the same in either byte order (and CR/LF mangling breaks it, §4.1).
pub(super) const SECTION_HEADER_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// Written in the section's byte order right after the SHB's length.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Block types (§11.1).
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const OBSOLETE_PACKET: u32 = 0x0000_0002;
const SIMPLE_PACKET: u32 = 0x0000_0003;
const ENHANCED_PACKET: u32 = 0x0000_0006;

/// Option codes (§3.5, §4.2).
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Type, length and trailing length: the framing every block has.
const BLOCK_FRAMING_LEN: u32 = 12;

/// What the current section says about its interfaces.
#[derive(Debug)]
pub(super) struct Section {
    order: ByteOrder,
    interfaces: Vec<Interface>,
}

/// One Interface Description Block, as far as reading packets needs it.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u16,
    snaplen: u32,
    /// Timestamp units per second: 10^6 unless `if_tsresol` says otherwise.
    units_per_second: u64,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    offset_seconds: i64,
}

/// Read a Section Header Block whose type (and, as `length`, the raw bytes
/// of its length) have been read: byte-order magic, version, options.
pub(super) fn read_section_header<R: Read>(
    input: &mut Input<R>,
    length: [u8; 4],
    start: u64,
) -> Result<Section, Error> {
    const WHAT: &str = "section header block";
    let mut magic = [0u8; 4];
    input.read_exact(&mut magic, WHAT, start)?;
    let order = if magic == BYTE_ORDER_MAGIC.to_le_bytes() {
        ByteOrder::Little
    } else if magic == BYTE_ORDER_MAGIC.to_be_bytes() {
        ByteOrder::Big
    } else {
        return Err(malformed(WHAT, "byte-order magic is not 0x1A2B3C4D", start));
    };
    let total_len = order.u32(length);
    let body_len = checked_body_len(total_len, start)?;
    // The body after the magic: version (2 + 2), section length (8), options.
    let body = input.read_vec(body_len.saturating_sub(4), WHAT, start)?;
    let major = order
        .u16_at(&body, 0)
        .ok_or_else(|| malformed(WHAT, "too short for a version", start))?;
    let minor = order.u16_at(&body, 2).unwrap_or(0);
    if major != 1 {
        return Err(Error::UnsupportedVersion {
            format: "pcapng",
            major,
            minor,
        });
    }
    read_trailer(input, order, total_len, start)?;
    // A new section starts with no interfaces: ids count from 0 again.
    Ok(Section {
        order,
        interfaces: Vec::new(),
    })
}

/// Read blocks until one carries a packet; `Ok(None)` at the clean end of
/// the file.
pub(super) fn next_packet<R: Read>(
    input: &mut Input<R>,
    section: &mut Section,
) -> Result<Option<Record>, Error> {
    loop {
        let start = input.offset();
        let mut head = [0u8; 8];
        match input.fill(&mut head)? {
            0 => return Ok(None),
            8 => {}
            _ => {
                return Err(Error::Truncated {
                    what: "block header",
                    offset: start,
                });
            }
        }
        let [t0, t1, t2, t3, l0, l1, l2, l3] = head;
        if [t0, t1, t2, t3] == SECTION_HEADER_TYPE {
            *section = read_section_header(input, [l0, l1, l2, l3], start)?;
            continue;
        }
        let block_type = section.order.u32([t0, t1, t2, t3]);
        let total_len = section.order.u32([l0, l1, l2, l3]);
        let body_len = checked_body_len(total_len, start)?;
        if !matches!(
            block_type,
            INTERFACE_DESCRIPTION | ENHANCED_PACKET | SIMPLE_PACKET | OBSOLETE_PACKET
        ) {
            // Name resolution, statistics, custom blocks…: not ours to read.
            input.skip(body_len, "block", start)?;
            read_trailer(input, section.order, total_len, start)?;
            continue;
        }
        let body = input.read_vec(body_len, "block", start)?;
        read_trailer(input, section.order, total_len, start)?;
        match block_type {
            INTERFACE_DESCRIPTION => {
                let interface = parse_interface(section.order, &body, start)?;
                section.interfaces.push(interface);
            }
            ENHANCED_PACKET => {
                let interface_id = section.order.u32_at(&body, 0);
                return parse_packet(section, &body, interface_id, "enhanced packet block", start)
                    .map(Some);
            }
            OBSOLETE_PACKET => {
                let interface_id = section.order.u16_at(&body, 0).map(u32::from);
                return parse_packet(section, &body, interface_id, "packet block", start).map(Some);
            }
            _ => return parse_simple_packet(section, &body, start).map(Some),
        }
    }
}

/// Check a block's total length and return its body's length.
fn checked_body_len(total_len: u32, start: u64) -> Result<usize, Error> {
    if total_len > MAX_BLOCK_LEN {
        return Err(Error::TooLarge {
            what: "block",
            len: total_len.into(),
            limit: MAX_BLOCK_LEN.into(),
            offset: start,
        });
    }
    if total_len < BLOCK_FRAMING_LEN || !total_len.is_multiple_of(4) {
        return Err(malformed(
            "block",
            "total length is not a multiple of 4 of at least 12",
            start,
        ));
    }
    Ok((total_len - BLOCK_FRAMING_LEN) as usize)
}

/// The trailing copy of the block length must equal the leading one: a
/// cheap check that we are still in step with the file.
fn read_trailer<R: Read>(
    input: &mut Input<R>,
    order: ByteOrder,
    total_len: u32,
    start: u64,
) -> Result<(), Error> {
    let mut trailer = [0u8; 4];
    input.read_exact(&mut trailer, "block", start)?;
    if order.u32(trailer) != total_len {
        return Err(malformed(
            "block",
            "trailing length differs from the leading one",
            start,
        ));
    }
    Ok(())
}

/// An Interface Description Block (§4.2): link type (2), reserved (2),
/// snap length (4), options.
fn parse_interface(order: ByteOrder, body: &[u8], start: u64) -> Result<Interface, Error> {
    const WHAT: &str = "interface description block";
    let (Some(link_type), Some(snaplen)) = (order.u16_at(body, 0), order.u32_at(body, 4)) else {
        return Err(malformed(WHAT, "shorter than its fixed fields", start));
    };
    let mut interface = Interface {
        link_type,
        snaplen,
        units_per_second: 1_000_000,
        offset_seconds: 0,
    };
    let options = body.get(8..).unwrap_or_default();
    for_each_option(order, options, |code, value| {
        match (code, value) {
            (IF_TSRESOL, [resolution, ..]) => {
                interface.units_per_second = units_per_second(*resolution)
                    .ok_or("if_tsresol is finer than a 64-bit timestamp can count")?;
            }
            (IF_TSOFFSET, [a, b, c, d, e, f, g, h, ..]) => {
                interface.offset_seconds = order.i64([*a, *b, *c, *d, *e, *f, *g, *h]);
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|reason| malformed(WHAT, reason, start))?;
    Ok(interface)
}

/// `if_tsresol` (§4.2): with the top bit clear, units of 10^-n seconds;
/// with it set, units of 2^-n seconds. `None` beyond 10^-19 or 2^-63, where
/// one second has more units than a `u64` holds.
fn units_per_second(resolution: u8) -> Option<u64> {
    let exponent = u32::from(resolution & 0x7f);
    if resolution & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
            .filter(|&units| units != 0 && exponent < 64)
    }
}

/// Call `f` with each option's code and value (§3.5: code (2), length (2),
/// value padded to 4 bytes), up to `opt_endofopt` or the end.
fn for_each_option(
    order: ByteOrder,
    mut options: &[u8],
    mut f: impl FnMut(u16, &[u8]) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    while let (Some(code), Some(len)) = (order.u16_at(options, 0), order.u16_at(options, 2)) {
        if code == OPT_ENDOFOPT {
            break;
        }
        let len = usize::from(len);
        let value = options
            .get(4..4 + len)
            .ok_or("an option runs past the end of its block")?;
        f(code, value)?;
        let padded = 4 + len.next_multiple_of(4);
        options = options.get(padded..).unwrap_or_default();
    }
    Ok(())
}

/// An Enhanced Packet Block (§4.3) or the obsolete Packet Block it replaced
/// (Appendix A): interface id, timestamp (high and low 32 bits), captured
/// length, original length, then the data at byte 20.
fn parse_packet(
    section: &Section,
    body: &[u8],
    interface_id: Option<u32>,
    what: &'static str,
    start: u64,
) -> Result<Record, Error> {
    let order = section.order;
    let (Some(interface_id), Some(high), Some(low), Some(captured_len), Some(original_len)) = (
        interface_id,
        order.u32_at(body, 4),
        order.u32_at(body, 8),
        order.u32_at(body, 12),
        order.u32_at(body, 16),
    ) else {
        return Err(malformed(what, "shorter than its fixed fields", start));
    };
    let interface = interface(section, interface_id, what, start)?;
    if captured_len > MAX_PACKET_LEN {
        return Err(Error::TooLarge {
            what,
            len: captured_len.into(),
            limit: MAX_PACKET_LEN.into(),
            offset: start,
        });
    }
    let data = body.get(20..20 + captured_len as usize).ok_or_else(|| {
        malformed(
            what,
            "captured length runs past the end of the block",
            start,
        )
    })?;
    let ticks = (u64::from(high) << 32) | u64::from(low);
    Ok(Record {
        timestamp: timestamp(interface, ticks)
            .ok_or_else(|| malformed(what, "timestamp out of range", start))?,
        data: data.to_vec(),
        original_len: original_len as usize,
        link_type: interface.link_type,
        interface_id,
    })
}

/// A Simple Packet Block (§4.4): original length, then data. It belongs to
/// interface 0, has no timestamp, and holds min(original length, snap
/// length) bytes.
fn parse_simple_packet(section: &Section, body: &[u8], start: u64) -> Result<Record, Error> {
    const WHAT: &str = "simple packet block";
    let original_len = section
        .order
        .u32_at(body, 0)
        .ok_or_else(|| malformed(WHAT, "shorter than its fixed fields", start))?;
    let interface = interface(section, 0, WHAT, start)?;
    let data = body.get(4..).unwrap_or_default();
    let mut captured_len = data.len().min(original_len as usize);
    if interface.snaplen != 0 {
        captured_len = captured_len.min(interface.snaplen as usize);
    }
    Ok(Record {
        timestamp: UNIX_EPOCH,
        data: data.get(..captured_len).unwrap_or_default().to_vec(),
        original_len: original_len as usize,
        link_type: interface.link_type,
        interface_id: 0,
    })
}

/// The interface a packet block names, which an earlier Interface
/// Description Block of this section must have described.
fn interface(
    section: &Section,
    id: u32,
    what: &'static str,
    start: u64,
) -> Result<Interface, Error> {
    usize::try_from(id)
        .ok()
        .and_then(|id| section.interfaces.get(id))
        .copied()
        .ok_or_else(|| {
            malformed(
                what,
                "names an interface no Interface Description Block described",
                start,
            )
        })
}

/// Convert a count of the interface's time units since 1970 (plus its
/// offset) to a `SystemTime`; `None` if it does not fit.
fn timestamp(interface: Interface, ticks: u64) -> Option<SystemTime> {
    let units = interface.units_per_second;
    let seconds = ticks / units;
    let fraction = ticks % units;
    // fraction < units, so this is below 10^9: no carry into the seconds.
    let nanos = (u128::from(fraction) * 1_000_000_000 / u128::from(units)) as u32;
    let time = UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))?;
    let offset = Duration::from_secs(interface.offset_seconds.unsigned_abs());
    if interface.offset_seconds >= 0 {
        time.checked_add(offset)
    } else {
        time.checked_sub(offset)
    }
}

fn malformed(what: &'static str, reason: &'static str, offset: u64) -> Error {
    Error::Malformed {
        what,
        reason,
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(units_per_second(6), Some(1_000_000));
        assert_eq!(units_per_second(9), Some(1_000_000_000));
        assert_eq!(units_per_second(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units_per_second(20), None);
        assert_eq!(units_per_second(0x80 | 10), Some(1024));
        assert_eq!(units_per_second(0x80 | 63), Some(1 << 63));
        assert_eq!(units_per_second(0x80 | 64), None);
        assert_eq!(units_per_second(0xff), None);
    }

    #[test]
    fn timestamps_in_binary_units_and_with_offsets() {
        let interface = Interface {
            link_type: 1,
            snaplen: 0,
            units_per_second: 1024,
            offset_seconds: -100,
        };
        // 1000.5 s in units of 1/1024 s, minus the 100 s offset.
        let time = timestamp(interface, 1000 * 1024 + 512).unwrap();
        assert_eq!(
            time.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_millis(900_500)
        );
        // A negative offset larger than the time itself is before 1970:
        // representable, but not after the epoch.
        let early = timestamp(interface, 5 * 1024).unwrap();
        assert!(early < UNIX_EPOCH);
    }

    #[test]
    fn options_stop_at_the_end_marker_and_reject_overruns() {
        // if_tsresol = 9 (padded to 4), then opt_endofopt, then junk.
        let options = [9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
        let mut seen = Vec::new();
        for_each_option(ByteOrder::Little, &options, |code, value| {
            seen.push((code, value.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(9, vec![9])]);
        let overrun = [2, 0, 200, 0, 1, 2, 3, 4];
        assert!(for_each_option(ByteOrder::Little, &overrun, |_, _| Ok(())).is_err());
    }
}
