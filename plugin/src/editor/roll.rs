//! The piano roll: what was played, the suggestion after it, the other variations as ghosts, bar
//! lines and beat grid in the host's meter, and a playhead while the suggestion plays.

use egui::{pos2, Color32, Rect, Response, Sense, Stroke, Ui, Vec2};

use crate::history::Segment;
use crate::realtime::clock::{next_grid_line, Timeline};
use continuo_engine::phrase::{Phrase, TimeSignature, TICKS_PER_BEAT};

/// At most this many bars of playing are shown before the suggestion.
pub const HISTORY_BARS_SHOWN: f64 = 8.0;

const BACKGROUND: Color32 = Color32::from_rgb(24, 26, 31);
const BLACK_KEY_ROW: Color32 = Color32::from_rgb(30, 33, 39);
const BAR_LINE: Color32 = Color32::from_rgb(92, 98, 110);
const BEAT_LINE: Color32 = Color32::from_rgb(46, 50, 58);
const PLAYED: Color32 = Color32::from_rgb(110, 160, 220);
const SUGGESTED: Color32 = Color32::from_rgb(245, 166, 60);
/// Other variations: outlines only, so the chosen one stands out.
const GHOST: Color32 = Color32::from_rgba_premultiplied(110, 100, 90, 110);
const PLAYHEAD: Color32 = Color32::from_rgb(240, 240, 240);

/// Everything the roll draws, in beats on one timeline.
#[derive(Debug, Clone, Default)]
pub struct RollView<'a> {
    /// The latest stretch of playing (drawn only if it is on the suggestion's timeline).
    pub history: Option<&'a Segment>,
    /// Every variation of the suggestion; `chosen` is drawn solid, the others as outlines.
    pub variations: &'a [Phrase],
    pub chosen: usize,
    /// Where the suggestion starts; `None` places it at the bar after the playing.
    pub anchor: Option<(f64, Timeline)>,
    /// Beats into the suggestion where the audio thread is, if it plays.
    pub phrase_position: Option<f64>,
}

/// The window of beats and pitches the roll shows, and where the suggestion sits in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollWindow {
    pub start_beat: f64,
    pub end_beat: f64,
    pub low_pitch: u8,
    pub high_pitch: u8,
    /// Where the suggestion starts in the window.
    pub phrase_beat: f64,
    /// Meter and a bar line, for the grid.
    pub time_signature: TimeSignature,
    pub bar_origin: f64,
}

impl RollWindow {
    pub fn of(view: &RollView) -> RollWindow {
        let phrase = view.variations.get(view.chosen);
        let time_signature = phrase
            .map(|p| p.time_signature)
            .or(view.history.map(|h| h.time_signature))
            .unwrap_or_default();
        let bar = time_signature.bar_beats();
        // Only playing on the suggestion's timeline can be shown next to it.
        let history = view.history.filter(|h| match view.anchor {
            Some((_, timeline)) => h.timeline == timeline,
            None => true,
        });
        let bar_origin = history.map_or(0.0, |h| h.bar_origin);
        let history_end = history.and_then(|h| h.last_note_end());
        let phrase_beat = match (view.anchor, history_end) {
            (Some((anchor, _)), _) => anchor,
            (None, Some(end)) => next_grid_line(bar_origin, bar, end),
            (None, None) => 0.0,
        };
        let phrase_len = phrase.map_or(4.0 * bar, |p| p.length_beats());
        let end_beat = phrase_beat + phrase_len;
        let first_note = history
            .and_then(|h| h.notes.first())
            .map(|n| n.beat)
            .unwrap_or(phrase_beat);
        let earliest = phrase_beat - HISTORY_BARS_SHOWN * bar;
        let start = first_note.max(earliest).min(phrase_beat);
        // Start on the bar line at or before the first note shown.
        let line = next_grid_line(bar_origin, bar, start);
        let start_beat = if line > start + 1e-9 {
            line - bar
        } else {
            line
        };
        let mut low = 127u8;
        let mut high = 0u8;
        for pitch in history
            .into_iter()
            .flat_map(|h| h.notes.iter())
            .filter(|n| n.beat + n.length >= start_beat)
            .map(|n| n.key)
            .chain(
                view.variations
                    .iter()
                    .flat_map(|p| p.notes.iter().map(|n| n.pitch)),
            )
        {
            low = low.min(pitch);
            high = high.max(pitch);
        }
        if low > high {
            (low, high) = (60, 72);
        }
        // At least two octaves, centred on what is there, with a little room.
        let span = (high - low) as i32 + 4;
        let pad = ((24 - span).max(0) / 2) as u8 + 2;
        let low_pitch = low.saturating_sub(pad);
        let high_pitch = high.saturating_add(pad).min(127).max(low_pitch + 24);
        RollWindow {
            start_beat,
            end_beat: end_beat.max(start_beat + bar),
            low_pitch,
            high_pitch: high_pitch.min(127),
            phrase_beat,
            time_signature,
            bar_origin,
        }
    }
}

/// Draws the roll into a rectangle of `size`.
pub fn show(ui: &mut Ui, view: &RollView, size: Vec2) -> Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let window = RollWindow::of(view);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, BACKGROUND);
    let keys = (window.high_pitch - window.low_pitch) as f32 + 1.0;
    let row = rect.height() / keys;
    let beats = (window.end_beat - window.start_beat) as f32;
    let x_of = |beat: f64| rect.left() + ((beat - window.start_beat) as f32 / beats) * rect.width();
    let y_of = |pitch: u8| rect.bottom() - (pitch - window.low_pitch + 1) as f32 * row;

    for pitch in window.low_pitch..=window.high_pitch {
        if matches!(pitch % 12, 1 | 3 | 6 | 8 | 10) {
            let y = y_of(pitch);
            painter.rect_filled(
                Rect::from_min_max(pos2(rect.left(), y), pos2(rect.right(), y + row)),
                0.0,
                BLACK_KEY_ROW,
            );
        }
    }
    // Beat grid in the meter's beat unit, bar lines stronger.
    let bar = window.time_signature.bar_beats();
    let unit = 4.0 / window.time_signature.denominator as f64;
    let mut beat = next_grid_line(window.bar_origin, unit, window.start_beat);
    while beat <= window.end_beat + 1e-9 {
        let on_bar = ((beat - window.bar_origin) / bar).fract().abs() < 1e-6
            || ((beat - window.bar_origin) / bar).fract().abs() > 1.0 - 1e-6;
        let color = if on_bar { BAR_LINE } else { BEAT_LINE };
        painter.vline(x_of(beat), rect.y_range(), Stroke::new(1.0, color));
        beat += unit;
    }
    // C labels, so the octave is readable.
    for pitch in window.low_pitch..=window.high_pitch {
        if pitch % 12 == 0 && row >= 6.0 {
            painter.text(
                pos2(rect.left() + 3.0, y_of(pitch) + row / 2.0),
                egui::Align2::LEFT_CENTER,
                continuo_engine::pianoroll::key_name(pitch),
                egui::FontId::proportional(row.clamp(8.0, 11.0)),
                Color32::from_gray(150),
            );
        }
    }

    let note_rect = |start: f64, end: f64, pitch: u8| {
        let y = y_of(pitch);
        Rect::from_min_max(
            pos2(x_of(start), y + 0.5),
            pos2(x_of(end).max(x_of(start) + 2.0), y + row - 0.5),
        )
        .intersect(rect)
    };
    if let Some(history) = view.history {
        let same_timeline = view
            .anchor
            .is_none_or(|(_, timeline)| timeline == history.timeline);
        if same_timeline {
            for note in &history.notes {
                if note.beat + note.length < window.start_beat {
                    continue;
                }
                let alpha = (note.velocity as f32 / 127.0 * 0.6 + 0.4).min(1.0);
                painter.rect_filled(
                    note_rect(note.beat, note.beat + note.length, note.key),
                    2.0,
                    PLAYED.gamma_multiply(alpha),
                );
            }
        }
    }
    let tick = 1.0 / TICKS_PER_BEAT as f64;
    for (i, phrase) in view.variations.iter().enumerate() {
        if i == view.chosen {
            continue;
        }
        for note in &phrase.notes {
            let start = window.phrase_beat + note.start as f64 * tick;
            painter.rect_stroke(
                note_rect(start, start + note.duration as f64 * tick, note.pitch),
                2.0,
                Stroke::new(1.0, GHOST),
                egui::StrokeKind::Inside,
            );
        }
    }
    if let Some(phrase) = view.variations.get(view.chosen) {
        let region = Rect::from_min_max(
            pos2(x_of(window.phrase_beat), rect.top()),
            pos2(
                x_of(window.phrase_beat + phrase.length_beats()),
                rect.bottom(),
            ),
        );
        painter.rect_filled(region, 0.0, SUGGESTED.gamma_multiply(0.06));
        for note in &phrase.notes {
            let start = window.phrase_beat + note.start as f64 * tick;
            painter.rect_filled(
                note_rect(start, start + note.duration as f64 * tick, note.pitch),
                2.0,
                SUGGESTED,
            );
        }
        if let Some(position) = view.phrase_position {
            let x = x_of(window.phrase_beat + position);
            painter.vline(x, rect.y_range(), Stroke::new(2.0, PLAYHEAD));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::PlayedNote;
    use continuo_engine::phrase::Note;

    #[test]
    fn the_window_shows_recent_bars_then_the_suggestion() {
        let history = Segment {
            id: 0,
            timeline: Timeline::Host,
            time_signature: TimeSignature::default(),
            bar_origin: 0.0,
            notes: (0..80)
                .map(|i| PlayedNote {
                    beat: i as f64 * 0.5,
                    length: 0.5,
                    key: 60 + (i % 5) as u8,
                    velocity: 100,
                })
                .collect(),
        };
        let phrase = Phrase {
            notes: vec![Note {
                start: 0,
                duration: 48,
                pitch: 79,
                velocity: 100,
            }],
            length_ticks: 2 * 48,
            time_signature: TimeSignature::default(),
            timing: Vec::new(),
        };
        let variations = [phrase];
        let view = RollView {
            history: Some(&history),
            variations: &variations,
            chosen: 0,
            anchor: Some((40.0, Timeline::Host)),
            phrase_position: None,
        };
        let window = RollWindow::of(&view);
        // 10 bars were played; the last 8 before the suggestion are shown, then its 2 bars.
        assert_eq!(window.start_beat, 8.0);
        assert_eq!(window.end_beat, 48.0);
        assert_eq!(window.phrase_beat, 40.0);
        assert!(window.low_pitch <= 60 && window.high_pitch >= 79);
        // Restored from a project (no anchor): the suggestion follows the playing at a bar line.
        let restored = RollWindow::of(&RollView {
            anchor: None,
            ..view.clone()
        });
        assert_eq!(restored.phrase_beat, 40.0);
        // Played while stopped, suggested on the host timeline: the playing is not drawn beside it.
        let other = RollWindow::of(&RollView {
            anchor: Some((8.0, Timeline::Free)),
            ..view
        });
        assert_eq!((other.start_beat, other.end_beat), (8.0, 16.0));
    }
}
