//! `continuo eval DIR --prompt-bars M --bars N …`: continues every .mid in DIR from its first M
//! bars and compares the continuation with the true next N bars.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use continuo_engine::evaluation::{self, FeelMetrics, Metrics};
use continuo_engine::generator::MAX_LENGTH_BARS;
use continuo_engine::generator::{GenerationRequest, Generator, Melody, Style};
use continuo_engine::key::detect_key;
use continuo_engine::learned::Learned;
use continuo_engine::markov::MarkovGenerator;
use continuo_engine::midi_file;
use continuo_engine::neural::NeuralGenerator;
use continuo_engine::performance::{self, Playing};
use continuo_engine::phrase::Note;
use continuo_engine::score;
use serde::Serialize;

use super::{bars_of, check_temperature, parse_number};

/// What continues the prompts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Baseline {
    Neural,
    Markov,
    /// Repeat the prompt's last bar: what every generator should beat.
    Repeat,
}

struct EvalArgs {
    dir: PathBuf,
    prompt_bars: u32,
    bars: u32,
    generator: Baseline,
    seed: u64,
    style: Style,
    temperature: f32,
    /// Follow my motifs, 0–1 (neural only).
    follow_motifs: f32,
    /// Feel, 0–1 (neural only).
    feel: f32,
    /// Whether answers land (`--landing on|off`; neural only).
    landing: bool,
    /// How strongly the answer keeps to its style (`--style-strength S`; a v2 model).
    style_strength: f32,
    /// Take each file's last bars (`--at-end`): the true continuation is the tune's ending,
    /// where real music lands, instead of its bars after the first `prompt_bars`.
    at_end: bool,
    limit: Option<usize>,
    json: bool,
    /// Play every prompt with a synthetic human feel (`--played SEED`): the model hears it as
    /// it would hear a musician, and each file is also scored from its written prompt.
    played: Option<u64>,
    /// With `--played`: swing the off-beat eighths too (`--swing`).
    swing: bool,
    /// The player's tunes for the motif blend: from a file (`--learned`), or from a folder
    /// with each evaluated file left out of it (`--learn-from`, leave-one-out).
    learned: Option<Arc<Learned>>,
    leave_one_out: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<EvalArgs, String> {
    let mut dir = None;
    let mut prompt_bars = None;
    let mut bars = None;
    let mut generator = Baseline::Neural;
    let mut seed = 1u64;
    let mut style = Style::Auto;
    let mut temperature = 1.0f32;
    let mut limit = None;
    let mut json = false;
    let mut follow_motifs = continuo_engine::generator::DEFAULT_FOLLOW_MOTIFS;
    let mut feel = continuo_engine::generator::DEFAULT_FEEL;
    let mut landing = continuo_engine::generator::DEFAULT_LANDING;
    let mut style_strength = continuo_engine::generator::DEFAULT_STYLE_STRENGTH;
    let mut played = None;
    let mut at_end = false;
    let mut swing = false;
    let mut learned = None;
    let mut leave_one_out = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prompt-bars" => prompt_bars = Some(parse_number::<u32>(&arg, args.next())?),
            "--bars" => bars = Some(parse_number::<u32>(&arg, args.next())?),
            "--seed" => seed = parse_number(&arg, args.next())?,
            "--temperature" => temperature = parse_number(&arg, args.next())?,
            "--follow-motifs" => follow_motifs = parse_share("--follow-motifs", args.next())?,
            "--feel" => feel = parse_share("--feel", args.next())?,
            "--landing" => landing = parse_switch("--landing", args.next())?,
            "--style-strength" => style_strength = parse_style_strength(args.next())?,
            "--limit" => limit = Some(parse_number(&arg, args.next())?),
            "--json" => json = true,
            "--played" => played = Some(parse_number(&arg, args.next())?),
            "--swing" => swing = true,
            "--at-end" => at_end = true,
            "--learned" => learned = Some(super::read_learned(args.next())?),
            "--learn-from" => {
                let folder = PathBuf::from(args.next().ok_or("--learn-from needs a folder")?);
                let (material, _) = Learned::from_folder(&folder).map_err(|e| e.to_string())?;
                learned = Some(Arc::new(material));
                leave_one_out = true;
            }
            "--style" => {
                let name = args.next().ok_or("--style needs a value")?;
                style = Style::from_id(&name).ok_or_else(|| format!("unknown style '{name}'"))?;
            }
            "--generator" => {
                generator = match args.next().as_deref() {
                    Some("neural") => Baseline::Neural,
                    Some("markov") => Baseline::Markov,
                    Some("repeat") => Baseline::Repeat,
                    other => {
                        return Err(format!(
                            "--generator expects neural, markov or repeat, got '{}'",
                            other.unwrap_or("")
                        ))
                    }
                }
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument '{extra}'")),
        }
    }
    let prompt_bars = prompt_bars.ok_or("--prompt-bars is required")?;
    let bars = bars.ok_or("--bars is required")?;
    if !(1..=64).contains(&prompt_bars) {
        return Err("--prompt-bars must be between 1 and 64".into());
    }
    if bars == 0 || bars > MAX_LENGTH_BARS {
        return Err(format!("--bars must be between 1 and {MAX_LENGTH_BARS}"));
    }
    check_temperature(temperature)?;
    if limit == Some(0) {
        return Err("--limit must be at least 1".into());
    }
    if swing && played.is_none() {
        return Err("--swing swings the played prompts: use it with --played SEED".into());
    }
    Ok(EvalArgs {
        dir: dir.ok_or("a folder of .mid files is required")?,
        prompt_bars,
        bars,
        generator,
        seed,
        style,
        temperature,
        follow_motifs,
        feel,
        landing,
        style_strength,
        at_end,
        limit,
        json,
        played,
        swing,
        learned,
        leave_one_out,
    })
}

/// `--style-strength S`: from 0 to the engine's maximum.
pub fn parse_style_strength(value: Option<String>) -> Result<f32, String> {
    let max = continuo_engine::generator::MAX_STYLE_STRENGTH;
    let strength: f32 = parse_number("--style-strength", value)?;
    if (0.0..=max).contains(&strength) {
        Ok(strength)
    } else {
        Err(format!("--style-strength must be between 0 and {max}"))
    }
}

/// `--landing on|off`: a switch.
pub fn parse_switch(flag: &str, value: Option<String>) -> Result<bool, String> {
    match value.as_deref() {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        other => Err(format!(
            "{flag} expects on or off, got '{}'",
            other.unwrap_or("")
        )),
    }
}

/// `--follow-motifs F` or `--feel F`: a share from 0 to 1.
pub fn parse_share(flag: &str, value: Option<String>) -> Result<f32, String> {
    let share: f32 = parse_number(flag, value)?;
    if share.is_finite() && (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("{flag} must be between 0 and 1, got {share}"))
    }
}

/// One file's result.
#[derive(Debug, Serialize)]
struct FileResult {
    file: String,
    /// Teacher-forced NLL of the true next bars (none for "repeat", which has no probabilities).
    nll_per_note: Option<f64>,
    /// Of that, the pitches alone, in bits per note (neural only).
    pitch_bits_per_note: Option<f64>,
    continuation: Metrics,
    /// The same metrics of the true continuation: the reference the generators aim at.
    truth: Metrics,
    /// How the continuation, the prompt (as played) and the truth are played.
    feel: [FeelMetrics; 3],
    /// With `--played`: the NLL of the true next bars after the written prompt, and the styles
    /// Auto chose for the played and the written prompt (neural only).
    written: Option<Written>,
    /// With a style asked for (neural): the style Auto hears in the answer itself.
    answer_style: Option<&'static str>,
    milliseconds: f64,
}

/// A played prompt's written original, scored for comparison.
#[derive(Debug, Serialize, Clone, Copy)]
struct Written {
    nll_per_note: Option<f64>,
    style_played: &'static str,
    style_written: &'static str,
}

#[derive(Debug, Serialize)]
struct Skipped {
    file: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Report {
    generator: Baseline,
    prompt_bars: u32,
    bars: u32,
    seed: u64,
    temperature: f32,
    files_evaluated: usize,
    nll_per_note: Option<f64>,
    /// Mean pitch information content of the true continuations, bits per note (neural).
    pitch_bits_per_note: Option<f64>,
    aggregate: Metrics,
    truth: Metrics,
    /// Mean feel of the continuations, the prompts and the true continuations.
    feel: [FeelMetrics; 3],
    /// With `--played`: the seed and whether it swung.
    played: Option<(u64, bool)>,
    /// With `--played` (neural): mean NLL after the written prompts, over the same files.
    written_nll_per_note: Option<f64>,
    /// With `--played` (neural): files where Auto chose the same style for both prompts.
    same_auto_style: Option<usize>,
    /// With a style asked for (neural): answers in which Auto hears that style.
    answers_in_style: Option<usize>,
    seconds: f64,
    files: Vec<FileResult>,
    skipped: Vec<Skipped>,
}

/// The generators, loaded once.
enum Engine {
    Neural(Box<NeuralGenerator>),
    Markov(MarkovGenerator),
    Repeat,
}

fn midi_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .mid files in this folder", dir.display()));
    }
    Ok(files)
}

/// What one file's continuation scored.
struct Outcome {
    nll: Option<f64>,
    continuation: Metrics,
    truth: Metrics,
    feel: [FeelMetrics; 3],
    written: Option<Written>,
    answer_style: Option<&'static str>,
    pitch_bits: Option<f64>,
}

/// Continues and measures one melody from bar `first` (`tempo` in BPM, for a synthetic
/// player's timing).
fn evaluate(
    engine: &mut Engine,
    args: &EvalArgs,
    melody: &Melody,
    first: u32,
    tempo: f64,
    index: usize,
) -> Result<Outcome, String> {
    let ts = melody.time_signature;
    let bar = ts.bar_ticks();
    let (m, n) = (args.prompt_bars, args.bars);
    let written_prompt = bars_of(melody, first, m);
    let truth = bars_of(melody, first + m, n);
    if written_prompt.notes.is_empty() {
        return Err(format!("no notes in the first {m} bars"));
    }
    let prompt = match args.played {
        Some(seed) => Melody {
            notes: performance::perform(
                &written_prompt.notes,
                ts,
                tempo,
                Playing {
                    swing: args.swing,
                    ..Playing::human(seed.wrapping_add(index as u64))
                },
            ),
            time_signature: ts,
        },
        None => written_prompt.clone(),
    };
    let request = GenerationRequest {
        length_bars: n,
        time_signature: ts,
        style: args.style,
        temperature: args.temperature,
        seed: args.seed.wrapping_add(index as u64),
        start_tick: m * bar,
        pitch_filter: None,
        top_p: continuo_engine::neural::TOP_P,
        follow_motifs: args.follow_motifs,
        feel: args.feel,
        landing: args.landing,
        style_strength: args.style_strength,
    };
    // The prompt as heard, then the true continuation.
    let with_truth = |prompt: &Melody| Melody {
        notes: prompt
            .notes
            .iter()
            .copied()
            .chain(truth.notes.iter().map(|note| Note {
                start: note.start + m * bar,
                ..*note
            }))
            .collect(),
        time_signature: ts,
    };
    let mut written = None;
    let mut answer_style = None;
    let mut pitch_bits = None;
    let (continuation, nll) = match engine {
        Engine::Neural(neural) => {
            let phrase = neural
                .generate(std::slice::from_ref(&prompt), &request)
                .map_err(|e| e.to_string())?;
            let score = |neural: &mut NeuralGenerator, prompt: &Melody| {
                score::neural(
                    neural,
                    &with_truth(prompt),
                    m,
                    args.style,
                    args.follow_motifs,
                )
            };
            let nll = |neural: &mut NeuralGenerator, prompt: &Melody| {
                score(neural, prompt).map(|s| s.map(|s| s.nll_per_note))
            };
            if args.played.is_some() {
                let auto = |neural: &mut NeuralGenerator, prompt: &Melody| {
                    neural
                        .auto_style(std::slice::from_ref(prompt), m * bar, ts)
                        .map(|style| style.id())
                        .map_err(|e| e.to_string())
                };
                written = Some(Written {
                    nll_per_note: nll(neural, &written_prompt)?,
                    style_played: auto(neural, &prompt)?,
                    style_written: auto(neural, &written_prompt)?,
                });
            }
            // The style Auto hears in the answer alone (does the answer sound like the style
            // it was asked for?).
            if args.style != Style::Auto && phrase.notes.len() >= 2 {
                let answer = Melody {
                    notes: phrase.notes.clone(),
                    time_signature: ts,
                };
                answer_style = Some(
                    neural
                        .auto_style(&[answer], phrase.length_ticks, ts)
                        .map_err(|e| e.to_string())?
                        .id(),
                );
            }
            let scored = score(neural, &prompt)?;
            pitch_bits = scored.as_ref().and_then(|s| s.pitch_bits_per_note);
            (phrase.notes, scored.map(|s| s.nll_per_note))
        }
        Engine::Markov(markov) => {
            let phrase = markov
                .generate(std::slice::from_ref(&prompt), &request)
                .map_err(|e| e.to_string())?;
            let score = score::markov(&with_truth(&prompt), m * bar);
            (phrase.notes, score.map(|s| s.nll_per_note))
        }
        Engine::Repeat => (evaluation::repeat_last_bar(&prompt.notes, ts, m, n), None),
    };
    let key = detect_key(&prompt.notes);
    let measured = evaluation::measure(&prompt.notes, m, &continuation, &truth.notes, ts, n, key);
    let reference = evaluation::measure(&prompt.notes, m, &truth.notes, &truth.notes, ts, n, key);
    let feel = [
        evaluation::feel(&continuation, &prompt.notes, ts),
        evaluation::feel(&prompt.notes, &prompt.notes, ts),
        evaluation::feel(&truth.notes, &prompt.notes, ts),
    ];
    Ok(Outcome {
        nll,
        continuation: measured,
        truth: reference,
        feel,
        written,
        answer_style,
        pitch_bits,
    })
}

/// Runs `continuo eval`; returns the report to print.
pub fn run(args: impl Iterator<Item = String>) -> Result<String, String> {
    let args = parse(args)?;
    let mut files = midi_files(&args.dir)?;
    if let Some(limit) = args.limit {
        files.truncate(limit);
    }
    let mut engine = match args.generator {
        Baseline::Neural => Engine::Neural(Box::new(
            NeuralGenerator::load().map_err(|why| why.to_string())?,
        )),
        Baseline::Markov => Engine::Markov(MarkovGenerator::new()),
        Baseline::Repeat => Engine::Repeat,
    };
    let started = Instant::now();
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let file = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let outcome = midi_file::read_file(path, None)
            .map_err(|e| e.to_string())
            .and_then(|imported| {
                let needed = args.prompt_bars + args.bars;
                if imported.bars() < needed {
                    return Err(format!("{} bars, fewer than {needed}", imported.bars()));
                }
                if let Engine::Neural(neural) = &mut engine {
                    // Leave-one-out: a tune is never continued with itself among what was learnt.
                    neural.set_learned(match &args.learned {
                        Some(all) if args.leave_one_out => Some(Arc::new(all.without(&file))),
                        other => other.clone(),
                    });
                }
                let first = if args.at_end {
                    imported.bars() - needed
                } else {
                    0
                };
                let t = Instant::now();
                evaluate(
                    &mut engine,
                    &args,
                    &imported.melody,
                    first,
                    imported.tempo,
                    index,
                )
                .map(|r| (r, t.elapsed().as_secs_f64() * 1e3))
            });
        match outcome {
            Ok((outcome, milliseconds)) => results.push(FileResult {
                file,
                nll_per_note: outcome.nll,
                pitch_bits_per_note: outcome.pitch_bits,
                continuation: outcome.continuation,
                truth: outcome.truth,
                feel: outcome.feel,
                written: outcome.written,
                answer_style: outcome.answer_style,
                milliseconds,
            }),
            Err(reason) => skipped.push(Skipped { file, reason }),
        }
    }
    if results.is_empty() {
        return Err(format!(
            "{}: none of the {} files could be evaluated (first reason: {})",
            args.dir.display(),
            files.len(),
            skipped.first().map_or("", |s| s.reason.as_str())
        ));
    }
    let nlls: Vec<f64> = results.iter().filter_map(|r| r.nll_per_note).collect();
    let continuation: Vec<Metrics> = results.iter().map(|r| r.continuation).collect();
    let truth: Vec<Metrics> = results.iter().map(|r| r.truth).collect();
    let feel: [FeelMetrics; 3] = std::array::from_fn(|k| {
        evaluation::mean_feel(&results.iter().map(|r| r.feel[k]).collect::<Vec<_>>())
    });
    let written: Vec<Written> = results.iter().filter_map(|r| r.written).collect();
    let written_nlls: Vec<f64> = written.iter().filter_map(|w| w.nll_per_note).collect();
    let report = Report {
        generator: args.generator,
        prompt_bars: args.prompt_bars,
        bars: args.bars,
        seed: args.seed,
        temperature: args.temperature,
        files_evaluated: results.len(),
        nll_per_note: (!nlls.is_empty()).then(|| nlls.iter().sum::<f64>() / nlls.len() as f64),
        pitch_bits_per_note: {
            let bits: Vec<f64> = results
                .iter()
                .filter_map(|r| r.pitch_bits_per_note)
                .collect();
            (!bits.is_empty()).then(|| bits.iter().sum::<f64>() / bits.len() as f64)
        },
        aggregate: evaluation::mean(&continuation),
        truth: evaluation::mean(&truth),
        feel,
        played: args.played.map(|seed| (seed, args.swing)),
        written_nll_per_note: (!written_nlls.is_empty())
            .then(|| written_nlls.iter().sum::<f64>() / written_nlls.len() as f64),
        answers_in_style: (args.style != Style::Auto && args.generator == Baseline::Neural).then(
            || {
                results
                    .iter()
                    .filter(|r| r.answer_style == Some(args.style.id()))
                    .count()
            },
        ),
        same_auto_style: (!written.is_empty()).then(|| {
            written
                .iter()
                .filter(|w| w.style_played == w.style_written)
                .count()
        }),
        seconds: started.elapsed().as_secs_f64(),
        files: results,
        skipped,
    };
    if args.json {
        serde_json::to_string_pretty(&report)
            .map(|json| json + "\n")
            .map_err(|e| e.to_string())
    } else {
        Ok(markdown(&report))
    }
}

fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.digits$}"))
}

fn row(name: &str, nll: Option<f64>, m: &Metrics) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        m.notes,
        cell(nll, 3),
        cell(m.in_key_rate, 3),
        cell(m.pitch_class_overlap, 3),
        cell(m.density_ratio, 2),
        cell(m.groove_consistency, 3),
        cell(m.pitch_range, 1),
        cell(m.copy_rate, 3),
        cell(m.motif_reuse, 3),
        cell(m.register_drift, 2),
        cell(m.largest_leap, 1),
        cell(m.single_pitch, 3),
        cell(m.held_ending, 3),
        cell(m.chord_tone_ending, 3),
        cell(m.onset_pitch_f1, 3),
        cell(m.rest_rate, 3),
        cell(m.articulation, 2),
    )
}

fn markdown(report: &Report) -> String {
    let mut out = format!(
        "Continuations by {:?} of {} bars after the first {} bars ({} files, {} skipped, {:.1} s)\n\n",
        report.generator,
        report.bars,
        report.prompt_bars,
        report.files_evaluated,
        report.skipped.len(),
        report.seconds
    );
    out.push_str(
        "| file | notes | NLL/note | in key | PC overlap | density | groove | range | copy | motif reuse | register drift | largest leap | single pitch | held ending | chord-tone ending | onset/pitch F1 | rest rate | articulation |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for file in &report.files {
        out.push_str(&row(&file.file, file.nll_per_note, &file.continuation));
    }
    out.push_str(&row("**mean**", report.nll_per_note, &report.aggregate));
    out.push_str(&row("*true continuation*", None, &report.truth));
    out.push_str(
        "\n| how it is played (mean) | velocity spread | accent correlation with the prompt | swing ratio | syncopation | rest rate | articulation |\n|---|---|---|---|---|---|---|\n",
    );
    for (name, feel) in ["continuation", "prompt (as heard)", "true continuation"]
        .iter()
        .zip(&report.feel)
    {
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} |\n",
            cell(feel.velocity_spread, 1),
            cell(feel.accent_correlation, 2),
            cell(feel.swing_ratio, 2),
            cell(feel.syncopation, 3),
            cell(feel.rest_rate, 3),
            cell(feel.articulation, 2),
        ));
    }
    out.push_str(
        "\n| what tells styles apart (mean) | notes per bar | mean step (semitones) | pentatonic share | tonic ending |\n|---|---|---|---|---|\n",
    );
    for (name, m) in [
        ("continuation", &report.aggregate),
        ("true continuation", &report.truth),
    ] {
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            cell(m.notes_per_bar, 2),
            cell(m.mean_step, 2),
            cell(m.pentatonic_share, 3),
            cell(m.tonic_ending, 3),
        ));
    }
    if let Some((seed, swing)) = report.played {
        out.push_str(&format!(
            "\nPrompts played by a synthetic player (seed {seed}: ±15 ms timing, notes sounding 55–90 % of their length, accents{}).\n",
            if swing { ", swung eighths" } else { "" }
        ));
        if let (Some(played), Some(written)) = (report.nll_per_note, report.written_nll_per_note) {
            out.push_str(&format!(
                "NLL/note of the true continuation after the played prompts {played:.3}, after the written ones {written:.3} ({:+.1} %).\n",
                (played / written - 1.0) * 100.0
            ));
        }
        if let Some(same) = report.same_auto_style {
            out.push_str(&format!(
                "Auto chose the same style for the played and the written prompt in {same} of {} files.\n",
                report.files_evaluated
            ));
        }
    }
    if let Some(in_style) = report.answers_in_style {
        out.push_str(&format!(
            "\nAuto hears the requested style in {in_style} of {} answers.\n",
            report.files_evaluated
        ));
    }
    if let Some(bits) = report.pitch_bits_per_note {
        out.push_str(&format!(
            "\nPitch information content of the true continuation: {bits:.3} bits per note (PITCH tokens only, given each note's onset).\n"
        ));
    }
    for skipped in &report.skipped {
        out.push_str(&format!("\nskipped {}: {}", skipped.file, skipped.reason));
    }
    if !report.skipped.is_empty() {
        out.push('\n');
    }
    out
}
