//! `send-frame` — rawstack's own protocol on its own EtherType.
//!
//! Ethernet does not care what it carries: two bytes (the EtherType) tell
//! the receiver how to read the payload. This exercise sends text in frames
//! of EtherType 0x88B5 (IEEE's "local experimental" value, free for anyone's
//! own protocol on their own network) and listens for them on another host.
//!
//! ```text
//! alpha cargo run -p l2-link --example send-frame -- --listen -c 1   # on alpha
//! cargo run -p l2-link --example send-frame -- "hello, alpha"        # on raw
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use l2_link::device::PacketType;
use l2_link::exercise::{
    Failure, Whereabouts, check_may_send, clock_time, create_pcap, parse_mac, recv_frame,
};
use l2_link::pcap;
use l2_link::sys::{self, PacketSocket, bpf, signal};
use l2_link::wire::{
    EtherType, EthernetFrame, EthernetRepr, MacAddr, MessagePacket, MessageRepr, VlanTag,
};

const GREETING: &str = "Hello from rawstack! This frame carries EtherType 0x88B5.";

/// Send (or receive) text in Ethernet frames of EtherType 0x88B5.
#[derive(Parser)]
#[command(name = "send-frame", version)]
struct Args {
    /// The text to send (default: a greeting).
    message: Option<String>,
    /// Interface to use (default: this lab host's own: lab1 on raw, lab0 on
    /// alpha, lab3 on beta).
    #[arg(short = 'i', long)]
    interface: Option<String>,
    /// Destination MAC address (default: broadcast, so every station on the
    /// segment sees it).
    #[arg(long, value_parser = parse_mac)]
    to: Option<MacAddr>,
    /// Source MAC address (default: the interface's own).
    #[arg(long, value_parser = parse_mac)]
    from: Option<MacAddr>,
    /// Tag the frame for this 802.1Q VLAN (1-4094), to watch the receiving
    /// kernel strip the tag into PACKET_AUXDATA and a sniffer put it back.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..4095))]
    vlan: Option<u16>,
    /// Listen instead of sending: print each 0x88B5 frame that arrives.
    #[arg(long)]
    listen: bool,
    /// With --listen: stop after this many messages. Sending: send this many
    /// copies, one a second.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Also write the frames sent or received to this pcap file.
    #[arg(short = 'w', long, value_name = "FILE.pcap")]
    write: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.listen {
        listen(&args)
    } else {
        send(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("send-frame"),
    }
}

fn interface(args: &Args) -> String {
    args.interface
        .clone()
        .unwrap_or_else(|| Whereabouts::detect().default_interface().to_string())
}

// ANCHOR: send_message
fn send(args: &Args) -> Result<(), Failure> {
    check_may_send(
        Whereabouts::detect(),
        args.interface.is_some(),
        args.to.is_some(),
    )?;
    let interface = interface(args);
    let socket = PacketSocket::open(&interface)?;
    // CAP_NET_RAW was needed for socket() only (see sniff).
    sys::drop_capabilities()?;
    let text = args.message.as_deref().unwrap_or(GREETING);

    let message = MessageRepr { text };
    let mut payload = vec![0u8; message.buffer_len()];
    message.emit(&mut MessagePacket::new_unchecked(&mut payload[..]));
    let ethernet = EthernetRepr {
        destination: args.to.unwrap_or(MacAddr::BROADCAST),
        source: args.from.unwrap_or(socket.mac()),
        vlan: args.vlan.map(|vid| VlanTag {
            pcp: 0,
            dei: false,
            vid,
        }),
        ethertype: EtherType::LOCAL_EXPERIMENTAL_1,
    };
    // `build` pads short frames to Ethernet's 60-byte minimum: the text's
    // length field is how the receiver knows where the text ends.
    let frame = ethernet.build(&payload);

    let mut writer = args.write.as_deref().map(create_pcap).transpose()?;
    let copies = args.count.unwrap_or(1);
    for copy in 0..copies {
        if copy > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        socket.send(&frame)?;
        if let Some(writer) = writer.as_mut() {
            writer.write_frame(SystemTime::now(), &frame, frame.len())?;
        }
        println!(
            "sent {} bytes on {interface}: {} → {} type 0x88b5 {text:?}",
            frame.len(),
            ethernet.source,
            ethernet.destination
        );
    }
    if let Some(mut writer) = writer {
        writer.flush()?;
    }
    Ok(())
}
// ANCHOR_END: send_message

// ANCHOR: listen_messages
fn listen(args: &Args) -> Result<(), Failure> {
    let interface = interface(args);
    let socket = PacketSocket::open(&interface)?;
    // Let the kernel drop every other EtherType before it reaches us.
    socket.attach_filter(&bpf::ethertype_filter(EtherType::LOCAL_EXPERIMENTAL_1))?;
    let mut writer = args.write.as_deref().map(create_pcap).transpose()?;
    sys::drop_capabilities()?;
    let stop = signal::StopOnInterrupt::install()?;
    eprintln!("listening on {interface} for EtherType 0x88b5 (Ctrl-C to stop)");

    let mut buf = vec![0u8; 65535];
    let mut received = 0u64;
    while args.count.is_none_or(|count| received < count) && !stop.requested() {
        let deadline = Instant::now() + Duration::from_millis(200);
        let Some(meta) = recv_frame(&socket, &mut buf, deadline)? else {
            continue;
        };
        // Our own host's transmissions are looped back to sniffers: skip them.
        if meta.packet_type == PacketType::Outgoing {
            continue;
        }
        // A VLAN tag arrives stripped, in PACKET_AUXDATA: put it back.
        let frame = match meta.vlan_tci {
            Some(tci) => pcap::reinsert_vlan_tag(&buf[..meta.len], tci),
            None => buf[..meta.len].to_vec(),
        };
        if let Some(writer) = writer.as_mut() {
            writer.write_frame(meta.timestamp, &frame, frame.len())?;
        }
        received += 1;
        println!("{} {}", clock_time(meta.timestamp), describe(&frame));
    }
    if let Some(mut writer) = writer {
        writer.flush()?;
    }
    Ok(())
}

/// One line for a received frame: who sent it, to whom, and its text — or
/// why it is not a valid message.
fn describe(frame: &[u8]) -> String {
    let ethernet = match EthernetFrame::new_checked(frame) {
        Ok(ethernet) => ethernet,
        Err(err) => return format!("bad frame: {err}"),
    };
    let (source, destination) = (ethernet.source(), ethernet.destination());
    let vlan = ethernet
        .vlan()
        .map(|tag| format!(" vlan {}", tag.vid))
        .unwrap_or_default();
    match MessagePacket::new_checked(ethernet.payload())
        .and_then(|packet| MessageRepr::parse(&packet).map(|message| message.text.to_string()))
    {
        Ok(text) => format!("from {source} to {destination}{vlan}: {text:?}"),
        Err(err) => format!("from {source} to {destination}{vlan}: not a message: {err}"),
    }
}
// ANCHOR_END: listen_messages
