//! What the player has played into this instance, assembled on the worker thread from the audio
//! thread's capture events.
//!
//! Notes are kept in beats on the timeline they were played on, grouped in *segments*: a new
//! segment starts at every discontinuity (relocation, transport start or stop), because beat
//! positions on either side of a jump cannot be compared. The history holds the last
//! [`HISTORY_BARS`] bars.

use std::collections::VecDeque;

use crate::realtime::clock::{next_grid_line, Timeline};
use crate::realtime::queues::CaptureEvent;
use continuo_engine::generator::Melody;
use continuo_engine::midi_file::TimedNote;
use continuo_engine::phrase::{Note, Phrase, TimeSignature, TICKS_PER_BEAT};
use continuo_engine::voices::melody_line;

/// How much playing the history keeps.
pub const HISTORY_BARS: f64 = 64.0;
/// A hard cap on notes, whatever the bars hold (a trill at 300 BPM for 64 bars).
pub const MAX_NOTES: usize = 4096;

/// A played note in beats.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlayedNote {
    pub beat: f64,
    pub length: f64,
    pub key: u8,
    pub velocity: u8,
}

/// A stretch of playing without a jump in time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub id: u32,
    pub timeline: Timeline,
    pub time_signature: TimeSignature,
    /// A beat at which a bar starts on this segment's timeline.
    pub bar_origin: f64,
    /// Sorted by onset.
    pub notes: Vec<PlayedNote>,
}

impl Segment {
    /// The bar line at or before `beat`.
    pub fn bar_line_before(&self, beat: f64) -> f64 {
        let bar = self.time_signature.bar_beats();
        let line = next_grid_line(self.bar_origin, bar, beat);
        if line > beat + 1e-9 {
            line - bar
        } else {
            line
        }
    }

    /// How many of the notes from `origin` on lie outside the melody line the model hears (chords,
    /// inner voices, a note held under a higher one): left out of the prompt, so the editor says so.
    pub fn notes_under_melody(&self, origin: f64) -> usize {
        let played = self
            .notes
            .iter()
            .filter(|n| n.beat >= origin - 1e-9)
            .count();
        played.saturating_sub(self.to_melody(origin).notes.len())
    }

    /// The segment as a melody on the grid, with tick 0 at `origin` (a bar line).
    pub fn to_melody(&self, origin: f64) -> Melody {
        let ticks = TICKS_PER_BEAT as f64;
        let notes: Vec<Note> = self
            .notes
            .iter()
            .filter(|n| n.beat >= origin - 1e-9)
            .map(|n| {
                let start = ((n.beat - origin) * ticks).round().max(0.0) as u32;
                let end = ((n.beat + n.length - origin) * ticks).round().max(0.0) as u32;
                Note {
                    start,
                    duration: end.saturating_sub(start).max(1),
                    pitch: n.key,
                    velocity: n.velocity.max(1),
                }
            })
            .collect();
        Melody {
            notes: melody_line(&notes),
            time_signature: self.time_signature,
        }
    }

    /// Every note from `origin` on (chords and inner voices too) as it was played, in beats
    /// from `origin`: what Export writes as the prompt.
    pub fn performance(&self, origin: f64) -> Vec<TimedNote> {
        self.notes
            .iter()
            .filter(|n| n.beat >= origin - 1e-9)
            .map(|n| TimedNote {
                beat: n.beat - origin,
                length: n.length,
                pitch: n.key,
                velocity: n.velocity.max(1),
            })
            .collect()
    }

    /// The segment's timeline and meter with no notes (for copies of a part of it).
    pub fn clone_without_notes(&self) -> Segment {
        Segment {
            id: self.id,
            timeline: self.timeline,
            time_signature: self.time_signature,
            bar_origin: self.bar_origin,
            notes: Vec::new(),
        }
    }

    /// Where the last note ends, if any.
    pub fn last_note_end(&self) -> Option<f64> {
        self.notes
            .iter()
            .map(|n| n.beat + n.length)
            .fold(None, |acc: Option<f64>, end| {
                Some(acc.map_or(end, |a| a.max(end)))
            })
    }
}

/// The player's notes, rebuilt from capture events.
#[derive(Debug, Default)]
pub struct History {
    segments: VecDeque<Segment>,
    /// Notes whose note-on has arrived but not their note-off: (segment, channel, key, beat,
    /// velocity).
    open: Vec<(u32, u8, u8, f64, u8)>,
}

impl History {
    pub fn clear(&mut self) {
        self.segments.clear();
        self.open.clear();
    }

    /// Replaces the history with saved segments. Their ids are moved to the top of the id range,
    /// so that segments the audio thread numbers from now on never merge into them.
    pub fn restore(&mut self, segments: Vec<Segment>) {
        self.clear();
        let count = segments.len().min(u16::MAX as usize) as u32;
        for (i, mut segment) in segments.into_iter().take(count as usize).enumerate() {
            segment.id = u32::MAX - count + i as u32;
            self.segments.push_back(segment);
        }
    }

    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    pub fn note_count(&self) -> usize {
        self.segments.iter().map(|s| s.notes.len()).sum()
    }

    pub fn last_segment(&self) -> Option<&Segment> {
        self.segments.back()
    }

    /// Adds Continuo's own phrase, as it plays from `anchor`, to segment `segment_id` (Continuous
    /// mode: each phrase goes on from everything heard, its own phrases included). `like` gives
    /// the segment's timeline, meter and bar origin should it not exist yet.
    pub fn add_own(&mut self, like: &CaptureEvent, anchor: f64, phrase: &Phrase) {
        for note in phrase.performance() {
            self.push(
                like.segment,
                like,
                PlayedNote {
                    beat: anchor + note.beat,
                    length: note.length,
                    key: note.pitch,
                    velocity: note.velocity,
                },
            );
        }
    }

    /// Applies one capture event from the audio thread.
    pub fn apply(&mut self, event: &CaptureEvent) {
        if event.velocity > 0 {
            // A retriggered key without a note-off in between ends the previous note.
            self.close(event);
            self.open.push((
                event.segment,
                event.channel,
                event.key,
                event.beat,
                event.velocity,
            ));
        } else {
            self.close(event);
        }
    }

    /// Ends the open note on the event's channel and key at the event's beat.
    fn close(&mut self, event: &CaptureEvent) {
        let Some(index) = self
            .open
            .iter()
            .position(|&(_, channel, key, _, _)| channel == event.channel && key == event.key)
        else {
            return;
        };
        let (segment, _, key, beat, velocity) = self.open.swap_remove(index);
        if segment != event.segment {
            // The note was held across a jump: its length is unknowable; keep it as a short note
            // in its own segment (a held note still belongs to the melody).
            self.push(
                segment,
                event,
                PlayedNote {
                    beat,
                    length: 0.25,
                    key,
                    velocity,
                },
            );
            return;
        }
        let length = (event.beat - beat).max(1.0 / TICKS_PER_BEAT as f64);
        self.push(
            segment,
            event,
            PlayedNote {
                beat,
                length,
                key,
                velocity,
            },
        );
    }

    fn push(&mut self, segment_id: u32, event: &CaptureEvent, note: PlayedNote) {
        let needs_new = self.segments.back().is_none_or(|s| s.id != segment_id);
        if needs_new {
            // A note from an older segment arriving late goes to that segment if still present.
            if let Some(existing) = self.segments.iter_mut().find(|s| s.id == segment_id) {
                insert_sorted(&mut existing.notes, note);
                return;
            }
            self.segments.push_back(Segment {
                id: segment_id,
                timeline: event.timeline,
                time_signature: event.time_signature,
                bar_origin: event.bar_origin,
                notes: Vec::new(),
            });
        }
        let segment = self.segments.back_mut().expect("just ensured");
        segment.time_signature = event.time_signature;
        segment.bar_origin = event.bar_origin;
        insert_sorted(&mut segment.notes, note);
        self.trim();
    }

    /// Drops what is older than [`HISTORY_BARS`] bars before the newest note, and beyond
    /// [`MAX_NOTES`].
    fn trim(&mut self) {
        let Some(newest) = self.segments.back() else {
            return;
        };
        let horizon = HISTORY_BARS * newest.time_signature.bar_beats();
        let latest = newest.notes.last().map_or(0.0, |n| n.beat);
        // Bars covered so far, walking back from the newest segment.
        let mut budget = horizon;
        let mut keep_segments = 0;
        for segment in self.segments.iter().rev() {
            if budget <= 0.0 {
                break;
            }
            keep_segments += 1;
            let span = match (segment.notes.first(), segment.notes.last()) {
                (Some(first), Some(last)) => last.beat - first.beat,
                _ => 0.0,
            };
            budget -= span;
        }
        while self.segments.len() > keep_segments {
            self.segments.pop_front();
        }
        if let Some(newest) = self.segments.back_mut() {
            newest
                .notes
                .retain(|n| n.beat + n.length >= latest - horizon);
        }
        while self.note_count() > MAX_NOTES {
            let Some(oldest) = self.segments.front_mut() else {
                break;
            };
            oldest.notes.remove(0);
            if oldest.notes.is_empty() {
                self.segments.pop_front();
            }
        }
    }
}

fn insert_sorted(notes: &mut Vec<PlayedNote>, note: PlayedNote) {
    let at = notes.partition_point(|n| n.beat <= note.beat);
    notes.insert(at, note);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(segment: u32, beat: f64, key: u8, velocity: u8) -> CaptureEvent {
        CaptureEvent {
            timeline: Timeline::Host,
            segment,
            beat,
            channel: 0,
            key,
            velocity,
            time_signature: TimeSignature::default(),
            bar_origin: 0.0,
        }
    }

    #[test]
    fn pairs_note_ons_and_offs_in_beats() {
        let mut history = History::default();
        history.apply(&event(0, 4.0, 60, 100));
        history.apply(&event(0, 4.5, 60, 0));
        history.apply(&event(0, 4.5, 62, 90));
        history.apply(&event(0, 5.0 + 1.0 / 3.0, 62, 0));
        let segment = history.last_segment().unwrap();
        assert_eq!(segment.notes.len(), 2);
        assert_eq!(segment.notes[1].beat, 4.5);
        assert_eq!(segment.last_note_end(), Some(5.0 + 1.0 / 3.0));
        let melody = segment.to_melody(segment.bar_line_before(4.2));
        assert_eq!(
            melody.notes,
            vec![
                Note {
                    start: 0,
                    duration: 6,
                    pitch: 60,
                    velocity: 100
                },
                Note {
                    start: 6,
                    duration: 10,
                    pitch: 62,
                    velocity: 90
                },
            ]
        );
    }

    #[test]
    fn chords_under_the_top_line_are_counted() {
        let mut history = History::default();
        // A C major triad with a melody note on top, then a single note.
        for key in [48, 52, 55, 72] {
            history.apply(&event(0, 0.0, key, 90));
        }
        for key in [48, 52, 55, 72] {
            history.apply(&event(0, 1.0, key, 0));
        }
        history.apply(&event(0, 1.0, 74, 90));
        history.apply(&event(0, 2.0, 74, 0));
        let segment = history.last_segment().unwrap();
        assert_eq!(segment.notes_under_melody(0.0), 3);
        assert_eq!(segment.to_melody(0.0).notes.len(), 2);
    }

    #[test]
    fn a_jump_starts_a_new_segment() {
        let mut history = History::default();
        history.apply(&event(0, 0.0, 60, 100));
        history.apply(&event(0, 1.0, 60, 0));
        history.apply(&event(1, 100.0, 62, 100));
        history.apply(&event(1, 101.0, 62, 0));
        assert_eq!(history.segments().count(), 2);
        assert_eq!(history.note_count(), 2);
        history.clear();
        assert_eq!(history.note_count(), 0);
    }

    #[test]
    fn keeps_only_the_last_64_bars() {
        let mut history = History::default();
        for bar in 0..100 {
            let beat = bar as f64 * 4.0;
            history.apply(&event(0, beat, 60, 100));
            history.apply(&event(0, beat + 1.0, 60, 0));
        }
        let segment = history.last_segment().unwrap();
        assert!(segment.notes.len() <= 65 && segment.notes.len() >= 64);
        assert_eq!(segment.notes.last().unwrap().beat, 396.0);
    }

    #[test]
    fn bar_lines_respect_the_origin() {
        let segment = Segment {
            id: 0,
            timeline: Timeline::Host,
            time_signature: TimeSignature::sanitized(3, 4),
            bar_origin: 1.0,
            notes: vec![],
        };
        assert_eq!(segment.bar_line_before(1.0), 1.0);
        assert_eq!(segment.bar_line_before(3.9), 1.0);
        assert_eq!(segment.bar_line_before(4.0), 4.0);
        assert_eq!(segment.bar_line_before(0.5), -2.0);
    }
}
