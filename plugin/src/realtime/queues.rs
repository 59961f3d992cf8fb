//! The preallocated lock-free queues between the audio thread and the instance's worker thread.
//!
//! ```text
//!   audio thread ── CaptureEvent ──────────▶ worker   (notes the player played, in beats)
//!   audio thread ── SuggestRequest ────────▶ worker   (a Suggest trigger with its musical context)
//!   worker ──────── Box<PlaybackPhrase> ───▶ audio thread (a finished phrase, ready to play)
//!   audio thread ── Box<PlaybackPhrase> ───▶ worker   (the replaced phrase, freed off the audio thread)
//! ```
//!
//! All four are single-producer single-consumer ring buffers from `ringbuf`, allocated once when
//! the plugin is created. Pushing and popping never allocates, locks or blocks.

use ringbuf::traits::Split;
use ringbuf::{HeapCons, HeapProd, HeapRb};

use super::clock::Timeline;
use super::modes::StartMode;
use super::player::PlaybackPhrase;
use continuo_engine::generator::{GeneratorChoice, ScaleLock, Style};
use continuo_engine::key::Key;
use continuo_engine::phrase::TimeSignature;

/// Captured notes that fit before the worker must have drained the queue (it polls every few
/// milliseconds; this is seconds of dense playing).
pub const CAPTURE_CAPACITY: usize = 4096;
pub const REQUEST_CAPACITY: usize = 16;
/// Finished phrases waiting for the audio thread. The garbage queue is two larger, so that the
/// audio thread can always hand back what it holds besides them: the playing phrase and the one
/// waiting for its anchor (Continuous mode).
pub const PHRASE_CAPACITY: usize = 4;

/// A note event the player played, stamped in musical time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptureEvent {
    pub timeline: Timeline,
    /// Increments at every discontinuity (relocation, transport start/stop), so the worker never
    /// measures intervals across a jump.
    pub segment: u32,
    pub beat: f64,
    pub channel: u8,
    pub key: u8,
    /// MIDI velocity 1–127 for a note-on, 0 for a note-off.
    pub velocity: u8,
    pub time_signature: TimeSignature,
    /// A beat at which a bar starts on this timeline.
    pub bar_origin: f64,
}

/// A request for a continuation, with the musical context at the moment of the trigger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuggestRequest {
    /// Counts requests of this instance; also seeds the generator.
    pub id: u64,
    pub timeline: Timeline,
    pub segment: u32,
    pub now_beat: f64,
    pub tempo: f64,
    pub time_signature: TimeSignature,
    pub bar_origin: f64,
    pub length_bars: u32,
    pub start: StartMode,
    /// Continuous mode: the phrase starts exactly here (where the one before it ends) and
    /// follows that one without cutting it; `None`: placed by `start`.
    pub at_beat: Option<f64>,
    /// Answer mode: the phrase starts no earlier than this beat (the end of the player's rest;
    /// the request comes halfway through it, so the answer is ready on its beat).
    pub not_before: Option<f64>,
    pub style: Style,
    pub temperature: f32,
    /// Follow my motifs, 0–1.
    pub follow_motifs: f32,
    /// Feel, 0–1.
    pub feel: f32,
    /// Land phrases.
    pub landing: bool,
    /// Style strength (classifier-free guidance), 0 or more.
    pub style_strength: f32,
    pub generator: GeneratorChoice,
    /// How many variations to make (1–8).
    pub variations: u32,
    pub scale_lock: ScaleLock,
    /// The chosen key: tonic pitch class and mode (used when `scale_lock` is Chosen).
    pub chosen_key: Key,
    /// Lowest and highest note allowed.
    pub range: (u8, u8),
}

/// The audio thread's ends of the queues.
pub struct AudioEnds {
    pub captures: HeapProd<CaptureEvent>,
    pub requests: HeapProd<SuggestRequest>,
    pub phrases: HeapCons<Box<PlaybackPhrase>>,
    pub garbage: HeapProd<Box<PlaybackPhrase>>,
}

/// The worker thread's ends of the queues.
pub struct WorkerEnds {
    pub captures: HeapCons<CaptureEvent>,
    pub requests: HeapCons<SuggestRequest>,
    pub phrases: HeapProd<Box<PlaybackPhrase>>,
    pub garbage: HeapCons<Box<PlaybackPhrase>>,
}

/// Allocates all queues. Called when the plugin is created, never on the audio thread.
pub fn new_queues() -> (AudioEnds, WorkerEnds) {
    let (capture_tx, capture_rx) = HeapRb::new(CAPTURE_CAPACITY).split();
    let (request_tx, request_rx) = HeapRb::new(REQUEST_CAPACITY).split();
    let (phrase_tx, phrase_rx) = HeapRb::new(PHRASE_CAPACITY).split();
    let (garbage_tx, garbage_rx) = HeapRb::new(PHRASE_CAPACITY + 2).split();
    (
        AudioEnds {
            captures: capture_tx,
            requests: request_tx,
            phrases: phrase_rx,
            garbage: garbage_tx,
        },
        WorkerEnds {
            captures: capture_rx,
            requests: request_rx,
            phrases: phrase_tx,
            garbage: garbage_rx,
        },
    )
}
