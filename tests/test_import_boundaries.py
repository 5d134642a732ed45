"""The middle of the pipeline is numpy only: no torch below load, no onnxruntime outside verify."""

import subprocess
import sys

MIDDLE = ["ltc2c.ir", "ltc2c.passes", "ltc2c.reference", "ltc2c.codegen", "ltc2c.data", "ltc2c.targets",
          "ltc2c.build", "ltc2c.onnx_export"]


def test_middle_modules_do_not_import_torch_or_onnxruntime():
    code = ("import sys, importlib\n"
            f"for m in {MIDDLE!r}:\n"
            "    try:\n        importlib.import_module(m)\n    except ModuleNotFoundError as e:\n"
            "        if e.name != m: raise\n"
            "bad = [m for m in ('torch', 'onnxruntime') if m in sys.modules]\n"
            "print(','.join(bad))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
