//! Continuo's CLAP binary driven as a DAW drives it: 120 BPM at 48 kHz, a melody played in,
//! Suggest triggered, and the answer checked to the sample. The binary is built with nice-plug's
//! `assert_process_allocs`, so any allocation in `process()` aborts these tests.

use continuo_host_tests::{assert_balanced, notes, Daw, HostProfile, In, Out};

/// The figure the "player" plays three times: C D E F G F E D in eighths.
const FIGURE: [u8; 8] = [60, 62, 64, 65, 67, 65, 64, 62];
/// One eighth note at 120 BPM and 48 kHz.
const EIGHTH: u64 = 12_000;
/// Each played note lasts 10000 samples (5 grid ticks), detached from the next.
const HELD: u64 = 10_000;
/// Suggest is triggered at beat 12.5, after the three bars of playing.
const TRIGGER_AT: u64 = 300_000;
/// The continuation starts at the next bar line: beat 16.
const PHRASE_START: u64 = 384_000;
/// The suggestion's output channel (index; "2" in the plugin's parameter).
const OUT_CHANNEL: u8 = 1;

/// Parameter values as CLAP carries them for nice-plug (stepped parameters count steps).
fn setup_params() -> Vec<(u64, In)> {
    vec![
        (0, In::Param("temperature", 0.0)), // 0.1, the coldest: the learnt line comes back
        (0, In::Param("length", 1.0)),      // 2 bars
        (0, In::Param("out-channel", 1.0)), // channel 2
        (0, In::Param("generator", 1.0)),   // the Markov generator: its answer is known exactly
    ]
}

/// The player's three bars, plus the Suggest trigger.
fn played_input() -> Vec<(u64, In)> {
    let mut input = setup_params();
    let keys: Vec<u8> = FIGURE.iter().copied().cycle().take(24).collect();
    input.extend(notes(&keys, EIGHTH, HELD, 0.8));
    input.push((TRIGGER_AT, In::Param("suggest", 1.0)));
    input.sort_by_key(|(at, _)| *at);
    input
}

/// A change the test makes to the DAW (tempo, transport) at a sample position.
type Change<'a> = (u64, &'a dyn Fn(&mut Daw));

/// Plays `input` (which triggers Suggest at `TRIGGER_AT`), lets the worker answer, releases the
/// trigger and plays on until sample `until`, applying `changes` at their positions. Returns
/// everything the plugin sent.
fn play_and_answer(
    daw: &mut Daw,
    input: &[(u64, In)],
    until: u64,
    changes: &[Change],
) -> Vec<(u64, Out)> {
    let mut events = daw.run(TRIGGER_AT + daw.block_size as u64, input);
    daw.let_worker_answer();
    let release = [(daw.position, In::Param("suggest", 0.0))];
    let mut position = daw.position;
    for (at, change) in changes {
        events.extend(daw.run(at - position, &release));
        change(daw);
        position = *at;
    }
    events.extend(daw.run(until - position, &release));
    events
}

/// The standard session: the figure played in at `block` samples a block, Suggest, playback.
fn session(block: u32, until: u64, changes: &[Change]) -> Vec<(u64, Out)> {
    play_and_answer(&mut Daw::new(block), &played_input(), until, changes)
}

fn phrase_events(events: &[(u64, Out)]) -> Vec<(u64, Out)> {
    events
        .iter()
        .filter(|(_, e)| match e {
            Out::NoteOn { channel, .. } | Out::NoteOff { channel, .. } => *channel == OUT_CHANNEL,
            Out::Midi(_) => false,
        })
        .copied()
        .collect()
}

/// Expected phrase events when beat `b` sits at sample `sample_of(b)`.
fn expected(sample_of: impl Fn(f64) -> u64) -> Vec<(u64, u8, bool)> {
    let mut expected = Vec::new();
    for (k, &key) in FIGURE.iter().cycle().take(16).enumerate() {
        let on = 16.0 + k as f64 * 0.5;
        expected.push((sample_of(on), key, true));
        expected.push((sample_of(on + 5.0 / 12.0), key, false));
    }
    expected
}

fn simplify(events: &[(u64, Out)]) -> Vec<(u64, u8, bool)> {
    events
        .iter()
        .map(|(at, e)| match *e {
            Out::NoteOn { key, velocity, .. } => {
                // The phrase reuses the player's velocity (0.8 → MIDI 102).
                assert!(
                    (velocity - 102.0 / 127.0).abs() < 1e-3,
                    "velocity {velocity}"
                );
                (*at, key, true)
            }
            Out::NoteOff { key, .. } => (*at, key, false),
            Out::Midi(_) => unreachable!(),
        })
        .collect()
}

#[test]
fn suggestions_land_on_exact_samples_for_every_block_size() {
    let at_120 = |beat: f64| (beat * 24_000.0).round() as u64;
    for block in [1, 64, 512, 4096] {
        let events = session(block, 600_000, &[]);
        let phrase = phrase_events(&events);
        assert_eq!(simplify(&phrase), expected(at_120), "block size {block}");
        assert_eq!(phrase[0].0, PHRASE_START);
        assert_balanced(&events);
    }
}

#[test]
fn a_tempo_change_mid_phrase_is_followed() {
    // At beat 18 (sample 432000) the tempo drops to 90 BPM: a beat becomes 32000 samples.
    let change_at = 432_000;
    let to_90 = |daw: &mut Daw| daw.tempo = 90.0;
    let events = session(64, 800_000, &[(change_at, &to_90)]);
    let sample_of = |beat: f64| {
        if beat < 18.0 {
            (beat * 24_000.0).round() as u64
        } else {
            change_at + ((beat - 18.0) * 32_000.0).round() as u64
        }
    };
    assert_eq!(simplify(&phrase_events(&events)), expected(sample_of));
    assert_balanced(&events);
}

#[test]
fn stopping_the_transport_ends_every_note() {
    // Stop while the second note of the phrase (D, on at beat 16.5 = 396000) sounds.
    let stop_at = 782 * 512; // 400384, a block boundary
    let stop = |daw: &mut Daw| daw.playing = false;
    let events = session(512, stop_at + 200_000, &[(stop_at, &stop)]);
    let phrase = phrase_events(&events);
    let after_stop: Vec<_> = phrase.iter().filter(|(at, _)| *at >= stop_at).collect();
    assert_eq!(
        after_stop,
        vec![&(
            stop_at,
            Out::NoteOff {
                channel: OUT_CHANNEL,
                key: 62
            }
        )],
        "one note-off at the stop, then silence"
    );
    assert_balanced(&events);
}

#[test]
fn controllers_pass_through_unchanged_at_the_same_offset() {
    let mut daw = Daw::new(512);
    let messages = [
        (100, [0xB2, 1, 64]),      // mod wheel, channel 3
        (700, [0xE0, 0x12, 0x47]), // pitch bend
        (1_500, [0xD5, 90, 0]),    // channel pressure
        (2_047, [0xB0, 74, 127]),  // brightness, last sample of a block
        (2_048, [0xC1, 5, 0]),     // program change
    ];
    let input: Vec<(u64, In)> = messages.iter().map(|&(at, m)| (at, In::Midi(m))).collect();
    let events = daw.run(4_096, &input);
    let midi: Vec<(u64, [u8; 3])> = events
        .iter()
        .filter_map(|(at, e)| match e {
            Out::Midi(data) => Some((*at, *data)),
            _ => None,
        })
        .collect();
    let expected: Vec<(u64, [u8; 3])> = messages.iter().map(|&(at, m)| (at, m)).collect();
    assert_eq!(midi, expected);
}

#[test]
fn thru_off_blocks_new_notes_but_never_strands_a_held_one() {
    let mut daw = Daw::new(256);
    let input = vec![
        (
            10,
            In::NoteOn {
                channel: 0,
                key: 60,
                velocity: 0.5,
            },
        ),
        (1_000, In::Param("thru", 0.0)),
        (
            2_000,
            In::NoteOn {
                channel: 0,
                key: 64,
                velocity: 0.5,
            },
        ),
        (
            3_000,
            In::NoteOff {
                channel: 0,
                key: 60,
            },
        ),
        (
            4_000,
            In::NoteOff {
                channel: 0,
                key: 64,
            },
        ),
    ];
    let events = daw.run(8_192, &input);
    // Only the note played before Thru went off passes, and its note-off too.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(
        events[0],
        (
            10,
            Out::NoteOn {
                channel: 0,
                key: 60,
                ..
            }
        )
    ));
    assert_eq!(
        events[1],
        (
            3_000,
            Out::NoteOff {
                channel: 0,
                key: 60
            }
        )
    );
    assert_balanced(&events);
}

#[test]
fn bypass_ends_the_phrase_and_passes_everything() {
    let bypass_at = 400 * 1024; // 409600, during the phrase
    let events = {
        let mut daw = Daw::new(1024);
        let mut events = daw.run(TRIGGER_AT + 1024, &played_input());
        daw.let_worker_answer();
        events.extend(daw.run(bypass_at - daw.position, &[]));
        events.extend(daw.run(
            100_000,
            &[
                (bypass_at, In::Param("bypass", 1.0)),
                (
                    bypass_at + 2_000,
                    In::NoteOn {
                        channel: 0,
                        key: 70,
                        velocity: 0.5,
                    },
                ),
                (
                    bypass_at + 3_000,
                    In::NoteOff {
                        channel: 0,
                        key: 70,
                    },
                ),
            ],
        ));
        events
    };
    let phrase = phrase_events(&events);
    assert!(
        phrase.iter().any(|(at, _)| *at < bypass_at),
        "the phrase was playing"
    );
    let after: Vec<_> = phrase.iter().filter(|(at, _)| *at >= bypass_at).collect();
    assert!(
        after
            .iter()
            .all(|(at, e)| *at == bypass_at && matches!(e, Out::NoteOff { .. })),
        "only note-offs at the bypass, then nothing: {after:?}"
    );
    assert!(events.contains(&(
        bypass_at + 3_000,
        Out::NoteOff {
            channel: 0,
            key: 70
        }
    )));
    assert_balanced(&events);
}

#[test]
fn jamming_with_the_transport_stopped_keeps_time() {
    // The same session with the transport stopped: the free-running clock starts at the first
    // block and runs at the host's tempo, so the phrase lands where it would while playing.
    let mut daw = Daw::new(512);
    daw.playing = false;
    let events = play_and_answer(&mut daw, &played_input(), 600_000, &[]);
    let at_120 = |beat: f64| (beat * 24_000.0).round() as u64;
    assert_eq!(simplify(&phrase_events(&events)), expected(at_120));
    assert_balanced(&events);
}

#[test]
fn a_relocation_ends_notes_and_the_phrase_plays_again_from_its_anchor() {
    // Like a clip: jump back to beat 0 while the second note sounds, and the phrase is heard
    // again when the song reaches beat 16 once more.
    let jump_at = 782 * 512;
    let jump = |daw: &mut Daw| daw.relocate(0.0);
    let events = session(512, jump_at + 600_000, &[(jump_at, &jump)]);
    let phrase = phrase_events(&events);
    let at_jump: Vec<_> = phrase.iter().filter(|(at, _)| *at == jump_at).collect();
    assert_eq!(
        at_jump,
        vec![&(
            jump_at,
            Out::NoteOff {
                channel: OUT_CHANNEL,
                key: 62
            }
        )]
    );
    // After the jump, beat 16 is at jump_at + 384000: the first note comes again there.
    let again = phrase
        .iter()
        .find(|(at, e)| *at > jump_at && matches!(e, Out::NoteOn { .. }))
        .expect("the phrase plays again");
    assert_eq!(again.0, jump_at + PHRASE_START);
    assert_balanced(&events);
}

#[test]
fn the_neural_model_with_scale_lock_stays_in_c_major() {
    // The figure is in C major; lock to C major, run hot, and check every suggested pitch.
    let mut input: Vec<(u64, In)> = played_input()
        .into_iter()
        .filter(|(_, e)| !matches!(e, In::Param("generator", _) | In::Param("temperature", _)))
        .collect();
    input.extend([
        (0, In::Param("generator", 0.0)),   // neural
        (0, In::Param("temperature", 1.0)), // 2.0, the hottest
        (0, In::Param("scale-lock", 2.0)),  // chosen key
        (0, In::Param("key", 0.0)),         // C
        (0, In::Param("mode", 0.0)),        // major
    ]);
    input.sort_by_key(|(at, _)| *at);
    // The model loads in the background (debug build): play_and_answer waits for it.
    let events = play_and_answer(&mut Daw::new(512), &input, 600_000, &[]);
    let phrase = phrase_events(&events);
    let pitches: Vec<u8> = phrase
        .iter()
        .filter_map(|(_, e)| match e {
            Out::NoteOn { key, .. } => Some(*key),
            _ => None,
        })
        .collect();
    assert!(!pitches.is_empty(), "the neural model answered");
    let c_major = [0, 2, 4, 5, 7, 9, 11];
    assert!(
        pitches.iter().all(|p| c_major.contains(&(p % 12))),
        "out of C major: {pitches:?}"
    );
    assert_balanced(&events);
}

#[test]
fn a_saved_project_restores_the_history_and_the_suggestion() {
    // Session A: play the figure in and get the suggestion.
    let mut a = Daw::new(512);
    let events_a = play_and_answer(&mut a, &played_input(), 600_000, &[]);
    let saved = a.save_state();
    drop(a);
    assert!(saved.len() > 100, "a real state, not an empty one");
    // B is to make its own answer from the restored history: without A's suggestion in the
    // state, B's saved state shows when it has answered.
    let mut json = state_json(&saved);
    let text = json["fields"]["session"].as_str().expect("saved session");
    let mut session: serde_json::Value = serde_json::from_str(text).unwrap();
    assert!(
        !session["segments"].as_array().unwrap().is_empty()
            && !session["variations"].as_array().unwrap().is_empty(),
        "A's history and suggestion are saved"
    );
    session["variations"] = serde_json::json!([]);
    json["fields"]["session"] = session.to_string().into();
    let saved = [
        (json.to_string().len() as u64).to_le_bytes().to_vec(),
        json.to_string().into_bytes(),
    ]
    .concat();

    // Session B: a fresh instance opens the project, plays nothing, and asks at the same moment:
    // the restored history (and the restored parameters) give the same continuation.
    let mut b = Daw::new(512);
    b.load_state(&saved).expect("load");
    let mut events_b = b.run(TRIGGER_AT, &[]);
    events_b.extend(b.run(512, &[(b.position, In::Param("suggest", 1.0))]));
    b.let_worker_answer();
    events_b.extend(b.run(
        600_000 - b.position,
        &[(b.position, In::Param("suggest", 0.0))],
    ));
    assert_eq!(
        simplify(&phrase_events(&events_b)),
        simplify(&phrase_events(&events_a))
    );
    assert_balanced(&events_b);
}

#[test]
fn a_corrupted_state_never_crashes_and_the_plugin_still_answers() {
    let mut daw = Daw::new(512);
    for blob in [
        &b""[..],
        b"\x08\x00\x00\x00\x00\x00\x00\x00garbage!",
        b"\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x10\x00\x00\x00\x00\x00\x00\x00{\"fields\": 1234}",
    ] {
        let _ = daw.load_state(blob); // refused or ignored, never a crash
    }
    let events = play_and_answer(&mut daw, &played_input(), 600_000, &[]);
    let at_120 = |beat: f64| (beat * 24_000.0).round() as u64;
    assert_eq!(simplify(&phrase_events(&events)), expected(at_120));
}

/// nice-plug's state blob: a little-endian length, then JSON.
fn state_json(blob: &[u8]) -> serde_json::Value {
    serde_json::from_slice(&blob[8..]).expect("nice-plug state is JSON after its length")
}

#[test]
fn the_editor_size_and_export_folder_are_saved_with_the_project() {
    let mut a = Daw::new(512);
    let default = a.editor_size().expect("the plugin has an editor");
    let mut json = state_json(&a.save_state());
    // The musician resized the window and chose a folder (as the editor stores them).
    let prefs: &mut serde_json::Value = json["fields"]
        .get_mut("editor")
        .expect("the editor's settings are a persisted field");
    let mut edited: serde_json::Value = serde_json::from_str(prefs.as_str().unwrap()).unwrap();
    edited["width"] = 1111.into();
    edited["height"] = 777.into();
    edited["export_folder"] = "/tmp/continuo-exports".into();
    *prefs = edited.to_string().into();
    let body = json.to_string().into_bytes();
    let mut blob = (body.len() as u64).to_le_bytes().to_vec();
    blob.extend(body);

    let mut b = Daw::new(512);
    b.load_state(&blob).expect("load");
    assert_ne!(default, (1111, 777));
    assert_eq!(
        b.editor_size(),
        Some((1111, 777)),
        "the window opens at its saved size"
    );
    let again = state_json(&b.save_state());
    let saved: serde_json::Value =
        serde_json::from_str(again["fields"]["editor"].as_str().unwrap()).unwrap();
    assert_eq!(saved["export_folder"], "/tmp/continuo-exports");
    assert_eq!(saved["width"], 1111);
}

/// The history the plugin saved with the project: (beat, length, key) of each played note, per
/// segment. The prompt is built from the last segment, so one segment holding every note played
/// is the proof that the player was heard without fragmentation.
fn saved_history(daw: &mut Daw) -> Vec<Vec<(f64, f64, u8)>> {
    let state = state_json(&daw.save_state());
    // nice-plug stores each persisted field as a JSON string.
    let text = state["fields"]["session"].as_str().expect("saved session");
    let session: serde_json::Value = serde_json::from_str(text).unwrap();
    let segments = session["segments"].as_array().unwrap();
    segments
        .iter()
        .map(|segment| {
            segment["notes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|note| {
                    (
                        note["beat"].as_f64().unwrap(),
                        note["length"].as_f64().unwrap(),
                        note["key"].as_u64().unwrap() as u8,
                    )
                })
                .collect()
        })
        .collect()
}

/// What was played: the figure three times, in eighths, each note held 10,000 samples.
fn played_notes() -> Vec<(f64, f64, u8)> {
    FIGURE
        .iter()
        .cycle()
        .take(24)
        .enumerate()
        .map(|(k, &key)| (k as f64 * 0.5, HELD as f64 / 24_000.0, key))
        .collect()
}

#[test]
fn every_host_profile_is_heard_exactly_and_answered_on_exact_samples() {
    let at_120 = |beat: f64| (beat * 24_000.0).round() as u64;
    for profile in HostProfile::real_hosts() {
        let mut daw = Daw::new(512);
        daw.profile = profile;
        let mut input = played_input();
        if profile.channel_one {
            // Everything on channel 1: the answer too.
            input.push((0, In::Param("out-channel", 0.0)));
            input.sort_by_key(|(at, _)| *at);
        }
        let events = play_and_answer(&mut daw, &input, 600_000, &[]);
        let answer: Vec<(u64, Out)> = if profile.channel_one {
            events
                .iter()
                .filter(|(at, _)| *at >= PHRASE_START)
                .copied()
                .collect()
        } else {
            phrase_events(&events)
        };
        assert_eq!(
            simplify(&answer),
            expected(at_120),
            "{}: the answer on its exact samples, full lengths",
            profile.name
        );
        assert_balanced(&events);
        // The prompt is what was played: one segment, every note at its exact beat and length.
        let history = saved_history(&mut daw);
        assert_eq!(
            history.len(),
            1,
            "{}: {} segments",
            profile.name,
            history.len()
        );
        let expected_notes = played_notes();
        assert_eq!(history[0].len(), expected_notes.len(), "{}", profile.name);
        for (heard, played) in history[0].iter().zip(&expected_notes) {
            assert!(
                (heard.0 - played.0).abs() < 1e-9
                    && (heard.1 - played.1).abs() < 1e-9
                    && heard.2 == played.2,
                "{}: heard {heard:?}, played {played:?}",
                profile.name
            );
        }
    }
}

#[test]
fn a_laid_back_player_is_answered_laid_back_and_feel_0_answers_on_the_grid() {
    // The same figure, every note played 15 ms (720 samples, 0.03 beat) behind the beat: too
    // little to move a note on the grid, enough to be felt. With Feel the answer sits as far
    // behind the beat; at 0 % it is on the grid.
    const LATE: u64 = 720;
    let late_input = |feel: f64| {
        let mut input: Vec<(u64, In)> = played_input()
            .into_iter()
            .map(|(at, event)| match event {
                In::NoteOn { .. } | In::NoteOff { .. } => (at + LATE, event),
                _ => (at, event),
            })
            .collect();
        input.push((0, In::Param("feel", feel)));
        input.sort_by_key(|(at, _)| *at);
        input
    };
    let at_120 = |beat: f64| (beat * 24_000.0).round() as u64;
    let laid_back = play_and_answer(&mut Daw::new(512), &late_input(1.0), 600_000, &[]);
    let shifted: Vec<(u64, u8, bool)> = expected(at_120)
        .into_iter()
        .map(|(at, key, on)| (at + LATE, key, on))
        .collect();
    assert_eq!(simplify(&phrase_events(&laid_back)), shifted);
    assert_balanced(&laid_back);
    // Feel 0: notation, on the grid and legato (held to the next onset).
    let on_grid = play_and_answer(&mut Daw::new(512), &late_input(0.0), 600_000, &[]);
    let onsets: Vec<u64> = phrase_events(&on_grid)
        .iter()
        .filter(|(_, e)| matches!(e, Out::NoteOn { .. }))
        .map(|(at, _)| *at)
        .collect();
    let grid: Vec<u64> = (0..16).map(|k| at_120(16.0 + k as f64 * 0.5)).collect();
    assert_eq!(onsets, grid);
}

#[test]
fn a_tempo_ramp_is_heard_as_one_phrase_and_answered_in_time() {
    // While the figure is played, the host accelerates from 120 BPM by 2 BPM a second, with
    // its beat position rounded to 1,920 ticks and blocks of varying size; then it holds the
    // tempo it has reached. The plugin hears the tempo at each block's start only.
    let mut daw = Daw::new(512);
    daw.profile = HostProfile {
        name: "tempo ramp",
        ticks_per_quarter: Some(1_920.0),
        block_sizes: continuo_host_tests::VARYING_BLOCKS,
        ..HostProfile::IDEAL
    };
    daw.tempo_ramp = 2.0;
    let mut input = played_input();
    input.retain(|(at, _)| *at < TRIGGER_AT);
    // Steady eighths in samples drift off the beat grid as the tempo grows: with Feel the answer
    // would take up that timing. This test is about the clock: the answer on the grid.
    input.insert(0, (0, In::Param("feel", 0.0)));
    let mut events = daw.run(TRIGGER_AT, &input);
    daw.tempo_ramp = 0.0;
    let held_tempo = daw.tempo;
    let (beat_now, sample_now) = (daw.beats, daw.position);
    events.extend(daw.run(512, &[(daw.position, In::Param("suggest", 1.0))]));
    daw.let_worker_answer();
    events.extend(daw.run(
        700_000 - daw.position,
        &[(daw.position, In::Param("suggest", 0.0))],
    ));
    // After the ramp the tempo is steady: beat b is at this sample.
    let sample_of =
        |beat: f64| sample_now as f64 + (beat - beat_now) * 48_000.0 * 60.0 / held_tempo;
    let answer = phrase_events(&events);
    assert!(!answer.is_empty(), "an answer plays");
    let bar = (beat_now / 4.0).ceil() * 4.0;
    let first = answer[0].0 as f64;
    // The host's positions are rounded, so after a ramp the plugin knows the host's beat only to
    // its steering deadband: a 960th of a beat (about half a millisecond here).
    let deadband = 48_000.0 * 60.0 / held_tempo / 960.0;
    assert!(
        (first - sample_of(bar)).abs() <= deadband + 1.0,
        "first note at {first}, bar line at {}",
        sample_of(bar)
    );
    assert_balanced(&events);
    let history = saved_history(&mut daw);
    assert_eq!(history.len(), 1, "one phrase heard, not {}", history.len());
    assert_eq!(history[0].len(), 24);
    // Each note was heard at the host's own beat for its sample (120 BPM + 2 BPM/s, integrated).
    for (k, heard) in history[0].iter().enumerate() {
        let seconds = (k as u64 * EIGHTH) as f64 / 48_000.0;
        let host_beat = 2.0 * seconds + seconds * seconds / 60.0;
        assert!(
            (heard.0 - host_beat).abs() < 1.0 / 960.0,
            "note {k} heard at {}, the host was at {host_beat}",
            heard.0
        );
    }
}

#[test]
fn a_host_loop_that_wraps_inside_a_block_ends_notes_at_the_wrap_sample() {
    // The host cycles beats 4 to 18.1 in 4,096-sample blocks and wraps inside a block, as hosts
    // that report their loop do: beat 18.1 is sample 434,400, 224 samples into a block. The
    // phrase's fifth note (G, on at beat 18) sounds there; it ends on that very sample, and the
    // phrase starts again when the looped song reaches beat 16.
    let mut daw = Daw::new(4096);
    daw.loop_range = Some((4.0, 18.1));
    let events = play_and_answer(&mut daw, &played_input(), 800_000, &[]);
    let wrap = 434_400;
    let phrase = phrase_events(&events);
    let at_wrap: Vec<_> = phrase.iter().filter(|(at, _)| *at == wrap).collect();
    assert_eq!(
        at_wrap,
        vec![&(
            wrap,
            Out::NoteOff {
                channel: OUT_CHANNEL,
                key: 67
            }
        )]
    );
    assert!(phrase.iter().all(|(at, e)| *at <= wrap
        || *at >= wrap + 12 * 24_000
        || !matches!(e, Out::NoteOn { .. })));
    let again = phrase
        .iter()
        .find(|(at, e)| *at > wrap && matches!(e, Out::NoteOn { .. }))
        .expect("the phrase plays again");
    assert_eq!(
        again.0,
        wrap + 12 * 24_000,
        "beat 16 after looping back to beat 4"
    );
    assert_balanced(&events);
}

/// Answer mode: Continuo answers when the player rests for "Answer after" (2 beats by default).
fn answer_mode_input(call_bars: u64, keep_playing: bool) -> Vec<(u64, In)> {
    let mut input = setup_params();
    input.push((0, In::Param("partner", 1.0))); // Answer
    input.push((0, In::Param("length", 3.0))); // at most 4 bars
    let keys: Vec<u8> = FIGURE
        .iter()
        .copied()
        .cycle()
        .take(8 * call_bars as usize)
        .collect();
    // Played legato-ish when the player keeps playing (no rest anywhere near the gap).
    let held = if keep_playing { 11_000 } else { HELD };
    input.extend(notes(&keys, EIGHTH, held, 0.8));
    input.sort_by_key(|(at, _)| *at);
    input
}

fn generated_note_ons(events: &[(u64, Out)]) -> Vec<u64> {
    phrase_events(events)
        .iter()
        .filter(|(_, e)| matches!(e, Out::NoteOn { .. }))
        .map(|(at, _)| *at)
        .collect()
}

#[test]
fn answer_mode_answers_a_call_after_the_rest_on_the_next_bar_and_gives_way_to_a_new_call() {
    let mut daw = Daw::new(512);
    // A one-bar call: its last note ends at beat 3.92; two beats of rest later (beat 5.92)
    // Continuo asks for an answer, which starts on the next bar line (beat 8, sample 192000).
    let call = answer_mode_input(1, false);
    daw.expect_answer();
    let mut events = daw.run(150_016, &call);
    let asked = generated_note_ons(&events);
    assert!(asked.is_empty(), "nothing before the answer: {asked:?}");
    daw.let_worker_answer();
    // The player comes back in the middle of the answer's second beat (beat 9.5).
    let comeback = 228_000;
    let mut second_call: Vec<(u64, In)> = notes(&[67, 65, 64], EIGHTH, HELD, 0.8)
        .into_iter()
        .map(|(at, event)| (at + comeback, event))
        .collect();
    second_call.sort_by_key(|(at, _)| *at);
    // Its last note ends at beat 10.92; the answer is asked for at 12.92.
    daw.expect_answer();
    events.extend(daw.run(311_000 - daw.position, &second_call));
    daw.let_worker_answer();
    events.extend(daw.run(600_000 - daw.position, &[]));
    let answer = generated_note_ons(&events);
    assert_eq!(
        answer.first(),
        Some(&192_000),
        "the answer starts on the next bar"
    );
    // The answer stops where the player comes back: every note it sounds ends on that sample,
    // and it plays nothing more until the new call (ending at beat 10.9) has had its rest and
    // been answered on the next bar line (beat 16, sample 384000).
    let phrase = phrase_events(&events);
    let cut: Vec<(u64, Out)> = phrase
        .iter()
        .filter(|(at, _)| *at >= comeback && *at < 384_000)
        .copied()
        .collect();
    let mut sounding_at_comeback = 0;
    for &(at, event) in &phrase {
        if at < comeback {
            match event {
                Out::NoteOn { .. } => sounding_at_comeback += 1,
                Out::NoteOff { .. } => sounding_at_comeback -= 1,
                Out::Midi(_) => {}
            }
        }
    }
    assert!(
        cut.iter()
            .all(|(at, e)| *at == comeback && matches!(e, Out::NoteOff { .. })),
        "after the comeback only its note-offs, at once: {cut:?}"
    );
    assert_eq!(cut.len(), sounding_at_comeback as usize);
    assert!(
        answer.contains(&384_000),
        "the second call is answered on the next bar: {answer:?}"
    );
    assert_balanced(&events);
}

#[test]
fn answer_mode_stays_quiet_while_the_player_keeps_playing() {
    let mut daw = Daw::new(512);
    // Four bars without a rest: no answer while they play.
    let events = daw.run(4 * 96_000, &answer_mode_input(4, true));
    assert!(generated_note_ons(&events).is_empty());
    // Then the rest: the call is answered, once, on the next bar line after the gap.
    daw.expect_answer();
    let mut events = daw.run(48_000 + 512, &[]);
    daw.let_worker_answer();
    events.extend(daw.run(480_000, &[]));
    let answer = generated_note_ons(&events);
    assert_eq!(answer.first(), Some(&(5 * 96_000)), "{answer:?}");
    // At most Length (4 bars): nothing after beat 36.
    assert!(answer.iter().all(|&at| at < 9 * 96_000), "{answer:?}");
    assert_balanced(&events);
}

#[test]
fn continuous_mode_plays_a_new_phrase_every_length_bars_end_to_end() {
    let mut daw = Daw::new(512);
    // The figure, then Continuous mode with two-bar phrases from the neural model (its answers
    // differ from one phrase to the next, so the harness sees each one arrive).
    let mut input = played_input();
    input.retain(|(_, e)| !matches!(e, In::Param("suggest", _)));
    input.push((0, In::Param("generator", 0.0)));
    input.push((0, In::Param("temperature", 0.5)));
    input.push((TRIGGER_AT, In::Param("partner", 2.0)));
    input.sort_by_key(|(at, _)| *at);
    // Asked at beat 12.5 for beat 16; then a bar ahead of each end: at beats 20 and 28.
    daw.expect_answer();
    let mut events = daw.run(TRIGGER_AT + 512, &input);
    daw.let_worker_answer();
    for asked_at in [480_000u64, 672_000] {
        daw.expect_answer();
        events.extend(daw.run(asked_at + 512 - daw.position, &[]));
        daw.let_worker_answer();
    }
    events.extend(daw.run(960_000 - daw.position, &[]));
    // The fourth phrase starts at beat 40, where this ends: stop the transport, which ends it.
    daw.playing = false;
    events.extend(daw.run(1_024, &[]));
    let phrase = phrase_events(&events);
    let ons = |from: u64, to: u64| {
        phrase
            .iter()
            .filter(|(at, e)| (from..to).contains(at) && matches!(e, Out::NoteOn { .. }))
            .count()
    };
    // Three phrases, end to end from beat 16: nothing before, something in each.
    assert_eq!(ons(0, PHRASE_START), 0);
    for (from, to) in [(384_000, 576_000), (576_000, 768_000), (768_000, 960_000)] {
        assert!(ons(from, to) > 0, "a phrase from sample {from}: {phrase:?}");
    }
    assert_one_note_at_a_time(&phrase);
    assert_balanced(&events);
}

/// One phrase at a time: never two of the plugin's notes sounding at once.
fn assert_one_note_at_a_time(phrase: &[(u64, Out)]) {
    let mut sounding = 0i32;
    for (_, event) in phrase {
        match event {
            Out::NoteOn { .. } => sounding += 1,
            Out::NoteOff { .. } => sounding -= 1,
            Out::Midi(_) => {}
        }
        assert!(sounding <= 1, "two notes at once: {phrase:?}");
    }
}

#[test]
fn continuous_mode_goes_on_across_a_tempo_change_and_a_loop_wrap() {
    // The host cycles beats 8 to 36.5 and slows from 120 to 90 BPM at beat 22; Continuous mode
    // with two-bar Markov phrases from beat 16. The host runs at four times real time, so the
    // worker answers as it would in a session, with no waiting by the test.
    let mut daw = Daw::new(512);
    daw.loop_range = Some((8.0, 36.5));
    let mut input = played_input();
    input.retain(|(_, e)| !matches!(e, In::Param("suggest", _)));
    input.push((TRIGGER_AT, In::Param("partner", 2.0)));
    input.sort_by_key(|(at, _)| *at);
    let started = std::time::Instant::now();
    let mut events = Vec::new();
    let mut slowed_at = None;
    // Until the song has gone round the loop and reached beat 28 again.
    let mut wrapped_at: Option<u64> = None;
    while !(wrapped_at.is_some() && daw.beats >= 28.0) {
        if slowed_at.is_none() && daw.beats >= 22.0 {
            daw.tempo = 90.0;
            slowed_at = Some(daw.position);
        }
        let before = daw.beats;
        events.extend(daw.run(512, &input));
        if daw.beats < before && wrapped_at.is_none() {
            wrapped_at = Some(daw.position);
        }
        let due = std::time::Duration::from_secs_f64(daw.position as f64 / 48_000.0 / 4.0);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    // Stop: what sounds is ended.
    daw.playing = false;
    events.extend(daw.run(1_024, &[]));
    let phrase = phrase_events(&events);
    let ons: Vec<u64> = phrase
        .iter()
        .filter(|(_, e)| matches!(e, Out::NoteOn { .. }))
        .map(|(at, _)| *at)
        .collect();
    let slowed_at = slowed_at.unwrap();
    assert!(ons.first().is_some_and(|&at| at >= PHRASE_START), "{ons:?}");
    assert!(
        ons.iter().any(|&at| at > slowed_at + 4 * 32_000),
        "phrases go on at the new tempo: {ons:?}"
    );
    // After the wrap (at beat 36.5 the song returns to 8) the chain starts again and plays on.
    let wrapped_at = wrapped_at.unwrap();
    assert!(
        ons.iter().any(|&at| at > wrapped_at),
        "phrases go on after the loop wraps at {wrapped_at}: {ons:?}"
    );
    assert_one_note_at_a_time(&phrase);
    assert_balanced(&events);
}
