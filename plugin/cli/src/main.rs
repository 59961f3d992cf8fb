//! `continuo`: the plugin's engine offline, on MIDI files.
//!
//! ```text
//! continuo continue IN.mid --bars N [--prompt-bars M] [--style S] [--temperature T] [--top-p P]
//!                          [--variations K] [--seed X] [--scale-lock off|detected|KEY]
//!                          [--track K] [--generator neural|markov] [--learned FILE] -o OUT.mid
//! continuo score IN.mid --prompt-bars M [--generator neural|markov]
//! continuo eval DIR --prompt-bars M --bars N [--generator neural|markov|repeat] [--seed X]
//!                   [--style S] [--temperature T] [--played SEED [--swing]]
//!                   [--learned FILE | --learn-from DIR] [--limit K] [--json]
//! continuo learn DIR -o FILE.json
//! ```
//!
//! `continue` reads the melody (the melody line of all tracks, or of `--track`), continues its last
//! M bars by N bars and writes the prompt and the continuation (on its own track) at the file's
//! tempo and meter; with `--variations K`, OUT-1.mid … OUT-K.mid. It prints an ASCII piano roll of
//! each continuation and the generation time. `eval` continues every .mid in DIR from its first M
//! bars and compares with the true next N bars (see `continuo_engine::evaluation`). Bad input gives one
//! line on stderr, exit status 2 and no output file.

mod eval;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use continuo_engine::feel::Timing;
use continuo_engine::generator::{GenerationRequest, Generator, Melody, PitchFilter, Style};
use continuo_engine::generator::{
    MAX_LENGTH_BARS, MAX_TEMPERATURE, MAX_VARIATIONS, MIN_TEMPERATURE,
};
use continuo_engine::key::{detect_key, Key, Mode};
use continuo_engine::learned::Learned;
use continuo_engine::markov::MarkovGenerator;
use continuo_engine::midi_file::{self, TimedNote, TrackNotes, TrackOut};
use continuo_engine::neural::NeuralGenerator;
use continuo_engine::pianoroll;
use continuo_engine::score;

/// `continuo continue --help`.
const CONTINUE_USAGE: &str = "usage: continuo continue IN.mid --bars N [--prompt-bars M] [--style auto|folk|celtic|chorale|renaissance|chinese-folk] [--temperature T] [--top-p P] [--follow-motifs F] [--feel F] [--landing on|off] [--style-strength S] [--variations K] [--seed X] [--scale-lock off|detected|KEY] [--range LOW-HIGH] [--track K] [--generator neural|markov] [--learned FILE] -o OUT.mid";
/// `continuo learn --help`.
const LEARN_USAGE: &str = "usage: continuo learn DIR -o FILE.json   (then --learned FILE.json)";
/// `continuo score --help`.
const SCORE_USAGE: &str = "usage: continuo score IN.mid --prompt-bars M [--generator neural|markov] [--style S] [--track K]";
/// `continuo eval --help`.
const EVAL_USAGE: &str = "usage: continuo eval DIR --prompt-bars M --bars N [--generator neural|markov|repeat] [--seed X] [--style S] [--temperature T] [--follow-motifs F] [--feel F] [--landing on|off] [--style-strength S] [--at-end] [--played SEED [--swing]] [--learned FILE | --learn-from DIR] [--limit K] [--json]";

/// How a continuation is held to a scale.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ScaleChoice {
    Off,
    Detected,
    Fixed(Key),
}

/// `C`, `F#`, `Bb`, `Am`, `C# minor`, `eb-major`… as a key.
fn parse_key(text: &str) -> Option<Key> {
    let lower = text
        .trim()
        .to_ascii_lowercase()
        .replace(['-', '_', ' '], "");
    // Longest names first ("harmonic minor" before "minor"); "Am" is A minor.
    let mut names: Vec<(String, Mode)> = Mode::ALL
        .iter()
        .map(|&mode| (mode.name().replace(' ', ""), mode))
        .collect();
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    names.push(("m".into(), Mode::Minor));
    let (name, mode) = names
        .iter()
        .find_map(|(suffix, mode)| lower.strip_suffix(suffix.as_str()).map(|n| (n, *mode)))
        .unwrap_or((lower.as_str(), Mode::Major));
    let mut chars = name.chars();
    let base = match chars.next()? {
        'c' => 0,
        'd' => 2,
        'e' => 4,
        'f' => 5,
        'g' => 7,
        'a' => 9,
        'b' => 11,
        _ => return None,
    };
    let shift = match chars.as_str() {
        "" => 0,
        "#" | "s" | "sharp" => 1,
        "b" | "flat" => -1,
        _ => return None,
    };
    Some(Key {
        tonic: ((base + shift + 12) % 12) as u8,
        mode,
    })
}

/// Which generator the user asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Choice {
    /// The neural model if it loads, else the Markov fallback (with the reason on stderr).
    Default,
    Neural,
    Markov,
}

struct ContinueArgs {
    input: PathBuf,
    output: PathBuf,
    bars: u32,
    prompt_bars: Option<u32>,
    style: Style,
    temperature: f32,
    top_p: f32,
    /// Follow my motifs, 0–1.
    follow_motifs: f32,
    /// Feel, 0–1.
    feel: f32,
    /// Whether the answer lands on a held tonic-chord note (`--landing on|off`).
    landing: bool,
    /// How strongly the answer keeps to its style (`--style-strength S`; a v2 model).
    style_strength: f32,
    variations: u32,
    scale_lock: ScaleChoice,
    /// Lowest and highest note the continuation may use (`--range C2-C4`).
    range: Option<(u8, u8)>,
    seed: u64,
    track: Option<usize>,
    generator: Choice,
    /// The player's own tunes (`--learned FILE`, from `continuo learn`).
    learned: Option<Arc<Learned>>,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag} expects a number, got '{value}'"))
}

fn parse_continue(mut args: impl Iterator<Item = String>) -> Result<ContinueArgs, String> {
    let mut input = None;
    let mut output = None;
    let mut bars = None;
    let mut prompt_bars = None;
    let mut style = Style::Auto;
    let mut temperature = 1.0f32;
    let mut top_p = continuo_engine::neural::TOP_P;
    let mut follow_motifs = continuo_engine::generator::DEFAULT_FOLLOW_MOTIFS;
    let mut feel = continuo_engine::generator::DEFAULT_FEEL;
    let mut landing = continuo_engine::generator::DEFAULT_LANDING;
    let mut style_strength = continuo_engine::generator::DEFAULT_STYLE_STRENGTH;
    let mut variations = 1u32;
    let mut scale_lock = ScaleChoice::Off;
    let mut range = None;
    let mut seed = 1u64;
    let mut track = None;
    let mut generator = Choice::Default;
    let mut learned = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bars" => bars = Some(parse_number::<u32>("--bars", args.next())?),
            "--learned" => learned = Some(read_learned(args.next())?),
            "--top-p" => top_p = parse_number("--top-p", args.next())?,
            "--follow-motifs" => follow_motifs = eval::parse_share("--follow-motifs", args.next())?,
            "--feel" => feel = eval::parse_share("--feel", args.next())?,
            "--landing" => landing = eval::parse_switch("--landing", args.next())?,
            "--style-strength" => style_strength = eval::parse_style_strength(args.next())?,
            "--variations" => variations = parse_number("--variations", args.next())?,
            "--scale-lock" => {
                let value = args.next().ok_or("--scale-lock needs a value")?;
                scale_lock = match value.as_str() {
                    "off" => ScaleChoice::Off,
                    "detected" => ScaleChoice::Detected,
                    key => ScaleChoice::Fixed(parse_key(key).ok_or_else(|| {
                        format!("--scale-lock expects off, detected or a key such as C, F#m or Bb major, got '{key}'")
                    })?),
                }
            }
            "--range" => {
                let value = args.next().ok_or("--range needs a value")?;
                let parsed = value
                    .split_once('-')
                    .and_then(|(low, high)| {
                        pianoroll::parse_key_name(low).zip(pianoroll::parse_key_name(high))
                    })
                    .filter(|(low, high)| low <= high);
                range = Some(parsed.ok_or_else(|| {
                    format!("--range expects LOW-HIGH such as C2-C4 or 36-60, got '{value}'")
                })?);
            }
            "--prompt-bars" => {
                prompt_bars = Some(parse_number::<u32>("--prompt-bars", args.next())?)
            }
            "--temperature" => temperature = parse_number("--temperature", args.next())?,
            "--seed" => seed = parse_number("--seed", args.next())?,
            "--track" => track = Some(parse_number("--track", args.next())?),
            "--style" => {
                let name = args.next().ok_or("--style needs a value")?;
                style = Style::from_id(&name).ok_or_else(|| format!("unknown style '{name}'"))?;
            }
            "--generator" => {
                generator = match args.next().as_deref() {
                    Some("neural") => Choice::Neural,
                    Some("markov") => Choice::Markov,
                    other => {
                        return Err(format!(
                            "--generator expects neural or markov, got '{}'",
                            other.unwrap_or("")
                        ))
                    }
                }
            }
            "-o" | "--output" => {
                output = Some(PathBuf::from(args.next().ok_or("-o needs a path")?))
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if input.is_none() => input = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument '{extra}'")),
        }
    }
    let bars = bars.ok_or("--bars is required")?;
    if bars == 0 || bars > MAX_LENGTH_BARS {
        return Err(format!("--bars must be between 1 and {MAX_LENGTH_BARS}"));
    }
    if prompt_bars == Some(0) {
        return Err("--prompt-bars must be at least 1".into());
    }
    check_temperature(temperature)?;
    if !(top_p.is_finite() && top_p > 0.0 && top_p <= 1.0) {
        return Err("--top-p must be greater than 0 and at most 1".into());
    }
    if !(1..=MAX_VARIATIONS).contains(&variations) {
        return Err(format!(
            "--variations must be between 1 and {MAX_VARIATIONS}"
        ));
    }
    Ok(ContinueArgs {
        input: input.ok_or("an input .mid file is required")?,
        output: output.ok_or("an output path (-o OUT.mid) is required")?,
        bars,
        prompt_bars,
        style,
        temperature,
        top_p,
        follow_motifs,
        feel,
        landing,
        style_strength,
        variations,
        scale_lock,
        range,
        seed,
        track,
        generator,
        learned,
    })
}

/// `--learned FILE`: what `continuo learn` wrote.
pub(crate) fn read_learned(path: Option<String>) -> Result<Arc<Learned>, String> {
    let path = path.ok_or("--learned needs a file (from continuo learn)")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Learned::from_json(&text)
        .map(Arc::new)
        .map_err(|e| format!("{path}: {e}"))
}

/// `continuo learn DIR -o FILE`: the melodies of the .mid files in DIR, for `--learned`.
fn run_learn(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let (mut dir, mut output) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--output" => {
                output = Some(PathBuf::from(args.next().ok_or("-o needs a file name")?))
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument '{extra}'")),
        }
    }
    let dir = dir.ok_or("a folder of .mid files is required")?;
    let output = output.ok_or("an output path (-o FILE.json) is required")?;
    let (learned, skipped) = Learned::from_folder(&dir).map_err(|e| e.to_string())?;
    let json = serde_json::to_string(&learned).map_err(|e| e.to_string())?;
    std::fs::write(&output, json).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let mut report = format!(
        "Learnt {} melodies ({} notes) from {} into {}\n",
        learned.files(),
        learned.notes(),
        dir.display(),
        output.display()
    );
    for (name, why) in skipped {
        report.push_str(&format!("skipped {name}: {why}\n"));
    }
    Ok(report)
}

fn check_temperature(temperature: f32) -> Result<(), String> {
    if temperature.is_finite() && (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&temperature) {
        Ok(())
    } else {
        Err(format!(
            "--temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}"
        ))
    }
}

/// The generator asked for: the neural model (or, by default, the Markov fallback if it cannot
/// load, saying why on stderr) or the Markov generator.
fn load_generator(
    choice: Choice,
    learned: Option<Arc<Learned>>,
) -> Result<Box<dyn Generator>, String> {
    let neural = || {
        NeuralGenerator::load().map(|mut neural| {
            neural.set_learned(learned.clone());
            neural
        })
    };
    Ok(match choice {
        Choice::Markov => Box::new(MarkovGenerator::new()),
        Choice::Neural => Box::new(neural().map_err(|why| why.to_string())?),
        Choice::Default => match neural() {
            Ok(neural) => Box::new(neural),
            Err(why) => {
                eprintln!("continuo: using the Markov fallback: {why}");
                Box::new(MarkovGenerator::new())
            }
        },
    })
}

/// The first `bars` bars of `melody` from bar `from`, re-based so tick 0 is bar `from`'s line.
fn bars_of(melody: &Melody, from: u32, bars: u32) -> Melody {
    let bar = melody.time_signature.bar_ticks();
    let (start, end) = (from * bar, (from + bars) * bar);
    Melody {
        notes: melody
            .notes
            .iter()
            .filter(|n| n.start >= start && n.start < end)
            .map(|n| continuo_engine::phrase::Note {
                start: n.start - start,
                ..*n
            })
            .collect(),
        time_signature: melody.time_signature,
    }
}

/// `OUT.mid` → `OUT-k.mid`.
fn numbered(path: &std::path::Path, k: u32) -> PathBuf {
    let stem = path.file_stem().map_or_else(
        || "continuation".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let ext = path
        .extension()
        .map_or_else(|| "mid".to_string(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{k}.{ext}"))
}

fn run_continue(args: ContinueArgs) -> Result<String, String> {
    use std::fmt::Write;
    let imported = midi_file::read_file(&args.input, args.track)
        .map_err(|e| format!("{}: {e}", args.input.display()))?;
    // The meter and tempo the file ends in govern the continuation: the prompt is taken from
    // the last stretch in that meter, counted in its bars.
    let (section_start, ts) = imported.final_meter();
    let tempo = imported.final_tempo();
    let bar_ticks = ts.bar_ticks();
    let section = |notes: &[continuo_engine::phrase::Note]| Melody {
        notes: notes
            .iter()
            .filter(|n| n.start >= section_start)
            .map(|n| continuo_engine::phrase::Note {
                start: n.start - section_start,
                ..*n
            })
            .collect(),
        time_signature: ts,
    };
    let melody = section(&imported.melody.notes);
    let file_bars = melody
        .notes
        .iter()
        .map(|n| n.end())
        .max()
        .unwrap_or(0)
        .div_ceil(bar_ticks);
    let prompt_bars = args.prompt_bars.unwrap_or(file_bars);
    if prompt_bars > file_bars {
        return Err(format!(
            "{}: the melody has {file_bars} bars, fewer than --prompt-bars {prompt_bars}",
            args.input.display()
        ));
    }
    // The prompt: the last `prompt_bars` bars, re-based so that tick 0 is its first bar line.
    let prompt = bars_of(&melody, file_bars - prompt_bars, prompt_bars);
    // Everything played in those bars (chords and inner voices too) as it was played, for the
    // written file: the notes whose onset on the grid lies in them, in beats from their start.
    let from_tick = section_start + (file_bars - prompt_bars) * bar_ticks;
    let to_tick = from_tick + prompt_bars * bar_ticks;
    let ticks = continuo_engine::phrase::TICKS_PER_BEAT as f64;
    let played: Vec<TimedNote> = imported
        .performance
        .iter()
        .filter(|n| (from_tick..to_tick).contains(&((n.beat * ticks).round() as u32)))
        .map(|n| TimedNote {
            beat: (n.beat - from_tick as f64 / ticks).max(0.0),
            ..*n
        })
        .collect();
    let detected_key = detect_key(&prompt.notes);
    let scale = match args.scale_lock {
        ScaleChoice::Off => None,
        ScaleChoice::Detected => Some(
            continuo_engine::generators::detected_scale(detected_key, &prompt.notes).ok_or_else(
                || {
                    format!(
                        "{}: the prompt has too few pitches to detect a key; give --scale-lock KEY",
                        args.input.display()
                    )
                },
            )?,
        ),
        ScaleChoice::Fixed(key) => Some(key.scale()),
    };
    let request = GenerationRequest {
        length_bars: args.bars,
        time_signature: ts,
        style: args.style,
        temperature: args.temperature,
        seed: args.seed,
        start_tick: prompt_bars * bar_ticks,
        pitch_filter: (scale.is_some() || args.range.is_some()).then(|| {
            let (low, high) = args.range.unwrap_or((0, 127));
            PitchFilter { low, high, scale }
        }),
        top_p: args.top_p,
        follow_motifs: args.follow_motifs,
        feel: args.feel,
        landing: args.landing,
        style_strength: args.style_strength,
    };
    let mut generator = load_generator(args.generator, args.learned.clone())?;
    // Generate everything before writing anything: a failure leaves no partial output.
    let seeds: Vec<u64> = (0..args.variations as u64)
        .map(|k| args.seed.wrapping_add(k))
        .collect();
    let started = Instant::now();
    let mut phrases = generator
        .generate_variations(std::slice::from_ref(&prompt), &request, &seeds)
        .map_err(|e| e.to_string())?;
    // The player's micro-timing, from the prompt as played, goes on every answer.
    if let Some(timing) = Timing::learn(&played, ts) {
        for phrase in &mut phrases {
            timing.apply(phrase, request.start_tick, args.feel);
        }
    }
    let elapsed = started.elapsed();
    // Every file is written before anything is printed: output cut short (a closed pipe) loses
    // nothing.
    let mut outputs = Vec::new();
    for (k, phrase) in phrases.iter().enumerate() {
        let output = if args.variations == 1 {
            args.output.clone()
        } else {
            numbered(&args.output, k as u32 + 1)
        };
        let bytes = midi_file::encode(
            &[
                TrackOut {
                    name: "Prompt",
                    notes: TrackNotes::Played(&played),
                    offset_ticks: 0,
                    channel: 0,
                },
                TrackOut {
                    name: "Continuo",
                    notes: TrackNotes::Played(&phrase.performance()),
                    offset_ticks: request.start_tick,
                    channel: 1,
                },
            ],
            tempo,
            ts,
        );
        std::fs::write(&output, bytes)
            .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        outputs.push(output);
    }
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Continuation of {} ({} bars of prompt, {}/{} at {:.0} BPM) by {}:",
        args.input.display(),
        prompt_bars,
        ts.numerator,
        ts.denominator,
        tempo,
        generator.name()
    );
    if section_start > 0 {
        let _ = writeln!(
            report,
            "The file ends in {}/{} at {tempo:.0} BPM: the prompt and the continuation follow that.",
            ts.numerator, ts.denominator
        );
    }
    let detected = detected_key.map_or_else(
        || "too few pitches to tell".to_string(),
        |key| key.to_string(),
    );
    let style = match (args.style, generator.chosen_style()) {
        (Style::Auto, Some(chosen)) => format!("{} (chosen by Auto)", chosen.id()),
        (Style::Auto, None) => "auto".to_string(),
        (style, _) => style.id().to_string(),
    };
    let _ = writeln!(report, "Detected key: {detected}; style: {style}");
    let under = played.len().saturating_sub(prompt.notes.len());
    if under > 0 {
        let _ = writeln!(
            report,
            "The prompt's melody line was continued: {under} of its {} notes are other voices (chords, \
             inner voices, pads) and were left out of what the model heard; the written prompt keeps them.",
            played.len()
        );
    }
    for (k, (phrase, output)) in phrases.iter().zip(&outputs).enumerate() {
        if args.variations > 1 {
            let _ = writeln!(report, "Variation {}:", k + 1);
        }
        report.push_str(&pianoroll::render(&phrase.notes, phrase.length_ticks, ts));
        let _ = writeln!(
            report,
            "{} notes in {} bars; written to {}",
            phrase.notes.len(),
            args.bars,
            output.display()
        );
    }
    let _ = writeln!(
        report,
        "{} generated in {:.2} ms",
        if args.variations == 1 {
            "1 continuation".to_string()
        } else {
            format!("{} variations (in one batch)", args.variations)
        },
        elapsed.as_secs_f64() * 1e3
    );
    Ok(report)
}

/// `continuo score IN.mid --prompt-bars M [--generator neural|markov] [--style S] [--track K]`:
/// the teacher-forced NLL of the bars after M, as one JSON object.
fn run_score(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut input = None;
    let mut prompt_bars = None;
    let mut generator = "neural".to_string();
    let mut style = Style::Auto;
    let mut track = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prompt-bars" => {
                prompt_bars = Some(parse_number::<u32>("--prompt-bars", args.next())?)
            }
            "--generator" => generator = args.next().ok_or("--generator needs a value")?,
            "--style" => {
                let name = args.next().ok_or("--style needs a value")?;
                style = Style::from_id(&name).ok_or_else(|| format!("unknown style '{name}'"))?;
            }
            "--track" => track = Some(parse_number("--track", args.next())?),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if input.is_none() => input = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument '{extra}'")),
        }
    }
    let input = input.ok_or("an input .mid file is required")?;
    let prompt_bars = prompt_bars.ok_or("--prompt-bars is required")?;
    if prompt_bars == 0 {
        return Err("--prompt-bars must be at least 1".into());
    }
    let imported =
        midi_file::read_file(&input, track).map_err(|e| format!("{}: {e}", input.display()))?;
    let bars = imported.bars();
    if prompt_bars >= bars {
        return Err(format!(
            "{}: the melody has {bars} bars, so nothing follows --prompt-bars {prompt_bars}",
            input.display()
        ));
    }
    let melody = &imported.melody;
    let score = match generator.as_str() {
        "markov" => score::markov(melody, prompt_bars * melody.time_signature.bar_ticks()),
        "neural" => {
            let mut neural = NeuralGenerator::load().map_err(|why| why.to_string())?;
            score::neural(&mut neural, melody, prompt_bars, style, 0.0)?
        }
        other => {
            return Err(format!(
                "--generator expects neural or markov, got '{other}'"
            ))
        }
    }
    .ok_or_else(|| {
        format!(
            "{}: no notes to score after bar {prompt_bars}",
            input.display()
        )
    })?;
    let number = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{v:.6}"));
    Ok(format!(
        "{{\"file\": {:?}, \"generator\": {:?}, \"prompt_bars\": {prompt_bars}, \"notes\": {}, \"tokens\": {}, \"nll_per_note\": {:.6}, \"nll_per_token\": {}}}\n",
        input.display().to_string(),
        generator,
        score.notes,
        score.tokens.map_or("null".to_string(), |t| t.to_string()),
        score.nll_per_note,
        number(score.nll_per_token),
    ))
}

/// Writes `text` to standard output. A reader that went away (`| head -1`) is not an error:
/// every file was written before anything was printed.
fn print_report(text: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("continuo: cannot print the report: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    let rest = args.iter().skip(1).cloned();
    let wants_help = args.iter().skip(1).any(|a| a == "-h" || a == "--help");
    let result = match command {
        Some("continue") if wants_help => Ok(format!("{CONTINUE_USAGE}\n")),
        Some("score") if wants_help => Ok(format!("{SCORE_USAGE}\n")),
        Some("eval") if wants_help => Ok(format!("{EVAL_USAGE}\n")),
        Some("learn") if wants_help => Ok(format!("{LEARN_USAGE}\n")),
        Some("learn") => run_learn(rest),
        Some("continue") => parse_continue(rest).and_then(run_continue),
        Some("score") => run_score(rest),
        Some("eval") => eval::run(rest),
        Some("-h" | "--help") | None => {
            Ok(format!(
                "{CONTINUE_USAGE}\n{SCORE_USAGE}\n{EVAL_USAGE}\n{LEARN_USAGE}\n"
            ))
        }
        Some(other) => Err(format!(
            "unknown command '{other}'\n{CONTINUE_USAGE}\n{SCORE_USAGE}\n{EVAL_USAGE}\n{LEARN_USAGE}"
        )),
    };
    match result {
        Ok(report) => print_report(&report),
        Err(message) => {
            eprintln!("continuo: {message}");
            ExitCode::from(2)
        }
    }
}
