//! Micro-benchmarks: not written yet.

fn main() {
    rawstack_bench::not_measured("micro");
}
