"""Boards as data (hardware/boards/*.toml), firmware images for every board, QEMU board projects that
report parity, and the flash commands (pyOCD / OpenOCD, --dry-run, no probe attached)."""

import os
import stat
import struct

import pytest
import torch

import models
from ltc2c import boards, codegen, flash, targets
from ltc2c.errors import HarnessError, ToolchainNotFoundError, UsageError
from ltc2c.load import load_model
from ltc2c.passes import fold
from toolchains import require

HARDWARE = [b.name for b in boards.list_boards() if b.kind == "hardware"]
QEMU_BOARDS = [b.name for b in boards.list_boards() if b.kind == "qemu"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("boards")
    torch.save(models.autoncp_16_2().state_dict(), work / "model.pt")
    folded = fold(load_model(work / "model.pt"))
    codegen.write_output(codegen.render(folded, "net"), work / "out")
    return work / "out"


def test_board_files_are_consistent():
    all_boards = boards.all_boards()
    assert {"nucleo-f411re", "nrf52840-dk", "rpi-pico"} <= set(HARDWARE)
    assert len(QEMU_BOARDS) == 6
    for board in all_boards.values():
        for name in board.targets:
            assert targets.get_target(name).is_cross
        assert board.region(board.code_region).length > 0 and board.ram_bytes > 0
        if board.kind == "hardware":
            assert set(board.probes) == {"pyocd", "openocd"}
            assert board.console == "uart" and board.uart["baud"] == 115200
        else:
            assert board.console == "semihosting" and board.qemu.machine
        for path in board.source_paths():
            assert path.is_file(), (board.name, path)
        if board.kind == "hardware":
            # the shared board functions live once under hardware/common/cortexm, never per board
            assert "common/cortexm/park.c" in board.sources, board.sources
            own = "\n".join(path.read_text() for path in board.source_paths() if "common" not in path.parts)
            assert "ltc2c_board_exit" not in own, board.name
            if "common/cortexm/dwt.c" in board.sources:
                assert "ltc2c_board_cycles" not in own and "ltc2c_board_cycle_bits" not in own, board.name
    for t in targets.cross_targets():
        assert t.name in all_boards[t.qemu_board].targets
    pico = all_boards["rpi-pico"]
    assert pico.image == "ram" and pico.code_region == pico.ram_region == "RAM"
    assert pico.region("RAM").origin == 0x20000000 and pico.uf2_family == 0xE48BFF56
    nucleo = all_boards["nucleo-f411re"]
    assert (nucleo.region("FLASH").origin, nucleo.region("FLASH").length) == (0x08000000, 512 * 1024)
    assert nucleo.region("RAM").length == 128 * 1024
    nrf = all_boards["nrf52840-dk"]
    assert (nrf.flash_bytes, nrf.ram_bytes) == (1024 * 1024, 256 * 1024)


def test_memory_script_comes_from_the_board_file():
    board = boards.get_board("nucleo-f411re")
    text = boards.memory_script(board, "/x/sections.ld")
    assert "FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 0x80000" in text
    assert "RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 0x20000" in text
    assert 'REGION_ALIAS("REGION_CODE", FLASH);' in text and 'INCLUDE "/x/sections.ld"' in text


def test_unknown_board_and_bad_file(tmp_path):
    with pytest.raises(UsageError) as info:
        boards.get_board("nucleo-f999")
    assert "nucleo-f411re" in info.value.hint
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n')
    with pytest.raises(UsageError):
        boards._parse(bad)


@pytest.mark.parametrize("board_name", HARDWARE + QEMU_BOARDS)
def test_firmware_builds_for_every_board(model_dir, board_name, tmp_path):
    board = boards.get_board(board_name)
    for target_name in board.targets:
        require(targets.get_target(target_name).compiler)
        require("cc")
        image = flash.build_firmware(model_dir, board, target=target_name, build_dir=tmp_path / target_name)
        assert os.path.getsize(image["elf"]) > 0 and os.path.getsize(image["hex"]) > 0
        used = image["text"] + image["rodata"] + image["data"]
        assert used <= board.flash_bytes
        assert image["data"] + image["bss"] + board.min_stack <= board.ram_bytes
        code = board.region(board.code_region)
        assert code.origin <= image["load_address"] < code.end
        if board.image == "ram":
            # a RAM UF2 is entered at its first byte (RP2040 boot ROM / elf2uf2 rule)
            assert image["entry"] == code.origin | 1
            data = open(image["uf2"], "rb").read()
            assert len(data) % 512 == 0
            first = struct.unpack("<8I", data[:32])
            assert first[:2] == flash.UF2_MAGIC[:2] and first[3] == code.origin and first[7] == board.uf2_family
            assert struct.unpack("<I", data[508:512])[0] == flash.UF2_MAGIC[2]


@pytest.mark.parametrize("board_name", QEMU_BOARDS)
def test_qemu_board_projects_report_parity(model_dir, board_name, tmp_path):
    board = boards.get_board(board_name)
    require(board.qemu.system)
    for target_name in board.targets:
        require(targets.get_target(target_name).compiler)
        result = flash.run_qemu_firmware(model_dir, board, target=target_name, build_dir=tmp_path / target_name)
        assert result["returncode"] == 0, result["console"]
        assert result["verdict"] == "LTC2C PARITY OK"
        parity = result["parity"]
        assert parity["values"] == 2 * (64 * 2 + 16)  # outputs of every step + final states
        assert parity["mismatches"] == 0 and parity["max_abs_error"] == 0.0  # float32 is bit-exact too
        assert result["stack"]["bytes"] > 0
        flash.check_console(result["console"])


def test_flash_commands_for_every_board_and_probe():
    for name in HARDWARE:
        board = boards.get_board(name)
        for probe in ("pyocd", "openocd"):
            commands = flash.flash_commands(board, probe, "fw.elf", entry=board.region(board.code_region).origin)
            assert commands and commands[0][0] == probe
            text = " ".join(commands[0])
            assert "fw.elf" in text
            if probe == "pyocd":
                assert f"--target {board.probes['pyocd']['target']}" in text
            else:
                assert all(f"-f {cfg}" in text for cfg in board.probes["openocd"]["config"])
            if board.image == "ram":
                assert "0x20000000" in text and ("program" not in text)
            else:
                assert ("program fw.elf verify reset exit" in text) or ("pyocd load" in text)
    nrf = " ".join(flash.flash_commands("nrf52840-dk", "openocd", "fw.elf")[0])
    assert "transport select swd" in nrf
    with pytest.raises(UsageError):
        flash.flash_commands("qemu-mps2-an386", "pyocd")


def test_flash_dry_run_prints_commands(model_dir, tmp_path):
    require("arm-none-eabi-gcc")
    result = flash.flash(model_dir, "nucleo-f411re", "openocd", dry_run=True, build_dir=tmp_path)
    assert not result["ran"]
    assert result["commands"][0][:3] == ["openocd", "-f", "interface/stlink.cfg"]
    assert result["image"]["elf"] in result["commands"][0][-1]


def _fake_tool(folder, name, message, status=1):
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit {status}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_flash_without_probe_fails_clearly(model_dir, tmp_path, monkeypatch):
    require("arm-none-eabi-gcc")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "pyocd", "0000300 C No connected debug probes")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(flash.FlashError) as info:
        flash.flash(model_dir, "rpi-pico", "pyocd", build_dir=tmp_path / "fw")
    assert "no debug probe found" in info.value.message and "connect" in info.value.hint


def test_flash_without_probe_tool(model_dir, tmp_path, monkeypatch):
    require("arm-none-eabi-gcc")
    real_which = flash.shutil.which
    monkeypatch.setattr(flash.shutil, "which", lambda tool: None if tool == "openocd" else real_which(tool))
    with pytest.raises(ToolchainNotFoundError) as info:
        flash.flash(model_dir, "nrf52840-dk", "openocd", build_dir=tmp_path / "fw")
    assert "openocd" in info.value.message and "apt-get" in info.value.hint


def test_firmware_console_parser():
    text = "H 1 2 4 8\nP 0 12 0\nY 10 12 22 32 16000000\nK 120 16 4096\nC 00000000\nLTC2C PARITY OK\n"
    parsed = flash.check_console(text)
    assert parsed["cycles"]["hz"] == 16000000 and parsed["stack"]["bytes"] == 120
    with pytest.raises(HarnessError):
        flash.check_console(text.replace("OK", "FAIL"))
    assert parsed["parity"]["mismatches"] == 0 and parsed["parity"]["values"] == 12
