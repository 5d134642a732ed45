"""Instructions per NAME_step_q, flash and RAM of the reference model R on a Cortex-M4 (int16, int8).

R = ncps LTC(8, AutoNCP(32, 4)), 6 unfolds, torch.manual_seed(0) then construct (as in
benchmarks/targets_bench.py, same calibration and test vectors). The code is built with
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -O2 (ltc2c.targets) and run on QEMU
mps2-an386; instructions are counted by ltc2c's TCG plugin (exact, deterministic).

  insn/step  mean executed instructions per R_step_q call (min..max over the steps run)
  flash      text + rodata + data of the model's own objects after --gc-sections
  RAM        caller-owned state + worst-case stack of R_step_q (+ static data/bss)
  bit-exact  the on-target outputs and final state equal ltc2c.emulate

Acceptance (issue 4, int16): insn/step <= 12,500, flash <= 4096 B, RAM <= 512 B.

Usage: python benchmarks/m4_step_cost.py [--steps 64] [--target cortex-m4] [--profile]
       (--profile adds the top functions / mnemonics / source lines of the step)
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ncps.torch import LTC  # noqa: E402
from ncps.wirings import AutoNCP  # noqa: E402

import ltc2c  # noqa: E402
from ltc2c import build, codegen, emulate, targets  # noqa: E402
from ltc2c.load import load_model  # noqa: E402
from ltc2c.passes import fold  # noqa: E402
from ltc2c.quantize import quantize  # noqa: E402
from ltc2c.verify import target as on_target  # noqa: E402
from ltc2c.verify.target import io_from_header  # noqa: E402

LIMITS = {"insn": 12500, "flash": 4096, "ram": 512}


def reference_folded(tmp):
    torch.manual_seed(0)
    module = LTC(8, AutoNCP(32, 4), ode_unfolds=6)
    path = Path(tmp) / "R.pt"
    ltc2c.save(module, path)
    return fold(load_model(path))


def measure(folded, calib, mode, target, tmp, steps, profile):
    q = quantize(folded, mode, calib_inputs=calib)
    src = codegen.write_output(codegen.render(folded, "r", mode, target.name, quantized=q), Path(tmp) / f"src_{mode}")
    report = build.build_target(src, target, build_dir=Path(tmp) / f"b_{mode}")
    rng = np.random.default_rng(1)
    x = emulate.quantize_inputs(q, rng.normal(0.0, 1.0, size=(1, steps, folded.inputs)))
    io = io_from_header((src / "r.h").read_text(), "r")
    out, state, counts = on_target.run_on_target(src, "r", target, x, None, io, workdir=Path(tmp) / f"r_{mode}")
    e_out, e_state = emulate.run(q, x)
    stack = report["stack"]["r_step_q"]["bytes"]
    row = {
        "mode": mode, "insn": counts.mean, "insn_min": counts.min, "insn_max": counts.max,
        "flash": report["flash"]["total"], "stack": stack, "state": report["state_bytes"],
        "ram": (report["state_bytes"] or 0) + (stack or 0) + report["ram"]["data"] + report["ram"]["bss"],
        "exact": bool(np.array_equal(np.asarray(out).astype(np.int16), e_out)
                      and np.array_equal(np.asarray(state).astype(np.int16), e_state)),
        "synapses": (q.sensory.count, q.recurrent.count),
    }
    if profile:
        row["profile"] = on_target.profile_on_target(src, "r", target, x[:, :8], None, io,
                                                     workdir=Path(tmp) / f"p_{mode}", lines=True)
    return row


def _top(profile, key, n):
    items = profile.get(key) or []
    return items[:n]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--modes", default="int16,int8")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    target = targets.get_target(args.target)
    with tempfile.TemporaryDirectory(prefix="ltc2c-m4cost-") as tmp:
        folded = reference_folded(tmp)
        calib = np.random.default_rng(0).normal(0.0, 1.0, size=(4, 200, folded.inputs))
        rows = [measure(folded, calib, m, target, tmp, args.steps, args.profile) for m in args.modes.split(",")]
    print(f"R = LTC(8, AutoNCP(32, 4)), 6 unfolds, seed 0, {target.name}, {args.steps} steps "
          f"({rows[0]['synapses'][0]} sensory + {rows[0]['synapses'][1]} recurrent synapses)\n")
    print("| quant | insn/step (min..max) | flash B | stack B | state B | RAM B | bit-exact vs emulator |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['insn']:,.0f} ({r['insn_min']:,}..{r['insn_max']:,}) | {r['flash']:,} | "
              f"{r['stack']} | {r['state']} | {r['ram']} | {'yes' if r['exact'] else 'NO'} |")
    print(f"\nlimits (int16): insn/step <= {LIMITS['insn']:,}, flash <= {LIMITS['flash']:,} B, RAM <= {LIMITS['ram']} B")
    for r in rows:
        if "profile" not in r:
            continue
        p = r["profile"]
        print(f"\n{r['mode']} profile: {p['instructions_per_step']:,.0f} insn/step, "
              f"est. {p.get('estimated_cycles_per_step') or 0:,.0f} cycles/step")
        for key in ("by_function", "by_mnemonic", "by_line"):
            print(f"  {key}: {_top(p, key, 12)}")
    ok = all(r["exact"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
