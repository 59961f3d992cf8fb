//! The per-instance worker thread: it owns the history and the generator, answers Suggest
//! requests and frees replaced phrases.
//!
//! Each plugin instance has its own thread (nice-plug's background executor is one thread shared
//! by every instance in the process, which would serialize 32 tracks asking at once). The worker
//! never blocks on anything the audio thread touches: it polls the audio thread's queues every
//! [`POLL_INTERVAL`] and otherwise sleeps on the GUI's command channel.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use ringbuf::traits::{Consumer, Producer};

use crate::history::{History, Segment};
use crate::realtime::clock::{next_grid_line, Timeline};
use crate::realtime::modes::StartMode;
use crate::realtime::player::PlaybackPhrase;
use crate::realtime::queues::{CaptureEvent, SuggestRequest, WorkerEnds};
use crate::realtime::view::HostView;
use crate::session::{SavedSession, SessionStore, SESSION_VERSION};
use continuo_engine::feel::Timing;
use continuo_engine::generator::{GenerateError, GenerationRequest, Melody};
use continuo_engine::generators::{pitch_filter, Engine};
use continuo_engine::key::Key;
use continuo_engine::learned::Learned;
use continuo_engine::midi_file::TimedNote;
use continuo_engine::phrase::{Phrase, TICKS_PER_BEAT};

/// How often the worker looks at the audio thread's queues.
pub const POLL_INTERVAL: Duration = Duration::from_millis(2);
/// How often, at most, the history is copied to the GUI status and the saved session.
pub const HISTORY_COPY_INTERVAL: Duration = Duration::from_millis(200);
/// A phrase is placed at least this far after the request (in seconds), so it normally reaches
/// the audio thread before its start.
pub const SCHEDULING_MARGIN_SECONDS: f64 = 0.03;

/// What the GUI (or a test) can ask of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Learn the melodies of the .mid files in this folder (they join the playing in the motif
    /// blend, and are saved with the project).
    LearnFrom(std::path::PathBuf),
    /// Forget what was learnt from a folder.
    ForgetLearned,
    /// Forget everything played so far.
    ClearHistory,
    /// Make this variation of the last suggestion the current one: it replaces the playing
    /// phrase at the same place (from its next bar or beat if that has passed), and it is what
    /// Export writes and what the project saves.
    ChooseVariation(usize),
}

/// How many bars of the latest playing the status copies for the editor's piano roll.
pub const RECENT_BARS: f64 = 16.0;

/// What the worker tells the GUI. Only the GUI and the worker lock it, never the audio thread.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The generator in use.
    pub generator: String,
    /// Why the neural model is not available (the Markov generator stands in), if it is not.
    pub fallback: Option<String>,
    /// The key detected in the recent history at the last request.
    pub detected_key: Option<Key>,
    /// Notes of the last request's latest stretch of playing that lay outside its melody line
    /// (chords, inner voices) and were left out of what the model heard.
    pub under_melody: usize,
    /// All variations of the last suggestion; `chosen` is the one that plays.
    pub variations: Vec<Phrase>,
    /// Which variation is current (browsed in the editor, saved with the project).
    pub chosen: usize,
    /// Where the suggestion starts, in beats on its timeline (unknown for one restored from a
    /// saved project until it is played again).
    pub anchor: Option<(f64, Timeline)>,
    /// What was played before the last suggestion (every note, as played, in beats from the
    /// first bar line played in), and the tick from that bar line where the suggestion starts:
    /// Export can write both as one take.
    pub prompt: Option<(Vec<TimedNote>, u32)>,
    /// The latest stretch of playing (the last [`RECENT_BARS`] bars of the last history
    /// segment), for the editor's piano roll.
    pub recent: Option<Segment>,
    /// Notes in the history.
    pub history_notes: usize,
    /// True while the worker generates (the editor shows that it is working).
    pub working: bool,
    /// The player's own tunes learnt with "Learn from folder", if any.
    pub learned: Option<Arc<Learned>>,
    /// Wall-clock time of the last generation.
    pub last_generation: Option<Duration>,
    /// The last error, in one plain sentence.
    pub error: Option<String>,
    /// Requests answered so far.
    pub phrases_made: u64,
}

impl Status {
    /// The current variation, if there is a suggestion.
    pub fn current(&self) -> Option<&Phrase> {
        self.variations.get(self.chosen)
    }
}

/// State shared between the plugin, its editor and its worker.
#[derive(Default)]
pub struct Shared {
    pub status: Mutex<Status>,
    /// Incremented by the editor's Suggest button; the audio thread turns a change into a request.
    pub suggest_clicks: AtomicU32,
    /// Incremented by the editor's Play once button; the audio thread re-arms the phrase at the
    /// next bar (so a phrase that has finished can be heard again).
    pub replay_clicks: AtomicU32,
    /// The host's time and the playhead, published by the audio thread for the editor.
    pub host: HostView,
}

/// A handle to a running worker; dropping it stops and joins the thread.
pub struct Worker {
    /// Tells the thread to finish (the command channel alone cannot: the editor holds a sender).
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(
        queues: WorkerEnds,
        commands: Receiver<Command>,
        shared: Arc<Shared>,
        session: Arc<SessionStore>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("continuo-worker".into())
            .spawn(move || run(queues, commands, shared, session, thread_stop))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    mut queues: WorkerEnds,
    commands: Receiver<Command>,
    shared: Arc<Shared>,
    session: Arc<SessionStore>,
    stop: Arc<AtomicBool>,
) {
    let mut history = History::default();
    // Session loads seen so far; a host load before activation is picked up on the first pass.
    let mut loads_seen = 0;
    // Loading the model takes a moment: in the background, never in activate() or process().
    let mut engine = Engine::load();
    let mut status_published = false;
    // Whether the history changed since it was last copied out, and when that was.
    let mut history_changed = false;
    let mut last_copy = Instant::now();
    // Where the last suggestion was placed, so a chosen variation takes its place.
    let mut placed: Option<Placement> = None;
    loop {
        match commands.recv_timeout(POLL_INTERVAL) {
            Ok(Command::ClearHistory) => {
                history.clear();
                publish_history(&shared, &history);
                save_session(&session, &history, &shared);
            }
            Ok(Command::ChooseVariation(index)) => {
                choose_variation(index, placed.as_ref(), &mut queues, &shared);
                save_session(&session, &history, &shared);
            }
            Ok(Command::LearnFrom(folder)) => {
                let learnt = Learned::from_folder(&folder);
                let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
                match learnt {
                    Ok((learned, skipped)) => {
                        let learned = Arc::new(learned);
                        engine.set_learned(Some(learned.clone()));
                        status.learned = Some(learned);
                        status.error = (!skipped.is_empty()).then(|| {
                            format!(
                                "{} files in {} could not be learnt from (first: {}: {}).",
                                skipped.len(),
                                folder.display(),
                                skipped[0].0,
                                skipped[0].1
                            )
                        });
                    }
                    Err(error) => status.error = Some(format!("Nothing learnt: {error}.")),
                }
                drop(status);
                save_session(&session, &history, &shared);
            }
            Ok(Command::ForgetLearned) => {
                engine.set_learned(None);
                shared
                    .status
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .learned = None;
                save_session(&session, &history, &shared);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if session.loads() != loads_seen {
            loads_seen = session.loads();
            restore_session(&session, &mut history, &mut queues, &shared);
            // What was learnt comes back with the project (or goes, with one without it).
            let learned = session.snapshot().learned.map(Arc::new);
            engine.set_learned(learned.clone());
            shared
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .learned = learned;
            placed = None;
        }
        // Free what the audio thread handed back.
        while queues.garbage.try_pop().is_some() {}

        while let Some(event) = queues.captures.try_pop() {
            history.apply(&event);
            history_changed = true;
        }
        let mut answered = false;
        while let Some(request) = queues.requests.try_pop() {
            if let Some(placement) = answer(&request, &history, &mut engine, &mut queues, &shared) {
                if request.at_beat.is_some() {
                    // Continuous mode: the next phrase goes on from this one too.
                    let phrase = shared
                        .status
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .variations
                        .first()
                        .cloned();
                    if let Some(phrase) = phrase {
                        let like = CaptureEvent {
                            timeline: request.timeline,
                            segment: request.segment,
                            beat: placement.anchor,
                            channel: 0,
                            key: 0,
                            velocity: 0,
                            time_signature: request.time_signature,
                            bar_origin: request.bar_origin,
                        };
                        history.add_own(&like, placement.anchor, &phrase);
                        history_changed = true;
                    }
                }
                placed = Some(placement);
            }
            answered = true;
        }
        // Copying the history for the GUI and the saved session is not needed every 2 ms while
        // someone plays: at most every HISTORY_COPY_INTERVAL, and at once after a suggestion.
        if answered || (history_changed && last_copy.elapsed() >= HISTORY_COPY_INTERVAL) {
            publish_history(&shared, &history);
            save_session(&session, &history, &shared);
            history_changed = false;
            last_copy = Instant::now();
        }
        if !status_published && engine.is_loaded() {
            let (generator, fallback) = (engine.describe(), engine.unavailable());
            let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
            status.generator = generator;
            status.fallback = fallback;
            status_published = true;
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
    }
}

/// Copies the history and the last suggestion into the persisted session.
fn save_session(session: &SessionStore, history: &History, shared: &Shared) {
    let (variations, chosen, learned) = {
        let status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
        (
            status.variations.clone(),
            status.chosen,
            status.learned.as_deref().cloned(),
        )
    };
    session.update(SavedSession {
        version: SESSION_VERSION,
        segments: history.segments().cloned().collect(),
        variations,
        chosen,
        learned,
    });
}

/// Where the last suggestion was placed: a chosen variation is placed the same way.
#[derive(Debug, Clone, Copy)]
struct Placement {
    anchor: f64,
    timeline: Timeline,
    realign_step: f64,
    request_id: u64,
}

/// Makes variation `index` current and sends it to the audio thread in place of the playing one.
fn choose_variation(
    index: usize,
    placed: Option<&Placement>,
    queues: &mut WorkerEnds,
    shared: &Shared,
) {
    let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
    let Some(phrase) = status.variations.get(index).cloned() else {
        return;
    };
    status.chosen = index;
    let playback = match placed {
        Some(p) => PlaybackPhrase::new(&phrase, p.anchor, p.timeline, p.realign_step, p.request_id),
        // Restored from a project: it waits for Play, like the suggestion it replaces.
        None => {
            let mut playback = PlaybackPhrase::new(&phrase, 0.0, Timeline::Host, 1.0, 0);
            playback.autoplay = false;
            playback
        }
    };
    if queues.phrases.try_push(Box::new(playback)).is_err() {
        status.error =
            Some("The audio thread is not taking phrases (is the host processing?).".into());
    }
}

/// Restores what the host loaded: the history, and the suggestion (ready to play when Play
/// mode is switched on, not started by itself).
fn restore_session(
    session: &SessionStore,
    history: &mut History,
    queues: &mut WorkerEnds,
    shared: &Shared,
) {
    let saved = session.snapshot();
    if saved.version != SESSION_VERSION {
        let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
        status.error = Some(format!(
            "The saved session is from another version of Continuo (format {}), so it was not restored.",
            saved.version
        ));
        return;
    }
    history.restore(saved.segments);
    publish_history(shared, history);
    let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
    status.error = None;
    status.anchor = None;
    status.prompt = None;
    status.variations = Vec::new();
    status.chosen = 0;
    if saved.variations.iter().any(|v| v.validate().is_err()) {
        status.error = Some("The saved suggestion was damaged and was not restored.".into());
        return;
    }
    let chosen = saved.chosen.min(saved.variations.len().saturating_sub(1));
    if let Some(phrase) = saved.variations.get(chosen) {
        let mut playback = PlaybackPhrase::new(phrase, 0.0, Timeline::Host, 1.0, 0);
        playback.autoplay = false;
        let _ = queues.phrases.try_push(Box::new(playback));
    }
    status.variations = saved.variations;
    status.chosen = chosen;
}

fn publish_history(shared: &Shared, history: &History) {
    let recent = history.last_segment().map(|segment| {
        let from = segment.last_note_end().map_or(0.0, |end| {
            end - RECENT_BARS * segment.time_signature.bar_beats()
        });
        Segment {
            notes: segment
                .notes
                .iter()
                .filter(|n| n.beat + n.length >= from)
                .copied()
                .collect(),
            ..segment.clone_without_notes()
        }
    });
    let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
    status.history_notes = history.note_count();
    status.recent = recent;
}

/// Where a phrase asked for by `request` starts, and by how much it may be moved if late.
pub fn placement(request: &SuggestRequest, history: &History) -> (f64, f64) {
    let margin = SCHEDULING_MARGIN_SECONDS * request.tempo / 60.0;
    let earliest = (request.now_beat + margin).max(request.not_before.unwrap_or(f64::MIN));
    let bar = request.time_signature.bar_beats();
    if let Some(at) = request.at_beat {
        // Continuous mode: right where the phrase before it ends; a bar later if late.
        return (at, bar);
    }
    match request.start {
        StartMode::NextBar => (next_grid_line(request.bar_origin, bar, earliest), bar),
        StartMode::NextBeat => (next_grid_line(request.bar_origin, 1.0, earliest), 1.0),
        StartMode::AfterLastNote => {
            let last_end = history
                .last_segment()
                .filter(|s| s.id == request.segment)
                .and_then(|s| s.last_note_end());
            match last_end {
                Some(end) => {
                    // Snap to the sixteenth grid, then keep that position within the beat.
                    let end = next_grid_line(request.bar_origin, 0.25, end);
                    (next_grid_line(end, 1.0, earliest), 1.0)
                }
                None => (next_grid_line(request.bar_origin, 1.0, earliest), 1.0),
            }
        }
    }
}

/// Builds the generator's view of the history and where the phrase starts on its grid.
pub fn melodies_for(
    history: &History,
    anchor: f64,
    request: &SuggestRequest,
) -> (Vec<Melody>, u32) {
    let mut melodies: Vec<Melody> = Vec::new();
    let mut start_tick = 0;
    let segments: Vec<_> = history.segments().collect();
    for (i, segment) in segments.iter().enumerate() {
        let Some(first) = segment.notes.first() else {
            continue;
        };
        let origin = segment.bar_line_before(first.beat);
        let melody = segment.to_melody(origin);
        if i + 1 == segments.len() && segment.id == request.segment {
            start_tick = ((anchor - origin) * TICKS_PER_BEAT as f64).round().max(0.0) as u32;
        }
        melodies.push(melody);
    }
    (melodies, start_tick)
}

fn answer(
    request: &SuggestRequest,
    history: &History,
    engine: &mut Engine,
    queues: &mut WorkerEnds,
    shared: &Shared,
) -> Option<Placement> {
    shared
        .status
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .working = true;
    let started = Instant::now();
    let (anchor, realign_step) = placement(request, history);
    let (melodies, start_tick) = melodies_for(history, anchor, request);
    let (filter, detected_key) = pitch_filter(
        request.scale_lock,
        request.chosen_key,
        request.range,
        &melodies,
    );
    let generation_request = GenerationRequest {
        length_bars: request.length_bars.max(1),
        time_signature: request.time_signature,
        style: request.style,
        temperature: request.temperature,
        seed: request.id,
        start_tick,
        pitch_filter: filter,
        top_p: continuo_engine::neural::TOP_P,
        follow_motifs: request.follow_motifs,
        feel: request.feel,
        landing: request.landing,
        style_strength: request.style_strength,
    };
    // A generator bug must not take the worker (and with it every later suggestion) down.
    // Variations differ by seed only; the first is the one that plays.
    let seeds: Vec<u64> = (0..request.variations.clamp(1, 8) as u64)
        .map(|k| request.id * 16 + k)
        .collect();
    // What was played before the answer, as played (every note, from the bar line the prompt
    // starts on): its micro-timing goes on the answer, and Export writes it.
    let played = (start_tick > 0)
        .then(|| history.segments().last())
        .flatten()
        .and_then(|segment| {
            let first = segment.notes.first()?;
            Some(segment.performance(segment.bar_line_before(first.beat)))
        });
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let (phrases, name, note) =
            engine.generate_variations(request.generator, &melodies, &generation_request, &seeds);
        let mut phrases = phrases?;
        if let Some(timing) = played
            .as_deref()
            .and_then(|played| Timing::learn(played, request.time_signature))
        {
            for phrase in &mut phrases {
                timing.apply(phrase, start_tick, request.feel);
            }
        }
        Ok::<_, GenerateError>((phrases, name, note))
    }));
    let elapsed = started.elapsed();
    let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
    status.working = false;
    status.last_generation = Some(elapsed);
    status.detected_key = detected_key;
    status.under_melody = history
        .segments()
        .last()
        .and_then(|segment| {
            let first = segment.notes.first()?;
            Some(segment.notes_under_melody(segment.bar_line_before(first.beat)))
        })
        .unwrap_or(0);
    let placement = Placement {
        anchor,
        timeline: request.timeline,
        realign_step,
        request_id: request.id,
    };
    match result {
        Ok(Ok((variations, name, note))) => {
            let mut playback = Box::new(PlaybackPhrase::new(
                &variations[0],
                anchor,
                request.timeline,
                realign_step,
                request.id,
            ));
            playback.follows = request.at_beat.is_some();
            status.generator = name;
            status.error = note;
            if queues.phrases.try_push(playback).is_err() {
                status.error = Some(
                    "The audio thread is not taking phrases (is the host processing?).".into(),
                );
            }
            status.anchor = Some((anchor, request.timeline));
            status.prompt = played.map(|played| (played, start_tick));
            status.variations = variations;
            status.chosen = 0;
            status.phrases_made += 1;
            Some(placement)
        }
        Ok(Err(error)) => {
            status.error = Some(format!("No suggestion: {error}."));
            None
        }
        Err(_) => {
            status.error = Some("No suggestion: the generator crashed.".into());
            None
        }
    }
}

/// Bumps the editor's Suggest counter (the audio thread picks it up in its next block).
pub fn click_suggest(shared: &Shared) {
    shared.suggest_clicks.fetch_add(1, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::clock::Timeline;
    use continuo_engine::generator::Style;
    use continuo_engine::generator::{GeneratorChoice, ScaleLock};
    use continuo_engine::phrase::TimeSignature;

    fn request(now: f64, start: StartMode) -> SuggestRequest {
        SuggestRequest {
            id: 1,
            timeline: Timeline::Host,
            segment: 0,
            now_beat: now,
            tempo: 120.0,
            time_signature: TimeSignature::default(),
            bar_origin: 0.0,
            length_bars: 2,
            start,
            at_beat: None,
            not_before: None,
            style: Style::Auto,
            temperature: 1.0,
            follow_motifs: 0.25,
            feel: 1.0,
            landing: true,
            style_strength: continuo_engine::generator::DEFAULT_STYLE_STRENGTH,
            generator: GeneratorChoice::Markov,
            variations: 1,
            scale_lock: ScaleLock::Off,
            chosen_key: Key {
                tonic: 0,
                mode: continuo_engine::key::Mode::Major,
            },
            range: (0, 127),
        }
    }

    fn history_with_note_ending_at(end: f64) -> History {
        let mut history = History::default();
        for (beat, velocity) in [(end - 0.5, 100), (end, 0)] {
            history.apply(&CaptureEvent {
                timeline: Timeline::Host,
                segment: 0,
                beat,
                channel: 0,
                key: 60,
                velocity,
                time_signature: TimeSignature::default(),
                bar_origin: 0.0,
            });
        }
        history
    }

    #[test]
    fn placement_follows_the_start_mode() {
        let history = history_with_note_ending_at(5.1);
        assert_eq!(
            placement(&request(5.2, StartMode::NextBar), &history),
            (8.0, 4.0)
        );
        assert_eq!(
            placement(&request(5.2, StartMode::NextBeat), &history),
            (6.0, 1.0)
        );
        // The last note ended at 5.1: snapped to the sixteenth at 5.25, still ahead at 5.1 (plus
        // the scheduling margin of 30 ms = 0.06 beats).
        assert_eq!(
            placement(&request(5.1, StartMode::AfterLastNote), &history),
            (5.25, 1.0)
        );
        // Too late for 5.25: the same position in the next beat.
        assert_eq!(
            placement(&request(5.5, StartMode::AfterLastNote), &history),
            (6.25, 1.0)
        );
        // Right on a bar line, with no time to deliver: the next bar.
        assert_eq!(
            placement(&request(8.0, StartMode::NextBar), &history),
            (12.0, 4.0)
        );
        // Continuous mode: exactly where asked (where the phrase before ends), whatever Start.
        let continuous = SuggestRequest {
            at_beat: Some(16.0),
            ..request(12.0, StartMode::AfterLastNote)
        };
        assert_eq!(placement(&continuous, &history), (16.0, 4.0));
        // Answer mode asks halfway through the player's rest: never before the rest is over.
        let early = SuggestRequest {
            not_before: Some(9.0),
            ..request(8.5, StartMode::NextBeat)
        };
        assert_eq!(placement(&early, &history), (9.0, 1.0));
        let early = SuggestRequest {
            not_before: Some(9.2),
            ..request(8.5, StartMode::NextBeat)
        };
        assert_eq!(placement(&early, &history), (10.0, 1.0));
    }

    #[test]
    fn the_prompt_is_bar_aligned_and_knows_where_the_phrase_starts() {
        let history = history_with_note_ending_at(5.1);
        let (melodies, start_tick) = melodies_for(&history, 8.0, &request(5.2, StartMode::NextBar));
        assert_eq!(melodies.len(), 1);
        // The note started at beat 4.6, in the bar starting at beat 4.
        assert_eq!(melodies[0].notes[0].start, (0.6f64 * 12.0).round() as u32);
        assert_eq!(start_tick, 48);
    }
}
