//! DNS messages on the wire (RFC 1035 §4): the 12-byte header, questions,
//! resource records, and domain names with compression.
//!
//! ```text
//!     +---------------------+
//!     |        Header       |  12 bytes: ID, flags, four counts
//!     +---------------------+
//!     |       Question      |  what was asked: name, type, class
//!     +---------------------+
//!     |        Answer       |  records that answer it
//!     +---------------------+
//!     |      Authority      |  records naming the zone's servers (or its SOA)
//!     +---------------------+
//!     |      Additional     |  records that may help (EDNS's OPT, glue)
//!     +---------------------+
//! ```
//!
//! Unlike the fixed headers of the layers below, a DNS message is a chain
//! of variable-length items, and a name in one may point back into another
//! (compression, §4.1.4). So there is no zero-copy view of a whole message
//! here: [`Message::decode`] walks it once, checking every length and
//! every pointer, into an owned [`Message`] — the "Repr" of the lower
//! layers — and [`Message::encode`] writes one back, compressing names.
//! The walk's steps ([`decode_name`], [`Question::decode_at`],
//! [`Record::decode_at`]) say where each item ends, for the printer's
//! annotated hex dump.

mod error;
mod header;
mod message;
mod name;
mod record;

pub use error::{Error, Result};
pub use header::{HEADER_LEN, Header, Opcode, Rcode, field};
pub use message::{Message, Question};
pub use name::{Labels, MAX_LABEL_LEN, MAX_NAME_LEN, Name, NameEncoder, decode_name};
pub use record::{Class, RData, Record, RecordType, Soa};
