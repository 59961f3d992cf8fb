//! Melodies in musical time: notes on a 12-per-beat grid, time signatures and phrases.
//!
//! A "beat" is a quarter note throughout Continuo, as in every host's transport. Twelve ticks per
//! beat hold sixteenths (3), eighth triplets (4) and sixteenth triplets (2) exactly.

/// Grid resolution of all generated material.
pub const TICKS_PER_BEAT: u32 = 12;

/// A time signature as the host reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeSignature {
    /// Beats per bar, in units of the denominator.
    pub numerator: u8,
    /// The note value of one beat (4 = quarter note).
    pub denominator: u8,
}

impl Default for TimeSignature {
    fn default() -> Self {
        Self {
            numerator: 4,
            denominator: 4,
        }
    }
}

impl TimeSignature {
    /// A time signature from untrusted host or file values; nonsense falls back to 4/4.
    pub fn sanitized(numerator: i32, denominator: i32) -> Self {
        let valid_denominator = matches!(denominator, 1 | 2 | 4 | 8 | 16 | 32);
        if (1..=64).contains(&numerator) && valid_denominator {
            Self {
                numerator: numerator as u8,
                denominator: denominator as u8,
            }
        } else {
            Self::default()
        }
    }

    /// Length of one bar in beats (quarter notes).
    pub fn bar_beats(&self) -> f64 {
        self.numerator as f64 * 4.0 / self.denominator as f64
    }

    /// Length of one bar in grid ticks, rounded to the grid for signatures finer than it.
    pub fn bar_ticks(&self) -> u32 {
        ((self.bar_beats() * TICKS_PER_BEAT as f64).round() as u32).max(1)
    }

    /// Length of the beat a musician counts, in grid ticks: the denominator's note, or three
    /// of them in compound meters (6/8, 9/8, 12/8 and 3/8 are counted in dotted quarters).
    pub fn beat_ticks(&self) -> u32 {
        let unit = 4 * TICKS_PER_BEAT / self.denominator.max(1) as u32;
        let compound = self.denominator >= 8 && self.numerator.is_multiple_of(3);
        (if compound { 3 * unit } else { unit }).clamp(1, self.bar_ticks())
    }
}

/// One note of a melody, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// Onset in ticks from the phrase's (or melody's) origin.
    pub start: u32,
    /// Length in ticks; never zero.
    pub duration: u32,
    /// MIDI key, 0–127.
    pub pitch: u8,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
}

impl Note {
    /// A note from its onset and length in ticks, MIDI key and velocity.
    pub const fn new(start: u32, duration: u32, pitch: u8, velocity: u8) -> Note {
        Note {
            start,
            duration,
            pitch,
            velocity,
        }
    }

    /// The tick just after the note ends.
    pub fn end(&self) -> u32 {
        self.start + self.duration
    }
}

/// A note as it is (or was) played, in beats at whatever resolution it comes (a file's pulses, a
/// host's sample positions, the player's timing put on an answer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedNote {
    /// Onset in beats from the start of what it belongs to.
    pub beat: f64,
    /// Length in beats.
    pub length: f64,
    /// MIDI key, 0–127.
    pub pitch: u8,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
}

/// How far from its grid position a note of a phrase may be played, in beats: a tick of the grid
/// (42 ms at 120 BPM).
pub const MAX_TIMING_OFFSET: f64 = 1.0 / 12.0;

/// A generated continuation: a monophonic line that fills exactly `length_ticks`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Phrase {
    /// Notes sorted by onset, non-overlapping, all inside `0..length_ticks`.
    pub notes: Vec<Note>,
    /// The phrase's length (a whole number of bars when generated for the plugin).
    pub length_ticks: u32,
    /// The meter the phrase was written in.
    pub time_signature: TimeSignature,
    /// How far after (+) or before (−) its place on the grid each note is played, in beats, at
    /// most [`MAX_TIMING_OFFSET`]: the player's micro-timing put on the answer. Empty: on the
    /// grid. (Saved projects from before it have none.)
    #[serde(default)]
    pub timing: Vec<f64>,
}

/// Why a phrase is not playable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhraseError {
    /// The note at this index has no length.
    ZeroLength(usize),
    /// The note at this index is outside MIDI's 0–127.
    PitchOutOfRange(usize),
    /// The note at this index has velocity 0 or above 127.
    BadVelocity(usize),
    /// The note at this index starts before the one before it.
    Unsorted(usize),
    /// The note at this index starts before the one before it has ended.
    Overlap(usize),
    /// The note at this index ends after the phrase.
    PastEnd(usize),
    /// The timing has another length than the notes, or an offset too large or not a number.
    BadTiming,
}

impl std::fmt::Display for PhraseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZeroLength(i) => write!(f, "note {i} has zero length"),
            Self::PitchOutOfRange(i) => write!(f, "note {i} has a pitch outside 0-127"),
            Self::BadVelocity(i) => write!(f, "note {i} has a velocity outside 1-127"),
            Self::Unsorted(i) => write!(f, "note {i} starts before the note preceding it"),
            Self::Overlap(i) => write!(f, "note {i} starts before the previous note ends"),
            Self::PastEnd(i) => write!(f, "note {i} ends after the end of the phrase"),
            Self::BadTiming => write!(f, "the timing does not fit the notes"),
        }
    }
}

impl std::error::Error for PhraseError {}

impl Phrase {
    /// Checks every invariant the player and the file writer rely on.
    pub fn validate(&self) -> Result<(), PhraseError> {
        let timing_fits = self.timing.is_empty()
            || (self.timing.len() == self.notes.len()
                && self
                    .timing
                    .iter()
                    .all(|t| t.is_finite() && t.abs() <= MAX_TIMING_OFFSET));
        if !timing_fits {
            return Err(PhraseError::BadTiming);
        }
        let mut previous: Option<&Note> = None;
        for (i, note) in self.notes.iter().enumerate() {
            if note.duration == 0 {
                return Err(PhraseError::ZeroLength(i));
            }
            if note.pitch > 127 {
                return Err(PhraseError::PitchOutOfRange(i));
            }
            if note.velocity == 0 || note.velocity > 127 {
                return Err(PhraseError::BadVelocity(i));
            }
            if note.end() > self.length_ticks {
                return Err(PhraseError::PastEnd(i));
            }
            if let Some(previous) = previous {
                if note.start < previous.start {
                    return Err(PhraseError::Unsorted(i));
                }
                if note.start < previous.end() {
                    return Err(PhraseError::Overlap(i));
                }
            }
            previous = Some(note);
        }
        Ok(())
    }

    /// The phrase's length in beats (quarter notes).
    pub fn length_beats(&self) -> f64 {
        self.length_ticks as f64 / TICKS_PER_BEAT as f64
    }

    /// The notes as they are played, in beats: each moved by its timing (none before the
    /// phrase's start), and ending no later than the next note starts or the phrase ends.
    pub fn performance(&self) -> Vec<TimedNote> {
        let tick = 1.0 / TICKS_PER_BEAT as f64;
        let start = |i: usize| {
            let offset = self.timing.get(i).copied().unwrap_or(0.0);
            (self.notes[i].start as f64 * tick + offset).max(0.0)
        };
        (0..self.notes.len())
            .map(|i| {
                let note = &self.notes[i];
                let beat = start(i);
                let offset = self.timing.get(i).copied().unwrap_or(0.0);
                let limit = if i + 1 < self.notes.len() {
                    start(i + 1)
                } else {
                    self.length_beats()
                };
                let end = (note.end() as f64 * tick + offset).min(limit);
                TimedNote {
                    beat,
                    // Never shorter than a tick, never past the next onset or the phrase's end.
                    length: (end - beat).max(tick.min(limit - beat).max(1e-6)),
                    pitch: note.pitch,
                    velocity: note.velocity,
                }
            })
            .collect()
    }
}

/// Reduces any set of notes to a monophonic line: at equal onsets the highest note wins, and a
/// note is cut where the next one starts. Input may be unsorted and polyphonic.
pub fn monophonic(notes: &[Note]) -> Vec<Note> {
    let mut sorted: Vec<Note> = notes.iter().copied().filter(|n| n.duration > 0).collect();
    // Onset ascending, pitch descending: the first note at each onset is the top voice.
    sorted.sort_by(|a, b| a.start.cmp(&b.start).then(b.pitch.cmp(&a.pitch)));
    sorted.dedup_by_key(|n| n.start);
    for i in 0..sorted.len().saturating_sub(1) {
        let next_start = sorted[i + 1].start;
        let note = &mut sorted[i];
        if note.end() > next_start {
            note.duration = next_start - note.start;
        }
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: u32, duration: u32, pitch: u8) -> Note {
        Note::new(start, duration, pitch, 90)
    }

    #[test]
    fn bar_lengths_follow_the_time_signature() {
        assert_eq!(TimeSignature::sanitized(4, 4).bar_ticks(), 48);
        assert_eq!(TimeSignature::sanitized(6, 8).bar_ticks(), 36);
        assert_eq!(TimeSignature::sanitized(4, 2).bar_ticks(), 96);
        assert_eq!(TimeSignature::sanitized(7, 16).bar_ticks(), 21);
        assert_eq!(TimeSignature::sanitized(3, 4).bar_beats(), 3.0);
        // Nonsense from a host falls back to 4/4 instead of dividing by zero.
        assert_eq!(TimeSignature::sanitized(0, 4), TimeSignature::default());
        assert_eq!(TimeSignature::sanitized(4, 0), TimeSignature::default());
        assert_eq!(TimeSignature::sanitized(4, 3), TimeSignature::default());
    }

    #[test]
    fn monophonic_keeps_the_top_voice_and_cuts_overlaps() {
        let chords = [
            note(0, 12, 60),
            note(0, 12, 64),
            note(6, 12, 62),
            note(24, 6, 55),
        ];
        let line = monophonic(&chords);
        assert_eq!(line, vec![note(0, 6, 64), note(6, 12, 62), note(24, 6, 55)]);
    }

    #[test]
    fn validation_catches_every_broken_invariant() {
        let good = Phrase {
            notes: vec![note(0, 12, 60), note(12, 36, 62)],
            length_ticks: 48,
            time_signature: TimeSignature::default(),
            timing: Vec::new(),
        };
        assert_eq!(good.validate(), Ok(()));
        let mut bad = good.clone();
        bad.notes[1].duration = 0;
        assert_eq!(bad.validate(), Err(PhraseError::ZeroLength(1)));
        let mut bad = good.clone();
        bad.notes[1].duration = 37;
        assert_eq!(bad.validate(), Err(PhraseError::PastEnd(1)));
        let mut bad = good.clone();
        bad.notes[1].start = 6;
        assert_eq!(bad.validate(), Err(PhraseError::Overlap(1)));
        let mut bad = good.clone();
        bad.notes[0].pitch = 128;
        assert_eq!(bad.validate(), Err(PhraseError::PitchOutOfRange(0)));
        let mut bad = good.clone();
        bad.notes[0].velocity = 0;
        assert_eq!(bad.validate(), Err(PhraseError::BadVelocity(0)));
        for timing in [vec![0.01], vec![0.0, 0.2], vec![f64::NAN, 0.0]] {
            let bad = Phrase {
                timing,
                ..good.clone()
            };
            assert_eq!(bad.validate(), Err(PhraseError::BadTiming));
        }
    }

    #[test]
    fn a_timed_phrase_is_played_off_the_grid_and_its_notes_never_overlap() {
        let phrase = Phrase {
            notes: vec![note(0, 12, 60), note(12, 12, 62), note(24, 24, 64)],
            length_ticks: 48,
            time_signature: TimeSignature::default(),
            // Early into the phrase (cannot start before it), late, early.
            timing: vec![-0.05, 0.04, -0.03],
        };
        assert_eq!(phrase.validate(), Ok(()));
        let played: Vec<(f64, f64)> = phrase
            .performance()
            .iter()
            .map(|n| (n.beat, n.length))
            .collect();
        let expected = [(0.0, 0.95), (1.04, 0.93), (1.97, 2.0)];
        for (got, want) in played.iter().zip(expected) {
            assert!(
                (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
                "{played:?}"
            );
        }
        // On the grid without timing.
        let plain = Phrase {
            timing: Vec::new(),
            ..phrase
        };
        assert_eq!(plain.performance()[1].beat, 1.0);
        assert_eq!(plain.performance()[2].length, 2.0);
    }
}
