"""Cycle estimates from the QEMU plugin's per-instruction histogram and the cores' published timing
tables (Cortex-M4 TRM §3.3 "Processor instruction timings", Cortex-M0+ TRM §3.3, Cortex-M3 TRM §18.2).

An estimate, not a measurement: zero-wait-state memory, no bus contention, a pipeline refill of
P = 2 cycles after a taken branch on M3/M4 (the TRM gives 1..3), one cycle per consecutive load
after the first (the TRM's LDR pipelining), and SDIV/UDIV at the middle of their 2..12 range. Cores
whose timing cannot be modelled this honestly (M7 dual issue, M33, RISC-V implementations) get no
estimate. On real boards the firmware's DWT counts are the measurement.
"""

import re

_COND = r"(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?(\.w|\.n)?$"
ESTIMATED_CPUS = ("cortex-m0plus", "cortex-m3", "cortex-m4")


def _nregs(operands):
    inner = re.search(r"\{([^}]*)\}", operands)
    if not inner:
        return 1
    n = 0
    for item in (x.strip() for x in inner.group(1).split(",")):
        m = re.match(r"[a-z]+(\d+)-[a-z]*(\d+)", item)
        n += int(m.group(2)) - int(m.group(1)) + 1 if m else (1 if item else 0)
    return n


def _base(mnemonic):
    if mnemonic.startswith("v"):
        return mnemonic.split(".")[0]
    return re.sub(_COND, "", mnemonic) or mnemonic


def _writes_pc(base, operands):
    first = operands.split(",")[0].strip()
    return first == "pc" or (base in ("pop", "ldm", "ldmia") and "pc" in operands)


def cost_m4(mnemonic, operands, taken, previous_was_load, refill=2, multiply_long=1):
    """Cycles of one Cortex-M3/M4 instruction (M4 TRM table 3-1)."""
    base = _base(mnemonic)
    if base in ("b", "bx", "bl", "blx", "cbz", "cbnz", "beq", "bne"):
        return 1 + refill if (taken or base in ("bl", "blx", "bx")) else 1
    if mnemonic.startswith("b") and re.match(r"b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\.w|\.n)?$",
                                             mnemonic):
        return 1 + refill if taken else 1
    if base in ("push", "pop", "stmdb", "ldmia", "ldm", "stm", "stmia", "ldmdb", "vpush", "vpop", "vldmia",
                "vstmia", "vldm", "vstm"):
        return 1 + _nregs(operands) + (refill if _writes_pc(base, operands) else 0)
    if base.startswith(("ldr", "vldr")):
        extra = refill if _writes_pc(base, operands) else 0
        return (1 if previous_was_load else 2) + extra
    if base.startswith(("str", "vstr")):
        return 1 if previous_was_load else 2
    if base in ("sdiv", "udiv"):
        return 7
    if base in ("smull", "umull", "smlal", "umlal", "smlalbb", "smlald", "smlsld", "smlaltt", "smlalbt",
                "smlaltb", "umaal"):
        return multiply_long
    if base in ("vdiv", "vsqrt"):
        return 14
    if base in ("vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"):
        return 3
    if base in ("vmov", "vmrs", "vmsr") and "pc" in operands:
        return 1 + refill
    return 1


def cost_m3(mnemonic, operands, taken, previous_was_load):
    """Cortex-M3: as M4 but long multiplies take 3..5 cycles (4 assumed) and MLA/MLS 2."""
    base = _base(mnemonic)
    if base in ("mla", "mls"):
        return 2
    return cost_m4(mnemonic, operands, taken, previous_was_load, multiply_long=4)


def cost_m0plus(mnemonic, operands, taken, previous_was_load):
    """Cycles of one Cortex-M0+ instruction (M0+ TRM table 3-1; single-cycle multiplier)."""
    base = _base(mnemonic)
    if base == "bl":
        return 3
    if base in ("bx", "blx"):
        return 2
    if mnemonic in ("b", "b.n"):
        return 2
    if re.match(r"b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\.n)?$", mnemonic):
        return 2 if taken else 1
    if base in ("push", "pop", "ldmia", "stmia", "ldm", "stm"):
        return 1 + _nregs(operands) + (2 if (base == "pop" and "pc" in operands) else 0)
    if base.startswith(("ldr", "str")):
        return 2
    if base in ("mov", "add") and operands.split(",")[0].strip() == "pc":
        return 2
    return 1


COST = {"cortex-m0plus": cost_m0plus, "cortex-m3": cost_m3, "cortex-m4": cost_m4}


def estimate(entries, cpu, windows=1):
    """Estimated core cycles per window from Histogram.entries of one core, or None when the core has
    no honest model (see ESTIMATED_CPUS)."""
    cost = COST.get(cpu)
    if cost is None or not entries:
        return None
    cycles = 0
    previous_load = False
    for _, count, taken, mnemonic, operands, _ in sorted(entries):
        is_load = _base(mnemonic).startswith(("ldr", "vldr"))
        # taken counts are per instruction; pipelining of loads is approximated per address
        cycles += taken * cost(mnemonic, operands, True, previous_load) + \
            (count - taken) * cost(mnemonic, operands, False, previous_load)
        previous_load = is_load
    return cycles / max(1, windows)
