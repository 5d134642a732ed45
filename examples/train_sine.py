"""Quickstart: train a tiny ncps LTC on a smooth toy task and save it for ltc2c.

Task: inputs (sin t, cos t), target sin 2t, sequences of 64 steps (dt = 0.1).
Model: ncps ``LTC(2, AutoNCP(16, 1))``, Adam lr 0.01, CPU, one thread, seeded.

Writes to ``--out`` (default: examples/models):
  sine_ltc.pt          model checkpoint written by ``ltc2c.save`` (compile it with ltc2c)
  sine_inputs.npz      calibration / test inputs: key ``inputs`` [2, 256, 2] float32,
                       plus ``targets`` [2, 256, 1] float32 (the true sin 2t)
  metrics_float.json   float (PyTorch) metrics of the trained model

Usage:
  python examples/train_sine.py            # full run (well under a minute)
  python examples/train_sine.py --quick --out /tmp/sine   # a few seconds, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from ncps.torch import LTC
from ncps.wirings import AutoNCP

import ltc2c

HERE = Path(__file__).resolve().parent
SEQ_LEN = 64
DT = 0.1
TEST_SHAPE = (2, 256)  # sequences, time steps of the saved calibration/test inputs


def seed_everything(seed: int) -> None:
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_sequences(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """n sequences starting at random phases: x = (sin t, cos t), y = sin 2t."""
    t0 = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    t = t0 + DT * np.arange(length)[None, :]
    x = np.stack([np.sin(t), np.cos(t)], axis=-1).astype(np.float32)
    y = np.sin(2.0 * t)[..., None].astype(np.float32)
    return x, y


def build_model() -> LTC:
    return LTC(2, AutoNCP(16, 1), batch_first=True, return_sequences=True)


def mse(model: LTC, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        pred, _ = model(torch.from_numpy(x))
    return float(torch.mean((pred - torch.from_numpy(y)) ** 2))


def train(args) -> dict:
    seed_everything(args.seed)
    rng = np.random.default_rng(args.seed)
    n_train = 32 if args.quick else 128
    x_train, y_train = make_sequences(rng, n_train, SEQ_LEN)
    x_test, y_test = make_sequences(rng, TEST_SHAPE[0], TEST_SHAPE[1])

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(args.seed)
    batch = 32
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            pred, _ = model(xt[idx])
            loss = torch.mean((pred - yt[idx]) ** 2)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if args.verbose or epoch == args.epochs - 1 or epoch % 10 == 0:
            print(f"epoch {epoch + 1:3d}/{args.epochs}  train mse {total / len(xt):.5f}", flush=True)
    train_seconds = time.perf_counter() - start

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "sine_ltc.pt"
    inputs_path = out / "sine_inputs.npz"
    ltc2c.save(model, model_path)
    os.chmod(model_path, 0o644)
    np.savez(inputs_path, inputs=x_test, targets=y_test)

    metrics = {
        "task": "sine: (sin t, cos t) -> sin 2t",
        "model": "LTC(2, AutoNCP(16, 1))",
        "parameters": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "seed": args.seed,
        "epochs": args.epochs,
        "quick": bool(args.quick),
        "train_sequences": n_train,
        "seq_len": SEQ_LEN,
        "train_mse": mse(model, x_train, y_train),
        "test_mse": mse(model, x_test, y_test),
        "test_mse_predict_zero": float(np.mean(y_test ** 2)),
        "train_seconds": round(train_seconds, 2),
        "torch": torch.__version__,
        "model_file": model_path.name,
        "inputs_file": inputs_path.name,
    }
    (out / "metrics_float.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return {"model_path": model_path, "inputs_path": inputs_path, "out": out, "metrics": metrics}


def evaluate_with_ltc2c(model_path: Path, inputs_path: Path, out_dir: Path) -> dict | None:
    """Phase 2 hook: compile ``model_path`` with ltc2c, run the C code on ``inputs_path`` and
    compare it with PyTorch. Not wired up yet: the compiler pipeline is still being built."""
    return None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="train for a few seconds (CI smoke test)")
    p.add_argument("--out", default=str(HERE / "models"), help="output folder (default: examples/models)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 80, or 5 with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--verbose", action="store_true", help="print every epoch")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 5 if args.quick else 80
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    result = train(args)
    m = result["metrics"]
    evaluate_with_ltc2c(result["model_path"], result["inputs_path"], result["out"])
    print(f"sine: test MSE {m['test_mse']:.5f} (train {m['train_mse']:.5f}, predict-zero "
          f"{m['test_mse_predict_zero']:.3f}), {m['epochs']} epochs in {m['train_seconds']:.1f} s "
          f"-> {result['model_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
