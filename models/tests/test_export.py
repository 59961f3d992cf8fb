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


@pytest.mark.parametrize("cache", ["growing", "in-place"])
def test_export_parity_full_and_incremental(tmp_path, cache):
    # The in-place parity keeps the cache as the plugin does: in a buffer larger than the valid
    # past whose unused positions hold noise, so a mask that let them through would fail here.
    torch.manual_seed(0)
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=2, d_model=64, heads=2, d_ff=128))
    model.eval()
    path = tmp_path / f"tiny-{cache}.onnx"
    export.export(model, path, cache)
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


def test_in_place_forward_equals_the_growing_cache():
    # Two prompts of 8 tokens, each continued by two rows (variations) with 4 tokens of their own
    # already cached, then 6 new tokens; the buffers hold noise past their valid positions.
    torch.manual_seed(1)
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=2, d_model=64, heads=2, d_ff=128))
    model.eval()
    prompts = torch.randint(0, len(T.VOCAB), (2, 8))
    x = torch.cat([prompts.repeat_interleave(2, dim=0), torch.randint(0, len(T.VOCAB), (4, 10))], dim=1)
    k, v = model.empty_cache(4)
    with torch.no_grad():
        reference, present_k, present_v = model(x, k, v)
        prompt_k, prompt_v = torch.randn(2, 2, 2, 16, 32), torch.randn(2, 2, 2, 16, 32)
        prompt_k[:, :, :, :8], prompt_v[:, :, :, :8] = present_k[:, ::2, :, :8], present_v[:, ::2, :, :8]
        past_k, past_v = torch.randn(2, 4, 2, 8, 32), torch.randn(2, 4, 2, 8, 32)
        past_k[:, :, :, :4], past_v[:, :, :, :4] = present_k[:, :, :, 8:12], present_v[:, :, :, 8:12]
        logits, new_k, new_v = model.forward_in_place(
            x[:, 12:], prompt_k, prompt_v, torch.tensor(8), past_k, past_v, torch.tensor(4)
        )
    assert torch.allclose(logits, reference[:, 12:], atol=1e-5)
    assert torch.allclose(new_k, present_k[:, :, :, 12:], atol=1e-5)
    assert torch.allclose(new_v, present_v[:, :, :, 12:], atol=1e-5)


def test_the_offline_optimized_graph_keeps_parity_and_sheds_nodes(tmp_path):
    torch.manual_seed(2)
    model = MelodyModel(Config(vocab_size=len(T.VOCAB), layers=2, d_model=64, heads=2, d_ff=128))
    model.eval()
    path = tmp_path / "tiny.onnx"
    export.export(model, path, "in-place")
    optimization = export.optimize_offline(path)
    assert optimization["nodes_after"] < optimization["nodes_before"]
    result = export.parity(model, path)
    assert result["full_max_abs_diff"] <= 1e-4
    assert result["incremental_max_abs_diff"] <= 1e-4
