//! `cargo xtask` — rawstack's project commands.
fn main() {}
