//! What a stack did, one event per decision, for the `host` and `router`
//! exercises' logs and for tests. Each event prints as one line in the
//! printer's words: `ARP who-has 198.18.0.2 tell 198.18.0.1 → replied
//! 198.18.0.2 is-at 02:00:00:00:00:12`.

use std::fmt;
use std::net::Ipv4Addr;

use l2_link::wire::MacAddr;

use super::icmp::{Forbidden, IcmpError};
use super::reassembly::ReassemblyError;
use crate::wire::IpProtocol;

/// One thing the stack did or decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Answered an ARP request for our address.
    ArpReplied {
        /// Who asked.
        asker_ip: Ipv4Addr,
        /// Its MAC (the reply went there).
        asker_mac: MacAddr,
        /// Our address, asked about.
        our_ip: Ipv4Addr,
        /// Our MAC, the answer.
        our_mac: MacAddr,
    },
    /// Broadcast an ARP request.
    ArpRequestSent {
        /// The address asked for.
        ip: Ipv4Addr,
        /// 1 for the first request, 2 for the first retry, …
        attempt: u32,
    },
    /// Learned (or changed) a neighbour's MAC; `released` packets that were
    /// waiting for it were sent.
    ArpLearned {
        /// The neighbour.
        ip: Ipv4Addr,
        /// Its MAC.
        mac: MacAddr,
        /// Waiting packets now sent.
        released: usize,
    },
    /// Nobody answered: the packets waiting were dropped.
    ArpFailed {
        /// The address that did not answer.
        ip: Ipv4Addr,
        /// Requests sent.
        requests: u32,
        /// Packets dropped.
        dropped: usize,
    },
    /// A packet was dropped before reaching the wire for lack of a MAC:
    /// the queue was full (the oldest went), the address failed recently,
    /// or the cache is full of unresolved addresses.
    ArpDropped {
        /// The neighbour.
        ip: Ipv4Addr,
        /// Why.
        reason: &'static str,
    },
    /// Answered a ping.
    EchoReplied {
        /// Who pinged.
        from: Ipv4Addr,
        /// The echo identifier.
        ident: u16,
        /// The sequence number.
        seq: u16,
        /// Bytes of ICMP message.
        len: usize,
    },
    /// A datagram for the layers above.
    Delivered {
        /// Sender.
        src: Ipv4Addr,
        /// Destination (ours, or a broadcast).
        dst: Ipv4Addr,
        /// What it carries.
        protocol: IpProtocol,
        /// Payload bytes.
        len: usize,
    },
    /// Put a fragmented datagram back together.
    Reassembled {
        /// Sender.
        src: Ipv4Addr,
        /// Its identification.
        ident: u16,
        /// Payload bytes.
        len: usize,
        /// Fragments it took.
        fragments: usize,
    },
    /// A fragment (and perhaps its datagram) was dropped.
    ReassemblyDropped {
        /// Sender.
        src: Ipv4Addr,
        /// Its identification.
        ident: u16,
        /// Why.
        reason: ReassemblyError,
    },
    /// A datagram did not complete in time.
    ReassemblyTimedOut {
        /// Sender.
        src: Ipv4Addr,
        /// Its identification.
        ident: u16,
        /// Fragments that had arrived.
        fragments: usize,
    },
    /// A datagram went out in pieces.
    Fragmented {
        /// Destination.
        dst: Ipv4Addr,
        /// Bytes of the whole datagram.
        len: usize,
        /// Fragments sent.
        fragments: usize,
        /// The MTU they fit.
        mtu: usize,
    },
    /// A router said the path to `dst` is narrower: the estimate went down.
    PathMtuLowered {
        /// The destination.
        dst: Ipv4Addr,
        /// The new estimate.
        mtu: u16,
        /// The router that said so.
        reported_by: Ipv4Addr,
    },
    /// Forwarded a datagram (router).
    Forwarded {
        /// Sender.
        src: Ipv4Addr,
        /// Destination.
        dst: Ipv4Addr,
        /// What it carries.
        protocol: IpProtocol,
        /// TTL as it arrived (it left with one less).
        ttl: u8,
        /// The interface it left by.
        out: String,
        /// The neighbour it was sent to.
        next_hop: Ipv4Addr,
    },
    /// Sent an ICMP error.
    IcmpErrorSent {
        /// Which.
        error: IcmpError,
        /// To whom (the original's sender).
        to: Ipv4Addr,
        /// The original datagram's destination.
        about_dst: Ipv4Addr,
        /// And protocol.
        about_protocol: IpProtocol,
    },
    /// Did not send an ICMP error because RFC 1812 §4.3.2.7 forbids it.
    IcmpErrorForbidden {
        /// Which error it would have been.
        error: IcmpError,
        /// To whom.
        to: Ipv4Addr,
        /// Why not.
        reason: Forbidden,
    },
    /// Did not send an ICMP error: over the rate limit.
    IcmpErrorRateLimited {
        /// Which error it would have been.
        error: IcmpError,
        /// To whom.
        to: Ipv4Addr,
    },
    /// A datagram was dropped.
    Dropped {
        /// Sender, if the header could be read.
        src: Option<Ipv4Addr>,
        /// Destination, if the header could be read.
        dst: Option<Ipv4Addr>,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::ArpReplied {
                asker_ip,
                asker_mac,
                our_ip,
                our_mac,
            } => write!(
                f,
                "ARP who-has {our_ip} tell {asker_ip} ({asker_mac}) → replied {our_ip} is-at {our_mac}"
            ),
            Event::ArpRequestSent { ip, attempt: 1 } => {
                write!(f, "ARP who-has {ip} → request sent")
            }
            Event::ArpRequestSent { ip, attempt } => {
                write!(
                    f,
                    "ARP who-has {ip} → request sent again (attempt {attempt})"
                )
            }
            Event::ArpLearned { ip, mac, released } => {
                write!(f, "ARP {ip} is-at {mac} → learned")?;
                if *released > 0 {
                    write!(f, ", {released} waiting packet(s) sent")?;
                }
                Ok(())
            }
            Event::ArpFailed {
                ip,
                requests,
                dropped,
            } => write!(
                f,
                "ARP who-has {ip}: no answer to {requests} requests → {dropped} waiting packet(s) dropped"
            ),
            Event::ArpDropped { ip, reason } => {
                write!(f, "ARP {ip}: packet dropped ({reason})")
            }
            Event::EchoReplied {
                from,
                ident,
                seq,
                len,
            } => write!(
                f,
                "ICMP echo request from {from} id {ident:#06x} seq {seq}, {len} bytes → replied"
            ),
            Event::Delivered {
                src,
                dst,
                protocol,
                len,
            } => write!(f, "IPv4 {src} → {dst} {protocol}, {len} bytes → delivered"),
            Event::Reassembled {
                src,
                ident,
                len,
                fragments,
            } => write!(
                f,
                "IPv4 from {src} id {ident:#06x}: {fragments} fragments → reassembled {len} bytes"
            ),
            Event::ReassemblyDropped { src, ident, reason } => {
                write!(
                    f,
                    "IPv4 fragment from {src} id {ident:#06x} → dropped ({reason})"
                )
            }
            Event::ReassemblyTimedOut {
                src,
                ident,
                fragments,
            } => write!(
                f,
                "IPv4 from {src} id {ident:#06x}: reassembly timed out with {fragments} fragment(s) → dropped"
            ),
            Event::Fragmented {
                dst,
                len,
                fragments,
                mtu,
            } => write!(
                f,
                "IPv4 to {dst}, {len} bytes → sent as {fragments} fragments (MTU {mtu})"
            ),
            Event::PathMtuLowered {
                dst,
                mtu,
                reported_by,
            } => write!(
                f,
                "ICMP fragmentation needed from {reported_by} → path MTU to {dst} is now {mtu}"
            ),
            Event::Forwarded {
                src,
                dst,
                protocol,
                ttl,
                out,
                next_hop,
            } => write!(
                f,
                "IPv4 {src} → {dst} {protocol} ttl {ttl} → forwarded out {out} to {next_hop}, ttl {}",
                ttl.saturating_sub(1)
            ),
            Event::IcmpErrorSent {
                error,
                to,
                about_dst,
                about_protocol,
            } => write!(
                f,
                "{error} → sent to {to} (about {about_protocol} to {about_dst})"
            ),
            Event::IcmpErrorForbidden { error, to, reason } => {
                write!(f, "{error} to {to} → not sent: {reason}")
            }
            Event::IcmpErrorRateLimited { error, to } => {
                write!(f, "{error} to {to} → not sent: rate limit")
            }
            Event::Dropped { src, dst, reason } => {
                f.write_str("IPv4")?;
                if let (Some(src), Some(dst)) = (src, dst) {
                    write!(f, " {src} → {dst}")?;
                }
                write!(f, " → dropped: {reason}")
            }
        }
    }
}
