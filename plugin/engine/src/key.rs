//! Key detection with the Krumhansl–Schmuckler method: correlate the duration-weighted
//! pitch-class histogram of a melody with the Krumhansl–Kessler major and minor profiles in all
//! twelve transpositions, and take the best.

use crate::phrase::Note;

/// Krumhansl–Kessler probe-tone profile for major keys, tonic first.
const MAJOR_PROFILE: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl–Kessler probe-tone profile for minor keys, tonic first.
const MINOR_PROFILE: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Major or minor (the two Krumhansl–Kessler profiles).
pub enum Mode {
    /// A major key.
    Major,
    /// A minor key (natural minor for its scale).
    Minor,
}

/// A key: tonic pitch class (0 = C) and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C.
    pub tonic: u8,
    /// Major or minor.
    pub mode: Mode,
}

impl Key {
    /// Pitch classes of the key's diatonic scale (natural minor for minor keys).
    pub fn scale(&self) -> [bool; 12] {
        let steps: [u8; 7] = match self.mode {
            Mode::Major => [0, 2, 4, 5, 7, 9, 11],
            Mode::Minor => [0, 2, 3, 5, 7, 8, 10],
        };
        let mut in_scale = [false; 12];
        for step in steps {
            in_scale[((self.tonic + step) % 12) as usize] = true;
        }
        in_scale
    }

    /// Pitch classes of the key's pentatonic scale (major or minor pentatonic).
    pub fn pentatonic(&self) -> [bool; 12] {
        let steps: [u8; 5] = match self.mode {
            Mode::Major => [0, 2, 4, 7, 9],
            Mode::Minor => [0, 3, 5, 7, 10],
        };
        let mut in_scale = [false; 12];
        for step in steps {
            in_scale[((self.tonic + step) % 12) as usize] = true;
        }
        in_scale
    }

    /// Semitones from the tonic to the third of the tonic chord.
    pub fn third(&self) -> u8 {
        match self.mode {
            Mode::Major => 4,
            Mode::Minor => 3,
        }
    }

    /// Pitch classes of the tonic chord (root, third, fifth): where a phrase comes to rest.
    pub fn tonic_chord(&self) -> [bool; 12] {
        let mut chord = [false; 12];
        for step in [0, self.third(), 7] {
            chord[((self.tonic + step) % 12) as usize] = true;
        }
        chord
    }

    /// Whether `pitch` belongs to the key's scale.
    pub fn contains(&self, pitch: u8) -> bool {
        self.scale()[(pitch % 12) as usize]
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        write!(f, "{} {mode}", NOTE_NAMES[self.tonic as usize % 12])
    }
}

/// Pearson correlation of two 12-vectors.
fn correlation(a: &[f64; 12], b: &[f64; 12]) -> f64 {
    let mean_a = a.iter().sum::<f64>() / 12.0;
    let mean_b = b.iter().sum::<f64>() / 12.0;
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        let (da, db) = (a[i] - mean_a, b[i] - mean_b);
        cov += da * db;
        var_a += da * da;
        var_b += db * db;
    }
    if var_a <= 0.0 || var_b <= 0.0 {
        0.0
    } else {
        cov / (var_a * var_b).sqrt()
    }
}

/// The most likely key of `notes`, or `None` when there is nothing to judge by.
pub fn detect_key(notes: &[Note]) -> Option<Key> {
    let mut histogram = [0.0f64; 12];
    for note in notes {
        histogram[(note.pitch % 12) as usize] += note.duration.max(1) as f64;
    }
    if histogram.iter().filter(|&&w| w > 0.0).count() < 2 {
        return None;
    }
    let mut best: Option<(f64, Key)> = None;
    for tonic in 0..12u8 {
        for (mode, profile) in [(Mode::Major, &MAJOR_PROFILE), (Mode::Minor, &MINOR_PROFILE)] {
            let mut rotated = [0.0; 12];
            for (i, weight) in rotated.iter_mut().enumerate() {
                *weight = profile[(i + 12 - tonic as usize) % 12];
            }
            let score = correlation(&histogram, &rotated);
            if best.is_none_or(|(best_score, _)| score > best_score) {
                best = Some((score, Key { tonic, mode }));
            }
        }
    }
    best.map(|(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn melody(pitches: &[u8]) -> Vec<Note> {
        crate::generator::Melody::evenly_spaced(pitches, 12, 90).notes
    }

    #[test]
    fn detects_major_and_minor_keys() {
        // C major scale with a cadence on C.
        let c_major = melody(&[60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]);
        assert_eq!(
            detect_key(&c_major),
            Some(Key {
                tonic: 0,
                mode: Mode::Major
            })
        );
        // A harmonic minor line leaning on A, C and E.
        let a_minor = melody(&[57, 60, 64, 69, 68, 69, 64, 60, 57, 59, 60, 57]);
        assert_eq!(
            detect_key(&a_minor),
            Some(Key {
                tonic: 9,
                mode: Mode::Minor
            })
        );
        // Transposing the melody transposes the key.
        let d_major: Vec<Note> = c_major
            .iter()
            .map(|n| Note {
                pitch: n.pitch + 2,
                ..*n
            })
            .collect();
        assert_eq!(detect_key(&d_major).unwrap().to_string(), "D major");
    }

    #[test]
    fn too_little_material_gives_no_key() {
        assert_eq!(detect_key(&[]), None);
        assert_eq!(detect_key(&melody(&[60, 72, 60])), None);
    }

    #[test]
    fn scales_have_the_right_pitch_classes() {
        let g_major = Key {
            tonic: 7,
            mode: Mode::Major,
        };
        assert!(g_major.contains(66)); // F#
        assert!(!g_major.contains(65)); // F
        assert_eq!(g_major.scale().iter().filter(|&&x| x).count(), 7);
        assert_eq!(g_major.pentatonic().iter().filter(|&&x| x).count(), 5);
    }
}
