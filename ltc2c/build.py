"""Compile generated sources. Knows nothing about LTCs: commands are data from ltc2c.targets."""

import shutil
import subprocess
from pathlib import Path

from .errors import BuildError, ToolchainNotFoundError
from .targets import WARNING_FLAGS, get_target


def find_tool(tool, target_name="host"):
    path = shutil.which(tool)
    if path is None:
        raise ToolchainNotFoundError(f"'{tool}' not found (needed for target {target_name})",
                                     "run `make setup` or install the toolchain listed in the README")
    return path


def run_checked(command, what, cwd=None, timeout=300):
    try:
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what} timed out after {timeout} s", "see --debug output", command) from None
    if proc.returncode != 0:
        first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr.strip()[:200])
        raise BuildError(f"{what} failed: {first}", "rerun with --debug for the full compiler output",
                         command, proc.stdout + proc.stderr)
    return proc


def host_executable(sources, include_dirs, output, compiler="cc", optimization="-O2", extra_flags=(),
                    libraries=("-lm",)):
    """Build a host program with the strict warning set (-Werror)."""
    cc = find_tool(compiler)
    command = [cc, *WARNING_FLAGS, optimization, *extra_flags]
    command += [f"-I{d}" for d in include_dirs]
    command += [str(s) for s in sources] + ["-o", str(output), *libraries]
    run_checked(command, f"compiling {Path(output).name} with {compiler}")
    return Path(output)


def syntax_check(out_dir, target_name="host", compiler=None):
    """Compile every .c of a generated folder to objects with the target's flags (no link)."""
    target = get_target(target_name)
    cc = find_tool(compiler or target.compiler, target_name)
    out_dir = Path(out_dir)
    sources = sorted(str(p) for p in out_dir.glob("*.c"))
    flags = list(target.cflags)
    if target_name != "host":
        flags.append("-ffreestanding")
    command = [cc, *flags, "-O2", f"-I{out_dir}", "-fsyntax-only", *sources]
    run_checked(command, f"compiling for {target_name}")
