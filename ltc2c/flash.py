"""Board firmware: build the model with the firmware harness for a board, and flash it with pyOCD or
OpenOCD (or print the exact commands with dry_run=True).

The firmware runs the model on embedded test vectors, compares every output and the final state
with the expected values (computed by the host build of the same C), and prints parity and cycle
counts over the board's console (UART on real boards, semihosting on QEMU boards).
"""

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

from . import build
from .boards import get_board
from .cnames import macro_prefix
from .errors import FlashError, HarnessError, ToolchainNotFoundError, UsageError
from .targets import get_target

DEFAULT_STEPS = 64
DEFAULT_SEQUENCES = 2
UF2_MAGIC = (0x0A324655, 0x9E5D5157, 0x0AB16F30)
UF2_FLAG_FAMILY = 0x00002000
UF2_PAYLOAD = 256


def _default_vectors(io, n_inputs, sequences=DEFAULT_SEQUENCES, steps=DEFAULT_STEPS, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(io.input_dtype).kind == "f":
        inputs = rng.uniform(-1.0, 1.0, (sequences, steps, n_inputs)).astype(io.input_dtype)
    else:
        inputs = rng.integers(-4096, 4097, (sequences, steps, n_inputs)).astype(io.input_dtype)
    return inputs


def expected_outputs(src_dir, name, inputs, elapsed_times, io, workdir):
    """Outputs and final states of the host build of the same sources: the firmware's reference."""
    from .verify import harness
    from .verify.target import header_macro

    header = (Path(src_dir) / f"{name}.h").read_text()
    n_out = header_macro(header, f"{macro_prefix(name)}_OUTPUT_SIZE")
    n_state = header_macro(header, f"{macro_prefix(name)}_STATE_SIZE")
    exe = harness.build_harness(src_dir, name, Path(workdir) / "host", io=io)
    return harness.run_harness(exe, inputs, elapsed_times, n_out, n_state, io=io)


def build_firmware(out_dir, board, *, name=None, target=None, inputs=None, elapsed_times=None, io=None,
                   expected=None, build_dir=None, optimization="-O2", defines=()):
    """Build the parity firmware for BOARD from a generated folder.

    Vectors default to 2 seeded sequences of 64 steps; expected outputs default to the host build's.
    -> dict: elf, hex, bin (and uf2 for SRAM images on boards with a UF2 family), sizes, board, target."""
    from .footprint import section_sizes
    from .verify.target import build_target_harness, header_macro, io_from_header

    board = get_board(board) if isinstance(board, str) else board
    target = get_target(target or board.target)
    out_dir = Path(out_dir)
    name = name or build.model_name(out_dir)
    header = (out_dir / f"{name}.h").read_text()
    io = io or io_from_header(header, name)
    build_dir = Path(build_dir) if build_dir else out_dir / "firmware" / board.name
    build_dir.mkdir(parents=True, exist_ok=True)
    n_in = header_macro(header, f"{macro_prefix(name)}_INPUT_SIZE")
    if inputs is None:
        inputs = _default_vectors(io, n_in)
    inputs = np.asarray(inputs, dtype=io.input_dtype)
    if expected is None:
        expected = expected_outputs(out_dir, name, inputs, elapsed_times, io, build_dir)
    result = build_target_harness(out_dir, name, target, build_dir, inputs, elapsed_times, io, board=board,
                                  expected=expected, emit_raw=False, optimization=optimization, defines=defines)
    elf = result.elf
    objcopy = build.find_tool(target.tool("objcopy"), target.name)
    hex_path, bin_path = elf.with_suffix(".hex"), elf.with_suffix(".bin")
    build.run_checked([objcopy, "-O", "ihex", str(elf), str(hex_path)], f"writing {hex_path.name}")
    build.run_checked([objcopy, "-O", "binary", str(elf), str(bin_path)], f"writing {bin_path.name}")
    sizes = section_sizes(elf, target)
    headers = _readelf(elf, target)
    image = {"board": board.name, "target": target.name, "elf": str(elf), "hex": str(hex_path),
             "bin": str(bin_path), "text": sizes["text"], "rodata": sizes["rodata"], "data": sizes["data"],
             "bss": sizes["bss"], "load_address": _load_address(headers),
             "entry": _entry_address(headers), "build": result}
    if board.uf2_family:
        uf2 = elf.with_suffix(".uf2")
        write_uf2(bin_path.read_bytes(), image["load_address"], board.uf2_family, uf2)
        image["uf2"] = str(uf2)
    used = sizes["text"] + sizes["rodata"] + sizes["data"]
    if used > board.flash_bytes:
        raise UsageError(f"firmware needs {used} bytes of {board.code_region}, board {board.name} has "
                         f"{board.flash_bytes}", "use fewer test vectors (--steps) or a smaller model")
    return image


def _readelf(elf, target):
    tool = build.find_tool(target.tool("readelf"), target.name)
    return build.run_checked([tool, "-h", "-l", str(elf)], f"reading {Path(elf).name}").stdout


def _entry_address(headers):
    """The ELF entry point, from `readelf -h -l` output."""
    for line in headers.splitlines():
        if "Entry point address" in line:
            return int(line.split()[-1], 16)
    return 0


def _load_address(headers):
    """Lowest physical address of a loaded segment with file contents (where objcopy's .bin starts),
    from `readelf -h -l` output."""
    lows = []
    for line in headers.splitlines():
        parts = line.split()
        if parts and parts[0] == "LOAD" and int(parts[4], 16) > 0:
            lows.append(int(parts[3], 16))
    return min(lows) if lows else 0


def write_uf2(data, address, family, path):
    """Write DATA (to be placed at ADDRESS) as UF2 blocks of 256 bytes with FAMILY's ID."""
    blocks = [data[i:i + UF2_PAYLOAD] for i in range(0, len(data), UF2_PAYLOAD)]
    out = bytearray()
    for number, chunk in enumerate(blocks):
        payload = chunk.ljust(476, b"\0")
        out += struct.pack("<8I", UF2_MAGIC[0], UF2_MAGIC[1], UF2_FLAG_FAMILY, address + number * UF2_PAYLOAD,
                           UF2_PAYLOAD, number, len(blocks), family)
        out += payload + struct.pack("<I", UF2_MAGIC[2])
    Path(path).write_bytes(bytes(out))
    return Path(path)


def flash_commands(board, probe="pyocd", image=None, entry=None):
    """The exact commands (argv lists) that load IMAGE (an ELF path) onto BOARD with PROBE.

    Flash images are programmed, verified and the core reset; SRAM images (RP2040) are written into
    SRAM over SWD and started at their entry point."""
    board = get_board(board) if isinstance(board, str) else board
    if board.kind != "hardware":
        raise UsageError(f"{board.name} is a QEMU machine, there is nothing to flash",
                         "run it with `ltc2c verify --target ...`, or pick a hardware board (ltc2c boards)")
    if probe not in board.probes:
        raise UsageError(f"board {board.name} has no {probe} settings",
                         f"use --probe {' or '.join(sorted(board.probes))}")
    image = str(image or "firmware.elf")
    settings = board.probes[probe]
    start = hex(entry if entry is not None else board.region(board.code_region).origin)
    if probe == "pyocd":
        if board.image == "ram":
            return [["pyocd", "commander", "--target", settings["target"], "-c", "reset halt", "-c", f"load {image}",
                     "-c", f"wreg pc {start}", "-c", "go"]]
        return [["pyocd", "load", "--target", settings["target"], image]]
    command = ["openocd"]
    configs = list(settings["config"])
    command += ["-f", configs[0]]
    if settings.get("transport"):
        command += ["-c", f"transport select {settings['transport']}"]
    for cfg in configs[1:]:
        command += ["-f", cfg]
    if board.image == "ram":
        command += ["-c", "init", "-c", "reset halt", "-c", f"load_image {image}", "-c", f"resume {start}",
                    "-c", "exit"]
    else:
        command += ["-c", f"program {image} verify reset exit"]
    return [command]


_NO_PROBE = ("no connected debug probe", "no available debug probe", "unable to find", "no device found",
             "error connecting dp", "open failed", "no j-link", "libusb_open() failed", "could not find")


def flash(out_dir, board, probe="pyocd", *, dry_run=False, **firmware_options):
    """Build the firmware for BOARD and load it with PROBE (pyocd or openocd).

    dry_run=True builds and returns the commands without running them. -> dict with the image and
    the commands. Raises ToolchainNotFoundError when the probe tool is missing and FlashError when
    no probe is attached or the tool fails."""
    board = get_board(board) if isinstance(board, str) else board
    if probe not in ("pyocd", "openocd"):
        raise UsageError(f"unknown probe '{probe}'", "use --probe pyocd or --probe openocd")
    image = build_firmware(out_dir, board, **firmware_options)
    commands = flash_commands(board, probe, image["elf"], entry=image["entry"] & ~1)
    result = {"image": {k: v for k, v in image.items() if k != "build"}, "commands": commands, "ran": False}
    if dry_run:
        return result
    tool = shutil.which(commands[0][0])
    if tool is None:
        raise ToolchainNotFoundError(f"'{commands[0][0]}' not found (needed to flash {board.name})",
                                     build.INSTALL_HINTS.get(commands[0][0], "install it"))
    for command in commands:
        try:
            proc = subprocess.run([tool, *command[1:]], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise FlashError(f"{probe} did not finish within 300 s", "check the probe connection") from None
        text = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            low = text.lower()
            if any(marker in low for marker in _NO_PROBE):
                raise FlashError(f"no debug probe found for {board.name} ({probe}: "
                                 f"{text.splitlines()[-1] if text else 'no output'})",
                                 f"connect the board's debug probe over USB, or use --dry-run to see the commands")
            raise FlashError(f"{probe} failed with status {proc.returncode}: "
                             f"{text.splitlines()[-1] if text else 'no output'}", "rerun with --debug")
    result["ran"] = True
    return result


def check_console(text):
    """Parse a firmware console capture (UART or semihosting). Raises HarnessError unless parity holds."""
    from .verify.target import parse_console

    parsed = parse_console(text)
    if parsed.get("verdict") != "LTC2C PARITY OK":
        raise HarnessError(f"firmware reported {parsed.get('verdict', 'nothing')}", "compare the host and board builds")
    return parsed


def run_qemu_firmware(out_dir, board, *, timeout=300, **firmware_options):
    """Build the parity firmware for a QEMU board and run it there (the QEMU board projects).
    -> dict: verdict, parity, cycles, stack, console, image."""
    from . import qemu
    from .verify.target import parse_console

    board = get_board(board) if isinstance(board, str) else board
    if board.kind != "qemu":
        raise UsageError(f"{board.name} is not a QEMU board", "flash it with `ltc2c flash` instead")
    image = build_firmware(out_dir, board, **firmware_options)
    run = qemu.run_elf(image["elf"], board, timeout=timeout)
    parsed = parse_console(run.console)
    return {"board": board.name, "target": image["target"], "returncode": run.returncode,
            "verdict": parsed.get("verdict"), "parity": parsed.get("parity"), "cycles": parsed.get("cycles"),
            "stack": parsed.get("stack"), "console": run.console, "elf": image["elf"]}
