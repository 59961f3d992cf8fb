//! A synthetic player: what a musician's hands do to written notes, so that `continuo eval` can
//! check that Continuo hears played input as the music it is (see
//! [`notation`](crate::notation)) and answers with the player's feel (see [`feel`](crate::feel)).
//!
//! [`perform`] plays notation with timing jitter (normally distributed, in milliseconds at the
//! tempo, then rounded to Continuo's grid as a host's positions are), detached notes (each
//! note sounds a random share of its written length), accents by metric weight with a little
//! noise, and optionally swung eighths (in a beat of two eighths, the second played on the last
//! eighth-note triplet: the 2:1 swing of jazz and hornpipes; sixteenths stay straight).

use crate::phrase::{Note, TimeSignature, TICKS_PER_BEAT};

/// How a synthetic player plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Playing {
    /// Standard deviation of onset timing, in milliseconds.
    pub jitter_ms: f64,
    /// The shortest and longest share of its written length that a note sounds.
    pub sounding: (f64, f64),
    /// Swing off-beat eighths (2:1).
    pub swing: bool,
    /// Seed of the player's randomness (the same seed plays the same way).
    pub seed: u64,
}

impl Playing {
    /// A player with ±15 ms timing, notes sounding 55–90 % of their length, straight eighths.
    pub fn human(seed: u64) -> Playing {
        Playing {
            jitter_ms: 15.0,
            sounding: (0.55, 0.9),
            swing: false,
            seed,
        }
    }
}

/// Velocity by metric weight: the bar's downbeat, other beats, off-beats.
const ACCENTS: [u8; 3] = [100, 86, 70];
/// Random spread of a velocity around its accent (±).
const VELOCITY_NOISE: i32 = 6;

/// `notes` (sorted, on the grid, tick 0 on a bar line) as `playing` plays them at `tempo` BPM
/// in `time_signature`: sorted, on the grid, at most one note per onset.
pub fn perform(
    notes: &[Note],
    time_signature: TimeSignature,
    tempo: f64,
    playing: Playing,
) -> Vec<Note> {
    let mut rng = fastrand::Rng::with_seed(playing.seed);
    let ticks_per_ms = tempo.max(1.0) / 60_000.0 * TICKS_PER_BEAT as f64;
    let beat = TICKS_PER_BEAT;
    let bar = time_signature.bar_ticks().max(1);
    let mut played: Vec<Note> = Vec::with_capacity(notes.len());
    for (i, note) in notes.iter().enumerate() {
        let mut start = note.start;
        let mut written = note.duration;
        let next = notes.get(i + 1).map(|n| n.start);
        // An eighth pair: a note on the beat held to one half a beat later, which is the last
        // in its beat.
        let beat_of = |tick: u32| tick / beat;
        let pair_off_beat = |k: usize| {
            k >= 1
                && notes[k].start % beat == beat / 2
                && notes[k - 1].start == notes[k].start - beat / 2
                && notes
                    .get(k + 1)
                    .is_none_or(|after| beat_of(after.start) > beat_of(notes[k].start))
        };
        if playing.swing {
            // The off-beat eighth of a pair starts a sixth of a beat late (2:1); the note on the
            // beat sounds that much longer when it was held to it.
            if pair_off_beat(i) {
                start += beat / 6;
                written = written.saturating_sub(beat / 6).max(1);
            } else if next.is_some_and(|n| n == note.end()) && pair_off_beat(i + 1) {
                written += beat / 6;
            }
        }
        // Box–Muller: one normal draw per note.
        let normal =
            (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
        let shift = (normal * playing.jitter_ms * ticks_per_ms).round() as i64;
        let mut onset = (start as i64 + shift).max(0) as u32;
        if let Some(last) = played.last() {
            onset = onset.max(last.start + 1);
        }
        let (low, high) = playing.sounding;
        let share = low + (high - low) * rng.f64();
        let duration = ((written as f64 * share).round() as u32).max(1);
        let weight = if note.start % bar == 0 {
            ACCENTS[0]
        } else if note.start % beat == 0 {
            ACCENTS[1]
        } else {
            ACCENTS[2]
        };
        let velocity = (weight as i32 + rng.i32(-VELOCITY_NOISE..=VELOCITY_NOISE)).clamp(1, 127);
        played.push(Note {
            start: onset,
            duration,
            pitch: note.pitch,
            velocity: velocity as u8,
        });
    }
    played
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eighths(count: u32) -> Vec<Note> {
        (0..count)
            .map(|i| Note::new(i * 6, 6, 60 + (i % 5) as u8, 100))
            .collect()
    }

    #[test]
    fn a_player_without_jitter_plays_the_notes_detached_and_accented() {
        let playing = Playing {
            jitter_ms: 0.0,
            ..Playing::human(3)
        };
        let ts = TimeSignature::default();
        let played = perform(&eighths(16), ts, 120.0, playing);
        assert_eq!(played.len(), 16);
        for (written, played) in eighths(16).iter().zip(&played) {
            assert_eq!(played.start, written.start, "no jitter, no swing");
            assert!((3..=6).contains(&played.duration), "{played:?}");
        }
        // Downbeats louder than other beats, beats louder than off-beats.
        let mean = |pick: &dyn Fn(u32) -> bool| {
            let v: Vec<f64> = played
                .iter()
                .filter(|n| pick(n.start))
                .map(|n| n.velocity as f64)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let downbeats = mean(&|t| t % 48 == 0);
        let beats = mean(&|t| t % 12 == 0 && t % 48 != 0);
        let offbeats = mean(&|t| t % 12 != 0);
        assert!(downbeats > beats + 5.0 && beats > offbeats + 5.0);
    }

    #[test]
    fn swing_delays_the_off_beat_eighths_to_the_last_triplet() {
        let playing = Playing {
            jitter_ms: 0.0,
            sounding: (1.0, 1.0),
            swing: true,
            seed: 1,
        };
        let played = perform(&eighths(8), TimeSignature::default(), 120.0, playing);
        let starts: Vec<u32> = played.iter().map(|n| n.start).collect();
        assert_eq!(starts, vec![0, 8, 12, 20, 24, 32, 36, 44]);
        let lengths: Vec<u32> = played.iter().map(|n| n.duration).collect();
        assert_eq!(lengths, vec![8, 4, 8, 4, 8, 4, 8, 4]);
    }

    #[test]
    fn jitter_moves_onsets_by_about_its_size_and_is_reproducible() {
        let notes: Vec<Note> = (0..400).map(|i| Note::new(i * 12, 12, 60, 100)).collect();
        let ts = TimeSignature::default();
        let a = perform(&notes, ts, 120.0, Playing::human(7));
        assert_eq!(a, perform(&notes, ts, 120.0, Playing::human(7)));
        assert_ne!(a, perform(&notes, ts, 120.0, Playing::human(8)));
        // 15 ms at 120 BPM is 0.36 of a tick: most onsets stay, some move by one tick.
        let moved = a
            .iter()
            .zip(&notes)
            .filter(|(p, w)| p.start != w.start)
            .count();
        assert!((40..=160).contains(&moved), "{moved} of 400 moved");
        assert!(a
            .iter()
            .zip(&notes)
            .all(|(p, w)| p.start.abs_diff(w.start) <= 2));
    }
}
