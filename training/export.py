"""ONNX export and model.json, in the format of MODEL_CONTRACT.md."""

from __future__ import annotations

import hashlib
import json
import os

import torch

from corpus import MASK_ID, MASK_TEXT, PAD_ID, PAD_TEXT, UNKNOWN_TEXT, VOCAB
from model import DiffusionLM

OPSET = 17
MODEL_NAME = "dm-builtin-pystdlib"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(model: DiffusionLM, path: str) -> None:
    model.eval()
    dummy = torch.zeros(1, model.cfg.context_length, dtype=torch.long)
    torch.onnx.export(
        model,
        (dummy,),
        path,
        input_names=["tokens"],
        output_names=["logits"],
        dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )


def write_model_files(
    model: DiffusionLM,
    out_dir: str,
    parameters: int,
    corpus: dict,
    training: dict,
    evaluation: dict,
    samples: list[dict],
    quality: dict,
    extra_samples: list[dict] | None = None,
) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, "builtin.onnx")
    export_onnx(model, onnx_path)
    size = os.path.getsize(onnx_path)
    if size > 10 * 1024 * 1024:
        raise SystemExit(f"{onnx_path} is {size} bytes, over the 10 MB limit")
    meta = {
        "name": MODEL_NAME,
        "format_version": 1,
        "description": "A tiny masked-diffusion language model trained on this machine's CPU on "
        "Python's standard library; it writes Python-shaped text, not working code.",
        "vocab": VOCAB,
        "vocab_size": len(VOCAB),
        "mask_id": MASK_ID,
        "pad_id": PAD_ID,
        "special_text": {"mask": MASK_TEXT, "pad": PAD_TEXT},
        "tokenizer": {"type": "greedy-longest-match", "unknown": UNKNOWN_TEXT},
        "logits": "position i's logits predict token i (no shift)",
        "context_length": model.cfg.context_length,
        "parameters": parameters,
        "architecture": {
            "type": "bidirectional transformer, pre-LN, GELU, learned positions, "
            "Conv1d over the embeddings",
            **model.cfg.to_json(),
        },
        "corpus": corpus,
        "training": training,
        "eval": evaluation,
        "samples": samples,
        "quality_bar": quality,
        "extra_samples": extra_samples or [],
        "extra_samples_note": "prompts no release decision looks at, at the same parameters, with "
        "the sample rule's verdict (meets_sample_rule)",
        "meets_quality_bar": quality["meets_quality_bar"],
        "onnx": {"file": "builtin.onnx", "sha256": sha256_file(onnx_path), "opset": OPSET,
                 "bytes": size},
    }
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=True)
        f.write("\n")
    return meta
