"""Writes README.md, the model card, from the results files (eval.json, eval-val.json,
continuo-melody.json, data/extraction-summary.json, cache/train-log.jsonl)."""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
STYLES = ["folk", "celtic", "chorale", "renaissance", "chinese-folk"]


def table(result: dict) -> str:
    styles = ["all"] + [s for s in STYLES if s in result["notes_scored"]]
    lines = [
        "| nats per note | " + " | ".join(styles) + " |",
        "|---|" + "---|" * len(styles),
    ]
    names = {
        "neural": "**neural model**",
        "markov": "Markov, orders 0–4 (Continuator-style)",
        "unigram": "unigram",
        "uniform": "uniform",
    }
    for key, name in names.items():
        row = result["nll_per_note"][key]
        lines.append(f"| {name} | " + " | ".join(f"{row[s]:.3f}" for s in styles) + " |")
    row = result["neural_nll_per_token"]
    lines.append("| neural model, nats per token | " + " | ".join(f"{row[s]:.3f}" for s in styles) + " |")
    lines.append("| notes scored | " + " | ".join(f"{result['notes_scored'][s]:,}" for s in styles) + " |")
    return "\n".join(lines)


def cache_text(meta: dict) -> str:
    """The export's KV-cache interface, in words (see export.py)."""
    if meta.get("cache") == "in-place":
        return (
            "kept in place by the plugin: inputs `tokens`, `prompt_length`, `past_length` and per "
            "layer `prompt_key_<l>` / `prompt_value_<l>` (the prompt's cache, once per distinct "
            "prompt) and `past_key_<l>` / `past_value_<l>` (each variation's own positions); "
            "outputs `logits`, `new_key`, `new_value`; the graph optimized offline by ONNX Runtime"
        )
    return (
        "inputs `tokens`, `past_key`, `past_value`; outputs `logits`, `present_key`, "
        "`present_value`, the past and the new positions concatenated"
    )


def continuation_section() -> str:
    """The `continuo eval` comparison (eval-continuation.json, written by `cargo xtask eval`)."""
    path = HERE / "eval-continuation.json"
    if not path.exists():
        return ""
    import eval_table

    summary = json.loads(path.read_text())
    g = summary["generators"]
    n, m, t = g["neural"], g["markov"], summary["truth"]
    nearer = lambda key: abs(n["aggregate"][key] - t[key]) < abs(m["aggregate"][key] - t[key])
    return f"""### Continuations against baselines (`continuo eval`)

The Rust engine itself (`cargo xtask eval`): every test melody with one meter and at least
{summary['prompt_bars'] + summary['bars']} bars is continued from its first {summary['prompt_bars']} bars by {summary['bars']} bars (seed 1, temperature
{n['temperature']}, Auto style) and compared with its true next {summary['bars']} bars. The Markov row is the
plugin's Continuator, which learns only from the prompt, as it learns from the player (so its NLL
is that of a model that has heard {summary['prompt_bars']} bars, not the corpus-trained figure above). In key:
share of notes in the prompt's detected key; PC overlap: pitch-class histogram overlap with the
truth; density ratio: notes per true note; groove: MusPy's groove consistency; copy rate: share of
bars that repeat a prompt bar exactly; motif reuse: share of the answer's 3-interval pitch patterns
found in the prompt; register drift: distance in semitones between the answer's mean pitch and that
of the prompt's last two bars; largest leap: the widest interval, the join to the prompt included;
single-pitch answers: share of answers that are one repeated pitch; held ending: share whose last
note lasts two beats or more; rest rate: share of consecutive notes with a rest between them;
articulation: median share of the time to the next onset that a note sounds. The last row
measures the true continuation itself.

{eval_table.table(summary)}

The neural model wins on likelihood ({n['nll_per_note']:.2f} vs {m['nll_per_note']:.2f} nats per note), pitch-class overlap
({n['aggregate']['pitch_class_overlap']:.3f} vs {m['aggregate']['pitch_class_overlap']:.3f}), note density
({n['aggregate']['density_ratio']:.2f} vs {m['aggregate']['density_ratio']:.2f} against 1.00), groove
({'nearer the truth' if nearer('groove_consistency') else 'not nearer the truth'}) and in-key rate
({'nearer the truth' if nearer('in_key_rate') else 'not nearer the truth'}). It loses on pitch range
({n['aggregate']['pitch_range']:.1f} semitones against {t['pitch_range']:.1f} in the truth; the Markov model
{m['aggregate']['pitch_range']:.1f}) and copies prompt bars far less than the real music does
({n['aggregate']['copy_rate']:.3f} vs {t['copy_rate']:.3f}): it composes rather than repeats, but repetition of
whole bars, which folk tunes use a lot, is under-represented. Repeating the last bar is the most
"in key" and has perfect groove, and is useless as a continuation (copy rate 1.0, half the range).

The neural rows use the engine's defaults: decoding bounds that keep the answer in the player's
register, and "Follow my motifs" at 25 %, which blends a Continuator over the player's own
interval patterns into the model's pitch choices. The strength was tuned on the validation split
(4+4 bars, seed 1) to bring motif reuse to the real music's level:

| Follow my motifs | in key | PC overlap | range | copy rate | motif reuse | register drift | largest leap |
|---|---|---|---|---|---|---|---|
| 0 % | 0.927 | 0.572 | 9.2 | 0.010 | 0.052 | 2.22 | 5.5 |
| 25 % (default) | 0.923 | 0.567 | 8.3 | 0.023 | 0.253 | 2.56 | 4.2 |
| 50 % | 0.911 | 0.546 | 8.2 | 0.027 | 0.498 | 2.99 | 4.2 |
| 75 % | 0.879 | 0.536 | 8.1 | 0.028 | 0.632 | 3.18 | 4.5 |
| 100 % | 0.855 | 0.512 | 8.1 | 0.029 | 0.702 | 3.41 | 4.7 |
| *true continuation* | 0.929 | 1.000 | 10.2 | 0.157 | 0.232 | 2.08 | 6.6 |

What the blend costs: a little pitch-class overlap and range, and the answer moves a little further
from the player's register (the patterns it takes up are often sequences). Whole-bar repetition
(copy rate) stays far below the real music's. The NLL column scores the blend as it samples
(the model alone: 2.690 on the test split, 2.611 on validation; at 25 %: 2.620 and 2.553; at
50 %: 2.834 on validation): the player's own patterns make the true continuations likelier.
"""


def main() -> None:
    meta = json.loads((HERE / "continuo-melody.json").read_text())
    test = json.loads((HERE / "eval.json").read_text())
    val = json.loads((HERE / "eval-val.json").read_text())
    data = json.loads((HERE / "data" / "extraction-summary.json").read_text())
    log_path = HERE / "cache" / "train-log.jsonl"
    log = [json.loads(l) for l in log_path.read_text().splitlines()] if log_path.exists() else []
    import data as corpus

    built = corpus.build(write_split_lists=False)
    counts = {k: len(v) for k, v in built["melodies"].items()}
    dropped = built["dropped"]
    q = meta["quantization"]
    arch = meta["architecture"]
    training = meta.get("training", {})
    minutes = training.get("seconds", 0) / 60
    args = training.get("args", {})
    steps = training.get("step", 0)
    tokens_seen = steps * args.get("batch", 16) * arch["context"]
    neural_all = test["nll_per_note"]["neural"]["all"]
    markov_all = test["nll_per_note"]["markov"]["all"]
    curve = "\n".join(
        f"| {r['step']} | {r['seconds'] / 60:.0f} | {r['val_loss']:.4f} |" for r in log
    )
    card = f"""# continuo-melody — model card

Continuo's melody model: a small decoder-only transformer that continues a monophonic melody in
musical time, trained by this project on the corpus that ships with `music21`. The plugin runs
it with ONNX Runtime (`continuo-melody.onnx`, metadata in `continuo-melody.json`); the token
format is specified in `TOKENS.md`.

## Reproduce

```sh
cargo xtask train        # venv + extraction (cached in data/) + training + evaluation + export
cargo xtask test-models  # tokenizer, extraction-rule and export-parity tests (needs the venv)
python card.py           # this file, from the results
```

Training checkpoints every 5 minutes to `cache/checkpoint.pt`; rerunning resumes. Seed
{args.get('seed', 'n/a')}. Requirements are pinned in `requirements.txt` (torch 2.15.0 from PyPI, CPU).

## Data

`music21` 10.5.1's bundled corpus, one melody per tune (Essen, Celtic collections) or per voice
(Bach chorales, Renaissance polyphony). Extraction (`extract.py`): chords reduced to the top note,
ties merged, grace notes dropped ({data['note_stats']['grace']:,}), pickups placed at the end of
bar 0, meter changes kept bar by bar, exact duplicates removed ({data['duplicates_removed']}),
melodies under 8 notes dropped. {data['melodies']:,} melodies, {sum(data['notes_by_style'].values()):,} notes;
{100 * (1 - data['note_stats']['off_grid'] / data['note_stats']['notes']):.2f} % of notes were exactly on the
12-per-beat grid (the rest are rounded). Parsing took {data['seconds'] / 60:.0f} minutes on 2 cores.

| style | sources | melodies | notes |
|---|---|---|---|
| folk | Essen Folksong Collection (European) | {data['melodies_by_style']['folk']:,} | {data['notes_by_style']['folk']:,} |
| celtic | O'Neill's 1850, Aird's Airs, Ryan's Mammoth, misc. fife and minstrelsy | {data['melodies_by_style']['celtic']:,} | {data['notes_by_style']['celtic']:,} |
| chorale | Bach chorales, four voices | {data['melodies_by_style']['chorale']:,} | {data['notes_by_style']['chorale']:,} |
| renaissance | Palestrina, Josquin, Ciconia, Trecento, Luca, Lusitano | {data['melodies_by_style']['renaissance']:,} | {data['notes_by_style']['renaissance']:,} |
| chinese-folk | Essen Folksong Collection (Han) | {data['melodies_by_style']['chinese-folk']:,} | {data['notes_by_style']['chinese-folk']:,} |

Licences: music21's corpus is distributed "with the permission of the encoders … where permitted
under United States copyright law"; some encodings may not be used commercially (see the licence
files in `music21/corpus/`); the legal status of the Essen collection is stated there as unclear.
The works themselves are public domain.

Split by piece (a tune, or every voice of one chorale or mass movement), deterministic:
sha1(piece) mod 100 < 5 → test, < 10 → validation, else train. The test and validation pieces are
listed in `splits/`; the test split was never trained on or used for choices. Train
{counts['train']:,}, validation {counts['val']:,}, test {counts['test']:,} melodies ({dropped} more were
dropped for meters outside the vocabulary or too few notes on the grid).
Training windows start at random bars with the `STYLE TS` header and are transposed by a random
−6…+6 semitones (within MIDI 21–108), so the model works in every key.

## Model

{arch['kind']}: {arch['layers']} layers, d_model {arch['d_model']}, {arch['heads']} heads,
feed-forward {arch['d_ff']}, context {arch['context']} tokens, vocabulary {arch['vocab_size']};
{meta['parameters']:,} parameters. Exported with an explicit KV cache ({cache_text(meta)});
sampling happens in Rust. Parity of the fp32 export with torch: max |Δlogit| {meta['parity']['full_max_abs_diff']:.1e}
for a full pass and {meta['parity']['incremental_max_abs_diff']:.1e} token by token (limit 1e-4);
the int8 file below is judged by its likelihood instead.

Training: {steps:,} steps of {args.get('batch', 16)} × {arch['context']} packed tokens
({tokens_seen / 1e6:.1f} M tokens, about {tokens_seen / 5.16e6:.1f} epochs), AdamW (lr {args.get('lr')},
warm-up then cosine to 10 %), bf16 autocast, dropout 0.1, {minutes:.0f} minutes on the 2-core
CPU machine (~5,000 tokens/s).

| step | minutes | validation nats/token |
|---|---|---|
{curve}

Dynamic int8 quantization was measured on {q['validation_melodies']} validation melodies: fp32
{q['fp32']['nll_per_note']:.4f} nats/note ({q['fp32']['bytes'] / 1e6:.1f} MB), int8
{q['int8']['nll_per_note']:.4f} nats/note ({q['int8']['bytes'] / 1e6:.1f} MB), a
{100 * q['int8_relative_nll_increase']:+.2f} % change; the rule was to ship int8 only under +0.5 %:
**{q['ship']} ships** ({meta['bytes'] / 1e6:.1f} MB).

## Results

Negative log-likelihood of each note given the notes before it (the first note of each melody
is left out for every model), on the held-out splits. The neural model's per-note figure is the
sum over a note's tokens (BAR, POS, PITCH, DUR); the baselines, trained on the same train split,
score the same events as (interval, inter-onset interval, duration) steps: the Markov model with
orders 0–4 and Witten–Bell interpolation (the Continuator's idea, as a proper probability
model), the unigram of those steps, and uniform over them. Lower is better.

### Test split

{table(test)}

### Validation split

{table(val)}

On the test split the neural model needs {neural_all:.2f} nats per note against the Markov
model's {markov_all:.2f}: {'a clear win' if neural_all < markov_all * 0.9 else 'not the clear win that was required'}
({100 * (1 - neural_all / markov_all):.0f} % fewer nats per note).

{continuation_section()}

## Intended use and limits

For suggesting continuations of monophonic melodies inside Continuo. It knows five historical
styles of Western and Chinese folk and art music from one corpus; it has never seen jazz, pop or
modern rhythms, polyphony or dynamics (velocity is not modelled; the plugin reuses the player's).
Notes longer than 192 ticks (sixteen beats) are clamped; meters are limited to
n/d with n ≤ 12 and d ∈ {{1, 2, 4, 8, 16}}.
"""
    (HERE / "README.md").write_text(card)
    print("wrote README.md")


if __name__ == "__main__":
    main()
