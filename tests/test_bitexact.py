"""Generated integer C == the Python emulator in every output and state bit.

Never skipped: gcc and clang are required. Each harness is built once per (model, quant, compiler,
optimization) under ASan + UBSan (no recovery, so any finding fails the run) and fed 4 sequences x
2000 steps: typical inputs, inputs beyond the calibrated range (saturating), arbitrary int16 values
and switching extremes; once with the default elapsed time (NAME_step_q) and once with elapsed times
inside, at and outside the compiled range (NAME_step_dt_q).
"""

import numpy as np
import pytest

import fixed_support as fs
from toolchains import require
from ltc2c import emulate

MODELS = ("autoncp_16_2", "fc_8", "cell_fc6_linear", "random_12_3", "autoncp_u3", "autoncp_u12",
          "sine16", "multi32")
BUILDS = [("gcc", "-O0"), ("gcc", "-O2"), ("clang", "-O0"), ("clang", "-O2")]


@pytest.mark.parametrize("compiler,optimization", BUILDS, ids=[f"{c}{o}" for c, o in BUILDS])
@pytest.mark.parametrize("mode", ["int16", "int8"])
@pytest.mark.parametrize("name", MODELS)
def test_c_equals_emulator(name, mode, compiler, optimization):
    q = fs.quantized(name, mode)
    exe = fs.build(name, mode, compiler, optimization)
    inputs_q, elapsed_q = fs.stress_inputs(name, mode)
    for variable in (False, True):
        c_out, c_state = fs.run_c(exe, q, inputs_q, elapsed_q if variable else None)
        e_out, e_state = fs.emulated(name, mode, variable)
        what = "NAME_step_dt_q" if variable else "NAME_step_q"
        assert np.count_nonzero(c_out != e_out) == 0, f"{what}: outputs differ from the emulator"
        assert np.count_nonzero(c_state != e_state) == 0, f"{what}: final states differ from the emulator"


def test_step_q_equals_step_dt_q_at_default():
    q = fs.quantized("sine16", "int16")
    inputs_q, _ = fs.stress_inputs("sine16", "int16")
    fixed, _ = emulate.run(q, inputs_q)
    default = np.full(inputs_q.shape[:2], q.elapsed_default_q, dtype=np.uint16)
    exe = fs.build("sine16", "int16", "gcc", "-O2", sanitize=False)
    c_fixed, _ = fs.run_c(exe, q, inputs_q, None)
    c_default, _ = fs.run_c(exe, q, inputs_q, default)
    assert np.array_equal(c_fixed, fixed)
    assert np.array_equal(c_default, fixed)


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_single_elapsed_time_build(compiler):
    """Compiled for the default elapsed time only: NAME_step_dt_q clamps every elapsed_q to it."""
    q = fs.quantized("autoncp_u3", "int16", None)
    assert q.elapsed_min_q == q.elapsed_max_q == q.elapsed_default_q
    exe = fs.build("autoncp_u3", "int16", compiler, "-O2", elapsed_range=None)
    inputs_q, elapsed_q = fs.stress_inputs("autoncp_u3", "int16")
    expected, _ = emulate.run(q, inputs_q)
    for dt in (None, elapsed_q):
        c_out, _ = fs.run_c(exe, q, inputs_q, dt)
        assert np.array_equal(c_out, expected)


@pytest.mark.parametrize("mode", ["int16", "int8"])
def test_float_wrappers_equal_emulator(mode):
    """NAME_step / NAME_step_dt quantize at the edges exactly as emulate.quantize_* say."""
    name = "multi32"
    q = fs.quantized(name, mode)
    rng = np.random.default_rng(3)
    x = fs.calibration(name)[:, :500] * 1.5
    x[0, :5, 0] = [np.nan, np.inf, -np.inf, 1e30, -1e-30]  # saturate, NaN -> 0
    dt = rng.uniform(0.2, 3.0, size=x.shape[:2])
    dt[0, :4] = [np.nan, 0.0, -1.0, 1e9]
    exe = fs.build(name, mode, "gcc", "-O2", io=fs.FLOAT_Q_IO)
    for elapsed in (None, dt):
        c_out, c_state = fs.run_c(exe, q, x.astype(np.float32), None if elapsed is None else elapsed.astype(np.float32),
                                  io=fs.FLOAT_Q_IO)
        e_q, e_state = emulate.run(q, emulate.quantize_inputs(q, x),
                                   None if elapsed is None else emulate.quantize_elapsed(q, elapsed))
        expected = emulate.dequantize_outputs(q, e_q).astype(np.float32)
        assert np.array_equal(c_out, expected)
        assert np.array_equal(c_state.view(np.int16), e_state)


def test_generated_sources_are_strict_c99_for_cortex_m():
    """The integer C builds with the project's warning set for a Cortex-M4 without FPU, if the
    cross compiler is installed (the host builds above always run)."""
    import subprocess

    cc = require("arm-none-eabi-gcc")  # skips locally, fails in CI
    src = fs.sources("multi32", "int16")
    cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-mcpu=cortex-m4", "-mthumb",
           "-mfloat-abi=soft", "-O2", "-ffreestanding", f"-I{src}", "-c", str(src / "net.c"),
           "-o", str(fs.workdir() / "net_m4.o")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
