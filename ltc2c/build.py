"""Compile generated sources, for the host or cross for a target core and board.

Knows nothing about LTCs: commands are data from ltc2c.targets (flags) and ltc2c.boards (memory
map, board support sources). Every compile uses the strict warning set with -Werror.
"""

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildError, ToolchainNotFoundError, UsageError
from .resources import hardware_dir
from .targets import CROSS_FLAGS, WARNING_FLAGS, get_target

COMPILE_TIMEOUT = 300  # seconds per compiler invocation

INSTALL_HINTS = {
    "arm-none-eabi-gcc": "apt-get install --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "riscv64-unknown-elf-gcc": "apt-get install --no-install-recommends gcc-riscv64-unknown-elf",
    "qemu-system-arm": "apt-get install --no-install-recommends qemu-system-arm",
    "qemu-system-riscv32": "apt-get install --no-install-recommends qemu-system-misc",
    "pyocd": "pip install pyocd",
    "openocd": "apt-get install --no-install-recommends openocd",
}


def _as_target(target):
    return get_target(target) if isinstance(target, str) else target


def find_tool(tool, target_name="host"):
    """Absolute path of TOOL on PATH, or ToolchainNotFoundError saying how to install it."""
    path = shutil.which(tool)
    if path is None:
        base = tool
        for known in INSTALL_HINTS:
            prefix = known[: -len("gcc")] if known.endswith("gcc") else None
            if tool == known or (prefix and tool.startswith(prefix)):
                base = known
                break
        hint = INSTALL_HINTS.get(base, "run `make setup` or install the toolchain listed in the README")
        raise ToolchainNotFoundError(f"'{tool}' not found (needed for target {target_name})", hint)
    return path


def run_checked(command, what, cwd=None, timeout=300):
    """Run COMMAND; BuildError with the first error line if it fails or times out."""
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


def libc_include_dirs(target):
    """Include folders a target needs for <math.h>/<string.h> (ltc2c's shim when there is no libc)."""
    target = _as_target(target)
    return [hardware_dir() / "common" / "libc" / "include"] if target.libc == "none" else []


# --------------------------------------------------------------------------------------------
# Cross builds


@dataclass
class ElfBuild:
    """What a cross build produced: the ELF, its objects (by role) and the flags used."""

    elf: Path
    target: object
    board: object
    objects: dict = field(default_factory=dict)  # source path -> object path
    model_objects: list = field(default_factory=list)  # objects of the generated model only
    map_file: Path = None
    command: list = field(default_factory=list)


def cross_cflags(target, optimization="-O2", stack_usage=True):
    """Compiler flags for a target: strict warnings, -Werror, arch, sections, debug info."""
    target = _as_target(target)
    flags = [*target.cflags, optimization, *CROSS_FLAGS]
    if target.libc == "none":
        flags.append("-ffreestanding")  # gcc's own <stdint.h>; no hosted headers exist
    if stack_usage:
        flags += ["-fstack-usage", "-fcallgraph-info=su"]
    return flags


def support_include_dirs(target):
    """Include folders for the board support code (ltc2c_board.h, semihost.h) and the libc shim."""
    return [hardware_dir() / "common", *libc_include_dirs(target)]


def support_sources(target, board):
    """Start-up, board and libc-shim sources for TARGET on BOARD, as absolute paths."""
    target = _as_target(target)
    common = hardware_dir() / "common"
    if target.family == "arm":
        sources = [common / "cortexm" / "startup.c"]
    elif target.family == "riscv":
        sources = [common / "riscv" / "start.S", common / "riscv" / "crt.c"]
    else:
        raise UsageError(f"target {target.name} is not a cross target", "pick a Cortex-M or RISC-V target")
    sources += board.source_paths()
    if target.libc == "none":
        sources += [common / "libc" / "string.c", common / "libc" / "expf.c"]
    return sources


def sections_script(target):
    """The shared output-section script of the target's family (Cortex-M or RISC-V)."""
    target = _as_target(target)
    sub = "cortexm" if target.family == "arm" else "riscv"
    return hardware_dir() / "common" / sub / "sections.ld"


def _object_name(source, used):
    stem = Path(source).stem
    name, n = f"{stem}.o", 1
    while name in used:
        n += 1
        name = f"{stem}_{n}.o"
    used.add(name)
    return name


_CACHE_HEADERS = None


def _support_fingerprint():
    """Hash of every header under hardware/common: a support object depends on them."""
    global _CACHE_HEADERS
    if _CACHE_HEADERS is None:
        digest = hashlib.sha256()
        for path in sorted((hardware_dir() / "common").rglob("*.h")):
            digest.update(path.read_bytes())
        _CACHE_HEADERS = digest.hexdigest()
    return _CACHE_HEADERS


def cache_dir(*parts):
    """ltc2c's cache folder ($LTC2C_CACHE_DIR, else $XDG_CACHE_HOME/ltc2c, else ~/.cache/ltc2c)."""
    base = os.environ.get("LTC2C_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "ltc2c")
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_object(source, obj, target, include_dirs=(), defines=(), optimization="-O2", cached=False,
                   stack_usage=True):
    """Compile one C or assembler source for TARGET into OBJ (with .su/.ci next to it).

    cached=True reuses an identical earlier compile of ltc2c's own support code (same source,
    headers, flags, compiler) from the cache folder."""
    target = _as_target(target)
    cc = find_tool(target.compiler, target.name)
    source, obj = Path(source), Path(obj)
    flags = cross_cflags(target, optimization, stack_usage=stack_usage and source.suffix == ".c")
    if source.suffix == ".S":
        flags = [*target.arch_flags, *target.asm_flags, "-g"]
    command = [cc, *flags, *[f"-D{d}" for d in defines], *[f"-I{d}" for d in include_dirs],
               "-c", str(source), "-o", str(obj)]
    if cached:
        key = hashlib.sha256("\0".join([*command[:-4], source.read_text(), _support_fingerprint(),
                                        target.compiler]).encode()).hexdigest()[:32]
        hit = cache_dir("objects", target.name) / f"{source.stem}-{key}.o"
        if hit.exists():
            shutil.copyfile(hit, obj)
            return obj
        run_checked(command, f"compiling {source.name} for {target.name}", timeout=COMPILE_TIMEOUT)
        tmp = hit.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(obj, tmp)
        os.replace(tmp, hit)
        return obj
    run_checked(command, f"compiling {source.name} for {target.name}", timeout=COMPILE_TIMEOUT)
    return obj


def link_flags(target, board, linker_script, map_file=None):
    """Linker flags: no start files or default libraries, the board's script, --gc-sections, a map."""
    target = _as_target(target)
    flags = [*target.arch_flags, "-nostdlib", "-nostartfiles", f"-T{linker_script}", "-Wl,--gc-sections"]
    if map_file:
        flags.append(f"-Wl,-Map={map_file}")
    if board.entry:
        flags.append(f"-Wl,--entry={board.entry}")
    if board.code_region == board.ram_region:
        flags.append("-Wl,--no-warn-rwx-segments")  # one RAM region holds code and data
    return flags


def link_libraries(target):
    """Libraries after the objects: newlib's libm/libc and libgcc, or libgcc alone without a libc."""
    target = _as_target(target)
    if target.libc == "none":
        return ["-lgcc"]
    return ["-Wl,--start-group", "-lm", "-lc", "-lgcc", "-Wl,--end-group"]


def write_linker_script(board, target, build_dir):
    """Write BOARD.ld (MEMORY from the board file + INCLUDE of the sections script) into BUILD_DIR."""
    from .boards import memory_script

    path = Path(build_dir) / f"{board.name}.ld"
    path.write_text(memory_script(board, sections_script(target)))
    return path


def cross_elf(model_sources, extra_sources, target, board, build_dir, elf_name, include_dirs=(),
              defines=(), optimization="-O2"):
    """Compile MODEL_SOURCES (+ EXTRA_SOURCES such as a harness) with the board's start-up and
    support code, and link an ELF for BOARD. -> ElfBuild."""
    target = _as_target(target)
    if isinstance(board, str):
        from .boards import get_board

        board = get_board(board)
    if target.name not in board.targets:
        raise UsageError(f"board {board.name} does not run {target.name} code",
                         f"use one of its targets: {', '.join(board.targets)}")
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    incs = [*include_dirs, *support_include_dirs(target)]
    defs = [*board.defines, *defines]
    used, objects, model_objects = set(), {}, []
    for src in model_sources:
        obj = compile_object(src, build_dir / _object_name(src, used), target, incs, defs, optimization)
        objects[str(src)] = obj
        model_objects.append(obj)
    for src in extra_sources:
        objects[str(src)] = compile_object(src, build_dir / _object_name(src, used), target, incs, defs,
                                           optimization)
    for src in support_sources(target, board):
        objects[str(src)] = compile_object(src, build_dir / _object_name(src, used), target, incs, defs,
                                           optimization, cached=True)
    script = write_linker_script(board, target, build_dir)
    elf = build_dir / elf_name
    map_file = elf.with_suffix(".map")
    cc = find_tool(target.compiler, target.name)
    command = [cc, *link_flags(target, board, script, map_file), *[str(o) for o in objects.values()],
               *link_libraries(target), "-o", str(elf)]
    try:
        run_checked(command, f"linking {elf.name} for {board.name}")
    except BuildError as exc:
        overflow = re.search(r"region `?(\w+)'? overflowed by (\d+) bytes", exc.output or "")
        if overflow:
            raise BuildError(f"the image does not fit board {board.name}: {overflow.group(1)} overflowed by "
                             f"{overflow.group(2)} bytes", "embed fewer test vectors (steps x sequences), or use a "
                             "board with more memory", command, exc.output) from None
        raise
    return ElfBuild(elf=elf, target=target, board=board, objects=objects, model_objects=model_objects,
                    map_file=map_file, command=command)


def model_sources(out_dir):
    """The generated .c files of an output folder (the model and any runtime sources)."""
    return sorted(Path(out_dir).glob("*.c"))


_PROTO = re.compile(r"^\s*(?:extern\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\(", re.M)


def model_name(out_dir):
    """The model's name in a generated folder: the NAME of NAME.h + NAME.c (not ltc2c_* runtime)."""
    out_dir = Path(out_dir)
    names = sorted(p.stem for p in out_dir.glob("*.h")
                   if not p.stem.startswith("ltc2c") and (out_dir / f"{p.stem}.c").exists())
    if len(names) != 1:
        raise UsageError(f"cannot tell the model in {out_dir} (found {names or 'no NAME.h + NAME.c'})",
                         "pass the folder written by `ltc2c compile`, or name= explicitly")
    return names[0]


def api_functions(out_dir, name, target):
    """Functions the model header declares (after preprocessing with the target's compiler)."""
    target = _as_target(target)
    cc = find_tool(target.compiler, target.name)
    header = Path(out_dir) / f"{name}.h"
    command = [cc, *target.cflags, "-ffreestanding", "-E", "-P", f"-I{out_dir}",
               *[f"-I{d}" for d in libc_include_dirs(target)], str(header)]
    text = run_checked(command, f"preprocessing {header.name}").stdout
    found = []
    for match in _PROTO.finditer(text):
        fn = match.group(1)
        if fn.startswith(f"{name}_") and fn not in found:
            found.append(fn)
    return found


def build_target(out_dir, target, *, name=None, build_dir=None, optimization="-O2"):
    """Cross-compile a generated folder for TARGET with -Werror and measure it.

    -> report dict (see ltc2c.footprint.measure): flash = text + rodata + data of the model's own
    objects, RAM = data + bss + worst-case stack of its entry points (from -fstack-usage and the
    call graph, library callees included), the caller-owned state size, and the flash/RAM the
    model adds to a linked image including library code (libgcc soft-float, libm)."""
    from . import footprint

    target = _as_target(target)
    if not target.is_cross:
        raise UsageError("build_target needs a cross target", "pass e.g. --target cortex-m4")
    out_dir = Path(out_dir)
    name = name or model_name(out_dir)
    build_dir = Path(build_dir) if build_dir else out_dir / "build" / target.name
    return footprint.measure(out_dir, name, target, build_dir, optimization=optimization)
