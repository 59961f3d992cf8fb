//! The plain choices the audio thread acts on. The host-visible parameters in `params.rs` map
//! their enums onto these, so the real-time code depends on no parameter or editor code.

/// What happens to a phrase once it has been generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayMode {
    /// Keep the suggestion (to browse or export) but do not play it.
    Off,
    /// Play it once from its anchor.
    Once,
    /// Repeat it every phrase length.
    Loop,
}

/// Which boundary a new phrase starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// The next bar line.
    NextBar,
    /// The next beat.
    NextBeat,
    /// Right after the last note the player played (on the grid).
    AfterLastNote,
}

/// Whether Continuo waits to be asked or answers by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerMode {
    /// Only Suggest (the button or its automation) asks for a phrase.
    Manual,
    /// When the player has played and then rests for the chosen gap, Continuo answers; a new
    /// call while it answers takes over.
    Answer,
    /// A new phrase every Length bars while time runs, each going on from everything heard,
    /// its own phrases included.
    Continuous,
}
