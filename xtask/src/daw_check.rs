//! `cargo xtask daw-check`: Continuo in a real DAW. Debian's Ardour 7 runs headless
//! (`ardour7-lua`, dummy audio backend, 48 kHz, 120 BPM) with a MIDI track holding a note source,
//! the Continuo VST3 bundle and a MIDI logger (Lua DSP scripts in `xtask/daw-check/`). The source
//! plays a three-bar figure, an automation event on Suggest asks for two bars, and the logged MIDI
//! is checked at buffer sizes 64, 256 and 1,024: the player's notes pass at their samples, the
//! answer (the Markov generator at the coldest temperature, so known exactly) starts on its
//! beats with full lengths, and every note is ended.
//!
//! Ardour reports its song position rounded to 1/1920 beat, which is what once cut Continuo's
//! answers to blips and fragmented its prompt (see `plugin/src/realtime/clock.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use nice_plug_xtask::Result;

/// The figure the note source plays (xtask/daw-check/continuo_player.lua): three times, in
/// eighths (12,000 samples at 120 BPM and 48 kHz), each held 10,000 samples, velocity 100.
const FIGURE: [u8; 8] = [60, 62, 64, 65, 67, 65, 64, 62];
const EIGHTH: u64 = 12_000;
const HELD: u64 = 10_000;
/// The answer starts at the bar after the Suggest event (beat 12.5): beat 16.
const ANSWER_START: u64 = 384_000;
/// Where the driver stops the transport.
const STOP: u64 = 620_000;
/// The buffer sizes the check runs at.
const BUFFER_SIZES: [u32; 3] = [64, 256, 1_024];

/// One logged MIDI event: song position in samples, status, key, velocity.
type Logged = (u64, u8, u8, u8);

fn command_works(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("{command:?} failed with {status}")).into());
    }
    Ok(())
}

/// Makes sure `ardour7-lua` is there: installs Debian's `ardour` when this runs as root with
/// apt-get, otherwise says what to install.
fn ensure_ardour() -> Result<()> {
    if command_works("ardour7-lua", "--version") {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if root && command_works("apt-get", "--version") {
        println!("daw-check: installing Debian's ardour (apt-get install ardour)");
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "ardour"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        if command_works("ardour7-lua", "--version") {
            return Ok(());
        }
    }
    Err(std::io::Error::other(
        "Ardour 7 is not installed: on Debian 12 run `apt-get install ardour` as root \
         (it provides ardour7-lua and ardour-vst3-scanner), then cargo xtask daw-check again",
    )
    .into())
}

/// Environment that keeps Ardour's configuration, plugin cache and the plugin itself inside
/// `folder` (nothing is written to the user's own Ardour setup).
fn ardour_env<'a>(command: &'a mut Command, folder: &Path) -> &'a mut Command {
    command
        .env("HOME", folder.join("home"))
        .env("XDG_CONFIG_HOME", folder.join("config"))
        .env("XDG_CACHE_HOME", folder.join("cache"))
        .env("LD_LIBRARY_PATH", "/usr/lib/ardour7")
}

/// Runs the check on the bundle `vst3` (already built); returns an error that says what was
/// wrong at which buffer size.
pub fn daw_check(vst3: &Path) -> Result<()> {
    ensure_ardour()?;
    let folder = std::env::current_dir()?.join("target/daw-check");
    let _ = std::fs::remove_dir_all(&folder);
    let plugins = folder.join("home/.vst3");
    let scripts = folder.join("config/ardour7/scripts");
    std::fs::create_dir_all(&plugins)?;
    std::fs::create_dir_all(&scripts)?;
    std::fs::create_dir_all(folder.join("cache"))?;
    for script in ["continuo_player.lua", "continuo_logger.lua"] {
        std::fs::copy(
            Path::new("xtask/daw-check").join(script),
            scripts.join(script),
        )?;
    }
    run(Command::new("cp").arg("-rp").arg(vst3).arg(&plugins))?;
    let bundle = plugins.join("Continuo.vst3");
    // Ardour trusts its scan cache only when it is newer than the plugin binary, to the second.
    run(Command::new("find").arg(&bundle).args([
        "-exec",
        "touch",
        "-d",
        "1 minute ago",
        "{}",
        "+",
    ]))?;
    run(ardour_env(
        Command::new("/usr/lib/ardour7/ardour-vst3-scanner")
            .arg("-f")
            .arg(&bundle),
        &folder,
    ))?;

    let mut failures = Vec::new();
    for buffer in BUFFER_SIZES {
        let log = folder.join(format!("log-{buffer}.txt"));
        run(ardour_env(
            Command::new("ardour7-lua")
                .arg("xtask/daw-check/drive.lua")
                .arg(folder.join(format!("session-{buffer}")))
                .arg(buffer.to_string())
                .arg(&log),
            &folder,
        ))?;
        let events = read_log(&log)?;
        match check(&events) {
            Ok(summary) => println!("daw-check: Ardour, {buffer}-sample buffers: {summary}"),
            Err(why) => {
                println!("daw-check: Ardour, {buffer}-sample buffers: FAILED: {why}");
                failures.push(format!("{buffer} samples: {why}"));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "daw-check failed ({}); the logs are in {}",
            failures.join("; "),
            folder.display()
        ))
        .into())
    }
}

fn read_log(path: &PathBuf) -> Result<Vec<Logged>> {
    let text = std::fs::read_to_string(path)?;
    let mut events = Vec::new();
    for line in text.lines() {
        let numbers: Vec<u64> = line
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if let [at, status, key, velocity] = numbers[..] {
            events.push((at, status as u8, key as u8, velocity as u8));
        } else {
            return Err(std::io::Error::other(format!("bad log line '{line}'")).into());
        }
    }
    Ok(events)
}

/// Note-ons and note-offs on `channel` (0-based), as (sample, key, on).
fn notes_on(events: &[Logged], channel: u8) -> Vec<(u64, u8, bool)> {
    events
        .iter()
        .filter(|(_, status, _, _)| status & 0x0f == channel)
        .filter_map(|&(at, status, key, velocity)| match status & 0xf0 {
            0x90 if velocity > 0 => Some((at, key, true)),
            0x80 | 0x90 => Some((at, key, false)),
            _ => None,
        })
        .collect()
}

/// The figure played `times` times from sample `from`: (sample, key, on) in time order.
fn figure_notes(from: u64, times: usize) -> Vec<(u64, u8, bool)> {
    let mut notes = Vec::new();
    for (k, &key) in FIGURE.iter().cycle().take(FIGURE.len() * times).enumerate() {
        let on = from + k as u64 * EIGHTH;
        notes.push((on, key, true));
        notes.push((on + HELD, key, false));
    }
    notes.sort();
    notes
}

/// Checks a logged session; returns a one-line summary, or what is wrong.
fn check(events: &[Logged]) -> std::result::Result<String, String> {
    let mut played = notes_on(events, 0);
    played.sort();
    if played != figure_notes(0, 3) {
        return Err(format!(
            "the player's notes did not pass at their samples: {played:?}"
        ));
    }
    // The host may add note-offs of its own when the transport stops (a host artefact).
    let mut answer: Vec<_> = notes_on(events, 1)
        .into_iter()
        .filter(|&(at, _, on)| on || at < STOP)
        .collect();
    answer.sort();
    let expected = figure_notes(ANSWER_START, 2);
    if answer != expected {
        let first_wrong = answer
            .iter()
            .zip(&expected)
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("{a:?} where {b:?} was due"));
        return Err(format!(
            "the answer was not on its samples with full lengths ({} events, expected {}; first \
             difference: {})",
            answer.len(),
            expected.len(),
            first_wrong.unwrap_or_else(|| "a missing or extra note".into())
        ));
    }
    let stray: Vec<_> = events
        .iter()
        .filter(|(_, status, _, _)| status & 0x0f > 1 && status & 0xe0 == 0x80)
        .collect();
    if !stray.is_empty() {
        return Err(format!("notes on other channels: {stray:?}"));
    }
    Ok(format!(
        "{} played notes passed at their samples; {} answer notes on their beats with full \
         lengths (first at sample {ANSWER_START}); every note ended",
        played.len() / 2,
        answer.len() / 2
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(answer: &[(u64, u8, bool)]) -> Vec<Logged> {
        let mut events: Vec<Logged> = figure_notes(0, 3)
            .into_iter()
            .map(|(at, key, on)| {
                (
                    at,
                    if on { 0x90 } else { 0x80 },
                    key,
                    if on { 100 } else { 0 },
                )
            })
            .collect();
        events.extend(answer.iter().map(|&(at, key, on)| {
            (
                at,
                if on { 0x91 } else { 0x81 },
                key,
                if on { 100 } else { 0 },
            )
        }));
        events.sort();
        events
    }

    #[test]
    fn an_exact_session_passes() {
        let mut answer = figure_notes(ANSWER_START, 2);
        // Ardour's own note-off at the stop is not held against the plugin.
        answer.push((STOP, 60, false));
        assert!(check(&session(&answer)).is_ok());
    }

    #[test]
    fn blips_and_late_onsets_fail() {
        let mut blips = figure_notes(ANSWER_START, 2);
        blips[1].0 = blips[0].0 + 12; // the first note cut to 12 samples
        blips.sort();
        assert!(check(&session(&blips))
            .unwrap_err()
            .contains("full lengths"));
        let mut late = figure_notes(ANSWER_START, 2);
        late[0].0 += 6;
        assert!(check(&session(&late)).is_err());
        assert!(check(&session(&[])).is_err(), "no answer at all");
    }
}
