"""Boards as data: one TOML file per board in hardware/boards/ is the single source of truth for its
memory map, core, console, QEMU machine and debug-probe settings.

A board names the targets (ltc2c.targets) whose code it runs. The linker script's MEMORY block is
generated from the board file (`memory_script`), so no address is written down twice.
"""

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import UsageError
from .resources import hardware_dir

KINDS = ("qemu", "hardware")
CONSOLES = ("semihosting", "uart")
IMAGES = ("flash", "ram")
PROBES = ("pyocd", "openocd")
DEFAULT_MIN_STACK = 1024


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    origin: int
    length: int
    attrs: str = "rwx"

    @property
    def end(self):
        return self.origin + self.length


@dataclass(frozen=True)
class QemuMachine:
    system: str  # qemu-system-arm, qemu-system-riscv32
    machine: str  # -M value
    args: tuple = ()  # extra arguments, e.g. ("-bios", "none")


@dataclass(frozen=True)
class Board:
    """One board: where code and data go, how text gets out, how the image gets in."""

    name: str
    description: str
    kind: str  # "qemu" or "hardware"
    targets: tuple  # target names whose code runs here; the first is the default
    console: str  # "semihosting" or "uart"
    sources: tuple  # board support sources, relative to hardware/
    memory: tuple  # MemoryRegion, in file order
    code_region: str  # region for code, constants and the .data load image
    ram_region: str  # region for .data, .bss and the stack
    image: str = "flash"  # "flash": programmed into flash; "ram": loaded into SRAM and entered there
    entry: str = ""  # ELF entry symbol override (SRAM images entered at their first byte)
    defines: tuple = ()
    qemu: QemuMachine = None
    uart: dict = field(default_factory=dict)
    core_hz: int = 0
    probes: dict = field(default_factory=dict)  # {"pyocd": {...}, "openocd": {...}}
    uf2_family: int = 0
    min_stack: int = DEFAULT_MIN_STACK
    path: str = ""

    @property
    def target(self):
        """The default target for this board."""
        return self.targets[0]

    def region(self, name):
        """The MemoryRegion called NAME."""
        for region in self.memory:
            if region.name == name:
                return region
        raise UsageError(f"board {self.name} has no memory region '{name}'", f"check {self.path}")

    @property
    def flash_bytes(self):
        """Capacity for code + constants (the code region)."""
        return self.region(self.code_region).length

    @property
    def ram_bytes(self):
        """Capacity of the region that holds data, bss and the stack."""
        return self.region(self.ram_region).length

    def source_paths(self):
        """Absolute paths of the board support sources."""
        root = hardware_dir()
        return [root / rel for rel in self.sources]

    def summary(self):
        """Plain dict for `ltc2c boards` and --json output."""
        return {
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "targets": list(self.targets),
            "console": self.console,
            "image": self.image,
            "memory": {r.name: {"origin": hex(r.origin), "length": r.length, "attrs": r.attrs} for r in self.memory},
            "qemu": None if self.qemu is None else {"system": self.qemu.system, "machine": self.qemu.machine,
                                                    "args": list(self.qemu.args)},
            "probes": sorted(self.probes),
        }


def _board_error(path, what):
    return UsageError(f"board file {path}: {what}", "fix the TOML file (see hardware/README.md for the fields)")


def _parse(path):
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise _board_error(path, f"not valid TOML ({exc})") from None
    try:
        regions = tuple(MemoryRegion(name, int(spec["origin"]), int(spec["length"]), str(spec.get("attrs", "rwx")))
                        for name, spec in data["memory"].items())
        qemu = None
        if "qemu" in data:
            q = data["qemu"]
            qemu = QemuMachine(str(q["system"]), str(q["machine"]), tuple(str(a) for a in q.get("args", ())))
        board = Board(
            name=str(data["name"]),
            description=str(data["description"]),
            kind=str(data["kind"]),
            targets=tuple(str(t) for t in data["targets"]),
            console=str(data["console"]),
            sources=tuple(str(s) for s in data.get("sources", ())),
            memory=regions,
            code_region=str(data["layout"]["code"]),
            ram_region=str(data["layout"]["ram"]),
            image=str(data.get("image", "flash")),
            entry=str(data.get("entry", "")),
            defines=tuple(str(d) for d in data.get("defines", ())),
            qemu=qemu,
            uart=dict(data.get("uart", {})),
            core_hz=int(data.get("clock", {}).get("core_hz", 0)),
            probes={k: dict(v) for k, v in data.get("probe", {}).items()},
            uf2_family=int(data.get("uf2_family", 0)),
            min_stack=int(data.get("min_stack", DEFAULT_MIN_STACK)),
            path=str(path),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _board_error(path, f"missing or malformed field ({exc})") from None
    if board.name != Path(path).stem:
        raise _board_error(path, f"name '{board.name}' differs from the file name")
    if board.kind not in KINDS or board.console not in CONSOLES or board.image not in IMAGES:
        raise _board_error(path, f"kind/console/image must be one of {KINDS}/{CONSOLES}/{IMAGES}")
    if board.kind == "qemu" and board.qemu is None:
        raise _board_error(path, "a qemu board needs a [qemu] table")
    names = [r.name for r in regions]
    if board.code_region not in names or board.ram_region not in names:
        raise _board_error(path, f"[layout] names a region that [memory] lacks ({names})")
    for probe in board.probes:
        if probe not in PROBES:
            raise _board_error(path, f"unknown probe '{probe}' (known: {', '.join(PROBES)})")
    return board


@lru_cache(maxsize=None)
def _load_all(root):
    boards = {}
    for path in sorted(Path(root).glob("*.toml")):
        board = _parse(path)
        boards[board.name] = board
    return boards


def all_boards():
    """{name: Board} for every hardware/boards/*.toml."""
    return dict(_load_all(str(hardware_dir() / "boards")))


def list_boards():
    """Every board, QEMU machines first, as Board objects sorted by kind and name."""
    return sorted(all_boards().values(), key=lambda b: (b.kind != "qemu", b.name))


def get_board(name):
    """The Board called NAME, or UsageError listing the known boards."""
    boards = all_boards()
    try:
        return boards[name]
    except KeyError:
        raise UsageError(f"unknown board '{name}'",
                         f"choose one of: {', '.join(sorted(boards))} (see `ltc2c boards`)") from None


def memory_script(board, sections_script):
    """Text of the board's linker script: MEMORY from the board file, then the shared sections."""
    lines = [
        f"/* Generated by ltc2c from {Path(board.path).name} -- do not edit; change the board file. */",
        "MEMORY",
        "{",
    ]
    for region in board.memory:
        lines.append(f"  {region.name} ({region.attrs}) : ORIGIN = 0x{region.origin:08x}, LENGTH = 0x{region.length:x}")
    lines += [
        "}",
        f'REGION_ALIAS("REGION_CODE", {board.code_region});',
        f'REGION_ALIAS("REGION_RAM", {board.ram_region});',
        f"LTC2C_MIN_STACK = {board.min_stack};",
        f'INCLUDE "{sections_script}"',
        "",
    ]
    return "\n".join(lines)
