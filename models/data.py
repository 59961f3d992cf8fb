"""The training data: extracted melodies → canonical melodies → tokens, split by piece.

The split is deterministic: a piece (a tune, or all voices of one chorale or mass movement) goes
to test if sha1(piece id) mod 100 < 5, to validation if < 10, else to train. The test pieces are
listed in `splits/test.txt` and are never trained on.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import os

import numpy as np

import tokens as T
from split import split_of  # noqa: F401 (part of this module's interface)

HERE = Path(__file__).resolve().parent
# CONTINUO_MODELS_CACHE points the pipeline at another cache (tests use a small one).
CACHE = Path(os.environ.get("CONTINUO_MODELS_CACHE", HERE / "cache"))
SPLITS = HERE / "splits"




DATA = HERE / "data"


def load_extracted() -> list[dict]:
    with gzip.open(DATA / "melodies.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def build(write_split_lists: bool = True) -> dict:
    """Canonical melodies by split, with their tokens. Cached in cache/tokens.npz."""
    melodies = {"train": [], "val": [], "test": []}
    dropped = 0
    for extracted in load_extracted():
        try:
            melody = T.canonical(extracted)
        except T.TokenError:
            dropped += 1
            continue
        if len(melody["notes"]) < 8:
            dropped += 1
            continue
        melody["id"] = extracted["id"]
        melody["piece"] = extracted["piece"]
        melodies[split_of(extracted["piece"])].append(melody)
    if write_split_lists and CACHE == HERE / "cache":
        SPLITS.mkdir(exist_ok=True)
        for name in ("val", "test"):
            pieces = sorted({m["piece"] for m in melodies[name]})
            (SPLITS / f"{name}.txt").write_text("\n".join(pieces) + "\n")
    return {"melodies": melodies, "dropped": dropped}


class Corpus:
    """Tokenized melodies of one split, with the index of each bar's BAR token."""

    def __init__(self, melodies: list[dict]):
        self.melodies = melodies
        self.tokens = [np.array(T.encode(m), dtype=np.int64) for m in melodies]
        self.styles = [m["style"] for m in melodies]
        self.bar_positions = [np.flatnonzero(t == T.BAR) for t in self.tokens]
        self.meter_at_bar = []
        for m, bars in zip(melodies, self.bar_positions):
            changes = {b: (n, d) for b, n, d in m["meters"]}
            current = changes[0]
            per_bar = []
            for bar in range(len(bars)):
                current = changes.get(bar, current)
                per_bar.append(T.ts_token(*current))
            self.meter_at_bar.append(per_bar)
        self.mean_pitch = [sum(n[2] for n in m["notes"]) / len(m["notes"]) for m in melodies]
        self.pitch_range = [
            (min(n[2] for n in m["notes"]), max(n[2] for n in m["notes"])) for m in melodies
        ]

    def __len__(self) -> int:
        return len(self.melodies)

    def total_tokens(self) -> int:
        return sum(len(t) for t in self.tokens)

    def window(self, i: int, bar: int, context: int, shift: int = 0) -> np.ndarray:
        """Melody i from `bar` on, as the model sees it: [BOS] STYLE TS BAR ..., at most
        `context` tokens, transposed by `shift` semitones."""
        tokens = self.tokens[i]
        if bar == 0:
            window = tokens[: context]
        else:
            start = self.bar_positions[i][bar]
            header = np.array([tokens[1], self.meter_at_bar[i][bar]], dtype=np.int64)
            # (A meter change at this bar also keeps its TS after the BAR: harmless repetition.)
            body = tokens[start : start + context - 2]
            window = np.concatenate([header, body])
        window = window[:context]
        if shift:
            window = window.copy()
            pitches = (window >= T.PITCH_BASE) & (window < T.PITCH_BASE + 128)
            window[pitches] += shift
        return window
