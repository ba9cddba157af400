//! `http-get` — fetch URLs like `curl -v`, over our own HTTP/1.1, TCP,
//! IPv4 and Ethernet: the request and response heads on stderr (`>` out,
//! `<` in), the body on stdout or in a file. Several URLs for the same
//! server share one kept-alive connection.
//!
//! ```text
//! cargo run -p l7-app --example http-get                           # on raw: http://www.lab.test/
//! cargo run -p l7-app --example http-get -- http://www.lab.test/big.bin -o big.bin
//! cargo run -p l7-app --example http-get -- http://www.lab.test/ http://www.lab.test/about.html --trace
//! ```
//!
//! Host names: an IPv4 literal is used as is; a name is resolved with our
//! DNS resolver over our UDP (an A query to alpha's DNS server,
//! 198.18.0.1:53, unless `--dns` names another), following CNAMEs. With
//! `--no-dns` the lab's hosts table
//! ([`l7_app::http::url::lab_hosts`]) answers instead.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use l2_link::exercise::{Failure, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{Stack, StackConfig, TcpStream, TraceStyle};
use l7_app::dns::resolver::{OurStack, Resolver};
use l7_app::dns::wire::{Name, RecordType};
use l7_app::http::url::{HttpUrl, address_in_answer, lab_hosts};
use l7_app::http::{Client, RequestHead, ResponseHead};

/// The page fetched when no URL is given.
const DEFAULT_URL: &str = "http://www.lab.test/";

/// The most redirects followed with --location (curl's default is 50).
const MAX_REDIRECTS: usize = 5;

/// Fetch http:// URLs over our own TCP/IP stack, showing the exchange like
/// `curl -v`.
#[derive(Parser)]
#[command(name = "http-get", version)]
struct Args {
    /// The URLs to fetch, in order (default: http://www.lab.test/). Those
    /// for the same server share one connection while it stays open.
    urls: Vec<String>,
    /// Write the body to FILE instead of stdout; give it once per URL
    /// (the first -o for the first URL, and so on).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    outputs: Vec<PathBuf>,
    /// Send HEAD instead of GET: the heads only.
    #[arg(short = 'I', long)]
    head: bool,
    /// Follow redirects (3xx with a Location), at most 5 (off by default).
    #[arg(short = 'L', long)]
    location: bool,
    /// Do not show the heads, only the body.
    #[arg(short = 's', long)]
    silent: bool,
    /// Print every TCP segment in and out on stderr.
    #[arg(short = 't', long)]
    trace: bool,
    /// The DNS server that resolves host names (default: alpha,
    /// 198.18.0.1:53).
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_server)]
    dns: Option<SocketAddrV4>,
    /// Do not ask DNS: look names up in the lab's hosts table.
    #[arg(long, conflicts_with = "dns")]
    no_dns: bool,
    /// Interface to run our stack on (default in the lab: lab1).
    #[arg(long)]
    interface: Option<String>,
    /// Our stack's address and prefix length (default: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our stack's MAC address (default: 02:00:00:00:00:12 in the lab,
    /// else the interface's own).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
    /// A gateway for servers off our network.
    #[arg(short = 'g', long)]
    gateway: Option<Ipv4Addr>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("http-get"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let urls: Vec<HttpUrl> = if args.urls.is_empty() {
        vec![HttpUrl::parse(DEFAULT_URL).map_err(Failure::Usage)?]
    } else {
        args.urls
            .iter()
            .map(|url| HttpUrl::parse(url))
            .collect::<Result<_, _>>()
            .map_err(Failure::Usage)?
    };
    if args.outputs.len() > urls.len() {
        return Err(Failure::Usage("more -o files than URLs".into()));
    }
    let place = StackPlace {
        interface: args.interface.clone(),
        address: args.address,
        mac: args.mac,
        gateway: args.gateway,
    };
    let mut config = StackConfig::default();
    if args.trace {
        config.trace = Some(TraceStyle::Relative);
    }
    // Outside the lab, only a URL given on the command line may be fetched.
    let stack = place.open(!args.urls.is_empty(), config)?;
    let mut session = Session {
        args,
        stack: &stack,
        client: None,
        addresses: HashMap::new(),
    };
    for (index, url) in urls.iter().enumerate() {
        let mut sink: Box<dyn Write> = match args.outputs.get(index) {
            Some(path) => Box::new(io::BufWriter::new(File::create(path)?)),
            None => Box::new(io::stdout().lock()),
        };
        let last = index + 1 == urls.len();
        session.fetch(url, last, &mut sink)?;
        sink.flush()?;
    }
    Ok(())
}

/// The connection kept between URLs: where it goes, and the client on it.
struct Session<'a> {
    args: &'a Args,
    stack: &'a Stack,
    client: Option<(SocketAddrV4, String, Client<TcpStream>)>,
    /// Names already resolved in this run.
    addresses: HashMap<String, Ipv4Addr>,
}

impl Session<'_> {
    /// Fetches `url` (following redirects if asked), reusing the open
    /// connection when it goes to the same server.
    fn fetch(&mut self, url: &HttpUrl, last: bool, sink: &mut dyn Write) -> Result<(), Failure> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let head = self.fetch_once(&url, last, sink)?;
            let redirect = matches!(head.status, 301 | 302 | 303 | 307 | 308);
            match head.headers.get("location") {
                Some(location) if redirect && self.args.location => {
                    url = url.join(location).map_err(Failure::Usage)?;
                    self.note(&format!(
                        "Following the redirect to {}{}",
                        url.host_field(),
                        url.target
                    ));
                }
                _ => return Ok(()),
            }
        }
        Err(Failure::Usage(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    // ANCHOR: fetch_once
    /// One request and its response, on the kept connection if it goes to
    /// the same server and is still open, else on a new one.
    fn fetch_once(
        &mut self,
        url: &HttpUrl,
        last: bool,
        sink: &mut dyn Write,
    ) -> Result<ResponseHead, Failure> {
        let address = self.resolve(&url.host)?;
        let server = SocketAddrV4::new(address, url.port);
        let host = url.host_field();
        let kept = self
            .client
            .take()
            .filter(|(s, h, client)| *s == server && *h == host && client.is_open());
        let mut client = match kept {
            Some((_, _, client)) => {
                self.note(&format!("Re-using existing connection with host {host}"));
                client
            }
            None => {
                let stream = TcpStream::connect(self.stack, server).map_err(|error| {
                    Failure::Io(io::Error::new(error.kind(), format!("{server}: {error}")))
                })?;
                self.note(&format!(
                    "Connected to {} ({address}) port {} from {}",
                    url.host,
                    url.port,
                    stream.local_addr()?
                ));
                Client::new(stream, &host)
            }
        };
        let method = if self.args.head { "HEAD" } else { "GET" };
        // The last request says so: the server closes, and so do we.
        let request: RequestHead = client.request_head(method, &url.target, last);
        let silent = self.args.silent;
        show(silent, '>', &String::from_utf8_lossy(&request.to_bytes()));
        let head = client.send(&request, sink)?;
        show(silent, '<', &String::from_utf8_lossy(&head.to_bytes()));
        if client.is_open() {
            self.client = Some((server, host, client));
        } else {
            // Dropping the client closes the connection (our FIN).
            self.note("Closing connection");
        }
        Ok(head)
    }
    // ANCHOR_END: fetch_once

    // ANCHOR: resolve
    /// The IPv4 address of `host`: a literal as is; a name from our DNS
    /// resolver over our own UDP (or the lab's hosts table with
    /// `--no-dns`), remembered for the rest of the run.
    fn resolve(&mut self, host: &str) -> Result<Ipv4Addr, Failure> {
        if let Ok(address) = host.parse() {
            return Ok(address);
        }
        if let Some(address) = self.addresses.get(host) {
            return Ok(*address);
        }
        let address = if self.args.no_dns {
            lab_hosts(host)
                .ok_or_else(|| Failure::Usage(format!("{host}: not in the lab's hosts table")))?
        } else {
            let server = self
                .args
                .dns
                .unwrap_or(SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 53));
            let name: Name = host
                .parse()
                .map_err(|error| Failure::Usage(format!("{host}: {error}")))?;
            let mut resolver = Resolver::new(OurStack::new(self.stack)?, server);
            let response = resolver.query(&name, RecordType::A)?;
            let address = address_in_answer(&response.message.answers, &name).ok_or_else(|| {
                Failure::NoAnswer(format!("{host}: no address (DNS server {server})"))
            })?;
            self.note(&format!(
                "Resolved {host} to {address} (DNS, {server}, {:.1} ms)",
                response.elapsed.as_secs_f64() * 1000.0
            ));
            address
        };
        self.addresses.insert(host.to_string(), address);
        Ok(address)
    }
    // ANCHOR_END: resolve

    fn note(&self, text: &str) {
        if !self.args.silent {
            eprintln!("* {text}");
        }
    }
}

/// Prints a head line by line with `mark` in front (curl -v's style),
/// the final empty line as a lone mark.
fn show(silent: bool, mark: char, head: &str) {
    if silent {
        return;
    }
    for line in head.split("\r\n").take_while(|line| !line.is_empty()) {
        eprintln!("{mark} {line}");
    }
    eprintln!("{mark}");
}

/// `ADDR` or `ADDR:PORT` (port 53 by default).
fn parse_server(text: &str) -> Result<SocketAddrV4, String> {
    match text.parse::<SocketAddrV4>() {
        Ok(server) => Ok(server),
        Err(_) => text
            .parse::<Ipv4Addr>()
            .map(|address| SocketAddrV4::new(address, 53))
            .map_err(|_| format!("{text}: an IPv4 address, with :port if not 53")),
    }
}
