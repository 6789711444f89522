"""Corpus, vocabulary and tokenizer of the built-in model.

The corpus is the Python standard library that Debian's python3.11 ships (PSF licence). The
held-out evaluation files are chosen by a deterministic rule on the relative path, so every run
(and every machine with the same Debian package) splits the same way and training never sees them.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sysconfig
from dataclasses import dataclass

import numpy as np

DEFAULT_CORPUS_ROOT = "/usr/lib/python3.11"

# Ids 0..96: "\n", "\t" and printable ASCII; 97 mask, 98 pad (end of snippet); then runs of spaces,
# so indentation costs one token instead of up to 24 (the spike's char model wrote only spaces).
MASK_TEXT = "<|mask|>"
PAD_TEXT = ""
SPACE_RUNS = (2, 4, 8, 12, 16, 20, 24)
BASE_CHARS = ["\n", "\t"] + [chr(c) for c in range(32, 127)]
VOCAB: list[str] = BASE_CHARS + [MASK_TEXT, PAD_TEXT] + [" " * n for n in SPACE_RUNS]
MASK_ID = len(BASE_CHARS)
PAD_ID = MASK_ID + 1
SPECIAL_IDS = (MASK_ID, PAD_ID)
UNKNOWN_TEXT = " "


class Tokenizer:
    """Greedy longest match over the non-special vocabulary (the contract's tokenizer).

    At each position the longest non-special vocabulary entry that matches is taken; a character
    matching none becomes the `unknown` text's token. A regex alternation ordered longest first is
    exactly that rule, and fast.
    """

    def __init__(self, vocab: list[str], special_ids: tuple[int, ...], unknown: str) -> None:
        self.vocab = vocab
        entries = [(text, i) for i, text in enumerate(vocab) if i not in special_ids and text]
        self.by_text = {text: i for text, i in entries}
        ordered = sorted(self.by_text, key=lambda t: (-len(t), t))
        self.pattern = re.compile("|".join(re.escape(t) for t in ordered) + "|.", re.S)
        self.unknown_id = self.by_text[unknown]
        self.special_ids = special_ids

    def encode(self, text: str) -> list[int]:
        by_text, unknown = self.by_text, self.unknown_id
        return [by_text.get(m, unknown) for m in self.pattern.findall(text)]

    def decode(self, ids: list[int], stop_at_pad: bool = True) -> str:
        out = []
        for i in ids:
            if stop_at_pad and i == PAD_ID:
                break
            out.append(self.vocab[i])
        return "".join(out)


TOKENIZER = Tokenizer(VOCAB, SPECIAL_IDS, UNKNOWN_TEXT)


def is_heldout(relpath: str) -> bool:
    """Held-out rule: the `test` package plus ~3 % of the other files by a hash of the path."""
    if relpath.startswith("test/") or "/test/" in relpath or "/tests/" in relpath:
        return True
    bucket = int(hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:8], 16) % 100
    return bucket < 3


HELDOUT_RULE = (
    "files under test/ or tests/ plus files whose sha256(relative path) mod 100 < 3; "
    "training never reads them"
)


def list_files(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in filenames:
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


@dataclass
class TokenStream:
    """Files tokenized and concatenated; `file_ends[i]` is one past file i's last token."""

    tokens: np.ndarray
    line_starts: np.ndarray
    line_file_end: np.ndarray
    files: int
    chars: int


def build_stream(root: str, relpaths: list[str]) -> TokenStream:
    chunks: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    offset = 0
    chars = 0
    nl = TOKENIZER.by_text["\n"]
    for rel in relpaths:
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if not text.strip():
            continue
        chars += len(text)
        ids = np.asarray(TOKENIZER.encode(text), dtype=np.int64)
        line = np.concatenate([[0], np.nonzero(ids[:-1] == nl)[0] + 1])
        starts.append(line + offset)
        ends.append(np.full(len(line), offset + len(ids), dtype=np.int64))
        chunks.append(ids)
        offset += len(ids)
    return TokenStream(
        tokens=np.concatenate(chunks),
        line_starts=np.concatenate(starts),
        line_file_end=np.concatenate(ends),
        files=len(chunks),
        chars=chars,
    )


@dataclass
class Corpus:
    root: str
    train_files: list[str]
    heldout_files: list[str]
    all_files: list[str]

    def describe(self, train: TokenStream) -> dict:
        listing = "\n".join(self.all_files).encode("utf-8")
        total_chars = 0
        for rel in self.all_files:
            with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as f:
                total_chars += len(f.read())
        stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
        version = (
            platform.python_version()
            if os.path.realpath(self.root) == stdlib
            else "unknown (corpus root is not this interpreter's stdlib)"
        )
        return {
            "source": "Debian python3.11 standard library (PSF licence)",
            "root": self.root,
            "python_version": version,
            "files": len(self.all_files),
            "chars": total_chars,
            "file_list_sha256": hashlib.sha256(listing).hexdigest(),
            "train_files": train.files,
            "train_chars": train.chars,
            "train_tokens": int(len(train.tokens)),
            "heldout_files": len(self.heldout_files),
        }


def load_corpus(root: str, smoke: bool = False) -> Corpus:
    files = list_files(root)
    if not files:
        raise SystemExit(f"no .py files under {root}")
    train = [f for f in files if not is_heldout(f)]
    heldout = [f for f in files if is_heldout(f)]
    if smoke:
        # A small, fixed subset keeps the smoke run under a minute.
        train = train[:24]
        heldout = heldout[:4]
    return Corpus(root=root, train_files=train, heldout_files=heldout, all_files=files)
