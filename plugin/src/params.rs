//! Continuo's host-visible parameters.
//!
//! Every `#[id]` here is part of the plugin's public contract: hosts store automation and presets
//! by these strings, so they must never change once released. Enum variants carry explicit
//! `#[id]`s for the same reason, so they can be reordered or renamed in the UI freely.

use nice_plug::prelude::*;
use std::sync::Arc;

use continuo_engine::generator::{self, GeneratorChoice, ScaleLock, Style};
use continuo_engine::key::{Key, Mode};

use crate::editor::settings::EditorSettings;
use crate::realtime::modes::{PartnerMode, PlayMode, StartMode};
use crate::session::SessionStore;

/// When a new phrase starts playing (the parameter; see [`StartMode`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartParam {
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

impl From<StartParam> for StartMode {
    fn from(value: StartParam) -> Self {
        match value {
            StartParam::NextBar => StartMode::NextBar,
            StartParam::NextBeat => StartMode::NextBeat,
            StartParam::AfterLastNote => StartMode::AfterLastNote,
        }
    }
}

/// Whether Continuo answers by itself (the parameter; see [`PartnerMode`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerParam {
    #[id = "manual"]
    #[name = "Manual"]
    Manual,
    #[id = "answer"]
    #[name = "Answer"]
    Answer,
    #[id = "continuous"]
    #[name = "Continuous"]
    Continuous,
}

impl From<PartnerParam> for PartnerMode {
    fn from(value: PartnerParam) -> Self {
        match value {
            PartnerParam::Manual => PartnerMode::Manual,
            PartnerParam::Answer => PartnerMode::Answer,
            PartnerParam::Continuous => PartnerMode::Continuous,
        }
    }
}

/// The longest rest, in beats, that "Answer after" can wait for (two bars of 4/4).
pub const MAX_ANSWER_AFTER: i32 = 8;

/// What happens to a phrase once it has been generated (the parameter; see [`PlayMode`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayModeParam {
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

impl From<PlayModeParam> for PlayMode {
    fn from(value: PlayModeParam) -> Self {
        match value {
            PlayModeParam::Off => PlayMode::Off,
            PlayModeParam::Once => PlayMode::Once,
            PlayModeParam::Loop => PlayMode::Loop,
        }
    }
}

/// Which corpus style the generator imitates (the parameter; see [`Style`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StyleParam {
    #[id = "auto"]
    #[name = "Auto"]
    Auto,
    #[id = "folk"]
    #[name = "Folk"]
    Folk,
    #[id = "celtic"]
    #[name = "Celtic"]
    Celtic,
    #[id = "chorale"]
    #[name = "Chorale"]
    Chorale,
    #[id = "renaissance"]
    #[name = "Renaissance"]
    Renaissance,
    #[id = "chinese-folk"]
    #[name = "Chinese folk"]
    ChineseFolk,
}

impl From<StyleParam> for Style {
    fn from(value: StyleParam) -> Self {
        match value {
            StyleParam::Auto => Style::Auto,
            StyleParam::Folk => Style::Folk,
            StyleParam::Celtic => Style::Celtic,
            StyleParam::Chorale => Style::Chorale,
            StyleParam::Renaissance => Style::Renaissance,
            StyleParam::ChineseFolk => Style::ChineseFolk,
        }
    }
}

/// Which generator answers Suggest (the parameter; see [`GeneratorChoice`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorParam {
    /// The trained melody model (the Markov generator stands in if it cannot run).
    #[id = "neural"]
    #[name = "Neural model"]
    Neural,
    /// The Continuator-style Markov model learnt from what was played into this instance.
    #[id = "markov"]
    #[name = "Markov"]
    Markov,
}

impl From<GeneratorParam> for GeneratorChoice {
    fn from(value: GeneratorParam) -> Self {
        match value {
            GeneratorParam::Neural => GeneratorChoice::Neural,
            GeneratorParam::Markov => GeneratorChoice::Markov,
        }
    }
}

/// Whether suggestions are held to a scale (the parameter; see [`ScaleLock`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleLockParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    /// The key detected in the recent history (Krumhansl–Schmuckler).
    #[id = "detected"]
    #[name = "Detected key"]
    Detected,
    /// The key set by Key and Mode.
    #[id = "chosen"]
    #[name = "Chosen key"]
    Chosen,
}

impl From<ScaleLockParam> for ScaleLock {
    fn from(value: ScaleLockParam) -> Self {
        match value {
            ScaleLockParam::Off => ScaleLock::Off,
            ScaleLockParam::Detected => ScaleLock::Detected,
            ScaleLockParam::Chosen => ScaleLock::Chosen,
        }
    }
}

/// The tonic of the chosen key.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tonic {
    #[id = "c"]
    #[name = "C"]
    C,
    #[id = "c-sharp"]
    #[name = "C#"]
    CSharp,
    #[id = "d"]
    #[name = "D"]
    D,
    #[id = "e-flat"]
    #[name = "Eb"]
    EFlat,
    #[id = "e"]
    #[name = "E"]
    E,
    #[id = "f"]
    #[name = "F"]
    F,
    #[id = "f-sharp"]
    #[name = "F#"]
    FSharp,
    #[id = "g"]
    #[name = "G"]
    G,
    #[id = "a-flat"]
    #[name = "Ab"]
    AFlat,
    #[id = "a"]
    #[name = "A"]
    A,
    #[id = "b-flat"]
    #[name = "Bb"]
    BFlat,
    #[id = "b"]
    #[name = "B"]
    B,
}

/// The mode of the chosen key.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    #[id = "major"]
    #[name = "Major"]
    Major,
    #[id = "minor"]
    #[name = "Minor"]
    Minor,
}

/// The shortest suggestion, in bars.
pub const MIN_LENGTH_BARS: i32 = 1;
/// The longest suggestion, in bars (the engine's limit).
pub const MAX_LENGTH_BARS: i32 = generator::MAX_LENGTH_BARS as i32;
/// The lowest temperature (the engine's limit).
pub const MIN_TEMPERATURE: f32 = generator::MIN_TEMPERATURE;
/// The most variations one click makes (the engine's limit).
pub const MAX_VARIATIONS: i32 = generator::MAX_VARIATIONS as i32;
/// The highest temperature (the engine's limit).
pub const MAX_TEMPERATURE: f32 = generator::MAX_TEMPERATURE;

#[derive(Params)]
pub struct ContinuoParams {
    /// The editor's window size and export choices, saved with the project.
    #[persist = "editor"]
    pub editor_settings: Arc<EditorSettings>,

    /// History and suggestions, saved with the host project (see `session.rs`).
    #[persist = "session"]
    pub session: Arc<SessionStore>,

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
    pub play_mode: EnumParam<PlayModeParam>,

    /// Which boundary a suggestion starts on.
    #[id = "start"]
    pub start: EnumParam<StartParam>,

    /// MIDI channel (1–16) that suggested notes are sent on.
    #[id = "out-channel"]
    pub output_channel: IntParam,

    /// Whether the player's own notes are passed on to the instrument.
    #[id = "thru"]
    pub thru: BoolParam,

    /// Which corpus style the generator imitates; Auto lets the engine choose.
    #[id = "style"]
    pub style: EnumParam<StyleParam>,

    /// Sampling temperature: below 1 sticks to the most likely continuation, above 1 explores.
    #[id = "temperature"]
    pub temperature: FloatParam,

    /// How many variations one Suggest makes (the first plays; the editor browses the rest).
    #[id = "variations"]
    pub variations: IntParam,

    /// Which generator answers Suggest.
    #[id = "generator"]
    pub generator: EnumParam<GeneratorParam>,

    /// Holds suggestions to a scale: off, the detected key, or the chosen one.
    #[id = "scale-lock"]
    pub scale_lock: EnumParam<ScaleLockParam>,

    /// Tonic of the chosen key (Scale lock = Chosen key).
    #[id = "key"]
    pub key: EnumParam<Tonic>,

    /// Mode of the chosen key.
    #[id = "mode"]
    pub mode: EnumParam<KeyMode>,

    /// Lowest note a suggestion may use.
    #[id = "range-low"]
    pub range_low: IntParam,

    /// Highest note a suggestion may use.
    #[id = "range-high"]
    pub range_high: IntParam,

    /// Host bypass: all MIDI passes untouched and the plugin's own notes are ended.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// How strongly the neural model takes up the player's own interval patterns (0 %: the
    /// model alone). Declared last so that the hosts' indices of the other parameters stay.
    #[id = "follow-motifs"]
    pub follow_motifs: FloatParam,

    /// How much of the player's feel (accents, dynamics, articulation, swing, timing) answers get:
    /// 0 % is notation on the grid at one velocity, 100 % the player's.
    #[id = "feel"]
    pub feel: FloatParam,

    /// Manual (Suggest asks), Answer (Continuo answers when the player rests) or Continuous (a
    /// new phrase every Length bars).
    #[id = "partner"]
    pub partner: EnumParam<PartnerParam>,

    /// In Answer mode, how many beats of rest after the player's last note make a call over.
    #[id = "answer-after"]
    pub answer_after: IntParam,

    /// Whether answers land: the last note on a beat late in the last bar, on a note of the
    /// tonic chord, held to the end (off: the phrase may stop anywhere, as mid-tune bars do).
    #[id = "landing"]
    pub landing: BoolParam,

    /// How strongly answers keep to their style (classifier-free guidance; 0: the model as
    /// trained). A model without "any style" (v1) ignores it.
    #[id = "style-strength"]
    pub style_strength: FloatParam,
}

impl Default for ContinuoParams {
    fn default() -> Self {
        Self {
            editor_settings: Arc::new(EditorSettings::default()),
            session: Arc::new(SessionStore::default()),
            suggest: BoolParam::new("Suggest", false),
            length_bars: IntParam::new(
                "Length",
                4,
                IntRange::Linear {
                    min: MIN_LENGTH_BARS,
                    max: MAX_LENGTH_BARS,
                },
            )
            .with_unit(" bars"),
            play_mode: EnumParam::new("Play mode", PlayModeParam::Once),
            start: EnumParam::new("Start", StartParam::NextBar),
            output_channel: IntParam::new(
                "Output channel",
                1,
                IntRange::Linear { min: 1, max: 16 },
            ),
            thru: BoolParam::new("Thru", true),
            style: EnumParam::new("Style", StyleParam::Auto),
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
            variations: IntParam::new(
                "Variations",
                1,
                IntRange::Linear {
                    min: 1,
                    max: MAX_VARIATIONS,
                },
            ),
            generator: EnumParam::new("Generator", GeneratorParam::Neural),
            scale_lock: EnumParam::new("Scale lock", ScaleLockParam::Off),
            key: EnumParam::new("Key", Tonic::C),
            mode: EnumParam::new("Mode", KeyMode::Major),
            range_low: IntParam::new("Lowest note", 36, IntRange::Linear { min: 0, max: 127 })
                .with_value_to_string(Arc::new(|key| {
                    continuo_engine::pianoroll::key_name(key as u8)
                }))
                .with_string_to_value(Arc::new(|text| {
                    continuo_engine::pianoroll::parse_key_name(text).map(i32::from)
                })),
            range_high: IntParam::new("Highest note", 96, IntRange::Linear { min: 0, max: 127 })
                .with_value_to_string(Arc::new(|key| {
                    continuo_engine::pianoroll::key_name(key as u8)
                }))
                .with_string_to_value(Arc::new(|text| {
                    continuo_engine::pianoroll::parse_key_name(text).map(i32::from)
                })),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            follow_motifs: share("Follow my motifs", generator::DEFAULT_FOLLOW_MOTIFS),
            feel: share("Feel", generator::DEFAULT_FEEL),
            partner: EnumParam::new("Partner", PartnerParam::Manual),
            landing: BoolParam::new("Land phrases", generator::DEFAULT_LANDING),
            style_strength: FloatParam::new(
                "Style strength",
                generator::DEFAULT_STYLE_STRENGTH,
                FloatRange::Linear {
                    min: 0.0,
                    max: generator::MAX_STYLE_STRENGTH,
                },
            )
            .with_step_size(0.05),
            answer_after: IntParam::new(
                "Answer after",
                2,
                IntRange::Linear {
                    min: 1,
                    max: MAX_ANSWER_AFTER,
                },
            )
            .with_unit(" beats"),
        }
    }
}

/// A share from 0 to 100 % (stored 0–1).
fn share(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_unit("%")
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
}

impl ContinuoParams {
    /// The key chosen with Key and Mode, as the engine names keys.
    pub fn chosen_key(&self) -> Key {
        Key {
            tonic: self.key.value() as u8,
            mode: match self.mode.value() {
                KeyMode::Major => Mode::Major,
                KeyMode::Minor => Mode::Minor,
            },
        }
    }
}
