"""Export the trained model to ONNX with an explicit KV cache, check parity with torch, and write
the metadata file the plugin reads.

Inputs: `tokens` int64 [batch, new], `past_key` / `past_value` float32
[layers, batch, heads, past, head_dim]. Outputs: `logits` float32 [batch, new, vocab],
`present_key` / `present_value` [layers, batch, heads, past + new, head_dim]. The prompt runs as
one call with an empty past; then one token per call.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

import data
import tokens as T
from model import Config, MelodyModel, parameter_count

HERE = Path(__file__).resolve().parent
ONNX_PATH = HERE / "continuo-melody.onnx"
META_PATH = HERE / "continuo-melody.json"


def load_model(path=None) -> MelodyModel:
    state = torch.load(path or data.CACHE / "checkpoint.pt", weights_only=False)
    model = MelodyModel(Config(**state["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    model.training_state = {k: state[k] for k in ("step", "seconds", "args") if k in state}
    return model


def export(model: MelodyModel, path: Path) -> None:
    c = model.config
    tokens = torch.randint(0, c.vocab_size, (1, 8))
    past_k = torch.zeros(c.layers, 1, c.heads, 3, c.head_dim)
    past_v = torch.zeros(c.layers, 1, c.heads, 3, c.head_dim)
    torch.onnx.export(
        model,
        (tokens, past_k, past_v),
        str(path),
        input_names=["tokens", "past_key", "past_value"],
        output_names=["logits", "present_key", "present_value"],
        dynamic_axes={
            "tokens": {0: "batch", 1: "new"},
            "past_key": {1: "batch", 3: "past"},
            "past_value": {1: "batch", 3: "past"},
            "logits": {0: "batch", 1: "new"},
            "present_key": {1: "batch", 3: "total"},
            "present_value": {1: "batch", 3: "total"},
        },
        opset_version=17,
        dynamo=False,
    )


def parity(model: MelodyModel, path: Path, seed: int = 7) -> dict:
    """Max |logit difference| between torch and ONNX Runtime, full and incremental."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    c = model.config
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, c.vocab_size, (2, 96), generator=generator)
    empty_k, empty_v = model.empty_cache(2)
    with torch.no_grad():
        reference, _, _ = model(tokens, empty_k, empty_v)
    # Full: the whole sequence in one call.
    full = session.run(
        None,
        {"tokens": tokens.numpy(), "past_key": empty_k.numpy(), "past_value": empty_v.numpy()},
    )
    full_diff = float(np.abs(full[0] - reference.numpy()).max())
    # Incremental: a 64-token prompt, then one token per call.
    logits, past_k, past_v = session.run(
        None,
        {"tokens": tokens[:, :64].numpy(), "past_key": empty_k.numpy(), "past_value": empty_v.numpy()},
    )
    pieces = [logits]
    for i in range(64, 96):
        logits, past_k, past_v = session.run(
            None, {"tokens": tokens[:, i : i + 1].numpy(), "past_key": past_k, "past_value": past_v}
        )
        pieces.append(logits)
    incremental = np.concatenate(pieces, axis=1)
    incremental_diff = float(np.abs(incremental - reference.numpy()).max())
    return {"full_max_abs_diff": full_diff, "incremental_max_abs_diff": incremental_diff}


def compare_int8(model: MelodyModel, onnx_path: Path, melodies: int = 250) -> dict:
    """Dynamic int8 quantization of the fp32 export, judged by validation NLL per note and by
    speed; int8 ships only if it costs less than 0.5 % NLL."""
    import time

    from onnxruntime.quantization import QuantType, quantize_dynamic

    import evaluate

    int8_path = data.CACHE / "continuo-melody-int8.onnx"
    quantize_dynamic(str(onnx_path), str(int8_path), weight_type=QuantType.QInt8)
    val = data.build(write_split_lists=False)["melodies"]["val"][:melodies]
    c = model.config
    out = {"validation_melodies": len(val)}
    for name, path in (("fp32", onnx_path), ("int8", int8_path)):
        forward = evaluate.onnx_forward(path, c.layers, c.heads, c.head_dim)
        started = time.time()
        totals = [evaluate.melody_note_nll(forward, m) for m in val]
        seconds = time.time() - started
        notes = sum(t[1] for t in totals)
        tokens = sum(t[3] for t in totals)
        out[name] = {
            "bytes": path.stat().st_size,
            "nll_per_note": sum(t[0] for t in totals) / notes,
            "nll_per_token": sum(t[2] for t in totals) / tokens,
            "scoring_seconds": round(seconds, 1),
        }
    loss = out["int8"]["nll_per_note"] / out["fp32"]["nll_per_note"] - 1
    out["int8_relative_nll_increase"] = loss
    out["ship"] = "int8" if loss < 0.005 else "fp32"
    return out


def augmentation(model: MelodyModel) -> dict:
    """What training did to the melodies (model v2 on): the registers they were moved to, the
    pitch range they stayed in, and how often the style was replaced by STYLE_any."""
    args = getattr(model, "training_state", {}).get("args", {})
    if "register" not in args:
        return {}
    import train

    return {
        "augmentation": {
            "transposition_semitones": 6,
            "register_share": args["register"],
            "register_centres": train.REGISTER_CENTRES,
            "any_style_share": args["any_style"],
        },
        "trained_range": list(train.TRAINED_RANGE),
    }


def write_metadata(model: MelodyModel, path: Path, extra: dict) -> dict:
    c = model.config
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = {
        "name": "continuo-melody",
        "file": path.name,
        "sha256": digest,
        "bytes": path.stat().st_size,
        "parameters": parameter_count(model),
        "architecture": {
            "kind": "decoder-only transformer, pre-norm, learned positions, tied output head",
            **c.to_dict(),
            "head_dim": c.head_dim,
        },
        "inputs": {
            "tokens": {"dtype": "int64", "shape": ["batch", "new"]},
            "past_key": {"dtype": "float32", "shape": [c.layers, "batch", c.heads, "past", c.head_dim]},
            "past_value": {"dtype": "float32", "shape": [c.layers, "batch", c.heads, "past", c.head_dim]},
        },
        "outputs": {
            "logits": {"dtype": "float32", "shape": ["batch", "new", c.vocab_size]},
            "present_key": {"dtype": "float32", "shape": [c.layers, "batch", c.heads, "past+new", c.head_dim]},
            "present_value": {"dtype": "float32", "shape": [c.layers, "batch", c.heads, "past+new", c.head_dim]},
        },
        "context": c.context,
        "ticks_per_beat": T.TICKS_PER_BEAT,
        "styles": T.STYLES,
        "time_signatures": [f"{n}/{d}" for n in T.NUMERATORS for d in T.DENOMINATORS],
        "max_position": T.MAX_POSITION,
        "max_duration": T.MAX_DURATION,
        "vocab": T.VOCAB,
        "prompt_format": "[BOS] STYLE TS BAR (POS PITCH DUR)* BAR ... — BOS only at a piece's start",
        **augmentation(model),
        **extra,
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--out", default=None,
                        help="folder for a trial export (fp32, no int8 comparison) instead of "
                             "the shipped model; try it with CONTINUO_MODEL_PATH")
    args = parser.parse_args()
    model = load_model(args.checkpoint)
    onnx_path = Path(args.out) / ONNX_PATH.name if args.out else ONNX_PATH
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    export(model, onnx_path)
    result = parity(model, onnx_path)
    print(json.dumps(result))
    assert result["full_max_abs_diff"] <= 1e-4, result
    assert result["incremental_max_abs_diff"] <= 1e-4, result
    extra = {"parity": result, "training": model.training_state}
    if not args.out:
        quantization = compare_int8(model, onnx_path)
        print(json.dumps(quantization))
        if quantization["ship"] == "int8":
            (data.CACHE / "continuo-melody-int8.onnx").replace(onnx_path)
        summary_path = data.DATA / "extraction-summary.json"
        extra["quantization"] = quantization
        extra["data"] = json.loads(summary_path.read_text()) if summary_path.exists() else None
        eval_path = HERE / "eval.json"
        if eval_path.exists():
            extra["evaluation"] = json.loads(eval_path.read_text())
    meta = write_metadata(model, onnx_path, extra)
    print(f"wrote {onnx_path} ({meta['bytes'] / 1e6:.1f} MB) and its .json")


if __name__ == "__main__":
    main()
