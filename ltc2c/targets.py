"""Compilation targets as data: one entry per core, the single source of truth for its flags."""

from dataclasses import dataclass, field

from .errors import UsageError

WARNING_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    compiler: str
    arch_flags: tuple = ()
    fpu: bool = False
    dsp: bool = False
    default_quant: str = "int16"
    qemu_system: str = ""
    qemu_machine: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def cflags(self):
        return WARNING_FLAGS + self.arch_flags


TARGETS = {
    t.name: t
    for t in (
        Target("host", "this machine (cc), for tests and desktop use", "cc", (), fpu=True,
               default_quant="float32"),
        Target("cortex-m0plus", "Arm Cortex-M0+ (ARMv6-M, no FPU, no divider)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"), qemu_system="qemu-system-arm",
               qemu_machine="microbit"),
        Target("cortex-m3", "Arm Cortex-M3 (ARMv7-M, no FPU)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"), qemu_system="qemu-system-arm",
               qemu_machine="mps2-an385"),
        Target("cortex-m4", "Arm Cortex-M4 (ARMv7E-M, DSP, FPU not assumed)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"), dsp=True, qemu_system="qemu-system-arm",
               qemu_machine="mps2-an386"),
        Target("cortex-m4f", "Arm Cortex-M4F (hard float, fpv4-sp-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"), fpu=True, dsp=True,
               default_quant="float32", qemu_system="qemu-system-arm", qemu_machine="mps2-an386"),
        Target("cortex-m7", "Arm Cortex-M7 (hard float, fpv5-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"), fpu=True, dsp=True,
               default_quant="float32", qemu_system="qemu-system-arm", qemu_machine="mps2-an500"),
        Target("cortex-m33", "Arm Cortex-M33 (ARMv8-M Mainline, DSP, fpv5-sp-d16)", "arm-none-eabi-gcc",
               ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"), fpu=True, dsp=True,
               qemu_system="qemu-system-arm", qemu_machine="mps2-an505"),
        Target("riscv32", "RISC-V rv32imc (no FPU)", "riscv64-unknown-elf-gcc",
               ("-march=rv32imc", "-mabi=ilp32"), qemu_system="qemu-system-riscv32", qemu_machine="virt"),
    )
}
DEFAULT_TARGET = "host"


def get_target(name):
    try:
        return TARGETS[name]
    except KeyError:
        raise UsageError(f"unknown target '{name}'",
                         f"choose one of: {', '.join(TARGETS)} (see `ltc2c targets`)") from None
