//! What Continuo saves with the host project: the history, the last suggestion's variations and
//! which one is chosen, and the tunes learnt with "Learn from folder".
//!
//! The worker keeps [`SessionStore`] up to date; nice-plug serializes it (as JSON) when the host
//! saves and replaces it when the host loads a project or preset. A load bumps a counter that the
//! worker watches, so the worker restores the history and the suggestion whether the host loads
//! state before activating the plugin or while it runs. The audio thread never touches it.
//!
//! A blob from another version, or one that does not parse, is never an error: the plugin starts
//! empty, and the status says why when it can tell.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use crate::history::Segment;
use continuo_engine::learned::Learned;
use continuo_engine::phrase::Phrase;

/// Bumped whenever the saved layout changes incompatibly.
pub const SESSION_VERSION: u32 = 1;

/// The saved part of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub version: u32,
    /// The history, oldest segment first.
    pub segments: Vec<Segment>,
    /// The variations of the last suggestion.
    pub variations: Vec<Phrase>,
    /// Which variation is the current one.
    pub chosen: usize,
    /// The player's own tunes learnt with "Learn from folder" (projects from before it have
    /// none).
    #[serde(default)]
    pub learned: Option<Learned>,
}

impl Default for SavedSession {
    fn default() -> Self {
        Self {
            version: SESSION_VERSION,
            segments: Vec::new(),
            variations: Vec::new(),
            chosen: 0,
            learned: None,
        }
    }
}

/// The persisted field: the session, and a count of loads so the worker notices them.
#[derive(Debug, Default)]
pub struct SessionStore {
    saved: Mutex<SavedSession>,
    /// Incremented by every load from the host.
    loads: AtomicU64,
}

impl SessionStore {
    /// Replaces the saved session (worker thread).
    pub fn update(&self, session: SavedSession) {
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = session;
    }

    /// A copy of the saved session.
    pub fn snapshot(&self) -> SavedSession {
        self.saved.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times the host has loaded a session into this instance.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, SavedSession> for std::sync::Arc<SessionStore> {
    fn set(&self, new_value: SavedSession) {
        self.update(new_value);
        self.loads.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&SavedSession) -> R,
    {
        f(&self.saved.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::PlayedNote;
    use crate::realtime::clock::Timeline;
    use continuo_engine::phrase::{Note, TimeSignature};

    fn session() -> SavedSession {
        SavedSession {
            version: SESSION_VERSION,
            segments: vec![Segment {
                id: 3,
                timeline: Timeline::Host,
                time_signature: TimeSignature::sanitized(6, 8),
                bar_origin: 0.0,
                notes: vec![PlayedNote {
                    beat: 1.5,
                    length: 0.5,
                    key: 67,
                    velocity: 90,
                }],
            }],
            variations: vec![Phrase {
                notes: vec![Note {
                    start: 0,
                    duration: 6,
                    pitch: 69,
                    velocity: 90,
                }],
                length_ticks: 36,
                time_signature: TimeSignature::sanitized(6, 8),
                timing: Vec::new(),
            }],
            chosen: 0,
            learned: Some(continuo_engine::learned::Learned {
                melodies: vec![("reel.mid".into(), vec![62, 64, 66, 67])],
            }),
        }
    }

    #[test]
    fn round_trips_through_json_and_counts_loads() {
        let store = std::sync::Arc::new(SessionStore::default());
        store.update(session());
        assert_eq!(store.loads(), 0, "the worker's own updates are not loads");
        let json = store.map(|s| serde_json::to_string(s).unwrap());
        let other = std::sync::Arc::new(SessionStore::default());
        other.set(serde_json::from_str(&json).unwrap());
        assert_eq!(other.loads(), 1);
        assert_eq!(other.snapshot(), session());
    }

    #[test]
    fn garbage_does_not_parse_into_a_session() {
        for blob in ["", "{", "[]", "{\"version\": \"x\"}", "{\"segments\": 5}"] {
            assert!(
                serde_json::from_str::<SavedSession>(blob).is_err(),
                "{blob}"
            );
        }
    }
}
