"""Models, inputs and C builds shared by test_quantize.py and test_bitexact.py (fixed point)."""

import functools
import tempfile
from pathlib import Path

import numpy as np
import torch

import models
import trained
from ltc2c import emulate
from ltc2c.codegen import render, write_output
from ltc2c.load import load_model
from ltc2c.passes import fold
from ltc2c.quantize import quantize
from ltc2c.verify.fixed_parity import q_harness_io
from ltc2c.verify.harness import HarnessIO, build_harness, run_harness

Q_IO = q_harness_io()
FLOAT_Q_IO = HarnessIO(state_dtype="<i2")  # the float wrappers of an integer build
SANITIZE = ("-fsanitize=undefined,address", "-fno-sanitize-recover=undefined")
TRAINED = ("sine16", "multi32", "osc_fc8")
ELAPSED_RANGE = (0.5, 2.0)


@functools.lru_cache(maxsize=None)
def workdir():
    return Path(tempfile.mkdtemp(prefix="ltc2c_fixed_tests_"))


@functools.lru_cache(maxsize=None)
def trained_model(name):
    """(folded, task sampler): trained once per test session (about 5 s each)."""
    module, task, _ = trained.train(name)
    path = workdir() / f"{name}.pt"
    torch.save(module.state_dict(), path)
    return fold(load_model(path)), task


@functools.lru_cache(maxsize=None)
def folded_model(name):
    if name in TRAINED:
        return trained_model(name)[0]
    path = workdir() / f"{name}.pt"
    torch.save(models.ACCEPTANCE_MODELS[name]().state_dict(), path)
    return fold(load_model(path, **models.LOAD_OPTIONS.get(name, {})))


@functools.lru_cache(maxsize=None)
def calibration(name, sequences=2, steps=1000):
    """Calibration inputs from the model's own input distribution (N(0, 1) for the random models)."""
    folded = folded_model(name)
    rng = np.random.default_rng(100)
    if name in TRAINED:
        return trained_model(name)[1](rng, sequences, steps)[0]
    return rng.normal(0.0, 1.0, size=(sequences, steps, folded.inputs))


@functools.lru_cache(maxsize=None)
def quantized(name, mode, elapsed_range=ELAPSED_RANGE):
    return quantize(folded_model(name), mode, calib_inputs=calibration(name), elapsed_time_range=elapsed_range)


@functools.lru_cache(maxsize=None)
def sources(name, mode, elapsed_range=ELAPSED_RANGE):
    q = quantized(name, mode, elapsed_range)
    tag = "x".join(f"{t:g}" for t in elapsed_range) if elapsed_range else "fixed"
    return write_output(render(folded_model(name), "net", quant=mode, quantized=q),
                        workdir() / f"src_{name}_{mode}_{tag}")


def build(name, mode, compiler, optimization, io=Q_IO, elapsed_range=ELAPSED_RANGE, sanitize=True):
    src = sources(name, mode, elapsed_range)
    out = workdir() / f"build_{src.name}_{'q' if io is Q_IO else 'f'}"
    return build_harness(src, "net", out, io=io, compiler=compiler, optimization=optimization,
                         extra_flags=SANITIZE if sanitize else ())


def run_c(exe, q, inputs_q, elapsed_q, io=Q_IO):
    return run_harness(exe, inputs_q, elapsed_q, q.outputs, q.units, io=io)


@functools.lru_cache(maxsize=None)
def stress_inputs(name, mode, steps=2000):
    """int16 inputs and uint16 elapsed times for the bit-exactness runs: in range, beyond the calibrated
    range (saturating), the int16 extremes, and elapsed times inside, at and outside the compiled range."""
    q = quantized(name, mode)
    rng = np.random.default_rng(7)
    calib = calibration(name)
    scale = np.abs(calib).reshape(-1, q.inputs).max(axis=0)
    n_in = q.inputs
    seqs = [
        emulate.quantize_inputs(q, rng.normal(0.0, 0.5, (steps, n_in)) * scale),  # typical
        emulate.quantize_inputs(q, rng.normal(0.0, 2.0, (steps, n_in)) * scale),  # beyond: saturates
        rng.integers(-32768, 32768, (steps, n_in)),  # anything an int16 can hold
        rng.choice(np.array([-32768, -32767, 0, 32767]), (steps, n_in)),  # extremes, switching
    ]
    inputs_q = np.stack(seqs).astype(np.int16)
    lo, hi = q.elapsed_min_q, q.elapsed_max_q
    elapsed_q = np.stack([
        rng.integers(lo, hi + 1, steps),
        np.full(steps, q.elapsed_default_q),
        rng.integers(0, 65536, steps),  # outside the range: clamped
        rng.choice(np.array([0, 1, lo, hi, 65535]), steps),
    ]).astype(np.uint16)
    return inputs_q, elapsed_q


@functools.lru_cache(maxsize=None)
def emulated(name, mode, variable):
    inputs_q, elapsed_q = stress_inputs(name, mode)
    return emulate.run(quantized(name, mode), inputs_q, elapsed_q if variable else None)
