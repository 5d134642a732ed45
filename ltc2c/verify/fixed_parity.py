"""Parity metrics of a fixed-point build: C vs the integer emulator (must be bit-exact) and C vs the
float64 reference (bounded error). numpy only; the caller runs the C (verify.harness) and passes its
int16 outputs.
"""

import numpy as np

from .. import emulate, reference
from ..quantize import dequantized_folded


def q_harness_io():
    """Harness wire format of the integer API (NAME_step_q / NAME_step_dt_q): int16 inputs, outputs
    and state, uint16 elapsed time. (Imported lazily: this module stays numpy only.)"""
    from .harness import HarnessIO

    return HarnessIO(input_dtype="<i2", dt_dtype="<u2", output_dtype="<i2", state_dtype="<i2",
                     input_ctype="int16_t", dt_ctype="uint16_t", output_ctype="int16_t", step_suffix="_q")


def _error_metrics(y, ref):
    """Max-abs / RMS per output, absolute and relative to the reference's range, and drift."""
    err = np.abs(y - ref)
    flat_err = err.reshape(-1, err.shape[-1])
    flat_ref = ref.reshape(-1, ref.shape[-1])
    span = flat_ref.max(axis=0) - flat_ref.min(axis=0) if flat_ref.size else np.zeros(ref.shape[-1])
    max_abs = flat_err.max(axis=0)
    rms = np.sqrt((flat_err ** 2).mean(axis=0))
    safe = np.where(span > 0, span, np.nan)
    steps = y.shape[1]
    tenth = max(1, steps // 10)
    first, last = float(err[:, :tenth].max()), float(err[:, -tenth:].max())
    return {
        "max_abs": float(max_abs.max()),
        "rms": float(rms.max()),
        "max_rel_range": _finite_max(max_abs / safe),
        "rms_rel_range": _finite_max(rms / safe),
        "per_output": [
            {"range": float(s), "max_abs": float(m), "rms": float(r),
             "max_rel_range": float(m / s) if s > 0 else None, "rms_rel_range": float(r / s) if s > 0 else None}
            for s, m, r in zip(span, max_abs, rms)
        ],
        "drift": {"first_tenth_max": first, "last_tenth_max": last,
                  "ratio": last / first if first > 0 else (1.0 if last == 0 else None), "window_steps": tenth},
    }


def _finite_max(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else None


def fixed_point_parity(folded, qmodel, inputs, elapsed_times, c_outputs_q):
    """inputs [S,T,I] float, elapsed_times [S,T] float or None (NAME_step_q), c_outputs_q [S,T,M]
    int16 from NAME_step_q / NAME_step_dt_q on `emulate.quantize_inputs(qmodel, inputs)` (and
    `emulate.quantize_elapsed`). -> dict of metrics (plain Python numbers)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    c_out = np.asarray(c_outputs_q, dtype=np.int64)
    inputs_q = emulate.quantize_inputs(qmodel, inputs)
    elapsed_q = None if elapsed_times is None else emulate.quantize_elapsed(qmodel, elapsed_times)
    emu_out, _ = emulate.run(qmodel, inputs_q, elapsed_q)
    diff = np.abs(c_out - emu_out.astype(np.int64))
    y_c = emulate.dequantize_outputs(qmodel, c_out)
    y_float, _ = reference.run(folded, inputs, elapsed_times)
    result = {
        "quant": qmodel.mode,
        "sequences": int(inputs.shape[0]),
        "steps": int(inputs.shape[1]),
        "emulator": {
            "mismatching_values": int(np.count_nonzero(diff)),
            "mismatching_lsb_total": int(diff.sum()),
            "max_lsb": int(diff.max()) if diff.size else 0,
            "values": int(diff.size),
        },
        "float": _error_metrics(y_c, y_float),
        "input_saturated": int(np.count_nonzero((inputs_q == 32767) | (inputs_q == -32768))),
        "warnings": list(qmodel.warnings),
    }
    if qmodel.mode == "int8":
        y_deq, _ = reference.run(dequantized_folded(qmodel), inputs, elapsed_times)
        result["dequantized_float"] = _error_metrics(y_c, y_deq)
    return result
