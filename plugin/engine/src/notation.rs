//! Played notes read as notation: what the melody model learnt from, and what a musician's
//! playing has to be turned into before the model hears it.
//!
//! A player's notes arrive a little early or late and sound shorter or longer than written; the
//! model only ever saw notation (onsets on sixteenths or triplets, written lengths, few rests).
//! [`notate`] writes played notes down the way a notator would.

use crate::phrase::{Note, TimeSignature, TICKS_PER_BEAT};

/// Grids an onset can be written on, in ticks (beats, eighths, eighth-note triplets,
/// sixteenths), with what a finer grid costs per note: notation prefers the simplest reading.
const GRIDS: [(u32, f64); 4] = [(12, 0.0), (6, 0.05), (4, 0.3), (3, 0.3)];

/// Reads played notes (sorted by onset, tick 0 on a bar line of `time_signature`) the way a
/// notator would write them, as the model learnt music:
///
/// - **Swing**: when the beats played as two eighths mostly have their second eighth late (and
///   the music is not in triplets), those eighths are written straight, as swing is written.
/// - **Onsets**: in each beat, every onset goes to the simplest grid that explains them all —
///   beats, eighths, eighth-note triplets or sixteenths — without two notes landing on one
///   onset, leaving the beat or moving half a grid step; where none does, each onset goes to
///   the nearer of the sixteenth and triplet grids. Two notes on one onset keep the higher (the top voice).
/// - **Lengths**: a note followed by a gap shorter than an eighth, or shorter than half the
///   distance to the next onset (detached or staccato playing, not a written rest), is held to
///   the next onset. Before a real rest, and at the end, its end goes to the coarsest grid line
///   (bar, half bar, beat, eighth, sixteenth; beat or triplet after a triplet onset) that adds
///   less than it sounded: a quarter played short is still a quarter.
pub fn notate(notes: &[Note], time_signature: TimeSignature) -> Vec<Note> {
    let bar = time_signature.bar_ticks().max(1);
    let mut starts: Vec<u32> = notes.iter().map(|n| n.start).collect();
    for i in swung_eighths(notes) {
        // Straight: half a beat after the beat the pair starts on.
        let beat_start = (starts[i - 1] + TICKS_PER_BEAT / 2) / TICKS_PER_BEAT * TICKS_PER_BEAT;
        starts[i] = beat_start + TICKS_PER_BEAT / 2;
    }
    let onsets = grid_onsets(&starts);
    // Onsets, merged where two notes landed on one (the top voice stays), and where each
    // note's sound ended.
    let mut out: Vec<(Note, u32)> = Vec::with_capacity(notes.len());
    for ((note, &start), &raw_start) in notes.iter().zip(&onsets).zip(&starts) {
        let sounded_until = raw_start + note.duration;
        match out.last_mut() {
            Some((last, _)) if last.start == start && note.pitch <= last.pitch => {}
            Some((last, until)) if last.start == start => {
                *last = Note { start, ..*note };
                *until = sounded_until;
            }
            _ => out.push((Note { start, ..*note }, sounded_until)),
        }
    }
    let count = out.len();
    (0..count)
        .map(|i| {
            let (note, until) = out[i];
            let next = out.get(i + 1).map(|(n, _)| n.start);
            let sounded = until.saturating_sub(note.start).max(1);
            let duration = match next {
                Some(next) => {
                    let ioi = next - note.start;
                    let gap = next.saturating_sub(until);
                    if until >= next || gap < 6 || gap * 2 < ioi {
                        ioi
                    } else {
                        written_length(note.start, sounded, Some(next), bar)
                    }
                }
                None => written_length(note.start, sounded, None, bar),
            };
            Note { duration, ..note }
        })
        .collect()
}

/// The off-beat notes of the beats played as two eighths (a note on the beat, one in its
/// second half, nothing else before the next beat): (index, ticks after the beat).
pub(crate) fn eighth_pairs(notes: &[Note]) -> Vec<(usize, u32)> {
    let beat = TICKS_PER_BEAT;
    let nearest_beat = |tick: u32| (tick + beat / 2) / beat * beat;
    (1..notes.len())
        .filter_map(|i| {
            let on = notes[i - 1].start;
            let beat_start = nearest_beat(on);
            let after = notes[i].start.checked_sub(beat_start)?;
            let on_the_beat = on.abs_diff(beat_start) <= 1;
            let alone = notes
                .get(i + 1)
                .is_none_or(|next| next.start + 1 >= beat_start + beat);
            (on_the_beat && alone && (5..=9).contains(&after)).then_some((i, after))
        })
        .collect()
}

/// The off-beat eighths to write straight: those of [`eighth_pairs`] when they are mostly
/// played late (most of them 7 or 8 ticks after the beat: the 3:2 to 2:1 swing of jazz,
/// hornpipes and shuffles; a dotted eighth and sixteenth, at 9, is written as it is) and the
/// music is not in triplets.
fn swung_eighths(notes: &[Note]) -> Vec<usize> {
    let pairs = eighth_pairs(notes);
    let triplets = notes
        .iter()
        .filter(|n| n.start % TICKS_PER_BEAT == 4)
        .count();
    let late = pairs
        .iter()
        .filter(|&&(_, after)| (7..=8).contains(&after))
        .count();
    // Mostly late, not a mixture of straight eighths (6) and dotted rhythms (9).
    if late >= 2 && late * 2 >= pairs.len() && triplets * 4 <= late {
        pairs
            .into_iter()
            .filter(|&(_, after)| after >= 7)
            .map(|(i, _)| i)
            .collect()
    } else {
        Vec::new()
    }
}

/// Each onset on its beat's simplest grid (see [`notate`]); `starts` sorted.
fn grid_onsets(starts: &[u32]) -> Vec<u32> {
    let beat = TICKS_PER_BEAT;
    let nearest = |tick: u32| {
        let sixteenth = (tick + 1) / 3 * 3;
        let triplet = (tick + 2) / 4 * 4;
        if tick.abs_diff(triplet) < tick.abs_diff(sixteenth) {
            triplet
        } else {
            sixteenth
        }
    };
    let mut onsets: Vec<u32> = Vec::with_capacity(starts.len());
    let mut i = 0;
    while i < starts.len() {
        // The notes whose nearest grid line lies in this beat.
        let beat_start = nearest(starts[i]) / beat * beat;
        let end = starts[i..]
            .iter()
            .position(|&s| nearest(s) / beat * beat != beat_start)
            .map_or(starts.len(), |k| i + k);
        let group = &starts[i..end];
        let before = onsets.last().copied();
        let best = GRIDS
            .iter()
            .filter_map(|&(grid, per_note)| {
                let snapped: Vec<u32> = group
                    .iter()
                    .map(|&t| (t + grid / 2) / grid * grid)
                    .collect();
                let fits = snapped.windows(2).all(|w| w[1] > w[0])
                    && before.is_none_or(|b| snapped[0] > b)
                    && snapped.iter().all(|&s| s / beat * beat == beat_start)
                    && group
                        .iter()
                        .zip(&snapped)
                        .all(|(&t, &s)| t.abs_diff(s) * 2 < grid);
                let cost: f64 = group
                    .iter()
                    .zip(&snapped)
                    .map(|(&t, &s)| (t.abs_diff(s) as f64).powi(2) + per_note)
                    .sum();
                fits.then_some((cost, snapped))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, snapped)) => onsets.extend(snapped),
            None => onsets.extend(group.iter().map(|&t| nearest(t))),
        }
        i = end;
    }
    onsets
}

/// How long a note starting at `start` that sounded `sounded` ticks is written when a rest (or
/// nothing) follows: its end on the coarsest grid line that adds less than it sounded, not past
/// `next`.
fn written_length(start: u32, sounded: u32, next: Option<u32>, bar: u32) -> u32 {
    let end = start + sounded;
    let triplet = start.is_multiple_of(4) && !start.is_multiple_of(3);
    let grids: &[u32] = if triplet {
        &[12, 4]
    } else {
        &[48, 24, 12, 6, 3]
    };
    grids
        .iter()
        .copied()
        .map(|grid| grid.min(bar))
        .filter(|grid| bar.is_multiple_of(*grid))
        .map(|grid| end.div_ceil(grid) * grid)
        .find(|&line| line - end < sounded && next.is_none_or(|next| line <= next))
        .unwrap_or(end)
        - start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn played_notes_are_read_as_notation() {
        let played = [
            Note {
                start: 1,
                duration: 10,
                pitch: 60,
                velocity: 80,
            }, // slightly late, detached
            Note {
                start: 11,
                duration: 5,
                pitch: 62,
                velocity: 80,
            }, // early
            Note {
                start: 17,
                duration: 2,
                pitch: 64,
                velocity: 80,
            }, // staccato
            Note {
                start: 25,
                duration: 3,
                pitch: 65,
                velocity: 80,
            }, // near a triplet line (24)
            Note {
                start: 40,
                duration: 20,
                pitch: 67,
                velocity: 80,
            }, // followed by a rest
            Note {
                start: 72,
                duration: 12,
                pitch: 69,
                velocity: 80,
            },
        ];
        let written: Vec<(u32, u32)> = notate(&played, TimeSignature::default())
            .iter()
            .map(|n| (n.start, n.duration))
            .collect();
        // Legato where the gaps are playing style; the short note on beat 3 written as an
        // eighth before a real rest; the onset on the last triplet of beat 4 kept; a long note
        // held over a short gap.
        assert_eq!(
            written,
            vec![(0, 12), (12, 6), (18, 6), (24, 6), (40, 32), (72, 12)]
        );
    }
}
