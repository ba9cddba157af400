//! The printer behind `dissect` and `journey`, every layer's dissector
//! over a whole frame: every layer and field it names lies inside the
//! frame, the summary is one line, and every note reaches the hex dump.
#![no_main]

use std::ops::Range;
use std::sync::LazyLock;

use l2_link::print::Printer;
use libfuzzer_sys::fuzz_target;

/// Built once: registering dissectors is not what is under test.
static PRINTER: LazyLock<Printer> = LazyLock::new(l7_app::printer);

fn within(range: &Range<usize>, len: usize) -> bool {
    range.start <= range.end && range.end <= len
}

fuzz_target!(|frame: &[u8]| {
    let dissection = PRINTER.dissect(frame);
    for layer in &dissection.layers {
        assert!(within(&layer.range, frame.len()), "{layer:?}");
        for field in &layer.fields {
            assert!(within(&field.range, frame.len()), "{field:?}");
        }
    }
    let summary = PRINTER.summary(frame);
    assert!(!summary.contains('\n'), "{summary}");
    assert_eq!(summary, dissection.summary());
    let dump = PRINTER.hexdump(frame);
    for note in &dissection.notes {
        assert!(dump.contains(note.as_str()), "{note} in {dump}");
    }
});
