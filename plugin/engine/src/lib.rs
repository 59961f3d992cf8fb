//! Continuo's music engine: everything musical that does not know it lives in a plugin.
//!
//! - [`phrase`]: notes, phrases and meters on the 12-per-beat grid.
//! - [`generator`]: the [`Generator`](generator::Generator) interface, what a request carries
//!   (style, generator choice, scale lock, pitch filter) and the limits of a request.
//! - [`feel`]: the player's accents and articulation, put on an answer; [`notation`]: played
//!   notes written down as the model learnt music; [`performance`]: a synthetic player, to
//!   test both.
//! - [`motifs`]: the player's interval patterns, blended into the neural model's choices;
//!   [`learned`]: the melodies of the player's own MIDI files, which join them.
//! - [`neural`]: the trained melody model run with ONNX Runtime, its KV cache in [`kv_cache`];
//!   [`markov`]: the
//!   Continuator-style Markov generator; [`generators`]: the two together, with the fallback.
//! - [`runtime`]: finding and loading ONNX Runtime (once per process, no telemetry).
//! - [`tokens`]: the melody model's vocabulary; [`key`]: key and mode detection;
//!   [`voices`]: the melody line in chords, inner voices and pads.
//! - [`midi_file`]: Standard MIDI Files in and out; [`pianoroll`]: an ASCII piano roll.
//! - [`score`] and [`evaluation`]: likelihood and musical metrics against the true continuation.
//! - [`fuzzing`]: harnesses for the fuzz targets of the untrusted inputs above.
//!
//! The plugin (crate `continuo`) and the command-line tool (crate `continuo-cli`) are built on
//! this crate; it depends on neither, and on no plugin framework, GUI or real-time queue.

#![warn(missing_docs)]

pub mod evaluation;
pub mod feel;
pub mod fuzzing;
pub mod generator;
pub mod generators;
pub mod key;
pub mod kv_cache;
pub mod learned;
pub mod markov;
pub mod midi_file;
pub mod motifs;
pub mod neural;
pub mod notation;
pub mod performance;
pub mod phrase;
pub mod pianoroll;
pub mod runtime;
pub mod score;
pub mod tokens;
pub mod voices;

pub use generators::Engine;
