//! `host` — our own IPv4 host in userspace: a second machine on raw's
//! cable, with its own MAC and address, that answers ARP and ping with
//! rawstack's code instead of a kernel's.
//!
//! ```text
//! cargo run -p l3-net --example host            # on raw: 198.18.0.2/24 at 02:00:00:00:00:12 on lab1
//! alpha ping -c 2 198.18.0.2                    # in another lab shell: alpha's kernel pings us
//! cargo run -p l3-net --example host -- -v      # also every frame in (<) and out (>)
//! ```
//!
//! It logs one line per decision (`ARP who-has 198.18.0.2 tell
//! 198.18.0.1 … → replied …`, `ICMP echo request from 198.18.0.1 … →
//! replied`) until Ctrl-C, `--count` events or `--duration` seconds.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{Failure, Whereabouts, check_may_send, clock_time, lab, parse_mac};
use l2_link::print::Printer;
use l2_link::sys::PacketSocket;
use l2_link::sys::signal::StopOnInterrupt;
use l2_link::wire::MacAddr;
use l3_net::stack::{Delivery, Interface, InterfaceConfig, Links, parse_cidr};
use l3_net::wire::{DstUnreachable, IpProtocol};

/// Run our own IPv4 host: answer ARP and ping for an address the kernel
/// does not own, and log every decision.
#[derive(Parser)]
#[command(name = "host", version)]
struct Args {
    /// Interface to run on (default in the lab: lab1, raw's cable to alpha).
    #[arg(short = 'i', long)]
    interface: Option<String>,
    /// Our address and prefix length (default in the lab: 198.18.0.2/24).
    #[arg(short = 'a', long, value_parser = parse_cidr)]
    address: Option<(Ipv4Addr, u8)>,
    /// Our MAC address (default: 02:00:00:00:00:12 in the lab, else the
    /// interface's own).
    #[arg(short = 'm', long, value_parser = parse_mac)]
    mac: Option<MacAddr>,
    /// A gateway for everything off our network (a default route).
    #[arg(short = 'g', long)]
    gateway: Option<Ipv4Addr>,
    /// Stop after logging this many events.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(short = 'd', long)]
    duration: Option<f64>,
    /// Also print every frame for us (<) and from us (>), decoded.
    #[arg(short = 'v', long)]
    verbose: bool,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("host"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let whereabouts = Whereabouts::detect();
    // Answering ARP for an address puts frames on the wire: outside the
    // lab, only for an interface and an address someone chose.
    check_may_send(
        whereabouts,
        args.interface.is_some(),
        args.address.is_some(),
    )?;
    let interface = args
        .interface
        .clone()
        .unwrap_or_else(|| whereabouts.default_interface().to_string());
    let (addr, prefix_len) = args.address.unwrap_or((lab::STACK_IP, 24));
    let end = match args.duration {
        Some(secs) if secs.is_finite() && secs > 0.0 => {
            Some(Instant::now() + Duration::from_secs_f64(secs))
        }
        Some(secs) => {
            return Err(Failure::Usage(format!(
                "invalid duration {secs} (seconds, > 0)"
            )));
        }
        None => None,
    };

    let socket = PacketSocket::open(&interface)?;
    let mac = match (args.mac, whereabouts) {
        (Some(mac), _) => mac,
        (None, Whereabouts::OutsideLab) => socket.mac(),
        (None, _) => lab::STACK_MAC,
    };
    // Frames for our MAC are not for the card's own: a card drops them
    // unless it is promiscuous (a veth delivers them anyway, as OTHERHOST).
    if mac != socket.mac() {
        socket.set_promiscuous(true)?;
    }
    // The socket is open and promiscuous: the rest needs no privilege.
    l2_link::sys::drop_capabilities()?;
    let config = InterfaceConfig {
        mac,
        addr,
        prefix_len,
        mtu: socket.mtu(),
    };
    let until = Until {
        stop: StopOnInterrupt::install()?,
        end,
        count: args.count,
    };
    let mut host = Interface::new(config);
    if let Some(gateway) = args.gateway {
        host.add_route(Ipv4Addr::UNSPECIFIED, 0, Some(gateway))
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    // Identification numbers that differ from run to run, so a datagram of
    // this run is never mistaken for a fragment of the last one.
    host.set_next_ident(seed_from_clock());
    eprintln!(
        "host: {addr}/{prefix_len} at {mac} on {interface} (MTU {}), ready; Ctrl-C to stop",
        config.mtu
    );

    let printer = l3_net::print::printer();
    let mut log = Log {
        printer: args.verbose.then_some(printer),
        events: 0,
    };
    run_host(&mut host, Links::one(socket), &until, &mut log)?;
    eprintln!("host: {} events", log.events);
    Ok(())
}

// ANCHOR: host_loop
/// The driver loop: timers, frames out, events, then wait for a frame or
/// the next timer, whichever comes first.
fn run_host(
    host: &mut Interface,
    mut links: Links,
    until: &Until,
    log: &mut Log,
) -> Result<(), Failure> {
    loop {
        let now = Instant::now();
        host.poll(now);
        // The decisions first, then the frames they made.
        for event in host.drain_events() {
            log.event(&event);
        }
        for frame in host.drain_transmit() {
            log.frame('>', &frame);
            links.send(0, &frame)?;
        }
        if until.reached(now, log.events) {
            return Ok(());
        }
        // Sleep until a frame comes or a timer is due (a signal also wakes
        // us, to look at the stop flag).
        let deadline = [host.poll_at(), until.end].into_iter().flatten().min();
        let Some(received) = links.recv(deadline)? else {
            continue;
        };
        if received.packet_type != PacketType::Outgoing && is_for(&received.frame, host.mac()) {
            log.frame('<', &received.frame);
        }
        for delivery in host.receive(Instant::now(), &received.frame, received.packet_type) {
            refuse(host, &delivery);
        }
    }
}
// ANCHOR_END: host_loop

// ANCHOR: host_refuse
/// This host runs no UDP service and speaks no transport protocol at all
/// (layer 4 comes later): it says so, as RFC 1122 §3.2.2.1 asks —
/// port unreachable for UDP, protocol unreachable for the rest. ICMP
/// messages that reach here (replies, errors) need no answer.
fn refuse(host: &mut Interface, delivery: &Delivery) {
    let reason = match delivery.header.protocol {
        IpProtocol::ICMP => return,
        IpProtocol::UDP => DstUnreachable::PortUnreachable,
        _ => DstUnreachable::ProtoUnreachable,
    };
    host.reject(Instant::now(), delivery, reason);
}
// ANCHOR_END: host_refuse

/// When to stop: Ctrl-C, a deadline, a number of events.
struct Until {
    stop: StopOnInterrupt,
    end: Option<Instant>,
    count: Option<u64>,
}

impl Until {
    fn reached(&self, now: Instant, events: u64) -> bool {
        self.stop.requested()
            || self.end.is_some_and(|end| now >= end)
            || self.count.is_some_and(|count| events >= count)
    }
}

/// Prints the log: events, and with `-v` the frames.
struct Log {
    printer: Option<Printer>,
    events: u64,
}

impl Log {
    fn event(&mut self, event: &impl std::fmt::Display) {
        self.events += 1;
        println!("{} {event}", clock_time(SystemTime::now()));
    }

    fn frame(&self, direction: char, frame: &[u8]) {
        if let Some(printer) = &self.printer {
            println!(
                "{} {direction} {}",
                clock_time(SystemTime::now()),
                printer.summary(frame)
            );
        }
    }
}

/// True if `frame` is addressed to `mac` or to everyone.
fn is_for(frame: &[u8], mac: MacAddr) -> bool {
    frame
        .get(..6)
        .is_some_and(|dst| dst == mac.0 || dst == MacAddr::BROADCAST.0)
}

/// A 16-bit number from the clock's nanoseconds.
fn seed_from_clock() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    (nanos ^ (nanos >> 16)) as u16
}
