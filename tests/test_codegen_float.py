"""Generated float32 C: API names, determinism, strict warnings on every compiler we have."""

import re
import subprocess

import pytest
import torch

import models
from ltc2c import codegen
from ltc2c.load import load_model
from ltc2c.passes import fold
from toolchains import require

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


@pytest.fixture(scope="module")
def folded(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "model.pt"
    torch.save(models.autoncp_16_2().state_dict(), path)
    return fold(load_model(path))


def test_api_names_follow_name(folded):
    files = codegen.render(folded, "mynet")
    assert set(files) == {"mynet.h", "mynet.c", "ltc2c_math.h", "ltc2c_port.h"}
    header = files["mynet.h"]
    for symbol in ("#define MYNET_INPUT_SIZE  3", "#define MYNET_OUTPUT_SIZE 2", "#define MYNET_STATE_SIZE  16",
                   "} mynet_state_t;", "void mynet_reset(mynet_state_t *s);", "void mynet_step(mynet_state_t *s",
                   "void mynet_step_dt(mynet_state_t *s"):
        assert symbol in header
    source = files["mynet.c"]
    assert "malloc" not in source and "stdio" not in source and "<math.h>" not in source
    assert re.search(r"static LTC2C_CONST mynet_synapse_t recurrent_synapses\[29\]", source)


def test_same_input_same_bytes(folded, tmp_path):
    first = codegen.render(folded, "mynet")
    second = codegen.render(fold(load_model(_resave(tmp_path))), "mynet")
    assert first == second
    text = "".join(first.values())
    assert str(tmp_path) not in text and "/tmp" not in text and "/home" not in text
    assert not re.search(r"20\d\d-\d\d-\d\d", text), "no dates in generated files"


def _resave(tmp_path):
    path = tmp_path / "model.pt"  # torch.save embeds the file stem
    torch.save(models.autoncp_16_2().state_dict(), path)
    return path


@pytest.mark.parametrize("compiler,extra", [
    ("gcc", []), ("clang", []),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]),
])
def test_strict_warnings(folded, tmp_path, compiler, extra):
    cc = require(compiler)
    out = tmp_path / "out"
    codegen.write_output(codegen.render(folded, "mynet"), out)
    sources = sorted(str(p) for p in out.glob("*.c"))
    proc = subprocess.run([cc, *STRICT, *extra, "-O2", "-I", str(out), "-c", *sources, "-o", str(tmp_path / "m.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_write_output_replaces_folder_atomically(folded, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.c").write_text("old")
    codegen.write_output(codegen.render(folded, "mynet"), out)
    assert sorted(p.name for p in out.iterdir()) == ["ltc2c_math.h", "ltc2c_port.h", "mynet.c", "mynet.h"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
