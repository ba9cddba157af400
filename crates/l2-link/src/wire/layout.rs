//! Header diagrams in the style of RFC 791 §3.1, drawn from the same byte
//! ranges the parsers use, so the picture in the book cannot disagree with
//! the code.
//!
//! Each format exposes its fields as a [`Layout`] (for example
//! [`super::ethernet::LAYOUT`]); [`diagram`] draws it. A field wider than
//! what is left of its row continues on the next one; where two rows belong
//! to the same field the line between them is left open, as RFC 8200 draws
//! the 128-bit IPv6 addresses:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Destination Address                      |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                        Source Address                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           EtherType           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::ops::Range;

/// A header format as a list of named byte ranges, in order.
pub type Layout = [(&'static str, Range<usize>)];

/// Characters per bit in a diagram: the bit and the `+`/`|` before it.
const CHARS_PER_BIT: usize = 2;
/// Characters per byte.
const CHARS_PER_BYTE: usize = 8 * CHARS_PER_BIT;

/// What occupies one byte position of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Past the end of the row (the last row may be short) or of the table.
    Outside,
    /// Inside the row, but no field covers it.
    Gap,
    /// The field with this index in the layout.
    Field(usize),
}

impl Cell {
    /// True when the cells above and below a line are one field going on,
    /// so the line between them stays open.
    fn continues_into(self, other: Cell) -> bool {
        matches!(self, Cell::Field(_)) && self == other
    }
}

/// A run of bytes of one row occupied by the same [`Cell`].
#[derive(Debug, Clone, Copy)]
struct Segment {
    row: usize,
    /// First byte column (0-based within the row).
    start: usize,
    /// One past the last byte column.
    end: usize,
    cell: Cell,
}

/// Draws `layout` as an RFC-style box diagram with `bytes_per_row` bytes
/// (8 × that many bits) per row; RFCs use 4. Labels too long for their box
/// are cut. Fields are given in bytes: a byte belongs to the first field
/// whose range contains it.
pub fn diagram(layout: &Layout, bytes_per_row: usize) -> String {
    let bytes_per_row = bytes_per_row.max(1);
    let total = layout.iter().map(|(_, range)| range.end).max().unwrap_or(0);
    if total == 0 {
        return String::new();
    }
    let grid = Grid {
        layout,
        bytes_per_row,
        total,
    };
    let segments = grid.segments();
    let labels = labels(layout, &segments);

    let mut out = bit_numbers(bytes_per_row * 8);
    for row in 0..grid.rows() {
        out.push_str(&grid.separator(row));
        out.push('\n');
        let mut line = String::new();
        for (segment, label) in segments.iter().zip(&labels) {
            if segment.row == row {
                let inner = (segment.end - segment.start) * CHARS_PER_BYTE - 1;
                line.push('|');
                line.push_str(&centered(label, inner));
            }
        }
        line.push('|');
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&grid.separator(grid.rows()));
    out.push('\n');
    out
}

/// The layout cut into rows.
struct Grid<'a> {
    layout: &'a Layout,
    bytes_per_row: usize,
    /// One past the last byte any field covers.
    total: usize,
}

impl Grid<'_> {
    fn rows(&self) -> usize {
        self.total.div_ceil(self.bytes_per_row)
    }

    /// Bytes in `row`: full rows, except that the last stops where the
    /// fields stop.
    fn row_len(&self, row: usize) -> usize {
        let start = row * self.bytes_per_row;
        self.total.saturating_sub(start).min(self.bytes_per_row)
    }

    /// What occupies byte `column` of `row` (`row` may be one past the last
    /// row, or "minus one" as `None`, for the lines above and below).
    fn cell(&self, row: Option<usize>, column: usize) -> Cell {
        let Some(row) = row else {
            return Cell::Outside;
        };
        if column >= self.row_len(row) {
            return Cell::Outside;
        }
        let byte = row * self.bytes_per_row + column;
        match self
            .layout
            .iter()
            .position(|(_, range)| range.contains(&byte))
        {
            Some(index) => Cell::Field(index),
            None => Cell::Gap,
        }
    }

    /// Every row cut into runs of the same cell, row by row, left to right.
    fn segments(&self) -> Vec<Segment> {
        let mut segments: Vec<Segment> = Vec::new();
        for row in 0..self.rows() {
            for column in 0..self.row_len(row) {
                let cell = self.cell(Some(row), column);
                match segments.last_mut() {
                    Some(last) if last.row == row && last.cell == cell => last.end = column + 1,
                    _ => segments.push(Segment {
                        row,
                        start: column,
                        end: column + 1,
                        cell,
                    }),
                }
            }
        }
        segments
    }

    /// The line above `row` (so `separator(rows())` is the bottom line):
    /// `-` under each bit where the field changes, blank where one field
    /// goes on, and `+` at each bit boundary unless all four bits around it
    /// are the same field.
    fn separator(&self, row: usize) -> String {
        let above = row.checked_sub(1);
        let below = (row < self.rows()).then_some(row);
        let width = above
            .map_or(0, |r| self.row_len(r))
            .max(below.map_or(0, |r| self.row_len(r)));
        // Bit-level view: a bit is owned by its byte's cell.
        let bit = |row: Option<usize>, bit: Option<usize>| match bit {
            Some(bit) => self.cell(row, bit / 8),
            None => Cell::Outside,
        };
        let bits = width * 8;
        let mut line = String::with_capacity(bits * CHARS_PER_BIT + 1);
        for position in 0..=bits * CHARS_PER_BIT {
            let open = if position % 2 == 1 {
                let here = Some(position / 2);
                bit(above, here).continues_into(bit(below, here))
            } else {
                let (left, right) = ((position / 2).checked_sub(1), Some(position / 2));
                let corner = [
                    bit(above, left),
                    bit(above, right),
                    bit(below, left),
                    bit(below, right),
                ];
                corner[0].continues_into(corner[1])
                    && corner[0].continues_into(corner[2])
                    && corner[0].continues_into(corner[3])
            };
            line.push(match (open, position % 2) {
                (true, _) => ' ',
                (false, 0) => '+',
                (false, _) => '-',
            });
        }
        line
    }
}

/// The label for each segment. A field's name goes in its widest segment
/// (the middle one if several are equally wide). A field broken into parts
/// that do not touch — the end of one row and the start of the next, with
/// no column in common — gets its name on each part, marked "(cont.)" after
/// the first, so no box is left unnamed.
fn labels(layout: &Layout, segments: &[Segment]) -> Vec<String> {
    let mut labels = vec![String::new(); segments.len()];
    for (field, (name, _)) in layout.iter().enumerate() {
        let parts: Vec<usize> = (0..segments.len())
            .filter(|&i| segments[i].cell == Cell::Field(field))
            .collect();
        // Split the field's segments into groups that touch vertically.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &i in &parts {
            let touches = groups.last().and_then(|g| g.last()).is_some_and(|&prev| {
                let (a, b) = (segments[prev], segments[i]);
                b.row == a.row + 1 && a.start < b.end && b.start < a.end
            });
            match groups.last_mut() {
                Some(group) if touches => group.push(i),
                _ => groups.push(vec![i]),
            }
        }
        for (n, group) in groups.iter().enumerate() {
            let width = |i: usize| segments[i].end - segments[i].start;
            let widest = group.iter().map(|&i| width(i)).max().unwrap_or(0);
            let candidates: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&i| width(i) == widest)
                .collect();
            if let Some(&chosen) = candidates.get((candidates.len().saturating_sub(1)) / 2) {
                labels[chosen] = if n == 0 {
                    name.to_string()
                } else {
                    format!("{name} (cont.)")
                };
            }
        }
    }
    labels
}

/// `text` centred in `width` characters (an odd extra space goes right, as
/// in the RFCs), cut if it does not fit.
fn centered(text: &str, width: usize) -> String {
    let text: String = text.chars().take(width).collect();
    let len = text.chars().count();
    let left = (width - len) / 2;
    format!(
        "{:left$}{text}{:right$}",
        "",
        "",
        right = width - len - left
    )
}

/// The two lines of bit numbers over a diagram: tens, then units.
fn bit_numbers(bits: usize) -> String {
    let mut tens = String::from(" ");
    let mut units = String::from(" ");
    for bit in 0..bits {
        let separator = if bit == 0 { "" } else { " " };
        tens.push_str(separator);
        units.push_str(separator);
        tens.push(if bit % 10 == 0 {
            char::from_digit((bit / 10 % 10) as u32, 10).unwrap_or('?')
        } else {
            ' '
        });
        units.push(char::from_digit((bit % 10) as u32, 10).unwrap_or('?'));
    }
    format!("{}\n{}\n", tens.trim_end(), units)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first rows of RFC 793 §3.1's TCP header, copied from the RFC
    /// (indentation removed): an oracle our drawing must reproduce exactly.
    const RFC_793: &str = "
 0                   1                   2                   3
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|          Source Port          |       Destination Port        |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|                        Sequence Number                        |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|                    Acknowledgment Number                      |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
";

    #[test]
    fn reproduces_rfc_793() {
        let tcp: &Layout = &[
            ("Source Port", 0..2),
            ("Destination Port", 2..4),
            ("Sequence Number", 4..8),
            ("Acknowledgment Number", 8..12),
        ];
        // The RFC centres "Acknowledgment Number" one space left of ours;
        // compare the rest exactly, and that row up to whitespace.
        let ours = diagram(tcp, 4);
        let rfc_793 = &RFC_793[1..]; // the text starts after the opening newline
        for (mine, rfc) in ours.lines().zip(rfc_793.lines()) {
            assert_eq!(
                mine.split_whitespace().collect::<Vec<_>>(),
                rfc.split_whitespace().collect::<Vec<_>>()
            );
            if !rfc.contains("Acknowledgment") {
                assert_eq!(mine, rfc);
            }
        }
        assert_eq!(ours.lines().count(), rfc_793.lines().count());
    }

    #[test]
    fn fields_spanning_rows_stay_open() {
        // Drawn by hand: a 6-byte field, then a 6-byte field, then 2 bytes.
        let expected = "
 0                   1                   2                   3
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|                              Dst                              |
+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|                               |                               |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
|                              Src                              |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|             Type              |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
";
        let layout: &Layout = &[("Dst", 0..6), ("Src", 6..12), ("Type", 12..14)];
        assert_eq!(diagram(layout, 4), expected[1..]);
    }

    #[test]
    fn parts_that_do_not_touch_are_each_labelled() {
        let expected = "
 0                   1
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|       A       |       B       |
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|   B (cont.)   |
+-+-+-+-+-+-+-+-+
";
        let layout: &Layout = &[("A", 0..1), ("B", 1..3)];
        assert_eq!(diagram(layout, 2), expected[1..]);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        assert_eq!(diagram(&[], 4), "");
        let long: &Layout = &[
            ("A label far too long for one byte", 0..1),
            ("gap after", 3..4),
        ];
        let drawn = diagram(long, 0);
        assert!(drawn.contains("|A label far too|"), "{drawn}");
        // Bytes 1..3 belong to no field: an empty box.
        assert!(diagram(long, 4).contains(&format!("|{:31}|", "")));
    }
}
