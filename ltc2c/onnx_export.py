"""ONNX export of a FoldedModel, built node by node with onnx.helper (numpy + onnx only, no torch).

Two graphs share one cell-step builder:
- the sequence model runs the step inside a Scan over the time axis, so the graph size does not
  depend on T (only the ode_unfolds solver loop is unrolled, inside the Scan body);
- the step model is one cell step, for drivers that own the state.

The step is written densely: the synapse lists are expanded to [I,N] / [N,N] matrices with zero
weight where there is no synapse, which contributes exactly 0 (as the mask does in ncps).
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import __version__
from .errors import CodegenError

DEFAULT_OPSET = 17
MIN_OPSET = 15  # Shape(start, end) needs 15; ReduceSum with an axes input needs 13
FLOAT = TensorProto.FLOAT


class _Graph:
    """Collects nodes and initializers with deterministic, readable names."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.nodes = []
        self.initializers = []
        self._count = 0

    def const(self, name, values, dtype=np.float32):
        full = self.prefix + name
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), full))
        return full

    def op(self, op_type, inputs, out=None, **attrs):
        self._count += 1
        out = self.prefix + (out or f"{op_type.lower()}_{self._count}")
        self.nodes.append(helper.make_node(op_type, list(inputs), [out],
                                           name=f"{self.prefix}{op_type}_{self._count}", **attrs))
        return out


def _dense(syn, rows, cols):
    """SynapseList -> dense float32 (gain, bias, w, w_erev) of shape [rows, cols], 0 where absent."""
    mats = []
    for values in (syn.gain, syn.bias, syn.w, syn.w_erev):
        dense = np.zeros((rows, cols), dtype=np.float64)
        dense[syn.pre, syn.post] = values
        mats.append(dense.astype(np.float32))
    return mats


class _Constants:
    """Initializer names of the folded parameters, registered once in the outer graph."""

    def __init__(self, g, folded):
        n, n_in = folded.units, folded.inputs
        s_gain, s_bias, s_w, s_werev = _dense(folded.sensory, n_in, n)
        r_gain, r_bias, r_w, r_werev = _dense(folded.recurrent, n, n)
        self.s_gain, self.s_bias = g.const("sensory_gain", s_gain), g.const("sensory_bias", s_bias)
        self.s_w, self.s_werev = g.const("sensory_w", s_w), g.const("sensory_w_erev", s_werev)
        self.r_gain, self.r_bias = g.const("recurrent_gain", r_gain), g.const("recurrent_bias", r_bias)
        self.r_w, self.r_werev = g.const("recurrent_w", r_w), g.const("recurrent_w_erev", r_werev)
        self.cm = g.const("cm", folded.cm.reshape(1, n))
        self.gleak = g.const("gleak", folded.gleak.reshape(1, n))
        self.gleak_vleak = g.const("gleak_vleak", folded.gleak_vleak.reshape(1, n))
        self.unfolds = g.const("ode_unfolds", folded.ode_unfolds)
        self.epsilon = g.const("epsilon", folded.epsilon)
        self.out_scale = g.const("output_scale", folded.output_scale.reshape(1, -1))
        self.out_offset = g.const("output_offset", folded.output_offset.reshape(1, -1))
        self.axis1 = g.const("axis_1", [1], np.int64)
        self.axis2 = g.const("axis_2", [2], np.int64)
        self.slice_motors = folded.outputs < n  # motors are neurons 0..M-1
        if self.slice_motors:
            self.motor_start = g.const("motor_start", [0], np.int64)
            self.motor_end = g.const("motor_end", [folded.outputs], np.int64)


def _synapse_sums(g, c, pre_values, gain, bias, w, w_erev):
    """sum over sources j of (w_erev, w) * sigmoid(gain*x_j + bias): x [B,J] -> two [B,N]."""
    x = g.op("Unsqueeze", [pre_values, c.axis2])  # [B,J,1] against [J,N]
    s = g.op("Sigmoid", [g.op("Add", [g.op("Mul", [x, gain]), bias])])
    num = g.op("ReduceSum", [g.op("Mul", [s, w_erev]), c.axis1], keepdims=0)
    den = g.op("ReduceSum", [g.op("Mul", [s, w]), c.axis1], keepdims=0)
    return num, den


def _cell_step(g, c, folded, x, v, dt):
    """Emit one ncps LTCCell step. x [B,I], v [B,N], dt [B] -> (output [B,M], next state [B,N])."""
    s_num, s_den = _synapse_sums(g, c, x, c.s_gain, c.s_bias, c.s_w, c.s_werev)
    # cm_t = cm / (elapsed_time / U), computed in that order as ncps does
    cm_t = g.op("Div", [c.cm, g.op("Div", [g.op("Unsqueeze", [dt, c.axis1]), c.unfolds])])
    # terms that do not change across unfolds are added once per step
    num_const = g.op("Add", [c.gleak_vleak, s_num])
    den_const = g.op("Add", [g.op("Add", [cm_t, c.gleak]), s_den])
    for _ in range(folded.ode_unfolds):
        r_num, r_den = _synapse_sums(g, c, v, c.r_gain, c.r_bias, c.r_w, c.r_werev)
        num = g.op("Add", [g.op("Add", [g.op("Mul", [cm_t, v]), num_const]), r_num])
        den = g.op("Add", [g.op("Add", [den_const, r_den]), c.epsilon])
        v = g.op("Div", [num, den])
    motors = g.op("Slice", [v, c.motor_start, c.motor_end, c.axis1]) if c.slice_motors else v
    out = g.op("Add", [g.op("Mul", [motors, c.out_scale]), c.out_offset])
    return out, v


def _check_folded(folded, opset):
    if not isinstance(opset, int) or opset < MIN_OPSET or opset > onnx.defs.onnx_opset_version():
        raise CodegenError(f"ONNX opset {opset!r} is not supported",
                           f"use an opset between {MIN_OPSET} and {onnx.defs.onnx_opset_version()}")
    if folded.units < 1 or folded.inputs < 1 or not 1 <= folded.outputs <= folded.units:
        raise CodegenError(f"cannot export a model with N={folded.units}, I={folded.inputs}, "
                           f"M={folded.outputs}", "check the model's shapes and --outputs")
    if folded.ode_unfolds < 1:
        raise CodegenError(f"ode_unfolds must be >= 1 (got {folded.ode_unfolds})", "pass --ode-unfolds 6")


def _tensor(name, dims):
    return helper.make_tensor_value_info(name, FLOAT, dims)


def _optional_input(g, name, default, dims):
    """A graph input that is also an initializer: ORT uses the default unless the caller feeds it."""
    init = numpy_helper.from_array(np.asarray(default, dtype=np.float32), name)
    g.initializers.append(init)
    return _tensor(name, dims)


def _finish(g, inputs, outputs, folded, kind, opset):
    graph = helper.make_graph(g.nodes, f"ltc2c_{kind}", inputs, outputs, initializer=g.initializers)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=helper.find_min_ir_version_for(opsets),
                              producer_name="ltc2c", producer_version=__version__,
                              doc_string=f"ltc2c LTC {kind} model; source sha256 {folded.source_sha256}")
    meta = {"units": folded.units, "inputs": folded.inputs, "outputs": folded.outputs,
            "ode_unfolds": folded.ode_unfolds, "elapsed_time": repr(float(folded.elapsed_time)),
            "source_sha256": folded.source_sha256}
    helper.set_model_props(model, {k: str(v) for k, v in meta.items()})
    return model


def build_sequence_model(folded, opset=DEFAULT_OPSET):
    """input [B,T,I] (+ optional initial_state [B,N], elapsed_time [B,T]) -> output [B,T,M], final_state."""
    _check_folded(folded, opset)
    n, n_in, m = folded.units, folded.inputs, folded.outputs
    g = _Graph()
    c = _Constants(g, folded)
    inputs = [_tensor("input", ["batch", "time", n_in]),
              _optional_input(g, "initial_state", np.zeros((1, n)), ["batch", n]),
              _optional_input(g, "elapsed_time", np.full((1, 1), folded.elapsed_time), ["batch", "time"])]
    # broadcast the (possibly default) optional inputs to the batch / time of `input`
    batch = g.op("Shape", ["input"], start=0, end=1)
    state0 = g.op("Expand", ["initial_state", g.op("Concat", [batch, g.const("n", [n], np.int64)], axis=0)])
    dts = g.op("Expand", ["elapsed_time", g.op("Shape", ["input"], start=0, end=2)])

    body = _Graph(prefix="body/")
    out_t, v_next = _cell_step(body, c, folded, "body/x_t", "body/state", "body/dt_t")
    body.nodes.append(helper.make_node("Identity", [v_next], ["body/state_out"], name="body/Identity_state"))
    body.nodes.append(helper.make_node("Identity", [out_t], ["body/output_t"], name="body/Identity_output"))
    body_graph = helper.make_graph(
        body.nodes, "ltc2c_step_body",
        [_tensor("body/state", ["batch", n]), _tensor("body/x_t", ["batch", n_in]), _tensor("body/dt_t", ["batch"])],
        [_tensor("body/state_out", ["batch", n]), _tensor("body/output_t", ["batch", m])])
    # batch-first scan: axis 1 of input / elapsed_time is time; outputs are stacked on axis 1
    g.nodes.append(helper.make_node("Scan", [state0, "input", dts], ["final_state", "output"], name="Scan_time",
                                    body=body_graph, num_scan_inputs=2, scan_input_axes=[1, 1],
                                    scan_output_axes=[1]))
    outputs = [_tensor("output", ["batch", "time", m]), _tensor("final_state", ["batch", n])]
    return _finish(g, inputs, outputs, folded, "sequence", opset)


def build_step_model(folded, opset=DEFAULT_OPSET):
    """input [B,I], state [B,N] (+ optional elapsed_time [B]) -> output [B,M], next_state [B,N]."""
    _check_folded(folded, opset)
    n, n_in, m = folded.units, folded.inputs, folded.outputs
    g = _Graph()
    c = _Constants(g, folded)
    inputs = [_tensor("input", ["batch", n_in]), _tensor("state", ["batch", n]),
              _optional_input(g, "elapsed_time", np.full((1,), folded.elapsed_time), ["batch"])]
    dt = g.op("Expand", ["elapsed_time", g.op("Shape", ["input"], start=0, end=1)])
    out, v = _cell_step(g, c, folded, "input", "state", dt)
    g.nodes.append(helper.make_node("Identity", [out], ["output"], name="Identity_output"))
    g.nodes.append(helper.make_node("Identity", [v], ["next_state"], name="Identity_next_state"))
    outputs = [_tensor("output", ["batch", m]), _tensor("next_state", ["batch", n])]
    return _finish(g, inputs, outputs, folded, "step", opset)


def _check(model):
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise CodegenError(f"the exported ONNX graph is invalid: {exc}",
                           "this is an ltc2c bug; please report it with the model") from None


def _write_atomic(data, path):
    """Write to a temp file in the same folder, then rename: readers never see a partial file."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CodegenError(f"output folder does not exist: {parent}", "create it or pick another path")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a model file is not secret
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _export(model, path):
    _check(model)
    return _write_atomic(model.SerializeToString(deterministic=True), path)


def export_sequence(folded, path, opset=DEFAULT_OPSET):
    """Check and write the Scan sequence model to PATH; returns the path."""
    return _export(build_sequence_model(folded, opset), path)


def export_step(folded, path, opset=DEFAULT_OPSET):
    """Check and write the single-step model to PATH; returns the path."""
    return _export(build_step_model(folded, opset), path)
