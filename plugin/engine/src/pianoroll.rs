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

/// Parses a key name such as "C4", "F#3", "Eb5" or "A#-1", or a plain MIDI number.
pub fn parse_key_name(text: &str) -> Option<u8> {
    let text = text.trim();
    if let Ok(number) = text.parse::<u8>() {
        return (number <= 127).then_some(number);
    }
    let mut chars = text.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let mut pitch_class: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest: String = chars.collect();
    let octave_text = if let Some(r) = rest.strip_prefix('#') {
        pitch_class += 1;
        r
    } else if let Some(r) = rest.strip_prefix('b') {
        pitch_class -= 1;
        r
    } else {
        rest.as_str()
    };
    let octave: i32 = octave_text.parse().ok()?;
    let key = (octave + 1) * 12 + pitch_class;
    (0..=127).contains(&key).then_some(key as u8)
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
        for key in 0..=127u8 {
            assert_eq!(parse_key_name(&key_name(key)), Some(key));
        }
        assert_eq!(parse_key_name("Eb4"), Some(63));
        assert_eq!(parse_key_name("60"), Some(60));
        assert_eq!(parse_key_name("H2"), None);
        assert_eq!(parse_key_name("G9"), Some(127));
        assert_eq!(parse_key_name("G#9"), None);
        assert_eq!(render(&[], 48, TimeSignature::default()), "(no notes)\n");
    }
}
