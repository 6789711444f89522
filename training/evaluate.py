"""Evaluation of the built-in model: held-out masked accuracy and sample answers.

Run on its own against a checkpoint (`python3 training/evaluate.py --checkpoint PATH`) or called by
train.py after training. Masked accuracy: windows of held-out files, each position masked with
probability 0.15, argmax prediction. Reported per token and per character (a multi-character
whitespace token counts with its length); the baseline predicts the training corpus's most
frequent token everywhere.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

import numpy as np
import torch

from corpus import MASK_ID, PAD_ID, TOKENIZER, VOCAB, TokenStream
from sampler import diffusion_generate

DEFAULT_PARAMS = {
    "max_new_tokens": 64,
    "steps": 64,
    "temperature": 0.2,
    "top_p": 0.9,
    "alg": "entropy",
    "seed": 0,
}

SAMPLE_PROMPTS = [
    {"kind": "infill", "prompt": "def add(a, b):\n    ", "suffix": "\n"},
    {"kind": "generate", "prompt": "import os\n"},
    {"kind": "generate", "prompt": "class Stack:\n    def __init__(self):\n"},
    {"kind": "generate", "prompt": "def read_config(path):\n    "},
]

# Prompts no release decision looks at: the card's samples choose which checkpoint ships, these say
# how the shipped weights do elsewhere (model.json's extra_samples).
EXTRA_PROMPTS = [
    {"kind": "generate", "prompt": "for line in lines:\n    "},
    {"kind": "generate", "prompt": "def main():\n    "},
    {"kind": "generate", "prompt": "import sys\n"},
    {"kind": "generate", "prompt": "    def __repr__(self):\n        "},
    {"kind": "generate", "prompt": "if __name__ == '__main__':\n    "},
    {"kind": "infill", "prompt": "    def close(self):\n        ", "suffix": "\n\n    def open(self):\n"},
    {"kind": "infill", "prompt": "for i in range(", "suffix": "):\n    print(i)\n"},
]

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
TOKEN_CHARS = np.array([len(t) for t in VOCAB], dtype=np.int64)


def heldout_windows(stream: TokenStream, length: int, count: int, seed: int) -> np.ndarray:
    """`count` windows of `length` tokens starting at line starts, each inside one file."""
    rng = np.random.default_rng(seed)
    ok = np.nonzero(stream.line_file_end - stream.line_starts >= length)[0]
    if len(ok) == 0:
        raise SystemExit("held-out files are shorter than one window")
    picks = np.sort(rng.choice(ok, size=min(count, len(ok)), replace=False))
    starts = stream.line_starts[picks]
    return np.stack([stream.tokens[s : s + length] for s in starts])


@torch.no_grad()
def masked_accuracy(
    model: torch.nn.Module,
    windows: np.ndarray,
    baseline_id: int,
    mask_rate: float = 0.15,
    seed: int = 0,
    batch: int = 32,
) -> dict:
    rng = np.random.default_rng(seed)
    mask = rng.random(windows.shape) < mask_rate
    correct_tokens = total_tokens = correct_chars = total_chars = 0
    base_tokens = base_chars = 0
    nll = 0.0
    for i in range(0, len(windows), batch):
        target = torch.from_numpy(windows[i : i + batch])
        m = torch.from_numpy(mask[i : i + batch])
        logits = model(target.masked_fill(m, MASK_ID))
        logp = torch.log_softmax(logits[m], dim=-1)
        truth = target[m]
        nll += float(-logp.gather(-1, truth[:, None]).sum())
        hit = (logp.argmax(-1) == truth).numpy()
        chars = TOKEN_CHARS[truth.numpy()]
        base = (truth == baseline_id).numpy()
        correct_tokens += int(hit.sum())
        total_tokens += len(hit)
        correct_chars += int((chars * hit).sum())
        total_chars += int(chars.sum())
        base_tokens += int(base.sum())
        base_chars += int((chars * base).sum())
    return {
        "mask_rate": mask_rate,
        "windows": int(len(windows)),
        "window_tokens": int(windows.shape[1]),
        "masked_tokens": total_tokens,
        "masked_chars": total_chars,
        "masked_accuracy": correct_chars / total_chars,
        "masked_token_accuracy": correct_tokens / total_tokens,
        "masked_nll_nats": nll / total_tokens,
        "baseline_token": VOCAB[baseline_id],
        "baseline_accuracy": base_chars / total_chars,
        "baseline_token_accuracy": base_tokens / total_tokens,
    }


def layout(sample: dict, context: int, n: int) -> tuple[list[int], int, int]:
    """Dream's generate layout or DreamOn's infill layout; returns ids and the masked span."""
    prefix = TOKENIZER.encode(sample["prompt"])
    room = context - n
    if sample["kind"] == "infill":
        # As the app's canvasLayout.ts: each side up to half the room, a short side leaves the rest.
        suffix = TOKENIZER.encode(sample.get("suffix", ""))
        suffix_room = min(len(suffix), max(room // 2, room - len(prefix)))
        prefix_room = min(len(prefix), room - suffix_room)
        prefix = prefix[len(prefix) - prefix_room :]
        ids = prefix + [MASK_ID] * n + suffix[:suffix_room]
    else:
        prefix = prefix[max(0, len(prefix) - room) :]
        ids = prefix + [MASK_ID] * n
    return ids, len(prefix), len(prefix) + n


def answer_stats(text: str) -> dict:
    nonspace = sum(1 for c in text if not c.isspace())
    return {
        "chars": len(text),
        "non_whitespace_fraction": nonspace / len(text) if text else 0.0,
        # A word of 3+ identifier characters holding a letter ("____" is not one).
        "identifiers": sorted({w for w in IDENT.findall(text) if re.search("[A-Za-z]", w)})[:20],
    }


def sample_ok(sample: dict) -> bool:
    """The quality bar's rule for one answer."""
    return sample["non_whitespace_fraction"] >= 0.40 and len(sample["identifiers"]) > 0


def run_samples(
    model: torch.nn.Module,
    context: int,
    params: dict | None = None,
    prompts: list[dict] | None = None,
) -> list[dict]:
    p = dict(DEFAULT_PARAMS, **(params or {}))
    out = []
    model.eval()
    for sample in SAMPLE_PROMPTS if prompts is None else prompts:
        ids, lo, hi = layout(sample, context, p["max_new_tokens"])
        x = torch.tensor([ids], dtype=torch.long)
        y = diffusion_generate(
            model,
            x,
            MASK_ID,
            steps=p["steps"],
            alg=p["alg"],
            temperature=p["temperature"],
            top_p=p["top_p"],
            seed=p["seed"],
        )
        middle = y[0, lo:hi].tolist()
        text = TOKENIZER.decode(middle)
        entry = {"prompt": sample["prompt"], "kind": sample["kind"]}
        if sample["kind"] == "infill":
            entry["suffix"] = sample.get("suffix", "")
        entry.update(
            {
                "params": p,
                "output": text,
                "ended_with_pad": PAD_ID in middle,
                **answer_stats(text),
            }
        )
        out.append(entry)
    return out


def quality_bar(ev: dict, samples: list[dict]) -> dict:
    acc = min(ev["masked_accuracy"], ev["masked_token_accuracy"])
    samples_ok = [sample_ok(s) for s in samples]
    return {
        "rule": "masked accuracy (the lower of per-char and per-token) >= 0.60 at 15% masking on "
        "held-out files, and every sample answer at the default parameters >= 40% non-whitespace "
        "with an identifier-like word",
        "accuracy_used": acc,
        "accuracy_ok": acc >= 0.60,
        "samples_ok": samples_ok,
        "meets_quality_bar": acc >= 0.60 and all(samples_ok),
    }


def main() -> None:
    from train import load_checkpoint_model, load_streams

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--windows", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, cfg = load_checkpoint_model(args.checkpoint)
    corpus, train, heldout = load_streams(smoke=False)
    baseline = int(np.bincount(train.tokens, minlength=len(VOCAB)).argmax())
    windows = heldout_windows(heldout, cfg.context_length, args.windows, seed=1234)
    ev = masked_accuracy(model, windows, baseline)
    samples = run_samples(model, cfg.context_length)
    json.dump(
        {"eval": ev, "samples": samples, "quality": quality_bar(ev, samples)},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
