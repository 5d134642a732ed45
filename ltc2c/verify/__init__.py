"""Parity of the generated C against the float reference (ncps) and ONNX Runtime.

verify_model() returns a plain-dict report; only the CLI prints it and turns it into an exit code.
"""

import tempfile
from pathlib import Path

import numpy as np

from .. import codegen, passes
from . import harness, metrics, torch_reference

FLOAT32_TOLERANCE = 1e-5  # max |error| per output, times max(1, output range)


def _noop(_message):
    pass


def _pair(label_a, label_b, a, b, tolerance, checked=True):
    stats = metrics.compare(a, b)
    span = float(metrics.output_range(np.asarray(b)).max())
    tol = tolerance * max(1.0, span) if checked else None
    passed = True if tol is None else stats["max_abs"] <= tol
    return {"a": label_a, "b": label_b, "max_abs": stats["max_abs"], "rms": stats["rms"],
            "max_rel_range": stats["max_rel_range"], "rms_rel_range": stats["rms_rel_range"],
            "drift": metrics.drift(stats["per_step_max"]), "tolerance": tol, "passed": passed,
            "exact": None}, stats["per_step_max"]


def _run_float_c(folded, name, sequences, workdir, progress):
    src = workdir / "src"
    codegen.write_output(codegen.render(folded, name, "float32", "host"), src)
    progress("building the generated C for the host")
    exe = harness.build_harness(src, name, workdir / "build")
    progress("running the generated C")
    outputs, states = harness.run_harness(exe, sequences.inputs, sequences.elapsed_times,
                                          folded.outputs, folded.units)
    return outputs.astype(np.float64), states.astype(np.float64)


def _run_onnx(folded, sequences, workdir, progress):
    from .. import onnx_export
    from . import onnx_runner

    progress("exporting ONNX and running onnxruntime")
    path = workdir / "model.onnx"
    onnx_export.export_sequence(folded, path)
    return onnx_runner.run_sequence(str(path), sequences.inputs, sequences.elapsed_times)


def verify_model(model, sequences, *, name="model", quant="float32", target="host", workdir=None,
                 tolerance=None, with_onnx=True, progress=_noop):
    """Run the generated C, the float reference and onnxruntime on the same sequences.

    Returns (report dict, series dict for plotting).
    """
    folded = passes.fold(model)
    with tempfile.TemporaryDirectory(prefix="ltc2c-verify-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        progress("running the float reference")
        ref_out, _ = torch_reference.run_reference(model, folded, sequences.inputs, sequences.elapsed_times)[:2]
        ref_label = "ncps" if torch_reference.ncps_available() else "ir-float64"
        outputs = {ref_label: ref_out}
        pairs, errors, notes, extra = [], {}, [], {}
        if quant == "float32":
            c_out, _ = _run_float_c(folded, name, sequences, work, progress)
            outputs["C"] = c_out
            tol = FLOAT32_TOLERANCE if tolerance is None else tolerance
            pair, per_step = _pair("C", ref_label, c_out, ref_out, tol)
            pairs.append(pair)
            errors[f"C vs {ref_label}"] = per_step
        else:
            from .fixed_parity import verify_fixed  # integer builds (fixed-point issue)

            fixed_pairs, fixed_outputs, fixed_errors, extra = verify_fixed(
                model, folded, sequences, name=name, quant=quant, workdir=work, reference=(ref_label, ref_out),
                tolerance=tolerance, progress=progress)
            pairs += fixed_pairs
            outputs.update(fixed_outputs)
            errors.update(fixed_errors)
            c_out = fixed_outputs.get("C")
        if with_onnx:
            ort_out, _ = _run_onnx(folded, sequences, work, progress)
            outputs["onnxruntime"] = ort_out
            pair, per_step = _pair("onnxruntime", ref_label, ort_out, ref_out, FLOAT32_TOLERANCE)
            pairs.append(pair)
            errors[f"onnxruntime vs {ref_label}"] = per_step
            if quant == "float32":
                pair, _ = _pair("C", "onnxruntime", c_out, ort_out, FLOAT32_TOLERANCE)
                pairs.append(pair)
        if ref_label != "ncps":
            notes.append("ncps is not installed: the float reference is ltc2c's float64 evaluation of the IR")
    report = {
        "ltc2c_report": 1,
        "model": passes.summary(model, folded),
        "model_sha256": model.source_sha256,
        "quant": quant,
        "target": target,
        "sequences": {"count": sequences.count, "steps": sequences.steps, "source": sequences.source,
                      "elapsed_time": "default" if sequences.elapsed_times is None else
                      f"per step, {float(np.min(sequences.elapsed_times)):g}..{float(np.max(sequences.elapsed_times)):g}"},
        "reference": ref_label,
        "pairs": pairs,
        "passed": all(p["passed"] for p in pairs),
        "notes": notes,
        "details": extra,
    }
    return report, {"outputs": outputs, "errors": errors}
