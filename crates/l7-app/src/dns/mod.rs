//! DNS (RFC 1035): messages with name compression ([`wire`]), a resolver
//! over our own UDP with TCP fallback ([`resolver`]), and the printer's
//! dissector for port 53 ([`print`](mod@print)).

pub mod print;
pub mod resolver;
pub mod wire;
