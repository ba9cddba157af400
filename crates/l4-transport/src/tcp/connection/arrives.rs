//! SEGMENT ARRIVES (RFC 9293 §3.10.7): what a connection does with each
//! segment, in the RFC's order. Each step below names the RFC's step.

use std::time::{Duration, Instant};

use super::super::congestion::{DuplicateAckAction, NewAckAction};
use super::super::error::ConnectionError;
use super::super::segment::{SegmentSummary, reset_for};
use super::super::state::State;
use super::super::trace::{CongestionCause, TraceEvent};
use super::{Connection, Opened, RttProbe};
use crate::wire::{TcpFlags, TcpRepr, TcpSeqNumber};

/// The parts of an arriving segment the synchronized-state processing
/// works on. A SYN the connection already knows is taken off the front
/// (see [`Connection::arrives_synchronized`]), so these may differ from
/// the segment's own fields.
#[derive(Debug, Clone, Copy)]
struct Incoming<'a> {
    /// SEG.SEQ: of the SYN if `syn`, else of the first data byte.
    seq: TcpSeqNumber,
    syn: bool,
    fin: bool,
    payload: &'a [u8],
}

impl Incoming<'_> {
    /// SEG.LEN: the sequence space it takes (RFC 9293 §3.4).
    fn len(&self) -> usize {
        self.payload.len() + usize::from(self.syn) + usize::from(self.fin)
    }

    /// The sequence number of its first data byte (after any SYN).
    fn data_seq(&self) -> TcpSeqNumber {
        self.seq + usize::from(self.syn)
    }
}

// ANCHOR: acceptability
/// RFC 9293 §3.10.7.4, "first, check sequence number": does any of the
/// segment fall in the receive window? The four cases of the RFC's table:
///
/// | SEG.LEN | RCV.WND | acceptable when                                   |
/// |---------|---------|---------------------------------------------------|
/// | 0       | 0       | SEG.SEQ = RCV.NXT                                 |
/// | 0       | > 0     | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND              |
/// | > 0     | 0       | never                                             |
/// | > 0     | > 0     | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, or          |
/// |         |         | RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND    |
///
/// Every comparison is modulo 2^32 ([`TcpSeqNumber`]'s order), so the
/// window may straddle the wrap from 4294967295 to 0.
pub fn acceptable(
    seq: TcpSeqNumber,
    seg_len: usize,
    rcv_nxt: TcpSeqNumber,
    rcv_wnd: usize,
) -> bool {
    let in_window = |n: TcpSeqNumber| rcv_nxt <= n && n < rcv_nxt + rcv_wnd;
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => in_window(seq),
        (_, 0) => false,
        (_, _) => in_window(seq) || in_window(seq + (seg_len - 1)),
    }
}
// ANCHOR_END: acceptability

impl Connection {
    // ANCHOR: segment_arrives
    /// A segment from the peer arrived at `now` (RFC 9293 §3.10.7,
    /// SEGMENT ARRIVES). The caller has checked its checksum (parsing does)
    /// and that it belongs to this connection's four-tuple.
    ///
    /// What it does depends on the state: in CLOSED, answer with a RST
    /// (§3.10.7.1); in SYN-SENT, look for the peer's SYN (§3.10.7.3);
    /// otherwise the eight checks of §3.10.7.4 in order — sequence number,
    /// RST, (security), SYN, ACK, URG, text, FIN. Answers (ACKs, RSTs, data)
    /// come out of [`poll_transmit`](Self::poll_transmit).
    pub fn on_segment(&mut self, now: Instant, segment: &TcpRepr<'_>) {
        self.fire_timers(now);
        let summary = SegmentSummary::of(segment);
        self.trace.record(|| TraceEvent::Received {
            at: now,
            segment: summary,
        });
        if segment.dst_port != self.local.port() || segment.src_port != self.remote.port() {
            return self.drop_segment(now, "not for this connection's ports");
        }
        match self.state {
            State::Closed | State::Listen => self.arrives_closed(now, segment),
            State::SynSent => self.arrives_syn_sent(now, segment),
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait => self.arrives_synchronized(now, segment),
        }
    }

    /// RFC 9293 §3.10.7.4: every state from SYN-RECEIVED on.
    fn arrives_synchronized(&mut self, now: Instant, segment: &TcpRepr<'_>) {
        let flags = segment.flags;
        let mut seg = Incoming {
            seq: segment.seq_number,
            syn: flags.contains(TcpFlags::SYN),
            fin: flags.contains(TcpFlags::FIN),
            payload: segment.payload,
        };
        // In SYN-RECEIVED, a SYN at IRS is the peer's SYN again: either
        // it did not hear our SYN,ACK (a SYN alone: send the SYN,ACK
        // again), or this is its SYN,ACK in a simultaneous open, whose SYN
        // we already have: keep the rest, which begins at IRS + 1.
        if self.state == State::SynReceived && seg.syn && seg.seq == self.rcv.irs {
            if !flags.contains(TcpFlags::ACK) {
                self.snd.nxt = self.snd.iss;
                return self
                    .drop_segment(now, "SYN-RECEIVED: the peer's SYN again; SYN,ACK resent");
            }
            seg.seq += 1;
            seg.syn = false;
        }

        // A SYN in a synchronized state, wherever it falls, gets a
        // challenge ACK (RFC 5961 §4.2, below) — not the plain ACK of an
        // unacceptable segment, so that it is rate limited too.
        if seg.syn {
            return self.challenge(now, "SYN in a synchronized state");
        }

        // PAWS (RFC 7323 §5.3) comes before the sequence check.
        if !self.timestamps_check(now, segment) {
            return;
        }

        // First, check sequence number.
        if !acceptable(seg.seq, seg.len(), self.rcv.nxt, self.receive_window()) {
            if flags.contains(TcpFlags::RST) {
                return self.drop_segment(now, "RST outside the window ignored");
            }
            self.ack_due = true;
            self.restart_time_wait_on_fin_again(now, seg);
            return self.drop_segment(now, "unacceptable sequence number (answered with ACK)");
        }
        if let Some((tsval, _)) = segment.timestamps()
            && self.options.timestamps
        {
            self.timestamps
                .segment_accepted(now, segment.seq_number, tsval);
        }

        // Second, check the RST bit, as RFC 5961 §3.2 (and RFC 9293)
        // recommend: only a RST at exactly RCV.NXT resets; one elsewhere
        // in the window gets a challenge ACK. A blind attacker must now
        // guess the exact sequence number, not just land in the window.
        if flags.contains(TcpFlags::RST) {
            if seg.seq != self.rcv.nxt {
                return self.challenge(now, "RST in window but not at RCV.NXT");
            }
            return self.reset_received(now);
        }

        // Third, check security: RFC 9293 §3.10.7.4 leaves the IP security
        // option to the few networks that use it; we do not.

        // Fourth, check the SYN bit: done above, before the sequence
        // check (RFC 5961 §4.2).

        // Fifth, check the ACK field.
        if !flags.contains(TcpFlags::ACK) {
            return self.drop_segment(now, "no ACK bit");
        }
        if !self.ack_arrives(now, segment) {
            return;
        }

        // Sixth, check the URG bit: we do not implement urgent data
        // (RFC 6093 advises new applications not to use it). The bytes
        // are delivered in line like any others, and the urgent pointer
        // is never used, so a bogus one cannot hurt.

        // Seventh and eighth: the data and the FIN.
        self.text_and_fin(now, seg);
    }
    // ANCHOR_END: segment_arrives

    /// RFC 9293 §3.10.7.1: the connection is gone; anything but a RST is
    /// answered with one, so the peer stops trying.
    fn arrives_closed(&mut self, now: Instant, segment: &TcpRepr<'_>) {
        self.reset_due = reset_for(segment, *self.remote.ip(), *self.local.ip());
        self.drop_segment(now, "connection closed");
    }

    /// RFC 9293 §3.10.7.3: we sent a SYN and wait for the peer's.
    fn arrives_syn_sent(&mut self, now: Instant, segment: &TcpRepr<'_>) {
        let flags = segment.flags;
        let has_ack = flags.contains(TcpFlags::ACK);
        // First, check the ACK bit: it must acknowledge our SYN, and
        // nothing we have not sent.
        if has_ack && (segment.ack_number <= self.snd.iss || segment.ack_number > self.snd.max) {
            if !flags.contains(TcpFlags::RST) {
                self.reset_due = Some(self.segment(segment.ack_number, TcpFlags::RST));
            }
            return self.drop_segment(now, "SYN-SENT: ACK of something we never sent");
        }
        // Second, check the RST bit: believe it only if it acknowledges our
        // SYN (anyone could guess our address and port, not our ISS).
        if flags.contains(TcpFlags::RST) {
            if has_ack {
                self.fail(now, ConnectionError::Refused);
            } else {
                self.drop_segment(now, "SYN-SENT: RST without an ACK of our SYN");
            }
            return;
        }
        // (Third, security: not implemented, as in the synchronized states.)
        // Fourth, check the SYN bit.
        if !flags.contains(TcpFlags::SYN) {
            return self.drop_segment(now, "SYN-SENT: neither SYN nor RST");
        }
        self.synchronize_receive(now, segment);
        // A SYN,ACK's window is never scaled (RFC 7323 §2.2).
        self.snd.wnd = usize::from(segment.window_len);
        self.snd.max_wnd = self.snd.wnd;
        self.snd.wl1 = segment.seq_number;
        self.snd.wl2 = segment.ack_number;
        if has_ack {
            self.acknowledge(now, segment);
        }
        if self.snd.una > self.snd.iss {
            // Our SYN is acknowledged: the handshake is done.
            self.established(now);
            self.ack_due = true;
            // Data (or a FIN) on a SYN,ACK is processed as in ESTABLISHED
            // from the sixth step on.
            let rest = Incoming {
                seq: segment.seq_number + 1,
                syn: false,
                fin: flags.contains(TcpFlags::FIN),
                payload: segment.payload,
            };
            self.text_and_fin(now, rest);
        } else {
            // A SYN without an ACK of ours: both sides opened at once
            // (simultaneous open, RFC 9293 §3.5 Figure 7). Answer with
            // SYN,ACK, our SYN again: go back to ISS so it is resent.
            self.set_state(now, State::SynReceived);
            self.snd.nxt = self.snd.iss;
        }
    }

    /// The fifth step of §3.10.7.4 (the ACK field), state by state.
    /// Returns false when the segment is to be dropped here.
    fn ack_arrives(&mut self, now: Instant, segment: &TcpRepr<'_>) -> bool {
        let (ack, flags) = (segment.ack_number, segment.flags);
        if self.state == State::SynReceived {
            // SND.UNA < SEG.ACK =< SND.NXT: our SYN is acknowledged.
            if self.snd.una < ack && ack <= self.snd.max {
                self.snd.wnd = self.options.peer_window(segment.window_len, flags);
                self.snd.max_wnd = self.snd.max_wnd.max(self.snd.wnd);
                self.snd.wl1 = segment.seq_number;
                self.snd.wl2 = ack;
                self.established(now);
            } else {
                self.reset_due = Some(self.segment(ack, TcpFlags::RST));
                self.drop_segment(now, "SYN-RECEIVED: unacceptable ACK (answered with RST)");
                return false;
            }
        }
        if ack > self.snd.max {
            // It acknowledges something not yet sent.
            self.ack_due = true;
            self.drop_segment(now, "ACK of data never sent (answered with ACK)");
            return false;
        }
        // RFC 5961 §5.2: an ACK older than the largest window the peer
        // ever offered cannot come from the peer's recent past: likely a
        // blind injection. Challenge it, and do not take its data.
        if ack < self.snd.una - self.snd.max_wnd.max(1) {
            self.challenge(now, "ACK far older than SND.UNA");
            return false;
        }
        let blocks = segment.sack_blocks();
        if !blocks.is_empty() && self.options.sack {
            // Onto the scoreboard first: this ACK's blocks lower the pipe
            // that its duplicate-ACK processing may look at.
            self.scoreboard.record(blocks, self.snd.una, self.snd.max);
            let blocks = blocks.to_vec();
            self.trace
                .record(|| TraceEvent::SackReceived { at: now, blocks });
        }
        if self.is_duplicate_ack(segment) {
            self.duplicate_ack(now);
        } else if ack > self.snd.una {
            // Data bytes newly acknowledged (our SYN's number is not data).
            let acked = (ack - self.snd.una) - usize::from(self.snd.una == self.snd.iss);
            self.acknowledge(now, segment);
            if acked > 0 {
                self.new_data_acked(now, acked, ack);
            }
        }
        // SND.UNA =< SEG.ACK =< SND.NXT: the window it carries is news
        // unless an older segment (by SEG.SEQ, then SEG.ACK) than the one
        // that last set it.
        if self.snd.una <= ack
            && (self.snd.wl1 < segment.seq_number
                || (self.snd.wl1 == segment.seq_number && self.snd.wl2 <= ack))
        {
            self.snd.wnd = self.options.peer_window(segment.window_len, flags);
            self.snd.max_wnd = self.snd.max_wnd.max(self.snd.wnd);
            self.snd.wl1 = segment.seq_number;
            self.snd.wl2 = ack;
        }
        let peer_window = (self.snd.una, self.snd.wnd);
        if self.traced_peer_window != Some(peer_window) {
            self.traced_peer_window = Some(peer_window);
            self.trace.record(|| TraceEvent::PeerWindow {
                at: now,
                una: peer_window.0,
                window: peer_window.1,
            });
        }
        // Then what the acknowledgment of our FIN does in each closing state.
        match self.state {
            State::FinWait1 if self.fin_acked() => self.set_state(now, State::FinWait2),
            State::Closing if self.fin_acked() => self.set_state(now, State::TimeWait),
            State::LastAck if self.fin_acked() => {
                self.set_state(now, State::Closed);
                return false;
            }
            _ => {}
        }
        true
    }

    /// RFC 5681 §2's duplicate ACK: it acknowledges nothing new while data
    /// is outstanding, carries no data, no SYN or FIN, and does not change
    /// the window (a window update is not a sign of loss).
    fn is_duplicate_ack(&self, segment: &TcpRepr<'_>) -> bool {
        self.state.is_synchronized()
            && segment.ack_number == self.snd.una
            && self.snd.max > self.snd.una
            && segment.payload.is_empty()
            && !segment.flags.contains(TcpFlags::SYN)
            && !segment.flags.contains(TcpFlags::FIN)
            && self.options.peer_window(segment.window_len, segment.flags) == self.snd.wnd
    }

    /// A duplicate ACK: count it; the third starts fast retransmit and
    /// fast recovery (RFC 5681 §3.2, RFC 6582 §3.2).
    fn duplicate_ack(&mut self, now: Instant) {
        let flight = self.snd.max - self.snd.una;
        let (action, cause) = self
            .congestion
            .on_duplicate_ack(flight, self.snd.una, self.snd.max);
        let (ack, count) = (self.snd.una, self.congestion.duplicate_acks());
        self.trace.record(|| TraceEvent::DuplicateAck {
            at: now,
            ack,
            count,
        });
        if let Some(cause) = cause {
            self.congestion_changed(now, cause);
        }
        if action == DuplicateAckAction::FastRetransmit {
            self.scoreboard.start_recovery();
            self.retransmit_at = Some(self.snd.una);
            // Karn: the timed segment may now be acknowledged by either copy.
            self.rtt_probe = None;
            let recover = self.snd.max;
            self.trace.record(|| TraceEvent::FastRetransmit {
                at: now,
                seq: ack,
                recover,
            });
        }
    }

    /// `acked` bytes of new data were acknowledged up to `ack`: cwnd grows,
    /// or fast recovery goes on (partial ACK: resend the next hole) or ends.
    fn new_data_acked(&mut self, now: Instant, acked: usize, ack: TcpSeqNumber) {
        let (action, cause) = self.congestion.on_new_ack(acked, ack);
        if let Some(cause) = cause {
            self.congestion_changed(now, cause);
        }
        if action == NewAckAction::RetransmitFirst && self.snd.una < self.snd.max {
            self.retransmit_at = Some(self.snd.una);
            self.rtt_probe = None;
        }
    }

    /// New data is acknowledged by `segment`: SND.UNA moves up to SEG.ACK
    /// (RFC 9293 §3.10.7.4, "If SND.UNA < SEG.ACK =< SND.NXT, then set
    /// SND.UNA <- SEG.ACK"), the send buffer lets go of those bytes, the
    /// RTT is measured, and the retransmission timer restarts or stops
    /// (RFC 6298 §5.2, §5.3).
    ///
    /// The RTT sample follows Linux's `tcp_ack_update_rtt`: the timed
    /// segment (RFC 6298 §3), when this ACK covers it, gives a precise
    /// one — the probe is dropped whenever anything is retransmitted, so
    /// Karn's rule holds. Only when the ACK covers retransmitted data is
    /// there no precise time to go by; then the timestamp echo measures
    /// it (RFC 7323 §4.1: the echo says which copy arrived). A timestamp
    /// tick is 1 ms, far coarser than a LAN's round trip, which is why the
    /// echo is the fallback and not the rule.
    fn acknowledge(&mut self, now: Instant, segment: &TcpRepr<'_>) {
        let ack = segment.ack_number;
        let old_una = self.snd.una;
        let start = self.send_buffer_start();
        if ack > start {
            self.send_buffer.acknowledge(ack - start);
        }
        self.snd.una = ack;
        self.scoreboard.acknowledge(ack);
        if self.snd.nxt < ack {
            // After going back, the peer had more than we were resending.
            self.snd.nxt = ack;
        }
        let acked_a_retransmission = self.retransmitted_until.is_some_and(|end| old_una < end);
        if self.retransmitted_until.is_some_and(|end| ack >= end) {
            self.retransmitted_until = None;
        }
        let timed = match self.rtt_probe {
            Some(RttProbe {
                ack_needed,
                sent_at,
            }) if ack >= ack_needed => {
                self.rtt_probe = None;
                Some(now.saturating_duration_since(sent_at))
            }
            _ => None,
        };
        let sample = if self.options.timestamps && acked_a_retransmission {
            segment
                .timestamps()
                .and_then(|(_, tsecr)| self.timestamps.rtt(now, tsecr))
        } else {
            timed
        };
        if let Some(rtt) = sample {
            self.rtt_sample(now, rtt);
        }
        if self.snd.una == self.snd.max {
            self.timer.stop();
        } else {
            self.timer.restart(now, self.rtt.rto());
        }
    }

    /// Feeds one RTT measurement, from a timed segment or a timestamp
    /// echo, to the estimator (RFC 6298 §2).
    fn rtt_sample(&mut self, now: Instant, rtt: std::time::Duration) {
        self.rtt.sample(rtt);
        let snapshot = self.rtt.snapshot();
        self.trace.record(|| TraceEvent::RttSample {
            at: now,
            rtt,
            srtt: snapshot.srtt.unwrap_or(rtt),
            rttvar: snapshot.rttvar,
            rto: snapshot.rto,
        });
    }

    /// The Timestamps checks of RFC 7323 before the sequence check.
    /// Returns false when the segment is to be dropped here.
    ///
    /// - Once timestamps are in use, a segment without one is dropped
    ///   silently (§3.2), a RST excepted: §3.2 requires timestamps on
    ///   every segment but a RST, so a RST is not checked for them.
    /// - PAWS (§5.3, R1): a segment whose TSval is older than TS.Recent
    ///   is an old duplicate, however well its sequence number fits; it
    ///   is dropped and answered with an ACK (as an unacceptable segment
    ///   is, so that a half-open connection is still discovered).
    fn timestamps_check(&mut self, now: Instant, segment: &TcpRepr<'_>) -> bool {
        if !self.options.timestamps || segment.flags.contains(TcpFlags::RST) {
            return true;
        }
        let Some((tsval, _)) = segment.timestamps() else {
            self.drop_segment(
                now,
                "no timestamp though both sides use them (RFC 7323 §3.2)",
            );
            return false;
        };
        if self.timestamps.rejects(now, tsval) {
            self.ack_due = true;
            self.drop_segment(
                now,
                "PAWS: timestamp older than TS.Recent (answered with ACK)",
            );
            return false;
        }
        true
    }

    // ANCHOR: challenge_ack
    /// Sends a challenge ACK (RFC 5961 §3.2, §4.2, §5.2): our current
    /// `<SEQ=SND.NXT><ACK=RCV.NXT>`. A peer that really restarted (or
    /// really meant the RST) answers it with a RST at exactly RCV.NXT; an
    /// off-path attacker never sees it. At most
    /// [`TcpConfig::challenge_ack_limit`] a second (RFC 5961 §7), so that
    /// a flood of forged segments cannot turn us into an ACK cannon.
    ///
    /// [`TcpConfig::challenge_ack_limit`]: super::super::TcpConfig::challenge_ack_limit
    fn challenge(&mut self, now: Instant, why: &'static str) {
        let window_over = self
            .challenge_window
            .is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
        if window_over {
            self.challenge_window = Some(now);
            self.challenges_sent = 0;
        }
        if self.challenges_sent >= self.config.challenge_ack_limit {
            return self.drop_segment(now, "challenge ACK rate limit reached (RFC 5961 §7)");
        }
        self.challenges_sent += 1;
        self.ack_due = true;
        self.drop_segment(now, why);
        self.trace
            .record(|| TraceEvent::ChallengeAck { at: now, why });
    }
    // ANCHOR_END: challenge_ack

    /// The handshake completed (from SYN-SENT or SYN-RECEIVED). A CLOSE
    /// made in SYN-RECEIVED now takes effect (RFC 9293 §3.10.4).
    fn established(&mut self, now: Instant) {
        if self.syn_retransmitted {
            self.rtt.after_syn_timeout();
        }
        self.set_state(now, State::Established);
        self.congestion_changed(now, CongestionCause::Initial);
        if self.fin_queued {
            self.set_state(now, State::FinWait1);
        }
    }

    /// "Second, check the RST bit" for the synchronized states.
    fn reset_received(&mut self, now: Instant) {
        match self.state {
            // A passive open goes back to LISTEN: the listener forgets this
            // half-open connection. An active one (simultaneous open) was
            // refused.
            State::SynReceived => match self.opened {
                Opened::Passive => self.fail(now, ConnectionError::Reset),
                Opened::Active => self.fail(now, ConnectionError::Refused),
            },
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                self.fail(now, ConnectionError::Reset);
            }
            // We had closed already: the RST just ends it sooner.
            State::Closing | State::LastAck | State::TimeWait => {
                self.set_state(now, State::Closed);
            }
            State::Closed | State::Listen | State::SynSent => {}
        }
    }

    /// Seventh (segment text) and eighth (FIN) steps.
    fn text_and_fin(&mut self, now: Instant, seg: Incoming<'_>) {
        // Text and FIN count only while the peer may still send: after its
        // FIN (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT) anything new is
        // bogus, and a repeat fails the sequence check before this.
        if !self.state.peer_may_send() {
            return;
        }
        let out_of_order = seg.data_seq() > self.rcv.nxt;
        let fills_gap = !out_of_order && !self.reassembly.is_empty();
        if self.receive_text(now, seg) {
            self.fin_received(now);
        }
        if !seg.payload.is_empty() || seg.fin {
            self.acknowledge_data(now, out_of_order || fills_gap || seg.fin);
        }
    }

    // ANCHOR: delayed_ack
    /// Data (or a FIN) arrived: acknowledge it now, or a little later
    /// (delayed ACKs: RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2).
    ///
    /// Waiting [`TcpConfig::delayed_ack`] for more to acknowledge at once
    /// (or for our reply to carry the ACK) halves the ACKs of a bulk
    /// transfer and folds the ACK into the answer of a request. But:
    ///
    /// - `urgent` — an out-of-order segment, one that fills a gap, or a
    ///   FIN — is acknowledged at once (RFC 5681 §4.2): the sender's fast
    ///   retransmit and recovery run on those ACKs;
    /// - the second segment not yet acknowledged is acknowledged at once
    ///   (RFC 5681 §4.2: "at least every second full-sized segment"; we
    ///   do it for every second segment, full-sized or not);
    /// - in quick-ACK mode (the connection's first segments, and those
    ///   after the timer had to fire: [`TcpConfig::quick_acks`]) every
    ///   segment is acknowledged at once;
    /// - otherwise the ACK waits until the timer (under 500 ms, RFC 1122)
    ///   or until anything we send carries it.
    ///
    /// The timer is a deadline in [`poll_at`](Self::poll_at): nothing runs
    /// while no ACK is owed.
    ///
    /// [`TcpConfig::delayed_ack`]: super::super::TcpConfig::delayed_ack
    /// [`TcpConfig::quick_acks`]: super::super::TcpConfig::quick_acks
    fn acknowledge_data(&mut self, now: Instant, urgent: bool) {
        let delay = self.config.delayed_ack;
        if urgent || delay.is_zero() || self.ack_delayed_until.is_some() {
            self.ack_due = true;
        } else if self.quick_acks_left > 0 {
            self.quick_acks_left -= 1;
            self.ack_due = true;
        } else if !self.ack_due {
            self.ack_delayed_until = Some(now + delay);
        }
    }
    // ANCHOR_END: delayed_ack

    /// Seventh: takes the segment's new in-order bytes, as many as the
    /// window and the buffer hold. Returns whether its FIN comes right
    /// after them (so the FIN is next in sequence and is taken too).
    ///
    /// A segment that starts beyond RCV.NXT is held in the reassembly
    /// queue (as much of it as the window covers); our immediate ACK
    /// repeats RCV.NXT, a duplicate ACK that tells the sender of the gap
    /// (RFC 5681 §4.2: "an immediate ACK SHOULD be generated when an
    /// out-of-order segment arrives"). Once the gap fills, the held bytes
    /// follow into the buffer.
    fn receive_text(&mut self, now: Instant, seg: Incoming<'_>) -> bool {
        let data_seq = seg.data_seq();
        if data_seq > self.rcv.nxt {
            self.hold_out_of_order(data_seq, seg);
            return false;
        }
        // Bytes before RCV.NXT are old: we have them already.
        let old = self.rcv.nxt - data_seq;
        let Some(new) = seg.payload.get(old..) else {
            return false;
        };
        let room = self.receive_window().min(self.recv_buffer.free());
        let taken = self.recv_buffer.write(&new[..new.len().min(room)]);
        self.rcv.nxt += taken;
        if taken < new.len() {
            self.drop_segment(now, "data beyond the receive window trimmed");
            return false;
        }
        // The gap may be filled: held data continues the stream. It lay
        // inside the window we advertised, so the buffer has room for it.
        let held = self.reassembly.take_contiguous(self.rcv.nxt);
        let taken_held = self.recv_buffer.write(&held);
        self.rcv.nxt += taken_held;
        if taken_held < held.len() {
            self.drop_segment(now, "held data beyond the buffer dropped");
            return false;
        }
        // A FIN takes no buffer space: accept it right after the data even
        // when the data filled the window, as Linux does. It is next if
        // this segment carried it (and nothing held lay beyond), or if it
        // arrived earlier, out of order, and the stream now reaches it.
        (seg.fin && held.is_empty()) || self.fin_out_of_order == Some(self.rcv.nxt)
    }

    // ANCHOR: hold_out_of_order
    /// Keeps the part of an out-of-order segment that lies inside the
    /// window we advertised (so it is bounded by our buffer's free space),
    /// and where its FIN is, if it has one and all of it fitted.
    fn hold_out_of_order(&mut self, data_seq: TcpSeqNumber, seg: Incoming<'_>) {
        let window_end = self.rcv.nxt + self.receive_window();
        let room = if window_end > data_seq {
            window_end - data_seq
        } else {
            0
        };
        let fits = seg.payload.len().min(room);
        let held = self.reassembly.insert(data_seq, &seg.payload[..fits]);
        if held && seg.fin && fits == seg.payload.len() {
            self.fin_out_of_order = Some(data_seq + fits);
        }
    }
    // ANCHOR_END: hold_out_of_order

    /// Eighth, check the FIN bit: the peer has sent everything. Its FIN
    /// takes one sequence number, which our ACK covers.
    fn fin_received(&mut self, now: Instant) {
        self.rcv.nxt += 1;
        self.ack_due = true;
        match self.state {
            State::SynReceived | State::Established => self.set_state(now, State::CloseWait),
            // Our FIN is not acknowledged (else we would be in FIN-WAIT-2):
            // both closed at once, simultaneous close.
            State::FinWait1 => self.set_state(now, State::Closing),
            State::FinWait2 => self.set_state(now, State::TimeWait),
            State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait
            | State::Closed
            | State::Listen
            | State::SynSent => {}
        }
    }

    /// TIME-WAIT (RFC 9293 §3.10.7.4, fifth and eighth steps): "The only
    /// thing that can arrive in this state is a retransmission of the
    /// remote FIN. Acknowledge it, and restart the 2 MSL timeout." The
    /// repeated FIN ends exactly at RCV.NXT, so it fails the sequence
    /// check and is acknowledged there; this restarts the timer.
    fn restart_time_wait_on_fin_again(&mut self, now: Instant, seg: Incoming<'_>) {
        if self.state == State::TimeWait && seg.fin && seg.seq + seg.len() == self.rcv.nxt {
            self.enter_time_wait(now);
        }
    }
}
