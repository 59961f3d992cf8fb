//! Teacher-forced scoring: how likely a generator finds the bars of a melody after its first M
//! bars, in nats per note (and per token for the neural model). Lower is better.
//!
//! - Neural: the melody's tokens (`BOS STYLE TS BAR …`) through the model in one pass; the NLL of
//!   every token from the BAR that opens bar M on.
//! - Markov: as the plugin uses it, a Continuator learnt from the first M bars (the "player's
//!   history"): a variable-order model (orders 0–4) over (interval, inter-onset interval,
//!   duration) steps with Witten–Bell interpolation, backed off to uniform over those steps, so
//!   every note has a probability.

use std::collections::HashMap;

use crate::generator::{Melody, Style};
use crate::neural::NeuralGenerator;
use crate::notation;
use crate::phrase::{Note, TimeSignature};
use crate::tokens::{self, TokenMelody};

/// Longest context of the Markov scorer.
const ORDER: usize = 4;
/// The step alphabet the uniform base spreads over: intervals −127…127, inter-onset intervals
/// up to 768 ticks, durations up to 192 ticks.
const UNIFORM_STEPS: f64 = 255.0 * 768.0 * 192.0;

/// The result of scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Notes scored.
    pub notes: usize,
    /// Tokens scored (neural only).
    pub tokens: Option<usize>,
    /// Mean negative log-likelihood of a note, in nats.
    pub nll_per_note: f64,
    /// Mean negative log-likelihood of a token, in nats (neural only).
    pub nll_per_token: Option<f64>,
    /// Mean information content of a note's pitch given everything before it (its onset
    /// included), in bits: the sum over PITCH tokens only, the figure music-cognition studies
    /// (IDyOM-style models) report (neural only).
    pub pitch_bits_per_note: Option<f64>,
}

type Step = (i32, u32, u32);

fn steps(notes: &[Note]) -> Vec<Step> {
    notes
        .windows(2)
        .map(|p| {
            (
                p[1].pitch as i32 - p[0].pitch as i32,
                (p[1].start - p[0].start).min(768),
                p[1].duration.min(192),
            )
        })
        .collect()
}

/// Witten–Bell interpolated variable-order counts over steps.
struct WittenBell {
    counts: HashMap<Vec<Step>, HashMap<Step, u32>>,
}

impl WittenBell {
    fn learn(sequence: &[Step]) -> Self {
        let mut counts: HashMap<Vec<Step>, HashMap<Step, u32>> = HashMap::new();
        for j in 0..sequence.len() {
            for k in 0..=ORDER.min(j) {
                *counts
                    .entry(sequence[j - k..j].to_vec())
                    .or_default()
                    .entry(sequence[j])
                    .or_default() += 1;
            }
        }
        Self { counts }
    }

    fn probability(&self, context: &[Step], step: Step) -> f64 {
        let mut p = 1.0 / UNIFORM_STEPS;
        for k in 0..=ORDER.min(context.len()) {
            let Some(counts) = self.counts.get(&context[context.len() - k..]) else {
                break;
            };
            let total: u32 = counts.values().sum();
            let distinct = counts.len() as f64;
            let seen = counts.get(&step).copied().unwrap_or(0) as f64;
            p = (seen + distinct * p) / (total as f64 + distinct);
        }
        p
    }
}

/// Scores the notes starting at or after `prompt_ticks` with a Markov model learnt from the
/// notes before it.
pub fn markov(melody: &Melody, prompt_ticks: u32) -> Option<Score> {
    let all = steps(&melody.notes);
    // Step j leads to note j + 1.
    let first_scored = melody.notes.iter().position(|n| n.start >= prompt_ticks)?;
    if first_scored == 0 {
        return None; // nothing to learn from
    }
    let model = WittenBell::learn(&all[..first_scored - 1]);
    let mut total = 0.0;
    for j in first_scored - 1..all.len() {
        let context = &all[j.saturating_sub(ORDER)..j];
        total -= model.probability(context, all[j]).ln();
    }
    let notes = all.len() + 1 - first_scored;
    Some(Score {
        notes,
        tokens: None,
        nll_per_note: total / notes as f64,
        nll_per_token: None,
        pitch_bits_per_note: None,
    })
}

/// Scores the bars from `prompt_bars` on with the neural model, in one pass of at most the
/// model's context (the earliest bars of the prompt are dropped to fit). The prompt is read as
/// notation first, as the generator reads it ([`notation::notate`]); with `Style::Auto` the
/// melody is scored under the style Auto chooses from the prompt (as an answer is generated).
pub fn neural(
    generator: &mut NeuralGenerator,
    melody: &Melody,
    prompt_bars: u32,
    style: Style,
    follow_motifs: f32,
) -> Result<Option<Score>, String> {
    let ts: TimeSignature = melody.time_signature;
    let boundary = prompt_bars * ts.bar_ticks();
    let style = if style == Style::Auto {
        // The style Auto hears in the prompt, as the generator would answer it.
        let prompt = Melody {
            notes: melody
                .notes
                .iter()
                .filter(|n| n.start < boundary)
                .copied()
                .collect(),
            time_signature: ts,
        };
        generator
            .auto_style(&[prompt], boundary, ts)
            .map_err(|e| e.to_string())?
    } else {
        style
    };
    // The prompt read as notation, as the generator hears it (its last note's length read
    // against the continuation's first onset, as a notator would); the continuation as written.
    let first_after = melody.notes.iter().position(|n| n.start >= boundary);
    let heard = &melody.notes[..first_after.map_or(melody.notes.len(), |i| i + 1)];
    let notes = notation::notate(heard, ts)
        .into_iter()
        .filter(|n| n.start < boundary)
        .chain(melody.notes.iter().filter(|n| n.start >= boundary).copied())
        .map(|n| Note {
            duration: n.duration.clamp(1, tokens::MAX_DURATION),
            ..n
        })
        .collect();
    let token_melody = TokenMelody {
        style: Some(style),
        meters: vec![(0, ts)],
        notes,
    };
    let all = tokens::encode(&token_melody, true, false).map_err(|e| e.to_string())?;
    // Index of the BAR token that opens bar `prompt_bars`.
    let bars: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, &t)| t == tokens::BAR)
        .map(|(i, _)| i)
        .collect();
    let Some(&start) = bars.get(prompt_bars as usize) else {
        return Ok(None);
    };
    let context = generator.architecture().context;
    // Drop the earliest bars (keeping the STYLE TS header) until everything fits.
    let mut first_bar = 0;
    while first_bar + 1 < bars.len()
        && bars[first_bar] < start
        && all.len() - bars[first_bar] + 2 > context
    {
        first_bar += 1;
    }
    let (window, start_in_window) = if first_bar == 0 {
        (all.clone(), start)
    } else {
        let mut window = vec![all[1], all[2]];
        window.extend_from_slice(&all[bars[first_bar]..]);
        (window, start - bars[first_bar] + 2)
    };
    let mut window = window;
    window.truncate(context);
    let log_probs = if follow_motifs > 0.0 {
        blended_log_probs(generator, &window, start_in_window, follow_motifs)?
    } else {
        generator.token_log_probs(&window)?
    };
    // log_probs[i - 1] is the log-probability of window[i].
    let scored = &log_probs[start_in_window.saturating_sub(1).min(log_probs.len())..];
    let total: f64 = -scored.iter().sum::<f64>();
    let tokens = scored.len();
    // Notes whose PITCH token was scored (a melody longer than the context is cut at its end).
    let scored_notes = window[window.len() - tokens..]
        .iter()
        .filter(|&&t| (tokens::PITCH_BASE..tokens::DUR_BASE).contains(&t))
        .count();
    if scored_notes == 0 || tokens == 0 {
        return Ok(None);
    }
    let pitch_nats: f64 = -window[window.len() - tokens..]
        .iter()
        .zip(scored)
        .filter(|(&t, _)| (tokens::PITCH_BASE..tokens::DUR_BASE).contains(&t))
        .map(|(_, lp)| lp)
        .sum::<f64>();
    Ok(Some(Score {
        notes: scored_notes,
        tokens: Some(tokens),
        nll_per_note: total / scored_notes as f64,
        nll_per_token: Some(total / tokens as f64),
        pitch_bits_per_note: Some(pitch_nats / scored_notes as f64 / std::f64::consts::LN_2),
    }))
}

/// Teacher-forced log-probabilities of `window` under the model blended with the motif model of
/// the prompt (`window[..start]`), as the generator samples with Follow my motifs: at every
/// PITCH token the probability mass the model gives to pitches is shared out again in
/// proportion to `p_model(pitch) × P_motifs(interval)^(weight × follow)`; other tokens keep
/// the model's probabilities. With `follow` 0 this is the model's own score.
fn blended_log_probs(
    generator: &mut NeuralGenerator,
    window: &[u32],
    start: usize,
    follow: f32,
) -> Result<Vec<f64>, String> {
    let v = generator.architecture().vocab_size;
    let logits = generator.logits(window)?;
    let pitch_of = |t: u32| {
        (tokens::PITCH_BASE..tokens::DUR_BASE)
            .contains(&t)
            .then(|| (t - tokens::PITCH_BASE) as u8)
    };
    let prompt_pitches: Vec<u8> = window[..start]
        .iter()
        .filter_map(|&t| pitch_of(t))
        .collect();
    let motifs = generator.motif_model(&prompt_pitches);
    let weight = (follow.clamp(0.0, 1.0) * crate::motifs::BLEND_WEIGHT) as f64;
    let mut pitches: Vec<u8> = Vec::new();
    let mut out = Vec::with_capacity(window.len() - 1);
    for (i, &next) in window.iter().enumerate().skip(1) {
        let row = &logits[(i - 1) * v..i * v];
        let plain = log_softmax_at_row(row, next as usize);
        let blended = match (pitch_of(next), pitches.last()) {
            (Some(pitch), Some(&last)) if !motifs.is_empty() => {
                let recent = &pitches[pitches.len().saturating_sub(4)..];
                let intervals: Vec<i16> = recent
                    .windows(2)
                    .map(|w| w[1] as i16 - w[0] as i16)
                    .collect();
                // log p_model over the pitches, then the blend within them.
                let model: Vec<f64> = (0..128u32)
                    .map(|p| log_softmax_at_row(row, (tokens::PITCH_BASE + p) as usize))
                    .collect();
                let mass = log_sum_exp(&model);
                let biased: Vec<f64> = model
                    .iter()
                    .enumerate()
                    .map(|(p, lp)| {
                        lp + weight * motifs.probability(&intervals, p as i16 - last as i16).ln()
                    })
                    .collect();
                mass + biased[pitch as usize] - log_sum_exp(&biased)
            }
            _ => plain,
        };
        out.push(blended);
        if let Some(pitch) = pitch_of(next) {
            pitches.push(pitch);
        }
    }
    Ok(out)
}

fn log_softmax_at_row(row: &[f32], index: usize) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = row.iter().map(|&x| (x as f64 - max).exp()).sum();
    row[index] as f64 - max - sum.ln()
}

fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn melody(pitches: &[u8]) -> Melody {
        Melody::evenly_spaced(pitches, 12, 90)
    }

    #[test]
    fn auto_scores_under_the_style_auto_hears_in_the_prompt() {
        let mut generator = NeuralGenerator::load().unwrap_or_else(|why| panic!("{why}"));
        // Tunes of different kinds: a walking tune in quarters, a line in half notes, a
        // pentatonic tune in eighths, a run in eighths — eight bars each.
        let tunes = [
            (&[67u8, 64, 62, 60, 62, 64, 67, 69][..], 12),
            (&[60, 62, 64, 62, 60, 59, 57, 59, 60, 64][..], 24),
            (&[69, 72, 74, 76, 79, 76, 74, 72, 69, 67][..], 6),
            (&[62, 64, 66, 67, 69, 71, 73, 74, 73, 71, 69, 67][..], 6),
        ];
        let mut heard_styles = Vec::new();
        for (pitches, step) in tunes {
            let bars = 8 * 48 / step as usize;
            let tune =
                Melody::evenly_spaced(&pitches.repeat(bars.div_ceil(pitches.len())), step, 90);
            let prompt = Melody {
                notes: tune
                    .notes
                    .iter()
                    .filter(|n| n.start < 4 * 48)
                    .copied()
                    .collect(),
                time_signature: tune.time_signature,
            };
            let heard = generator
                .auto_style(&[prompt], 4 * 48, tune.time_signature)
                .unwrap();
            let auto = neural(&mut generator, &tune, 4, Style::Auto, 0.0).unwrap();
            let chosen = neural(&mut generator, &tune, 4, heard, 0.0).unwrap();
            assert!(auto.is_some());
            assert_eq!(auto, chosen, "scored under {heard:?}");
            heard_styles.push(heard);
        }
        // Not every tune is heard as Folk (the style the scorer once assumed for Auto).
        assert!(
            heard_styles.iter().any(|&s| s != Style::Folk),
            "{heard_styles:?}"
        );
    }

    #[test]
    fn the_neural_model_prefers_a_coherent_continuation() {
        let mut generator = match NeuralGenerator::load() {
            Ok(g) => g,
            Err(why) => panic!("{why} (run the tests with `cargo xtask test`, which provides it)"),
        };
        let figure = [60u8, 62, 64, 65, 67, 65, 64, 62];
        let repeated: Vec<u8> = figure.iter().cycle().take(32).copied().collect();
        let mut scrambled = repeated[..16].to_vec();
        scrambled.extend([
            71u8, 49, 80, 55, 66, 73, 50, 77, 61, 70, 58, 75, 52, 68, 63, 79,
        ]);
        let a = neural(&mut generator, &melody(&repeated), 4, Style::Folk, 0.0)
            .unwrap()
            .unwrap();
        let b = neural(&mut generator, &melody(&scrambled), 4, Style::Folk, 0.0)
            .unwrap()
            .unwrap();
        assert_eq!(a.notes, 16);
        assert_eq!(a.tokens, b.tokens);
        assert!(a.nll_per_note < b.nll_per_note, "{a:?} vs {b:?}");
        // The scrambled notes differ in pitch only: their pitches carry the difference, and a
        // note's pitch is part of its information.
        let (pa, pb) = (
            a.pitch_bits_per_note.unwrap(),
            b.pitch_bits_per_note.unwrap(),
        );
        assert!(pa > 0.0 && pa < pb, "{pa} vs {pb}");
        assert!(pa < a.nll_per_note / std::f64::consts::LN_2);
        let nats_apart = (b.nll_per_note - a.nll_per_note) / std::f64::consts::LN_2;
        assert!(pb - pa > 0.5 * nats_apart, "{pa} {pb} {nats_apart}");
        assert!(
            neural(&mut generator, &melody(&repeated), 99, Style::Folk, 0.0)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn markov_finds_repetition_likely_and_novelty_unlikely() {
        let figure = [60u8, 62, 64, 65, 67, 65, 64, 62];
        let repeated: Vec<u8> = figure.iter().cycle().take(32).copied().collect();
        let mut novel = repeated[..16].to_vec();
        novel.extend([
            71u8, 49, 80, 55, 66, 73, 50, 77, 61, 70, 58, 75, 52, 68, 63, 79,
        ]);
        let a = markov(&melody(&repeated), 4 * 48).unwrap();
        let b = markov(&melody(&novel), 4 * 48).unwrap();
        assert_eq!(a.notes, 16);
        assert!(a.nll_per_note < 1.0, "{a:?}");
        assert!(b.nll_per_note > 10.0, "{b:?}");
        // Never infinite: the uniform base gives every step a probability.
        assert!(b.nll_per_note.is_finite() && b.nll_per_note < 2.0 * UNIFORM_STEPS.ln());
        assert!(markov(&melody(&repeated), 0).is_none());
    }

    #[test]
    fn the_blend_scores_repeated_motifs_as_likelier_and_nothing_at_zero() {
        let mut generator = match NeuralGenerator::load() {
            Ok(g) => g,
            Err(why) => panic!("{why} (run the tests with `cargo xtask test`, which provides it)"),
        };
        // An unusual figure stated four times, then four times more: following the player's
        // motifs makes the repetition likelier than the model alone finds it.
        let figure = [60u8, 66, 61, 67, 62, 68, 63, 69];
        let line = melody(&figure.iter().cycle().take(64).copied().collect::<Vec<_>>());
        let alone = neural(&mut generator, &line, 8, Style::Folk, 0.0)
            .unwrap()
            .unwrap();
        let all = tokens::encode(
            &TokenMelody {
                style: Some(Style::Folk),
                meters: vec![(0, line.time_signature)],
                notes: line.notes.clone(),
            },
            true,
            false,
        )
        .unwrap();
        let zero = blended_log_probs(&mut generator, &all, 3, 0.0).unwrap();
        let plain = generator.token_log_probs(&all).unwrap();
        for (a, b) in zero.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-6, "follow 0 is the model's own score");
        }
        let following = neural(&mut generator, &line, 8, Style::Folk, 1.0)
            .unwrap()
            .unwrap();
        assert!(
            following.nll_per_note < alone.nll_per_note,
            "{following:?} vs {alone:?}"
        );
    }
}
