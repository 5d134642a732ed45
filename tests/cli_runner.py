"""Run the real CLI entry point in-process and capture its exit code and streams."""

import pytest

from ltc2c.cli import main


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err
