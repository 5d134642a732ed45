"""The target commands of the CLI: build, boards, flash --dry-run, verify --target."""

import json

import pytest

from cli_runner import run_cli
from test_verify_cli import EXAMPLE
from toolchains import require


@pytest.fixture(scope="module")
def m4_sources(tmp_path_factory):
    require("arm-none-eabi-gcc")
    out = tmp_path_factory.mktemp("cli_targets") / "c"
    from ltc2c.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["-q", "compile", str(EXAMPLE / "sine_ltc.pt"), "-o", str(out), "--name", "sine",
              "--target", "cortex-m4", "--calib", str(EXAMPLE / "sine_inputs.npz")])
        raise SystemExit(0)
    assert exc.value.code == 0
    return out


def test_boards_lists_qemu_and_real_boards(capsys):
    code, out, _ = run_cli(capsys, "boards")
    assert code == 0
    for board in ("qemu-mps2-an386", "nucleo-f411re", "nrf52840-dk", "rpi-pico"):
        assert board in out


def test_build_reports_flash_and_ram(capsys, tmp_path, m4_sources):
    code, out, err = run_cli(capsys, "-q", "build", str(m4_sources), "--target", "cortex-m4",
                             "--json", str(tmp_path / "size.json"))
    assert code == 0, err
    assert "model flash" in out and "worst-case stack" in out
    report = json.loads((tmp_path / "size.json").read_text())
    header = (m4_sources / "sine.h").read_text()
    assert f"#define SINE_STACK_BYTES {report['ram']['stack']} " in header


@pytest.mark.parametrize("board,probe,tool", [("nucleo-f411re", "pyocd", "pyocd"), ("nrf52840-dk", "openocd", "openocd"),
                                              ("rpi-pico", "pyocd", "pyocd")])
def test_flash_dry_run_prints_commands(capsys, m4_sources, board, probe, tool):
    code, out, err = run_cli(capsys, "-q", "flash", str(m4_sources), "--board", board, "--probe", probe, "--dry-run")
    assert code == 0, err
    assert any(line.startswith(tool) for line in out.splitlines()), out


def test_unknown_board_is_one_line(capsys, m4_sources):
    code, _, err = run_cli(capsys, "flash", str(m4_sources), "--board", "arduino-uno", "--dry-run")
    assert code != 0 and "unknown board" in err and "Traceback" not in err


def test_verify_on_target(capsys, tmp_path):
    require("qemu-system-arm")
    code, out, err = run_cli(capsys, "-q", "verify", str(EXAMPLE / "sine_ltc.pt"), "--target", "cortex-m4",
                             "--quant", "int8", "--steps", "64", "--sequences", "2", "--dt", "0.5:2.0",
                             "--no-onnx", "--json", str(tmp_path / "r.json"))
    assert code == 0, out + err
    report = json.loads((tmp_path / "r.json").read_text())
    run = report["details"]["target_run"]
    assert run["bit_exact_with_host"] and run["instructions_per_step"]["mean"] > 0
    assert "C on cortex-m4 vs C on host" in out
