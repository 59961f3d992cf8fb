//! The trained melody model (`models/continuo-melody.onnx`) behind the [`Generator`] interface,
//! run with ONNX Runtime on the worker thread.
//!
//! ONNX Runtime is found and loaded by [`crate::runtime`], once per process; a missing or wrong
//! library is an error the caller turns into the Markov fallback.
//!
//! Generation: the prompt (the last bars of history, bar-aligned, `STYLE TS BAR …`) runs in one
//! call; then one token per call with the KV cache. A phrase too long for the context (16 bars of
//! sixteenths) slides it: each variation that reaches a bar line once the context is nearly full
//! goes on alone from a new prompt of its latest bars, as often as needed. Each sampled token is masked by the token
//! grammar so the result always decodes to valid notes that fill the requested bars, then by the
//! pitch filter (range, scale lock); temperature and nucleus (top-p) sampling follow.

use std::path::Path;
use std::sync::Arc;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{DynValue, Tensor, TensorRef};

use crate::feel::Feel;
use crate::generator::{GenerateError, GenerationRequest, Generator, Melody, Style};
use crate::key::detect_key;
use crate::kv_cache::{Cache, CacheKind, Dims, Pool, Shared, Store};
use crate::learned::Learned;
use crate::motifs::MotifModel;
use crate::notation;
use crate::phrase::{Note, Phrase, TimeSignature};
use crate::runtime::environment;
use crate::tokens::{self, Token};
/// The model, embedded in the plugin binary so that one bundle is all a user copies.
pub const MODEL_BYTES: &[u8] = include_bytes!("../../../models/continuo-melody.onnx");
/// Its metadata (architecture, vocabulary, shapes).
pub const MODEL_METADATA: &str = include_str!("../../../models/continuo-melody.json");
/// Nucleus sampling keeps the smallest set of tokens holding this much probability.
pub const TOP_P: f32 = 0.95;

/// Why the neural generator is not available, in one plain sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Architecture numbers read from the model's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Architecture {
    /// Positions the model attends to (prompt plus generated tokens).
    pub context: usize,
    /// Transformer layers (one past-key/value pair each).
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Tokens in the vocabulary: [`crate::tokens::V1_VOCAB_SIZE`] (model v1) or
    /// [`crate::tokens::VOCAB_SIZE`] (v2, which adds "any style").
    pub vocab_size: usize,
    /// The pitch range training moved melodies through (`trained_range` in the metadata, model
    /// v2): a prompt inside it is heard where it was played. `None` (v1): the model knows vocal
    /// and fiddle registers only, and prompts far from them are moved by octaves.
    pub trained_range: Option<(u8, u8)>,
}

fn json_number(metadata: &str, path: &[&str]) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_str(metadata).ok()?;
    let mut cursor = &value;
    for key in path {
        cursor = cursor.get(key)?;
    }
    cursor.as_u64().map(|n| n as usize)
}

/// `trained_range: [low, high]` from the metadata, if it is there and makes sense.
fn trained_range(metadata: &str) -> Option<(u8, u8)> {
    let value: serde_json::Value = serde_json::from_str(metadata).ok()?;
    let range = value.get("trained_range")?.as_array()?;
    let low = u8::try_from(range.first()?.as_u64()?).ok()?;
    let high = u8::try_from(range.get(1)?.as_u64()?).ok()?;
    (low < high && high <= 127).then_some((low, high))
}

impl Architecture {
    /// Reads and checks the metadata against the tokenizer compiled into the plugin.
    pub fn from_metadata(metadata: &str) -> Result<Architecture, Unavailable> {
        let get = |path: &[&str]| {
            json_number(metadata, path)
                .ok_or_else(|| Unavailable(format!("the model metadata lacks {}", path.join("."))))
        };
        let architecture = Architecture {
            context: get(&["context"])?,
            layers: get(&["architecture", "layers"])?,
            heads: get(&["architecture", "heads"])?,
            head_dim: get(&["architecture", "head_dim"])?,
            vocab_size: get(&["architecture", "vocab_size"])?,
            trained_range: trained_range(metadata),
        };
        // A v1 model knows every token but "any style"; a v2 model knows them all.
        let known = [tokens::V1_VOCAB_SIZE as usize, tokens::VOCAB_SIZE as usize];
        if !known.contains(&architecture.vocab_size) {
            return Err(Unavailable(format!(
                "the model's vocabulary ({}) does not match the plugin's tokenizer ({} or {})",
                architecture.vocab_size,
                tokens::V1_VOCAB_SIZE,
                tokens::VOCAB_SIZE
            )));
        }
        Ok(architecture)
    }
}

/// The neural generator. Owns one ONNX Runtime session (one intra-op thread, no spinning).
pub struct NeuralGenerator {
    session: Session,
    architecture: Architecture,
    /// How the graph takes its KV cache (from its inputs: the first exports grow it by copying,
    /// in-place exports read buffers kept here).
    cache_kind: CacheKind,
    /// The names of an in-place graph's per-layer cache inputs, in the order
    /// [`Shared::inputs`] gives them: `prompt_key_<l>` for every layer, `prompt_value_<l>`,
    /// `past_key_<l>`, `past_value_<l>`.
    layer_inputs: Vec<String>,
    /// Storage of in-place caches between calls and phrases (see [`Pool`]).
    pool: Pool,
    /// The style chosen for the last Auto request (shown in the status line).
    chosen_style: Option<Style>,
    /// Prompt length and tokens sampled by the last `generate` (for benchmarks and reports).
    last_counts: (usize, usize),
    /// The player's own tunes ([`Learned`]), and their interval patterns as the motif model the
    /// playing's model backs off to (built once, when they are set).
    learned: Option<(Arc<Learned>, Arc<MotifModel>)>,
}

impl NeuralGenerator {
    /// Loads the embedded model (with the embedded metadata) and warms it up.
    /// The model embedded in the binary, or the one at `CONTINUO_MODEL_PATH` (an `.onnx` file
    /// from `models/export.py`, with its metadata `.json` beside it): a model trained with
    /// `cargo xtask train` can be tried without rebuilding the plugin.
    pub fn load() -> Result<NeuralGenerator, Unavailable> {
        match std::env::var_os("CONTINUO_MODEL_PATH") {
            Some(path) => Self::from_file(Path::new(&path)),
            None => Self::from_parts(MODEL_BYTES, MODEL_METADATA),
        }
    }

    /// Loads `path` (.onnx) and the metadata beside it (.json).
    pub fn from_file(path: &Path) -> Result<NeuralGenerator, Unavailable> {
        let model = std::fs::read(path).map_err(|e| {
            Unavailable(format!(
                "the model at {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let metadata_path = path.with_extension("json");
        let metadata = std::fs::read_to_string(&metadata_path).map_err(|e| {
            Unavailable(format!(
                "the model's metadata at {} cannot be read: {e}",
                metadata_path.display()
            ))
        })?;
        Self::from_parts(&model, &metadata)
    }

    /// Loads a model from bytes and metadata (used for the embedded model and in tests).
    pub fn from_parts(model: &[u8], metadata: &str) -> Result<NeuralGenerator, Unavailable> {
        let architecture = Architecture::from_metadata(metadata)?;
        let environment = environment()?;
        let failed =
            |e: &dyn std::fmt::Display| Unavailable(format!("the model could not be loaded: {e}"));
        let session = Session::builder(environment)
            .map_err(|e| failed(&e))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| failed(&e))?
            .with_intra_threads(1)
            .map_err(|e| failed(&e))?
            .with_intra_op_spinning(false)
            .map_err(|e| failed(&e))?
            .commit_from_memory(model)
            .map_err(|e| failed(&e))?;
        let in_place = session.inputs().iter().any(|i| i.name() == "prompt_length");
        let cache_kind = if in_place {
            CacheKind::InPlace
        } else {
            CacheKind::Growing
        };
        let layer_inputs = ["prompt_key", "prompt_value", "past_key", "past_value"]
            .iter()
            .flat_map(|kind| (0..architecture.layers).map(move |l| format!("{kind}_{l}")))
            .collect();
        let mut generator = NeuralGenerator {
            session,
            architecture,
            cache_kind,
            layer_inputs,
            pool: Pool::default(),
            chosen_style: None,
            last_counts: (0, 0),
            learned: None,
        };
        // Warm-up: the first run allocates arenas; do it now, not on the first click.
        let prompt = [
            tokens::BOS,
            tokens::STYLE_BASE,
            tokens::TS_BASE + 17,
            tokens::BAR,
        ];
        generator
            .run(&prompt, None)
            .map_err(|e| Unavailable(format!("the model does not run: {e}")))?;
        Ok(generator)
    }

    /// Learns from the player's own tunes from now on (`None`: from their playing alone).
    pub fn set_learned(&mut self, learned: Option<Arc<Learned>>) {
        let same = match (&self.learned, &learned) {
            (Some((old, _)), Some(new)) => Arc::ptr_eq(old, new),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.learned = learned.map(|tunes| {
                let model = MotifModel::learn_all(tunes.melodies.iter().map(|(_, m)| m.as_slice()));
                (tunes, Arc::new(model))
            });
        }
    }

    /// The motif model of `played` (pitches, oldest first; its last 64 notes), backed by the
    /// player's learnt tunes where the playing says little.
    pub(crate) fn motif_model(&self, played: &[u8]) -> MotifModel {
        let recent = &played[played.len().saturating_sub(64)..];
        match &self.learned {
            Some((_, base)) => MotifModel::learn_over(recent, base.clone()),
            None => MotifModel::learn(recent),
        }
    }

    /// How the loaded graph takes its KV cache.
    pub fn cache_kind(&self) -> CacheKind {
        self.cache_kind
    }

    /// The shape of the loaded model, from its metadata.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// (prompt tokens, sampled tokens) of the last phrase generated.
    pub fn last_counts(&self) -> (usize, usize) {
        self.last_counts
    }

    /// Runs `new` tokens after `cache`; returns the logits of every new position and the grown
    /// cache.
    fn run(&mut self, new: &[u32], cache: Option<Cache>) -> Result<(Vec<f32>, Cache), String> {
        self.run_batch(new, 1, cache)
    }

    /// Runs `batch` sequences of `new.len() / batch` tokens each (row-major) after `cache`
    /// (whose batch dimension must match); returns logits `[batch, new, vocab]` flattened.
    fn run_batch(
        &mut self,
        new: &[u32],
        batch: usize,
        cache: Option<Cache>,
    ) -> Result<(Vec<f32>, Cache), String> {
        let (logits, cache) = self.run_batch_keeping(new, batch, cache, true)?;
        Ok((logits, cache.expect("a kept cache")))
    }

    /// The logits of `batch` sequences of `new.len() / batch` tokens each, run from the start
    /// with no cache kept (scoring): the new positions' keys and values are not copied out.
    fn score_batch(&mut self, new: &[u32], batch: usize) -> Result<Vec<f32>, String> {
        Ok(self.run_batch_keeping(new, batch, None, false)?.0)
    }

    /// [`NeuralGenerator::run_batch`], with the grown cache returned only when `keep` (else its
    /// storage goes back to the pool).
    fn run_batch_keeping(
        &mut self,
        new: &[u32],
        batch: usize,
        cache: Option<Cache>,
        keep: bool,
    ) -> Result<(Vec<f32>, Option<Cache>), String> {
        let ids: Vec<i64> = new.iter().map(|&t| t as i64).collect();
        let per_row = ids.len() / batch.max(1);
        let tokens = Tensor::from_array(([batch, per_row], ids)).map_err(|e| e.to_string())?;
        let cache = match cache {
            Some(cache) => cache,
            // A scoring run writes no positions: a one-position placeholder will do.
            None => self.empty_cache(batch, if keep { per_row } else { 1 })?,
        };
        let past = cache.length;
        match cache.store {
            Store::Growing { key, value } => {
                let mut outputs = self
                    .session
                    .run(ort::inputs![
                        "tokens" => tokens,
                        "past_key" => key,
                        "past_value" => value,
                    ])
                    .map_err(|e| e.to_string())?;
                let (_, logits) = outputs["logits"]
                    .try_extract_tensor::<f32>()
                    .map_err(|e| e.to_string())?;
                let logits = logits.to_vec();
                if !keep {
                    return Ok((logits, None));
                }
                let key = outputs
                    .remove("present_key")
                    .ok_or("no present_key output")?;
                let value = outputs
                    .remove("present_value")
                    .ok_or("no present_value output")?;
                Ok((
                    logits,
                    Some(Cache {
                        store: Store::Growing { key, value },
                        length: past + per_row,
                    }),
                ))
            }
            Store::InPlace(mut shared) => {
                let scalar = |n: usize| {
                    Tensor::from_array(([0usize; 0], vec![n as i64])).map_err(|e| e.to_string())
                };
                // Each layer's buffers are lent to the graph as they lie, one input each.
                let mut inputs = ort::inputs![
                    "tokens" => tokens,
                    "prompt_length" => scalar(shared.prompt_length)?,
                    "past_length" => scalar(shared.own_length)?,
                ];
                for (name, (shape, data)) in self.layer_inputs.iter().zip(shared.inputs()) {
                    let view =
                        TensorRef::from_array_view((shape, data)).map_err(|e| e.to_string())?;
                    inputs.push((name.as_str().into(), view.into()));
                }
                let outputs = self.session.run(inputs).map_err(|e| e.to_string())?;
                let extract = |name: &str| -> Result<&[f32], String> {
                    let (_, data) = outputs[name]
                        .try_extract_tensor::<f32>()
                        .map_err(|e| e.to_string())?;
                    Ok(data)
                };
                let logits = extract("logits")?.to_vec();
                if !keep {
                    drop(outputs);
                    self.pool.recycle(Cache {
                        store: Store::InPlace(shared),
                        length: past,
                    });
                    return Ok((logits, None));
                }
                // The new positions go from ONNX Runtime's outputs straight into the buffers.
                shared.append(
                    &mut self.pool,
                    per_row,
                    extract("new_key")?,
                    extract("new_value")?,
                );
                Ok((
                    logits,
                    Some(Cache {
                        store: Store::InPlace(shared),
                        length: past + per_row,
                    }),
                ))
            }
        }
    }

    /// An empty cache for `batch` rows; an in-place buffer gets room for the `first` positions
    /// the first call writes.
    fn empty_cache(&mut self, batch: usize, first: usize) -> Result<Cache, String> {
        let a = self.architecture;
        let store = match self.cache_kind {
            CacheKind::Growing => {
                let shape = [a.layers, batch, a.heads, 0, a.head_dim];
                let key =
                    Tensor::from_array((shape, Vec::<f32>::new())).map_err(|e| e.to_string())?;
                let value =
                    Tensor::from_array((shape, Vec::<f32>::new())).map_err(|e| e.to_string())?;
                Store::Growing {
                    key: key.into_dyn(),
                    value: value.into_dyn(),
                }
            }
            CacheKind::InPlace => {
                let dims = Dims {
                    layers: a.layers,
                    heads: a.heads,
                    head_dim: a.head_dim,
                };
                Store::InPlace(Shared::new(&mut self.pool, dims, batch, first))
            }
        };
        Ok(Cache { store, length: 0 })
    }

    /// The cache of `rows` sequences with each row continued by `repeat` rows (row 0's
    /// `repeat` rows, then row 1's …), so that variations share one prefill of the prompt (and of
    /// its unconditioned twin, with style guidance): a growing cache is copied `repeat` times; an
    /// in-place one is read where it is, and the new rows get positions of their own.
    fn tile(&mut self, cache: Cache, rows: usize, repeat: usize) -> Result<Cache, String> {
        let length = cache.length;
        let store = match cache.store {
            Store::Growing { key, value } => {
                let tiled: Vec<usize> = (0..rows)
                    .flat_map(|row| std::iter::repeat_n(row, repeat))
                    .collect();
                Store::Growing {
                    key: pick_rows(self.architecture, &key, length, &tiled)?,
                    value: pick_rows(self.architecture, &value, length, &tiled)?,
                }
            }
            Store::InPlace(mut shared) => {
                // The variations read the prompt's cache where it is; only their own positions
                // after it are theirs.
                shared.split(&mut self.pool, repeat);
                Store::InPlace(shared)
            }
        };
        Ok(Cache { store, length })
    }

    /// The logits after every token of `tokens` (one prompt run), row-major `[len, vocab]`.
    pub fn logits(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        if tokens.len() > self.architecture.context {
            return Err(format!(
                "{} tokens exceed the model's context",
                tokens.len()
            ));
        }
        self.score_batch(tokens, 1)
    }

    /// log p(token i | tokens before it) for i = 1..len, in one pass (teacher forcing).
    pub fn token_log_probs(&mut self, tokens: &[u32]) -> Result<Vec<f64>, String> {
        if tokens.len() > self.architecture.context {
            return Err(format!(
                "{} tokens exceed the model's context",
                tokens.len()
            ));
        }
        let logits = self.score_batch(tokens, 1)?;
        Ok(teacher_forced(
            &logits,
            tokens,
            self.architecture.vocab_size,
        ))
    }

    /// The cache of only `rows` of an unsplit `cache` (in that order): a growing cache's rows
    /// are copied out of the graph's output, an in-place one's prompt positions into a buffer
    /// of their own.
    fn select_rows(&mut self, cache: Cache, rows: &[usize]) -> Result<Cache, String> {
        let length = cache.length;
        let store = match cache.store {
            Store::Growing { key, value } => Store::Growing {
                key: pick_rows(self.architecture, &key, length, rows)?,
                value: pick_rows(self.architecture, &value, length, rows)?,
            },
            Store::InPlace(shared) => {
                let chosen = shared.select(&mut self.pool, rows);
                self.pool.recycle(Cache {
                    store: Store::InPlace(shared),
                    length,
                });
                Store::InPlace(chosen)
            }
        };
        Ok(Cache { store, length })
    }

    /// Auto's style: the one under which `prompt` (built with the style token `built_with`) is
    /// most likely.
    /// The five styled prompts run as one batch — with their "any style" twin as a sixth row
    /// under `guidance` — and the chosen style's rows are kept: returns the style, the (guided)
    /// logits for the first token after the prompt and the cache of its row (and the twin's),
    /// so the answer goes on without running the prompt again.
    fn choose_style(
        &mut self,
        prompt: &[u32],
        built_with: u32,
        guidance: Option<f32>,
    ) -> Result<(Style, Vec<f32>, Cache), GenerateError> {
        let v = self.architecture.vocab_size;
        let n = prompt.len();
        let with_token = |token: u32| with_style_token(prompt, built_with, token);
        let mut rows = Vec::with_capacity(tokens::STYLES.len() + 1);
        for style in tokens::STYLES {
            let token =
                tokens::style_token(style).map_err(|e| GenerateError::BadRequest(e.to_string()))?;
            rows.push(with_token(token));
        }
        let styles = rows.len();
        if guidance.is_some() {
            rows.push(with_token(tokens::ANY_STYLE));
        }
        let (logits, cache) = self
            .run_batch(&rows.concat(), rows.len(), None)
            .map_err(GenerateError::Backend)?;
        let row_logits = |row: usize| &logits[row * n * v..(row + 1) * n * v];
        let mut best = (f64::NEG_INFINITY, 0);
        for (row, tokens) in rows.iter().enumerate().take(styles) {
            let score: f64 = teacher_forced(row_logits(row), tokens, v).iter().sum();
            if score > best.0 {
                best = (score, row);
            }
        }
        let chosen = best.1;
        let mut last = row_logits(chosen)[(n - 1) * v..].to_vec();
        let kept = match guidance {
            Some(strength) => {
                guide(&mut last, &row_logits(styles)[(n - 1) * v..], strength);
                vec![chosen, styles]
            }
            None => vec![chosen],
        };
        let cache = self
            .select_rows(cache, &kept)
            .map_err(GenerateError::Backend)?;
        Ok((tokens::STYLES[chosen], last, cache))
    }
}

/// A growing cache's keys or values (`[layers, batch, heads, length, head_dim]`, the graph's
/// output) with only `rows` of its batch, in that order (a row may repeat).
fn pick_rows(
    a: Architecture,
    value: &DynValue,
    length: usize,
    rows: &[usize],
) -> Result<DynValue, String> {
    let (shape, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?;
    let batch = shape[1] as usize;
    let per_row = a.heads * length * a.head_dim;
    let mut picked = Vec::with_capacity(a.layers * rows.len() * per_row);
    for layer in data.chunks_exact(batch * per_row) {
        for &row in rows {
            picked.extend_from_slice(&layer[row * per_row..(row + 1) * per_row]);
        }
    }
    let shape = [a.layers, rows.len(), a.heads, length, a.head_dim];
    Ok(Tensor::from_array((shape, picked))
        .map_err(|e| e.to_string())?
        .into_dyn())
}

/// `prompt` with its style token (`from`, in its first two positions) replaced by `to`.
fn with_style_token(prompt: &[u32], from: u32, to: u32) -> Vec<u32> {
    let mut row = prompt.to_vec();
    if let Some(style) = row.iter_mut().take(2).find(|t| **t == from) {
        *style = to;
    }
    row
}

/// log p(token i | tokens before it) for i = 1..len, from one row's logits `[len, vocab]`.
fn teacher_forced(logits: &[f32], tokens: &[u32], vocab: usize) -> Vec<f64> {
    tokens
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &next)| log_softmax_at(&logits[(i - 1) * vocab..i * vocab], next as usize))
        .collect()
}

/// Classifier-free guidance in place: `conditioned + strength · (conditioned − unconditioned)`.
/// Tokens masked in either stay masked.
fn guide(conditioned: &mut [f32], unconditioned: &[f32], strength: f32) {
    for (c, u) in conditioned.iter_mut().zip(unconditioned) {
        *c += strength * (*c - *u);
        if !c.is_finite() {
            *c = f32::NEG_INFINITY;
        }
    }
}

fn log_softmax_at(row: &[f32], index: usize) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = row.iter().map(|&x| (x as f64 - max).exp()).sum();
    row[index] as f64 - max - sum.ln()
}

/// The prompt for a continuation starting at `start_tick` of `melody` (whose tick 0 is a bar
/// line): `STYLE TS BAR …` from the earliest bar that fits in `max_tokens`, through the notes of
/// the start bar that come before the start. An empty history starts a piece: `BOS STYLE TS BAR`.
pub fn build_prompt(
    melody: Option<&Melody>,
    style_token: u32,
    time_signature: TimeSignature,
    start_tick: u32,
    max_tokens: usize,
) -> Result<Vec<u32>, tokens::TokenError> {
    let ts_token = tokens::time_signature_token(time_signature)?;
    let bar_ticks = time_signature.bar_ticks();
    let start_bar = start_tick / bar_ticks;
    let notated = melody
        .map(|m| notation::notate(&m.notes, m.time_signature))
        .unwrap_or_default();
    let notes: Vec<&Note> = notated.iter().filter(|n| n.start < start_tick).collect();
    if notes.is_empty() {
        let mut prompt = vec![tokens::BOS, style_token, ts_token];
        // Empty bars up to the start keep the start's position in the bar meaningful.
        prompt.push(tokens::BAR);
        return Ok(prompt);
    }
    // Bars' tokens, from the start bar backwards, until the budget is used.
    let mut bars: Vec<Vec<u32>> = Vec::new();
    let mut used = 2;
    for bar in (0..=start_bar).rev() {
        let bar_start = bar * bar_ticks;
        let mut tokens_of_bar = vec![tokens::BAR];
        for note in notes
            .iter()
            .filter(|n| n.start >= bar_start && n.start < bar_start + bar_ticks)
        {
            let position = note.start - bar_start;
            if position >= tokens::MAX_POSITION {
                continue;
            }
            let duration = note
                .duration
                .min(start_tick - note.start)
                .clamp(1, tokens::MAX_DURATION);
            tokens_of_bar.extend([
                tokens::POS_BASE + position,
                tokens::PITCH_BASE + note.pitch.min(127) as u32,
                tokens::DUR_BASE + duration - 1,
            ]);
        }
        if used + tokens_of_bar.len() > max_tokens && !bars.is_empty() {
            break;
        }
        used += tokens_of_bar.len();
        bars.push(tokens_of_bar);
        if notes.first().is_some_and(|n| n.start >= bar_start) {
            break; // nothing earlier was played
        }
    }
    let mut prompt = vec![style_token, ts_token];
    for bar in bars.into_iter().rev() {
        prompt.extend(bar);
    }
    Ok(prompt)
}

/// What the grammar allows next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A note's POS, or the BAR that ends the current bar.
    PositionOrBar,
    Pitch,
    Duration,
}

/// Temperature, then top-p, then a draw. `logits` has already been masked (-inf where illegal).
fn sample(logits: &mut [f32], temperature: f32, top_p: f32, rng: &mut fastrand::Rng) -> usize {
    let temperature = temperature.max(1e-3);
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut order: Vec<(usize, f32)> = logits
        .iter()
        .enumerate()
        .filter(|(_, &l)| l.is_finite())
        .map(|(i, &l)| (i, ((l - max) / temperature).exp()))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: f32 = order.iter().map(|(_, p)| p).sum();
    let mut kept = 0.0;
    let mut cut = order.len();
    for (i, (_, p)) in order.iter().enumerate() {
        kept += p / total;
        if kept >= top_p {
            cut = i + 1;
            break;
        }
    }
    let order = &order[..cut.max(1)];
    let mass: f32 = order.iter().map(|(_, p)| p).sum();
    let mut target = rng.f32() * mass;
    for &(index, p) in order {
        if target < p {
            return index;
        }
        target -= p;
    }
    order[order.len() - 1].0
}

impl Generator for NeuralGenerator {
    fn name(&self) -> String {
        "Continuo melody model".to_string()
    }

    fn chosen_style(&self) -> Option<Style> {
        self.chosen_style
    }

    fn generate(
        &mut self,
        history: &[Melody],
        request: &GenerationRequest,
    ) -> Result<Phrase, GenerateError> {
        let mut phrases = self.generate_variations(history, request, &[request.seed])?;
        Ok(phrases.remove(0))
    }

    /// All variations in one batch: the prompt (and Auto's choice of style) is computed once,
    /// its KV cache is shared, and every sampling step runs the variations together.
    fn generate_variations(
        &mut self,
        history: &[Melody],
        request: &GenerationRequest,
        seeds: &[u64],
    ) -> Result<Vec<Phrase>, GenerateError> {
        if seeds.is_empty() {
            return Ok(Vec::new());
        }
        let mut plan = self.plan(history, request)?;
        let context = self.architecture.context;
        let v = self.architecture.vocab_size;
        let batch = seeds.len();
        // With style guidance every variation runs twice: with its style (rows 0..batch) and
        // with "any style" (rows batch..2·batch), fed the same tokens.
        let guidance = self.guidance(request);
        let rows = if guidance.is_some() { 2 } else { 1 };
        let (last, cache) = match plan.prefilled.take() {
            Some(prefilled) => prefilled,
            None => self.run_prompt(&plan.prompt, plan.style_token, guidance)?,
        };
        let mut cache = if batch > 1 {
            self.tile(cache, rows, batch)
                .map_err(GenerateError::Backend)?
        } else {
            cache
        };
        let mut decoders: Vec<Decoder> = seeds
            .iter()
            .map(|&seed| Decoder::new(&plan, seed, last.clone()))
            .collect();
        let mut choices = vec![tokens::BAR; batch];
        // Variations that reached a bar line once the context was nearly full: they go on
        // alone, each from a new prompt of its latest bars (see `continue_alone`).
        let mut parked = vec![false; batch];
        let mut sampled = 0;
        loop {
            let sliding = cache.length + SLIDE_MARGIN >= context;
            for ((decoder, choice), parked) in
                decoders.iter_mut().zip(&mut choices).zip(&mut parked)
            {
                if !decoder.done && !*parked {
                    *choice = decoder.step(&plan, request)?;
                    *parked = sliding && !decoder.done && *choice == tokens::BAR;
                } else {
                    *choice = tokens::BAR;
                }
            }
            sampled += 1;
            let waiting = decoders
                .iter()
                .zip(&parked)
                .any(|(d, parked)| !d.done && !parked);
            if !waiting || cache.length + 1 >= context {
                break;
            }
            // Finished and parked variations are fed a BAR and their outputs ignored.
            let fed = choices.repeat(rows);
            let (logits, next) = self
                .run_batch(&fed, batch * rows, Some(cache))
                .map_err(GenerateError::Backend)?;
            cache = next;
            let (conditioned, unconditioned) = logits.split_at(batch * v);
            for (i, (decoder, parked)) in decoders.iter_mut().zip(&parked).enumerate() {
                if !decoder.done && !parked {
                    decoder
                        .last
                        .copy_from_slice(&conditioned[i * v..(i + 1) * v]);
                    if let Some(strength) = guidance {
                        guide(
                            &mut decoder.last,
                            &unconditioned[i * v..(i + 1) * v],
                            strength,
                        );
                    }
                }
            }
        }
        self.pool.recycle(cache);
        for (decoder, parked) in decoders.iter_mut().zip(&parked) {
            if *parked {
                sampled += self.continue_alone(decoder, &plan, request)?;
            }
        }
        self.last_counts = (plan.prompt.len(), sampled);
        decoders.into_iter().map(|d| d.finish(&plan)).collect()
    }
}

/// What every variation of one request shares: the prompt and where the phrase lies.
struct Plan {
    /// The prompt's tokens (`BOS STYLE TS BAR …`), run once for all variations.
    prompt: Vec<u32>,
    /// The prompt already run (Auto runs it to choose its style): the (guided) logits for the
    /// first token after it and its cache, taken by the variations instead of a second run.
    prefilled: Option<(Vec<f32>, Cache)>,
    /// Where the phrase starts on the prompt's grid (ticks from its first bar line).
    start_tick: u32,
    /// One bar of the request's meter, in ticks (the grammar closes bars at this length).
    bar_ticks: u32,
    /// The phrase's length, and the tick where it ends on the prompt's grid.
    length_ticks: u32,
    phrase_end: u32,
    /// The player's recent mean velocity, given to every generated note before Feel shapes it
    /// (the model has none).
    velocity: u8,
    time_signature: TimeSignature,
    /// The style token the prompt was built with (Auto resolved), for re-prompting.
    style_token: u32,
    /// The played notes before the phrase (on the prompt's grid, moved by `shift`): with the
    /// notes generated so far they make the new prompt when a long phrase slides its context.
    before: Vec<Note>,
    /// Semitones (a whole number of octaves) the prompt was moved to sit where the model learnt
    /// melodies; the phrase is moved back. Bass lines go up, high leads come down.
    shift: i16,
    /// How the phrase may move, learnt from the player's own playing (see [`Bounds`]).
    bounds: Bounds,
    /// The player's interval patterns, and how strongly (in nats per unit of log-probability)
    /// they are blended into the model's pitch choices.
    motifs: MotifModel,
    motif_strength: f32,
    /// The player's last few pitches (moved by `shift`): the context the first notes' intervals
    /// are judged in.
    last_pitches: Vec<u8>,
    /// `before` read as notation: the bars an answer bar may restate.
    written_before: Vec<Note>,
    /// The chance that an answer bar restates the bar four (or two) bars before it, as folk
    /// tunes and riffs repeat their bars (part of Follow my motifs; 0 without it).
    restate: f64,
    /// The player's accents and articulation, and how much of them the phrase gets.
    feel: Option<Feel>,
    feel_amount: f32,
    /// Where and on what the phrase comes to rest, when it lands.
    landing: Option<Landing>,
    /// The player played more than one pitch: the phrase must too.
    prompt_moves: bool,
}

/// How a landing phrase ends (see [`GenerationRequest::landing`]): its last note starts on a beat
/// in the second half of the last bar, is a note of the tonic chord and is held to the end.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Landing {
    /// The earliest tick the landing note may start (half a bar, in whole beats, before the
    /// phrase's end) and the latest (a beat before it, so that it is held at least a beat).
    from: u32,
    latest: u32,
    /// The beat a musician counts (dotted quarters in 6/8): the landing note starts on one.
    beat: u32,
    /// Pitch classes of the prompt's tonic chord (all twelve when it has no clear key).
    stable: [bool; 12],
}

impl Landing {
    /// The landing of a phrase from `plan_start` to `end` (ticks on the prompt's grid) after
    /// the played notes `before`; `None` when no beat of its last bar can take a landing note.
    fn for_phrase(plan_start: u32, end: u32, ts: TimeSignature, before: &[Note]) -> Option<Self> {
        let (bar, beat) = (ts.bar_ticks(), ts.beat_ticks());
        let half = (bar / 2).div_ceil(beat).max(1) * beat;
        let from = end.saturating_sub(half).max(plan_start);
        let latest = end.checked_sub(beat)?;
        let landing = Landing {
            from,
            latest,
            beat,
            stable: detect_key(before).map_or([true; 12], |key| key.tonic_chord()),
        };
        (from..=latest)
            .any(|tick| landing.on_beat(tick, bar))
            .then_some(landing)
    }

    /// Whether `tick` (on the prompt's grid, bar lines at multiples of `bar`) starts a beat.
    fn on_beat(&self, tick: u32, bar: u32) -> bool {
        (tick % bar).is_multiple_of(self.beat)
    }

    /// Whether a note may land at `tick`.
    fn can_land_at(&self, tick: u32, bar: u32) -> bool {
        tick >= self.from && tick <= self.latest && self.on_beat(tick, bar)
    }
}

/// The limits a phrase keeps so that it continues the player's line, whatever the
/// temperature: all in the model's (shifted) pitch space.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    /// The lowest and highest pitch allowed: the register the player used, a fifth wider on
    /// each side.
    low: u8,
    high: u8,
    /// The largest interval allowed between consecutive notes: the player's own largest leap,
    /// and at least an octave.
    max_leap: u8,
    /// How many notes in a row may have the same pitch: one more than the player's longest
    /// run, and at least three (so a cold answer is never one stuck note).
    max_run: usize,
    /// The last pitch the player played, so the first note joins the prompt within a leap.
    last_pitch: Option<u8>,
}

impl Bounds {
    /// Where the model learnt its melodies (vocal and fiddle ranges): the prompt is moved by
    /// octaves until its recent mean is within a sixth of this.
    const MODEL_CENTRE: f64 = 67.0;

    /// The octave shift and the bounds for a prompt's notes (unshifted), for a model trained
    /// over `trained_range` (v2) or only around [`Self::MODEL_CENTRE`] (v1, `None`).
    fn for_prompt(notes: &[Note], trained_range: Option<(u8, u8)>) -> (i16, Bounds) {
        let recent = &notes[notes.len().saturating_sub(32)..];
        if recent.is_empty() {
            let bounds = Bounds {
                low: 0,
                high: 127,
                max_leap: 127,
                max_run: usize::MAX,
                last_pitch: None,
            };
            return (0, bounds);
        }
        let mean = recent.iter().map(|n| n.pitch as f64).sum::<f64>() / recent.len() as f64;
        let shift = match trained_range {
            // Moved only as far as it must to lie within what the model heard.
            Some((low, high)) => {
                let lowest = recent.iter().map(|n| n.pitch).min().unwrap_or(low) as i16;
                let highest = recent.iter().map(|n| n.pitch).max().unwrap_or(high) as i16;
                let mut shift = 0i16;
                while lowest + shift < low as i16 && highest + shift + 12 <= 127 {
                    shift += 12;
                }
                while highest + shift > high as i16 && lowest + shift - 12 >= 0 {
                    shift -= 12;
                }
                shift
            }
            None => {
                let octaves = ((Self::MODEL_CENTRE - mean) / 12.0).round() as i16;
                if (Self::MODEL_CENTRE - mean).abs() > 9.0 {
                    octaves * 12
                } else {
                    0
                }
            }
        };
        let moved = |p: u8| (p as i16 + shift).clamp(0, 127) as u8;
        let low = recent.iter().map(|n| moved(n.pitch)).min().unwrap_or(0);
        let high = recent.iter().map(|n| moved(n.pitch)).max().unwrap_or(127);
        let largest_leap = recent
            .windows(2)
            .map(|w| (w[1].pitch as i16 - w[0].pitch as i16).unsigned_abs() as u8)
            .max()
            .unwrap_or(0);
        let mut longest_run = 1;
        let mut run = 1;
        for w in recent.windows(2) {
            run = if w[1].pitch == w[0].pitch { run + 1 } else { 1 };
            longest_run = longest_run.max(run);
        }
        let bounds = Bounds {
            low: low.saturating_sub(7),
            high: high.saturating_add(7).min(127),
            max_leap: largest_leap.max(12),
            max_run: (longest_run + 1).max(3),
            last_pitch: recent.last().map(|n| moved(n.pitch)),
        };
        (shift, bounds)
    }
}

/// The chance, per unit of Follow my motifs, that an answer bar restates an earlier bar (0.15 at
/// the default 25 %: about the share of bars the test split's true continuations repeat).
const RESTATE_PER_FOLLOW: f32 = 0.8;

/// Tokens kept free in the context so that a variation can still reach its next bar line
/// (where its context can slide) after the context is nearly full: more than a bar of
/// sixteenths (16 notes, 49 tokens).
const SLIDE_MARGIN: usize = 64;

impl NeuralGenerator {
    /// The style strength to guide by: a v2 model (which knows "any style") and a strength
    /// above 0; `None` runs the model as trained.
    fn guidance(&self, request: &GenerationRequest) -> Option<f32> {
        let knows_any_style = self.architecture.vocab_size > tokens::ANY_STYLE as usize;
        let strength = request
            .style_strength
            .clamp(0.0, crate::generator::MAX_STYLE_STRENGTH);
        (knows_any_style && strength > 0.0).then_some(strength)
    }

    /// Runs `prompt` (and, with `guidance`, its twin with "any style" in place of
    /// `style_token`, as a second row); returns the (guided) logits for the first token after
    /// it and the cache (one or two rows).
    fn run_prompt(
        &mut self,
        prompt: &[u32],
        style_token: u32,
        guidance: Option<f32>,
    ) -> Result<(Vec<f32>, Cache), GenerateError> {
        let v = self.architecture.vocab_size;
        let n = prompt.len();
        let Some(strength) = guidance else {
            let (logits, cache) = self.run(prompt, None).map_err(GenerateError::Backend)?;
            return Ok((logits[(n - 1) * v..].to_vec(), cache));
        };
        let twin = with_style_token(prompt, style_token, tokens::ANY_STYLE);
        let (logits, cache) = self
            .run_batch(&[prompt, &twin].concat(), 2, None)
            .map_err(GenerateError::Backend)?;
        let mut last = logits[(n - 1) * v..n * v].to_vec();
        guide(&mut last, &logits[(2 * n - 1) * v..], strength);
        Ok((last, cache))
    }

    /// Finishes one variation that stands on a bar line with the context nearly full: a new
    /// prompt of its latest bars (the played notes and what it generated so far, bar-aligned,
    /// ending with the BAR it just wrote), then one token at a time, sliding again at the next
    /// bar line whenever the context fills. Returns the tokens sampled.
    fn continue_alone(
        &mut self,
        decoder: &mut Decoder,
        plan: &Plan,
        request: &GenerationRequest,
    ) -> Result<usize, GenerateError> {
        let context = self.architecture.context;
        let mut sampled = 0;
        while !decoder.done {
            let bar_line = decoder.bar_start;
            let bars_left = (plan.phrase_end - bar_line).div_ceil(plan.bar_ticks) as usize;
            let budget = (bars_left * 40 + 8).min(context / 2);
            let mut notes = plan.before.clone();
            notes.extend(decoder.found.iter().map(|n| Note {
                start: n.start + plan.start_tick,
                ..*n
            }));
            let melody = Melody {
                notes,
                time_signature: plan.time_signature,
            };
            let prompt = build_prompt(
                Some(&melody),
                plan.style_token,
                plan.time_signature,
                bar_line,
                context - budget,
            )
            .map_err(|e| GenerateError::BadRequest(e.to_string()))?;
            let guidance = self.guidance(request);
            let rows = if guidance.is_some() { 2 } else { 1 };
            let (last, mut cache) = self.run_prompt(&prompt, plan.style_token, guidance)?;
            decoder.last.copy_from_slice(&last);
            loop {
                let sliding = cache.length + SLIDE_MARGIN >= context;
                let choice = decoder.step(plan, request)?;
                sampled += 1;
                if decoder.done || (sliding && choice == tokens::BAR) {
                    self.pool.recycle(cache);
                    break;
                }
                if cache.length + 1 >= context {
                    // Not at a bar line and no room left: the phrase ends here.
                    self.pool.recycle(cache);
                    return Ok(sampled);
                }
                let (logits, next) = self
                    .run_batch(&vec![choice; rows], rows, Some(cache))
                    .map_err(GenerateError::Backend)?;
                cache = next;
                let (conditioned, unconditioned) = logits.split_at(logits.len() / rows);
                decoder.last.copy_from_slice(conditioned);
                if let Some(strength) = guidance {
                    guide(&mut decoder.last, unconditioned, strength);
                }
            }
        }
        Ok(sampled)
    }

    /// The style Auto chooses for continuing the last melody of `history` from `start_tick`
    /// (the style under which the prompt is most likely).
    pub fn auto_style(
        &mut self,
        history: &[Melody],
        start_tick: u32,
        time_signature: TimeSignature,
    ) -> Result<Style, GenerateError> {
        let request = GenerationRequest {
            length_bars: 1,
            time_signature,
            style: Style::Auto,
            temperature: 1.0,
            seed: 0,
            start_tick,
            pitch_filter: None,
            top_p: TOP_P,
            follow_motifs: 0.0,
            feel: 0.0,
            landing: false,
            // Guidance does not change the choice: no "any style" row to run.
            style_strength: 0.0,
        };
        let plan = self.plan(history, &request)?;
        if let Some((_, cache)) = plan.prefilled {
            self.pool.recycle(cache);
        }
        self.chosen_style
            .ok_or_else(|| GenerateError::Backend("no style chosen".into()))
    }

    /// Builds the prompt for `request` (choosing the style first when it is Auto) and what
    /// every variation shares.
    fn plan(
        &mut self,
        history: &[Melody],
        request: &GenerationRequest,
    ) -> Result<Plan, GenerateError> {
        if request.length_bars == 0 {
            return Err(GenerateError::BadRequest(
                "a phrase needs at least one bar".into(),
            ));
        }
        let ts = request.time_signature;
        let bar_ticks = ts.bar_ticks();
        tokens::time_signature_token(ts).map_err(|e| GenerateError::BadRequest(e.to_string()))?;
        let context = self.architecture.context;
        let length_ticks = request.length_ticks();
        // Room for the phrase: at most ~40 tokens a bar (13 notes), at most half the context.
        let budget = (request.length_bars as usize * 40 + 8).min(context / 2);
        let played = history.iter().rev().find(|m| !m.notes.is_empty());
        let (shift, bounds) = Bounds::for_prompt(
            &played
                .map(|m| {
                    m.notes
                        .iter()
                        .filter(|n| n.start < request.start_tick)
                        .copied()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            self.architecture.trained_range,
        );
        // The prompt as the model sees it: moved by whole octaves into its register.
        let moved = played.map(|m| Melody {
            notes: m
                .notes
                .iter()
                .map(|n| Note {
                    pitch: (n.pitch as i16 + shift).clamp(0, 127) as u8,
                    ..*n
                })
                .collect(),
            time_signature: m.time_signature,
        });
        let melody = moved.as_ref();
        let start_tick = if melody.is_some() {
            request.start_tick
        } else {
            0
        };
        let prompt_for = |style: Style| {
            let style_token =
                tokens::style_token(style).map_err(|e| GenerateError::BadRequest(e.to_string()))?;
            build_prompt(melody, style_token, ts, start_tick, context - budget)
                .map_err(|e| GenerateError::BadRequest(e.to_string()))
        };
        let (style, prefilled) = match request.style {
            Style::Auto => {
                let folk = tokens::style_token(Style::Folk)
                    .map_err(|e| GenerateError::BadRequest(e.to_string()))?;
                let (style, last, cache) =
                    self.choose_style(&prompt_for(Style::Folk)?, folk, self.guidance(request))?;
                (style, Some((last, cache)))
            }
            style => (style, None),
        };
        self.chosen_style = Some(style);
        let velocity = melody
            .map(|m| {
                let recent: Vec<u32> = m
                    .notes
                    .iter()
                    .rev()
                    .take(16)
                    .map(|n| n.velocity as u32)
                    .collect();
                (recent.iter().sum::<u32>() / recent.len().max(1) as u32).clamp(1, 127) as u8
            })
            .unwrap_or(100);
        // The played notes before the phrase (moved by `shift`), oldest first: the context for
        // sliding, the motif model and the feel.
        let before: Vec<Note> = melody
            .map(|m| {
                m.notes
                    .iter()
                    .filter(|n| n.start < start_tick)
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let played_pitches: Vec<u8> = before.iter().map(|n| n.pitch).collect();
        let feel = Feel::learn(&before, ts);
        let written_before = notation::notate(&before, ts);
        let landing = request
            .landing
            .then(|| Landing::for_phrase(start_tick, start_tick + length_ticks, ts, &before))
            .flatten();
        Ok(Plan {
            prompt: prompt_for(style)?,
            prefilled,
            start_tick,
            bar_ticks,
            length_ticks,
            phrase_end: start_tick + length_ticks,
            velocity,
            time_signature: ts,
            style_token: tokens::style_token(style)
                .map_err(|e| GenerateError::BadRequest(e.to_string()))?,
            before,
            shift,
            bounds,
            motifs: self.motif_model(&played_pitches),
            motif_strength: request.follow_motifs.clamp(0.0, 1.0) * crate::motifs::BLEND_WEIGHT,
            last_pitches: played_pitches[played_pitches.len().saturating_sub(4)..].to_vec(),
            written_before,
            restate: (request.follow_motifs.clamp(0.0, 1.0) * RESTATE_PER_FOLLOW) as f64,
            feel,
            feel_amount: request.feel,
            landing,
            prompt_moves: played_pitches
                .iter()
                .any(|&p| Some(&p) != played_pitches.first()),
        })
    }
}

/// One variation being sampled: the grammar state, its random stream and the notes so far.
struct Decoder {
    /// This variation's own random stream (seeded per variation, so each is reproducible).
    rng: fastrand::Rng,
    /// Logits for the next token (masked in place before sampling).
    last: Vec<f32>,
    /// Tick where the current bar starts, the last POS written in it, and which kind of token
    /// the grammar expects next.
    bar_start: u32,
    last_position: Option<u32>,
    expect: Expect,
    /// (absolute tick, pitch) of a note awaiting its duration.
    pending: Option<(u32, u8)>,
    found: Vec<Note>,
    /// The phrase's last bar has been closed.
    done: bool,
    /// The pitch of the last note (the player's last one at first) and how many notes in a row
    /// have had it, for the leap and repetition bounds.
    previous_pitch: Option<u8>,
    run: usize,
    /// The last four pitches (the player's, then the phrase's): the motif model's context.
    recent_pitches: Vec<u8>,
    /// Tokens chosen ahead (a bar being restated), given instead of sampling while the grammar
    /// allows them.
    forced: std::collections::VecDeque<u32>,
    /// The bar (its start tick) whose restating was last decided.
    restate_decided: Option<u32>,
    /// The note awaiting its pitch and duration is the landing note; the phrase has landed
    /// (nothing more may start).
    landing_note: bool,
    landed: bool,
    /// The last bar restates an earlier bar: it ends as that bar ended (the player's own
    /// cadence, when it is the call's last bar), not by the landing rule — unless the grammar
    /// or the bounds cut the restatement short.
    landing_waived: bool,
}

impl Decoder {
    fn new(plan: &Plan, seed: u64, last: Vec<f32>) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            last,
            bar_start: (plan.start_tick / plan.bar_ticks) * plan.bar_ticks,
            last_position: None,
            expect: Expect::PositionOrBar,
            pending: None,
            found: Vec::new(),
            done: false,
            previous_pitch: plan.bounds.last_pitch,
            run: 1,
            recent_pitches: plan.last_pitches.clone(),
            forced: std::collections::VecDeque::new(),
            restate_decided: None,
            landing_note: false,
            landed: false,
            landing_waived: false,
        }
    }

    /// How this variation lands, if it does.
    fn landing(&self, plan: &Plan) -> Option<Landing> {
        plan.landing.filter(|_| !self.landing_waived)
    }

    /// The pitch of every note of the phrase so far, when they all have one (and there is one).
    fn single_pitch(&self) -> Option<u8> {
        let first = self.found.first()?.pitch;
        self.found.iter().all(|n| n.pitch == first).then_some(first)
    }

    /// Whether closing the current bar now would leave a landing phrase without its landing
    /// note although one could still start in this bar.
    fn must_land_in_this_bar(&self, plan: &Plan) -> bool {
        let Some(landing) = self.landing(plan).filter(|_| !self.landed) else {
            return false;
        };
        let first = self
            .last_position
            .map_or(self.bar_start, |p| self.bar_start + p + 1);
        (first..self.bar_start + plan.bar_ticks).any(|t| landing.can_land_at(t, plan.bar_ticks))
    }

    /// At the start of a bar that lies wholly in the phrase: by chance (`plan.restate`), the
    /// tokens of the bar four bars back (or two, when there are not four), from the played notes
    /// or the phrase so far, if it holds more than one pitch and the range, scale and register
    /// allow them all.
    fn restatement(&mut self, plan: &Plan, pitch_ok: &dyn Fn(u8) -> bool) -> Vec<u32> {
        let bar = plan.bar_ticks;
        let start = self.bar_start;
        if self.restate_decided == Some(start)
            || start < plan.start_tick
            || start + bar > plan.phrase_end
        {
            return Vec::new();
        }
        self.restate_decided = Some(start);
        if plan.restate <= 0.0 || self.rng.f64() >= plan.restate {
            return Vec::new();
        }
        let whole = |from: u32| from + bar <= plan.start_tick || from >= plan.start_tick;
        let Some(from) = [4, 2]
            .iter()
            .filter_map(|&k| start.checked_sub(k * bar))
            .find(|&from| whole(from))
        else {
            return Vec::new();
        };
        let notes: Vec<Note> = if from >= plan.start_tick {
            self.found
                .iter()
                .map(|n| Note {
                    start: n.start + plan.start_tick,
                    ..*n
                })
                .filter(|n| n.start >= from && n.start < from + bar)
                .collect()
        } else {
            plan.written_before
                .iter()
                .filter(|n| n.start >= from && n.start < from + bar)
                .copied()
                .collect()
        };
        let fits = |n: &Note| {
            pitch_ok(n.pitch) && n.pitch >= plan.bounds.low && n.pitch <= plan.bounds.high
        };
        // A bar of one repeated pitch is not restated: an answer is never one stuck note by it.
        let moves = notes.iter().any(|n| n.pitch != notes[0].pitch);
        if !moves || !notes.iter().all(fits) {
            return Vec::new();
        }
        if start + bar >= plan.phrase_end {
            self.landing_waived = true;
        }
        notes
            .iter()
            .flat_map(|n| {
                let position = n.start - from;
                let duration = n
                    .duration
                    .min(bar - position)
                    .clamp(1, tokens::MAX_DURATION);
                [
                    tokens::POS_BASE + position,
                    tokens::PITCH_BASE + n.pitch as u32,
                    tokens::DUR_BASE + duration - 1,
                ]
            })
            .collect()
    }

    /// Masks the logits by the grammar, samples a token and applies it; returns the token.
    fn step(&mut self, plan: &Plan, request: &GenerationRequest) -> Result<u32, GenerateError> {
        // The request's range and scale apply to the pitch the player will hear (moved back).
        let pitch_ok = |pitch: u8| {
            let heard = pitch as i16 - plan.shift;
            (0..=127).contains(&heard)
                && request
                    .pitch_filter
                    .as_ref()
                    .is_none_or(|f| f.allows(heard as u8))
        };
        let bounds = plan.bounds;
        let (previous, run) = (self.previous_pitch, self.run);
        let within_bounds = |pitch: u8| {
            pitch >= bounds.low
                && pitch <= bounds.high
                && previous.is_none_or(|last| {
                    (pitch as i16 - last as i16).unsigned_abs() as u8 <= bounds.max_leap
                        && !(pitch == last && run >= bounds.max_run)
                })
        };
        // The bounds give way only where nothing the filter allows is inside them.
        let bounded =
            self.expect != Expect::Pitch || (0..=127u8).any(|p| pitch_ok(p) && within_bounds(p));
        let (bar_start, last_position, expect) = (self.bar_start, self.last_position, self.expect);
        // Landing: no bar closes before the landing note while one can still start in it; in
        // the landing window notes start only on beats (the first is the landing note), which
        // takes a tonic-chord pitch (where the bounds and filter allow one) and is held to the
        // end; after it nothing starts.
        let landing = self.landing(plan).filter(|_| !self.landed);
        let landed = self.landed;
        let must_land = self.must_land_in_this_bar(plan);
        let landing_note = self.landing(plan).filter(|_| self.landing_note);
        let stable_ok = |p: u8| pitch_ok(p) && (!bounded || within_bounds(p));
        let stable = landing_note
            .map(|l| l.stable)
            .filter(|stable| (0..=127u8).any(|p| stable[(p % 12) as usize] && stable_ok(p)));
        let landing_duration = self
            .pending
            .filter(|_| self.landing_note)
            .map(|(tick, _)| (plan.phrase_end - tick).clamp(1, tokens::MAX_DURATION));
        // Never one stuck note (unless the player played one): in the last bar, an answer that
        // has had one pitch so far does not end until it has another, and its landing note (the
        // last, even where the phrase ends a few ticks into the next bar) takes another.
        let pitch_allowed = |p: u8| {
            stable_ok(p) && stable.is_none_or(|stable: [bool; 12]| stable[(p % 12) as usize])
        };
        let last_bar = bar_start + plan.bar_ticks >= plan.phrase_end;
        let stuck = self
            .single_pitch()
            .filter(|_| plan.prompt_moves && (last_bar || landing_note.is_some()));
        let avoid = stuck.filter(|&p| {
            expect == Expect::Pitch && (0..=127u8).any(|q| q != p && pitch_allowed(q))
        });
        let bar_logit = self.last[tokens::BAR as usize];
        for (id, logit) in self.last.iter_mut().enumerate() {
            let allowed = match (expect, tokens::token(id as u32)) {
                (Expect::PositionOrBar, Ok(Token::Bar)) => !must_land && stuck.is_none(),
                (Expect::PositionOrBar, Ok(Token::Position(p))) => {
                    let tick = bar_start + p;
                    p < plan.bar_ticks
                        && tick >= plan.start_tick
                        && tick < plan.phrase_end
                        && last_position.is_none_or(|last| p > last)
                        && !landed
                        && landing
                            .is_none_or(|l| tick < l.from || l.can_land_at(tick, plan.bar_ticks))
                }
                (Expect::Pitch, Ok(Token::Pitch(p))) => pitch_allowed(p) && avoid != Some(p),
                (Expect::Duration, Ok(Token::Duration(d))) => {
                    landing_duration.is_none_or(|l| d == l)
                }
                _ => false,
            };
            if !allowed {
                *logit = f32::NEG_INFINITY;
            }
        }
        if expect == Expect::PositionOrBar && self.last.iter().all(|l| !l.is_finite()) {
            // No note can start in this bar any more: it closes, stuck or not.
            self.last[tokens::BAR as usize] = bar_logit;
        }
        if self.last.iter().all(|l| !l.is_finite()) {
            // The pitch filter excludes everything: no note can be written.
            return Err(GenerateError::BadRequest(
                "the pitch range and scale allow no note".into(),
            ));
        }
        if self.expect == Expect::PositionOrBar && self.last_position.is_none() {
            let tokens = self.restatement(plan, &pitch_ok);
            self.forced.extend(tokens);
        }
        if let Some(&forced) = self.forced.front() {
            if self.last[forced as usize].is_finite() {
                self.forced.pop_front();
                return Ok(self.apply(plan, forced));
            }
            // The grammar or the bounds refuse it here: the model goes on by itself, and a last
            // bar that is not restated after all lands again (the mask is taken once more).
            self.forced.clear();
            if std::mem::take(&mut self.landing_waived) {
                return self.step(plan, request);
            }
        }
        if self.expect == Expect::Pitch && plan.motif_strength > 0.0 && !plan.motifs.is_empty() {
            if let Some(&last) = self.recent_pitches.last() {
                let intervals: Vec<i16> = self
                    .recent_pitches
                    .windows(2)
                    .map(|w| w[1] as i16 - w[0] as i16)
                    .collect();
                for pitch in 0..=127u8 {
                    let logit = &mut self.last[(tokens::PITCH_BASE + pitch as u32) as usize];
                    if logit.is_finite() {
                        let p = plan
                            .motifs
                            .probability(&intervals, pitch as i16 - last as i16);
                        *logit += plan.motif_strength * p.ln() as f32;
                    }
                }
            }
        }
        let choice = sample(
            &mut self.last,
            request.temperature,
            request.top_p.clamp(0.05, 1.0),
            &mut self.rng,
        ) as u32;
        Ok(self.apply(plan, choice))
    }

    /// Takes `choice` (a token the grammar allows) as the next token of this variation.
    fn apply(&mut self, plan: &Plan, choice: u32) -> u32 {
        match tokens::token(choice) {
            Ok(Token::Bar) => {
                self.bar_start += plan.bar_ticks;
                self.last_position = None;
                if self.bar_start >= plan.phrase_end {
                    self.done = true;
                }
            }
            Ok(Token::Position(p)) => {
                self.last_position = Some(p);
                let tick = self.bar_start + p;
                self.pending = Some((tick, 0));
                self.landing_note = self.landing(plan).is_some_and(|l| tick >= l.from);
                self.expect = Expect::Pitch;
            }
            Ok(Token::Pitch(p)) => {
                if let Some(pending) = &mut self.pending {
                    pending.1 = p;
                }
                self.run = if self.previous_pitch == Some(p) {
                    self.run + 1
                } else {
                    1
                };
                self.previous_pitch = Some(p);
                self.recent_pitches.push(p);
                if self.recent_pitches.len() > 4 {
                    self.recent_pitches.remove(0);
                }
                self.expect = Expect::Duration;
            }
            Ok(Token::Duration(d)) => {
                self.landed |= std::mem::take(&mut self.landing_note);
                if let Some((tick, pitch)) = self.pending.take() {
                    self.found.push(Note {
                        start: tick - plan.start_tick,
                        duration: d.min(plan.phrase_end - tick).max(1),
                        pitch,
                        velocity: plan.velocity,
                    });
                }
                self.expect = Expect::PositionOrBar;
            }
            _ => unreachable!("masked"),
        }
        choice
    }

    fn finish(mut self, plan: &Plan) -> Result<Phrase, GenerateError> {
        // Cut notes where the next begins (the model may let a note ring over the next onset).
        for i in 0..self.found.len().saturating_sub(1) {
            let next = self.found[i + 1].start;
            if self.found[i].end() > next {
                self.found[i].duration = next - self.found[i].start;
            }
        }
        for note in &mut self.found {
            note.pitch = (note.pitch as i16 - plan.shift).clamp(0, 127) as u8;
        }
        if let Some(feel) = &plan.feel {
            feel.render(
                &mut self.found,
                plan.start_tick,
                plan.time_signature,
                plan.feel_amount,
            );
        }
        let phrase = Phrase {
            notes: self.found,
            length_ticks: plan.length_ticks,
            time_signature: plan.time_signature,
            timing: Vec::new(),
        };
        phrase.validate().map_err(GenerateError::InvalidPhrase)?;
        Ok(phrase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::PitchFilter;
    use crate::key::{Key, Mode};

    /// The neural tests need ONNX Runtime: `cargo xtask test` fetches it and sets
    /// CONTINUO_ORT_PATH.
    fn generator() -> NeuralGenerator {
        match NeuralGenerator::load() {
            Ok(generator) => generator,
            Err(why) => panic!("{why} (run the tests with `cargo xtask test`, which provides it)"),
        }
    }

    /// Ode to Joy's first four bars in 4/4, quarter notes.
    fn ode() -> Melody {
        let pitches = [64u8, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62];
        let mut notes = Melody::evenly_spaced(&pitches, 12, 90).notes;
        notes[12].duration = 18;
        notes[13].start = 12 * 12 + 18;
        notes[13].duration = 6;
        notes[14].duration = 24;
        Melody {
            notes,
            time_signature: TimeSignature::default(),
        }
    }

    fn request(seed: u64, temperature: f32, style: Style) -> GenerationRequest {
        GenerationRequest {
            length_bars: 4,
            time_signature: TimeSignature::default(),
            style,
            temperature,
            seed,
            start_tick: 4 * 48,
            pitch_filter: None,
            top_p: TOP_P,
            follow_motifs: crate::generator::DEFAULT_FOLLOW_MOTIFS,
            feel: crate::generator::DEFAULT_FEEL,
            landing: false,
            style_strength: crate::generator::DEFAULT_STYLE_STRENGTH,
        }
    }

    /// A tiny untrained model (`models/tiny.py`) exported with the growing or the in-place cache.
    fn tiny(cache: &str) -> NeuralGenerator {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/models")
            .join(cache)
            .join("tiny.onnx");
        NeuralGenerator::from_file(&path).unwrap_or_else(|why| panic!("{why}"))
    }

    #[test]
    fn both_cache_interfaces_play_the_same_notes() {
        let mut growing = tiny("growing");
        let mut in_place = tiny("in-place");
        assert_eq!(growing.cache_kind(), CacheKind::Growing);
        assert_eq!(in_place.cache_kind(), CacheKind::InPlace);
        let history = [ode()];
        // The same logits for a prompt.
        let prompt: Vec<u32> = build_prompt(
            Some(&history[0]),
            tokens::STYLE_BASE,
            TimeSignature::default(),
            192,
            400,
        )
        .unwrap();
        let (a, b) = (
            growing.logits(&prompt).unwrap(),
            in_place.logits(&prompt).unwrap(),
        );
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-4, "logits differ by {worst}");
        // The same variations, with style guidance (two rows each): 4 bars (the variations
        // share the prompt's cache), one variation (its positions follow the prompt's), and 16
        // bars after a 20-bar prompt (the buffers grow several times).
        // 20 bars of 4/2 in eighth notes: a long prompt, and long bars to fill.
        let long_history = [Melody {
            notes: Melody::evenly_spaced(&[60, 62, 64, 65, 67, 65, 64, 62].repeat(20), 6, 90).notes,
            time_signature: TimeSignature {
                numerator: 4,
                denominator: 2,
            },
        }];
        for (bars, seeds) in [(4, vec![1, 2, 3, 4]), (4, vec![9]), (16, vec![5, 6])] {
            let history = if bars == 4 { &history } else { &long_history };
            let request = GenerationRequest {
                length_bars: bars,
                style_strength: 1.5,
                start_tick: if bars == 4 { 4 * 48 } else { 20 * 96 },
                time_signature: history[0].time_signature,
                ..request(7, 1.5, Style::Celtic)
            };
            let one = growing
                .generate_variations(history, &request, &seeds)
                .unwrap();
            let other = in_place
                .generate_variations(history, &request, &seeds)
                .unwrap();
            assert_eq!(one.len(), seeds.len());
            for (x, y) in one.iter().zip(&other) {
                assert!(!x.notes.is_empty());
                assert_eq!(x.notes, y.notes, "{bars} bars");
            }
            // And again, from the storage the first phrases left behind.
            let again = in_place
                .generate_variations(history, &request, &seeds)
                .unwrap();
            assert_eq!(
                again.iter().map(|p| &p.notes).collect::<Vec<_>>(),
                other.iter().map(|p| &p.notes).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn auto_goes_on_from_the_run_that_chose_its_style() {
        let history = [ode()];
        for cache in ["growing", "in-place"] {
            let mut generator = tiny(cache);
            for strength in [0.0, 1.5] {
                let auto = GenerationRequest {
                    style_strength: strength,
                    start_tick: 4 * 48,
                    ..request(3, 1.2, Style::Auto)
                };
                let answers = generator
                    .generate_variations(&history, &auto, &[1, 2, 3])
                    .unwrap();
                let chosen = generator.chosen_style().unwrap();
                // The style under which the prompt is likeliest, scored one style at a time.
                let prompt_for = |style| {
                    build_prompt(
                        Some(&history[0]),
                        tokens::style_token(style).unwrap(),
                        TimeSignature::default(),
                        4 * 48,
                        400,
                    )
                    .unwrap()
                };
                let scores: Vec<f64> = tokens::STYLES
                    .iter()
                    .map(|&style| {
                        let log_probs = generator.token_log_probs(&prompt_for(style)).unwrap();
                        log_probs.iter().sum()
                    })
                    .collect();
                let likeliest = (0..5).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
                assert_eq!(
                    Some(chosen),
                    likeliest.map(|i| tokens::STYLES[i]),
                    "{scores:?}"
                );
                assert_eq!(
                    generator
                        .auto_style(&history, 4 * 48, TimeSignature::default())
                        .unwrap(),
                    chosen
                );
                // Going on from the scoring run plays what a request for that style plays.
                let explicit = GenerationRequest {
                    style: chosen,
                    ..auto.clone()
                };
                let again = generator
                    .generate_variations(&history, &explicit, &[1, 2, 3])
                    .unwrap();
                for (x, y) in answers.iter().zip(&again) {
                    assert!(!x.notes.is_empty());
                    assert_eq!(x.notes, y.notes, "{cache}, strength {strength}");
                }
            }
        }
    }

    #[test]
    fn the_prompt_is_bar_aligned_and_ends_at_the_start() {
        let melody = ode();
        let prompt = build_prompt(
            Some(&melody),
            tokens::STYLE_BASE,
            TimeSignature::default(),
            192,
            400,
        )
        .unwrap();
        assert_eq!(
            &prompt[..3],
            &[tokens::STYLE_BASE, tokens::TS_BASE + 17, tokens::BAR]
        );
        assert_eq!(prompt.iter().filter(|&&t| t == tokens::BAR).count(), 5);
        assert_eq!(
            *prompt.last().unwrap(),
            tokens::BAR,
            "ends with the BAR opening bar 5"
        );
        let decoded = tokens::decode(&prompt).unwrap();
        assert_eq!(decoded.notes.len(), 15);
        // A tight budget keeps the most recent bars only.
        let short = build_prompt(
            Some(&melody),
            tokens::STYLE_BASE,
            TimeSignature::default(),
            192,
            20,
        )
        .unwrap();
        assert!(short.len() <= 20, "{}", short.len());
        assert_eq!(
            tokens::decode(&short).unwrap().notes.last().unwrap().pitch,
            62
        );
        // An empty history starts a piece.
        let empty =
            build_prompt(None, tokens::STYLE_BASE, TimeSignature::default(), 0, 400).unwrap();
        assert_eq!(empty[0], tokens::BOS);
    }

    #[test]
    fn generates_valid_phrases_deterministically() {
        let mut neural = generator();
        // The shipped model's vocabulary is v1's (every token but "any style") or v2's.
        assert!([tokens::V1_VOCAB_SIZE, tokens::VOCAB_SIZE]
            .contains(&(neural.architecture().vocab_size as u32)));
        let history = [ode()];
        let a = neural
            .generate(&history, &request(7, 1.0, Style::Folk))
            .unwrap();
        let b = neural
            .generate(&history, &request(7, 1.0, Style::Folk))
            .unwrap();
        assert_eq!(a, b, "the same seed gives the same phrase");
        assert_eq!(a.length_ticks, 4 * 48);
        assert!(!a.notes.is_empty());
        assert_eq!(a.validate(), Ok(()));
        let others: Vec<Phrase> = (0..6)
            .map(|seed| {
                neural
                    .generate(&history, &request(seed, 1.5, Style::Folk))
                    .unwrap()
            })
            .collect();
        assert!(
            others.iter().any(|p| p != &others[0]),
            "hot sampling explores"
        );
        // Auto picks a style and still makes a valid phrase.
        let auto = neural
            .generate(&history, &request(3, 1.0, Style::Auto))
            .unwrap();
        assert_eq!(auto.validate(), Ok(()));
    }

    #[test]
    fn a_model_file_that_cannot_be_read_is_a_clear_reason() {
        let dir = std::env::temp_dir().join(format!("continuo-model-file-{}", std::process::id()));
        // Process ids come round again (under Wine, often): start from an empty folder.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let missing = NeuralGenerator::from_file(&dir.join("none.onnx"))
            .err()
            .unwrap();
        assert!(missing.0.starts_with("the model at "), "{missing}");
        let model = dir.join("alone.onnx");
        std::fs::write(&model, MODEL_BYTES).unwrap();
        let no_metadata = NeuralGenerator::from_file(&model).err().unwrap();
        assert!(no_metadata.0.contains("metadata"), "{no_metadata}");
        std::fs::write(model.with_extension("json"), MODEL_METADATA).unwrap();
        assert!(
            NeuralGenerator::from_file(&model).is_ok(),
            "the shipped pair loads from files"
        );
    }

    #[test]
    fn variations_in_one_batch_are_valid_distinct_and_reproducible() {
        let mut neural = generator();
        let history = [ode()];
        let seeds = [11, 12, 13, 14];
        let a = neural
            .generate_variations(&history, &request(0, 1.3, Style::Folk), &seeds)
            .unwrap();
        let b = neural
            .generate_variations(&history, &request(0, 1.3, Style::Folk), &seeds)
            .unwrap();
        assert_eq!(a, b, "the same seeds give the same variations");
        assert_eq!(a.len(), 4);
        for phrase in &a {
            assert_eq!(phrase.validate(), Ok(()));
            assert_eq!(phrase.length_ticks, 4 * 48);
            assert!(!phrase.notes.is_empty());
        }
        assert!(a.iter().any(|p| p != &a[0]), "variations differ");
        // A batch of one is exactly `generate`.
        let one = neural
            .generate_variations(&history, &request(0, 1.3, Style::Folk), &[21])
            .unwrap();
        let single = neural
            .generate(&history, &request(21, 1.3, Style::Folk))
            .unwrap();
        assert_eq!(one, vec![single]);
    }

    #[test]
    fn style_and_temperature_change_the_next_phrase() {
        let mut neural = generator();
        let history = [ode()];
        let differs = |neural: &mut NeuralGenerator,
                       a: fn(u64) -> GenerationRequest,
                       b: fn(u64) -> GenerationRequest| {
            (0..3).any(|seed| {
                neural.generate(&history, &a(seed)).unwrap()
                    != neural.generate(&history, &b(seed)).unwrap()
            })
        };
        assert!(differs(
            &mut neural,
            |s| request(s, 1.0, Style::Folk),
            |s| request(s, 1.0, Style::Renaissance)
        ));
        assert!(differs(
            &mut neural,
            |s| request(s, 0.1, Style::Folk),
            |s| request(s, 2.0, Style::Folk)
        ));
    }

    #[test]
    fn scale_lock_and_range_are_obeyed() {
        let mut neural = generator();
        let c_major = Key {
            tonic: 0,
            mode: Mode::Major,
        };
        let filter = PitchFilter {
            low: 55,
            high: 76,
            scale: Some(c_major.scale()),
        };
        for seed in 0..4 {
            let mut req = request(seed, 2.0, Style::Celtic);
            req.pitch_filter = Some(filter);
            let phrase = neural.generate(&[ode()], &req).unwrap();
            for note in &phrase.notes {
                assert!(
                    filter.allows(note.pitch),
                    "{} breaks the filter",
                    note.pitch
                );
            }
        }
    }

    #[test]
    fn bad_models_and_metadata_are_reported() {
        let vocab = format!(
            "\"vocab_size\": {}",
            Architecture::from_metadata(MODEL_METADATA)
                .unwrap()
                .vocab_size
        );
        let bad_vocab = MODEL_METADATA.replacen(&vocab, "\"vocab_size\": 580", 1);
        assert_ne!(bad_vocab, MODEL_METADATA);
        let error = NeuralGenerator::from_parts(MODEL_BYTES, &bad_vocab)
            .err()
            .unwrap();
        assert!(error.0.contains("vocabulary"), "{error}");
        let error = NeuralGenerator::from_parts(b"not a model", MODEL_METADATA)
            .err()
            .unwrap();
        assert!(error.0.contains("could not be loaded"), "{error}");
        let error = NeuralGenerator::from_parts(MODEL_BYTES, "{}")
            .err()
            .unwrap();
        assert!(error.0.contains("lacks"), "{error}");
    }

    #[test]
    fn sixteen_bars_of_sixteenths_fill_sixteen_bars() {
        // A line of sixteenths (4 bars, 64 notes): a 16-bar answer in kind needs far more tokens
        // than the 512-position context holds, so the context slides at bar lines.
        let pitches: Vec<u8> = (0..64)
            .map(|i| [60u8, 62, 64, 65, 67, 69, 71, 72][(i % 14).min(13 - i % 14) % 8])
            .collect();
        let line = Melody::evenly_spaced(&pitches, 3, 90);
        let mut neural = generator();
        for seed in [1, 2] {
            let request = GenerationRequest {
                length_bars: 16,
                ..request(seed, 1.0, Style::Celtic)
            };
            let phrases = neural
                .generate_variations(std::slice::from_ref(&line), &request, &[seed, seed + 10])
                .unwrap();
            for phrase in phrases {
                let last_end = phrase.notes.last().map_or(0, |n| n.end());
                assert!(
                    last_end > 15 * 48,
                    "seed {seed}: the answer stops at tick {last_end} of {}",
                    16 * 48
                );
                // No bar left empty by running out of context: no gap longer than two bars.
                let mut previous_end = 0;
                for note in &phrase.notes {
                    assert!(note.start - previous_end.min(note.start) <= 2 * 48);
                    previous_end = previous_end.max(note.end());
                }
            }
        }
    }

    /// Four bars of an eighth-note riff (two bars long) from `base`.
    fn riff(pattern: &[i16], base: i16) -> Melody {
        let pitches: Vec<u8> = (0..32)
            .map(|i| (base + pattern[i % pattern.len()]) as u8)
            .collect();
        Melody::evenly_spaced(&pitches, 6, 100)
    }

    /// The largest interval in `notes`, starting from `from`.
    fn largest_leap(from: u8, notes: &[Note]) -> u8 {
        let mut previous = from;
        let mut largest = 0;
        for note in notes {
            largest = largest.max((note.pitch as i16 - previous as i16).unsigned_abs() as u8);
            previous = note.pitch;
        }
        largest
    }

    fn mean_pitch(notes: &[Note]) -> f64 {
        notes.iter().map(|n| n.pitch as f64).sum::<f64>() / notes.len() as f64
    }

    #[test]
    fn with_follow_my_motifs_answers_restate_bars_as_tunes_do() {
        let hook = [0, 0, 12, 0, 10, 0, 7, 0, 3, 5, 7, 3, 2, 0, -2, 0];
        let line = riff(&hook, 57);
        let bar_of = |notes: &[Note], start: u32| -> Vec<(u32, u8)> {
            notes
                .iter()
                .filter(|n| n.start >= start && n.start < start + 48)
                .map(|n| (n.start - start, n.pitch))
                .collect()
        };
        let mut neural = generator();
        let mut restated = 0;
        for seed in 1..=4 {
            let request = GenerationRequest {
                follow_motifs: 1.0,
                ..request(seed, 1.0, Style::Auto)
            };
            let phrase = neural
                .generate(std::slice::from_ref(&line), &request)
                .unwrap();
            // Answer bar k against the played bar four bars before it (bar k of the prompt).
            for k in 0..4u32 {
                let answer = bar_of(&phrase.notes, k * 48);
                if !answer.is_empty() && answer == bar_of(&line.notes, k * 48) {
                    restated += 1;
                }
            }
        }
        // At 100 % a bar is restated with probability 0.8: about 13 of 16.
        assert!(restated >= 8, "{restated} of 16 bars restated");
    }

    /// A melody in `ts` from `pitches`, one note per beat (`beat` ticks), from tick 0.
    fn in_meter(pitches: &[u8], beat: u32, ts: TimeSignature) -> Melody {
        Melody {
            time_signature: ts,
            ..Melody::evenly_spaced(pitches, beat, 90)
        }
    }

    #[test]
    fn landing_phrases_end_on_a_held_tonic_chord_note_on_a_late_beat() {
        let ts = |n: i32, d: i32| TimeSignature::sanitized(n, d);
        // C major in 4/4 and 2/4, A minor in 3/4, G major in 6/8 (counted in dotted quarters),
        // and a bass line in C minor: (melody, meter, tonic chord pitch classes).
        let c_major = [
            60u8, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 62, 60,
        ];
        let a_minor = [
            57u8, 60, 64, 69, 68, 69, 64, 60, 57, 59, 60, 62, 64, 60, 59, 57,
        ];
        let g_major = [
            67u8, 71, 74, 72, 71, 69, 67, 66, 67, 71, 69, 66, 67, 62, 67, 67,
        ];
        let c_minor_bass = [
            36u8, 39, 43, 41, 39, 38, 36, 43, 36, 39, 43, 44, 43, 39, 38, 36,
        ];
        let cases = [
            (in_meter(&c_major, 12, ts(4, 4)), [0, 4, 7]),
            (in_meter(&c_major, 12, ts(2, 4)), [0, 4, 7]),
            (in_meter(&a_minor, 12, ts(3, 4)), [9, 0, 4]),
            (in_meter(&g_major, 18, ts(6, 8)), [7, 11, 2]),
            (in_meter(&c_minor_bass, 12, ts(4, 4)), [0, 3, 7]),
        ];
        let mut neural = generator();
        for (melody, chord) in cases {
            let meter = melody.time_signature;
            let (bar, beat) = (meter.bar_ticks(), meter.beat_ticks());
            let played_bars = melody.notes.last().unwrap().end().div_ceil(bar);
            // From the bar line after the playing, and from the middle of a bar.
            for start_tick in [played_bars * bar, melody.notes[9].start] {
                // (Without Follow my motifs: a last bar that restates an earlier one ends as
                // that bar ended.)
                let request = GenerationRequest {
                    time_signature: meter,
                    start_tick,
                    length_bars: 2,
                    landing: true,
                    follow_motifs: 0.0,
                    ..request(0, 1.0, Style::Auto)
                };
                let phrases = neural
                    .generate_variations(std::slice::from_ref(&melody), &request, &[1, 2, 3, 4])
                    .unwrap();
                for phrase in phrases {
                    let what = format!("{meter:?} from {start_tick}: {:?}", phrase.notes);
                    let last = phrase.notes.last().expect(&what);
                    let (onset, end) = (start_tick + last.start, start_tick + last.end());
                    assert_eq!(
                        end,
                        start_tick + phrase.length_ticks,
                        "held to the end: {what}"
                    );
                    assert_eq!(onset % bar % beat, 0, "on a beat: {what}");
                    assert!(last.duration >= beat, "held a beat or more: {what}");
                    assert!(
                        last.duration <= (bar / 2).div_ceil(beat) * beat,
                        "in the second half of the last bar: {what}"
                    );
                    assert!(chord.contains(&(last.pitch % 12)), "tonic chord: {what}");
                }
            }
        }
        // Without landing, phrases end as the model likes: not always on a held note.
        let melody = in_meter(&c_major, 12, ts(4, 4));
        let request = GenerationRequest {
            length_bars: 2,
            ..request(0, 1.0, Style::Auto)
        };
        let seeds: Vec<u64> = (1..=8).collect();
        let free = neural
            .generate_variations(std::slice::from_ref(&melody), &request, &seeds)
            .unwrap();
        assert!(
            free.iter()
                .any(|p| p.notes.last().unwrap().end() < p.length_ticks
                    || p.notes.last().unwrap().duration < 12),
            "{free:?}"
        );
    }

    /// A random prompt a player might play: 2 to 4 bars of a walk through a scale (mostly
    /// steps, now and then a leap of up to an octave) in random rhythms, meters and registers.
    fn random_prompt(rng: &mut fastrand::Rng) -> Melody {
        let ts = [(4, 4), (3, 4), (6, 8), (2, 4)][rng.usize(..4)];
        let ts = TimeSignature::sanitized(ts.0, ts.1);
        let scales: [&[i16]; 3] = [
            &[0, 2, 4, 5, 7, 9, 11],
            &[0, 2, 3, 5, 7, 8, 10],
            &[0, 3, 5, 7, 10],
        ];
        let scale = scales[rng.usize(..3)];
        let base = rng.i16(24..=96);
        let mut degree = rng.i16(0..scale.len() as i16);
        let end = rng.u32(2..=4) * ts.bar_ticks();
        let mut notes = Vec::new();
        let mut tick = 0;
        while tick < end {
            let duration = [3, 6, 6, 12, 12, 24][rng.usize(..6)];
            degree += if rng.f32() < 0.15 {
                rng.i16(-5..=5)
            } else {
                rng.i16(-2..=2)
            };
            let n = scale.len() as i16;
            let pitch = base + 12 * degree.div_euclid(n) + scale[degree.rem_euclid(n) as usize];
            notes.push(Note::new(tick, duration, pitch.clamp(0, 127) as u8, 90));
            tick += duration;
        }
        Melody {
            notes,
            time_signature: ts,
        }
    }

    #[test]
    fn random_answers_at_any_temperature_move_and_keep_their_leaps() {
        // 1,000 answers: 8 variations to each random prompt, at a random temperature from 0.1
        // to 2.0, 1 to 4 bars long, landing or not.
        let answers = 1000;
        let mut neural = generator();
        let mut rng = fastrand::Rng::with_seed(17);
        let mut checked = 0;
        while checked < answers {
            let prompt = random_prompt(&mut rng);
            let played: Vec<u8> = prompt.notes.iter().map(|n| n.pitch).collect();
            let recent = &played[played.len().saturating_sub(32)..];
            let bound = recent
                .windows(2)
                .map(|w| w[0].abs_diff(w[1]))
                .max()
                .unwrap_or(0)
                .max(12);
            let request = GenerationRequest {
                time_signature: prompt.time_signature,
                start_tick: prompt.notes.last().unwrap().end(),
                length_bars: rng.u32(1..=4),
                temperature: 0.1 + 1.9 * rng.f32(),
                landing: rng.bool(),
                ..request(0, 1.0, Style::Auto)
            };
            let seeds: Vec<u64> = (0..8).map(|_| rng.u64(..)).collect();
            let phrases = neural
                .generate_variations(std::slice::from_ref(&prompt), &request, &seeds)
                .unwrap();
            for phrase in phrases {
                let what = format!("{request:?}\nprompt {played:?}\nanswer {:?}", phrase.notes);
                let pitches: Vec<u8> = phrase.notes.iter().map(|n| n.pitch).collect();
                if pitches.len() >= 2 {
                    assert!(
                        pitches.iter().any(|&p| p != pitches[0]),
                        "one stuck note: {what}"
                    );
                }
                let joined: Vec<u8> = played.last().into_iter().chain(&pitches).copied().collect();
                let leap = joined.windows(2).map(|w| w[0].abs_diff(w[1])).max();
                assert!(leap.unwrap_or(0) <= bound, "a leap over {bound}: {what}");
                checked += 1;
            }
        }
    }

    #[test]
    fn guidance_pushes_away_from_any_style_and_keeps_masks() {
        let mut conditioned = [1.0, 2.0, f32::NEG_INFINITY, 0.5];
        let unconditioned = [1.0, 1.0, 0.0, f32::NEG_INFINITY];
        guide(&mut conditioned, &unconditioned, 2.0);
        assert_eq!(conditioned[..2], [1.0, 4.0]);
        assert_eq!(conditioned[2], f32::NEG_INFINITY);
        // A token "any style" rules out is not brought back (inf - inf is not a number).
        assert!(conditioned[3] == f32::INFINITY || conditioned[3] == f32::NEG_INFINITY);
    }

    #[test]
    fn style_strength_guides_a_v2_model_and_a_v1_model_ignores_it() {
        let mut neural = generator();
        let history = [ode()];
        let at = |neural: &mut NeuralGenerator, strength: f32| {
            let request = GenerationRequest {
                style_strength: strength,
                ..request(3, 1.0, Style::Chorale)
            };
            neural
                .generate_variations(&history, &request, &[1, 2, 3, 4])
                .unwrap()
        };
        let plain = at(&mut neural, 0.0);
        let guided = at(&mut neural, 2.0);
        if neural.architecture().vocab_size > tokens::ANY_STYLE as usize {
            assert_ne!(plain, guided, "a v2 model is guided by its style");
        } else {
            assert_eq!(plain, guided, "a v1 model has no \"any style\" to guide by");
        }
    }

    #[test]
    fn bass_lines_and_high_leads_are_answered_in_their_register() {
        // A pentatonic bass riff around C1 and a lead around C7: registers the model never saw.
        let bass = [0, 0, 7, 0, 3, 5, 7, 10, 0, 0, 7, 0, 12, 10, 7, 5];
        let lead = [0, 2, 4, 7, 9, 7, 4, 2, 0, 4, 7, 12, 11, 7, 4, 2];
        let mut neural = generator();
        for (name, line) in [("bass C1", riff(&bass, 24)), ("lead C7", riff(&lead, 96))] {
            let prompt_mean = mean_pitch(&line.notes);
            let last = line.notes.last().unwrap().pitch;
            let mut drifts = Vec::new();
            for seed in 1..=8 {
                let phrase = neural
                    .generate(
                        std::slice::from_ref(&line),
                        &request(seed, 1.0, Style::Auto),
                    )
                    .unwrap();
                assert!(!phrase.notes.is_empty());
                let drift = (mean_pitch(&phrase.notes) - prompt_mean).abs();
                assert!(
                    drift < 12.0,
                    "{name}, seed {seed}: drifted {drift:.1} semitones"
                );
                drifts.push(drift);
                let leap = largest_leap(last, &phrase.notes);
                assert!(leap <= 12, "{name}, seed {seed}: a leap of {leap}");
            }
            // In the player's register: under 3 semitones on average (a single answer may
            // climb a little further, never an octave).
            let mean = drifts.iter().sum::<f64>() / drifts.len() as f64;
            assert!(
                mean < 3.0,
                "{name}: mean drift {mean:.1} semitones ({drifts:.1?})"
            );
        }
    }

    #[test]
    fn the_coldest_answer_is_not_one_stuck_note_and_the_hottest_keeps_its_leaps() {
        // At 0.1 the model used to answer Ode to Joy with D4 sixteen times; at 2.0 it leapt up
        // to 52 semitones. Ode's own largest leap is a fourth, so the bound is an octave.
        let mut neural = generator();
        let ode = ode();
        let last = ode.notes.last().unwrap().pitch;
        for seed in 1..=6 {
            let cold = neural
                .generate(std::slice::from_ref(&ode), &request(seed, 0.1, Style::Auto))
                .unwrap();
            let first = cold.notes[0].pitch;
            assert!(
                cold.notes.iter().any(|n| n.pitch != first),
                "seed {seed}: one stuck note"
            );
            let hot = neural
                .generate(std::slice::from_ref(&ode), &request(seed, 2.0, Style::Auto))
                .unwrap();
            let leap = largest_leap(last, &hot.notes);
            assert!(leap <= 12, "seed {seed}: a leap of {leap} at 2.0");
        }
    }

    #[test]
    fn following_the_players_motifs_takes_up_their_interval_patterns() {
        // A hook of four-note patterns; with Follow my motifs at 100 % the answers reuse more of
        // its 3-interval patterns than the model alone does.
        let hook = riff(&[0, 2, 4, 0, 7, 5, 4, 2, 0, 2, 4, 0, 9, 7, 5, 4], 62);
        let mut neural = generator();
        let mut reuse = |follow: f32| {
            (1..=4)
                .map(|seed| {
                    let request = GenerationRequest {
                        follow_motifs: follow,
                        ..request(seed, 1.0, Style::Folk)
                    };
                    let phrase = neural
                        .generate(std::slice::from_ref(&hook), &request)
                        .unwrap();
                    crate::evaluation::measure(
                        &hook.notes,
                        4,
                        &phrase.notes,
                        &[],
                        TimeSignature::default(),
                        4,
                        None,
                    )
                    .motif_reuse
                    .unwrap_or(0.0)
                })
                .sum::<f64>()
                / 4.0
        };
        let (alone, following) = (reuse(0.0), reuse(1.0));
        assert!(
            following > alone + 0.15,
            "motif reuse {alone:.2} alone, {following:.2} following"
        );
    }

    #[test]
    fn the_answer_takes_the_players_accents_and_articulation() {
        // An eighth-note riff accented on the beats (110) and soft between (70), each note
        // sounding half its eighth: with Feel at 100 % the answer keeps both; at 0 % it is
        // legato at one velocity.
        let mut riff = riff(&[0, 3, 5, 7, 10, 7, 5, 3], 57);
        for (i, note) in riff.notes.iter_mut().enumerate() {
            note.velocity = if i % 2 == 0 { 110 } else { 70 };
            note.duration = 3;
        }
        let mut neural = generator();
        for seed in 1..=3 {
            let felt = neural
                .generate(
                    std::slice::from_ref(&riff),
                    &GenerationRequest {
                        feel: 1.0,
                        ..request(seed, 1.0, Style::Folk)
                    },
                )
                .unwrap();
            let mean = |on_beat: bool| {
                let v: Vec<f64> = felt
                    .notes
                    .iter()
                    .filter(|n| (n.start % 12 == 0) == on_beat)
                    .map(|n| n.velocity as f64)
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            assert!(mean(true) > mean(false) + 20.0, "seed {seed}: accents lost");
            let (rests, _) = crate::evaluation::articulation(&felt.notes);
            assert!(rests.unwrap() > 0.5, "seed {seed}: the answer is legato");
            let flat = neural
                .generate(
                    std::slice::from_ref(&riff),
                    &GenerationRequest {
                        feel: 0.0,
                        ..request(seed, 1.0, Style::Folk)
                    },
                )
                .unwrap();
            let first = flat.notes[0].velocity;
            assert!(flat.notes.iter().all(|n| n.velocity == first));
        }
    }
}
