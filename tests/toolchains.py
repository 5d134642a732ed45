"""Toolchain presence: a missing tool skips locally but fails in CI (CI=true)."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(tool):
    path = shutil.which(tool)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} is required in CI but not installed (run `make setup`)")
        pytest.skip(f"{tool} not installed")
    return path
