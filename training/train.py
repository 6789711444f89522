"""Train, evaluate and export the built-in masked-diffusion model (one command).

    /usr/bin/python3 training/train.py --minutes 45          # the shipped model
    /usr/bin/python3 training/train.py --smoke --out DIR     # 3 steps on a small corpus, < 1 min

The objective is LLaDA's/MDLM's: t ~ U(0, 1), p = (1 - eps) t + eps (eps 0.05), each maskable position masked
with probability p, cross-entropy on masked positions weighted by 1/p, averaged over the maskable
positions. The learning rate warms up, then follows a cosine keyed to the wall-clock budget, so a
run ends on time whatever the machine's load. Checkpoints land in <run-dir>/ckpt (git-ignored) every
few minutes; --resume continues one.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from batches import DATA_MIX, make_batch  # noqa: E402
from corpus import (  # noqa: E402
    DEFAULT_CORPUS_ROOT,
    HELDOUT_RULE,
    MASK_ID,
    VOCAB,
    build_stream,
    load_corpus,
)
from evaluate import heldout_windows  # noqa: E402
from export import write_model_files  # noqa: E402
from release import choose, gate, keep_if_passing, record  # noqa: E402
from model import DiffusionLM, ModelConfig, count_parameters  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_streams(smoke: bool, root: str = DEFAULT_CORPUS_ROOT):
    corpus = load_corpus(root, smoke=smoke)
    return corpus, build_stream(root, corpus.train_files), build_stream(root, corpus.heldout_files)


def load_checkpoint_model(path: str) -> tuple[DiffusionLM, ModelConfig]:
    return model_from_checkpoint(torch.load(path, map_location="cpu"))


def model_from_checkpoint(ckpt: dict) -> tuple[DiffusionLM, ModelConfig]:
    cfg = ModelConfig(**ckpt["config"])
    model = DiffusionLM(cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg


def lr_at(base: float, step: int, warmup: int, frac: float) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def diffusion_loss(
    model: DiffusionLM,
    seq: torch.Tensor,
    maskable: torch.Tensor,
    gen: torch.Generator,
    eps: float,
) -> tuple[torch.Tensor, float, float, int]:
    b = seq.shape[0]
    # Stratified t over the batch lowers the variance of the 1/p weights.
    u = (torch.rand(1, generator=gen) + torch.arange(b) / b) % 1.0
    p = ((1 - eps) * u + eps)[:, None].expand_as(seq)
    masked = (torch.rand(seq.shape, generator=gen) < p) & maskable
    logits = model(seq.masked_fill(masked, MASK_ID))
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), seq.reshape(-1), reduction="none")
    ce = ce.reshape(seq.shape)
    loss = (ce * masked / p).sum() / maskable.sum().clamp(min=1)
    n = int(masked.sum())
    with torch.no_grad():
        plain = float((ce * masked).sum()) / max(1, n)
        acc = float(((logits.argmax(-1) == seq) & masked).sum()) / max(1, n)
    return loss, plain, acc, n


def rel(path: str) -> str:
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=45.0, help="wall-clock training budget")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: none)")
    ap.add_argument("--smoke", action="store_true", help="3 steps (or --max-steps) on a small corpus")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument(
        "--eps",
        type=float,
        default=0.05,
        help="lowest mask probability; the 1/p weights reach 1/eps, and on 24-row batches weights "
        "near 1000 (LLaDA's eps 1e-3) turn single tokens into clipped gradient spikes",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", type=int, default=192)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--ckpt-minutes", type=float, default=4.0)
    ap.add_argument("--corpus-root", default=DEFAULT_CORPUS_ROOT)
    ap.add_argument("--out", default=os.path.join(REPO, "resources", "model"))
    ap.add_argument("--run-dir", default=None, help="loss curve and checkpoints")
    ap.add_argument("--resume", action="store_true", help="continue <run-dir>/ckpt/last.pt")
    ap.add_argument("--eval-windows", type=int, default=400)
    args = ap.parse_args()

    if args.smoke:
        args.max_steps = args.max_steps or 3
        args.batch, args.warmup, args.eval_windows = 4, 1, 8
    run_dir = args.run_dir or os.path.join(REPO, "training", "runs", "smoke" if args.smoke else "main")
    ckpt_dir = os.path.join(run_dir, "ckpt")
    os.makedirs(ckpt_dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    t_load = time.time()
    corpus, train_stream, heldout_stream = load_streams(args.smoke, args.corpus_root)
    print(
        f"corpus: {train_stream.files} train files ({len(train_stream.tokens)} tokens), "
        f"{heldout_stream.files} held-out files, {time.time() - t_load:.1f}s",
        flush=True,
    )
    cfg = ModelConfig(
        vocab_size=len(VOCAB),
        context_length=args.context,
        d_model=args.d_model,
        layers=args.layers,
        heads=max(1, args.d_model // 32),
        ffn=4 * args.d_model,
    )
    model = DiffusionLM(cfg)
    params = count_parameters(model)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    step, elapsed, history, segments = 0, 0.0, [], []
    last = os.path.join(ckpt_dir, "last.pt")
    if args.resume and os.path.exists(last):
        ckpt = torch.load(last, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        step, elapsed, history = ckpt["step"], ckpt["elapsed"], ckpt["history"]
        segments = ckpt.get("segments", [])
        rng.bit_generator.state = ckpt["np_rng"]
        gen.set_state(ckpt["torch_gen"])
        print(f"resumed at step {step}, {elapsed:.0f}s", flush=True)
    # Each (re)start records the data mixture and settings it trained with from that step on.
    segments.append({"from_step": step, "lr": args.lr, "minutes": args.minutes, "eps": args.eps,
                     "data_mix": DATA_MIX})
    print(f"model: {params} parameters, {cfg}", flush=True)

    loss_path = os.path.join(run_dir, "loss.csv")
    if args.resume and os.path.exists(loss_path):
        # Rows logged after the checkpoint were trained again from it: drop the stale ones.
        with open(loss_path, newline="") as f:
            rows = list(csv.reader(f))
        with open(loss_path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(
                [rows[0]] + [r for r in rows[1:] if int(r[0]) <= step]
            )
    else:
        # A fresh run: an earlier run's gate verdicts and kept weights are not this run's.
        for stale in (os.path.join(run_dir, "gate.csv"), os.path.join(ckpt_dir, "gate.pt")):
            if os.path.exists(stale):
                os.remove(stale)
        with open(loss_path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(
                ["step", "seconds", "lr", "loss", "masked_ce", "masked_acc", "seq_len"]
            )
    windows = heldout_windows(heldout_stream, cfg.context_length, args.eval_windows, seed=1234)
    baseline_id = int(np.bincount(train_stream.tokens, minlength=len(VOCAB)).argmax())

    def save() -> None:
        torch.save(
            {
                "config": cfg.to_json(),
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "history": history,
                "segments": segments,
                "np_rng": rng.bit_generator.state,
                "torch_gen": gen.get_state(),
            },
            last + ".tmp",
        )
        os.replace(last + ".tmp", last)

    budget = args.minutes * 60
    start_step = step
    window: list[tuple[float, float, float]] = []
    last_ckpt = elapsed
    start = time.time() - elapsed
    model.train()
    while True:
        elapsed = time.time() - start
        if args.max_steps and step >= args.max_steps:
            break
        if not args.max_steps and elapsed >= budget:
            break
        frac = step / args.max_steps if args.max_steps else elapsed / budget
        lr = lr_at(args.lr, step, args.warmup, frac)
        for g in opt.param_groups:
            g["lr"] = lr
        seq_np, maskable_np = make_batch(train_stream, rng, args.batch, cfg.context_length)
        seq, maskable = torch.from_numpy(seq_np), torch.from_numpy(maskable_np)
        loss, plain, acc, _ = diffusion_loss(model, seq, maskable, gen, args.eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        lv = float(loss)
        if not math.isfinite(lv):
            raise SystemExit(f"loss is {lv} at step {step}")
        window.append((lv, plain, acc))
        history.append(lv)
        if step % 10 == 0 or args.smoke:
            w = np.mean(np.array(window), axis=0)
            window = []
            with open(loss_path, "a", newline="") as f:
                csv.writer(f, lineterminator="\n").writerow(
                    [step, round(time.time() - start, 1), f"{lr:.6g}", f"{w[0]:.4f}",
                     f"{w[1]:.4f}", f"{w[2]:.4f}", seq.shape[1]]
                )
            if step % 50 == 0:
                print(f"step {step} {time.time() - start:.0f}s lr {lr:.2e} loss {w[0]:.3f} "
                      f"ce {w[1]:.3f} acc {w[2]:.3f}", flush=True)
        if time.time() - start - last_ckpt >= args.ckpt_minutes * 60:
            elapsed = time.time() - start
            save()
            # The release gate at every checkpoint: the latest one meeting the bar is kept.
            result = gate(model, windows, baseline_id, cfg.context_length)
            record(run_dir, step, elapsed, result)
            print(f"held-out eval at step {step}: char acc {result['eval']['masked_accuracy']:.3f} "
                  f"token acc {result['eval']['masked_token_accuracy']:.3f}", flush=True)
            if keep_if_passing(run_dir, model, cfg.to_json(), step, elapsed, result):
                print(f"step {step} meets the quality bar: kept as ckpt/gate.pt", flush=True)
            last_ckpt = time.time() - start
    elapsed = time.time() - start
    if step == start_step and args.resume and len(segments) > 1:
        segments.pop()  # a resume with no budget left trained nothing: not a segment
    save()
    print(f"trained {step} steps in {elapsed:.0f}s; evaluating", flush=True)

    model.eval()
    t_eval = time.time()
    final = gate(model, windows, baseline_id, cfg.context_length)
    if not args.smoke and step > start_step:
        record(run_dir, step, elapsed, final)
    shipped_model, result, shipped = choose(run_dir, model, step, final)
    ev, samples, quality = result["eval"], result["samples"], result["quality"]
    ev["heldout"] = HELDOUT_RULE + (" (smoke: a 4-file subset)" if args.smoke else "")
    ev["heldout_files"] = heldout_stream.files
    ev["seconds"] = round(time.time() - t_eval, 1)
    # The numbers of the weights that ship (an earlier checkpoint when the final ones miss the bar).
    tail = history[: shipped["step"]][-50:]
    training = {
        "smoke": args.smoke,
        "steps": shipped["step"],
        "batch_size": args.batch,
        "seed": args.seed,
        "lr": args.lr,
        "warmup_steps": args.warmup,
        "schedule": "linear warmup, cosine to 0.1x keyed to the wall-clock budget"
        if not args.max_steps
        else "linear warmup, cosine to 0.1x over max_steps",
        "objective": f"masked diffusion (LLaDA/MDLM): p=(1-eps)t+eps, t~U(0,1), eps={args.eps}, "
        "CE/p on masked positions, averaged over maskable positions",
        "eps": args.eps,
        "final_loss": float(np.mean(tail)),
        "final_loss_note": "mean 1/p-weighted loss over the last 50 steps",
        "seconds": round(shipped["seconds"] if shipped["seconds"] is not None else elapsed, 1),
        "budget_minutes": args.minutes if not args.max_steps else None,
        "device": "cpu",
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loss_curve": rel(loss_path),
        "segments": segments,
        "shipped": shipped,
    }
    meta = write_model_files(
        shipped_model, args.out, params, corpus.describe(train_stream), training, ev, samples,
        quality, result.get("extra_samples"),
    )
    print(
        f"exported {os.path.join(args.out, 'builtin.onnx')} (the weights of step {shipped['step']}) "
        f"sha256 {meta['onnx']['sha256']}; "
        f"char acc {ev['masked_accuracy']:.3f} token acc {ev['masked_token_accuracy']:.3f} "
        f"baseline {ev['baseline_accuracy']:.3f}; meets bar: {quality['meets_quality_bar']}",
        flush=True,
    )
    for s in samples:
        print(f"--- {s['kind']} {s['prompt']!r}\n{s['output']!r}", flush=True)


if __name__ == "__main__":
    main()
