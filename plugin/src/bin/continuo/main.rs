//! `continuo`: the plugin's engine offline, on MIDI files.
//!
//! ```text
//! continuo continue IN.mid --bars N [--prompt-bars M] [--style S] [--temperature T]
//!                          [--seed X] [--track K] -o OUT.mid
//! ```
//!
//! Reads the melody (the top voice of all tracks, or of `--track`), continues its last M bars by
//! N bars and writes the prompt and the continuation (on its own track) at the file's tempo and
//! meter. Prints an ASCII piano roll of the continuation and the generation time. Bad input gives
//! one line on stderr, exit status 2 and no output file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use continuo::generator::{GenerationRequest, Generator, Melody, Style};
use continuo::markov::MarkovGenerator;
use continuo::midi_file::{self, TrackOut};
use continuo::neural::NeuralGenerator;
use continuo::params::{MAX_LENGTH_BARS, MAX_TEMPERATURE, MIN_TEMPERATURE};
use continuo::pianoroll;
use continuo::score;

const USAGE: &str = "usage: continuo score IN.mid --prompt-bars M [--generator neural|markov] [--style S] [--track K]\n       continuo continue IN.mid --bars N [--prompt-bars M] [--style auto|folk|celtic|chorale|renaissance|chinese-folk] [--temperature T] [--seed X] [--track K] [--generator neural|markov] -o OUT.mid";

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
    seed: u64,
    track: Option<usize>,
    generator: Choice,
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
    let mut seed = 1u64;
    let mut track = None;
    let mut generator = Choice::Default;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bars" => bars = Some(parse_number::<u32>("--bars", args.next())?),
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
    if bars == 0 || bars > MAX_LENGTH_BARS as u32 {
        return Err(format!("--bars must be between 1 and {MAX_LENGTH_BARS}"));
    }
    if prompt_bars == Some(0) {
        return Err("--prompt-bars must be at least 1".into());
    }
    if !(temperature.is_finite() && (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&temperature)) {
        return Err(format!(
            "--temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}"
        ));
    }
    Ok(ContinueArgs {
        input: input.ok_or("an input .mid file is required")?,
        output: output.ok_or("an output path (-o OUT.mid) is required")?,
        bars,
        prompt_bars,
        style,
        temperature,
        seed,
        track,
        generator,
    })
}

fn run_continue(args: ContinueArgs) -> Result<(), String> {
    let imported = midi_file::read_file(&args.input, args.track)
        .map_err(|e| format!("{}: {e}", args.input.display()))?;
    let ts = imported.melody.time_signature;
    let bar_ticks = ts.bar_ticks();
    let file_bars = imported.bars();
    let prompt_bars = args.prompt_bars.unwrap_or(file_bars);
    if prompt_bars > file_bars {
        return Err(format!(
            "{}: the melody has {file_bars} bars, fewer than --prompt-bars {prompt_bars}",
            args.input.display()
        ));
    }
    // The prompt: the last `prompt_bars` bars, re-based so that tick 0 is its first bar line.
    let prompt_origin = (file_bars - prompt_bars) * bar_ticks;
    let prompt = Melody {
        notes: imported
            .melody
            .notes
            .iter()
            .filter(|n| n.start >= prompt_origin)
            .map(|n| continuo::phrase::Note {
                start: n.start - prompt_origin,
                ..*n
            })
            .collect(),
        time_signature: ts,
    };
    let request = GenerationRequest {
        length_bars: args.bars,
        time_signature: ts,
        style: args.style,
        temperature: args.temperature,
        seed: args.seed,
        start_tick: prompt_bars * bar_ticks,
        pitch_filter: None,
    };
    let mut generator: Box<dyn Generator> = match args.generator {
        Choice::Markov => Box::new(MarkovGenerator::new()),
        Choice::Neural => Box::new(NeuralGenerator::load().map_err(|why| why.to_string())?),
        Choice::Default => match NeuralGenerator::load() {
            Ok(neural) => Box::new(neural),
            Err(why) => {
                eprintln!("continuo: using the Markov fallback: {why}");
                Box::new(MarkovGenerator::new())
            }
        },
    };
    let started = Instant::now();
    let phrase = generator
        .generate(std::slice::from_ref(&prompt), &request)
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();

    let bytes = midi_file::encode(
        &[
            TrackOut {
                name: "Prompt",
                notes: &prompt.notes,
                offset_ticks: 0,
                channel: 0,
            },
            TrackOut {
                name: "Continuo",
                notes: &phrase.notes,
                offset_ticks: request.start_tick,
                channel: 1,
            },
        ],
        imported.tempo,
        ts,
    );
    std::fs::write(&args.output, bytes)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;

    println!(
        "Continuation of {} ({} bars of prompt, {}/{} at {:.0} BPM) by {}:",
        args.input.display(),
        prompt_bars,
        ts.numerator,
        ts.denominator,
        imported.tempo,
        generator.name()
    );
    print!(
        "{}",
        pianoroll::render(&phrase.notes, phrase.length_ticks, ts)
    );
    println!(
        "{} notes in {} bars, generated in {:.2} ms; written to {}",
        phrase.notes.len(),
        args.bars,
        elapsed.as_secs_f64() * 1e3,
        args.output.display()
    );
    Ok(())
}

/// `continuo score IN.mid --prompt-bars M [--generator neural|markov] [--style S] [--track K]`:
/// the teacher-forced NLL of the bars after M, as one JSON object.
fn run_score(mut args: impl Iterator<Item = String>) -> Result<(), String> {
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
            score::neural(&mut neural, melody, prompt_bars, style)?
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
    println!(
        "{{\"file\": {:?}, \"generator\": {:?}, \"prompt_bars\": {prompt_bars}, \"notes\": {}, \"tokens\": {}, \"nll_per_note\": {:.6}, \"nll_per_token\": {}}}",
        input.display().to_string(),
        generator,
        score.notes,
        score.tokens.map_or("null".to_string(), |t| t.to_string()),
        score.nll_per_note,
        number(score.nll_per_token),
    );
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("continue") => parse_continue(args).and_then(run_continue),
        Some("score") => run_score(args),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command '{other}'\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("continuo: {message}");
            ExitCode::from(2)
        }
    }
}
