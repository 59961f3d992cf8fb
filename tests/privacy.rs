//! Continuo in a host's process writes nothing into the user's cache or home: ONNX Runtime 1.31's
//! telemetry (a device id and an event queue under `$XDG_CACHE_HOME/Microsoft/DeveloperTools/`)
//! is never initialised. (Its own process, because ONNX Runtime is initialised once per process.)

use std::path::PathBuf;

use continuo_host_tests::privacy::{files_under, QUIETING_VARIABLES};
use continuo_host_tests::{ask_the_model, assert_balanced, Daw};

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "ONNX Runtime's file-writing telemetry (1DS) is Linux and macOS only; this test reads /proc"
)]
fn the_plugin_with_its_model_leaves_the_users_cache_and_home_empty() {
    assert!(
        std::env::var_os("CONTINUO_ORT_PATH").is_some(),
        "CONTINUO_ORT_PATH must point at ONNX Runtime (cargo xtask test sets it)"
    );
    let dir = std::env::temp_dir().join(format!("continuo-privacy-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&dir);
    let (cache, home) = (dir.join("cache"), dir.join("home"));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // The only test in this binary, so no other thread reads the environment meanwhile.
    for variable in QUIETING_VARIABLES {
        std::env::remove_var(variable);
    }
    std::env::set_var("XDG_CACHE_HOME", &cache);
    std::env::set_var("HOME", &home);

    let mut daw = Daw::new(512);
    let mut events = ask_the_model(&mut daw);
    daw.playing = false;
    events.extend(daw.run(512, &[]));
    assert_balanced(&events);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        maps.contains("libonnxruntime"),
        "ONNX Runtime was loaded into the host's process"
    );
    let written: Vec<PathBuf> = files_under(&cache)
        .into_iter()
        .chain(files_under(&home))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        written,
        Vec::<PathBuf>::new(),
        "files written behind the user's back"
    );
}
