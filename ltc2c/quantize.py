"""Fixed-point quantization of a FoldedModel (int16, or int8 synaptic weights), numpy only.

Scheme (see README "Fixed point" and shared notes fixed-point.md, recommended scheme, improved):

* State v: int16 with a *real* scale S_v = Bv / Lmax. Bv is the convexity bound
  max(|vleak|, |erev|, |sensory_erev|, |v0| = 0): every update is a convex combination of the old v,
  vleak and the active erev values, so v never leaves [-Bv, Bv]. Lmax < 32767 keeps a few LSB of slack
  so that rounding can provably never push v into the clamp (see `_state_slack`).
* Sigmoid argument u: int32 in units of 2^-16 table steps, u = floor(gain_q * x_q / 2^16) + bias_q
  (one SMLAWB on DSP cores) with an int32 gain (the low `pre_bits` bits of the stored gain hold the
  presynaptic index, which moves the gain by < 2^-20 relative) and an int32 bias that carries the
  table offset and the rounding to the nearest knot. No per-synapse shift.
* Sigmoid: LUT_SIZE = 256 knots c_i = -L + i h (L = LUT_RANGE, h = 2L/255). Table index
  i = clamp(u >> 16, 0, 255) (one USAT), t = the signed low half of u (the offset from the knot in
  2^-16 steps), entry e_i = Y_i << 16 | m_i, and s = e_i + m_i t = Y_i 2^16 + m_i (t + 1) (one
  SMLABB): the sigmoid in Q31 (Q15 with 16 more bits), never rounded. (Y_i, m_i) are the integer
  minimax line of each piece [c_i - h/2, c_i + h/2); the end pieces are flat (m = 0), so clamping
  the index is exact.
* Conductances: one real scale K_j per target neuron j (it cancels in num/den). The conductance sum
  D = G + sum floor(W s / 2^16) is in units of K_j * 2^15, the current sum
  N = GV + sum floor(W erev s / 2^16) in units of K_j / S_v, both int32 (one SMLAWB / SMLAWT each). K_j is as large as int16 weights and D <= 2^30 allow; cm_t is
  *not* part of that sum (it would cost the weights 2-4 bits on slow neurons: the shared notes' acc32).
  int16 mode: W, W*erev int16; int8 mode: W, W*erev int8 with a per-neuron power-of-two shift m,
  stored (and multiplied) as the int16 W * 2^m (it always fits: W * K <= 2^15).
* cm_t: c_j(e) = K_j * cm_j * unfolds / elapsed (units of K_j), an int32 per neuron computed once per
  step from the uint16 elapsed time e (Q`elapsed_frac_bits`) with one 32-bit division; the step with
  the default elapsed time uses the same integers precomputed, so NAME_step_q == NAME_step_dt_q(default).
* Update in increment form, algebraically the fused step v' = (cm_t v + N) / (cm_t + D):
  inc = N - 2 floor(D v / 2^16) (one SMULWB), den = c + (D >> 15),
  v' = sat16(v + (inc + r) / den) with r = den >> 1 for inc >= 0 and -(den >> 1) - 1 otherwise:
  one exact 32/32 division, rounded to nearest (ties away from zero up to 1/den). den has >= 15
  significant bits on every test model (bounds["den"]); den >= 1 is proven, so no epsilon.
* Output: y_q = sat16((A * v_q + B) >> r), y = y_q * 2^-output_frac_bits.

`quantize` also runs the bound analysis: every int32 intermediate of the generated C is bounded for
*every* int16 input and state (not only the calibrated ones) and checked against int32; a model that
cannot fit raises QuantizationError naming the tensor.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import QuantizationError, UsageError
from .ir import frozen_array
from .passes import SynapseList

QUANT_MODES = ("int16", "int8")
INT32_MAX = 2**31 - 1
Q15 = 32768
STATE_MAX = 32767  # the state is clamped to +-32767 (symmetric, so |v| * c <= c * 2^15)
SIG_MAX = 32767  # largest sigmoid value (Q15)
SUM_LIMIT = 2**30 - 2**16  # D and |N| <= this, so |N - D v / 2^15| < 2^31
LUT_SIZE = 256  # sigmoid table entries
LUT_RANGE = 10.5  # the table covers z in [-L, L) in entries of width h = 2L / 256; the end entries are
#                   flat, so clamping the index is exact
LUT_STEP = 2 * LUT_RANGE / LUT_SIZE
LUT_INDEX_SHIFT = 15  # u = (z + L) / h * 2^15: entry u >> 15, fraction in the low 15 bits
LUT_OFFSET = (LUT_SIZE // 2) << LUT_INDEX_SHIFT  # z = 0 <-> u = 128 * 2^15
SIG_WIDE_MAX = SIG_MAX << 16  # every table value Y 2^16 + m (t + 1) lies in [0, 32767 * 2^16]
DEFAULT_INPUT_ABS_MAX = 8.0  # assumed |input| without calibration data
MIN_STATE_SLACK = 16  # LSB kept free below 32767 even when the leak contracts strongly
MAX_STATE_SLACK = 8192
WEIGHT_MAX = {"int16": 32767, "int8": 127}


@dataclass(frozen=True)
class QSynapses:
    """Quantized synapses, sorted by destination as in SynapseList.

    u = floor(gain * x[gain & (2^pre_bits - 1)] / 2^16) + bias (int32; gain & mask == pre);
    s = sigmoid_wide(u) (Q31); den += floor(w * s / 2^16), num += floor(w_erev * s / 2^16).
    """

    pre: np.ndarray
    post: np.ndarray
    ptr: np.ndarray
    gain: np.ndarray  # int32, low pre_bits bits = pre
    bias: np.ndarray  # int32 (table offset included); bits 0, 1: end-of-neuron / end-of-block marks
    pre_bits: int  # bits of the presynaptic index stored in the gain
    w: np.ndarray  # >= 0, int16 (int8 mode: the int8 weight times 2^m)
    w_erev: np.ndarray
    w_q: np.ndarray = None  # int8 mode: the int8 weights before the 2^m (for reports); else == w

    @property
    def count(self):
        return int(self.pre.size)


@dataclass(frozen=True)
class QuantizedModel:
    """Plain integers and arrays of the integer step, plus every scale (documented per field)."""

    mode: str  # "int16" or "int8"
    units: int
    inputs: int
    outputs: int
    ode_unfolds: int
    state_scale: float  # v = v_q * state_scale
    state_bound: float  # Bv, the convexity bound of |v|
    state_limit: int  # Lmax: |erev| / state_scale <= Lmax; slack below 32767 proves no saturation
    input_frac_bits: tuple  # input_q[k] = sat16(round(input[k] * 2^bits[k]))
    input_abs_max: tuple  # the calibrated (or default) |input| per feature
    output_frac_bits: tuple  # output[m] = output_q[m] * 2^-bits[m]
    elapsed_frac_bits: int  # elapsed = elapsed_q * 2^-bits (uint16)
    elapsed_min_q: int  # elapsed_q is clamped to [min, max]
    elapsed_max_q: int
    elapsed_default_q: int  # what NAME_step_q uses
    lut: np.ndarray  # uint32 [LUT_SIZE]: Y << 16 | m (see sigmoid_table)
    lut_range: float  # L: knots at -L + i h, h = 2L / (LUT_SIZE - 1)
    sensory: QSynapses
    recurrent: QSynapses
    neuron_scale: np.ndarray  # K_j (float): den = K_j * 2^15 * den_real
    sensory_shift: np.ndarray  # m: int8 weights are stored as w8 * 2^m (int8 mode; 0 for int16)
    recurrent_shift: np.ndarray
    leak_den: np.ndarray  # G_j = K_j * 2^15 * gleak (int32)
    leak_num: np.ndarray  # GV_j = K_j * gleak * vleak / S_v (int32)
    cm_default: np.ndarray  # c_j at the default elapsed time (int32); den term c_j * 2^15, num term c_j * v_j
    cm_mult: np.ndarray  # c_j(e) = (cm_mult * inv(e) + 2^(cm_shift-1)) >> cm_shift, inv = (2^31 + e/2) / e
    cm_shift: np.ndarray
    out_mult: np.ndarray  # y_q = sat16((out_mult * v_q + out_add) >> out_shift)
    out_add: np.ndarray
    out_shift: np.ndarray
    bounds: dict = field(repr=False)  # proven [min, max] of every int32 intermediate class
    warnings: tuple = ()
    elapsed_time: float = 1.0  # the model's default elapsed time (float)
    elapsed_range: tuple = (1.0, 1.0)  # the compile-time range (float)
    folded: object = field(default=None, repr=False, compare=False)  # the float model it came from


# --------------------------------------------------------------------------------------- helpers

def _round(x):
    """Round half away from zero, as the C wrappers do."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, np.floor(x + 0.5), -np.floor(-x + 0.5)).astype(np.int64)


def _frac_bits_for(abs_max, limit=32767, low=-16, high=30):
    """Largest f in [low, high] with abs_max * 2^f <= limit."""
    if abs_max <= 0:
        return high
    return int(np.clip(np.floor(np.log2(limit / abs_max)), low, high))


def sigmoid_table():
    """Table of LUT_SIZE packed entries Y_j << 16 | m_j (uint32). Entry j covers
    z in [-L + j h, -L + (j + 1) h) and evaluates to Y_j 2^16 + m_j (t + 1) ~ 2^31 sigmoid(z), where
    t is the *signed* low half of u: t in [0, 2^15) on even entries (offset from the entry's left
    end, in 2^-15 h) and t in [-2^15, 0) on odd entries (offset from its right end). (Y, m) is the
    integer line with the smallest max error over the entry; the end entries are flat (m = 0), and
    every value lies in [0, SIG_WIDE_MAX]."""
    return _sigmoid_table_cached()


def _sigmoid_table_build():
    n, h = LUT_SIZE, LUT_STEP
    table = np.zeros(n, dtype=np.int64)
    half = 1 << LUT_INDEX_SHIFT
    for j in range(n):
        t = np.append(np.arange(0, half, 32, dtype=np.int64), half - 1)
        anchor = -LUT_RANGE + j * h
        if j % 2:
            t = t - half
            anchor += h
        target = Q15 * 0.5 * (1.0 + np.tanh(0.5 * (anchor + t * (h / half))))
        if j in (0, n - 1):
            best = (0, int(np.clip(np.round(target.mean()), 0, SIG_MAX)), 0)
        else:
            m0 = (target[-1] - target[0]) / (t[-1] - t[0]) * 65536.0
            best = None
            base = int(np.floor(m0))
            for m in range(max(0, base - 1), base + 3):
                line = m * (t + 1) / 65536.0
                r = target - line
                y0 = 0.5 * (r.max() + r.min())
                for y in (int(np.floor(y0)), int(np.floor(y0)) + 1):
                    wide = y * 65536 + m * (t + 1)
                    if y < 0 or wide.min() < 0 or wide.max() > SIG_WIDE_MAX:
                        continue
                    err = float(np.abs(y + line - target).max())
                    if best is None or err < best[0]:
                        best = (err, y, m)
        table[j] = (best[1] << 16) | best[2]
    return frozen_array(table, np.uint32)


_TABLE = []


def _sigmoid_table_cached():
    if not _TABLE:
        _TABLE.append(_sigmoid_table_build())
    return _TABLE[0]


def _input_formats(folded, calib_inputs, warnings):
    n_in = folded.inputs
    if calib_inputs is None:
        warnings.append(f"no calibration data: inputs assumed within +-{DEFAULT_INPUT_ABS_MAX:g} "
                        "(pass calib_inputs / --calib to fit the input formats to real data)")
        abs_max = np.full(n_in, DEFAULT_INPUT_ABS_MAX)
    else:
        data = np.asarray(calib_inputs, dtype=np.float64)
        if data.ndim != 3 or data.shape[-1] != n_in:
            raise UsageError(f"calibration inputs have shape {list(data.shape)}, expected [S, T, {n_in}]",
                             "pass the same format as --data")
        if not np.all(np.isfinite(data)):
            raise UsageError("calibration inputs contain NaN or Inf", "clean the --calib file")
        abs_max = np.abs(data).reshape(-1, n_in).max(axis=0) if data.size else np.zeros(n_in)
        zero = abs_max == 0
        if np.any(zero):
            warnings.append(f"inputs {np.flatnonzero(zero).tolist()} are always 0 in the calibration data: "
                            f"assumed within +-{DEFAULT_INPUT_ABS_MAX:g}")
            abs_max = np.where(zero, DEFAULT_INPUT_ABS_MAX, abs_max)
    bits = tuple(_frac_bits_for(a) for a in abs_max)
    return bits, tuple(float(a) for a in abs_max)


def _elapsed_format(folded, elapsed_time_range, warnings):
    dt = float(folded.elapsed_time)
    lo, hi = (dt, dt) if elapsed_time_range is None else (float(elapsed_time_range[0]), float(elapsed_time_range[1]))
    if not (0 < lo <= hi and np.isfinite(hi)):
        raise UsageError(f"elapsed-time range {lo:g}:{hi:g} must satisfy 0 < MIN <= MAX",
                         "e.g. --elapsed-time-range 0.5:2")
    if not lo <= dt <= hi:
        warnings.append(f"default elapsed time {dt:g} lies outside {lo:g}:{hi:g}; the range is widened to include it")
        lo, hi = min(lo, dt), max(hi, dt)
    bits = _frac_bits_for(hi, 65535, -30, 30)
    e_min, e_max, e_def = (int(_round(t * 2.0 ** bits)) for t in (lo, hi, dt))
    e_max = min(e_max, 65535)
    if e_min < 1:
        raise QuantizationError(f"elapsed-time range {lo:g}:{hi:g} is too wide for a uint16 elapsed_q "
                                f"(MIN maps to 0 at Q{bits})", "narrow --elapsed-time-range (MAX/MIN < 65535)")
    if e_min < 1024:
        warnings.append(f"elapsed time MIN {lo:g} has only {e_min} steps of 2^-{bits}: "
                        "coarse time resolution at the short end")
    return bits, e_min, e_max, e_def, (lo, hi)


def cm_at(cm_mult, cm_shift, elapsed_q):
    """c_j(e) as the C computes it: inv = (2^31 + e/2) / e (uint32), c = (mult * inv + round) >> shift."""
    e = np.asarray(elapsed_q, dtype=np.int64)
    inv = ((1 << 31) + (e >> 1)) // e
    mult = np.asarray(cm_mult, dtype=object)
    shift = np.asarray(cm_shift, dtype=np.int64)
    # Python ints: exact 64-bit products (A < 2^31, inv <= 2^31).
    out = [(int(a) * int(i) + (1 << (int(s) - 1))) >> int(s) for a, s, i in
           zip(mult.ravel(), np.broadcast_to(shift, mult.shape).ravel(), np.broadcast_to(inv, mult.shape).ravel())]
    return np.array(out, dtype=np.int64).reshape(mult.shape)


def _cm_constants(cm_real_at_one):
    """cm_real_at_one = K_j * cm_j * unfolds * 2^elapsed_bits (c_j = that / e). -> (mult, shift)."""
    mult, shift = [], []
    for q in cm_real_at_one:
        if q <= 0:
            mult.append(0)
            shift.append(1)
            continue
        # c = q / e = q * inv / 2^31: mult = q * 2^(p - 31), as large as int32 allows.
        p = int(np.floor(np.log2(INT32_MAX / q))) + 31
        p = max(1, min(p, 62))
        a = int(_round(q * 2.0 ** (p - 31)))
        while a > INT32_MAX:
            p -= 1
            a = int(_round(q * 2.0 ** (p - 31)))
        mult.append(a)
        shift.append(p)
    return np.array(mult, dtype=np.int64), np.array(shift, dtype=np.int64)


# ------------------------------------------------------------------------------ conductance scales

def _group_sums(syn, n):
    total = np.zeros(n)
    peak = np.zeros(n)
    np.add.at(total, syn.post, syn.w)
    np.maximum.at(peak, syn.post, syn.w)
    return total, peak


def _fit_shift(peak, k, wmax):
    """Smallest m >= 0 with round(peak * k / 2^m) <= wmax."""
    m = 0
    while peak > 0 and int(_round(peak * k / 2.0**m)) > wmax:
        m += 1
    return m


def _neuron_scales(folded, mode, cm_peak):  # cm_peak: cm_t at the shortest elapsed time
    """K_j and the int8 shifts (m_sensory, m_recurrent) per neuron."""
    n = folded.units
    wmax = WEIGHT_MAX[mode]
    s_tot, s_peak = _group_sums(folded.sensory, n)
    r_tot, r_peak = _group_sums(folded.recurrent, n)
    d_real = folded.gleak + s_tot + r_tot  # D / (K 2^15) when every sigmoid is 1
    # 2^-10 margin absorbs the rounding of every quantized term.
    k = np.where(d_real > 0, SUM_LIMIT / (Q15 * np.maximum(d_real, 1e-300) * (1 + 2.0**-10)), 1.0)
    with np.errstate(over="ignore", divide="ignore"):
        k = np.minimum(k, 2.0**28 / np.maximum(cm_peak, 1e-300))  # c_j <= 2^28
    m_s = np.zeros(n, dtype=np.int64)
    m_r = np.zeros(n, dtype=np.int64)
    if mode == "int16":
        peak = np.maximum(s_peak, r_peak)
        k = np.where(peak > 0, np.minimum(k, (wmax - 0.5) / np.maximum(peak, 1e-300)), k)
        return k, m_s, m_r
    for j in range(n):
        primary = r_peak[j] if r_peak[j] > 0 else s_peak[j]
        if primary > 0 and primary * k[j] >= wmax:
            m = int(np.floor(np.log2(primary * k[j] / wmax)))
            k[j] = wmax * 2.0**m / primary  # the primary group uses the full int8 range
        m_s[j] = _fit_shift(s_peak[j], k[j], wmax)
        m_r[j] = _fit_shift(r_peak[j], k[j], wmax)
    return k, m_s, m_r


def _quantize_weights(syn, k, shift, state_scale, mode):
    """W_q = W K / 2^m; W*erev_q = W erev K / (2^15 S_v 2^m), clamped to |W*erev_q| <= W_q 32767/32768."""
    wmax = WEIGHT_MAX[mode]
    scale = k[syn.post] / 2.0 ** shift[syn.post]
    w_q = np.clip(_round(syn.w * scale), 0, wmax)
    we_q = _round(syn.w_erev * scale / (Q15 * state_scale))
    limit = (w_q * STATE_MAX) // Q15  # keeps the integer convex-combination bound exact
    we_q = np.clip(we_q, -limit, limit)
    return w_q, we_q


def _state_slack(folded, k, m_s, m_r, c_lo, c_hi, leak_den):
    """LSB kept below 32767 so that rounding can never push v into the clamp.

    v + inc/den is the convex combination (c 2^15 v + N 2^15) / (c 2^15 + D). With |v| <= V <= 32767 and
    |erev_q| <= Le it satisfies q <= V - (V - Le) G_j / F_j + r_j + x_j, where F_j bounds c 2^15 + D,
    r_j the rounding of inc, den and the quotient, and x_j that of the W*erev and GV constants
    (0.5 unit each). So Le <= 32767 - (r_j + x_j) F_j / G_j keeps q <= 32767: no saturation.
    Returns (slack, proven).
    """
    n = folded.units
    s_tot, _ = _group_sums(folded.sensory, n)
    r_tot, _ = _group_sums(folded.recurrent, n)
    n_s = np.bincount(folded.sensory.post, minlength=n)
    n_r = np.bincount(folded.recurrent.post, minlength=n)
    full_max = c_hi * float(Q15) + k * Q15 * (folded.gleak + s_tot + r_tot)
    full_min = np.maximum(c_lo * float(Q15) + leak_den, 1.0)
    den_min = np.maximum(full_min / Q15, 1.0)
    # quotient (ties off by <= 1/den), inc (2 floor(D v / 2^16): < 2), den (floor: < 1, |delta| <= 2^16)
    rounding = 0.5 + (1.0 + 2.0 + 2.0 * Q15) / den_min
    # W*erev rounding (0.5 unit of the int8/int16 weight times s) and the floor of every product (1 each)
    excess = ((n_s * 2.0**m_s + n_r * 2.0**m_r) * 0.5 * SIG_MAX + 2.0 * (n_s + n_r) + 0.5) * Q15 / full_min
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(leak_den > 0, (rounding + excess) * full_max / np.maximum(leak_den, 1) + 1.0, np.inf)
    slack = float(np.max(need)) if need.size else 0.0
    return int(np.clip(np.ceil(slack), MIN_STATE_SLACK, MAX_STATE_SLACK)), slack <= MAX_STATE_SLACK


# --------------------------------------------------------------------------- sigmoid arguments

def _pre_bits(n_pre):
    """8 (a byte, extracted with one UXTB) up to 256 presynaptic neurons or inputs, else as needed."""
    return max(8, int(n_pre - 1).bit_length())


def _quantize_arguments(gain_real, bias_real, pre, pre_bits, what):
    """Per synapse: u = floor(gain * x / 2^16) + bias in 2^-16 table steps, offset by the table
    origin and rounded to the nearest knot. The gain's low pre_bits bits hold pre (the nearest such
    value); bias beyond the point where the table saturates for every int16 x is clipped (exact)."""
    n = gain_real.size
    gains = np.zeros(n, dtype=np.int64)
    biases = np.zeros(n, dtype=np.int64)
    step = 1 << pre_bits
    for i in range(n):
        ideal = gain_real[i] / LUT_STEP * 2.0**(LUT_INDEX_SHIFT + 16)
        g = int(np.floor((ideal - int(pre[i])) / step + 0.5)) * step + int(pre[i]) if np.isfinite(ideal) else None
        reach = None if g is None else (abs(g) + 1) // 2  # |floor(g x / 2^16)| for any int16 x
        b = 0
        if g is not None:
            b = int(_round(np.clip(bias_real[i] / LUT_STEP * 2.0**LUT_INDEX_SHIFT, -2.0**40, 2.0**40))) + LUT_OFFSET
            top = LUT_SIZE << LUT_INDEX_SHIFT  # u < 0 or u >= top: a clamped (flat) entry
            b = int(np.clip(b, -(reach + top), reach + 2 * top))
        if g is None or abs(g) > INT32_MAX or reach + abs(b) > INT32_MAX:
            raise QuantizationError(f"{what}[{i}]: sigmoid gain {gain_real[i]:.4g} per input LSB does not fit the "
                                    f"int32 argument (at most about {LUT_STEP / 4:.3g} per LSB)",
                                    "rescale the inputs (smaller calibration range) or retrain")
        gains[i], biases[i] = g, b
    return gains, biases


def _qsynapses(syn, gain_scale, n_pre, k, shift, state_scale, mode, what):
    pre_bits = _pre_bits(n_pre)
    gains, biases = _quantize_arguments(syn.gain * gain_scale, syn.bias, syn.pre, pre_bits, what)
    w_q, we_q = _quantize_weights(syn, k, shift, state_scale, mode)
    # The two low bits of the bias (< 1e-4 of a table entry) mark, on the last synapse with w != 0 of
    # each target neuron, the end of the neuron (bit 0) and the end of a block of consecutive neurons
    # that all have such synapses (bit 1): the generated loops stop there. (A synapse with w == 0
    # adds exactly 0 and is not emitted.)
    biases = biases & ~np.int64(3)
    n_post = len(syn.ptr) - 1
    last = [None] * n_post
    for j in range(n_post):
        kept = [i for i in range(int(syn.ptr[j]), int(syn.ptr[j + 1])) if w_q[i] != 0]
        last[j] = kept[-1] if kept else None
    for j in range(n_post):
        if last[j] is not None:
            biases[last[j]] |= 1 if (j + 1 < n_post and last[j + 1] is not None) else 3
    mult = (np.int64(1) << shift[syn.post]) if syn.count else np.zeros(0, dtype=np.int64)
    i64 = np.int64
    return QSynapses(
        pre=frozen_array(syn.pre, i64), post=frozen_array(syn.post, i64), ptr=frozen_array(syn.ptr, i64),
        gain=frozen_array(gains, i64), bias=frozen_array(biases, i64), pre_bits=pre_bits,
        w=frozen_array(w_q * mult, i64), w_erev=frozen_array(we_q * mult, i64), w_q=frozen_array(w_q, i64))


# --------------------------------------------------------------------------------- output stage

def _output_stage(folded, state_scale):
    m = folded.outputs
    bits, mult, add, shift = [], [], [], []
    for i in range(m):
        ow, ob = float(folded.output_scale[i]), float(folded.output_offset[i])
        y_abs = abs(ow) * state_scale * STATE_MAX + abs(ob)
        fo = _frac_bits_for(y_abs)
        for r in range(30, 0, -1):
            a = int(_round(ow * state_scale * 2.0 ** (fo + r)))
            b = int(_round(ob * 2.0 ** (fo + r))) + (1 << (r - 1))
            if abs(a) <= 32767 and abs(a) * 32768 + abs(b) <= INT32_MAX:
                break
        else:
            raise QuantizationError(f"output_w[{i}] / output_b[{i}] do not fit the int16 output stage",
                                    "check the output mapping of the model")
        bits.append(fo)
        mult.append(a)
        add.append(b)
        shift.append(r)
    return tuple(bits), np.array(mult), np.array(add), np.array(shift)


# ------------------------------------------------------------------------------- bound analysis

def _check(bounds, name, lo, hi, limit_lo=-INT32_MAX - 1, limit_hi=INT32_MAX):
    lo, hi = int(lo), int(hi)
    if lo < limit_lo or hi > limit_hi:
        raise QuantizationError(f"int32 overflow possible in {name}: proven range [{lo}, {hi}]",
                                "the model's parameter ranges are too wide for this scheme; "
                                "try --quant float32 or report the model")
    old = bounds.get(name)
    bounds[name] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


def _synapse_bounds(bounds, syn, label):
    if syn.count == 0:
        return np.zeros(0), np.zeros(0)
    reach = (np.abs(syn.gain) + 1) // 2  # |floor(gain x / 2^16)| for every int16 x
    _check(bounds, f"{label}.u", (syn.bias - reach).min(), (syn.bias + reach).max())
    _check(bounds, f"{label}.sigmoid", 0, SIG_WIDE_MAX)  # guaranteed by sigmoid_table
    if np.any(syn.w > 32767) or np.any(np.abs(syn.w_erev) > 32767):
        raise QuantizationError(f"{label} weights do not fit int16", "internal error")
    # floor(w s / 2^16) in [0, w * 32767]; floor(we s / 2^16) in [-|we| 32767 - 1, |we| 32767]
    return syn.w * SIG_MAX, np.abs(syn.w_erev) * SIG_MAX + 1


def bound_analysis(q):
    """-> {intermediate: (min, max)} over all int16 inputs and states; raises QuantizationError."""
    bounds = {}
    n = q.units
    s_den, s_num = _synapse_bounds(bounds, q.sensory, "sensory")
    r_den, r_num = _synapse_bounds(bounds, q.recurrent, "recurrent")

    def per_neuron(syn, terms):
        out = np.zeros(n, dtype=object)
        for j, t in zip(syn.post, terms):
            out[j] += int(t)
        return out

    sd, sn = per_neuron(q.sensory, s_den), per_neuron(q.sensory, s_num)
    rd, rn = per_neuron(q.recurrent, r_den), per_neuron(q.recurrent, r_num)
    c_lo = cm_at(q.cm_mult, q.cm_shift, np.full(n, q.elapsed_max_q))
    c_hi = cm_at(q.cm_mult, q.cm_shift, np.full(n, q.elapsed_min_q))
    _check(bounds, "elapsed.inv", 0, ((1 << 31) + (q.elapsed_min_q >> 1)) // q.elapsed_min_q, 0, 2**32 - 1)
    for j in range(n):
        ms = mr = 1  # int8: the 2^m is part of the stored weights
        g, gv = int(q.leak_den[j]), int(q.leak_num[j])
        if abs(gv) * Q15 > STATE_MAX * g:
            raise QuantizationError(f"leak_num of neuron {j} breaks the convexity bound", "internal error")
        _check(bounds, "sensory.den_sum", 0, sd[j])
        _check(bounds, "sensory.num_sum", -sn[j], sn[j])
        _check(bounds, "fixed_den", g, g + sd[j] * ms)
        _check(bounds, "fixed_num", -abs(gv) - sn[j] * ms, abs(gv) + sn[j] * ms)
        _check(bounds, "cm", int(c_lo[j]), int(c_hi[j]), 0, 2**30)
        _check(bounds, "recurrent.den_sum", 0, rd[j])
        _check(bounds, "recurrent.num_sum", -rn[j], rn[j])
        d_hi = g + sd[j] * ms + rd[j] * mr
        _check(bounds, "sum_den", g, d_hi, 0, SUM_LIMIT)  # D
        n_hi = abs(gv) + sn[j] * ms + rn[j] * mr  # <= D term by term (convexity construction)
        _check(bounds, "sum_num", -n_hi, n_hi, -SUM_LIMIT, SUM_LIMIT)  # N
        dv = 2 * ((d_hi * Q15 >> 16) + 1)  # |2 floor(D v / 2^16)| for any int16 v, even -32768
        _check(bounds, "d_v", -dv, dv)
        inc = n_hi + dv
        den_lo = int(c_lo[j]) + (g >> 15)
        den_hi = int(c_hi[j]) + (d_hi >> 15)
        if den_lo < 1:
            raise QuantizationError(f"denominator of neuron {j} can be 0 (cm and gleak vanish)",
                                    "the model needs cm > 0 or gleak > 0 for every neuron")
        _check(bounds, "den", den_lo, den_hi, 1)
        _check(bounds, "increment", -inc - (den_hi >> 1) - 1, inc + (den_hi >> 1))
        step = inc // den_lo + 1  # |round(inc / den)| <= |inc| / den_min + 1/2
        _check(bounds, "delta", -step, step)
        _check(bounds, "v_plus_delta", -Q15 - step, Q15 + step)  # v' = sat16(v + delta)
    for syn, label in ((q.sensory, "sensory"), (q.recurrent, "recurrent")):
        if syn.count and np.any(np.abs(syn.w_erev) * Q15 > STATE_MAX * syn.w):
            raise QuantizationError(f"{label} w_erev breaks the convexity bound", "internal error")
    for i in range(q.outputs):
        reach = abs(int(q.out_mult[i])) * Q15
        _check(bounds, "output", int(q.out_add[i]) - reach, int(q.out_add[i]) + reach)
    return bounds


# ------------------------------------------------------------------------------------ quantize

def quantize(folded, mode="int16", calib_inputs=None, elapsed_time_range=None):
    """FoldedModel -> QuantizedModel. See the module docstring for the scheme."""
    if mode not in QUANT_MODES:
        raise UsageError(f"unknown quantization mode '{mode}'", f"choose one of: {', '.join(QUANT_MODES)}")
    if folded.min_effective_conductance < 0:
        raise QuantizationError(
            f"a conductance (w, sensory_w, cm or gleak) is negative ({folded.min_effective_conductance:.3g}): "
            "the convexity bound that fixes the state format does not hold",
            "apply ncps apply_weight_constraints() before saving, or use --quant float32")
    warnings = []
    n = folded.units
    in_bits, in_abs = _input_formats(folded, calib_inputs, warnings)
    e_bits, e_min, e_max, e_def, e_range = _elapsed_format(folded, elapsed_time_range, warnings)

    cm_at_one = folded.cm * folded.ode_unfolds * 2.0**e_bits  # c_j(e) = K_j * this / e
    k, m_s, m_r = _neuron_scales(folded, mode, cm_at_one / e_min)

    cm_mult, cm_shift = _cm_constants(k * cm_at_one)
    cm_default = cm_at(cm_mult, cm_shift, np.full(n, e_def))
    leak_den = _round(k * Q15 * folded.gleak)

    erev_all = np.concatenate([[0.0], np.abs(folded.vleak), np.abs(folded.sensory.erev), np.abs(folded.recurrent.erev)])
    bv = float(erev_all.max()) or 1.0
    c_lo = cm_at(cm_mult, cm_shift, np.full(n, e_max)).astype(np.float64)
    c_hi = cm_at(cm_mult, cm_shift, np.full(n, e_min)).astype(np.float64)
    slack, proven = _state_slack(folded, k, m_s, m_r, c_lo, c_hi, leak_den)
    if not proven:
        warnings.append("the leak is too weak to prove that the state never saturates; "
                        "it is clamped to +-32767 (defined, but a saturated state is an error vs float)")
    limit = STATE_MAX - slack
    state_scale = bv / limit
    leak_num = _round(k * folded.gleak_vleak / state_scale)
    gv_limit = (leak_den * STATE_MAX) // Q15
    leak_num = np.clip(leak_num, -gv_limit, gv_limit)

    in_scale = np.array([2.0 ** -b for b in in_bits])
    sensory = _qsynapses(folded.sensory, in_scale[folded.sensory.pre],
                         folded.inputs, k, m_s, state_scale, mode, "sensory synapse")
    recurrent = _qsynapses(folded.recurrent, state_scale, n, k, m_r, state_scale, mode, "recurrent synapse")
    out_bits, out_mult, out_add, out_shift = _output_stage(folded, state_scale)

    i64 = np.int64
    q = QuantizedModel(
        mode=mode, units=n, inputs=folded.inputs, outputs=folded.outputs, ode_unfolds=folded.ode_unfolds,
        state_scale=state_scale, state_bound=bv, state_limit=limit,
        input_frac_bits=in_bits, input_abs_max=in_abs, output_frac_bits=out_bits,
        elapsed_frac_bits=e_bits, elapsed_min_q=e_min, elapsed_max_q=e_max, elapsed_default_q=e_def,
        lut=sigmoid_table(), lut_range=LUT_RANGE, sensory=sensory, recurrent=recurrent,
        neuron_scale=frozen_array(k), sensory_shift=frozen_array(m_s, i64), recurrent_shift=frozen_array(m_r, i64),
        leak_den=frozen_array(leak_den, i64), leak_num=frozen_array(leak_num, i64),
        cm_default=frozen_array(cm_default, i64), cm_mult=frozen_array(cm_mult, i64),
        cm_shift=frozen_array(cm_shift, i64), out_mult=frozen_array(out_mult, i64),
        out_add=frozen_array(out_add, i64), out_shift=frozen_array(out_shift, i64),
        bounds={}, warnings=tuple(warnings), elapsed_time=float(folded.elapsed_time), elapsed_range=e_range,
        folded=folded)
    return replace(q, bounds=bound_analysis(q))


# ------------------------------------------------------------------------------- dequantization

def _dequantized_synapses(syn, qs, gain_scale, k, shift, state_scale):
    if qs.count == 0:
        return syn
    scale = 1.0 / k[qs.post]  # the stored weights include the int8 2^m
    w = qs.w * scale
    w_erev = qs.w_erev * scale * Q15 * state_scale
    with np.errstate(divide="ignore", invalid="ignore"):
        erev = np.where(w > 0, w_erev / np.where(w > 0, w, 1.0), syn.erev)
    return SynapseList(
        pre=syn.pre, post=syn.post, ptr=syn.ptr,
        gain=frozen_array(qs.gain * (LUT_STEP / 2.0**(LUT_INDEX_SHIFT + 16)) / gain_scale),
        bias=frozen_array((qs.bias - LUT_OFFSET) * (LUT_STEP / 2.0**LUT_INDEX_SHIFT)),
        w=frozen_array(w), w_erev=frozen_array(w_erev), erev=frozen_array(erev))


def dequantized_folded(q):
    """The float model the integer step approximates: the source FoldedModel with every parameter
    replaced by its dequantized integer (weights, gains, biases, leak, cm at the default elapsed
    time, output map). Compare int8 builds against this with the int16 tolerance."""
    folded = q.folded
    k = q.neuron_scale
    in_scale = np.array([2.0 ** -b for b in q.input_frac_bits])
    sensory = _dequantized_synapses(folded.sensory, q.sensory,
                                    in_scale[q.sensory.pre],
                                    k, q.sensory_shift, q.state_scale)
    recurrent = _dequantized_synapses(folded.recurrent, q.recurrent, q.state_scale, k, q.recurrent_shift,
                                      q.state_scale)
    gleak = q.leak_den / (k * Q15)
    gleak_vleak = q.leak_num * q.state_scale / k
    dt = q.elapsed_default_q * 2.0 ** -q.elapsed_frac_bits
    cm = q.cm_default * dt / (k * q.ode_unfolds)
    fo = np.array(q.output_frac_bits, dtype=np.float64)
    unit = 2.0 ** -(fo + q.out_shift)
    with np.errstate(divide="ignore", invalid="ignore"):
        vleak = np.where(gleak > 0, gleak_vleak / np.where(gleak > 0, gleak, 1.0), folded.vleak)
    return replace(
        folded, sensory=sensory, recurrent=recurrent, cm=frozen_array(cm), gleak=frozen_array(gleak),
        gleak_vleak=frozen_array(gleak_vleak), vleak=frozen_array(vleak), elapsed_time=dt,
        output_scale=frozen_array(q.out_mult * unit / q.state_scale),
        output_offset=frozen_array((q.out_add - 2.0 ** (q.out_shift - 1)) * unit))


def flash_estimate(q):
    """Bytes of constant data: the sigmoid table and the per-neuron tables (leak, cm_t, synapse
    counts), plus the synapse records (gain, bias, W | W*erev: 12 bytes each)."""
    tables = 4 * q.lut.size + 4 * q.units  # lut + cm_default
    if q.elapsed_min_q != q.elapsed_max_q:
        tables += 5 * q.units  # cm_mult (int32) + cm_shift (uint8)
    synapses = q.sensory.count + q.recurrent.count
    params = synapses * 12 + q.units * 10 + q.outputs * 8
    return {"const_tables": tables, "parameters": params, "total": tables + params}
