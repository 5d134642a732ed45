"""Float64 numpy evaluation of a FoldedModel: the float reference when ncps is not installed."""

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _synapse_sums(syn, x, n):
    s = _sigmoid(syn.gain * x[..., syn.pre] + syn.bias)
    scatter = np.zeros((syn.count, n))
    scatter[np.arange(syn.count), syn.post] = 1.0
    return (s * syn.w_erev) @ scatter, (s * syn.w) @ scatter


def step(folded, state, inputs, elapsed_time=None):
    """One cell step for a batch: state [B,N], inputs [B,I], elapsed_time scalar or [B]."""
    n = folded.units
    dt = folded.elapsed_time if elapsed_time is None else elapsed_time
    dt = np.asarray(dt, dtype=np.float64).reshape(-1, 1)
    cm_t = folded.cm[None, :] / (dt / folded.ode_unfolds)
    s_num, s_den = _synapse_sums(folded.sensory, inputs, n)
    v = state
    for _ in range(folded.ode_unfolds):
        r_num, r_den = _synapse_sums(folded.recurrent, v, n)
        num = cm_t * v + folded.gleak_vleak + r_num + s_num
        den = cm_t + folded.gleak + r_den + s_den
        v = num / (den + folded.epsilon)
    out = v[:, : folded.outputs] * folded.output_scale + folded.output_offset
    return out, v


def run(folded, inputs, elapsed_times=None, initial_state=None):
    """inputs [S,T,I] -> (outputs [S,T,M], final_state [S,N]) in float64."""
    inputs = np.asarray(inputs, dtype=np.float64)
    n_seq, n_steps, _ = inputs.shape
    v = np.zeros((n_seq, folded.units)) if initial_state is None else np.array(initial_state, np.float64)
    outputs = np.zeros((n_seq, n_steps, folded.outputs))
    for t in range(n_steps):
        dt = None if elapsed_times is None else elapsed_times[:, t]
        outputs[:, t], v = step(folded, v, inputs[:, t], dt)
    return outputs, v
