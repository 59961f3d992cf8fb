//! The editor's own settings, saved with the host project: window size and export choices.
//!
//! nice-plug-egui's `EguiEditorState` keeps the size only while the plugin lives, so Continuo
//! stores it here (a `#[persist]` field) and builds each window from it.

use std::path::PathBuf;
use std::sync::Mutex;

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// Logical size of a new editor window.
pub const DEFAULT_SIZE: (u32, u32) = (820, 600);
/// The smallest and largest sizes the window may be resized to (also applied to loaded state).
pub const MIN_SIZE: (u32, u32) = (640, 480);
pub const MAX_SIZE: (u32, u32) = (2400, 1600);

/// What is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorPrefs {
    /// Logical window size.
    pub width: u32,
    pub height: u32,
    /// Where Export writes; `None` means [`crate::export::default_folder`].
    pub export_folder: Option<PathBuf>,
    /// Whether Export writes the prompt before the suggestion.
    pub export_with_prompt: bool,
}

impl Default for EditorPrefs {
    fn default() -> Self {
        Self {
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
            export_folder: None,
            export_with_prompt: false,
        }
    }
}

impl EditorPrefs {
    /// The same preferences with a size the window can take (a hand-edited or foreign project
    /// may hold anything).
    fn sanitized(mut self) -> Self {
        self.width = self.width.clamp(MIN_SIZE.0, MAX_SIZE.0);
        self.height = self.height.clamp(MIN_SIZE.1, MAX_SIZE.1);
        self
    }
}

/// The persisted field. Touched by the GUI thread and by the host's state save/load, never by the
/// audio thread.
#[derive(Debug, Default)]
pub struct EditorSettings {
    prefs: Mutex<EditorPrefs>,
}

impl EditorSettings {
    pub fn get(&self) -> EditorPrefs {
        self.prefs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut EditorPrefs)) {
        let mut prefs = self.prefs.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut prefs);
        *prefs = prefs.clone().sanitized();
    }

    /// The window was resized (logical pixels).
    pub fn set_size(&self, width: f64, height: f64) {
        self.update(|p| {
            p.width = width.round().clamp(0.0, u32::MAX as f64) as u32;
            p.height = height.round().clamp(0.0, u32::MAX as f64) as u32;
        });
    }
}

impl<'a> PersistentField<'a, EditorPrefs> for std::sync::Arc<EditorSettings> {
    fn set(&self, new_value: EditorPrefs) {
        *self.prefs.lock().unwrap_or_else(|e| e.into_inner()) = new_value.sanitized();
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorPrefs) -> R,
    {
        f(&self.prefs.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sizes_are_kept_within_bounds_and_old_blobs_fill_in_defaults() {
        let settings = Arc::new(EditorSettings::default());
        settings.set_size(1000.4, 700.6);
        assert_eq!((settings.get().width, settings.get().height), (1000, 701));
        settings.set_size(10.0, 1e12);
        assert_eq!(
            (settings.get().width, settings.get().height),
            (MIN_SIZE.0, MAX_SIZE.1)
        );
        // A blob from before a field existed parses with that field's default.
        let old: EditorPrefs = serde_json::from_str(r#"{"width": 900}"#).unwrap();
        settings.set(old);
        let prefs = settings.get();
        assert_eq!((prefs.width, prefs.height), (900, DEFAULT_SIZE.1));
        assert!(!prefs.export_with_prompt);
    }
}
