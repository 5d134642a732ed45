"""The generated header publishes state and stack sizes; they match the measurement on the target."""

import numpy as np
import pytest
import torch

import models
from ltc2c import api
from ltc2c.build import build_target
from ltc2c.data import Sequences
from ltc2c.load import load_model
from ltc2c.verify.target import header_macro, run_on_target_report
from toolchains import require


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("sizes") / "model.pt"
    torch.save(models.autoncp_16_2().state_dict(), path)
    return load_model(path)


@pytest.mark.parametrize("target,quant", [("cortex-m4", "int16"), ("cortex-m4f", "float32"), ("riscv32", "int8")])
def test_header_sizes_match_measurement(tmp_path, model, target, quant):
    require("arm-none-eabi-gcc" if target.startswith("cortex") else "riscv64-unknown-elf-gcc")
    calib = Sequences(np.random.default_rng(0).normal(size=(1, 200, 3)))
    summary = api.compile_model(model, tmp_path / "out", name="net", target=target, quant=quant, calib=calib)
    header = (tmp_path / "out" / "net.h").read_text()
    stack, state = header_macro(header, "NET_STACK_BYTES"), header_macro(header, "NET_STATE_BYTES")
    assert summary["stack_bytes"] == stack
    report = build_target(tmp_path / "out", target, name="net", build_dir=tmp_path / "build")
    assert report["ram"]["stack"] == stack
    assert report["state_bytes"] == state
    require("qemu-system-arm" if target.startswith("cortex") else "qemu-system-riscv32")
    inputs = np.zeros((1, 20, 3), dtype=np.float32 if quant == "float32" else np.int16)
    run = run_on_target_report(tmp_path / "out", "net", target, inputs, count=False)
    assert run.stack_bytes <= stack, "the published stack must cover what the step really uses"


def test_host_header_has_state_bytes_only(tmp_path, model):
    api.compile_model(model, tmp_path / "out", name="net")
    header = (tmp_path / "out" / "net.h").read_text()
    assert header_macro(header, "NET_STATE_BYTES") == 16 * 4
    assert "NET_STACK_BYTES" not in header
