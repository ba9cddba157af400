//! Giving capabilities up: once a raw socket is open, the program needs no
//! privilege at all, so it should hold none (capabilities(7), capset(2)).
//!
//! The code is layer 2's (`l2_link::sys::drop_capabilities`): sniff and
//! arping need it as much as ping does, and layer 2 cannot depend on this
//! crate. Layer 3's exercises keep calling `l3_net::sys::drop_capabilities`,
//! which is the same function.

// ANCHOR: drop_capabilities
pub use l2_link::sys::{drop_capabilities, effective_capabilities};
// ANCHOR_END: drop_capabilities
