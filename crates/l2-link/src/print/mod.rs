//! Showing frames to people: a one-line summary per frame, and an annotated
//! hex dump with one line per header field — the two views Wireshark and
//! `tcpdump -e -X` give.
//!
//! Decoding is done by [`Dissector`]s, one per protocol, that a [`Printer`]
//! looks up in tables: "EtherType 0x0806 is ARP" is the entry
//! ([`Table::ETHERTYPE`], 0x0806) → [`ArpDissector`]. Layer 2 fills in its
//! own entries ([`Printer::layer2`]); an upper layer adds its tables (say
//! `"ip.proto"`) and entries without this crate knowing them:
//!
//! ```
//! use l2_link::print::{Dissection, Dissector, Layer, Printer, Table};
//!
//! /// A made-up protocol on EtherType 0x88B6 whose first byte is a counter.
//! struct Counter;
//! impl Dissector for Counter {
//!     fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
//!         let Some(&count) = frame.get(offset) else { return };
//!         let mut layer = Layer::new("Counter", offset..offset + 1, format!("Counter {count}"));
//!         layer.push_field(offset..offset + 1, "count", count.to_string());
//!         out.layers.push(layer);
//!     }
//! }
//!
//! let mut printer = Printer::layer2();
//! printer.register(Table::ETHERTYPE, 0x88B6, Counter);
//! let mut frame = vec![0xff; 12];
//! frame.extend_from_slice(&[0x88, 0xB6, 7]);
//! assert!(printer.summary(&frame).ends_with(r"\ Counter 7"));
//! ```
//!
//! Decoders never panic on damaged frames: what cannot be decoded becomes a
//! note ("ARP: truncated (20 bytes, need 28)") and its bytes stay visible.

mod arp;
mod ethernet;
mod hexdump;
mod message;

use core::ops::Range;
use std::collections::HashMap;
use std::fmt;

use crate::wire::{Error, EtherType};

pub use arp::ArpDissector;
pub use ethernet::EthernetDissector;
pub use hexdump::hex;
pub use message::MessageDissector;

/// One header field: where it is in the frame and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its bytes, as absolute offsets in the frame.
    pub range: Range<usize>,
    /// A short name, like `"dst"`; printed as `Layer.name`.
    pub name: &'static str,
    /// Its value, for people: `"02:00:00:00:00:12"`, `"ARP (0x0806)"`.
    pub value: String,
}

/// One protocol layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The protocol, like `"Ethernet"` or `"ARP"`.
    pub name: &'static str,
    /// The bytes it spans, header and payload, as absolute offsets.
    pub range: Range<usize>,
    /// One line about it, like `"ARP who-has 198.18.0.1 tell 198.18.0.2"`.
    pub summary: String,
    /// Its header fields, in order.
    pub fields: Vec<Field>,
}

impl Layer {
    /// A layer with no fields yet.
    pub fn new(name: &'static str, range: Range<usize>, summary: impl Into<String>) -> Layer {
        Layer {
            name,
            range,
            summary: summary.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field.
    pub fn push_field(
        &mut self,
        range: Range<usize>,
        name: &'static str,
        value: impl Into<String>,
    ) {
        self.fields.push(Field {
            range,
            name,
            value: value.into(),
        });
    }
}

/// Everything a [`Printer`] found in a frame: the layers, outermost first,
/// and notes about what could not be decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dissection {
    /// The layers, in the order they were found.
    pub layers: Vec<Layer>,
    /// Problems, like `"ARP: truncated (20 bytes, need 28)"`.
    pub notes: Vec<String>,
}

impl Dissection {
    /// Adds the generic layer for bytes nobody decodes: `Data N bytes`.
    /// Callers add it when [`Printer::dispatch`] finds no dissector.
    pub fn push_data(&mut self, range: Range<usize>) {
        let len = range.len();
        let mut layer = Layer::new("Data", range.clone(), format!("Data {len} bytes"));
        layer.push_field(range, "data", format!("{len} bytes"));
        self.layers.push(layer);
    }

    /// Records that the `name` header in `range` could not be decoded: a
    /// layer that keeps the bytes visible, and a note saying why.
    pub fn push_undecoded(&mut self, name: &'static str, range: Range<usize>, error: &Error) {
        let problem = match error {
            Error::Truncated { .. } => "truncated",
            Error::Malformed { .. } => "malformed",
            Error::Unsupported { .. } => "unsupported",
        };
        let len = range.len();
        let mut layer = Layer::new(name, range.clone(), format!("{name} ({problem})"));
        layer.push_field(range, "undecoded", format!("{len} bytes"));
        self.layers.push(layer);
        self.notes.push(error.to_string());
    }

    /// One past the last byte any field of `layers[from..]` covers: where
    /// decoded data ends (what follows is padding or trailer).
    pub fn claimed_end(&self, from: usize) -> usize {
        self.layers
            .get(from..)
            .unwrap_or_default()
            .iter()
            .flat_map(|layer| &layer.fields)
            .map(|field| field.range.end)
            .max()
            .unwrap_or(0)
    }

    /// The layers' summaries on one line, joined by `" \ "`, then the notes
    /// in brackets.
    pub fn summary(&self) -> String {
        let mut line = self
            .layers
            .iter()
            .map(|layer| layer.summary.as_str())
            .collect::<Vec<_>>()
            .join(" \\ ");
        for note in &self.notes {
            line.push_str(&format!(" [{note}]"));
        }
        line
    }
}

/// The name of a dispatch table: what kind of number selects the next
/// dissector. Layer 2 has [`Table::ETHERTYPE`]; upper layers make their own
/// with [`Table::new`], e.g. `Table::new("ip.proto")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table(&'static str);

impl Table {
    /// EtherTypes (the Ethernet type field, or the one after a VLAN tag).
    pub const ETHERTYPE: Table = Table::new("ethertype");

    /// A table called `name`. Tables are equal when their names are.
    pub const fn new(name: &'static str) -> Table {
        Table(name)
    }

    /// The table's name.
    pub const fn name(&self) -> &'static str {
        self.0
    }
}

// ANCHOR: dissector_trait
/// Decodes one protocol's header and hands the rest on.
///
/// `frame` is the whole frame and `offset` where this protocol's header
/// starts, so every [`Field::range`] is absolute and the hex dump can place
/// it. A dissector pushes its [`Layer`] to `out`, then usually asks
/// `printer` to [`dispatch`](Printer::dispatch) its payload by the number
/// in its own header (an EtherType, an IP protocol, a port).
///
/// It must not panic on any bytes: read through `new_checked` views and
/// `frame.get(..)`, and record failures with
/// [`Dissection::push_undecoded`].
pub trait Dissector: Send + Sync {
    /// Decodes the header at `frame[offset..]` into `out`.
    fn dissect(&self, frame: &[u8], offset: usize, printer: &Printer, out: &mut Dissection);
}
// ANCHOR_END: dissector_trait

/// Turns frames into [`Dissection`]s, summaries and hex dumps, with a root
/// dissector (Ethernet, for frames from an Ethernet NIC) and a registry of
/// dissectors for what the layers carry.
pub struct Printer {
    root: Box<dyn Dissector>,
    registry: HashMap<(Table, u32), Box<dyn Dissector>>,
}

impl Printer {
    /// A printer that starts every frame with `root` and knows nothing else
    /// yet.
    pub fn new(root: impl Dissector + 'static) -> Printer {
        Printer {
            root: Box::new(root),
            registry: HashMap::new(),
        }
    }

    /// A printer for Ethernet frames that knows layer 2: Ethernet (with its
    /// 802.1Q tag), ARP, and rawstack's message protocol.
    pub fn layer2() -> Printer {
        let mut printer = Printer::new(EthernetDissector);
        printer.register(Table::ETHERTYPE, EtherType::ARP.0.into(), ArpDissector);
        printer.register(
            Table::ETHERTYPE,
            EtherType::LOCAL_EXPERIMENTAL_1.0.into(),
            MessageDissector,
        );
        printer
    }

    // ANCHOR: printer_register
    /// Makes `dissector` decode what `table` numbers `key`: EtherType
    /// 0x0806, IP protocol 17, port 53. A later registration for the same
    /// entry replaces the earlier one.
    pub fn register(&mut self, table: Table, key: u32, dissector: impl Dissector + 'static) {
        self.registry.insert((table, key), Box::new(dissector));
    }

    /// Runs the dissector registered for (`table`, `key`) on
    /// `frame[offset..]`. Returns false when there is none; the caller then
    /// shows the bytes as data ([`Dissection::push_data`]).
    pub fn dispatch(
        &self,
        table: Table,
        key: u32,
        frame: &[u8],
        offset: usize,
        out: &mut Dissection,
    ) -> bool {
        match self.registry.get(&(table, key)) {
            Some(dissector) => {
                dissector.dissect(frame, offset, self, out);
                true
            }
            None => false,
        }
    }
    // ANCHOR_END: printer_register

    /// Decodes `frame` layer by layer.
    pub fn dissect(&self, frame: &[u8]) -> Dissection {
        let mut out = Dissection::default();
        self.root.dissect(frame, 0, self, &mut out);
        out
    }

    // ANCHOR: printer_summary
    /// One line for `frame`, layers joined by `" \ "`, like
    /// `Ethernet 02:00:00:00:00:12 → ff:ff:ff:ff:ff:ff type ARP \ ARP who-has 198.18.0.1 tell 198.18.0.2`.
    pub fn summary(&self, frame: &[u8]) -> String {
        self.dissect(frame).summary()
    }
    // ANCHOR_END: printer_summary

    /// An annotated hex dump of `frame`: one line per field, with its
    /// offset, its bytes (16 per line), `Layer.field` and its value.
    /// Bytes no layer claims are shown as `Data`; notes come last.
    pub fn hexdump(&self, frame: &[u8]) -> String {
        hexdump::annotated(frame, &self.dissect(frame))
    }
}

impl Default for Printer {
    /// [`Printer::layer2`].
    fn default() -> Self {
        Printer::layer2()
    }
}

impl fmt::Debug for Printer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<_> = self.registry.keys().collect();
        entries.sort();
        f.debug_struct("Printer")
            .field("registered", &entries)
            .finish_non_exhaustive()
    }
}

/// How the printers show an EtherType field: the name and the number when
/// the value is known (`ARP (0x0806)`), the number alone otherwise.
fn ethertype_value(ethertype: EtherType) -> String {
    match ethertype.name() {
        Some(name) => format!("{name} (0x{:04x})", ethertype.0),
        None => ethertype.to_string(),
    }
}

/// `range` (relative to a header) moved to absolute frame offsets.
fn at(offset: usize, range: Range<usize>) -> Range<usize> {
    offset + range.start..offset + range.end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dissector that records that it ran and where.
    struct Marker;
    impl Dissector for Marker {
        fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
            out.layers.push(Layer::new(
                "Marker",
                offset..frame.len(),
                format!("Marker at {offset}"),
            ));
        }
    }

    #[test]
    fn dispatch_finds_only_registered_entries() {
        let mut printer = Printer::new(Marker);
        let upper = Table::new("ip.proto");
        printer.register(upper, 17, Marker);
        let mut out = Dissection::default();
        assert!(printer.dispatch(upper, 17, &[0; 30], 20, &mut out));
        assert!(!printer.dispatch(upper, 6, &[0; 30], 20, &mut out));
        // Same number, other table: not the same entry.
        assert!(!printer.dispatch(Table::ETHERTYPE, 17, &[0; 30], 20, &mut out));
        assert_eq!(out.layers.len(), 1);
        assert_eq!(out.layers[0].summary, "Marker at 20");
    }

    #[test]
    fn summary_joins_layers_and_appends_notes() {
        let mut out = Dissection::default();
        out.layers.push(Layer::new("A", 0..4, "A one"));
        out.push_data(4..10);
        out.notes.push("something odd".into());
        assert_eq!(out.summary(), r"A one \ Data 6 bytes [something odd]");
        assert_eq!(out.claimed_end(0), 10);
    }
}
