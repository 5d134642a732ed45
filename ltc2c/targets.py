"""Compilation targets as data: one entry per core, the single source of truth for its compiler,
flags, features and default quantization. Memory maps and QEMU machines live with the boards
(hardware/boards/*.toml, ltc2c.boards); a target names the QEMU board that runs its code.
"""

from dataclasses import dataclass

from .errors import UsageError

WARNING_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
# Cross builds: -std=c99 already implies -ffp-contract=off; pinning it keeps float32 bit-compatible
# with a non-FMA host even if someone switches the dialect. Sections per function/object let the
# linker drop what the application does not use and let footprint.py attribute sizes.
CROSS_FLAGS = ("-ffp-contract=off", "-ffunction-sections", "-fdata-sections", "-g")


@dataclass(frozen=True)
class Target:
    """One core. `compiler` is the gcc driver; the binutils share its prefix."""

    name: str
    description: str
    compiler: str
    arch_flags: tuple = ()
    fpu: bool = False  # hardware single-precision float
    dsp: bool = False  # ARMv7E-M / ARMv8-M DSP extension (SMLAD, SMLAL, SSAT, ...)
    default_quant: str = "int16"
    family: str = "host"  # "host", "arm" (Cortex-M, Thumb), "riscv"
    cpu: str = ""  # core name used by the cycle model (ltc2c.cycles)
    qemu_board: str = ""  # hardware/boards/<name>.toml that runs this target's code in QEMU
    asm_flags: tuple = ()  # extra flags for assembler sources only
    libc: str = "newlib"  # "newlib": link -lm -lc from the toolchain; "none": ltc2c's libc shim
    hardware_divide: bool = True
    fpu_flag_hint: str = ""  # how the FPU is switched on before the first FP instruction

    @property
    def cflags(self):
        """The strict warning set plus the architecture flags."""
        return WARNING_FLAGS + self.arch_flags

    @property
    def is_cross(self):
        """True for every target but the host."""
        return self.family != "host"

    @property
    def tool_prefix(self):
        """'arm-none-eabi-' for arm-none-eabi-gcc; '' for the host compiler."""
        return self.compiler[: -len("gcc")] if self.compiler.endswith("-gcc") else ""

    def tool(self, name):
        """Name of a binutils program for this target: tool('size') -> 'arm-none-eabi-size'."""
        return f"{self.tool_prefix}{name}" if self.tool_prefix else name

    @property
    def qemu(self):
        """The QemuMachine (system binary, machine, args) of the target's QEMU board, or None."""
        if not self.qemu_board:
            return None
        from .boards import get_board

        return get_board(self.qemu_board).qemu

    @property
    def qemu_system(self):
        return self.qemu.system if self.qemu else ""

    @property
    def qemu_machine(self):
        return self.qemu.machine if self.qemu else ""

    def summary(self):
        """Plain dict for `ltc2c targets` and --json output."""
        return {
            "name": self.name,
            "description": self.description,
            "compiler": self.compiler,
            "flags": list(self.arch_flags),
            "fpu": self.fpu,
            "dsp": self.dsp,
            "default_quant": self.default_quant,
            "qemu_board": self.qemu_board or None,
            "qemu_machine": self.qemu_machine or None,
        }


_CPACR = "CPACR.CP10/CP11 = full access (hardware/common/cortexm/startup.c)"

TARGETS = {
    t.name: t
    for t in (
        Target("host", "this machine (cc), for tests and desktop use", "cc", (), fpu=True,
               default_quant="float32"),
        Target("cortex-m0plus", "Arm Cortex-M0+ (ARMv6-M, no FPU, no divider)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"), family="arm", cpu="cortex-m0plus",
               qemu_board="qemu-microbit", hardware_divide=False),
        Target("cortex-m3", "Arm Cortex-M3 (ARMv7-M, no FPU)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"), family="arm", cpu="cortex-m3",
               qemu_board="qemu-mps2-an385"),
        Target("cortex-m4", "Arm Cortex-M4 (ARMv7E-M, DSP, FPU not assumed)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"), dsp=True, family="arm", cpu="cortex-m4",
               qemu_board="qemu-mps2-an386"),
        Target("cortex-m4f", "Arm Cortex-M4F (hard float, fpv4-sp-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"), fpu=True, dsp=True,
               default_quant="float32", family="arm", cpu="cortex-m4", qemu_board="qemu-mps2-an386",
               fpu_flag_hint=_CPACR),
        Target("cortex-m7", "Arm Cortex-M7 (hard float, fpv5-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"), fpu=True, dsp=True,
               default_quant="float32", family="arm", cpu="cortex-m7", qemu_board="qemu-mps2-an500",
               fpu_flag_hint=_CPACR),
        Target("cortex-m33", "Arm Cortex-M33 (ARMv8-M Mainline, DSP, fpv5-sp-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"), fpu=True, dsp=True,
               family="arm", cpu="cortex-m33", qemu_board="qemu-mps2-an505", fpu_flag_hint=_CPACR),
        # No exact rv32imc multilib exists; -march=rv32imc picks rv32im's libgcc, which is fine. Adding
        # _zicsr to -march breaks the multilib lookup, so the assembler alone gets it (for csrw).
        Target("riscv32", "RISC-V rv32imc (no FPU)", "riscv64-unknown-elf-gcc",
               ("-march=rv32imc", "-mabi=ilp32"), family="riscv", cpu="rv32imc",
               qemu_board="qemu-riscv32-virt", asm_flags=("-Wa,-march=rv32imc_zicsr",), libc="none"),
    )
}
DEFAULT_TARGET = "host"


def get_target(name):
    """The Target called NAME, or UsageError listing the known targets."""
    try:
        return TARGETS[name]
    except KeyError:
        raise UsageError(f"unknown target '{name}'",
                         f"choose one of: {', '.join(TARGETS)} (see `ltc2c targets`)") from None


def cross_targets():
    """Every target that runs in QEMU (all but host), in table order."""
    return [t for t in TARGETS.values() if t.is_cross]
