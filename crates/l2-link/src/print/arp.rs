//! The ARP dissector.

use std::net::Ipv4Addr;

use crate::wire::arp::{HARDWARE_ETHERNET, field};
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, MacAddr};

use super::{Dissection, Dissector, Layer, Printer, at, ethertype_value};

/// Decodes an ARP packet of any hardware and protocol type, field by field;
/// the one-line summary reads like tcpdump's for Ethernet/IPv4
/// (`who-has 198.18.0.1 tell 198.18.0.2`, `198.18.0.1 is-at …`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ArpDissector;

impl Dissector for ArpDissector {
    fn dissect(&self, frame: &[u8], offset: usize, _: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match ArpPacket::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                out.push_undecoded("ARP", offset..frame.len(), &error);
                return;
            }
        };

        let summary = match ArpRepr::parse(&packet) {
            Ok(repr) => summary(&repr),
            Err(error) => {
                out.notes.push(error.to_string());
                format!(
                    "ARP op {} hardware type {} protocol {}",
                    u16::from(packet.operation()),
                    packet.hardware_type(),
                    packet.protocol_type()
                )
            }
        };
        let mut layer = Layer::new("ARP", offset..offset + packet.packet_len(), summary);
        layer.push_field(
            at(offset, field::HARDWARE_TYPE),
            "htype",
            match packet.hardware_type() {
                HARDWARE_ETHERNET => format!("{HARDWARE_ETHERNET} (Ethernet)"),
                other => other.to_string(),
            },
        );
        layer.push_field(
            at(offset, field::PROTOCOL_TYPE),
            "ptype",
            ethertype_value(packet.protocol_type()),
        );
        let one_byte = |at: usize| offset + at..offset + at + 1;
        layer.push_field(
            one_byte(field::HARDWARE_LEN),
            "hlen",
            packet.hardware_len().to_string(),
        );
        layer.push_field(
            one_byte(field::PROTOCOL_LEN),
            "plen",
            packet.protocol_len().to_string(),
        );
        layer.push_field(
            at(offset, field::OPERATION),
            "oper",
            operation_value(packet.operation()),
        );

        let (hlen, plen) = (packet.hardware_len().into(), packet.protocol_len().into());
        let hardware = |bytes: &[u8]| hardware_value(&packet, bytes);
        let protocol = |bytes: &[u8]| protocol_value(&packet, bytes);
        layer.push_field(
            at(offset, field::sender_hardware(hlen, plen)),
            "sha",
            hardware(packet.sender_hardware_addr()),
        );
        layer.push_field(
            at(offset, field::sender_protocol(hlen, plen)),
            "spa",
            protocol(packet.sender_protocol_addr()),
        );
        layer.push_field(
            at(offset, field::target_hardware(hlen, plen)),
            "tha",
            hardware(packet.target_hardware_addr()),
        );
        layer.push_field(
            at(offset, field::target_protocol(hlen, plen)),
            "tpa",
            protocol(packet.target_protocol_addr()),
        );
        out.layers.push(layer);
    }
}

/// The summary of an Ethernet/IPv4 packet, in tcpdump's words.
fn summary(repr: &ArpRepr) -> String {
    let ArpRepr {
        sender_mac,
        sender_ip,
        target_ip,
        ..
    } = *repr;
    if repr.is_gratuitous() {
        return format!("ARP gratuitous {sender_ip} is-at {sender_mac}");
    }
    match repr.operation {
        ArpOperation::Request => format!("ARP who-has {target_ip} tell {sender_ip}"),
        ArpOperation::Reply => format!("ARP {sender_ip} is-at {sender_mac}"),
        ArpOperation::Unknown(op) => format!("ARP op {op} from {sender_ip} to {target_ip}"),
    }
}

/// `1 (request)`, `2 (reply)`, or the bare number.
fn operation_value(operation: ArpOperation) -> String {
    match operation {
        ArpOperation::Request => "1 (request)".to_string(),
        ArpOperation::Reply => "2 (reply)".to_string(),
        ArpOperation::Unknown(op) => op.to_string(),
    }
}

/// A hardware address: a MAC address when the packet says Ethernet and the
/// length fits, hex otherwise.
fn hardware_value<T: AsRef<[u8]>>(packet: &ArpPacket<T>, bytes: &[u8]) -> String {
    match <[u8; 6]>::try_from(bytes) {
        Ok(octets) if packet.hardware_type() == HARDWARE_ETHERNET => MacAddr(octets).to_string(),
        _ => colon_hex(bytes),
    }
}

/// A protocol address: dotted IPv4 when the packet says IPv4 and the
/// length fits, hex otherwise.
fn protocol_value<T: AsRef<[u8]>>(packet: &ArpPacket<T>, bytes: &[u8]) -> String {
    match <[u8; 4]>::try_from(bytes) {
        Ok(octets) if packet.protocol_type() == EtherType::IPV4 => {
            Ipv4Addr::from(octets).to_string()
        }
        _ => colon_hex(bytes),
    }
}

/// `0a:0b:0c`, for addresses of a kind we do not know.
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use crate::print::Printer;

    #[test]
    fn other_hardware_is_shown_in_hex_with_a_note() {
        // Ethernet header, then ARP for hardware type 6 (IEEE 802) with
        // 2-byte hardware addresses.
        let mut frame = vec![0xff; 12];
        frame.extend_from_slice(&[0x08, 0x06]);
        frame.extend_from_slice(&[0, 6, 8, 0, 2, 4, 0, 1]);
        frame.extend_from_slice(&[0xa, 0xb, 198, 18, 0, 2, 0, 0, 198, 18, 0, 1]);
        let printer = Printer::layer2();
        let dissection = printer.dissect(&frame);
        assert_eq!(
            dissection.layers[1].summary,
            "ARP op 1 hardware type 6 protocol IPv4"
        );
        assert_eq!(
            dissection.notes,
            ["ARP: unsupported: hardware type is not Ethernet (1)"]
        );
        let sha = &dissection.layers[1].fields[5];
        assert_eq!(
            (sha.name, sha.range.clone(), sha.value.as_str()),
            ("sha", 22..24, "0a:0b")
        );
    }
}
