//! The editor driven without a window (egui_kittest): clicking Suggest sends the request,
//! browsing changes the playing variation, the controls set parameters with host gestures, and
//! Export writes a file.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use continuo::editor::EditorUi;
use continuo::params::{ContinuoParams, PlayModeParam, ScaleLockParam, StyleParam};
use continuo::realtime::clock::Timeline;
use continuo::realtime::modes::StartMode;
use continuo::realtime::queues::{new_queues, AudioEnds, CaptureEvent, SuggestRequest};
use continuo::session::SessionStore;
use continuo::worker::{Command, Shared, Worker};
use continuo_engine::generator::Style;
use continuo_engine::generator::{GeneratorChoice, ScaleLock};
use continuo_engine::key::{Key, Mode};
use continuo_engine::phrase::TimeSignature;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use nice_plug::context::gui::{GuiContextInner, ParamSetter};
use nice_plug::context::PluginApi;
use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::PluginState;
use ringbuf::traits::{Consumer, Producer};

/// What the editor asked of the "host".
#[derive(Debug, Clone, PartialEq)]
enum Gesture {
    Begin(String),
    Set(String),
    End(String),
}

/// A stand-in for the host's GUI context: records gestures and applies values, as a host does.
#[derive(Default)]
struct RecordingHost {
    gestures: Mutex<Vec<Gesture>>,
}

impl RecordingHost {
    fn take(&self) -> Vec<Gesture> {
        std::mem::take(&mut self.gestures.lock().unwrap())
    }
}

impl GuiContextInner for RecordingHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }

    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        let name = unsafe { param.name() }.to_string();
        self.gestures.lock().unwrap().push(Gesture::Begin(name));
    }

    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        let name = unsafe { param.name() }.to_string();
        unsafe { param._internal_set_normalized_value(normalized) };
        self.gestures.lock().unwrap().push(Gesture::Set(name));
    }

    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        let name = unsafe { param.name() }.to_string();
        self.gestures.lock().unwrap().push(Gesture::End(name));
    }

    fn get_state(&self) -> PluginState {
        PluginState {
            version: String::new(),
            params: Default::default(),
            fields: Default::default(),
        }
    }

    fn set_state(&self, _state: PluginState) {}

    fn request_restart(&self) {}
}

struct Rig {
    params: Arc<ContinuoParams>,
    shared: Arc<Shared>,
    host: Arc<RecordingHost>,
    commands: crossbeam_channel::Receiver<Command>,
    sender: crossbeam_channel::Sender<Command>,
}

fn rig() -> Rig {
    let (sender, commands) = crossbeam_channel::unbounded();
    Rig {
        params: Arc::new(ContinuoParams::default()),
        shared: Arc::new(Shared::default()),
        host: Arc::new(RecordingHost::default()),
        commands,
        sender,
    }
}

fn harness(rig: &Rig) -> Harness<'static, EditorUi> {
    let face = EditorUi::new(
        rig.params.clone(),
        rig.shared.clone(),
        rig.sender.clone(),
        rig.params.editor_settings.clone(),
    );
    let host = rig.host.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(900.0, 720.0))
        .build_ui_state(
            move |ui, face: &mut EditorUi| {
                let setter = ParamSetter::new(&*host);
                face.show(ui, &setter);
            },
            face,
        );
    harness.run_steps(2);
    harness
}

fn gesture(name: &str) -> Vec<Gesture> {
    vec![
        Gesture::Begin(name.into()),
        Gesture::Set(name.into()),
        Gesture::End(name.into()),
    ]
}

#[test]
fn suggest_button_bumps_the_click_counter_the_audio_thread_watches() {
    let rig = rig();
    let mut harness = harness(&rig);
    assert_eq!(rig.shared.suggest_clicks.load(Ordering::Acquire), 0);
    harness.get_by_label("Suggest continuation").click();
    harness.run_steps(2);
    assert_eq!(rig.shared.suggest_clicks.load(Ordering::Acquire), 1);
    // No audio block has been processed since: the editor says the host is not processing.
    std::thread::sleep(Duration::from_millis(800));
    harness.run_steps(2);
    assert!(harness
        .query_by_label("Waiting for the host to process audio…")
        .is_some());
}

#[test]
fn the_status_says_when_notes_under_the_top_line_were_left_out() {
    let rig = rig();
    let mut harness = harness(&rig);
    harness.run_steps(2);
    assert!(harness
        .query_by_label_contains("notes under it left out")
        .is_none());
    rig.shared.status.lock().unwrap().under_melody = 3;
    harness.run_steps(2);
    assert!(harness
        .query_by_label("· melody line continued (3 other notes left out)")
        .is_some());
}

#[test]
fn controls_set_their_parameters_as_host_gestures() {
    let rig = rig();
    let mut harness = harness(&rig);

    harness
        .get_by_role_and_label(egui::Role::ComboBox, "Style")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Celtic").click();
    harness.run_steps(2);
    assert_eq!(rig.params.style.value(), StyleParam::Celtic);
    assert_eq!(rig.host.take(), gesture("Style"));

    harness
        .get_by_role_and_label(egui::Role::ComboBox, "Scale lock")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Chosen key").click();
    harness.run_steps(2);
    assert_eq!(rig.params.scale_lock.value(), ScaleLockParam::Chosen);
    rig.host.take();

    harness.get_by_label("Loop").click();
    harness.run_steps(2);
    assert_eq!(rig.params.play_mode.value(), PlayModeParam::Loop);
    assert_eq!(rig.host.take(), gesture("Play mode"));
    harness.get_by_label("Stop").click();
    harness.run_steps(2);
    assert_eq!(rig.params.play_mode.value(), PlayModeParam::Off);
    harness.get_by_label("Play once").click();
    harness.run_steps(2);
    assert_eq!(rig.params.play_mode.value(), PlayModeParam::Once);
    assert_eq!(rig.shared.replay_clicks.load(Ordering::Acquire), 1);
    rig.host.take();

    assert!(rig.params.thru.value());
    harness.get_by_label("Pass played notes through").click();
    harness.run_steps(2);
    assert!(!rig.params.thru.value());
    assert_eq!(rig.host.take(), gesture("Thru"));

    // Drag the temperature slider from its left end to its right end.
    let rect = harness
        .get_by_role_and_label(egui::Role::Slider, "Temperature")
        .rect();
    let (from, to) = (
        egui::pos2(rect.left() + 2.0, rect.center().y),
        egui::pos2(rect.right() + 40.0, rect.center().y),
    );
    harness.hover_at(from);
    harness.run_steps(1);
    harness.drag_at(from);
    harness.run_steps(1);
    harness.hover_at(to);
    harness.run_steps(1);
    harness.drop_at(to);
    harness.run_steps(2);
    assert_eq!(rig.params.temperature.value(), 2.0);
    let gestures = rig.host.take();
    assert_eq!(
        gestures.first(),
        Some(&Gesture::Begin("Temperature".into()))
    );
    assert_eq!(gestures.last(), Some(&Gesture::End("Temperature".into())));
    assert!(gestures.contains(&Gesture::Set("Temperature".into())));
}

/// A request as the audio thread would send it: 2 bars, 3 variations, Markov (deterministic,
/// needs no runtime).
fn request() -> SuggestRequest {
    SuggestRequest {
        id: 7,
        timeline: Timeline::Host,
        segment: 0,
        now_beat: 16.5,
        tempo: 120.0,
        time_signature: TimeSignature::default(),
        bar_origin: 0.0,
        length_bars: 2,
        start: StartMode::NextBar,
        at_beat: None,
        not_before: None,
        style: Style::Folk,
        temperature: 1.0,
        follow_motifs: 0.25,
        feel: 1.0,
        landing: true,
        style_strength: continuo_engine::generator::DEFAULT_STYLE_STRENGTH,
        generator: GeneratorChoice::Markov,
        variations: 3,
        scale_lock: ScaleLock::Off,
        chosen_key: Key {
            tonic: 0,
            mode: Mode::Major,
        },
        range: (0, 127),
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A worker for the rig's editor, with the audio thread's queue ends and the saved session.
fn worker(rig: &Rig) -> (AudioEnds, Arc<SessionStore>, Worker) {
    let (audio, worker_ends) = new_queues();
    let session = Arc::new(SessionStore::default());
    let worker = Worker::spawn(
        worker_ends,
        rig.commands.clone(),
        rig.shared.clone(),
        session.clone(),
    )
    .unwrap();
    (audio, session, worker)
}

#[test]
fn browsing_variations_sends_the_chosen_one_to_the_audio_thread() {
    let rig = rig();
    let (mut audio, session, _worker) = worker(&rig);
    // Four bars of a wandering C-major line, then a request for three variations.
    let scale = [60u8, 62, 64, 65, 67, 69, 71, 72];
    let mut state = 11u32;
    for i in 0..32u32 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let key = scale[(state >> 16) as usize % scale.len()];
        for (beat, velocity) in [(i as f64 * 0.5, 100), (i as f64 * 0.5 + 0.4, 0)] {
            let _ = audio.captures.try_push(CaptureEvent {
                timeline: Timeline::Host,
                segment: 0,
                beat,
                channel: 0,
                key,
                velocity,
                time_signature: TimeSignature::default(),
                bar_origin: 0.0,
            });
        }
    }
    let _ = audio.requests.try_push(request());
    let mut first = None;
    wait_for("the suggestion", || {
        first = audio.phrases.try_pop();
        first.is_some()
    });
    let first = first.unwrap();
    let status = rig.shared.status.lock().unwrap().clone();
    assert_eq!(status.variations.len(), 3);
    assert_eq!(status.anchor, Some((20.0, Timeline::Host)));
    assert_eq!(first.anchor, 20.0);

    let mut harness = harness(&rig);
    assert!(harness.query_by_label("Variation 1 / 3").is_some());
    harness.get_by_label("Next >").click();
    harness.run_steps(2);
    let mut second = None;
    wait_for("the chosen variation", || {
        second = audio.phrases.try_pop();
        second.is_some()
    });
    let second = second.unwrap();
    let expected = continuo::realtime::player::PlaybackPhrase::new(
        &status.variations[1],
        20.0,
        Timeline::Host,
        4.0,
        7,
    );
    assert_eq!(
        *second, expected,
        "variation 2 replaces variation 1 in place"
    );
    assert_ne!(second.events, first.events);
    wait_for("the status", || {
        rig.shared.status.lock().unwrap().chosen == 1
    });
    harness.run_steps(2);
    assert!(harness.query_by_label("Variation 2 / 3").is_some());
    // The choice is what the project saves.
    wait_for("the saved session", || session.snapshot().chosen == 1);
}

#[test]
fn export_writes_the_chosen_variation_where_the_musician_said() {
    let rig = rig();
    {
        let mut status = rig.shared.status.lock().unwrap();
        let a = continuo_engine::generator::Melody::evenly_spaced(&[60, 62], 24, 90);
        let b = continuo_engine::generator::Melody::evenly_spaced(&[67, 65, 64, 62], 12, 90);
        for melody in [a, b] {
            status.variations.push(continuo_engine::phrase::Phrase {
                notes: melody.notes,
                length_ticks: 48,
                time_signature: TimeSignature::default(),
                timing: Vec::new(),
            });
        }
        status.chosen = 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("exports");
    let mut harness = harness(&rig);
    harness
        .state_mut()
        .set_export_folder(folder.to_str().unwrap());
    harness.get_by_label("Export .mid").click();
    harness.run_steps(2);
    let path = match harness.state().export_result() {
        Some(Ok(path)) => path.clone(),
        other => panic!("export failed: {other:?}"),
    };
    assert!(path.starts_with(&folder));
    let read = continuo_engine::midi_file::read_file(&path, None).unwrap();
    let pitches: Vec<u8> = read.melody.notes.iter().map(|n| n.pitch).collect();
    assert_eq!(
        pitches,
        vec![67, 65, 64, 62],
        "the chosen variation is written"
    );
    assert!(harness
        .query_by_label(&path.display().to_string())
        .is_some());
    // The folder is remembered with the project.
    assert_eq!(
        rig.params.editor_settings.get().export_folder,
        Some(folder.clone())
    );
}

#[test]
fn learning_from_a_folder_is_shown_saved_with_the_project_and_can_be_forgotten() {
    let rig = rig();
    let (_audio, session, _worker) = worker(&rig);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/fixtures");
    let files = std::fs::read_dir(&fixtures).unwrap().count();
    let mut harness = harness(&rig);
    assert!(harness
        .query_by_label("answers follow your playing alone")
        .is_some());
    harness
        .state_mut()
        .set_learn_folder(fixtures.to_str().unwrap());
    harness.run_steps(1);
    harness.get_by_label("Learn from folder").click();
    harness.run_steps(2);
    wait_for("the learnt tunes", || {
        rig.shared
            .status
            .lock()
            .unwrap()
            .learned
            .as_ref()
            .is_some_and(|l| l.files() == files)
    });
    wait_for("the saved session", || {
        session
            .snapshot()
            .learned
            .is_some_and(|l| l.files() == files)
    });
    harness.run_steps(2);
    let notes = rig
        .shared
        .status
        .lock()
        .unwrap()
        .learned
        .as_ref()
        .unwrap()
        .notes();
    assert!(harness
        .query_by_label(&format!("learnt {files} tunes ({notes} notes)"))
        .is_some());
    harness.get_by_label("Forget").click();
    harness.run_steps(2);
    wait_for("forgetting", || session.snapshot().learned.is_none());
    assert!(rig.shared.status.lock().unwrap().learned.is_none());
    // A folder with nothing to learn: one clear sentence, nothing learnt.
    let empty = tempfile::tempdir().unwrap();
    harness
        .state_mut()
        .set_learn_folder(empty.path().to_str().unwrap());
    harness.run_steps(1);
    harness.get_by_label("Learn from folder").click();
    harness.run_steps(2);
    wait_for("the error", || {
        rig.shared
            .status
            .lock()
            .unwrap()
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("Nothing learnt:"))
    });
    assert!(rig.shared.status.lock().unwrap().learned.is_none());
}
