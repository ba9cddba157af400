//! The real wire as a [`Device`]: an AF_PACKET socket.

use std::io;
use std::time::Instant;

use super::{Device, RxMeta};
use crate::sys::PacketSocket;
use crate::wire::MacAddr;

/// Every frame the socket receives is returned, [`super::PacketType::Outgoing`]
/// ones included, with the [`RxMeta`] saying so: a stack filters them out,
/// a sniffer shows them.
impl Device for PacketSocket {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        PacketSocket::send(self, frame)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        PacketSocket::recv(self, buf, deadline)
    }

    fn mac(&self) -> MacAddr {
        PacketSocket::mac(self)
    }

    fn mtu(&self) -> usize {
        PacketSocket::mtu(self)
    }
}
