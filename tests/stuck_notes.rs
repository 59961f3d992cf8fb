//! Property test: whatever a host and a player do, every note the plugin sends on is sent off
//! once, on the same channel and key; no note-off comes without its note-on; every event lies
//! inside its block, in order (checked by the harness on every block); and nothing is allocated
//! in `process()` (the plugin binary is built with `assert_process_allocs`).
//!
//! Host loops (cycling a region) are among the actions, and every case runs as one of the host
//! profiles (`HostProfile::real_hosts`: rounded positions, positions only in samples or beats,
//! varying blocks, note-offs without voice ids, everything on channel 1) or the ideal host.
//!
//! `cargo xtask test` runs 200 cases; `cargo xtask stress` runs 10,000 (`PROPTEST_CASES`).

use continuo_host_tests::{assert_balanced, Daw, HostProfile, In, Out};
use proptest::prelude::*;

/// Largest block a host sends.
const MAX_BLOCK: u32 = 8192;

#[derive(Debug, Clone)]
enum Action {
    /// A block of this many samples, with (position in block as a fraction, key) toggles: a key
    /// not held is pressed, a held key is released.
    Block(u32, Vec<(f64, u8)>),
    Suggest,
    Transport(bool),
    Relocate(f64),
    Tempo(f64),
    Meter(u16, u16),
    Param(&'static str, f64),
    SampleRate(f64),
    /// The host cycles a region (start beat, length in beats), or stops cycling.
    Loop(Option<(f64, f64)>),
}

fn block_size() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..=16, 17u32..=1024, 1025u32..=MAX_BLOCK]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (block_size(), prop::collection::vec((0.0f64..1.0, 58u8..66), 0..5))
            .prop_map(|(size, notes)| Action::Block(size, notes)),
        2 => Just(Action::Suggest),
        1 => any::<bool>().prop_map(Action::Transport),
        1 => (0.0f64..64.0).prop_map(Action::Relocate),
        1 => (40.0f64..240.0).prop_map(Action::Tempo),
        1 => prop::sample::select(vec![(4u16, 4u16), (3, 4), (6, 8), (7, 8), (5, 4), (2, 2)])
            .prop_map(|(n, d)| Action::Meter(n, d)),
        2 => prop_oneof![
            (0.0f64..=15.0).prop_map(|v| Action::Param("length", v.round())),
            (0.0f64..=2.0).prop_map(|v| Action::Param("play-mode", v.round())),
            (0.0f64..=15.0).prop_map(|v| Action::Param("out-channel", v.round())),
            (0.0f64..=1.0).prop_map(|v| Action::Param("thru", v.round())),
            (0.0f64..=1.0).prop_map(|v| Action::Param("bypass", v.round())),
            (0.0f64..=2.0).prop_map(|v| Action::Param("start", v.round())),
            (0.0f64..=1.0).prop_map(|v| Action::Param("temperature", v)),
            (0.0f64..=2.0).prop_map(|v| Action::Param("partner", v.round())),
            (0.0f64..=7.0).prop_map(|v| Action::Param("answer-after", v.round())),
        ],
        1 => prop::sample::select(vec![44_100.0, 48_000.0, 96_000.0]).prop_map(Action::SampleRate),
        1 => prop::option::of((0.0f64..32.0, 0.5f64..16.0)).prop_map(Action::Loop),
    ]
}

fn play(profile: HostProfile, actions: &[Action]) -> Vec<(u64, Out)> {
    let mut daw = Daw::new(MAX_BLOCK);
    daw.profile = profile;
    let mut held = [false; 128];
    let mut events = daw.run(64, &[(0, In::Param("generator", 1.0))]);
    let mut pending: Vec<(u64, In)> = Vec::new();
    for action in actions {
        match action {
            Action::Block(size, toggles) => {
                daw.block_size = *size;
                let mut input = std::mem::take(&mut pending);
                let mut toggles = toggles.clone();
                toggles.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (at, key) in toggles {
                    let offset = ((at * *size as f64) as u64).min(*size as u64 - 1);
                    let position = daw.position + offset;
                    let event = if held[key as usize] {
                        In::NoteOff { channel: 0, key }
                    } else {
                        In::NoteOn {
                            channel: 0,
                            key,
                            velocity: 0.8,
                        }
                    };
                    held[key as usize] = !held[key as usize];
                    input.push((position, event));
                }
                input.sort_by_key(|(at, _)| *at);
                events.extend(daw.run(*size as u64, &input));
            }
            Action::Suggest => {
                pending.push((daw.position, In::Param("suggest", 1.0)));
                daw.block_size = 256;
                events.extend(daw.run(256, &std::mem::take(&mut pending)));
                // Let the worker answer, then release the trigger.
                daw.wait_ms(3);
                pending.push((daw.position, In::Param("suggest", 0.0)));
            }
            Action::Transport(playing) => daw.playing = *playing,
            Action::Relocate(beats) => daw.relocate(*beats),
            Action::Tempo(tempo) => daw.tempo = *tempo,
            Action::Meter(n, d) => daw.time_signature = (*n, *d),
            Action::Param(id, value) => pending.push((daw.position, In::Param(id, *value))),
            Action::SampleRate(rate) => daw.reactivate(*rate),
            Action::Loop(range) => daw.loop_range = range.map(|(start, len)| (start, start + len)),
        }
    }
    // The player lets go of everything, playback is switched off and the host stops: nothing
    // may be left sounding. (A stopped transport alone is not the end: Continuo plays on its
    // own clock while the transport is stopped.)
    daw.block_size = 512;
    let mut release: Vec<(u64, In)> = std::mem::take(&mut pending);
    release.push((daw.position, In::Param("play-mode", 0.0)));
    for key in 0..128u8 {
        if held[key as usize] {
            release.push((daw.position, In::NoteOff { channel: 0, key }));
        }
    }
    events.extend(daw.run(512, &release));
    daw.playing = false;
    events.extend(daw.run(1024, &[]));
    events
}

#[test]
fn no_note_is_ever_left_hanging() {
    // The only test in this binary: no runtime, so the Markov generator answers at once and no
    // model is loaded per case (ONNX Runtime is loaded once per process).
    std::env::set_var("CONTINUO_ORT_PATH", "/nonexistent/libonnxruntime.so.1.31.1");
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let mut profiles = HostProfile::real_hosts();
    profiles.push(HostProfile::IDEAL);
    let cases = (
        prop::sample::select(profiles),
        prop::collection::vec(action(), 1..40),
    );
    runner
        .run(&cases, |(profile, actions)| {
            let events = play(profile, &actions);
            assert_balanced(&events);
            Ok(())
        })
        .unwrap();
}
