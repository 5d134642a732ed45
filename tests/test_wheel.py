"""The built wheel carries templates/, runtime/ and hardware/ and works from another folder."""

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import torch

import models

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.wheel
def test_wheel_installs_and_compiles_elsewhere(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    wheel = next(dist.glob("ltc2c-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("ltc2c/_data/templates/model.h.j2", "ltc2c/_data/runtime/ltc2c_port.h"):
        assert needed in names
    assert any(n.startswith("ltc2c/_data/hardware/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Reuse this environment's dependencies (torch is large); a plain path line does not run the
    # editable-install hook, so `import ltc2c` must come from the wheel.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)

    work = tmp_path / "elsewhere"
    work.mkdir()
    torch.save(models.autoncp_16_2().state_dict(), work / "model.pt")
    where = subprocess.run([str(py), "-c", "import ltc2c; print(ltc2c.__file__)"], cwd=work,
                           check=True, capture_output=True, text=True).stdout
    assert str(venv) in where and str(REPO) not in where
    proc = subprocess.run([str(venv / "bin" / "ltc2c"), "-q", "compile", "model.pt", "-o", "out", "--name", "net"],
                          cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (work / "out").iterdir()} >= {"net.h", "net.c", "ltc2c_port.h"}
    proc = subprocess.run([str(venv / "bin" / "ltc2c"), "-q", "verify", "model.pt", "--steps", "50",
                           "--sequences", "1"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
