//! Musical metrics for a continuation against the true next bars, for `continuo eval`.
//!
//! All notes are on Continuo's grid (`TICKS_PER_BEAT` per quarter note); the continuation and the
//! truth start at tick 0, the prompt at its own first bar line. Each metric is `None` where it is
//! undefined (no notes, a single bar), and aggregates average over the files where it is defined.

use crate::key::Key;
use crate::phrase::{Note, TimeSignature};

/// The metrics of one continuation (or of the truth itself, as a reference).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Metrics {
    /// Notes in the continuation.
    pub notes: usize,
    /// Share of notes whose pitch class is in the prompt's detected key.
    pub in_key_rate: Option<f64>,
    /// Overlap (sum of minima, 0–1) of the pitch-class histograms of continuation and truth.
    pub pitch_class_overlap: Option<f64>,
    /// Notes in the continuation per note in the truth.
    pub density_ratio: Option<f64>,
    /// MusPy's groove consistency: 1 − mean Hamming distance between the onset patterns of
    /// consecutive bars, over the bar's grid positions (1 = the same rhythm every bar).
    pub groove_consistency: Option<f64>,
    /// Highest minus lowest pitch, in semitones.
    pub pitch_range: Option<f64>,
    /// Share of the non-empty bars that repeat a prompt bar exactly (onsets, durations and
    /// pitches): copying is not composing.
    pub copy_rate: Option<f64>,
    /// Share of the continuation's 3-interval pitch patterns (four consecutive notes) that
    /// also occur in the prompt: the player's motifs taken up.
    pub motif_reuse: Option<f64>,
    /// How far the continuation's mean pitch lies from the mean pitch of the prompt's last two
    /// bars, in semitones (absolute): staying in the player's register.
    pub register_drift: Option<f64>,
    /// The largest interval in the continuation, including the step from the prompt's last
    /// note to its first, in semitones.
    pub largest_leap: Option<f64>,
    /// 1 when the continuation (of two notes or more) is a single repeated pitch, else 0; the
    /// mean is the share of such answers.
    pub single_pitch: Option<f64>,
    /// 1 when the last note lasts two beats or more (a phrase that lands), else 0.
    pub held_ending: Option<f64>,
    /// 1 when the last note is a chord tone of I or V in the prompt's key (a stable landing),
    /// else 0.
    pub chord_tone_ending: Option<f64>,
    /// F1 of the (onset, pitch) pairs shared with the true continuation (MIREX
    /// Patterns-for-Prediction style, exact on the grid): how much of what really came next the
    /// answer predicted.
    pub onset_pitch_f1: Option<f64>,
    /// Share of consecutive notes with a rest between them.
    pub rest_rate: Option<f64>,
    /// Median share of the time to the next onset that a note sounds (1 = legato).
    pub articulation: Option<f64>,
    /// What tells styles apart (issue 14: Celtic runs in eighths, a chorale walks in quarters
    /// by step, Chinese folk tunes keep to the pentatonic): notes per bar,
    pub notes_per_bar: Option<f64>,
    /// the mean interval between consecutive notes in semitones,
    pub mean_step: Option<f64>,
    /// the share of notes in the pentatonic scale of the prompt's key,
    pub pentatonic_share: Option<f64>,
    /// and 1 when the last note is the key's tonic, else 0.
    pub tonic_ending: Option<f64>,
}

/// How notes are played rather than which: dynamics, accents, swing, syncopation, rests and
/// articulation. Measured on an answer, on its prompt and on the true continuation, so that an
/// answer can be compared with the player who prompted it.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FeelMetrics {
    /// Standard deviation of the velocities (0 = every note at one velocity).
    pub velocity_spread: Option<f64>,
    /// Correlation, over the sixteenths of the bar where both play, of the mean velocity there
    /// in these notes and in the prompt (1 = the prompt's accents).
    pub accent_correlation: Option<f64>,
    /// Mean ratio of the two eighths of a beat, over off-beat eighths (1 = straight, 2 = the
    /// triplet swing of jazz).
    pub swing_ratio: Option<f64>,
    /// Share of notes that start off the beat and are held across the next beat.
    pub syncopation: Option<f64>,
    /// Share of consecutive notes with a rest between them.
    pub rest_rate: Option<f64>,
    /// Median share of the time to the next onset that a note sounds (1 = legato).
    pub articulation: Option<f64>,
}

/// Mean velocity per sixteenth of the bar (`None` where no note starts).
fn accents(notes: &[Note], ts: TimeSignature) -> Vec<Option<f64>> {
    let bar = ts.bar_ticks().max(1);
    let mut sums = vec![(0.0, 0usize); bar.div_ceil(3) as usize];
    for note in notes {
        let slot = &mut sums[((note.start % bar) / 3) as usize];
        slot.0 += note.velocity as f64;
        slot.1 += 1;
    }
    sums.into_iter()
        .map(|(sum, count)| (count > 0).then(|| sum / count as f64))
        .collect()
}

/// Pearson correlation of paired values (`None` with fewer than three pairs or no variation).
fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    (vx > 1e-9 && vy > 1e-9).then(|| cov / (vx * vy).sqrt())
}

/// The feel of `notes` (sorted, tick 0 on a bar line), compared with `prompt` for accents.
pub fn feel(notes: &[Note], prompt: &[Note], ts: TimeSignature) -> FeelMetrics {
    let beat = crate::phrase::TICKS_PER_BEAT;
    let velocity_spread = (notes.len() >= 2).then(|| {
        let n = notes.len() as f64;
        let mean = notes.iter().map(|x| x.velocity as f64).sum::<f64>() / n;
        (notes
            .iter()
            .map(|x| (x.velocity as f64 - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    });
    let pairs: Vec<(f64, f64)> = accents(notes, ts)
        .into_iter()
        .zip(accents(prompt, ts))
        .filter_map(|(a, b)| a.zip(b))
        .collect();
    // Off-beat eighths: a note in the second half of a beat, at most a triplet late, after a
    // note on that beat.
    let ratios: Vec<f64> = notes
        .windows(2)
        .filter(|w| w[0].start % beat == 0 && w[1].start / beat == w[0].start / beat)
        .map(|w| w[1].start % beat)
        .filter(|p| (beat / 2..=beat * 2 / 3).contains(p))
        .map(|p| p as f64 / (beat - p) as f64)
        .collect();
    let syncopated = notes
        .iter()
        .filter(|n| n.start % beat != 0 && n.end() > (n.start / beat + 1) * beat)
        .count();
    let (rest_rate, articulation) = articulation(notes);
    FeelMetrics {
        velocity_spread,
        accent_correlation: correlation(&pairs),
        swing_ratio: (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64),
        syncopation: (!notes.is_empty()).then(|| syncopated as f64 / notes.len() as f64),
        rest_rate,
        articulation,
    }
}

/// The mean of each feel metric over the items where it is defined.
pub fn mean_feel(items: &[FeelMetrics]) -> FeelMetrics {
    FeelMetrics {
        velocity_spread: average(items.iter().map(|m| m.velocity_spread)),
        accent_correlation: average(items.iter().map(|m| m.accent_correlation)),
        swing_ratio: average(items.iter().map(|m| m.swing_ratio)),
        syncopation: average(items.iter().map(|m| m.syncopation)),
        rest_rate: average(items.iter().map(|m| m.rest_rate)),
        articulation: average(items.iter().map(|m| m.articulation)),
    }
}

/// The mean of the values that are defined.
fn average(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, count) = values
        .flatten()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Rest rate and median articulation of `notes` (sorted): see [`Metrics`].
pub fn articulation(notes: &[Note]) -> (Option<f64>, Option<f64>) {
    let pairs: Vec<(u32, u32)> = notes
        .windows(2)
        .filter(|w| w[1].start > w[0].start)
        .map(|w| (w[0].duration, w[1].start - w[0].start))
        .collect();
    if pairs.is_empty() {
        return (None, None);
    }
    let rests = pairs.iter().filter(|(d, gap)| d < gap).count() as f64 / pairs.len() as f64;
    let mut ratios: Vec<f64> = pairs
        .iter()
        .map(|&(d, gap)| (d as f64 / gap as f64).min(1.0))
        .collect();
    ratios.sort_by(f64::total_cmp);
    (Some(rests), Some(ratios[ratios.len() / 2]))
}

/// The 3-interval pitch patterns of `notes` (in order).
fn interval_patterns(notes: &[Note]) -> Vec<[i16; 3]> {
    notes
        .windows(4)
        .map(|w| {
            [
                w[1].pitch as i16 - w[0].pitch as i16,
                w[2].pitch as i16 - w[1].pitch as i16,
                w[3].pitch as i16 - w[2].pitch as i16,
            ]
        })
        .collect()
}

fn mean_pitch(notes: &[Note]) -> Option<f64> {
    (!notes.is_empty())
        .then(|| notes.iter().map(|n| n.pitch as f64).sum::<f64>() / notes.len() as f64)
}

/// The notes starting in each of `bars` bars, as (offset in the bar, duration within the bar,
/// pitch), sorted.
fn bar_contents(notes: &[Note], ts: TimeSignature, bars: u32) -> Vec<Vec<(u32, u32, u8)>> {
    let bar = ts.bar_ticks();
    let mut contents = vec![Vec::new(); bars as usize];
    for note in notes {
        if let Some(content) = contents.get_mut((note.start / bar) as usize) {
            let offset = note.start % bar;
            content.push((offset, note.duration.min(bar - offset), note.pitch));
        }
    }
    for content in &mut contents {
        content.sort_unstable();
    }
    contents
}

fn pitch_class_histogram(notes: &[Note]) -> Option<[f64; 12]> {
    if notes.is_empty() {
        return None;
    }
    let mut histogram = [0.0; 12];
    for note in notes {
        histogram[(note.pitch % 12) as usize] += 1.0;
    }
    let total = notes.len() as f64;
    histogram.iter_mut().for_each(|h| *h /= total);
    Some(histogram)
}

/// MusPy's groove consistency over `bars` bars of `notes`.
pub fn groove_consistency(notes: &[Note], ts: TimeSignature, bars: u32) -> Option<f64> {
    if bars < 2 || notes.is_empty() {
        return None;
    }
    let resolution = ts.bar_ticks() as usize;
    let mut patterns = vec![vec![false; resolution]; bars as usize];
    for note in notes {
        let bar = note.start as usize / resolution;
        if let Some(pattern) = patterns.get_mut(bar) {
            pattern[note.start as usize % resolution] = true;
        }
    }
    let distance: usize = patterns
        .windows(2)
        .map(|w| w[0].iter().zip(&w[1]).filter(|(a, b)| a != b).count())
        .sum();
    Some(1.0 - distance as f64 / (resolution * (bars as usize - 1)) as f64)
}

/// Whether `pitch` belongs to the tonic or the dominant triad of `key` (the dominant with its
/// leading tone in minor too, as cadences use it).
fn is_chord_tone_of_i_or_v(pitch: u8, key: Key) -> bool {
    let degree = (pitch as i16 - key.tonic as i16).rem_euclid(12);
    [0, key.third() as i16, 7, 11, 2].contains(&degree)
}

/// F1 of the (onset, pitch) pairs of `continuation` found in `truth` (`None` when both are
/// empty).
pub fn onset_pitch_f1(continuation: &[Note], truth: &[Note]) -> Option<f64> {
    if continuation.is_empty() && truth.is_empty() {
        return None;
    }
    let truth_pairs: std::collections::HashSet<(u32, u8)> =
        truth.iter().map(|n| (n.start, n.pitch)).collect();
    let hits = continuation
        .iter()
        .filter(|n| truth_pairs.contains(&(n.start, n.pitch)))
        .count() as f64;
    if hits == 0.0 {
        return Some(0.0);
    }
    let precision = hits / continuation.len() as f64;
    let recall = hits / truth.len() as f64;
    Some(2.0 * precision * recall / (precision + recall))
}

/// Measures `continuation` (`bars` bars) against `truth`, with the prompt's key and bars.
pub fn measure(
    prompt: &[Note],
    prompt_bars: u32,
    continuation: &[Note],
    truth: &[Note],
    ts: TimeSignature,
    bars: u32,
    key: Option<Key>,
) -> Metrics {
    let notes = continuation.len();
    let in_key_rate = key.filter(|_| notes > 0).map(|key| {
        continuation
            .iter()
            .filter(|n| key.contains(n.pitch))
            .count() as f64
            / notes as f64
    });
    let pitch_class_overlap = pitch_class_histogram(continuation)
        .zip(pitch_class_histogram(truth))
        .map(|(a, b)| a.iter().zip(&b).map(|(x, y)| x.min(*y)).sum());
    let density_ratio = (!truth.is_empty()).then(|| notes as f64 / truth.len() as f64);
    let pitch_range = continuation
        .iter()
        .map(|n| n.pitch)
        .max()
        .zip(continuation.iter().map(|n| n.pitch).min())
        .map(|(hi, lo)| (hi - lo) as f64);
    let prompt_bars_content = bar_contents(prompt, ts, prompt_bars);
    let continuation_bars: Vec<_> = bar_contents(continuation, ts, bars)
        .into_iter()
        .filter(|bar| !bar.is_empty())
        .collect();
    let copy_rate = (!continuation_bars.is_empty()).then(|| {
        continuation_bars
            .iter()
            .filter(|bar| prompt_bars_content.contains(bar))
            .count() as f64
            / continuation_bars.len() as f64
    });
    let prompt_patterns = interval_patterns(prompt);
    let patterns = interval_patterns(continuation);
    let motif_reuse = (!patterns.is_empty()).then(|| {
        patterns
            .iter()
            .filter(|p| prompt_patterns.contains(p))
            .count() as f64
            / patterns.len() as f64
    });
    let last_two_start = prompt_bars.saturating_sub(2) * ts.bar_ticks();
    let recent: Vec<Note> = prompt
        .iter()
        .filter(|n| n.start >= last_two_start)
        .copied()
        .collect();
    let register_drift = mean_pitch(continuation)
        .zip(mean_pitch(&recent))
        .map(|(a, b)| (a - b).abs());
    let joined: Vec<u8> = prompt
        .last()
        .into_iter()
        .chain(continuation)
        .map(|n| n.pitch)
        .collect();
    let largest_leap = (!continuation.is_empty()).then(|| {
        joined
            .windows(2)
            .map(|w| (w[1] as i16 - w[0] as i16).abs())
            .max()
            .unwrap_or(0) as f64
    });
    let single_pitch = (notes >= 2).then(|| {
        if continuation
            .iter()
            .all(|n| n.pitch == continuation[0].pitch)
        {
            1.0
        } else {
            0.0
        }
    });
    let held_ending = continuation
        .last()
        .map(|n| if n.duration >= 24 { 1.0 } else { 0.0 });
    let chord_tone_ending = continuation.last().zip(key).map(|(n, key)| {
        if is_chord_tone_of_i_or_v(n.pitch, key) {
            1.0
        } else {
            0.0
        }
    });
    let onset_pitch_f1 = onset_pitch_f1(continuation, truth);
    let (rest_rate, held_share) = articulation(continuation);
    let notes_per_bar = (bars > 0).then(|| notes as f64 / bars as f64);
    let mean_step = (notes >= 2).then(|| {
        continuation
            .windows(2)
            .map(|w| (w[1].pitch as f64 - w[0].pitch as f64).abs())
            .sum::<f64>()
            / (notes - 1) as f64
    });
    let pentatonic_share = key.filter(|_| notes > 0).map(|key| {
        let pentatonic = key.pentatonic();
        continuation
            .iter()
            .filter(|n| pentatonic[(n.pitch % 12) as usize])
            .count() as f64
            / notes as f64
    });
    let tonic_ending =
        continuation.last().zip(key).map(
            |(n, key)| {
                if n.pitch % 12 == key.tonic {
                    1.0
                } else {
                    0.0
                }
            },
        );
    Metrics {
        notes,
        in_key_rate,
        pitch_class_overlap,
        density_ratio,
        groove_consistency: groove_consistency(continuation, ts, bars),
        pitch_range,
        copy_rate,
        motif_reuse,
        register_drift,
        largest_leap,
        single_pitch,
        held_ending,
        chord_tone_ending,
        onset_pitch_f1,
        rest_rate,
        articulation: held_share,
        notes_per_bar,
        mean_step,
        pentatonic_share,
        tonic_ending,
    }
}

/// The mean of each metric over the items where it is defined.
pub fn mean(items: &[Metrics]) -> Metrics {
    Metrics {
        notes: items.iter().map(|m| m.notes).sum::<usize>() / items.len().max(1),
        in_key_rate: average(items.iter().map(|m| m.in_key_rate)),
        pitch_class_overlap: average(items.iter().map(|m| m.pitch_class_overlap)),
        density_ratio: average(items.iter().map(|m| m.density_ratio)),
        groove_consistency: average(items.iter().map(|m| m.groove_consistency)),
        pitch_range: average(items.iter().map(|m| m.pitch_range)),
        copy_rate: average(items.iter().map(|m| m.copy_rate)),
        motif_reuse: average(items.iter().map(|m| m.motif_reuse)),
        register_drift: average(items.iter().map(|m| m.register_drift)),
        largest_leap: average(items.iter().map(|m| m.largest_leap)),
        single_pitch: average(items.iter().map(|m| m.single_pitch)),
        held_ending: average(items.iter().map(|m| m.held_ending)),
        chord_tone_ending: average(items.iter().map(|m| m.chord_tone_ending)),
        onset_pitch_f1: average(items.iter().map(|m| m.onset_pitch_f1)),
        rest_rate: average(items.iter().map(|m| m.rest_rate)),
        articulation: average(items.iter().map(|m| m.articulation)),
        notes_per_bar: average(items.iter().map(|m| m.notes_per_bar)),
        mean_step: average(items.iter().map(|m| m.mean_step)),
        pentatonic_share: average(items.iter().map(|m| m.pentatonic_share)),
        tonic_ending: average(items.iter().map(|m| m.tonic_ending)),
    }
}

/// "Repeat the last bar": the baseline that every continuation should beat.
pub fn repeat_last_bar(
    prompt: &[Note],
    ts: TimeSignature,
    prompt_bars: u32,
    bars: u32,
) -> Vec<Note> {
    let bar = ts.bar_ticks();
    let last_start = (prompt_bars.max(1) - 1) * bar;
    let last: Vec<Note> = prompt
        .iter()
        .filter(|n| n.start >= last_start && n.start < last_start + bar)
        .map(|n| Note {
            start: n.start - last_start,
            duration: n.duration.min(last_start + bar - n.start).max(1),
            ..*n
        })
        .collect();
    (0..bars)
        .flat_map(|k| {
            last.iter().map(move |n| Note {
                start: n.start + k * bar,
                ..*n
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Mode;

    fn note(start: u32, duration: u32, pitch: u8) -> Note {
        Note::new(start, duration, pitch, 100)
    }

    #[test]
    fn repeating_the_last_bar_is_all_copy_and_perfect_groove() {
        let ts = TimeSignature::default();
        let prompt = vec![
            note(0, 24, 60),
            note(48, 12, 64),
            note(60, 12, 67),
            note(72, 30, 65),
        ];
        let continuation = repeat_last_bar(&prompt, ts, 2, 3);
        assert_eq!(continuation.len(), 9);
        assert_eq!(continuation[3].start, 48);
        assert_eq!(
            continuation[2].duration, 24,
            "the tied-over note is cut at the bar line"
        );
        let truth = vec![note(0, 48, 60), note(48, 48, 64)];
        let key = Some(Key {
            tonic: 0,
            mode: Mode::Major,
        });
        let m = measure(&prompt, 2, &continuation, &truth, ts, 3, key);
        assert_eq!(m.copy_rate, Some(1.0));
        assert_eq!(m.groove_consistency, Some(1.0));
        assert_eq!(m.in_key_rate, Some(1.0));
        assert_eq!(m.density_ratio, Some(4.5));
        assert_eq!(m.pitch_range, Some(3.0));
        // Pitch classes: the continuation has E, G and F a third each; the truth C and E a half.
        let overlap = m.pitch_class_overlap.unwrap();
        assert!((overlap - 1.0 / 3.0).abs() < 1e-9, "{overlap}");
    }

    #[test]
    fn groove_consistency_follows_muspy() {
        let ts = TimeSignature::sanitized(2, 4); // 24 positions per bar
                                                 // Bar 0 onsets at 0 and 12; bar 1 only at 0: one position differs.
        let notes = vec![note(0, 12, 60), note(12, 12, 62), note(24, 24, 64)];
        let gc = groove_consistency(&notes, ts, 2).unwrap();
        assert!((gc - (1.0 - 1.0 / 24.0)).abs() < 1e-12);
        assert_eq!(groove_consistency(&notes, ts, 1), None);
    }

    #[test]
    fn undefined_metrics_are_none_and_means_skip_them() {
        let ts = TimeSignature::default();
        let empty = measure(&[], 1, &[], &[], ts, 2, None);
        assert_eq!(empty.in_key_rate, None);
        assert_eq!(empty.copy_rate, None);
        assert_eq!(empty.density_ratio, None);
        let full = Metrics {
            notes: 4,
            in_key_rate: Some(0.5),
            ..Metrics::default()
        };
        let m = mean(&[empty, full]);
        assert_eq!(m.in_key_rate, Some(0.5));
        assert_eq!(m.notes, 2);
    }

    #[test]
    fn endings_and_the_onset_pitch_f1() {
        let c_major = Key {
            tonic: 0,
            mode: Mode::Major,
        };
        let a_minor = Key {
            tonic: 9,
            mode: Mode::Minor,
        };
        // C, E, G, B, D are I or V in C; F and A are not. In A minor: A C E, E G# B.
        let landing: Vec<bool> = [60u8, 64, 67, 71, 74, 65, 69]
            .iter()
            .map(|&p| is_chord_tone_of_i_or_v(p, c_major))
            .collect();
        assert_eq!(landing, vec![true, true, true, true, true, false, false]);
        assert!(is_chord_tone_of_i_or_v(68, a_minor) && !is_chord_tone_of_i_or_v(65, a_minor));
        let truth = vec![note(0, 12, 60), note(12, 12, 62), note(24, 24, 64)];
        // Two of three right (onset and pitch), one wrong pitch, one extra note.
        let answer = vec![
            note(0, 12, 60),
            note(12, 12, 65),
            note(24, 12, 64),
            note(36, 12, 62),
        ];
        let f1 = onset_pitch_f1(&answer, &truth).unwrap();
        let (p, r) = (2.0 / 4.0, 2.0 / 3.0);
        assert!((f1 - 2.0 * p * r / (p + r)).abs() < 1e-12);
        assert_eq!(onset_pitch_f1(&truth, &truth), Some(1.0));
        assert_eq!(onset_pitch_f1(&[], &truth), Some(0.0));
        assert_eq!(onset_pitch_f1(&[], &[]), None);
        let m = measure(
            &truth,
            1,
            &answer,
            &truth,
            TimeSignature::default(),
            1,
            Some(c_major),
        );
        assert_eq!(m.chord_tone_ending, Some(1.0), "ends on D, the fifth of V");
        assert_eq!(m.onset_pitch_f1, Some(f1));
    }

    #[test]
    fn feel_metrics_hear_accents_swing_syncopation_and_rests() {
        let ts = TimeSignature::default();
        let v = |start: u32, duration: u32, velocity: u8| Note::new(start, duration, 60, velocity);
        // Swung eighths (8 + 4 ticks), loud on the beat, soft off it, detached.
        let swung: Vec<Note> = (0..8)
            .flat_map(|b| [v(b * 12, 6, 110), v(b * 12 + 8, 3, 60)])
            .collect();
        let m = feel(&swung, &swung, ts);
        assert_eq!(m.swing_ratio, Some(2.0));
        assert_eq!(m.accent_correlation, Some(1.0));
        assert_eq!(m.velocity_spread, Some(25.0));
        assert_eq!(m.syncopation, Some(0.0));
        assert_eq!(m.rest_rate, Some(1.0));
        // Straight, flat and legato, with a note from the off-beat held across the beat.
        let flat = vec![v(0, 6, 90), v(6, 12, 90), v(18, 6, 90), v(24, 24, 90)];
        let m = feel(&flat, &swung, ts);
        assert_eq!(m.swing_ratio, Some(1.0));
        assert_eq!(m.velocity_spread, Some(0.0));
        assert_eq!(m.accent_correlation, None, "no variation to correlate");
        assert_eq!(m.syncopation, Some(0.25));
        assert_eq!(m.rest_rate, Some(0.0));
        // Accents the other way round correlate negatively.
        let inverted: Vec<Note> = (0..8)
            .flat_map(|b| [v(b * 12, 6, 60 + (b % 2) as u8), v(b * 12 + 8, 3, 110)])
            .collect();
        assert!(feel(&inverted, &swung, ts).accent_correlation.unwrap() < -0.9);
    }

    #[test]
    fn motifs_register_leaps_repeated_pitches_and_endings() {
        let ts = TimeSignature::default();
        // Prompt: C D E C | E F G (two bars); its last note G4.
        let prompt = vec![
            note(0, 12, 60),
            note(12, 12, 62),
            note(24, 12, 64),
            note(36, 12, 60),
            note(48, 12, 64),
            note(60, 12, 65),
            note(72, 24, 67),
        ];
        // Continuation: G A B G (the prompt's +2 +2 −4 motif, a step up from G), then a leap
        // down to C3 held for a bar.
        let continuation = vec![
            note(0, 12, 67),
            note(12, 12, 69),
            note(24, 12, 71),
            note(36, 12, 67),
            note(48, 48, 48),
        ];
        let m = measure(&prompt, 2, &continuation, &[], ts, 2, None);
        // Patterns: [2,2,-4] (in the prompt) and [2,-4,-19] (not).
        assert_eq!(m.motif_reuse, Some(0.5));
        assert_eq!(m.largest_leap, Some(19.0));
        assert_eq!(m.held_ending, Some(1.0));
        assert_eq!(m.single_pitch, Some(0.0));
        let drift = m.register_drift.unwrap();
        let prompt_mean = (60 + 62 + 64 + 60 + 64 + 65 + 67) as f64 / 7.0;
        let answer_mean = (67 + 69 + 71 + 67 + 48) as f64 / 5.0;
        assert!((drift - (answer_mean - prompt_mean).abs()).abs() < 1e-9);
        let stuck = vec![note(0, 12, 62), note(12, 12, 62), note(24, 12, 62)];
        let m = measure(&prompt, 2, &stuck, &[], ts, 1, None);
        assert_eq!(m.single_pitch, Some(1.0));
        assert_eq!(m.held_ending, Some(0.0));
    }

    #[test]
    fn style_features_count_density_steps_pentatonic_notes_and_tonic_endings() {
        let ts = TimeSignature::default();
        let c_major = Key {
            tonic: 0,
            mode: Mode::Major,
        };
        // Two bars: C D E F | G A B C — F and B are outside C's major pentatonic.
        let scale: Vec<Note> = [60, 62, 64, 65, 67, 69, 71, 72]
            .iter()
            .enumerate()
            .map(|(i, &p)| note(i as u32 * 24, 24, p))
            .collect();
        let m = measure(&scale, 2, &scale, &scale, ts, 2, Some(c_major));
        assert_eq!(m.notes_per_bar, Some(4.0));
        assert_eq!(m.mean_step, Some(12.0 / 7.0));
        assert_eq!(m.pentatonic_share, Some(6.0 / 8.0));
        assert_eq!(m.tonic_ending, Some(1.0));
        // In E minor the same notes end off the tonic; its pentatonic (E G A B D) holds 5 of 8.
        let e_minor = Key {
            tonic: 4,
            mode: Mode::Minor,
        };
        let m = measure(&scale, 2, &scale, &scale, ts, 2, Some(e_minor));
        assert_eq!(m.tonic_ending, Some(0.0));
        assert_eq!(m.pentatonic_share, Some(5.0 / 8.0));
        // No key: no key-relative features; one note: no steps.
        let m = measure(&scale, 2, &scale[..1], &scale, ts, 2, None);
        assert_eq!((m.pentatonic_share, m.tonic_ending), (None, None));
        assert_eq!((m.mean_step, m.notes_per_bar), (None, Some(0.5)));
    }
}
