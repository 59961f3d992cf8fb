//! Replays every input the engine's fuzzers ever crashed on
//! (`plugin/engine/tests/fuzz-regressions/<target>/`), plus a few seeds, through the same
//! harnesses the fuzz targets run (`continuo_engine::fuzzing`).

use std::path::Path;

use continuo_engine::fuzzing;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".gitkeep") {
            continue;
        }
        harness(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn midi_import_reproducers_and_seeds() {
    replay("midi_import", fuzzing::midi_import);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ode-to-joy.mid");
    let bytes = std::fs::read(example).unwrap();
    fuzzing::midi_import(&bytes);
    for cut in [0, 14, 22, bytes.len() / 2, bytes.len() - 1] {
        fuzzing::midi_import(&bytes[..cut]);
    }
}

#[test]
fn token_decode_reproducers_and_seeds() {
    replay("token_decode", fuzzing::token_decode);
    fuzzing::token_decode(&[]);
    fuzzing::token_decode(&[0xff; 64]);
}
