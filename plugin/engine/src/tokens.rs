//! The melody model's token vocabulary, identical to `models/tokens.py` (spec in
//! `models/TOKENS.md`) and tested against the golden vectors in `models/golden/tokens.json`.
//!
//! `[BOS] STYLE TS (BAR [TS] (POS PITCH DUR)*)* [EOS]`, 12 ticks per beat, positions 0..191 ticks
//! into a bar, durations 1..192 ticks.

use crate::generator::Style;
use crate::phrase::{Note, TimeSignature};

/// Padding (never generated).
pub const PAD: u32 = 0;
/// Beginning of a melody.
pub const BOS: u32 = 1;
/// End of a melody.
pub const EOS: u32 = 2;
/// A bar line.
pub const BAR: u32 = 3;
/// The first style token (one per trained style, in `STYLES` order).
pub const STYLE_BASE: u32 = 4;
/// The trained styles, in vocabulary order (Auto is not a token: the engine picks one of these).
pub const STYLES: [Style; 5] = [
    Style::Folk,
    Style::Celtic,
    Style::Chorale,
    Style::Renaissance,
    Style::ChineseFolk,
];
/// The first time-signature token (numerator-major, then denominator).
pub const TS_BASE: u32 = STYLE_BASE + 5;
/// Numerators a time-signature token can carry.
pub const NUMERATORS: std::ops::RangeInclusive<u8> = 1..=12;
/// Denominators a time-signature token can carry.
pub const DENOMINATORS: [u8; 5] = [1, 2, 4, 8, 16];
/// The first position token (ticks into the bar).
pub const POS_BASE: u32 = TS_BASE + 12 * 5;
/// Positions per bar the vocabulary holds (16 beats of 12 ticks).
pub const MAX_POSITION: u32 = 192;
/// The first pitch token (MIDI key 0).
pub const PITCH_BASE: u32 = POS_BASE + MAX_POSITION;
/// The first duration token (1 tick).
pub const DUR_BASE: u32 = PITCH_BASE + 128;
/// The longest duration a token can carry, in ticks.
pub const MAX_DURATION: u32 = 192;
/// The number of token ids of model v1 (every later vocabulary keeps these ids).
pub const V1_VOCAB_SIZE: u32 = DUR_BASE + MAX_DURATION;
/// "Any style" (model v2): the style token training put in place of the real one part of the
/// time, so that the model's prediction without a style can be set against the one with it
/// (classifier-free guidance). A v1 model does not have it.
pub const ANY_STYLE: u32 = V1_VOCAB_SIZE;
/// The number of token ids.
pub const VOCAB_SIZE: u32 = ANY_STYLE + 1;

/// What kind of token an id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Padding.
    Pad,
    /// Beginning of a melody.
    Bos,
    /// End of a melody.
    Eos,
    /// A bar line.
    Bar,
    /// The melody's style.
    Style(Style),
    /// No particular style (model v2's unconditioned token).
    AnyStyle,
    /// A meter (at the start, or after a bar line where it changes).
    TimeSignature(TimeSignature),
    /// A note's onset, in ticks from the bar line.
    Position(u32),
    /// A note's MIDI key.
    Pitch(u8),
    /// A note's duration in ticks.
    Duration(u32),
}

/// Why tokens could not be produced or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

fn error<T>(message: impl Into<String>) -> Result<T, TokenError> {
    Err(TokenError(message.into()))
}

/// The token of a trained style (Auto has none).
pub fn style_token(style: Style) -> Result<u32, TokenError> {
    match STYLES.iter().position(|&s| s == style) {
        Some(index) => Ok(STYLE_BASE + index as u32),
        None => error("Auto is not a style token"),
    }
}

/// The token of a time signature the vocabulary holds.
pub fn time_signature_token(ts: TimeSignature) -> Result<u32, TokenError> {
    let denominator = DENOMINATORS.iter().position(|&d| d == ts.denominator);
    match denominator {
        Some(d) if NUMERATORS.contains(&ts.numerator) => {
            Ok(TS_BASE + (ts.numerator as u32 - 1) * 5 + d as u32)
        }
        _ => error(format!(
            "unsupported time signature {}/{}",
            ts.numerator, ts.denominator
        )),
    }
}

/// Classifies a token id.
pub fn token(id: u32) -> Result<Token, TokenError> {
    Ok(match id {
        PAD => Token::Pad,
        BOS => Token::Bos,
        EOS => Token::Eos,
        BAR => Token::Bar,
        id if id < TS_BASE => Token::Style(STYLES[(id - STYLE_BASE) as usize]),
        id if id < POS_BASE => {
            let index = id - TS_BASE;
            Token::TimeSignature(TimeSignature {
                numerator: (index / 5 + 1) as u8,
                denominator: DENOMINATORS[(index % 5) as usize],
            })
        }
        id if id < PITCH_BASE => Token::Position(id - POS_BASE),
        id if id < DUR_BASE => Token::Pitch((id - PITCH_BASE) as u8),
        id if id < V1_VOCAB_SIZE => Token::Duration(id - DUR_BASE + 1),
        ANY_STYLE => Token::AnyStyle,
        _ => return error(format!("token {id} is outside the vocabulary")),
    })
}

/// A melody as the model sees it: a style, meter changes by bar, and notes on the nominal bar
/// grid (bar k starts at the sum of the lengths of the bars before it).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMelody {
    /// The melody's style (None: any style, model v2's unconditioned token).
    pub style: Option<Style>,
    /// (bar index, time signature), the first at bar 0.
    pub meters: Vec<(u32, TimeSignature)>,
    /// Sorted by onset, one note per onset.
    pub notes: Vec<Note>,
}

/// (start tick, time signature) of bars `0..bars`.
fn bar_starts(
    meters: &[(u32, TimeSignature)],
    bars: u32,
) -> Result<Vec<(u32, TimeSignature)>, TokenError> {
    let Some(&(0, mut current)) = meters.first() else {
        return error("the first meter must be at bar 0");
    };
    let mut tick = 0;
    let mut out = Vec::with_capacity(bars as usize);
    for bar in 0..bars {
        if let Some(&(_, ts)) = meters.iter().find(|(b, _)| *b == bar) {
            current = ts;
        }
        out.push((tick, current));
        tick += current.bar_ticks();
    }
    Ok(out)
}

fn bar_of(tick: u32, meters: &[(u32, TimeSignature)]) -> Result<u32, TokenError> {
    let Some(&(0, mut current)) = meters.first() else {
        return error("the first meter must be at bar 0");
    };
    let (mut bar, mut start) = (0u32, 0u32);
    loop {
        if let Some(&(_, ts)) = meters.iter().find(|(b, _)| *b == bar) {
            current = ts;
        }
        if tick < start + current.bar_ticks() {
            return Ok(bar);
        }
        start += current.bar_ticks();
        bar += 1;
    }
}

/// Tokens of a melody (see the module documentation).
pub fn encode(
    melody: &TokenMelody,
    with_bos: bool,
    with_eos: bool,
) -> Result<Vec<u32>, TokenError> {
    let bars = match melody.notes.last() {
        Some(last) => bar_of(last.start, &melody.meters)? + 1,
        None => 1,
    };
    let starts = bar_starts(&melody.meters, bars)?;
    let mut tokens = Vec::with_capacity(3 + bars as usize + melody.notes.len() * 3);
    if with_bos {
        tokens.push(BOS);
    }
    tokens.push(match melody.style {
        Some(style) => style_token(style)?,
        None => ANY_STYLE,
    });
    tokens.push(time_signature_token(starts[0].1)?);
    let mut notes = melody.notes.iter().peekable();
    for (bar, &(start, ts)) in starts.iter().enumerate() {
        tokens.push(BAR);
        if bar > 0 && melody.meters.iter().any(|(b, _)| *b == bar as u32) {
            tokens.push(time_signature_token(ts)?);
        }
        let end = start + ts.bar_ticks();
        while let Some(note) = notes.next_if(|n| n.start < end) {
            let position = note.start - start;
            if position >= MAX_POSITION {
                return error(format!(
                    "note at tick {} is outside the position range",
                    note.start
                ));
            }
            if !(1..=MAX_DURATION).contains(&note.duration) {
                return error(format!(
                    "duration {} outside 1..{MAX_DURATION}",
                    note.duration
                ));
            }
            if note.pitch > 127 {
                return error(format!("pitch {} outside 0..127", note.pitch));
            }
            tokens.extend([
                POS_BASE + position,
                PITCH_BASE + note.pitch as u32,
                DUR_BASE + note.duration - 1,
            ]);
        }
    }
    if with_eos {
        tokens.push(EOS);
    }
    Ok(tokens)
}

/// The melody of a token sequence (velocity 100 for every note); errors on a grammar violation.
pub fn decode(tokens: &[u32]) -> Result<TokenMelody, TokenError> {
    let mut i = 0;
    if tokens.first() == Some(&BOS) {
        i += 1;
    }
    let style = match tokens.get(i).map(|&t| token(t)).transpose()? {
        Some(Token::Style(style)) => Some(style),
        Some(Token::AnyStyle) => None,
        _ => return error("expected a STYLE token"),
    };
    i += 1;
    let mut ts = match tokens.get(i).map(|&t| token(t)).transpose()? {
        Some(Token::TimeSignature(ts)) => ts,
        _ => return error("expected a TS token"),
    };
    i += 1;
    let mut meters = vec![(0, ts)];
    let mut notes = Vec::new();
    let mut bar: i64 = -1;
    let (mut bar_start, mut bar_length) = (0u32, 0u32);
    let mut last_position: i64 = -1;
    while i < tokens.len() {
        match token(tokens[i])? {
            Token::Eos => break,
            Token::Bar => {
                if bar >= 0 {
                    bar_start += bar_length;
                }
                bar += 1;
                bar_length = ts.bar_ticks();
                last_position = -1;
                i += 1;
                if let Some(Ok(Token::TimeSignature(next))) = tokens.get(i).map(|&t| token(t)) {
                    if bar == 0 {
                        return error("a meter change in the first bar");
                    }
                    ts = next;
                    meters.push((bar as u32, ts));
                    bar_length = ts.bar_ticks();
                    i += 1;
                }
            }
            Token::Position(position) => {
                if bar < 0 {
                    return error("a note before the first BAR");
                }
                if i + 2 >= tokens.len() {
                    return error("a truncated note");
                }
                let (Token::Pitch(pitch), Token::Duration(duration)) =
                    (token(tokens[i + 1])?, token(tokens[i + 2])?)
                else {
                    return error("POS must be followed by PITCH and DUR");
                };
                if position as i64 <= last_position {
                    return error("positions must increase within a bar");
                }
                if position >= bar_length {
                    return error("a position beyond the end of the bar");
                }
                last_position = position as i64;
                notes.push(Note {
                    start: bar_start + position,
                    duration,
                    pitch,
                    velocity: 100,
                });
                i += 3;
            }
            other => return error(format!("unexpected {other:?}")),
        }
    }
    Ok(TokenMelody {
        style,
        meters,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden file shared with the Python tokenizer.
    fn golden() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/golden/tokens.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).unwrap()
    }

    fn melody_of(value: &serde_json::Value) -> TokenMelody {
        let style = match value["style"].as_str().unwrap() {
            "any" => None,
            id => Some(Style::from_id(id).unwrap()),
        };
        let meters = value["meters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let m: Vec<i64> = m
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect();
                (
                    m[0] as u32,
                    TimeSignature::sanitized(m[1] as i32, m[2] as i32),
                )
            })
            .collect();
        let notes = value["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let n: Vec<i64> = n
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect();
                Note {
                    start: n[0] as u32,
                    duration: n[1] as u32,
                    pitch: n[2] as u8,
                    velocity: 100,
                }
            })
            .collect();
        TokenMelody {
            style,
            meters,
            notes,
        }
    }

    #[test]
    fn the_vocabulary_matches_python() {
        let golden = golden();
        assert_eq!(golden["vocab_size"].as_u64(), Some(VOCAB_SIZE as u64));
        let names = golden["vocab"].as_array().unwrap();
        for (id, name) in names.iter().enumerate() {
            let name = name.as_str().unwrap();
            let ours = match token(id as u32).unwrap() {
                Token::Pad => "PAD".to_string(),
                Token::Bos => "BOS".to_string(),
                Token::Eos => "EOS".to_string(),
                Token::Bar => "BAR".to_string(),
                Token::Style(s) => format!("STYLE_{}", s.id()),
                Token::AnyStyle => "STYLE_any".to_string(),
                Token::TimeSignature(ts) => format!("TS_{}/{}", ts.numerator, ts.denominator),
                Token::Position(p) => format!("POS_{p}"),
                Token::Pitch(p) => format!("PITCH_{p}"),
                Token::Duration(d) => format!("DUR_{d}"),
            };
            assert_eq!(ours, name, "token {id}");
        }
        assert!(token(VOCAB_SIZE).is_err());
    }

    #[test]
    fn golden_vectors_encode_and_decode_exactly() {
        for case in golden()["cases"].as_array().unwrap() {
            let melody = melody_of(&case["melody"]);
            let expected: Vec<u32> = case["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_u64().unwrap() as u32)
                .collect();
            let name = case["name"].as_str().unwrap();
            assert_eq!(encode(&melody, true, true).unwrap(), expected, "{name}");
            assert_eq!(decode(&expected).unwrap(), melody, "{name}");
        }
    }

    #[test]
    fn grammar_violations_are_errors() {
        let four = time_signature_token(TimeSignature::default()).unwrap();
        let folk = style_token(Style::Folk).unwrap();
        for (tokens, what) in [
            (vec![BOS, BAR], "STYLE"),
            (vec![folk, BAR], "TS"),
            (
                vec![folk, four, POS_BASE, PITCH_BASE, DUR_BASE],
                "before the first BAR",
            ),
            (
                vec![folk, four, BAR, POS_BASE + 48, PITCH_BASE, DUR_BASE],
                "beyond the end",
            ),
            (
                vec![folk, four, BAR, POS_BASE, DUR_BASE, PITCH_BASE],
                "followed by PITCH",
            ),
            (vec![folk, four, BAR, POS_BASE, PITCH_BASE], "truncated"),
            (
                vec![folk, four, BAR, VOCAB_SIZE + 3],
                "outside the vocabulary",
            ),
        ] {
            let message = decode(&tokens).unwrap_err().to_string();
            assert!(message.contains(what), "{what}: {message}");
        }
        assert!(style_token(Style::Auto).is_err());
        assert!(time_signature_token(TimeSignature::sanitized(13, 8)).is_err());
    }
}
