//! `continuo-standalone [--backend dummy|jack|alsa] [--tempo T] …`: the plugin in its own window
//! with nice-plug's standalone host (see `--help` for its options).

fn main() {
    nice_plug::nice_export_standalone::<continuo::Continuo>();
}
