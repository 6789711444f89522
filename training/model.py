"""A small bidirectional transformer for masked diffusion (no causal mask, as LLaDA and Dream).

A convolution over the embeddings (kernel 7) gives every position its neighbours at once: the spike
on this machine found a plain transformer with learned positions stuck at the unigram plateau
without it. It is written as shifted copies and one Linear, not nn.Conv1d: Debian's torch 1.13
returned garbage Conv1d weight/bias gradients here (norms of 1e13 that a recomputation of the same
batch did not reproduce), which kept training at the plateau.
Position i's logits predict token i (no shift, unlike Dream's AR-initialised model).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int
    context_length: int = 192
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    ffn: int = 512
    conv_kernel: int = 7

    def to_json(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.d_model // cfg.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.d_model = cfg.d_model
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.ffn)
        self.fc2 = nn.Linear(cfg.ffn, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s = x.shape[0], x.shape[1]
        qkv = self.qkv(self.ln1(x)).reshape(b, s, 3, self.heads, self.head_dim)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax((q @ k.transpose(-1, -2)) * self.scale, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, s, self.d_model)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class DiffusionLM(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context_length, cfg.d_model)
        self.conv = nn.Linear(cfg.conv_kernel * cfg.d_model, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def neighbours(self, x: torch.Tensor) -> torch.Tensor:
        """[b, s, d] -> [b, s, k*d]: each position with its k-window (zeros past the edges)."""
        k = self.cfg.conv_kernel
        padded = F.pad(x, (0, 0, k // 2, k // 2))
        s = x.shape[1]
        return torch.cat([padded[:, i : i + s] for i in range(k)], dim=-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.tok(tokens) + self.pos(positions).unsqueeze(0)
        x = x + F.gelu(self.conv(self.neighbours(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
