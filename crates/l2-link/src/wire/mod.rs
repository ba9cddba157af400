//! Layer 2 wire formats, sans-IO: bytes in, meaning out, and back.
//!
//! Every format follows the same shape (see ARCHITECTURE.md):
//! a zero-copy view `Xxx<T: AsRef<[u8]>>` with `new_checked` / `new_unchecked`,
//! getters and setters over byte ranges kept in a private `field` module, and
//! a `XxxRepr` with `parse`, `buffer_len` and `emit`.

mod error;
mod ethertype;
mod mac;

pub use error::{Error, Result};
pub use ethertype::EtherType;
pub use mac::{MacAddr, ParseMacError};
