//! `journey` — one web page fetched from a name, traced through every
//! layer: our DNS (over our UDP) resolves `www.lab.test`, our TCP
//! connects, our HTTP client sends `GET /`; then the request is shown
//! going down (each layer's header added, annotated hex), every frame of
//! the exchange on the wire (ARP, DNS, handshake, request, response, FIN),
//! and the response coming back up (each header removed). The whole
//! exchange is saved as a pcap for Wireshark.
//!
//! ```text
//! cargo run -p l7-app --example journey                    # on raw: www.lab.test, target/journey.pcap
//! cargo run -p l7-app --example journey -- -w /tmp/j.pcap
//! ```
//!
//! How the frames are recorded: a second packet socket of our own on the
//! same interface, opened before the stack sends anything. A packet
//! socket sees every frame the interface receives and every frame sent
//! on it — including our stack's own, which it reports as
//! `PACKET_OUTGOING` — so the capture is exactly what was on lab1's
//! cable, as tcpdump on raw would record it, and the stack itself is not
//! touched.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{Failure, Whereabouts, create_pcap, lab, parse_mac};
use l2_link::sys::PacketSocket;
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{StackConfig, TcpStream};
use l7_app::dns::resolver::{OurStack, Resolver};
use l7_app::dns::wire::{Name, RData, RecordType};
use l7_app::http::Client;
use l7_app::journey::{self, WireFrame};

/// How long the capture keeps listening after the exchange, for the last
/// ACK of the close to be recorded.
const LINGER: Duration = Duration::from_millis(300);

/// Fetch one page from a name and show it crossing every layer.
#[derive(Parser)]
#[command(name = "journey", version)]
struct Args {
    /// The name to resolve and fetch `/` from.
    #[arg(default_value = "www.lab.test")]
    host: String,
    /// The path to fetch.
    #[arg(long, default_value = "/")]
    path: String,
    /// The DNS server (default in the lab: alpha, 198.18.0.1).
    #[arg(long)]
    dns: Option<Ipv4Addr>,
    /// Write the whole exchange to this classic pcap file.
    #[arg(
        short = 'w',
        long,
        value_name = "FILE.pcap",
        default_value = "target/journey.pcap"
    )]
    write: PathBuf,
    /// Interface to run our stack on (default in the lab: lab1).
    #[arg(long)]
    interface: Option<String>,
    /// Our stack's address and prefix length (default: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our stack's MAC address (default: 02:00:00:00:00:12 in the lab).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("journey"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let place = StackPlace {
        interface: args.interface.clone(),
        address: args.address,
        mac: args.mac,
        gateway: None,
    };
    // Outside the lab, only with the interface and the DNS server named.
    let stack = place.open(args.dns.is_some(), StackConfig::default())?;
    let interface = args
        .interface
        .clone()
        .unwrap_or_else(|| Whereabouts::detect().default_interface().to_string());
    let recorder = Recorder::start(&interface)?;

    let outcome = exchange(args, &stack);
    // Whatever happened, the frames so far are worth saving and showing.
    let frames = recorder.stop();
    if let Some(parent) = args.write.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut pcap = create_pcap(&args.write)?;
    for frame in &frames {
        pcap.write_frame(frame.timestamp, &frame.frame, frame.frame.len())?;
    }
    pcap.flush()?;
    let page = outcome?;
    show(&frames, &page, args);
    Ok(())
}

/// What the exchange found out.
struct Page {
    address: Ipv4Addr,
    status_line: String,
    body: Vec<u8>,
}

// ANCHOR: exchange
/// The whole exchange: the name resolved by our DNS over our UDP, the
/// page fetched by our HTTP over our TCP, the connection closed.
fn exchange(args: &Args, stack: &l4_transport::socket::Stack) -> Result<Page, Failure> {
    let name: Name = args
        .host
        .parse()
        .map_err(|error| Failure::Usage(format!("{}: {error}", args.host)))?;
    let server = SocketAddrV4::new(args.dns.unwrap_or(lab::ALPHA_IP), 53);
    let mut resolver = Resolver::new(OurStack::new(stack)?, server);
    let answer = resolver
        .query(&name, RecordType::A)
        .map_err(Failure::from_io)?;
    // The A record at the end of any CNAME chain.
    let address = answer
        .message
        .answers
        .iter()
        .find_map(|record| match record.data {
            RData::A(address) => Some(address),
            _ => None,
        })
        .ok_or_else(|| Failure::NoAnswer(format!("{}: no A record", args.host)))?;

    let stream = TcpStream::connect(stack, SocketAddrV4::new(address, 80))?;
    let mut client = Client::new(stream, &args.host);
    // One request, and `Connection: close`: the server closes after it.
    let request = client.request_head("GET", &args.path, true);
    let mut body = Vec::new();
    let head = client.send(&request, &mut body)?;
    drop(client); // our FIN
    let status_line = String::from_utf8_lossy(&head.to_bytes())
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(Page {
        address,
        status_line,
        body,
    })
}
// ANCHOR_END: exchange

/// Prints the three views of the exchange and where the pcap is.
fn show(frames: &[WireFrame], page: &Page, args: &Args) {
    let printer = l7_app::printer();
    println!(
        "{} is {} (our DNS over our UDP); GET {} over our TCP: {}",
        args.host, page.address, args.path, page.status_line
    );
    let first_line = String::from_utf8_lossy(&page.body)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    println!("The page's first line: {first_line}");

    println!("\n=== Going down: the request, wrapped by each layer ===\n");
    match journey::find_http(&printer, frames, true, b"GET ") {
        Some(request) => print!("{}", journey::going_down(&printer, &request.frame)),
        None => println!("(the request's frame was not captured)"),
    }

    println!(
        "\n=== On the wire: every frame of the exchange ({}) ===\n",
        frames.len()
    );
    print!("{}", journey::wire_lines(&printer, frames));

    println!("\n=== Coming up: the response, unwrapped by each layer ===\n");
    match journey::find_http(&printer, frames, false, b"HTTP/") {
        Some(response) => print!("{}", journey::coming_up(&printer, &response.frame)),
        None => println!("(the response's frame was not captured)"),
    }

    println!(
        "\n{} frames written to {} — open it in Wireshark, or read it with\n  cargo run -p l7-app --example dissect -- -r {}",
        frames.len(),
        args.write.display(),
        args.write.display()
    );
}

/// A packet socket on the stack's interface, recording every frame in
/// and out on a thread of its own until stopped.
struct Recorder {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Vec<WireFrame>>,
}

impl Recorder {
    /// Opens the socket now (so nothing sent after this is missed) and
    /// starts recording.
    fn start(interface: &str) -> Result<Recorder, Failure> {
        let socket = PacketSocket::open(interface)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || record(&socket, &stopped));
        Ok(Recorder { stop, thread })
    }

    /// Waits [`LINGER`] for the last frames, stops, and returns them.
    fn stop(self) -> Vec<WireFrame> {
        thread::sleep(LINGER);
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Receives frames until `stop`, waking every 50 ms to look at it.
fn record(socket: &PacketSocket, stop: &AtomicBool) -> Vec<WireFrame> {
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 65535];
    while !stop.load(Ordering::Relaxed) {
        let deadline = Instant::now() + Duration::from_millis(50);
        match socket.recv(&mut buf, Some(deadline)) {
            Ok(Some(meta)) => frames.push(WireFrame {
                timestamp: meta.timestamp,
                outgoing: meta.packet_type == PacketType::Outgoing,
                frame: buf.get(..meta.len).unwrap_or_default().to_vec(),
            }),
            Ok(None) => {}
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                eprintln!("journey: capture stopped: {error}");
                break;
            }
        }
    }
    frames
}
