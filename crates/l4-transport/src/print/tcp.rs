//! The TCP dissector.

use l2_link::print::{Dissection, Dissector, Layer, Printer};

use super::{
    ChecksumCheck, TCP_PORT, at, byte_at, checksum_value, dispatch_payload, endpoint, ip_addresses,
};
use crate::wire::tcp::{MAX_WINDOW_SCALE, field};
use crate::wire::{TcpFlags, TcpOption, TcpPacket};

/// Decodes a TCP header field by field, options included, checks its
/// checksum against the IPv4 pseudo-header, then hands the data to the
/// dissector registered in [`TCP_PORT`] for one of its ports. The summary
/// reads like tcpdump's (with `-S`: absolute sequence numbers):
/// `TCP 198.18.0.2:40000 → 198.18.0.1:7 [S] seq 1000 win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>`,
/// with `ack` when ACK is set, `urg` when URG is, and `len` when there is
/// data.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpDissector;

impl Dissector for TcpDissector {
    fn dissect(&self, frame: &[u8], offset: usize, printer: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let packet = match TcpPacket::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                out.push_undecoded("TCP", offset..frame.len(), &error);
                return;
            }
        };
        let addresses = ip_addresses(frame, offset, out);
        let options = Options::read(packet.options());
        let mut layer = Layer::new(
            "TCP",
            offset..frame.len(),
            summary(&packet, addresses, &options),
        );
        push_fixed_fields(&mut layer, offset, &packet);
        let check = match addresses {
            None => ChecksumCheck::Unchecked,
            Some((src, dst)) => match packet.compute_checksum(src, dst) {
                Some(sum) if sum == packet.checksum() => ChecksumCheck::Correct,
                Some(sum) => ChecksumCheck::Wrong(sum),
                None => ChecksumCheck::Unchecked,
            },
        };
        if let ChecksumCheck::Wrong(should_be) = check {
            out.notes.push(format!(
                "TCP: bad checksum (0x{:04x}, should be 0x{should_be:04x})",
                packet.checksum()
            ));
        }
        layer.push_field(
            at(offset, field::CHECKSUM),
            "checksum",
            checksum_value(packet.checksum(), &check),
        );
        layer.push_field(
            at(offset, field::URGENT),
            "urgent",
            packet.urgent_at().to_string(),
        );
        let mut start = offset + field::OPTIONS;
        for (len, value) in options.fields() {
            layer.push_field(start..start + len, "option", value);
            start += len;
        }
        if let Some(error) = &options.error {
            out.notes.push(error.to_string());
        }
        out.layers.push(layer);

        let ports = (packet.src_port(), packet.dst_port());
        let payload = offset + packet.header_len()..frame.len();
        dispatch_payload(printer, TCP_PORT, ports, frame, payload, out);
    }
}

/// Ports, numbers, Data Offset, flags and window: the fields before the
/// checksum.
fn push_fixed_fields(layer: &mut Layer, offset: usize, packet: &TcpPacket<&[u8]>) {
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
    layer.push_field(
        at(offset, field::SEQ_NUM),
        "seq",
        packet.seq_number().to_string(),
    );
    let ack = if packet.flags().contains(TcpFlags::ACK) {
        packet.ack_number().to_string()
    } else {
        format!("{} (ACK not set)", packet.ack_number())
    };
    layer.push_field(at(offset, field::ACK_NUM), "ack", ack);
    let mut data_offset = format!(
        "data offset {} ({} bytes)",
        packet.header_len() / 4,
        packet.header_len()
    );
    if packet.reserved() != 0 {
        data_offset.push_str(&format!(", reserved bits 0x{:x}", packet.reserved()));
    }
    layer.push_field(byte_at(offset, field::DATA_OFFSET), "offset", data_offset);
    let flags = packet.flags();
    let names: Vec<&str> = flags.names().collect();
    layer.push_field(
        byte_at(offset, field::FLAGS),
        "flags",
        format!("0x{:02x} {flags} {}", flags.bits(), names.join(", ")),
    );
    layer.push_field(
        at(offset, field::WINDOW),
        "window",
        packet.window_len().to_string(),
    );
}

/// `TCP src → dst [S.] seq S ack A win W <options> len L`.
fn summary(
    packet: &TcpPacket<&[u8]>,
    addresses: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    options: &Options<'_>,
) -> String {
    let flags = packet.flags();
    let mut line = format!(
        "TCP {} → {} {flags} seq {}",
        endpoint(addresses.map(|a| a.0), packet.src_port()),
        endpoint(addresses.map(|a| a.1), packet.dst_port()),
        packet.seq_number()
    );
    if flags.contains(TcpFlags::ACK) {
        line.push_str(&format!(" ack {}", packet.ack_number()));
    }
    line.push_str(&format!(" win {}", packet.window_len()));
    if flags.contains(TcpFlags::URG) {
        line.push_str(&format!(" urg {}", packet.urgent_at()));
    }
    let mut short: Vec<String> = options.list.iter().map(short_form).collect();
    if options.error.is_some() {
        short.push("malformed".into());
    }
    if !short.is_empty() {
        line.push_str(&format!(" <{}>", short.join(",")));
    }
    if !packet.payload().is_empty() {
        line.push_str(&format!(" len {}", packet.payload().len()));
    }
    line
}

/// The options of one header as the iterator read them: the good ones,
/// the first error if any, and how many bytes each part takes.
struct Options<'a> {
    list: Vec<TcpOption<'a>>,
    /// Why the walk stopped early, if it did.
    error: Option<l2_link::wire::Error>,
    /// All the option bytes, padding included.
    bytes: &'a [u8],
}

impl<'a> Options<'a> {
    fn read(bytes: &'a [u8]) -> Options<'a> {
        let mut list = Vec::new();
        let mut error = None;
        for option in crate::wire::TcpOptionsIter::new(bytes) {
            match option {
                Ok(option) => list.push(option),
                Err(e) => error = Some(e),
            }
        }
        Options { list, error, bytes }
    }

    /// One `(length, value)` per hex dump line: each option, then what is
    /// left — padding after End of Option List, or the damaged rest.
    fn fields(&self) -> Vec<(usize, String)> {
        let mut fields: Vec<(usize, String)> = self
            .list
            .iter()
            .map(|option| (option.wire_len(), long_form(option)))
            .collect();
        let used: usize = fields.iter().map(|(len, _)| len).sum();
        let left = self.bytes.len().saturating_sub(used);
        if left > 0 {
            let value = match &self.error {
                Some(l2_link::wire::Error::Malformed { reason, .. }) => {
                    format!("malformed: {reason}")
                }
                Some(error) => error.to_string(),
                None => format!("padding, {left} bytes"),
            };
            fields.push((left, value));
        }
        fields
    }
}

/// An option as tcpdump writes it inside `options [...]`.
fn short_form(option: &TcpOption<'_>) -> String {
    match option {
        TcpOption::EndOfList => "eol".into(),
        TcpOption::NoOperation => "nop".into(),
        TcpOption::MaxSegmentSize(mss) => format!("mss {mss}"),
        TcpOption::WindowScale(shift) => format!("wscale {shift}"),
        TcpOption::SackPermitted => "sackOK".into(),
        TcpOption::SackBlocks(blocks) => {
            let edges: String = blocks
                .as_slice()
                .iter()
                .map(|(left, right)| format!("{{{left}:{right}}}"))
                .collect();
            format!("sack {} {edges}", blocks.as_slice().len())
        }
        TcpOption::Timestamps { tsval, tsecr } => format!("TS val {tsval} ecr {tsecr}"),
        TcpOption::Unknown { kind, data } => {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            if hex.is_empty() {
                format!("unknown-{kind}")
            } else {
                format!("unknown-{kind} 0x{hex}")
            }
        }
    }
}

/// An option in words, for the hex dump.
fn long_form(option: &TcpOption<'_>) -> String {
    match option {
        TcpOption::EndOfList => "End of Option List".into(),
        TcpOption::NoOperation => "No-Operation".into(),
        TcpOption::MaxSegmentSize(mss) => format!("maximum segment size {mss}"),
        TcpOption::WindowScale(shift) if *shift <= MAX_WINDOW_SCALE => {
            format!("window scale {shift} (×{})", 1u32 << shift)
        }
        TcpOption::WindowScale(shift) => {
            format!("window scale {shift} (above {MAX_WINDOW_SCALE}: used as {MAX_WINDOW_SCALE})")
        }
        TcpOption::SackPermitted => "SACK permitted".into(),
        TcpOption::SackBlocks(blocks) => {
            let edges: Vec<String> = blocks
                .as_slice()
                .iter()
                .map(|(left, right)| format!("{left}–{right}"))
                .collect();
            format!("SACK {}", edges.join(", "))
        }
        TcpOption::Timestamps { tsval, tsecr } => {
            format!("timestamps TSval {tsval}, TSecr {tsecr}")
        }
        TcpOption::Unknown { kind, data } => {
            format!("option kind {kind}, {} bytes of data", data.len())
        }
    }
}
