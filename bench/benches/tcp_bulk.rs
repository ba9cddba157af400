//! System benchmark "tcp_bulk": bulk transfer over the lab's veth between
//! raw and alpha (MTU 1500, the lab turns the veths' offloads off), in
//! both directions, by three TCPs on raw:
//!
//! - ours: `l4_transport::socket` (our TCP/IPv4/Ethernet over an AF_PACKET
//!   socket on lab1, as 198.18.0.2 with its own MAC);
//! - smoltcp 0.14 driving its own `phy::RawSocket` on the same lab1, with
//!   the same address, MAC and socket buffer sizes as ours;
//! - raw's kernel (198.18.0.3 on the same lab1): the baseline.
//!
//! The peer is the same for all three: alpha's kernel, through a small
//! std::net sink/source that this very binary runs on alpha
//! (`tcp_bulk alpha-server`). Each transfer is one process on raw
//! (`tcp_bulk transfer STACK DIRECTION BYTES`) that connects, times the
//! transfer and prints `SECONDS s`; the runs take turns (ours, smoltcp,
//! kernel, ours, …) so that the machine's noise falls on all three alike.
//!
//! What is timed, from the client on raw, once the connection is open:
//! - sending: write BYTES, close our half, and read the sink's 8-byte count
//!   of what it received (checked) and its FIN — so everything was
//!   delivered, not merely buffered;
//! - receiving: ask for BYTES (an 8-byte request), read until the source's
//!   FIN, and check the count.
//!
//! Throughput is BYTES / time in MB/s (10⁶ bytes). Rows: ours vs smoltcp
//! each way (goal ≥ 1.0), ours vs the kernel each way (reported).
//!
//! To look inside one of our transfers: `TCP_BULK_TRACE=1 tcp_bulk transfer
//! ours send 1000000` in a lab shell prints our stack's segment trace.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

use l2_link::exercise::lab;
use l4_transport::socket::{Stack, StackConfig};
use netlab::Lab;
use netlab::topology::Host;
use rawstack_bench::{Better, Measure, Row};

/// Alpha's sink: reads until our FIN, answers with the count, closes.
const SINK_PORT: u16 = 5001;
/// Alpha's source: reads an 8-byte length, sends that many bytes, closes.
const SOURCE_PORT: u16 = 5002;
/// No single transfer may take longer (a stuck stack must not hang the
/// benchmark): 64 MiB at a mere 3.4 MB/s.
const TRANSFER_LIMIT: Duration = Duration::from_secs(20);
/// Each write and read hands the stack this much at a time.
const CHUNK: usize = 64 * 1024;

fn main() -> ExitCode {
    // cargo passes `--bench` (and we take `--quick`): roles are the first
    // argument that is not a flag.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("alpha-server") => serve_on_alpha(),
        Some("transfer") => transfer_on_raw(&args[1..]),
        _ => measure(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tcp_bulk: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Which TCP runs on raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tcp {
    Ours,
    Smoltcp,
    Kernel,
}

impl Tcp {
    const ALL: [Tcp; 3] = [Tcp::Ours, Tcp::Smoltcp, Tcp::Kernel];

    fn name(self) -> &'static str {
        match self {
            Tcp::Ours => "ours",
            Tcp::Smoltcp => "smoltcp",
            Tcp::Kernel => "kernel",
        }
    }

    fn from_name(name: &str) -> Option<Tcp> {
        Tcp::ALL.into_iter().find(|tcp| tcp.name() == name)
    }
}

/// Which way the bytes go, seen from raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Send,
    Receive,
}

impl Direction {
    const BOTH: [Direction; 2] = [Direction::Send, Direction::Receive];

    fn name(self) -> &'static str {
        match self {
            Direction::Send => "send",
            Direction::Receive => "receive",
        }
    }

    fn from_name(name: &str) -> Option<Direction> {
        Direction::BOTH.into_iter().find(|d| d.name() == name)
    }

    /// Alpha's port for this direction.
    fn port(self) -> u16 {
        match self {
            Direction::Send => SINK_PORT,
            Direction::Receive => SOURCE_PORT,
        }
    }
}

// ---------------------------------------------------------------------------
// The benchmark: a fresh lab, alpha's server, the runs, the rows.

fn measure() -> io::Result<()> {
    let quick = rawstack_bench::quick();
    let (bytes, runs): (u64, usize) = if quick { (16 << 20, 3) } else { (64 << 20, 5) };
    let lab = match Lab::start() {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("tcp_bulk: no lab ({error})");
            rawstack_bench::not_measured("tcp_bulk");
            return Ok(());
        }
    };
    let exe = std::env::current_exe()?;
    // smoltcp's RawSocket does not ask for promiscuous mode (our stack's
    // packet socket does): frames for 02:00:00:00:00:12 must reach it too.
    run_quietly(
        lab.command(Host::Raw, "ip")
            .args(["link", "set", "lab1", "promisc", "on"]),
    )?;
    let mut server = start_alpha_server(&lab, &exe)?;

    let mut results = Vec::new();
    for run in 1..=runs {
        for direction in Direction::BOTH {
            for tcp in Tcp::ALL {
                let outcome = transfer(&lab, &exe, tcp, direction, bytes);
                match &outcome {
                    Ok(mbps) => eprintln!(
                        "tcp_bulk: run {run}/{runs} {} {} {} MiB: {mbps:.1} MB/s",
                        tcp.name(),
                        direction.name(),
                        bytes >> 20
                    ),
                    Err(error) => eprintln!(
                        "tcp_bulk: run {run}/{runs} {} {}: failed: {error}",
                        tcp.name(),
                        direction.name()
                    ),
                }
                if let Ok(mbps) = outcome {
                    results.push((tcp, direction, mbps));
                }
            }
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    drop(lab);

    let of = |tcp: Tcp, direction: Direction| -> Option<Measure> {
        let runs: Vec<f64> = results
            .iter()
            .filter(|(t, d, _)| *t == tcp && *d == direction)
            .map(|(_, _, mbps)| *mbps)
            .collect();
        (!runs.is_empty()).then(|| Measure::of(&runs))
    };
    for direction in Direction::BOTH {
        let what = match direction {
            Direction::Send => "sending to alpha's kernel",
            Direction::Receive => "receiving from alpha's kernel",
        };
        let Some(ours) = of(Tcp::Ours, direction) else {
            rawstack_bench::not_measured(&format!("tcp_bulk {}", direction.name()));
            continue;
        };
        for (peer, peer_label, goal) in [
            (Tcp::Smoltcp, "smoltcp 0.14 (RawSocket)", Some(1.0)),
            (Tcp::Kernel, "Linux TCP (raw's kernel)", None),
        ] {
            Row {
                section: "TCP bulk".into(),
                what: format!("{what}, {} MiB, MTU 1500", bytes >> 20),
                ours_label: "ours (l4-transport)".into(),
                ours,
                peer_label: Some(peer_label.into()),
                peer: of(peer, direction),
                unit: "MB/s".into(),
                better: Better::Higher,
                goal,
            }
            .emit();
        }
    }
    Ok(())
}

/// Runs a setup command in the lab and insists that it worked.
fn run_quietly(command: &mut std::process::Command) -> io::Result<()> {
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Starts the sink/source on alpha and waits until it listens.
fn start_alpha_server(lab: &Lab, exe: &std::path::Path) -> io::Result<Child> {
    let mut server = lab
        .command(Host::Alpha, exe)
        .arg("alpha-server")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut ready = [0u8; 6];
    let stdout = server.stdout.as_mut().expect("stdout is piped");
    if stdout.read_exact(&mut ready).is_err() || &ready != b"ready\n" {
        let _ = server.kill();
        let _ = server.wait();
        return Err(io::Error::other("alpha's server did not start"));
    }
    Ok(server)
}

/// One transfer: a process on raw; its throughput in MB/s.
fn transfer(
    lab: &Lab,
    exe: &std::path::Path,
    tcp: Tcp,
    direction: Direction,
    bytes: u64,
) -> io::Result<f64> {
    let output = lab
        .command(Host::Raw, exe)
        .args(["transfer", tcp.name(), direction.name(), &bytes.to_string()])
        .stdin(Stdio::null())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seconds = stdout
        .lines()
        .find_map(|line| line.strip_prefix("SECONDS "))
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| output.status.success() && *s > 0.0);
    match seconds {
        Some(seconds) => Ok(bytes as f64 / seconds / 1e6),
        None => Err(io::Error::other(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        )),
    }
}

// ---------------------------------------------------------------------------
// Alpha's side: the kernel's TCP, the same for all three clients.

/// `tcp_bulk alpha-server`: the sink on port 5001 and the source on port
/// 5002, a thread per connection, until killed.
fn serve_on_alpha() -> io::Result<()> {
    let sink = TcpListener::bind((lab::ALPHA_IP, SINK_PORT))?;
    let source = TcpListener::bind((lab::ALPHA_IP, SOURCE_PORT))?;
    let mut stdout = io::stdout();
    stdout.write_all(b"ready\n")?;
    stdout.flush()?;
    std::thread::spawn(move || serve(&source, run_source));
    serve(&sink, run_sink);
    Ok(())
}

fn serve(listener: &TcpListener, handler: fn(std::net::TcpStream) -> io::Result<()>) {
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            if let Err(error) = handler(stream) {
                eprintln!("tcp_bulk alpha-server: {error}");
            }
        });
    }
}

/// Reads until the client's FIN, then answers with the count and closes.
fn run_sink(mut stream: std::net::TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    loop {
        match stream.read(&mut buf)? {
            0 => break,
            n => received += n as u64,
        }
    }
    stream.write_all(&received.to_be_bytes())
}

/// Reads the 8-byte length asked for, sends that many bytes, closes.
fn run_source(mut stream: std::net::TcpStream) -> io::Result<()> {
    let mut request = [0u8; 8];
    stream.read_exact(&mut request)?;
    write_pattern(&mut stream, u64::from_be_bytes(request))
}

/// Writes `bytes` of a repeating pattern (its content does not matter to
/// TCP, but zeros would hide a stack that forgets to copy).
fn write_pattern(to: &mut impl Write, bytes: u64) -> io::Result<()> {
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        to.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// Reads until end of file; the number of bytes read.
fn read_to_end_counting(from: &mut impl Read) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match from.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

/// The sink's answer must be what we sent.
fn check_count(what: &str, got: u64, expected: u64) -> io::Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{what}: {got} bytes arrived of {expected}"
        )))
    }
}

// ---------------------------------------------------------------------------
// Raw's side: one transfer by one TCP.

/// `tcp_bulk transfer STACK DIRECTION BYTES`: prints `SECONDS s`.
fn transfer_on_raw(args: &[String]) -> io::Result<()> {
    let usage = || io::Error::other("usage: transfer ours|smoltcp|kernel send|receive BYTES");
    let [tcp, direction, bytes] = args else {
        return Err(usage());
    };
    let tcp = Tcp::from_name(tcp).ok_or_else(usage)?;
    let direction = Direction::from_name(direction).ok_or_else(usage)?;
    let bytes: u64 = bytes.parse().map_err(|_| usage())?;
    let alpha = SocketAddrV4::new(lab::ALPHA_IP, direction.port());
    let elapsed = match tcp {
        Tcp::Ours => ours(alpha, direction, bytes)?,
        Tcp::Smoltcp => smoltcp_client::transfer(alpha, direction, bytes)?,
        Tcp::Kernel => kernel(alpha, direction, bytes)?,
    };
    println!("SECONDS {}", elapsed.as_secs_f64());
    Ok(())
}

/// The transfer over a connected stream that both `std::net` and our
/// sockets offer: `Read + Write` on a shared reference, and a half close.
fn timed_transfer<S>(
    stream: &S,
    direction: Direction,
    bytes: u64,
    shutdown_write: impl Fn(&S) -> io::Result<()>,
) -> io::Result<Duration>
where
    for<'a> &'a S: Read + Write,
{
    let started = Instant::now();
    let mut io = stream;
    match direction {
        Direction::Send => {
            write_pattern(&mut io, bytes)?;
            shutdown_write(stream)?;
            let mut count = [0u8; 8];
            io.read_exact(&mut count)?;
            check_count("the sink says", u64::from_be_bytes(count), bytes)?;
            check_count("after the count", read_to_end_counting(&mut io)?, 0)?;
        }
        Direction::Receive => {
            io.write_all(&bytes.to_be_bytes())?;
            shutdown_write(stream)?;
            check_count("received", read_to_end_counting(&mut io)?, bytes)?;
        }
    }
    Ok(started.elapsed())
}

// ANCHOR: bench_ours
/// Our TCP: the stack as the exercises open it in the lab (198.18.0.2
/// with its own MAC on lab1), its default configuration.
fn ours(alpha: SocketAddrV4, direction: Direction, bytes: u64) -> io::Result<Duration> {
    let mut config = StackConfig::default();
    if std::env::var_os("TCP_BULK_TRACE").is_some() {
        config.trace = Some(l4_transport::socket::TraceStyle::Relative);
    }
    let stack = Stack::open(lab::RAW_IFACE, lab::STACK_MAC, lab::STACK_IP, 24, config)?;
    let stream =
        l4_transport::socket::TcpStream::connect_timeout(&stack, alpha, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(TRANSFER_LIMIT))?;
    stream.set_write_timeout(Some(TRANSFER_LIMIT))?;
    let elapsed = timed_transfer(&stream, direction, bytes, |s| s.shutdown(Shutdown::Write))?;
    stream.close()?;
    // On stderr, for whoever runs one transfer by hand.
    eprintln!("{:?}", stack.stats());
    Ok(elapsed)
}
// ANCHOR_END: bench_ours

/// The kernel's TCP on raw (198.18.0.3 on the same lab1).
fn kernel(alpha: SocketAddrV4, direction: Direction, bytes: u64) -> io::Result<Duration> {
    let stream = std::net::TcpStream::connect_timeout(&alpha.into(), Duration::from_secs(5))?;
    stream.set_read_timeout(Some(TRANSFER_LIMIT))?;
    stream.set_write_timeout(Some(TRANSFER_LIMIT))?;
    timed_transfer(&stream, direction, bytes, |s| s.shutdown(Shutdown::Write))
}

/// smoltcp's TCP, polled the way its own examples poll it.
mod smoltcp_client {
    use super::*;
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Medium, RawSocket, wait as phy_wait};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant as SmolInstant;
    use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

    /// Where the transfer is.
    enum Phase {
        Connecting,
        /// Bytes still to hand to the socket.
        Sending(u64),
        /// Everything written and our FIN queued: the sink's count.
        AwaitingCount(Vec<u8>),
        /// The request sent: counting what arrives until the peer's FIN.
        Receiving(u64),
    }

    // ANCHOR: bench_smoltcp
    /// One transfer over smoltcp on lab1: same address, MAC and socket
    /// buffer sizes as ours.
    pub(super) fn transfer(
        alpha: SocketAddrV4,
        direction: Direction,
        bytes: u64,
    ) -> io::Result<Duration> {
        let mut device = RawSocket::new(lab::RAW_IFACE, Medium::Ethernet)?;
        let fd = device.as_raw_fd();
        let mut config = Config::new(EthernetAddress(lab::STACK_MAC.0).into());
        config.random_seed = u64::from(std::process::id()) ^ nanos_now();
        let mut iface = Interface::new(config, &mut device, SmolInstant::now());
        iface.update_ip_addrs(|addrs| {
            let ip = lab::STACK_IP.octets();
            let _ = addrs.push(IpCidr::new(IpAddress::v4(ip[0], ip[1], ip[2], ip[3]), 24));
        });
        let buffers = StackConfig::default().tcp;
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buffers.recv_buffer]),
            tcp::SocketBuffer::new(vec![0; buffers.send_buffer]),
        );
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(socket);
        let local_port = 49152 + (nanos_now() % 16000) as u16;
        let remote: Ipv4Addr = *alpha.ip();
        sockets
            .get_mut::<tcp::Socket<'_>>(handle)
            .connect(iface.context(), (remote, alpha.port()), local_port)
            .map_err(|e| io::Error::other(format!("smoltcp connect: {e}")))?;

        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        let mut phase = Phase::Connecting;
        let mut started = Instant::now();
        let give_up = Instant::now() + TRANSFER_LIMIT;
        loop {
            let now = SmolInstant::now();
            iface.poll(now, &mut device, &mut sockets);
            let socket = sockets.get_mut::<tcp::Socket<'_>>(handle);
            let was_connecting = matches!(phase, Phase::Connecting);
            phase = match phase {
                Phase::Connecting if socket.may_send() => {
                    started = Instant::now();
                    match direction {
                        Direction::Send => Phase::Sending(bytes),
                        Direction::Receive => {
                            socket.send_slice(&bytes.to_be_bytes()).map_err(other)?;
                            socket.close();
                            Phase::Receiving(0)
                        }
                    }
                }
                Phase::Connecting if !socket.is_open() => {
                    return Err(io::Error::other("smoltcp: connection refused"));
                }
                Phase::Sending(mut left) => {
                    while left > 0 && socket.can_send() {
                        let n = left.min(CHUNK as u64) as usize;
                        left -= socket.send_slice(&chunk[..n]).map_err(other)? as u64;
                    }
                    if left == 0 {
                        socket.close();
                        Phase::AwaitingCount(Vec::new())
                    } else {
                        Phase::Sending(left)
                    }
                }
                Phase::AwaitingCount(mut count) => {
                    while socket.can_recv() {
                        socket
                            .recv(|data| {
                                count.extend_from_slice(data);
                                (data.len(), ())
                            })
                            .map_err(other)?;
                    }
                    if !socket.may_recv() {
                        let got = <[u8; 8]>::try_from(count.as_slice())
                            .map(u64::from_be_bytes)
                            .unwrap_or(0);
                        check_count("the sink says", got, bytes)?;
                        break;
                    }
                    Phase::AwaitingCount(count)
                }
                Phase::Receiving(mut got) => {
                    while socket.can_recv() {
                        got += socket
                            .recv(|data| (data.len(), data.len()))
                            .map_err(other)? as u64;
                    }
                    if !socket.may_recv() && socket.state() != tcp::State::SynSent {
                        check_count("received", got, bytes)?;
                        break;
                    }
                    Phase::Receiving(got)
                }
                waiting => waiting,
            };
            if Instant::now() > give_up {
                return Err(io::Error::other("smoltcp: transfer timed out"));
            }
            if was_connecting && !matches!(phase, Phase::Connecting) {
                // Just connected: start writing now. Waiting first would
                // sleep until the next frame, as nothing is queued yet.
                continue;
            }
            phy_wait(fd, iface.poll_delay(SmolInstant::now(), &sockets))?;
        }
        let elapsed = started.elapsed();
        // Acknowledge the peer's FIN before leaving.
        iface.poll(SmolInstant::now(), &mut device, &mut sockets);
        Ok(elapsed)
    }
    // ANCHOR_END: bench_smoltcp

    fn other(error: impl std::fmt::Display) -> io::Error {
        io::Error::other(format!("smoltcp: {error}"))
    }

    fn nanos_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into())
    }
}
