"""Build and run the generated model inside the host test harness, with binary I/O."""

import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import build
from ..codegen import environment, macro_prefix
from ..errors import HarnessError

MAGIC = 0x5643544C


@dataclass(frozen=True)
class HarnessIO:
    """C types on the harness's wire: what the chosen API takes and returns."""

    input_dtype: str = "<f4"
    dt_dtype: str = "<f4"
    output_dtype: str = "<f4"
    state_dtype: str = "<f4"
    input_ctype: str = "float"
    dt_ctype: str = "float"
    output_ctype: str = "float"
    step_suffix: str = ""  # "" -> NAME_step / NAME_step_dt ; "_q" -> NAME_step_q / NAME_step_dt_q


FLOAT_IO = HarnessIO()


def render_harness(name, io=FLOAT_IO):
    ctx = {
        "name": name,
        "NAME": macro_prefix(name),
        "input_ctype": io.input_ctype,
        "dt_ctype": io.dt_ctype,
        "output_ctype": io.output_ctype,
        "step_call": f"{name}_step{io.step_suffix}",
        "step_dt_call": f"{name}_step_dt{io.step_suffix}",
    }
    return environment().get_template("harness_host.c.j2").render(ctx)


def build_harness(src_dir, name, workdir, io=FLOAT_IO, compiler="cc", optimization="-O2", extra_flags=()):
    src_dir, workdir = Path(src_dir), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    harness = workdir / f"{name}_harness.c"
    harness.write_text(render_harness(name, io))
    flags = "".join(ch for ch in optimization + "".join(extra_flags) if ch.isalnum())[:24]
    exe = workdir / f"{name}_harness_{compiler}_{flags}"
    sources = sorted(src_dir.glob("*.c")) + [harness]
    # no fused multiply-add: the float32 model must round like every target does
    return build.host_executable(sources, [src_dir], exe, compiler=compiler, optimization=optimization,
                                 extra_flags=("-ffp-contract=off", *extra_flags))


def encode(inputs, elapsed_times, io):
    """Header + interleaved per-step records."""
    n_seq, n_steps, n_in = inputs.shape
    mode = 0 if elapsed_times is None else 1
    header = struct.pack("<5i", MAGIC, n_seq, n_steps, n_in, mode)
    if mode == 0:
        return header + np.ascontiguousarray(inputs, dtype=io.input_dtype).tobytes()
    record = np.dtype([("x", io.input_dtype, (n_in,)), ("dt", io.dt_dtype)])
    frames = np.empty((n_seq, n_steps), dtype=record)
    frames["x"] = inputs
    frames["dt"] = elapsed_times
    return header + frames.tobytes()


def run_harness(exe, inputs, elapsed_times, n_outputs, n_state, io=FLOAT_IO, timeout=600):
    """-> (outputs [S,T,M], final_state [S,N]) in the harness's wire dtypes."""
    n_seq, n_steps, _ = inputs.shape
    payload = encode(inputs, elapsed_times, io)
    try:
        proc = subprocess.run([str(exe)], input=payload, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"test harness {Path(exe).name} timed out", "the model may be too large for --steps") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise HarnessError(f"test harness exited with status {proc.returncode}"
                           f"{': ' + detail[0] if detail else ''}", "rerun with --debug")
    out_size = np.dtype(io.output_dtype).itemsize * n_outputs
    state_size = np.dtype(io.state_dtype).itemsize * n_state
    per_seq = n_steps * out_size + state_size
    if len(proc.stdout) != n_seq * per_seq:
        raise HarnessError(f"test harness wrote {len(proc.stdout)} bytes, expected {n_seq * per_seq}",
                           "rebuild the harness")
    outputs = np.empty((n_seq, n_steps, n_outputs), dtype=io.output_dtype)
    states = np.empty((n_seq, n_state), dtype=io.state_dtype)
    for s in range(n_seq):
        chunk = proc.stdout[s * per_seq:(s + 1) * per_seq]
        outputs[s] = np.frombuffer(chunk[: n_steps * out_size], dtype=io.output_dtype).reshape(n_steps, n_outputs)
        states[s] = np.frombuffer(chunk[n_steps * out_size:], dtype=io.state_dtype)
    return outputs, states
