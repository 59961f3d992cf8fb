//! The generators of an instance: the neural model with the Markov generator behind it.
//!
//! [`Engine`] holds the neural generator (loaded on its own thread so that the worker can answer
//! Markov requests meanwhile) and the Markov generator, which answers whenever the neural model
//! is unavailable, fails, or is not the one chosen. [`pitch_filter`] turns the Range and Scale
//! lock parameters into the constraint generators obey.

use std::sync::Arc;
use std::thread::JoinHandle;

use crate::generator::{
    recent_notes, GenerateError, GenerationRequest, Generator, GeneratorChoice, Melody,
    PitchFilter, ScaleLock, Style,
};
use crate::key::{detect_key, Key};
use crate::learned::Learned;
use crate::markov::MarkovGenerator;
use crate::neural::{NeuralGenerator, Unavailable};
use crate::phrase::{Note, Phrase};

/// The neural model while it loads (on its own thread, so Markov requests are never held up)
/// and once it has loaded or failed.
enum Neural {
    Loading(JoinHandle<Result<NeuralGenerator, Unavailable>>),
    Ready(Result<NeuralGenerator, Unavailable>),
}

/// The generators of an instance: the neural model when it loads, and the Markov generator,
/// which answers when the neural model is unavailable, fails, or is not chosen.
pub struct Engine {
    neural: Neural,
    markov: MarkovGenerator,
    /// The player's own tunes, for the neural model's motif blend.
    learned: Option<Arc<Learned>>,
}

impl Engine {
    /// Starts loading the neural model (and its warm-up run) in the background.
    pub fn load() -> Engine {
        let loader = std::thread::Builder::new()
            .name("continuo-model-loader".into())
            .spawn(NeuralGenerator::load);
        Engine {
            neural: match loader {
                Ok(handle) => Neural::Loading(handle),
                Err(error) => Neural::Ready(Err(Unavailable(format!(
                    "the model could not be loaded: no thread ({error})"
                )))),
            },
            markov: MarkovGenerator::new(),
            learned: None,
        }
    }

    /// Learns from the player's own tunes from the next phrase on (`None`: forgets them).
    pub fn set_learned(&mut self, learned: Option<Arc<Learned>>) {
        self.learned = learned;
    }

    /// The neural model, waiting for it to finish loading if needed.
    fn neural(&mut self) -> &mut Result<NeuralGenerator, Unavailable> {
        if let Neural::Loading(_) = self.neural {
            let Neural::Loading(handle) = std::mem::replace(
                &mut self.neural,
                Neural::Ready(Err(Unavailable(String::new()))),
            ) else {
                unreachable!()
            };
            let loaded = handle
                .join()
                .unwrap_or_else(|_| Err(Unavailable("the model loader crashed".into())));
            self.neural = Neural::Ready(loaded);
        }
        match &mut self.neural {
            Neural::Ready(result) => result,
            Neural::Loading(_) => unreachable!("joined above"),
        }
    }

    /// Whether loading has finished (without waiting).
    pub fn is_loaded(&self) -> bool {
        match &self.neural {
            Neural::Loading(handle) => handle.is_finished(),
            Neural::Ready(_) => true,
        }
    }

    /// Why the neural model is unavailable, if it is (waits for loading to finish).
    pub fn unavailable(&mut self) -> Option<String> {
        self.neural().as_ref().err().map(|why| why.0.clone())
    }

    /// The generator's name for the status line (waits for loading to finish).
    pub fn describe(&mut self) -> String {
        let markov = self.markov.name();
        match self.neural() {
            Ok(neural) => neural.name(),
            Err(_) => format!("{markov} (fallback)"),
        }
    }

    /// Generates one phrase per seed with the chosen generator, falling back to Markov. Returns
    /// the phrases, the name of the generator that made them, and a sentence when the fallback
    /// had to stand in.
    pub fn generate_variations(
        &mut self,
        choice: GeneratorChoice,
        history: &[Melody],
        request: &GenerationRequest,
        seeds: &[u64],
    ) -> (Result<Vec<Phrase>, GenerateError>, String, Option<String>) {
        if choice == GeneratorChoice::Neural {
            let learned = self.learned.clone();
            if let Ok(neural) = self.neural() {
                neural.set_learned(learned);
            }
            let note = match self.neural() {
                Ok(neural) => match neural.generate_variations(history, request, seeds) {
                    Ok(phrases) => {
                        let name = match neural.chosen_style() {
                            Some(style) if request.style == Style::Auto => {
                                format!("{} (Auto: {})", neural.name(), style.id())
                            }
                            _ => neural.name(),
                        };
                        return (Ok(phrases), name, None);
                    }
                    Err(error) => format!(
                        "The neural model could not answer ({error}); the Markov generator did."
                    ),
                },
                Err(why) => format!("Markov fallback: {why}."),
            };
            return (
                self.markov.generate_variations(history, request, seeds),
                self.markov.name(),
                Some(note),
            );
        }
        (
            self.markov.generate_variations(history, request, seeds),
            self.markov.name(),
            None,
        )
    }
}

impl Drop for Engine {
    /// The loader thread runs code from the plugin binary: it must finish before the binary can
    /// be unloaded (a host may destroy an instance right after creating it; a detached loader
    /// would then crash the host).
    fn drop(&mut self) {
        if let Neural::Loading(handle) = std::mem::replace(
            &mut self.neural,
            Neural::Ready(Err(Unavailable(String::new()))),
        ) {
            let _ = handle.join();
        }
    }
}

/// The scale "Detected key" locks to: the scale of `detected` (the key detected in `notes`), plus
/// every pitch class the player used in `notes` — a lock never forbids what was played (a minor
/// line read as its relative major, a dorian sixth, a harmonic-minor leading tone). `None` when
/// no key was detected.
pub fn detected_scale(detected: Option<Key>, notes: &[Note]) -> Option<[bool; 12]> {
    let mut scale = detected?.scale();
    for note in notes {
        scale[(note.pitch % 12) as usize] = true;
    }
    Some(scale)
}

/// The pitch filter a request asks for: its range (lowest and highest note, in either order),
/// and a scale when locked (`chosen_key` is used when `scale_lock` is [`ScaleLock::Chosen`]).
/// Also returns the key detected in `melodies`.
pub fn pitch_filter(
    scale_lock: ScaleLock,
    chosen_key: Key,
    range: (u8, u8),
    melodies: &[Melody],
) -> (Option<PitchFilter>, Option<Key>) {
    let recent = recent_notes(melodies, 64);
    let detected = detect_key(&recent);
    let scale = match scale_lock {
        ScaleLock::Off => None,
        ScaleLock::Detected => detected_scale(detected, &recent),
        ScaleLock::Chosen => Some(chosen_key.scale()),
    };
    let (low, high) = (range.0.min(range.1), range.0.max(range.1));
    let filter = if scale.is_none() && low == 0 && high == 127 {
        None
    } else {
        Some(PitchFilter { low, high, scale })
    };
    (filter, detected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detected_lock_never_forbids_a_played_pitch_class() {
        // A C natural-minor line with a raised seventh (B natural) and a dorian sixth (A).
        let pitches = [
            60u8, 62, 63, 65, 67, 69, 70, 71, 72, 67, 63, 60, 62, 63, 60, 60,
        ];
        let melody = Melody::evenly_spaced(&pitches, 12, 90);
        let scale = detected_scale(detect_key(&melody.notes), &melody.notes).expect("a key");
        for pitch in pitches {
            assert!(
                scale[(pitch % 12) as usize],
                "pitch class {} forbidden",
                pitch % 12
            );
        }
        let (filter, _) = pitch_filter(
            ScaleLock::Detected,
            Key {
                tonic: 0,
                mode: crate::key::Mode::Major,
            },
            (0, 127),
            std::slice::from_ref(&melody),
        );
        assert_eq!(filter.unwrap().scale, Some(scale));
    }
}
