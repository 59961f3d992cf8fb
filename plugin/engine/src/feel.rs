//! The player's feel, learnt from what they played and put on an answer: accents by position in
//! the bar, and articulation (how much of the time to the next note a note sounds).
//!
//! The model writes notation: every note on the grid, held to the next onset, at one velocity.
//! A [`Feel`] learnt from the prompt gives each answer note the player's mean velocity at that
//! position in the bar (on a sixteenth-note grid) around the player's recent level, and shortens
//! notes to the player's typical share of the gap to the next onset, leaving the rests a
//! detached or staccato player leaves. `amount` blends from the notation (0) to the player (1).

use crate::phrase::{Note, TimeSignature};

/// Positions in a bar are counted in sixteenths (3 ticks).
const SLOT_TICKS: u32 = 3;

/// What the player's playing says about velocity and articulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Feel {
    /// Mean velocity per sixteenth of the bar, where the player played there.
    accents: Vec<Option<f64>>,
    /// The player's recent mean velocity (the level the accents sit around).
    level: f64,
    /// Median share of the time to the next onset that a note sounds (1 = legato).
    articulation: f64,
}

impl Feel {
    /// Learns the feel of `notes` (sorted, on the prompt's grid, tick 0 on a bar line). `None`
    /// with fewer than two notes.
    pub fn learn(notes: &[Note], time_signature: TimeSignature) -> Option<Feel> {
        if notes.len() < 2 {
            return None;
        }
        let bar = time_signature.bar_ticks().max(1);
        let slots = bar.div_ceil(SLOT_TICKS) as usize;
        let mut sums = vec![(0.0, 0usize); slots];
        for note in notes {
            let slot = ((note.start % bar) / SLOT_TICKS) as usize;
            sums[slot].0 += note.velocity as f64;
            sums[slot].1 += 1;
        }
        let recent = &notes[notes.len().saturating_sub(16)..];
        let level = recent.iter().map(|n| n.velocity as f64).sum::<f64>() / recent.len() as f64;
        let mut ratios: Vec<f64> = notes
            .windows(2)
            .filter(|w| w[1].start > w[0].start)
            .map(|w| (w[0].duration as f64 / (w[1].start - w[0].start) as f64).min(1.0))
            .collect();
        if ratios.is_empty() {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        Some(Feel {
            accents: sums
                .into_iter()
                .map(|(sum, count)| (count > 0).then(|| sum / count as f64))
                .collect(),
            level,
            articulation: ratios[ratios.len() / 2],
        })
    }

    /// Puts the feel on `notes` (sorted, ticks on the same bar grid as the prompt, `offset`
    /// ticks added to find their place in the bar), blended by `amount` (0–1) from `flat`
    /// velocity and legato notation. The overall level is the player's recent one.
    pub fn render(
        &self,
        notes: &mut [Note],
        offset: u32,
        time_signature: TimeSignature,
        amount: f32,
    ) {
        let amount = amount.clamp(0.0, 1.0) as f64;
        let bar = time_signature.bar_ticks().max(1);
        let mean_accent = {
            let seen: Vec<f64> = self.accents.iter().flatten().copied().collect();
            seen.iter().sum::<f64>() / seen.len().max(1) as f64
        };
        let next_onsets: Vec<Option<u32>> = (0..notes.len())
            .map(|i| notes.get(i + 1).map(|n| n.start))
            .collect();
        for (note, next) in notes.iter_mut().zip(next_onsets) {
            let slot = (((note.start + offset) % bar) / SLOT_TICKS) as usize;
            let accent = self
                .accents
                .get(slot)
                .copied()
                .flatten()
                .map_or(0.0, |a| a - mean_accent);
            let felt = self.level + accent;
            let velocity = note.velocity as f64 + amount * (felt - note.velocity as f64);
            note.velocity = velocity.round().clamp(1.0, 127.0) as u8;
            // Articulation: a share of the gap to the next onset (the last note keeps its length).
            if let Some(next) = next {
                let gap = next.saturating_sub(note.start) as f64;
                let legato = note.duration as f64;
                let played = (gap * self.articulation).min(legato);
                let duration = legato + amount * (played - legato);
                note.duration = (duration.round() as u32).max(1);
            }
        }
    }
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
}
