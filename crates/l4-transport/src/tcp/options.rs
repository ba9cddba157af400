//! The options the two SYNs agree on: window scaling and timestamps
//! (RFC 7323), SACK (RFC 2018).
//!
//! Each is offered in a SYN and used only when *both* SYNs carried it:
//! an old TCP that does not know an option ignores it (RFC 9293 §3.2),
//! and must then never see it used. A SYN,ACK carries an option only if
//! the SYN it answers did (RFC 7323 §2.2, §3.2; RFC 2018 §2).

use super::config::TcpConfig;
use crate::wire::tcp::MAX_WINDOW_SCALE;
use crate::wire::{TcpFlags, TcpRepr};

/// What the handshake agreed on, for the rest of the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// Window scaling is on: both SYNs carried Window Scale.
    pub window_scaling: bool,
    /// Snd.Wind.Shift (RFC 7323 §2.3): the peer's window fields are
    /// shifted left by this many bits (0 without scaling).
    pub send_shift: u8,
    /// Rcv.Wind.Shift: ours are shifted right by this many bits before
    /// they go out (0 without scaling).
    pub recv_shift: u8,
    /// Both SYNs carried Timestamps (RFC 7323 §3.2).
    pub timestamps: bool,
    /// Both SYNs carried SACK-Permitted (RFC 2018 §2).
    pub sack: bool,
}

// ANCHOR: window_scale
impl Negotiated {
    /// What we offer in our own SYN (SYN-SENT), before the peer has said
    /// anything: every option `config` enables, with our shift computed
    /// from the receive buffer ([`TcpConfig::window_shift`]).
    pub fn offer(config: &TcpConfig) -> Negotiated {
        Negotiated {
            window_scaling: config.window_scaling,
            send_shift: 0,
            recv_shift: if config.window_scaling {
                config.window_shift()
            } else {
                0
            },
            timestamps: config.timestamps,
            sack: config.sack,
        }
    }

    /// The peer's SYN (or SYN,ACK) `syn` arrived: each option is on only
    /// if we offered it (or, answering a SYN, would offer it) *and* the
    /// peer's SYN carries it.
    ///
    /// Window scaling (RFC 7323 §2.2, §2.3): both shifts become real only
    /// now; without the option in both SYNs both are 0, and the window
    /// fields mean bytes, as in RFC 9293. A shift above 14 is used as 14
    /// (§2.3: "log an error but use 14").
    pub fn agree(config: &TcpConfig, syn: &TcpRepr<'_>) -> Negotiated {
        let ours = Negotiated::offer(config);
        match syn.window_scale() {
            Some(theirs) if ours.window_scaling => Negotiated {
                window_scaling: true,
                send_shift: theirs.min(MAX_WINDOW_SCALE),
                recv_shift: ours.recv_shift,
                timestamps: ours.timestamps && syn.timestamps().is_some(),
                sack: ours.sack && syn.sack_permitted(),
            },
            _ => Negotiated {
                window_scaling: false,
                send_shift: 0,
                recv_shift: 0,
                timestamps: ours.timestamps && syn.timestamps().is_some(),
                sack: ours.sack && syn.sack_permitted(),
            },
        }
    }

    /// The peer's window in bytes from a segment's 16-bit field: shifted
    /// by Snd.Wind.Shift, except in a SYN or SYN,ACK, whose window is
    /// never scaled (RFC 7323 §2.2: the shift applies only after the
    /// handshake).
    pub fn peer_window(&self, field: u16, flags: TcpFlags) -> usize {
        if flags.contains(TcpFlags::SYN) {
            usize::from(field)
        } else {
            usize::from(field) << self.send_shift
        }
    }

    /// The 16-bit field that says `bytes` of our window (RFC 7323 §2.3:
    /// shifted right by Rcv.Wind.Shift), rounded *up* so that the right
    /// edge we already promised never moves left by the truncation
    /// (§2.4; Linux rounds the same way), and at most 65535.
    pub fn window_field(&self, bytes: usize) -> u16 {
        let units = bytes.div_ceil(1 << self.recv_shift);
        u16::try_from(units).unwrap_or(u16::MAX)
    }

    /// The bytes a window field of ours means: `field << Rcv.Wind.Shift`.
    pub fn our_window(&self, field: u16) -> usize {
        usize::from(field) << self.recv_shift
    }

    /// Option bytes on every segment after the handshake, which the data
    /// must make room for: the 12 of `NOP, NOP, Timestamps` when they are
    /// on (RFC 7323 §3.2), else none.
    pub fn option_overhead(&self) -> usize {
        if self.timestamps { 12 } else { 0 }
    }

    /// The largest window our field can say: 65535 · 2^Rcv.Wind.Shift.
    pub fn max_window(&self) -> usize {
        usize::from(u16::MAX) << self.recv_shift
    }
}
// ANCHOR_END: window_scale
