//! A small DAW for tests: loads the built Continuo CLAP binary with `clack-host`, plays a
//! transport, feeds note and MIDI events at exact sample positions and collects what the plugin
//! sends out, with absolute sample positions.

use std::ffi::CStr;
use std::path::PathBuf;

use clack_extensions::state::PluginState;
use clack_host::events::event_types::{
    MidiEvent, NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};

pub const PLUGIN_ID: &CStr = c"org.continuo.continuo";

/// The largest block the test host announces at activation (a larger `block_size` raises it).
pub const MAX_FRAMES: u32 = 4096;

/// How long [`Daw::let_worker_answer`] waits for an answer before the test fails: far beyond
/// what loading the model and answering take even in a debug build under Wine on a busy machine.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

struct TestHostShared;

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// Where the plugin binary built by `cargo test` is: `CONTINUO_CLAP` if set, else the cdylib
/// next to the test executable (`target/<profile>/deps/libcontinuo.so`, or `continuo.dll` on
/// Windows).
pub fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CONTINUO_CLAP") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps folder");
    let candidate = deps.join(format!(
        "{}continuo{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        candidate.exists(),
        "the plugin binary {} is missing: run the tests with `cargo xtask test` (or `cargo test --workspace`)",
        candidate.display()
    );
    candidate
}

/// The nice-plug CLAP wrapper's parameter id for a string id (a stable 31-bit hash).
pub fn param_id(id: &str) -> ClapId {
    let mut hash: u32 = 0;
    for byte in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(byte as u32);
    }
    ClapId::new(hash & !(1 << 31))
}

/// An event the test sends, at an absolute sample position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum In {
    NoteOn {
        channel: u8,
        key: u8,
        velocity: f64,
    },
    NoteOff {
        channel: u8,
        key: u8,
    },
    Midi([u8; 3]),
    /// A parameter change, as the plugin-facing value (nice-plug exposes each parameter in
    /// CLAP as `0..=steps` for stepped ones and `0..=1` otherwise).
    Param(&'static str, f64),
}

/// An event the plugin sent, at an absolute sample position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Out {
    NoteOn { channel: u8, key: u8, velocity: f64 },
    NoteOff { channel: u8, key: u8 },
    Midi([u8; 3]),
}

/// How a host reports its transport and delivers notes: the quirks of real DAWs, so every host
/// test can run as each of them. [`HostProfile::IDEAL`] reports everything exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostProfile {
    /// A name for failure messages.
    pub name: &'static str,
    /// The song position in beats is rounded to this many ticks per quarter note, as hosts
    /// with an integer tick clock report it (Ardour 1,920; many others 960); `None`: exact.
    pub ticks_per_quarter: Option<f64>,
    /// Whether the transport carries the position in beats.
    pub beats_timeline: bool,
    /// Whether the transport carries the position in seconds (from which samples follow).
    pub seconds_timeline: bool,
    /// Whether the transport carries the bar start (otherwise it says 0, as a host without bars).
    pub bar_start: bool,
    /// Block sizes, one block after another, cycled (empty: the `Daw`'s `block_size`).
    pub block_sizes: &'static [u32],
    /// Note-ons carry a voice (note) id, note-offs none (Bitwig).
    pub note_offs_without_ids: bool,
    /// Every note arrives on MIDI channel 1 (Ableton Live squashes channels).
    pub channel_one: bool,
}

/// Block sizes from 16 to 4,096 samples, varying from block to block.
pub const VARYING_BLOCKS: &[u32] = &[16, 4096, 100, 1024, 256, 17, 800, 2048, 64, 333, 512, 4000];

impl HostProfile {
    /// Exact positions in beats and seconds, bar starts, fixed blocks, voice ids: an ideal host.
    pub const IDEAL: HostProfile = HostProfile {
        name: "ideal",
        ticks_per_quarter: None,
        beats_timeline: true,
        seconds_timeline: true,
        bar_start: true,
        block_sizes: &[],
        note_offs_without_ids: false,
        channel_one: false,
    };

    /// The transports of real hosts, one quirk or a real combination each.
    pub fn real_hosts() -> Vec<HostProfile> {
        let ideal = HostProfile::IDEAL;
        vec![
            HostProfile {
                name: "Ardour: 1,920 ticks per quarter, 256-sample blocks",
                ticks_per_quarter: Some(1_920.0),
                block_sizes: &[256],
                ..ideal
            },
            HostProfile {
                name: "Ardour: 1,920 ticks per quarter, 1,024-sample blocks",
                ticks_per_quarter: Some(1_920.0),
                block_sizes: &[1_024],
                ..ideal
            },
            HostProfile {
                name: "960 ticks per quarter, varying blocks",
                ticks_per_quarter: Some(960.0),
                block_sizes: VARYING_BLOCKS,
                ..ideal
            },
            HostProfile {
                name: "positions only in samples",
                beats_timeline: false,
                block_sizes: VARYING_BLOCKS,
                ..ideal
            },
            HostProfile {
                name: "positions only in beats, rounded to 960",
                seconds_timeline: false,
                ticks_per_quarter: Some(960.0),
                block_sizes: VARYING_BLOCKS,
                ..ideal
            },
            HostProfile {
                name: "no bar start",
                bar_start: false,
                ticks_per_quarter: Some(1_920.0),
                block_sizes: &[64],
                ..ideal
            },
            HostProfile {
                name: "tiny and huge blocks",
                block_sizes: &[16, 4096, 16, 16, 4096, 33],
                ..ideal
            },
            HostProfile {
                name: "Bitwig: note-offs without voice ids",
                note_offs_without_ids: true,
                block_sizes: &[128],
                ..ideal
            },
            HostProfile {
                name: "Live: everything on channel 1, 1,920 ticks",
                channel_one: true,
                ticks_per_quarter: Some(1_920.0),
                block_sizes: &[512],
                ..ideal
            },
        ]
    }
}

/// The DAW: one plugin instance, a transport and a block size.
pub struct Daw {
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
    pub sample_rate: f64,
    pub block_size: u32,
    /// Absolute sample position of the next block.
    pub position: u64,
    /// Transport state for the next block.
    pub beats: f64,
    pub tempo: f64,
    pub playing: bool,
    pub time_signature: (u16, u16),
    /// The host's loop (start, end) in beats while it is active: playback jumps back to the
    /// start when a block reaches the end, as a DAW cycling a region does.
    pub loop_range: Option<(f64, f64)>,
    /// The song position in seconds (advances while playing; [`Daw::relocate`] moves it with the
    /// beats).
    pub song_seconds: f64,
    /// Tempo change in BPM per second while playing (0: steady); the host integrates it exactly.
    pub tempo_ramp: f64,
    /// How this host reports time and delivers notes.
    pub profile: HostProfile,
    /// Blocks processed so far (to cycle the profile's block sizes).
    blocks: usize,
    /// Voice ids given to note-ons, per key (profiles whose note-ons carry them).
    next_note_id: u32,
    /// The saved suggestion when Suggest was last pressed, until `let_worker_answer` sees it
    /// replaced.
    suggestion_at_press: Option<serde_json::Value>,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    audio_in: Vec<Vec<f32>>,
    audio_out: Vec<Vec<f32>>,
}

impl Daw {
    /// Loads and activates the plugin with a stereo layout, transport playing at 120 BPM.
    pub fn new(block_size: u32) -> Daw {
        let entry = unsafe { PluginEntry::load(plugin_path()) }.expect("load the CLAP binary");
        let host_info = HostInfo::new(
            "Continuo tests",
            "Continuo",
            "https://example.invalid",
            "1.0",
        )
        .unwrap();
        let mut instance = PluginInstance::<TestHost>::new(
            |_| TestHostShared,
            |_| (),
            &entry,
            PLUGIN_ID,
            &host_info,
        )
        .expect("instantiate Continuo");
        let config = PluginAudioConfiguration {
            sample_rate: 48_000.0,
            min_frames_count: 1,
            // Hosts announce a maximum and then send any block size up to it.
            max_frames_count: block_size.max(MAX_FRAMES),
        };
        let processor = instance
            .activate(|_, _| (), config)
            .expect("activate")
            .start_processing()
            .expect("start processing");
        Daw {
            processor: Some(processor),
            instance,
            _entry: entry,
            sample_rate: 48_000.0,
            block_size,
            position: 0,
            beats: 0.0,
            tempo: 120.0,
            playing: true,
            time_signature: (4, 4),
            loop_range: None,
            song_seconds: 0.0,
            tempo_ramp: 0.0,
            profile: HostProfile::IDEAL,
            blocks: 0,
            next_note_id: 0,
            suggestion_at_press: None,
            input_ports: AudioPorts::with_capacity(2, 1),
            output_ports: AudioPorts::with_capacity(2, 1),
            audio_in: vec![vec![0.0; block_size.max(MAX_FRAMES) as usize]; 2],
            audio_out: vec![vec![0.0; block_size.max(MAX_FRAMES) as usize]; 2],
        }
    }

    /// Deactivates and reactivates the plugin at another sample rate (as a host does when the
    /// audio device changes).
    pub fn reactivate(&mut self, sample_rate: f64) {
        if let Some(processor) = self.processor.take() {
            let stopped = processor.stop_processing();
            self.instance.deactivate(stopped);
        }
        self.sample_rate = sample_rate;
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: self.audio_in[0].len() as u32,
        };
        self.processor = Some(
            self.instance
                .activate(|_, _| (), config)
                .expect("activate")
                .start_processing()
                .expect("start processing"),
        );
    }

    /// The plugin's state as a host saves it with a project.
    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle
            .get_extension()
            .expect("the plugin has the state extension");
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).expect("save state");
        bytes
    }

    /// Loads a saved state, as a host does when it opens a project.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle
            .get_extension()
            .expect("the plugin has the state extension");
        state
            .load(&handle, &mut std::io::Cursor::new(bytes))
            .map_err(|e| format!("{e:?}"))
    }

    /// The editor size the plugin reports to the host before opening its window.
    pub fn editor_size(&mut self) -> Option<(u32, u32)> {
        let handle = self.instance.plugin_handle();
        let gui: clack_extensions::gui::PluginGui = handle.get_extension()?;
        gui.get_size(&handle).map(|s| (s.width, s.height))
    }

    /// Samples per beat at the current tempo.
    pub fn samples_per_beat(&self) -> f64 {
        self.sample_rate * 60.0 / self.tempo
    }

    fn transport(&self) -> TransportEvent {
        let profile = &self.profile;
        let mut flags = TransportFlags::HAS_TEMPO | TransportFlags::HAS_TIME_SIGNATURE;
        if profile.beats_timeline {
            flags |= TransportFlags::HAS_BEATS_TIMELINE;
        }
        if profile.seconds_timeline {
            flags |= TransportFlags::HAS_SECONDS_TIMELINE;
        }
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        if self.loop_range.is_some() {
            flags |= TransportFlags::IS_LOOP_ACTIVE;
        }
        let (loop_start, loop_end) = self.loop_range.unwrap_or((0.0, 0.0));
        let bar_beats = self.time_signature.0 as f64 * 4.0 / self.time_signature.1 as f64;
        let bar = if profile.bar_start {
            (self.beats / bar_beats).floor()
        } else {
            0.0
        };
        let beats = match profile.ticks_per_quarter {
            Some(ticks) => (self.beats * ticks).round() / ticks,
            None => self.beats,
        };
        TransportEvent {
            header: EventHeader::new_core(0, clack_host::events::EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(self.song_seconds),
            tempo: self.tempo,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_float(loop_start),
            loop_end_beats: BeatTime::from_float(loop_end),
            loop_start_seconds: SecondsTime::from_int(0),
            loop_end_seconds: SecondsTime::from_int(0),
            bar_start: BeatTime::from_float(bar * bar_beats),
            bar_number: bar as i32,
            time_signature_numerator: self.time_signature.0,
            time_signature_denominator: self.time_signature.1,
        }
    }

    /// Moves the song position to `beats` (the seconds timeline follows at the current tempo), as
    /// a musician clicking in the timeline does.
    pub fn relocate(&mut self, beats: f64) {
        self.beats = beats;
        self.song_seconds = beats * 60.0 / self.tempo;
    }

    /// Processes `samples` samples in blocks of `block_size`, sending `input` (absolute sample
    /// positions, sorted) and returning the plugin's output events with absolute positions.
    pub fn run(&mut self, samples: u64, input: &[(u64, In)]) -> Vec<(u64, Out)> {
        let presses_suggest = input.iter().any(|(at, event)| {
            *at >= self.position && matches!(event, In::Param("suggest", value) if *value >= 0.5)
        });
        if presses_suggest {
            // What the worker's answer will replace (see `let_worker_answer`).
            self.suggestion_at_press = Some(self.saved_suggestion());
        }
        let end = self.position + samples;
        let mut collected = Vec::new();
        let mut next_input = input.partition_point(|(at, _)| *at < self.position);
        let mut in_buffer = EventBuffer::with_capacity(64);
        let mut out_buffer = EventBuffer::with_capacity(1024);
        while self.position < end {
            let block = match self.profile.block_sizes {
                [] => self.block_size,
                sizes => sizes[self.blocks % sizes.len()],
            };
            self.blocks += 1;
            let frames = (block as u64).min(end - self.position) as usize;
            in_buffer.clear();
            out_buffer.clear();
            while next_input < input.len() && input[next_input].0 < self.position + frames as u64 {
                let (at, event) = input[next_input];
                let time = at.saturating_sub(self.position) as u32;
                match event {
                    In::NoteOn {
                        channel,
                        key,
                        velocity,
                    } => {
                        let channel = if self.profile.channel_one { 0 } else { channel };
                        let note = if self.profile.note_offs_without_ids {
                            self.next_note_id += 1;
                            Pckn::new(0u16, channel as u16, key as u16, self.next_note_id)
                        } else {
                            Pckn::new(0u16, channel as u16, key as u16, Pckn::match_all().note_id)
                        };
                        in_buffer.push(&NoteOnEvent::new(time, note, velocity))
                    }
                    In::NoteOff { channel, key } => {
                        let channel = if self.profile.channel_one { 0 } else { channel };
                        in_buffer.push(&NoteOffEvent::new(
                            time,
                            Pckn::new(0u16, channel as u16, key as u16, Pckn::match_all().note_id),
                            0.0,
                        ))
                    }
                    In::Midi(data) => in_buffer.push(&MidiEvent::new(time, 0, data)),
                    In::Param(id, value) => in_buffer.push(&ParamValueEvent::new(
                        time,
                        param_id(id),
                        Pckn::match_all(),
                        value,
                    )),
                }
                next_input += 1;
            }
            let transport = self.transport();
            let processor = self.processor.as_mut().expect("processing");
            let input_audio = self.input_ports.with_input_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    self.audio_in
                        .iter_mut()
                        .map(|b| InputChannel::variable(&mut b[..frames])),
                ),
            }]);
            let mut output_audio = self.output_ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    self.audio_out.iter_mut().map(|b| &mut b[..frames]),
                ),
            }]);
            processor
                .process(
                    &input_audio,
                    &mut output_audio,
                    &in_buffer.as_input(),
                    &mut out_buffer.as_output(),
                    Some(self.position),
                    Some(&transport),
                )
                .expect("process");
            let mut last_time = 0;
            for event in out_buffer.iter() {
                let time = event.header().time();
                assert!(
                    (time as usize) < frames.max(1),
                    "event at {time} outside a block of {frames}"
                );
                assert!(time >= last_time, "output events out of order");
                last_time = time;
                let at = self.position + time as u64;
                match event.as_core_event() {
                    Some(CoreEventSpace::NoteOn(e)) => {
                        let raw = e.as_raw();
                        collected.push((
                            at,
                            Out::NoteOn {
                                channel: raw.channel as u8,
                                key: raw.key as u8,
                                velocity: raw.velocity,
                            },
                        ));
                    }
                    Some(CoreEventSpace::NoteOff(e)) => {
                        let raw = e.as_raw();
                        collected.push((
                            at,
                            Out::NoteOff {
                                channel: raw.channel as u8,
                                key: raw.key as u8,
                            },
                        ));
                    }
                    Some(CoreEventSpace::Midi(e)) => collected.push((at, Out::Midi(e.data()))),
                    _ => {}
                }
            }
            self.position += frames as u64;
            if self.playing {
                // The host integrates its tempo exactly, ramp included.
                let seconds = frames as f64 / self.sample_rate;
                let next_tempo = (self.tempo + self.tempo_ramp * seconds).clamp(20.0, 999.0);
                self.beats += seconds * (self.tempo + next_tempo) / 2.0 / 60.0;
                self.song_seconds += seconds;
                self.tempo = next_tempo;
                if let Some((start, end)) = self.loop_range {
                    if end > start && self.beats >= end {
                        let back = end - start;
                        let wrapped = start + (self.beats - end) % back;
                        self.song_seconds -= (self.beats - wrapped) * 60.0 / self.tempo;
                        self.beats = wrapped;
                    }
                }
            }
        }
        collected
    }

    /// Waits, as long as [`ANSWER_TIMEOUT`] at most, until the plugin's worker has answered the
    /// last Suggest (the test host runs faster than real time; a real host would have played on
    /// meanwhile). The sign is the one a host can see: the project state the plugin would save
    /// holds a suggestion different from the one it held when Suggest was pressed in
    /// [`Daw::run`] (or, with no press seen, any suggestion). A fixed sleep here was too short
    /// for a slow CI machine loading the model under Wine.
    pub fn let_worker_answer(&mut self) {
        let before = self.suggestion_at_press.take();
        let started = std::time::Instant::now();
        loop {
            let now = self.saved_suggestion();
            let answered = match &before {
                Some(before) => now != *before,
                None => now
                    .as_array()
                    .is_some_and(|variations| !variations.is_empty()),
            };
            if answered {
                return;
            }
            assert!(
                started.elapsed() < ANSWER_TIMEOUT,
                "the worker did not answer Suggest within {ANSWER_TIMEOUT:?}"
            );
            self.wait_ms(5);
        }
    }

    /// Notes the saved suggestion now, so that [`Daw::let_worker_answer`] waits for one that
    /// replaces it: for answers the plugin asks for by itself (Answer mode), with no Suggest
    /// press for [`Daw::run`] to see.
    pub fn expect_answer(&mut self) {
        self.suggestion_at_press = Some(self.saved_suggestion());
    }

    /// Whether the worker has answered since Suggest was pressed or [`Daw::expect_answer`]
    /// was called (without waiting).
    pub fn has_answered(&mut self) -> bool {
        let now = self.saved_suggestion();
        match &self.suggestion_at_press {
            Some(before) => now != *before,
            None => now
                .as_array()
                .is_some_and(|variations| !variations.is_empty()),
        }
    }

    /// The variations of the last suggestion in the state the plugin would save now.
    fn saved_suggestion(&mut self) -> serde_json::Value {
        let blob = self.save_state();
        let state: serde_json::Value =
            serde_json::from_slice(&blob[8..]).expect("nice-plug state is JSON after its length");
        // nice-plug stores each persisted field as a JSON string.
        let session = state["fields"]["session"].as_str().unwrap_or("{}");
        let session: serde_json::Value =
            serde_json::from_str(session).expect("the saved session is JSON");
        session["variations"].clone()
    }

    /// Waits longer, for the neural model (loaded in the background, in a debug build).
    pub fn wait_ms(&self, milliseconds: u64) {
        std::thread::sleep(std::time::Duration::from_millis(milliseconds));
    }
}

impl Drop for Daw {
    fn drop(&mut self) {
        if let Some(processor) = self.processor.take() {
            let stopped = processor.stop_processing();
            self.instance.deactivate(stopped);
        }
    }
}

/// Checks that every note-on is matched by exactly one later note-off on the same channel and
/// key, and that no note-off comes without its note-on.
pub fn assert_balanced(events: &[(u64, Out)]) {
    let mut sounding = std::collections::HashMap::<(u8, u8), u32>::new();
    for (at, event) in events {
        match *event {
            Out::NoteOn { channel, key, .. } => *sounding.entry((channel, key)).or_default() += 1,
            Out::NoteOff { channel, key } => {
                let count = sounding.entry((channel, key)).or_default();
                assert!(
                    *count > 0,
                    "note-off without note-on: ch {channel} key {key} at {at}"
                );
                *count -= 1;
            }
            Out::Midi(_) => {}
        }
    }
    let hanging: Vec<_> = sounding.into_iter().filter(|(_, n)| *n > 0).collect();
    assert!(hanging.is_empty(), "notes left hanging: {hanging:?}");
}

/// Note-ons every `step` samples from sample 0, each held for `held` samples, on channel 0
/// (input for `Daw::run`, to be merged and sorted with other events).
pub fn notes(keys: &[u8], step: u64, held: u64, velocity: f64) -> Vec<(u64, In)> {
    let mut input = Vec::with_capacity(keys.len() * 2);
    for (i, &key) in keys.iter().enumerate() {
        let on = i as u64 * step;
        input.push((
            on,
            In::NoteOn {
                channel: 0,
                key,
                velocity,
            },
        ));
        input.push((on + held, In::NoteOff { channel: 0, key }));
    }
    input
}

/// Plays a bar of eighths into `daw`, asks the neural model (Generator = Neural) for a
/// continuation, waits for it to load and answer (a debug build loads the model in seconds), and
/// plays on; returns everything the plugin sent.
pub fn ask_the_model(daw: &mut Daw) -> Vec<(u64, Out)> {
    let mut input = vec![(0, In::Param("generator", 0.0))];
    input.extend(notes(
        &[60, 62, 64, 65, 67, 65, 64, 62],
        12_000,
        10_000,
        0.8,
    ));
    input.push((100_000, In::Param("suggest", 1.0)));
    input.sort_by_key(|(at, _)| *at);
    let mut events = daw.run(100_512, &input);
    daw.let_worker_answer();
    events.extend(daw.run(100_000, &[(daw.position, In::Param("suggest", 0.0))]));
    events
}

/// Plays C E G C twice and asks for one bar at the coldest temperature with the neural model
/// chosen: the Markov generator, standing in, continues the arpeggio exactly from the next bar.
/// Used by the degraded-mode tests (no runtime, a corrupt runtime, a corrupt model).
pub fn assert_markov_answers_for_the_model() {
    let mut daw = Daw::new(512);
    let mut input = vec![
        (0, In::Param("temperature", 0.0)),
        (0, In::Param("length", 0.0)),    // one bar
        (0, In::Param("generator", 0.0)), // ask for the neural model
    ];
    input.extend(notes(
        &[60, 64, 67, 72, 60, 64, 67, 72],
        24_000,
        20_000,
        0.7,
    ));
    input.push((200_000, In::Param("suggest", 1.0)));
    input.sort_by_key(|(at, _)| *at);
    let mut events = daw.run(200_512, &input);
    daw.let_worker_answer();
    events.extend(daw.run(300_000, &[(daw.position, In::Param("suggest", 0.0))]));
    // The player's notes passed through (Thru) …
    let passed = events
        .iter()
        .filter(|(at, e)| *at < 200_000 && matches!(e, Out::NoteOn { channel: 0, .. }))
        .count();
    assert_eq!(passed, 8, "MIDI passes while the model is unavailable");
    // … and the answer continues the arpeggio from the next bar (beat 12).
    let answered: Vec<(u64, u8)> = events
        .iter()
        .filter(|(at, _)| *at >= 288_000)
        .filter_map(|(at, e)| match e {
            Out::NoteOn { key, .. } => Some((*at, *key)),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        vec![(288_000, 60), (312_000, 64), (336_000, 67), (360_000, 72)]
    );
    assert_balanced(&events);
}

/// Helpers for the privacy tests (the plugin in a host, and the CLI).
pub mod privacy {
    use std::path::{Path, PathBuf};

    /// The variables with which ONNX Runtime 1.31 recognises a CI machine or its own test
    /// harness and then keeps quiet by itself, and its opt-out: a privacy test removes them all,
    /// so that it sees what happens on a musician's machine (and what Continuo itself does).
    pub const QUIETING_VARIABLES: [&str; 15] = [
        "CI",
        "TF_BUILD",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "CIRCLECI",
        "TRAVIS",
        "JENKINS_URL",
        "CODEBUILD_BUILD_ID",
        "BUILDKITE",
        "TEAMCITY_VERSION",
        "APPVEYOR",
        "BITBUCKET_BUILD_NUMBER",
        "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
        "ORT_RUNNING_UNIT_TESTS",
        "ORT_DISABLE_TELEMETRY",
    ];

    /// Every file and folder under `dir`, recursively (empty when `dir` is empty or missing).
    pub fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            }
            found.push(path);
        }
        found
    }
}
