"""Export the trained model to ONNX with an explicit KV cache, check parity with torch, and write
the metadata file the plugin reads.

Two cache interfaces (`--cache`); the plugin runs either, recognising it by the inputs:

- `in-place` (the default; v1 ships re-exported with it by `reexport.py`): inputs `tokens` int64
  [batch, new], `prompt_length` and `past_length` (int64, 0-d), and per layer `prompt_key_<l>` /
  `prompt_value_<l>` float32 [rows, heads, capacity, head_dim] — the prompt's cache, one row per
  distinct prompt (batch = rows × repeat: the rows that continue one prompt follow each other) —
  and `past_key_<l>` / `past_value_<l>` [batch, heads, capacity, head_dim], each row's own
  positions after its prompt. These are buffers the caller keeps (capacity at least 1: ONNX's
  Reshape reads a 0 as "keep this axis"), of which the first `prompt_length` / `past_length`
  positions are valid; outputs `logits` float32 [batch, new, vocab] and `new_key` / `new_value`
  [layers, batch, heads, new, head_dim], which the caller writes into its buffers. The graph
  never copies the past (one input per layer: taking a layer out of one [layers, ...] input
  would copy it), and the variations of one prompt read its cache once per step.
- `growing` (the first exports): inputs `tokens`, `past_key` / `past_value` [layers, batch,
  heads, past, head_dim]; outputs `logits` and `present_key` / `present_value` [.., past + new, ..], the past
  concatenated with the new positions (a copy of the whole cache every step).

The prompt runs as one call with an empty past; then one token per call.
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


class InPlace(torch.nn.Module):
    """`MelodyModel.forward_in_place` as the module the exporter traces."""

    def __init__(self, model: MelodyModel):
        super().__init__()
        self.model = model

    def forward(self, tokens, prompt_length, past_length, *caches):
        layers = self.model.config.layers
        prompt_k, prompt_v, past_k, past_v = (caches[i * layers : (i + 1) * layers] for i in range(4))
        return self.model.forward_in_place(tokens, prompt_k, prompt_v, prompt_length, past_k, past_v, past_length)


def in_place_names(layers: int) -> list[str]:
    """The per-layer cache inputs of an in-place export, in the order `InPlace` takes them."""
    kinds = ("prompt_key", "prompt_value", "past_key", "past_value")
    return [f"{kind}_{l}" for kind in kinds for l in range(layers)]


def export(model: MelodyModel, path: Path, cache: str = "in-place") -> None:
    if cache == "in-place":
        export_in_place(model, path)
    else:
        export_growing(model, path)


def export_in_place(model: MelodyModel, path: Path) -> None:
    c = model.config
    names = in_place_names(c.layers)
    # Two prompts, three rows each; the sizes are only examples (every axis below is dynamic).
    caches = [torch.zeros(2 if name.startswith("prompt") else 6, c.heads, 16, c.head_dim) for name in names]
    lengths = (torch.tensor(5, dtype=torch.int64), torch.tensor(3, dtype=torch.int64))
    trace(
        InPlace(model).eval(),
        (torch.randint(0, c.vocab_size, (6, 8)), *lengths, *caches),
        path,
        inputs={"tokens": {0: "batch", 1: "new"}, "prompt_length": {}, "past_length": {},
                **{name: {0: "rows" if name.startswith("prompt") else "batch", 2: f"capacity_{name}"}
                   for name in names}},
        outputs={"logits": {0: "batch", 1: "new"}, "new_key": {1: "batch", 3: "new"},
                 "new_value": {1: "batch", 3: "new"}},
    )


def export_growing(model: MelodyModel, path: Path) -> None:
    c = model.config
    past = torch.zeros(c.layers, 1, c.heads, 3, c.head_dim)
    trace(
        model,
        (torch.randint(0, c.vocab_size, (1, 8)), past, past.clone()),
        path,
        inputs={"tokens": {0: "batch", 1: "new"}, "past_key": {1: "batch", 3: "past"},
                "past_value": {1: "batch", 3: "past"}},
        outputs={"logits": {0: "batch", 1: "new"}, "present_key": {1: "batch", 3: "total"},
                 "present_value": {1: "batch", 3: "total"}},
    )


def trace(module: torch.nn.Module, example: tuple, path: Path, inputs: dict, outputs: dict) -> None:
    """The legacy exporter (plain ops, one file); `inputs` / `outputs`: name -> dynamic axes."""
    torch.onnx.export(
        module,
        example,
        str(path),
        input_names=list(inputs),
        output_names=list(outputs),
        dynamic_axes={name: axes for name, axes in {**inputs, **outputs}.items() if axes},
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
    if "past_length" in {i.name for i in session.get_inputs()}:
        return parity_in_place(session, c, tokens.numpy(), reference.numpy())
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


def parity_in_place(session, c: Config, tokens: np.ndarray, reference: np.ndarray) -> dict:
    """Parity of an in-place-cache export, kept the way the plugin keeps it: buffers larger than
    their valid positions, whose unused positions hold noise (they must not be seen). Full: the
    whole sequence in one call. Incremental: each sequence's 64-token prompt in one call, then
    three rows per prompt (as variations) one token per call, reading the prompt's cache shared;
    every row must match its sequence."""
    rows, repeat = tokens.shape[0], 3
    rng = np.random.default_rng(11)

    def buffer(batch, capacity):
        return rng.normal(0, 3, (c.layers, batch, c.heads, capacity, c.head_dim)).astype(np.float32)

    def run(new, prompt, prompt_length, past, past_length):
        feeds = {"tokens": new, "prompt_length": np.array(prompt_length, dtype=np.int64),
                 "past_length": np.array(past_length, dtype=np.int64)}
        layers = [*prompt[0], *prompt[1], *past[0], *past[1]]
        for name, layer in zip(in_place_names(c.layers), layers):
            feeds[name] = np.ascontiguousarray(layer)
        return session.run(None, feeds)

    full, _, _ = run(tokens, (buffer(rows, 8), buffer(rows, 8)), 0, (buffer(rows, 8), buffer(rows, 8)), 0)
    full_diff = float(np.abs(full - reference).max())
    prompt = (buffer(rows, 80), buffer(rows, 80))
    logits, new_k, new_v = run(tokens[:, :64], prompt, 0, (buffer(rows, 16), buffer(rows, 16)), 0)
    prompt[0][:, :, :, :64], prompt[1][:, :, :, :64] = new_k, new_v
    pieces = [np.repeat(logits, repeat, axis=0)]
    past = (buffer(rows * repeat, 48), buffer(rows * repeat, 48))
    for i in range(64, tokens.shape[1]):
        step = np.repeat(tokens[:, i : i + 1], repeat, axis=0)
        logits, new_k, new_v = run(step, prompt, 64, past, i - 64)
        past[0][:, :, :, i - 64 : i - 63], past[1][:, :, :, i - 64 : i - 63] = new_k, new_v
        pieces.append(logits)
    incremental = np.concatenate(pieces, axis=1)
    incremental_diff = float(np.abs(incremental - np.repeat(reference, repeat, axis=0)).max())
    return {"full_max_abs_diff": full_diff, "incremental_max_abs_diff": incremental_diff}


def validation_melodies(count: int) -> list:
    """The first `count` melodies of the validation split."""
    return data.build(write_split_lists=False)["melodies"]["val"][:count]


def onnx_nll(path: Path, c: Config, melodies: list) -> dict:
    """NLL per note and per token of `melodies` under the ONNX file at `path`."""
    import evaluate

    forward = evaluate.onnx_forward(path, c.layers, c.heads, c.head_dim)
    totals = [evaluate.melody_note_nll(forward, m) for m in melodies]
    return {
        "nll_per_note": sum(t[0] for t in totals) / sum(t[1] for t in totals),
        "nll_per_token": sum(t[2] for t in totals) / sum(t[3] for t in totals),
    }


def compare_int8(model: MelodyModel, onnx_path: Path, melodies: int = 250) -> dict:
    """Dynamic int8 quantization of the fp32 export, judged by validation NLL per note and by
    speed; int8 ships only if it costs less than 0.5 % NLL."""
    import time

    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8_path = data.CACHE / "continuo-melody-int8.onnx"
    quantize_dynamic(str(onnx_path), str(int8_path), weight_type=QuantType.QInt8)
    val = validation_melodies(melodies)
    out = {"validation_melodies": len(val)}
    for name, path in (("fp32", onnx_path), ("int8", int8_path)):
        started = time.time()
        out[name] = {
            "bytes": path.stat().st_size,
            **onnx_nll(path, model.config, val),
            "scoring_seconds": round(time.time() - started, 1),
        }
    loss = out["int8"]["nll_per_note"] / out["fp32"]["nll_per_note"] - 1
    out["int8_relative_nll_increase"] = loss
    out["ship"] = "int8" if loss < 0.005 else "fp32"
    return out


def optimize_offline(path: Path) -> dict:
    """ONNX Runtime's extended graph optimizations (constant folding, the shape arithmetic of the
    dynamic axes, fusions into its CPU provider's operators), run once here and saved over `path`,
    so that loading in the plugin does not redo them: the in-place graph's shape arithmetic had
    doubled the load time (51 ms against 27 ms after, model v1, one core). Not the layout
    optimizations (`ORT_ENABLE_ALL`), which depend on the CPU. The saved graph needs ONNX Runtime
    (its contrib operators), which is what ships."""
    import onnx
    import onnxruntime as ort

    before = len(onnx.load(str(path)).graph.node)
    optimized = path.with_suffix(".optimized.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    optimized.replace(path)
    return {"level": "extended", "nodes_before": before, "nodes_after": len(onnx.load(str(path)).graph.node)}


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


def interface(c: Config, cache: str) -> dict:
    """The graph's inputs and outputs, as the metadata file describes them."""
    if cache == "in-place":
        new = [c.layers, "batch", c.heads, "new", c.head_dim]
        return {
            "cache": "in-place",
            "inputs": {
                "tokens": {"dtype": "int64", "shape": ["batch", "new"]},
                "prompt_length": {"dtype": "int64", "shape": []},
                "past_length": {"dtype": "int64", "shape": []},
                **{name: {"dtype": "float32", "shape": [
                    "rows" if name.startswith("prompt") else "batch", c.heads, "capacity", c.head_dim]}
                   for name in in_place_names(c.layers)},
            },
            "outputs": {
                "logits": {"dtype": "float32", "shape": ["batch", "new", c.vocab_size]},
                "new_key": {"dtype": "float32", "shape": new},
                "new_value": {"dtype": "float32", "shape": new},
            },
        }
    return {
        "cache": "growing",
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
    }


def write_metadata(model: MelodyModel, path: Path, extra: dict, cache: str = "in-place") -> dict:
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
        **interface(c, cache),
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
    parser.add_argument("--cache", choices=["in-place", "growing"], default="in-place",
                        help="how the graph takes its KV cache (see the module's doc)")
    args = parser.parse_args()
    model = load_model(args.checkpoint)
    onnx_path = Path(args.out) / ONNX_PATH.name if args.out else ONNX_PATH
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    export(model, onnx_path, args.cache)
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
        extra["offline_optimization"] = optimize_offline(onnx_path)
        result = parity(model, onnx_path)
        print(json.dumps(result))
        extra["parity_as_shipped"] = result
        summary_path = data.DATA / "extraction-summary.json"
        extra["quantization"] = quantization
        extra["data"] = json.loads(summary_path.read_text()) if summary_path.exists() else None
        eval_path = HERE / "eval.json"
        if eval_path.exists():
            extra["evaluation"] = json.loads(eval_path.read_text())
    meta = write_metadata(model, onnx_path, extra, args.cache)
    print(f"wrote {onnx_path} ({meta['bytes'] / 1e6:.1f} MB) and its .json")


if __name__ == "__main__":
    main()
