//! Time–sequence graphs of a TCP connection, as standalone SVG files: the
//! picture W. Richard Stevens drew by hand in *TCP/IP Illustrated* and
//! Wireshark draws as "Stevens" graphs (Statistics → TCP Stream Graphs).
//!
//! ```text
//!  relative                                        cwnd
//!  sequence │          window edge ┌───────       │
//!  number   │       ┌──────────────┘   │ │ │      │
//!           │  ┌────┘           │ │ │ │ ▲         │
//!           │  │      │ │ │ │ │ │       └ a data segment: a tick
//!           │  │ │ │ │   ACK ───────────            from its first
//!           │ │ │ ──────                            byte to its last
//!           └──────────────────────────────► time since the start (s)
//! ```
//!
//! Every data segment is a vertical tick at the time it went (or came),
//! from its first byte to its last; a steady transfer is a staircase of
//! ticks climbing to the right, and its slope is the throughput. Below
//! them runs the ACK line — what the receiver has acknowledged — and above
//! them the edge of the receive window (ACK + window), the highest byte
//! the receiver allows. A retransmission is a tick that falls back below
//! the top of the staircase, drawn in red. On a second axis, the
//! congestion window (RFC 5681) and the slow-start threshold show *why*
//! the staircase is as steep as it is: the sender may have at most
//! min(cwnd, window) bytes in flight, the distance between the ticks and
//! the ACK line.
//!
//! [`TimeSequence::from_trace`] takes one connection's
//! [`TraceEvent`]s (a program gets them from
//! [`Stack::take_trace`](crate::socket::Stack::take_trace)) and
//! [`render`] draws them with our own little [`svg`] writer. The same
//! trace always gives the same bytes, so the tests can keep a snapshot.

pub mod series;
pub mod svg;

use std::path::{Path, PathBuf};

pub use series::{DataSegment, Direction, Step, TimeSequence, busier_direction};
use svg::{Attr, Svg, num};

use crate::tcp::TraceEvent;

/// The picture's size, in pixels.
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 560.0;
/// Room around the plotting area for the title, labels and tick labels.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 90.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// The colours: Wireshark's blue for data, red for what went again.
const DATA_COLOUR: &str = "#1f5fbf";
const RETRANSMISSION_COLOUR: &str = "#d62728";
const ACK_COLOUR: &str = "#8c564b";
const WINDOW_COLOUR: &str = "#2ca02c";
const CWND_COLOUR: &str = "#9467bd";

/// The graph of `events` (one connection's trace) for the direction that
/// carried more data, titled `title`: what `tcp-client --plot` and
/// `tcp-server --plot` write.
pub fn time_sequence_svg(events: &[TraceEvent], title: &str) -> String {
    let direction = busier_direction(events);
    render(&TimeSequence::from_trace(events, direction), title)
}

/// Where `--plot FILE` puts the graph of the connection with a peer on
/// `port`, when a server has several: the port goes before the extension
/// (`plot.svg` → `plot-50872.svg`).
pub fn path_for_peer(path: &Path, port: u16) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-{port}.{}", extension.to_string_lossy()),
        None => format!("{stem}-{port}"),
    };
    path.with_file_name(name)
}

// ANCHOR: plot_render
/// Draws `series` as an SVG document titled `title`: data segments as
/// ticks (retransmissions in red), the ACK line and the window edge as
/// step lines, cwnd and ssthresh on a second axis at the right when there
/// are any; axes with units, and a legend.
pub fn render(series: &TimeSequence, title: &str) -> String {
    let area = Area::new(series);
    let mut svg = Svg::new(WIDTH, HEIGHT);
    svg.empty(
        "rect",
        &[
            ("width", num(WIDTH)),
            ("height", num(HEIGHT)),
            ("fill", "white".to_string()),
        ],
    );
    svg.text(
        "text",
        &[
            ("x", num(WIDTH / 2.0)),
            ("y", num(TOP / 2.0)),
            ("text-anchor", "middle".to_string()),
            ("font-size", "16".to_string()),
        ],
        title,
    );
    draw_axes(&mut svg, &area);
    step_line(
        &mut svg,
        "window",
        WINDOW_COLOUR,
        None,
        &series.window_edge,
        &area,
        Axis::Sequence,
    );
    step_line(
        &mut svg,
        "ack",
        ACK_COLOUR,
        None,
        &series.acks,
        &area,
        Axis::Sequence,
    );
    draw_segments(&mut svg, series, &area);
    step_line(
        &mut svg,
        "cwnd",
        CWND_COLOUR,
        None,
        &series.cwnd,
        &area,
        Axis::Window,
    );
    step_line(
        &mut svg,
        "ssthresh",
        CWND_COLOUR,
        Some("6 4"),
        &series.ssthresh,
        &area,
        Axis::Window,
    );
    draw_legend(&mut svg, series);
    svg.finish()
}
// ANCHOR_END: plot_render

/// Which vertical axis a line is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// The left one: relative sequence numbers.
    Sequence,
    /// The right one: cwnd and ssthresh, in bytes.
    Window,
}

/// The plotting area and the three scales.
#[derive(Debug, Clone, Copy)]
struct Area {
    time: Scale,
    sequence: Scale,
    window: Option<Scale>,
}

/// One axis: from 0 to `max` in steps of `step`.
#[derive(Debug, Clone, Copy)]
struct Scale {
    max: f64,
    step: f64,
}

impl Scale {
    /// An axis that shows 0 to at least `largest`, with about `ticks`
    /// round-numbered ticks.
    fn covering(largest: f64, ticks: f64) -> Scale {
        let largest = if largest.is_finite() && largest > 0.0 {
            largest
        } else {
            1.0
        };
        let step = nice_step(largest / ticks);
        Scale {
            max: (largest / step).ceil() * step,
            step,
        }
    }

    /// The tick values, 0 included.
    fn ticks(self) -> impl Iterator<Item = f64> {
        let count = (self.max / self.step).round() as usize;
        (0..=count).map(move |i| i as f64 * self.step)
    }
}

/// The round number (1, 2 or 5 times a power of ten) at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

impl Area {
    fn new(series: &TimeSequence) -> Area {
        let times = series
            .segments
            .iter()
            .map(|segment| segment.at)
            .chain(series.acks.iter().map(|step| step.at))
            .chain(series.cwnd.iter().map(|step| step.at));
        let sequences = series
            .segments
            .iter()
            .map(|segment| segment.end)
            .chain(series.acks.iter().map(|step| step.value))
            .chain(series.window_edge.iter().map(|step| step.value));
        let windows = series
            .cwnd
            .iter()
            .chain(&series.ssthresh)
            .map(|step| step.value);
        Area {
            time: Scale::covering(times.fold(0.0, f64::max), 10.0),
            sequence: Scale::covering(sequences.fold(0.0, f64::max), 8.0),
            window: (!series.cwnd.is_empty())
                .then(|| Scale::covering(windows.fold(0.0, f64::max), 8.0)),
        }
    }

    fn x(&self, seconds: f64) -> f64 {
        LEFT + seconds / self.time.max * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64, axis: Axis) -> f64 {
        let scale = match axis {
            Axis::Sequence => self.sequence,
            Axis::Window => self.window.unwrap_or(self.sequence),
        };
        HEIGHT - BOTTOM - value / scale.max * (HEIGHT - TOP - BOTTOM)
    }
}

/// The frame, the grid, the tick labels and the axis titles.
fn draw_axes(svg: &mut Svg, area: &Area) {
    let (left, right) = (LEFT, WIDTH - RIGHT);
    let (top, bottom) = (TOP, HEIGHT - BOTTOM);
    svg.open(
        "g",
        &[
            ("class", "axes".to_string()),
            ("stroke", "#dddddd".to_string()),
        ],
    );
    for t in area.time.ticks() {
        let x = area.x(t);
        svg.empty("line", &line(x, top, x, bottom));
    }
    for value in area.sequence.ticks() {
        let y = area.y(value, Axis::Sequence);
        svg.empty("line", &line(left, y, right, y));
    }
    svg.empty(
        "rect",
        &[
            ("x", num(left)),
            ("y", num(top)),
            ("width", num(right - left)),
            ("height", num(bottom - top)),
            ("fill", "none".to_string()),
            ("stroke", "#444444".to_string()),
        ],
    );
    svg.close();

    svg.open("g", &[("class", "labels".to_string())]);
    for t in area.time.ticks() {
        let attrs = [
            ("x", num(area.x(t))),
            ("y", num(bottom + 16.0)),
            ("text-anchor", "middle".to_string()),
        ];
        svg.text("text", &attrs, &decimal(t, area.time.step));
    }
    for value in area.sequence.ticks() {
        let attrs = [
            ("x", num(left - 6.0)),
            ("y", num(area.y(value, Axis::Sequence) + 4.0)),
            ("text-anchor", "end".to_string()),
        ];
        svg.text("text", &attrs, &bytes(value, area.sequence.step));
    }
    axis_title(
        svg,
        WIDTH / 2.0,
        HEIGHT - 16.0,
        0.0,
        "time since the connection started (s)",
    );
    axis_title(
        svg,
        20.0,
        (top + bottom) / 2.0,
        -90.0,
        "relative sequence number (bytes)",
    );
    if let Some(window) = area.window {
        for value in window.ticks() {
            let attrs = [
                ("x", num(right + 6.0)),
                ("y", num(area.y(value, Axis::Window) + 4.0)),
                ("fill", CWND_COLOUR.to_string()),
            ];
            svg.text("text", &attrs, &bytes(value, window.step));
        }
        axis_title(
            svg,
            WIDTH - 20.0,
            (top + bottom) / 2.0,
            90.0,
            "cwnd, ssthresh (bytes)",
        );
    }
    svg.close();
}

fn axis_title(svg: &mut Svg, x: f64, y: f64, rotate: f64, title: &str) {
    let mut attrs = vec![
        ("x", num(x)),
        ("y", num(y)),
        ("text-anchor", "middle".to_string()),
        ("font-size", "13".to_string()),
    ];
    if rotate != 0.0 {
        attrs.push((
            "transform",
            format!("rotate({} {} {})", num(rotate), num(x), num(y)),
        ));
    }
    svg.text("text", &attrs, title);
}

// ANCHOR: plot_ticks
/// One tick per data segment, from its first byte to one past its last,
/// in two groups so that the retransmissions can be told (and counted)
/// apart.
fn draw_segments(svg: &mut Svg, series: &TimeSequence, area: &Area) {
    for (class, colour, resent) in [
        ("segment", DATA_COLOUR, false),
        ("retransmission", RETRANSMISSION_COLOUR, true),
    ] {
        svg.open(
            "g",
            &[
                ("class", format!("{class}s")),
                ("stroke", colour.to_string()),
                ("stroke-width", "1.5".to_string()),
                // A one-byte segment is still a visible dot.
                ("stroke-linecap", "square".to_string()),
            ],
        );
        for segment in series
            .segments
            .iter()
            .filter(|s| s.retransmission == resent)
        {
            let x = area.x(segment.at);
            let mut attrs = vec![("class", class.to_string())];
            attrs.extend(line(
                x,
                area.y(segment.start, Axis::Sequence),
                x,
                area.y(segment.end, Axis::Sequence),
            ));
            svg.empty("line", &attrs);
        }
        svg.close();
    }
}
// ANCHOR_END: plot_ticks

/// A line that holds each value until the next point, then jumps: how a
/// cumulative ACK or a window behaves. It runs on to the right edge.
fn step_line(
    svg: &mut Svg,
    class: &str,
    colour: &str,
    dashes: Option<&str>,
    steps: &[Step],
    area: &Area,
    axis: Axis,
) {
    let Some(first) = steps.first() else {
        return;
    };
    let mut path = format!(
        "M{} {}",
        num(area.x(first.at)),
        num(area.y(first.value, axis))
    );
    let mut last_y = area.y(first.value, axis);
    for step in &steps[1..] {
        let y = area.y(step.value, axis);
        if y != last_y {
            path.push_str(&format!(" H{} V{}", num(area.x(step.at)), num(y)));
            last_y = y;
        }
    }
    path.push_str(&format!(" H{}", num(area.x(area.time.max))));
    let mut attrs: Vec<Attr<'_>> = vec![
        ("class", class.to_string()),
        ("d", path),
        ("fill", "none".to_string()),
        ("stroke", colour.to_string()),
        ("stroke-width", "1.2".to_string()),
    ];
    if let Some(dashes) = dashes {
        attrs.push(("stroke-dasharray", dashes.to_string()));
    }
    svg.empty("path", &attrs);
}

/// What each colour means, in the top left corner.
fn draw_legend(svg: &mut Svg, series: &TimeSequence) {
    let mut entries = vec![
        ("data segment", DATA_COLOUR, None),
        ("retransmission", RETRANSMISSION_COLOUR, None),
        ("ACK", ACK_COLOUR, None),
        ("receive window edge (ACK + window)", WINDOW_COLOUR, None),
    ];
    if !series.cwnd.is_empty() {
        entries.push(("cwnd (right axis)", CWND_COLOUR, None));
    }
    if !series.ssthresh.is_empty() {
        entries.push(("ssthresh (right axis)", CWND_COLOUR, Some("6 4")));
    }
    let (x, y) = (LEFT + 10.0, TOP + 10.0);
    svg.open("g", &[("class", "legend".to_string())]);
    svg.empty(
        "rect",
        &[
            ("x", num(x)),
            ("y", num(y)),
            ("width", "250".to_string()),
            ("height", num(entries.len() as f64 * 18.0 + 8.0)),
            ("fill", "white".to_string()),
            ("fill-opacity", "0.85".to_string()),
            ("stroke", "#999999".to_string()),
        ],
    );
    for (i, (label, colour, dashes)) in entries.into_iter().enumerate() {
        let row = y + 16.0 + i as f64 * 18.0;
        let mut attrs = line(x + 8.0, row - 4.0, x + 32.0, row - 4.0);
        attrs.push(("stroke", colour.to_string()));
        attrs.push(("stroke-width", "2".to_string()));
        if let Some(dashes) = dashes {
            attrs.push(("stroke-dasharray", dashes.to_string()));
        }
        svg.empty("line", &attrs);
        svg.text("text", &[("x", num(x + 40.0)), ("y", num(row))], label);
    }
    svg.close();
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64) -> Vec<Attr<'static>> {
    vec![
        ("x1", num(x1)),
        ("y1", num(y1)),
        ("x2", num(x2)),
        ("y2", num(y2)),
    ]
}

/// A tick label for seconds: as many decimals as the step needs.
fn decimal(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
}

/// A tick label for bytes, with an SI prefix once they are many:
/// `500`, `20 k`, `1.5 M`.
fn bytes(value: f64, step: f64) -> String {
    let (unit, suffix) = if step >= 1e6 || value >= 1e7 {
        (1e6, " M")
    } else if step >= 1e3 || value >= 1e4 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    if value == 0.0 {
        return "0".to_string();
    }
    format!("{}{suffix}", decimal(value / unit, step / unit))
}

#[cfg(test)]
mod tests;
