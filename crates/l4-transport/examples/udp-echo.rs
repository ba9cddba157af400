//! `udp-echo` — UDP echo (RFC 862) on our own stack: a server on
//! 198.18.0.2 port 7 that sends every datagram back, or with `--client` a
//! client of alpha's echo service that times the round trips.
//!
//! ```text
//! cargo run -p l4-transport --example udp-echo                # on raw: serve on 198.18.0.2:7
//! alpha python3 -c '…sendto(b"hi", ("198.18.0.2", 7))…'       # from alpha: a datagram to us
//! cargo run -p l4-transport --example udp-echo -- --client    # on raw: three datagrams to alpha's echo
//! cargo run -p l4-transport --example udp-echo -- --client 198.18.0.1 -c 10 -s 1000
//! ```

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use l2_link::exercise::{Failure, lab, parse_mac};
use l2_link::wire::MacAddr;
use l3_net::stack::parse_cidr;
use l4_transport::socket::exercise::StackPlace;
use l4_transport::socket::{MAX_UDP_PAYLOAD, StackConfig, UdpSocket};

/// UDP echo on our own stack: serve on port 7 (print each datagram and
/// send it back), or, with --client, send datagrams to an echo server
/// (alpha's) and print each round trip.
#[derive(Parser)]
#[command(name = "udp-echo", version)]
struct Args {
    /// Be the client: send to HOST's echo service instead of serving.
    #[arg(long)]
    client: bool,
    /// The echo server the client sends to (default: alpha, 198.18.0.1).
    #[arg(requires = "client")]
    host: Option<Ipv4Addr>,
    /// The echo port: ours as a server, the server's as a client.
    #[arg(short = 'p', long, default_value_t = 7)]
    port: u16,
    /// Client: datagrams to send. Server: stop after echoing this many.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Client: seconds to wait for each echo.
    #[arg(short = 'W', long, default_value_t = 1.0)]
    timeout: f64,
    /// Client: seconds between datagrams.
    #[arg(short = 'i', long, default_value_t = 0.2)]
    interval: f64,
    /// Client: bytes of data per datagram (at least 16, for the sequence
    /// number).
    #[arg(short = 's', long, default_value_t = 32)]
    size: usize,
    /// Interface to run our stack on (default in the lab: lab1, raw's
    /// cable to alpha).
    #[arg(short = 'I', long)]
    interface: Option<String>,
    /// Our stack's address and prefix length (default: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our stack's MAC address (default: 02:00:00:00:00:12 in the lab, else
    /// the interface's own).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("udp-echo"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let place = StackPlace {
        interface: args.interface.clone(),
        address: args.address,
        mac: args.mac,
        gateway: None,
    };
    // The target: the server we talk to, or (serving) our own address.
    let target_named = if args.client {
        args.host.is_some()
    } else {
        args.address.is_some()
    };
    let stack = place.open(target_named, StackConfig::default())?;
    if args.client {
        let host = args.host.unwrap_or(lab::ALPHA_IP);
        client(&UdpSocket::bind(&stack, 0)?, host, args)
    } else {
        serve(&UdpSocket::bind(&stack, args.port)?, args.count)
    }
}

// ANCHOR: udp_echo_serve
/// Sends every datagram back to where it came from.
fn serve(socket: &UdpSocket, count: Option<u64>) -> Result<(), Failure> {
    eprintln!(
        "udp-echo: serving on {} (our stack); Ctrl-C to stop",
        socket.local_addr()?
    );
    let mut buf = vec![0u8; MAX_UDP_PAYLOAD];
    let mut served = 0;
    while count.is_none_or(|count| served < count) {
        let (len, from) = socket.recv_from(&mut buf)?;
        println!("{from}: {len} bytes: {}", printable(&buf[..len]));
        socket.send_to(&buf[..len], from)?;
        served += 1;
    }
    Ok(())
}
// ANCHOR_END: udp_echo_serve

// ANCHOR: udp_echo_client
/// Sends `count` datagrams (3 by default) to the echo server, each with its
/// sequence number, and prints each echo with its round-trip time.
fn client(socket: &UdpSocket, host: Ipv4Addr, args: &Args) -> Result<(), Failure> {
    let server = SocketAddrV4::new(host, args.port);
    let count = args.count.unwrap_or(3);
    let timeout = seconds(args.timeout, "timeout")?;
    let interval = seconds(args.interval, "interval")?;
    if args.size < 16 || args.size > MAX_UDP_PAYLOAD {
        return Err(Failure::Usage(format!(
            "invalid size {} (16 to {MAX_UDP_PAYLOAD} bytes)",
            args.size
        )));
    }
    println!(
        "UDP ECHO {server} from {}: {} data bytes",
        socket.local_addr()?,
        args.size
    );
    let mut received = 0;
    let mut buf = vec![0u8; MAX_UDP_PAYLOAD];
    for seq in 1..=count {
        let message = payload(seq, args.size);
        let sent_at = Instant::now();
        socket.send_to(&message, server)?;
        // Wait for *this* echo: a late echo of an earlier datagram, or a
        // stranger's datagram, is not it.
        let deadline = sent_at + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            socket.set_read_timeout(Some(left.max(Duration::from_micros(1))))?;
            match socket.recv_from(&mut buf) {
                Ok((len, from)) if from == server && buf[..len] == message[..] => {
                    let rtt = sent_at.elapsed();
                    println!(
                        "{len} bytes from {from}: seq={seq} time={:.3} ms",
                        rtt.as_secs_f64() * 1000.0
                    );
                    received += 1;
                    break;
                }
                Ok(_) => continue,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(error) => return Err(error.into()),
            }
        }
        if seq < count {
            std::thread::sleep(interval);
        }
    }
    println!("--- {server} udp echo statistics ---");
    println!("{count} datagrams sent, {received} echoed");
    if received == 0 {
        return Err(Failure::NoAnswer(format!("no echo from {server}")));
    }
    Ok(())
}
// ANCHOR_END: udp_echo_client

/// `size` bytes: "udp-echo seq N " and then letters, like ping's pattern.
fn payload(seq: u64, size: usize) -> Vec<u8> {
    let mut data = format!("udp-echo seq {seq} ").into_bytes();
    data.extend((0..).map(|i| b'a' + (i % 26) as u8).take(size));
    data.truncate(size);
    data
}

/// The data as text if it is printable, else its length in hex bytes.
fn printable(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if text.chars().all(|c| !c.is_control() || c == '\n') => {
            format!("{:?}", text.trim_end_matches('\n'))
        }
        _ => data
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A positive, finite number of seconds.
fn seconds(value: f64, what: &str) -> Result<Duration, Failure> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::Usage(format!("invalid {what} {value} (seconds)")))
    }
}
