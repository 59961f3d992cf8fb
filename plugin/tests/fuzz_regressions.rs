//! Replays every saved state the plugin's fuzzer ever crashed on
//! (`plugin/tests/fuzz-regressions/session_state/`), plus a few seeds, through the harness the
//! fuzz target runs (`continuo::fuzzing`). The engine's targets are replayed by
//! `plugin/engine/tests/fuzz_regressions.rs`.

use std::path::Path;

#[test]
fn session_state_reproducers_and_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/session_state");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != ".gitkeep") {
            continuo::fuzzing::session_state(&std::fs::read(&path).unwrap());
        }
    }
    continuo::fuzzing::session_state(br#"{"version":1,"segments":[],"variations":[],"chosen":9}"#);
    continuo::fuzzing::session_state(br#"{"width":0,"height":99999999}"#);
}
