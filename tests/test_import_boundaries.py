"""The middle of the pipeline is numpy only: no torch below load, no onnxruntime outside verify."""

import subprocess
import sys

MIDDLE = ["ltc2c.ir", "ltc2c.passes", "ltc2c.reference", "ltc2c.quantize", "ltc2c.emulate", "ltc2c.codegen",
          "ltc2c.codegen.fixed", "ltc2c.data", "ltc2c.targets", "ltc2c.boards", "ltc2c.build", "ltc2c.onnx_export"]


def test_middle_modules_do_not_import_torch_or_onnxruntime():
    code = ("import sys, importlib\n"
            f"for m in {MIDDLE!r}:\n"
            "    importlib.import_module(m)\n"
            "bad = [m for m in ('torch', 'onnxruntime') if m in sys.modules]\n"
            "print(','.join(bad))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
