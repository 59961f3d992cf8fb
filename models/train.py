"""Train the melody model on the extracted corpus, with checkpoints that let a run resume.

Each step draws random windows: a random melody, a random starting bar (so the model learns to
continue from anywhere, with the style and meter header the plugin gives it), and a random
transposition (so it works in every key). bf16 autocast on the CPU, AdamW, warm-up then cosine
decay, a fixed seed. The checkpoint (cache/checkpoint.pt) is written every few minutes and at the
end; rerunning the command resumes from it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

import data
import tokens as T
from model import Config, MelodyModel, parameter_count

CHECKPOINT = data.CACHE / "checkpoint.pt"
LOG = data.CACHE / "train-log.jsonl"


# Registers a melody is moved into by whole octaves (model v2): the mean pitch it is moved
# towards, from a bass line around C2 to a lead around C7. Every moved melody stays within
# TRAINED_RANGE, which the metadata records.
REGISTER_CENTRES = [36, 48, 60, 72, 84, 96]
TRAINED_RANGE = (24, 108)


def transposition(low: int, high: int, mean: float, rng: random.Random, register: float) -> int:
    """A random shift of a melody spanning low..high: up to ±6 semitones (every key) and, with
    probability `register`, whole octaves towards a register drawn from REGISTER_CENTRES, within
    TRAINED_RANGE. Melodies already outside the range are left where they are."""
    lowest, highest = TRAINED_RANGE
    if not (lowest <= low and high <= highest):
        return 0
    octaves = 0
    if rng.random() < register:
        target = rng.choice(REGISTER_CENTRES)
        octaves = round((target - mean) / 12)
        while octaves > 0 and high + 12 * octaves > highest:
            octaves -= 1
        while octaves < 0 and low + 12 * octaves < lowest:
            octaves += 1
    low, high = low + 12 * octaves, high + 12 * octaves
    return 12 * octaves + rng.randint(max(-6, lowest - low), min(6, highest - high))


def random_window(corpus: data.Corpus, context: int, rng: random.Random, augment: dict | None):
    """A training window; `augment` (None for evaluation) holds the probabilities of moving the
    melody to another register and of replacing its style by "any style"."""
    i = rng.randrange(len(corpus))
    bars = len(corpus.bar_positions[i])
    # Start at bar 0 a quarter of the time (pieces' openings matter), else anywhere.
    bar = 0 if rng.random() < 0.25 else rng.randrange(bars)
    shift = 0
    if augment:
        low, high = corpus.pitch_range[i]
        shift = transposition(low, high, corpus.mean_pitch[i], rng, augment["register"])
    window = corpus.window(i, bar, context, shift)
    if augment and rng.random() < augment["any_style"]:
        window = window.copy()
        style_at = 1 if window[0] == T.BOS else 0
        if style_at < len(window) and T.kind(int(window[style_at])) == "STYLE":
            window[style_at] = T.ANY_STYLE
    return window


def batch(corpus: data.Corpus, size: int, context: int, rng: random.Random, augment: dict | None):
    """`size` rows of `context + 1` tokens. Rows are packed with consecutive windows (each starts
    with its own STYLE/TS header, so the model sees where a new melody begins) instead of being
    padded: every position trains."""
    out = np.full((size, context + 1), T.PAD, dtype=np.int64)
    for row in range(size):
        filled = 0
        while filled < context + 1:
            window = random_window(corpus, context + 1 - filled, rng, augment)
            out[row, filled : filled + len(window)] = window
            filled += len(window)
    out = torch.from_numpy(out)
    return out[:, :-1], out[:, 1:]


def loss_of(model, inputs, targets):
    past_k, past_v = model.empty_cache(inputs.shape[0])
    logits, _, _ = model(inputs, past_k, past_v)
    return torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=T.PAD
    )


@torch.no_grad()
def evaluate(model, corpus, context, batches, seed=1234):
    model.eval()
    rng = random.Random(seed)
    total, count = 0.0, 0
    for _ in range(batches):
        inputs, targets = batch(corpus, 16, context, rng, augment=None)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_of(model, inputs, targets)
        n = int((targets != T.PAD).sum())
        total += float(loss) * n
        count += n
    model.train()
    return total / max(count, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--register", type=float, default=0.5,
                        help="share of windows moved by octaves to another register")
    parser.add_argument("--any-style", type=float, default=0.15,
                        help="share of windows whose style token is replaced by STYLE_any")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop (and save) at this step, before the schedule's end: how a "
                             "leg of the shipped model's training was interrupted and resumed on "
                             "another schedule (see SCHEDULE in xtask)")
    parser.add_argument("--checkpoint", default=None,
                        help="another checkpoint than cache/checkpoint.pt (a trial run beside the "
                             "main one, e.g. another size); its log goes beside it")
    args = parser.parse_args()
    checkpoint = Path(args.checkpoint) if args.checkpoint else CHECKPOINT
    log_path = checkpoint.with_name(checkpoint.stem + "-log.jsonl") if args.checkpoint else LOG

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    built = data.build()
    train = data.Corpus(built["melodies"]["train"])
    val = data.Corpus(built["melodies"]["val"])
    print(
        f"train {len(train)} melodies / {train.total_tokens()} tokens, "
        f"val {len(val)} / {val.total_tokens()}, dropped {built['dropped']}",
        flush=True,
    )
    config = Config(
        vocab_size=len(T.VOCAB),
        layers=args.layers,
        d_model=args.d_model,
        heads=args.d_model // 64,
        d_ff=4 * args.d_model,
    )
    model = MelodyModel(config)
    print(f"{parameter_count(model):,} parameters", flush=True)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1
    )
    step = 0
    rng = random.Random(args.seed)
    elapsed_before = 0.0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        elapsed_before = state.get("seconds", 0.0)
        print(f"resumed at step {step}", flush=True)

    def save():
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "config": config.to_dict(),
                "seconds": elapsed_before + time.time() - started,
                "args": vars(args),
            },
            checkpoint.with_suffix(".tmp"),
        )
        checkpoint.with_suffix(".tmp").replace(checkpoint)

    warmup = min(200, args.steps // 10)

    def lr_at(s):
        if s < warmup:
            return args.lr * (s + 1) / warmup
        progress = (s - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    model.train()
    started = time.time()
    last_save = time.time()
    tokens_seen = 0
    last_step = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < last_step:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        augment = {"register": args.register, "any_style": args.any_style}
        inputs, targets = batch(train, args.batch, config.context, rng, augment=augment)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_of(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        tokens_seen += int((targets != T.PAD).sum())
        if step % 50 == 0:
            rate = tokens_seen / (time.time() - started)
            print(f"step {step} loss {float(loss.detach()):.3f} lr {lr_at(step):.2e} {rate:.0f} tok/s", flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            val_loss = evaluate(model, val, config.context, batches=8)
            record = {"step": step, "train_loss": float(loss.detach()), "val_loss": val_loss,
                      "seconds": round(elapsed_before + time.time() - started)}
            with open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")
            print(f"step {step} validation {val_loss:.4f} nats/token", flush=True)
        if time.time() - last_save > args.checkpoint_minutes * 60:
            save()
            last_save = time.time()
    save()
    print("done", flush=True)


if __name__ == "__main__":
    main()
