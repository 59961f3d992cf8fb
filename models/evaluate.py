"""Negative log-likelihood on the held-out splits: the neural model against baselines.

Every model assigns a probability to each note of a test melody given the notes before it, so
the numbers are comparable in nats per note (the first note of each melody, which has no
predecessor, is left out for all). Baselines, trained on the same train split:

- Markov: a variable-order model (orders 0–4, Witten–Bell interpolation) over the plugin's
  Continuator steps — (pitch interval, inter-onset interval, duration) — backed off to uniform;
- unigram: the order-0 part of the same model;
- uniform: every (interval, inter-onset interval, duration) equally likely.

The neural model is also reported per token (all tokens of the melody after the header).
Writes eval.json and prints the Markdown tables for the model card.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch

import data
import tokens as T

HERE = Path(__file__).resolve().parent
MAX_ORDER = 4
INTERVALS = 255  # -127..127
IOIS = 4 * T.MAX_POSITION  # inter-onset intervals 1..768 ticks (longer are clamped)
UNIFORM_LOG = math.log(INTERVALS * IOIS * T.MAX_DURATION)


def steps(melody: dict) -> list[tuple[int, int, int]]:
    notes = melody["notes"]
    return [
        (b[2] - a[2], min(b[0] - a[0], IOIS), b[1])
        for a, b in zip(notes, notes[1:])
    ]


class WittenBell:
    """Variable-order Markov model over steps with Witten–Bell interpolated smoothing."""

    def __init__(self, melodies: list[dict], max_order: int = MAX_ORDER):
        self.max_order = max_order
        self.counts: dict[tuple, Counter] = defaultdict(Counter)
        for melody in melodies:
            s = steps(melody)
            for j, symbol in enumerate(s):
                for k in range(0, min(max_order, j) + 1):
                    self.counts[tuple(s[j - k : j])][symbol] += 1
        self.totals = {ctx: sum(c.values()) for ctx, c in self.counts.items()}

    def log_prob(self, context: list, symbol, max_order: int | None = None) -> float:
        order = self.max_order if max_order is None else max_order
        p = 1.0 / math.exp(UNIFORM_LOG)
        for k in range(0, min(order, len(context)) + 1):
            ctx = tuple(context[len(context) - k :]) if k else ()
            counts = self.counts.get(ctx)
            if not counts:
                break
            distinct = len(counts)
            total = self.totals[ctx]
            p = (counts.get(symbol, 0) + distinct * p) / (total + distinct)
        return math.log(p)


def torch_forward(model):
    """A function from a [1, T] int64 array to [T, V] log-probabilities, with torch."""

    @torch.no_grad()
    def forward(window: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(window[None, :])
        past_k, past_v = model.empty_cache(1)
        logits, _, _ = model(x, past_k, past_v)
        return torch.log_softmax(logits[0].float(), dim=-1).numpy()

    return forward


def onnx_forward(path, layers: int, heads: int, head_dim: int):
    """The same with ONNX Runtime (one thread), for the exported (and quantized) files."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    empty = np.zeros((layers, 1, heads, 0, head_dim), dtype=np.float32)
    feeds = {"past_key": empty, "past_value": empty}
    if "past_length" in {i.name for i in session.get_inputs()}:  # an in-place-cache export
        layer = np.zeros((1, heads, 1, head_dim), dtype=np.float32)  # capacity 1, none valid
        feeds = {i.name: layer for i in session.get_inputs() if i.type == "tensor(float)"}
        feeds["prompt_length"] = feeds["past_length"] = np.array(0, dtype=np.int64)

    def forward(window: np.ndarray) -> np.ndarray:
        logits = session.run(["logits"], {"tokens": window[None, :], **feeds})[0][0]
        logits = logits - logits.max(axis=-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))

    return forward


def neural_nll(forward, melody: dict, context: int = 512) -> tuple[np.ndarray, list[str], int]:
    """Per-token NLL of a melody's tokens (index 0, BOS, has none), scored with windows that
    restart at bar lines (with a STYLE/TS header, as in training) when the melody is longer than
    the context; every token is scored once, with at least half a context before it."""
    tokens = np.array(T.encode(melody), dtype=np.int64)
    nll = np.full(len(tokens), np.nan)
    corpus = data.Corpus([melody])
    bars = corpus.bar_positions[0]
    scored_to = 1
    bar = 0
    while scored_to < len(tokens):
        if bar == 0:
            window, offset = tokens[:context], 0
        else:
            # Header of 2 (STYLE, TS), then the melody from this bar's BAR token on.
            window, offset = corpus.window(0, bar, context), bars[bar] - 2
        logp = forward(window)
        first = 1 if bar == 0 else 3  # never score the synthetic header
        for w in range(first, len(window)):
            position = offset + w
            if position >= scored_to:
                nll[position] = -logp[w - 1, window[w]]
        reached = offset + len(window)
        if reached >= len(tokens):
            break
        scored_to = reached
        # The next window starts at the last bar line at least half a context before scored_to.
        candidates = [b for b in range(bar + 1, len(bars)) if bars[b] <= scored_to - context // 2]
        bar = candidates[-1] if candidates else bar + 1
    kinds = [T.kind(int(t)) for t in tokens]
    return nll, kinds, len(melody["notes"])


def melody_note_nll(forward, melody: dict) -> tuple[float, int, float, int]:
    """(note NLL sum, notes scored, token NLL sum, tokens scored) of one melody."""
    nll, kinds, n_notes = neural_nll(forward, melody)
    first_dur = kinds.index("DUR")
    note_part = [v for i, (v, k) in enumerate(zip(nll, kinds)) if i > first_dur and k != "EOS"]
    scored = nll[1:]
    scored = scored[~np.isnan(scored)]
    return float(np.nansum(note_part)), n_notes - 1, float(scored.sum()), len(scored)


def summarize(values: dict[str, list[float]], counts: dict[str, int]) -> dict:
    return {style: v / max(counts[style], 1) for style, v in values.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="another checkpoint than cache/checkpoint.pt")
    parser.add_argument("--out", default=None, help="where to write the JSON (default eval.json)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    built = data.build(write_split_lists=False)
    melodies = built["melodies"]
    evaluated = melodies[args.split][: args.limit or None]

    markov = WittenBell(melodies["train"])
    per_note = {name: defaultdict(float) for name in ("neural", "markov", "unigram", "uniform")}
    notes = defaultdict(int)
    token_nll = defaultdict(float)
    token_count = defaultdict(int)

    from export import load_model

    model = load_model(args.checkpoint)
    forward = torch_forward(model)
    for melody in evaluated:
        style = melody["style"]
        s = steps(melody)
        notes[style] += len(s)
        notes["all"] += len(s)
        for j, symbol in enumerate(s):
            context = s[max(0, j - MAX_ORDER) : j]
            for name, value in (
                ("markov", -markov.log_prob(context, symbol)),
                ("unigram", -markov.log_prob([], symbol, max_order=0)),
                ("uniform", UNIFORM_LOG),
            ):
                per_note[name][style] += value
                per_note[name]["all"] += value
        nll, kinds, _ = neural_nll(forward, melody)
        first_dur = kinds.index("DUR")
        note_part = [
            v for i, (v, k) in enumerate(zip(nll, kinds)) if i > first_dur and k != "EOS"
        ]
        total_note = float(np.nansum(note_part))
        per_note["neural"][style] += total_note
        per_note["neural"]["all"] += total_note
        scored = nll[1:]
        scored = scored[~np.isnan(scored)]
        token_nll[style] += float(scored.sum())
        token_nll["all"] += float(scored.sum())
        token_count[style] += len(scored)
        token_count["all"] += len(scored)

    result = {
        "split": args.split,
        "melodies": len(evaluated),
        "notes_scored": dict(notes),
        "nll_per_note": {name: summarize(v, notes) for name, v in per_note.items()},
        "neural_nll_per_token": {s: token_nll[s] / token_count[s] for s in token_nll},
        "tokens_scored": dict(token_count),
    }
    out = Path(args.out) if args.out else HERE / ("eval.json" if args.split == "test" else f"eval-{args.split}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    styles = ["all"] + [s for s in T.STYLES if s in notes]
    print(f"| nats per note ({args.split}) | " + " | ".join(styles) + " |")
    print("|---|" + "---|" * len(styles))
    for name in ("neural", "markov", "unigram", "uniform"):
        row = result["nll_per_note"][name]
        print(f"| {name} | " + " | ".join(f"{row[s]:.3f}" for s in styles) + " |")
    row = result["neural_nll_per_token"]
    print("| neural, per token | " + " | ".join(f"{row[s]:.3f}" for s in styles) + " |")
    print("| notes scored | " + " | ".join(str(notes[s]) for s in styles) + " |")


if __name__ == "__main__":
    main()
