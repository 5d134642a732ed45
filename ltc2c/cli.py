"""The ltc2c command line. Thin: parses options, calls ltc2c.api / ltc2c.verify, prints, exits.

Exit codes: 0 ok, 1 error (message + hint, no traceback unless --debug), 2 usage error,
3 parity outside tolerance (the report is still written).
"""

import functools
import json
import sys

import click

from . import __version__
from .errors import Ltc2cError
from .targets import DEFAULT_TARGET, TARGETS

EXIT_PARITY = 3
QUANT_CHOICES = ("float32", "int16", "int8")


class Context:
    def __init__(self, debug=False, quiet=False):
        self.debug = debug
        self.quiet = quiet

    def progress(self, message):
        if not self.quiet:
            click.echo(f"[ltc2c] {message}", err=True)


def model_options(func):
    """Options that say what the state dict does not record (defaults: ncps's class defaults)."""
    options = [
        click.option("--ode-unfolds", type=int, default=None,
                     help="Solver unfolds per step the model was trained with [default: from checkpoint, else 6]."),
        click.option("--epsilon", type=float, default=None, help="Denominator epsilon [default: 1e-8]."),
        click.option("--constraints", type=click.Choice(["softplus", "none"]), default=None,
                     help="Positivity transform [default: softplus for an LTC state dict, none for LTCCell]."),
        click.option("--outputs", type=int, default=None,
                     help="Motor neurons M when the model has no output mapping [default: all neurons]."),
        click.option("--elapsed-time", "default_elapsed", type=float, default=None,
                     help="Default elapsed time per step used by NAME_step() [default: 1.0]."),
        click.option("--trust-pickle", is_flag=True,
                     help="Allow loading a whole pickled module (runs code from the file: trusted files only)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _load(path, ode_unfolds, epsilon, constraints, outputs, default_elapsed, trust_pickle):
    from .load import load_model

    return load_model(path, ode_unfolds=ode_unfolds, epsilon=epsilon, constraints=constraints,
                      outputs=outputs, elapsed_time=default_elapsed, trust_pickle=trust_pickle)


def _model_kwargs(kwargs):
    keys = ("ode_unfolds", "epsilon", "constraints", "outputs", "default_elapsed", "trust_pickle")
    return {k: kwargs.pop(k) for k in keys}


def _check_target(target):
    from .targets import get_target

    return get_target(target).name


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ltc2c")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
@click.pass_context
def cli(ctx, debug, quiet):
    """ltc2c: compile ncps liquid time-constant networks to portable C for microcontrollers.

    \b
    Typical use:
      ltc2c info model.pt
      ltc2c compile model.pt -o out/ --name mynet --target host
      ltc2c verify model.pt --steps 1000 --json report.json --plot parity.png
      ltc2c export-onnx model.pt -o model.onnx
    """
    ctx.obj = Context(debug=debug, quiet=quiet)


@cli.command("compile")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("-o", "--out", "out_dir", default="out", show_default=True, type=click.Path(),
              help="Output folder (created; replaced as a whole only when generation succeeded).")
@click.option("--name", default="model", show_default=True, help="C prefix: NAME_step, NAME_state_t, NAME.h.")
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Target core (see `ltc2c targets`).")
@click.option("--quant", type=click.Choice(QUANT_CHOICES), default=None,
              help="Number format [default: the target's, float32 for host].")
@click.option("--calib", type=click.Path(), default=None, help="Calibration sequences for integer input formats.")
@click.option("--elapsed-time-range", default=None, help="MIN:MAX elapsed times NAME_step_dt_q must cover.")
@model_options
@click.pass_obj
def compile_cmd(obj, model, out_dir, name, target, quant, calib, elapsed_time_range, **kwargs):
    """Compile MODEL (.pt state dict or ltc2c checkpoint) to C sources in OUT."""
    from . import api
    from .cnames import check_name
    from .data import load_sequences, parse_elapsed

    check_name(name)
    target = _check_target(target)
    loaded = _load(model, **_model_kwargs(kwargs))
    calib_data = load_sequences(calib, loaded.config.inputs) if calib else None
    summary = api.compile_model(loaded, out_dir, name=name, target=target, quant=quant, calib=calib_data,
                                elapsed_time_range=parse_elapsed(elapsed_time_range))
    for warning in summary["warnings"]:
        click.echo(f"ltc2c: warning: {warning}", err=True)
    click.echo(f"wrote {', '.join(summary['files'])} to {out_dir} "
               f"({summary['quant']}, target {summary['target']})")


@cli.command("verify")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("--quant", type=click.Choice(QUANT_CHOICES + ("all",)), default="float32", show_default=True,
              help="Number format to verify; `all` prints one table of float32/int16/int8 error and size.")
@click.option("--calib", type=click.Path(), default=None, help="Calibration sequences for integer input formats.")
@click.option("--elapsed-time-range", default=None,
              help="MIN:MAX elapsed times of the integer build [default: the range of the data].")
@click.option("--target", default="host", show_default=True, help="Where the C runs (host; MCU targets in QEMU).")
@click.option("--data", type=click.Path(), default=None,
              help=".npy/.npz/.csv [time, features] or [sequences, time, features]; else seeded random inputs.")
@click.option("--steps", type=int, default=1000, show_default=True, help="Steps per sequence.")
@click.option("--sequences", "n_sequences", type=int, default=4, show_default=True, help="Random sequences.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for random sequences.")
@click.option("--dt", "elapsed", default=None, help="Elapsed time per step for random sequences: VALUE or MIN:MAX.")
@click.option("--tolerance", type=float, default=None, help="Max |error| allowed, times max(1, output range).")
@click.option("--no-onnx", is_flag=True, help="Skip the onnxruntime comparison.")
@click.option("--json", "json_path", type=click.Path(), default=None, help="Write the report as JSON.")
@click.option("--plot", "plot_path", type=click.Path(), default=None, help="Write a PNG of traces and errors.")
@click.option("--name", default="model", show_default=True, help="C prefix used for the generated code.")
@click.option("--keep", type=click.Path(), default=None, help="Keep generated sources and binaries in this folder.")
@model_options
@click.pass_obj
def verify_cmd(obj, model, quant, calib, elapsed_time_range, target, data, steps, n_sequences, seed, elapsed,
               tolerance, no_onnx, json_path, plot_path, name, keep, **kwargs):
    """Build the C for MODEL, run it beside ncps and onnxruntime, and report the error per pair."""
    from .cnames import check_name
    from .data import load_sequences, parse_elapsed, random_sequences
    from .verify import report as report_io
    from .verify import verify_model

    check_name(name)
    target = _check_target(target)
    loaded = _load(model, **_model_kwargs(kwargs))
    if data:
        sequences = load_sequences(data, loaded.config.inputs, steps=None)
    else:
        sequences = random_sequences(loaded.config.inputs, n_sequences, steps, seed, parse_elapsed(elapsed))
    calib_data = load_sequences(calib, loaded.config.inputs) if calib else None
    options = dict(name=name, target=target, tolerance=tolerance, calib=calib_data,
                   elapsed_time_range=parse_elapsed(elapsed_time_range), progress=obj.progress)
    if quant == "all":
        from .verify import compare_quantizations

        report, series = compare_quantizations(loaded, sequences, workdir=keep, with_onnx=not no_onnx, **options)
        click.echo(report_io.comparison_table(report))
    else:
        report, series = verify_model(loaded, sequences, quant=quant, workdir=keep, with_onnx=not no_onnx,
                                      **options)
        click.echo(report_io.text_table(report))
    if json_path:
        report_io.write_json(report, json_path)
        obj.progress(f"wrote {json_path}")
    if plot_path:
        report_io.write_plot(report, series, plot_path)
        obj.progress(f"wrote {plot_path}")
    if not report["passed"]:
        sys.exit(EXIT_PARITY)


@cli.command("export-onnx")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("-o", "--out", "out_path", default="model.onnx", show_default=True, type=click.Path())
@click.option("--step", is_flag=True, help="Export one step with state in/out instead of a sequence model.")
@model_options
@click.pass_obj
def export_onnx_cmd(obj, model, out_path, step, **kwargs):
    """Export MODEL to ONNX (sequence model over Scan, or --step) for desktop inference."""
    from . import api

    loaded = _load(model, **_model_kwargs(kwargs))
    api.export_onnx(loaded, out_path, step=step)
    click.echo(f"wrote {out_path} ({'single step' if step else 'sequence'} model)")


@cli.command("info")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@model_options
@click.pass_obj
def info_cmd(obj, model, as_json, **kwargs):
    """Describe MODEL: neurons, synapses, density, parameters, solver settings."""
    from . import api

    facts = api.info(_load(model, **_model_kwargs(kwargs)))
    if as_json:
        click.echo(json.dumps(facts, indent=2, sort_keys=True))
        return
    rows = [
        ("neurons", facts["neurons"]), ("inputs", facts["inputs"]), ("outputs (motor)", facts["outputs"]),
        ("wiring", facts["wiring"]),
        ("recurrent synapses", f"{facts['recurrent_synapses']} (density {facts['recurrent_density']:.3f})"),
        ("sensory synapses", f"{facts['sensory_synapses']} (density {facts['sensory_density']:.3f})"),
        ("parameters", facts["parameters"]), ("ode unfolds", facts["ode_unfolds"]),
        ("constraints", facts["constraints"]),
        ("mappings", f"input {facts['input_mapping']}, output {facts['output_mapping']}"),
        ("sigmoids / divisions per step", f"{facts['sigmoids_per_step']} / {facts['divisions_per_step']}"),
    ]
    for key, value in rows:
        click.echo(f"{key:<30}{value}")


@cli.command("build")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--target", required=True, help="Cross target (see `ltc2c targets`).")
@click.option("--name", default=None, help="Model name in OUT_DIR [default: the only NAME.h there].")
@click.option("--json", "json_path", type=click.Path(), default=None, help="Write the size report as JSON.")
@click.pass_obj
def build_cmd(obj, out_dir, target, name, json_path):
    """Cross-compile generated sources in OUT_DIR with -Werror and report the model's flash and RAM."""
    from .build import build_target
    from .verify import report as report_io

    target = _check_target(target)
    obj.progress(f"cross-compiling {out_dir} for {target}")
    report = build_target(out_dir, target, name=name)
    flash, ram = report["flash"], report["ram"]
    click.echo(f"{report['target']}: model flash {flash['total']} B (text {flash['text']}, rodata {flash['rodata']}, "
               f"data {flash['data']}); RAM {ram['total']} B (data {ram['data']}, bss {ram['bss']}, "
               f"worst-case stack {ram['stack']}) + caller-owned state {report['state_bytes']} B")
    click.echo(f"linked with library code: flash {report['linked']['flash']} B, static RAM {report['linked']['ram_static']} B")
    if json_path:
        report_io.write_json({k: v for k, v in report.items() if k != "elf"}, json_path)


@cli.command("boards")
def boards_cmd():
    """List the boards `ltc2c flash` can build firmware for."""
    from .boards import list_boards

    click.echo(f"{'board':<18}{'kind':<10}{'target':<15}{'flash':>9}{'ram':>9}  description")
    for b in list_boards():
        click.echo(f"{b.name:<18}{b.kind:<10}{b.target:<15}{b.flash_bytes // 1024:>7}Ki{b.ram_bytes // 1024:>7}Ki  {b.description}")


@cli.command("flash")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--board", required=True, help="Board (see `ltc2c boards`).")
@click.option("--probe", type=click.Choice(["pyocd", "openocd"]), default="pyocd", show_default=True)
@click.option("--dry-run", is_flag=True, help="Build the firmware and print the flash commands without running them.")
@click.pass_obj
def flash_cmd(obj, out_dir, board, probe, dry_run):
    """Build firmware that runs the model in OUT_DIR on embedded test vectors, and flash it."""
    import shlex

    from .flash import flash

    obj.progress(f"building firmware for {board}")
    result = flash(out_dir, board, probe, dry_run=dry_run)
    click.echo(f"firmware: {result['image'].get('elf')}")
    for command in result["commands"]:
        click.echo(" ".join(shlex.quote(str(part)) for part in command))
    if not dry_run:
        click.echo(f"flashed {board}; open its UART console to read the parity and cycle report")


@cli.command("targets")
def targets_cmd():
    """List the compilation targets."""
    click.echo(f"{'target':<16}{'quant':<10}{'compiler':<26}{'qemu machine':<14}description")
    for t in TARGETS.values():
        click.echo(f"{t.name:<16}{t.default_quant:<10}{t.compiler:<26}{t.qemu_machine or '-':<14}{t.description}")


def main(argv=None):
    """Console entry point: maps ltc2c errors to one line and an exit code."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=argv, prog_name="ltc2c", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("ltc2c: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Ltc2cError as exc:
        if debug:
            raise
        click.echo(f"ltc2c: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("ltc2c: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            raise
        click.echo(f"ltc2c: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)", err=True)
        sys.exit(1)
