//! The whole journey, rendered: one HTTP exchange's captured frames shown
//! as the seed's picture of encapsulation — each layer's header added on
//! the way down, the frames on the wire, each header removed on the way
//! up — with the real bytes, decoded by every layer's dissector.
//!
//! This module only renders; the `journey` exercise does the network part
//! (our DNS over our UDP, our HTTP over our TCP, a packet socket recording
//! lab1) and hands the frames here. The layers come from a
//! [`Printer`]'s [`Dissection`]: each [`Layer`]'s range starts where its
//! header starts, so one layer's header is the bytes up to the next
//! layer's start (RFC 1122 §1.3.1's picture, RFC 894 for Ethernet).

use std::fmt::Write as _;
use std::time::SystemTime;

use l2_link::exercise::clock_time;
use l2_link::print::{Dissection, Layer, Printer};

/// The most bytes shown in hex for one field; a long field (a payload)
/// is cut with `…` after them.
const FIELD_HEX_LIMIT: usize = 16;

/// One frame seen on the wire, in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireFrame {
    /// When the capture socket saw it.
    pub timestamp: SystemTime,
    /// True if our stack sent it (`PACKET_OUTGOING`), false if it arrived.
    pub outgoing: bool,
    /// The whole Ethernet frame.
    pub frame: Vec<u8>,
}

// ANCHOR: find_http
/// The first frame going the `outgoing` way whose innermost layer is HTTP
/// and whose payload starts with `start` (`b"GET "` for our request,
/// `b"HTTP/"` for the response's first segment).
pub fn find_http<'a>(
    printer: &Printer,
    frames: &'a [WireFrame],
    outgoing: bool,
    start: &[u8],
) -> Option<&'a WireFrame> {
    frames.iter().filter(|f| f.outgoing == outgoing).find(|f| {
        let dissection = printer.dissect(&f.frame);
        dissection.layers.last().is_some_and(|layer| {
            layer.name == "HTTP"
                && f.frame
                    .get(layer.range.clone())
                    .is_some_and(|payload| payload.starts_with(start))
        })
    })
}
// ANCHOR_END: find_http

/// One line per frame, like `dissect`: time, `Out` or ` In`, and the
/// summary of every layer.
pub fn wire_lines(printer: &Printer, frames: &[WireFrame]) -> String {
    let mut out = String::new();
    for frame in frames {
        let direction = if frame.outgoing { "Out" } else { " In" };
        let _ = writeln!(
            out,
            "{} {direction} {}",
            clock_time(frame.timestamp),
            printer.summary(&frame.frame)
        );
    }
    out
}

// ANCHOR: going_down
/// The frame built layer by layer, innermost first: the application's
/// bytes, then each header that wraps them with its fields over their
/// bytes, and last the whole frame's annotated hex dump (the printer's).
pub fn going_down(printer: &Printer, frame: &[u8]) -> String {
    let dissection = printer.dissect(frame);
    let mut out = String::new();
    let layers = &dissection.layers;
    for (index, layer) in layers.iter().enumerate().rev() {
        let total = layer.range.len();
        match layers.get(index + 1) {
            // The innermost layer: the message itself.
            None => {
                let _ = writeln!(out, "{} — {total} bytes: {}", layer.name, layer.summary);
                out.push_str(&quoted_text(
                    frame.get(layer.range.clone()).unwrap_or_default(),
                ));
            }
            Some(inner) => {
                let header = header_len(layer, inner);
                let _ = writeln!(
                    out,
                    "\n{} adds a {header}-byte header in front of {} bytes of {} → {total} bytes: {}",
                    layer.name,
                    total - header.min(total),
                    inner.name,
                    layer.summary
                );
                out.push_str(&fields(frame, layer));
            }
        }
    }
    let _ = writeln!(out, "\nThe frame as it leaves, {} bytes:", frame.len());
    out.push_str(&printer.hexdump(frame));
    out
}
// ANCHOR_END: going_down

// ANCHOR: coming_up
/// The frame taken apart, outermost first: each layer reads its header,
/// removes it, and hands the rest to the layer its header names.
pub fn coming_up(printer: &Printer, frame: &[u8]) -> String {
    let dissection: Dissection = printer.dissect(frame);
    let mut out = String::new();
    let layers = &dissection.layers;
    let _ = writeln!(out, "A frame arrives, {} bytes.", frame.len());
    for (index, layer) in layers.iter().enumerate() {
        match layers.get(index + 1) {
            Some(inner) => {
                let _ = writeln!(
                    out,
                    "{} reads and removes its {}-byte header ({}) → {} bytes for {}",
                    layer.name,
                    header_len(layer, inner),
                    layer.summary,
                    inner.range.len(),
                    inner.name
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{} gets {} bytes: {}",
                    layer.name,
                    layer.range.len(),
                    layer.summary
                );
                out.push_str(&quoted_text(
                    frame.get(layer.range.clone()).unwrap_or_default(),
                ));
            }
        }
    }
    out
}
// ANCHOR_END: coming_up

/// The bytes a layer's header takes: from its start to the start of what
/// it carries.
fn header_len(layer: &Layer, inner: &Layer) -> usize {
    inner.range.start.saturating_sub(layer.range.start)
}

/// A layer's fields, one line each: offset in the frame, the bytes (at
/// most [`FIELD_HEX_LIMIT`]), `Layer.field = value`.
fn fields(frame: &[u8], layer: &Layer) -> String {
    let mut out = String::new();
    for field in &layer.fields {
        let bytes = frame.get(field.range.clone()).unwrap_or_default();
        let mut hex: Vec<String> = bytes
            .iter()
            .take(FIELD_HEX_LIMIT)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        if bytes.len() > FIELD_HEX_LIMIT {
            hex.push("…".into());
        }
        let _ = writeln!(
            out,
            "  {:04x}  {:<50} {}.{} = {}",
            field.range.start,
            hex.join(" "),
            layer.name,
            field.name,
            field.value
        );
    }
    out
}

/// Text as it would be read, one `| ` line per line, with CR and LF made
/// visible (`\r\n`) because HTTP's line ends are part of the protocol;
/// bytes that are not printable ASCII as `.`.
fn quoted_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for line in bytes.split_inclusive(|&byte| byte == b'\n') {
        out.push_str("  | ");
        for &byte in line {
            match byte {
                b'\r' => out.push_str("\\r"),
                b'\n' => out.push_str("\\n"),
                0x20..=0x7e => out.push(char::from(byte)),
                _ => out.push('.'),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_shows_line_ends_and_hides_control_bytes() {
        assert_eq!(
            quoted_text(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x01"),
            "  | GET / HTTP/1.1\\r\\n\n  | Host: x\\r\\n\n  | \\r\\n\n  | .\n"
        );
    }

    #[test]
    fn header_len_is_the_distance_to_the_inner_layer() {
        let outer = Layer::new("IPv4", 14..60, "");
        let inner = Layer::new("TCP", 34..60, "");
        assert_eq!(header_len(&outer, &inner), 20);
    }
}
