//! Real-time: when Continuo plays by itself — in turns with the player (Answer mode), or a
//! phrase every Length bars (Continuous mode).
//!
//! The player's notes go by on the audio thread; [`Partner`] keeps just enough of them to
//! decide, at the end of each block, whether a *call* (something played) has been followed by a
//! rest of the chosen gap — then Continuo answers, once per call. A note the player starts while
//! an answer is coming or playing opens a new call, and the answer gives way. Fixed-size state:
//! no allocation, cost constant per event.

use super::clock::BlockTime;
use super::modes::PartnerMode;
use super::tracker::NoteTracker;

/// The player's turn as the audio thread follows it.
#[derive(Clone, Default)]
pub struct Partner {
    /// The player's keys held down now: a call is not over while one is held.
    held: NoteTracker,
    /// The player has played since Continuo last answered: a call waits for its answer.
    call_open: bool,
    /// Beats (on the timeline of the block they came in) where the open call's first note
    /// started and where its last note was released.
    call_start: f64,
    last_release: f64,
    /// Continuous mode: where the phrase after the one asked for last is to start.
    next_phrase_at: Option<f64>,
}

/// What the player just did, for the caller to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A note that goes on an open call (or Manual mode, where nothing answers by itself).
    Note,
    /// The first note of a new call in Answer mode: an answer coming or playing must give way.
    NewCall,
}

impl Partner {
    /// A player's note-on at `beat`.
    pub fn note_on(&mut self, channel: u8, key: u8, beat: f64, mode: PartnerMode) -> Heard {
        self.held.note_on(channel, key);
        if self.call_open {
            return Heard::Note;
        }
        self.call_open = true;
        self.call_start = beat;
        self.last_release = beat;
        if mode == PartnerMode::Answer {
            Heard::NewCall
        } else {
            Heard::Note
        }
    }

    /// A player's note-off at `beat`.
    pub fn note_off(&mut self, channel: u8, key: u8, beat: f64) {
        if self.held.note_off(channel, key) && self.call_open {
            self.last_release = self.last_release.max(beat);
        }
    }

    /// Time jumped (relocation, loop, transport start or stop): a call's beats no longer
    /// compare with the new ones, so it is left unanswered.
    pub fn forget_call(&mut self) {
        self.call_open = false;
        self.next_phrase_at = None;
    }

    /// At the end of a block in Continuous mode: the beat where the next phrase (of
    /// `length_bars` bars) is to start, when it is time to ask for it — the next bar line at
    /// least a beat away for the first, then where the previous one ends, asked for a bar ahead.
    pub fn poll_continuous(
        &mut self,
        mode: PartnerMode,
        time: &BlockTime,
        length_bars: u32,
    ) -> Option<f64> {
        if mode != PartnerMode::Continuous {
            self.next_phrase_at = None;
            return None;
        }
        let bar = time.time_signature.bar_beats();
        let at = match self.next_phrase_at {
            None => time.next_bar_at_or_after(time.end_beat() + 1.0),
            Some(next) if time.end_beat() >= next - bar => next,
            Some(_) => return None,
        };
        self.next_phrase_at = Some(at + length_bars.max(1) as f64 * bar);
        Some(at)
    }

    /// At the end of a block: in Answer mode, once a call has been followed by half of `gap`
    /// beats with no key held, closes it and returns its length in bars (at least one) and the
    /// beat its rest will be over. The answer is asked for then, so that it is ready when the
    /// rest is over; should the player come back before, the new call overtakes it.
    pub fn poll(&mut self, mode: PartnerMode, gap: f64, time: &BlockTime) -> Option<(u32, f64)> {
        if mode != PartnerMode::Answer || !self.call_open || self.held.any_sounding() {
            return None;
        }
        if time.end_beat() - self.last_release < gap / 2.0 {
            return None;
        }
        self.call_open = false;
        let bar = time.time_signature.bar_beats().max(1e-9);
        let bars = ((self.last_release - self.call_start) / bar - 1e-6).ceil();
        Some((
            bars.clamp(1.0, u32::MAX as f64) as u32,
            self.last_release + gap,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::clock::Timeline;
    use continuo_engine::phrase::TimeSignature;

    /// A block of `beats` beats starting at `start` (120 BPM, 4/4).
    fn block(start: f64, beats: f64) -> BlockTime {
        BlockTime {
            timeline: Timeline::Host,
            start_beat: start,
            beats_per_sample: 1.0 / 24_000.0,
            samples: (beats * 24_000.0) as u32,
            tempo: 120.0,
            time_signature: TimeSignature::default(),
            bar_origin: 0.0,
            discontinuity: false,
            timeline_changed: false,
        }
    }

    #[test]
    fn a_call_is_answered_once_after_the_gap_and_not_while_a_key_is_held() {
        let mut partner = Partner::default();
        let answer = PartnerMode::Answer;
        assert_eq!(partner.note_on(0, 60, 0.0, answer), Heard::NewCall);
        partner.note_off(0, 60, 0.9);
        assert_eq!(partner.note_on(0, 62, 1.0, answer), Heard::Note);
        // Held: no answer however long.
        assert_eq!(partner.poll(answer, 2.0, &block(8.0, 0.5)), None);
        partner.note_off(0, 62, 5.5);
        // Half a beat of rest: not yet; one beat (half the gap): the call (0 to 5.5, two bars) is
        // asked an answer for, to start once the two beats of rest are over (7.5).
        assert_eq!(partner.poll(answer, 2.0, &block(5.5, 0.5)), None);
        assert_eq!(partner.poll(answer, 2.0, &block(6.0, 0.5)), Some((2, 7.5)));
        // Once only.
        assert_eq!(partner.poll(answer, 2.0, &block(9.0, 0.5)), None);
        // Manual mode never answers; a jump forgets the call.
        partner.note_on(0, 64, 10.0, PartnerMode::Manual);
        partner.note_off(0, 64, 10.5);
        assert_eq!(
            partner.poll(PartnerMode::Manual, 2.0, &block(20.0, 0.5)),
            None
        );
        partner.forget_call();
        assert_eq!(partner.poll(answer, 2.0, &block(20.0, 0.5)), None);
    }

    #[test]
    fn continuous_mode_asks_a_bar_ahead_for_phrases_end_to_end() {
        let mut partner = Partner::default();
        let continuous = PartnerMode::Continuous;
        // The first on the next bar line at least a beat away; two-bar phrases.
        assert_eq!(
            partner.poll_continuous(continuous, &block(3.5, 0.25), 2),
            Some(8.0)
        );
        assert_eq!(
            partner.poll_continuous(continuous, &block(4.0, 0.25), 2),
            None
        );
        // The next (at beat 16) is asked for once the block reaches beat 12.
        assert_eq!(
            partner.poll_continuous(continuous, &block(11.5, 0.25), 2),
            None
        );
        assert_eq!(
            partner.poll_continuous(continuous, &block(11.75, 0.25), 2),
            Some(16.0)
        );
        assert_eq!(
            partner.poll_continuous(continuous, &block(12.0, 0.25), 2),
            None
        );
        // Another mode, or a jump, starts the chain again.
        partner.forget_call();
        assert_eq!(
            partner.poll_continuous(continuous, &block(30.0, 0.25), 1),
            Some(32.0)
        );
        assert_eq!(
            partner.poll_continuous(PartnerMode::Manual, &block(31.0, 0.25), 1),
            None
        );
    }
}
