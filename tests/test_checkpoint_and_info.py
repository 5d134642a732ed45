"""ltc2c.save checkpoints, config inference from state dicts, `info` and `targets`."""

import importlib
import json

import pytest
import torch

import ltc2c
import models
from cli_runner import run_cli
from ltc2c.load import load_model


def test_checkpoint_records_what_state_dict_does_not(tmp_path):
    cell = models.cell_linear_no_output_map()
    ltc2c.save(cell, tmp_path / "cell.pt")
    model = load_model(tmp_path / "cell.pt")
    cfg = model.config
    assert (cfg.units, cfg.inputs, cfg.outputs) == (6, 4, 2)
    assert cfg.constraints == "none" and cfg.input_mapping == "linear" and cfg.output_mapping == "none"
    ltc2c.save(models.autoncp_unfolds_12(), tmp_path / "u12.pt")
    cfg = load_model(tmp_path / "u12.pt").config
    assert cfg.ode_unfolds == 12 and cfg.wiring == "AutoNCP" and cfg.constraints == "softplus"


def test_state_dict_defaults_follow_ncps(tmp_path):
    torch.save(models.autoncp_16_2().state_dict(), tmp_path / "ltc.pt")
    cfg = load_model(tmp_path / "ltc.pt").config
    assert (cfg.ode_unfolds, cfg.epsilon, cfg.constraints) == (6, 1e-8, "softplus")
    torch.save(models.cell_linear_no_output_map().state_dict(), tmp_path / "cell.pt")
    cfg = load_model(tmp_path / "cell.pt").config
    assert cfg.constraints == "none" and cfg.outputs == 6  # M is not recorded without an output map
    assert load_model(tmp_path / "cell.pt", outputs=2).config.outputs == 2


def test_flags_override_checkpoint(tmp_path):
    ltc2c.save(models.autoncp_16_2(), tmp_path / "m.pt")
    assert load_model(tmp_path / "m.pt", ode_unfolds=3).config.ode_unfolds == 3


def test_checkpoint_loads_without_pickle(tmp_path):
    ltc2c.save(models.fully_connected_8(), tmp_path / "m.pt")
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    assert raw["ltc2c_format"] == 1 and "state_dict" in raw


def test_info(capsys, tmp_path):
    ltc2c.save(models.autoncp_16_2(), tmp_path / "m.pt")
    code, out, _ = run_cli(capsys, "info", str(tmp_path / "m.pt"))
    assert code == 0
    assert "AutoNCP" in out and "29 (density 0.113)" in out and "1274" in out and "softplus" in out
    code, out, _ = run_cli(capsys, "info", str(tmp_path / "m.pt"), "--json")
    facts = json.loads(out)
    assert facts["recurrent_synapses"] == 29 and facts["sensory_synapses"] == 13
    assert facts["parameters"] == 1274 and facts["ode_unfolds"] == 6


def test_targets_lists_host(capsys):
    code, out, _ = run_cli(capsys, "targets")
    assert code == 0
    assert out.splitlines()[1].startswith("host")
    assert "cortex-m4" in out


def test_save_is_deterministic_and_readable(tmp_path):
    module = models.autoncp_16_2()
    ltc2c.save(module, tmp_path / "a.pt")
    ltc2c.save(module, tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert (tmp_path / "a.pt").stat().st_mode & 0o044, "group/other may read it (umask permitting)"
    importlib.import_module("ltc2c.load")  # the submodule must not shadow the package's functions
    assert ltc2c.load_model(tmp_path / "a.pt").config.units == 16
