"""Run ltc2c's exported ONNX models with onnxruntime (CPU, one thread) for parity checks and benchmarks.

onnxruntime is imported lazily so that importing ltc2c.verify does not pull it in.
"""

import numpy as np

from ..errors import DataError, LoadError, ToolchainNotFoundError

_QUIET = 3  # ORT log level "error": the optional-input initializers otherwise warn on every load


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ToolchainNotFoundError("onnxruntime is not installed", "pip install onnxruntime") from None
    return onnxruntime


def open_session(model_path_or_bytes):
    """An InferenceSession on the CPU provider with one intra-op and one inter-op thread."""
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = _QUIET
    source = bytes(model_path_or_bytes) if isinstance(model_path_or_bytes, (bytes, bytearray)) \
        else str(model_path_or_bytes)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own pybind exception types
        what = "the ONNX model bytes" if isinstance(source, bytes) else source
        raise LoadError(f"onnxruntime cannot load {what}: {' '.join(str(exc).split())[:200]}",
                        "pass a file written by ltc2c.onnx_export") from None


def _dims(session):
    """{input name: static dims or None} of a session's graph inputs, optional ones included."""
    args = list(session.get_inputs()) + list(session.get_overridable_initializers())
    return {i.name: [d if isinstance(d, int) else None for d in i.shape] for i in args}


def _float32(name, values, shape):
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        want = "[" + ",".join("?" if s is None else str(s) for s in shape) + "]"
        raise DataError(f"{name} has shape {list(array.shape)}, expected {want}",
                        "check the number of sequences, steps, inputs and neurons")
    return array


def run_sequence(model_path_or_bytes, inputs, elapsed_times=None, initial_state=None, session=None):
    """Sequence model: inputs [S,T,I] -> (outputs [S,T,M], final_state [S,N]) as float64."""
    session = session or open_session(model_path_or_bytes)
    dims = _dims(session)
    x = _float32("inputs", inputs, [None, None, dims["input"][2]])
    n_seq, n_steps = x.shape[:2]
    feed = {"input": x}
    if elapsed_times is not None:
        feed["elapsed_time"] = _float32("elapsed_times", elapsed_times, [n_seq, n_steps])
    if initial_state is not None:
        feed["initial_state"] = _float32("initial_state", initial_state, [n_seq, dims["initial_state"][1]])
    outputs, final_state = session.run(["output", "final_state"], feed)
    return outputs.astype(np.float64), final_state.astype(np.float64)


class StepSession:
    """The step model, driven one step at a time: `step(x [B,I], state [B,N], dt=None)`."""

    def __init__(self, model_path_or_bytes):
        self.session = open_session(model_path_or_bytes)
        dims = _dims(self.session)
        self.inputs = dims["input"][1]
        self.units = dims["state"][1]
        self.outputs = self.session.get_outputs()[0].shape[1]
        self._outputs = ["output", "next_state"]

    def zero_state(self, batch=1):
        return np.zeros((batch, self.units), dtype=np.float32)

    def step(self, x, state, dt=None):
        """-> (output [B,M], next_state [B,N]) float32. dt: None (model default), scalar or [B]."""
        x = _float32("x", x, [None, self.inputs])
        feed = {"input": x, "state": _float32("state", state, [x.shape[0], self.units])}
        if dt is not None:
            feed["elapsed_time"] = _float32("dt", np.broadcast_to(np.asarray(dt, np.float32), x.shape[:1]),
                                            [x.shape[0]])
        output, next_state = self.session.run(self._outputs, feed)
        return output, next_state


def run_steps(model_path_or_bytes, inputs, elapsed_times=None, initial_state=None, session=None):
    """Step model driven over inputs [S,T,I] -> (outputs [S,T,M], final_state [S,N]) as float64."""
    stepper = session or StepSession(model_path_or_bytes)
    x = _float32("inputs", inputs, [None, None, stepper.inputs])
    n_seq, n_steps = x.shape[:2]
    dts = None if elapsed_times is None else _float32("elapsed_times", elapsed_times, [n_seq, n_steps])
    state = stepper.zero_state(n_seq) if initial_state is None \
        else _float32("initial_state", initial_state, [n_seq, stepper.units])
    outputs = []
    for t in range(n_steps):
        y, state = stepper.step(x[:, t], state, None if dts is None else dts[:, t])
        outputs.append(y)
    out = np.stack(outputs, axis=1) if outputs else np.zeros((n_seq, 0, stepper.outputs))
    return out.astype(np.float64), state.astype(np.float64)
