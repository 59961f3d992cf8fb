//! Key and mode detection. The tonic and whether it is major or minor come from the
//! Krumhansl–Schmuckler method (the duration-weighted pitch-class histogram correlated with the
//! Krumhansl–Kessler major and minor profiles in all twelve transpositions); the mode then comes
//! from the scale degrees the player used: mixolydian for a flat seventh, dorian for a major
//! sixth in minor, harmonic and melodic minor for a leading tone, pentatonic and blues when only
//! their degrees sound. So the scale is the one the player played in: a ii–V–I in C that the
//! profiles hear around G is G mixolydian, the notes of C major. A line that starts and ends on
//! one note is centred there when a mode with the same notes allows it (a D dorian line).

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
/// The mode of a key: its scale and tonic chord.
pub enum Mode {
    /// Major (ionian).
    Major,
    /// Natural minor (aeolian).
    Minor,
    /// Minor with a raised seventh (the leading tone).
    HarmonicMinor,
    /// Minor with a raised sixth and seventh.
    MelodicMinor,
    /// Minor with a major sixth.
    Dorian,
    /// Major with a flat seventh.
    Mixolydian,
    /// Degrees 1 2 3 5 6 of major.
    MajorPentatonic,
    /// Degrees 1 b3 4 5 b7.
    MinorPentatonic,
    /// Minor pentatonic with the flat fifth.
    Blues,
}

impl Mode {
    /// Semitones above the tonic of each degree of the mode's scale.
    pub fn steps(&self) -> &'static [u8] {
        match self {
            Mode::Major => &[0, 2, 4, 5, 7, 9, 11],
            Mode::Minor => &[0, 2, 3, 5, 7, 8, 10],
            Mode::HarmonicMinor => &[0, 2, 3, 5, 7, 8, 11],
            Mode::MelodicMinor => &[0, 2, 3, 5, 7, 9, 11],
            Mode::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Mode::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
            Mode::MajorPentatonic => &[0, 2, 4, 7, 9],
            Mode::MinorPentatonic => &[0, 3, 5, 7, 10],
            Mode::Blues => &[0, 3, 5, 6, 7, 10],
        }
    }

    /// Whether the mode's tonic chord is minor.
    pub fn is_minor(&self) -> bool {
        !matches!(self, Mode::Major | Mode::Mixolydian | Mode::MajorPentatonic)
    }

    /// The mode's name as musicians write it after the tonic.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Major => "major",
            Mode::Minor => "minor",
            Mode::HarmonicMinor => "harmonic minor",
            Mode::MelodicMinor => "melodic minor",
            Mode::Dorian => "dorian",
            Mode::Mixolydian => "mixolydian",
            Mode::MajorPentatonic => "major pentatonic",
            Mode::MinorPentatonic => "minor pentatonic",
            Mode::Blues => "blues",
        }
    }

    /// Every mode, the major family first.
    pub const ALL: [Mode; 9] = [
        Mode::Major,
        Mode::Mixolydian,
        Mode::MajorPentatonic,
        Mode::Minor,
        Mode::HarmonicMinor,
        Mode::MelodicMinor,
        Mode::Dorian,
        Mode::MinorPentatonic,
        Mode::Blues,
    ];

    /// The mode of the degrees a player used (`used[d]`: semitones above the tonic), within the
    /// major or the minor family.
    fn from_degrees(minor: bool, used: &[bool; 12]) -> Mode {
        let only = |allowed: &[u8]| (0..12u8).all(|d| !used[d as usize] || allowed.contains(&d));
        let has = |d: usize| used[d];
        if !minor {
            if only(Mode::MajorPentatonic.steps()) {
                Mode::MajorPentatonic
            } else if has(10) && !has(11) {
                Mode::Mixolydian
            } else {
                Mode::Major
            }
        } else if only(Mode::MinorPentatonic.steps()) {
            Mode::MinorPentatonic
        } else if only(Mode::Blues.steps()) {
            Mode::Blues
        } else if has(9) && !has(8) {
            if has(11) && !has(10) {
                Mode::MelodicMinor
            } else {
                Mode::Dorian
            }
        } else if has(11) && !has(10) {
            Mode::HarmonicMinor
        } else {
            Mode::Minor
        }
    }
}

/// A key: tonic pitch class and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C.
    pub tonic: u8,
    /// The mode (its scale and tonic chord).
    pub mode: Mode,
}

impl Key {
    fn pitch_classes(&self, steps: &[u8]) -> [bool; 12] {
        let mut in_scale = [false; 12];
        for step in steps {
            in_scale[((self.tonic + step) % 12) as usize] = true;
        }
        in_scale
    }

    /// Pitch classes of the key's scale.
    pub fn scale(&self) -> [bool; 12] {
        self.pitch_classes(self.mode.steps())
    }

    /// Pitch classes of the key's pentatonic scale (major or minor pentatonic).
    pub fn pentatonic(&self) -> [bool; 12] {
        let steps = if self.mode.is_minor() {
            Mode::MinorPentatonic.steps()
        } else {
            Mode::MajorPentatonic.steps()
        };
        self.pitch_classes(steps)
    }

    /// Semitones from the tonic to the third of the tonic chord.
    pub fn third(&self) -> u8 {
        if self.mode.is_minor() {
            3
        } else {
            4
        }
    }

    /// Pitch classes of the tonic chord (root, third, fifth): where a phrase comes to rest.
    pub fn tonic_chord(&self) -> [bool; 12] {
        self.pitch_classes(&[0, self.third(), 7])
    }

    /// Whether `pitch` belongs to the key's scale.
    pub fn contains(&self, pitch: u8) -> bool {
        self.scale()[(pitch % 12) as usize]
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}",
            NOTE_NAMES[self.tonic as usize % 12],
            self.mode.name()
        )
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

/// The most likely key and mode of `notes`, or `None` when there is nothing to judge by.
pub fn detect_key(notes: &[Note]) -> Option<Key> {
    let mut histogram = [0.0f64; 12];
    for note in notes {
        histogram[(note.pitch % 12) as usize] += note.duration.max(1) as f64;
    }
    if histogram.iter().filter(|&&w| w > 0.0).count() < 2 {
        return None;
    }
    let mut best: Option<(f64, u8, bool)> = None;
    for tonic in 0..12u8 {
        for (minor, profile) in [(false, &MAJOR_PROFILE), (true, &MINOR_PROFILE)] {
            let mut rotated = [0.0; 12];
            for (i, weight) in rotated.iter_mut().enumerate() {
                *weight = profile[(i + 12 - tonic as usize) % 12];
            }
            let score = correlation(&histogram, &rotated);
            if best.is_none_or(|(best_score, _, _)| score > best_score) {
                best = Some((score, tonic, minor));
            }
        }
    }
    let (_, tonic, minor) = best?;
    let key = key_of_degrees(&histogram, tonic, minor);
    // A line that starts and ends on one pitch class centres on it: where that pitch class is
    // the tonic of another mode with the same notes (D dorian for C major's, G mixolydian for
    // C major's), the line is heard there. The scale stays what it was.
    let first = notes.iter().min_by_key(|n| n.start)?.pitch % 12;
    let last = notes.iter().max_by_key(|n| n.start)?.pitch % 12;
    if first == last && first != tonic {
        for centred_minor in [false, true] {
            let centred = key_of_degrees(&histogram, first, centred_minor);
            if centred.scale() == key.scale() {
                return Some(centred);
            }
        }
    }
    Some(key)
}

/// The key on `tonic` whose mode (in the major or minor family) names the degrees used.
fn key_of_degrees(histogram: &[f64; 12], tonic: u8, minor: bool) -> Key {
    let mut used = [false; 12];
    for (pc, &weight) in histogram.iter().enumerate() {
        used[(pc + 12 - tonic as usize) % 12] |= weight > 0.0;
    }
    Key {
        tonic,
        mode: Mode::from_degrees(minor, &used),
    }
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
                mode: Mode::HarmonicMinor
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

    /// The key of a line of quarter notes, as text.
    fn key_of(pitches: &[u8]) -> String {
        detect_key(&melody(pitches)).unwrap().to_string()
    }

    #[test]
    fn modes_are_named_by_the_degrees_the_player_used() {
        let lines: [(&str, [u8; 16]); 7] = [
            // D minor with B natural.
            (
                "D dorian",
                [
                    62, 64, 65, 67, 69, 71, 72, 74, 69, 65, 62, 64, 65, 62, 69, 62,
                ],
            ),
            // G major with F natural, resting on G.
            (
                "G mixolydian",
                [
                    67, 71, 74, 77, 76, 74, 72, 71, 69, 67, 65, 67, 71, 74, 67, 67,
                ],
            ),
            // Minor by its sixth and seventh.
            (
                "A harmonic minor",
                [
                    69, 71, 72, 74, 76, 77, 80, 81, 76, 72, 69, 80, 81, 76, 69, 69,
                ],
            ),
            (
                "A melodic minor",
                [
                    57, 59, 60, 62, 64, 66, 68, 69, 64, 60, 57, 68, 69, 64, 57, 57,
                ],
            ),
            // A riff on five notes, and with the blue note.
            (
                "A minor pentatonic",
                [
                    45, 48, 50, 52, 55, 57, 55, 52, 50, 48, 45, 45, 52, 50, 48, 45,
                ],
            ),
            (
                "A blues",
                [
                    45, 48, 50, 51, 52, 55, 57, 55, 52, 51, 50, 48, 45, 45, 52, 45,
                ],
            ),
            (
                "G major pentatonic",
                [
                    67, 69, 71, 74, 76, 74, 71, 69, 67, 71, 74, 67, 64, 67, 69, 67,
                ],
            ),
        ];
        for (name, pitches) in lines {
            assert_eq!(key_of(&pitches), name);
        }
    }

    #[test]
    fn the_scale_is_the_one_that_was_played() {
        // A C natural-minor bass line keeps its Eb and Bb.
        let bass = [
            36, 36, 39, 43, 41, 39, 38, 36, 46, 44, 43, 39, 36, 43, 36, 36,
        ];
        assert_eq!(key_of(&bass), "C minor");
        // ii-V lines in C that the major/minor profiles hear around G: G mixolydian, whose scale
        // is C major's (F, no F#), where G major would forbid F and add F#.
        let lines = [
            74, 72, 71, 69, 67, 65, 62, 59, 67, 71, 74, 77, 79, 77, 74, 71, 72, 67, 64, 60,
        ];
        let key = detect_key(&melody(&lines)).unwrap();
        assert_eq!(key.to_string(), "G mixolydian");
        let c_major = Key {
            tonic: 0,
            mode: Mode::Major,
        };
        assert_eq!(key.scale(), c_major.scale());
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
