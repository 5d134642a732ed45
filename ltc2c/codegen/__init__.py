"""Render C sources from a FoldedModel with the Jinja2 templates in templates/.

Python prepares the data (numbers already formatted as C literals); the templates hold only the
shape of the C. Output is deterministic: same model and options, same bytes.
"""

import os
import shutil
import tempfile
from pathlib import Path

import jinja2

from .. import __version__
from ..cnames import check_name, macro_prefix
from ..errors import CodegenError, UsageError
from ..resources import runtime_dir, templates_dir
from . import float32

QUANT_MODES = ("float32", "int16", "int8")
# Runtime files copied next to the generated model, per quantization mode.
RUNTIME_FILES = {"float32": ("ltc2c_math.h", "ltc2c_port.h")}


def environment():
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def provenance(folded, name, quant, target):
    """Facts stamped into every generated file: no timestamps, no paths."""
    cfg = folded.config
    return {
        "version": __version__,
        "sha256": folded.source_sha256 or "unknown",
        "lines": [
            f"model: {cfg['units']} neurons, {cfg['inputs']} inputs, {cfg['outputs']} outputs, wiring {cfg['wiring']}",
            f"solver: {cfg['ode_unfolds']} fused semi-implicit unfolds, epsilon {cfg['epsilon']:g}, "
            f"elapsed time {cfg['elapsed_time']:g}, constraints {cfg['constraints']}",
            f"synapses: {folded.recurrent.count} recurrent, {folded.sensory.count} sensory",
            f"quantization: {quant}, target: {target}",
        ],
    }


def render(folded, name, quant="float32", target="host", quantized=None, stack_bytes=None):
    """-> {file name: text} for NAME.h, NAME.c and the runtime files they include.

    stack_bytes: the measured worst-case stack of a step call on TARGET, published as NAME_STACK_BYTES."""
    check_name(name)
    if quant not in QUANT_MODES:
        raise UsageError(f"unknown --quant '{quant}'", f"choose one of: {', '.join(QUANT_MODES)}")
    env = environment()
    state_bytes = folded.units * (4 if quant == "float32" else 2)
    base = {"name": name, "NAME": macro_prefix(name), "prov": provenance(folded, name, quant, target),
            "state_bytes": state_bytes, "stack_bytes": stack_bytes, "prov_target": target}
    if quant == "float32":
        ctx = dict(base, **float32.context(folded))
        files = {f"{name}.h": env.get_template("model.h.j2").render(ctx),
                 f"{name}.c": env.get_template("model_float32.c.j2").render(ctx)}
        runtime = RUNTIME_FILES["float32"]
    else:
        from . import fixed  # fixed-point code generation (issue: quantization)

        if quantized is None:
            raise CodegenError(f"--quant {quant} needs a quantized model", "call ltc2c.quantize first")
        ctx = dict(base, **fixed.context(folded, quantized))
        files = fixed.render_files(env, ctx)
        runtime = fixed.RUNTIME_FILES
    for rel in runtime:
        files[rel] = (runtime_dir() / rel).read_text()
    return files


def _make_parents(folder):
    """Create missing ancestors of folder; return those created (deepest last)."""
    created = []
    for parent in reversed(folder.resolve().parents):
        if not parent.exists():
            parent.mkdir()
            created.append(parent)
    return created


def write_output(files, out_dir):
    """Write all files or none: render into a sibling temp folder, then swap it into place."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path {out} is a file", "pass a folder with -o (it is created if missing)")
    for parent in out.resolve().parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{parent} is a file, so {out} cannot be created", "pick another -o")
    created = _make_parents(out)
    parent = out.resolve().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        for rel, text in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if out.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.rmdir(backup)
            os.replace(out, backup)
            os.replace(staging, out)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out
