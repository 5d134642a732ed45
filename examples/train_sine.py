"""Quickstart: train a tiny ncps LTC on a smooth toy task, then compile, verify and score it with ltc2c.

Task: inputs (sin t, cos t), target sin 2t, sequences of 64 steps (dt = 0.1).
Model: ncps ``LTC(2, AutoNCP(16, 1))``, Adam lr 0.01, CPU, one thread, seeded.
Then ltc2c (examples/common.py): compile for cortex-m4 (int16) calibrated on the training inputs,
verify on the held-out sequences, and the MSE against sin 2t of the float model and of the
generated C at float32 / int16 / int8, on the host and in QEMU.

Writes to ``--out`` (default: examples/models):
  sine_ltc.pt          model checkpoint written by ``ltc2c.save`` (the README's bundled model)
  sine_inputs.npz      held-out / demo inputs: key ``inputs`` [2, 256, 2] float32,
                       plus ``targets`` [2, 256, 1] float32 (the true sin 2t)
  sine_calib.npz       calibration subset of the training inputs: ``inputs`` [k, 64, 2]
  metrics_float.json   float (PyTorch) training metrics
  metrics.json         MSE float / C float32 / int16 / int8, host and QEMU
  verify_int16.json    the `ltc2c verify --quant int16` report on sine_inputs.npz
  sine_traces.png      target vs float vs int16 vs int8 C
  c_cortex_m4/         the generated C (int16)
  timings.json, build/ wall-clock times and scratch (not deterministic; not committed)

Usage:
  python examples/train_sine.py                          # full run (under a minute)
  python examples/train_sine.py --eval-only              # shipped model: compile, verify, score
  python examples/train_sine.py --quick --out scratch/sine  # a few seconds, for CI
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (sets OMP_NUM_THREADS before torch is imported)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ncps.torch import LTC  # noqa: E402
from ncps.wirings import AutoNCP  # noqa: E402

SEQ_LEN = 64
DT = 0.1
TEST_SHAPE = (2, 256)  # sequences, time steps of the saved held-out inputs
NAME = "sine"
MODEL_FILE, SPLIT_FILE, CALIB_FILE = "sine_ltc.pt", "sine_inputs.npz", "sine_calib.npz"


def make_sequences(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """n sequences starting at random phases: x = (sin t, cos t), y = sin 2t."""
    t0 = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    t = t0 + DT * np.arange(length)[None, :]
    x = np.stack([np.sin(t), np.cos(t)], axis=-1).astype(np.float32)
    y = np.sin(2.0 * t)[..., None].astype(np.float32)
    return x, y


def build_model() -> LTC:
    return LTC(2, AutoNCP(16, 1), batch_first=True, return_sequences=True)


def train(args) -> None:
    common.seed_everything(args.seed)
    rng = np.random.default_rng(args.seed)
    n_train = 32 if args.quick else 128
    x_train, y_train = make_sequences(rng, n_train, SEQ_LEN)
    x_test, y_test = make_sequences(rng, TEST_SHAPE[0], TEST_SHAPE[1])

    model = build_model()
    seconds = common.fit(model, x_train, y_train, common.mse_loss, args, batch=32, cosine=False, log_every=10)

    out = common.save_artifacts(args.out, model, MODEL_FILE, CALIB_FILE, x_train)
    np.savez(out / SPLIT_FILE, inputs=x_test, targets=y_test)

    metrics = {
        "task": "sine: (sin t, cos t) -> sin 2t",
        "model": "LTC(2, AutoNCP(16, 1))",
        "parameters": common.parameter_count(model),
        "seed": args.seed,
        "epochs": args.epochs,
        "quick": bool(args.quick),
        "train_sequences": n_train,
        "seq_len": SEQ_LEN,
        "train_mse": common.model_mse(model, x_train, y_train),
        "test_mse": common.model_mse(model, x_test, y_test),
        "test_mse_predict_zero": float(np.mean(y_test ** 2)),
        "torch": torch.__version__,
        "model_file": MODEL_FILE,
        "inputs_file": SPLIT_FILE,
        "calib_file": CALIB_FILE,
    }
    common.write_json(out / "metrics_float.json", metrics)
    common.record_timings(out, train_seconds=seconds)
    print(f"sine: test MSE {metrics['test_mse']:.5f} (train {metrics['train_mse']:.5f}, predict-zero "
          f"{metrics['test_mse_predict_zero']:.3f}), {args.epochs} epochs in {seconds:.1f} s "
          f"-> {out / MODEL_FILE}", flush=True)


def task(split: dict) -> common.Task:
    """The Task of the held-out inputs file (its ``targets``): MSE against sin 2t, the traces plot."""
    targets = np.asarray(split["targets"], dtype=np.float64)

    def plot(outputs, path):
        import matplotlib.pyplot as plt

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 4.8), sharex=True,
                                          gridspec_kw={"height_ratios": [2, 1]})
        top.plot(targets[0, :, 0], color="black", linewidth=2.5, alpha=0.3, label="target sin 2t")
        styles = {"float": ("float (ncps)", "-", 1.6, "C0"), "C int16": ("C int16", "--", 1.2, "C1"),
                  "C int8": ("C int8", ":", 1.2, "C2")}
        for key, (label, style, width, color) in styles.items():
            top.plot(outputs[key][0, :, 0], style, linewidth=width, color=color, label=label)
        top.set_ylabel("output")
        top.legend(loc="upper right", fontsize=8, ncol=4)
        for key in ("C int16", "C int8"):
            bottom.plot(np.abs(outputs[key][0, :, 0] - outputs["float"][0, :, 0]) + 1e-7, linewidth=0.9,
                        color=styles[key][3], label=f"|{key} - float|")
        bottom.set_yscale("log")
        bottom.set_ylabel("|C - float|")
        bottom.set_xlabel("step (dt = 0.1)")
        bottom.legend(loc="upper right", fontsize=8)
        fig.suptitle(f"sine quickstart: held-out sequence 0, generated C for {common.TARGET}", fontsize=10)
        fig.tight_layout()
        common.savefig(fig, path)
        plt.close(fig)

    return common.Task(name=NAME, metric="mse",
                       score=common.mse_score(targets), plot=plot, plot_file="sine_traces.png")


def main(argv=None) -> int:
    args = common.parse(common.make_parser(__doc__, HERE / "models", epochs=80, quick_epochs=5, lr=0.01), argv)
    return common.run(args, train, task, model_file=MODEL_FILE, split_file=SPLIT_FILE, calib_file=CALIB_FILE)


if __name__ == "__main__":
    sys.exit(main())
