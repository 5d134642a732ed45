"""Quantization: formats, bound analysis, errors, and the accuracy of the integer step vs float."""

import dataclasses

import numpy as np
import pytest

import fixed_support as fs
import models
from ltc2c import emulate, reference
from ltc2c.codegen import render
from ltc2c.errors import QuantizationError
from ltc2c.quantize import (Q15, STATE_MAX, bound_analysis, dequantized_folded, flash_estimate, quantize,
                            sigmoid_table)
from ltc2c.verify.fixed_parity import fixed_point_parity

ALL_MODELS = ("autoncp_16_2", "fc_8", "cell_fc6_linear", "random_12_3", "autoncp_u3", "autoncp_u12",
              "sine16", "multi32", "osc_fc8")
# Tolerances of the issue (shared notes fixed-point.md section 7), relative to each output's range.
INT16_MAX_REL, INT16_RMS_REL, DRIFT_MAX = 3e-3, 1e-3, 2.0
INT8_VS_FLOAT_MAX_REL = 5e-2


# ------------------------------------------------------------------------------------- formats

def test_input_formats_follow_calibration():
    q = fs.quantized("multi32", "int16")
    calib = np.abs(fs.calibration("multi32")).reshape(-1, q.inputs).max(axis=0)
    for bits, peak in zip(q.input_frac_bits, calib):
        assert peak * 2.0 ** bits <= 32767 < peak * 2.0 ** (bits + 1)
    assert q.warnings == ()


def test_default_input_range_warns():
    q = quantize(fs.folded_model("fc_8"), "int16")
    assert any("no calibration data" in w for w in q.warnings)
    assert q.input_frac_bits == (11,) * q.inputs  # +-8 fits Q11


def test_state_format_from_convexity_bound():
    for name in ALL_MODELS:
        folded = fs.folded_model(name)
        q = fs.quantized(name, "int16")
        erev = np.concatenate([folded.vleak, folded.recurrent.erev, folded.sensory.erev])
        assert q.state_bound == pytest.approx(np.abs(erev).max())
        assert q.state_scale * q.state_limit == pytest.approx(q.state_bound)
        assert 32767 - 8192 <= q.state_limit < 32767


def test_int8_weights_fit_int8():
    for name in ALL_MODELS:
        q = fs.quantized(name, "int8")
        for syn, shift in ((q.sensory, q.sensory_shift), (q.recurrent, q.recurrent_shift)):
            assert syn.w_q.min() >= 0 and syn.w_q.max() <= 127
            mult = np.int64(1) << shift[syn.post]
            assert np.array_equal(syn.w, syn.w_q * mult)  # stored as the int16 w8 * 2^m
            assert np.all(np.abs(syn.w_erev) <= 127 * mult) and np.all(syn.w_erev % mult == 0)
            assert syn.w.max() <= 32767
        assert q.recurrent.w_q.max() == 127  # the per-neuron scale uses the full range


def test_sigmoid_table_accuracy():
    from ltc2c.quantize import LUT_INDEX_SHIFT, LUT_OFFSET, LUT_STEP, SIG_WIDE_MAX

    table = sigmoid_table()
    assert table.size == 256 and table[0] & 0xFFFF == 0 and table[-1] & 0xFFFF == 0  # flat ends
    u = np.arange(-2**24, 2**25, 13, dtype=np.int64)  # beyond both ends: the index is clamped
    s = emulate.sigmoid_wide(table, u)
    assert s.min() >= 0 and s.max() <= SIG_WIDE_MAX
    z = (u - LUT_OFFSET) * (LUT_STEP / 2.0**LUT_INDEX_SHIFT)
    err = s / 2.0**31 - 1.0 / (1.0 + np.exp(-z))
    inner = np.abs(z) < 10  # beyond, Q15 itself saturates (1 - 2^-15)
    assert np.abs(err).max() < 5.2e-5  # 1.7 LSB of Q15: integer minimax line per entry
    assert np.sqrt(np.mean(err[inner] ** 2)) < 1.6e-5
    assert abs(err[inner].mean()) < 2e-6


def test_elapsed_range_and_default():
    q = fs.quantized("sine16", "int16")
    lo, hi = fs.ELAPSED_RANGE
    assert q.elapsed_min_q == round(lo * 2**q.elapsed_frac_bits)
    assert q.elapsed_max_q == round(hi * 2**q.elapsed_frac_bits) <= 65535
    assert q.elapsed_default_q == 2**q.elapsed_frac_bits  # elapsed time 1.0
    c = emulate.cm_terms(q, np.array([q.elapsed_default_q]))[0]
    assert np.array_equal(c, q.cm_default)
    # cm_t(e) is cm_t(default) * default / e within the integer rounding
    c2 = emulate.cm_terms(q, np.array([q.elapsed_max_q]))[0]
    assert np.allclose(c2, q.cm_default * q.elapsed_default_q / q.elapsed_max_q, rtol=1e-4, atol=1)


# ------------------------------------------------------------------------------ bound analysis

@pytest.mark.parametrize("mode", ["int16", "int8"])
@pytest.mark.parametrize("name", ALL_MODELS)
def test_worst_case_inputs_stay_inside_proven_bounds(name, mode):
    """Extreme int16 inputs and arbitrary initial states (including -32768): every intermediate the
    emulator sees lies inside the range the compile-time analysis proved, and that range fits int32."""
    q = fs.quantized(name, mode)
    rng = np.random.default_rng(11)
    steps = 60
    inputs_q = rng.choice(np.array([-32768, 32767, 0, -32767]), (6, steps, q.inputs)).astype(np.int16)
    inputs_q[0] = -32768
    inputs_q[1] = 32767
    state = rng.choice(np.array([-32768, -32767, 32767, 0]), (6, q.units))
    state[2] = -32768
    state[3] = 32767
    elapsed_q = rng.choice(np.array([0, q.elapsed_min_q, q.elapsed_max_q, 65535]), (6, steps)).astype(np.uint16)
    trace = {}
    emulate.run(q, inputs_q, elapsed_q, initial_state_q=state, trace=trace)
    emulate.run(q, inputs_q, None, initial_state_q=state, trace=trace)
    assert set(trace) <= set(q.bounds)
    for key, (lo, hi) in trace.items():
        p_lo, p_hi = q.bounds[key]
        assert p_lo <= lo and hi <= p_hi, f"{key}: observed [{lo}, {hi}] outside proven [{p_lo}, {p_hi}]"
        assert -2**31 <= p_lo and p_hi < 2**31 or key.endswith("interpolation")
    assert q.bounds["den"][0] >= 1


def test_state_never_saturates_when_proven():
    checked = 0
    for name in ALL_MODELS:
        for mode in ("int16", "int8"):
            q = fs.quantized(name, mode)
            if q.warnings:
                continue  # the leak is too weak for the proof: clamped, but not proven unreachable
            _, state = fs.emulated(name, mode, False)
            # the stress inputs reach the state bound; the final state is a sample of it
            assert np.abs(state.astype(np.int64)).max() < STATE_MAX
            checked += 1
    assert checked > 0, "every model warned: nothing was checked"


def test_negative_conductance_is_refused():
    folded = dataclasses.replace(fs.folded_model("cell_fc6_linear"), min_effective_conductance=-0.1)
    with pytest.raises(QuantizationError, match="convexity"):
        quantize(folded, "int16")


def test_zero_denominator_is_refused():
    folded = fs.folded_model("fc_8")
    broken = dataclasses.replace(folded, cm=np.zeros(folded.units), gleak=np.zeros(folded.units),
                                 gleak_vleak=np.zeros(folded.units))
    with pytest.raises(QuantizationError, match="denominator of neuron"):
        quantize(broken, "int16")


def test_unfit_gain_names_the_tensor():
    folded = fs.folded_model("fc_8")
    syn = dataclasses.replace(folded.sensory, gain=np.full(folded.sensory.count, 1e9))
    with pytest.raises(QuantizationError, match=r"sensory synapse\[0\]"):
        quantize(dataclasses.replace(folded, sensory=syn), "int16", calib_inputs=fs.calibration("fc_8"))


def test_elapsed_range_too_wide():
    with pytest.raises(QuantizationError, match="elapsed-time range"):
        quantize(fs.folded_model("fc_8"), "int16", elapsed_time_range=(1e-9, 1e3))


def test_bound_analysis_is_rerunnable():
    q = fs.quantized("multi32", "int8")
    assert bound_analysis(q) == q.bounds


# -------------------------------------------------------------------------------- code output

def test_render_is_deterministic_and_float_free_on_the_q_path():
    folded, q = fs.folded_model("sine16"), fs.quantized("sine16", "int16")
    first = render(folded, "net", quant="int16", quantized=q)
    again = quantize(folded, "int16", calib_inputs=fs.calibration("sine16"), elapsed_time_range=fs.ELAPSED_RANGE)
    assert again is not q  # a fresh quantization, not the cached object: quantize is deterministic too
    second = render(folded, "net", quant="int16", quantized=again)
    assert first == second
    integer_part = first["net.c"].split("float convenience wrappers")[0]
    assert "float" not in integer_part and "math.h" not in first["net.c"]
    assert "float" not in first["ltc2c_fixed.h"].replace("no float", "")
    header = first["net.h"]
    for macro in ("NET_INPUT_FRAC_BITS_0", "NET_OUTPUT_FRAC_BITS", "NET_ELAPSED_FRAC_BITS", "NET_ELAPSED_MIN_Q",
                  "net_step_q(", "net_step_dt_q(", "net_step(", "net_step_dt("):
        assert macro in header


def test_flash_estimate():
    est = flash_estimate(fs.quantized("multi32", "int16"))
    assert est["const_tables"] >= 4 * 256 and est["total"] == est["const_tables"] + est["parameters"]


# ----------------------------------------------------------------------------------- accuracy

def _task_inputs(name, sequences, steps, seed):
    return fs.trained_model(name)[1](np.random.default_rng(seed), sequences, steps)[0]


def _parity(name, mode, x, elapsed=None, c_build=False):
    """Parity metrics of the emulator's outputs, or (C_BUILD) of the generated C's (gcc -O2), so that
    the emulator-mismatch count is not the emulator compared with itself."""
    q = fs.quantized(name, mode)
    inputs_q = emulate.quantize_inputs(q, x)
    elapsed_q = None if elapsed is None else emulate.quantize_elapsed(q, elapsed)
    if c_build:
        out_q, _ = fs.run_c(fs.build(name, mode, "gcc", "-O2", sanitize=False), q, inputs_q, elapsed_q)
    else:
        out_q, _ = emulate.run(q, inputs_q, elapsed_q)
    return fixed_point_parity(fs.folded_model(name), q, x, elapsed, out_q)


@pytest.mark.parametrize("name", fs.TRAINED)
def test_trained_models_are_well_conditioned(name):
    """Precondition of the accuracy tests: a 1e-5 relative weight change moves the float output by
    well under the int16 tolerance (an ill-conditioned model diverges in any finite precision)."""
    folded = fs.folded_model(name)
    x = _task_inputs(name, 1, 2000, seed=5)
    y, _ = reference.run(folded, x)
    nudged = dataclasses.replace(folded, recurrent=dataclasses.replace(folded.recurrent, w=folded.recurrent.w * (1 + 1e-5)))
    y2, _ = reference.run(nudged, x)
    assert np.abs(y2 - y).max() / np.ptp(y) < 3e-4


@pytest.mark.parametrize("name", fs.TRAINED)
def test_int16_accuracy_on_trained_models(name):
    m = _parity(name, "int16", _task_inputs(name, 2, 2000, seed=5), c_build=True)
    assert m["emulator"]["mismatching_values"] == 0 and m["emulator"]["values"] > 0
    assert m["float"]["max_rel_range"] <= INT16_MAX_REL
    assert m["float"]["rms_rel_range"] <= INT16_RMS_REL


@pytest.mark.parametrize("name", fs.TRAINED)
def test_int16_error_does_not_drift(name):
    m = _parity(name, "int16", _task_inputs(name, 1, 10000, seed=6))
    assert m["float"]["drift"]["ratio"] <= DRIFT_MAX
    assert m["float"]["max_rel_range"] <= INT16_MAX_REL


@pytest.mark.parametrize("name", fs.TRAINED)
def test_int8_accuracy_on_trained_models(name):
    m = _parity(name, "int8", _task_inputs(name, 2, 2000, seed=5))
    deq = m["dequantized_float"]
    assert deq["max_rel_range"] <= INT16_MAX_REL and deq["rms_rel_range"] <= INT16_RMS_REL
    assert m["float"]["max_rel_range"] <= INT8_VS_FLOAT_MAX_REL


def test_accuracy_with_varying_elapsed_time():
    name = "sine16"
    x = _task_inputs(name, 2, 2000, seed=8)
    dt = np.random.default_rng(8).uniform(*fs.ELAPSED_RANGE, size=x.shape[:2])
    m = _parity(name, "int16", x, dt)
    assert m["float"]["max_rel_range"] <= INT16_MAX_REL
    assert m["float"]["rms_rel_range"] <= INT16_RMS_REL


def test_reference_matches_ncps_on_a_trained_model():
    """The float64 reference used above is ncps itself (float32) to ~1e-6."""
    import torch

    folded = fs.folded_model("sine16")
    x = _task_inputs("sine16", 1, 300, seed=9)
    path = fs.workdir() / "sine16.pt"
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP

    module = LTC(2, AutoNCP(16, 1))
    module.load_state_dict(torch.load(path, weights_only=True))
    y_ncps, _ = models.run_ncps(module, x)
    y_ref, _ = reference.run(folded, x)
    assert np.abs(y_ncps - y_ref).max() < 1e-5


def test_dequantized_int16_model_is_close_to_float():
    folded = fs.folded_model("multi32")
    deq = dequantized_folded(fs.quantized("multi32", "int16"))
    assert np.allclose(deq.recurrent.w, folded.recurrent.w, rtol=1e-3, atol=1e-4)
    assert np.allclose(deq.cm, folded.cm, rtol=1e-4)
    assert np.allclose(deq.output_scale, folded.output_scale, rtol=1e-4)


def test_parity_reports_c_mismatches():
    name, mode = "sine16", "int16"
    q = fs.quantized(name, mode)
    x = _task_inputs(name, 1, 200, seed=10)
    out_q, _ = emulate.run(q, emulate.quantize_inputs(q, x))
    out_q = out_q.copy()
    out_q[0, 5, 0] += 3
    m = fixed_point_parity(fs.folded_model(name), q, x, None, out_q)
    assert m["emulator"] == {"mismatching_values": 1, "mismatching_lsb_total": 3, "max_lsb": 3, "values": 200}
