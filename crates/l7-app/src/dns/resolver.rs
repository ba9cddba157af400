//! A stub resolver: it asks one server, over UDP, and believes only an
//! answer to what it asked (RFC 1035 §7, RFC 5452).
//!
//! Over UDP anyone can send a datagram that *claims* to come from the
//! server. What the resolver has that an off-path attacker does not is
//! the query: its random ID, its question, the server it went to, and the
//! port it came from. So a response is accepted only when it comes from
//! the server's address and port, is a response (QR), carries the same ID,
//! and repeats the same question — [`check_response`], sans-IO, tested on
//! its own. Anything else is ignored and the resolver keeps waiting: a
//! forged answer cannot even cut the real one short.
//!
//! When the answer does not fit in a datagram (512 bytes without EDNS),
//! the server sets TC and sends what fits; the resolver then asks again
//! over TCP, where every message is preceded by its length in two bytes
//! (RFC 1035 §4.2.2, RFC 7766).
//!
//! The sockets are behind [`Transport`]: [`OurStack`] (our UDP and TCP
//! on our IPv4 and Ethernet), [`Kernel`] (std::net, for comparison), or a
//! test's fake.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use l4_transport::socket::{Stack, TcpStream, UdpSocket};

use super::wire::{Message, Name, RecordType};

/// The largest DNS message a UDP datagram carries without EDNS (RFC 1035
/// §4.2.1); a longer answer comes truncated, with TC set.
pub const UDP_MESSAGE_LIMIT: usize = 512;

/// What a resolver needs from the network: datagrams to and from the
/// server, and one exchange over TCP.
pub trait Transport {
    /// Sends `query` to `server` in one datagram.
    fn send(&mut self, query: &[u8], server: SocketAddrV4) -> io::Result<()>;
    /// Waits at most `timeout` for a datagram; `None` if none came.
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddrV4)>>;
    /// Connects to `server` over TCP, sends `query` with its length
    /// prefix, and reads one length-prefixed message back.
    fn exchange_tcp(
        &mut self,
        query: &[u8],
        server: SocketAddrV4,
        timeout: Duration,
    ) -> io::Result<Vec<u8>>;
}

/// Why a datagram was not taken as the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// It came from another address or port than the server's.
    WrongSource,
    /// It is not a DNS message we can decode.
    Undecodable,
    /// It is a query, not a response.
    NotAResponse,
    /// Its ID is not our query's.
    WrongId,
    /// Its question is not ours.
    WrongQuestion,
}

// ANCHOR: check_response
/// Decides whether `datagram`, received from `from`, is the answer to
/// `query` sent to `server`: the same address and port, QR set, the same
/// ID, the same question (names compared without case).
pub fn check_response(
    query: &Message,
    server: SocketAddrV4,
    from: SocketAddrV4,
    datagram: &[u8],
) -> Result<Message, Ignored> {
    if from != server {
        return Err(Ignored::WrongSource);
    }
    let response = Message::decode(datagram).map_err(|_| Ignored::Undecodable)?;
    if !response.header.response {
        return Err(Ignored::NotAResponse);
    }
    if response.header.id != query.header.id {
        return Err(Ignored::WrongId);
    }
    let same_question = response.questions.len() == query.questions.len()
        && response
            .questions
            .iter()
            .zip(&query.questions)
            .all(|(theirs, ours)| theirs.matches(ours));
    if !same_question {
        return Err(Ignored::WrongQuestion);
    }
    Ok(response)
}
// ANCHOR_END: check_response

/// A response and how it was obtained.
#[derive(Debug, Clone)]
pub struct Response {
    /// The answer.
    pub message: Message,
    /// Its size in bytes (the TCP one's, after a fallback).
    pub size: usize,
    /// From sending the first query to the answer.
    pub elapsed: Duration,
    /// True if the UDP answer was truncated and this one came over TCP.
    pub over_tcp: bool,
    /// Datagrams received and ignored, with why.
    pub ignored: Vec<Ignored>,
}

/// A stub resolver for one server.
#[derive(Debug)]
pub struct Resolver<T> {
    transport: T,
    server: SocketAddrV4,
    /// How long each attempt waits.
    pub timeout: Duration,
    /// How many times the query is sent before giving up (at least 1).
    pub attempts: u32,
}

impl<T: Transport> Resolver<T> {
    /// A resolver asking `server` through `transport`: 2 s per attempt, 3
    /// attempts (a stub's usual choice; glibc's is 5 s and 2).
    pub fn new(transport: T, server: SocketAddrV4) -> Resolver<T> {
        Resolver {
            transport,
            server,
            timeout: Duration::from_secs(2),
            attempts: 3,
        }
    }

    /// The server asked.
    pub fn server(&self) -> SocketAddrV4 {
        self.server
    }

    /// Asks for `name`'s `qtype` records with a random ID.
    pub fn query(&mut self, name: &Name, qtype: RecordType) -> io::Result<Response> {
        self.query_with_id(random_id()?, name, qtype)
    }

    // ANCHOR: resolver_query
    /// Asks for `name`'s `qtype` records with ID `id`: sends the query,
    /// waits `timeout` for the answer, ignoring anything that is not it,
    /// sends again (the same query: a late answer to the first copy is as
    /// good) up to `attempts` times, and asks again over TCP if the answer
    /// was truncated.
    pub fn query_with_id(
        &mut self,
        id: u16,
        name: &Name,
        qtype: RecordType,
    ) -> io::Result<Response> {
        let query = Message::query(id, name.clone(), qtype);
        let bytes = query.encode()?;
        let started = Instant::now();
        let mut ignored = Vec::new();
        let mut buf = vec![0; 65535];
        for _ in 0..self.attempts.max(1) {
            self.transport.send(&bytes, self.server)?;
            let deadline = Instant::now() + self.timeout;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                let Some((len, from)) = self.transport.recv(&mut buf, left)? else {
                    break; // this attempt timed out
                };
                let datagram = buf.get(..len).unwrap_or_default();
                match check_response(&query, self.server, from, datagram) {
                    Ok(message) if message.header.truncated => {
                        return self.retry_over_tcp(&query, &bytes, started, ignored);
                    }
                    Ok(message) => {
                        return Ok(Response {
                            message,
                            size: len,
                            elapsed: started.elapsed(),
                            over_tcp: false,
                            ignored,
                        });
                    }
                    Err(why) => ignored.push(why),
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no answer from {} after {} tries",
                self.server,
                self.attempts.max(1)
            ),
        ))
    }
    // ANCHOR_END: resolver_query

    /// The TCP half: the same query over a connection, checked the same way.
    fn retry_over_tcp(
        &mut self,
        query: &Message,
        bytes: &[u8],
        started: Instant,
        ignored: Vec<Ignored>,
    ) -> io::Result<Response> {
        let answer = self
            .transport
            .exchange_tcp(bytes, self.server, self.timeout)?;
        // The connection itself proves the source; the rest still counts.
        let message = check_response(query, self.server, self.server, &answer).map_err(|why| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the answer over TCP is not ours: {why:?}"),
            )
        })?;
        Ok(Response {
            message,
            size: answer.len(),
            elapsed: started.elapsed(),
            over_tcp: true,
            ignored,
        })
    }
}

/// A random 16-bit query ID from the kernel's generator (RFC 5452 §9.2:
/// an ID an attacker cannot guess is the first defence).
pub fn random_id() -> io::Result<u16> {
    let mut bytes = [0; 2];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(u16::from_ne_bytes(bytes))
}

// ANCHOR: tcp_exchange
/// One query and its answer over a byte stream, each message preceded by
/// its length as two bytes (RFC 1035 §4.2.2).
pub fn exchange_framed(stream: &mut (impl Read + Write), query: &[u8]) -> io::Result<Vec<u8>> {
    let len = u16::try_from(query.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query over 65535 bytes"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed)?;
    let mut prefix = [0; 2];
    stream.read_exact(&mut prefix)?;
    let mut answer = vec![0; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut answer)?;
    Ok(answer)
}
// ANCHOR_END: tcp_exchange

/// Our own UDP and TCP: the resolver's datagrams go through our stack.
#[derive(Debug)]
pub struct OurStack {
    stack: Stack,
    socket: UdpSocket,
}

impl OurStack {
    /// Binds an ephemeral UDP port on `stack`.
    pub fn new(stack: &Stack) -> io::Result<OurStack> {
        Ok(OurStack {
            stack: stack.clone(),
            socket: UdpSocket::bind(stack, 0)?,
        })
    }

    /// Our UDP socket's address.
    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        self.socket.local_addr()
    }
}

impl Transport for OurStack {
    fn send(&mut self, query: &[u8], server: SocketAddrV4) -> io::Result<()> {
        self.socket.send_to(query, server).map(drop)
    }

    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddrV4)>> {
        // A zero timeout would mean "forever" to some APIs: wait a little.
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_micros(1))))?;
        match self.socket.recv_from(buf) {
            Ok(got) => Ok(Some(got)),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn exchange_tcp(
        &mut self,
        query: &[u8],
        server: SocketAddrV4,
        timeout: Duration,
    ) -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect_timeout(&self.stack, server, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        exchange_framed(&mut stream, query)
    }
}

/// The kernel's UDP and TCP (std::net), to compare with ours.
#[derive(Debug)]
pub struct Kernel {
    socket: std::net::UdpSocket,
}

impl Kernel {
    /// Binds an ephemeral UDP port on every address.
    pub fn new() -> io::Result<Kernel> {
        Ok(Kernel {
            socket: std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?,
        })
    }
}

impl Transport for Kernel {
    fn send(&mut self, query: &[u8], server: SocketAddrV4) -> io::Result<()> {
        self.socket.send_to(query, server).map(drop)
    }

    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddrV4)>> {
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_micros(1))))?;
        match self.socket.recv_from(buf) {
            Ok((len, std::net::SocketAddr::V4(from))) => Ok(Some((len, from))),
            // An IPv6 sender cannot be our IPv4 server: report it as a
            // stranger (0.0.0.0:0), which the checks ignore.
            Ok((len, _)) => Ok(Some((len, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)))),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    fn exchange_tcp(
        &mut self,
        query: &[u8],
        server: SocketAddrV4,
        timeout: Duration,
    ) -> io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect_timeout(&server.into(), timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        exchange_framed(&mut stream, query)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::dns::wire::{Class, RData, Record};

    const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 53);

    /// What the fake network delivers next, made from the query sent.
    type Script = Box<dyn Fn(&Message) -> Option<(Vec<u8>, SocketAddrV4)>>;

    /// A network that records what is sent and delivers scripted datagrams.
    #[derive(Default)]
    struct Fake {
        sent: Vec<Vec<u8>>,
        script: VecDeque<Script>,
        tcp_answer: Option<Vec<u8>>,
        tcp_queries: Vec<Vec<u8>>,
    }

    impl Transport for Fake {
        fn send(&mut self, query: &[u8], _: SocketAddrV4) -> io::Result<()> {
            self.sent.push(query.to_vec());
            Ok(())
        }
        fn recv(
            &mut self,
            buf: &mut [u8],
            _: Duration,
        ) -> io::Result<Option<(usize, SocketAddrV4)>> {
            let query = Message::decode(self.sent.last().expect("sent first"))?;
            let Some((datagram, from)) = self.script.pop_front().and_then(|next| next(&query))
            else {
                return Ok(None);
            };
            buf[..datagram.len()].copy_from_slice(&datagram);
            Ok(Some((datagram.len(), from)))
        }
        fn exchange_tcp(
            &mut self,
            query: &[u8],
            _: SocketAddrV4,
            _: Duration,
        ) -> io::Result<Vec<u8>> {
            self.tcp_queries.push(query.to_vec());
            Ok(self.tcp_answer.clone().expect("a TCP answer scripted"))
        }
    }

    /// The answer a server would give to `query`: `addr` for its name.
    fn answer(query: &Message, addr: Ipv4Addr) -> Message {
        let mut response = query.clone();
        response.header.response = true;
        response.answers.push(Record {
            name: query.questions[0].name.clone(),
            class: Class::IN,
            ttl: 60,
            data: RData::A(addr),
        });
        response
    }

    fn bytes(message: &Message) -> Vec<u8> {
        message.encode().expect("encodes")
    }

    fn www() -> Name {
        "www.lab.test".parse().expect("valid")
    }

    const REAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const FORGED: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 66);

    #[test]
    fn forged_answers_are_ignored_and_the_real_one_accepted() {
        let mut fake = Fake::default();
        let other_port = SocketAddrV4::new(*SERVER.ip(), 5353);
        // From the wrong port, with everything else right.
        fake.script.push_back(Box::new(move |q| {
            Some((bytes(&answer(q, FORGED)), other_port))
        }));
        // The right source, a guessed ID.
        fake.script.push_back(Box::new(|q| {
            let mut forged = answer(q, FORGED);
            forged.header.id = q.header.id.wrapping_add(1);
            Some((bytes(&forged), SERVER))
        }));
        // The right ID, another question.
        fake.script.push_back(Box::new(|q| {
            let mut forged = answer(q, FORGED);
            forged.questions[0].name = "evil.lab.test".parse().expect("valid");
            Some((bytes(&forged), SERVER))
        }));
        // Our own query reflected back (QR clear), then garbage.
        fake.script
            .push_back(Box::new(|q| Some((bytes(q), SERVER))));
        fake.script
            .push_back(Box::new(|_| Some((vec![0xff; 5], SERVER))));
        // Then the server's answer, the name in other case (RFC 4343).
        fake.script.push_back(Box::new(|q| {
            let mut real = answer(q, REAL);
            real.questions[0].name = "WWW.LAB.TEST".parse().expect("valid");
            Some((bytes(&real), SERVER))
        }));
        let mut resolver = Resolver::new(fake, SERVER);
        let response = resolver.query(&www(), RecordType::A).expect("answered");
        assert_eq!(response.message.answers[0].data, RData::A(REAL));
        assert_eq!(
            response.ignored,
            [
                Ignored::WrongSource,
                Ignored::WrongId,
                Ignored::WrongQuestion,
                Ignored::NotAResponse,
                Ignored::Undecodable
            ]
        );
        assert_eq!(resolver.transport.sent.len(), 1, "no retry was needed");
    }

    #[test]
    fn a_lost_answer_is_asked_for_again_with_the_same_query() {
        let mut fake = Fake::default();
        fake.script.push_back(Box::new(|_| None)); // the first try: silence
        fake.script
            .push_back(Box::new(|q| Some((bytes(&answer(q, REAL)), SERVER))));
        let mut resolver = Resolver::new(fake, SERVER);
        let response = resolver
            .query_with_id(0xbeef, &www(), RecordType::A)
            .expect("answered");
        assert_eq!(response.message.header.id, 0xbeef);
        let sent = &resolver.transport.sent;
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert_eq!(sent[0][..2], [0xbe, 0xef]);
    }

    #[test]
    fn silence_every_time_is_a_timeout() {
        let mut resolver = Resolver::new(Fake::default(), SERVER);
        resolver.attempts = 3;
        let error = resolver
            .query(&www(), RecordType::A)
            .expect_err("no answer");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(resolver.transport.sent.len(), 3);
    }

    #[test]
    fn a_truncated_answer_is_asked_again_over_tcp() {
        let query = Message::query(0x0102, www(), RecordType::A);
        let mut fake = Fake::default();
        fake.script.push_back(Box::new(|q| {
            let mut cut = q.clone();
            cut.header.response = true;
            cut.header.truncated = true;
            Some((bytes(&cut), SERVER))
        }));
        fake.tcp_answer = Some(bytes(&answer(&query, REAL)));
        let mut resolver = Resolver::new(fake, SERVER);
        let response = resolver
            .query_with_id(0x0102, &www(), RecordType::A)
            .expect("answered");
        assert!(response.over_tcp);
        assert_eq!(response.message.answers[0].data, RData::A(REAL));
        assert_eq!(resolver.transport.tcp_queries, [bytes(&query)]);
    }

    /// A byte stream whose reads come from `input` and whose writes go to
    /// `output`.
    struct Pipe {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }
    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }
    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn tcp_messages_carry_a_two_byte_length() {
        let mut pipe = Pipe {
            input: io::Cursor::new(b"\x00\x03abcjunk".to_vec()),
            output: Vec::new(),
        };
        let answer = exchange_framed(&mut pipe, b"hello").expect("exchanged");
        assert_eq!(pipe.output, b"\x00\x05hello");
        assert_eq!(answer, b"abc");
        let mut short = Pipe {
            input: io::Cursor::new(b"\x00\x09abc".to_vec()),
            output: Vec::new(),
        };
        let error = exchange_framed(&mut short, b"q").expect_err("cut short");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
