"""Digits: classify scikit-learn's 8x8 handwritten digits with an ncps LTC, read row by row.

Data: ``sklearn.datasets.load_digits`` (1797 images, bundled with scikit-learn, no download).
Each image is 8 time steps (rows) x 8 features (pixels), scaled to [0, 1]. Stratified 75/25
train/test split with a fixed seed.
Model: ncps ``LTC(8, AutoNCP(32, 10, sparsity_level=0.2))``: the 10 motor neurons at the last time step are the
class logits (the LTC's own affine output mapping; no extra layer, so ltc2c compiles the
whole classifier). Cross-entropy, Adam, CPU, one thread, seeded.

Then ltc2c (examples/common.py): compile for cortex-m4 (int16) calibrated on the training images,
verify on the test split, and the test accuracy (argmax of the 10 outputs at the last step) of the
float model and of the generated C at float32 / int16 / int8, on the host and in QEMU.

Writes to ``--out`` (default: examples/digits):
  digits_ltc.pt        model checkpoint written by ``ltc2c.save``
  test_split.npz       held-out test split: ``inputs`` [n, 8, 8] float32, ``labels`` [n] int64
  calib.npz            calibration subset of the training images: ``inputs`` [k, 8, 8]
  metrics_float.json   float (PyTorch) training metrics
  metrics.json         task metric float / C float32 / int16 / int8, host and QEMU
  verify_int16.json    the `ltc2c verify --quant int16` report on the test split
  confusion_int16.png  confusion matrix of the int16 C
  c_cortex_m4/         the generated C (int16)
  timings.json, build/ wall-clock times and scratch (not deterministic; not committed)

Usage:
  python examples/digits/train.py                       # full run (~1 minute, 1 thread)
  python examples/digits/train.py --eval-only           # shipped model: compile, verify, score (~30 s)
  python examples/digits/train.py --quick --out scratch/digits  # a few seconds on a subset, for CI
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402  (sets OMP_NUM_THREADS before torch is imported)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ncps.torch import LTC  # noqa: E402
from ncps.wirings import AutoNCP  # noqa: E402

SPLIT_SEED = 1234  # fixed: the test split does not depend on --seed
SPARSITY = 0.2
NAME = "digits"
MODEL_FILE, SPLIT_FILE, CALIB_FILE = "digits_ltc.pt", "test_split.npz", "calib.npz"


def load_data():
    """-> x_train, x_test [n, 8, 8] float32 in [0, 1]; y_train, y_test [n] int64."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # [1797, 8 rows (time), 8 pixels (features)]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, stratify=y, random_state=SPLIT_SEED)


def build_model() -> LTC:
    # return_sequences=False: the module returns the motor outputs of the last step only.
    # sparsity_level=0.2 (denser than the default 0.5) reaches ~91% instead of ~85%.
    return LTC(8, AutoNCP(32, 10, sparsity_level=SPARSITY), batch_first=True, return_sequences=False)


def accuracy(model: LTC, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """-> (accuracy, mean cross-entropy)."""
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(x))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    return float((logits.argmax(-1).numpy() == y).mean()), float(loss)


def train(args) -> None:
    common.seed_everything(args.seed)
    x_train, x_test, y_train, y_test = load_data()
    if args.quick:  # small stratified-ish subset: first samples of a seeded shuffle
        rng = np.random.default_rng(args.seed)
        tr = rng.permutation(len(x_train))[:300]
        te = rng.permutation(len(x_test))[:100]
        x_train, y_train, x_test, y_test = x_train[tr], y_train[tr], x_test[te], y_test[te]

    model = build_model()
    seconds = common.fit(model, x_train, y_train, torch.nn.functional.cross_entropy, args, batch=args.batch,
                         cosine=True, log_every=5,
                         report=lambda m: f"test acc {accuracy(m, x_test, y_test)[0]:.4f}")

    out = common.save_artifacts(args.out, model, MODEL_FILE, CALIB_FILE, x_train)
    np.savez_compressed(out / SPLIT_FILE, inputs=x_test.astype(np.float32), labels=y_test.astype(np.int64))

    train_acc, _ = accuracy(model, x_train, y_train)
    test_acc, test_loss = accuracy(model, x_test, y_test)
    common.write_json(out / "metrics_float.json", {
        "task": "sklearn load_digits, 8 rows x 8 pixels, 10 classes (logits = motor outputs at the last step)",
        "model": f"LTC(8, AutoNCP(32, 10, sparsity_level={SPARSITY})), return_sequences=False",
        "parameters": common.parameter_count(model),
        "seed": args.seed,
        "split_seed": SPLIT_SEED,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "quick": bool(args.quick),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "test_cross_entropy": test_loss,
        "chance_accuracy": float(np.bincount(y_test).max() / len(y_test)),
        "torch": torch.__version__,
        "model_file": MODEL_FILE,
        "test_file": SPLIT_FILE,
        "calib_file": CALIB_FILE,
    })
    common.record_timings(out, train_seconds=seconds)
    print(f"digits: float test accuracy {test_acc:.4f} on {len(x_test)} images (train {train_acc:.4f}), "
          f"{args.epochs} epochs in {seconds:.1f} s -> {out / MODEL_FILE}", flush=True)


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def task(split: dict) -> common.Task:
    """The Task of the test split (its ``labels``): accuracy of the last-row argmax, confusion plot."""
    labels = split["labels"]
    predict = lambda outputs: outputs[:, -1].argmax(-1)  # noqa: E731  (logits at the last row)

    def extra(outputs):
        ref = predict(outputs["float"])
        return {"agreement_with_float": {q: float((predict(outputs[f"C {q}"]) == ref).mean())
                                         for q in common.QUANTS},
                "confusion_int16": confusion(labels, predict(outputs["C int16"])).tolist()}

    def plot(outputs, path):
        import matplotlib.pyplot as plt

        matrix = confusion(labels, predict(outputs["C int16"]))
        acc = np.trace(matrix) / matrix.sum()
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
        ax.imshow(matrix, cmap="Blues")
        for i in range(10):
            for j in range(10):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] > matrix.max() / 2 else "black")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("predicted (generated C, int16)")
        ax.set_ylabel("true digit")
        ax.set_title(f"digits: int16 C on {common.TARGET}, accuracy {100 * acc:.2f} %", fontsize=10)
        fig.tight_layout()
        common.savefig(fig, path)
        plt.close(fig)

    return common.Task(name=NAME, metric="accuracy",
                       score=lambda outputs: float((predict(outputs) == labels).mean()),
                       acceptance={"int16": ("points", 0.005), "int8": ("points", 0.02)},
                       plot=plot, plot_file="confusion_int16.png", extra=extra)


def main(argv=None) -> int:
    args = common.parse(common.make_parser(__doc__, HERE, epochs=60, quick_epochs=5, lr=0.03, batch=32), argv)
    return common.run(args, train, task, model_file=MODEL_FILE, split_file=SPLIT_FILE, calib_file=CALIB_FILE)


if __name__ == "__main__":
    sys.exit(main())
