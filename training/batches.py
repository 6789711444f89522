"""Training examples for the masked-diffusion objective, in the layouts the app decodes.

Every example is `length` tokens (one length per batch, so no attention mask is needed) with a
boolean `maskable` row: the positions the noise may mask and the loss counts. Four shapes:
- window: a run of whole lines, continuing to the window's end (file end -> pad);
- snippet: k whole lines covering at least half the length, then pad to the end, so generations
  learn to stop;
- prefix: a window or a snippet (half each) whose first p tokens are never masked (Dream's generate
  layout);
- infill: prefix, a middle of m >= 1 tokens followed by pads up to its span, and the suffix head
  (DreamOn's layout); only the middle span is maskable.
Pad tails are kept to a minority: with pad-heavy mixes the entropy sampler revealed the confident
pads at the end first and walked them back to the prompt, answering nothing.
Batches vary their length so the model meets the short sequences the app runs (prompt + 64 masks).
"""

from __future__ import annotations

import numpy as np

from corpus import PAD_ID, TokenStream

KINDS = ("window", "snippet", "prefix", "infill")
KIND_P = (0.45, 0.15, 0.15, 0.25)
DATA_MIX = {
    "kinds": dict(zip(KINDS, KIND_P)),
    "snippet_min_fraction": 0.5,
    "prefix_window_fraction": 0.5,
    "infill_middle_min": 1,
}


def _lines_upto(stream: TokenStream, line: int, budget: int) -> np.ndarray:
    """Whole lines from line index `line`, as many as fit in `budget` (at least part of one)."""
    start = stream.line_starts[line]
    end_file = stream.line_file_end[line]
    stop = min(start + budget, end_file)
    # The last line start at or below `stop` inside the file bounds the whole-line text.
    j = np.searchsorted(stream.line_starts, stop, side="right") - 1
    cut = stream.line_starts[j] if stream.line_starts[j] > start else stop
    if stop == end_file:
        cut = end_file
    return stream.tokens[start:cut]


def make_example(
    stream: TokenStream, rng: np.random.Generator, length: int, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    line = int(rng.integers(len(stream.line_starts)))
    start = stream.line_starts[line]
    end_file = stream.line_file_end[line]
    seq = np.full(length, PAD_ID, dtype=np.int64)
    maskable = np.ones(length, dtype=bool)
    if kind == "window" or (kind == "prefix" and rng.random() < 0.5):
        text = stream.tokens[start : min(start + length, end_file)]
        seq[: len(text)] = text
        if kind == "prefix" and len(text) > 1:
            maskable[: int(rng.integers(1, len(text)))] = False
        return seq, maskable
    if kind in ("snippet", "prefix"):
        text = _lines_upto(stream, line, int(rng.integers(max(8, length // 2), length + 1)))
        seq[: len(text)] = text
        if kind == "prefix" and len(text) > 1:
            maskable[: int(rng.integers(1, len(text)))] = False
        return seq, maskable
    # infill: middle of m real tokens inside a span of m + extra, extra filled with pads.
    span = int(rng.integers(1, min(64, length - 2) + 1))
    m = int(rng.integers(1, span + 1))
    extra = span - m
    text = stream.tokens[start : min(start + length - extra, end_file)]
    if len(text) < m + 1:
        m = max(1, len(text) - 1)
        extra = span - m
    a = int(rng.integers(1, len(text) - m + 1)) if len(text) > m else len(text)
    body = np.concatenate(
        [text[:a], text[a : a + m], np.full(extra, PAD_ID, dtype=np.int64), text[a + m :]]
    )[:length]
    seq[: len(body)] = body
    maskable[:] = False
    maskable[a : min(a + span, length)] = True
    return seq, maskable


def make_batch(
    stream: TokenStream, rng: np.random.Generator, batch: int, context: int
) -> tuple[np.ndarray, np.ndarray]:
    length = context if rng.random() < 0.5 else int(rng.integers(48, context + 1))
    kinds = rng.choice(len(KINDS), size=batch, p=KIND_P)
    rows = [make_example(stream, rng, length, KINDS[k]) for k in kinds]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])
