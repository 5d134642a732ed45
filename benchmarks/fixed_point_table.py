"""Error and size table of the fixed-point builds (int16, int8) vs the float64 reference.

Models: the trained test models of tests/trained.py and the six acceptance models of tests/models.py.
Per model and quant: max |dy| / range and RMS / range over 2 x 2000 steps of the model's own input
distribution, drift (max error over the last tenth / first tenth of a 10,000-step run), int8 also vs
the float model with dequantized weights, and flash: const tables + synapse constants (estimate) and,
if arm-none-eabi-gcc is installed, the measured .text+.rodata of NAME.c for a Cortex-M4 at -O2.

Usage: python benchmarks/fixed_point_table.py   (prints a Markdown table)
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fixed_support as fs  # noqa: E402
from ltc2c import emulate  # noqa: E402
from ltc2c.codegen import render, write_output  # noqa: E402
from ltc2c.quantize import flash_estimate, quantize  # noqa: E402
from ltc2c.verify.fixed_parity import fixed_point_parity  # noqa: E402

MODELS = fs.TRAINED + ("autoncp_16_2", "fc_8", "cell_fc6_linear", "random_12_3", "autoncp_u3", "autoncp_u12")


def _inputs(name, sequences, steps, seed):
    rng = np.random.default_rng(seed)
    if name in fs.TRAINED:
        return fs.trained_model(name)[1](rng, sequences, steps)[0]
    return rng.normal(0.0, 1.0, size=(sequences, steps, fs.folded_model(name).inputs))


def _arm_size(folded, q):
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = write_output(render(folded, "net", quant=q.mode, quantized=q), Path(tmp) / "src")
        obj = Path(tmp) / "net.o"
        subprocess.run([cc, "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-O2",
                        f"-I{src}", "-c", str(src / "net.c"), "-o", str(obj)], check=True)
        out = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True)
    sizes = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("."):
            sizes[parts[0]] = int(parts[1])
    return sum(v for k, v in sizes.items() if k.startswith((".text", ".rodata")))


def measure(name, mode):
    folded = fs.folded_model(name)
    q = quantize(folded, mode, calib_inputs=fs.calibration(name))
    x = _inputs(name, 2, 2000, seed=5)
    out_q, _ = emulate.run(q, emulate.quantize_inputs(q, x))
    m = fixed_point_parity(folded, q, x, None, out_q)
    x_long = _inputs(name, 1, 10000, seed=6)
    long_q, _ = emulate.run(q, emulate.quantize_inputs(q, x_long))
    drift = fixed_point_parity(folded, q, x_long, None, long_q)["float"]["drift"]["ratio"]
    flash = flash_estimate(q)
    return {
        "model": name, "quant": mode, "max_rel": m["float"]["max_rel_range"], "rms_rel": m["float"]["rms_rel_range"],
        "max_abs": m["float"]["max_abs"], "drift": drift,
        "deq_max_rel": m.get("dequantized_float", {}).get("max_rel_range"),
        "tables": flash["const_tables"], "params": flash["parameters"], "arm": _arm_size(folded, q),
    }


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    head = ("| model | quant | max/range | RMS/range | max abs | drift 10k | int8 vs deq. max/range "
            "| const tables B | synapse consts B | M4 -O2 text+rodata B |")
    print(head)
    print("|---" * 10 + "|")
    for name in MODELS:
        for mode in ("int16", "int8"):
            r = measure(name, mode)
            deq = f"{r['deq_max_rel']:.1e}" if r["deq_max_rel"] is not None else "-"
            arm = str(r["arm"]) if r["arm"] is not None else "-"
            print(f"| {name} | {mode} | {r['max_rel']:.1e} | {r['rms_rel']:.1e} | {r['max_abs']:.1e} | "
                  f"{r['drift']:.2f} | {deq} | {r['tables']} | {r['params']} | {arm} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
