"""The release gate: which weights get exported as the shipped model.

The quality bar (evaluate.quality_bar) is checked at every checkpoint of a run, not only at its end:
the full held-out accuracy and the sample answers at the default request parameters. Each check is
a row of <run-dir>/gate.csv, and the latest checkpoint that meets the bar is kept as
<run-dir>/ckpt/gate.pt. A run exports its final weights when they meet the bar, else the latest
checkpoint that did (model.json's training.shipped says which and why), else the final weights with
meets_quality_bar false. (gate.csv replaces the 64-window quick evaluations that eval.csv holds
up to step 15,113.) At this model's size the sample answers at temperature 0.2 change from one
checkpoint to the next, so the end of a run is not always the checkpoint to ship.

    /usr/bin/python3 training/release.py --run-dir training/runs/main CKPT [CKPT ...]

checks saved checkpoint files after the fact (in step order) and records them the same way.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from corpus import VOCAB  # noqa: E402
from evaluate import (  # noqa: E402
    EXTRA_PROMPTS,
    heldout_windows,
    masked_accuracy,
    quality_bar,
    run_samples,
    sample_ok,
)

GATE_FIELDS = ["step", "seconds", "masked_accuracy", "masked_token_accuracy", "samples_ok",
               "meets_quality_bar", "extra_samples_ok"]


def gate(model: torch.nn.Module, windows: np.ndarray, baseline_id: int, context: int) -> dict:
    """The quality bar's verdict on `model`: held-out accuracy, sample answers, quality."""
    was_training = model.training
    model.eval()
    ev = masked_accuracy(model, windows, baseline_id)
    samples = run_samples(model, context)
    extra = run_samples(model, context, prompts=EXTRA_PROMPTS)
    for s in extra:
        s["meets_sample_rule"] = sample_ok(s)
    if was_training:
        model.train()
    return {"eval": ev, "samples": samples, "quality": quality_bar(ev, samples),
            "extra_samples": extra}


def record(run_dir: str, step: int, seconds: float, result: dict) -> None:
    path = os.path.join(run_dir, "gate.csv")
    new = not os.path.exists(path)
    q = result["quality"]
    with open(path, "a", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        if new:
            w.writerow(GATE_FIELDS)
        w.writerow([step, round(seconds, 1), f"{result['eval']['masked_accuracy']:.4f}",
                    f"{result['eval']['masked_token_accuracy']:.4f}",
                    "".join("1" if ok else "0" for ok in q["samples_ok"]),
                    int(q["meets_quality_bar"]),
                    "".join("1" if s["meets_sample_rule"] else "0" for s in result["extra_samples"])])


def keep_if_passing(run_dir: str, model: torch.nn.Module, config: dict, step: int,
                    seconds: float, result: dict) -> bool:
    """Saves the weights as ckpt/gate.pt when they meet the bar; says whether they did."""
    if not result["quality"]["meets_quality_bar"]:
        return False
    path = os.path.join(run_dir, "ckpt", "gate.pt")
    torch.save({"config": config, "model": model.state_dict(), "step": step, "seconds": seconds,
                "result": result}, path + ".tmp")
    os.replace(path + ".tmp", path)
    return True


def choose(run_dir: str, final_model: torch.nn.Module, final_step: int, final: dict):
    """(model, result, shipped) for the export: the final weights, or the latest passing ones."""
    path = os.path.join(run_dir, "ckpt", "gate.pt")
    if final["quality"]["meets_quality_bar"] or not os.path.exists(path):
        return final_model, final, {"step": final_step, "why": "the run's final weights", "seconds": None}
    kept = torch.load(path, map_location="cpu")
    model = type(final_model)(final_model.cfg)
    model.load_state_dict(kept["model"])
    model.eval()
    missed = [s["prompt"] for s, ok in zip(final["samples"], final["quality"]["samples_ok"])
              if not ok]
    shipped = {
        "step": kept["step"],
        "seconds": kept["seconds"],
        "why": "the latest checkpoint that met the quality bar (training/release.py); the final "
        f"weights (step {final_step}) missed it",
        "final_step": final_step,
        "final_masked_accuracy": final["eval"]["masked_accuracy"],
        "final_masked_token_accuracy": final["eval"]["masked_token_accuracy"],
        "final_samples_missed": missed,
        "final_samples": [s["output"] for s in final["samples"]],
    }
    return model, kept["result"], shipped


def main() -> None:
    from train import load_streams, model_from_checkpoint

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--windows", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    _, train, heldout = load_streams(smoke=False)
    baseline = int(np.bincount(train.tokens, minlength=len(VOCAB)).argmax())
    loaded = sorted(((torch.load(p, map_location="cpu"), p) for p in args.checkpoints),
                    key=lambda c: c[0]["step"])
    for ckpt, _ in loaded:
        model, cfg = model_from_checkpoint(ckpt)
        windows = heldout_windows(heldout, cfg.context_length, args.windows, seed=1234)
        result = gate(model, windows, baseline, cfg.context_length)
        record(args.run_dir, ckpt["step"], ckpt["elapsed"], result)
        kept = keep_if_passing(args.run_dir, model, cfg.to_json(), ckpt["step"], ckpt["elapsed"],
                               result)
        q = result["quality"]
        print(f"step {ckpt['step']}: char acc {result['eval']['masked_accuracy']:.3f}, samples "
              f"{q['samples_ok']}{' -> ckpt/gate.pt' if kept else ''}", flush=True)


if __name__ == "__main__":
    main()
