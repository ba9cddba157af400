//! What a connection sends, and when: the SYN or SYN,ACK, data within the
//! peer's window, the FIN after the last byte, ACKs, RSTs; and the two
//! timers, retransmission (RFC 6298) and TIME-WAIT (RFC 9293 §3.6.1).

use std::time::Instant;

use super::super::error::ConnectionError;
use super::super::segment::{OutOptions, OutSegment};
use super::super::state::State;
use super::super::trace::{CongestionCause, TraceEvent};
use super::{Connection, RttProbe};
use crate::wire::{SackBlocks, TcpFlags, TcpSeqNumber};

impl Connection {
    /// The next segment to send at `now`, if any. Call it until it returns
    /// `None` after every event. Timers fire here too: a retransmission is
    /// due, or TIME-WAIT is over (the state becomes CLOSED).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<OutSegment> {
        self.fire_timers(now);
        if let Some(reset) = self.reset_due.take() {
            self.record_sent(now, &reset, false);
            return Some(reset);
        }
        let segment = match self.state {
            State::Closed | State::Listen => None,
            _ if self.retransmit_at.is_some() => self.fast_retransmission(now),
            State::SynSent | State::SynReceived if self.snd.nxt == self.snd.iss => {
                Some(self.syn_segment())
            }
            State::SynSent => None,
            // RFC 6675 §4's NextSeg: a lost hole first, else new data
            // (outside a SACK recovery, just data).
            _ => self
                .hole_retransmission()
                .or_else(|| self.data_segment(now)),
        };
        let mut segment = match segment.or_else(|| self.window_probe(now)) {
            Some(segment) => segment,
            // Nothing in sequence space to send: a bare ACK, if one is due.
            // It carries SND.MAX, not SND.NXT: after a timeout SND.NXT went
            // back, and the peer may already hold data up to SND.MAX, so
            // an ACK numbered SND.NXT would fall before its window and be
            // dropped, its acknowledgment with it (BSD does the same).
            None if self.ack_due && self.state.is_synchronized() => {
                self.segment(self.snd.max, TcpFlags::ACK)
            }
            None => return None,
        };
        self.add_options(now, &mut segment);
        self.sent(now, &segment);
        Some(segment)
    }

    /// When [`poll_transmit`](Self::poll_transmit) next has something to
    /// do without any input: the retransmission timer, the persist timer,
    /// a delayed ACK, or the end of TIME-WAIT. `None`: only a segment or a
    /// user call will wake it (an idle connection sleeps).
    pub fn poll_at(&self) -> Option<Instant> {
        [
            self.timer.deadline(),
            self.time_wait_until,
            self.persist_deadline,
            self.ack_delayed_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ANCHOR: persist_timer
    /// The persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): the
    /// peer's window is zero, we have data to send and nothing in flight.
    /// If the peer's window update were lost, both ends would wait for
    /// each other forever; so we probe. A probe goes at the RTO, then at
    /// exponentially backed-off intervals (up to `max_rto`) for as long as
    /// the window stays shut — a zero window is not a failure, however
    /// long it lasts.
    ///
    /// The probe is an empty segment numbered SND.UNA − 1, as Linux sends
    /// it: already acknowledged, so the peer answers it with an ACK that
    /// carries its current window, and it takes no sequence space (RFC
    /// 9293 sends one byte of data instead; either way, the answer is the
    /// point).
    fn window_probe(&mut self, now: Instant) -> Option<OutSegment> {
        let unsent = self.send_buffer.len() > self.snd.max - self.send_buffer_start()
            || (self.fin_queued && self.fin_seq.is_none());
        let needed = self.state.is_synchronized()
            && self.snd.wnd == 0
            && self.snd.una == self.snd.max
            && unsent;
        if !needed {
            self.persist_deadline = None;
            self.persist_backoff = 0;
            return None;
        }
        let interval = |backoff: u32| {
            self.rtt
                .rto()
                .saturating_mul(1 << backoff.min(16))
                .min(self.config.max_rto)
        };
        match self.persist_deadline {
            None => {
                self.persist_deadline = Some(now + interval(0));
                None
            }
            Some(due) if due <= now => {
                self.persist_backoff += 1;
                self.persist_deadline = Some(now + interval(self.persist_backoff));
                Some(self.segment(self.snd.una - 1, TcpFlags::ACK))
            }
            Some(_) => None,
        }
    }
    // ANCHOR_END: persist_timer

    /// A segment from us to the peer at `seq` with `flags` and no data:
    /// the ACK field (RCV.NXT) filled in when `flags` has ACK, and our
    /// receive window.
    pub(super) fn segment(&mut self, seq: TcpSeqNumber, flags: TcpFlags) -> OutSegment {
        let ack = if flags.contains(TcpFlags::ACK) {
            self.rcv.nxt
        } else {
            TcpSeqNumber(0)
        };
        let window = if flags.contains(TcpFlags::RST) {
            0
        } else {
            self.window_to_advertise(flags.contains(TcpFlags::SYN))
        };
        OutSegment::control(self.local, self.remote, seq, ack, flags, window)
    }

    /// Our SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED); its options are
    /// added by [`add_options`](Self::add_options).
    fn syn_segment(&mut self) -> OutSegment {
        let flags = if self.state == State::SynReceived {
            TcpFlags::SYN | TcpFlags::ACK
        } else {
            TcpFlags::SYN
        };
        self.segment(self.snd.iss, flags)
    }

    /// The options of a segment about to leave at `now`:
    ///
    /// - on a SYN: MSS (RFC 9293 §3.7.1: we MUST be ready for 536, and
    ///   say if we can take more), and what we offer — in a SYN,ACK only
    ///   what the peer's SYN offered too: Window Scale with our shift
    ///   (RFC 7323 §2.2), SACK-Permitted (RFC 2018 §2);
    /// - Timestamps on every segment, the SYN included, while they are
    ///   offered or agreed (RFC 7323 §3.2): our clock, and TS.Recent;
    /// - SACK blocks on an ACK while data waits out of order (RFC 2018
    ///   §4): the most recently changed block first, up to four, or three
    ///   beside timestamps (their 12 bytes leave room for no more in 40).
    fn add_options(&mut self, now: Instant, segment: &mut OutSegment) {
        let syn = segment.flags.contains(TcpFlags::SYN);
        let mut options = OutOptions::default();
        if syn {
            options.mss = Some(self.config.mss);
            options.window_scale = self
                .options
                .window_scaling
                .then_some(self.options.recv_shift);
            options.sack_permitted = self.options.sack;
        }
        if self.options.timestamps {
            options.timestamps = Some((self.timestamps.clock(now), self.timestamps.echo()));
        }
        if self.options.sack && !syn && segment.flags.contains(TcpFlags::ACK) {
            let room = self.sack_room(segment.payload.len());
            options.sack_blocks = SackBlocks::new(&self.reassembly.sack_blocks(room));
        }
        segment.options = options;
    }

    // ANCHOR: fast_retransmit
    /// The segment owed by fast retransmit (RFC 5681 §3.2) or by a partial
    /// ACK in fast recovery (RFC 6582 §3.2 step 5): one MSS from the hole
    /// at [`Connection::retransmit_at`] (never before SND.UNA), whatever
    /// cwnd says, and SND.NXT stays where it is — new data continues
    /// after it as cwnd allows.
    fn fast_retransmission(&mut self, now: Instant) -> Option<OutSegment> {
        let seq = self.retransmit_at.take()?;
        let seq = if seq < self.snd.una {
            self.snd.una
        } else {
            seq
        };
        if seq >= self.snd.max || !self.state.is_synchronized() {
            return self.data_segment(now);
        }
        self.resend(seq).or_else(|| self.data_segment(now))
    }
    // ANCHOR_END: fast_retransmit

    /// Sends again up to one MSS of what was sent before, from `seq`, but
    /// never into data the peer has SACKed (RFC 6675: only the hole).
    /// `None` if nothing there is left to send.
    fn resend(&mut self, seq: TcpSeqNumber) -> Option<OutSegment> {
        let offset = seq - self.send_buffer_start();
        let hole_end = self.scoreboard.next_sacked(seq).unwrap_or(self.snd.max);
        let len = self
            .send_buffer
            .len()
            .saturating_sub(offset)
            .min(self.data_room())
            .min(hole_end - seq);
        let fin = self.fin_seq == Some(seq + len);
        if len == 0 && !fin {
            return None;
        }
        let mut flags = TcpFlags::ACK;
        if fin {
            flags |= TcpFlags::FIN;
        }
        let mut segment = self.segment(seq, flags);
        self.send_buffer.copy_out(offset, len, &mut segment.payload);
        Some(segment)
    }

    /// In a SACK recovery (RFC 6675 §5), the next hole to send again, if
    /// the pipe leaves room for a segment (cwnd − pipe ≥ SMSS): rule 1 of
    /// NextSeg, the first hole above HighRxt judged lost. (Rule 3, which
    /// MAY resend a hole not yet judged lost, we leave out: under
    /// reordering it mostly resends data that is merely late.) SACKed
    /// data is never sent again.
    fn hole_retransmission(&mut self) -> Option<OutSegment> {
        if !self.in_sack_recovery() || self.congestion_room() < self.send_mss {
            return None;
        }
        let (start, _) = self
            .scoreboard
            .next_hole(self.snd.una, self.send_mss, true)?;
        self.resend(start)
    }

    /// A fast recovery with SACK in use.
    fn in_sack_recovery(&self) -> bool {
        self.options.sack && self.congestion.in_recovery()
    }

    /// The next data segment from SND.NXT, and the FIN when it comes after
    /// the last byte — within the peer's window (RFC 9293 §3.8.6), the
    /// congestion window (RFC 5681) and the MSS. `None` when there is
    /// nothing to send, or nothing worth sending yet.
    fn data_segment(&mut self, now: Instant) -> Option<OutSegment> {
        // States in which data or our FIN may (still) need sending.
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) {
            return None;
        }
        self.skip_sacked();
        let offset = self.snd.nxt - self.send_buffer_start();
        let unsent = self.send_buffer.len().saturating_sub(offset);
        if unsent > 0
            && self.bytes_in_flight() == 0
            && self.congestion.restart_if_idle(now, self.rtt.rto())
        {
            self.congestion_changed(now, CongestionCause::IdleRestart);
        }
        let len = unsent.min(self.data_room()).min(self.usable_window());
        // Going back after a timeout: stop where the peer's SACKs begin.
        let len = match self.scoreboard.next_sacked(self.snd.nxt) {
            Some(sacked) if self.snd.nxt < self.snd.max => len.min(sacked - self.snd.nxt),
            _ => len,
        };
        // The FIN follows the last byte and takes one sequence number of
        // the window too.
        let fin = self.fin_queued
            && !self.fin_acked()
            && offset + len == self.send_buffer.len()
            && self.usable_window() > len;
        if len == 0 && !fin {
            return None;
        }
        if !fin && !self.worth_sending(len, unsent) {
            return None;
        }
        let mut flags = TcpFlags::ACK;
        if len > 0 && len == unsent {
            // The last byte written so far: the receiver should deliver
            // (RFC 9293 §3.9.1's PSH, set as BSD and Linux do).
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
        }
        let mut segment = self.segment(self.snd.nxt, flags);
        self.send_buffer.copy_out(offset, len, &mut segment.payload);
        Some(segment)
    }

    /// The most data the next segment can carry: the send MSS (which
    /// already left room for timestamps). SACK blocks do not shrink it:
    /// segments keep one size, so a hole is always resent whole, and a
    /// full segment carries only the blocks that still fit
    /// ([`sack_room`](Self::sack_room)).
    fn data_room(&self) -> usize {
        self.send_mss
    }

    /// SACK blocks that fit in a segment with `payload` bytes of data:
    /// four, or three beside timestamps (RFC 2018 §3: 12 bytes of
    /// timestamps and 2 + 8·3 of SACK, with their NOPs, fill the 40
    /// bytes); fewer, down to none, where the data leaves no room in the
    /// MSS for the option's 4 + 8·n bytes.
    fn sack_room(&self, payload: usize) -> usize {
        let by_options = if self.options.timestamps { 3 } else { 4 };
        let spare = self.send_mss.saturating_sub(payload);
        by_options.min(spare.saturating_sub(4) / 8)
    }

    /// Going back after a timeout (SND.NXT < SND.MAX): jump over what the
    /// peer has SACKed since. The scoreboard was cleared at the timeout
    /// (RFC 2018 §8), so these are SACKs the receiver sent again after
    /// it: it still holds that data.
    fn skip_sacked(&mut self) {
        while self.snd.nxt < self.snd.max
            && let Some(end) = self.scoreboard.sacked_end(self.snd.nxt)
        {
            self.snd.nxt = end.min(self.snd.max);
        }
    }

    /// How much more sequence space may go past SND.NXT: what the peer's
    /// window allows, SND.UNA + SND.WND − SND.NXT, and what the congestion
    /// window allows, cwnd − bytes in flight (RFC 5681 §3.1: "the minimum
    /// of cwnd and rwnd governs data transmission").
    fn usable_window(&self) -> usize {
        let window_end = self.snd.una + self.snd.wnd;
        let by_window = if window_end > self.snd.nxt {
            window_end - self.snd.nxt
        } else {
            0
        };
        by_window.min(self.congestion_room())
    }

    /// What the congestion window leaves: cwnd − bytes in flight; in a
    /// SACK recovery, cwnd − pipe (RFC 6675 §5), the estimate that
    /// leaves out SACKed and lost segments.
    fn congestion_room(&self) -> usize {
        let in_flight = if self.in_sack_recovery() {
            self.scoreboard
                .pipe(self.snd.una, self.snd.max, self.send_mss)
        } else {
            self.bytes_in_flight()
        };
        (self.congestion.cwnd() + self.limited_transmit()).saturating_sub(in_flight)
    }

    /// Limited transmit (RFC 3042 §2): after the first and the second
    /// duplicate ACK (before any recovery), one more new segment each may
    /// go beyond cwnd — FlightSize up to cwnd + 2·SMSS — without changing
    /// cwnd. Each duplicate says a segment left the network, and the new
    /// segments bring the duplicates that fast retransmit needs when the
    /// window is too small for three. New data only: not while going
    /// back after a timeout.
    fn limited_transmit(&self) -> usize {
        let duplicates = self.congestion.duplicate_acks() as usize;
        let allowed = self.config.limited_transmit
            && !self.congestion.in_recovery()
            && self.snd.nxt == self.snd.max
            && (1..=2).contains(&duplicates);
        if allowed {
            duplicates * self.send_mss
        } else {
            0
        }
    }

    /// The sender's silly window avoidance (RFC 9293 §3.8.6.2.1): send a
    /// segment shorter than the MSS only if it is all we have, or at least
    /// half the largest window the peer ever offered. Otherwise wait for
    /// the window to open; tiny segments waste the path on headers.
    /// A retransmission (after going back to SND.UNA) is never held: that
    /// data is owed. A runt that is all we have still waits while data is
    /// unacknowledged: Nagle's rule ([`Connection::nagle_allows`]). (The
    /// RFC's override timeout is not implemented.)
    fn worth_sending(&self, len: usize, unsent: usize) -> bool {
        let retransmission = self.snd.nxt < self.snd.max;
        len > 0
            && (retransmission
                || len >= self.data_room()
                || (len == unsent && self.nagle_allows())
                || len >= self.snd.max_wnd / 2)
    }

    // ANCHOR: nagle
    /// Nagle's algorithm (RFC 896; RFC 9293 §3.7.4, RFC 1122 §4.2.3.4):
    /// while data is unacknowledged, a segment shorter than the MSS waits
    /// — for the ACK, or for enough data to fill a segment. One small
    /// segment in flight at a time: a program writing a byte at a time
    /// sends a few big segments per round trip, not thousands of tiny
    /// ones. [`TcpConfig::nodelay`] turns it off, as `TCP_NODELAY` does,
    /// for request–response traffic that cannot wait.
    ///
    /// [`TcpConfig::nodelay`]: super::super::TcpConfig::nodelay
    fn nagle_allows(&self) -> bool {
        self.config.nodelay || self.snd.max == self.snd.una
    }
    // ANCHOR_END: nagle

    /// The window field to put in a segment now, and the promise it
    /// makes: our buffer's free space (at most 65535, or 65535 · 2^shift
    /// with window scaling, RFC 7323 §2), but
    ///
    /// - never less than the window already promised: the right edge
    ///   RCV.NXT + RCV.WND never moves left (RFC 9293 §3.8.6.2.2, "the
    ///   receiver SHOULD NOT shrink the window");
    /// - and moved right only by a worthwhile step, at least min(half the
    ///   buffer, one MSS): the receiver's silly window avoidance
    ///   (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3).
    ///
    /// A SYN's window is never scaled (RFC 7323 §2.2). Otherwise the
    /// field is the window shifted right by our shift, and the promise is
    /// what the peer will read back: the field shifted left again.
    fn window_to_advertise(&mut self, syn: bool) -> u16 {
        if syn || !self.state.is_synchronized() {
            // Our SYN (or SYN,ACK): `synchronize_receive` sets the edge
            // to match this when the peer's SYN arrives.
            return self.recv_buffer.free().min(usize::from(u16::MAX)) as u16;
        }
        let field = self.options.window_field(self.offered_window());
        self.rcv.edge = self.rcv.nxt + self.options.our_window(field);
        field
    }

    /// The window [`window_to_advertise`](Self::window_to_advertise) would
    /// offer now.
    fn offered_window(&self) -> usize {
        let promised = self.receive_window();
        if self.free_window() >= promised + self.window_step() {
            self.free_window()
        } else {
            promised
        }
    }

    /// After a read: is the window grown enough to tell the peer?
    pub(super) fn window_update_worth_sending(&self) -> bool {
        self.offered_window() > self.receive_window()
    }

    /// The receiver's silly-window step: min(½ buffer, MSS).
    fn window_step(&self) -> usize {
        (self.recv_buffer.capacity() / 2).min(self.send_mss).max(1)
    }

    /// Free receive space, as much as our window field can say.
    fn free_window(&self) -> usize {
        self.recv_buffer.free().min(self.options.max_window())
    }

    /// Book-keeping for a segment we hand to the caller: SND.NXT and
    /// SND.MAX move past its sequence space, the retransmission timer
    /// starts (RFC 6298 §5.1), and a new segment may be timed for an RTT
    /// sample (never a retransmitted one: Karn's rule, RFC 6298 §3).
    fn sent(&mut self, now: Instant, segment: &OutSegment) {
        if segment.flags.contains(TcpFlags::ACK) {
            // Any ACK takes along the one owed: piggybacked, not delayed.
            self.ack_due = false;
            self.ack_delayed_until = None;
            self.timestamps.note_ack_sent(segment.ack_number);
        }
        let len = segment.segment_len();
        let retransmission = len > 0 && segment.seq_number < self.snd.max;
        if len > 0
            && segment.seq_number == self.snd.una
            && let Some((tsval, _)) = segment.options.timestamps
        {
            self.timestamps.sent_at_una(tsval);
        }
        if len > 0 {
            let end = segment.seq_number + len;
            // A fast retransmission fills a hole behind SND.NXT: it stays.
            if end > self.snd.nxt {
                self.snd.nxt = end;
            }
            self.congestion.note_send(now);
            if end > self.snd.max {
                self.snd.max = end;
            }
            if segment.flags.contains(TcpFlags::FIN) && self.fin_seq.is_none() {
                self.fin_seq = Some(end - 1);
            }
            if retransmission {
                // Its ACK could answer either copy: no sample from it.
                self.rtt_probe = None;
                self.retransmitted_until = Some(match self.retransmitted_until {
                    Some(until) if until > end => until,
                    _ => end,
                });
                if self.in_sack_recovery() {
                    self.scoreboard.retransmitted(end);
                }
            } else if self.rtt_probe.is_none() {
                self.rtt_probe = Some(RttProbe {
                    ack_needed: end,
                    sent_at: now,
                });
            }
            self.timer.start_if_stopped(now, self.rtt.rto());
        }
        self.record_sent(now, segment, retransmission);
    }

    fn record_sent(&mut self, now: Instant, segment: &OutSegment, retransmission: bool) {
        if segment.flags.contains(TcpFlags::ACK) && !segment.flags.contains(TcpFlags::RST) {
            let window = if segment.flags.contains(TcpFlags::SYN) {
                usize::from(segment.window_len)
            } else {
                self.options.our_window(segment.window_len)
            };
            let advertised = (segment.ack_number, window);
            if self.traced_advertised != Some(advertised) {
                self.traced_advertised = Some(advertised);
                self.trace.record(|| TraceEvent::WindowAdvertised {
                    at: now,
                    ack: advertised.0,
                    window: advertised.1,
                });
            }
        }
        self.trace.record(|| TraceEvent::Sent {
            at: now,
            segment: segment.summary(),
            retransmission,
        });
    }

    /// Runs the timers that are due at `now`.
    pub(super) fn fire_timers(&mut self, now: Instant) {
        if self.time_wait_over(now) {
            return;
        }
        if self.timer.is_expired(now) {
            self.retransmission_timeout(now);
        }
        if self.ack_delayed_until.is_some_and(|due| due <= now) {
            self.ack_delayed_until = None;
            self.ack_due = true;
            // Nothing came to carry the ACK: the peer may be waiting for
            // it (Nagle). Acknowledge the next segments at once.
            self.quick_acks_left = self.config.quick_acks;
        }
    }

    /// The retransmission timer fired (RFC 6298 §5.4–5.7): go back to
    /// SND.UNA and send the oldest unacknowledged segment again, doubling
    /// the RTO. After `max_retries` the connection fails: "timed out".
    ///
    /// Congestion control (RFC 5681 §3.1) drops cwnd to one segment, so
    /// only the oldest segment goes at once; each ACK that follows opens
    /// cwnd again in slow start, and the rest is sent again from SND.NXT
    /// (go-back-N under cwnd — without SACK we do not know what arrived).
    fn retransmission_timeout(&mut self, now: Instant) {
        if self.timer.expiries() >= self.config.max_retries {
            return self.fail(now, ConnectionError::TimedOut);
        }
        let flight = self.snd.max - self.snd.una;
        let first_expiry = self.timer.expiries() == 0;
        self.congestion
            .on_timeout(flight, first_expiry, self.snd.max);
        self.retransmit_at = None;
        // RFC 2018 §8: the receiver may have dropped what it SACKed.
        self.scoreboard.clear();
        self.rtt.back_off();
        self.timer.expired(now, self.rtt.rto());
        let (expiries, rto) = (self.timer.expiries(), self.rtt.rto());
        self.trace.record(|| TraceEvent::RetransmitTimeout {
            at: now,
            expiries,
            rto,
        });
        if self.snd.una == self.snd.iss {
            self.syn_retransmitted = true;
        }
        // Karn: the segment being timed may be acknowledged by either copy.
        self.rtt_probe = None;
        self.snd.nxt = self.snd.una;
        self.congestion_changed(now, CongestionCause::LossWindow);
    }

    // ANCHOR: time_wait
    /// Enters (or restarts) TIME-WAIT: the connection lingers 2·MSL (RFC
    /// 9293 §3.6.1) so that our last ACK can be sent again if the peer's
    /// FIN comes again, and so that no segment of this incarnation, still
    /// wandering the network, can be taken for part of a new connection
    /// between the same two ends. MSL is [`TcpConfig::msl`]: two minutes
    /// by default, shortened only by the lab's explicit setting.
    ///
    /// [`TcpConfig::msl`]: super::super::TcpConfig::msl
    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.timer.stop();
        self.time_wait_until = Some(now + self.config.time_wait());
    }

    /// Ends TIME-WAIT once 2·MSL have passed: the connection is CLOSED.
    fn time_wait_over(&mut self, now: Instant) -> bool {
        let over = self.time_wait_until.is_some_and(|until| until <= now);
        if over {
            self.set_state(now, State::Closed);
        }
        over
    }
    // ANCHOR_END: time_wait
}
