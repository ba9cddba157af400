//! rawstack's own protocol: a short text message straight on Ethernet, on
//! EtherType 0x88B5 (IEEE 802 "local experimental 1", free for anyone's own
//! use on their own network). The `send-frame` exercise speaks it.
//!
//! Why a length field at all? Ethernet pads short frames to 60 bytes, and
//! nothing in the Ethernet header says how much of the payload is real. A
//! five-byte message arrives as 46 payload bytes; its length tells the
//! receiver to keep 2 + 5 of them. (IPv4's Total Length does the same job.)

use core::ops::Range;

use super::bytes::{read_u16, write_u16};
use super::{Error, Result};

// ANCHOR: message_format
/// Byte positions: two bytes of length, then that many bytes of UTF-8.
pub(crate) mod field {
    use core::ops::Range;

    /// Length of the text in bytes, big-endian.
    pub const LENGTH: Range<usize> = 0..2;
    /// Where the text starts.
    pub const TEXT: usize = 2;

    /// The text of a message whose length field says `len`.
    pub const fn text(len: usize) -> Range<usize> {
        TEXT..TEXT + len
    }
}

/// The longest text the length field can describe.
pub const MAX_TEXT_LEN: usize = u16::MAX as usize;
// ANCHOR_END: message_format

/// The format, field by field, for [`super::layout::diagram`]. The text is
/// variable; the diagram shows where it starts.
pub const LAYOUT: &[(&str, Range<usize>)] = &[
    ("Length", field::LENGTH),
    ("Text (Length bytes) ...", field::text(2)),
];

/// A zero-copy view of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MessagePacket<T> {
    /// Wraps `buffer` without looking at it; the getters panic if it is
    /// shorter than the message. Prefer [`new_checked`](Self::new_checked).
    pub const fn new_unchecked(buffer: T) -> Self {
        MessagePacket { buffer }
    }

    /// Wraps `buffer` after checking that it holds the length field and
    /// all the text that field announces.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the whole message.
    pub fn check_len(&self) -> Result<()> {
        let got = self.buffer.as_ref().len();
        let needed = if got < field::TEXT {
            field::TEXT
        } else {
            self.packet_len()
        };
        if got < needed {
            return Err(Error::Truncated {
                what: "message",
                needed,
                got,
            });
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The length field: how many bytes of text follow.
    pub fn text_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// The text's bytes (not yet checked to be UTF-8); whatever follows
    /// them (Ethernet padding) is left out.
    pub fn text_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[field::text(self.text_len().into())]
    }

    /// Length of the whole message, length field included.
    pub fn packet_len(&self) -> usize {
        field::text(self.text_len().into()).end
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MessagePacket<T> {
    /// Writes the length field. Set it before writing the text: it says
    /// where the text ends.
    pub fn set_text_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH.start, value);
    }

    /// The text's bytes, to write into.
    pub fn text_bytes_mut(&mut self) -> &mut [u8] {
        let range = field::text(self.text_len().into());
        &mut self.buffer.as_mut()[range]
    }
}

// ANCHOR: message_repr
/// The meaning of a message: its text, borrowed from the buffer it was
/// parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageRepr<'a> {
    /// The text, at most [`MAX_TEXT_LEN`] bytes of UTF-8.
    pub text: &'a str,
}

impl<'a> MessageRepr<'a> {
    /// A message with `text`, if its length fits the length field.
    pub fn new(text: &'a str) -> Result<Self> {
        if text.len() > MAX_TEXT_LEN {
            return Err(Error::Malformed {
                what: "message",
                reason: "text longer than 65535 bytes",
            });
        }
        Ok(MessageRepr { text })
    }

    /// Reads a message: the text must be all there and valid UTF-8.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &MessagePacket<&'a T>) -> Result<Self> {
        packet.check_len()?;
        // Borrow from the buffer itself (lifetime 'a), not from the view,
        // so the text outlives this call.
        let buffer: &'a T = packet.buffer;
        let bytes = &buffer.as_ref()[field::text(packet.text_len().into())];
        let text = core::str::from_utf8(bytes).map_err(|_| Error::Malformed {
            what: "message",
            reason: "text is not valid UTF-8",
        })?;
        Ok(MessageRepr { text })
    }

    /// Length of the message [`emit`](Self::emit) writes: 2 + the text.
    pub fn buffer_len(&self) -> usize {
        field::text(self.text.len()).end
    }

    /// Writes the message into the start of `packet`.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len), or
    /// the text is longer than [`MAX_TEXT_LEN`] (use [`MessageRepr::new`]).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut MessagePacket<&mut T>) {
        let len = u16::try_from(self.text.len()).expect("message text longer than 65535 bytes");
        packet.set_text_len(len);
        packet
            .text_bytes_mut()
            .copy_from_slice(self.text.as_bytes());
    }
}
// ANCHOR_END: message_repr

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_ignores_padding() {
        let mut bytes = [0u8; 46];
        bytes[..7].copy_from_slice(b"\x00\x05hello");
        let packet = MessagePacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.packet_len(), 7);
        assert_eq!(MessageRepr::parse(&packet).unwrap().text, "hello");
    }

    #[test]
    fn emits_length_then_text() {
        let mut out = [0xee; 9];
        MessageRepr::new("héllo")
            .unwrap()
            .emit(&mut MessagePacket::new_unchecked(&mut out[..]));
        assert_eq!(&out[..8], b"\x00\x06h\xc3\xa9llo");
        assert_eq!(out[8], 0xee, "emit wrote past the message");
    }

    #[test]
    fn rejects_a_length_beyond_the_buffer() {
        assert_eq!(
            MessagePacket::new_checked(&b"\x00"[..]).unwrap_err(),
            Error::Truncated {
                what: "message",
                needed: 2,
                got: 1
            }
        );
        assert_eq!(
            MessagePacket::new_checked(&b"\x00\x09hello"[..]).unwrap_err(),
            Error::Truncated {
                what: "message",
                needed: 11,
                got: 7
            }
        );
        assert!(MessageRepr::parse(&MessagePacket::new_unchecked(&b"\xff\xffhi"[..])).is_err());
    }

    #[test]
    fn rejects_invalid_utf8() {
        let bytes = b"\x00\x02\xc3\x28";
        assert!(matches!(
            MessageRepr::parse(&MessagePacket::new_checked(&bytes[..]).unwrap()),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn new_refuses_text_the_length_field_cannot_describe() {
        let long = "x".repeat(MAX_TEXT_LEN + 1);
        assert!(MessageRepr::new(&long).is_err());
        assert!(MessageRepr::new(&long[1..]).is_ok());
    }
}
