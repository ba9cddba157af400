//! `dig` — ask a DNS server one question, with our resolver over our own
//! UDP (and TCP, when the answer is truncated), and print the answer as
//! dig does.
//!
//! ```text
//! cargo run -p l7-app --example dig                        # www.lab.test A at alpha (198.18.0.1)
//! cargo run -p l7-app --example dig -- lab.test MX
//! cargo run -p l7-app --example dig -- big.lab.test TXT    # truncated over UDP: retried over TCP
//! cargo run -p l7-app --example dig -- @198.18.0.1 -p 5353 x.lab.test   # another server
//! cargo run -p l7-app --example dig -- --kernel www.lab.test            # the kernel's UDP, to compare
//! dig @198.18.0.1 www.lab.test                             # the real dig, on raw's kernel
//! ```

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::StackConfig;
use l4_transport::socket::exercise::StackPlace;
use l7_app::dns::resolver::{Kernel, OurStack, Resolver, Response, Transport};
use l7_app::dns::wire::{Message, Name, Record, RecordType};

/// Ask a DNS server for a name's records, over our own stack (as
/// 198.18.0.2 on raw's lab1) or, with --kernel, the kernel's; print the
/// answer like dig.
#[derive(Parser)]
#[command(name = "dig", version)]
struct Args {
    /// `@SERVER` (default @198.18.0.1, alpha), `NAME` (default
    /// www.lab.test) and `TYPE` (A, AAAA, CNAME, MX, NS, PTR, SOA, TXT,
    /// TYPEn; default A), in any order, as dig takes them.
    #[arg(value_name = "[@SERVER] [NAME] [TYPE]", num_args = 0..=3)]
    words: Vec<String>,
    /// The server's port.
    #[arg(short = 'p', long, default_value_t = 53)]
    port: u16,
    /// Use the kernel's UDP and TCP (std::net) instead of our stack.
    #[arg(long)]
    kernel: bool,
    /// Seconds to wait for each try.
    #[arg(long, default_value_t = 2.0)]
    timeout: f64,
    /// How many times to send the query.
    #[arg(long, default_value_t = 3)]
    tries: u32,
    /// Interface to run our stack on (default in the lab: lab1).
    #[arg(short = 'I', long)]
    interface: Option<String>,
    /// Our stack's address and prefix length (default: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our stack's MAC address (default: 02:00:00:00:00:12 in the lab).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
}

/// What the words on the command line ask.
struct Question {
    server: Option<Ipv4Addr>,
    name: Name,
    qtype: RecordType,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("dig"),
    }
}

/// Sorts dig's words: `@` starts the server, a type's mnemonic is the
/// type (as in dig, so a name `a` must be written `a.`), anything else the
/// name.
fn parse_words(words: &[String]) -> Result<Question, Failure> {
    let usage = |message: String| Failure::Usage(message);
    let mut question = Question {
        server: None,
        name: "www.lab.test".parse().expect("a valid name"),
        qtype: RecordType::A,
    };
    for word in words {
        if let Some(server) = word.strip_prefix('@') {
            let server = server
                .parse()
                .map_err(|_| usage(format!("invalid server {server:?} (an IPv4 address)")))?;
            question.server = Some(server);
        } else if let Ok(qtype) = word.parse::<RecordType>() {
            question.qtype = qtype;
        } else {
            question.name = word
                .parse()
                .map_err(|error| usage(format!("invalid name {word:?}: {error}")))?;
        }
    }
    Ok(question)
}

fn run(args: &Args) -> Result<(), Failure> {
    let question = parse_words(&args.words)?;
    let server = SocketAddrV4::new(question.server.unwrap_or(lab::ALPHA_IP), args.port);
    if !args.timeout.is_finite() || args.timeout <= 0.0 {
        return Err(Failure::Usage(format!("invalid timeout {}", args.timeout)));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let response = if args.kernel {
        // The kernel routes by itself: only the server must be named
        // outside the lab.
        check_may_send(Whereabouts::detect(), true, question.server.is_some())?;
        ask(Kernel::new()?, server, timeout, args.tries, &question)?
    } else {
        let place = StackPlace {
            interface: args.interface.clone(),
            address: args.address,
            mac: args.mac,
            gateway: None,
        };
        let stack = place.open(question.server.is_some(), StackConfig::default())?;
        ask(
            OurStack::new(&stack)?,
            server,
            timeout,
            args.tries,
            &question,
        )?
    };
    print!("{}", render(&response, server, &question, args.kernel));
    Ok(())
}

/// Asks `question` through `transport`.
fn ask(
    transport: impl Transport,
    server: SocketAddrV4,
    timeout: Duration,
    tries: u32,
    question: &Question,
) -> Result<Response, Failure> {
    let mut resolver = Resolver::new(transport, server);
    resolver.timeout = timeout;
    resolver.attempts = tries;
    resolver
        .query(&question.name, question.qtype)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::TimedOut => {
                Failure::NoAnswer(format!("communications error to {server}: timed out"))
            }
            _ => Failure::from_io(error),
        })
}

// ANCHOR: dig_render
/// The answer as dig prints it: the header, the sections, and the
/// statistics.
fn render(response: &Response, server: SocketAddrV4, question: &Question, kernel: bool) -> String {
    let message: &Message = &response.message;
    let header = &message.header;
    let stack = if kernel { "kernel" } else { "rawstack" };
    let mut out = format!(
        "\n; <<>> rawstack dig ({stack} UDP/TCP) <<>> @{} {} {}\n",
        server.ip(),
        question.name,
        question.qtype
    );
    if response.over_tcp {
        out.push_str(";; Truncated, retrying in TCP mode.\n");
    }
    for why in &response.ignored {
        out.push_str(&format!(";; ignored a datagram: {why:?}\n"));
    }
    out.push_str(";; Got answer:\n");
    out.push_str(&format!(
        ";; ->>HEADER<<- opcode: {}, status: {}, id: {}\n",
        header.opcode, header.rcode, header.id
    ));
    out.push_str(&format!(
        ";; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}\n",
        header.flag_names(),
        message.questions.len(),
        message.answers.len(),
        message.authorities.len(),
        message.additionals.len()
    ));
    out.push_str("\n;; QUESTION SECTION:\n");
    for question in &message.questions {
        out.push_str(&format!("{question}\n"));
    }
    let sections: [(&str, &[Record]); 3] = [
        ("ANSWER", &message.answers),
        ("AUTHORITY", &message.authorities),
        ("ADDITIONAL", &message.additionals),
    ];
    for (title, records) in sections {
        if !records.is_empty() {
            out.push_str(&format!("\n;; {title} SECTION:\n"));
            for record in records {
                out.push_str(&format!("{record}\n"));
            }
        }
    }
    let transport = if response.over_tcp { "TCP" } else { "UDP" };
    out.push_str(&format!(
        "\n;; Query time: {} msec\n;; SERVER: {}#{}({}) ({transport})\n;; MSG SIZE  rcvd: {}\n\n",
        response.elapsed.as_millis(),
        server.ip(),
        server.port(),
        server.ip(),
        response.size
    ));
    out
}
// ANCHOR_END: dig_render
