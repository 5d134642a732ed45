"""Flash, RAM and worst-case stack of a generated model on a target.

* Model: flash = text + rodata + data, static RAM = data + bss, of the model's sections the linker
  keeps (per-object `size -A` totals, before dead-code removal, are reported too).
* Linked: the model is linked into a minimal image (start-up + a main that references every API
  function) with --gc-sections; the linker map attributes what was kept to the model's objects and
  to library members (libgcc soft-float, libm expf, memcpy, ...). "flash" counts the model's own
  kept sections; "linked" adds the library code it pulls in.
* Stack: frame sizes from -fstack-usage (.su) for the model's functions; for library functions,
  from their prologues in the linked image (push/stmdb/vpush/sub sp; RISC-V addi sp). Call edges
  come from the linked image's disassembly (calls and tail calls), so libgcc calls the compiler
  emitted are included. Worst case = deepest path from each API function; unknown frames (dynamic
  stack, indirect calls, recursion) make the result "unbounded" and are listed.
"""

import bisect
import re
from pathlib import Path

from . import build, qemu
from .boards import get_board
from .errors import BuildError

def section_kind(name):
    """Which memory a section of an object/ELF occupies: text, rodata, data, bss, or None (not loaded)."""
    if name.startswith((".text", ".isr_vector", ".glue_7", ".vfp11_veneer", ".v4_bx", ".ltc2c_entry")):
        return "text"
    if name.startswith((".rodata", ".srodata", ".ARM.exidx", ".ARM.extab")):
        return "rodata"
    if name.startswith((".data", ".sdata")):
        return "data"
    if name.startswith((".bss", ".sbss", "COMMON")):
        return "bss"
    return None


def section_sizes(path, target):
    """{"text", "rodata", "data", "bss", "sections": {name: size}} from `size -A -d`."""
    size_tool = build.find_tool(target.tool("size"), target.name)
    text = build.run_checked([size_tool, "-A", "-d", str(path)], f"measuring {Path(path).name}").stdout
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    sections = {}
    for line in text.splitlines()[2:]:
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit() or parts[0] == "Total":
            continue
        kind = section_kind(parts[0])
        if kind:
            totals[kind] += int(parts[1])
            sections[parts[0]] = int(parts[1])
    totals["sections"] = sections
    return totals


def read_stack_usage(su_files):
    """{function: (bytes, qualifier)} from -fstack-usage files (qualifier: static / dynamic / dynamic,bounded)."""
    usage = {}
    for path in su_files:
        for line in Path(path).read_text().splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                where, size, qualifier = parts
                usage[where.rsplit(":", 1)[-1]] = (int(size), qualifier)
    return usage


# --------------------------------------------------------------------------------------------
# Stack analysis of a linked image

_REG_RANGE = re.compile(r"([a-z]+)(\d+)-[a-z]*(\d+)")


def _reglist_count(operands):
    inner = re.search(r"\{([^}]*)\}", operands)
    if not inner:
        return 0
    n = 0
    for item in inner.group(1).split(","):
        item = item.strip()
        m = _REG_RANGE.match(item)
        if m:
            n += int(m.group(3)) - int(m.group(2)) + 1
        elif item:
            n += 1
    return n


def _arm_frame(mnemonic, operands):
    """Bytes this instruction pushes onto the stack (None: unknown / dynamic)."""
    base = mnemonic.split(".")[0]
    ops = operands.split("@")[0].split(";")[0].replace(" ", "").replace("\t", "")
    if base == "push":
        return 4 * _reglist_count(operands)
    if base in ("stmdb", "stmfd") and ops.startswith("sp!"):
        return 4 * _reglist_count(operands)
    if base == "vpush":
        width = 8 if re.search(r"\{\s*d", operands) else 4
        return width * _reglist_count(operands)
    if base in ("sub", "subw") and (ops.startswith("sp,#") or ops.startswith("sp,sp,#")):
        return int(re.match(r"-?(0x[0-9a-f]+|\d+)", ops.split("#")[1]).group(0), 0)
    if base in ("sub", "subw", "add") and re.match(r"sp,(sp,)?r\d", ops):
        return None  # sub/add sp, rN: a size held in a register (large frames on ARMv6-M, alloca)
    pre_indexed = re.search(r"\[sp,#-(\d+|0x[0-9a-f]+)\]!$", ops)
    if base.startswith("str") and pre_indexed:  # str/strd rX, [sp, #-N]! (libgcc's compare helpers)
        return int(pre_indexed.group(1), 0)
    return 0


def _riscv_frame(mnemonic, operands):
    ops = operands.split("#")[0].replace(" ", "")
    if mnemonic in ("add", "addi", "c.addi", "c.addi16sp") and re.match(r"sp,sp,-\d", ops):
        return int(ops.split(",")[2][1:], 0)
    if mnemonic in ("sub", "c.sub", "add") and re.match(r"sp,sp,[a-z]", ops):
        return None
    return 0


_CALL = {"bl", "blx", "jal", "jalr", "call"}
_JUMP = {"b", "j", "tail"}
_TARGET = re.compile(r"<([^>+]+)>")


def stack_graph(elf, target):
    """Per function of the linked ELF: own frame bytes (None if dynamic), callees, indirect-call flag."""
    every = sorted((s for s in qemu.read_symbols(elf, target).values() if s.kind in "tTwW" and s.size),
                   key=lambda s: (s.address, s.name))
    funcs, graph = [], {}
    for sym in every:  # aliases (e.g. __aeabi_lmul = __muldi3) share one node
        if funcs and funcs[-1].address == sym.address:
            graph[sym.name] = graph[funcs[-1].name]
            continue
        funcs.append(sym)
        graph[sym.name] = {"frame": 0, "callees": set(), "indirect": False}
    starts = [s.address for s in funcs]
    names = set(graph)
    frame_of = _riscv_frame if target.family == "riscv" else _arm_frame
    for address, mnemonic, operands in qemu.disassemble(elf, target):
        i = bisect.bisect_right(starts, address) - 1
        if i < 0 or address >= funcs[i].address + funcs[i].size:
            continue
        owner = funcs[i].name
        node = graph[owner]
        frame = frame_of(mnemonic, operands)
        if frame is None:
            node["frame"] = None
        elif node["frame"] is not None:
            node["frame"] += frame
        base = mnemonic.split(".")[0]
        m = _TARGET.search(operands)
        callee = m.group(1) if m else None
        if base in _CALL:
            if callee in names:
                node["callees"].add(callee)
            elif base in ("blx", "jalr") and not callee:
                node["indirect"] = True
        elif base in _JUMP and callee in names and graph[callee] is not node:
            node["callees"].add(callee)  # tail call into another function
    return graph


def worst_case_stack(entry, graph, su=None):
    """Deepest stack (bytes) from ENTRY through the call graph. -> (bytes or None, path, problems)."""
    su = su or {}
    problems = []
    memo = {}

    def frame(fn):
        key = fn if fn in su else re.sub(r"(\.\d+)+$", "", fn)  # .su says f.constprop, nm f.constprop.0
        if key in su:
            size, qualifier = su[key]
            if qualifier.startswith("dynamic") and "bounded" not in qualifier:
                problems.append(f"{fn}: dynamic stack allocation")
                return None
            return size
        node = graph.get(fn)
        if node is None:
            problems.append(f"{fn}: not found in the image")
            return None
        if node["frame"] is None:
            problems.append(f"{fn}: dynamic stack adjustment")
        return node["frame"]

    def visit(fn, stack):
        if fn in stack:
            problems.append(f"recursion through {fn}")
            return None, [fn]
        if fn in memo:
            return memo[fn]
        own = frame(fn)
        node = graph.get(fn, {"callees": set(), "indirect": False})
        if node.get("indirect"):
            problems.append(f"{fn}: indirect call")
        deepest, path = 0, []
        for callee in sorted(node["callees"]):
            depth, sub = visit(callee, stack | {fn})
            if depth is None:
                deepest, path = None, sub
                break
            if depth > deepest:
                deepest, path = depth, sub
        result = (None if own is None or deepest is None else own + deepest), [fn, *path]
        memo[fn] = result
        return result

    total, path = visit(entry, frozenset())
    if problems:
        total = None
    return total, path, sorted(set(problems))


# --------------------------------------------------------------------------------------------
# Report

_MAP_INPUT = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_MAP_CONT = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_MAP_OUTPUT = re.compile(r"^(\.\S+)(\s+0x[0-9a-f]+\s+0x[0-9a-f]+.*)?$")


def map_attribution(map_file):
    """{input file (object or archive(member)): {"text", "rodata", "data", "bss"}} of what the linker
    kept, from a GNU ld map file (after --gc-sections)."""
    usage = {}
    kind = None
    pending = None
    started = False
    for line in Path(map_file).read_text().splitlines():
        if not started:
            started = line.startswith("Linker script and memory map")
            continue
        out = _MAP_OUTPUT.match(line)
        if out:
            kind = section_kind(out.group(1))
            pending = None
            continue
        m = _MAP_INPUT.match(line)
        if m:
            name, size, where = m.group(1), int(m.group(3), 16), m.group(4).strip()
        elif pending and _MAP_CONT.match(line):
            c = _MAP_CONT.match(line)
            name, size, where = pending, int(c.group(2), 16), c.group(3).strip()
        else:
            single = re.match(r"^ (\.\S+)$", line)
            pending = single.group(1) if single else None
            continue
        pending = None
        if kind is None or name.startswith("*") or where == "linker stubs" or not size:
            continue
        entry = usage.setdefault(where, {"text": 0, "rodata": 0, "data": 0, "bss": 0})
        entry[section_kind(name) or kind] += size
    return usage


def deployable_functions(functions, name):
    """The API an application links: with an integer API (NAME_*_q) the float convenience wrappers
    NAME_step / NAME_step_dt are left out (they pull in float code the integer build avoids)."""
    if any(fn.endswith("_q") for fn in functions):
        return [fn for fn in functions if fn.endswith("_q") or fn not in (f"{name}_step", f"{name}_step_dt")]
    return list(functions)


def _footprint_main(name, functions):
    items = ", ".join(f"(ltc2c_fn){fn}" for fn in functions)
    return "\n".join([
        "/* ltc2c footprint probe: references the model's API functions so the linker keeps them. */",
        f'#include "{name}.h"',
        "typedef void (*ltc2c_fn)(void);",
        f"ltc2c_fn const volatile ltc2c_keep[{len(functions)}] = {{ {items} }};",
        f"{name}_state_t ltc2c_footprint_state;",
        "int main(void)",
        "{",
        "    return ltc2c_keep[0] != 0;",
        "}",
        "",
    ])


def _library_label(where):
    if "/" in where and Path(where).suffix == ".o" and "(" not in where:
        return f"ltc2c-libc({Path(where).name})"
    m = re.match(r".*/(lib[^/]+\.a)\((.+)\)$", where)
    return f"{m.group(1)}({m.group(2)})" if m else Path(where).name


def measure(out_dir, name, target, build_dir, optimization="-O2", board=None):
    """Compile OUT_DIR's model for TARGET (with -Werror), link it into a minimal image and report its
    footprint. -> dict (see the module docstring)."""
    out_dir, build_dir = Path(out_dir), Path(build_dir)
    board = get_board(board or target.qemu_board)
    declared = build.api_functions(out_dir, name, target)
    if not declared:
        raise BuildError(f"{name}.h declares no {name}_* functions", "regenerate the model with ltc2c")
    functions = deployable_functions(declared, name)
    build_dir.mkdir(parents=True, exist_ok=True)
    main = build_dir / "footprint_main.c"
    main.write_text(_footprint_main(name, functions))
    linked = build.cross_elf(build.model_sources(out_dir), [main], target, board, build_dir, "footprint.elf",
                             include_dirs=[out_dir], optimization=optimization)
    kept = map_attribution(linked.map_file)
    model_paths = {str(o) for o in linked.model_objects}
    libc_shim = str(build.hardware_dir() / "common" / "libc")
    support_paths = {str(o) for s, o in linked.objects.items()
                     if str(o) not in model_paths and not s.startswith(libc_shim)}
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    libraries = {}
    for where, sizes in kept.items():
        if where in model_paths:
            for k in totals:
                totals[k] += sizes[k]
        elif where not in support_paths:
            lib = libraries.setdefault(_library_label(where), {"text": 0, "rodata": 0, "data": 0, "bss": 0})
            for k in lib:
                lib[k] += sizes[k]
    objects = {}
    su_files = []
    for obj in linked.model_objects:
        sizes = section_sizes(obj, target)
        objects[obj.name] = {k: sizes[k] for k in totals}
        if obj.with_suffix(".su").exists():
            su_files.append(obj.with_suffix(".su"))
    su = read_stack_usage(su_files)
    graph = stack_graph(linked.elf, target)
    stacks, problems = {}, []
    for fn in functions:
        depth, path, issues = worst_case_stack(fn, graph, su)
        stacks[fn] = {"bytes": depth, "path": path}
        problems += issues
    worst = max((s["bytes"] for s in stacks.values() if s["bytes"] is not None), default=0)
    bounded = all(s["bytes"] is not None for s in stacks.values())
    probe_main = linked.objects[str(main)]
    state = qemu.read_symbols(probe_main, target).get("ltc2c_footprint_state")
    state_bytes = state.size if state else None
    lib_flash = sum(v["text"] + v["rodata"] + v["data"] for v in libraries.values())
    lib_ram = sum(v["data"] + v["bss"] for v in libraries.values())
    flash = totals["text"] + totals["rodata"] + totals["data"]
    ram_static = totals["data"] + totals["bss"]
    return {
        "target": target.name,
        "board": board.name,
        "compiler": target.compiler,
        "flags": build.cross_cflags(target, optimization),
        "functions": functions,
        "not_counted": [fn for fn in declared if fn not in functions],
        "objects": objects,
        "flash": {"text": totals["text"], "rodata": totals["rodata"], "data": totals["data"], "total": flash},
        "ram": {"data": totals["data"], "bss": totals["bss"], "stack": worst if bounded else None,
                "total": ram_static + worst if bounded else None},
        "state_bytes": state_bytes,
        "ram_with_state": (ram_static + worst + (state_bytes or 0)) if bounded else None,
        "stack": stacks,
        "stack_problems": sorted(set(problems)),
        "stack_usage_files": {fn: list(v) for fn, v in su.items()},
        "linked": {
            "flash": flash + lib_flash,
            "ram_static": ram_static + lib_ram,
            "libraries": {k: v for k, v in sorted(libraries.items(), key=lambda kv: -sum(kv[1].values()))},
        },
        "elf": str(linked.elf),
    }
