//! The ICMP dissector, with the datagram an error quotes.

use l2_link::print::{Dissection, Dissector, Layer, Printer};

use super::ipv4::{QUOTED, push_header_fields};
use super::{at, byte_at, checksum_value};
use crate::checksum::Checksum;
use crate::wire::icmpv4::{
    TYPE_DST_UNREACHABLE, TYPE_ECHO_REPLY, TYPE_ECHO_REQUEST, TYPE_TIME_EXCEEDED, field, type_name,
};
use crate::wire::{
    DstUnreachable, Icmpv4Packet, IpProtocol, Ipv4Packet, QuotedDatagram, TimeExceeded,
};

/// Decodes an ICMP message: its header, the echo identifier and sequence
/// number, or for an error the original datagram's IPv4 header and first
/// bytes (the UDP/TCP ports, or the echo identifier and sequence number,
/// that tell the sender which of its packets failed). Summaries like
/// `ICMP echo request id 0x1234 seq 1` and `ICMP time exceeded in-transit
/// (quoting UDP 198.18.0.1:44444 → 198.18.1.1:33434)`.
///
/// The frame it gets ends where the IPv4 packet ends (the IPv4 dissector
/// cuts it), so the checksum covers exactly the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Icmpv4Dissector;

impl Dissector for Icmpv4Dissector {
    fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match Icmpv4Packet::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                out.push_undecoded("ICMP", offset..frame.len(), &error);
                return;
            }
        };
        let msg_type = packet.msg_type();
        let code = packet.code();
        let mut layer = Layer::new("ICMP", offset..frame.len(), String::new());
        layer.push_field(
            byte_at(offset, field::TYPE),
            "type",
            match type_name(msg_type) {
                Some(name) => format!("{msg_type} ({name})"),
                None => msg_type.to_string(),
            },
        );
        layer.push_field(
            byte_at(offset, field::CODE),
            "code",
            code_value(msg_type, code),
        );

        let mut others = Checksum::new();
        others.add_bytes(&bytes[..field::CHECKSUM.start]);
        others.add_bytes(&bytes[field::CHECKSUM.end..]);
        let should_be = others.finish();
        let whole = captured_whole(frame, out);
        let verifies = !whole || packet.verify_checksum();
        layer.push_field(
            at(offset, field::CHECKSUM),
            "checksum",
            if whole {
                checksum_value(packet.checksum(), verifies, should_be)
            } else {
                format!(
                    "0x{:04x} (not checked: the capture cut the message)",
                    packet.checksum()
                )
            },
        );
        if !verifies {
            out.notes.push(format!(
                "ICMP: bad checksum (0x{:04x}, should be 0x{should_be:04x})",
                packet.checksum()
            ));
        }

        let data = offset + field::DATA..frame.len();
        layer.summary = match msg_type {
            TYPE_ECHO_REQUEST | TYPE_ECHO_REPLY => {
                let ident = packet.echo_ident();
                let seq = packet.echo_seq();
                layer.push_field(
                    at(offset, field::ECHO_IDENT),
                    "id",
                    format!("0x{ident:04x} ({ident})"),
                );
                layer.push_field(at(offset, field::ECHO_SEQ), "seq", seq.to_string());
                if !data.is_empty() {
                    layer.push_field(data.clone(), "data", format!("{} bytes", data.len()));
                }
                let name = type_name(msg_type).unwrap_or_default();
                format!("ICMP {name} id 0x{ident:04x} seq {seq}")
            }
            TYPE_DST_UNREACHABLE | TYPE_TIME_EXCEEDED => {
                let headline = if msg_type == TYPE_DST_UNREACHABLE {
                    layer.push_field(
                        at(offset, field::UNUSED),
                        "unused",
                        format!("0x{:04x}", packet.rest_of_header() >> 16),
                    );
                    let mtu = packet.next_hop_mtu();
                    layer.push_field(at(offset, field::NEXT_HOP_MTU), "mtu", mtu.to_string());
                    match DstUnreachable::from(code) {
                        DstUnreachable::FragRequired => {
                            format!("ICMP fragmentation needed, next-hop MTU {mtu}")
                        }
                        reason => format!("ICMP {reason}"),
                    }
                } else {
                    layer.push_field(
                        at(offset, field::REST_OF_HEADER),
                        "unused",
                        format!("0x{:08x}", packet.rest_of_header()),
                    );
                    match TimeExceeded::from_code(code) {
                        Some(reason) => format!("ICMP time exceeded {reason}"),
                        None => format!("ICMP time exceeded, code {code}"),
                    }
                };
                let quote = push_quote(&mut layer, frame, data, out);
                format!("{headline}{quote}")
            }
            _ => {
                layer.push_field(
                    at(offset, field::REST_OF_HEADER),
                    "rest",
                    format!("0x{:08x}", packet.rest_of_header()),
                );
                if !data.is_empty() {
                    layer.push_field(data.clone(), "data", format!("{} bytes", data.len()));
                }
                match type_name(msg_type) {
                    Some(name) => format!("ICMP {name} code {code}"),
                    None => format!("ICMP type {msg_type} code {code}"),
                }
            }
        };
        out.layers.push(layer);
    }
}

/// The code, with its meaning for the types that have named codes.
fn code_value(msg_type: u8, code: u8) -> String {
    match msg_type {
        TYPE_DST_UNREACHABLE => format!("{code} ({})", DstUnreachable::from(code)),
        TYPE_TIME_EXCEEDED => match TimeExceeded::from_code(code) {
            Some(TimeExceeded::TtlExpired) => format!("{code} (TTL expired in transit)"),
            Some(TimeExceeded::FragReassembly) => format!("{code} (reassembly time exceeded)"),
            None => code.to_string(),
        },
        _ => code.to_string(),
    }
}

/// Pushes the fields of the datagram an error quotes, found at `range` of
/// `frame`, and returns the summary's tail: ` (quoting UDP a:p → b:q)`.
fn push_quote(
    layer: &mut Layer,
    frame: &[u8],
    range: core::ops::Range<usize>,
    out: &mut Dissection,
) -> String {
    let bytes = frame.get(range.clone()).unwrap_or_default();
    if bytes.is_empty() {
        return String::new();
    }
    let quote = match QuotedDatagram::parse(bytes) {
        Ok(quote) => quote,
        Err(error) => {
            layer.push_field(range.clone(), "quote", format!("{} bytes", range.len()));
            out.notes.push(error.to_string());
            return String::new();
        }
    };
    // parse checked that the whole header is there.
    let header = Ipv4Packet::new_unchecked(bytes);
    push_header_fields(layer, range.start, &header, &QUOTED);

    let data_start = range.start + header.header_len();
    let payload = quote.payload_start;
    let ip = &quote.header;
    let mut used = 0;
    let mut what = format!("{} {} → {}", ip.protocol, ip.src_addr, ip.dst_addr);
    match ip.protocol {
        IpProtocol::UDP | IpProtocol::TCP if payload.len() >= 4 => {
            let word = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
            let (src_port, dst_port) = (word(0), word(2));
            // RFC 792's 8 bytes hold a whole UDP header, or a TCP header's
            // ports and sequence number.
            let (name, text) = match (ip.protocol, payload.len() >= 8) {
                (IpProtocol::UDP, true) => {
                    used = 8;
                    let text = format!(
                        "{src_port} → {dst_port}, length {}, checksum 0x{:04x}",
                        word(4),
                        word(6)
                    );
                    ("quote.udp", text)
                }
                (IpProtocol::TCP, true) => {
                    used = 8;
                    let seq = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                    ("quote.tcp", format!("{src_port} → {dst_port}, seq {seq}"))
                }
                _ => {
                    used = 4;
                    ("quote.ports", format!("{src_port} → {dst_port}"))
                }
            };
            layer.push_field(data_start..data_start + used, name, text);
            what = format!(
                "{} {}:{src_port} → {}:{dst_port}",
                ip.protocol, ip.src_addr, ip.dst_addr
            );
        }
        IpProtocol::ICMP if payload.len() >= 8 => {
            let echo = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
            let text = match (payload[0], type_name(payload[0])) {
                (TYPE_ECHO_REQUEST | TYPE_ECHO_REPLY, Some(name)) => {
                    format!("{name} id 0x{:04x} seq {}", echo(4), echo(6))
                }
                (_, Some(name)) => name.to_string(),
                (other, None) => format!("type {other}"),
            };
            layer.push_field(data_start..data_start + 8, "quote.icmp", text.clone());
            what = format!("ICMP {} → {} {text}", ip.src_addr, ip.dst_addr);
            used = 8;
        }
        _ => {}
    }
    if payload.len() > used {
        let rest = data_start + used..data_start + payload.len();
        layer.push_field(rest.clone(), "quote.data", format!("{} bytes", rest.len()));
    }
    format!(" (quoting {what})")
}

/// Whether the capture holds the whole message: the IPv4 packet around it
/// (if the frame has one) was not cut short by the snapshot length. Over
/// a cut message the checksum cannot be checked, only shown.
fn captured_whole(frame: &[u8], out: &Dissection) -> bool {
    let Some(ip) = out.layers.iter().rev().find(|layer| layer.name == "IPv4") else {
        return true;
    };
    frame
        .get(ip.range.start..)
        .is_some_and(|bytes| Ipv4Packet::new_checked(bytes).is_ok())
}
