//! The `continuo` command line, run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use continuo_engine::runtime::RUNTIME_FILE;
use continuo_host_tests::privacy::{files_under, QUIETING_VARIABLES};

fn continuo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_continuo"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/ode-to-joy.mid")
}

/// A run that must have worked; its stderr is the failure message otherwise.
fn assert_succeeded(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A copy of the CLI in `folder`, with no runtime near it (only the DLLs it needs from its own
/// folder, which under Wine is the test shim for bcryptprimitives.dll). Returns its path.
fn cli_alone(folder: &Path) -> PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    let original = Path::new(env!("CARGO_BIN_EXE_continuo"));
    let alone = folder.join(original.file_name().unwrap());
    std::fs::copy(original, &alone).unwrap();
    for entry in std::fs::read_dir(original.parent().unwrap())
        .unwrap()
        .flatten()
    {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".dll") && name != RUNTIME_FILE {
            std::fs::copy(entry.path(), folder.join(&*name)).unwrap();
        }
    }
    alone
}

/// `continuo continue INPUT --bars 2 --generator markov -o OUT`.
fn two_markov_bars(input: &Path, out: &Path) -> std::process::Output {
    continuo()
        .arg("continue")
        .arg(input)
        .args(["--bars", "2", "--generator", "markov", "-o"])
        .arg(out)
        .output()
        .unwrap()
}

/// A runtime path that does not exist, on this platform.
fn missing_runtime() -> PathBuf {
    std::env::temp_dir().join("nonexistent").join(RUNTIME_FILE)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("continuo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn continues_a_file_and_the_same_seed_gives_the_same_output() {
    let a = scratch("a.mid");
    let b = scratch("b.mid");
    for out in [&a, &b] {
        let result = continuo()
            .args(["continue"])
            .arg(example())
            .args(["--bars", "4", "--seed", "3", "--temperature", "1.2", "-o"])
            .arg(out)
            .output()
            .unwrap();
        assert_succeeded(&result);
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(stdout.contains("generated in"), "{stdout}");
        assert!(stdout.contains('#'), "a piano roll is printed: {stdout}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The output holds the 8 prompt bars followed by the 4-bar continuation on its own track.
    let written =
        continuo_engine::midi_file::read_bytes(&std::fs::read(&a).unwrap(), Some(2)).unwrap();
    let first = written.melody.notes.first().unwrap();
    assert_eq!(
        first.start,
        8 * 48,
        "the continuation starts after the prompt"
    );
    assert!(written.melody.notes.iter().all(|n| n.end() <= 12 * 48));
}

#[test]
fn bad_input_gives_one_clear_line_and_no_file() {
    let not_midi = scratch("not-midi.mid");
    std::fs::write(&not_midi, b"hello").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![not_midi.display().to_string(), "--bars".into(), "4".into()],
            "not a Standard MIDI File",
        ),
        (
            vec!["/nonexistent/x.mid".into(), "--bars".into(), "4".into()],
            "cannot read the file",
        ),
        (
            vec![example().display().to_string(), "--bars".into(), "0".into()],
            "--bars must be",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--temperature".into(),
                "NaN".into(),
            ],
            "--temperature must be",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--prompt-bars".into(),
                "99".into(),
            ],
            "fewer than --prompt-bars",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--style".into(),
                "jazz".into(),
            ],
            "unknown style",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--track".into(),
                "9".into(),
            ],
            "track 9 does not exist",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--variations".into(),
                "9".into(),
            ],
            "--variations must be",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--top-p".into(),
                "0".into(),
            ],
            "--top-p must be",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--scale-lock".into(),
                "H minor".into(),
            ],
            "--scale-lock expects",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--landing".into(),
                "maybe".into(),
            ],
            "--landing expects on or off",
        ),
        (
            vec![
                example().display().to_string(),
                "--bars".into(),
                "4".into(),
                "--style-strength".into(),
                "9".into(),
            ],
            "--style-strength must be between 0 and 3",
        ),
    ];
    for (args, expected) in cases {
        let out = scratch("should-not-exist.mid");
        let result = continuo()
            .arg("continue")
            .args(&args)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!out.exists(), "no output file for {args:?}");
    }
}

#[test]
fn without_the_runtime_the_cli_says_why_and_uses_markov() {
    // A copy of the CLI where no runtime lies beside it or in ../onnxruntime/.
    let dir = tempfile::tempdir().unwrap();
    let alone = cli_alone(&dir.path().join("bin"));
    let out = scratch("fallback.mid");
    let result = Command::new(&alone)
        .env("CONTINUO_ORT_PATH", missing_runtime())
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&format!(
            "using the Markov fallback: ONNX Runtime ({RUNTIME_FILE}) was not found"
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("by Markov"));
    assert!(out.exists());
    // Asking for the neural model explicitly is an error instead.
    let result = Command::new(&alone)
        .env("CONTINUO_ORT_PATH", missing_runtime())
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "--generator", "neural", "-o"])
        .arg(scratch("neural.mid"))
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("was not found"));
}

#[test]
fn a_cli_built_from_source_finds_the_runtime_the_xtask_fetched() {
    // target/<profile>/continuo looks in target/onnxruntime/, where cargo xtask puts the runtime:
    // a newcomer who follows the README gets the neural model without setting anything.
    let exe = Path::new(env!("CARGO_BIN_EXE_continuo"));
    let fetched = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("onnxruntime")
        .join(RUNTIME_FILE);
    assert!(
        fetched.is_file(),
        "{} is missing: run the tests with cargo xtask test (it fetches the runtime)",
        fetched.display()
    );
    let result = continuo()
        .env_remove("CONTINUO_ORT_PATH")
        .arg("continue")
        .arg(example())
        .args(["--bars", "1", "-o"])
        .arg(scratch("found.mid"))
        .output()
        .unwrap();
    assert_succeeded(&result);
    assert!(
        String::from_utf8_lossy(&result.stdout).contains("by Continuo melody model"),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn variations_are_numbered_files_and_scale_lock_holds_the_key() {
    let out = scratch("var.mid");
    let result = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "4", "--variations", "3", "--generator", "markov"])
        .args(["--temperature", "2.0", "--scale-lock", "Eb major", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    assert!(!out.exists(), "with --variations the files are numbered");
    let eb_major = [3u8, 5, 7, 8, 10, 0, 2];
    for k in 1..=3 {
        let path = out.with_file_name(format!("var-{k}.mid"));
        let written =
            continuo_engine::midi_file::read_bytes(&std::fs::read(&path).unwrap(), Some(2))
                .unwrap();
        assert!(!written.melody.notes.is_empty());
        for note in &written.melody.notes {
            assert!(
                eb_major.contains(&(note.pitch % 12)),
                "{} in variation {k}",
                note.pitch
            );
        }
    }
}

#[test]
fn eval_reports_per_file_and_in_aggregate_and_skips_what_it_cannot_use() {
    let dir = std::env::temp_dir().join(format!("continuo-eval-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(example(), dir.join("a.mid")).unwrap();
    std::fs::copy(example(), dir.join("b.MID")).unwrap();
    std::fs::write(dir.join("broken.mid"), b"MThd garbage").unwrap();
    std::fs::write(dir.join("notes.txt"), b"not a midi file, not looked at").unwrap();
    for generator in ["markov", "repeat"] {
        let result = continuo()
            .arg("eval")
            .arg(&dir)
            .args([
                "--prompt-bars",
                "4",
                "--bars",
                "4",
                "--json",
                "--generator",
                generator,
            ])
            .output()
            .unwrap();
        assert_succeeded(&result);
        let report: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
        assert_eq!(report["files_evaluated"], 2);
        assert_eq!(report["skipped"][0]["file"], "broken.mid");
        let aggregate = &report["aggregate"];
        for metric in [
            "in_key_rate",
            "pitch_class_overlap",
            "density_ratio",
            "groove_consistency",
        ] {
            let value = aggregate[metric].as_f64().unwrap();
            assert!((0.0..=2.0).contains(&value), "{metric} = {value}");
        }
        // What tells styles apart, for the answers and for the truth.
        for side in [aggregate, &report["truth"]] {
            assert!(side["notes_per_bar"].as_f64().unwrap() > 0.0);
            assert!(side["mean_step"].as_f64().unwrap() >= 0.0);
            for share in ["pentatonic_share", "tonic_ending"] {
                let value = side[share].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&value), "{share} = {value}");
            }
        }
        if generator == "repeat" {
            assert_eq!(
                aggregate["copy_rate"], 1.0,
                "repeating the last bar is all copy"
            );
            assert!(report["nll_per_note"].is_null());
        } else {
            assert!(report["nll_per_note"].as_f64().unwrap() > 0.0);
        }
    }
    // The Markdown table, and a clear error for a folder with nothing to evaluate.
    let table = continuo()
        .arg("eval")
        .arg(&dir)
        .args(["--prompt-bars", "4", "--bars", "4", "--generator", "repeat"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(
        stdout.contains("| **mean** |")
            && stdout.contains("| a.mid |")
            && stdout.contains("| what tells styles apart (mean) |"),
        "{stdout}"
    );
    let result = continuo()
        .arg("eval")
        .arg(&dir)
        .args([
            "--prompt-bars",
            "40",
            "--bars",
            "4",
            "--generator",
            "repeat",
        ])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("none of the 3 files"));
}

#[test]
fn the_neural_model_writes_nothing_to_the_users_cache_or_home() {
    if std::env::var_os("CONTINUO_ORT_PATH").is_none() {
        panic!("CONTINUO_ORT_PATH must point at ONNX Runtime (cargo xtask test sets it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let (cache, home) = (dir.path().join("cache"), dir.path().join("home"));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let out = dir.path().join("out.mid");
    let mut command = continuo();
    for variable in QUIETING_VARIABLES {
        command.env_remove(variable);
    }
    let result = command
        .env("XDG_CACHE_HOME", &cache)
        .env("HOME", &home)
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "--generator", "neural", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    assert!(
        String::from_utf8_lossy(&result.stdout).contains("Continuo melody model"),
        "the neural model answered"
    );
    assert_eq!(files_under(&cache), Vec::<PathBuf>::new(), "cache");
    assert_eq!(files_under(&home), Vec::<PathBuf>::new(), "home");
}

/// Windows only (under Wine, `cargo xtask test-windows`): a runtime DLL whose own dependencies
/// are missing (as without the Visual C++ Redistributable) gives one sentence that says so, and
/// the Markov answer.
#[cfg(windows)]
#[test]
fn without_the_vc_runtime_the_cli_says_so_and_uses_markov() {
    let stand_in = std::env::var_os("CONTINUO_TEST_MISSING_DEPENDENCY_DLL")
        .expect("cargo xtask test-windows builds the stand-in and sets this");
    let dir = tempfile::tempdir().unwrap();
    let alone = cli_alone(dir.path());
    let result = Command::new(&alone)
        .env("CONTINUO_ORT_PATH", stand_in)
        .arg("continue")
        .arg(example())
        .args(["--bars", "1", "-o"])
        .arg(dir.path().join("out.mid"))
        .output()
        .unwrap();
    assert_succeeded(&result);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("using the Markov fallback")
            && stderr.contains("Microsoft Visual C++ Redistributable"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("by Markov"));
}

#[test]
fn every_subcommand_has_help() {
    for (command, usage) in [
        ("continue", "usage: continuo continue"),
        ("score", "usage: continuo score"),
        ("eval", "usage: continuo eval"),
    ] {
        let result = continuo().args([command, "--help"]).output().unwrap();
        assert_succeeded(&result);
        assert!(
            String::from_utf8_lossy(&result.stdout).starts_with(usage),
            "{command} --help"
        );
    }
}

#[test]
fn a_reader_that_goes_away_loses_no_file() {
    // As `continuo continue … | head -1` when head has already exited: the pipe is closed
    // before the CLI prints, yet it writes its file and exits cleanly.
    let out = scratch("piped.mid");
    let mut child = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "--generator", "markov", "-o"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let result = child.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(out.exists());
}

#[test]
fn a_damaged_midi_file_is_called_corrupt() {
    let damaged = scratch("damaged.mid");
    std::fs::write(&damaged, b"MThd\x00\x00\x00\x06\x00\x01").unwrap();
    let result = continuo()
        .arg("continue")
        .arg(&damaged)
        .args(["--bars", "2", "-o"])
        .arg(scratch("never.mid"))
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("corrupt MIDI file"));
    assert!(!scratch("never.mid").exists());
}

#[test]
fn the_cli_says_which_key_it_heard_and_which_style_auto_chose() {
    let result = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "1", "-o"])
        .arg(scratch("told.mid"))
        .output()
        .unwrap();
    assert_succeeded(&result);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("Detected key: C major"), "{stdout}");
    assert!(stdout.contains("(chosen by Auto)"), "{stdout}");
}

#[test]
fn range_holds_the_answer_between_two_notes() {
    let out = scratch("ranged.mid");
    let result = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "4", "--range", "C4-G4", "--seed", "2", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    let written =
        continuo_engine::midi_file::read_bytes(&std::fs::read(&out).unwrap(), Some(2)).unwrap();
    assert!(!written.melody.notes.is_empty());
    assert!(
        written
            .melody
            .notes
            .iter()
            .all(|n| (60..=67).contains(&n.pitch)),
        "{:?}",
        written.melody.notes
    );
    let bad = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "4", "--range", "G4-C4", "-o"])
        .arg(scratch("never-ranged.mid"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--range expects LOW-HIGH"));
}

#[test]
fn a_piano_part_is_continued_from_its_melody_line_and_written_back_whole() {
    use continuo_engine::midi_file::{encode, read_bytes, TrackNotes, TrackOut};
    use continuo_engine::phrase::{Note, TimeSignature};
    // Four bars: a melody in quarters over left-hand triads on every half note.
    let melody: Vec<Note> = (0..16)
        .map(|i| Note::new(i * 12, 12, [72, 74, 76, 77][i as usize % 4], 90))
        .collect();
    let chords: Vec<Note> = (0..8)
        .flat_map(|i| [48u8, 52, 55].map(|p| Note::new(i * 24, 24, p, 70)))
        .collect();
    let piano = scratch("piano.mid");
    std::fs::write(
        &piano,
        encode(
            &[
                TrackOut {
                    name: "right hand",
                    notes: TrackNotes::Grid(&melody),
                    offset_ticks: 0,
                    channel: 0,
                },
                TrackOut {
                    name: "left hand",
                    notes: TrackNotes::Grid(&chords),
                    offset_ticks: 0,
                    channel: 0,
                },
            ],
            100.0,
            TimeSignature::default(),
        ),
    )
    .unwrap();
    let out = scratch("piano-continued.mid");
    let result = two_markov_bars(&piano, &out);
    assert_succeeded(&result);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("24 of its 40 notes are other voices"),
        "{stdout}"
    );
    let bytes = std::fs::read(&out).unwrap();
    // The written prompt (track 1) still holds the left hand: its lowest note is C3.
    let prompt = read_bytes(&bytes, Some(1)).unwrap();
    assert_eq!(prompt.performance.len(), 40);
    assert!(prompt.performance.iter().any(|n| n.pitch == 48));
}

#[test]
fn the_meter_and_tempo_at_the_end_of_the_file_govern_the_continuation() {
    // assets/fixtures/meter-change.mid: four bars of 4/4 at 100 BPM, then four of 3/4 at 140.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/meter-change.mid");
    let out = scratch("waltz.mid");
    let result = two_markov_bars(&fixture, &out);
    assert_succeeded(&result);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("4 bars of prompt, 3/4 at 140 BPM"),
        "{stdout}"
    );
    let written =
        continuo_engine::midi_file::read_bytes(&std::fs::read(&out).unwrap(), Some(2)).unwrap();
    assert_eq!(written.melody.time_signature.numerator, 3);
    assert!((written.tempo - 140.0).abs() < 0.5, "{}", written.tempo);
    // The continuation starts after the four 3/4 prompt bars and fills two more.
    let (first, last_end) = (
        written.melody.notes.first().unwrap().start,
        written.melody.notes.iter().map(|n| n.end()).max().unwrap(),
    );
    assert!(first >= 4 * 36 && last_end <= 6 * 36, "{first}..{last_end}");
}

/// Continues a played fixture (`assets/fixtures/NAME.mid`, 8 bars of 4/4) from its last four
/// bars with the neural model and `--feel FEEL`; returns the prompt as imported and the answer,
/// both from the prompt's first bar line. Checks that the file's prompt track is the prompt as
/// it was played (timing, lengths and velocities at the file's resolution).
fn answer_to_played(
    name: &str,
    feel: &str,
) -> (
    Vec<continuo_engine::phrase::Note>,
    Vec<continuo_engine::phrase::Note>,
) {
    use continuo_engine::midi_file::{read_bytes, read_file};
    use continuo_engine::phrase::Note;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/fixtures")
        .join(format!("{name}.mid"));
    let out = scratch(&format!("{name}-feel-{feel}.mid"));
    let result = continuo()
        .arg("continue")
        .arg(&fixture)
        .args(["--prompt-bars", "4", "--bars", "4", "--seed", "3"])
        .args(["--generator", "neural", "--feel", feel, "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    let imported = read_file(&fixture, None).unwrap();
    let prompt: Vec<Note> = imported
        .melody
        .notes
        .iter()
        .filter(|n| n.start >= 4 * 48)
        .map(|n| Note {
            start: n.start - 4 * 48,
            ..*n
        })
        .collect();
    let bytes = std::fs::read(&out).unwrap();
    let written_prompt = read_bytes(&bytes, Some(1)).unwrap().performance;
    // The notes whose onset on the grid is in the last four bars.
    let played: Vec<_> = imported
        .performance
        .iter()
        .filter(|n| (n.beat * 12.0).round() >= 4.0 * 48.0)
        .collect();
    assert_eq!(
        written_prompt.len(),
        played.len(),
        "{name}: {written_prompt:?} {played:?}"
    );
    for (written, played) in written_prompt.iter().zip(played) {
        // (A note played just before the prompt's first bar line starts the file.)
        let expected = (played.beat - 16.0).max(0.0);
        assert!(
            (written.beat - expected).abs() < 0.5 / 480.0,
            "{written:?} {played:?}"
        );
        assert!((written.length - played.length).abs() < 1.0 / 480.0);
        assert_eq!(written.velocity, played.velocity);
    }
    let answer = read_bytes(&bytes, Some(2))
        .unwrap()
        .melody
        .notes
        .into_iter()
        .map(|n| Note {
            start: n.start - 4 * 48,
            ..n
        })
        .collect();
    (prompt, answer)
}

#[test]
fn answers_to_played_fixtures_are_played_with_the_players_feel() {
    use continuo_engine::evaluation::feel;
    let ts = continuo_engine::phrase::TimeSignature::default();
    let mean_velocity = |notes: &[continuo_engine::phrase::Note]| {
        notes.iter().map(|n| n.velocity as f64).sum::<f64>() / notes.len() as f64
    };

    // A swung line: the answer's beats of two eighths swing as the player's do (2:1).
    let (prompt, answer) = answer_to_played("swing-line", "1");
    let (heard, played) = (feel(&prompt, &prompt, ts), feel(&answer, &prompt, ts));
    assert!(heard.swing_ratio.unwrap() > 1.8, "{heard:?}");
    assert!(played.swing_ratio.unwrap() > 1.6, "{played:?}");
    assert!(played.accent_correlation.unwrap() > 0.5, "{played:?}");
    // With Feel at 0 the same answer is notation: straight, legato, one velocity.
    let (_, written) = answer_to_played("swing-line", "0");
    let flat = feel(&written, &prompt, ts);
    assert!(flat.swing_ratio.is_none_or(|r| r < 1.1), "{flat:?}");
    assert_eq!(flat.velocity_spread, Some(0.0));
    assert_eq!(flat.articulation, Some(1.0));

    // A staccato riff: the answer is detached like it (rests between its notes as often, within
    // a quarter), and accented.
    let (prompt, answer) = answer_to_played("staccato-riff", "1");
    let (heard, played) = (feel(&prompt, &prompt, ts), feel(&answer, &prompt, ts));
    let (rests, player_rests) = (played.rest_rate.unwrap(), heard.rest_rate.unwrap());
    assert!(
        (rests - player_rests).abs() <= 0.25 * player_rests,
        "rest rate {rests} against the player's {player_rests}"
    );
    let (share, player_share) = (played.articulation.unwrap(), heard.articulation.unwrap());
    assert!(
        share < 0.8 && (share - player_share).abs() <= 0.25 * player_share,
        "{played:?} after {heard:?}"
    );
    assert!(played.velocity_spread.unwrap() > 10.0, "{played:?}");

    // A crescendo: the answer carries on at the level the player reached, not at their mean.
    let (prompt, answer) = answer_to_played("crescendo", "1");
    let last_bar: Vec<_> = prompt
        .iter()
        .filter(|n| n.start >= 3 * 48)
        .copied()
        .collect();
    assert!(
        mean_velocity(&answer) >= mean_velocity(&last_bar) - 3.0,
        "answer {} after a last bar at {} (the whole prompt {})",
        mean_velocity(&answer),
        mean_velocity(&last_bar),
        mean_velocity(&prompt)
    );
}

#[test]
fn learning_from_a_folder_feeds_continue_and_bad_material_is_one_clear_error() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures");
    let learned = scratch("learned.json");
    let result = continuo()
        .arg("learn")
        .arg(&fixtures)
        .arg("-o")
        .arg(&learned)
        .output()
        .unwrap();
    assert_succeeded(&result);
    let stdout = String::from_utf8_lossy(&result.stdout);
    let files = std::fs::read_dir(&fixtures).unwrap().count();
    assert!(
        stdout.starts_with(&format!("Learnt {files} melodies")),
        "{stdout}"
    );
    let material =
        continuo_engine::learned::Learned::from_json(&std::fs::read_to_string(&learned).unwrap())
            .unwrap();
    assert_eq!(material.files(), files);
    // Continuing with it (the neural model's motif blend learns from it).
    let out = scratch("with-learned.mid");
    let result = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "--generator", "neural", "--learned"])
        .arg(&learned)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    assert!(out.exists());
    // A file that is not learnt material, and a folder with no melody: one line, nothing written.
    let bogus = scratch("bogus.json");
    std::fs::write(&bogus, "{\"melodies\": 3}").unwrap();
    let never = scratch("never.mid");
    let result = continuo()
        .arg("continue")
        .arg(example())
        .args(["--bars", "2", "--learned"])
        .arg(&bogus)
        .arg("-o")
        .arg(&never)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("not a learnt-material file"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!never.exists());
    let empty = scratch("empty-folder");
    std::fs::create_dir_all(&empty).unwrap();
    let nothing = scratch("nothing.json");
    let result = continuo()
        .arg("learn")
        .arg(&empty)
        .arg("-o")
        .arg(&nothing)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("no melody could be learnt"));
    assert!(!nothing.exists());
}

/// `assets/fixtures/NAME.mid`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/fixtures")
        .join(format!("{name}.mid"))
}

/// Continues a fixture by two bars with the neural model (`extra` options added); returns what
/// the CLI printed and the answer's notes.
fn continue_fixture(name: &str, extra: &[&str]) -> (String, Vec<continuo_engine::phrase::Note>) {
    let out = scratch(&format!("{name}-continued.mid"));
    let result = continuo()
        .arg("continue")
        .arg(fixture(name))
        .args(["--bars", "2", "--generator", "neural"])
        .args(extra)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_succeeded(&result);
    let bytes = std::fs::read(&out).unwrap();
    let answer = continuo_engine::midi_file::read_bytes(&bytes, Some(2))
        .unwrap()
        .melody
        .notes;
    (String::from_utf8_lossy(&result.stdout).into_owned(), answer)
}

#[test]
fn the_melody_is_found_under_a_pad_and_over_left_hand_chords() {
    // A tune of 24 notes around E5 over 96 left-hand triad notes struck on every beat (also
    // while the tune holds its half notes): the model hears the tune alone.
    let (said, answer) = continue_fixture("piano-part", &[]);
    assert!(
        said.contains("96 of its 120 notes are other voices"),
        "{said}"
    );
    let mean = answer.iter().map(|n| n.pitch as f64).sum::<f64>() / answer.len() as f64;
    assert!(
        (70.0..=84.0).contains(&mean),
        "answer around {mean}: {said}"
    );
    // The same tune under a pad held a bar at a time on G6 and C7: the pad is left out.
    let (said, answer) = continue_fixture("pad-over-melody", &[]);
    assert!(
        said.contains("8 of its 32 notes are other voices"),
        "{said}"
    );
    assert!(answer.iter().all(|n| n.pitch < 88), "{answer:?}");
}

#[test]
fn modal_and_harmonic_minor_lines_are_heard_in_their_mode_and_locked_to_it() {
    for (name, key, scale) in [
        ("dorian-line", "D dorian", [2u8, 4, 5, 7, 9, 11, 0]),
        ("harmonic-minor", "A harmonic minor", [9, 11, 0, 2, 4, 5, 8]),
    ] {
        let (said, answer) =
            continue_fixture(name, &["--scale-lock", "detected", "--temperature", "2.0"]);
        assert!(said.contains(&format!("Detected key: {key}")), "{said}");
        for note in &answer {
            assert!(scale.contains(&(note.pitch % 12)), "{name}: {note:?}");
        }
        // The mode can be chosen by name too.
        let (_, answer) = continue_fixture(name, &["--scale-lock", key]);
        assert!(answer.iter().all(|n| scale.contains(&(n.pitch % 12))));
    }
}
