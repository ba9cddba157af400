//! Showing frames to people: an annotated hex dump and a one-line-per-layer
//! printer that upper layers extend with their own protocols.
