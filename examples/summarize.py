"""Print the examples' results table (Markdown) from their metrics.json files.

Usage: python examples/summarize.py [examples/models examples/digits examples/halfcheetah]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = (HERE / "models", HERE / "digits", HERE / "halfcheetah")
TITLES = {"sine": "Sine quickstart (MSE)", "digits": "Digits (accuracy)", "cheetah": "HalfCheetah-v5 (MSE, normalised)"}
QUANTS = ("float32", "int16", "int8")


def fmt(metric, value):
    return f"{100 * value:.2f} %" if metric == "accuracy" else f"{value:.5f}"


def delta(metric, row):
    if metric == "accuracy":
        return f"{row['delta_points']:+.2f} pt"
    return f"{row['delta_relative_percent']:+.2f} %"


def table(folders) -> str:
    lines = ["| example | float (ncps) | C float32 host | C int16 host | C int8 host | QEMU cortex-m4 float32 / int16 / int8 |",
             "|---|---|---|---|---|---|"]
    for folder in folders:
        m = json.loads((Path(folder) / "metrics.json").read_text())
        metric = m["metric"]
        cells = [f"{fmt(metric, m['host'][q][metric])} ({delta(metric, m['host'][q])})" for q in QUANTS]
        if m["qemu"]:
            qemu = " / ".join(fmt(metric, m["qemu"][q][metric]) if metric in m["qemu"][q] else "error" for q in QUANTS)
            same = all(m["qemu"][q].get("identical_to_host") for q in ("int16", "int8"))
            qemu += " (int16/int8 bit-identical to host)" if same else ""
        else:
            qemu = m["qemu_status"]
        lines.append(f"| {TITLES.get(m['example'], m['example'])}, {m['held_out']['sequences']} held-out sequences "
                     f"| {fmt(metric, m['float'][metric])} | " + " | ".join(cells) + f" | {qemu} |")
    return "\n".join(lines)


def cost_table(folders) -> str:
    """Instructions per step call on cortex-m4 in QEMU (exact counts from ltc2c's QEMU plugin)."""
    lines = ["| example | float32 (soft float) | int16 | int8 |", "|---|---|---|---|"]
    for folder in folders:
        m = json.loads((Path(folder) / "metrics.json").read_text())
        if not m["qemu"]:
            continue
        cells = [f"{m['qemu'][q]['instructions_per_step']:,.0f}" if m["qemu"][q].get("instructions_per_step")
                 else "-" for q in QUANTS]
        lines.append(f"| {TITLES.get(m['example'], m['example']).split(' (')[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    folders = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or list(DEFAULT)
    print(table(folders))
    print()
    print(cost_table(folders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
