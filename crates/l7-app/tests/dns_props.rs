//! Property tests of the DNS decoder and encoder: no input makes the
//! decoder (or the printer's dissector) panic (arbitrary bytes, and valid messages with bytes changed),
//! and every message we can build survives encode → decode unchanged.

use std::net::{Ipv4Addr, Ipv6Addr};

use l2_link::print::Printer;
use l7_app::dns::print::{DnsDissector, DnsTcpDissector};
use l7_app::dns::wire::{Class, Header, Message, Name, Question, RData, Record, RecordType, Soa};
use proptest::prelude::*;

/// A name of 0–4 labels drawn from a small alphabet, so that suffixes
/// repeat and compression has something to do.
fn name() -> impl Strategy<Value = Name> {
    prop::collection::vec(
        prop::sample::select(vec!["www", "lab", "test", "a", "Alpha", "x-1"]),
        0..4,
    )
    .prop_map(|labels| {
        Name::from_labels(labels.into_iter().map(|l| l.as_bytes().to_vec()).collect())
            .expect("short labels")
    })
}

fn rdata() -> impl Strategy<Value = RData> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| RData::A(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| RData::Aaaa(Ipv6Addr::from(b))),
        name().prop_map(RData::Cname),
        name().prop_map(RData::Ns),
        name().prop_map(RData::Ptr),
        (any::<u16>(), name()).prop_map(|(preference, exchange)| RData::Mx {
            preference,
            exchange
        }),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..4).prop_map(RData::Txt),
        (name(), name(), any::<[u32; 5]>()).prop_map(|(mname, rname, n)| RData::Soa(Soa {
            mname,
            rname,
            serial: n[0],
            refresh: n[1],
            retry: n[2],
            expire: n[3],
            minimum: n[4],
        })),
        // Types we do not know; 1 (A) etc. are excluded since their data
        // would be parsed, not kept.
        (
            prop::sample::select(vec![99u16, 41, 65, 257]),
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(t, data)| RData::Unknown {
                rtype: RecordType(t),
                data
            }),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (name(), any::<u16>(), any::<u32>(), rdata()).prop_map(|(name, class, ttl, data)| Record {
        name,
        class: Class(class),
        ttl,
        data,
    })
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<u16>(),
        any::<u16>(),
        prop::collection::vec((name(), any::<u16>(), any::<u16>()), 0..3),
        prop::collection::vec(record(), 0..4),
        prop::collection::vec(record(), 0..3),
        prop::collection::vec(record(), 0..3),
    )
        .prop_map(
            |(id, flags, questions, answers, authorities, additionals)| Message {
                header: Header::from_flags(id, flags),
                questions: questions
                    .into_iter()
                    .map(|(name, t, c)| Question {
                        name,
                        qtype: RecordType(t),
                        qclass: Class(c),
                    })
                    .collect(),
                answers,
                authorities,
                additionals,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn the_printer_never_panics_either(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let udp = Printer::new(DnsDissector);
        let tcp = Printer::new(DnsTcpDissector);
        prop_assert!(!udp.hexdump(&bytes).is_empty() || bytes.is_empty());
        let _ = tcp.hexdump(&bytes);
    }

    #[test]
    fn every_message_round_trips(message in message()) {
        let bytes = message.encode().expect("encodes");
        prop_assert_eq!(Message::decode(&bytes), Ok(message));
    }

    #[test]
    fn compression_never_makes_a_message_longer(message in message()) {
        // Each name written in full: 1 byte per label plus the labels, plus 1.
        let bytes = message.encode().expect("encodes");
        let names: usize = message.questions.iter().map(|q| q.name.wire_len()).sum::<usize>()
            + message.answers.iter().chain(&message.authorities).chain(&message.additionals)
                .map(|r| r.name.wire_len()).sum::<usize>();
        let fixed: usize = 12 + 4 * message.questions.len()
            + message.answers.iter().chain(&message.authorities).chain(&message.additionals)
                .map(|r| 10 + rdata_len_uncompressed(&r.data)).sum::<usize>();
        prop_assert!(bytes.len() <= names + fixed);
    }

    #[test]
    fn changing_bytes_of_a_valid_message_never_panics(
        message in message(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = message.encode().expect("encodes");
        for (index, value) in changes {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        let _ = Message::decode(&bytes);
        // And cut short anywhere.
        for len in 0..bytes.len() {
            let _ = Message::decode(&bytes[..len]);
        }
    }
}

/// RDATA's length with every name in full.
fn rdata_len_uncompressed(data: &RData) -> usize {
    match data {
        RData::A(_) => 4,
        RData::Aaaa(_) => 16,
        RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => n.wire_len(),
        RData::Mx { exchange, .. } => 2 + exchange.wire_len(),
        RData::Txt(strings) => strings.iter().map(|s| 1 + s.len()).sum(),
        RData::Soa(soa) => soa.mname.wire_len() + soa.rname.wire_len() + 20,
        RData::Unknown { data, .. } => data.len(),
    }
}
