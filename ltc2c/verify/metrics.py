"""Error metrics between two runs of the same sequences."""

import numpy as np


def output_range(reference):
    """Per-output max-min over all sequences and steps (at least a tiny positive value)."""
    flat = reference.reshape(-1, reference.shape[-1])
    return np.maximum(flat.max(axis=0) - flat.min(axis=0), 1e-12)


def compare(candidate, reference):
    diff = np.asarray(candidate, np.float64) - np.asarray(reference, np.float64)
    span = output_range(np.asarray(reference, np.float64))
    abs_diff = np.abs(diff)
    per_output_max = abs_diff.reshape(-1, diff.shape[-1]).max(axis=0)
    per_output_rms = np.sqrt((diff.reshape(-1, diff.shape[-1]) ** 2).mean(axis=0))
    return {
        "max_abs": float(abs_diff.max()),
        "rms": float(np.sqrt((diff ** 2).mean())),
        "max_rel_range": float((per_output_max / span).max()),
        "rms_rel_range": float((per_output_rms / span).max()),
        "per_step_max": abs_diff.max(axis=(0, 2)),
    }


def drift(per_step_max):
    """Max error over the last tenth of the steps divided by the max over the first tenth."""
    n = len(per_step_max)
    tenth = max(n // 10, 1)
    first, last = float(np.max(per_step_max[:tenth])), float(np.max(per_step_max[-tenth:]))
    return last / first if first > 0 else (1.0 if last == 0 else float("inf"))
