"""ONNX export (Scan sequence model and step model) against ncps itself, via onnxruntime.

ncps in Python costs ~0.2-0.5 ms per step, so the 1000-step references are computed once per model
(module-scoped fixture, lazily per elapsed-time regime) and reused by several tests.
"""

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from ltc2c import __version__, onnx_export
from ltc2c.errors import CodegenError
from ltc2c.load import load_model
from ltc2c.passes import fold
from ltc2c.verify.onnx_runner import StepSession, run_sequence, run_steps
from models import ACCEPTANCE_MODELS, input_size, run_ncps

TOL = 1e-5
LONG = 1000
REGIMES = ("default", "half", "varying")


def _cell(module):
    return getattr(module, "rnn_cell", module)


def _elapsed(regime, shape, rng):
    if regime == "default":
        return None
    if regime == "half":
        return np.full(shape, 0.5)
    return rng.uniform(0.2, 2.0, size=shape)


def _max_err(got, want):
    return float(np.max(np.abs(np.asarray(got) - np.asarray(want)))) if np.size(want) else 0.0


class Case:
    """One acceptance model: module, folded IR, exported files and cached ncps references."""

    def __init__(self, name, folder):
        self.name = name
        self.module = ACCEPTANCE_MODELS[name]()
        self.inputs = input_size(self.module)
        self.units = _cell(self.module).state_size
        weights = folder / f"{name}.pt"
        torch.save(self.module.state_dict(), weights)
        # a state dict records neither ode_unfolds nor (without an output map) the motor count
        options = {"ode_unfolds": _cell(self.module)._ode_unfolds}
        if name == "cell_fc6_linear":
            options["outputs"] = 2
        self.folded = fold(load_model(weights, **options))
        self.seq_path = onnx_export.export_sequence(self.folded, folder / f"{name}.seq.onnx")
        self.step_path = onnx_export.export_step(self.folded, folder / f"{name}.step.onnx")
        self.rng = np.random.default_rng(sum(map(ord, name)))
        self.long_x = self.rng.normal(size=(2, LONG, self.inputs))
        self._refs = {}

    def long_ref(self, regime):
        """(elapsed [2,LONG] or None, ncps outputs, ncps final state), computed once per regime."""
        if regime not in self._refs:
            dts = _elapsed(regime, (2, LONG), np.random.default_rng(len(regime)))
            self._refs[regime] = (dts, *run_ncps(self.module, self.long_x, dts))
        return self._refs[regime]


@pytest.fixture(scope="module", params=list(ACCEPTANCE_MODELS))
def case(request, tmp_path_factory):
    return Case(request.param, tmp_path_factory.mktemp(request.param))


def _ncps_from(module, inputs, elapsed, state0):
    """ncps cell loop starting from a given state (run_ncps always starts at zero)."""
    cell = _cell(module)
    outs, finals = [], []
    with torch.no_grad():
        for s in range(inputs.shape[0]):
            h = torch.tensor(state0[s:s + 1], dtype=torch.float32)
            seq = []
            for t in range(inputs.shape[1]):
                y, h = cell(torch.tensor(inputs[s:s + 1, t], dtype=torch.float32), h, float(elapsed[s, t]))
                seq.append(y[0].numpy())
            outs.append(seq)
            finals.append(h[0].numpy())
    return np.array(outs, np.float64), np.array(finals, np.float64)


def test_graph_is_checked_and_uses_scan(case):
    model = onnx.load(case.seq_path)
    onnx.checker.check_model(model, full_check=True)
    scans = [n for n in model.graph.node if n.op_type == "Scan"]
    assert len(scans) == 1
    body = onnx.helper.get_attribute_value(next(a for a in scans[0].attribute if a.name == "body"))
    # no time unroll: T is symbolic and the graph size depends only on ode_unfolds
    time_dim = model.graph.input[0].type.tensor_type.shape.dim[1]
    assert time_dim.dim_param and not time_dim.HasField("dim_value")
    assert len(model.graph.node) <= 8
    assert len(body.node) <= 16 * case.folded.ode_unfolds + 24
    assert {i.name for i in model.graph.input} == {"input", "initial_state", "elapsed_time"}
    assert [o.name for o in model.graph.output] == ["output", "final_state"]
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer
               if t.data_type != onnx.TensorProto.INT64)
    onnx.checker.check_model(onnx.load(case.step_path), full_check=True)


@pytest.mark.parametrize("regime", REGIMES)
def test_sequence_matches_ncps_1000_steps(case, regime):
    dts, want_y, want_h = case.long_ref(regime)
    got_y, got_h = run_sequence(case.seq_path, case.long_x, dts)
    assert got_y.shape == want_y.shape and got_h.shape == want_h.shape
    assert _max_err(got_y, want_y) <= TOL
    assert _max_err(got_h, want_h) <= TOL


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("steps", [1, 7, LONG])
def test_batch_and_sequence_length(case, batch, steps):
    if steps == LONG:
        # reuse the cached references: every row is a distinct (input, elapsed-time) pair
        half, vary = case.long_ref("half"), case.long_ref("varying")
        rows = [(1, half)] if batch == 1 else [(0, half), (1, half), (0, vary), (1, vary)]
        x = np.stack([case.long_x[s] for s, _ in rows])
        dts = np.stack([ref[0][s] for s, ref in rows])
        want_y = np.stack([ref[1][s] for s, ref in rows])
        want_h = np.stack([ref[2][s] for s, ref in rows])
    else:
        rng = np.random.default_rng(100 * batch + steps)
        x = rng.normal(size=(batch, steps, case.inputs))
        dts = rng.uniform(0.2, 2.0, size=(batch, steps))
        want_y, want_h = run_ncps(case.module, x, dts)
    got_y, got_h = run_sequence(case.seq_path, x, dts)
    assert got_y.shape == (batch, steps, case.folded.outputs)
    assert _max_err(got_y, want_y) <= TOL
    assert _max_err(got_h, want_h) <= TOL


def test_initial_state_supplied_and_default(case):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4, 20, case.inputs))
    dts = rng.uniform(0.2, 2.0, size=(4, 20))
    h0 = rng.uniform(-1.0, 1.0, size=(4, case.units))
    want_y, want_h = _ncps_from(case.module, x, dts, h0)
    got_y, got_h = run_sequence(case.seq_path, x, dts, initial_state=h0)
    assert _max_err(got_y, want_y) <= TOL
    assert _max_err(got_h, want_h) <= TOL
    # the default initial state is exactly zeros, and the default elapsed time exactly folded's
    default = run_sequence(case.seq_path, x)
    explicit = run_sequence(case.seq_path, x, np.ones((4, 20)), initial_state=np.zeros((4, case.units)))
    for got, want in zip(default, explicit):
        np.testing.assert_array_equal(got, want)


def test_step_model_equals_sequence_model(case):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 20, case.inputs))
    dts = rng.uniform(0.2, 2.0, size=(4, 20))
    h0 = rng.uniform(-1.0, 1.0, size=(4, case.units))
    stepper = StepSession(case.step_path)
    for args in ((dts, h0), (None, None)):
        want = run_sequence(case.seq_path, x, *args)
        got = run_steps(case.step_path, x, *args, session=stepper)
        assert _max_err(got[0], want[0]) <= 1e-6
        assert _max_err(got[1], want[1]) <= 1e-6
    # a scalar dt broadcasts over the batch
    y_scalar, h_scalar = stepper.step(x[:, 0], h0, 0.5)
    y_vector, h_vector = stepper.step(x[:, 0], h0, np.full(4, 0.5))
    np.testing.assert_array_equal(y_scalar, y_vector)
    np.testing.assert_array_equal(h_scalar, h_vector)


def test_export_is_deterministic_and_pathless(case, tmp_path):
    for export in (onnx_export.export_sequence, onnx_export.export_step):
        first = export(case.folded, tmp_path / "a.onnx").read_bytes()
        second = export(case.folded, tmp_path / "b.onnx").read_bytes()
        assert first == second
        assert str(tmp_path).encode() not in first
    model = onnx.load(case.seq_path)
    assert model.producer_name == "ltc2c" and model.producer_version == __version__
    assert case.folded.source_sha256 in model.doc_string
    assert sorted(os.listdir(tmp_path)) == ["a.onnx", "b.onnx"]  # no temp files left behind


def test_failed_write_leaves_no_file(case, tmp_path, monkeypatch):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(onnx_export.os, "replace", broken_replace)
    with pytest.raises(OSError):
        onnx_export.export_sequence(case.folded, target)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_bad_opset_and_missing_folder(case, tmp_path):
    with pytest.raises(CodegenError) as info:
        onnx_export.build_sequence_model(case.folded, opset=11)
    assert info.value.hint
    with pytest.raises(CodegenError):
        onnx_export.export_step(case.folded, tmp_path / "missing" / "m.onnx")


def test_exporter_imports_neither_torch_nor_onnxruntime():
    code = ("import sys, ltc2c.onnx_export, ltc2c.verify.onnx_runner; "
            "print(sorted(m for m in ('torch', 'onnxruntime') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
