"""The float64 IR evaluation (the reference when ncps is absent) matches ncps; verify falls back to it."""

import numpy as np
import pytest
import torch

import models
from ltc2c import reference
from ltc2c.data import random_sequences
from ltc2c.load import load_model
from ltc2c.passes import fold
from ltc2c.verify import torch_reference, verify_model


@pytest.mark.parametrize("key", sorted(models.ACCEPTANCE_MODELS))
def test_ir_reference_matches_ncps(tmp_path, key):
    module = models.ACCEPTANCE_MODELS[key]()
    torch.save(module.state_dict(), tmp_path / "m.pt")
    options = models.LOAD_OPTIONS.get(key, {})
    folded = fold(load_model(tmp_path / "m.pt", **options))
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(2, 100, folded.inputs))
    times = rng.uniform(0.2, 2.0, size=(2, 100))
    ours, our_state = reference.run(folded, inputs, times)
    theirs, their_state = models.run_ncps(module, inputs, times)
    assert np.abs(ours - theirs).max() < 2e-6
    assert np.abs(our_state - their_state).max() < 2e-6


def test_masked_synapses_are_dropped(tmp_path):
    torch.save(models.autoncp_16_2().state_dict(), tmp_path / "m.pt")
    model = load_model(tmp_path / "m.pt")
    folded = fold(model)
    assert folded.recurrent.count == int(model.params["sparsity_mask"].sum())
    assert folded.sensory.count == int(model.params["sensory_sparsity_mask"].sum())
    assert list(np.diff(folded.recurrent.ptr)) == list(model.params["sparsity_mask"].sum(axis=0).astype(int))


def test_verify_without_ncps_uses_ir_reference(tmp_path, monkeypatch):
    torch.save(models.fully_connected_8().state_dict(), tmp_path / "m.pt")
    model = load_model(tmp_path / "m.pt")
    monkeypatch.setattr(torch_reference, "ncps_available", lambda: False)
    report, _ = verify_model(model, random_sequences(5, 1, 100, seed=2), with_onnx=False)
    assert report["reference"] == "ir-float64" and report["passed"]
    assert any("ncps is not installed" in note for note in report["notes"])
