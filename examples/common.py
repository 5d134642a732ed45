"""Shared plumbing of the example scripts (examples/train_sine.py, digits/train.py, halfcheetah/train.py).

* seeding, the common command line, the training loop, saving, deterministic JSON;
* a calibration subset of the training inputs (small enough to ship, same per-feature range);
* ``evaluate``: the ltc2c half of every example. It
  (a) compiles the model with ``ltc2c.api.compile_model`` for cortex-m4 (its default int16) into
      OUT/c_cortex_m4, calibrated on the training inputs;
  (b) runs ``ltc2c.verify.verify_model`` (what ``ltc2c verify --quant int16`` runs) on the held-out
      sequences and writes its report to OUT/verify_int16.json;
  (c) scores the task metric on the held-out split for the float model (ncps, verify's reference)
      and for the generated C at float32 / int16 / int8, each built and run with
      ``ltc2c.verify.harness.build_harness`` / ``run_harness`` (the harness verify uses);
  (d) runs the same C on cortex-m4 in QEMU with ``ltc2c.verify.target.run_on_target`` when QEMU and
      arm-none-eabi-gcc are usable;
  (e) writes OUT/metrics.json and a plot (PNG).

Everything written into OUT except timings.json and build/ is deterministic (same inputs, same bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny RNNs train ~20x faster on one thread
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np

TARGET = "cortex-m4"
C_DIR = "c_cortex_m4"  # the int16 sources `ltc2c compile --target cortex-m4` writes
QUANTS = ("float32", "int16", "int8")
TIMINGS_FILE = "timings.json"  # wall-clock times: not deterministic, not committed


# ----------------------------------------------------------------------------- training plumbing

def seed_everything(seed: int) -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_parser(doc: str, default_out: Path, *, epochs: int, quick_epochs: int, lr: float,
                batch: int | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="train for a few seconds on a subset (CI smoke test)")
    p.add_argument("--out", default=str(default_out), help=f"output folder (default: {_rel(default_out)})")
    p.add_argument("--epochs", type=int, default=None, help=f"epochs (default {epochs}, or {quick_epochs} with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=lr)
    if batch is not None:
        p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--verbose", action="store_true", help="print every epoch")
    p.add_argument("--eval-only", action="store_true",
                   help="skip training: compile, verify and score the model already in --out")
    p.add_argument("--no-qemu", action="store_true", help="host only: skip the QEMU cortex-m4 run")
    p.set_defaults(_epochs=(epochs, quick_epochs))
    return p


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    full, quick = args._epochs
    if args.epochs is None:
        args.epochs = quick if args.quick else full
    del args._epochs
    return args


def fit(model, x: np.ndarray, y: np.ndarray, loss_fn: Callable, args, *, batch: int, cosine: bool,
        log_every: int, report: Callable | None = None) -> float:
    """Adam on shuffled minibatches (torch.Generator seeded with args.seed), optionally with cosine
    decay to 5% of args.lr. Prints the mean training loss every log_every epochs (and the last),
    followed by report(model) if given. -> training seconds."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs, eta_min=args.lr * 0.05)
             if cosine else None)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            pred, _ = model(xt[idx])
            loss = loss_fn(pred, yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if sched is not None:
            sched.step()
        if args.verbose or epoch == args.epochs - 1 or epoch % log_every == 0:
            extra = f"  {report(model)}" if report else ""
            print(f"epoch {epoch + 1:3d}/{args.epochs}  train loss {total / len(xt):.5f}{extra}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    model.eval()
    return time.perf_counter() - start


def mse_loss(pred, target):
    """Mean squared error over every step and output (the sine and HalfCheetah training loss)."""
    import torch

    return torch.mean((pred - target) ** 2)


def model_mse(model, x: np.ndarray, y: np.ndarray) -> float:
    """Float (PyTorch) MSE of model(x) [N,T,M] against y, in eval mode."""
    import torch

    model.eval()
    with torch.no_grad():
        pred, _ = model(torch.from_numpy(x))
    return float(mse_loss(pred, torch.from_numpy(y)))


def save_artifacts(out: Path, model, model_file: str, calib_file: str, x_train: np.ndarray) -> Path:
    """mkdir OUT, save the checkpoint OUT/MODEL_FILE and the calibration subset OUT/CALIB_FILE. -> OUT."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_model(model, out / model_file)
    save_calibration(out / calib_file, x_train)
    return out


def parameter_count(model) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def save_model(model, path: Path) -> Path:
    import ltc2c

    ltc2c.save(model, path)
    os.chmod(path, 0o644)
    return path


def write_json(path: Path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def record_timings(out: Path, **seconds) -> None:
    """Merge wall-clock times into OUT/timings.json (kept out of the deterministic files)."""
    path = Path(out) / TIMINGS_FILE
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update({k: round(float(v), 2) for k, v in seconds.items()})
    write_json(path, data)


def calibration_subset(x: np.ndarray, n_random: int = 16, seed: int = 0) -> np.ndarray:
    """Training sequences that hold every feature's minimum and maximum, plus n_random seeded others.

    ltc2c's calibration fits each input's fixed-point format to its largest |value|, so this subset
    calibrates exactly as the whole training set does, at a size that can ship with the example."""
    flat = x.reshape(len(x), -1, x.shape[-1])
    keep = set(np.argmax(flat.max(axis=1), axis=0).tolist()) | set(np.argmin(flat.min(axis=1), axis=0).tolist())
    rng = np.random.default_rng(seed)
    keep |= set(rng.choice(len(x), size=min(n_random, len(x)), replace=False).tolist())
    return np.ascontiguousarray(x[sorted(keep)], dtype=np.float32)


def save_calibration(path: Path, x_train: np.ndarray) -> Path:
    np.savez_compressed(path, inputs=calibration_subset(x_train))
    return path


def require_files(*paths) -> None:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} not found: run the script without --eval-only to train "
                         "(or pass the --out folder that holds the model)")


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------- ltc2c evaluation

@dataclass
class Task:
    """What an example measures. score(outputs [S,T,M] float64) -> the task metric."""

    name: str  # C prefix of the generated code (NAME_step, NAME.h)
    metric: str  # "accuracy" or "mse"
    score: Callable[[np.ndarray], float]
    # quant -> (kind, limit): "points" = |metric - float| <= limit (accuracy as a fraction),
    # "relative" = |metric - float| / float <= limit
    acceptance: dict = field(default_factory=dict)
    plot: Callable | None = None  # plot(outputs {label: [S,T,M]}, path)
    plot_file: str = ""
    extra: Callable | None = None  # extra(outputs {label: [S,T,M]}) -> dict merged into metrics.json


def mse_score(targets: np.ndarray) -> Callable[[np.ndarray], float]:
    """Task.score for the regression examples: MSE in float64 against targets [S,T,M]."""
    targets = np.asarray(targets, dtype=np.float64)
    return lambda outputs: float(np.mean((np.asarray(outputs, dtype=np.float64) - targets) ** 2))


def run(args: argparse.Namespace, train: Callable, make_task: Callable, *, model_file: str, split_file: str,
        calib_file: str) -> int:
    """Every script's main: train(args) unless --eval-only, then evaluate the model in --out. -> 0."""
    out = Path(args.out)
    if not args.eval_only:
        train(args)
    evaluate(out / model_file, out / split_file, out / calib_file, out, make_task, qemu=not args.no_qemu,
             quick=args.quick)
    return 0


def _readable(path: Path) -> None:
    """ltc2c writes through mkstemp/mkdtemp (owner-only modes): make shipped files ordinary ones."""
    path = Path(path)
    os.chmod(path, 0o755 if path.is_dir() else 0o644)
    if path.is_dir():
        for child in path.iterdir():
            os.chmod(child, 0o644)


def _fixed_io():
    from ltc2c.verify import fixed_parity

    return fixed_parity.q_harness_io()


def _quantized(folded, quant, calib):
    from ltc2c.quantize import quantize

    return quantize(folded, quant, calib_inputs=calib.inputs)


def _wire_inputs(qmodel, inputs):
    """What the harness feeds the C: float inputs for float32, emulate.quantize_inputs for the
    integer API (exactly what `ltc2c verify` feeds it)."""
    if qmodel is None:
        return inputs
    from ltc2c import emulate

    return emulate.quantize_inputs(qmodel, inputs)


def _from_wire(qmodel, outputs):
    if qmodel is None:
        return np.asarray(outputs, dtype=np.float64)
    from ltc2c import emulate

    return emulate.dequantize_outputs(qmodel, outputs)


def run_c_on_host(src_dir: Path, name: str, quant: str, qmodel, inputs: np.ndarray, workdir: Path):
    """Build SRC_DIR with ltc2c's host harness and run it on float inputs [S,T,I] (the default elapsed
    time every step). -> outputs [S,T,M] float64 (dequantized for int16/int8)."""
    from ltc2c.verify import harness

    io = harness.FLOAT_IO if quant == "float32" else _fixed_io()
    header = (Path(src_dir) / f"{name}.h").read_text()
    n_out, n_state = _header_sizes(header, name)
    exe = harness.build_harness(src_dir, name, workdir, io=io)
    out, _ = harness.run_harness(exe, _wire_inputs(qmodel, inputs), None, n_out, n_state, io=io)
    return _from_wire(qmodel, out), out


def _header_sizes(header, name):
    from ltc2c.codegen import macro_prefix
    from ltc2c.verify.target import header_macro

    prefix = macro_prefix(name)
    return header_macro(header, f"{prefix}_OUTPUT_SIZE"), header_macro(header, f"{prefix}_STATE_SIZE")


def qemu_status() -> tuple[bool, str]:
    """(usable, reason): the cortex-m4 QEMU board and cross compiler are installed and
    ltc2c.verify.target imports."""
    try:
        from ltc2c.targets import get_target
        from ltc2c.verify import target as _target  # noqa: F401

        tgt = get_target(TARGET)
        system, compiler = tgt.qemu_system, tgt.compiler
    except Exception as exc:  # the targets module is still moving: report, do not fail
        return False, f"ltc2c.verify.target unavailable: {type(exc).__name__}: {exc}"
    missing = [tool for tool in (system, compiler) if not tool or not shutil.which(tool)]
    if missing:
        return False, f"not installed: {', '.join(missing)}"
    return True, f"{system} ({tgt.qemu_board})"


def run_c_on_qemu(src_dir: Path, name: str, quant: str, qmodel, inputs: np.ndarray, workdir: Path):
    """The same C and inputs as run_c_on_host, on cortex-m4 in QEMU.
    -> (outputs float64, wire outputs, instructions per step (mean))."""
    from ltc2c.verify import harness, target

    io = harness.FLOAT_IO if quant == "float32" else _fixed_io()
    out, _, counts = target.run_on_target(src_dir, name, TARGET, _wire_inputs(qmodel, inputs), None, io,
                                          workdir=workdir)
    return _from_wire(qmodel, out), out, (None if counts is None else counts.mean)


def _delta(task: Task, value: float, ref: float) -> dict:
    if task.metric == "accuracy":
        return {"delta_points": round(100.0 * (value - ref), 6)}
    return {"delta_relative_percent": round(100.0 * (value - ref) / ref, 6) if ref else None}


def _acceptance(task: Task, results: dict, ref: float) -> dict:
    verdicts = {}
    for quant, (kind, limit) in task.acceptance.items():
        value = results[quant][task.metric]
        if kind == "points":
            err, text = abs(value - ref), f"|{task.metric} - float| <= {100 * limit:g} percentage points"
        else:
            err, text = abs(value - ref) / ref, f"|{task.metric} - float| / float <= {100 * limit:g} %"
        verdicts[quant] = {"criterion": text, "passed": bool(err <= limit + 1e-12)}
    return verdicts


def evaluate(model_path: Path, data_path: Path, calib_path: Path, out_dir: Path,
             make_task: Callable[[dict], Task], *, qemu: bool = True, quick: bool = False) -> dict:
    """Compile, verify and score MODEL_PATH on DATA_PATH (key `inputs`), calibrated on CALIB_PATH;
    the Task is make_task(the arrays of DATA_PATH, e.g. `targets` or `labels`).
    Writes OUT_DIR/c_cortex_m4/, verify_int16.json, metrics.json and the plot. -> metrics dict."""
    import ltc2c
    from ltc2c import api, passes
    from ltc2c.data import load_sequences
    from ltc2c.verify import verify_model
    from ltc2c.verify.report import write_json as write_report

    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    model_path, data_path, calib_path = Path(model_path), Path(data_path), Path(calib_path)
    require_files(model_path, data_path, calib_path)
    with np.load(data_path) as archive:
        task = make_task({key: archive[key] for key in archive.files})
    build = out_dir / "build"  # harness binaries and the float32/int8 sources: scratch
    model = ltc2c.load_model(model_path)
    folded = passes.fold(model)
    test = load_sequences(data_path, folded.inputs)
    calib = load_sequences(calib_path, folded.inputs)
    timings = {}

    # (a) ltc2c compile MODEL --target cortex-m4 --calib CALIB -o OUT/c_cortex_m4 --name NAME
    print(f"[ltc2c] compile {model_path.name} for {TARGET} (int16) -> {C_DIR}/", flush=True)
    sources = {}
    compiled = {}
    for quant in QUANTS:
        src = out_dir / C_DIR if quant == "int16" else build / f"{C_DIR}_{quant}"
        summary = api.compile_model(model, src, name=task.name, target=TARGET,
                                    quant=None if quant == "int16" else quant, calib=calib)
        assert summary["quant"] == quant, summary["quant"]
        sources[quant] = src
        compiled[quant] = summary
    _readable(out_dir / C_DIR)
    qmodels = {q: (None if q == "float32" else _quantized(folded, q, calib)) for q in QUANTS}

    # (b) ltc2c verify MODEL --data DATA --quant int16 --calib CALIB (host)
    print(f"[ltc2c] verify --quant int16 on {test.count} held-out sequences x {test.steps} steps", flush=True)
    t0 = time.perf_counter()
    report, series = verify_model(model, test, name=task.name, quant="int16", calib=calib)
    write_report(report, out_dir / "verify_int16.json")
    _readable(out_dir / "verify_int16.json")
    timings["verify_seconds"] = time.perf_counter() - t0
    reference = series["outputs"][report["reference"]]  # the float model, run by ncps

    # (c) task metric: float model and the generated C through ltc2c's host harness
    outputs = {"float": reference}
    host, wire = {}, {}
    for quant in QUANTS:
        t0 = time.perf_counter()
        y, wire[quant] = run_c_on_host(sources[quant], task.name, quant, qmodels[quant], test.inputs,
                                       build / f"host_{quant}")
        timings[f"host_{quant}_seconds"] = time.perf_counter() - t0
        outputs[f"C {quant}"] = y
    ref_score = float(task.score(reference))
    for quant in QUANTS:
        value = float(task.score(outputs[f"C {quant}"]))
        host[quant] = {task.metric: value, **_delta(task, value, ref_score)}
    verify_c = series["outputs"]["C"]
    host["int16"]["identical_to_verify"] = bool(np.array_equal(verify_c, outputs["C int16"]))

    # (d) the same C on cortex-m4 in QEMU
    usable, reason = qemu_status() if qemu else (False, "skipped (--no-qemu)")
    on_target = None
    if usable:
        on_target = {}
        for quant in QUANTS:
            print(f"[ltc2c] QEMU {TARGET}: {quant}", flush=True)
            t0 = time.perf_counter()
            try:
                y, w, ips = run_c_on_qemu(sources[quant], task.name, quant, qmodels[quant], test.inputs,
                                          build / f"qemu_{quant}")
            except Exception as exc:  # report and continue host-only for this format
                on_target[quant] = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
                continue
            timings[f"qemu_{quant}_seconds"] = time.perf_counter() - t0
            value = float(task.score(y))
            on_target[quant] = {task.metric: value, **_delta(task, value, ref_score),
                                "identical_to_host": bool(np.array_equal(w, wire[quant])),
                                "max_abs_vs_host": float(np.max(np.abs(y - outputs[f"C {quant}"]))),
                                "instructions_per_step": None if ips is None else round(ips, 1)}

    # (d') ltc2c verify --quant int16 --target cortex-m4: verify's own QEMU run (bit-exact vs host)
    verify_target = None
    if usable:
        print(f"[ltc2c] verify --quant int16 --target {TARGET} (QEMU)", flush=True)
        t0 = time.perf_counter()
        try:
            t_report, _ = verify_model(model, test, name=task.name, quant="int16", calib=calib, target=TARGET,
                                       with_onnx=False)
        except Exception as exc:  # the on-target verify is new: report, do not fail the example
            verify_target = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        else:
            run = t_report.get("details", {}).get("target_run")
            if run is None:
                verify_target = {"error": "this ltc2c's verify_model did not run on the target"}
            else:
                write_report(t_report, out_dir / f"verify_int16_{C_DIR[2:]}.json")
                _readable(out_dir / f"verify_int16_{C_DIR[2:]}.json")
                verify_target = {"report": f"verify_int16_{C_DIR[2:]}.json", "passed": t_report["passed"],
                                 "board": run.get("board"), "bit_exact_with_host": run.get("bit_exact_with_host"),
                                 "stack_bytes_measured": run.get("stack_bytes_measured"),
                                 "pairs": [{k: p[k] for k in ("a", "b", "max_abs", "max_rel_range", "passed")}
                                           for p in t_report["pairs"]]}
        timings["verify_target_seconds"] = time.perf_counter() - t0

    metrics = {
        "example": task.name,
        "metric": task.metric,
        "quick": bool(quick),
        "model_file": Path(model_path).name,
        "model_sha256": model.source_sha256,
        "model": passes.summary(model, folded),
        "held_out": {"file": Path(data_path).name, "sequences": test.count, "steps": test.steps},
        "calibration": {"file": Path(calib_path).name, "sequences": calib.count,
                        "note": "training sequences holding each input's min and max plus 16 seeded others"},
        "target": TARGET,
        "compile": {"out": C_DIR, "quant": compiled["int16"]["quant"], "files": compiled["int16"]["files"],
                    "warnings": compiled["int16"]["warnings"],
                    "int8_warnings": compiled["int8"]["warnings"]},
        "float": {task.metric: ref_score, "reference": report["reference"]},
        "host": host,
        "qemu": on_target,
        "qemu_status": reason if usable else f"not run: {reason}",
        "acceptance": None if quick else _acceptance(task, host, ref_score),
        "verify_int16": {"report": "verify_int16.json", "passed": report["passed"],
                         "pairs": [{k: p[k] for k in ("a", "b", "max_abs", "max_rel_range", "rms_rel_range", "passed")}
                                   for p in report["pairs"]]},
        "verify_int16_qemu": verify_target,
        "ltc2c": ltc2c.__version__,
    }
    if on_target and not quick and all(task.metric in r for r in on_target.values()):
        metrics["acceptance_qemu"] = _acceptance(task, on_target, ref_score)
    if task.extra:
        metrics.update(task.extra(outputs))
    if task.plot:
        task.plot(outputs, out_dir / task.plot_file)
        metrics["plot"] = task.plot_file
    write_json(out_dir / "metrics.json", metrics)
    timings["evaluate_seconds"] = time.perf_counter() - t_start
    record_timings(out_dir, **timings)
    print_table(metrics)
    return metrics


def print_table(metrics: dict) -> None:
    name, metric = metrics["example"], metrics["metric"]
    fmt = (lambda v: f"{100 * v:.2f} %") if metric == "accuracy" else (lambda v: f"{v:.5f}")
    print(f"{name}: {metric} on {metrics['held_out']['sequences']} held-out sequences")
    print(f"  {'':<14}{'host':>12}{'QEMU ' + TARGET:>18}")
    print(f"  {'float (ncps)':<14}{fmt(metrics['float'][metric]):>12}{'':>18}")
    for quant in QUANTS:
        q = (metrics["qemu"] or {}).get(quant, {})
        on_target = fmt(q[metric]) if metric in q else "-"
        print(f"  {'C ' + quant:<14}{fmt(metrics['host'][quant][metric]):>12}{on_target:>18}")
    if metrics["qemu"] is None:
        print(f"  QEMU {metrics['qemu_status']}")
    for quant, verdict in (metrics.get("acceptance") or {}).items():
        print(f"  acceptance {quant}: {verdict['criterion']}: {'PASS' if verdict['passed'] else 'FAIL'}")


def savefig(fig, path: Path, dpi: int = 100) -> None:
    """Deterministic PNG: no software/version metadata."""
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    os.chmod(path, 0o644)
