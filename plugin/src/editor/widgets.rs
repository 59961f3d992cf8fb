//! Controls bound to host parameters. Every change is wrapped in begin/end gestures so the host
//! records it as automation; every control shows the parameter's current value, so automation
//! moves it. Each control carries an accessible label (screen readers, and the headless tests).

use egui::{Response, Ui, WidgetInfo};
use nice_plug::context::gui::ParamSetter;
use nice_plug::prelude::{BoolParam, Enum, EnumParam, Param};
use nice_plug_egui::widgets::ParamSlider;

/// Sets a parameter as one gesture.
pub fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// A drop-down list of an enum parameter's values.
pub fn enum_combo<T: Enum + PartialEq + 'static>(
    ui: &mut Ui,
    label: &str,
    param: &EnumParam<T>,
    setter: &ParamSetter,
) -> Response {
    let current = param.value().to_index();
    let names = T::variants();
    let inner = egui::ComboBox::from_id_salt(label)
        .selected_text(names.get(current).copied().unwrap_or(""))
        .show_ui(ui, |ui| {
            for (index, name) in names.iter().enumerate() {
                if ui.selectable_label(index == current, *name).clicked() && index != current {
                    set(setter, param, T::from_index(index));
                }
            }
        });
    let response = inner.response;
    let value = names.get(current).copied().unwrap_or("").to_string();
    let label = label.to_string();
    response.widget_info(move || {
        let mut info = WidgetInfo::labeled(egui::Role::ComboBox, true, &label);
        info.current_text_value = Some(value.clone());
        info
    });
    response
}

/// nice-plug's parameter slider (drag, shift-drag for fine steps, double-click to reset, click
/// the value to type one).
pub fn slider<P: Param>(ui: &mut Ui, label: &str, param: &P, setter: &ParamSetter) -> Response {
    slider_sized(ui, label, param, setter, 150.0)
}

pub fn slider_sized<P: Param>(
    ui: &mut Ui,
    label: &str,
    param: &P,
    setter: &ParamSetter,
    width: f32,
) -> Response {
    let response = ui.add(ParamSlider::for_param(param, setter).with_width(width));
    let label = label.to_string();
    response.widget_info(move || WidgetInfo::labeled(egui::Role::Slider, true, &label));
    response
}

/// A checkbox for a boolean parameter.
pub fn checkbox(ui: &mut Ui, label: &str, param: &BoolParam, setter: &ParamSetter) -> Response {
    let mut value = param.value();
    let response = ui.checkbox(&mut value, label);
    if response.changed() {
        set(setter, param, value);
    }
    response
}
