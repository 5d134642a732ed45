"""Microcontroller targets: strict cross builds, runs on every emulated core (QEMU), deterministic
instruction counts, footprint and stack reports checked against measurements.

A missing cross compiler or QEMU skips locally and fails in CI (CI=true), see toolchains.require.
"""

import subprocess
import zlib

import numpy as np
import pytest
import torch

import models
from ltc2c import build, codegen, qemu, targets
from ltc2c.boards import get_board
from ltc2c.load import load_model
from ltc2c.passes import fold
from ltc2c.resources import hardware_dir
from ltc2c.verify import harness
from ltc2c.verify import target as on_target
from toolchains import require

CROSS = [t.name for t in targets.cross_targets()]
SEQUENCES, STEPS = 2, 256  # 512 steps per model and core
FLOAT_MODELS = {  # model -> elapsed-time mode of its test vectors
    "autoncp_16_2": "varying",
    "fc_8": "default",
    "autoncp_u3": "varying",
    "cell_fc6_linear": "varying",
}
FLOAT_TOLERANCE = 1e-5


def need(target_name):
    t = targets.get_target(target_name)
    require(t.compiler)
    require(t.qemu_system)
    return t


def acceptance_model(tmp_path_factory, folder, key):
    """A fresh folder and the folded acceptance model KEY, saved there and loaded back."""
    work = tmp_path_factory.mktemp(folder)
    torch.save(models.ACCEPTANCE_MODELS[key]().state_dict(), work / "model.pt")
    return work, fold(load_model(work / "model.pt", **models.LOAD_OPTIONS.get(key, {})))


@pytest.fixture(scope="module")
def float_cases(tmp_path_factory):
    """Generated float32 sources, test vectors and host-harness results for each float model."""
    require("cc")
    cases = {}
    for key, mode in FLOAT_MODELS.items():
        work, folded = acceptance_model(tmp_path_factory, f"f32_{key}", key)
        src = work / "src"
        codegen.write_output(codegen.render(folded, "net"), src)
        rng = np.random.default_rng(11)
        inputs = rng.normal(0.0, 1.5, size=(SEQUENCES, STEPS, folded.inputs)).astype(np.float32)
        times = None if mode == "default" else rng.uniform(0.2, 2.0, size=(SEQUENCES, STEPS)).astype(np.float32)
        exe = harness.build_harness(src, "net", work / "host")
        host_out, host_state = harness.run_harness(exe, inputs, times, folded.outputs, folded.units)
        cases[key] = {"src": src, "folded": folded, "inputs": inputs, "times": times, "host": (host_out, host_state),
                      "work": work}
    return cases


_RUNS = {}


def run_case(cases, key, target_name):
    """On-target run of one float case, cached per module (several tests look at the same run)."""
    if (key, target_name) not in _RUNS:
        case = cases[key]
        _RUNS[key, target_name] = on_target.run_on_target_report(case["src"], "net", target_name, case["inputs"],
                                                                 case["times"])
    return _RUNS[key, target_name]


def test_targets_are_data():
    assert set(CROSS) == {"cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m4f", "cortex-m7", "cortex-m33",
                          "riscv32"}
    for name in CROSS:
        t = targets.get_target(name)
        assert {"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"} <= set(t.cflags)
        board = get_board(t.qemu_board)
        assert board.kind == "qemu" and name in board.targets
        assert t.qemu_machine == board.qemu.machine and t.qemu_system == board.qemu.system
        assert t.tool("size").endswith("-size")
        assert t.default_quant in ("int16", "int8", "float32")
    assert targets.get_target("cortex-m4").dsp and not targets.get_target("cortex-m4").fpu
    assert targets.get_target("cortex-m4f").fpu
    assert targets.get_target("riscv32").qemu_machine == "virt"
    assert "-bios" in get_board("qemu-riscv32-virt").qemu.args


@pytest.mark.parametrize("target_name", CROSS)
def test_float32_builds_strict_and_reports_footprint(float_cases, target_name, tmp_path):
    t = need(target_name)
    case = float_cases["autoncp_16_2"]
    report = build.build_target(case["src"], target_name, build_dir=tmp_path / "b")
    assert report["target"] == target_name
    for flag in ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"):
        assert flag in report["flags"]
    folded = case["folded"]
    assert report["state_bytes"] == 4 * folded.units
    flash, ram = report["flash"], report["ram"]
    assert flash["total"] == flash["text"] + flash["rodata"] + flash["data"] > 0
    assert flash["rodata"] >= 4 * 5 * (folded.sensory.count + folded.recurrent.count)  # the synapse tables
    assert ram["data"] == ram["bss"] == 0  # no mutable globals in generated code
    assert report["stack_problems"] == []
    assert ram["stack"] == max(s["bytes"] for s in report["stack"].values()) > 0
    assert set(report["functions"]) == {"net_reset", "net_step", "net_step_dt"}
    assert report["linked"]["flash"] >= flash["total"] - 64  # linked image adds library code on top
    soft_float = [lib for lib in report["linked"]["libraries"] if "sf3" in lib or "addsubsf" in lib]
    assert bool(soft_float) == (not t.fpu), report["linked"]["libraries"]


@pytest.mark.parametrize("target_name", CROSS)
def test_float32_on_every_core_matches_host(float_cases, target_name, tmp_path):
    """4 models x 512 steps (3 with varying elapsed time): parity with the host build within the float32
    tolerance, and the painted stack never exceeds the reported worst case."""
    need(target_name)
    for key, case in float_cases.items():
        run = run_case(float_cases, key, target_name)
        host_out, host_state = case["host"]
        span = max(1.0, float(np.ptp(host_out, axis=(0, 1)).max()))
        assert np.abs(run.outputs.astype(np.float64) - host_out).max() <= FLOAT_TOLERANCE * span, key
        assert np.abs(run.states.astype(np.float64) - host_state).max() <= FLOAT_TOLERANCE * span, key
        assert run.counts.per_step.shape == (SEQUENCES, STEPS) and run.counts.min > 0
        report = build.build_target(case["src"], target_name, build_dir=tmp_path / key)
        entry = "net_step" if case["times"] is None else "net_step_dt"
        assert run.stack_bytes > run.stack_gap, "the step's stack use must be observable"
        assert report["stack"][entry]["bytes"] >= run.stack_bytes, (key, report["stack"][entry], run.stack_bytes)


def test_float32_bit_exact_with_host_on_every_core(float_cases):
    """The float32 model (ltc2c's own expf in plain IEEE single operations, no libm, contraction off)
    gives the host's bits on every core: hardware FPU (M4F, M7, M33) and soft-float (M0+, M3, M4,
    rv32) alike, 4 models x 512 steps."""
    for name in CROSS:
        need(name)
    for key, case in float_cases.items():
        host_out, host_state = case["host"]
        for name in CROSS:
            run = run_case(float_cases, key, name)
            assert np.array_equal(run.outputs.view(np.uint32), host_out.view(np.uint32)), (key, name)
            assert np.array_equal(run.states.view(np.uint32), host_state.view(np.uint32)), (key, name)


@pytest.mark.parametrize("target_name", ["cortex-m4", "riscv32"])
def test_instruction_counts_are_deterministic(float_cases, target_name, tmp_path):
    need(target_name)
    case = float_cases["autoncp_16_2"]
    t = targets.get_target(target_name)
    built = on_target.build_target_harness(case["src"], "net", t, tmp_path, case["inputs"][:, :40], case["times"][:, :40])
    first = on_target.run_target_harness(built, SEQUENCES, 40, case["folded"].outputs, case["folded"].units,
                                         name="net")
    second = on_target.run_target_harness(built, SEQUENCES, 40, case["folded"].outputs, case["folded"].units,
                                          name="net")
    assert np.array_equal(first.counts.per_step, second.counts.per_step)
    assert first.counts.mean == run_case(float_cases, "autoncp_16_2", target_name).counts.per_step[:, :40].mean()


KERNELS = {
    "arm": """
    .syntax unified
    .thumb
    .text
    .global count_kernel
    .type count_kernel, %function
    .thumb_func
count_kernel:
    movs r1, #10
1:  subs r1, r1, #1
    bne 1b
    bx lr
""",
    "riscv": """
    .text
    .globl count_kernel
    .type count_kernel, @function
count_kernel:
    li t0, 10
1:  addi t0, t0, -1
    bnez t0, 1b
    ret
""",
}
KERNEL_MAIN = """
void count_kernel(void);
int main(void)
{
    int i;
    for (i = 0; i < 3; ++i) {
        count_kernel();
    }
    return 0;
}
"""


@pytest.mark.parametrize("target_name", ["cortex-m0plus", "cortex-m4", "cortex-m33", "riscv32"])
def test_plugin_counts_exactly(target_name, tmp_path):
    """A hand-written loop of known length: 1 + 10 x 2 + 1 = 22 instructions per call."""
    t = need(target_name)
    (tmp_path / "kernel.S").write_text(KERNELS[t.family])
    (tmp_path / "main.c").write_text(KERNEL_MAIN)
    built = build.cross_elf([], [tmp_path / "kernel.S", tmp_path / "main.c"], t, get_board(t.qemu_board), tmp_path,
                            "kernel.elf")
    symbols = qemu.read_symbols(built.elf, t)
    ends = qemu.return_sites(built.elf, t, "main", ["count_kernel"])
    run = qemu.run_elf(built.elf, t.qemu_board, starts=[symbols["count_kernel"].address], ends=ends)
    assert run.returncode == 0
    assert run.windows == [22, 22, 22]


EXPF_SWEEP = r"""
#include <stdint.h>
#include <string.h>
#include <math.h>
#ifdef SWEEP_HOST
#include <stdio.h>
#else
#include "ltc2c_board.h"
#endif
static uint32_t crc = 0xFFFFFFFFu;
static void add(float y)
{
    uint32_t u;
    int bit;
    memcpy(&u, &y, sizeof u);
    for (bit = 0; bit < 32; ++bit) {
        uint32_t b = (u >> bit) & 1u;
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - ((crc ^ b) & 1u)));
    }
}
int main(void)
{
    static const char hex[] = "0123456789abcdef";
    char text[12];
    int i;
    volatile float x;
    for (i = -24000; i <= 24000; ++i) {
        x = (float)i / 1000.0f;   /* -24 .. 24: the sigmoid argument range and beyond */
        add(expf(x));
        x = (float)i * 0.0037f;  /* -88.8 .. 88.8: up to overflow and underflow */
        add(expf(x));
    }
    x = -0.0f; add(expf(x));
    x = 1.0e-9f; add(expf(x));
    text[0] = 'C';
    text[1] = ' ';
    for (i = 0; i < 8; ++i) {
        text[2 + i] = hex[(~crc >> (28 - 4 * i)) & 0xFu];
    }
    text[10] = '\n';
    text[11] = 0;
#ifdef SWEEP_HOST
    fputs(text, stdout);
#else
    ltc2c_board_write(text, 11u);
#endif
    return 0;
}
"""


def test_libc_expf_matches_newlib(tmp_path):
    """ltc2c's expf for libc-less toolchains (riscv32) gives newlib's soft-float expf bit for bit."""
    m4, rv = need("cortex-m4"), need("riscv32")
    require("cc")
    src = tmp_path / "sweep.c"
    src.write_text(EXPF_SWEEP)
    crcs = {}
    for t in (m4, rv):
        built = build.cross_elf([], [src], t, get_board(t.qemu_board), tmp_path / t.name, "sweep.elf")
        run = qemu.run_elf(built.elf, t.qemu_board, timeout=120)
        assert run.returncode == 0, run.console
        crcs[t.name] = run.console.split()[-1]
    shim = hardware_dir() / "common" / "libc" / "expf.c"
    exe = build.host_executable([src, shim], [hardware_dir() / "common" / "libc" / "include"], tmp_path / "sweep_host",
                                extra_flags=("-DSWEEP_HOST", "-Dexpf=ltc2c_shim_expf", "-ffp-contract=off"),
                                libraries=())
    crcs["host-shim"] = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()[-1]
    assert crcs["cortex-m4"] == crcs["riscv32"] == crcs["host-shim"], crcs
    # the sweep fed data: a standard reflected CRC-32 of nothing would be zlib.crc32(b"") (00000000)
    assert all(len(c) == 8 and int(c, 16) != zlib.crc32(b"") for c in crcs.values()), crcs


# --------------------------------------------------------------------------------------------
# Fixed point: int16 and int8 builds must be bit-exact with the host build and the emulator on
# every core.

FIXED_MODELS = {"autoncp_16_2": "varying", "fc_8": "default", "random_12_3": "varying", "autoncp_u3": "varying"}
FIXED_MODES = ("int16", "int8")


@pytest.fixture(scope="module")
def fixed_cases(tmp_path_factory):
    from ltc2c import emulate
    from ltc2c.quantize import quantize
    from ltc2c.verify.target import io_from_header

    require("cc")
    cases = {}
    for key, mode_dt in FIXED_MODELS.items():
        work, folded = acceptance_model(tmp_path_factory, f"fx_{key}", key)
        rng = np.random.default_rng(5)
        calib = rng.normal(0.0, 1.5, size=(2, 200, folded.inputs))
        inputs = rng.normal(0.0, 1.5, size=(SEQUENCES, STEPS, folded.inputs)).astype(np.float32)
        times = None if mode_dt == "default" else rng.uniform(0.2, 2.0, size=(SEQUENCES, STEPS)).astype(np.float32)
        for mode in FIXED_MODES:
            q = quantize(folded, mode, calib_inputs=calib, elapsed_time_range=None if times is None else (0.2, 2.0))
            src = work / mode
            codegen.write_output(codegen.render(folded, "net", mode, "cortex-m4", quantized=q), src)
            io = io_from_header((src / "net.h").read_text(), "net")
            x_q = emulate.quantize_inputs(q, inputs)
            dt_q = None if times is None else emulate.quantize_elapsed(q, times)
            emu = emulate.run(q, x_q, dt_q)
            exe = harness.build_harness(src, "net", work / f"host_{mode}", io=io)
            host = harness.run_harness(exe, x_q, dt_q, folded.outputs, folded.units, io=io)
            cases[key, mode] = {"src": src, "io": io, "inputs": x_q, "times": dt_q, "emulator": emu, "host": host,
                                "folded": folded, "q": q, "mode": mode}
    return cases


def test_fixed_host_matches_emulator(fixed_cases):
    for (key, mode), case in fixed_cases.items():
        assert np.array_equal(case["host"][0], case["emulator"][0]), (key, mode)
        assert np.array_equal(case["host"][1], case["emulator"][1]), (key, mode)


@pytest.mark.parametrize("target_name", CROSS)
def test_fixed_bit_exact_on_every_core(fixed_cases, target_name, tmp_path):
    """4 models x int16/int8 x 512 steps (3 with varying elapsed time): the core's outputs and final
    states equal the emulator's and the host's bit for bit; the painted stack stays within the report."""
    need(target_name)
    for (key, mode), case in fixed_cases.items():
        src = tmp_path / f"src_{key}_{mode}"  # rendered for this target: code generation may specialise
        codegen.write_output(codegen.render(case["folded"], "net", mode, target_name, quantized=case["q"]), src)
        run = on_target.run_on_target_report(src, "net", target_name, case["inputs"], case["times"], case["io"])
        assert run.outputs.dtype == np.int16
        assert np.array_equal(run.outputs, case["emulator"][0]), (key, mode, target_name)
        assert np.array_equal(run.states, case["emulator"][1]), (key, mode, target_name)
        assert np.array_equal(run.outputs, case["host"][0]) and np.array_equal(run.states, case["host"][1])
        if key == "autoncp_16_2":
            report = build.build_target(src, target_name, build_dir=tmp_path / f"{key}_{mode}")
            assert set(report["functions"]) == {"net_reset", "net_step_q", "net_step_dt_q"}
            assert report["state_bytes"] == 2 * case["folded"].units
            assert report["stack"]["net_step_dt_q"]["bytes"] >= run.stack_bytes > run.stack_gap
            fpu_free = not any(lib.startswith("libm") for lib in report["linked"]["libraries"])
            assert fpu_free, report["linked"]["libraries"]


def test_stack_parsing_rules():
    """Prologue patterns of the stack analysis, including ARMv6-M's large frames (size in a register)."""
    from ltc2c import footprint

    assert footprint._arm_frame("push", "{r4, r5, r6, r7, lr}") == 20
    assert footprint._arm_frame("vpush", "{d8-d9}") == 16
    assert footprint._arm_frame("sub", "sp, #412\t@ 0x19c") == 412
    assert footprint._arm_frame("sub.w", "sp, sp, #1024") == 1024
    assert footprint._arm_frame("stmdb", "sp!, {r4, r5, lr}") == 12
    assert footprint._arm_frame("add", "sp, r4") is None
    assert footprint._arm_frame("str.w", "lr, [sp, #-8]!") == 8
    assert footprint._arm_frame("str.w", "ip, [sp, #-4]!") == 4
    assert footprint._arm_frame("strd", "r4, r5, [sp, #-8]!") == 8
    assert footprint._arm_frame("str", "r3, [sp, #4]") == 0
    assert footprint._riscv_frame("add", "sp,sp,-48") == 48
    assert footprint._riscv_frame("addi", "sp,sp,-16") == 16
    assert footprint._riscv_frame("addi", "sp,sp,16") == 0
    graph = {"f.constprop.0": {"frame": 4, "callees": {"g"}, "indirect": False},
             "g": {"frame": 24, "callees": set(), "indirect": False}}
    depth, path, problems = footprint.worst_case_stack("f.constprop.0", graph, {"f.constprop": (552, "static")})
    assert (depth, path, problems) == (576, ["f.constprop.0", "g"], [])
    graph["g"]["frame"] = None
    assert footprint.worst_case_stack("f.constprop.0", graph, {})[0] is None


def test_fixed_reported_stack_covers_measured_on_m0plus(fixed_cases, tmp_path):
    """ARMv6-M is where frames are hardest to read (large frames via a register): check every case."""
    need("cortex-m0plus")
    for (key, mode), case in fixed_cases.items():
        run = on_target.run_on_target_report(case["src"], "net", "cortex-m0plus", case["inputs"][:, :8],
                                             None if case["times"] is None else case["times"][:, :8], case["io"],
                                             count=False)
        report = build.build_target(case["src"], "cortex-m0plus", build_dir=tmp_path / f"{key}_{mode}")
        entry = "net_step_q" if case["times"] is None else "net_step_dt_q"
        assert report["stack_problems"] == [], report["stack_problems"]
        assert report["stack"][entry]["bytes"] >= run.stack_bytes, (key, mode)


def test_target_modules_do_not_import_torch():
    import sys as _sys

    code = ("import sys\nimport ltc2c.qemu, ltc2c.footprint, ltc2c.boards, ltc2c.flash, ltc2c.cycles, "
            "ltc2c.verify.target\nprint(','.join(m for m in ('torch', 'onnxruntime') if m in sys.modules))\n")
    proc = subprocess.run([_sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_reference_model_int16_cortex_m4_budget(tmp_path):
    """Issue targets for R = LTC(8, AutoNCP(32, 4)), 6 unfolds, int16 on cortex-m4: <= 12,500
    instructions per step, model flash <= 4 KiB, state + worst-case stack <= 512 B, bit-exact."""
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP

    import ltc2c
    from ltc2c import emulate
    from ltc2c.quantize import quantize

    need("cortex-m4")
    torch.manual_seed(0)
    ltc2c.save(LTC(8, AutoNCP(32, 4), ode_unfolds=6), tmp_path / "r.pt")
    folded = fold(load_model(tmp_path / "r.pt"))
    rng = np.random.default_rng(0)
    q = quantize(folded, "int16", calib_inputs=rng.normal(0.0, 1.0, size=(4, 200, folded.inputs)))
    codegen.write_output(codegen.render(folded, "r", "int16", "cortex-m4", quantized=q), tmp_path / "src")
    x = emulate.quantize_inputs(q, np.random.default_rng(1).normal(0.0, 1.0, size=(1, 64, folded.inputs)))
    run = on_target.run_on_target_report(tmp_path / "src", "r", "cortex-m4", x, None)
    report = build.build_target(tmp_path / "src", "cortex-m4", build_dir=tmp_path / "b")
    out, state = emulate.run(q, x)
    assert np.array_equal(run.outputs, out) and np.array_equal(run.states, state)
    ram = report["state_bytes"] + report["ram"]["total"]  # state + data + bss + worst-case stack
    measured = {"instructions/step": run.counts.mean, "flash": report["flash"]["total"], "ram": ram}
    assert run.counts.mean <= 12500 and report["flash"]["total"] <= 4096 and ram <= 512, measured
