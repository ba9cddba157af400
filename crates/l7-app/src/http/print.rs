//! The HTTP dissector for the printer: the start line and header fields
//! of a segment that begins a message (TCP port 80). A segment in the
//! middle of a body is shown as data — without reassembling the stream,
//! as tcpdump does, we cannot know more.

use l2_link::print::{Dissection, Dissector, Layer, Printer};
use l4_transport::print::TCP_PORT;

/// The well-known port HTTP is registered on (RFC 9110 §4.2.1).
pub const HTTP_PORT: u16 = 80;

/// Teaches `printer` HTTP on TCP port 80.
pub fn register(printer: &mut Printer) {
    printer.register(TCP_PORT, HTTP_PORT.into(), HttpDissector);
}

/// Recognises a segment starting with a request line (`GET / HTTP/1.1`)
/// or a status line (`HTTP/1.1 200 OK`), and shows it and each field line
/// of the head (as far as the segment holds it).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpDissector;

impl Dissector for HttpDissector {
    fn dissect(&self, frame: &[u8], offset: usize, _printer: &Printer, out: &mut Dissection) {
        let payload = frame.get(offset..).unwrap_or_default();
        let Some(first_end) = payload.iter().position(|&b| b == b'\n') else {
            out.push_data(offset..frame.len());
            return;
        };
        let first = trim_cr(payload.get(..first_end).unwrap_or_default());
        let is_status = first.starts_with(b"HTTP/");
        let is_request = first.ends_with(b" HTTP/1.1") || first.ends_with(b" HTTP/1.0");
        if !is_status && !is_request {
            out.push_data(offset..frame.len());
            return;
        }
        let text = String::from_utf8_lossy(first).into_owned();
        let mut layer = Layer::new("HTTP", offset..frame.len(), format!("HTTP {text}"));
        layer.push_field(
            offset..offset + first_end + 1,
            if is_status { "status" } else { "request" },
            text,
        );
        // The field lines, up to the empty line or the segment's end.
        let mut start = first_end + 1;
        while let Some(len) = payload
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let line = trim_cr(payload.get(start..start + len).unwrap_or_default());
            let range = offset + start..offset + start + len + 1;
            start += len + 1;
            if line.is_empty() {
                // The empty line is part of the head (RFC 9112 §2.1): claim
                // it, or the hex view would leave two bytes unexplained.
                layer.push_field(range, "empty_line", "end of the head".to_string());
                let body = payload.len().saturating_sub(start);
                if body > 0 {
                    layer.push_field(offset + start..frame.len(), "body", format!("{body} bytes"));
                }
                break;
            }
            layer.push_field(range, "field", String::from_utf8_lossy(line).into_owned());
        }
        out.layers.push(layer);
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2_link::wire::{EtherType, EthernetRepr, MacAddr};
    use l3_net::wire::{IpProtocol, Ipv4Options, Ipv4Repr};
    use l4_transport::wire::TcpRepr;
    use std::net::Ipv4Addr;

    fn frame(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = (Ipv4Addr::new(198, 18, 0, 2), Ipv4Addr::new(198, 18, 0, 1));
        let tcp = TcpRepr {
            src_port,
            dst_port,
            window_len: 1000,
            payload,
            ..TcpRepr::default()
        }
        .build(src, dst);
        let ip = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol::TCP,
            ttl: 64,
            ident: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp: 0,
            ecn: 0,
            options: Ipv4Options::NONE,
            payload_len: 0,
        };
        EthernetRepr {
            destination: MacAddr([2, 0, 0, 0, 0, 1]),
            source: MacAddr([2, 0, 0, 0, 0, 0x12]),
            vlan: None,
            ethertype: EtherType::IPV4,
        }
        .build(&ip.build(&tcp))
    }

    fn printer() -> Printer {
        let mut printer = l4_transport::print::printer();
        register(&mut printer);
        printer
    }

    #[test]
    fn a_request_and_a_response_head() {
        let request = frame(40000, 80, b"GET / HTTP/1.1\r\nHost: www.lab.test\r\n\r\n");
        let summary = printer().summary(&request);
        assert!(summary.ends_with(r"\ HTTP GET / HTTP/1.1"), "{summary}");
        let dissection = printer().dissect(&request);
        let http = dissection.layers.last().unwrap();
        assert_eq!(http.fields[1].value, "Host: www.lab.test");
        assert_eq!(
            &request[http.fields[1].range.clone()],
            b"Host: www.lab.test\r\n"
        );

        let response = frame(
            80,
            40000,
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n",
        );
        let dissection = printer().dissect(&response);
        let http = dissection.layers.last().unwrap();
        assert_eq!(http.summary, "HTTP HTTP/1.1 404 Not Found");
        assert_eq!(http.fields.last().unwrap().value, "3 bytes");
        let end_of_head = &http.fields[http.fields.len() - 2];
        assert_eq!(end_of_head.name, "empty_line");
        assert_eq!(&response[end_of_head.range.clone()], b"\r\n");
    }

    #[test]
    fn the_middle_of_a_body_is_data() {
        let segment = frame(80, 40000, b"\x00\x01 not a head\n");
        let summary = printer().summary(&segment);
        assert!(summary.ends_with(r"\ Data 14 bytes"), "{summary}");
    }
}
