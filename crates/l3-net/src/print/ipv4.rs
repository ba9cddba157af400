//! The IPv4 dissector, and the header fields it shares with the quote in
//! an ICMP error.

use std::net::Ipv4Addr;

use l2_link::print::{Dissection, Dissector, Layer, Printer};

use super::{IP_PROTO, at, byte_at, checksum_value};
use crate::checksum::Checksum;
use crate::wire::ipv4::HEADER_LEN;
use crate::wire::ipv4::{Ipv4OptionsIter, field};
use crate::wire::{Ipv4Option, Ipv4Options, Ipv4Packet};

/// Decodes an IPv4 header field by field, options included, then hands the
/// payload to the dissector registered in [`IP_PROTO`] for its protocol —
/// unless the packet is a fragment: a fragment's payload is a piece of
/// something else, shown as data until reassembled. The summary reads like
/// tcpdump's: `IPv4 198.18.0.2 → 198.18.0.1 ttl 64 id 1 len 84 DF`, with
/// `frag 1480+` for fragments (offset in bytes, `+` when more follow).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ipv4Dissector;

impl Dissector for Ipv4Dissector {
    fn dissect(&self, frame: &[u8], offset: usize, printer: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match Ipv4Packet::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => match cut_by_the_snapshot(bytes) {
                // A capture cut short (tcpdump -s): the whole header is
                // there, so show it and what payload there is, as tcpdump
                // does, and say what is missing.
                Some(packet) => {
                    out.notes.push(format!(
                        "IPv4: {} of its {} bytes captured",
                        bytes.len(),
                        packet.total_len()
                    ));
                    packet
                }
                None => {
                    out.push_undecoded("IPv4", offset..frame.len(), &error);
                    return;
                }
            },
        };
        // What the capture holds of the packet: all of Total Length, or
        // less when the snapshot length cut it.
        let total_len = usize::from(packet.total_len()).min(bytes.len());
        let mut layer = Layer::new("IPv4", offset..offset + total_len, summary(&packet));
        let checksum = push_header_fields(&mut layer, offset, &packet, &OWN);
        if !checksum.verifies {
            out.notes.push(format!(
                "IPv4: bad header checksum (0x{:04x}, should be 0x{:04x})",
                packet.checksum(),
                checksum.should_be
            ));
        }
        if let Err(error) = Ipv4Options::new(packet.options()) {
            out.notes.push(error.to_string());
        }
        let ours = out.layers.len();
        out.layers.push(layer);

        // The payload ends at Total Length: the next dissector gets a frame
        // cut there, so Ethernet padding is never mistaken for data (it
        // would spoil an ICMP checksum). In a capture cut short it ends
        // where the capture does, and the next dissector finds it short.
        let payload = offset + packet.header_len();
        let end = offset + total_len;
        let frame = frame.get(..end).unwrap_or(frame);
        if payload >= end {
            return;
        }
        let dispatched = !packet.is_fragment()
            && printer.dispatch(IP_PROTO, packet.protocol().0.into(), frame, payload, out);
        if !dispatched {
            out.push_data(payload..end);
            // Say what the bytes are, since no layer follows to say it.
            if let Some(layer) = out.layers.get_mut(ours) {
                layer
                    .summary
                    .push_str(&format!(" proto {}", packet.protocol()));
            }
        }
    }
}

/// The packet, if `bytes` hold a whole, valid header and only the payload
/// is shorter than Total Length says: the mark of a capture's snapshot
/// length, not of a broken packet.
fn cut_by_the_snapshot(bytes: &[u8]) -> Option<Ipv4Packet<&[u8]>> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    // The checks of `check_len` but the last, in its order.
    let packet = Ipv4Packet::new_unchecked(bytes);
    let header_len = packet.header_len();
    let total_len = usize::from(packet.total_len());
    let whole_header = packet.version() == 4
        && header_len >= HEADER_LEN
        && bytes.len() >= header_len
        && total_len >= header_len;
    (whole_header && total_len > bytes.len()).then_some(packet)
}

/// `IPv4 src → dst ttl T id I len L` and the flags, fragment and options
/// that are there.
fn summary(packet: &Ipv4Packet<&[u8]>) -> String {
    let mut line = format!(
        "IPv4 {} → {} ttl {} id {} len {}",
        packet.src_addr(),
        packet.dst_addr(),
        packet.ttl(),
        packet.ident(),
        packet.total_len()
    );
    if packet.dont_frag() {
        line.push_str(" DF");
    }
    if packet.is_fragment() {
        let more = if packet.more_frags() { "+" } else { "" };
        line.push_str(&format!(" frag {}{more}", packet.frag_offset()));
    }
    let options: Vec<&str> = Ipv4OptionsIter::new(packet.options())
        .filter_map(|option| short_name(&option))
        .collect();
    if !options.is_empty() {
        line.push_str(&format!(" options [{}]", options.join(", ")));
    }
    line
}

/// The field names of a header: the packet's own, or the one quoted in an
/// ICMP error (whose fields go into the ICMP layer, prefixed `quote.`).
pub(super) struct HeaderFieldNames {
    ver_ihl: &'static str,
    tos: &'static str,
    len: &'static str,
    id: &'static str,
    flags: &'static str,
    ttl: &'static str,
    proto: &'static str,
    checksum: &'static str,
    src: &'static str,
    dst: &'static str,
    option: &'static str,
}

/// The names for a packet's own header.
const OWN: HeaderFieldNames = HeaderFieldNames {
    ver_ihl: "ver_ihl",
    tos: "tos",
    len: "len",
    id: "id",
    flags: "flags_frag",
    ttl: "ttl",
    proto: "proto",
    checksum: "checksum",
    src: "src",
    dst: "dst",
    option: "option",
};

/// The names for a header quoted in an ICMP error.
pub(super) const QUOTED: HeaderFieldNames = HeaderFieldNames {
    ver_ihl: "quote.ver_ihl",
    tos: "quote.tos",
    len: "quote.len",
    id: "quote.id",
    flags: "quote.flags_frag",
    ttl: "quote.ttl",
    proto: "quote.proto",
    checksum: "quote.checksum",
    src: "quote.src",
    dst: "quote.dst",
    option: "quote.option",
};

/// What [`push_header_fields`] found out about the header checksum.
pub(super) struct HeaderChecksum {
    /// The header, checksum included, sums to 0xFFFF.
    pub verifies: bool,
    /// The checksum the header should carry.
    pub should_be: u16,
}

/// Pushes one field for each header field of `packet`, which starts at
/// `offset` in the frame, options included, and reports on its checksum.
/// Reads only the header: the caller has made sure the whole header is
/// there (IHL ≥ 5 and IHL × 4 bytes), as `new_checked` or
/// `QuotedDatagram::parse` do.
pub(super) fn push_header_fields(
    layer: &mut Layer,
    offset: usize,
    packet: &Ipv4Packet<&[u8]>,
    names: &HeaderFieldNames,
) -> HeaderChecksum {
    let header = packet.header();
    layer.push_field(
        byte_at(offset, field::VER_IHL),
        names.ver_ihl,
        format!(
            "version {}, IHL {} ({} bytes)",
            packet.version(),
            packet.header_len() / 4,
            packet.header_len()
        ),
    );
    layer.push_field(
        byte_at(offset, field::DSCP_ECN),
        names.tos,
        format!("DSCP {}, ECN {}", packet.dscp(), ecn_name(packet.ecn())),
    );
    layer.push_field(
        at(offset, field::TOTAL_LEN),
        names.len,
        packet.total_len().to_string(),
    );
    layer.push_field(
        at(offset, field::IDENT),
        names.id,
        format!("0x{0:04x} ({0})", packet.ident()),
    );
    layer.push_field(
        at(offset, field::FLAGS_FRAG),
        names.flags,
        flags_value(packet),
    );
    layer.push_field(
        byte_at(offset, field::TTL),
        names.ttl,
        packet.ttl().to_string(),
    );
    layer.push_field(
        byte_at(offset, field::PROTOCOL),
        names.proto,
        match packet.protocol().name() {
            Some(name) => format!("{name} ({})", packet.protocol().0),
            None => packet.protocol().0.to_string(),
        },
    );
    // The sum of everything but the checksum field: what it should be.
    let mut others = Checksum::new();
    others.add_bytes(&header[..field::CHECKSUM.start]);
    others.add_bytes(&header[field::CHECKSUM.end..]);
    let checksum = HeaderChecksum {
        verifies: packet.verify_checksum(),
        should_be: others.finish(),
    };
    layer.push_field(
        at(offset, field::CHECKSUM),
        names.checksum,
        checksum_value(packet.checksum(), checksum.verifies, checksum.should_be),
    );
    layer.push_field(
        at(offset, field::SRC_ADDR),
        names.src,
        packet.src_addr().to_string(),
    );
    layer.push_field(
        at(offset, field::DST_ADDR),
        names.dst,
        packet.dst_addr().to_string(),
    );
    let mut start = offset + field::OPTIONS;
    for option in Ipv4OptionsIter::new(packet.options()) {
        let len = option.wire_len();
        layer.push_field(start..start + len, names.option, option_value(&option));
        start += len;
    }
    checksum
}

/// `DF, offset 0`; `MF, offset 1480`; `offset 2960`.
fn flags_value(packet: &Ipv4Packet<&[u8]>) -> String {
    let mut parts = Vec::new();
    if packet.reserved_flag() {
        parts.push("reserved bit set".to_string());
    }
    if packet.dont_frag() {
        parts.push("DF".to_string());
    }
    if packet.more_frags() {
        parts.push("MF".to_string());
    }
    parts.push(format!("offset {}", packet.frag_offset()));
    parts.join(", ")
}

/// The ECN codepoint's name (RFC 3168 §5).
fn ecn_name(ecn: u8) -> &'static str {
    match ecn {
        0 => "0 (Not-ECT)",
        1 => "1 (ECT(1))",
        2 => "2 (ECT(0))",
        _ => "3 (CE)",
    }
}

/// One option, in words.
fn option_value(option: &Ipv4Option<'_>) -> String {
    match option {
        Ipv4Option::EndOfList { padding: [] } => "End of Option List".into(),
        Ipv4Option::EndOfList { padding } => {
            format!(
                "End of Option List, then {} bytes of padding",
                padding.len()
            )
        }
        Ipv4Option::NoOperation => "No Operation".into(),
        Ipv4Option::RecordRoute { route, .. } => {
            let recorded: Vec<String> = option
                .recorded_route()
                .map(|addr: Ipv4Addr| addr.to_string())
                .collect();
            let mut text = format!(
                "Record Route, {} of {} slots used",
                recorded.len(),
                route.len() / 4
            );
            if !recorded.is_empty() {
                text.push_str(&format!(": {}", recorded.join(" ")));
            }
            text
        }
        Ipv4Option::Timestamp {
            pointer,
            overflow,
            flag,
            data,
        } => format!(
            "Timestamp, pointer {pointer}, overflow {overflow}, flag {flag}, {} bytes",
            data.len()
        ),
        Ipv4Option::RouterAlert { value: 0 } => "Router Alert, 0 (examine packet)".into(),
        Ipv4Option::RouterAlert { value } => format!("Router Alert, {value}"),
        Ipv4Option::Unknown { kind, data } => {
            format!("option kind {kind}, {} bytes of data", data.len())
        }
        Ipv4Option::Malformed { rest } => format!("malformed option, {} bytes", rest.len()),
    }
}

/// The option's short name for the summary; none for the fillers.
fn short_name(option: &Ipv4Option<'_>) -> Option<&'static str> {
    match option {
        Ipv4Option::EndOfList { .. } | Ipv4Option::NoOperation => None,
        Ipv4Option::RecordRoute { .. } => Some("RR"),
        Ipv4Option::Timestamp { .. } => Some("TS"),
        Ipv4Option::RouterAlert { .. } => Some("RA"),
        Ipv4Option::Unknown { .. } => Some("unknown"),
        Ipv4Option::Malformed { .. } => Some("malformed"),
    }
}
