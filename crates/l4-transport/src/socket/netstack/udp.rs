//! UDP in the stack (RFC 768): a queue of datagrams per bound port, and
//! "port unreachable" for the rest.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddrV4;
use std::time::Instant;

use l3_net::stack::Delivery;
use l3_net::wire::IpProtocol;

use super::{NetStack, UdpHandle, no_such_socket, send_error, would_block};
use crate::wire::{UdpPacket, UdpRepr};

/// The most data one UDP datagram over IPv4 carries: 65535 bytes of
/// datagram minus 20 of IPv4 header and 8 of UDP header.
pub const MAX_UDP_PAYLOAD: usize = 65535 - 20 - 8;

/// A bound UDP port and the datagrams waiting for its program.
#[derive(Debug)]
pub(crate) struct UdpEntry {
    local: SocketAddrV4,
    queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
    /// Datagrams dropped because the queue was full.
    dropped: u64,
}

impl NetStack {
    // ANCHOR: udp_arrives
    /// A UDP datagram for us arrived: the socket bound to its port gets it,
    /// or, if none is, the sender gets ICMP "port unreachable" (RFC 1122
    /// §4.1.3.1). A bad checksum drops it silently (RFC 1122 §4.1.3.4).
    pub(super) fn udp_arrives(&mut self, now: Instant, delivery: &Delivery) {
        let (src, dst) = (delivery.header.src_addr, delivery.header.dst_addr);
        let Ok(packet) = UdpPacket::new_checked(&delivery.payload[..]) else {
            return;
        };
        let Ok(udp) = UdpRepr::parse(&packet, src, dst) else {
            return;
        };
        let capacity = self.config.udp_queue;
        let socket = self
            .udp
            .values_mut()
            .find(|entry| entry.local.port() == udp.dst_port);
        match socket {
            Some(entry) if entry.queue.len() < capacity => {
                let from = SocketAddrV4::new(src, udp.src_port);
                entry.queue.push_back((from, packet.payload().to_vec()));
            }
            Some(entry) => entry.dropped += 1,
            None => self.port_unreachable(now, delivery),
        }
    }
    // ANCHOR_END: udp_arrives

    /// Binds `port` of our address (an ephemeral one if 0).
    pub fn udp_bind(&mut self, port: u16) -> io::Result<UdpHandle> {
        let udp = &self.udp;
        let in_use = |port: u16| udp.values().any(|entry| entry.local.port() == port);
        let port = match port {
            0 => self.udp_ports.allocate(in_use).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "every ephemeral port is in use",
                )
            })?,
            port if in_use(port) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("UDP port {port} is already bound"),
                ));
            }
            port => port,
        };
        let handle = UdpHandle(self.take_handle());
        let local = SocketAddrV4::new(self.interface.addr(), port);
        self.udp.insert(
            handle,
            UdpEntry {
                local,
                queue: VecDeque::new(),
                dropped: 0,
            },
        );
        Ok(handle)
    }

    /// The socket's address and port.
    pub fn udp_local(&self, handle: UdpHandle) -> io::Result<SocketAddrV4> {
        Ok(self.udp.get(&handle).ok_or_else(no_such_socket)?.local)
    }

    /// Datagrams the socket dropped because its queue was full.
    pub fn udp_dropped(&self, handle: UdpHandle) -> io::Result<u64> {
        Ok(self.udp.get(&handle).ok_or_else(no_such_socket)?.dropped)
    }

    // ANCHOR: udp_send_to
    /// Sends `data` to `dst` as one datagram: our UDP header with its
    /// checksum over the pseudo-header, then the interface (which routes,
    /// resolves and fragments it). The frames leave at the next drain.
    pub fn udp_send_to(
        &mut self,
        now: Instant,
        handle: UdpHandle,
        data: &[u8],
        dst: SocketAddrV4,
    ) -> io::Result<usize> {
        let local = self.udp_local(handle)?;
        if data.len() > MAX_UDP_PAYLOAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "message too long: {} bytes (at most {MAX_UDP_PAYLOAD})",
                    data.len()
                ),
            ));
        }
        if dst.port() == 0 || dst.ip().is_unspecified() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot send to {dst}"),
            ));
        }
        let header = UdpRepr {
            src_port: local.port(),
            dst_port: dst.port(),
        };
        let datagram = header.build(*local.ip(), *dst.ip(), data);
        self.interface
            .send(now, *dst.ip(), IpProtocol::UDP, &datagram)
            .map_err(send_error)?;
        Ok(data.len())
    }
    // ANCHOR_END: udp_send_to

    /// The oldest datagram waiting: its data (cut to `buf`'s length; the
    /// rest of it is lost, as with a kernel's UDP socket) and its sender.
    /// [`io::ErrorKind::WouldBlock`] when none waits.
    pub fn udp_recv_from(
        &mut self,
        handle: UdpHandle,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddrV4)> {
        let entry = self.udp.get_mut(&handle).ok_or_else(no_such_socket)?;
        let (from, data) = entry.queue.pop_front().ok_or_else(would_block)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok((n, from))
    }

    /// Unbinds the socket; datagrams still waiting are dropped.
    pub fn udp_close(&mut self, handle: UdpHandle) {
        self.udp.remove(&handle);
    }
}
