"""HalfCheetah: fit the next observation of a simulated MuJoCo HalfCheetah with an ncps LTC.

Data: gymnasium ``HalfCheetah-v5`` (MuJoCo; the XML ships inside gymnasium, no download),
rolled out under a seeded sinusoidal policy (per rollout a random frequency of 1-3 Hz and a
random phase per joint, amplitude 0.9) with 5% uniformly random actions. The 17-dim
observation (8 joint positions without rootx + 9 velocities, dt = 0.05 s) is normalised per
dimension with the mean / std of the training rollouts. Rollout k uses env seed 1000*seed + k:
k = 0..2 are the test rollouts, k = 3..62 the training rollouts (1000 steps each).
Windows (the LTC paper's protocol): 33-step windows, x = steps 0..31, y = steps 1..32, i.e.
predict the next observation at every step. Training windows use stride 10; the saved test
windows use stride 32 (non-overlapping, so every test step is scored once and the file stays
small).
Model: ncps ``LTC(17, AutoNCP(40, 17, sparsity_level=0.2))`` (AutoNCP needs output_size <
units - 2), MSE on every step, Adam with cosine decay, CPU, one thread, seeded. Rollouts are
cheap (~0.1 s each); more of them (60 train) mattered more than more epochs.
Then ltc2c (examples/common.py): compile for cortex-m4 (int16) calibrated on the training windows,
verify on the test windows, and the normalised next-observation MSE of the float model and of the
generated C at float32 / int16 / int8, on the host and in QEMU. (Not comparable with the LTC paper's
2.308: that is unnormalised MSE on HalfCheetah-v2 rollouts of a pre-trained policy.)

Writes to ``--out`` (default: examples/halfcheetah):
  cheetah_ltc.pt       model checkpoint written by ``ltc2c.save``
  test_split.npz       ``inputs`` [n, 32, 17], ``targets`` [n, 32, 17] float32 (normalised),
                       ``mean`` [17], ``std`` [17] float32 (raw = normalised * std + mean)
  calib.npz            calibration subset of the training windows: ``inputs`` [k, 32, 17]
  metrics_float.json   float (PyTorch) training metrics: normalised test MSE and baselines
  metrics.json         MSE float / C float32 / int16 / int8, host and QEMU
  verify_int16.json    the `ltc2c verify --quant int16` report on the test windows
  traces.png           true vs predicted traces of 3 dimensions: float, int16, int8 C
  c_cortex_m4/         the generated C (int16)
  timings.json, build/ wall-clock times and scratch (not deterministic; not committed)

Usage:
  python examples/halfcheetah/train.py                        # full run (~3 minutes, 1 thread)
  python examples/halfcheetah/train.py --eval-only            # shipped model: compile, verify, score
  python examples/halfcheetah/train.py --quick --out scratch/hc  # a few seconds, for CI
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MUJOCO_GL", "disable")  # no rendering needed

import common  # noqa: E402  (sets OMP_NUM_THREADS before torch is imported)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ncps.torch import LTC  # noqa: E402
from ncps.wirings import AutoNCP  # noqa: E402

ENV_ID = "HalfCheetah-v5"
OBS_DIM = 17
WINDOW = 33  # x = steps 0..31, y = steps 1..32
TRAIN_STRIDE = 10
TEST_STRIDE = 32
RANDOM_ACTION_P = 0.05
SPARSITY = 0.2  # denser than AutoNCP's default 0.5: lower test MSE at the same cost
NAME = "cheetah"
MODEL_FILE, SPLIT_FILE, CALIB_FILE = "cheetah_ltc.pt", "test_split.npz", "calib.npz"
# observation layout of HalfCheetah-v5 (exclude_current_positions_from_observation=True)
OBS_NAMES = ["rootz", "rooty", "bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot",
             "vx", "vz", "vrooty", "vbthigh", "vbshin", "vbfoot", "vfthigh", "vfshin", "vffoot"]
PLOT_DIMS = (1, 2, 8)
PLOT_WINDOWS = 4  # consecutive test windows of rollout 0 (128 steps = 6.4 s)


def rollout(env, seed: int, steps: int) -> np.ndarray:
    """One seeded rollout under a sinusoidal policy with 5% random actions -> obs [steps + 1, 17]."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(1.0, 3.0)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=env.action_space.shape)
    dt = env.unwrapped.dt
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    for t in range(steps):
        if rng.random() < RANDOM_ACTION_P:
            a = rng.uniform(-1.0, 1.0, size=env.action_space.shape)
        else:
            a = 0.9 * np.sin(2.0 * np.pi * freq * t * dt + phase)
        obs, _, terminated, truncated, _ = env.step(a.astype(np.float32))
        trace.append(obs)
        if terminated or truncated:
            break
    return np.asarray(trace, dtype=np.float64)


def generate_rollouts(seeds, steps: int) -> list[np.ndarray]:
    import gymnasium as gym

    env = gym.make(ENV_ID)
    try:
        return [rollout(env, s, steps) for s in seeds]
    finally:
        env.close()


def windows(traces, stride: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for tr in traces:
        for start in range(0, len(tr) - WINDOW + 1, stride):
            w = tr[start:start + WINDOW]
            xs.append(w[:-1])
            ys.append(w[1:])
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)


def build_model(units: int) -> LTC:
    return LTC(OBS_DIM, AutoNCP(units, OBS_DIM, sparsity_level=SPARSITY), batch_first=True, return_sequences=True)


def train(args) -> None:
    common.seed_everything(args.seed)
    n_train, n_test = (2, 1) if args.quick else (args.train_rollouts, args.test_rollouts)
    steps = 200 if args.quick else 1000
    base = args.seed * 1000  # rollout k of seed s uses env seed 1000*s + k
    t0 = time.perf_counter()
    traces = generate_rollouts([base + k for k in range(n_test + n_train)], steps)
    sim_seconds = time.perf_counter() - t0
    test_traces, train_traces = traces[:n_test], traces[n_test:]

    stacked = np.concatenate(train_traces)
    mean = stacked.mean(axis=0)
    std = np.maximum(stacked.std(axis=0), 1e-6)
    norm = lambda tr: (tr - mean) / std  # noqa: E731
    x_train, y_train = windows([norm(t) for t in train_traces], TRAIN_STRIDE)
    x_test, y_test = windows([norm(t) for t in test_traces], TEST_STRIDE)

    model = build_model(args.units)
    seconds = common.fit(model, x_train, y_train, common.mse_loss, args, batch=args.batch, cosine=True, log_every=5,
                         report=lambda m: f"test mse {common.model_mse(m, x_test, y_test):.4f}")

    out = common.save_artifacts(args.out, model, MODEL_FILE, CALIB_FILE, x_train)
    np.savez_compressed(out / SPLIT_FILE, inputs=x_test, targets=y_test,
                        mean=mean.astype(np.float32), std=std.astype(np.float32))

    import gymnasium
    import mujoco

    metrics = {
        "task": f"{ENV_ID} next observation (normalised per dimension), 32-step windows",
        "model": f"LTC({OBS_DIM}, AutoNCP({args.units}, {OBS_DIM}, sparsity_level={SPARSITY}))",
        "parameters": common.parameter_count(model),
        "seed": args.seed,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "quick": bool(args.quick),
        "rollout_steps": steps,
        "train_rollouts": n_train,
        "test_rollouts": n_test,
        "train_windows": int(len(x_train)),
        "test_windows": int(len(x_test)),
        "train_stride": TRAIN_STRIDE,
        "test_stride": TEST_STRIDE,
        "train_mse": common.model_mse(model, x_train, y_train),
        "test_mse": common.model_mse(model, x_test, y_test),
        "test_mse_persistence": float(np.mean((x_test - y_test) ** 2)),
        "test_mse_predict_mean": float(np.mean(y_test ** 2)),
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "mujoco": mujoco.__version__,
        "model_file": MODEL_FILE,
        "test_file": SPLIT_FILE,
        "calib_file": CALIB_FILE,
    }
    common.write_json(out / "metrics_float.json", metrics)
    common.record_timings(out, simulation_seconds=sim_seconds, train_seconds=seconds)
    print(f"halfcheetah: normalised test MSE {metrics['test_mse']:.4f} (persistence "
          f"{metrics['test_mse_persistence']:.4f}, train {metrics['train_mse']:.4f}), {args.epochs} epochs in "
          f"{seconds:.1f} s -> {out / MODEL_FILE}", flush=True)


def task(split: dict) -> common.Task:
    """The Task of the test windows (``inputs``, ``targets``): normalised MSE, baselines, traces plot."""
    targets = np.asarray(split["targets"], dtype=np.float64)
    persistence = float(np.mean((split["inputs"].astype(np.float64) - targets) ** 2))
    score = common.mse_score(targets)

    def plot(outputs, path):
        import matplotlib.pyplot as plt

        n = min(PLOT_WINDOWS, len(targets))
        steps = np.arange(n * targets.shape[1])
        flat = lambda a: a[:n].reshape(-1, a.shape[-1])  # noqa: E731  (consecutive windows of rollout 0)
        fig, axes = plt.subplots(len(PLOT_DIMS), 1, figsize=(8, 1.8 * len(PLOT_DIMS) + 0.7), sharex=True)
        styles = (("float", "float (ncps)", "-", 1.4), ("C int16", "C int16", "--", 1.1),
                  ("C int8", "C int8", ":", 1.1))
        for ax, dim in zip(axes, PLOT_DIMS):
            ax.plot(steps, flat(targets)[:, dim], color="black", linewidth=2.5, alpha=0.3, label="true")
            for key, label, style, width in styles:
                ax.plot(steps, flat(outputs[key])[:, dim], style, linewidth=width, label=label)
            for w in range(1, n):
                ax.axvline(w * targets.shape[1] - 0.5, color="grey", linewidth=0.5, alpha=0.5)
            ax.text(0.01, 0.93, f"obs[{dim}] {OBS_NAMES[dim]}", transform=ax.transAxes, fontsize=8, va="top",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        axes[0].legend(loc="upper right", fontsize=7, ncol=4)
        fig.supylabel("normalised observation", fontsize=9)
        axes[-1].set_xlabel("step (dt = 0.05 s); grey lines: window starts (state reset)")
        mse = {k: score(outputs[k]) for k in ("float", "C int16", "C int8")}
        fig.suptitle(f"{ENV_ID} next-observation prediction, first {n} test windows of rollout 0\n"
                     f"MSE over all {len(targets)} test windows: float {mse['float']:.4f}, "
                     f"C int16 {mse['C int16']:.4f}, C int8 {mse['C int8']:.4f}", fontsize=9)
        fig.tight_layout()
        common.savefig(fig, path, dpi=90)
        plt.close(fig)

    return common.Task(name=NAME, metric="mse",
                       score=score, acceptance={"int16": ("relative", 0.01), "int8": ("relative", 0.05)},
                       plot=plot, plot_file="traces.png",
                       extra=lambda outputs: {"baselines": {"persistence_mse": persistence,
                                                            "predict_mean_mse": float(np.mean(targets ** 2))},
                                              "units": "MSE of the normalised 17-dim observation, every step "
                                                       "of every test window"})


def main(argv=None) -> int:
    parser = common.make_parser(__doc__, HERE, epochs=10, quick_epochs=3, lr=0.02, batch=32)
    parser.add_argument("--units", type=int, default=40, help="AutoNCP units (> 19)")
    parser.add_argument("--train-rollouts", type=int, default=60)
    parser.add_argument("--test-rollouts", type=int, default=3)
    args = common.parse(parser, argv)
    return common.run(args, train, task, model_file=MODEL_FILE, split_file=SPLIT_FILE, calib_file=CALIB_FILE)


if __name__ == "__main__":
    sys.exit(main())
