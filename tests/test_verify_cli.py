"""`ltc2c verify` end to end on the host: table, JSON, plot, exit codes."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import ltc2c
import models
from cli_runner import run_cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "models"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "model.pt"
    ltc2c.save(models.autoncp_16_2(), path)
    return path


def test_verify_passes_and_writes_reports(capsys, tmp_path, model_path):
    report_path, plot_path = tmp_path / "r.json", tmp_path / "p.png"
    code, out, _ = run_cli(capsys, "-q", "verify", str(model_path), "--steps", "200", "--sequences", "2",
                           "--dt", "0.2:2.0", "--json", str(report_path), "--plot", str(plot_path))
    assert code == 0, out
    assert "C vs ncps" in out and "onnxruntime vs ncps" in out and "PASS" in out
    report = json.loads(report_path.read_text())
    assert report["passed"] and report["reference"] == "ncps"
    names = {(p["a"], p["b"]) for p in report["pairs"]}
    assert {("C", "ncps"), ("onnxruntime", "ncps"), ("C", "onnxruntime")} <= names
    assert all(p["max_abs"] <= 1e-5 for p in report["pairs"])
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verify_outside_tolerance_exits_3_with_report(capsys, tmp_path, model_path):
    report_path = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "-q", "verify", str(model_path), "--steps", "50", "--sequences", "1",
                           "--tolerance", "1e-15", "--no-onnx", "--json", str(report_path))
    assert code == 3
    assert "FAIL" in out
    assert json.loads(report_path.read_text())["passed"] is False


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv"])
def test_verify_reads_data_files(capsys, tmp_path, model_path, suffix):
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(60, 3))
    path = tmp_path / f"data{suffix}"
    if suffix == ".npy":
        np.save(path, inputs)
    elif suffix == ".npz":
        np.savez(path, inputs=inputs[None], elapsed_time=rng.uniform(0.5, 1.5, size=(1, 60)))
    else:
        np.savetxt(path, inputs, delimiter=",", header="a,b,c", comments="")
    code, out, _ = run_cli(capsys, "-q", "verify", str(model_path), "--data", str(path), "--no-onnx")
    assert code == 0, out
    assert "1 sequences x 60 steps" in out
    if suffix == ".npz":
        assert "per step" in out


def test_compile_then_export_onnx(capsys, tmp_path, model_path):
    code, _, err = run_cli(capsys, "-q", "export-onnx", str(model_path), "-o", str(tmp_path / "m.onnx"))
    assert code == 0, err
    code, _, err = run_cli(capsys, "-q", "export-onnx", str(model_path), "--step", "-o", str(tmp_path / "s.onnx"))
    assert code == 0, err
    import onnx

    assert any(n.op_type == "Scan" for n in onnx.load(str(tmp_path / "m.onnx")).graph.node)
    assert not any(n.op_type == "Scan" for n in onnx.load(str(tmp_path / "s.onnx")).graph.node)


def test_state_dict_and_checkpoint_compile_identically(capsys, tmp_path):
    module = models.autoncp_16_2()
    torch.save(module.state_dict(), tmp_path / "sd.pt")
    for src, out in (("sd.pt", "a"), ("sd.pt", "b")):
        code, _, err = run_cli(capsys, "-q", "compile", str(tmp_path / src), "-o", str(tmp_path / out), "--name", "net")
        assert code == 0, err
    assert (tmp_path / "a" / "net.c").read_bytes() == (tmp_path / "b" / "net.c").read_bytes()


@pytest.mark.parametrize("quant", ["int16", "int8"])
def test_verify_integer_builds(capsys, tmp_path, quant):
    model_path = str(EXAMPLE / "sine_ltc.pt")
    report_path = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "-q", "verify", model_path, "--quant", quant, "--steps", "300",
                           "--sequences", "2", "--dt", "0.5:2.0", "--calib", str(EXAMPLE / "sine_inputs.npz"),
                           "--no-onnx", "--json", str(report_path))
    assert code == 0, out
    report = json.loads(report_path.read_text())
    exact = next(p for p in report["pairs"] if p["b"] == "emulator")
    assert exact["passed"] and exact["max_abs"] == 0
    labels = {(p["a"], p["b"]) for p in report["pairs"]}
    assert ("C", "ncps") in labels
    if quant == "int8":
        assert ("C", "dequantized float") in labels
    assert report["details"]["emulator"]["mismatching_values"] == 0


def test_verify_quant_all_table(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "-q", "verify", str(EXAMPLE / "sine_ltc.pt"), "--quant", "all", "--steps", "200",
                           "--sequences", "1", "--no-onnx", "--json", str(tmp_path / "all.json"))
    assert code == 0, out
    rows = json.loads((tmp_path / "all.json").read_text())["comparison"]
    assert [r["quant"] for r in rows] == ["float32", "int16", "int8"]
    assert rows[0]["max_abs"] < rows[1]["max_abs"] < rows[2]["max_abs"]
    assert "const B" in out
