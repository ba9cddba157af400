//! A whole DNS message: header, then four sections (RFC 1035 §4.1).

use std::fmt;

use super::error::{Error, Result};
use super::header::{HEADER_LEN, Header, decode_header};
use super::name::{Name, NameEncoder, decode_name};
use super::record::{Class, Record, RecordType};

/// The shortest question: the root name (one zero byte), type and class.
const MIN_QUESTION_LEN: usize = 1 + 4;

/// The shortest record: the root name, type, class, TTL, RDLENGTH and no
/// data.
const MIN_RECORD_LEN: usize = 1 + 10;

/// How many items to make room for before decoding `count` of them: all,
/// unless the bytes left could not hold that many of the shortest kind.
/// Reserving up front saves growing the `Vec` item by item; bounding it
/// by the bytes means a count off the wire (up to 65535) can never make
/// us allocate more than the message itself could fill.
fn room_for(count: u16, min_len: usize, bytes_left: usize) -> usize {
    usize::from(count).min(bytes_left / min_len)
}

/// A question: a name, the type wanted, and the class (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The type wanted.
    pub qtype: RecordType,
    /// The class, IN.
    pub qclass: Class,
}

impl Question {
    /// Reads the question at `message[start..]`; returns it and where the
    /// next item starts.
    pub fn decode_at(message: &[u8], start: usize) -> Result<(Question, usize)> {
        let (name, at) = decode_name(message, start)?;
        let fixed = message.get(at..at + 4).ok_or(Error::Truncated {
            what: "question",
            at,
            needed: 4,
        })?;
        let question = Question {
            name,
            qtype: RecordType(u16::from_be_bytes([fixed[0], fixed[1]])),
            qclass: Class(u16::from_be_bytes([fixed[2], fixed[3]])),
        };
        Ok((question, at + 4))
    }

    /// True if `other` asks the same thing, the name compared without
    /// regard to case (RFC 4343) — how a resolver matches an answer to its
    /// question.
    pub fn matches(&self, other: &Question) -> bool {
        self.name.eq_ignore_case(&other.name)
            && self.qtype == other.qtype
            && self.qclass == other.qclass
    }
}

impl fmt::Display for Question {
    /// dig's question line: `;www.lab.test.`, class and type, tab-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ";{}\t\t{}\t{}", self.name, self.qclass, self.qtype)
    }
}

/// A DNS message: the header and the four sections. The header's counts
/// are the sections' lengths.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// ID and flags.
    pub header: Header,
    /// What is asked (one question, in practice).
    pub questions: Vec<Question>,
    /// Records answering it.
    pub answers: Vec<Record>,
    /// Records about the zone's authority (NS, or the SOA of a negative
    /// answer).
    pub authorities: Vec<Record>,
    /// Other helpful records (EDNS's OPT, addresses of servers named).
    pub additionals: Vec<Record>,
}

impl Message {
    /// A query for `name`'s `qtype` records with ID `id` and RD set.
    pub fn query(id: u16, name: Name, qtype: RecordType) -> Message {
        Message {
            header: Header::query(id),
            questions: vec![Question {
                name,
                qtype,
                qclass: Class::IN,
            }],
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
        }
    }

    // ANCHOR: message_decode
    /// Decodes a whole message. Every count is trusted only as far as the
    /// bytes go: a count larger than what follows is a truncation error,
    /// not an allocation; bytes after the last record are an error too.
    pub fn decode(message: &[u8]) -> Result<Message> {
        let (header, [qdcount, ancount, nscount, arcount]) = decode_header(message)?;
        let mut at = HEADER_LEN;
        let bytes_left = |at: usize| message.len().saturating_sub(at);
        let mut questions = Vec::with_capacity(room_for(qdcount, MIN_QUESTION_LEN, bytes_left(at)));
        for _ in 0..qdcount {
            let (question, next) = Question::decode_at(message, at)?;
            questions.push(question);
            at = next;
        }
        let mut sections = [Vec::new(), Vec::new(), Vec::new()];
        for (section, count) in sections.iter_mut().zip([ancount, nscount, arcount]) {
            section.reserve_exact(room_for(count, MIN_RECORD_LEN, bytes_left(at)));
            for _ in 0..count {
                let (record, next) = Record::decode_at(message, at)?;
                section.push(record);
                at = next;
            }
        }
        if at != message.len() {
            return Err(Error::TrailingBytes(message.len() - at));
        }
        let [answers, authorities, additionals] = sections;
        Ok(Message {
            header,
            questions,
            answers,
            authorities,
            additionals,
        })
    }
    // ANCHOR_END: message_decode

    // ANCHOR: message_encode
    /// Encodes the message, compressing every name that repeats a suffix
    /// already written.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let count = |len: usize, what| u16::try_from(len).map_err(|_| Error::TooLong(what));
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&self.header.id.to_be_bytes());
        out.extend_from_slice(&self.header.flags().to_be_bytes());
        out.extend_from_slice(&count(self.questions.len(), "questions")?.to_be_bytes());
        out.extend_from_slice(&count(self.answers.len(), "answers")?.to_be_bytes());
        out.extend_from_slice(&count(self.authorities.len(), "authorities")?.to_be_bytes());
        out.extend_from_slice(&count(self.additionals.len(), "additionals")?.to_be_bytes());
        let mut names = NameEncoder::new();
        for question in &self.questions {
            names.write(&mut out, &question.name);
            out.extend_from_slice(&question.qtype.0.to_be_bytes());
            out.extend_from_slice(&question.qclass.0.to_be_bytes());
        }
        for record in self
            .answers
            .iter()
            .chain(&self.authorities)
            .chain(&self.additionals)
        {
            record.encode(&mut out, &mut names)?;
        }
        Ok(out)
    }
    // ANCHOR_END: message_encode
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::dns::wire::{RData, Rcode};

    fn name(text: &str) -> Name {
        text.parse().expect("a valid name")
    }

    #[test]
    fn a_query_is_header_and_question() {
        let query = Message::query(0x1234, name("www.lab.test"), RecordType::A);
        let bytes = query.encode().expect("encodes");
        assert_eq!(
            bytes,
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
              \x03www\x03lab\x04test\x00\x00\x01\x00\x01"
        );
        assert_eq!(Message::decode(&bytes), Ok(query));
    }

    #[test]
    fn an_answer_repeats_the_name_as_a_pointer() {
        let mut response = Message::query(1, name("www.lab.test"), RecordType::A);
        response.header.response = true;
        response.answers.push(Record {
            name: name("www.lab.test"),
            class: Class::IN,
            ttl: 60,
            data: RData::A(Ipv4Addr::new(198, 18, 0, 1)),
        });
        let bytes = response.encode().expect("encodes");
        // Header 12 + question 18 = 30: the answer starts with c0 0c.
        assert_eq!(&bytes[30..32], b"\xc0\x0c");
        assert_eq!(bytes.len(), 30 + 2 + 10 + 4);
        assert_eq!(Message::decode(&bytes), Ok(response));
    }

    #[test]
    fn counts_beyond_the_bytes_and_trailing_bytes_are_errors() {
        let mut bytes = Message::query(1, name("a"), RecordType::A)
            .encode()
            .expect("encodes");
        bytes[7] = 200; // ANCOUNT: 200 answers that are not there
        assert!(matches!(
            Message::decode(&bytes),
            Err(Error::Truncated { .. })
        ));
        bytes[7] = 0;
        bytes.push(0);
        assert_eq!(Message::decode(&bytes), Err(Error::TrailingBytes(1)));
        assert_eq!(Rcode(3).to_string(), "NXDOMAIN");
    }
}
