"""Parity of the generated C against the float reference (ncps) and ONNX Runtime.

verify_model() returns a plain-dict report; only the CLI prints it and turns it into an exit code.
"""

import tempfile
from pathlib import Path

import numpy as np

from .. import codegen, passes, reference
from . import harness, metrics, torch_reference

FLOAT32_TOLERANCE = 1e-5  # max |error| per output, times max(1, output range)
# Fixed point, relative to each output's range (fixed-point.md: about 2x the worst case measured).
FIXED_MAX_REL = 3e-3
FIXED_RMS_REL = 1e-3
INT8_VS_FLOAT_MAX_REL = 5e-2  # int8 weights change the model; the arithmetic is checked vs dequantized
INT8_VS_FLOAT_RMS_REL = 2e-2


def _noop(_message):
    pass


def _pair(label_a, label_b, a, b, tolerance=None, rel_range=None):
    """Error of a against b. tolerance: max |error| allowed, times max(1, output range);
    rel_range (max, rms): limits relative to each output's range."""
    stats = metrics.compare(a, b)
    pair = {"a": label_a, "b": label_b, "max_abs": stats["max_abs"], "rms": stats["rms"],
            "max_rel_range": stats["max_rel_range"], "rms_rel_range": stats["rms_rel_range"],
            "drift": metrics.drift(stats["per_step_max"]), "tolerance": None, "exact": None}
    if rel_range is not None:
        max_rel, rms_rel = rel_range
        pair["tolerance_rel_range"] = {"max": max_rel, "rms": rms_rel}
        pair["passed"] = bool(stats["max_rel_range"] <= max_rel and stats["rms_rel_range"] <= rms_rel)
    else:
        span = float(metrics.output_range(np.asarray(b)).max())
        pair["tolerance"] = tolerance * max(1.0, span)
        pair["passed"] = bool(stats["max_abs"] <= pair["tolerance"])
    return pair, stats["per_step_max"]


def _elapsed_range(sequences, elapsed_time_range):
    if elapsed_time_range is not None or sequences.elapsed_times is None:
        return elapsed_time_range
    return float(np.min(sequences.elapsed_times)), float(np.max(sequences.elapsed_times))


def _verify_fixed(model, folded, sequences, *, name, quant, target, workdir, reference_out, ref_label, calib,
                  elapsed_time_range, tolerance, progress):
    """Integer build: C vs emulator (bit-exact), C vs float, int8 also vs the dequantized float."""
    from .. import emulate, quantize
    from . import fixed_parity

    progress(f"quantizing to {quant}")
    qmodel = quantize.quantize(folded, quant, calib_inputs=None if calib is None else calib.inputs,
                               elapsed_time_range=_elapsed_range(sequences, elapsed_time_range))
    src = workdir / "src"
    codegen.write_output(codegen.render(folded, name, quant, target, quantized=qmodel), src)
    progress("building the generated integer C for the host")
    io = fixed_parity.q_harness_io()
    exe = harness.build_harness(src, name, workdir / "build", io=io)
    inputs_q = emulate.quantize_inputs(qmodel, sequences.inputs)
    elapsed_q = None if sequences.elapsed_times is None else emulate.quantize_elapsed(qmodel, sequences.elapsed_times)
    progress("running the generated C and the emulator")
    c_q, _ = harness.run_harness(exe, inputs_q, elapsed_q, folded.outputs, folded.units, io=io)
    details = fixed_parity.fixed_point_parity(folded, qmodel, sequences.inputs, sequences.elapsed_times, c_q)
    c_out = emulate.dequantize_outputs(qmodel, c_q)
    emu = details["emulator"]
    exact = {"a": "C", "b": "emulator", "max_abs": float(emu["max_lsb"]), "rms": 0.0, "max_rel_range": 0.0,
             "rms_rel_range": 0.0, "drift": 1.0, "tolerance": 0.0, "passed": emu["mismatching_values"] == 0,
             "exact": f"{emu['mismatching_values']} of {emu['values']} outputs differ, in LSB"}
    pairs, errors = [exact], {}
    max_rel = FIXED_MAX_REL if tolerance is None else tolerance
    if quant == "int8":
        deq_out, _ = reference.run(quantize.dequantized_folded(qmodel), sequences.inputs,
                                                   sequences.elapsed_times)
        pair, per_step = _pair("C", "dequantized float", c_out, deq_out, rel_range=(max_rel, FIXED_RMS_REL))
        pairs.append(pair)
        errors["C vs dequantized float"] = per_step
        pair, per_step = _pair("C", ref_label, c_out, reference_out, rel_range=(INT8_VS_FLOAT_MAX_REL, INT8_VS_FLOAT_RMS_REL))
    else:
        pair, per_step = _pair("C", ref_label, c_out, reference_out, rel_range=(max_rel, FIXED_RMS_REL))
    pairs.append(pair)
    errors[f"C vs {ref_label}"] = per_step
    if target != "host":
        pairs += _target_pairs(src, name, target, (inputs_q, elapsed_q), c_q, io, details, progress,
                               lambda raw: emulate.dequantize_outputs(qmodel, raw), reference_out, ref_label,
                               with_reference=False)
    details["flash_estimate"] = quantize.flash_estimate(qmodel)
    details["formats"] = {"input_frac_bits": [int(b) for b in qmodel.input_frac_bits],
                          "output_frac_bits": [int(b) for b in qmodel.output_frac_bits],
                          "elapsed_frac_bits": int(qmodel.elapsed_frac_bits),
                          "state_scale": float(qmodel.state_scale), "state_bound": float(qmodel.state_bound)}
    return pairs, {"C": c_out}, errors, details


def _target_pairs(src, name, target, wire_inputs, host_raw, io, details, progress, decode, reference_out,
                  ref_label, with_reference):
    """Run the same wire inputs on TARGET's emulated core: bit-exact vs the host build, counts, stack."""
    from .target import run_on_target_report

    progress(f"cross-compiling for {target} and running it in QEMU")
    inputs, elapsed = wire_inputs
    run = run_on_target_report(src, name, target, inputs, elapsed, io)
    diff = np.abs(run.outputs.astype(np.float64) - np.asarray(host_raw, np.float64))
    mismatches = int(np.count_nonzero(diff))
    exact = {"a": f"C on {target}", "b": "C on host", "max_abs": float(diff.max()) if diff.size else 0.0,
             "rms": 0.0, "max_rel_range": 0.0, "rms_rel_range": 0.0, "drift": 1.0,
             "tolerance": 0.0, "passed": mismatches == 0,
             "exact": f"{mismatches} of {diff.size} outputs differ"}
    pairs = [exact]
    if with_reference:
        pair, _ = _pair(f"C on {target}", ref_label, decode(run.outputs), reference_out, FLOAT32_TOLERANCE)
        pairs.append(pair)
    details["target_run"] = {"target": target, "board": run.board, "bit_exact_with_host": mismatches == 0,
                             "instructions_per_step": None if run.counts is None else run.counts.as_dict(),
                             "stack_bytes_measured": run.stack_bytes}
    return pairs


def _run_float_c(folded, name, sequences, workdir, progress, target="host"):
    src = workdir / "src"
    codegen.write_output(codegen.render(folded, name, "float32", target), src)
    progress("building the generated C for the host")
    exe = harness.build_harness(src, name, workdir / "build")
    progress("running the generated C")
    outputs, states = harness.run_harness(exe, sequences.inputs, sequences.elapsed_times,
                                          folded.outputs, folded.units)
    return outputs.astype(np.float64), states.astype(np.float64), src, outputs


def _run_onnx(folded, sequences, workdir, progress):
    from .. import onnx_export
    from . import onnx_runner

    progress("exporting ONNX and running onnxruntime")
    path = workdir / "model.onnx"
    onnx_export.export_sequence(folded, path)
    return onnx_runner.run_sequence(str(path), sequences.inputs, sequences.elapsed_times)


def verify_model(model, sequences, *, name="model", quant="float32", target="host", workdir=None,
                 tolerance=None, with_onnx=True, calib=None, elapsed_time_range=None, progress=_noop):
    """Run the generated C, the float reference and onnxruntime on the same sequences.

    Returns (report dict, series dict for plotting).
    """
    folded = passes.fold(model)
    with tempfile.TemporaryDirectory(prefix="ltc2c-verify-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        progress("running the float reference")
        ref_out, _, ref_label = torch_reference.run_reference(model, folded, sequences.inputs,
                                                              sequences.elapsed_times)
        outputs = {ref_label: ref_out}
        pairs, errors, notes, extra = [], {}, [], {}
        if quant == "float32":
            c_out, _, src, c_raw = _run_float_c(folded, name, sequences, work, progress, target)
            outputs["C"] = c_out
            tol = FLOAT32_TOLERANCE if tolerance is None else tolerance
            pair, per_step = _pair("C", ref_label, c_out, ref_out, tol)
            pairs.append(pair)
            errors[f"C vs {ref_label}"] = per_step
            if target != "host":
                # ltc2c_expf is plain IEEE arithmetic, so float32 is bit-exact across cores too
                pairs += _target_pairs(src, name, target, (sequences.inputs, sequences.elapsed_times), c_raw,
                                       harness.FLOAT_IO, extra, progress, lambda raw: raw.astype(np.float64),
                                       ref_out, ref_label, with_reference=True)
        else:
            fixed_pairs, fixed_outputs, fixed_errors, extra = _verify_fixed(
                model, folded, sequences, name=name, quant=quant, target=target, workdir=work, reference_out=ref_out,
                ref_label=ref_label, calib=calib, elapsed_time_range=elapsed_time_range, tolerance=tolerance,
                progress=progress)
            notes += [f"quantization: {w}" for w in extra.get("warnings", [])]
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


def float32_flash_estimate(folded):
    """Bytes of const data in the float32 build: 16 B + index per synapse, 4 tables of N floats, 2 of M."""
    index = 1 if max(folded.units, folded.inputs) < 256 else 2
    synapses = folded.sensory.count + folded.recurrent.count
    return synapses * (16 + index) + 2 * (folded.units + 1) * index + 16 * folded.units + 8 * folded.outputs


def compare_quantizations(model, sequences, *, workdir=None, with_onnx=True, progress=_noop, **options):
    """float32, int16 and int8 on the same sequences: one report with a row per format."""
    rows, runs, series = [], {}, {"outputs": {}, "errors": {}}
    for quant in ("float32", "int16", "int8"):
        sub = None if workdir is None else Path(workdir) / quant
        report, sub_series = verify_model(model, sequences, quant=quant, workdir=sub,
                                          with_onnx=with_onnx and quant == "float32", progress=progress, **options)
        runs[quant] = report
        vs_ref = next(p for p in report["pairs"] if p["a"] == "C" and p["b"] == report["reference"])
        exact = next((p for p in report["pairs"] if p["b"] == "emulator"), None)
        size = (report["details"].get("flash_estimate", {}).get("total") if quant != "float32"
                else float32_flash_estimate(passes.fold(model)))
        rows.append({"quant": quant, "max_abs": vs_ref["max_abs"], "max_rel_range": vs_ref["max_rel_range"],
                     "rms_rel_range": vs_ref["rms_rel_range"], "drift": vs_ref["drift"],
                     "emulator_mismatches": None if exact is None else exact["exact"],
                     "const_bytes_estimate": size, "passed": report["passed"]})
        series["outputs"][f"C {quant}"] = sub_series["outputs"]["C"]
        series["outputs"].setdefault(report["reference"], sub_series["outputs"][report["reference"]])
        series["errors"][f"C {quant} vs {report['reference']}"] = sub_series["errors"][f"C vs {report['reference']}"]
    first = runs["float32"]
    report = {"ltc2c_report": 1, "comparison": rows, "runs": runs, "model": first["model"],
              "reference": first["reference"], "sequences": first["sequences"], "quant": "all",
              "target": first["target"], "passed": all(r["passed"] for r in rows), "pairs": [], "notes": []}
    return report, series
