"""Re-export a shipped int8 model with another KV-cache interface, without its checkpoint.

Model v1's training checkpoint is gone, but its weights are all in `continuo-melody.onnx`
(dynamic int8 quantization: weights as int8/uint8 with one scale each). This dequantizes them into
a `MelodyModel`, exports that with `--cache` (in place by default), quantizes it again the same way
(and optimizes the graph offline, as `export.py` does) and checks, on validation melodies, that
nothing was lost: the new file's logits against the old
file's, and the NLL per note of both. The result replaces the shipped model (or goes to `--out`).

    .venv/bin/python reexport.py [--cache in-place] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import data
import export
from model import Config, MelodyModel

HERE = Path(__file__).resolve().parent


def dequantized(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Every initializer by name, quantized ones (`X_quantized`, `X_scale`, `X_zero_point`)
    turned back into float32 `X`."""
    raw = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    out = {}
    for name, array in raw.items():
        if name.endswith("_quantized"):
            base = name[: -len("_quantized")]
            zero = raw[base + "_zero_point"].astype(np.float32)
            out[base] = (array.astype(np.float32) - zero) * raw[base + "_scale"].astype(np.float32)
        elif not name.endswith(("_scale", "_zero_point")):
            out[name] = array
    # An in-place export names the model's weights through its wrapper (`model.`).
    return {name.removeprefix("model."): array for name, array in out.items()}


def model_from_onnx(path: Path, metadata: dict) -> MelodyModel:
    """The model whose int8 export is `path` (as quantized, or as shipped after the offline
    optimization). MatMul weights appear in graph order: per block qkv, proj, ff.0, ff.2, then
    the output head (the tied embedding, transposed)."""
    arch = metadata["architecture"]
    config = Config(**{k: arch[k] for k in ("vocab_size", "context", "layers", "d_model", "heads", "d_ff")})
    graph = onnx.load(str(path)).graph
    weights = dequantized(graph)
    matmuls = []
    for node in graph.node:
        # As quantized (MatMulInteger), or fused by the offline optimization.
        if node.op_type in ("MatMulInteger", "MatMul", "DynamicQuantizeMatMul"):
            for name in node.input:
                base = name[: -len("_quantized")] if name.endswith("_quantized") else name
                if base in weights and base.startswith("onnx::MatMul"):
                    matmuls.append(base)
    assert len(matmuls) == 4 * config.layers + 1, matmuls
    state = {}
    for l in range(config.layers):
        for i, layer in enumerate(("qkv", "proj", "ff.0", "ff.2")):
            state[f"blocks.{l}.{layer}.weight"] = weights[matmuls[4 * l + i]].T
    # The output head is the embedding, transposed; its int8 copy is the finer of the two.
    state["embed.weight"] = weights[matmuls[-1]].T
    model = MelodyModel(config)
    for name, value in model.state_dict().items():
        source = state.get(name, weights.get(name))
        assert source is not None and source.shape == tuple(value.shape), name
        state[name] = source
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", choices=["in-place", "growing"], default="in-place")
    parser.add_argument("--out", default=None, help="folder to write to instead of the shipped model")
    parser.add_argument("--melodies", type=int, default=100, help="validation melodies to compare on")
    args = parser.parse_args()
    metadata = json.loads(export.META_PATH.read_text())
    model = model_from_onnx(export.ONNX_PATH, metadata)
    work = data.CACHE / "reexport"
    work.mkdir(parents=True, exist_ok=True)
    fp32, int8 = work / "fp32.onnx", work / "int8.onnx"
    export.export(model, fp32, args.cache)
    parity = export.parity(model, fp32)
    assert parity["incremental_max_abs_diff"] <= 1e-4, parity
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    optimization = export.optimize_offline(int8)
    c = model.config
    val = export.validation_melodies(args.melodies)
    scores = {
        name: export.onnx_nll(path, c, val)["nll_per_note"]
        for name, path in (("before", export.ONNX_PATH), ("after", int8))
    }
    check = {
        "validation_melodies": len(val),
        "nll_per_note_before": scores["before"],
        "nll_per_note_after": scores["after"],
        "relative_change": scores["after"] / scores["before"] - 1,
        "fp32_parity": parity,
        "offline_optimization": optimization,
    }
    print(json.dumps(check))
    assert abs(check["relative_change"]) < 0.002, check
    out = Path(args.out) / export.ONNX_PATH.name if args.out else export.ONNX_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(int8, out)
    original = metadata["sha256"]
    metadata.update(export.interface(c, args.cache))
    metadata["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    metadata["bytes"] = out.stat().st_size
    metadata["reexported"] = {"from_sha256": original, **check}
    out.with_suffix(".json").write_text(json.dumps(metadata, indent=1) + "\n")
    print(f"wrote {out} and its .json")


if __name__ == "__main__":
    main()
