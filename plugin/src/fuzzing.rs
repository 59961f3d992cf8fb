//! The harness for the plugin's fuzz target in `plugin/fuzz/` (cargo-fuzz, nightly) and for
//! replaying its crash reproducers as a regression test on stable
//! (`plugin/tests/fuzz_regressions.rs`). The engine's untrusted inputs (MIDI files, token ids)
//! have their harnesses in `continuo_engine::fuzzing`.
//!
//! It takes arbitrary bytes, runs them through the path a host's saved state takes, and panics
//! only when an invariant the rest of the plugin relies on is broken. A clean error is a pass.

use continuo_engine::fuzzing::check_melody;
use continuo_engine::phrase::{Phrase, TimeSignature};

use crate::history::History;
use crate::realtime::clock::Timeline;
use crate::realtime::player::PlaybackPhrase;
use crate::session::SavedSession;

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
