"""Write two tiny untrained models with the same weights, one per KV-cache interface, for the
engine's tests (`plugin/engine/tests/models/`): the plugin must play the same notes with either.

    .venv/bin/python tiny.py
"""

from __future__ import annotations

from pathlib import Path

import torch

import export
import tokens as T
from model import Config, MelodyModel

OUT = Path(__file__).resolve().parents[1] / "plugin" / "engine" / "tests" / "models"


def main() -> None:
    torch.manual_seed(20261203)
    # Two layers (so per-layer inputs are told apart), the full v2 vocabulary (style guidance).
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=2, d_model=32, heads=2, d_ff=64))
    model.eval()
    for cache in ("growing", "in-place"):
        folder = OUT / cache
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "tiny.onnx"
        export.export(model, path, cache)
        result = export.parity(model, path)
        assert result["incremental_max_abs_diff"] <= 1e-4, result
        export.write_metadata(model, path, {"parity": result, "purpose": "engine tests only"}, cache)
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
