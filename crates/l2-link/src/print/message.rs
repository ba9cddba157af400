//! The dissector for rawstack's message protocol (EtherType 0x88B5).

use crate::wire::message::field;
use crate::wire::{MessagePacket, MessageRepr};

use super::{Dissection, Dissector, Layer, Printer, at};

/// Decodes a message: its length, then its text. Bytes after the text are
/// left unclaimed, for the Ethernet dissector to show as padding.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageDissector;

/// The longest text a summary line shows before cutting it.
const SUMMARY_TEXT_CHARS: usize = 40;

impl Dissector for MessageDissector {
    fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match MessagePacket::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                out.push_undecoded("Message", offset..frame.len(), &error);
                return;
            }
        };
        let len = usize::from(packet.text_len());
        let (summary, text_value) = match MessageRepr::parse(&packet) {
            // Debug formatting quotes the text and escapes control
            // characters, so a message cannot mess up the terminal.
            Ok(repr) => (
                format!("Message {:?}", shorten(repr.text)),
                format!("{:?}", repr.text),
            ),
            Err(error) => {
                out.notes.push(error.to_string());
                (
                    "Message (malformed)".to_string(),
                    format!("{len} bytes, not UTF-8"),
                )
            }
        };
        let mut layer = Layer::new("Message", offset..offset + packet.packet_len(), summary);
        layer.push_field(at(offset, field::LENGTH), "length", len.to_string());
        layer.push_field(at(offset, field::text(len)), "text", text_value);
        out.layers.push(layer);
    }
}

/// `text`, or its first characters and "…" when it is long.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(SUMMARY_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
