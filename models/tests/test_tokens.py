"""The tokenizer: golden vectors, exact round trips, grammar errors, and the extraction rules."""

import gzip
import json
from pathlib import Path

import pytest

import data
import tokens as T

MODELS = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((MODELS / "golden" / "tokens.json").read_text())


def test_golden_vectors_match_the_tokenizer():
    assert GOLDEN["vocab"] == T.VOCAB
    assert GOLDEN["vocab_size"] == len(T.VOCAB) == 582
    # Model v2 only added tokens: every v1 id means what it meant.
    assert T.V1_VOCAB_SIZE == 581 and T.VOCAB[T.ANY_STYLE] == "STYLE_any"
    assert T.ANY_STYLE >= T.V1_VOCAB_SIZE
    for case in GOLDEN["cases"]:
        assert T.encode(case["melody"]) == case["tokens"], case["name"]
        assert T.decode(case["tokens"]) == case["melody"], case["name"]


@pytest.mark.parametrize(
    "tokens, message",
    [
        ([T.BOS, T.BAR], "STYLE"),
        ([T.STYLE_BASE, T.BAR], "TS"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.POS_BASE, T.PITCH_BASE, T.DUR_BASE], "before the first BAR"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.BAR, T.POS_BASE + 48, T.PITCH_BASE, T.DUR_BASE], "beyond the end"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.BAR, T.POS_BASE + 5, T.PITCH_BASE, T.DUR_BASE,
          T.POS_BASE + 5, T.PITCH_BASE, T.DUR_BASE], "increase"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.BAR, T.POS_BASE, T.DUR_BASE, T.PITCH_BASE], "followed by PITCH"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.BAR, T.POS_BASE, T.PITCH_BASE], "truncated"),
        ([T.STYLE_BASE, T.ts_token(4, 4), T.BAR, T.PITCH_BASE], "unexpected"),
    ],
)
def test_grammar_violations_are_reported(tokens, message):
    with pytest.raises(T.TokenError, match=message):
        T.decode(tokens)


def test_unsupported_meters_are_refused():
    with pytest.raises(T.TokenError):
        T.canonical({"style": "folk", "bars": [[0, 13, 8]], "notes": [[0, 6, 60]]})
    with pytest.raises(T.TokenError):
        T.canonical({"style": "folk", "bars": [[0, 3, 32]], "notes": [[0, 6, 60]]})


def test_canonical_moves_irregular_measures_onto_the_grid():
    # A short second measure (2 beats of a 4/4 bar): its notes keep their place in the measure.
    extracted = {
        "style": "folk",
        "bars": [[0, 4, 4], [48, 4, 4], [72, 4, 4]],
        "notes": [[0, 48, 60], [48, 12, 62], [72, 12, 64]],
    }
    melody = T.canonical(extracted)
    assert melody["notes"] == [[0, 48, 60], [48, 12, 62], [96, 12, 64]]
    assert T.decode(T.encode(melody)) == melody


def test_extraction_rules_on_a_small_tune():
    music21 = pytest.importorskip("music21")
    import extract

    # 3/4 with a one-beat pickup, a grace note, a chord and a tie across the bar line.
    abc = """X:1
T:test
M:3/4
L:1/4
K:C
G | {A}c [ce] d- | d2 B | c3 |]
"""
    score = music21.converter.parse(abc, format="abc")
    melody, reason, stats = extract.melody_of_part(score.parts[0] if score.parts else score)
    assert reason == "too short" and melody is None  # 5 notes < 8
    # Lower the minimum to inspect the notes.
    extract.MIN_NOTES, saved = 1, extract.MIN_NOTES
    try:
        melody, reason, stats = extract.melody_of_part(score.parts[0] if score.parts else score)
    finally:
        extract.MIN_NOTES = saved
    assert stats["grace"] == 1
    # Pickup G at the last beat of bar 0 (tick 24 of 36); C, the chord's top E, then D tied
    # over the bar line (12 + 24 ticks), B, and a dotted-half C.
    assert melody["notes"] == [
        [24, 12, 67],
        [36, 12, 72],
        [48, 12, 76],
        [60, 36, 74],
        [96, 12, 71],
        [108, 36, 72],
    ]
    assert [b[1:] for b in melody["bars"]] == [[3, 4]] * 4
    assert [b[0] for b in melody["bars"]] == [0, 36, 72, 108]


CORPUS = data.DATA / "melodies.jsonl.gz"


def test_round_trip_over_the_whole_corpus():
    checked = dropped = 0
    with gzip.open(CORPUS, "rt") as f:
        for line in f:
            extracted = json.loads(line)
            try:
                melody = T.canonical(extracted)
            except T.TokenError:
                dropped += 1
                continue
            assert T.decode(T.encode(melody)) == melody, extracted["id"]
            checked += 1
    assert checked > 10_000
    assert dropped < checked * 0.02
