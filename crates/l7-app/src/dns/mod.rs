//! DNS, the Domain Name System (RFC 1034, RFC 1035): names to addresses.
//!
//! - [`wire`] — messages: the header, questions and resource records, and
//!   names with compression, decoded without ever panicking or following a
//!   pointer loop;
//! - [`resolver`] — a stub resolver over our own UDP (or the kernel's):
//!   random IDs, timeouts and retries, answers matched to the question
//!   and the server, TCP when the answer is truncated;
//! - [`print`](mod@print) — the printer's dissector for port 53.
//!
//! ```
//! use l7_app::dns::wire::{Message, RecordType};
//!
//! let query = Message::query(0x1234, "www.lab.test".parse()?, RecordType::A);
//! let bytes = query.encode()?;
//! assert_eq!(bytes.len(), 12 + 14 + 4); // header, name, type and class
//! assert_eq!(Message::decode(&bytes)?, query);
//! # Ok::<(), l7_app::dns::wire::Error>(())
//! ```

pub mod print;
pub mod resolver;
pub mod wire;
