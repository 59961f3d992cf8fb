//! Continuo's host-visible parameters.
//!
//! Every `#[id]` here is part of the plugin's public contract: hosts store automation and presets
//! by these strings, so they must never change once released. Enum variants carry explicit
//! `#[id]`s for the same reason, so they can be reordered or renamed in the UI freely.

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use std::sync::Arc;

use crate::generator::Style;

/// When a new phrase starts playing.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    #[id = "next-bar"]
    #[name = "Next bar"]
    NextBar,
    #[id = "next-beat"]
    #[name = "Next beat"]
    NextBeat,
    #[id = "after-last-note"]
    #[name = "After last note"]
    AfterLastNote,
}

/// What happens to a phrase once it has been generated.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayMode {
    /// Keep the suggestion (to browse or export) but do not play it.
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "once"]
    #[name = "Once"]
    Once,
    #[id = "loop"]
    #[name = "Loop"]
    Loop,
}

pub const MIN_LENGTH_BARS: i32 = 1;
pub const MAX_LENGTH_BARS: i32 = 16;
pub const MIN_TEMPERATURE: f32 = 0.1;
pub const MAX_TEMPERATURE: f32 = 2.0;

#[derive(Params)]
pub struct ContinuoParams {
    /// The editor's window size. (Not yet saved with the project: nice-plug-egui's state type
    /// does not implement persistence; the full editor will store its size itself.)
    pub editor_state: Arc<EguiEditorState>,

    /// A trigger: a rising edge (from automation or a controller) asks for a continuation. The
    /// editor's button does not toggle this parameter; it bumps a counter the audio thread watches,
    /// so that a click shorter than one audio block is never lost.
    #[id = "suggest"]
    pub suggest: BoolParam,

    /// Length of a suggestion in bars of the host's time signature.
    #[id = "length"]
    pub length_bars: IntParam,

    /// Whether and how a finished suggestion is played.
    #[id = "play-mode"]
    pub play_mode: EnumParam<PlayMode>,

    /// Which boundary a suggestion starts on.
    #[id = "start"]
    pub start: EnumParam<StartMode>,

    /// MIDI channel (1–16) that suggested notes are sent on.
    #[id = "out-channel"]
    pub output_channel: IntParam,

    /// Whether the player's own notes are passed on to the instrument.
    #[id = "thru"]
    pub thru: BoolParam,

    /// Which corpus style the generator imitates; Auto lets the engine choose.
    #[id = "style"]
    pub style: EnumParam<Style>,

    /// Sampling temperature: below 1 sticks to the most likely continuation, above 1 explores.
    #[id = "temperature"]
    pub temperature: FloatParam,

    /// Host bypass: all MIDI passes untouched and the plugin's own notes are ended.
    #[id = "bypass"]
    pub bypass: BoolParam,
}

impl Default for ContinuoParams {
    fn default() -> Self {
        Self {
            editor_state: crate::editor::default_state(),
            suggest: BoolParam::new("Suggest", false).with_value_to_string(Arc::new(|on| {
                if on { "Trigger" } else { "Idle" }.to_string()
            })),
            length_bars: IntParam::new(
                "Length",
                4,
                IntRange::Linear {
                    min: MIN_LENGTH_BARS,
                    max: MAX_LENGTH_BARS,
                },
            )
            .with_unit(" bars"),
            play_mode: EnumParam::new("Play mode", PlayMode::Once),
            start: EnumParam::new("Start", StartMode::NextBar),
            output_channel: IntParam::new(
                "Output channel",
                1,
                IntRange::Linear { min: 1, max: 16 },
            ),
            thru: BoolParam::new("Thru", true),
            style: EnumParam::new("Style", Style::Auto),
            temperature: FloatParam::new(
                "Temperature",
                1.0,
                FloatRange::Skewed {
                    min: MIN_TEMPERATURE,
                    max: MAX_TEMPERATURE,
                    factor: FloatRange::skew_factor(-1.0),
                },
            )
            .with_step_size(0.01),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}
