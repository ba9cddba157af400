//! Our decoder against real DNS responses: bytes captured from dnsmasq 2.90
//! in the lab (python3's socket on raw asked it, with ID 0x5151, and
//! printed what came back), and what the real `dig` printed for the same
//! questions (`dig @198.18.0.1 -p 5353 +noall +answer NAME TYPE`). Neither
//! the bytes nor the expected lines come from our code. The lab test
//! `layer7_dns` repeats the comparison live, against a fresh dnsmasq.

use l7_app::dns::wire::{Message, Rcode, RecordType};

/// A response from its hex, decoded.
fn decode(hex: &str) -> Message {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    Message::decode(&bytes).expect("dnsmasq's response decodes")
}

/// The answer section as dig prints it, with runs of tabs as one space
/// (dig pads names with tabs to line them up).
fn answer_lines(message: &Message) -> Vec<String> {
    message
        .answers
        .iter()
        .map(|record| normalize(&record.to_string()))
        .collect()
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (question, dnsmasq's response, dig's answer lines).
const CAPTURES: &[(&str, &str, &[&str])] = &[
    (
        "c.lab.test A",
        "5151858000010002000000000163036c616204746573740000010001c00c0005000100000000000c01\
         68036c6162047465737400c02800010001000000000004c612000a",
        &[
            "c.lab.test. 0 IN CNAME h.lab.test.",
            "h.lab.test. 0 IN A 198.18.0.10",
        ],
    ),
    (
        "t.lab.test TXT",
        "5151858000010001000000000174036c616204746573740000100001c00c00100001000000000010\
         0568656c6c6f0974776f20776f726473",
        &[r#"t.lab.test. 0 IN TXT "hello" "two words""#],
    ),
    (
        "m.lab.test MX",
        "515185800001000100000000016d036c6162047465737400000f0001c00c000f0001000000000011\
         0005046d61696c036c6162047465737400",
        &["m.lab.test. 0 IN MX 5 mail.lab.test."],
    ),
    (
        "h.lab.test AAAA",
        "5151858000010001000000000168036c6162047465737400001c0001c00c001c0001000000000010\
         20010db8000000000000000000000010",
        &["h.lab.test. 0 IN AAAA 2001:db8::10"],
    ),
    (
        "9.0.18.198.in-addr.arpa PTR",
        "515185800001000100000000013901300231380331393807696e2d61646472046172706100000c00\
         01c00c000c000100000000000c0178036c6162047465737400",
        &["9.0.18.198.in-addr.arpa. 0 IN PTR x.lab.test."],
    ),
];

#[test]
fn dnsmasq_answers_decode_to_what_dig_printed() {
    for (question, hex, dig) in CAPTURES {
        let message = decode(hex);
        assert_eq!(answer_lines(&message), *dig, "{question}");
        // The header dig summarised as "flags: qr aa rd ra; status: NOERROR".
        assert_eq!(message.header.id, 0x5151, "{question}");
        assert_eq!(message.header.flag_names(), "qr aa rd ra", "{question}");
        assert_eq!(message.header.rcode, Rcode::NOERROR, "{question}");
        let (name, qtype) = question.split_once(' ').expect("name and type");
        assert_eq!(message.questions.len(), 1);
        assert_eq!(message.questions[0].name.to_string(), format!("{name}."));
        assert_eq!(
            message.questions[0].qtype,
            qtype.parse::<RecordType>().expect("type")
        );
    }
}

#[test]
fn dnsmasqs_pointer_into_record_data_is_followed() {
    // dnsmasq wrote the A record's owner as c0 28: a pointer into the
    // CNAME's data (offset 40, "h.lab.test" there), not into the question.
    let message = decode(CAPTURES[0].1);
    assert_eq!(message.answers[1].name.to_string(), "h.lab.test.");
}

#[test]
fn our_encoding_of_the_same_answer_decodes_the_same() {
    // Re-encoded with our compression, the message means the same thing,
    // and is no longer than dnsmasq's.
    for (question, hex, _) in CAPTURES {
        let message = decode(hex);
        let ours = message.encode().expect("encodes");
        assert_eq!(Message::decode(&ours).as_ref(), Ok(&message), "{question}");
        assert!(ours.len() <= hex.len() / 2, "{question}");
    }
}

#[test]
fn dnsmasqs_refusal_has_no_records() {
    // "nothing.example A": not dnsmasq's to answer, no upstream: REFUSED.
    let message = decode("515181850001000000000000076e6f7468696e67076578616d706c650000010001");
    assert_eq!(message.header.rcode, Rcode::REFUSED);
    assert_eq!(message.header.flag_names(), "qr rd ra");
    assert!(message.answers.is_empty());
}
