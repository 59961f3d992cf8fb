//! The melody in what a musician played: one line through chords, inner voices and held pads.
//!
//! The top note of every onset (a skyline) is the usual reduction, and it is right for a melody
//! over chords struck with it. It goes wrong where the hands do not move together: a left-hand
//! chord struck while the melody holds a note becomes a "melody" note two octaves down, and a
//! pad held above the tune takes the tune's place at every bar line. So the line is chosen as a
//! whole (a Viterbi path over the onsets): each onset gives the line one of its notes or, where
//! something else is sounding, none, and the path pays for leaps (voice-leading continuity), for
//! notes under others struck with them (the skyline's preference) and for leaving an onset out.
//! A line played one note at a time is returned as played.

use crate::phrase::Note;

/// What a leap costs, per semitone beyond a whole tone, up to an octave.
const LEAP_PER_SEMITONE: f64 = 0.1;
/// What each semitone beyond an octave costs on top: a melody rarely leaps that far, a jump into
/// the accompaniment always does.
const WIDE_LEAP_PER_SEMITONE: f64 = 0.3;
/// What taking a note costs per note of its onset above it.
const UNDER_PER_NOTE: f64 = 1.5;
/// What leaving an onset out of the line costs (allowed only where another note is sounding):
/// a chord struck while the line's own note is held (an accompaniment under a long note), a
/// lone note struck while it is held (more likely a tune moving under a pad), and any onset
/// while the line is silent (the line rests while another voice plays).
const LEAVE_CHORD_HELD: f64 = 0.3;
const LEAVE_LONE_HELD: f64 = 1.2;
const LEAVE_OUT: f64 = 2.2;
/// The most states kept after each onset (the cheapest).
const BEAM: usize = 24;
/// A note still sounding for no more than this many ticks after another's onset is a legato
/// overlap, not a second voice.
const LEGATO_OVERLAP: u32 = 2;

/// The cost of a step from `from` to `to` semitones.
fn leap_cost(from: u8, to: u8) -> f64 {
    let distance = (to as i32 - from as i32).unsigned_abs() as f64;
    LEAP_PER_SEMITONE * (distance.min(12.0) - 2.0).max(0.0)
        + WIDE_LEAP_PER_SEMITONE * (distance - 12.0).max(0.0)
}

/// The melody line of any set of notes (unsorted, polyphonic): one note per chosen onset, each
/// cut where the next begins.
pub fn melody_line(notes: &[Note]) -> Vec<Note> {
    let mut sorted: Vec<Note> = notes.iter().copied().filter(|n| n.duration > 0).collect();
    // Onset ascending, pitch descending: each onset's notes from the top down.
    sorted.sort_by(|a, b| a.start.cmp(&b.start).then(b.pitch.cmp(&a.pitch)));
    sorted.dedup_by_key(|n| (n.start, n.pitch));
    let groups: Vec<&[Note]> = sorted.chunk_by(|a, b| a.start == b.start).collect();
    if groups.is_empty() {
        return Vec::new();
    }
    // Whether something other than an onset's own notes sounds when it starts (past a legato
    // overlap): only then may the line leave it out.
    let mut sounding_until = 0u32;
    let may_leave: Vec<bool> = groups
        .iter()
        .map(|group| {
            let start = group[0].start;
            let leave = group.len() > 1 || sounding_until > start + LEGATO_OVERLAP;
            sounding_until = sounding_until.max(group.iter().map(|n| n.end()).max().unwrap_or(0));
            leave
        })
        .collect();
    // Viterbi over the onsets; a state is the line's last note after an onset.
    struct State {
        /// The line's last pitch (None before its first note) and when that note ends.
        pitch: Option<u8>,
        end: u32,
        /// The cheapest path to this state.
        cost: f64,
        /// Its state after the onset before (None at the first onset).
        back: Option<usize>,
        /// The note this onset gave the line, if it gave one.
        taken: Option<Note>,
    }
    let mut layers: Vec<Vec<State>> = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        let start = group[0].start;
        let previous: Vec<(Option<u8>, u32, f64)> = match layers.last() {
            Some(layer) => layer.iter().map(|s| (s.pitch, s.end, s.cost)).collect(),
            None => vec![(None, 0, 0.0)],
        };
        let mut layer = Vec::new();
        for (rank, note) in group.iter().enumerate() {
            let best = previous
                .iter()
                .enumerate()
                .map(|(k, &(pitch, _, cost))| {
                    (k, cost + pitch.map_or(0.0, |p| leap_cost(p, note.pitch)))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((k, cost)) = best {
                layer.push(State {
                    pitch: Some(note.pitch),
                    end: note.end(),
                    cost: cost + UNDER_PER_NOTE * rank as f64,
                    back: (g > 0).then_some(k),
                    taken: Some(*note),
                });
            }
        }
        if may_leave[g] && g > 0 {
            for (k, &(pitch, end, cost)) in previous.iter().enumerate() {
                let leave = match (end > start + LEGATO_OVERLAP, group.len() > 1) {
                    (true, true) => LEAVE_CHORD_HELD,
                    (true, false) => LEAVE_LONE_HELD,
                    (false, _) => LEAVE_OUT,
                };
                layer.push(State {
                    pitch,
                    end,
                    cost: cost + leave,
                    back: Some(k),
                    taken: None,
                });
            }
        }
        // One state per last note (the cheapest), and only the cheapest few: the cost stays
        // bounded however many onsets are left out.
        layer.sort_by(|a, b| {
            (a.pitch, a.end)
                .cmp(&(b.pitch, b.end))
                .then(a.cost.total_cmp(&b.cost))
        });
        layer.dedup_by_key(|s| (s.pitch, s.end));
        layer.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        layer.truncate(BEAM);
        layers.push(layer);
    }
    // Walk back from the cheapest end.
    let mut line = Vec::new();
    let last = layers.last().expect("one layer per group");
    let mut k = (0..last.len())
        .min_by(|&a, &b| last[a].cost.total_cmp(&last[b].cost))
        .expect("every layer has a state");
    for layer in layers.iter().rev() {
        let state = &layer[k];
        if let Some(note) = state.taken {
            line.push(note);
        }
        match state.back {
            Some(previous) => k = previous,
            None => break,
        }
    }
    line.reverse();
    for i in 0..line.len().saturating_sub(1) {
        let next_start = line[i + 1].start;
        if line[i].end() > next_start {
            line[i].duration = next_start - line[i].start;
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: u32, duration: u32, pitch: u8) -> Note {
        Note::new(start, duration, pitch, 90)
    }

    fn pitches(line: &[Note]) -> Vec<u8> {
        line.iter().map(|n| n.pitch).collect()
    }

    /// A tune in quarter and half notes around E5 (start, length, pitch).
    const TUNE: [(u32, u32, u8); 8] = [
        (0, 12, 76),
        (12, 12, 74),
        (24, 24, 72),
        (48, 12, 74),
        (60, 12, 76),
        (72, 24, 76),
        (96, 24, 74),
        (120, 24, 72),
    ];

    fn tune() -> Vec<Note> {
        TUNE.iter().map(|&(s, d, p)| note(s, d, p)).collect()
    }

    #[test]
    fn a_line_played_one_note_at_a_time_is_kept_whole() {
        // Legato (each note a tick into the next), with two-octave leaps: nothing left out.
        let line: Vec<Note> = [48u8, 72, 50, 74, 43, 67, 48, 72]
            .iter()
            .enumerate()
            .map(|(i, &p)| note(i as u32 * 12, 13, p))
            .collect();
        assert_eq!(pitches(&melody_line(&line)), pitches(&line));
    }

    #[test]
    fn chords_struck_with_the_melody_give_their_top_note() {
        let mut notes = tune();
        for &(s, d, _) in &TUNE {
            notes.extend([note(s, d, 60), note(s, d, 64), note(s, d, 67)]);
        }
        assert_eq!(pitches(&melody_line(&notes)), pitches(&tune()));
    }

    #[test]
    fn left_hand_chords_under_a_held_melody_note_are_left_out() {
        // Triads on every beat in the left hand (C3 E3 G3), the tune above with half notes.
        let mut notes = tune();
        for beat in 0..12u32 {
            notes.extend([
                note(beat * 12, 12, 48),
                note(beat * 12, 12, 52),
                note(beat * 12, 12, 55),
            ]);
        }
        let line = melody_line(&notes);
        assert_eq!(pitches(&line), pitches(&tune()));
        // The half notes are held to the next melody note, not cut by the left hand.
        assert_eq!(line[2].duration, 24);
    }

    #[test]
    fn a_pad_held_above_the_melody_does_not_take_its_place() {
        // A whole-bar pad on G6 and C7 over the tune (a new pad chord every bar).
        let mut notes = tune();
        for bar in 0..3u32 {
            notes.push(note(bar * 48, 48, if bar % 2 == 0 { 91 } else { 96 }));
        }
        assert_eq!(pitches(&melody_line(&notes)), pitches(&tune()));
        // The plain top-of-each-onset reduction takes the pad at every bar line.
        let skyline = crate::phrase::monophonic(&notes);
        assert_ne!(pitches(&skyline), pitches(&tune()));
    }
}
