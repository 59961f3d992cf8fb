"""Continuo's event vocabulary for monophonic melody in musical time (see TOKENS.md).

A melody is `{"style": str, "meters": [[bar, num, den], ...], "notes": [[start, dur, pitch], ...]}`
with ticks on a 12-per-quarter grid and bar k starting at the sum of the nominal lengths of the
bars before it. `canonical()` brings an extracted melody to that form; `encode()` and `decode()`
are exact inverses on canonical melodies.
"""

from __future__ import annotations

TICKS_PER_BEAT = 12
STYLES = ["folk", "celtic", "chorale", "renaissance", "chinese-folk"]
NUMERATORS = list(range(1, 13))
DENOMINATORS = [1, 2, 4, 8, 16]
MAX_POSITION = 192  # positions 0..191 ticks into a bar (up to 4/1 or 8/2)
MAX_DURATION = 192  # durations 1..192 ticks; longer notes are clamped

SPECIAL = ["PAD", "BOS", "EOS", "BAR"]
ANY_STYLE_NAME = "STYLE_any"
# The vocabulary of model v1 (the ids every later vocabulary keeps).
V1_VOCAB_SIZE = 581


def _build_vocabulary() -> list[str]:
    names = list(SPECIAL)
    names += [f"STYLE_{s}" for s in STYLES]
    names += [f"TS_{n}/{d}" for n in NUMERATORS for d in DENOMINATORS]
    names += [f"POS_{p}" for p in range(MAX_POSITION)]
    names += [f"PITCH_{p}" for p in range(128)]
    names += [f"DUR_{d}" for d in range(1, MAX_DURATION + 1)]
    # Added by model v2, after every v1 id so that v1's ids stay valid: the style token of
    # "any style", which training puts in place of the real one part of the time, so that the
    # engine can guide by style (classifier-free guidance: conditioned against unconditioned).
    names += [ANY_STYLE_NAME]
    return names


VOCAB = _build_vocabulary()
INDEX = {name: i for i, name in enumerate(VOCAB)}
PAD, BOS, EOS, BAR = (INDEX[n] for n in SPECIAL)
STYLE_BASE = INDEX["STYLE_folk"]
TS_BASE = INDEX[f"TS_{NUMERATORS[0]}/{DENOMINATORS[0]}"]
POS_BASE = INDEX["POS_0"]
PITCH_BASE = INDEX["PITCH_0"]
DUR_BASE = INDEX["DUR_1"]
ANY_STYLE = INDEX[ANY_STYLE_NAME]


class TokenError(ValueError):
    """A melody that cannot be tokenized, or tokens that do not decode."""


def bar_ticks(num: int, den: int) -> int:
    ticks = num * 4 * TICKS_PER_BEAT / den
    if ticks != int(ticks):
        raise TokenError(f"{num}/{den} is finer than the grid")
    return int(ticks)


def ts_token(num: int, den: int) -> int:
    name = f"TS_{num}/{den}"
    if name not in INDEX:
        raise TokenError(f"unsupported time signature {num}/{den}")
    return INDEX[name]


def kind(token: int) -> str:
    """The class of a token: PAD BOS EOS BAR STYLE TS POS PITCH DUR."""
    name = VOCAB[token]
    return name.split("_")[0] if "_" in name else name


def bar_starts(meters: list[list[int]], n_bars: int) -> list[tuple[int, int, int]]:
    """(start tick, num, den) of bars 0..n_bars-1 from meter changes [[bar, num, den], ...]."""
    changes = {bar: (num, den) for bar, num, den in meters}
    if 0 not in changes:
        raise TokenError("the first meter must be at bar 0")
    out = []
    tick = 0
    current = changes[0]
    for bar in range(n_bars):
        current = changes.get(bar, current)
        out.append((tick, current[0], current[1]))
        tick += bar_ticks(*current)
    return out


def canonical(extracted: dict) -> dict:
    """An extracted melody (`bars` with actual measure starts) on the nominal bar grid.

    Notes keep their position within their measure; meters are run-length coded; notes that do
    not fit a bar's nominal length or the position range are dropped; durations are clamped.
    Raises TokenError for unsupported meters.
    """
    bars = extracted["bars"]
    meters: list[list[int]] = []
    for index, (_, num, den) in enumerate(bars):
        ts_token(num, den)
        bar_ticks(num, den)
        if not meters or meters[-1][1:] != [num, den]:
            meters.append([index, num, den])
    actual = [b[0] for b in bars]
    nominal = [start for start, _, _ in bar_starts(meters, len(bars))]
    notes = []
    import bisect

    for start, duration, pitch in extracted["notes"]:
        bar = bisect.bisect_right(actual, start) - 1
        if bar < 0:
            continue
        position = start - actual[bar]
        length = bar_ticks(bars[bar][1], bars[bar][2])
        if position >= length or position >= MAX_POSITION:
            continue
        notes.append([nominal[bar] + position, min(max(duration, 1), MAX_DURATION), pitch])
    # Re-apply the monophonic rule after moving notes (irregular measures can make overlaps).
    notes.sort(key=lambda n: (n[0], -n[2]))
    line: list[list[int]] = []
    for note in notes:
        if line and line[-1][0] == note[0]:
            continue
        line.append(note)
    # Trim meters to the bars that are used.
    if line:
        n_bars = _bar_of(line[-1][0], meters) + 1
    else:
        n_bars = 1
    meters = [m for m in meters if m[0] < n_bars]
    return {"style": extracted["style"], "meters": meters, "notes": line}


def _bar_of(tick: int, meters: list[list[int]]) -> int:
    bar, start = 0, 0
    changes = {b: (n, d) for b, n, d in meters}
    current = changes[0]
    while True:
        current = changes.get(bar, current)
        length = bar_ticks(*current)
        if tick < start + length:
            return bar
        start += length
        bar += 1


def encode(melody: dict, with_bos: bool = True, with_eos: bool = True) -> list[int]:
    """Tokens of a canonical melody: [BOS] STYLE TS (BAR [TS] (POS PITCH DUR)*)* [EOS]."""
    meters = melody["meters"]
    notes = melody["notes"]
    n_bars = _bar_of(notes[-1][0], meters) + 1 if notes else 1
    starts = bar_starts(meters, n_bars)
    changes = {b: (n, d) for b, n, d in meters}
    tokens = [BOS] if with_bos else []
    style = melody["style"]
    tokens.append(ANY_STYLE if style == "any" else STYLE_BASE + STYLES.index(style))
    tokens.append(ts_token(*changes[0]))
    note_index = 0
    for bar, (start, num, den) in enumerate(starts):
        tokens.append(BAR)
        if bar > 0 and bar in changes:
            tokens.append(ts_token(num, den))
        end = start + bar_ticks(num, den)
        while note_index < len(notes) and notes[note_index][0] < end:
            note_start, duration, pitch = notes[note_index]
            position = note_start - start
            if not 0 <= position < MAX_POSITION:
                raise TokenError(f"note at tick {note_start} is outside the position range")
            if not 1 <= duration <= MAX_DURATION:
                raise TokenError(f"duration {duration} outside 1..{MAX_DURATION}")
            if not 0 <= pitch <= 127:
                raise TokenError(f"pitch {pitch} outside 0..127")
            tokens += [POS_BASE + position, PITCH_BASE + pitch, DUR_BASE + duration - 1]
            note_index += 1
    if with_eos:
        tokens.append(EOS)
    return tokens


def decode(tokens: list[int]) -> dict:
    """The canonical melody of a token sequence; raises TokenError on a grammar violation."""
    it = list(tokens)
    i = 0
    if i < len(it) and it[i] == BOS:
        i += 1
    if i >= len(it) or kind(it[i]) != "STYLE":
        raise TokenError("expected a STYLE token")
    style = "any" if it[i] == ANY_STYLE else STYLES[it[i] - STYLE_BASE]
    i += 1
    if i >= len(it) or kind(it[i]) != "TS":
        raise TokenError("expected a TS token")
    num, den = map(int, VOCAB[it[i]][3:].split("/"))
    i += 1
    meters = [[0, num, den]]
    notes: list[list[int]] = []
    bar = -1
    bar_start = 0
    bar_length = 0
    last_position = -1
    while i < len(it):
        token = it[i]
        k = kind(token)
        if k == "EOS":
            break
        if k == "BAR":
            if bar >= 0:
                bar_start += bar_length
            bar += 1
            bar_length = bar_ticks(num, den)
            last_position = -1
            i += 1
            if i < len(it) and kind(it[i]) == "TS":
                if bar == 0:
                    raise TokenError("a meter change in the first bar")
                num, den = map(int, VOCAB[it[i]][3:].split("/"))
                meters.append([bar, num, den])
                bar_length = bar_ticks(num, den)
                i += 1
            continue
        if k == "POS":
            if bar < 0:
                raise TokenError("a note before the first BAR")
            if i + 2 >= len(it):
                raise TokenError("a truncated note")
            position = token - POS_BASE
            pitch_token, duration_token = it[i + 1], it[i + 2]
            if kind(pitch_token) != "PITCH" or kind(duration_token) != "DUR":
                raise TokenError("POS must be followed by PITCH and DUR")
            if position <= last_position:
                raise TokenError("positions must increase within a bar")
            if position >= bar_length:
                raise TokenError("a position beyond the end of the bar")
            last_position = position
            notes.append([bar_start + position, duration_token - DUR_BASE + 1, pitch_token - PITCH_BASE])
            i += 3
            continue
        raise TokenError(f"unexpected {VOCAB[token]}")
    return {"style": style, "meters": meters, "notes": notes}
