//! `http-serve` — a static file server on our own stack: it serves a
//! directory (default: the current one) on 198.18.0.2 port 80, GET and
//! HEAD, and logs one line per request, like a web server's access log.
//!
//! ```text
//! cargo run -p l7-app --example http-serve -- book/            # on raw: serve the book's sources
//! alpha curl -v http://198.18.0.2/src/SUMMARY.md             # in another lab shell
//! alpha curl -v http://198.18.0.2/../etc/passwd --path-as-is # 400
//! ```

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use clap::Parser;
use l2_link::exercise::{Failure, clock_time, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{StackConfig, TcpListener, TcpStream, TraceStyle};
use l7_app::http::{LogLine, StaticSite};

/// Serve a directory over HTTP/1.1 from our own TCP/IP stack.
#[derive(Parser)]
#[command(name = "http-serve", version)]
struct Args {
    /// The directory to serve (default: the current one).
    dir: Option<PathBuf>,
    /// The port to listen on.
    #[arg(short = 'p', long, default_value_t = 80)]
    port: u16,
    /// Stop after this many connections have been served (default: serve
    /// until Ctrl-C).
    #[arg(short = 'c', long)]
    count: Option<usize>,
    /// Seconds a client has to send a request head (the slow-loris
    /// defence).
    #[arg(long, default_value_t = 10.0)]
    head_timeout: f64,
    /// Print every TCP segment in and out on stderr.
    #[arg(short = 't', long)]
    trace: bool,
    /// Interface to run our stack on (default in the lab: lab1).
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
        Err(failure) => failure.report("http-serve"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut site = StaticSite::new(&dir)
        .map_err(|error| Failure::Usage(format!("{}: {error}", dir.display())))?;
    if !(args.head_timeout.is_finite() && args.head_timeout > 0.0) {
        return Err(Failure::Usage("--head-timeout: seconds, > 0".into()));
    }
    site.head_timeout = Duration::from_secs_f64(args.head_timeout);
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
        "http-serve: serving {} on http://{} (our stack); Ctrl-C to stop",
        dir.display(),
        listener.local_addr()?
    );
    serve(&listener, Arc::new(site), args.count)?;
    Ok(())
}

// ANCHOR: serve
/// Accepts connections and serves each on a thread of its own; with a
/// `count`, returns once that many have been served.
fn serve(
    listener: &TcpListener,
    site: Arc<StaticSite>,
    count: Option<usize>,
) -> std::io::Result<()> {
    let mut accepted = 0;
    let mut workers = Vec::new();
    while count.is_none_or(|count| accepted < count) {
        let (stream, client) = listener.accept()?;
        accepted += 1;
        let site = Arc::clone(&site);
        let worker = thread::spawn(move || {
            let result = site.serve_connection(
                &stream,
                |stream: &&TcpStream, timeout| stream.set_read_timeout(timeout),
                |line| println!("{}", log_line(client, &line)),
            );
            if let Err(error) = result {
                println!("{client}: {error}");
            }
            // Dropping the stream closes it: our FIN after the last reply.
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
// ANCHOR_END: serve

/// `198.18.0.1:43210 [23:10:04.123] "GET / HTTP/1.1" 200 1234` — the
/// Common Log Format's fields that mean something here.
fn log_line(client: SocketAddrV4, line: &LogLine) -> String {
    format!(
        "{client} [{}] \"{}\" {} {}",
        clock_time(std::time::SystemTime::now()),
        line.request,
        line.status,
        line.bytes
    )
}
