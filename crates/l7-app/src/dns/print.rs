//! The DNS dissector for the printer: UDP port 53, and TCP port 53 with
//! its two-byte length prefix (RFC 1035 §4.2).
//!
//! The summary reads like tcpdump's: `DNS query 0x1234 A? www.lab.test.`,
//! `DNS response 0x1234 NOERROR 2/0/0 CNAME alpha.lab.test., A 198.18.0.1`;
//! the annotated hex dump shows the header fields and one line per
//! question and record, each over its own bytes — a compressed name is
//! visibly two bytes.

use core::ops::Range;

use l2_link::print::{Dissection, Dissector, Layer, Printer};
use l4_transport::print::{TCP_PORT, UDP_PORT};

use super::wire::{self, HEADER_LEN, Header, Question, Record, field};

/// The well-known DNS port.
pub const DNS_PORT: u16 = 53;

/// Teaches `printer` DNS on UDP and TCP port 53.
pub fn register(printer: &mut Printer) {
    printer.register(UDP_PORT, DNS_PORT.into(), DnsDissector);
    printer.register(TCP_PORT, DNS_PORT.into(), DnsTcpDissector);
}

/// A printer for Ethernet frames that knows layers 2 to 4 and DNS:
/// [`l4_transport::print::printer`] plus [`register`].
pub fn printer() -> Printer {
    let mut printer = l4_transport::print::printer();
    register(&mut printer);
    printer
}

/// Decodes a DNS message that fills the rest of the frame (a UDP
/// datagram's data).
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsDissector;

impl Dissector for DnsDissector {
    fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
        let message = frame.get(offset..).unwrap_or_default();
        dissect_message(message, offset, None, out);
    }
}

/// Decodes DNS over TCP: a two-byte length, then the message. A segment
/// that holds only part of a message (or several) is shown as the length
/// and undecoded data: this printer sees segments, not the stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsTcpDissector;

impl Dissector for DnsTcpDissector {
    fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        match bytes.split_first_chunk::<2>() {
            Some((prefix, message))
                if usize::from(u16::from_be_bytes(*prefix)) == message.len() =>
            {
                let prefix = (offset..offset + 2, u16::from_be_bytes(*prefix));
                dissect_message(message, offset + 2, Some(prefix), out);
            }
            _ => {
                let mut layer =
                    Layer::new("DNS", offset..frame.len(), "DNS (TCP segment of a message)");
                layer.push_field(
                    offset..frame.len(),
                    "segment",
                    format!("{} bytes", bytes.len()),
                );
                out.layers.push(layer);
            }
        }
    }
}

/// Decodes `message`, found at `offset` in the frame, into a DNS layer;
/// `length` is TCP's prefix (its range and value).
fn dissect_message(
    message: &[u8],
    offset: usize,
    length: Option<(Range<usize>, u16)>,
    out: &mut Dissection,
) {
    let start = length.as_ref().map_or(offset, |(range, _)| range.start);
    let at = |range: Range<usize>| offset + range.start..offset + range.end;
    let mut fields = Vec::new();
    if let Some((range, value)) = length {
        fields.push((range, "length", value.to_string()));
    }
    let decoded = wire::Message::decode(message);
    let Some((header, counts)) = header_of(message) else {
        let mut layer = Layer::new("DNS", start..offset + message.len(), "DNS (truncated)");
        layer.push_field(
            start..offset + message.len(),
            "undecoded",
            format!("{} bytes", message.len()),
        );
        out.layers.push(layer);
        out.notes.push(format!(
            "DNS: header needs {HEADER_LEN} bytes, got {}",
            message.len()
        ));
        return;
    };
    fields.push((at(field::ID), "id", format!("0x{:04x}", header.id)));
    fields.push((
        at(field::FLAGS),
        "flags",
        format!(
            "0x{:04x} ({} opcode {} rcode {})",
            header.flags(),
            header.flag_names(),
            header.opcode,
            header.rcode
        ),
    ));
    for (range, name, count) in [
        (field::QDCOUNT, "qdcount", counts[0]),
        (field::ANCOUNT, "ancount", counts[1]),
        (field::NSCOUNT, "nscount", counts[2]),
        (field::ARCOUNT, "arcount", counts[3]),
    ] {
        fields.push((at(range), name, count.to_string()));
    }
    // The items one by one, each over its own bytes, up to the first
    // that does not decode.
    let mut next = HEADER_LEN;
    let mut problem = None;
    let question_count = usize::from(counts[0]);
    for _ in 0..question_count {
        match Question::decode_at(message, next) {
            Ok((question, end)) => {
                fields.push((
                    at(next..end),
                    "question",
                    format!("{} {}? {}", question.qclass, question.qtype, question.name),
                ));
                next = end;
            }
            Err(error) => {
                problem = Some(error);
                break;
            }
        }
    }
    let sections = [
        ("answer", counts[1]),
        ("authority", counts[2]),
        ("additional", counts[3]),
    ];
    'sections: for (section, count) in sections {
        if problem.is_some() {
            break;
        }
        for _ in 0..count {
            match Record::decode_at(message, next) {
                Ok((record, end)) => {
                    let text = format!(
                        "{} {} {} {}",
                        record.name,
                        record.ttl,
                        record.rtype(),
                        record.data
                    );
                    fields.push((at(next..end), section, text));
                    next = end;
                }
                Err(error) => {
                    problem = Some(error);
                    break 'sections;
                }
            }
        }
    }
    let summary = match &decoded {
        Ok(message) => summary(message),
        Err(_) => format!("DNS {} 0x{:04x} (malformed)", kind(&header), header.id),
    };
    let mut layer = Layer::new("DNS", start..offset + message.len(), summary);
    for (range, name, value) in fields {
        layer.push_field(range, name, value);
    }
    if next < message.len() {
        layer.push_field(
            at(next..message.len()),
            "undecoded",
            format!("{} bytes", message.len() - next),
        );
    }
    out.layers.push(layer);
    if let Err(error) = decoded {
        out.notes.push(problem.unwrap_or(error).to_string());
    }
}

/// The header and counts, if the message has 12 bytes.
fn header_of(message: &[u8]) -> Option<(Header, [u16; 4])> {
    let word = |i: usize| Some(u16::from_be_bytes([*message.get(i)?, *message.get(i + 1)?]));
    let header = Header::from_flags(word(0)?, word(2)?);
    Some((header, [word(4)?, word(6)?, word(8)?, word(10)?]))
}

/// "query" or "response".
fn kind(header: &Header) -> &'static str {
    if header.response { "response" } else { "query" }
}

/// tcpdump's style of line: the question for a query; the status, the
/// counts and the answers for a response.
fn summary(message: &wire::Message) -> String {
    let header = &message.header;
    let questions: Vec<String> = message
        .questions
        .iter()
        .map(|q| format!("{}? {}", q.qtype, q.name))
        .collect();
    if !header.response {
        return format!("DNS query 0x{:04x} {}", header.id, questions.join(", "));
    }
    let answers: Vec<String> = message
        .answers
        .iter()
        .map(|record| format!("{} {}", record.rtype(), record.data))
        .collect();
    let mut line = format!(
        "DNS response 0x{:04x} {} {}/{}/{}",
        header.id,
        header.rcode,
        message.answers.len(),
        message.authorities.len(),
        message.additionals.len()
    );
    if header.truncated {
        line.push_str(" (truncated)");
    }
    if !answers.is_empty() {
        line.push(' ');
        line.push_str(&answers.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::wire::{Message, RecordType};

    /// A query for `www.lab.test A`, ID 0x0102.
    fn query() -> Vec<u8> {
        Message::query(
            0x0102,
            "www.lab.test".parse().expect("valid"),
            RecordType::A,
        )
        .encode()
        .expect("encodes")
    }

    #[test]
    fn over_tcp_the_length_prefix_comes_first() {
        let message = query();
        let mut segment = u16::try_from(message.len())
            .expect("short")
            .to_be_bytes()
            .to_vec();
        segment.extend_from_slice(&message);
        let printer = Printer::new(DnsTcpDissector);
        let dissection = printer.dissect(&segment);
        let layer = &dissection.layers[0];
        assert_eq!(layer.summary, "DNS query 0x0102 A? www.lab.test.");
        assert_eq!(layer.fields[0].name, "length");
        assert_eq!(layer.fields[0].range, 0..2);
        assert_eq!(layer.fields[0].value, message.len().to_string());
        assert_eq!(layer.fields[1].name, "id");
        assert_eq!(layer.fields[1].range, 2..4);
        assert!(dissection.notes.is_empty());
    }

    #[test]
    fn part_of_a_tcp_message_is_not_decoded_as_one() {
        let message = query();
        let mut segment = 100u16.to_be_bytes().to_vec(); // more than follows
        segment.extend_from_slice(&message);
        let printer = Printer::new(DnsTcpDissector);
        assert_eq!(printer.summary(&segment), "DNS (TCP segment of a message)");
    }

    #[test]
    fn a_short_udp_message_is_a_note_not_a_panic() {
        let printer = Printer::new(DnsDissector);
        let dissection = printer.dissect(&[1, 2, 3]);
        assert_eq!(dissection.layers[0].summary, "DNS (truncated)");
        assert_eq!(dissection.notes, ["DNS: header needs 12 bytes, got 3"]);
    }
}
