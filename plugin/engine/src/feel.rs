//! The player's feel, learnt from what they played and put on an answer: accents by position in
//! the bar, the dynamic contour, swing, and articulation (how much of the time to the next note
//! a note sounds).
//!
//! The model writes notation: every note on the grid, held to the next onset, at one velocity.
//! A [`Feel`] learnt from the prompt gives each answer note the player's mean velocity at that
//! position in the bar (on a sixteenth-note grid) around the player's level where they stopped
//! (a crescendo goes on growing a little, within the loudness they played), delays the second
//! eighth of each beat of two eighths as far as the player swung theirs, and shortens notes to
//! the player's typical share of the gap to the next onset, leaving the rests a detached or
//! staccato player leaves. `amount` blends from the notation (0) to the player (1).
//!
//! [`Timing`] adds what the grid (a twelfth of a beat) cannot hold: how far before or after the
//! written onset the player plays, per sixteenth of the bar (laid back on the backbeat, pushing
//! the downbeat), learnt from their notes as played and put on the answer as its timing.

use crate::notation::eighth_pairs;
use crate::phrase::{Note, Phrase, TimeSignature, TimedNote, MAX_TIMING_OFFSET, TICKS_PER_BEAT};

/// Positions in a bar are counted in sixteenths (3 ticks).
const SLOT_TICKS: u32 = 3;
/// How many of the latest notes the dynamic level and its trend are learnt from.
const RECENT_NOTES: usize = 16;
/// How much of the player's crescendo or diminuendo the answer continues (per tick, relative to
/// the player's rate): it leans the same way, more gently.
const CONTOUR_CONTINUATION: f64 = 0.5;

/// What the player's playing says about dynamics, swing and articulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Feel {
    /// How much louder or softer than their dynamic line the player plays on each sixteenth of
    /// the bar (velocity; `None` where they did not play).
    accents: Vec<Option<f64>>,
    /// The player's level where they stopped: the end of the line fitted through the velocities
    /// of their latest notes, accents taken out (the level the accents sit around).
    level: f64,
    /// That line's slope, in velocity per tick (positive in a crescendo).
    trend: f64,
    /// The softest and loudest velocity the player played: a continued contour stays inside.
    loudness: (f64, f64),
    /// Where the player puts the second eighth of a beat of two eighths, in ticks after the
    /// beat (6 = straight, 8 = triplet swing); `None` when they played no such beats.
    swing: Option<f64>,
    /// Median share of the time to the next onset that a note sounds (1 = legato), per
    /// sixteenth of the bar where the player played, and over all notes (for the others).
    articulations: Vec<Option<f64>>,
    articulation: f64,
}

impl Feel {
    /// Learns the feel of `notes` (as played: sorted, on the prompt's grid, tick 0 on a bar
    /// line). `None` with fewer than two notes.
    pub fn learn(notes: &[Note], time_signature: TimeSignature) -> Option<Feel> {
        if notes.len() < 2 || notes.last()?.start == notes[0].start {
            return None;
        }
        let bar = time_signature.bar_ticks().max(1);
        let slots = bar.div_ceil(SLOT_TICKS) as usize;
        let slot_of = |note: &Note| ((note.start % bar) / SLOT_TICKS) as usize;
        // Accents are what is left of each velocity around the line through all of them (so a
        // crescendo does not make the later beats of a bar sound accented), and the line is
        // fitted with the accents taken out (so a bar ending on a soft note does not tilt it):
        // a few rounds of each settle both.
        let mut accents: Vec<Option<f64>> = vec![None; slots];
        for _ in 0..4 {
            let points: Vec<(f64, f64)> = notes
                .iter()
                .map(|n| {
                    let accent = accents[slot_of(n)].unwrap_or(0.0);
                    (n.start as f64, n.velocity as f64 - accent)
                })
                .collect();
            let (end, slope) = contour(&points);
            let last = points[points.len() - 1].0;
            let mut residuals = vec![Vec::new(); slots];
            for note in notes {
                let line = end + slope * (note.start as f64 - last);
                residuals[slot_of(note)].push(note.velocity as f64 - line);
            }
            let means: Vec<Option<f64>> = residuals
                .iter()
                .map(|r| (!r.is_empty()).then(|| r.iter().sum::<f64>() / r.len() as f64))
                .collect();
            let centre = mean_of(&means);
            accents = means.iter().map(|m| m.map(|m| m - centre)).collect();
        }
        // The level with the accents taken out, so that a bar ending on a soft off-beat is not
        // heard as a diminuendo.
        let recent: Vec<(f64, f64)> = notes[notes.len().saturating_sub(RECENT_NOTES)..]
            .iter()
            .map(|n| {
                let accent = accents[slot_of(n)].unwrap_or(0.0);
                (n.start as f64, n.velocity as f64 - accent)
            })
            .collect();
        let (level, trend) = contour(&recent);
        let velocities = notes.iter().map(|n| n.velocity as f64);
        let loudness = (
            velocities.clone().fold(f64::INFINITY, f64::min),
            velocities.fold(f64::NEG_INFINITY, f64::max),
        );
        // A dotted eighth and sixteenth (the second note 9 ticks after the beat) is a written
        // rhythm, not swing.
        let pairs: Vec<f64> = eighth_pairs(notes)
            .into_iter()
            .filter(|&(_, after)| after <= 8)
            .map(|(_, after)| after as f64)
            .collect();
        let swing = (pairs.len() >= 2).then(|| pairs.iter().sum::<f64>() / pairs.len() as f64);
        let mut ratios = vec![Vec::new(); slots];
        for w in notes.windows(2).filter(|w| w[1].start > w[0].start) {
            let ratio = (w[0].duration as f64 / (w[1].start - w[0].start) as f64).min(1.0);
            ratios[slot_of(&w[0])].push(ratio);
        }
        let mut all: Vec<f64> = ratios.iter().flatten().copied().collect();
        Some(Feel {
            accents,
            level,
            trend,
            loudness,
            swing,
            articulations: ratios.iter_mut().map(|r| median(r)).collect(),
            articulation: median(&mut all)?,
        })
    }

    /// Puts the feel on `notes` (sorted, ticks on the same bar grid as the prompt, `offset`
    /// ticks added to find their place in the bar: the answer starts `offset` ticks after the
    /// prompt's first bar line, where the player stopped), blended by `amount` (0–1) from flat
    /// velocity, straight and legato notation.
    pub fn render(
        &self,
        notes: &mut [Note],
        offset: u32,
        time_signature: TimeSignature,
        amount: f32,
    ) {
        let amount = amount.clamp(0.0, 1.0) as f64;
        let bar = time_signature.bar_ticks().max(1);
        // Swing first: articulation shares the gaps the swing leaves.
        if let Some(swing) = self.swing {
            let delay = (amount * (swing - TICKS_PER_BEAT as f64 / 2.0)).round();
            if delay >= 1.0 {
                let delay = delay as u32;
                let pairs: Vec<usize> = eighth_pairs(notes)
                    .into_iter()
                    .filter(|&(_, after)| after == TICKS_PER_BEAT / 2)
                    .map(|(i, _)| i)
                    .collect();
                for i in pairs {
                    let old = notes[i].start;
                    if notes[i - 1].end() == old {
                        notes[i - 1].duration += delay;
                    }
                    notes[i].start += delay;
                    notes[i].duration = notes[i].duration.saturating_sub(delay).max(1);
                }
            }
        }
        let next_onsets: Vec<Option<u32>> = (0..notes.len())
            .map(|i| notes.get(i + 1).map(|n| n.start))
            .collect();
        for (note, next) in notes.iter_mut().zip(next_onsets) {
            let slot = (((note.start + offset) % bar) / SLOT_TICKS) as usize;
            let accent = self.accents.get(slot).copied().flatten().unwrap_or(0.0);
            let (softest, loudest) = self.loudness;
            let loudest = loudest.max(softest);
            let level = (self.level + CONTOUR_CONTINUATION * self.trend * note.start as f64)
                .clamp(softest, loudest);
            let felt = (level + accent).clamp(softest, loudest);
            let velocity = note.velocity as f64 + amount * (felt - note.velocity as f64);
            note.velocity = velocity.round().clamp(1.0, 127.0) as u8;
            // Articulation: a share of the gap to the next onset (the last note keeps its length).
            if let Some(next) = next {
                let gap = next.saturating_sub(note.start) as f64;
                let legato = note.duration as f64;
                let share = self
                    .articulations
                    .get(slot)
                    .copied()
                    .flatten()
                    .unwrap_or(self.articulation);
                let played = (gap * share).min(legato);
                let duration = legato + amount * (played - legato);
                note.duration = (duration.round() as u32).max(1);
            }
        }
    }
}

/// The player's micro-timing: how far before or after the written onset they play, per
/// sixteenth of the bar, learnt from their notes as played (in beats, finer than Continuo's grid)
/// and put on an answer as its [`Phrase::timing`]. The second eighth of a beat of two eighths is
/// left to [`Feel`]'s swing, on the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Mean offset in beats per sixteenth of the bar, where the player played at least twice.
    slots: Vec<Option<f64>>,
    /// Mean offset over all notes (for the sixteenths where they did not play).
    overall: f64,
}

impl Timing {
    /// Learns the timing of `played` (sorted, beats from a bar line of `time_signature`).
    /// `None` with fewer than four notes near a written onset.
    pub fn learn(played: &[TimedNote], time_signature: TimeSignature) -> Option<Timing> {
        let beat_ticks = TICKS_PER_BEAT as f64;
        let bar = time_signature.bar_ticks().max(1);
        let slots = bar.div_ceil(SLOT_TICKS) as usize;
        // The grid notes as the notation reads them, to find the eighth pairs (swing's).
        let on_grid: Vec<Note> = played
            .iter()
            .map(|n| Note::new((n.beat * beat_ticks).round().max(0.0) as u32, 1, n.pitch, 1))
            .collect();
        let swung: Vec<usize> = eighth_pairs(&on_grid).into_iter().map(|(i, _)| i).collect();
        let mut sums = vec![(0.0, 0usize); slots];
        let (mut total, mut count) = (0.0, 0usize);
        for (i, note) in played.iter().enumerate() {
            if swung.contains(&i) {
                continue;
            }
            // The nearest written onset: a sixteenth or an eighth-note triplet.
            let sixteenth = (note.beat * 4.0).round() / 4.0;
            let triplet = (note.beat * 3.0).round() / 3.0;
            let line = if (note.beat - triplet).abs() < (note.beat - sixteenth).abs() {
                triplet
            } else {
                sixteenth
            };
            let offset = note.beat - line;
            if offset.abs() > MAX_TIMING_OFFSET {
                continue; // an ornament or a rhythm off both grids, not timing
            }
            let tick = (line * beat_ticks).round() as u32;
            let slot = ((tick % bar) / SLOT_TICKS) as usize;
            sums[slot].0 += offset;
            sums[slot].1 += 1;
            total += offset;
            count += 1;
        }
        (count >= 4).then(|| Timing {
            slots: sums
                .into_iter()
                .map(|(sum, n)| (n >= 2).then(|| sum / n as f64))
                .collect(),
            overall: total / count as f64,
        })
    }

    /// Puts the timing on `phrase` (whose tick 0 lies `offset` ticks after a bar line of the
    /// player's grid), scaled by `amount` (0–1): its [`Phrase::timing`].
    pub fn apply(&self, phrase: &mut Phrase, offset: u32, amount: f32) {
        let amount = amount.clamp(0.0, 1.0) as f64;
        let bar = phrase.time_signature.bar_ticks().max(1);
        let swung: Vec<usize> = eighth_pairs(&phrase.notes)
            .into_iter()
            .filter(|&(_, after)| after > TICKS_PER_BEAT / 2)
            .map(|(i, _)| i)
            .collect();
        phrase.timing = phrase
            .notes
            .iter()
            .enumerate()
            .map(|(i, note)| {
                if swung.contains(&i) {
                    return 0.0;
                }
                let slot = (((note.start + offset) % bar) / SLOT_TICKS) as usize;
                let player = self
                    .slots
                    .get(slot)
                    .copied()
                    .flatten()
                    .unwrap_or(self.overall);
                (amount * player).clamp(-MAX_TIMING_OFFSET, MAX_TIMING_OFFSET)
            })
            .collect();
    }
}

/// The median of `values` (`None` when empty).
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The mean of the values present.
fn mean_of(values: &[Option<f64>]) -> f64 {
    let seen: Vec<f64> = values.iter().flatten().copied().collect();
    seen.iter().sum::<f64>() / seen.len().max(1) as f64
}

/// The line fitted through (onset, velocity) points: its value at the last onset, and its
/// slope per tick (0 when the points share one onset).
fn contour(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len().max(1) as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_v = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for &(t, v) in points {
        covariance += (t - mean_t) * (v - mean_v);
        variance += (t - mean_t).powi(2);
    }
    let slope = if variance > 0.0 {
        covariance / variance
    } else {
        0.0
    };
    let last = points.last().map_or(mean_t, |p| p.0);
    (mean_v + slope * (last - mean_t), slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_staccato_carry_over_and_nothing_at_zero() {
        let ts = TimeSignature::default();
        // Eighths, accented on the beat (110) and soft off it (70), each sounding half its gap.
        let played: Vec<Note> = (0..16)
            .map(|i| {
                Note::new(
                    i * 6,
                    3,
                    60 + (i % 5) as u8,
                    if i % 2 == 0 { 110 } else { 70 },
                )
            })
            .collect();
        let feel = Feel::learn(&played, ts).unwrap();
        // A legato, flat answer in eighths.
        let answer: Vec<Note> = (0..8).map(|i| Note::new(i * 6, 6, 62, 90)).collect();
        let mut felt = answer.clone();
        feel.render(&mut felt, 0, ts, 1.0);
        assert_eq!(felt[0].velocity, 110);
        assert_eq!(felt[1].velocity, 70);
        assert_eq!(felt[0].duration, 3, "staccato like the player");
        assert_eq!(felt[7].duration, 6, "the last note keeps its length");
        let mut untouched = answer.clone();
        feel.render(&mut untouched, 0, ts, 0.0);
        assert_eq!(untouched, answer);
        assert!(Feel::learn(&played[..1], ts).is_none());
    }

    /// Two bars of swung eighths (2:1), accented on the beat, each sounding two thirds of its
    /// gap: as a player plays them.
    fn swung_riff() -> Vec<Note> {
        (0..16u32)
            .map(|i| {
                let beat = i / 2 * 12;
                let (start, gap, velocity) = if i % 2 == 0 {
                    (beat, 8, 104)
                } else {
                    (beat + 8, 4, 72)
                };
                Note::new(start, gap * 2 / 3, 60 + (i % 5) as u8, velocity)
            })
            .collect()
    }

    #[test]
    fn a_phrase_through_the_template_of_itself_comes_back_as_it_was() {
        let ts = TimeSignature::default();
        let played = swung_riff();
        let feel = Feel::learn(&played, ts).unwrap();
        // What the model would write: straight legato eighths at one velocity.
        let mut written = crate::notation::notate(&played, ts);
        for note in &mut written {
            note.velocity = 90;
        }
        let last = written.len() - 1;
        assert!(
            written[..last]
                .iter()
                .all(|n| n.start % 6 == 0 && n.duration == 6),
            "{written:?}"
        );
        feel.render(&mut written, 0, ts, 1.0);
        assert_eq!(written[..last], played[..last]);
        // The last note has no next onset to share: it keeps its written length.
        assert_eq!(written[last].start, played[last].start);
        assert_eq!(written[last].velocity, played[last].velocity);
    }

    #[test]
    fn swing_carries_over_to_straight_eighths_and_not_at_zero() {
        let ts = TimeSignature::default();
        let feel = Feel::learn(&swung_riff(), ts).unwrap();
        let straight: Vec<Note> = (0..8).map(|i| Note::new(i * 6, 6, 62, 90)).collect();
        let mut felt = straight.clone();
        feel.render(&mut felt, 0, ts, 1.0);
        let starts: Vec<u32> = felt.iter().map(|n| n.start).collect();
        assert_eq!(starts, vec![0, 8, 12, 20, 24, 32, 36, 44]);
        // Halfway: a sixteenth-of-a-triplet late.
        let mut half = straight.clone();
        feel.render(&mut half, 0, ts, 0.5);
        assert_eq!(half[1].start, 7);
        // Sixteenths and lone eighths are not eighth pairs: they stay where they are.
        let sixteenths: Vec<Note> = (0..8).map(|i| Note::new(i * 3, 3, 62, 90)).collect();
        let mut felt = sixteenths.clone();
        feel.render(&mut felt, 0, ts, 1.0);
        assert!(felt
            .iter()
            .zip(&sixteenths)
            .all(|(a, b)| a.start == b.start));
    }

    #[test]
    fn a_crescendo_goes_on_from_where_the_player_got_to() {
        let ts = TimeSignature::default();
        // Quarter notes growing from 40 to 115 over five bars.
        let crescendo: Vec<Note> = (0..20u32)
            .map(|i| Note::new(i * 12, 12, 64, (40 + i * 4 - i / 4) as u8))
            .collect();
        let feel = Feel::learn(&crescendo, ts).unwrap();
        let mut answer: Vec<Note> = (0..8).map(|i| Note::new(i * 12, 12, 62, 90)).collect();
        feel.render(&mut answer, 20 * 12, ts, 1.0);
        let loudest = crescendo.iter().map(|n| n.velocity).max().unwrap();
        assert!(answer[0].velocity >= loudest - 8, "{:?}", answer[0]);
        assert!(answer.iter().all(|n| n.velocity <= loudest));
        // Not the flat mean of the last notes, and not falling back.
        assert!(answer
            .windows(2)
            .all(|w| w[1].velocity + 2 >= w[0].velocity));
    }

    #[test]
    fn a_laid_back_player_is_answered_laid_back() {
        let ts = TimeSignature::default();
        // Quarter notes: the downbeat pushed 20 ms early, the other beats 30 ms late (120 BPM:
        // a beat is 500 ms), with a little noise.
        let played: Vec<TimedNote> = (0..16)
            .map(|i| {
                let written = i as f64;
                let offset = if i % 4 == 0 { -0.04 } else { 0.06 } + [0.004, -0.004][i % 2];
                TimedNote {
                    beat: written + offset,
                    length: 0.8,
                    pitch: 60,
                    velocity: 90,
                }
            })
            .collect();
        let timing = Timing::learn(&played, ts).unwrap();
        let mut answer = Phrase {
            notes: (0..8).map(|i| Note::new(i * 12, 12, 62, 90)).collect(),
            length_ticks: 96,
            time_signature: ts,
            timing: Vec::new(),
        };
        timing.apply(&mut answer, 0, 1.0);
        assert_eq!(answer.validate(), Ok(()));
        for (i, offset) in answer.timing.iter().enumerate() {
            let want = if i % 4 == 0 { -0.04 } else { 0.06 };
            assert!(
                (offset - want).abs() < 0.005,
                "note {i}: {offset} {timing:?}"
            );
        }
        let performed = answer.performance();
        assert!((performed[1].beat - 1.06).abs() < 0.005);
        // Half the Feel, half the offsets; none at 0.
        timing.apply(&mut answer, 0, 0.5);
        assert!((answer.timing[1] - 0.03).abs() < 0.005);
        timing.apply(&mut answer, 0, 0.0);
        assert!(answer.timing.iter().all(|&t| t == 0.0));
        assert!(Timing::learn(&played[..3], ts).is_none());
    }
}
