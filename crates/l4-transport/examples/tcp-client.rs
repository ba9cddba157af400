//! `tcp-client` — like `nc HOST PORT`, over our own TCP: what it reads on
//! stdin goes to the connection, what arrives goes to stdout, and it ends
//! when both directions are done. `--trace` prints every segment to
//! stderr, so the handshake and the teardown can be watched; `--plot`
//! draws the connection as a time–sequence graph (an SVG file) when it is
//! over; `--loss` makes our stack lose a share of its own frames, so that
//! the graph has recoveries to show.
//!
//! ```text
//! cargo run -p l4-transport --example tcp-client                       # on raw: to alpha's echo, port 7
//! echo hello | cargo run -p l4-transport --example tcp-client -- --trace
//! cargo run -p l4-transport --example tcp-client -- 198.18.0.1 80 < request.txt
//! cargo run -p l4-transport --example tcp-client -- --loss 5 --seed 1 --plot download.svg 198.18.0.1 8000 < /dev/null > file
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use l2_link::exercise::{Failure, lab, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::plot;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{InjectedLoss, Stack, StackConfig, TcpStream, TraceStyle};

/// Like nc, over our own TCP: connect to HOST PORT, send stdin, print what
/// comes back, and close when both sides are done.
#[derive(Parser)]
#[command(name = "tcp-client", version)]
struct Args {
    /// The server's address (default: alpha, 198.18.0.1).
    host: Option<Ipv4Addr>,
    /// The server's port (default: 7, alpha's echo).
    port: Option<u16>,
    /// Print every TCP segment in and out on stderr (flags, seq, ack, win,
    /// length), with state changes and timers.
    #[arg(short = 't', long)]
    trace: bool,
    /// With --trace: show absolute sequence numbers, not relative ones
    /// (tcpdump's -S).
    #[arg(short = 'S', long, requires = "trace")]
    absolute: bool,
    /// Say on stderr when the connection is open and when it is closed.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Give up connecting after this many seconds (default: when TCP's
    /// own SYN retries give up, minutes later).
    #[arg(short = 'w', long)]
    wait: Option<f64>,
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
    /// A gateway for destinations off our network.
    #[arg(short = 'g', long)]
    gateway: Option<Ipv4Addr>,
    /// When the connection is over, draw it as a time–sequence graph
    /// (data, ACKs, receive window, retransmissions, cwnd) into this SVG
    /// file.
    #[arg(short = 'p', long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Our stack loses this share of its own frames, in percent, going
    /// out and coming in (l2-link's fault-injecting device).
    #[arg(short = 'l', long, value_name = "PCT", value_parser = parse_percent)]
    loss: Option<f64>,
    /// The seed that decides which frames --loss drops (the same seed, the
    /// same losses).
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

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("tcp-client"),
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
        config.trace = Some(if args.absolute {
            TraceStyle::Absolute
        } else {
            TraceStyle::Relative
        });
    }
    config.keep_trace = args.plot.is_some();
    let loss = args.loss.map(|percent| InjectedLoss {
        percent,
        seed: args.seed,
    });
    let stack = place.open_lossy(args.host.is_some(), config, loss)?;
    let server = SocketAddrV4::new(args.host.unwrap_or(lab::ALPHA_IP), args.port.unwrap_or(7));
    let stream = match args.wait {
        None => TcpStream::connect(&stack, server),
        Some(secs) if secs.is_finite() && secs > 0.0 => {
            TcpStream::connect_timeout(&stack, server, Duration::from_secs_f64(secs))
        }
        Some(secs) => {
            return Err(Failure::Usage(format!(
                "invalid wait {secs} (seconds, > 0)"
            )));
        }
    }
    .map_err(|error| Failure::Io(io::Error::new(error.kind(), format!("{server}: {error}"))))?;
    if args.verbose {
        eprintln!("tcp-client: connected {} → {server}", stream.local_addr()?);
    }
    let local = stream.local_addr()?;
    let transfer = relay(&stream).and_then(|(sent, received)| {
        // Dropping the stream closes it and waits for our FIN's ACK; here
        // it is already acknowledged (both directions are done).
        stream.close()?;
        Ok((sent, received))
    });
    // The graph is drawn however the connection ended: a failed one is
    // the one most worth looking at.
    if let Some(path) = &args.plot {
        let title = format!("tcp-client {local} → {server}{}", loss_note(loss));
        write_plot(&stack, local, server, path, &title)?;
        if args.verbose {
            eprintln!("tcp-client: plot written to {}", path.display());
        }
    }
    let (sent, received) = transfer?;
    if args.verbose {
        eprintln!("tcp-client: closed; {sent} bytes sent, {received} received");
    }
    Ok(())
}

/// `, 5% loss (seed 1)` for a title, or nothing.
fn loss_note(loss: Option<InjectedLoss>) -> String {
    match loss {
        Some(InjectedLoss { percent, seed }) => format!(", {percent}% loss (seed {seed})"),
        None => String::new(),
    }
}

// ANCHOR: write_plot
/// Draws the connection from `local` to `remote` — everything our stack
/// kept of its trace — as a time–sequence graph into `path`.
fn write_plot(
    stack: &Stack,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    path: &Path,
    title: &str,
) -> io::Result<()> {
    let events: Vec<_> = stack
        .take_trace(local, remote)
        .into_iter()
        .map(|record| record.event)
        .collect();
    std::fs::write(path, plot::time_sequence_svg(&events, title))
        .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", path.display())))
}
// ANCHOR_END: write_plot

// ANCHOR: relay
/// stdin → connection on one thread, connection → stdout on this one.
/// When stdin ends, our FIN says so (shutdown Write), and the other
/// direction goes on until the server's FIN. Returns the bytes each way.
fn relay(stream: &TcpStream) -> io::Result<(u64, u64)> {
    std::thread::scope(|scope| {
        let sending = scope.spawn(|| {
            let mut to_server = stream;
            let sent = io::copy(&mut io::stdin().lock(), &mut to_server)?;
            stream.shutdown(Shutdown::Write)?;
            Ok::<u64, io::Error>(sent)
        });
        let mut from_server = stream;
        let mut stdout = io::stdout().lock();
        let received = copy_flushing(&mut from_server, &mut stdout)?;
        let sent = sending
            .join()
            .map_err(|_| io::Error::other("the stdin thread panicked"))??;
        Ok((sent, received))
    })
}
// ANCHOR_END: relay

/// Like `io::copy`, but flushes after every read, so an interactive echo
/// shows up at once (stdout is line-buffered, data need not be lines).
fn copy_flushing(from: &mut impl Read, to: &mut impl Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            to.flush()?;
            return Ok(total);
        }
        to.write_all(&buf[..n])?;
        to.flush()?;
        total += n as u64;
    }
}
