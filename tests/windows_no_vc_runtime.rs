//! Windows only (run under Wine by `cargo xtask test-windows`): when `onnxruntime.dll` beside the
//! plugin cannot load because a DLL it needs is missing (the Visual C++ Redistributable on a
//! machine without it), the plugin still loads, passes MIDI and answers with the Markov
//! generator. The stand-in DLL with a missing dependency is built by the xtask
//! (`xtask/wine-shims/missing_dependency.c`). (Its own process: the runtime loads once.)
#![cfg(windows)]

use std::path::PathBuf;

use continuo_host_tests::{assert_markov_answers_for_the_model, plugin_path};

#[test]
fn a_runtime_whose_dependencies_are_missing_falls_back_to_markov() {
    let stand_in = PathBuf::from(
        std::env::var_os("CONTINUO_TEST_MISSING_DEPENDENCY_DLL")
            .expect("cargo xtask test-windows builds the stand-in and sets this"),
    );
    let installed =
        std::env::temp_dir().join(format!("continuo-windows-novc-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&installed);
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::copy(plugin_path(), installed.join("Continuo.clap")).unwrap();
    std::fs::copy(&stand_in, installed.join("onnxruntime.dll")).unwrap();
    // The only test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var("CONTINUO_ORT_PATH", installed.join("nowhere.dll"));
    std::env::set_var("CONTINUO_CLAP", installed.join("Continuo.clap"));
    assert_markov_answers_for_the_model();
}
