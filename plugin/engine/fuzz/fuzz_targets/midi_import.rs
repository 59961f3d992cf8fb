//! Any bytes as a .mid file: an error or a melody, never a panic, and a melody that imports is
//! one the engine can use (notes sorted, on the grid, inside MIDI's range).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    continuo_engine::fuzzing::midi_import(data);
});
