//! `tcp-server` — a TCP echo server (RFC 862) on our own stack: it listens
//! on 198.18.0.2 (port 7) and sends every client's bytes back to it,
//! several clients at once, a thread each. `--plot FILE.svg` draws each
//! connection as a time–sequence graph when it is over (one file per
//! client, its port in the name, unless `--count 1`); `--loss PCT --seed
//! N` makes our stack lose that share of its own frames.
//!
//! ```text
//! cargo run -p l4-transport --example tcp-server            # on raw: listen on 198.18.0.2:7
//! alpha nc 198.18.0.2 7                                     # in another lab shell: type, see it echoed
//! cargo run -p l4-transport --example tcp-server -- 2000 --trace
//! cargo run -p l4-transport --example tcp-server -- 2000 --loss 5 --plot echo.svg   # echo-PORT.svg per client
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;

use clap::Parser;
use l2_link::exercise::{Failure, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::plot;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{InjectedLoss, Stack, StackConfig, TcpListener, TcpStream, TraceStyle};

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
    /// When a connection is over, draw it as a time–sequence graph into
    /// this SVG file — with the client's port before the extension
    /// (`echo-50872.svg`), unless `--count 1`.
    #[arg(short = 'p', long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Our stack loses this share of its own frames, in percent, going
    /// out and coming in (l2-link's fault-injecting device).
    #[arg(short = 'l', long, value_name = "PCT", value_parser = parse_percent)]
    loss: Option<f64>,
    /// The seed that decides which frames --loss drops.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "loss")]
    seed: u64,
}

/// A percentage from 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(percent) if (0.0..=100.0).contains(&percent) => Ok(percent),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

/// Where each connection's graph goes, if anywhere.
#[derive(Debug, Clone)]
struct Plots {
    path: PathBuf,
    /// More than one client may come: one file each.
    per_client: bool,
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
    config.keep_trace = args.plot.is_some();
    let loss = args.loss.map(|percent| InjectedLoss {
        percent,
        seed: args.seed,
    });
    let stack = place.open_lossy(args.address.is_some(), config, loss)?;
    let listener = TcpListener::bind(&stack, args.port)?;
    eprintln!(
        "tcp-server: listening on {} (our stack); Ctrl-C to stop",
        listener.local_addr()?
    );
    let plots = args.plot.clone().map(|path| Plots {
        path,
        per_client: args.count != Some(1),
    });
    serve(&stack, &listener, args.count, plots)?;
    Ok(())
}

// ANCHOR: serve
/// Accepts connections and echoes each on a thread of its own; with a
/// `count`, returns once that many have been served.
fn serve(
    stack: &Stack,
    listener: &TcpListener,
    count: Option<usize>,
    plots: Option<Plots>,
) -> io::Result<()> {
    let mut accepted = 0;
    // Kept only to wait for them at the end of a counted run.
    let mut workers = Vec::new();
    while count.is_none_or(|count| accepted < count) {
        let (stream, client) = listener.accept()?;
        accepted += 1;
        println!("{client}: connected");
        let local = stream.local_addr()?;
        let (stack, plots) = (stack.clone(), plots.clone());
        let worker = thread::spawn(move || {
            match echo(stream) {
                Ok(bytes) => println!("{client}: {bytes} bytes echoed, closed"),
                Err(error) => println!("{client}: {error}"),
            }
            if let Some(plots) = plots {
                let path = match plots.per_client {
                    true => plot::path_for_peer(&plots.path, client.port()),
                    false => plots.path,
                };
                match write_plot(&stack, local, client, &path) {
                    Ok(()) => println!("{client}: plot written to {}", path.display()),
                    Err(error) => println!("{client}: plot: {error}"),
                }
            }
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

/// Draws the connection from `local` to `remote`, from the trace our
/// stack kept of it, as a time–sequence graph into `path`.
fn write_plot(
    stack: &Stack,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    path: &Path,
) -> io::Result<()> {
    let events: Vec<_> = stack
        .take_trace(local, remote)
        .into_iter()
        .map(|record| record.event)
        .collect();
    let title = format!("tcp-server {local} ← {remote}");
    std::fs::write(path, plot::time_sequence_svg(&events, &title))
}
