//! The `netlab` helper binary: creates, joins and runs commands in labs.
fn main() {}
