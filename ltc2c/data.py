"""Input sequences for verify and calibration: --data files or seeded random sequences."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, UsageError

INPUT_KEYS = ("inputs", "input", "x", "data")
ELAPSED_KEYS = ("elapsed_time", "elapsed_times", "timespans", "dt")


@dataclass(frozen=True)
class Sequences:
    """inputs [S,T,I] float64; elapsed_times [S,T] or None (default elapsed time every step)."""

    inputs: np.ndarray
    elapsed_times: object = None
    source: str = "random"

    @property
    def count(self):
        return self.inputs.shape[0]

    @property
    def steps(self):
        return self.inputs.shape[1]


def parse_elapsed(spec):
    """'0.5' -> (0.5, 0.5); '0.2:2.0' -> (0.2, 2.0); None -> None."""
    if spec is None:
        return None
    try:
        parts = [float(p) for p in str(spec).split(":")]
    except ValueError:
        raise UsageError(f"elapsed time '{spec}' is not a number or MIN:MAX", "e.g. --elapsed-time 0.5 or 0.2:2.0") from None
    low, high = (parts[0], parts[0]) if len(parts) == 1 else (parts + [None])[:2]
    if len(parts) > 2 or high is None or not (0 < low <= high) or not np.isfinite(high):
        raise UsageError(f"elapsed time '{spec}' must be > 0 and MIN <= MAX", "e.g. --elapsed-time 0.2:2.0")
    return low, high


def random_sequences(n_inputs, count=4, steps=1000, seed=0, elapsed=None, scale=1.0):
    """Seeded N(0, scale^2) inputs; elapsed (low, high) draws a uniform elapsed time per step."""
    if count < 1 or steps < 1:
        raise UsageError("--sequences and --steps must be >= 1", "e.g. --steps 1000")
    rng = np.random.default_rng(seed)
    inputs = rng.normal(0.0, scale, size=(count, steps, n_inputs))
    times = None
    if elapsed is not None:
        low, high = elapsed
        times = np.full((count, steps), low) if low == high else rng.uniform(low, high, size=(count, steps))
    return Sequences(inputs, times, f"random (seed {seed})")


def _from_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        key = next((k for k in INPUT_KEYS if k in archive), keys[0] if keys else None)
        if key is None:
            raise DataError(f"{path} holds no arrays", "save inputs with np.savez(path, inputs=...)")
        times_key = next((k for k in ELAPSED_KEYS if k in archive), None)
        return archive[key], (archive[times_key] if times_key else None)


def _from_csv(path):
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    header = None
    if any(c.isalpha() for c in first.replace("e-", "").replace("e+", "").replace("E", "")):
        header = [h.strip() for h in first.split(",")]
    table = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, ndmin=2)
    times = None
    if header:
        for key in ELAPSED_KEYS:
            if key in header:
                col = header.index(key)
                times = table[:, col]
                table = np.delete(table, col, axis=1)
                break
    return table, times


def load_sequences(path, n_inputs, steps=None):
    """Read .npy/.npz/.csv of shape [T,I] or [S,T,I] (+ optional elapsed times [T] or [S,T])."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}", "check the --data / --calib path")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            inputs, times = np.load(path, allow_pickle=False), None
        elif suffix == ".npz":
            inputs, times = _from_npz(path)
        elif suffix == ".csv":
            inputs, times = _from_csv(path)
        else:
            raise DataError(f"unsupported data file type '{suffix}'", "use .npy, .npz or .csv")
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {' '.join(str(exc).split())[:120]}", "check the file format") from None
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim == 2:
        inputs = inputs[None]
        times = None if times is None else np.asarray(times, dtype=np.float64).reshape(1, -1)
    if inputs.ndim != 3:
        raise DataError(f"{path} has shape {list(inputs.shape)}; expected [time, features] or "
                        "[sequences, time, features]", "reshape the array")
    if inputs.shape[2] != n_inputs:
        raise DataError(f"{path} has {inputs.shape[2]} features per step but the model takes {n_inputs}",
                        "pass data recorded for this model")
    if not np.all(np.isfinite(inputs)):
        raise DataError(f"{path} contains NaN or Inf", "clean the data first")
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        if times.shape != inputs.shape[:2] or not np.all(times > 0):
            raise DataError(f"elapsed times in {path} must have shape {list(inputs.shape[:2])} and be > 0",
                            "store one positive elapsed time per step")
    if steps is not None:
        inputs = inputs[:, :steps]
        times = None if times is None else times[:, :steps]
    return Sequences(inputs, times, str(path.name))
