"""Dream's `diffusion_generate` sampler (DreamLM generation_utils.py), for evaluation.

Timesteps linspace(1, eps, steps + 1); `origin` reveals each masked position with probability
1 - s/t; `maskgit_plus` (top probability), `topk_margin` (top-1 minus top-2) and `entropy`
(negative entropy) reveal int(masked * (1 - s/t)) of the most confident masked positions per step
(all that remain at the last step), or sample them from softmax(confidence / alg_temp). Dream
shifts its logits by one position because it was initialised from an autoregressive model; this
model predicts each position itself, so there is no shift.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def top_p_logits(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    sorted_logits, sorted_indices = torch.sort(logits, descending=True)
    cumulative = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
    remove = cumulative > top_p
    remove[..., 1:] = remove[..., :-1].clone()
    remove[..., 0] = False
    mask = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, sorted_indices, remove)
    return logits.masked_fill(mask, torch.finfo(logits.dtype).min)


def top_k_logits(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    top_k = min(top_k, logits.size(-1))
    kth = torch.topk(logits, top_k)[0][..., -1, None]
    return logits.masked_fill(logits < kth, torch.finfo(logits.dtype).min)


def sample_tokens(
    logits: torch.Tensor,
    temperature: float,
    top_p: float | None,
    top_k: int | None,
    generator: torch.Generator,
    margin_confidence: bool = False,
    neg_entropy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    if temperature > 0:
        logits = logits / temperature
    if top_p is not None and top_p < 1:
        logits = top_p_logits(logits, top_p)
    if top_k is not None:
        logits = top_k_logits(logits, top_k)
    probs = torch.softmax(logits, dim=-1)
    if temperature > 0:
        x0 = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        confidence = torch.gather(probs, -1, x0.unsqueeze(-1)).squeeze(-1)
    else:
        confidence, x0 = probs.max(dim=-1)
    if margin_confidence:
        top2 = torch.topk(probs, 2, dim=-1)[0]
        confidence = top2[:, 0] - top2[:, 1]
    if neg_entropy:
        confidence = torch.sum(probs * torch.log(probs + 1e-10), dim=-1)
    return confidence, x0


@torch.no_grad()
def diffusion_generate(
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    mask_id: int,
    steps: int,
    alg: str = "entropy",
    temperature: float = 0.2,
    top_p: float | None = 0.9,
    top_k: int | None = None,
    alg_temp: float | None = None,
    eps: float = 1e-3,
    seed: int = 0,
) -> torch.Tensor:
    """Denoise every mask in `x` ([1, seq]); other positions never change."""
    generator = torch.Generator().manual_seed(seed)
    x = x.clone()
    timesteps = torch.linspace(1, eps, steps + 1)
    for i in range(steps):
        mask_index = x == mask_id
        if not mask_index.any():
            break
        mask_logits = logits_fn(x)[mask_index]
        t, s = timesteps[i], timesteps[i + 1]
        if alg == "origin":
            p_transfer = float(1 - s / t) if i < steps - 1 else 1.0
            x0 = torch.full_like(x[mask_index], mask_id)
            transfer = torch.rand(x0.shape, generator=generator) < p_transfer
            if transfer.any():
                _, x0[transfer] = sample_tokens(
                    mask_logits[transfer], temperature, top_p, top_k, generator
                )
            x[mask_index] = x0
            continue
        confidence, x0 = sample_tokens(
            mask_logits,
            temperature,
            top_p,
            top_k,
            generator,
            margin_confidence=alg == "topk_margin",
            neg_entropy=alg == "entropy",
        )
        if alg not in ("maskgit_plus", "topk_margin", "entropy"):
            raise ValueError(f"unknown alg {alg}")
        masked = int(mask_index.sum())
        n = int(masked * float(1 - s / t)) if i < steps - 1 else masked
        if n <= 0:
            continue
        full = torch.full(x.shape, float("-inf"))
        full[mask_index] = confidence
        if not alg_temp:
            transfer_index = torch.topk(full, n, dim=-1)[1]
        else:
            probs = F.softmax(full / alg_temp, dim=-1)
            transfer_index = torch.multinomial(probs, n, generator=generator)
        candidate = torch.full_like(x, mask_id)
        candidate[mask_index] = x0
        rows = torch.arange(x.size(0)).unsqueeze(1).expand_as(transfer_index)
        x[rows, transfer_index] = candidate[rows, transfer_index]
    return x
