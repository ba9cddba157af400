//! System benchmark "capture": not written yet. Prints a "not measured" row so
//! `cargo xtask bench` shows the gap instead of a made-up figure.

fn main() {
    rawstack_bench::not_measured("capture");
}
