"""Instructions per step, flash and RAM of ltc2c's generated C on every emulated core.

Part 1: the reference model R = ncps LTC(8, AutoNCP(32, 4)), 6 unfolds, seed 0, per target and quant
(float32, int16, int8), plus a float32 *dense* build of the same model (every masked synapse computed
with weight 0: the stand-in for a dense exporter such as onnx2c, which is not installed here).
Part 2: a size sweep, N = 8 .. 128 neurons, AutoNCP(N, N/8) and FullyConnected(N, 4), 6 unfolds.

Columns
  insn/step  executed instructions per NAME_step (NAME_step_q for integer builds) call, counted by
             ltc2c's QEMU TCG plugin (exact, identical from run to run), mean over the steps run
  est cyc    cycle estimate from the TRM timing tables (ltc2c.cycles; M0+/M3/M4 only, --cycles)
  flash      the model's own text + rodata + data after --gc-sections (bytes)
  +lib       flash of the library code it pulls in (libgcc soft-float, libm expf, memcpy, ...)
  RAM        caller-owned state + worst-case stack of the entry point (static data is 0)
  bound      lower bound on instructions/step: the arithmetic the step must do, divided by what the
             core can retire per cycle (2 on the dual-issue M7, 1 elsewhere). Per synapse (S of them:
             sensory + unfolds x recurrent): fixed point 5 ops (argument MAC, table load,
             interpolation MAC, numerator and denominator MACs; 4 with DSP, where SMLAD pairs the two
             accumulations), float32 6 ops (argument FMA, exp as ONE op, add, divide, two FMAs).
             Per neuron and unfold: 5 ops fixed point (64-bit product, add, divide, round,
             saturate), 4 float. Per output: 2 ops. Soft-float cores cannot approach the float bound.
  x bound    insn/step / bound
  check      bit-exact vs ltc2c.emulate (fixed point); float32: bit-exact vs the host build, or
             within 1e-5 of it

Usage:
  python benchmarks/targets_bench.py                   # everything (a few minutes)
  python benchmarks/targets_bench.py --quick           # fewer steps, sweep up to N = 64
  python benchmarks/targets_bench.py --json out.json --cycles
"""

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from ncps.torch import LTC
from ncps.wirings import AutoNCP, FullyConnected

import ltc2c
from ltc2c import build, codegen, targets
from ltc2c.errors import Ltc2cError
from ltc2c.ir import frozen_array
from ltc2c.load import load_model
from ltc2c.passes import SynapseList, fold
from ltc2c.verify import target as on_target
from ltc2c.verify.target import io_from_header

QUANTS = ("float32", "int16", "int8")
UNFOLDS = 6


def reference_model(seed=0, units=32, outputs=4, wiring="autoncp", inputs=8):
    """Seeded ncps LTC(inputs, AutoNCP(units, outputs) or FullyConnected(units, outputs)), 6 unfolds."""
    torch.manual_seed(seed)
    if wiring == "autoncp":
        w = AutoNCP(units, outputs)
    else:
        w = FullyConnected(units, outputs)
    return LTC(inputs, w, ode_unfolds=UNFOLDS)


def dense(folded):
    """The same model with every (pre, post) pair as a synapse; masked ones get weight 0 (exact)."""

    def densify(syn, n_pre, n_post):
        existing = {(int(p), int(q)): k for k, (p, q) in enumerate(zip(syn.pre, syn.post))}
        cols = {name: [] for name in ("pre", "post", "gain", "bias", "w", "w_erev", "erev")}
        for post in range(n_post):
            for pre in range(n_pre):
                k = existing.get((pre, post))
                cols["pre"].append(pre)
                cols["post"].append(post)
                for name in ("gain", "bias", "w", "w_erev", "erev"):
                    cols[name].append(getattr(syn, name)[k] if k is not None else 0.0)
        ptr = np.arange(0, n_pre * (n_post + 1), n_pre)
        return SynapseList(pre=frozen_array(cols["pre"], np.int64), post=frozen_array(cols["post"], np.int64),
                           ptr=frozen_array(ptr, np.int64),
                           **{n: frozen_array(cols[n]) for n in ("gain", "bias", "w", "w_erev", "erev")})

    return replace(folded, sensory=densify(folded.sensory, folded.inputs, folded.units),
                   recurrent=densify(folded.recurrent, folded.units, folded.units))


def lower_bound(folded, quant, target):
    """Lower bound on instructions per step (see the module docstring)."""
    synapses = folded.sensory.count + folded.ode_unfolds * folded.recurrent.count
    neuron_steps = folded.units * folded.ode_unfolds
    if quant == "float32":
        ops = 6 * synapses + 4 * neuron_steps + 2 * folded.outputs
    else:
        ops = (4 if target.dsp else 5) * synapses + 5 * neuron_steps + 2 * folded.outputs
    return ops / (2 if target.cpu == "cortex-m7" else 1)


def generate(folded, quant, out_dir, calib, target="host"):
    """Render the model for TARGET (code generation may specialise per core) into OUT_DIR.
    -> OUT_DIR, or the error text if code generation fails."""
    try:
        return _generate(folded, quant, out_dir, calib, target)
    except Exception as exc:  # a benchmark row, not a crash: report and go on
        return f"code generation failed: {type(exc).__name__}: {exc}"


def _generate(folded, quant, out_dir, calib, target):
    q = None
    if quant == "float32":
        files = codegen.render(folded, "r", "float32", target)
    else:
        from ltc2c.quantize import quantize

        q = quantize(folded, quant, calib_inputs=calib)
        files = codegen.render(folded, "r", quant, target, quantized=q)
    codegen.write_output(files, out_dir)
    _QUANTIZED[str(out_dir)] = q
    return out_dir


_QUANTIZED = {}  # source folder -> QuantizedModel, for the exactness check against ltc2c.emulate


def exactness(folded, quant, src, x, run, work):
    """'bit-exact' vs the integer emulator (fixed point) / '<=1e-5' vs the host build (float32),
    else what differs: a row whose outputs are wrong must not pass as a speed result."""
    if quant != "float32":
        from ltc2c import emulate

        out, state = emulate.run(_QUANTIZED[str(src)], x)
        same = np.array_equal(run.outputs, out) and np.array_equal(run.states, state)
        return "bit-exact" if same else "MISMATCH vs emulator"
    from ltc2c.verify import harness

    exe = harness.build_harness(src, "r", work / "host")
    out, _ = harness.run_harness(exe, x, None, folded.outputs, folded.units)
    if np.array_equal(run.outputs.view(np.uint32), out.view(np.uint32)):
        return "bit-exact vs host"
    err = float(np.abs(run.outputs.astype(np.float64) - out).max())
    return "<=1e-5" if err <= 1e-5 * max(1.0, float(np.ptp(out))) else f"max err {err:.2g}"


def vectors(folded, quant, src, steps, seed=1):
    """One seeded input sequence in the API's wire format, and the HarnessIO."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, size=(1, steps, folded.inputs)).astype(np.float32)
    io = io_from_header((Path(src) / "r.h").read_text(), "r")
    if quant != "float32":
        scale = np.array([2.0 ** int(line.split()[2]) for line in (Path(src) / "r.h").read_text().splitlines()
                          if line.startswith("#define R_INPUT_FRAC_BITS_")], dtype=np.float64)
        x = np.clip(np.round(x * scale), -32768, 32767).astype(np.int16)
    return x, io


def measure(folded, quant, target, src, work, steps, cycles):
    """One table row: build_target footprint + an on-target run with counted instructions."""
    row = {"target": target.name, "quant": quant}
    if isinstance(src, str):
        row["error"] = src
        return row
    try:
        report = build.build_target(src, target, build_dir=work / f"b_{target.name}")
        x, io = vectors(folded, quant, src, steps)
        run = on_target.run_on_target_report(src, "r", target, x, None, io, workdir=work / f"r_{target.name}")
    except Ltc2cError as exc:
        row["error"] = exc.one_line()
        return row
    entry = "r_step_q" if quant != "float32" else "r_step"
    stack = report["stack"][entry]["bytes"]
    row.update({
        "insn": run.counts.mean, "flash": report["flash"]["total"],
        "lib": report["linked"]["flash"] - report["flash"]["total"],
        "state": report["state_bytes"], "stack": stack, "stack_dt": report["ram"]["stack"],
        "ram": (report["state_bytes"] or 0) + (stack or 0) + report["ram"]["data"] + report["ram"]["bss"],
        "measured_stack": run.stack_bytes, "bound": lower_bound(folded, quant, target),
    })
    row["x_bound"] = row["insn"] / row["bound"]
    row["exact"] = exactness(folded, quant, src, x, run, work / f"h_{target.name}")
    if cycles:
        prof = on_target.profile_on_target(src, "r", target, x[:, : min(steps, 8)], None, io,
                                           workdir=work / f"p_{target.name}", lines=False)
        row["cycles"] = prof["estimated_cycles_per_step"]
        row["top_functions"] = prof["by_function"][:5]
    return row


def fmt(value, width=9):
    """A table cell."""
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return (f"{value:,.0f}" if value >= 100 else f"{value:.1f}").rjust(width)
    return f"{value:,}".rjust(width)


def print_table(rows, title, label="target"):
    """Markdown table of measured rows."""
    print(f"\n### {title}\n")
    print(f"| {label} | quant | insn/step | est cyc | flash | +lib | RAM | stack (dt) | bound | x bound | check |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r.get('label', r['target'])} | {r['quant']} | error: {r['error']} ||||||||")
            continue
        print(f"| {r.get('label', r['target'])} | {r['quant']} | {fmt(r['insn'])} | {fmt(r.get('cycles'))} "
              f"| {fmt(r['flash'])} | {fmt(r['lib'])} | {fmt(r['ram'])} | {r['stack']} ({r['stack_dt']}) "
              f"| {fmt(r['bound'])} | {r['x_bound']:.1f} | {r['exact']} |")


def main(argv=None):
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="16 steps per run, sweep up to N = 64")
    parser.add_argument("--steps", type=int, default=64, help="steps per counted run (default 64)")
    parser.add_argument("--targets", default=",".join(t.name for t in targets.cross_targets()))
    parser.add_argument("--sweep-targets", default="cortex-m4", help="targets of the size sweep (int16, int8)")
    parser.add_argument("--sweep-float-targets", default="cortex-m4f", help="targets of the float32 sweep")
    parser.add_argument("--sizes", default="8,16,32,64,128")
    parser.add_argument("--cycles", action="store_true", help="add TRM cycle estimates (slower)")
    parser.add_argument("--max-fixed-synapses", type=int, default=0,
                        help="skip fixed-point builds of models with more synapses (0: no limit)")
    parser.add_argument("--compile-timeout", type=int, default=120, help="seconds per compiler run")
    parser.add_argument("--json", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    steps = 16 if args.quick else args.steps
    build.COMPILE_TIMEOUT = args.compile_timeout
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 64]
    began = time.time()
    rng = np.random.default_rng(0)
    out = {"reference": [], "sweep": []}
    with tempfile.TemporaryDirectory(prefix="ltc2c-bench-") as tmp:
        tmp = Path(tmp)

        def folded_of(module, tag):
            path = tmp / f"{tag}.pt"
            ltc2c.save(module, path)
            return fold(load_model(path))

        folded = folded_of(reference_model(), "R")
        calib = rng.normal(0.0, 1.0, size=(4, 200, folded.inputs))
        rows = []
        for quant in QUANTS:
            for name in args.targets.split(","):
                src = generate(folded, quant, tmp / f"R_{quant}_{name}", calib, name)
                rows.append(measure(folded, quant, targets.get_target(name), src, tmp / f"w_R_{quant}", steps,
                                    args.cycles))
        dense_folded = dense(folded)
        for name in ("cortex-m4", "cortex-m4f", "cortex-m7"):
            if name in args.targets.split(","):
                src = generate(dense_folded, "float32", tmp / f"R_dense_{name}", calib, name)
                row = measure(dense_folded, "float32", targets.get_target(name), src, tmp / "w_R_dense", steps,
                              args.cycles)
                row["label"] = f"{name} (dense)"
                row["quant"] = "float32 dense"
                rows.append(row)
        out["reference"] = rows
        print(f"ltc2c {ltc2c.__version__}: R = LTC(8, AutoNCP(32, 4)), {UNFOLDS} unfolds, "
              f"{folded.sensory.count} sensory + {folded.recurrent.count} recurrent synapses, {steps} steps per run")
        print_table(rows, "Reference model R per target and quant")

        sweep = []
        for wiring in ("autoncp", "fc"):
            for n in sizes:
                outputs = max(2, n // 8) if wiring == "autoncp" else 4
                try:
                    module = reference_model(units=n, outputs=outputs, wiring=wiring)
                except Exception as exc:  # AutoNCP refuses some sizes
                    sweep.append({"target": "-", "quant": "-", "label": f"{wiring} N={n}", "error": str(exc)})
                    continue
                f = folded_of(module, f"{wiring}{n}")
                calib_n = rng.normal(0.0, 1.0, size=(2, 100, f.inputs))
                plan = [(q, t) for q in ("int16", "int8") for t in args.sweep_targets.split(",") if t] + \
                       [("float32", t) for t in args.sweep_float_targets.split(",") if t]
                n_syn = f.sensory.count + f.recurrent.count
                for quant, tname in plan:
                    label = f"{'AutoNCP' if wiring == 'autoncp' else 'FC'}({n}) {tname}"
                    if quant != "float32" and 0 < args.max_fixed_synapses < n_syn:
                        sweep.append({"target": tname, "quant": quant, "label": label, "synapses": n_syn,
                                      "error": f"not built: {n_syn} synapses > --max-fixed-synapses"})
                        continue
                    src = generate(f, quant, tmp / f"S_{wiring}{n}_{quant}_{tname}", calib_n, tname)
                    row = measure(f, quant, targets.get_target(tname), src, tmp / f"w_S_{wiring}{n}_{quant}",
                                  min(steps, 16), args.cycles and n <= 32)
                    row["label"] = label
                    row["synapses"] = n_syn
                    sweep.append(row)
        out["sweep"] = sweep
        print_table(sweep, "Size sweep (LTC(8, wiring), 6 unfolds)", label="model / target")
    print(f"\n(command: python benchmarks/targets_bench.py {' '.join(argv if argv is not None else sys.argv[1:])}; "
          f"{time.time() - began:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
