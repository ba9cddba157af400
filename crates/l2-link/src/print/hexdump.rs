//! Hex dumps: the plain one (`hexdump -C` style) and the annotated one,
//! which puts each header field on its own line next to its meaning.

use core::ops::Range;
use std::fmt::Write as _;

use super::Dissection;

/// Bytes per line, in both dumps.
const BYTES_PER_LINE: usize = 16;
/// Width of 16 bytes in hex with a space between each: `xx xx … xx`.
const HEX_WIDTH: usize = BYTES_PER_LINE * 3 - 1;

/// A plain hex dump, like `hexdump -C`: the offset, 16 bytes in hex (a gap
/// after the eighth), and the printable ASCII between bars.
///
/// ```
/// let dump = l2_link::print::hex(b"hello, world\n");
/// assert_eq!(
///     dump,
///     "0000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a           |hello, world.|\n"
/// );
/// ```
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(BYTES_PER_LINE).enumerate() {
        let _ = write!(out, "{:04x} ", line * BYTES_PER_LINE);
        for i in 0..BYTES_PER_LINE {
            if i == BYTES_PER_LINE / 2 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(byte) => {
                    let _ = write!(out, " {byte:02x}");
                }
                None => out.push_str("   "),
            }
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "  |{ascii}|");
    }
    out
}

/// One line of the annotated dump, before the columns are aligned.
struct Line<'a> {
    offset: usize,
    bytes: &'a [u8],
    /// `Layer.field`, on the first line of a field only.
    label: String,
    value: String,
}

/// The annotated dump of `frame` as `dissection` explains it.
pub(super) fn annotated(frame: &[u8], dissection: &Dissection) -> String {
    // Every field of every layer, by where it starts; fields are clamped to
    // the frame, so a confused dissector cannot make us slice out of it.
    let mut fields: Vec<(Range<usize>, String, &str)> = dissection
        .layers
        .iter()
        .flat_map(|layer| {
            layer.fields.iter().map(move |field| {
                let start = field.range.start.min(frame.len());
                let end = field.range.end.clamp(start, frame.len());
                (
                    start..end,
                    format!("{}.{}", layer.name, field.name),
                    field.value.as_str(),
                )
            })
        })
        .collect();
    // A stable sort: fields starting at the same byte keep the layers' order.
    fields.sort_by_key(|(range, _, _)| range.start);

    let mut lines = Vec::new();
    let mut shown_up_to = 0;
    for (range, label, value) in fields {
        if range.start > shown_up_to {
            unclaimed(frame, shown_up_to..range.start, &mut lines);
        }
        push_field(frame, range.clone(), label, value.to_string(), &mut lines);
        shown_up_to = shown_up_to.max(range.end);
    }
    if shown_up_to < frame.len() {
        unclaimed(frame, shown_up_to..frame.len(), &mut lines);
    }

    let label_width = lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for line in &lines {
        let hex: Vec<String> = line.bytes.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "{:04x}  {:HEX_WIDTH$}  {:label_width$}  {}",
            line.offset,
            hex.join(" "),
            line.label,
            line.value
        );
        out.push_str(text.trim_end());
        out.push('\n');
    }
    for note in &dissection.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The lines of one field: its first 16 bytes with its name and value, the
/// rest 16 to a line. An empty field still gets its line.
fn push_field<'a>(
    frame: &'a [u8],
    range: Range<usize>,
    label: String,
    value: String,
    lines: &mut Vec<Line<'a>>,
) {
    let bytes = frame.get(range.clone()).unwrap_or_default();
    lines.push(Line {
        offset: range.start,
        bytes: bytes.get(..BYTES_PER_LINE).unwrap_or(bytes),
        label,
        value,
    });
    for (n, chunk) in bytes.chunks(BYTES_PER_LINE).enumerate().skip(1) {
        lines.push(Line {
            offset: range.start + n * BYTES_PER_LINE,
            bytes: chunk,
            label: String::new(),
            value: String::new(),
        });
    }
}

/// Lines for bytes that no layer claims.
fn unclaimed<'a>(frame: &'a [u8], range: Range<usize>, lines: &mut Vec<Line<'a>>) {
    let len = range.len();
    push_field(
        frame,
        range,
        "Data".to_string(),
        format!("{len} bytes, not decoded"),
        lines,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::Layer;

    #[test]
    fn plain_dump_matches_hexdump_c() {
        // `printf 'ABCDEFGHIJKLMNOPQ' | hexdump -C`, offsets cut to 4 digits.
        assert_eq!(
            hex(b"ABCDEFGHIJKLMNOPQ"),
            "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n\
             0010  51                                                |Q|\n"
        );
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn annotated_dump_wraps_fills_gaps_and_survives_bad_ranges() {
        let frame: Vec<u8> = (0..40).collect();
        let mut dissection = Dissection::default();
        let mut layer = Layer::new("L", 0..40, "L");
        layer.push_field(0..2, "a", "first");
        layer.push_field(4..24, "long", "twenty bytes");
        layer.push_field(30..99, "beyond", "past the end");
        dissection.layers.push(layer);
        dissection.notes.push("a note".into());
        let dump = annotated(&frame, &dissection);
        let expected = [
            "0000  00 01                                            L.a       first",
            "0002  02 03                                            Data      2 bytes, not decoded",
            "0004  04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13  L.long    twenty bytes",
            "0014  14 15 16 17",
            "0018  18 19 1a 1b 1c 1d                                Data      6 bytes, not decoded",
            "001e  1e 1f 20 21 22 23 24 25 26 27                    L.beyond  past the end",
            "note: a note",
        ];
        assert_eq!(dump.lines().collect::<Vec<_>>(), expected);
    }
}
