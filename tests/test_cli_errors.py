"""Bad input: one clear line, a non-zero exit, no traceback, nothing half-written."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import models
from cli_runner import run_cli


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "model.pt"
    torch.save(models.autoncp_16_2().state_dict(), path)
    return path


def assert_clean_error(code, err, *needles):
    assert code not in (0, None)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ltc2c: error:")
    for needle in needles:
        assert needle in lines[0], lines[0]


def compile_fails(capsys, tmp_path, model_path, *extra, needles=()):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "compile", str(model_path), "-o", str(out), *extra)
    assert_clean_error(code, err, *needles)
    assert not out.exists(), "no output folder may be left behind"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "no staging folder left"
    return err


def test_missing_file(capsys, tmp_path):
    compile_fails(capsys, tmp_path, tmp_path / "nope.pt", needles=("not found",))


def test_not_a_torch_file(capsys, tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("these are not weights\n")
    compile_fails(capsys, tmp_path, path, needles=("not",))


def test_truncated_file(capsys, tmp_path, good_model):
    path = tmp_path / "cut.pt"
    data = good_model.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    compile_fails(capsys, tmp_path, path, needles=("truncated",))


def test_state_dict_of_linear_layer(capsys, tmp_path):
    path = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    compile_fails(capsys, tmp_path, path, needles=("not an ncps LTC",))


def _edited(tmp_path, good_model, edit):
    state = torch.load(good_model, weights_only=True)
    edit(state)
    path = tmp_path / "edited.pt"
    torch.save(state, path)
    return path


def test_inconsistent_shapes(capsys, tmp_path, good_model):
    path = _edited(tmp_path, good_model, lambda s: s.__setitem__("rnn_cell.sigma", torch.zeros(16, 15)))
    compile_fails(capsys, tmp_path, path, needles=("inconsistent shapes", "sigma"))


def test_nan_parameters(capsys, tmp_path, good_model):
    def poison(state):
        state["rnn_cell.mu"][0, 0] = float("nan")
    path = _edited(tmp_path, good_model, poison)
    compile_fails(capsys, tmp_path, path, needles=("NaN", "mu"))


def test_inf_parameters(capsys, tmp_path, good_model):
    def poison(state):
        state["rnn_cell.gleak"][0] = float("inf")
    path = _edited(tmp_path, good_model, poison)
    compile_fails(capsys, tmp_path, path, needles=("Inf", "gleak"))


def test_masks_not_binary(capsys, tmp_path, good_model):
    def poison(state):
        state["rnn_cell.sparsity_mask"][0, 0] = 0.5
    path = _edited(tmp_path, good_model, poison)
    compile_fails(capsys, tmp_path, path, needles=("sparsity_mask", "0 and 1"))


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_does_not_run(capsys, tmp_path):
    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.marker = marker
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"rnn_cell.gleak": exploit}, handle)
    err = compile_fails(capsys, tmp_path, path, needles=("--trust-pickle",))
    assert not marker.exists(), "the pickle's code must not run"
    torch.save({"rnn_cell.gleak": exploit}, tmp_path / "evil2.pt")
    compile_fails(capsys, tmp_path, tmp_path / "evil2.pt", needles=("arbitrary code",))
    assert not marker.exists()
    assert "state_dict" in err


def test_whole_pickled_module_refused_then_trusted(capsys, tmp_path):
    module = models.autoncp_16_2()
    path = tmp_path / "whole.pt"
    torch.save(module, path)
    compile_fails(capsys, tmp_path, path, needles=("pickled", "state_dict", "--trust-pickle"))
    code, out, err = run_cli(capsys, "-q", "compile", str(path), "-o", str(tmp_path / "ok"), "--trust-pickle")
    assert code == 0, err
    assert (tmp_path / "ok" / "model.c").is_file()


def test_bad_name(capsys, tmp_path, good_model):
    compile_fails(capsys, tmp_path, good_model, "--name", "9lives", needles=("not a C identifier",))
    compile_fails(capsys, tmp_path, good_model, "--name", "my-net", needles=("not a C identifier",))
    compile_fails(capsys, tmp_path, good_model, "--name", "static", needles=("reserved",))


def test_zero_unfolds(capsys, tmp_path, good_model):
    compile_fails(capsys, tmp_path, good_model, "--ode-unfolds", "0", needles=("ode-unfolds",))


def test_unknown_target(capsys, tmp_path, good_model):
    compile_fails(capsys, tmp_path, good_model, "--target", "pdp11", needles=("unknown target", "host"))


def test_output_path_is_a_file(capsys, tmp_path, good_model):
    out = tmp_path / "taken"
    out.write_text("keep me")
    code, _, err = run_cli(capsys, "compile", str(good_model), "-o", str(out))
    assert_clean_error(code, err, "is a file")
    assert out.read_text() == "keep me"


def test_data_with_wrong_feature_count(capsys, tmp_path, good_model):
    data = tmp_path / "data.npy"
    np.save(data, np.zeros((10, 5)))
    code, _, err = run_cli(capsys, "-q", "verify", str(good_model), "--data", str(data),
                           "--json", str(tmp_path / "r.json"))
    assert_clean_error(code, err, "5 features", "takes 3")
    assert not (tmp_path / "r.json").exists()


def test_mixed_memory_not_supported(capsys, tmp_path):
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP

    path = tmp_path / "mixed.pt"
    torch.save(LTC(3, AutoNCP(12, 2), mixed_memory=True).state_dict(), path)
    compile_fails(capsys, tmp_path, path, needles=("mixed_memory", "not supported yet"))


def test_cfc_not_supported(capsys, tmp_path):
    from ncps.torch import CfC

    path = tmp_path / "cfc.pt"
    torch.save(CfC(3, 8).state_dict(), path)
    compile_fails(capsys, tmp_path, path, needles=("CfC", "not supported yet"))


def test_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ltc2c", "--debug", "info", str(tmp_path / "nope.pt")],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_real_entry_point_error_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ltc2c", "info", str(tmp_path / "nope.pt")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "Traceback" not in proc.stderr
