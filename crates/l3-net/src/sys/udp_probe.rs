//! traceroute's UDP probes: an ordinary UDP socket with a chosen TTL.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use l2_link::sys::socket_util::with_context;

use super::tx_timestamp::{SentAt, TxTimestamps};

/// A plain UDP socket for traceroute's probes.
///
/// Why not a raw socket: a probe is an ordinary UDP datagram, and the
/// kernel builds those best — IP header, UDP header, UDP checksum. The one
/// unusual thing about it is its TTL, and `IP_TTL` is an ordinary socket
/// option that needs no privilege. Only *hearing* the answers (ICMP time
/// exceeded, port unreachable) needs the raw ICMP socket. Each probe is
/// recognised in the answer's quote by this socket's source port
/// ([`UdpProbeSocket::local_port`]) and the probe's destination port.
pub struct UdpProbeSocket {
    socket: UdpSocket,
    tx: TxTimestamps,
}

impl UdpProbeSocket {
    /// Binds a UDP socket to any address and a port the kernel picks.
    pub fn open() -> io::Result<UdpProbeSocket> {
        let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .map_err(|err| with_context(err, "bind(UDP)"))?;
        let tx = TxTimestamps::enable(socket.as_fd());
        Ok(UdpProbeSocket { socket, tx })
    }

    /// The source port every probe carries.
    pub fn local_port(&self) -> io::Result<u16> {
        Ok(self.socket.local_addr()?.port())
    }

    /// The TTL of the probes sent from now on (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        self.socket
            .set_ttl(u32::from(ttl))
            .map_err(|err| with_context(err, "setsockopt(IP_TTL)"))
    }

    /// Sends `payload` to `dst`:`port`; returns when it left (see
    /// [`SentAt`]).
    pub fn send_to(&self, payload: &[u8], dst: Ipv4Addr, port: u16) -> io::Result<SentAt> {
        self.tx.send(self.socket.as_fd(), || {
            let sent = self
                .socket
                .send_to(payload, SocketAddrV4::new(dst, port))
                .map_err(|err| with_context(err, format!("sendto({dst}:{port})")))?;
            if sent != payload.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!(
                        "sendto({dst}:{port}): only {sent} of {} bytes sent",
                        payload.len()
                    ),
                ));
            }
            Ok(())
        })
    }
}

impl AsFd for UdpProbeSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for UdpProbeSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl fmt::Debug for UdpProbeSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpProbeSocket")
            .field("fd", &self.socket.as_raw_fd())
            .field("local", &self.socket.local_addr().ok())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::SendTimeSource;
    use std::time::{Duration, SystemTime};

    /// Over loopback, which needs no privilege and leaves no machine: the
    /// kernel stamps the datagram as `lo` takes it, between the moments
    /// before and after `send_to`, and the datagram arrives.
    #[test]
    fn loopback_sends_carry_the_kernels_transmit_stamp() {
        let receiver =
            UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).expect("loopback is up");
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let port = receiver.local_addr().expect("bound").port();
        let probe = UdpProbeSocket::open().expect("a UDP socket");
        for round in 0..3u8 {
            let before = SystemTime::now();
            let sent = probe
                .send_to(&[round], Ipv4Addr::LOCALHOST, port)
                .expect("send over lo");
            let after = SystemTime::now();
            assert_eq!(sent.source, SendTimeSource::Kernel, "round {round}");
            assert!(before <= sent.time && sent.time <= after, "round {round}");
            let mut buf = [0u8; 8];
            let (n, from) = receiver.recv_from(&mut buf).expect("the datagram");
            assert_eq!(&buf[..n], &[round]);
            assert_eq!(from.port(), probe.local_port().expect("port"));
        }
    }
}
