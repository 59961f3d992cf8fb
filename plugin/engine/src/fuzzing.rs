//! Harnesses for the engine's fuzz targets in `plugin/engine/fuzz/` (cargo-fuzz, nightly) and for
//! replaying their crash reproducers as regression tests on stable
//! (`plugin/engine/tests/fuzz_regressions.rs`).
//!
//! Each takes arbitrary bytes, runs one untrusted-input path of the engine and panics only when
//! an invariant the rest of Continuo relies on is broken. A clean error is a pass.

use crate::generator::Melody;
use crate::midi_file;
use crate::tokens;

/// Panics unless `melody` keeps the invariants every generator relies on: notes in onset order,
/// valid pitches, non-zero durations and a meter with at least one tick per bar.
pub fn check_melody(melody: &Melody) {
    for pair in melody.notes.windows(2) {
        assert!(pair[0].start <= pair[1].start, "notes out of order");
    }
    for note in &melody.notes {
        assert!(note.pitch <= 127 && note.duration >= 1, "bad note {note:?}");
    }
    assert!(melody.time_signature.bar_ticks() >= 1);
}

/// MIDI file import, and writing what was imported back out.
pub fn midi_import(data: &[u8]) {
    for track in [None, Some(0), Some(1)] {
        let Ok(imported) = midi_file::read_bytes(data, track) else {
            continue;
        };
        check_melody(&imported.melody);
        assert!(imported.tempo.is_finite() && imported.tempo > 0.0);
        let _ = imported.bars();
        let bytes = midi_file::encode(
            &[
                midi_file::TrackOut {
                    name: "again",
                    notes: midi_file::TrackNotes::Grid(&imported.melody.notes),
                    offset_ticks: 0,
                    channel: 0,
                },
                midi_file::TrackOut {
                    name: "as played",
                    notes: midi_file::TrackNotes::Played(&imported.performance),
                    offset_ticks: 0,
                    channel: 1,
                },
            ],
            imported.tempo,
            imported.melody.time_signature,
        );
        midi_file::read_bytes(&bytes, None).expect("what Continuo writes, it reads");
    }
}

/// Token decoding of arbitrary ids (pairs of bytes, little-endian); a decoded melody encodes.
pub fn token_decode(data: &[u8]) {
    let ids: Vec<u32> = data
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]) as u32)
        .collect();
    if let Ok(melody) = tokens::decode(&ids) {
        for pair in melody.notes.windows(2) {
            assert!(
                pair[0].start < pair[1].start,
                "one note per onset, in order"
            );
        }
        let encoded = tokens::encode(&melody, true, true).expect("a decoded melody encodes");
        let again = tokens::decode(&encoded).expect("and decodes again");
        assert_eq!(again.notes, melody.notes);
    }
}
