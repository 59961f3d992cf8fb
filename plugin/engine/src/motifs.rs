//! The player's own interval patterns, as a Continuator-style model that the neural generator
//! blends in (a product of experts over the next pitch): "follow my motifs".
//!
//! The model counts, over the melody played so far, which interval followed each context of the
//! last one, two and three intervals. Its probability for the next interval interpolates those
//! orders (each order's estimate backed by the one below, Witten–Bell style) down to a uniform
//! floor over two octaves either way, so every interval keeps a probability. The neural model's
//! pitch logits are raised by `strength × ln P(interval)`: what the player did in this context
//! becomes likelier, nothing becomes impossible.

use std::collections::HashMap;
use std::sync::Arc;

/// Log-probability weight of the motif model at Follow my motifs = 1 (the neural generator and
/// the blended score use the same).
pub const BLEND_WEIGHT: f32 = 1.5;

/// The longest interval context the model looks at.
const MAX_ORDER: usize = 3;
/// Intervals the uniform floor spreads over: −24…+24 semitones.
const INTERVALS: f64 = 49.0;

/// Counts of the next interval after each context of up to three intervals.
#[derive(Debug, Clone, Default)]
pub struct MotifModel {
    /// (context, next interval) → count, for contexts of 0 to `MAX_ORDER` intervals.
    counts: HashMap<(Vec<i16>, i16), u32>,
    /// context → (total count, distinct next intervals), for the Witten–Bell weights.
    totals: HashMap<Vec<i16>, (u32, u32)>,
    /// What the estimate backs off to below order 0: another motif model (the player's learnt
    /// tunes behind their current playing), else the uniform floor.
    base: Option<Arc<MotifModel>>,
}

impl MotifModel {
    /// Learns the interval patterns of a pitch sequence (oldest first).
    pub fn learn(pitches: &[u8]) -> MotifModel {
        let mut model = MotifModel::default();
        model.add(pitches);
        model
    }

    /// The patterns of `pitches`, backed by `base` where they say little: the playing first,
    /// then what the base model knows, then the uniform floor.
    pub fn learn_over(pitches: &[u8], base: Arc<MotifModel>) -> MotifModel {
        let mut model = MotifModel::learn(pitches);
        model.base = (!base.is_empty()).then_some(base);
        model
    }

    /// Learns the interval patterns of several pitch sequences (no pattern spans two).
    pub fn learn_all<'a>(sequences: impl IntoIterator<Item = &'a [u8]>) -> MotifModel {
        let mut model = MotifModel::default();
        for pitches in sequences {
            model.add(pitches);
        }
        model
    }

    /// Counts the interval patterns of one more pitch sequence.
    fn add(&mut self, pitches: &[u8]) {
        let intervals: Vec<i16> = pitches
            .windows(2)
            .map(|w| w[1] as i16 - w[0] as i16)
            .collect();
        let model = self;
        for (i, &next) in intervals.iter().enumerate() {
            for order in 0..=MAX_ORDER.min(i) {
                let context = intervals[i - order..i].to_vec();
                let count = model.counts.entry((context.clone(), next)).or_insert(0);
                *count += 1;
                let total = model.totals.entry(context).or_insert((0, 0));
                total.0 += 1;
                if *count == 1 {
                    total.1 += 1;
                }
            }
        }
    }

    /// Whether the model learnt anything (a melody of at least two notes).
    pub fn is_empty(&self) -> bool {
        self.totals.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// The probability of `next` after the intervals `recent` (oldest first).
    pub fn probability(&self, recent: &[i16], next: i16) -> f64 {
        let mut probability = self
            .base
            .as_ref()
            .map_or(1.0 / INTERVALS, |base| base.probability(recent, next));
        let longest = recent.len().min(MAX_ORDER);
        for order in 0..=longest {
            let context = &recent[recent.len() - order..];
            let Some(&(total, distinct)) = self.totals.get(context) else {
                break;
            };
            let count = self
                .counts
                .get(&(context.to_vec(), next))
                .copied()
                .unwrap_or(0);
            let (total, distinct) = (total as f64, distinct as f64);
            probability = (count as f64 + distinct * probability) / (total + distinct);
        }
        probability
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_followed_a_context_becomes_likely_and_nothing_impossible() {
        // C D E C, C D E C: after +2 +2 comes −4.
        let model = MotifModel::learn(&[60, 62, 64, 60, 60, 62, 64, 60]);
        let after = model.probability(&[2, 2], -4);
        let other = model.probability(&[2, 2], 5);
        assert!(after > 0.5, "{after}");
        assert!(other > 0.0 && other < 0.05, "{other}");
        // Probabilities over all intervals sum to about one (within the ±24 floor).
        let total: f64 = (-24..=24).map(|i| model.probability(&[2, 2], i)).sum();
        assert!((total - 1.0).abs() < 0.05, "{total}");
        assert!(MotifModel::learn(&[60]).is_empty());
        assert_eq!(
            MotifModel::learn(&[60]).probability(&[], 3),
            1.0 / INTERVALS
        );
    }

    #[test]
    fn the_playing_comes_first_and_learnt_tunes_fill_in_behind_it() {
        // Learnt tunes always go up a third after two steps up; the playing goes down.
        let learnt = MotifModel::learn_all([&[60u8, 62, 64, 68][..], &[50, 52, 54, 58][..]]);
        let playing = [60u8, 62, 64, 60, 60, 62, 64, 60];
        let model = MotifModel::learn_over(&playing, Arc::new(learnt));
        assert!(
            model.probability(&[2, 2], -4) > 0.5,
            "the playing's own pattern leads"
        );
        let plain = MotifModel::learn(&playing);
        assert!(
            model.probability(&[2, 2], 4) > 2.0 * plain.probability(&[2, 2], 4),
            "the learnt pattern is likelier than without it"
        );
        let total: f64 = (-24..=24).map(|i| model.probability(&[2, 2], i)).sum();
        assert!((total - 1.0).abs() < 0.05, "{total}");
    }
}
