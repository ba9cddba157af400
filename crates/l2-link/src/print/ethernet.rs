//! The Ethernet II dissector, 802.1Q tag included.

use crate::wire::ethernet::{MIN_FRAME_LEN, field};
use crate::wire::{EtherType, EthernetFrame, MacAddr};

use super::{Dissection, Dissector, Layer, Printer, Table, at, ethertype_value};

/// Decodes an Ethernet II header and its 802.1Q tag, if any, then hands
/// the payload to the dissector registered for its EtherType. Afterwards it
/// claims what nobody decoded at the end of the frame: padding up to the
/// 60-byte minimum, and any trailer beyond.
#[derive(Debug, Clone, Copy, Default)]
pub struct EthernetDissector;

impl Dissector for EthernetDissector {
    fn dissect(&self, frame: &[u8], offset: usize, printer: &Printer, out: &mut Dissection) {
        let bytes = frame.get(offset..).unwrap_or_default();
        let eth = match EthernetFrame::new_checked(bytes) {
            Ok(eth) => eth,
            Err(error) => {
                out.push_undecoded("Ethernet", offset..frame.len(), &error);
                return;
            }
        };
        let (destination, source) = (eth.destination(), eth.source());
        let outer_type = match eth.vlan() {
            Some(_) => EtherType::VLAN,
            None => eth.ethertype(),
        };

        let ours = out.layers.len();
        let mut layer = Layer::new(
            "Ethernet",
            offset..frame.len(),
            format!("Ethernet {source} → {destination} type {outer_type}"),
        );
        layer.push_field(
            at(offset, field::DESTINATION),
            "dst",
            mac_value(destination),
        );
        layer.push_field(at(offset, field::SOURCE), "src", mac_value(source));
        layer.push_field(
            at(offset, field::ETHERTYPE),
            "type",
            ethertype_value(outer_type),
        );
        out.layers.push(layer);

        if let Some(tag) = eth.vlan() {
            let dei = if tag.dei { " dei" } else { "" };
            let mut vlan = Layer::new(
                "802.1Q",
                offset + field::VLAN_TCI.start..frame.len(),
                format!(
                    "802.1Q vlan {} pcp {}{dei} type {}",
                    tag.vid,
                    tag.pcp,
                    eth.ethertype()
                ),
            );
            vlan.push_field(
                at(offset, field::VLAN_TCI),
                "tci",
                format!(
                    "pcp {}, dei {}, vid {}",
                    tag.pcp,
                    u8::from(tag.dei),
                    tag.vid
                ),
            );
            vlan.push_field(
                at(offset, field::VLAN_ETHERTYPE),
                "type",
                ethertype_value(eth.ethertype()),
            );
            out.layers.push(vlan);
        }

        let payload = offset + eth.header_len();
        if payload < frame.len() {
            let key = eth.ethertype().0.into();
            if !printer.dispatch(Table::ETHERTYPE, key, frame, payload, out) {
                out.push_data(payload..frame.len());
            }
        }

        // Ethernet does not know where its payload ends; the payload's own
        // length (ARP's fixed size, IPv4's total length) does. Whatever
        // follows is padding to the minimum frame size, then a trailer.
        let decoded = out.claimed_end(ours).clamp(payload, frame.len());
        let min_end = (offset + MIN_FRAME_LEN).min(frame.len());
        if let Some(layer) = out.layers.get_mut(ours) {
            if decoded < min_end {
                let padding = &frame[decoded..min_end];
                layer.push_field(decoded..min_end, "padding", trailing_value(padding));
            }
            let trailer_start = decoded.max(min_end);
            if trailer_start < frame.len() {
                let trailer = &frame[trailer_start..];
                layer.push_field(
                    trailer_start..frame.len(),
                    "trailer",
                    trailing_value(trailer),
                );
            }
        }
    }
}

/// A MAC address, with a word on its kind when it is not one station.
fn mac_value(mac: MacAddr) -> String {
    if mac.is_broadcast() {
        format!("{mac} (broadcast)")
    } else if mac.is_multicast() {
        format!("{mac} (multicast)")
    } else {
        mac.to_string()
    }
}

/// "18 bytes, zero" — or not zero, which is worth noticing.
fn trailing_value(bytes: &[u8]) -> String {
    let len = bytes.len();
    if bytes.iter().all(|&b| b == 0) {
        format!("{len} bytes, zero")
    } else {
        format!("{len} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// broadcast, from 02:00:00:00:00:12, with `ethertype` and `payload`.
    fn frame(ethertype: [u8; 2], payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 0x12]);
        frame.extend_from_slice(&ethertype);
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn unknown_ethertypes_carry_data() {
        let frame = frame([0x88, 0xb7], &[0; 46]);
        assert_eq!(
            Printer::layer2().summary(&frame),
            r"Ethernet 02:00:00:00:00:12 → ff:ff:ff:ff:ff:ff type 0x88b7 \ Data 46 bytes"
        );
    }

    #[test]
    fn tag_with_dei_is_its_own_layer() {
        // TCI 0x3005: PCP 1, DEI set, VID 5; then EtherType 0x88b7.
        let frame = frame([0x81, 0x00], &[0x30, 0x05, 0x88, 0xb7, 1, 2]);
        let summary = Printer::layer2().summary(&frame);
        assert!(
            summary.contains(r"type 802.1Q \ 802.1Q vlan 5 pcp 1 dei type 0x88b7 \ Data 2 bytes"),
            "{summary}"
        );
    }

    #[test]
    fn bytes_after_the_payload_are_padding_then_trailer() {
        // A 2-byte message ("hi") in a 70-byte frame: 14 + 4 decoded, padding
        // to 60, and 10 bytes more (here not zero) are a trailer.
        let mut payload = vec![0, 2, b'h', b'i'];
        payload.resize(46, 0);
        payload.extend_from_slice(&[0xaa; 10]);
        let dissection = Printer::layer2().dissect(&frame([0x88, 0xb5], &payload));
        let ethernet = &dissection.layers[0];
        let tail: Vec<_> = ethernet.fields[3..]
            .iter()
            .map(|f| (f.name, f.range.clone(), f.value.as_str()))
            .collect();
        assert_eq!(
            tail,
            [
                ("padding", 18..60, "42 bytes, zero"),
                ("trailer", 60..70, "10 bytes")
            ]
        );
    }
}
