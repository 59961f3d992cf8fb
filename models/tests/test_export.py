"""The ONNX export: KV-cache parity with torch, and the shipped file against its metadata."""

import hashlib
import json
from pathlib import Path

import pytest
import torch

import export
import tokens as T
from model import Config, MelodyModel

MODELS = Path(__file__).resolve().parents[1]


def test_export_parity_full_and_incremental(tmp_path):
    torch.manual_seed(0)
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=2, d_model=64, heads=2, d_ff=128))
    model.eval()
    path = tmp_path / "tiny.onnx"
    export.export(model, path)
    result = export.parity(model, path)
    assert result["full_max_abs_diff"] <= 1e-4
    assert result["incremental_max_abs_diff"] <= 1e-4


def test_a_fresh_module_in_training_mode_is_not_what_gets_exported():
    # Dropout on would break parity: the exporter must see eval mode.
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=1, d_model=32, heads=2, d_ff=64))
    assert model.training
    x = torch.randint(0, len(T.VOCAB), (1, 16))
    k, v = model.empty_cache(1)
    model.eval()
    a, _, _ = model(x, k, v)
    b, _, _ = model(x, k, v)
    assert torch.equal(a, b)


@pytest.mark.skipif(not (MODELS / "continuo-melody.onnx").exists(), reason="no exported model yet")
def test_shipped_model_matches_its_metadata():
    meta = json.loads((MODELS / "continuo-melody.json").read_text())
    data = (MODELS / "continuo-melody.onnx").read_bytes()
    assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    # A v1 model knows the first 581 tokens (v2 only added tokens after them).
    assert meta["vocab"] == T.VOCAB[: len(meta["vocab"])]
    assert len(meta["vocab"]) in (T.V1_VOCAB_SIZE, len(T.VOCAB))
    assert meta["parity"]["incremental_max_abs_diff"] <= 1e-4
