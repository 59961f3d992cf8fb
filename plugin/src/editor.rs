//! The editor: a Suggest button, Clear, every parameter and a status line. The full piano-roll
//! GUI is its own piece of work; this one is deliberately small.

use std::sync::Arc;

use crossbeam_channel::Sender;
use nice_plug::context::gui::GuiContext;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};

use crate::params::ContinuoParams;
use crate::pianoroll;
use crate::worker::{click_suggest, Command, Shared};

const WIDTH: u32 = 520;
const HEIGHT: u32 = 620;

/// The editor's initial (and persisted) size.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(WIDTH as f32, HEIGHT as f32),
        1.0,
    )
}

/// The editor's state, living on the GUI thread.
pub struct ContinuoEditor {
    params: Arc<ContinuoParams>,
    /// Status from the worker, and the Suggest-click counter the audio thread watches.
    shared: Arc<Shared>,
    /// Commands for the worker (Clear history).
    commands: Sender<Command>,
    /// Set in `build()`: how the editor talks to the host (parameter gestures).
    gui_context: Option<GuiContext>,
}

pub fn create(
    params: Arc<ContinuoParams>,
    shared: Arc<Shared>,
    commands: Sender<Command>,
) -> Option<EguiEditor<ContinuoEditor>> {
    let state = params.editor_state.clone();
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("Continuo"),
        ContinuoEditor {
            params,
            shared,
            commands,
            gui_context: None,
        },
    )
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
        ui.heading("Continuo");
        ui.horizontal(|ui| {
            if ui.button("Suggest continuation").clicked() {
                click_suggest(&self.shared);
            }
            if ui.button("Clear history").clicked() {
                let _ = self.commands.send(Command::ClearHistory);
            }
        });
        ui.separator();
        let params = &self.params;
        egui::Grid::new("params").num_columns(2).show(ui, |ui| {
            ui.label("Length");
            ui.add(ParamSlider::for_param(&params.length_bars, &setter));
            ui.end_row();
            ui.label("Play mode");
            ui.add(ParamSlider::for_param(&params.play_mode, &setter));
            ui.end_row();
            ui.label("Start");
            ui.add(ParamSlider::for_param(&params.start, &setter));
            ui.end_row();
            ui.label("Style");
            ui.add(ParamSlider::for_param(&params.style, &setter));
            ui.end_row();
            ui.label("Temperature");
            ui.add(ParamSlider::for_param(&params.temperature, &setter));
            ui.end_row();
            ui.label("Variations");
            ui.add(ParamSlider::for_param(&params.variations, &setter));
            ui.end_row();
            ui.label("Generator");
            ui.add(ParamSlider::for_param(&params.generator, &setter));
            ui.end_row();
            ui.label("Scale lock");
            ui.add(ParamSlider::for_param(&params.scale_lock, &setter));
            ui.end_row();
            ui.label("Key");
            ui.horizontal(|ui| {
                ui.add(ParamSlider::for_param(&params.key, &setter).with_width(70.0));
                ui.add(ParamSlider::for_param(&params.mode, &setter).with_width(70.0));
            });
            ui.end_row();
            ui.label("Range");
            ui.horizontal(|ui| {
                ui.add(ParamSlider::for_param(&params.range_low, &setter).with_width(70.0));
                ui.add(ParamSlider::for_param(&params.range_high, &setter).with_width(70.0));
            });
            ui.end_row();
            ui.label("Output channel");
            ui.add(ParamSlider::for_param(&params.output_channel, &setter));
            ui.end_row();
            ui.label("Thru");
            ui.add(ParamSlider::for_param(&params.thru, &setter));
            ui.end_row();
        });
        ui.separator();
        let status = self
            .shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        ui.label(format!(
            "Generator: {}   History: {} notes   Detected key: {}",
            status.generator,
            status.history_notes,
            status
                .detected_key
                .map_or_else(|| "—".to_string(), |k| k.to_string())
        ));
        if let Some(why) = &status.fallback {
            ui.label(format!("Markov fallback: {why}"));
        }
        if status.variations.len() > 1 {
            ui.label(format!(
                "{} variations (the first plays)",
                status.variations.len()
            ));
        }
        if let Some(time) = status.last_generation {
            ui.label(format!(
                "Last suggestion took {:.1} ms",
                time.as_secs_f64() * 1e3
            ));
        }
        if let Some(error) = &status.error {
            ui.colored_label(egui::Color32::from_rgb(230, 120, 90), error);
        }
        if let Some((phrase, _)) = &status.last_phrase {
            ui.monospace(pianoroll::render(
                &phrase.notes,
                phrase.length_ticks,
                phrase.time_signature,
            ));
        }
    }
}
