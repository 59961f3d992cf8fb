//! The editor: a piano roll of what was played with the suggestion after it, variation
//! browsing, Play once / Loop / Stop, Export .mid, every parameter, and a status line.
//!
//! It runs on the GUI thread. It reads the worker's [`Status`] (a mutex only the GUI and the
//! worker take) and the audio thread's [`HostView`](crate::realtime::view::HostView) (atomics),
//! sends [`Command`]s to the worker, and bumps counters the audio thread watches (Suggest,
//! replay). Parameters are changed through nice-plug's `ParamSetter`, with begin/end gestures, so
//! the host records automation and moves the controls when automation plays.
//!
//! [`EditorUi`] draws the whole face into any `egui::Ui`; the tests drive it without a window.
//! [`EditorShell`] is the `Editor` the host sees: it opens each window at the size saved with
//! the project.

mod roll;
pub mod settings;
mod widgets;

use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use egui::{Color32, RichText};
use nice_plug::context::gui::{GuiContext, ParamSetter};
use nice_plug::editor::{Editor, HostMethods, ParentWindowHandle, ResizeHint, SpawnedEditor};
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings,
    NiceEguiApp, RepaintNotifier,
};

pub use roll::{RollView, RollWindow};
pub use settings::{EditorPrefs, EditorSettings, MIN_SIZE};

use crate::export::{self, Export};
use crate::params::{ContinuoParams, PlayModeParam};
use crate::worker::{click_suggest, Command, Shared, Status};

/// How long after a Suggest click without any audio block the editor says the host is not
/// processing (a click is turned into a request by the audio thread).
const HOST_SILENT_AFTER: Duration = Duration::from_millis(750);
/// How long the editor waits for an answer before it stops showing that it is working.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

const WARNING: Color32 = Color32::from_rgb(235, 180, 80);
const ERROR: Color32 = Color32::from_rgb(235, 110, 90);

/// A Suggest click waiting for its answer.
#[derive(Debug, Clone, Copy)]
struct PendingClick {
    at: Instant,
    /// `Status::phrases_made` at the click: the answer has come when it grows.
    phrases_before: u64,
    /// Audio blocks processed at the click: if it does not grow, the host is not processing.
    blocks_at_click: u64,
}

/// The editor's face, drawn into any `egui::Ui` (a plugin window or a test harness).
pub struct EditorUi {
    params: Arc<ContinuoParams>,
    /// Status from the worker, the audio thread's view of time, and the click counters.
    shared: Arc<Shared>,
    /// Commands for the worker (Clear history, Choose variation).
    commands: Sender<Command>,
    /// Window size and export choices, saved with the project.
    settings: Arc<EditorSettings>,
    /// The export folder as typed; applied when Export is clicked.
    export_folder: String,
    /// The last export's path or error, shown under the Export button.
    export_result: Option<Result<PathBuf, String>>,
    /// The folder of the player's own .mid files, as typed; learnt when Learn is clicked.
    learn_folder: String,
    /// Set by a Suggest click until its answer arrives.
    pending: Option<PendingClick>,
}

impl EditorUi {
    pub fn new(
        params: Arc<ContinuoParams>,
        shared: Arc<Shared>,
        commands: Sender<Command>,
        settings: Arc<EditorSettings>,
    ) -> Self {
        let folder = settings
            .get()
            .export_folder
            .unwrap_or_else(export::default_folder);
        Self {
            params,
            shared,
            commands,
            settings,
            export_folder: folder.display().to_string(),
            export_result: None,
            learn_folder: String::new(),
            pending: None,
        }
    }

    /// The last export's result (for tests and the status line).
    pub fn export_result(&self) -> Option<&Result<PathBuf, String>> {
        self.export_result.as_ref()
    }

    /// Sets the learn folder field as if typed.
    pub fn set_learn_folder(&mut self, folder: &str) {
        self.learn_folder = folder.to_string();
    }

    /// Sets the export folder field as if typed.
    pub fn set_export_folder(&mut self, folder: &str) {
        self.export_folder = folder.to_string();
    }

    /// Draws the whole editor.
    pub fn show(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let status = self
            .shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let host = self.shared.host.snapshot();
        if let Some(pending) = self.pending {
            let answered = status.phrases_made != pending.phrases_before;
            if answered || (!status.working && pending.at.elapsed() > ANSWER_TIMEOUT) {
                self.pending = None;
            }
        }
        // Keep drawing while something moves: the playhead, or a suggestion on its way.
        if host.phrase_position.is_some() || status.working || self.pending.is_some() {
            ui.ctx().request_repaint_after(Duration::from_millis(30));
        }

        ui.horizontal(|ui| self.action_bar(ui, setter, &status, host.blocks));
        ui.add_space(4.0);
        let roll_height = (ui.available_height() - 265.0).max(140.0);
        let view = RollView {
            history: status.recent.as_ref(),
            variations: &status.variations,
            chosen: status.chosen,
            anchor: status.anchor,
            phrase_position: host.phrase_position,
        };
        roll::show(ui, &view, egui::vec2(ui.available_width(), roll_height));
        ui.add_space(6.0);
        self.parameters(ui, setter);
        ui.separator();
        self.export_row(ui, &status, host.tempo);
        self.learn_row(ui, &status);
        ui.separator();
        status_line(ui, &status, &host);
    }

    /// Suggest, variation browsing, Play once / Loop / Stop, Clear.
    fn action_bar(
        &mut self,
        ui: &mut egui::Ui,
        setter: &ParamSetter,
        status: &Status,
        blocks: u64,
    ) {
        let suggest = ui.add(egui::Button::new(
            RichText::new("Suggest continuation").strong(),
        ));
        if suggest.clicked() {
            click_suggest(&self.shared);
            self.pending = Some(PendingClick {
                at: Instant::now(),
                phrases_before: status.phrases_made,
                blocks_at_click: blocks,
            });
        }
        match self.pending {
            Some(p) if blocks == p.blocks_at_click && p.at.elapsed() > HOST_SILENT_AFTER => {
                ui.colored_label(WARNING, "Waiting for the host to process audio…");
            }
            Some(_) => {
                ui.spinner();
                ui.label("Composing…");
            }
            None if status.working => {
                ui.spinner();
                ui.label("Composing…");
            }
            None => {
                if let Some(time) = status.last_generation {
                    ui.label(format!("{:.0} ms", time.as_secs_f64() * 1e3))
                        .on_hover_text("How long the last suggestion took to compose");
                }
            }
        }
        ui.separator();

        let count = status.variations.len();
        let chosen = status.chosen;
        if ui
            .add_enabled(count > 1 && chosen > 0, egui::Button::new("< Previous"))
            .on_hover_text("Previous variation")
            .clicked()
        {
            let _ = self.commands.send(Command::ChooseVariation(chosen - 1));
        }
        ui.label(if count == 0 {
            "No suggestion".to_string()
        } else {
            format!("Variation {} / {count}", chosen + 1)
        });
        if ui
            .add_enabled(count > 1 && chosen + 1 < count, egui::Button::new("Next >"))
            .on_hover_text("Next variation")
            .clicked()
        {
            let _ = self.commands.send(Command::ChooseVariation(chosen + 1));
        }
        ui.separator();

        let mode = self.params.play_mode.value();
        if ui
            .selectable_label(mode == PlayModeParam::Once, "Play once")
            .on_hover_text("Play the suggestion once, from the next bar")
            .clicked()
        {
            widgets::set(setter, &self.params.play_mode, PlayModeParam::Once);
            // Play once again after it has finished: the audio thread re-arms it.
            self.shared
                .replay_clicks
                .fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        if ui
            .selectable_label(mode == PlayModeParam::Loop, "Loop")
            .on_hover_text("Loop the suggestion from the next bar")
            .clicked()
        {
            widgets::set(setter, &self.params.play_mode, PlayModeParam::Loop);
        }
        if ui
            .selectable_label(mode == PlayModeParam::Off, "Stop")
            .on_hover_text("Stop playing the suggestion (it is kept for browsing and export)")
            .clicked()
        {
            widgets::set(setter, &self.params.play_mode, PlayModeParam::Off);
        }
        ui.separator();
        if ui
            .button("Clear history")
            .on_hover_text("Forget what was played so far")
            .clicked()
        {
            let _ = self.commands.send(Command::ClearHistory);
        }
    }

    /// Every parameter, bound to the host.
    fn parameters(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        egui::Grid::new("continuo-parameters")
            .num_columns(4)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label("Style");
                ui.horizontal(|ui| {
                    widgets::enum_combo(ui, "Style", &p.style, setter);
                    widgets::slider_sized(ui, "Style strength", &p.style_strength, setter, 90.0);
                });
                ui.label("Temperature");
                widgets::slider(ui, "Temperature", &p.temperature, setter);
                ui.end_row();

                ui.label("Length");
                widgets::slider(ui, "Length", &p.length_bars, setter);
                ui.label("Variations");
                widgets::slider(ui, "Variations", &p.variations, setter);
                ui.end_row();

                ui.label("Generator");
                widgets::enum_combo(ui, "Generator", &p.generator, setter);
                ui.label("Start");
                widgets::enum_combo(ui, "Start", &p.start, setter);
                ui.end_row();

                ui.label("Scale lock");
                widgets::enum_combo(ui, "Scale lock", &p.scale_lock, setter);
                ui.label("Key");
                ui.horizontal(|ui| {
                    widgets::enum_combo(ui, "Key", &p.key, setter);
                    widgets::enum_combo(ui, "Mode", &p.mode, setter);
                });
                ui.end_row();

                ui.label("Range");
                ui.horizontal(|ui| {
                    widgets::slider_sized(ui, "Lowest note", &p.range_low, setter, 80.0);
                    widgets::slider_sized(ui, "Highest note", &p.range_high, setter, 80.0);
                });
                ui.label("Output channel");
                widgets::slider(ui, "Output channel", &p.output_channel, setter);
                ui.end_row();

                ui.label("Thru");
                widgets::checkbox(ui, "Pass played notes through", &p.thru, setter);
                ui.label("Follow my motifs");
                widgets::slider(ui, "Follow my motifs", &p.follow_motifs, setter);
                ui.end_row();

                ui.label("Feel");
                ui.horizontal(|ui| {
                    widgets::slider(ui, "Feel", &p.feel, setter);
                    widgets::checkbox(ui, "Land phrases", &p.landing, setter);
                });
                ui.label("Partner");
                ui.horizontal(|ui| {
                    widgets::enum_combo(ui, "Partner", &p.partner, setter);
                    widgets::slider_sized(ui, "Answer after", &p.answer_after, setter, 90.0);
                });
                ui.end_row();
            });
    }

    /// Learn from a folder of the player's own .mid files, and what was learnt.
    fn learn_row(&mut self, ui: &mut egui::Ui, status: &Status) {
        ui.horizontal(|ui| {
            ui.label("Learn from");
            ui.add(
                egui::TextEdit::singleline(&mut self.learn_folder)
                    .desired_width(260.0)
                    .hint_text("a folder of your .mid files"),
            );
            let typed = !self.learn_folder.trim().is_empty();
            if ui
                .add_enabled(typed, egui::Button::new("Learn from folder"))
                .on_hover_text(
                    "Your tunes' melodies join your playing in Follow my motifs (saved with the project)",
                )
                .clicked()
            {
                let folder = expand_home(self.learn_folder.trim());
                let _ = self.commands.send(Command::LearnFrom(folder));
            }
            match &status.learned {
                Some(learned) => {
                    ui.label(format!(
                        "learnt {} tunes ({} notes)",
                        learned.files(),
                        learned.notes()
                    ));
                    if ui.button("Forget").clicked() {
                        let _ = self.commands.send(Command::ForgetLearned);
                    }
                }
                None => {
                    ui.label("answers follow your playing alone");
                }
            }
        });
    }

    /// The export folder, the prompt option, the Export button and the last result.
    fn export_row(&mut self, ui: &mut egui::Ui, status: &Status, tempo: f64) {
        let mut with_prompt = self.settings.get().export_with_prompt;
        ui.horizontal(|ui| {
            ui.label("Export to");
            ui.add(
                egui::TextEdit::singleline(&mut self.export_folder)
                    .desired_width(260.0)
                    .hint_text("~/Music/Continuo"),
            );
            if ui
                .checkbox(&mut with_prompt, "with the prompt")
                .on_hover_text("Write the bars played before the suggestion too")
                .changed()
            {
                self.settings.update(|p| p.export_with_prompt = with_prompt);
            }
            let export =
                ui.add_enabled(status.current().is_some(), egui::Button::new("Export .mid"));
            if export.clicked() {
                self.export_result = Some(self.export(status, tempo, with_prompt));
            }
        });
        match &self.export_result {
            Some(Ok(path)) => {
                ui.horizontal(|ui| {
                    let text = path.display().to_string();
                    ui.label("Written:");
                    ui.add(egui::Label::new(RichText::new(&text).monospace()).selectable(true));
                    if ui.button("Copy path").clicked() {
                        ui.ctx().copy_text(text);
                    }
                });
            }
            Some(Err(error)) => {
                ui.colored_label(ERROR, format!("Export failed: {error}"));
            }
            None => {}
        }
    }

    fn export(&self, status: &Status, tempo: f64, with_prompt: bool) -> Result<PathBuf, String> {
        let phrase = status
            .current()
            .ok_or_else(|| "there is no suggestion to export".to_string())?;
        let folder = expand_home(self.export_folder.trim());
        self.settings.update(|p| {
            p.export_folder = (folder != export::default_folder()).then(|| folder.clone());
        });
        let prompt = if with_prompt {
            status
                .prompt
                .as_ref()
                .map(|(played, tick)| (played.as_slice(), *tick))
        } else {
            None
        };
        export::write(
            &folder,
            &Export {
                phrase,
                prompt,
                tempo,
                time_signature: phrase.time_signature,
                variation: status.chosen + 1,
            },
        )
        .map_err(|e| e.to_string())
    }
}

/// `~` and `~/…` mean the home folder; an empty field means the default folder.
fn expand_home(text: &str) -> PathBuf {
    if text.is_empty() {
        return export::default_folder();
    }
    match (text.strip_prefix('~'), dirs::home_dir()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(text),
    }
}

/// Generator, detected key, host tempo and meter, last generation time; then any warning.
fn status_line(ui: &mut egui::Ui, status: &Status, host: &crate::realtime::view::HostSnapshot) {
    let generator = if status.generator.is_empty() {
        "Loading the model…".to_string()
    } else {
        status.generator.clone()
    };
    let key = status
        .detected_key
        .map_or_else(|| "—".to_string(), |k| k.to_string());
    let time = status.last_generation.map_or_else(
        || "—".to_string(),
        |t| format!("{:.1} ms", t.as_secs_f64() * 1e3),
    );
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(generator).strong());
        ui.label(format!("· key {key}"));
        if status.under_melody > 0 {
            ui.label(format!(
                "· melody line continued ({} other notes left out)",
                status.under_melody
            ));
        }
        ui.label(format!(
            "· {:.1} BPM {}/{}{}",
            host.tempo,
            host.time_signature.numerator,
            host.time_signature.denominator,
            if host.host_playing { "" } else { " (stopped)" }
        ));
        ui.label(format!("· {} notes played", status.history_notes));
        ui.label(format!("· last suggestion {time}"));
        if host.late_phrases > 0 {
            ui.label(format!(
                "· {} of {} answers were not ready in time and started on the next grid line",
                host.late_phrases, host.phrases
            ));
        }
    });
    if let Some(why) = &status.fallback {
        ui.colored_label(WARNING, format!("Markov fallback: {why}"));
    }
    if let Some(error) = &status.error {
        ui.colored_label(ERROR, error);
    }
}

/// The nice-plug-egui app: the face plus the host's GUI context.
pub struct ContinuoEditor {
    face: EditorUi,
    /// Set in `build()`: how the editor talks to the host (parameter gestures).
    gui_context: Option<GuiContext>,
}

impl NiceEguiApp for ContinuoEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui_context: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(gui_context);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui_context) = &self.gui_context else {
            return;
        };
        let setter = gui_context.param_setter();
        let face = &mut self.face;
        ResizableWindow::new("continuo-resize")
            .min_size(egui::vec2(
                settings::MIN_SIZE.0 as f32,
                settings::MIN_SIZE.1 as f32,
            ))
            .show(ui, |ui| {
                egui::Frame::new()
                    .inner_margin(8.0)
                    .show(ui, |ui| face.show(ui, &setter));
            });
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        self.face
            .settings
            .set_size(new_size.logical.width, new_size.logical.height);
    }
}

/// The `Editor` the host sees. Each window is built at the size saved with the project (the
/// host may load a project after the editor object was made), and resizing saves the new size.
pub struct EditorShell {
    params: Arc<ContinuoParams>,
    shared: Arc<Shared>,
    commands: Sender<Command>,
    /// The egui editor of the last window opened and its state (the state says whether the
    /// window is still open and knows the display's scale).
    last: Mutex<Option<(EguiEditor<ContinuoEditor>, Arc<EguiEditorState>)>>,
}

impl EditorShell {
    pub fn new(
        params: Arc<ContinuoParams>,
        shared: Arc<Shared>,
        commands: Sender<Command>,
    ) -> Self {
        Self {
            params,
            shared,
            commands,
            last: Mutex::new(None),
        }
    }

    fn resize_hint_value() -> ResizeHint {
        ResizeHint::resizable().with_min_max_logical_size(
            Some(nice_plug::editor::dpi::LogicalSize::new(
                settings::MIN_SIZE.0 as f32,
                settings::MIN_SIZE.1 as f32,
            )),
            Some(nice_plug::editor::dpi::LogicalSize::new(
                settings::MAX_SIZE.0 as f32,
                settings::MAX_SIZE.1 as f32,
            )),
        )
    }
}

impl Editor for EditorShell {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let prefs = self.params.editor_settings.get();
        let state = EguiEditorState::from_size(
            nice_plug::editor::dpi::LogicalSize::new(prefs.width as f32, prefs.height as f32),
            1.0,
        );
        let face = EditorUi::new(
            self.params.clone(),
            self.shared.clone(),
            self.commands.clone(),
            self.params.editor_settings.clone(),
        );
        let editor = create_egui_editor(
            state.clone(),
            RepaintNotifier::new(),
            EguiNiceSettings::new()
                .with_tile("Continuo")
                .with_resize_hint(Self::resize_hint_value()),
            ContinuoEditor {
                face,
                gui_context: None,
            },
        )
        .ok_or("the editor could not be created")?;
        let spawned = editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((editor, state));
        Ok(spawned)
    }

    fn size(&self) -> nice_plug::editor::dpi::NativeSize<u32> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match last.as_ref() {
            Some((editor, state)) if state.is_open() => editor.size(),
            _ => {
                let prefs = self.params.editor_settings.get();
                nice_plug::editor::dpi::NativeSize::from_size(
                    nice_plug::editor::dpi::LogicalSize::new(
                        prefs.width as f32,
                        prefs.height as f32,
                    )
                    .into(),
                    1.0,
                )
            }
        }
    }

    fn resize_hint(&self) -> ResizeHint {
        Self::resize_hint_value()
    }

    fn track_info_updated(&self, info: nice_plug::plugin::TrackInfo) {
        if let Some((editor, _)) = self.last.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            editor.track_info_updated(info);
        }
    }
}
