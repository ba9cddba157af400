//! [`UdpSocket`]: std::net's UDP, over our stack.

use std::io;
use std::net::SocketAddrV4;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::netstack::UdpHandle;
use super::runtime::Stack;

/// A UDP socket on our stack, used like [`std::net::UdpSocket`]: bound to
/// a port, it sends datagrams anywhere and receives those sent to its port.
#[derive(Debug)]
pub struct UdpSocket {
    stack: Stack,
    handle: UdpHandle,
    local: SocketAddrV4,
    read_timeout: Mutex<Option<Duration>>,
}

impl UdpSocket {
    // ANCHOR: udp_bind
    /// Binds `port` of our address (an ephemeral port if 0). From now on,
    /// datagrams to it wait for [`recv_from`](UdpSocket::recv_from), and
    /// no longer draw "port unreachable".
    pub fn bind(stack: &Stack, port: u16) -> io::Result<UdpSocket> {
        let (handle, local) = stack.with(|net| {
            let handle = net.udp_bind(port)?;
            Ok::<_, io::Error>((handle, net.udp_local(handle)?))
        })?;
        Ok(UdpSocket {
            stack: stack.clone(),
            handle,
            local,
            read_timeout: Mutex::new(None),
        })
    }
    // ANCHOR_END: udp_bind

    /// Our address and port.
    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        Ok(self.local)
    }

    /// Sends `data` to `dst` as one datagram; returns its length. It does
    /// not wait: the datagram is on its way (or waiting for ARP) when this
    /// returns. [`io::ErrorKind::HostUnreachable`] if the neighbour did not
    /// answer ARP recently, [`io::ErrorKind::InvalidInput`] for more than
    /// 65507 bytes.
    pub fn send_to(&self, data: &[u8], dst: SocketAddrV4) -> io::Result<usize> {
        let handle = self.handle;
        self.stack
            .with(|net| net.udp_send_to(Instant::now(), handle, data, dst))
    }

    /// Waits for a datagram, copies it into `buf` (cut to fit; the rest is
    /// lost), and says how long it was and who sent it. With a read
    /// timeout, gives up with [`io::ErrorKind::WouldBlock`], as std does on
    /// Linux.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddrV4)> {
        let deadline = self
            .read_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|timeout| Instant::now() + timeout);
        let handle = self.handle;
        self.stack
            .block_on(deadline, io::ErrorKind::WouldBlock, |net| {
                net.udp_recv_from(handle, buf)
            })
    }

    /// How long [`recv_from`](UdpSocket::recv_from) waits (`None`:
    /// forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        *self
            .read_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
        Ok(())
    }

    /// Datagrams dropped so far because nobody read them fast enough.
    pub fn dropped(&self) -> io::Result<u64> {
        self.stack.lock().stack.udp_dropped(self.handle)
    }
}

impl Drop for UdpSocket {
    /// Unbinds the port: datagrams to it draw "port unreachable" again.
    fn drop(&mut self) {
        let handle = self.handle;
        self.stack.with(|net| net.udp_close(handle));
    }
}
