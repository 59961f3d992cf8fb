//! Sample-accurate playback of a phrase in the host's musical time.
//!
//! A phrase is anchored at a beat on a timeline, like a clip placed in the arrangement. Each block
//! the player emits the phrase's events whose beat falls inside the block, at the sample where
//! that beat falls at the block's tempo, so tempo changes between blocks are followed exactly. A
//! cursor walks the sorted events, so a block costs O(events in the block); after a jump the
//! cursor is re-found by binary search. In Loop mode the phrase repeats every `length_beats`.

use super::clock::{next_grid_line, BlockTime, Timeline};
use super::modes::PlayMode;
use continuo_engine::phrase::Phrase;

/// One note-on or note-off of a phrase, relative to the phrase's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhraseEvent {
    pub beat: f64,
    pub key: u8,
    /// 1–127 for a note-on, 0 for a note-off.
    pub velocity: u8,
}

impl PhraseEvent {
    pub fn is_on(&self) -> bool {
        self.velocity > 0
    }
}

/// A phrase prepared for the audio thread. Built (and freed) on the worker thread.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackPhrase {
    /// Sorted by beat; at equal beats note-offs come before note-ons, so repeated notes and loop
    /// wrap-arounds re-trigger cleanly.
    pub events: Vec<PhraseEvent>,
    pub length_beats: f64,
    /// Where the phrase should start, on `timeline`.
    pub anchor: f64,
    pub timeline: Timeline,
    /// If the phrase arrives after its anchor has passed, the anchor moves later by whole
    /// multiples of this (a bar for bar-aligned starts, a beat otherwise), keeping its metric
    /// position.
    pub realign_step: f64,
    /// The request this phrase answers (shown in the GUI, used by tests).
    pub request_id: u64,
    /// Whether it starts playing when it arrives (a suggestion restored from a saved project
    /// waits for Play mode instead).
    pub autoplay: bool,
    /// Whether it follows the phrase now playing (Continuous mode): it waits for its anchor
    /// instead of replacing that phrase at once.
    pub follows: bool,
}

impl PlaybackPhrase {
    /// Prepares `phrase` for playback. Allocates: worker thread only.
    pub fn new(
        phrase: &Phrase,
        anchor: f64,
        timeline: Timeline,
        realign_step: f64,
        request_id: u64,
    ) -> Self {
        // As played: on the grid, or moved by the player's micro-timing.
        let notes = phrase.performance();
        let mut events = Vec::with_capacity(notes.len() * 2);
        for note in &notes {
            events.push(PhraseEvent {
                beat: note.beat,
                key: note.pitch,
                velocity: note.velocity.max(1),
            });
            events.push(PhraseEvent {
                beat: note.beat + note.length,
                key: note.pitch,
                velocity: 0,
            });
        }
        events.sort_by(|a, b| a.beat.total_cmp(&b.beat).then(a.is_on().cmp(&b.is_on())));
        Self {
            events,
            length_beats: phrase.length_beats(),
            anchor,
            timeline,
            realign_step: if realign_step > 0.0 {
                realign_step
            } else {
                1.0
            },
            request_id,
            autoplay: true,
            follows: false,
        }
    }
}

/// A note event to send, at a sample offset inside the current block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutEvent {
    pub sample: u32,
    pub key: u8,
    /// 1–127 for a note-on, 0 for a note-off.
    pub velocity: u8,
}

/// A fixed-capacity event list for one block, preallocated in `activate()`.
pub struct BlockEvents {
    events: Vec<OutEvent>,
}

impl BlockEvents {
    /// Allocates: call from `Default`/`activate()` only.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            events: Vec::with_capacity(capacity),
        }
    }

    /// Adds an event if there is room; returns false when full (never reallocates).
    pub fn push(&mut self, event: OutEvent) -> bool {
        if self.events.len() < self.events.capacity() {
            self.events.push(event);
            true
        } else {
            false
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
    }

    pub fn as_slice(&self) -> &[OutEvent] {
        &self.events
    }
}

/// Playback state of the current phrase.
#[derive(Default)]
pub struct Player {
    /// The phrase being played (or kept for replay); replaced phrases go back to the worker.
    phrase: Option<Box<PlaybackPhrase>>,
    /// Whether the phrase is scheduled to play from `anchor`.
    armed: bool,
    /// Where the current placement starts on the phrase's timeline.
    anchor: f64,
    /// Which repetition (Loop mode) the cursor is in.
    iteration: u64,
    /// Index of the next event to emit.
    cursor: usize,
    /// Set when the cursor must be re-found from the block's position (after arming or a jump).
    needs_seek: bool,
}

impl Player {
    /// Whether `phrase` arrives after its own start on this block's timeline (it is then moved
    /// to the next grid line rather than played late or clipped).
    pub fn is_late(phrase: &PlaybackPhrase, time: &BlockTime) -> bool {
        phrase.timeline == time.timeline && phrase.anchor < time.start_beat
    }

    /// Installs a new phrase and returns the one it replaces (to be sent to the worker). The
    /// caller must end the notes of the old phrase. If the phrase comes late, or for another
    /// timeline, its anchor is moved to the next matching position of this block's timeline.
    pub fn install(
        &mut self,
        phrase: Box<PlaybackPhrase>,
        time: &BlockTime,
    ) -> Option<Box<PlaybackPhrase>> {
        let anchor = if Self::is_late(&phrase, time) {
            next_grid_line(phrase.anchor, phrase.realign_step, time.start_beat)
        } else if phrase.timeline == time.timeline {
            phrase.anchor
        } else {
            time.next_bar_at_or_after(time.start_beat)
        };
        let autoplay = phrase.autoplay;
        let old = self.phrase.replace(phrase);
        self.arm_at(anchor);
        if !autoplay {
            self.armed = false;
        }
        old
    }

    /// Schedules the current phrase to (re)start at `anchor` on the current timeline.
    pub fn arm_at(&mut self, anchor: f64) {
        self.anchor = anchor;
        self.armed = self.phrase.is_some();
        self.needs_seek = true;
    }

    /// Re-arms the phrase at the next bar line (Play mode changed to Once or Loop).
    pub fn rearm_at_next_bar(&mut self, time: &BlockTime) {
        if let Some(phrase) = &mut self.phrase {
            phrase.timeline = time.timeline;
            let anchor = time.next_bar_at_or_after(time.start_beat);
            self.arm_at(anchor);
        }
    }

    /// Stops scheduling (the caller ends sounding notes).
    pub fn disarm(&mut self) {
        self.armed = false;
    }

    /// The transport jumped: find the cursor again from the new position.
    pub fn relocate(&mut self) {
        self.needs_seek = true;
    }

    pub fn is_armed(&self) -> bool {
        self.armed
    }

    pub fn phrase(&self) -> Option<&PlaybackPhrase> {
        self.phrase.as_deref()
    }

    /// Where in the phrase `time` starts, in beats from the phrase's start (within the current
    /// repetition when looping), or `None` when nothing plays. O(1), for the editor's playhead.
    pub fn position(&self, time: &BlockTime, mode: PlayMode) -> Option<f64> {
        if !self.armed || mode == PlayMode::Off {
            return None;
        }
        let phrase = self.phrase.as_deref()?;
        if phrase.timeline != time.timeline || phrase.length_beats <= 0.0 {
            return None;
        }
        let rel = time.start_beat - self.anchor;
        if rel < 0.0 {
            return None;
        }
        match mode {
            PlayMode::Loop => Some(rel.rem_euclid(phrase.length_beats)),
            _ => (rel <= phrase.length_beats).then_some(rel),
        }
    }

    fn seek(&mut self, time: &BlockTime, mode: PlayMode) {
        self.needs_seek = false;
        let Some(phrase) = &self.phrase else {
            return;
        };
        // Events within half a sample before the block start still belong to this block.
        let from = time.start_beat - 0.5 * time.beats_per_sample;
        if from <= self.anchor {
            self.iteration = 0;
            self.cursor = 0;
            return;
        }
        let mut rel = from - self.anchor;
        self.iteration = 0;
        if mode == PlayMode::Loop {
            let iteration = (rel / phrase.length_beats).floor();
            self.iteration = iteration as u64;
            rel -= iteration * phrase.length_beats;
        } else if rel > phrase.length_beats {
            self.armed = false;
            return;
        }
        // Skip what lies before the position: notes are not chased, their note-offs are harmless
        // because the note tracker drops note-offs for notes that are not sounding.
        self.cursor = phrase.events.partition_point(|e| e.beat < rel);
    }

    /// Emits this block's events into `out`, in time order. Stops early (and resumes next block,
    /// a little late) only if `out` is full.
    pub fn render(&mut self, time: &BlockTime, mode: PlayMode, out: &mut BlockEvents) {
        self.render_until(time, mode, out, f64::INFINITY);
    }

    /// Like [`Player::render`], but only the events before beat `until` (where the next phrase
    /// takes over).
    pub fn render_until(
        &mut self,
        time: &BlockTime,
        mode: PlayMode,
        out: &mut BlockEvents,
        until: f64,
    ) {
        if !self.armed || mode == PlayMode::Off {
            return;
        }
        let Some(phrase) = &self.phrase else {
            return;
        };
        if phrase.timeline != time.timeline {
            return;
        }
        if self.needs_seek {
            self.seek(time, mode);
            if !self.armed {
                return;
            }
        }
        let Some(phrase) = &self.phrase else {
            return;
        };
        if phrase.events.is_empty() || phrase.length_beats <= 0.0 {
            return;
        }
        loop {
            if self.cursor >= phrase.events.len() {
                if mode == PlayMode::Loop {
                    self.iteration += 1;
                    self.cursor = 0;
                } else {
                    self.armed = false;
                    return;
                }
            }
            let event = phrase.events[self.cursor];
            let beat = self.anchor + self.iteration as f64 * phrase.length_beats + event.beat;
            let sample = time.sample_of(beat);
            // Up to `until`: its note-offs there still belong to this phrase, its note-ons no.
            let until_sample = time.sample_of(until);
            if sample >= time.samples as f64
                || sample > until_sample
                || (sample == until_sample && event.velocity > 0)
            {
                return;
            }
            let pushed = out.push(OutEvent {
                sample: sample.max(0.0) as u32,
                key: event.key,
                velocity: event.velocity,
            });
            if !pushed {
                return;
            }
            self.cursor += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuo_engine::phrase::{Note, TimeSignature};

    fn phrase(notes: &[(u32, u32, u8)], bars: u32) -> Phrase {
        Phrase {
            notes: notes
                .iter()
                .map(|&(start, duration, pitch)| Note {
                    start,
                    duration,
                    pitch,
                    velocity: 100,
                })
                .collect(),
            length_ticks: bars * 48,
            time_signature: TimeSignature::default(),
            timing: Vec::new(),
        }
    }

    fn block(start_sample: u64, samples: u32, tempo: f64) -> BlockTime {
        let beats_per_sample = tempo / 60.0 / 48_000.0;
        BlockTime {
            timeline: Timeline::Host,
            start_beat: start_sample as f64 * beats_per_sample,
            beats_per_sample,
            samples,
            tempo,
            time_signature: TimeSignature::default(),
            bar_origin: 0.0,
            discontinuity: false,
            timeline_changed: false,
        }
    }

    /// Plays from sample 0 to `total` in blocks of `size` and returns (absolute sample, key, vel).
    fn play(player: &mut Player, mode: PlayMode, size: u32, total: u64) -> Vec<(u64, u8, u8)> {
        let mut out = BlockEvents::with_capacity(1024);
        let mut all = Vec::new();
        let mut start = 0;
        while start < total {
            out.clear();
            let time = block(start, size, 120.0);
            player.render(&time, mode, &mut out);
            all.extend(
                out.as_slice()
                    .iter()
                    .map(|e| (start + e.sample as u64, e.key, e.velocity)),
            );
            start += size as u64;
        }
        all
    }

    fn installed(p: &Phrase, anchor: f64) -> Player {
        let mut player = Player::default();
        let time = block(0, 64, 120.0);
        let old = player.install(
            Box::new(PlaybackPhrase::new(p, anchor, Timeline::Host, 4.0, 1)),
            &time,
        );
        assert!(old.is_none());
        player
    }

    #[test]
    fn events_land_on_the_same_samples_for_every_block_size() {
        // Quarter, eighth-triplet and sixteenth positions in one bar, anchored at beat 4.
        let p = phrase(
            &[
                (0, 12, 60),
                (12, 4, 62),
                (16, 4, 64),
                (20, 4, 65),
                (45, 3, 67),
            ],
            1,
        );
        let expected: Vec<(u64, u8, u8)> = vec![
            (96_000, 60, 100),
            (120_000, 60, 0),
            (120_000, 62, 100),
            (128_000, 62, 0),
            (128_000, 64, 100),
            (136_000, 64, 0),
            (136_000, 65, 100),
            (144_000, 65, 0),
            (186_000, 67, 100),
            (192_000, 67, 0),
        ];
        for size in [1, 7, 64, 512, 4096, 8192] {
            let mut player = installed(&p, 4.0);
            let events = play(&mut player, PlayMode::Once, size, 400_000);
            assert_eq!(events, expected, "block size {size}");
            assert!(!player.is_armed(), "a Once phrase disarms at its end");
        }
    }

    #[test]
    fn position_follows_the_phrase_and_wraps_in_loop_mode() {
        // One bar (4 beats) anchored at beat 4; 120 BPM at 48 kHz is 24,000 samples per beat.
        let p = phrase(&[(0, 48, 60)], 1);
        let mut player = installed(&p, 4.0);
        assert_eq!(player.position(&block(0, 64, 120.0), PlayMode::Once), None);
        assert_eq!(
            player.position(&block(6 * 24_000, 64, 120.0), PlayMode::Once),
            Some(2.0)
        );
        assert_eq!(
            player.position(&block(10 * 24_000, 64, 120.0), PlayMode::Loop),
            Some(2.0)
        );
        assert_eq!(
            player.position(&block(10 * 24_000, 64, 120.0), PlayMode::Once),
            None
        );
        assert_eq!(
            player.position(&block(6 * 24_000, 64, 120.0), PlayMode::Off),
            None
        );
        player.disarm();
        assert_eq!(
            player.position(&block(6 * 24_000, 64, 120.0), PlayMode::Once),
            None
        );
    }

    #[test]
    fn loop_mode_repeats_every_length_with_offs_before_ons() {
        let p = phrase(&[(0, 48, 60)], 1);
        let mut player = installed(&p, 0.0);
        let events = play(&mut player, PlayMode::Loop, 512, 96_000 * 3);
        assert_eq!(
            events,
            vec![
                (0, 60, 100),
                (96_000, 60, 0),
                (96_000, 60, 100),
                (192_000, 60, 0),
                (192_000, 60, 100),
                (288_000, 60, 0),
                (288_000, 60, 100),
            ]
        );
    }

    #[test]
    fn follows_a_tempo_change_between_blocks() {
        let p = phrase(&[(0, 12, 60), (24, 12, 62)], 1);
        let mut player = installed(&p, 0.0);
        let mut out = BlockEvents::with_capacity(64);
        // First beat at 120 BPM (24000 samples), then 60 BPM: one beat is 48000 samples.
        let first = block(0, 24_000, 120.0);
        player.render(&first, PlayMode::Once, &mut out);
        assert_eq!(out.as_slice().len(), 1);
        let slow_bps = 60.0 / 60.0 / 48_000.0;
        let mut position = 1.0;
        let mut found = Vec::new();
        for i in 0..3u64 {
            out.clear();
            let time = BlockTime {
                start_beat: position,
                beats_per_sample: slow_bps,
                tempo: 60.0,
                ..block(0, 48_000, 60.0)
            };
            player.render(&time, PlayMode::Once, &mut out);
            found.extend(
                out.as_slice()
                    .iter()
                    .map(|e| (i, e.sample, e.key, e.velocity)),
            );
            position = time.end_beat();
        }
        // Beat 1 (note-off of 60) at the block start, beat 2 (note-on 62) a whole slow beat later.
        assert_eq!(found, vec![(0, 0, 60, 0), (1, 0, 62, 100), (2, 0, 62, 0)]);
    }

    #[test]
    fn a_late_phrase_is_moved_by_whole_bars_and_a_jump_reseeks() {
        let p = phrase(&[(0, 12, 60), (24, 12, 64)], 1);
        let mut player = Player::default();
        // Asked for beat 4, arrived at beat 4.5: moved to the next bar, beat 8.
        let late = block(108_000, 64, 120.0);
        let arriving = Box::new(PlaybackPhrase::new(&p, 4.0, Timeline::Host, 4.0, 1));
        assert!(Player::is_late(&arriving, &late));
        assert!(!Player::is_late(&arriving, &block(96_000, 64, 120.0)));
        player.install(arriving, &late);
        let mut out = BlockEvents::with_capacity(64);
        player.render(&block(192_000, 64, 120.0), PlayMode::Loop, &mut out);
        assert_eq!(
            out.as_slice(),
            &[OutEvent {
                sample: 0,
                key: 60,
                velocity: 100
            }]
        );
        // Jump into the middle of the first note of a later repetition (beat 24.5 = repetition
        // 4, half a beat in): nothing is chased; the pending note-off comes (the note tracker
        // drops it, since the note never sounded) and the next note-on would come at beat 26.
        out.clear();
        player.relocate();
        let jumped = block(24 * 24_000 + 12_000, 24_000, 120.0);
        player.render(&jumped, PlayMode::Loop, &mut out);
        assert_eq!(
            out.as_slice(),
            &[OutEvent {
                sample: 12_000,
                key: 60,
                velocity: 0
            }]
        );
        out.clear();
        player.render(
            &block(25 * 24_000 + 12_000, 24_000, 120.0),
            PlayMode::Loop,
            &mut out,
        );
        assert_eq!(
            out.as_slice(),
            &[OutEvent {
                sample: 12_000,
                key: 64,
                velocity: 100
            }]
        );
    }

    #[test]
    fn a_full_event_list_delays_instead_of_dropping() {
        let p = phrase(&[(0, 1, 60), (1, 1, 61), (2, 1, 62)], 1);
        let mut player = installed(&p, 0.0);
        let mut out = BlockEvents::with_capacity(2);
        player.render(&block(0, 48_000, 120.0), PlayMode::Once, &mut out);
        assert_eq!(out.as_slice().len(), 2);
        let mut rest = Vec::new();
        for start in [48_000u64, 96_000, 144_000] {
            out.clear();
            player.render(&block(start, 48_000, 120.0), PlayMode::Once, &mut out);
            rest.extend_from_slice(out.as_slice());
        }
        assert_eq!(rest.len(), 4, "the remaining events all come, late");
    }
}
