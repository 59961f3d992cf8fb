//! The interface every melody generator implements, and what a request for a phrase carries.
//!
//! Generators run on the worker thread (or in the CLI), never on the audio thread: they may
//! allocate, take milliseconds and fail. The neural model (`neural.rs`) and the Markov generator
//! (`markov.rs`) both implement it; `engine.rs` chooses between them.

use crate::phrase::{Note, Phrase, PhraseError, TimeSignature};

/// The corpora Continuo's models are trained on, plus Auto (the engine chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// The engine chooses the style the prompt sounds most like.
    Auto,
    /// Essen European folk songs.
    Folk,
    /// Irish and Scottish fiddle tunes (O'Neill, Aird, Ryan).
    Celtic,
    /// The soprano lines of Bach's chorales.
    Chorale,
    /// Renaissance voice lines (mostly Palestrina).
    Renaissance,
    /// Chinese folk songs from the Essen collection.
    ChineseFolk,
}

impl Style {
    /// Every style, Auto first (the order of the Style parameter).
    pub const ALL: [Style; 6] = [
        Style::Auto,
        Style::Folk,
        Style::Celtic,
        Style::Chorale,
        Style::Renaissance,
        Style::ChineseFolk,
    ];

    /// The name used on the command line and in files.
    pub fn id(&self) -> &'static str {
        match self {
            Style::Auto => "auto",
            Style::Folk => "folk",
            Style::Celtic => "celtic",
            Style::Chorale => "chorale",
            Style::Renaissance => "renaissance",
            Style::ChineseFolk => "chinese-folk",
        }
    }

    /// The style a command-line or file name stands for.
    pub fn from_id(id: &str) -> Option<Style> {
        Style::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// Which generator answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorChoice {
    /// The trained melody model (the Markov generator stands in if it cannot run).
    Neural,
    /// The Continuator-style Markov model learnt from what was played.
    Markov,
}

/// Whether a phrase is held to a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleLock {
    /// Any pitch class.
    Off,
    /// The key detected in the recent history.
    Detected,
    /// A key the musician chose.
    Chosen,
}

/// The longest phrase one request may ask for, in bars.
pub const MAX_LENGTH_BARS: u32 = 16;
/// The lowest sampling temperature ("the most likely continuation").
pub const MIN_TEMPERATURE: f32 = 0.1;
/// The highest sampling temperature ("adventurous").
pub const MAX_TEMPERATURE: f32 = 2.0;
/// The most variations one request may ask for.
pub const MAX_VARIATIONS: u32 = 8;
/// How strongly answers follow the player's motifs unless asked otherwise, tuned on the
/// validation split (see the model card).
pub const DEFAULT_FOLLOW_MOTIFS: f32 = 0.25;
/// How much of the player's feel answers get unless asked otherwise.
pub const DEFAULT_FEEL: f32 = 1.0;
/// Whether answers land (a held tonic-chord note at the end) unless asked otherwise.
pub const DEFAULT_LANDING: bool = true;
/// Style strength unless asked otherwise (see [`GenerationRequest::style_strength`]).
pub const DEFAULT_STYLE_STRENGTH: f32 = 1.0;
/// The strongest style guidance a request may ask for.
pub const MAX_STYLE_STRENGTH: f32 = 3.0;

/// A contiguous stretch of played melody whose tick 0 lies on a bar line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Melody {
    /// Monophonic, sorted by onset.
    pub notes: Vec<Note>,
    /// The meter the melody was played in.
    pub time_signature: TimeSignature,
}

impl Melody {
    /// Notes of equal length, one after another from tick 0, in 4/4 (for tests and examples).
    pub fn evenly_spaced(pitches: &[u8], ticks: u32, velocity: u8) -> Melody {
        Melody {
            notes: pitches
                .iter()
                .enumerate()
                .map(|(i, &pitch)| Note {
                    start: i as u32 * ticks,
                    duration: ticks,
                    pitch,
                    velocity,
                })
                .collect(),
            time_signature: TimeSignature::default(),
        }
    }
}

/// The last `count` notes of a history (most recent first), for key detection.
pub fn recent_notes(history: &[Melody], count: usize) -> Vec<Note> {
    history
        .iter()
        .rev()
        .flat_map(|m| m.notes.iter().rev())
        .take(count)
        .copied()
        .collect()
}

/// Everything a generator needs to know about the phrase it is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// Length of the phrase in bars of `time_signature`.
    pub length_bars: u32,
    /// The meter of the phrase.
    pub time_signature: TimeSignature,
    /// The corpus style to imitate; Auto lets the generator choose.
    pub style: Style,
    /// Sampling temperature, already clamped to the parameter's range.
    pub temperature: f32,
    /// Seeds the generator's random choices: the same seed and history give the same phrase.
    pub seed: u64,
    /// Where the phrase starts, in ticks on the grid of the last history melody (whose tick 0
    /// is a bar line), so a generator knows the metric position it continues from.
    pub start_tick: u32,
    /// Which pitches the phrase may use (range and scale lock); `None` allows all.
    pub pitch_filter: Option<PitchFilter>,
    /// Nucleus sampling: only the most likely tokens making up this share of the probability
    /// are drawn from (the neural model; the Markov generator ignores it).
    pub top_p: f32,
    /// How strongly the neural model takes up the player's own interval patterns, 0 (the model
    /// alone) to 1 (see `motifs.rs`); the Markov generator follows them by nature.
    pub follow_motifs: f32,
    /// How much of the player's feel (accents, dynamics, articulation, swing) the answer gets, 0
    /// (notation: one velocity, legato) to 1 (see `feel.rs`; the neural model; the caller puts
    /// the player's micro-timing on any generator's phrase with `feel::Timing`).
    pub feel: f32,
    /// Whether the phrase lands: its last note falls on a beat in the second half of its last
    /// bar, on a note of the key's tonic chord, and is held to the phrase's end (the neural
    /// model; see `neural.rs`).
    pub landing: bool,
    /// How strongly the answer keeps to its style: classifier-free guidance, the model's
    /// prediction with the style pushed away from its prediction for "any style" by this factor
    /// (0: the model as trained; a v2 model only — a v1 model has no "any style" and ignores it).
    pub style_strength: f32,
}

/// A constraint on the pitches of a phrase: a range and optionally a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PitchFilter {
    /// The lowest MIDI key allowed.
    pub low: u8,
    /// The highest MIDI key allowed.
    pub high: u8,
    /// Allowed pitch classes (0 = C); `None` allows all twelve.
    pub scale: Option<[bool; 12]>,
}

impl PitchFilter {
    /// Whether `pitch` is inside the range and, when a scale is set, in the scale.
    pub fn allows(&self, pitch: u8) -> bool {
        pitch >= self.low
            && pitch <= self.high
            && self.scale.is_none_or(|scale| scale[(pitch % 12) as usize])
    }

    /// The allowed pitch nearest to `pitch`, preferring the side of `direction` on a tie.
    pub fn nearest(&self, pitch: i32, direction: i32) -> Option<u8> {
        let step = if direction >= 0 { 1 } else { -1 };
        for distance in 0..128 {
            for candidate in [pitch + step * distance, pitch - step * distance] {
                if (0..=127).contains(&candidate) && self.allows(candidate as u8) {
                    return Some(candidate as u8);
                }
            }
        }
        None
    }
}

impl GenerationRequest {
    /// The phrase's length in ticks.
    pub fn length_ticks(&self) -> u32 {
        self.length_bars * self.time_signature.bar_ticks()
    }
}

/// Why a generator could not produce a phrase.
#[derive(Debug)]
pub enum GenerateError {
    /// The request itself makes no sense (zero bars, ...).
    BadRequest(String),
    /// The generator produced something that breaks the phrase invariants (a bug).
    InvalidPhrase(PhraseError),
    /// The generator's backend failed (e.g. the inference runtime).
    Backend(String),
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadRequest(why) => write!(f, "bad request: {why}"),
            Self::InvalidPhrase(why) => write!(f, "generator produced an invalid phrase: {why}"),
            Self::Backend(why) => write!(f, "generator failed: {why}"),
        }
    }
}

impl std::error::Error for GenerateError {}

/// A melody generator. Implementations are owned by one worker thread at a time.
pub trait Generator: Send {
    /// A short name for status lines ("Markov (order 4)", a model's name, ...).
    fn name(&self) -> String;

    /// The style the last `generate` used when asked for Auto, if the generator chooses one.
    fn chosen_style(&self) -> Option<Style> {
        None
    }

    /// Proposes a continuation of `history` (oldest melody first; the last one is the most
    /// recent, and `request.start_tick` is on its grid).
    fn generate(
        &mut self,
        history: &[Melody],
        request: &GenerationRequest,
    ) -> Result<Phrase, GenerateError>;

    /// One phrase per seed (the request's own seed is ignored). Generators that can share work
    /// between variations override this; the default generates them one after another.
    fn generate_variations(
        &mut self,
        history: &[Melody],
        request: &GenerationRequest,
        seeds: &[u64],
    ) -> Result<Vec<Phrase>, GenerateError> {
        seeds
            .iter()
            .map(|&seed| {
                self.generate(
                    history,
                    &GenerationRequest {
                        seed,
                        ..request.clone()
                    },
                )
            })
            .collect()
    }
}
