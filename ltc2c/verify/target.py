"""Run the generated model on an emulated core: the target twin of ltc2c.verify.harness.

The test vectors are embedded in a firmware harness (templates/harness_target.c.j2), the model and
the harness are cross-compiled with -Werror for the target's QEMU board, and the ELF runs under
QEMU with semihosting. The harness prints the raw result bytes in hex (the host harness's stdout
layout) with a CRC-32, a stack-painting measurement and, on boards, DWT cycles; ltc2c's QEMU plugin
counts the instructions of every step call.
"""

import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__, build, qemu
from ..boards import get_board
from ..codegen import environment, macro_prefix
from ..codegen.cformat import c_float, rows
from ..errors import HarnessError, UsageError
from ..targets import get_target
from . import FLOAT32_TOLERANCE
from .harness import FLOAT_IO, HarnessIO

CTYPES = {"<f4": "float", "<i2": "int16_t", "<i1": "int8_t", "<u2": "uint16_t", "<i4": "int32_t", "<u1": "uint8_t"}
DTYPES = {c: d for d, c in CTYPES.items()}


def _param_types(params):
    types = []
    for param in params.split(","):
        words = [w for w in re.findall(r"[A-Za-z_]\w*", param.split("[")[0]) if w not in ("const", "restrict")]
        types.append(words[0] if len(words) >= 2 else (words[0] if words else ""))
    return types


def io_from_header(header, name):
    """The HarnessIO for the API a generated header declares: the integer NAME_step_q /
    NAME_step_dt_q when present (the deployable API of fixed-point builds), else NAME_step."""
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    suffix = "_q" if re.search(rf"\b{name}_step_q\s*\(", text) else ""
    step = re.search(rf"\b{name}_step{suffix}\s*\(([^)]*)\)", text)
    step_dt = re.search(rf"\b{name}_step_dt{suffix}\s*\(([^)]*)\)", text)
    state = re.search(r"\b(\w+)\s+v\s*\[", text)
    if not step or not state:
        raise HarnessError(f"{name}.h declares no {name}_step{suffix}() or state array v[]",
                           "regenerate the model with ltc2c")
    types = _param_types(step.group(1))
    input_ctype, output_ctype = types[1], types[-1]
    dt_ctype = _param_types(step_dt.group(1))[2] if step_dt else ("float" if not suffix else "uint16_t")
    try:
        return HarnessIO(input_dtype=DTYPES[input_ctype], dt_dtype=DTYPES[dt_ctype], output_dtype=DTYPES[output_ctype],
                         state_dtype=DTYPES[state.group(1)], input_ctype=input_ctype, dt_ctype=dt_ctype,
                         output_ctype=output_ctype, step_suffix=suffix)
    except KeyError as exc:
        raise HarnessError(f"{name}.h uses a C type the harness does not know ({exc})",
                           "regenerate the model with this ltc2c version") from None


@dataclass(frozen=True)
class StepCounts:
    """Executed instructions per step call, as counted by the QEMU plugin."""

    per_step: np.ndarray  # [sequences, steps]

    @property
    def mean(self):
        return float(self.per_step.mean()) if self.per_step.size else 0.0

    @property
    def min(self):
        return int(self.per_step.min()) if self.per_step.size else 0

    @property
    def max(self):
        return int(self.per_step.max()) if self.per_step.size else 0

    @property
    def total(self):
        return int(self.per_step.sum())

    def __float__(self):
        return self.mean

    def as_dict(self):
        return {"mean": self.mean, "min": self.min, "max": self.max, "steps": int(self.per_step.size)}


@dataclass
class TargetRun:
    """Everything one on-target run measured."""

    outputs: np.ndarray
    states: np.ndarray
    counts: StepCounts  # None when not counted
    stack_bytes: int  # deepest stack use below the step call (stack painting)
    stack_gap: int  # uses shallower than this are not observable
    cycles: dict  # {"min", "max", "sum", "bits", "hz"} from the board's cycle counter (0 under QEMU)
    parity: dict = None  # {"mismatches", "values", "max_difference"} when expected outputs were embedded
    target: str = ""
    board: str = ""
    elf: str = ""
    seconds: float = 0.0
    console: str = field(default="", repr=False)


def _literals(values, dtype):
    flat = np.ascontiguousarray(values, dtype=dtype).reshape(-1)
    if np.dtype(dtype).kind == "f":
        items = (c_float(v) for v in flat)
    else:
        items = (str(int(v)) for v in flat)
    return rows(items, per_line=8)


def render_target_harness(name, io, inputs, elapsed_times=None, expected=None, emit_raw=True,
                          stack_steps=16, paint_bytes=8192, float_tolerance=None):
    """C source of the firmware harness with INPUTS [S,T,I] (and ELAPSED_TIMES [S,T]) embedded.

    EXPECTED = (outputs [S,T,M], states [S,N]) in the wire dtypes adds an on-target parity check."""
    inputs = np.asarray(inputs)
    n_seq, n_steps, n_in = inputs.shape
    if n_seq * n_steps == 0:
        raise UsageError("no test vectors to embed", "pass at least one sequence with one step")
    ctx = {
        "version": __version__,
        "name": name,
        "NAME": macro_prefix(name),
        "input_ctype": io.input_ctype,
        "dt_ctype": io.dt_ctype,
        "output_ctype": io.output_ctype,
        "state_ctype": CTYPES[io.state_dtype],
        "step_call": f"{name}_step{io.step_suffix}",
        "step_dt_call": f"{name}_step_dt{io.step_suffix}",
        "n_seq": n_seq,
        "n_steps": n_steps,
        "n_in": n_in,
        "mode": 0 if elapsed_times is None else 1,
        "inputs": _literals(inputs, io.input_dtype),
        "elapsed": "" if elapsed_times is None else _literals(elapsed_times, io.dt_dtype),
        "expected_outputs": "" if expected is None else _literals(expected[0], io.output_dtype),
        "expected_states": "" if expected is None else _literals(expected[1], io.state_dtype),
        "emit_raw": emit_raw,
        "stack_steps": max(1, min(stack_steps, n_steps)),
        "paint_bytes": int(paint_bytes),
        "float_tolerance": c_float(_float_tolerance(expected) if float_tolerance is None else float_tolerance),
    }
    return environment().get_template("harness_target.c.j2").render(ctx)


FLOAT_TOLERANCE = FLOAT32_TOLERANCE  # ltc2c.verify's float32 parity: max |error| <= tol * max(1, range)


def _float_tolerance(expected):
    if expected is None or np.asarray(expected[0]).dtype.kind != "f":
        return 0.0
    out = np.asarray(expected[0], dtype=np.float64)
    span = float((out.max(axis=(0, 1)) - out.min(axis=(0, 1))).max()) if out.size else 0.0
    return FLOAT_TOLERANCE * max(1.0, span)


def build_target_harness(src_dir, name, target, workdir, inputs, elapsed_times=None, io=None, *,
                         board=None, expected=None, emit_raw=True, optimization="-O2", defines=()):
    """Cross-compile the model in SRC_DIR with the firmware harness for BOARD (default: the target's
    QEMU board). -> ltc2c.build.ElfBuild"""
    target = get_target(target) if isinstance(target, str) else target
    board = get_board(board or target.qemu_board) if not hasattr(board, "memory") else board
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    io = io or io_from_header((Path(src_dir) / f"{name}.h").read_text(), name)
    ram = board.ram_bytes
    harness = workdir / f"{name}_firmware.c"
    harness.write_text(render_target_harness(name, io, inputs, elapsed_times, expected=expected, emit_raw=emit_raw,
                                             paint_bytes=min(8192, ram // 4)))
    result = build.cross_elf(build.model_sources(src_dir), [harness], target, board, workdir,
                             f"{name}_{board.name}.elf", include_dirs=[src_dir], defines=defines,
                             optimization=optimization)
    result.io = io  # the wire format run_target_harness decodes
    return result


def parse_console(text):
    """The harness's console lines -> dict (raw bytes, crc, parity, cycles, stack, header, done)."""
    result = {"raw": bytearray(), "done": False}
    for line in text.splitlines():
        tag, _, rest = line.strip().partition(" ")
        fields = rest.split()
        if tag == "H":
            result["header"] = [int(x) for x in fields]
        elif tag == "D":
            result["raw"] += bytes.fromhex(rest.strip())
        elif tag == "P":
            parity = dict(zip(("mismatches", "values", "max_difference"), map(int, fields[:3])))
            if len(fields) > 3:
                parity["max_abs_error"] = float(np.frombuffer(bytes.fromhex(fields[3])[::-1], "<f4")[0])
            result["parity"] = parity
        elif tag == "Y":
            result["cycles"] = dict(zip(("min", "max", "sum", "bits", "hz"), map(int, fields)))
        elif tag == "K":
            result["stack"] = dict(zip(("bytes", "gap", "painted"), map(int, fields)))
        elif tag == "C":
            result["crc"] = int(rest.strip(), 16)
        elif line.startswith("LTC2C "):
            result["done"] = True
            result["verdict"] = line.strip()
    return result


def step_windows(elf, target, name, io, symbols):
    """Counting windows of the model's step calls in a harness ELF: (entry addresses of NAME_step /
    NAME_step_dt in IO's API, return sites of their calls from run_step and main)."""
    callees = [f"{name}_step{io.step_suffix}", f"{name}_step_dt{io.step_suffix}"]
    starts = [symbols[c].address for c in callees if c in symbols]
    ends = [a for caller in ("run_step", "main") if caller in symbols
            for a in qemu.return_sites(elf, target, caller, callees)]
    return starts, ends


def run_target_harness(build_result, n_seq, n_steps, n_outputs, n_state, io=None, *, count=True,
                       timeout=300, name=None):
    """Run a harness ELF built by build_target_harness in QEMU. -> TargetRun"""
    io = io or getattr(build_result, "io", None) or FLOAT_IO
    target, board = build_result.target, build_result.board
    elf = build_result.elf
    starts = ends = ()
    if count and not name:
        raise UsageError("counting instructions needs the model name", "pass name=")
    if count:
        starts, ends = step_windows(elf, target, name, io, qemu.read_symbols(elf, target))
        if not starts or not ends:
            raise HarnessError(f"cannot find the step calls in {elf.name} to count instructions",
                               "rebuild the harness; is the model header's step function named as expected?")
    run = qemu.run_elf(elf, board, timeout=timeout, starts=starts, ends=ends)
    parsed = parse_console(run.console)
    if run.returncode != 0 or not parsed["done"]:
        tail = " | ".join(run.console.strip().splitlines()[-3:] + run.stderr.strip().splitlines()[-2:])
        raise HarnessError(f"target harness on {board.name} exited with status {run.returncode}"
                           f"{': ' + tail if tail else ''}", "rerun with --debug; a FAULT means a crash on the core")
    raw = bytes(parsed["raw"])
    if "crc" not in parsed or zlib.crc32(raw) != parsed["crc"]:
        raise HarnessError("target harness output is corrupt (CRC mismatch)", "rerun; check the semihosting console")
    out_size = np.dtype(io.output_dtype).itemsize * n_outputs
    state_size = np.dtype(io.state_dtype).itemsize * n_state
    per_seq = n_steps * out_size + state_size
    if len(raw) != n_seq * per_seq:
        raise HarnessError(f"target harness wrote {len(raw)} bytes, expected {n_seq * per_seq}", "rebuild the harness")
    outputs = np.empty((n_seq, n_steps, n_outputs), dtype=io.output_dtype)
    states = np.empty((n_seq, n_state), dtype=io.state_dtype)
    for s in range(n_seq):
        chunk = raw[s * per_seq:(s + 1) * per_seq]
        outputs[s] = np.frombuffer(chunk[: n_steps * out_size], dtype=io.output_dtype).reshape(n_steps, n_outputs)
        states[s] = np.frombuffer(chunk[n_steps * out_size:], dtype=io.state_dtype)
    counts = None
    if count:
        needed = n_seq * n_steps
        if len(run.windows) < needed:
            raise HarnessError(f"counted {len(run.windows)} step calls, expected {needed}",
                               "the plugin missed call sites; rebuild the harness")
        counts = StepCounts(np.array(run.windows[:needed], dtype=np.int64).reshape(n_seq, n_steps))
    stack = parsed.get("stack", {"bytes": 0, "gap": 0})
    return TargetRun(outputs=outputs, states=states, counts=counts, stack_bytes=stack["bytes"],
                     stack_gap=stack["gap"], cycles=parsed.get("cycles", {}), parity=parsed.get("parity"),
                     target=target.name, board=board.name, elf=str(elf), seconds=run.seconds, console=run.console)


def run_on_target_report(src_dir, name, target, inputs, elapsed_times=None, io=None, *, workdir=None,
                         count=True, timeout=300, optimization="-O2", board=None):
    """Build and run on TARGET's QEMU core (or BOARD, a QEMU board that runs TARGET's code).
    IO defaults to the API the header declares (io_from_header). -> TargetRun"""
    target = get_target(target) if isinstance(target, str) else target
    if not target.is_cross:
        raise UsageError("run_on_target needs a cross target", "use ltc2c.verify.harness for the host")
    inputs = np.asarray(inputs)
    n_seq, n_steps, _ = inputs.shape
    header = (Path(src_dir) / f"{name}.h").read_text()
    io = io or io_from_header(header, name)
    n_outputs = header_macro(header, f"{macro_prefix(name)}_OUTPUT_SIZE")
    n_state = header_macro(header, f"{macro_prefix(name)}_STATE_SIZE")
    with tempfile.TemporaryDirectory(prefix="ltc2c-target-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        result = build_target_harness(src_dir, name, target, work, inputs, elapsed_times, io, board=board,
                                      optimization=optimization)
        return run_target_harness(result, n_seq, n_steps, n_outputs, n_state, io, count=count, timeout=timeout,
                                  name=name)


def run_on_target(src_dir, name, target, inputs, elapsed_times=None, io=None, **options):
    """Mirror of ltc2c.verify.harness.run_harness on an emulated core.

    -> (outputs [S,T,M], final_state [S,N]) in the wire dtypes, and StepCounts (instructions per
    step call: .mean/.min/.max/.per_step), or None with count=False."""
    run = run_on_target_report(src_dir, name, target, inputs, elapsed_times, io, **options)
    return run.outputs, run.states, run.counts


def header_macro(header, macro):
    """Integer value of `#define MACRO value` in a generated header."""
    for line in header.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "#define" and parts[1] == macro:
            return int(parts[2].rstrip("uU"))
    raise HarnessError(f"the model header does not define {macro}", "regenerate the model with ltc2c")


def profile_on_target(src_dir, name, target, inputs, elapsed_times=None, io=None, *, workdir=None, timeout=300,
                      optimization="-O2", lines=True):
    """Where a step's instructions go on TARGET's QEMU core: per-function, per-mnemonic and per-source-line
    counts inside the counted step calls, plus a cycle estimate where ltc2c.cycles has a model.
    -> dict (Histogram.as_dict() + "instructions_per_step", "estimated_cycles_per_step", "histogram")."""
    from .. import cycles

    target = get_target(target) if isinstance(target, str) else target
    io = io or io_from_header((Path(src_dir) / f"{name}.h").read_text(), name)
    inputs = np.asarray(inputs)
    n_seq, n_steps, _ = inputs.shape
    with tempfile.TemporaryDirectory(prefix="ltc2c-profile-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        result = build_target_harness(src_dir, name, target, work, inputs, elapsed_times, io,
                                      optimization=optimization, emit_raw=False)
        elf = result.elf
        symbols = qemu.read_symbols(elf, target)
        starts, ends = step_windows(elf, target, name, io, symbols)
        code = [s for s in symbols.values() if s.kind in "tTwW" and s.size]
        base = min(s.address for s in code)
        span = max(s.address + s.size for s in code) - base
        run = qemu.run_elf(elf, result.board, timeout=timeout, starts=starts, ends=ends, histogram_range=(base, span))
        if run.returncode != 0:
            raise HarnessError(f"profiling run on {result.board.name} exited with status {run.returncode}",
                               "rerun with --debug")
        # every counted call (main pass and the stack-painting rerun) is a window; totals are per call
        windows = len(run.windows)
        hist = qemu.attribute(elf, target, run.histogram or [], windows, lines=lines)
        report = hist.as_dict()
        report["instructions_per_step"] = float(np.mean(run.windows)) if run.windows else 0.0
        report["estimated_cycles_per_step"] = cycles.estimate(hist.entries, target.cpu, windows)
        report["cycle_model"] = target.cpu if target.cpu in cycles.ESTIMATED_CPUS else None
        report["histogram"] = hist
        return report
