"""Integer emulator of the generated NAME_step_q / NAME_step_dt_q: the executable spec of the C.

Every operation mirrors runtime/ltc2c_fixed.h and templates/model_fixed.c.j2 one for one (same
rounding constants, arithmetic right shifts, truncating division, saturation, table); the DSP
intrinsics (SMULWB, SMLAWB/T, SMLABB, USAT, SSAT) the C uses on Arm cores compute the same integers. Values are held
in int64 numpy arrays; the bound analysis in ltc2c.quantize proves they fit the C's int32, and
`run(..., trace=dict)` records the observed range of each intermediate so tests can check that.
numpy only.
"""

import numpy as np

ONE = np.int64(1)


def mulw(a, b):
    """ltc2c_mlaw16(a, b, 0) / SMULWB: floor(a * b / 2^16) for an int32 a and an int16 b (exact in int64)."""
    return (a * b) >> 16


def sigmoid_wide(lut, u):
    """ltc2c_sigmoid: i = clamp(u >> 15, 0, last) (USAT), e = Y << 16 | m, t = the signed low half
    of u; returns e + m t = Y 2^16 + m (t + 1) (SMLABB), the sigmoid in Q31, in [0, 32767 * 2^16]."""
    i = np.clip(u >> 15, 0, lut.size - 1)
    e = lut[i].astype(np.int64)
    t = (u & 0x7FFF) - (u & 0x8000)
    return e + (e & 0xFFFF) * t


def _trunc_div(a, b):
    """C division of int32 values: truncates toward zero (b > 0)."""
    return np.where(a >= 0, a // b, -((-a) // b))


def update(v, c, d_sum, n_sum):
    """ltc2c_update: inc = N - 2 floor(D v / 2^16), den = c + (D >> 15),
    v' = sat16(v + (inc + r) / den) with r = den >> 1 (inc >= 0) or ~(den >> 1) = -(den >> 1) - 1
    (inc < 0), the division truncating; saturation to [-32768, 32767]."""
    dv = 2 * mulw(d_sum, v)
    inc = n_sum - dv
    den = c + (d_sum >> 15)
    h = den >> 1
    r = np.where(inc >= 0, h, -h - 1)
    delta = _trunc_div(inc + r, den)
    return np.clip(v + delta, -32768, 32767), (dv, inc + r, den, delta)


def cm_terms(q, elapsed_q):
    """c_j(e) for uint16 elapsed values [S] -> [S, N] (the per-step prologue of NAME_step_dt_q)."""
    e = np.clip(np.asarray(elapsed_q, dtype=np.int64), q.elapsed_min_q, q.elapsed_max_q)[:, None]
    inv = ((ONE << 31) + (e >> 1)) // e
    # mult < 2^31 and inv <= 2^31: the int64 product is exact, as in the C.
    return (q.cm_mult[None, :] * inv + (ONE << (q.cm_shift[None, :] - 1))) >> q.cm_shift[None, :]


def _scatter(syn, n):
    onehot = np.zeros((syn.count, n), dtype=np.int64)
    onehot[np.arange(syn.count), syn.post] = 1
    return onehot


def _note(trace, name, values):
    if trace is not None and np.size(values):
        lo, hi = int(np.min(values)), int(np.max(values))
        old = trace.get(name)
        trace[name] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


def _synapse_sums(q, syn, x, onehot, trace, label):
    if syn.count == 0:
        zero = np.zeros((x.shape[0], onehot.shape[1]), dtype=np.int64)
        return zero, zero
    mask = (1 << syn.pre_bits) - 1
    u = mulw(syn.gain, x[:, syn.gain & mask]) + syn.bias  # gain & mask == pre
    s = sigmoid_wide(q.lut, u)
    den, num = mulw(s, syn.w) @ onehot, mulw(s, syn.w_erev) @ onehot
    _note(trace, f"{label}.u", u)
    _note(trace, f"{label}.sigmoid", s)
    _note(trace, f"{label}.den_sum", den)
    _note(trace, f"{label}.num_sum", num)
    return num, den


def run(q, inputs_q, elapsed_q=None, initial_state_q=None, trace=None):
    """inputs_q [S,T,I] int16, elapsed_q [S,T] uint16 or None (NAME_step_q) ->
    (outputs_q int16 [S,T,M], state_q int16 [S,N]). `trace`, a dict, collects observed ranges."""
    inputs_q = np.asarray(inputs_q, dtype=np.int64)
    n_seq, n_steps, _ = inputs_q.shape
    n, m = q.units, q.outputs
    v = np.zeros((n_seq, n), dtype=np.int64) if initial_state_q is None else \
        np.array(initial_state_q, dtype=np.int64).reshape(n_seq, n)
    s_hot, r_hot = _scatter(q.sensory, n), _scatter(q.recurrent, n)
    outputs = np.zeros((n_seq, n_steps, m), dtype=np.int64)
    default_c = np.broadcast_to(q.cm_default, (n_seq, n))
    for t in range(n_steps):
        c = default_c if elapsed_q is None else cm_terms(q, np.asarray(elapsed_q)[:, t])
        snum, sden = _synapse_sums(q, q.sensory, inputs_q[:, t], s_hot, trace, "sensory")
        fixed_num = q.leak_num + snum
        fixed_den = q.leak_den + sden
        _note(trace, "cm", c)
        _note(trace, "fixed_num", fixed_num)
        _note(trace, "fixed_den", fixed_den)
        for _ in range(q.ode_unfolds):
            rnum, rden = _synapse_sums(q, q.recurrent, v, r_hot, trace, "recurrent")
            n_sum = fixed_num + rnum
            d_sum = fixed_den + rden
            _note(trace, "sum_num", n_sum)
            _note(trace, "sum_den", d_sum)
            new_v, (dv, inc, den, delta) = update(v, c, d_sum, n_sum)
            for name, value in (("d_v", dv), ("den", den), ("delta", delta), ("v_plus_delta", v + delta),
                                ("increment", inc)):
                _note(trace, name, value)
            v = new_v
        y = (q.out_mult * v[:, :m] + q.out_add) >> q.out_shift
        _note(trace, "output", q.out_mult * v[:, :m] + q.out_add)
        outputs[:, t] = np.clip(y, -32768, 32767)
    return outputs.astype(np.int16), v.astype(np.int16)


# ------------------------------------------------------------------ float <-> integer at the edges

def _scaled(values, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(values, dtype=np.float32) * np.float32(1) * np.asarray(scale, dtype=np.float32)


def _round_f32(t):
    """(int)(t +- 0.5f) in float32 for |t| < 2^16: exact, rounds half away from zero."""
    with np.errstate(invalid="ignore"):
        r = np.where(t < 0, t - np.float32(0.5), t + np.float32(0.5)).astype(np.float32)
        return np.trunc(np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)).astype(np.int64)


def quantize_inputs(q, inputs):
    """float inputs [...,I] -> int16 input_q, exactly as NAME_step quantizes them (float32 x * 2^f,
    saturate, round half away from zero, NaN -> 0)."""
    scale = np.array([2.0 ** b for b in q.input_frac_bits], dtype=np.float32)
    t = _scaled(inputs, scale)
    with np.errstate(invalid="ignore"):
        out = np.where(t >= 32767, 32767, np.where(t > -32768, _round_f32(t), np.where(t <= -32768, -32768, 0)))
    return out.astype(np.int16)


def quantize_elapsed(q, elapsed_times):
    """float elapsed times -> uint16 elapsed_q as NAME_step_dt does: clamped to the compiled range,
    NaN -> the default."""
    lo, hi = q.elapsed_min_q, q.elapsed_max_q
    t = _scaled(elapsed_times, np.float32(2.0 ** q.elapsed_frac_bits))
    with np.errstate(invalid="ignore"):
        out = np.where(t >= hi, hi, np.where(t > lo, _round_f32(t), np.where(t <= lo, lo, q.elapsed_default_q)))
    return out.astype(np.uint16)


def dequantize_outputs(q, outputs_q):
    scale = np.array([2.0 ** -b for b in q.output_frac_bits])
    return np.asarray(outputs_q, dtype=np.float64) * scale


def dequantize_state(q, state_q):
    return np.asarray(state_q, dtype=np.float64) * q.state_scale
