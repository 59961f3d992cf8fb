//! A small ASCII piano roll for terminals and status views: one row per pitch (highest on top),
//! one column per sixteenth note, `|` at bar lines.

use crate::phrase::{Note, TimeSignature};

const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];
/// Ticks per column: a sixteenth note.
const COLUMN_TICKS: u32 = 3;

/// The name of a MIDI key in scientific pitch notation (60 = C4).
pub fn key_name(key: u8) -> String {
    format!("{}{}", NOTE_NAMES[(key % 12) as usize], key as i32 / 12 - 1)
}

/// Renders `notes` over `length_ticks`. A note's onset is drawn `#` and its sustain `=`.
pub fn render(notes: &[Note], length_ticks: u32, time_signature: TimeSignature) -> String {
    let Some(low) = notes.iter().map(|n| n.pitch).min() else {
        return "(no notes)\n".to_string();
    };
    let high = notes.iter().map(|n| n.pitch).max().unwrap_or(low);
    let columns = length_ticks.div_ceil(COLUMN_TICKS) as usize;
    let bar_ticks = time_signature.bar_ticks();
    let mut out = String::new();
    for pitch in (low..=high).rev() {
        out.push_str(&format!("{:>4} ", key_name(pitch)));
        for column in 0..columns {
            let tick = column as u32 * COLUMN_TICKS;
            if tick.is_multiple_of(bar_ticks) {
                out.push('|');
            }
            let cell = notes
                .iter()
                .find(|n| n.pitch == pitch && n.start < tick + COLUMN_TICKS && n.end() > tick);
            out.push(match cell {
                Some(n) if n.start >= tick => '#',
                Some(_) => '=',
                None if tick.is_multiple_of(12) => '.',
                None => ' ',
            });
        }
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_notes_bars_and_beats() {
        let notes = [
            Note {
                start: 0,
                duration: 12,
                pitch: 62,
                velocity: 90,
            },
            Note {
                start: 12,
                duration: 6,
                pitch: 60,
                velocity: 90,
            },
        ];
        let roll = render(&notes, 48, TimeSignature::default());
        assert_eq!(
            roll,
            "  D4 |#===.   .   .   |\n C#4 |.   .   .   .   |\n  C4 |.   #=  .   .   |\n"
        );
        assert_eq!(key_name(60), "C4");
        assert_eq!(key_name(21), "A0");
        assert_eq!(render(&[], 48, TimeSignature::default()), "(no notes)\n");
    }
}
