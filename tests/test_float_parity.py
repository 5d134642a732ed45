"""Acceptance: generated float32 C vs ncps itself, max abs error <= 1e-5 over 1000 steps."""

import numpy as np
import pytest
import torch

import models
from ltc2c import codegen
from ltc2c.load import load_model
from ltc2c.passes import fold
from ltc2c.verify import harness

STEPS = 1000
TOLERANCE = 1e-5


@pytest.fixture(scope="module", params=sorted(models.ACCEPTANCE_MODELS))
def compiled(request, tmp_path_factory):
    key = request.param
    module = models.ACCEPTANCE_MODELS[key]()
    work = tmp_path_factory.mktemp(key)
    torch.save(module.state_dict(), work / "model.pt")
    folded = fold(load_model(work / "model.pt", **models.LOAD_OPTIONS.get(key, {})))
    codegen.write_output(codegen.render(folded, "mynet"), work / "out")
    exe = harness.build_harness(work / "out", "mynet", work / "build")
    return key, module, folded, exe


@pytest.mark.parametrize("elapsed", ["default", "half", "varying"])
def test_c_matches_ncps(compiled, elapsed):
    key, module, folded, exe = compiled
    rng = np.random.default_rng(7)
    inputs = rng.normal(0.0, 1.5, size=(2, STEPS, folded.inputs))
    times = {"default": None, "half": np.full((2, STEPS), 0.5),
             "varying": rng.uniform(0.2, 2.0, size=(2, STEPS))}[elapsed]
    c_out, c_state = harness.run_harness(exe, inputs, times, folded.outputs, folded.units)
    ref_out, ref_state = models.run_ncps(module, inputs, times)
    assert np.abs(c_out - ref_out).max() <= TOLERANCE, key
    assert np.abs(c_state - ref_state).max() <= TOLERANCE, key


def test_default_elapsed_time_flag(tmp_path):
    """--elapsed-time 0.5 at compile time: NAME_step() itself uses 0.5."""
    module = models.autoncp_16_2()
    torch.save(module.state_dict(), tmp_path / "model.pt")
    folded = fold(load_model(tmp_path / "model.pt", elapsed_time=0.5))
    codegen.write_output(codegen.render(folded, "half"), tmp_path / "out")
    exe = harness.build_harness(tmp_path / "out", "half", tmp_path / "build")
    inputs = np.random.default_rng(8).normal(size=(1, STEPS, folded.inputs))
    c_out, _ = harness.run_harness(exe, inputs, None, folded.outputs, folded.units)
    ref_out, _ = models.run_ncps(module, inputs, np.full((1, STEPS), 0.5))
    assert np.abs(c_out - ref_out).max() <= TOLERANCE
