//! The UDP dissector.

use l2_link::print::{Dissection, Dissector, Layer, Printer};

use super::{
    ChecksumCheck, UDP_PORT, at, checksum_value, dispatch_payload, endpoint, ip_addresses,
};
use crate::wire::UdpPacket;
use crate::wire::udp::{HEADER_LEN, field};

/// Decodes a UDP header field by field, checks its checksum against the
/// IPv4 pseudo-header, then hands the data to the dissector registered in
/// [`UDP_PORT`] for one of its ports. The summary reads like
/// `UDP 198.18.0.2:40000 → 198.18.0.1:7 len 5`, where `len` counts the
/// data, as tcpdump's `length` does.
#[derive(Debug, Clone, Copy, Default)]
pub struct UdpDissector;

impl Dissector for UdpDissector {
    fn dissect(&self, frame: &[u8], offset: usize, printer: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match UdpPacket::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => match cut_by_the_snapshot(bytes) {
                // A capture cut short: the header is whole, so show it and
                // what data there is, and say what is missing.
                Some(packet) => {
                    out.notes.push(format!(
                        "UDP: {} of its {} bytes captured",
                        bytes.len(),
                        packet.len()
                    ));
                    packet
                }
                None => {
                    out.push_undecoded("UDP", offset..frame.len(), &error);
                    return;
                }
            },
        };
        let captured_all = usize::from(packet.len()) <= bytes.len();
        // Without all the data the checksum cannot be checked: the IPv4
        // layer had no addresses to give either way then (see ip_addresses).
        let addresses = ip_addresses(frame, offset, out).filter(|_| captured_all);
        let end = offset + usize::from(packet.len()).min(bytes.len());
        let summary = format!(
            "UDP {} → {} len {}",
            endpoint(addresses.map(|a| a.0), packet.src_port()),
            endpoint(addresses.map(|a| a.1), packet.dst_port()),
            usize::from(packet.len()) - HEADER_LEN
        );
        let mut layer = Layer::new("UDP", offset..end, summary);
        layer.push_field(
            at(offset, field::SRC_PORT),
            "sport",
            packet.src_port().to_string(),
        );
        layer.push_field(
            at(offset, field::DST_PORT),
            "dport",
            packet.dst_port().to_string(),
        );
        layer.push_field(at(offset, field::LENGTH), "len", packet.len().to_string());
        let check = match addresses {
            _ if packet.checksum() == 0 => ChecksumCheck::Absent,
            None => ChecksumCheck::Unchecked,
            Some((src, dst)) if packet.verify_checksum(src, dst) => ChecksumCheck::Correct,
            Some((src, dst)) => ChecksumCheck::Wrong(packet.compute_checksum(src, dst)),
        };
        if let ChecksumCheck::Wrong(should_be) = check {
            out.notes.push(format!(
                "UDP: bad checksum (0x{:04x}, should be 0x{should_be:04x})",
                packet.checksum()
            ));
        }
        layer.push_field(
            at(offset, field::CHECKSUM),
            "checksum",
            checksum_value(packet.checksum(), &check),
        );
        out.layers.push(layer);

        let ports = (packet.src_port(), packet.dst_port());
        if !captured_all && end <= offset + field::PAYLOAD {
            return;
        }
        let payload = offset + field::PAYLOAD..end;
        dispatch_payload(printer, UDP_PORT, ports, frame, payload, out);
    }
}

/// The datagram, if `bytes` hold its whole 8-byte header with a sane
/// length and only the data is shorter than the length says: the mark of
/// a capture's snapshot length.
fn cut_by_the_snapshot(bytes: &[u8]) -> Option<UdpPacket<&[u8]>> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let packet = UdpPacket::new_unchecked(bytes);
    let len = usize::from(packet.len());
    (len >= HEADER_LEN && len > bytes.len()).then_some(packet)
}
