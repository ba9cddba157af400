//! UDP datagrams (RFC 768). The first 8 input bytes are the source and
//! destination addresses of the pseudo-header, the rest the datagram.
#![no_main]

use std::net::Ipv4Addr;

use l2_link::wire::Error;
use l4_transport::wire::{UdpPacket, UdpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((addresses, data)) = input.split_first_chunk::<8>() else {
        return;
    };
    let src = Ipv4Addr::new(addresses[0], addresses[1], addresses[2], addresses[3]);
    let dst = Ipv4Addr::new(addresses[4], addresses[5], addresses[6], addresses[7]);
    let packet = UdpPacket::new_unchecked(data);
    match UdpRepr::parse(&packet, src, dst) {
        Ok(repr) => {
            assert_eq!(repr.src_port, packet.src_port());
            assert_eq!(repr.dst_port, packet.dst_port());
            let len = usize::from(packet.len());
            let rebuilt = repr.build(src, dst, packet.payload());
            // A zero checksum means "none sent" (RFC 768); we always send
            // one, so only a datagram that had one rebuilds byte for byte.
            if packet.checksum() != 0 {
                assert_eq!(rebuilt, data[..len]);
            }
        }
        Err(Error::Truncated { needed, got, .. }) => {
            assert!(needed > got && got <= data.len());
        }
        Err(_) => {}
    }
});
