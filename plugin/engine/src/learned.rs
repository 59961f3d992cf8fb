//! What the player's own MIDI files teach Continuo: the melodies (top lines) of a folder of
//! tunes, kept as pitch sequences. Their interval patterns join the player's current playing in
//! the motif model that "Follow my motifs" blends into the neural model, so answers lean toward
//! the player's own idiom; intervals do not depend on the key, so tunes in any key count alike.
//!
//! Saved as JSON (`continuo learn DIR -o FILE`, or with the plugin's project).

use std::path::{Path, PathBuf};

use crate::midi_file;

/// The most notes kept from one file, and in all (a folder of long files stays small to save
/// and quick to count).
pub const MAX_NOTES_PER_FILE: usize = 4_096;
/// See [`MAX_NOTES_PER_FILE`].
pub const MAX_NOTES: usize = 65_536;

/// The melodies learnt from a folder.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Learned {
    /// Each file's top line, as MIDI keys in order, with the file's name.
    pub melodies: Vec<(String, Vec<u8>)>,
}

/// Why a folder could not be learnt from.
#[derive(Debug, Clone, PartialEq)]
pub enum LearnError {
    /// The folder cannot be read.
    Folder(PathBuf, String),
    /// No file in the folder held a melody: what went wrong with the first one.
    NothingLearnt(PathBuf, String),
}

impl std::fmt::Display for LearnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LearnError::Folder(dir, why) => {
                write!(f, "cannot read the folder {}: {why}", dir.display())
            }
            LearnError::NothingLearnt(dir, why) => {
                write!(f, "{}: no melody could be learnt ({why})", dir.display())
            }
        }
    }
}

impl std::error::Error for LearnError {}

impl Learned {
    /// Learns from every .mid/.midi file in `dir` (not its subfolders), in name order. Files that
    /// cannot be read are skipped and returned with the reason; an error when nothing is learnt.
    pub fn from_folder(dir: &Path) -> Result<(Learned, Vec<(String, String)>), LearnError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| LearnError::Folder(dir.to_path_buf(), e.to_string()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi")
                })
            })
            .collect();
        files.sort();
        let mut learned = Learned::default();
        let mut skipped = Vec::new();
        for path in files {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            match midi_file::read_file(&path, None) {
                Ok(imported) if imported.melody.notes.len() >= 2 => {
                    let room = MAX_NOTES.saturating_sub(learned.notes());
                    let pitches: Vec<u8> = imported
                        .melody
                        .notes
                        .iter()
                        .take(MAX_NOTES_PER_FILE.min(room))
                        .map(|n| n.pitch)
                        .collect();
                    if pitches.len() >= 2 {
                        learned.melodies.push((name, pitches));
                    }
                }
                Ok(_) => skipped.push((name, "fewer than two notes".to_string())),
                Err(error) => skipped.push((name, error.to_string())),
            }
        }
        if learned.melodies.is_empty() {
            let why = skipped
                .first()
                .map_or("no .mid files".to_string(), |(name, why)| {
                    format!("{name}: {why}")
                });
            return Err(LearnError::NothingLearnt(dir.to_path_buf(), why));
        }
        Ok((learned, skipped))
    }

    /// Files learnt from.
    pub fn files(&self) -> usize {
        self.melodies.len()
    }

    /// Notes learnt.
    pub fn notes(&self) -> usize {
        self.melodies.iter().map(|(_, m)| m.len()).sum()
    }

    /// The same without the file called `name` (leave-one-out evaluation).
    pub fn without(&self, name: &str) -> Learned {
        Learned {
            melodies: self
                .melodies
                .iter()
                .filter(|(n, _)| n != name)
                .cloned()
                .collect(),
        }
    }

    /// Reads what `continuo learn` wrote.
    pub fn from_json(text: &str) -> Result<Learned, String> {
        let learned: Learned =
            serde_json::from_str(text).map_err(|e| format!("not a learnt-material file: {e}"))?;
        if learned
            .melodies
            .iter()
            .any(|(_, m)| m.iter().any(|&p| p > 127))
        {
            return Err("not a learnt-material file: a pitch above 127".into());
        }
        Ok(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::midi_file::{encode, TrackNotes, TrackOut};
    use crate::phrase::{Note, TimeSignature};

    #[test]
    fn a_folder_is_learnt_bad_files_are_named_and_one_can_be_left_out() {
        let dir = std::env::temp_dir().join(format!("continuo-learn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tune = |pitches: &[u8]| {
            let notes: Vec<Note> = pitches
                .iter()
                .enumerate()
                .map(|(i, &p)| Note::new(i as u32 * 12, 12, p, 90))
                .collect();
            encode(
                &[TrackOut {
                    name: "tune",
                    notes: TrackNotes::Grid(&notes),
                    offset_ticks: 0,
                    channel: 0,
                }],
                120.0,
                TimeSignature::default(),
            )
        };
        std::fs::write(dir.join("a.mid"), tune(&[60, 62, 64])).unwrap();
        std::fs::write(dir.join("b.MID"), tune(&[67, 65, 64, 62])).unwrap();
        std::fs::write(dir.join("broken.mid"), b"MThd\x00").unwrap();
        std::fs::write(dir.join("notes.txt"), b"not music").unwrap();
        let (learned, skipped) = Learned::from_folder(&dir).unwrap();
        assert_eq!((learned.files(), learned.notes()), (2, 7));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, "broken.mid");
        assert_eq!(learned.without("a.mid").notes(), 4);
        let json = serde_json::to_string(&learned).unwrap();
        assert_eq!(Learned::from_json(&json).unwrap(), learned);
        assert!(Learned::from_json("{}").is_err());
        assert!(Learned::from_json(r#"{"melodies":[["x",[60,300]]]}"#).is_err());
        // Nothing to learn: one clear error naming the first reason.
        std::fs::remove_file(dir.join("a.mid")).unwrap();
        std::fs::remove_file(dir.join("b.MID")).unwrap();
        let error = Learned::from_folder(&dir).unwrap_err().to_string();
        assert!(
            error.contains("no melody could be learnt") && error.contains("broken.mid"),
            "{error}"
        );
        assert!(Learned::from_folder(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
