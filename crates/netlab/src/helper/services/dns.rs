//! A small authoritative DNS server for the zone `lab.test` (RFC 1035),
//! UDP and TCP on port 53.
//!
//! It is the lab's *independent* peer for rawstack's DNS: it shares no code
//! with l7-app's encoder and decoder, and does only what an authoritative
//! server for one small zone must, as plainly as possible. It reads one
//! uncompressed question, copies it into the answer, and writes every
//! record's owner as a pointer to that question (`c0 0c`) when it is the
//! name asked, or in full otherwise; names inside record data are always
//! written in full. It ignores EDNS (an OPT record in the query) and so
//! never answers more than 512 bytes over UDP: a longer answer goes out
//! with TC set and no records, and the client asks again over TCP
//! (`big.lab.test`'s TXT record is there to make that happen).
//!
//! ```text
//! lab.test.        SOA   alpha.lab.test. hostmaster.lab.test. 2026112701 3600 600 86400 60
//! lab.test.        NS    alpha.lab.test.
//! lab.test.        MX    10 alpha.lab.test.
//! lab.test.        TXT   "rawstack teaching lab"
//! www.lab.test.    CNAME alpha.lab.test.
//! alpha.lab.test.  A     198.18.0.1
//! alpha.lab.test.  AAAA  2001:db8::1
//! beta.lab.test.   A     198.18.1.1
//! raw.lab.test.    A     198.18.0.2
//! big.lab.test.    TXT   8 strings of 200 bytes (1.6 kB: too big for UDP)
//! ```
//!
//! Names under `lab.test` not listed get NXDOMAIN, listed names asked for a
//! type they lack get an empty NOERROR, both with the SOA in the authority
//! section (RFC 2308); names outside the zone get REFUSED.

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// The largest answer over UDP when the client did not offer more with
/// EDNS (RFC 1035 §4.2.1); we never read EDNS.
const UDP_LIMIT: usize = 512;

/// Every record's TTL, in seconds.
const TTL: u32 = 60;

/// After an error that may repeat at once, wait before trying again.
const BACKOFF: Duration = Duration::from_millis(100);

/// How long a TCP client may stay quiet before we hang up.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Record types (RFC 1035 §3.2.2, RFC 3596).
const A: u16 = 1;
const NS: u16 = 2;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const MX: u16 = 15;
const TXT: u16 = 16;
const AAAA: u16 = 28;
/// QTYPE `*`: every record of the name.
const ANY: u16 = 255;

/// Response codes.
const NOERROR: u16 = 0;
const FORMERR: u16 = 1;
const NXDOMAIN: u16 = 3;
const NOTIMP: u16 = 4;
const REFUSED: u16 = 5;

/// What a record says.
enum Data {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Cname(&'static str),
    Ns(&'static str),
    Mx(u16, &'static str),
    Txt(Vec<String>),
    Soa,
}

impl Data {
    fn rtype(&self) -> u16 {
        match self {
            Data::A(_) => A,
            Data::Aaaa(_) => AAAA,
            Data::Cname(_) => CNAME,
            Data::Ns(_) => NS,
            Data::Mx(..) => MX,
            Data::Txt(_) => TXT,
            Data::Soa => SOA,
        }
    }
}

/// A record: its owner (lower case, no final dot) and its data.
type Record = (&'static str, Data);

/// The zone: every record.
fn zone() -> Vec<Record> {
    vec![
        ("lab.test", Data::Soa),
        ("lab.test", Data::Ns("alpha.lab.test")),
        ("lab.test", Data::Mx(10, "alpha.lab.test")),
        ("lab.test", Data::Txt(vec!["rawstack teaching lab".into()])),
        ("www.lab.test", Data::Cname("alpha.lab.test")),
        ("alpha.lab.test", Data::A([198, 18, 0, 1])),
        (
            "alpha.lab.test",
            Data::Aaaa([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ),
        ("beta.lab.test", Data::A([198, 18, 1, 1])),
        ("raw.lab.test", Data::A([198, 18, 0, 2])),
        (
            "big.lab.test",
            Data::Txt((0..8).map(|i| format!("{i}").repeat(200)).collect()),
        ),
    ]
}

/// The zone's apex.
const ZONE: &str = "lab.test";

/// Binds UDP and TCP on `address` and serves both from their own threads.
pub fn start(address: SocketAddrV4) -> io::Result<()> {
    let socket = UdpSocket::bind(address)?;
    let listener = TcpListener::bind(address)?;
    thread::spawn(move || serve_udp(&socket));
    thread::spawn(move || serve_tcp(&listener));
    Ok(())
}

fn serve_udp(socket: &UdpSocket) {
    let mut buffer = [0; 65535];
    loop {
        match socket.recv_from(&mut buffer) {
            Ok((length, sender)) => {
                if let Some(response) = respond(&buffer[..length], Some(UDP_LIMIT))
                    && let Err(error) = socket.send_to(&response, sender)
                {
                    eprintln!("dns (udp): to {sender}: {error}");
                }
            }
            Err(error) => {
                eprintln!("dns (udp): {error}");
                thread::sleep(BACKOFF);
            }
        }
    }
}

fn serve_tcp(listener: &TcpListener) {
    for connection in listener.incoming() {
        match connection {
            // A connection's errors end that connection, quietly.
            Ok(stream) => drop(thread::spawn(move || serve_connection(stream))),
            Err(error) => {
                eprintln!("dns (tcp): accept: {error}");
                thread::sleep(BACKOFF);
            }
        }
    }
}

/// Answers length-prefixed queries (RFC 1035 §4.2.2) until the client
/// closes or goes quiet.
fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(TCP_IDLE))?;
    loop {
        let mut prefix = [0; 2];
        stream.read_exact(&mut prefix)?;
        let mut query = vec![0; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut query)?;
        let Some(response) = respond(&query, None) else {
            return Ok(());
        };
        let length = u16::try_from(response.len()).map_err(io::Error::other)?;
        let mut framed = length.to_be_bytes().to_vec();
        framed.extend_from_slice(&response);
        stream.write_all(&framed)?;
    }
}

/// A question as it was on the wire, and what it asks.
struct Question<'a> {
    /// Its bytes, name to class, copied into the response.
    wire: &'a [u8],
    /// The name, lower case, without the final dot.
    name: String,
    qtype: u16,
}

/// Reads the one question after the header: labels (no pointers: a query
/// has nothing to point to), type and class.
fn parse_question(query: &[u8]) -> Option<Question<'_>> {
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let length = usize::from(*query.get(at)?);
        at += 1;
        if length == 0 {
            break;
        }
        if length > 63 {
            return None; // a pointer or a reserved label type
        }
        let label = query.get(at..at + length)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += length;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    query.get(at + 2..at + 4)?; // the class, which we do not check
    Some(Question {
        wire: &query[12..at + 4],
        name: labels.join("."),
        qtype,
    })
}

/// The response to `query`, cut to header and question with TC set if it
/// is longer than `limit`; `None` for something that is not a query.
fn respond(query: &[u8], limit: Option<usize>) -> Option<Vec<u8>> {
    let id = query.get(0..2)?;
    let flags = u16::from_be_bytes([*query.get(2)?, *query.get(3)?]);
    if flags & 0x8000 != 0 {
        return None; // a response: never answer those (no loops)
    }
    let opcode = flags >> 11 & 0xf;
    let recursion_desired = flags & 0x0100;
    let question = match query.get(4..6) {
        Some([0, 1]) => parse_question(query),
        _ => None,
    };
    // QR, the query's opcode, AA, the query's RD.
    let base_flags = 0x8000 | opcode << 11 | 0x0400 | recursion_desired;
    let Some(question) = question.filter(|_| opcode == 0) else {
        let rcode = if opcode == 0 { FORMERR } else { NOTIMP };
        let mut response = id.to_vec();
        response.extend_from_slice(&(base_flags | rcode).to_be_bytes());
        response.extend_from_slice(&[0; 8]);
        return Some(response);
    };
    let (rcode, answers, authority) = lookup(&question);
    let mut response = header(id, base_flags | rcode, answers.len(), authority.len());
    response.extend_from_slice(question.wire);
    for (owner, data) in answers.iter().chain(&authority) {
        write_record(&mut response, owner, data, &question.name);
    }
    if limit.is_some_and(|limit| response.len() > limit) {
        response = header(id, base_flags | 0x0200 | rcode, 0, 0);
        response.extend_from_slice(question.wire);
    }
    Some(response)
}

/// A header with one question and the given counts.
fn header(id: &[u8], flags: u16, answers: usize, authority: usize) -> Vec<u8> {
    let mut out = id.to_vec();
    for word in [flags, 1, answers as u16, authority as u16, 0] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

/// The response code, answers and authority records for `question`.
fn lookup(question: &Question<'_>) -> (u16, Vec<Record>, Vec<Record>) {
    let name = question.name.as_str();
    if name != ZONE && !name.ends_with(".lab.test") {
        return (REFUSED, Vec::new(), Vec::new());
    }
    let soa = || {
        zone()
            .into_iter()
            .filter(|(_, data)| data.rtype() == SOA)
            .collect()
    };
    let records: Vec<_> = zone()
        .into_iter()
        .filter(|(owner, _)| *owner == name)
        .collect();
    if records.is_empty() {
        return (NXDOMAIN, Vec::new(), soa());
    }
    let wanted = |data: &Data| question.qtype == ANY || data.rtype() == question.qtype;
    let mut answers = Vec::new();
    for (owner, data) in records {
        // An alias answers every type with itself and its target's
        // records (RFC 1034 §4.3.2), in the zone only.
        if let Data::Cname(target) = data
            && question.qtype != CNAME
        {
            answers.push((owner, data));
            answers.extend(
                zone()
                    .into_iter()
                    .filter(|(other, data)| *other == target && wanted(data)),
            );
        } else if wanted(&data) {
            answers.push((owner, data));
        }
    }
    let authority = if answers.is_empty() {
        soa()
    } else {
        Vec::new()
    };
    (NOERROR, answers, authority)
}

/// Appends one record: the owner (a pointer to the question's name when
/// it is that name), type, class IN, TTL, and the data with its length.
fn write_record(out: &mut Vec<u8>, owner: &str, data: &Data, asked: &str) {
    if owner == asked {
        out.extend_from_slice(&[0xc0, 12]);
    } else {
        write_name(out, owner);
    }
    out.extend_from_slice(&data.rtype().to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // class IN
    out.extend_from_slice(&TTL.to_be_bytes());
    let mut rdata = Vec::new();
    match data {
        Data::A(addr) => rdata.extend_from_slice(addr),
        Data::Aaaa(addr) => rdata.extend_from_slice(addr),
        Data::Cname(name) | Data::Ns(name) => write_name(&mut rdata, name),
        Data::Mx(preference, name) => {
            rdata.extend_from_slice(&preference.to_be_bytes());
            write_name(&mut rdata, name);
        }
        Data::Txt(strings) => {
            for string in strings {
                rdata.push(string.len() as u8); // all ours are under 256
                rdata.extend_from_slice(string.as_bytes());
            }
        }
        Data::Soa => {
            write_name(&mut rdata, "alpha.lab.test");
            write_name(&mut rdata, "hostmaster.lab.test");
            for number in [2026112701u32, 3600, 600, 86400, 60] {
                rdata.extend_from_slice(&number.to_be_bytes());
            }
        }
    }
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&rdata);
}

/// Appends `name` in full: each label with its length, then a zero.
fn write_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` (labels joined by dots) and `qtype`, ID 0x1234.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut out = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        write_name(&mut out, name);
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out
    }

    #[test]
    fn an_address_answer_points_back_at_the_question() {
        let response = respond(&query("raw.lab.test", A), Some(UDP_LIMIT)).expect("answered");
        // ID, flags QR AA RD, 1 question, 1 answer.
        assert_eq!(
            &response[..12],
            b"\x12\x34\x85\x00\x00\x01\x00\x01\x00\x00\x00\x00"
        );
        let question_end = 12 + 14 + 4;
        assert_eq!(
            &response[question_end..],
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x02"
        );
    }

    #[test]
    fn unknown_names_and_other_zones() {
        let nx = respond(&query("nope.LAB.test", A), None).expect("answered");
        assert_eq!(nx[3] & 0x0f, 3, "NXDOMAIN");
        assert_eq!(&nx[8..10], b"\x00\x01", "the SOA as authority");
        let refused = respond(&query("example.com", A), None).expect("answered");
        assert_eq!(refused[3] & 0x0f, 5, "REFUSED");
        let mut response = query("raw.lab.test", A);
        response[2] |= 0x80;
        assert_eq!(respond(&response, None), None, "responses are not answered");
    }

    #[test]
    fn a_big_answer_is_truncated_over_udp_only() {
        let big = query("big.lab.test", TXT);
        let cut = respond(&big, Some(UDP_LIMIT)).expect("answered");
        assert_eq!(cut[2] & 0x02, 0x02, "TC");
        assert_eq!(cut.len(), big.len());
        let whole = respond(&big, None).expect("answered");
        assert_eq!(whole[2] & 0x02, 0);
        assert!(whole.len() > 1600);
    }
}
