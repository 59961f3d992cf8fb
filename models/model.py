"""A small decoder-only transformer over Continuo's melody tokens, with an explicit KV cache.

`forward(tokens, past_k, past_v)` takes the cache of all earlier positions and returns the logits
of the new positions and the grown cache, so the ONNX export can run a prompt in one call and then
one token per call. Shapes: tokens [B, T]; past_k, past_v [L, B, H, P, D]; logits [B, T, V];
present_k, present_v [L, B, H, P + T, D].

`forward_in_place(...)` is the same model with a cache the caller keeps, in buffers per layer of
which a given number of positions are valid (a buffer's capacity may be larger): the prompt's
[R, H, Cp, D] — one row per distinct prompt, read once for all the rows that continue it — and
each row's own positions after it [B, H, C, D]; only the keys and values of the new positions
come back ([L, B, H, T, D]), for the caller to write into its buffers. Nothing in the graph copies
the past (the exported growing cache spends most of a step copying it: `Gather` of each layer's
slice, `Concat`, and stacking the presents), and variations of one prompt share its cache.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 581
    context: int = 512
    layers: int = 4
    d_model: int = 256
    heads: int = 4
    d_ff: int = 1024
    dropout: float = 0.1

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.norm1 = nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.ff = nn.Sequential(
            nn.Linear(config.d_model, config.d_ff),
            nn.GELU(),
            nn.Linear(config.d_ff, config.d_model),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, past_k, past_v, mask):
        c = self.config
        b, t, _ = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(c.d_model, dim=2)
        q = q.view(b, t, c.heads, c.head_dim).transpose(1, 2)
        k = k.view(b, t, c.heads, c.head_dim).transpose(1, 2)
        v = v.view(b, t, c.heads, c.head_dim).transpose(1, 2)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        if self.training:
            # Training always starts from an empty cache: plain causal attention (fast path).
            attended = F.scaled_dot_product_attention(
                q, k, v, is_causal=past_k.shape[2] == 0, attn_mask=None if past_k.shape[2] == 0 else mask,
                dropout_p=c.dropout,
            )
        else:
            # Written out (rather than SDPA) so the ONNX graph is plain MatMul/Softmax.
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(c.head_dim)
            scores = scores.masked_fill(~mask, float("-inf"))
            attended = scores.softmax(dim=-1) @ v
        attended = attended.transpose(1, 2).reshape(b, t, c.d_model)
        x = x + self.dropout(self.proj(attended))
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, k, v

    def forward_in_place(self, x, prompt_k, prompt_v, past_k, past_v, mask):
        """Attention over caller-kept buffers without concatenating them: the prompt's keys and
        values `prompt_k` / `prompt_v` [R, H, Cp, D] (R distinct prompts; the B = R × repeat rows
        of `x` continue them in order, `repeat` rows each), each row's own past `past_k` / `past_v`
        [B, H, C, D], then the new positions. `mask` [T, Cp + C + T] says which positions each
        query sees. Returns the new keys and values only."""
        c = self.config
        b, t, _ = x.shape
        rows, prompt_capacity, capacity = prompt_k.shape[0], prompt_k.shape[2], past_k.shape[2]
        q, k, v = self.qkv(self.norm1(x)).split(c.d_model, dim=2)
        q = q.view(b, t, c.heads, c.head_dim).transpose(1, 2)
        k = k.view(b, t, c.heads, c.head_dim).transpose(1, 2)
        v = v.view(b, t, c.heads, c.head_dim).transpose(1, 2)

        def grouped(a):  # [B, H, T, X] -> [R, H, repeat·T, X]: the rows of one prompt together
            return a.reshape(rows, -1, c.heads, t, a.shape[-1]).transpose(1, 2).reshape(rows, c.heads, -1, a.shape[-1])

        def ungrouped(a):  # the inverse
            return a.reshape(rows, c.heads, -1, t, a.shape[-1]).transpose(1, 2).reshape(-1, c.heads, t, a.shape[-1])

        scale = 1.0 / math.sqrt(c.head_dim)
        # One matrix product per prompt for all the rows that continue it: the prompt's cache
        # is read once per step, not once per variation.
        prompt_scores = ungrouped(grouped(q) @ prompt_k.transpose(-2, -1))
        scores = torch.cat([prompt_scores, q @ past_k.transpose(-2, -1), q @ k.transpose(-2, -1)], dim=-1)
        scores = (scores * scale).masked_fill(~mask, float("-inf"))
        weights = scores.softmax(dim=-1)
        own = prompt_capacity + capacity
        attended = (
            ungrouped(grouped(weights[..., :prompt_capacity]) @ prompt_v)
            + weights[..., prompt_capacity:own] @ past_v
            + weights[..., own:] @ v
        )
        attended = attended.transpose(1, 2).reshape(b, t, c.d_model)
        x = x + self.proj(attended)
        x = x + self.ff(self.norm2(x))
        return x, k, v


class MelodyModel(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.position = nn.Embedding(config.context, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.apply(self._init)
        # Residual projections scaled down with depth (GPT-2).
        for block in self.blocks:
            for layer in (block.proj, block.ff[2]):
                nn.init.normal_(layer.weight, std=0.02 / math.sqrt(2 * config.layers))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def empty_cache(self, batch: int, device=None):
        c = self.config
        shape = (c.layers, batch, c.heads, 0, c.head_dim)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(self, tokens, past_k, past_v):
        b, t = tokens.shape
        past = past_k.shape[3]
        positions = torch.arange(t, device=tokens.device) + past
        x = self.dropout(self.embed(tokens) + self.position(positions))
        # Query i (absolute past + i) sees keys 0..past + i.
        mask = torch.ones(t, past + t, dtype=torch.bool, device=tokens.device).tril(diagonal=past)
        present_k, present_v = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, past_k[i], past_v[i], mask)
            present_k.append(k)
            present_v.append(v)
        logits = self.norm(x) @ self.embed.weight.T  # tied output head
        return logits, torch.stack(present_k), torch.stack(present_v)

    def forward_in_place(self, tokens, prompt_k, prompt_v, prompt_length, past_k, past_v, past_length):
        """Inference with caller-kept cache buffers (see the module's doc), one [rows, H, C, D]
        buffer per layer in each of `prompt_k`, `prompt_v` (R rows: the distinct prompts),
        `past_k`, `past_v` (B = R × repeat rows: each row's own positions after its prompt); a
        sequence per layer, or a tensor [L, ...]. `prompt_length` and `past_length` (0-d int64)
        positions of them are valid; the new tokens follow at position prompt_length +
        past_length."""
        b, t = tokens.shape
        device = tokens.device
        prompt_capacity, capacity = prompt_k[0].shape[2], past_k[0].shape[2]
        positions = torch.arange(t, device=device) + prompt_length + past_length
        x = self.embed(tokens) + self.position(positions)
        in_prompt = (torch.arange(prompt_capacity, device=device) < prompt_length).unsqueeze(0)
        in_past = (torch.arange(capacity, device=device) < past_length).unsqueeze(0)
        causal = torch.ones(t, t, dtype=torch.bool, device=device).tril()
        mask = torch.cat([in_prompt.expand(t, prompt_capacity), in_past.expand(t, capacity), causal], dim=1)
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block.forward_in_place(x, prompt_k[i], prompt_v[i], past_k[i], past_v[i], mask)
            new_k.append(k)
            new_v.append(v)
        logits = self.norm(x) @ self.embed.weight.T
        return logits, torch.stack(new_k), torch.stack(new_v)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
