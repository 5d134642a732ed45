"""Run firmware ELFs in QEMU: semihosting console and exit status, timeouts, and deterministic
instruction counts through ltc2c's TCG plugin (hardware/qemu/plugin/ltc2c_count.c).

The plugin is compiled with the host C compiler on first use into the cache folder. Counting is
an inline add per executed guest instruction, so counts are exact and identical from run to run;
a window opens at a function's entry and closes at the return site of its call (callees such as
libgcc soft-float or libm included).
"""

import bisect
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .build import cache_dir, find_tool, run_checked
from .errors import HarnessError
from .resources import hardware_dir

PLUGIN_FILES = ("ltc2c_count.c", "qemu_plugin_api.h")


def plugin_library(compiler="cc"):
    """Path of the instruction-counting plugin, built with COMPILER into the cache on first use."""
    src_dir = hardware_dir() / "qemu" / "plugin"
    digest = hashlib.sha256(compiler.encode())
    for name in PLUGIN_FILES:
        digest.update((src_dir / name).read_bytes())
    out_dir = cache_dir("qemu-plugin", digest.hexdigest()[:16])
    lib = out_dir / "libltc2c_count.so"
    if lib.exists():
        return lib
    cc = find_tool(compiler)
    tmp = out_dir / f"libltc2c_count.{os.getpid()}.tmp"
    run_checked([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                 "-fvisibility=hidden", f"-I{src_dir}", str(src_dir / "ltc2c_count.c"), "-o", str(tmp)],
                "building the QEMU instruction-count plugin")
    os.replace(tmp, lib)
    return lib


@dataclass
class QemuRun:
    """Outcome of one QEMU run."""

    returncode: int
    console: str  # semihosting console text
    stderr: str
    seconds: float
    command: list
    windows: list = None  # instructions per counted window, in execution order
    total_instructions: int = None  # everything the guest executed
    open_window: bool = False  # the guest exited inside a window
    histogram: list = None  # [(address, count, taken)] inside windows


def qemu_command(board, elf, plugin_spec=None):
    """argv for running ELF on BOARD's QEMU machine with the semihosting console on stdout."""
    q = board.qemu
    if q is None:
        raise HarnessError(f"board {board.name} is not a QEMU machine", "pick a qemu-* board (ltc2c boards)")
    command = [q.system, "-M", q.machine, *q.args, "-display", "none", "-serial", "none", "-monitor", "none",
               "-chardev", "stdio,id=ltc2c_console",
               "-semihosting-config", "enable=on,target=native,chardev=ltc2c_console"]
    if plugin_spec:
        command += ["-plugin", plugin_spec]
    command += ["-kernel", str(elf)]
    return command


def run_elf(elf, board, *, timeout=120, starts=(), ends=(), histogram_range=None):
    """Run ELF in QEMU. With STARTS/ENDS (addresses) count instructions per window through the
    plugin; with HISTOGRAM_RANGE=(base, span) also count per address inside windows.
    -> QemuRun. Raises ToolchainNotFoundError if QEMU is missing, HarnessError on a timeout."""
    if isinstance(board, str):
        from .boards import get_board

        board = get_board(board)
    system = board.qemu.system if board.qemu else "qemu-system-arm"
    find_tool(system, board.name)  # ToolchainNotFoundError with an install hint when QEMU is missing
    counting = bool(starts)
    with tempfile.TemporaryDirectory(prefix="ltc2c-qemu-") as tmp:
        spec = None
        out = Path(tmp) / "count.txt"
        hist = Path(tmp) / "hist.txt"
        if counting:
            parts = [str(plugin_library()), "start=" + ":".join(hex(a) for a in starts),
                     "end=" + ":".join(hex(a) for a in ends), f"out={out}"]
            if histogram_range:
                parts += [f"hist={hist}", f"base={hex(histogram_range[0])}", f"span={int(histogram_range[1])}"]
            spec = ",".join(parts)
        command = qemu_command(board, elf, spec)
        began = time.monotonic()
        try:
            proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"QEMU ({board.qemu.machine}) did not finish {Path(elf).name} within {timeout} s",
                               "the firmware may have hung (wrong memory map?) or the vectors are too long") from None
        run = QemuRun(returncode=proc.returncode, console=proc.stdout.decode(errors="replace"),
                      stderr=proc.stderr.decode(errors="replace"), seconds=time.monotonic() - began,
                      command=command)
        if counting:
            if not out.exists():
                raise HarnessError("the QEMU instruction-count plugin wrote no result",
                                   f"QEMU said: {run.stderr.strip()[:200]}")
            lines = out.read_text().split("\n")
            head = dict(line.split() for line in lines[:3])
            n = int(head["windows"])
            run.total_instructions = int(head["total"])
            run.open_window = head["open"] == "1"
            run.windows = [int(x) for x in lines[3:3 + n]]
            if histogram_range and hist.exists():
                run.histogram = [(int(a, 16), int(c), int(t)) for a, c, t in
                                 (line.split() for line in hist.read_text().splitlines())]
    return run


# --------------------------------------------------------------------------------------------
# Symbols and call sites


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int  # without the Thumb bit
    size: int
    kind: str  # nm type letter


def read_symbols(elf, target):
    """{name: Symbol} of the ELF's defined symbols (function addresses without the Thumb bit)."""
    nm = find_tool(target.tool("nm"), target.name)
    text = run_checked([nm, "-S", "--defined-only", str(elf)], f"reading symbols of {Path(elf).name}").stdout
    symbols = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            addr, size, kind, name = parts
            symbols[name] = Symbol(name, int(addr, 16) & ~1, int(size, 16), kind)
        elif len(parts) == 3:
            addr, kind, name = parts
            symbols.setdefault(name, Symbol(name, int(addr, 16) & ~1, 0, kind))
    return symbols


_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_CALLS = ("bl", "blx", "jal", "jalr", "call")


def disassemble(elf, target, symbol=None):
    """[(address, mnemonic, operands)] of the ELF's code (or of one function)."""
    objdump = find_tool(target.tool("objdump"), target.name)
    command = [objdump, "-d", "--no-show-raw-insn"]
    if symbol:
        command.append(f"--disassemble={symbol}")
    text = run_checked([*command, str(elf)], f"disassembling {Path(elf).name}").stdout
    out = []
    for line in text.splitlines():
        m = _INSN.match(line)
        if m and not m.group(2).startswith("."):
            out.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return out


def return_sites(elf, target, caller, callees):
    """Addresses of the instructions that follow each call from CALLER to one of CALLEES."""
    insns = disassemble(elf, target, caller)
    sites = []
    for i, (_, mnemonic, operands) in enumerate(insns[:-1]):
        base = mnemonic.split(".")[0]
        if base in _CALLS and any(f"<{c}>" in operands for c in callees):
            sites.append(insns[i + 1][0])
    return sites


# --------------------------------------------------------------------------------------------
# Where the instructions go


@dataclass
class Histogram:
    """Executed instructions inside counted windows, attributed to functions, lines and mnemonics."""

    total: int
    windows: int
    by_function: list  # [(function, instructions)], biggest first
    by_mnemonic: list  # [(mnemonic, instructions)]
    by_line: list = field(default_factory=list)  # [("file:line", instructions)]
    entries: list = field(default_factory=list)  # [(address, count, taken, mnemonic, operands, function)]

    def as_dict(self, top=25):
        w = self.windows or 1
        return {
            "instructions_per_window": self.total / w,
            "windows": self.windows,
            "by_function": [{"function": f, "per_step": n / w, "share": n / self.total if self.total else 0.0}
                            for f, n in self.by_function[:top]],
            "by_mnemonic": [{"mnemonic": m, "per_step": n / w} for m, n in self.by_mnemonic[:top]],
            "by_line": [{"line": l, "per_step": n / w} for l, n in self.by_line[:top]],
        }


def attribute(elf, target, histogram, windows, lines=True):
    """Turn the plugin's per-address histogram into a Histogram (functions via nm, lines via addr2line)."""
    symbols = sorted((s for s in read_symbols(elf, target).values() if s.kind in "tTwW"),
                     key=lambda s: s.address)
    starts = [s.address for s in symbols]
    code = {a: (m, o) for a, m, o in disassemble(elf, target)}
    funcs, mnems, entries = Counter(), Counter(), []
    for address, count, taken in histogram:
        i = bisect.bisect_right(starts, address) - 1
        fn = symbols[i].name if i >= 0 else "?"
        mnemonic, operands = code.get(address, ("?", ""))
        funcs[fn] += count
        mnems[mnemonic] += count
        entries.append((address, count, taken, mnemonic, operands, fn))
    by_line = []
    if lines and histogram:
        addr2line = shutil.which(target.tool("addr2line"))
        if addr2line:
            proc = subprocess.run([addr2line, "-e", str(elf)], input="\n".join(hex(a) for a, _, _ in histogram),
                                  capture_output=True, text=True, timeout=60)
            per_line = Counter()
            for (address, count, _), where in zip(histogram, proc.stdout.splitlines()):
                per_line[re.sub(r" \(discriminator \d+\)", "", os.path.basename(where))] += count
            by_line = per_line.most_common()
    total = sum(c for _, c, _ in histogram)
    return Histogram(total=total, windows=windows, by_function=funcs.most_common(), by_mnemonic=mnems.most_common(),
                     by_line=by_line, entries=entries)
