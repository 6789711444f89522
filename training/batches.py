"""Training examples for the masked-diffusion objective, in the layouts the app decodes.

Every example is `length` tokens (one length per batch, so no attention mask is needed) with a
boolean `maskable` row: the positions the noise may mask and the loss counts. Four shapes:
- window: a run of whole lines, continuing to the window's end (file end -> pad);
- generate: the app's generate canvas (Dream's layout): a prompt that is never masked, then n
  positions (64 half the time, as the app's default); in 30 % of them the text stops at a line end
  within the last 16 positions and pads fill the rest, so generations learn to end;
- snippet: whole lines covering at least 85 % of the length, then pad;
- infill: prefix, a middle of m >= 1 tokens followed by pads up to its span, and the suffix head
  (DreamOn's layout); only the middle span is maskable.
Pad tails are kept short and rare outside infill. With long pad tails (earlier mixes: snippets that
covered only half the length) the entropy sampler revealed the confident pads at the end first and
walked them back to the prompt, answering nothing: each revealed pad made its neighbour's pad more
likely. A tail of at most 16 positions makes a pad next to a pad unlikely once the run is long.
Batches vary their length so the model meets the short sequences the app runs (prompt + 64 masks).
"""

from __future__ import annotations

import numpy as np

from corpus import PAD_ID, TOKENIZER, TokenStream

NL_ID = TOKENIZER.by_text["\n"]

KINDS = ("window", "generate", "snippet", "infill")
KIND_P = (0.35, 0.35, 0.05, 0.25)
DATA_MIX = {
    "kinds": dict(zip(KINDS, KIND_P)),
    "generate_new_tokens": "64 (capped to length - 1) half the time, else uniform 8..length-1",
    "generate_end_p": 0.3,
    "generate_end_tail_max": 16,
    "snippet_min_fraction": 0.85,
    "infill_middle_min": 1,
}
GEN_NEW = 64
GEN_END_P = 0.3
GEN_TAIL_MAX = 16
SNIPPET_MIN_FRACTION = 0.85


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
    if kind == "window":
        text = stream.tokens[start : min(start + length, end_file)]
        seq[: len(text)] = text
        return seq, maskable
    if kind == "generate":
        # The app's generate canvas: a prompt that is never masked, then n positions to denoise.
        n = min(GEN_NEW, length - 1) if rng.random() < 0.5 else int(rng.integers(8, length))
        p = length - n
        text = stream.tokens[start : min(start + length, end_file)]
        if rng.random() < GEN_END_P and len(text) > p:
            # A short end: the continuation stops at the last line end in its final positions.
            tail = min(GEN_TAIL_MAX, max(1, n // 4))
            nl = np.nonzero(text[max(p, len(text) - tail - 1) : len(text) - 1] == NL_ID)[0]
            if len(nl):
                text = text[: max(p, len(text) - tail - 1) + int(nl[-1]) + 1]
        seq[: len(text)] = text
        maskable[: min(p, len(text))] = False
        return seq, maskable
    if kind == "snippet":
        budget = int(rng.integers(int(length * SNIPPET_MIN_FRACTION), length + 1))
        text = _lines_upto(stream, line, budget)
        if len(text) < length * SNIPPET_MIN_FRACTION:
            # A long last line would leave a long pad tail: take the plain window instead.
            text = stream.tokens[start : min(start + length, end_file)]
        seq[: len(text)] = text
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
