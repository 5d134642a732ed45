"""The operations the CLI offers, as plain functions (no printing, no exit codes)."""

import tempfile
from pathlib import Path

from . import codegen, passes
from .cnames import check_name
from .errors import UsageError
from .targets import get_target


def compile_model(model, out_dir, *, name="model", target="host", quant=None, calib=None,
                  elapsed_time_range=None):
    """Generate NAME.h, NAME.c and runtime files into out_dir. Returns a summary dict."""
    check_name(name)
    tgt = get_target(target)
    quant = quant or tgt.default_quant
    folded = passes.fold(model)
    quantized, warnings = None, []
    if quant != "float32":
        from .quantize import quantize

        quantized = quantize(folded, quant, calib_inputs=None if calib is None else calib.inputs,
                             elapsed_time_range=elapsed_time_range)
        warnings = list(quantized.warnings)
    stack_bytes = _measure_stack(folded, name, quant, tgt, quantized, warnings) if tgt.is_cross else None
    files = codegen.render(folded, name, quant, tgt.name, quantized=quantized, stack_bytes=stack_bytes)
    codegen.write_output(files, out_dir)
    return {"out": str(out_dir), "files": sorted(files), "name": name, "target": tgt.name, "quant": quant,
            "warnings": warnings, "stack_bytes": stack_bytes, "model": passes.summary(model, folded)}


def _measure_stack(folded, name, quant, target, quantized, warnings):
    """Cross-compile once to measure the worst-case stack, so the header can publish it."""
    from .build import build_target
    from .errors import ToolchainNotFoundError

    with tempfile.TemporaryDirectory(prefix="ltc2c-stack-") as tmp:
        probe = Path(tmp) / "src"
        codegen.write_output(codegen.render(folded, name, quant, target.name, quantized=quantized), probe)
        try:
            report = build_target(probe, target.name, name=name, build_dir=Path(tmp) / "build")
        except ToolchainNotFoundError as exc:
            warnings.append(f"{name}_STACK_BYTES not published: {exc.message}")
            return None
    return report["ram"]["stack"]


def export_onnx(model, path, step=False):
    from . import onnx_export

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder", "pass the .onnx file name with -o")
    if not path.resolve().parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist", "create it first")
    folded = passes.fold(model)
    (onnx_export.export_step if step else onnx_export.export_sequence)(folded, path)
    return path


def info(model):
    return passes.summary(model, passes.fold(model))
