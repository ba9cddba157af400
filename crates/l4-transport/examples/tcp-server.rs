//! `tcp-server` — a TCP echo server (RFC 862) on our own stack: it listens
//! on 198.18.0.2 (port 7) and sends every client's bytes back to it,
//! several clients at once, a thread each.
//!
//! ```text
//! cargo run -p l4-transport --example tcp-server            # on raw: listen on 198.18.0.2:7
//! alpha nc 198.18.0.2 7                                     # in another lab shell: type, see it echoed
//! cargo run -p l4-transport --example tcp-server -- 2000 --trace
//! ```

use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::thread;

use clap::Parser;
use l2_link::exercise::{Failure, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{StackConfig, TcpListener, TcpStream, TraceStyle};

/// A TCP echo server on our own stack: listen on PORT, send back what each
/// client sends, several clients at once.
#[derive(Parser)]
#[command(name = "tcp-server", version)]
struct Args {
    /// The port to listen on.
    #[arg(default_value_t = 7)]
    port: u16,
    /// Stop after this many connections have been served (default: serve
    /// until Ctrl-C).
    #[arg(short = 'c', long)]
    count: Option<usize>,
    /// Print every TCP segment in and out on stderr, with state changes.
    #[arg(short = 't', long)]
    trace: bool,
    /// Interface to run our stack on (default in the lab: lab1, raw's
    /// cable to alpha).
    #[arg(short = 'I', long)]
    interface: Option<String>,
    /// Our stack's address and prefix length (default: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our stack's MAC address (default: 02:00:00:00:00:12 in the lab,
    /// else the interface's own).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
    /// A gateway for clients off our network.
    #[arg(short = 'g', long)]
    gateway: Option<Ipv4Addr>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("tcp-server"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
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
    let stack = place.open(args.address.is_some(), config)?;
    let listener = TcpListener::bind(&stack, args.port)?;
    eprintln!(
        "tcp-server: listening on {} (our stack); Ctrl-C to stop",
        listener.local_addr()?
    );
    serve(&listener, args.count)?;
    Ok(())
}

// ANCHOR: serve
/// Accepts connections and echoes each on a thread of its own; with a
/// `count`, returns once that many have been served.
fn serve(listener: &TcpListener, count: Option<usize>) -> io::Result<()> {
    let mut accepted = 0;
    // Kept only to wait for them at the end of a counted run.
    let mut workers = Vec::new();
    while count.is_none_or(|count| accepted < count) {
        let (stream, client) = listener.accept()?;
        accepted += 1;
        println!("{client}: connected");
        let worker = thread::spawn(move || match echo(stream) {
            Ok(bytes) => println!("{client}: {bytes} bytes echoed, closed"),
            Err(error) => println!("{client}: {error}"),
        });
        if count.is_some() {
            workers.push(worker);
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

/// Sends back everything the client sends, until its FIN; then closes our
/// side too, and waits for the client to acknowledge that FIN.
fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
    stream.close()?;
    Ok(total)
}
// ANCHOR_END: serve
