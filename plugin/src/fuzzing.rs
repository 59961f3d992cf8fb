//! Harnesses for the fuzz targets in `plugin/fuzz/` (cargo-fuzz, nightly) and for replaying
//! their crash reproducers as regression tests on stable (`plugin/tests/fuzz_regressions.rs`).
//!
//! Each takes arbitrary bytes, runs one untrusted-input path of the plugin and panics only when
//! an invariant the rest of the plugin relies on is broken. A clean error is a pass.

use crate::generator::Melody;
use crate::history::History;
use crate::midi_file;
use crate::phrase::{Phrase, TimeSignature};
use crate::realtime::clock::Timeline;
use crate::realtime::player::PlaybackPhrase;
use crate::session::SavedSession;
use crate::tokens;

fn check_melody(melody: &Melody) {
    for pair in melody.notes.windows(2) {
        assert!(pair[0].start <= pair[1].start, "notes out of order");
    }
    for note in &melody.notes {
        assert!(note.pitch <= 127 && note.duration >= 1, "bad note {note:?}");
    }
    assert!(melody.time_signature.bar_ticks() >= 1);
}

/// MIDI file import, and writing what was imported back out.
pub fn midi_import(data: &[u8]) {
    for track in [None, Some(0), Some(1)] {
        let Ok(imported) = midi_file::read_bytes(data, track) else {
            continue;
        };
        check_melody(&imported.melody);
        assert!(imported.tempo.is_finite() && imported.tempo > 0.0);
        let _ = imported.bars();
        let bytes = midi_file::encode(
            &[midi_file::TrackOut {
                name: "again",
                notes: &imported.melody.notes,
                offset_ticks: 0,
                channel: 0,
            }],
            imported.tempo,
            imported.melody.time_signature,
        );
        midi_file::read_bytes(&bytes, None).expect("what Continuo writes, it reads");
    }
}

/// Token decoding of arbitrary ids (pairs of bytes, little-endian); a decoded melody encodes.
pub fn token_decode(data: &[u8]) {
    let ids: Vec<u32> = data
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]) as u32)
        .collect();
    if let Ok(melody) = tokens::decode(&ids) {
        for pair in melody.notes.windows(2) {
            assert!(
                pair[0].start < pair[1].start,
                "one note per onset, in order"
            );
        }
        let encoded = tokens::encode(&melody, true, true).expect("a decoded melody encodes");
        let again = tokens::decode(&encoded).expect("and decodes again");
        assert_eq!(again.notes, melody.notes);
    }
}

/// A saved session (and editor settings) as a host hands it back on load: whatever parses is
/// restored the way the worker restores it, and must then be playable.
pub fn session_state(data: &[u8]) {
    if let Ok(prefs) = serde_json::from_slice::<crate::editor::EditorPrefs>(data) {
        let settings = std::sync::Arc::new(crate::editor::EditorSettings::default());
        nice_plug::params::persist::PersistentField::set(&settings, prefs);
        let restored = settings.get();
        assert!((restored.width, restored.height) >= crate::editor::MIN_SIZE);
    }
    let Ok(saved) = serde_json::from_slice::<SavedSession>(data) else {
        return;
    };
    let mut history = History::default();
    history.restore(saved.segments);
    for segment in history.segments() {
        if let Some(first) = segment.notes.first() {
            let origin = segment.bar_line_before(first.beat);
            if origin.is_finite() {
                check_melody(&segment.to_melody(origin));
            }
        }
        let _ = segment.last_note_end();
    }
    let _ = history.note_count();
    for phrase in &saved.variations {
        if phrase.validate().is_ok() {
            playable(phrase);
        }
    }
}

fn playable(phrase: &Phrase) {
    let playback = PlaybackPhrase::new(phrase, 0.0, Timeline::Host, 1.0, 0);
    assert_eq!(playback.events.len(), phrase.notes.len() * 2);
    assert!(playback.length_beats >= 0.0);
    let _ = TimeSignature::sanitized(
        phrase.time_signature.numerator as i32,
        phrase.time_signature.denominator as i32,
    );
}
