"""Turn a parity report into a text table, a JSON file and a PNG plot."""

import json
import os
import tempfile
from pathlib import Path

from ..errors import UsageError


def _atomic_write(path, data, mode="w"):
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder", "pass a file name")
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, mode) as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def text_table(report):
    lines = []
    seq = report["sequences"]
    lines.append(f"model: {report['model']['neurons']} neurons, {report['model']['inputs']} inputs, "
                 f"{report['model']['outputs']} outputs; quant {report['quant']}, target {report['target']}")
    lines.append(f"data: {seq['count']} sequences x {seq['steps']} steps ({seq['source']}), "
                 f"elapsed time {seq['elapsed_time']}")
    header = f"{'pair':<28}{'max abs':>12}{'rms':>12}{'max/range':>12}{'tolerance':>12}  result"
    lines += [header, "-" * len(header)]
    for pair in report["pairs"]:
        tol = pair.get("tolerance")
        rel = pair.get("tolerance_rel_range")
        if tol is not None:
            tol_text = f"{tol:12.3g}"
        elif rel:
            tol_text = f"{format(rel['max'], '.0e') + ' x R':>12}"
        else:
            tol_text = f"{'(info)':>12}"
        status = "ok" if pair["passed"] else "FAIL"
        if pair.get("exact") is not None:
            status += f" ({pair['exact']})"
        lines.append(f"{pair['a'] + ' vs ' + pair['b']:<28}{pair['max_abs']:12.3g}{pair['rms']:12.3g}"
                     f"{pair['max_rel_range']:12.3g}{tol_text}  {status}")
    run = report.get("details", {}).get("target_run")
    if run:
        counts = run.get("instructions_per_step") or {}
        lines.append(f"on {run['target']} ({run['board']} in QEMU): "
                     f"{counts.get('mean', float('nan')):.0f} instructions per step "
                     f"(min {counts.get('min', '-')}, max {counts.get('max', '-')}), "
                     f"stack used {run['stack_bytes_measured']} B")
    if any(p.get("tolerance_rel_range") for p in report["pairs"]):
        lines.append("R = each output's range; max/range and rms/range are checked against it")
    for note in report.get("notes", []):
        lines.append(f"note: {note}")
    lines.append("PASS: all pairs within tolerance" if report["passed"] else "FAIL: outside tolerance")
    return "\n".join(lines)


def write_json(report, path):
    _atomic_write(path, json.dumps(report, indent=2, sort_keys=True) + "\n")


def write_plot(report, series, path):
    """Traces of the first sequence's first output and the per-step error of every pair."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib", "pip install 'ltc2c[plot]'") from None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, outputs in series["outputs"].items():
        top.plot(outputs[0, :, 0], label=label, linewidth=1.0)
    top.set_ylabel("output 0, sequence 0")
    top.legend(loc="upper right", fontsize=8)
    for label, per_step in series["errors"].items():
        bottom.semilogy(per_step + 1e-12, label=label, linewidth=0.8)
    bottom.set_ylabel("max |error| per step")
    bottom.set_xlabel("step")
    bottom.legend(loc="upper right", fontsize=8)
    fig.suptitle(f"ltc2c verify: quant {report['quant']}, target {report['target']}")
    fig.tight_layout()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, metadata={"Software": None})
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def comparison_table(report):
    seq = report["sequences"]
    lines = [f"model: {report['model']['neurons']} neurons, {report['model']['inputs']} inputs, "
             f"{report['model']['outputs']} outputs; reference {report['reference']}",
             f"data: {seq['count']} sequences x {seq['steps']} steps ({seq['source']}), elapsed time {seq['elapsed_time']}"]
    header = f"{'quant':<9}{'max abs':>11}{'max/range':>11}{'rms/range':>11}{'drift':>8}{'const B':>9}  C vs emulator / result"
    lines += [header, "-" * len(header)]
    for row in report["comparison"]:
        exact = row["emulator_mismatches"] or "-"
        lines.append(f"{row['quant']:<9}{row['max_abs']:11.3g}{row['max_rel_range']:11.3g}{row['rms_rel_range']:11.3g}"
                     f"{row['drift']:8.2f}{row['const_bytes_estimate']:9d}  {exact} / {'ok' if row['passed'] else 'FAIL'}")
    lines.append("PASS: every format within its tolerance" if report["passed"] else "FAIL: outside tolerance")
    return "\n".join(lines)
