//! Continuo: a MIDI effect that listens to the player and proposes how the melody goes on.
//!
//! This file holds the plugin and its `process()`. The threads and what crosses between them are
//! described in `docs/ARCHITECTURE.md`; in short: the audio thread stamps incoming notes in
//! beats and pushes them to this instance's worker, turns a Suggest trigger into a request, and
//! plays the phrases the worker sends back, sample-accurately in the host's time.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use ringbuf::traits::{Consumer, Observer, Producer};

pub mod editor;
pub mod export;
pub mod fuzzing;
pub mod history;
pub mod params;
pub mod pin;
pub mod realtime;
pub mod session;
pub mod vst3_factory;
pub mod worker;

use params::ContinuoParams;
use realtime::clock::{BlockTime, Clock, TransportInfo};
use realtime::modes::{PartnerMode, PlayMode};
use realtime::partner::{Heard, Partner};
use realtime::player::{BlockEvents, OutEvent, Player};
use realtime::queues::{new_queues, AudioEnds, CaptureEvent, SuggestRequest, WorkerEnds};
use realtime::tracker::NoteTracker;
use worker::{Command, Shared, Worker};

/// Most phrase events one block can emit; more wait for the next block (never dropped).
const MAX_EVENTS_PER_BLOCK: usize = 4096;

pub struct Continuo {
    params: Arc<ContinuoParams>,
    /// Status and the Suggest-click counter, shared with the editor and the worker.
    shared: Arc<Shared>,
    /// Lets the editor send commands (Clear) to the worker.
    commands: Sender<Command>,
    /// The worker's queue ends and command receiver, held until `activate()` starts the worker
    /// (hosts create instances just to scan them; those should not start threads).
    pending_worker: Option<(WorkerEnds, Receiver<Command>)>,
    /// The running worker; dropping it joins the thread.
    worker: Option<Worker>,

    // ---- Audio thread state. Everything below is touched only by `process()` and `reset()`. ----
    /// The audio thread's ends of the lock-free queues.
    queues: AudioEnds,
    /// Host or free-running musical time, and jump detection.
    clock: Clock,
    /// Plays the current phrase.
    player: Player,
    /// This block's phrase events, preallocated.
    block_events: BlockEvents,
    /// Notes this plugin started (from phrases): each is ended exactly once.
    generated: NoteTracker,
    /// Player notes passed through, so their note-offs pass even after Thru is switched off.
    passed: NoteTracker,
    /// Bumped at every discontinuity so the worker never joins notes across a jump.
    segment: u32,
    /// Value of the Suggest parameter in the previous block, for rising-edge detection.
    previous_suggest: bool,
    /// The player's turn, for Answer mode.
    partner: Partner,
    /// Requests with a lower id were overtaken by a new call in Answer mode: their phrases are
    /// kept (to browse or export) but not played.
    answers_cancelled_below: u64,
    /// Set when a new call ended the answer inside the piece being played: the rest of the
    /// piece's phrase events are dropped.
    answer_interrupted: bool,
    /// The latest request whose phrase has been counted as on time or late (for the status).
    last_answer_counted: u64,
    /// Continuous mode: the next phrase, waiting for its anchor (where the playing one ends).
    waiting: Option<Box<realtime::player::PlaybackPhrase>>,
    /// Editor clicks already turned into requests.
    seen_clicks: u32,
    /// Editor Play-once clicks already acted on.
    seen_replays: u32,
    /// Requests made so far; also the seed of each request.
    requests_made: u64,
    /// Parameter values of the previous block, to end notes when they change.
    previous_play_mode: PlayMode,
    previous_channel: u8,
    previous_bypass: bool,
    /// Set by `reset()`/`deactivate()`: end all notes at the next block.
    pending_panic: bool,
    sample_rate: f32,
}

impl Default for Continuo {
    fn default() -> Self {
        pin::keep_loaded();
        let (audio_ends, worker_ends) = new_queues();
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let params = Arc::new(ContinuoParams::default());
        Self {
            previous_play_mode: params.play_mode.value().into(),
            previous_channel: 0,
            previous_bypass: false,
            params,
            shared: Arc::new(Shared::default()),
            commands: command_tx,
            pending_worker: Some((worker_ends, command_rx)),
            worker: None,
            queues: audio_ends,
            clock: Clock::default(),
            player: Player::default(),
            block_events: BlockEvents::with_capacity(MAX_EVENTS_PER_BLOCK),
            generated: NoteTracker::default(),
            passed: NoteTracker::default(),
            segment: 0,
            previous_suggest: false,
            partner: Partner::default(),
            answers_cancelled_below: 0,
            answer_interrupted: false,
            last_answer_counted: 0,
            waiting: None,
            seen_clicks: 0,
            seen_replays: 0,
            requests_made: 0,
            pending_panic: false,
            sample_rate: 48_000.0,
        }
    }
}

/// MIDI velocity from nice-plug's 0–1 float, never 0 for a note-on.
fn velocity_to_midi(velocity: f32) -> u8 {
    (velocity * 127.0).round().clamp(1.0, 127.0) as u8
}

/// What one block plays with: parameter values read once per block, and which piece of the
/// block is being played.
struct BlockSettings {
    bypass: bool,
    play_mode: PlayMode,
    /// Output channel of the plugin's notes (0–15).
    channel: u8,
    thru: bool,
    /// Whether Continuo answers by itself.
    partner_mode: PartnerMode,
    /// Samples in the whole block (events are clamped inside it).
    samples: u32,
    /// Where the piece being played starts in the block.
    offset: u32,
    /// Whether this piece runs to the end of the block (and so takes every remaining event).
    last_piece: bool,
}

impl Continuo {
    /// Sends a phrase event of the piece that starts `block.offset` samples into the block, on
    /// the block's output channel, keeping the note tracker exact.
    fn emit_generated(
        &mut self,
        context: &mut impl ProcessContext<Self>,
        event: OutEvent,
        block: &BlockSettings,
    ) {
        let channel = block.channel;
        let timing = (block.offset + event.sample).min(block.samples.saturating_sub(1));
        if event.velocity > 0 {
            let sent = context.try_send_event(NoteEvent::NoteOn {
                timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(channel),
                key: Key::Number(event.key),
                velocity: event.velocity as f32 / 127.0,
            });
            if sent.is_ok() {
                self.generated.note_on(channel, event.key);
            }
        } else if self.generated.is_sounding(channel, event.key) {
            let sent = context.try_send_event(NoteEvent::NoteOff {
                timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(channel),
                key: Key::Number(event.key),
                velocity: 0.0,
            });
            if sent.is_ok() {
                self.generated.note_off(channel, event.key);
            } else {
                // The host's queue is full: end everything at the next block instead.
                self.pending_panic = true;
            }
        }
    }

    /// Ends every note the plugin started, at sample `timing` of the block. Notes whose note-off
    /// the host could not take stay tracked and are retried next block.
    fn end_generated_notes(&mut self, context: &mut impl ProcessContext<Self>, timing: u32) {
        self.generated.drain(|channel, key| {
            context
                .try_send_event(NoteEvent::NoteOff {
                    timing,
                    voice_id: VoiceID::Wildcard,
                    channel: Channel::Number(channel),
                    key: Key::Number(key),
                    velocity: 0.0,
                })
                .is_ok()
        });
    }

    /// Hands a phrase back to the worker to be freed (never freed on the audio thread).
    fn discard(&mut self, phrase: Box<realtime::player::PlaybackPhrase>) {
        if let Err(phrase) = self.queues.garbage.try_push(phrase) {
            // Only when the worker has stopped emptying the queue: leak rather than free here.
            std::mem::forget(phrase);
        }
    }

    /// Pushes a played note to the worker. Drops it if the worker has fallen seconds behind.
    /// `timing` counts from the start of the piece `time` describes.
    fn capture(&mut self, time: &BlockTime, timing: u32, channel: u8, key: u8, velocity: u8) {
        let _ = self.queues.captures.try_push(CaptureEvent {
            timeline: time.timeline,
            segment: self.segment,
            beat: time.beat_at(timing),
            channel,
            key,
            velocity,
            time_signature: time.time_signature,
            bar_origin: time.bar_origin,
        });
    }

    /// Handles one incoming event of the piece `time` (which starts `block.offset` samples into
    /// the block): capture, Thru and pass-through.
    fn handle_input(
        &mut self,
        context: &mut impl ProcessContext<Self>,
        event: PluginNoteEvent<Self>,
        time: &BlockTime,
        block: &BlockSettings,
    ) {
        let (thru, bypass) = (block.thru, block.bypass);
        let offset = block.offset;
        match event {
            NoteEvent::NoteOn {
                timing,
                channel,
                key,
                velocity,
                ..
            } => {
                let channel_number = channel.number().unwrap_or(0) & 15;
                if let Some(key_number) = key.number() {
                    if !bypass {
                        let at = timing.saturating_sub(offset);
                        self.capture(
                            time,
                            at,
                            channel_number,
                            key_number,
                            velocity_to_midi(velocity),
                        );
                        let heard = self.partner.note_on(
                            channel_number,
                            key_number,
                            time.beat_at(at),
                            block.partner_mode,
                        );
                        if heard == Heard::NewCall {
                            // The player takes the turn back: the answer stops here, and answers
                            // still being made are not played.
                            self.end_generated_notes(context, timing);
                            self.pending_panic = self.generated.any_sounding();
                            self.player.disarm();
                            self.answers_cancelled_below = self.requests_made + 1;
                            self.answer_interrupted = true;
                        }
                    }
                    if (thru || bypass) && context.try_send_event(event).is_ok() {
                        self.passed.note_on(channel_number, key_number);
                    }
                } else if thru || bypass {
                    let _ = context.try_send_event(event);
                }
            }
            NoteEvent::NoteOff {
                timing,
                channel,
                key,
                ..
            } => {
                let channel_number = channel.number().unwrap_or(0) & 15;
                if let Some(key_number) = key.number() {
                    if !bypass {
                        let at = timing.saturating_sub(offset);
                        self.capture(time, at, channel_number, key_number, 0);
                        self.partner
                            .note_off(channel_number, key_number, time.beat_at(at));
                    }
                    // A passed note's note-off always follows it, whatever Thru is now; a note
                    // that was never passed (Thru was off) gets no orphan note-off.
                    if self.passed.is_sounding(channel_number, key_number)
                        && context.try_send_event(event).is_ok()
                    {
                        self.passed.note_off(channel_number, key_number);
                    }
                } else if thru || bypass {
                    let _ = context.try_send_event(event);
                }
            }
            // CCs, pitch bend, aftertouch, program changes, expressions: untouched, same timing.
            other => {
                let _ = context.try_send_event(other);
            }
        }
    }

    /// Plays one piece of a block (the whole block, or the part before or after a loop wrap):
    /// ends notes where time jumps or settings change, takes a new phrase, and merges the
    /// phrase's events with the incoming ones that fall in the piece. `carried` holds an input
    /// event that belongs to the next piece.
    fn play_piece(
        &mut self,
        context: &mut impl ProcessContext<Self>,
        time: &BlockTime,
        block: &BlockSettings,
        carried: &mut Option<PluginNoteEvent<Self>>,
    ) {
        let (bypass, play_mode, channel) = (block.bypass, block.play_mode, block.channel);
        // End the plugin's notes whenever what they belonged to stops making sense.
        let play_mode_changed = play_mode != self.previous_play_mode;
        let must_end = self.pending_panic
            || time.discontinuity
            || play_mode_changed
            || channel != self.previous_channel
            || (bypass && !self.previous_bypass);
        self.pending_panic = false;
        if must_end || (bypass && self.generated.any_sounding()) {
            self.end_generated_notes(context, block.offset);
            // A note-off the host could not take (its queue was full) is retried next block.
            self.pending_panic = self.generated.any_sounding();
        }
        if time.discontinuity {
            self.segment = self.segment.wrapping_add(1);
            self.partner.forget_call();
            // A phrase placed before the jump no longer follows anything.
            if self.queues.garbage.vacant_len() > 0 {
                if let Some(waiting) = self.waiting.take() {
                    self.discard(waiting);
                }
            }
            if time.timeline_changed {
                // Transport started or stopped: a phrase belongs to the timeline it was placed on.
                self.player.disarm();
            } else {
                self.player.relocate();
            }
        }
        if play_mode_changed {
            match play_mode {
                PlayMode::Off => self.player.disarm(),
                PlayMode::Once | PlayMode::Loop => self.player.rearm_at_next_bar(time),
            }
        }
        // The editor's Play once: play the phrase again from the next bar, even if it finished.
        let replays = self.shared.replay_clicks.load(Ordering::Acquire);
        if replays != self.seen_replays {
            self.seen_replays = replays;
            if !bypass && play_mode != PlayMode::Off {
                self.end_generated_notes(context, block.offset);
                self.pending_panic = self.generated.any_sounding();
                self.player.rearm_at_next_bar(time);
            }
        }
        self.previous_play_mode = play_mode;
        self.previous_channel = channel;
        self.previous_bypass = bypass;

        // Pick up a finished phrase. The replaced one goes back to the worker to be freed; only
        // take a phrase when there is room to hand the old one back.
        if self.queues.garbage.vacant_len() > 0 {
            if let Some(phrase) = self.queues.phrases.try_pop() {
                // An answer's first arrival counts (a browsed variation of it comes again later).
                if phrase.autoplay && phrase.request_id > self.last_answer_counted {
                    self.last_answer_counted = phrase.request_id;
                    self.shared
                        .host
                        .count_phrase(Player::is_late(&phrase, time));
                }
                let follows = phrase.follows
                    && phrase.timeline == time.timeline
                    && phrase.anchor >= time.start_beat
                    && self.player.is_armed();
                if follows {
                    // Continuous mode: it takes over at its anchor, where the playing one ends.
                    if let Some(older) = self.waiting.replace(phrase) {
                        self.discard(older);
                    }
                } else {
                    self.end_generated_notes(context, block.offset);
                    let overtaken = phrase.request_id < self.answers_cancelled_below;
                    let old = self.player.install(phrase, time);
                    if overtaken {
                        self.player.disarm();
                    }
                    if let Some(old) = old {
                        self.discard(old);
                    }
                }
            }
        }

        self.block_events.clear();
        if !bypass {
            let due = self
                .waiting
                .as_ref()
                .filter(|next| next.timeline == time.timeline && next.anchor < time.end_beat())
                .map(|next| next.anchor);
            match due {
                Some(anchor) if self.queues.garbage.vacant_len() > 0 => {
                    // The playing phrase up to the anchor (its notes end there), then the next.
                    self.player
                        .render_until(time, play_mode, &mut self.block_events, anchor);
                    if let Some(next) = self.waiting.take() {
                        if let Some(old) = self.player.install(next, time) {
                            self.discard(old);
                        }
                    }
                    self.player.render(time, play_mode, &mut self.block_events);
                }
                _ => self.player.render(time, play_mode, &mut self.block_events),
            }
        }

        // Merge the phrase's events with the incoming ones in time order.
        let piece_end = block.offset + time.samples;
        let generated_count = self.block_events.as_slice().len();
        let mut next_generated = 0;
        while let Some(event) = carried.take().or_else(|| context.next_event()) {
            if !block.last_piece && event.timing() >= piece_end {
                *carried = Some(event);
                break;
            }
            // Phrase events strictly before the input event go first: a player's note on the
            // very sample of an answer's note takes the turn before that note sounds.
            while next_generated < generated_count
                && block.offset + self.block_events.as_slice()[next_generated].sample
                    < event.timing()
            {
                let out = self.block_events.as_slice()[next_generated];
                self.emit_generated(context, out, block);
                next_generated += 1;
            }
            self.handle_input(context, event, time, block);
            if self.answer_interrupted {
                // A new call ended the answer: what it would still play in this piece is dropped.
                self.answer_interrupted = false;
                next_generated = generated_count;
            }
        }
        while next_generated < generated_count {
            let out = self.block_events.as_slice()[next_generated];
            self.emit_generated(context, out, block);
            next_generated += 1;
        }
    }

    /// Turns a rising edge of Suggest, or a click in the editor, into a request for the worker.
    /// While bypassed, triggers are consumed without effect (they must not fire afterwards).
    fn poll_suggest(&mut self, time: &BlockTime, bypass: bool) {
        let suggest = self.params.suggest.value();
        let clicks = self.shared.suggest_clicks.load(Ordering::Acquire);
        let triggered = (suggest && !self.previous_suggest) || clicks != self.seen_clicks;
        self.previous_suggest = suggest;
        self.seen_clicks = clicks;
        if !triggered || bypass {
            return;
        }
        let length = self.params.length_bars.value();
        self.request(time, length, None, None);
    }

    /// In Answer mode, answers a call the player has finished (a rest of "Answer after" beats;
    /// asked halfway through the rest): with a phrase as long as the call, at most Length bars.
    fn poll_partner(&mut self, time: &BlockTime, block: &BlockSettings) {
        let gap = self
            .params
            .answer_after
            .value()
            .clamp(1, params::MAX_ANSWER_AFTER) as f64;
        let Some((call_bars, rest_over)) = self.partner.poll(block.partner_mode, gap, time) else {
            return;
        };
        if !block.bypass {
            let length = (call_bars as i32).min(self.params.length_bars.value());
            self.request(time, length, None, Some(rest_over));
        }
    }

    /// In Continuous mode, asks for the next phrase a bar before the playing one ends, to start
    /// right where it ends.
    fn poll_continuous(&mut self, time: &BlockTime, block: &BlockSettings) {
        let length = self
            .params
            .length_bars
            .value()
            .clamp(params::MIN_LENGTH_BARS, params::MAX_LENGTH_BARS);
        let at = self
            .partner
            .poll_continuous(block.partner_mode, time, length as u32);
        if let (Some(at), false) = (at, block.bypass) {
            self.request(time, length, Some(at), None);
        }
    }

    /// Sends the worker a request for a phrase of `length_bars` with the current parameters,
    /// placed by Start (no earlier than `not_before`, Answer mode), or at `at_beat` (Continuous
    /// mode).
    fn request(
        &mut self,
        time: &BlockTime,
        length_bars: i32,
        at_beat: Option<f64>,
        not_before: Option<f64>,
    ) {
        self.requests_made += 1;
        let request = SuggestRequest {
            id: self.requests_made,
            timeline: time.timeline,
            segment: self.segment,
            now_beat: time.start_beat,
            tempo: time.tempo,
            time_signature: time.time_signature,
            bar_origin: time.bar_origin,
            length_bars: length_bars.clamp(params::MIN_LENGTH_BARS, params::MAX_LENGTH_BARS) as u32,
            start: self.params.start.value().into(),
            at_beat,
            not_before,
            style: self.params.style.value().into(),
            temperature: self
                .params
                .temperature
                .value()
                .clamp(params::MIN_TEMPERATURE, params::MAX_TEMPERATURE),
            follow_motifs: self.params.follow_motifs.value().clamp(0.0, 1.0),
            feel: self.params.feel.value().clamp(0.0, 1.0),
            landing: self.params.landing.value(),
            style_strength: self.params.style_strength.value().max(0.0),
            generator: self.params.generator.value().into(),
            variations: self
                .params
                .variations
                .value()
                .clamp(1, params::MAX_VARIATIONS) as u32,
            scale_lock: self.params.scale_lock.value().into(),
            chosen_key: self.params.chosen_key(),
            range: (
                self.params.range_low.value().clamp(0, 127) as u8,
                self.params.range_high.value().clamp(0, 127) as u8,
            ),
        };
        let _ = self.queues.requests.try_push(request);
    }
}

impl Plugin for Continuo {
    const NAME: &'static str = "Continuo";
    const VENDOR: &'static str = "Continuo developers";
    const URL: &'static str = "https://example.invalid/continuo";
    const EMAIL: &'static str = "continuo@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        // Stereo pass-through first: Ableton Live refuses VST3 plugins without a main output.
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        // A pure note effect, for hosts that prefer one.
        AudioIOLayout::const_default(),
    ];

    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::EditorShell;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        Some(editor::EditorShell::new(
            self.params.clone(),
            self.shared.clone(),
            self.commands.clone(),
        ))
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.sample_rate = buffer_config.sample_rate;
        if let Some((queues, commands)) = self.pending_worker.take() {
            match Worker::spawn(
                queues,
                commands,
                self.shared.clone(),
                self.params.session.clone(),
            ) {
                Ok(worker) => self.worker = Some(worker),
                Err(error) => {
                    nice_error!("Continuo could not start its worker thread: {error}");
                    return false;
                }
            }
        }
        true
    }

    fn reset(&mut self) {
        // Real-time safe: flags only. The next block ends notes and re-syncs to the host.
        self.pending_panic = true;
        self.clock.reset();
    }

    fn deactivate(&mut self) {
        // No events can be sent now; whatever still sounds is ended by the first block after
        // reactivation.
        self.pending_panic = true;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // Audio passes through untouched: the buffers are processed in place.
        let samples = buffer.samples() as u32;
        let transport = context.transport();
        let info = TransportInfo {
            playing: transport.playing,
            tempo: transport.tempo,
            time_signature: transport
                .time_sig_numerator
                .zip(transport.time_sig_denominator),
            // Only what the host reported: positions nice-plug derives from one another assume a
            // constant tempo since the song's start.
            pos_samples: transport.pos_samples.or_else(|| {
                transport
                    .pos_seconds
                    .filter(|s| s.is_finite())
                    .map(|s| (s * self.sample_rate as f64).round() as i64)
            }),
            pos_beats: transport.pos_beats,
            bar_start_beats: transport
                .bar_start_pos_beats
                .or_else(|| transport.pos_beats.and(transport.bar_start_pos_beats())),
            loop_range_beats: transport.loop_range_beats,
        };
        let first = self.clock.advance(&info, samples, self.sample_rate);
        // A host loop that wraps inside this block splits it in two: up to the loop's end, and
        // from its start on (a jump like any relocation, at its own sample).
        let after_wrap = self.clock.take_wrap();

        let mut block = BlockSettings {
            bypass: self.params.bypass.value(),
            play_mode: self.params.play_mode.value().into(),
            channel: (self.params.output_channel.value().clamp(1, 16) - 1) as u8,
            thru: self.params.thru.value(),
            partner_mode: self.params.partner.value().into(),
            samples,
            offset: 0,
            last_piece: after_wrap.is_none(),
        };
        let mut carried = None;
        self.play_piece(context, &first, &block, &mut carried);
        let time = match after_wrap {
            Some(rest) => {
                block.offset = first.samples;
                block.last_piece = true;
                self.play_piece(context, &rest, &block, &mut carried);
                rest
            }
            None => first,
        };

        let (bypass, play_mode) = (block.bypass, block.play_mode);
        self.poll_suggest(&time, bypass);
        self.poll_partner(&time, &block);
        self.poll_continuous(&time, &block);
        let position = if bypass {
            None
        } else {
            self.player.position(&time, play_mode)
        };
        self.shared.host.publish(
            time.start_beat,
            time.timeline == realtime::clock::Timeline::Host,
            time.tempo,
            time.time_signature,
            position,
        );
        // A MIDI effect must keep running while its input is silent: phrases play on.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Continuo {
    const CLAP_ID: &'static str = "org.continuo.continuo";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Listens to your melody and suggests how it goes on");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::NoteEffect, ClapFeature::Utility];
}

impl Vst3Plugin for Continuo {
    const VST3_CLASS_ID: [u8; 16] = *b"ContinuoMelodyFx";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Tools];
}

nice_export_clap!(Continuo);
