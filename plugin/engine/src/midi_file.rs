//! Standard MIDI Files in and out, through `midly`.
//!
//! Import reads any layout (format 0 or 1, any number of tracks and channels), skips the drum
//! channel, quantizes to the 12-per-beat grid and reduces the notes to their melody line
//! ([`crate::voices`]). Export
//! writes a format-1 file: a conductor track with tempo and meter, the prompt (optional) and the
//! continuation on its own named track.

use std::path::Path;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::generator::Melody;
use crate::phrase::{Note, TimeSignature, TICKS_PER_BEAT};
use crate::voices::melody_line;

/// MIDI channel 10 (index 9) carries drums by General MIDI convention.
const DRUM_CHANNEL: u8 = 9;
/// Resolution of written files: 480 pulses per quarter note, 40 per grid tick.
const WRITE_PPQ: u16 = 480;

/// Why a file could not be used, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MidiFileError {
    /// The file could not be read (the operating system's reason).
    Io(String),
    /// The bytes are not a Standard MIDI File (midly's reason).
    NotMidi(String),
    /// The bytes start like a Standard MIDI File but break off or contradict themselves
    /// (midly's reason).
    Corrupt(String),
    /// SMPTE-timed files have no musical grid.
    Timecode,
    /// `--track` asked for a track the file does not have.
    TrackOutOfRange {
        /// The track asked for (0-based).
        requested: usize,
        /// How many tracks the file has.
        available: usize,
    },
    /// The file (or the chosen track) has no notes outside the drum channel.
    NoNotes,
}

impl std::fmt::Display for MidiFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(why) => write!(f, "cannot read the file: {why}"),
            Self::NotMidi(why) => write!(f, "not a Standard MIDI File ({why})"),
            Self::Corrupt(why) => write!(f, "corrupt MIDI file ({why})"),
            Self::Timecode => write!(f, "the file is timed in SMPTE frames, not in beats"),
            Self::TrackOutOfRange {
                requested,
                available,
            } => write!(
                f,
                "track {requested} does not exist (the file has {available})"
            ),
            Self::NoNotes => write!(f, "the file has no melodic notes (empty or drums only)"),
        }
    }
}

impl std::error::Error for MidiFileError {}

/// A melody read from a file, with the file's tempo and meter.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedMidi {
    /// Top voice, tick 0 at the start of the file (assumed to be a bar line).
    pub melody: Melody,
    /// Every note outside the drum channel, chords and inner voices included, at the file's own
    /// resolution, in beats from its start, sorted by onset: what was played, for writing the
    /// prompt back out as it was played.
    pub performance: Vec<TimedNote>,
    /// The first tempo in the file (120 BPM when it has none).
    pub tempo: f64,
    /// Every time signature with the tick where it starts (on the 12-per-beat grid), in order.
    pub meters: Vec<(u32, TimeSignature)>,
    /// Every tempo (BPM) with the tick where it starts, in order.
    pub tempos: Vec<(u32, f64)>,
    /// Number of tracks in the file.
    pub tracks: usize,
}

impl ImportedMidi {
    /// The meter the file ends in and the tick where it starts (0 and the first meter, or 4/4,
    /// when it never changes).
    pub fn final_meter(&self) -> (u32, TimeSignature) {
        self.meters
            .last()
            .copied()
            .unwrap_or((0, self.melody.time_signature))
    }

    /// The tempo the file ends in (BPM).
    pub fn final_tempo(&self) -> f64 {
        self.tempos.last().map_or(self.tempo, |&(_, bpm)| bpm)
    }

    /// Number of bars the melody spans (a started bar counts).
    pub fn bars(&self) -> u32 {
        let end = self.melody.notes.iter().map(|n| n.end()).max().unwrap_or(0);
        end.div_ceil(self.melody.time_signature.bar_ticks())
    }
}

/// Reads a .mid file from disk; see [`read_bytes`].
pub fn read_file(path: &Path, track: Option<usize>) -> Result<ImportedMidi, MidiFileError> {
    let bytes = std::fs::read(path).map_err(|e| MidiFileError::Io(e.to_string()))?;
    read_bytes(&bytes, track)
}

/// Parses a file. `track` selects one track (0-based); otherwise all tracks are merged.
pub fn read_bytes(bytes: &[u8], track: Option<usize>) -> Result<ImportedMidi, MidiFileError> {
    let smf = Smf::parse(bytes).map_err(|e| {
        // A file that starts with the MIDI header is a MIDI file that is damaged.
        if bytes.starts_with(b"MThd") {
            MidiFileError::Corrupt(e.to_string())
        } else {
            MidiFileError::NotMidi(e.to_string())
        }
    })?;
    let ppq = match smf.header.timing {
        Timing::Metrical(ppq) if ppq.as_int() > 0 => ppq.as_int() as u64,
        Timing::Metrical(_) => return Err(MidiFileError::Corrupt("zero ticks per beat".into())),
        Timing::Timecode(..) => return Err(MidiFileError::Timecode),
    };
    if let Some(requested) = track {
        if requested >= smf.tracks.len() {
            return Err(MidiFileError::TrackOutOfRange {
                requested,
                available: smf.tracks.len(),
            });
        }
    }
    let to_grid = |pulses: u64| -> u32 {
        ((pulses * TICKS_PER_BEAT as u64 + ppq / 2) / ppq).min(u32::MAX as u64) as u32
    };

    let mut tempo: Option<f64> = None;
    let mut time_signature: Option<TimeSignature> = None;
    let mut meters: Vec<(u32, TimeSignature)> = Vec::new();
    let mut tempos: Vec<(u32, f64)> = Vec::new();
    let mut notes: Vec<Note> = Vec::new();
    let mut performance: Vec<TimedNote> = Vec::new();
    // A note from `onset` to `end` (pulses): on the grid for the melody, and as played.
    let mut end_note = |onset: u64, end: u64, key: u8, velocity: u8| {
        if end > onset {
            performance.push(TimedNote {
                beat: onset as f64 / ppq as f64,
                length: (end - onset) as f64 / ppq as f64,
                pitch: key,
                velocity: velocity.max(1),
            });
        }
        let start = to_grid(onset);
        notes.push(Note {
            start,
            duration: to_grid(end).saturating_sub(start).max(1),
            pitch: key,
            velocity: velocity.max(1),
        });
    };
    for (index, events) in smf.tracks.iter().enumerate() {
        let selected = track.is_none_or(|t| t == index);
        let mut now: u64 = 0;
        // Sounding notes of this track: (channel, key) → (onset in pulses, velocity).
        let mut open: Vec<(u8, u8, u64, u8)> = Vec::new();
        for event in events {
            now += event.delta.as_int() as u64;
            match event.kind {
                TrackEventKind::Meta(MetaMessage::Tempo(micros)) => {
                    let bpm = 60_000_000.0 / micros.as_int().max(1) as f64;
                    tempo.get_or_insert(bpm);
                    tempos.push((to_grid(now), bpm));
                }
                TrackEventKind::Meta(MetaMessage::TimeSignature(num, den_pow, _, _)) => {
                    let denominator = 1i32.checked_shl(den_pow as u32).unwrap_or(0);
                    let meter = TimeSignature::sanitized(num as i32, denominator);
                    time_signature.get_or_insert(meter);
                    meters.push((to_grid(now), meter));
                }
                TrackEventKind::Midi { channel, message } if selected => {
                    let channel = channel.as_int();
                    if channel == DRUM_CHANNEL {
                        continue;
                    }
                    let (key, velocity) = match message {
                        MidiMessage::NoteOn { key, vel } => (key.as_int(), vel.as_int()),
                        MidiMessage::NoteOff { key, .. } => (key.as_int(), 0),
                        _ => continue,
                    };
                    if let Some(i) = open.iter().position(|o| o.0 == channel && o.1 == key) {
                        let (_, _, onset, vel) = open.swap_remove(i);
                        end_note(onset, now, key, vel);
                    }
                    if velocity > 0 {
                        open.push((channel, key, now, velocity));
                    }
                }
                _ => {}
            }
        }
        // Notes never released end with their track.
        for (_, key, onset, vel) in open {
            end_note(onset, now, key, vel);
        }
    }
    let melody_notes = melody_line(&notes);
    if melody_notes.is_empty() {
        return Err(MidiFileError::NoNotes);
    }
    performance.sort_by(|a, b| a.beat.total_cmp(&b.beat).then(b.pitch.cmp(&a.pitch)));
    Ok(ImportedMidi {
        melody: Melody {
            notes: melody_notes,
            time_signature: time_signature.unwrap_or_default(),
        },
        performance,
        tempo: tempo.filter(|t| t.is_finite() && *t > 0.0).unwrap_or(120.0),
        meters: {
            meters.sort_by_key(|&(tick, _)| tick);
            meters
        },
        tempos: {
            tempos.retain(|(_, bpm)| bpm.is_finite() && *bpm > 0.0);
            tempos.sort_by_key(|&(tick, _)| tick);
            tempos
        },
        tracks: smf.tracks.len(),
    })
}

pub use crate::phrase::TimedNote;

/// A track's notes: on Continuo's grid, or as played.
#[derive(Debug, Clone, Copy)]
pub enum TrackNotes<'a> {
    /// Notes on the 12-per-beat grid (what Continuo writes).
    Grid(&'a [Note]),
    /// Notes at their own resolution (what a player played).
    Played(&'a [TimedNote]),
}

/// One named track of notes to write.
pub struct TrackOut<'a> {
    /// The track's name, shown by DAWs.
    pub name: &'a str,
    /// The notes.
    pub notes: TrackNotes<'a>,
    /// Added to every note's start (ticks of the 12-per-beat grid).
    pub offset_ticks: u32,
    /// MIDI channel 0–15.
    pub channel: u8,
}

/// Encodes a format-1 file with a conductor track and `tracks`.
pub fn encode(tracks: &[TrackOut], tempo: f64, time_signature: TimeSignature) -> Vec<u8> {
    let pulses_per_tick = (WRITE_PPQ as u32) / TICKS_PER_BEAT;
    let micros = (60_000_000.0 / tempo.clamp(1.0, 2000.0)).round() as u32;
    let den_pow = time_signature.denominator.trailing_zeros() as u8;
    let mut conductor = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros.min(0xFF_FFFF)))),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TimeSignature(
                time_signature.numerator,
                den_pow,
                24,
                8,
            )),
        },
    ];
    conductor.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(WRITE_PPQ)),
    ));
    smf.tracks.push(conductor);
    for track in tracks {
        // (time in pulses, is note-on, key, velocity); offs sort before ons at equal times.
        let mut events: Vec<(u32, bool, u8, u8)> = Vec::new();
        let offset = track.offset_ticks.saturating_mul(pulses_per_tick);
        // (start, end) in pulses, key and velocity of every note.
        let spans: Vec<(u32, u32, u8, u8)> = match track.notes {
            TrackNotes::Grid(notes) => notes
                .iter()
                .map(|n| {
                    let start = offset.saturating_add(n.start.saturating_mul(pulses_per_tick));
                    let length = n.duration.saturating_mul(pulses_per_tick);
                    (start, start.saturating_add(length), n.pitch, n.velocity)
                })
                .collect(),
            TrackNotes::Played(notes) => notes
                .iter()
                .map(|n| {
                    let pulses = |beats: f64| (beats.max(0.0) * WRITE_PPQ as f64).round() as u32;
                    let start = offset.saturating_add(pulses(n.beat));
                    let end = offset
                        .saturating_add(pulses(n.beat + n.length))
                        .max(start.saturating_add(1));
                    (start, end, n.pitch, n.velocity)
                })
                .collect(),
        };
        for (start, end, pitch, velocity) in spans {
            events.push((start, true, pitch.min(127), velocity.clamp(1, 127)));
            events.push((end, false, pitch.min(127), 0));
        }
        events.sort_by_key(|&(time, on, ..)| (time, on));
        let mut out = vec![TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(track.name.as_bytes())),
        }];
        let mut now = 0;
        let channel = u4::new(track.channel & 15);
        for (time, on, key, velocity) in events {
            let message = if on {
                MidiMessage::NoteOn {
                    key: u7::new(key),
                    vel: u7::new(velocity),
                }
            } else {
                MidiMessage::NoteOff {
                    key: u7::new(key),
                    vel: u7::new(64),
                }
            };
            out.push(TrackEvent {
                delta: u28::new(time - now),
                kind: TrackEventKind::Midi { channel, message },
            });
            now = time;
        }
        out.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        smf.tracks.push(out);
    }
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: u32, duration: u32, pitch: u8) -> Note {
        Note::new(start, duration, pitch, 80)
    }

    #[test]
    fn round_trips_through_a_file() {
        let melody = [
            note(0, 12, 60),
            note(12, 4, 62),
            note(16, 4, 64),
            note(20, 28, 65),
        ];
        let continuation = [note(0, 6, 67), note(6, 42, 72)];
        let ts = TimeSignature::sanitized(6, 8);
        let bytes = encode(
            &[
                TrackOut {
                    name: "Prompt",
                    notes: TrackNotes::Grid(&melody),
                    offset_ticks: 0,
                    channel: 0,
                },
                TrackOut {
                    name: "Continuo",
                    notes: TrackNotes::Grid(&continuation),
                    offset_ticks: 72,
                    channel: 1,
                },
            ],
            96.0,
            ts,
        );
        let whole = read_bytes(&bytes, None).unwrap();
        assert_eq!(whole.tracks, 3);
        assert!((whole.tempo - 96.0).abs() < 0.01);
        assert_eq!(whole.melody.time_signature, ts);
        let mut expected = melody.to_vec();
        expected.extend(continuation.iter().map(|n| Note {
            start: n.start + 72,
            ..*n
        }));
        assert_eq!(whole.melody.notes, expected);
        // One track alone.
        let second = read_bytes(&bytes, Some(2)).unwrap();
        assert_eq!(second.melody.notes.len(), 2);
        assert_eq!(second.melody.notes[0].start, 72);
    }

    #[test]
    fn a_performance_is_written_and_read_at_its_own_resolution() {
        // Played a few milliseconds off the grid, with a chord: nothing is rounded to the grid.
        let played = [
            TimedNote {
                beat: 0.013,
                length: 0.41,
                pitch: 60,
                velocity: 97,
            },
            TimedNote {
                beat: 0.5,
                length: 0.2,
                pitch: 67,
                velocity: 61,
            },
            TimedNote {
                beat: 0.502,
                length: 0.3,
                pitch: 64,
                velocity: 58,
            },
            TimedNote {
                beat: 1.971,
                length: 1.0,
                pitch: 72,
                velocity: 112,
            },
        ];
        let bytes = encode(
            &[TrackOut {
                name: "Prompt",
                notes: TrackNotes::Played(&played),
                offset_ticks: 12,
                channel: 0,
            }],
            120.0,
            TimeSignature::default(),
        );
        let read = read_bytes(&bytes, None).unwrap();
        assert_eq!(read.performance.len(), 4);
        let mut expected = played.to_vec();
        expected.sort_by(|a, b| a.beat.total_cmp(&b.beat));
        for (got, want) in read.performance.iter().zip(&expected) {
            // One beat of offset; within half a pulse of 480 per beat.
            assert!(
                (got.beat - (want.beat + 1.0)).abs() <= 0.5 / 480.0,
                "{got:?} {want:?}"
            );
            assert!(
                (got.length - want.length).abs() <= 1.0 / 480.0,
                "{got:?} {want:?}"
            );
            assert_eq!((got.pitch, got.velocity), (want.pitch, want.velocity));
        }
    }

    #[test]
    fn bad_files_give_clear_errors() {
        assert!(matches!(
            read_bytes(b"not a midi file", None),
            Err(MidiFileError::NotMidi(_))
        ));
        assert!(matches!(
            read_bytes(&[], None),
            Err(MidiFileError::NotMidi(_))
        ));
        // A MIDI header cut short is a corrupt MIDI file, not "not MIDI".
        let cut = read_bytes(b"MThd\x00\x00\x00\x06\x00\x01", None);
        assert!(matches!(cut, Err(MidiFileError::Corrupt(_))), "{cut:?}");
        assert!(cut
            .unwrap_err()
            .to_string()
            .starts_with("corrupt MIDI file"));
        let empty = encode(&[], 120.0, TimeSignature::default());
        assert_eq!(read_bytes(&empty, None), Err(MidiFileError::NoNotes));
        assert_eq!(
            read_bytes(&empty, Some(5)),
            Err(MidiFileError::TrackOutOfRange {
                requested: 5,
                available: 1
            })
        );
        let drums = encode(
            &[TrackOut {
                name: "Drums",
                notes: TrackNotes::Grid(&[note(0, 12, 36)]),
                offset_ticks: 0,
                channel: DRUM_CHANNEL,
            }],
            120.0,
            TimeSignature::default(),
        );
        assert_eq!(read_bytes(&drums, None), Err(MidiFileError::NoNotes));
        // A truncated file.
        let good = encode(
            &[TrackOut {
                name: "x",
                notes: TrackNotes::Grid(&[note(0, 12, 60)]),
                offset_ticks: 0,
                channel: 0,
            }],
            120.0,
            TimeSignature::default(),
        );
        // Truncated anywhere: an error or what could be recovered, never a panic.
        for cut in 0..good.len() {
            match read_bytes(&good[..cut], None) {
                Ok(imported) => assert!(imported.melody.notes.len() <= 1),
                Err(error) => assert!(!error.to_string().is_empty()),
            }
        }
    }
}
