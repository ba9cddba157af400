//! Path MTU discovery for our TCP (RFC 1191 §6.2, RFC 5927 §4.1): a
//! router's ICMP "fragmentation needed" (type 3, code 4) about one of our
//! segments lowers that connection's MSS at once.
//!
//! ```text
//!   ICMP frag needed ──► Interface: path-MTU cache lowered for the destination
//!          │                        (layer 3, for every later datagram)
//!          ▼
//!   quoted IPv4 header + 8 bytes of TCP: our address? TCP? whose ports?
//!          │
//!   quoted SEQ in flight (SND.UNA ≤ SEQ < SND.MAX)?  ── no ──► ignored (forged)
//!          │ yes
//!          ▼
//!   Connection::path_mtu_changed(path MTU): smaller MSS, unacknowledged data resent
//! ```
//!
//! Anyone can send an ICMP message, and a forged "fragmentation needed"
//! with a tiny MTU would make a connection crawl in 28-byte segments. So
//! the message must prove it saw one of our segments: RFC 5927 §4.1 asks
//! that the sequence number it quotes lies in what we sent and the peer has
//! not yet acknowledged. An off-path attacker has to guess it, as it would
//! to inject a RST.

use std::net::SocketAddrV4;
use std::time::Instant;

use l3_net::wire::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, QuotedDatagram};

use super::NetStack;
use crate::socket::trace::TraceRecord;
use crate::tcp::{OutSegment, TraceEvent};
use crate::wire::{TcpFlags, TcpSeqNumber};

// ANCHOR: sent_sequence
/// What the stack saw of a connection's send sequence space, from the
/// segments it put on the wire and the bytes its program wrote — enough
/// to tell whether a sequence number an ICMP error quotes is in flight.
///
/// The connection keeps SND.UNA to itself, but its send buffer holds
/// exactly the bytes written and not yet acknowledged
/// ([`Connection::send_queue`](crate::tcp::Connection::send_queue)). So
/// SND.UNA is the first data byte's number plus the bytes written, minus
/// those still queued.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SentSequence {
    /// The sequence number of the first byte of data (ISS + 1): learned
    /// from our SYN, or, for a connection a listener opened, from the
    /// first segment that carries data or a FIN (byte 0 of the stream).
    data_start: Option<TcpSeqNumber>,
    /// Bytes the program has written (mod 2^32, like sequence numbers).
    written: u32,
    /// One past the highest sequence number sent: SND.MAX.
    max: Option<TcpSeqNumber>,
}

impl SentSequence {
    /// `n` more bytes were written into the connection.
    pub(crate) fn wrote(&mut self, n: usize) {
        // Sequence numbers are mod 2^32: so is this count.
        self.written = self.written.wrapping_add(n as u32);
    }

    /// A segment of the connection went on the wire.
    pub(crate) fn sent(&mut self, segment: &OutSegment) {
        let len = segment.segment_len();
        // A RST's number is not ours to learn from, and an empty segment
        // (an ACK, a window probe at SND.UNA − 1) takes no sequence space.
        if segment.flags.contains(TcpFlags::RST) || len == 0 {
            return;
        }
        if segment.flags.contains(TcpFlags::SYN) {
            self.data_start = Some(segment.seq_number + 1);
        } else if self.data_start.is_none() {
            self.data_start = Some(segment.seq_number);
        }
        let end = segment.seq_number + len;
        self.max = Some(self.max.map_or(end, |max| max.max(end)));
    }

    /// RFC 5927 §4.1: whether `seq` is in flight, SND.UNA ≤ seq < SND.MAX,
    /// given the connection's `send_queue` (bytes written and not yet
    /// acknowledged).
    pub(crate) fn in_flight(&self, seq: TcpSeqNumber, send_queue: usize) -> bool {
        let (Some(start), Some(max)) = (self.data_start, self.max) else {
            return false;
        };
        let acknowledged = self.written.wrapping_sub(send_queue as u32);
        let una = start + acknowledged as usize;
        una <= seq && seq < max
    }
}
// ANCHOR_END: sent_sequence

/// The bytes of a TCP header an ICMP error must quote (RFC 792's "64 bits
/// of data"): ports and the sequence number.
const QUOTED_TCP_LEN: usize = 8;

impl NetStack {
    // ANCHOR: icmp_arrives
    /// An ICMP message for us, after the interface answered pings and fed
    /// "fragmentation needed" to its path-MTU cache. The one layer 4 acts
    /// on is "fragmentation needed" about a TCP segment of ours.
    pub(super) fn icmp_arrives(&mut self, now: Instant, payload: &[u8]) {
        let Ok(packet) = Icmpv4Packet::new_checked(payload) else {
            return;
        };
        if let Ok(Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired,
            quoted,
            ..
        }) = Icmpv4Repr::parse(&packet)
            && let Ok(original) = QuotedDatagram::parse(quoted)
        {
            self.tcp_frag_needed(now, &original);
        }
    }

    /// RFC 1191 §6.2 and RFC 5927 §4.1: the quoted datagram is one of our
    /// TCP segments, of a connection we have, with a sequence number in
    /// flight: that connection's MSS drops to what the path carries now
    /// (the interface's path MTU toward the peer, just lowered), and what
    /// the router dropped goes again at once, in the smaller size.
    fn tcp_frag_needed(&mut self, now: Instant, original: &QuotedDatagram<'_>) {
        let header = &original.header;
        let Some(tcp) = original.payload_start.get(..QUOTED_TCP_LEN) else {
            return; // a quote too short to say whose segment it was
        };
        if header.protocol != IpProtocol::TCP || header.src_addr != self.interface.addr() {
            return;
        }
        let port = |at: usize| u16::from_be_bytes([tcp[at], tcp[at + 1]]);
        let local = SocketAddrV4::new(header.src_addr, port(0));
        let remote = SocketAddrV4::new(header.dst_addr, port(2));
        let seq = TcpSeqNumber(u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]));
        let mtu = self.interface.path_mtu(now, header.dst_addr);
        let Some(entry) = self.connections.values_mut().find(|entry| {
            entry.conn.local() == local && entry.conn.remote() == remote && !entry.conn.is_closed()
        }) else {
            return;
        };
        if entry.sent.in_flight(seq, entry.conn.send_queue()) {
            entry.conn.path_mtu_changed(now, mtu);
        } else {
            self.record(|| TraceRecord {
                local,
                remote,
                event: TraceEvent::Dropped {
                    at: now,
                    reason: "ICMP fragmentation needed: quoted sequence number not in flight (RFC 5927)",
                },
            });
        }
    }
    // ANCHOR_END: icmp_arrives
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn segment(seq: u32, flags: TcpFlags, payload: usize) -> OutSegment {
        let a = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 10), 49152);
        let b = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 11), 7);
        let mut segment = OutSegment::control(a, b, TcpSeqNumber(seq), TcpSeqNumber(0), flags, 0);
        segment.payload = vec![0; payload];
        segment
    }

    #[test]
    fn only_sequence_numbers_sent_and_not_acknowledged_are_in_flight() {
        let mut sent = SentSequence::default();
        // Near the wrap, so the arithmetic must be modular.
        let iss = u32::MAX - 1000;
        assert!(!sent.in_flight(TcpSeqNumber(iss), 0), "nothing sent yet");
        sent.sent(&segment(iss, TcpFlags::SYN, 0));
        sent.wrote(3000);
        sent.sent(&segment(iss.wrapping_add(1), TcpFlags::ACK, 1460));
        sent.sent(&segment(iss.wrapping_add(1461), TcpFlags::ACK, 1460));
        // An ACK and a window probe take no sequence space.
        sent.sent(&segment(iss.wrapping_add(5000), TcpFlags::ACK, 0));
        // Nothing acknowledged yet: all 3000 bytes queued.
        let in_flight = |seq: u32, queued: usize| sent.in_flight(TcpSeqNumber(seq), queued);
        assert!(in_flight(iss.wrapping_add(1), 3000));
        assert!(in_flight(iss.wrapping_add(2920), 3000));
        assert!(!in_flight(iss.wrapping_add(2921), 3000), "never sent");
        assert!(!in_flight(iss.wrapping_sub(5), 3000), "before the SYN");
        // The first 1460 bytes acknowledged: 1540 still queued.
        assert!(!in_flight(iss.wrapping_add(1), 1540), "acknowledged");
        assert!(in_flight(iss.wrapping_add(1461), 1540));
    }

    #[test]
    fn a_passive_connection_learns_its_first_data_byte_from_its_first_data() {
        let mut sent = SentSequence::default();
        sent.sent(&segment(500, TcpFlags::ACK, 0));
        sent.sent(&segment(7, TcpFlags::RST, 0));
        sent.wrote(100);
        sent.sent(&segment(1001, TcpFlags::ACK | TcpFlags::PSH, 100));
        assert!(sent.in_flight(TcpSeqNumber(1001), 100));
        assert!(!sent.in_flight(TcpSeqNumber(1000), 100));
        assert!(!sent.in_flight(TcpSeqNumber(1101), 100));
    }
}
