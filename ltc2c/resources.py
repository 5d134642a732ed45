"""Where templates/, runtime/ and hardware/ live: inside the wheel (ltc2c/_data) or beside the package in a checkout."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name):
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ltc2c resource folder '{name}' is missing from the installation")


def templates_dir():
    return _resource_dir("templates")


def runtime_dir():
    return _resource_dir("runtime")


def hardware_dir():
    return _resource_dir("hardware")
