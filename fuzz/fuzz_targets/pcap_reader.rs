//! The capture reader, classic pcap and pcapng: any file reads as records
//! then, at most, one error; records come from bytes that are there.
#![no_main]

use std::io::Cursor;

use l2_link::pcap::{MAX_PACKET_LEN, PcapReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|file: &[u8]| {
    let Ok(reader) = PcapReader::new(Cursor::new(file)) else {
        return;
    };
    let mut records = 0;
    let mut reader = reader.into_iter();
    while let Some(record) = reader.next() {
        match record {
            Ok(record) => {
                records += 1;
                // A record costs at least a 12-byte pcapng block or a
                // 16-byte pcap record header: none out of nothing.
                assert!(records * 12 <= file.len());
                assert!(record.data.len() <= file.len());
                assert!(record.data.len() <= MAX_PACKET_LEN as usize);
            }
            Err(err) => {
                assert!(!err.to_string().is_empty());
                // Nothing after damage can be trusted: the reader stops.
                assert!(reader.next().is_none());
                break;
            }
        }
    }
});
