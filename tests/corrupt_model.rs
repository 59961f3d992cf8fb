//! A model file that is corrupt, or whose metadata does not match it (`CONTINUO_MODEL_PATH`):
//! with the real ONNX Runtime present, the plugin loads, passes MIDI and the Markov generator
//! answers. The status sentence for each case is checked in the plugin's unit tests.

use std::path::Path;

#[test]
fn a_corrupt_model_or_mismatched_metadata_falls_back_to_markov() {
    assert!(
        std::env::var_os("CONTINUO_ORT_PATH").is_some(),
        "run with the runtime (cargo xtask test sets CONTINUO_ORT_PATH), so that the model, not the runtime, is what fails"
    );
    let dir = std::env::temp_dir().join(format!("continuo-corrupt-model-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let real_model = std::fs::read(models.join("continuo-melody.onnx")).unwrap();
    let real_metadata = std::fs::read_to_string(models.join("continuo-melody.json")).unwrap();

    // 1. Corrupt bytes: the first half of the real file.
    let corrupt = dir.join("corrupt.onnx");
    std::fs::write(&corrupt, &real_model[..real_model.len() / 2]).unwrap();
    std::fs::write(corrupt.with_extension("json"), &real_metadata).unwrap();
    // 2. The real model with metadata from another model (a different vocabulary).
    let mismatched = dir.join("mismatched.onnx");
    std::fs::write(&mismatched, &real_model).unwrap();
    let mut metadata: serde_json::Value = serde_json::from_str(&real_metadata).unwrap();
    metadata["architecture"]["vocab_size"] = 999.into();
    std::fs::write(mismatched.with_extension("json"), metadata.to_string()).unwrap();

    // One after another in this one test: the environment variable is process-wide.
    for model in [corrupt, mismatched] {
        std::env::set_var("CONTINUO_MODEL_PATH", &model);
        continuo_host_tests::assert_markov_answers_for_the_model();
    }
}
