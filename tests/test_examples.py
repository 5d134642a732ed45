"""The example scripts end to end in --quick mode (train for seconds, compile, verify, score), and
their C metrics against an independent run of ltc2c verify's host harness on the same data.

Each script writes OUT/metrics.json; this test recompiles the model it saved (same calibration file)
with ltc2c.api.compile_model, runs the C through ltc2c.verify.harness.build_harness / run_harness
(the harness `ltc2c verify` uses) and through ltc2c.verify.verify_model itself, recomputes the task
metric and requires it to equal the script's number exactly.

Optional dependencies (scikit-learn for digits, gymnasium + mujoco for HalfCheetah) skip their
example when missing, except on CI (env CI=true), where a missing dependency fails the test.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# name -> (script, model, held-out data, calibration, C prefix, metric, extra modules)
CASES = {
    "sine": ("train_sine.py", "sine_ltc.pt", "sine_inputs.npz", "sine_calib.npz", "sine", "mse", ()),
    "digits": ("digits/train.py", "digits_ltc.pt", "test_split.npz", "calib.npz", "digits", "accuracy",
               ("sklearn",)),
    "halfcheetah": ("halfcheetah/train.py", "cheetah_ltc.pt", "test_split.npz", "calib.npz", "cheetah", "mse",
                    ("gymnasium", "mujoco")),
}


def _require(modules):
    missing = [m for m in ("ncps", "matplotlib") + tuple(modules) if importlib.util.find_spec(m) is None]
    if missing:
        message = f"example needs {', '.join(missing)} (pip install -r examples/requirements.txt)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " -- required on CI")
        pytest.skip(message)


def _score(metric, outputs, data):
    outputs = np.asarray(outputs, dtype=np.float64)
    if metric == "accuracy":
        return float((outputs[:, -1].argmax(-1) == data["labels"]).mean())
    return float(np.mean((outputs - np.asarray(data["targets"], dtype=np.float64)) ** 2))


def _harness_outputs(model, folded, quant, calib, inputs, workdir, name):
    """Compile for cortex-m4 and run the C with ltc2c verify's host harness -> float64 outputs."""
    from ltc2c import api, emulate
    from ltc2c.quantize import quantize
    from ltc2c.verify import fixed_parity, harness

    src = workdir / f"src_{quant}"
    api.compile_model(model, src, name=name, target="cortex-m4", quant=quant, calib=calib)
    if quant == "float32":
        exe = harness.build_harness(src, name, workdir / f"build_{quant}")
        out, _ = harness.run_harness(exe, inputs, None, folded.outputs, folded.units)
        return out.astype(np.float64), src
    qmodel = quantize(folded, quant, calib_inputs=calib.inputs)
    io = fixed_parity.q_harness_io()
    exe = harness.build_harness(src, name, workdir / f"build_{quant}", io=io)
    out_q, _ = harness.run_harness(exe, emulate.quantize_inputs(qmodel, inputs), None, folded.outputs,
                                   folded.units, io=io)
    return emulate.dequantize_outputs(qmodel, out_q), src


@pytest.mark.parametrize("example", sorted(CASES))
def test_example_quick_metrics_match_verify_harness(example, tmp_path):
    script, model_file, data_file, calib_file, name, metric, modules = CASES[example]
    _require(modules)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]

    metrics = json.loads((out / "metrics.json").read_text())
    assert "plot" in metrics, "every example writes a plot"
    for produced in (model_file, data_file, calib_file, "metrics_float.json", "verify_int16.json",
                     metrics["plot"], f"c_cortex_m4/{name}.c", f"c_cortex_m4/{name}.h"):
        assert (out / produced).is_file(), produced
    assert metrics["metric"] == metric and metrics["quick"] is True
    assert metrics["example"] == name
    assert (metrics["model_file"], metrics["held_out"]["file"], metrics["calibration"]["file"]) == (
        model_file, data_file, calib_file)
    assert metrics["acceptance"] is None  # --quick models are not held to the acceptance limits
    for shipped in (out / "metrics.json", out / "metrics_float.json"):
        assert "seconds" not in shipped.read_text(), f"{shipped.name} must stay deterministic"

    import ltc2c
    from ltc2c import passes
    from ltc2c.data import load_sequences
    from ltc2c.verify import verify_model

    model = ltc2c.load_model(out / model_file)
    folded = passes.fold(model)
    test = load_sequences(out / data_file, folded.inputs)
    calib = load_sequences(out / calib_file, folded.inputs)
    with np.load(out / data_file) as archive:
        data = {k: archive[k] for k in archive.files}

    for quant in ("float32", "int16", "int8"):
        outputs, src = _harness_outputs(model, folded, quant, calib, test.inputs, tmp_path / "check", name)
        assert _score(metric, outputs, data) == metrics["host"][quant][metric], quant
        if quant == "int16":  # the script's `ltc2c compile --target cortex-m4` output, byte for byte
            for path in sorted(src.iterdir()):
                assert path.read_bytes() == (out / "c_cortex_m4" / path.name).read_bytes(), path.name

    # ltc2c verify itself: its C outputs give the script's int16 metric, its reference the float one
    # (ncps in float32 on one thread, as the script runs it: reduction order must match to the last bit)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        report, series = verify_model(model, test, name=name, quant="int16", calib=calib, with_onnx=False)
    finally:
        torch.set_num_threads(threads)
    exact = next(p for p in report["pairs"] if p["b"] == "emulator")
    assert exact["passed"], exact  # the C is bit-exact to ltc2c's integer emulator
    assert _score(metric, series["outputs"]["C"], data) == metrics["host"]["int16"][metric]
    assert _score(metric, series["outputs"][report["reference"]], data) == metrics["float"][metric]
    assert metrics["host"]["int16"]["identical_to_verify"] is True

    # on-target (QEMU) results, where the script could run them: the integer C is bit-identical
    if metrics["qemu"] is None:
        assert metrics["qemu_status"].startswith("not run: "), metrics["qemu_status"]
        assert metrics["verify_int16_qemu"] is None
    else:
        for quant in ("int16", "int8"):
            assert "error" not in metrics["qemu"][quant], f"QEMU run failed: {metrics['qemu'][quant]['error']}"
            assert metrics["qemu"][quant]["identical_to_host"] is True, metrics["qemu"][quant]
            assert metrics["qemu"][quant][metric] == metrics["host"][quant][metric]
        on_target = metrics["verify_int16_qemu"]  # `ltc2c verify --quant int16 --target cortex-m4`
        assert "error" not in on_target, on_target["error"]
        assert on_target["bit_exact_with_host"] is True
