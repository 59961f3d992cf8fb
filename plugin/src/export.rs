//! Export of a suggestion as a Standard MIDI File, from the editor (GUI thread, never the audio
//! thread).
//!
//! The file has the host's tempo and time signature, one track with the suggestion (with the
//! player's feel, as it plays) and, optionally, a track with what was played before it, as it
//! was played (every note, at the file's resolution, not the notation the model heard), so the
//! take can be dragged into the DAW as it was heard. Names carry a timestamp, so exports never overwrite each other.

use std::fmt;
use std::path::{Path, PathBuf};

use continuo_engine::midi_file::{self, TimedNote, TrackNotes, TrackOut};
use continuo_engine::phrase::{Phrase, TimeSignature};

/// The folder exports go to unless the musician picks another: `~/Music/Continuo` (on Windows,
/// `Continuo` in the user's Music folder, wherever Windows keeps it).
pub fn default_folder() -> PathBuf {
    #[cfg(windows)]
    if let Some(music) = dirs::audio_dir() {
        return music.join("Continuo");
    }
    dirs::home_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("Music")
        .join("Continuo")
}

/// What to write.
pub struct Export<'a> {
    /// The chosen variation.
    pub phrase: &'a Phrase,
    /// What was played, in beats from its first bar line, and the tick (from that bar line)
    /// where the phrase starts after it.
    pub prompt: Option<(&'a [TimedNote], u32)>,
    /// The host's tempo (BPM) and the phrase's meter, written into the file's conductor track.
    pub tempo: f64,
    pub time_signature: TimeSignature,
    /// 1-based number of the variation, for the file name.
    pub variation: usize,
}

#[derive(Debug)]
pub enum ExportError {
    Empty,
    Folder(PathBuf, std::io::Error),
    Write(PathBuf, std::io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Empty => write!(f, "there is no suggestion to export"),
            ExportError::Folder(path, e) => {
                write!(f, "cannot create the folder {}: {e}", path.display())
            }
            ExportError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for ExportError {}

/// Writes `export` into `folder` (created if needed) as `continuo-YYYYMMDD-HHMMSS-vK.mid` in
/// local time, adding `-2`, `-3`… if that name exists. Returns the path written.
pub fn write(folder: &Path, export: &Export) -> Result<PathBuf, ExportError> {
    if export.phrase.notes.is_empty() {
        return Err(ExportError::Empty);
    }
    std::fs::create_dir_all(folder).map_err(|e| ExportError::Folder(folder.to_path_buf(), e))?;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let stem = format!("continuo-{stamp}-v{}", export.variation);
    let mut path = folder.join(format!("{stem}.mid"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{stem}-{n}.mid"));
        n += 1;
    }
    let mut tracks = Vec::new();
    let mut offset = 0;
    if let Some((prompt, start_tick)) = export.prompt {
        tracks.push(TrackOut {
            name: "Prompt",
            notes: TrackNotes::Played(prompt),
            offset_ticks: 0,
            channel: 0,
        });
        offset = start_tick;
    }
    // The answer as it plays (with the player's timing, when it has it).
    let answer = export.phrase.performance();
    tracks.push(TrackOut {
        name: "Continuo",
        notes: TrackNotes::Played(&answer),
        offset_ticks: offset,
        channel: 0,
    });
    let bytes = midi_file::encode(&tracks, export.tempo, export.time_signature);
    // Write to a temporary name first: a half-written .mid never appears under the real name.
    let partial = path.with_extension("mid.part");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            ExportError::Write(path.clone(), e)
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuo_engine::phrase::Note;

    fn phrase() -> Phrase {
        Phrase {
            notes: vec![
                Note {
                    start: 0,
                    duration: 12,
                    pitch: 67,
                    velocity: 90,
                },
                Note {
                    start: 12,
                    duration: 36,
                    pitch: 69,
                    velocity: 90,
                },
            ],
            length_ticks: 48,
            time_signature: TimeSignature::default(),
            timing: Vec::new(),
        }
    }

    #[test]
    fn writes_the_phrase_after_its_prompt_at_the_host_tempo() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("new").join("folder");
        // Played, not on the grid: a little late, detached, a soft chord tone under the third.
        let prompt = [
            TimedNote {
                beat: 0.01,
                length: 0.8,
                pitch: 60,
                velocity: 96,
            },
            TimedNote {
                beat: 1.02,
                length: 0.7,
                pitch: 62,
                velocity: 70,
            },
            TimedNote {
                beat: 1.98,
                length: 0.9,
                pitch: 64,
                velocity: 88,
            },
            TimedNote {
                beat: 2.0,
                length: 0.9,
                pitch: 55,
                velocity: 40,
            },
            TimedNote {
                beat: 3.03,
                length: 0.6,
                pitch: 65,
                velocity: 75,
            },
        ];
        let p = phrase();
        let export = Export {
            phrase: &p,
            prompt: Some((&prompt[..], 48)),
            tempo: 96.0,
            time_signature: TimeSignature::default(),
            variation: 3,
        };
        let first = write(&folder, &export).unwrap();
        let second = write(&folder, &export).unwrap();
        assert_ne!(first, second, "a second export never overwrites the first");
        let name = first.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("continuo-") && name.ends_with("-v3.mid"),
            "{name}"
        );
        let read = midi_file::read_file(&first, None).unwrap();
        assert!((read.tempo - 96.0).abs() < 0.01);
        let pitches: Vec<u8> = read.melody.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, vec![60, 62, 64, 65, 67, 69]);
        // The prompt as played: every note, at its own timing, length and velocity.
        let first_track = midi_file::read_file(&first, Some(1)).unwrap();
        assert_eq!(first_track.performance.len(), prompt.len());
        for (got, want) in first_track.performance.iter().zip(&prompt) {
            assert!(
                (got.beat - want.beat).abs() < 1.0 / 480.0,
                "{got:?} {want:?}"
            );
            assert!(
                (got.length - want.length).abs() < 1.0 / 480.0,
                "{got:?} {want:?}"
            );
            assert_eq!((got.pitch, got.velocity), (want.pitch, want.velocity));
        }
        assert_eq!(
            read.melody.notes[4].start, 48,
            "the phrase follows its prompt"
        );
        // Without the prompt, the phrase starts at the file's beginning.
        let alone = write(
            &folder,
            &Export {
                prompt: None,
                ..export
            },
        )
        .unwrap();
        let read = midi_file::read_file(&alone, None).unwrap();
        assert_eq!(read.melody.notes[0].pitch, 67);
        assert_eq!(read.melody.notes[0].start, 0);
    }

    #[test]
    fn an_unwritable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let p = phrase();
        let error = write(
            &file.join("sub"),
            &Export {
                phrase: &p,
                prompt: None,
                tempo: 120.0,
                time_signature: TimeSignature::default(),
                variation: 1,
            },
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with("cannot create the folder"),
            "{error}"
        );
    }
}
