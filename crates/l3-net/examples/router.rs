//! `router` — our own IPv4 router in userspace, between two cables: lab1
//! (alpha's side, 198.18.0.2) and lab2 (beta's side, 198.18.1.2, MTU
//! 1280). Raw's kernel does not forward (the lab turns forwarding off);
//! this program does, frame by frame.
//!
//! ```text
//! cargo run -p l3-net --example router                 # on raw, lab1 ⇄ lab2
//! alpha traceroute -n 198.18.1.1                       # hop 1: 198.18.0.2 (us), hop 2: beta
//! alpha ping -c 2 -s 1372 -M do 198.18.1.1             # "Frag needed and DF set (mtu = 1280)"
//! cargo run -p l3-net --example router -- -w router.pcap
//! ```
//!
//! It logs what it forwards, the ICMP errors it sends (and the ones RFC
//! 1812 forbids it to send), and ARP, one line each.

use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{
    Failure, Whereabouts, check_may_send, clock_time, create_pcap, lab, parse_mac,
};
use l2_link::pcap::PcapWriter;
use l2_link::sys::PacketSocket;
use l2_link::sys::signal::StopOnInterrupt;
use l2_link::wire::MacAddr;
use l3_net::stack::{
    ArpConfig, InterfaceConfig, Links, Router, SharedDevice, StackLimits, parse_cidr,
};

/// Forward IPv4 between interfaces with our own router, and log it.
#[derive(Parser)]
#[command(name = "router", version)]
struct Args {
    /// An interface of the router, as NAME,ADDRESS/PREFIX,MAC; give one
    /// per leg. Default in the lab: lab1,198.18.0.2/24,02:00:00:00:00:12
    /// and lab2,198.18.1.2/24,02:00:00:00:00:13.
    #[arg(short = 'l', long = "leg", value_parser = parse_leg)]
    legs: Vec<Leg>,
    /// A route through a gateway, as NETWORK/PREFIX,GATEWAY (the leg is
    /// the one whose network holds the gateway). Repeat for more.
    #[arg(short = 'r', long = "route", value_parser = parse_route)]
    routes: Vec<(Ipv4Addr, u8, Ipv4Addr)>,
    /// Packets held per neighbour while its MAC address is asked for. A
    /// host needs few; a router forwards bursts: traceroute sends 16
    /// probes at once, and all but the first hop's wait for one ARP reply.
    /// (Linux holds up to 208 KiB per neighbour, `unres_qlen_bytes`.)
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    arp_queue: u16,
    /// Write every frame the router takes in or sends out to this pcap.
    #[arg(short = 'w', long, value_name = "FILE.pcap")]
    write: Option<PathBuf>,
    /// Stop after logging this many events.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(short = 'd', long)]
    duration: Option<f64>,
}

/// One interface of the router, from the command line.
#[derive(Debug, Clone)]
struct Leg {
    name: String,
    addr: Ipv4Addr,
    prefix_len: u8,
    mac: MacAddr,
}

fn parse_leg(text: &str) -> Result<Leg, String> {
    let mut parts = text.split(',');
    let (Some(name), Some(cidr), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("{text:?}: expected NAME,ADDRESS/PREFIX,MAC"));
    };
    let (addr, prefix_len) = parse_cidr(cidr)?;
    Ok(Leg {
        name: name.to_string(),
        addr,
        prefix_len,
        mac: parse_mac(mac)?,
    })
}

fn parse_route(text: &str) -> Result<(Ipv4Addr, u8, Ipv4Addr), String> {
    let (network, gateway) = text
        .split_once(',')
        .ok_or_else(|| format!("{text:?}: expected NETWORK/PREFIX,GATEWAY"))?;
    let (network, prefix_len) = parse_cidr(network)?;
    let gateway = gateway
        .parse()
        .map_err(|_| format!("invalid gateway {gateway:?}"))?;
    Ok((network, prefix_len, gateway))
}

/// The lab's two legs (DESIGN §4).
fn lab_legs() -> Vec<Leg> {
    vec![
        Leg {
            name: lab::RAW_IFACE.to_string(),
            addr: lab::STACK_IP,
            prefix_len: 24,
            mac: lab::STACK_MAC,
        },
        Leg {
            name: lab::RAW_BETA_IFACE.to_string(),
            addr: lab::STACK_BETA_IP,
            prefix_len: 24,
            mac: lab::STACK_BETA_MAC,
        },
    ]
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("router"),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let named = !args.legs.is_empty();
    check_may_send(Whereabouts::detect(), named, named)?;
    let legs = if named { args.legs.clone() } else { lab_legs() };
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

    let limits = StackLimits {
        arp: ArpConfig {
            queue_len: usize::from(args.arp_queue),
            ..ArpConfig::default()
        },
        ..StackLimits::default()
    };
    let mut router = Router::with_limits(limits);
    let mut devices: Vec<Arc<dyn SharedDevice>> = Vec::new();
    let mut macs = Vec::new();
    for leg in &legs {
        let socket = PacketSocket::open(&leg.name)?;
        if leg.mac != socket.mac() {
            socket.set_promiscuous(true)?;
        }
        let config = InterfaceConfig {
            mac: leg.mac,
            addr: leg.addr,
            prefix_len: leg.prefix_len,
            mtu: socket.mtu(),
        };
        router.add_interface(&leg.name, config);
        eprintln!(
            "router: {} {}/{} at {} (MTU {})",
            leg.name, leg.addr, leg.prefix_len, leg.mac, config.mtu
        );
        macs.push(leg.mac);
        devices.push(Arc::new(socket));
    }
    for &(network, prefix_len, gateway) in &args.routes {
        let leg = router
            .routes()
            .lookup(gateway)
            .map(|route| route.interface)
            .ok_or_else(|| Failure::Usage(format!("gateway {gateway} is on none of the legs")))?;
        router
            .add_route(network, prefix_len, Some(gateway), leg)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let mut pcap = args.write.as_deref().map(create_pcap).transpose()?;
    let until = Until {
        stop: StopOnInterrupt::install()?,
        end,
        count: args.count,
    };
    // Sockets open, capture file created: nothing from here on needs a
    // privilege. Drop them before `Links::shared` starts its threads, since
    // capabilities belong to each thread and new threads copy ours.
    l2_link::sys::drop_capabilities()?;
    let links = Links::shared(devices)?;
    eprintln!("router: forwarding, ready; Ctrl-C to stop");
    let result = run_router(&mut router, links, &macs, &until, &mut pcap);
    if let Some(mut pcap) = pcap {
        pcap.flush()?;
    }
    eprintln!("router: {} events", result?);
    Ok(())
}

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

// ANCHOR: router_loop
/// The driver loop: as the host's, with one thread per leg waiting for
/// frames (see `Links::shared`), and every frame tagged with its leg.
/// Returns how many events it logged.
fn run_router(
    router: &mut Router,
    mut links: Links,
    macs: &[MacAddr],
    until: &Until,
    pcap: &mut Option<PcapWriter<BufWriter<File>>>,
) -> Result<u64, Failure> {
    let mut events = 0;
    loop {
        let now = Instant::now();
        router.poll(now);
        for event in router.drain_events() {
            events += 1;
            println!("{} {event}", clock_time(SystemTime::now()));
        }
        for (leg, frame) in router.drain_transmit() {
            record(pcap, &frame)?;
            links.send(leg, &frame)?;
        }
        if until.reached(now, events) {
            return Ok(events);
        }
        let deadline = [router.poll_at(), until.end].into_iter().flatten().min();
        let Some(received) = links.recv(deadline)? else {
            continue;
        };
        let ours = received.packet_type != PacketType::Outgoing
            && received
                .frame
                .get(..6)
                .is_some_and(|dst| dst == macs[received.port].0 || dst == MacAddr::BROADCAST.0);
        if ours {
            record(pcap, &received.frame)?;
        }
        router.receive(
            Instant::now(),
            received.port,
            &received.frame,
            received.packet_type,
        );
    }
}
// ANCHOR_END: router_loop

/// Appends `frame` to the capture, if there is one.
fn record(pcap: &mut Option<PcapWriter<BufWriter<File>>>, frame: &[u8]) -> Result<(), Failure> {
    if let Some(pcap) = pcap {
        pcap.write_frame(SystemTime::now(), frame, frame.len())?;
    }
    Ok(())
}
