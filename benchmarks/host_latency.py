"""Per-step streaming latency on the host (batch 1, one thread): ncps/PyTorch vs onnxruntime vs ltc2c's C.

Model: LTC(8, AutoNCP(32, 4)), 6 unfolds, seeded. Prints a table with the ratios.
Run: .venv/bin/python benchmarks/host_latency.py [--steps N]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ltc2c import codegen, save
from ltc2c.build import host_executable
from ltc2c.cnames import macro_prefix
from ltc2c.load import load_model
from ltc2c.passes import fold


def build_model(path):
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP

    torch.manual_seed(0)
    model = LTC(8, AutoNCP(32, 4))
    save(model, path)
    return model


def time_ncps(model, steps):
    cell = model.rnn_cell
    h = torch.zeros(1, cell.state_size)
    x = torch.randn(steps, 1, cell.sensory_size)
    with torch.no_grad():
        for t in range(20):
            cell(x[t], h)
        start = time.perf_counter()
        for t in range(steps):
            _, h = cell(x[t], h)
    return (time.perf_counter() - start) / steps * 1e6


def time_onnxruntime(folded, work, steps):
    from ltc2c.onnx_export import export_step
    from ltc2c.verify.onnx_runner import StepSession

    path = work / "step.onnx"
    export_step(folded, path)
    session = StepSession(str(path))
    x = np.random.default_rng(0).normal(size=(steps, 1, folded.inputs)).astype(np.float32)
    state = np.zeros((1, folded.units), np.float32)
    for t in range(20):
        session.step(x[t], state)
    start = time.perf_counter()
    for t in range(steps):
        _, state = session.step(x[t], state)
    return (time.perf_counter() - start) / steps * 1e6


def time_c(folded, work, steps):
    out = work / "c"
    codegen.write_output(codegen.render(folded, "bench"), out)
    bench_c = work / "bench_main.c"
    bench_c.write_text(codegen.environment().get_template("bench_host.c.j2").render(
        name="bench", NAME=macro_prefix("bench"), steps=steps))
    exe = host_executable(sorted(out.glob("*.c")) + [bench_c], [out], work / "bench", optimization="-O2")
    best = min(int(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()[0])
               for _ in range(5))
    text_size = subprocess.run(["size", str(work / "bench")], capture_output=True, text=True).stdout
    return best / 1000.0, text_size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = build_model(work / "model.pt")
        folded = fold(load_model(work / "model.pt"))
        ncps_us = time_ncps(model, max(args.steps // 4, 200))
        ort_us = time_onnxruntime(folded, work, args.steps)
        c_us, _ = time_c(folded, work, args.steps * 20)
    rows = [("ncps (PyTorch eager)", ncps_us), ("onnxruntime (run per step)", ort_us), ("ltc2c float32 C, -O2", c_us)]
    print(f"LTC(8, AutoNCP(32, 4)), 6 unfolds, batch 1, 1 thread; {folded.recurrent.count} recurrent + "
          f"{folded.sensory.count} sensory synapses")
    print(f"{'runtime':<30}{'us/step':>10}{'C speed-up':>12}")
    for label, value in rows:
        print(f"{label:<30}{value:10.2f}{value / c_us:11.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
