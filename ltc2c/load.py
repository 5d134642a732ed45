"""Load ncps LTC models (state dicts, ltc2c checkpoints, optionally pickled modules) into the IR.

The only module that imports torch. Every file is opened with `torch.load(weights_only=True)`;
a pickled module is refused unless the caller passes `trust_pickle=True`.
"""

import hashlib
import io
import os
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .errors import LoadError, ModelError, UnsafePickleError, UnsupportedModelError, UsageError
from .ir import CONSTRAINT_MODES, PARAM_SHAPES, REQUIRED_PARAMS, LtcConfig, LtcModel, frozen_array

CHECKPOINT_FORMAT = 1
LTC_PREFIX = "rnn_cell."
CFC_MARKERS = ("ff1.", "ff2.", "time_a.", "time_b.", "backbone.", "layer_0.", "w_tau", "A")


def _torch():
    import torch

    return torch


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read(path, trust_pickle):
    torch = _torch()
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols; our errors say enough
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" in text or "Unsupported global" in text:
            if not trust_pickle:
                raise UnsafePickleError(
                    f"{path} holds pickled Python objects (e.g. a whole module saved with torch.save(model)); "
                    "unpickling them could run arbitrary code, so ltc2c does not",
                    "save model.state_dict() or use ltc2c.save(model, path) instead, "
                    "or pass --trust-pickle if you trust this file",
                ) from None
            return _read_pickle(path)
        raise LoadError(f"{path} is not a readable PyTorch file ({_short(text)})",
                        "pass a file written by torch.save or ltc2c.save") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, AttributeError,
            TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path} is not a PyTorch file or is truncated/corrupt ({_short(str(exc))})",
                        "pass a file written by torch.save or ltc2c.save") from None


def _read_pickle(path):
    try:
        return _torch().load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a trusted pickle may still fail to import its classes
        raise LoadError(f"cannot unpickle {path}: {_short(str(exc))}",
                        "install the packages the model was saved with (e.g. ncps)") from None


def _short(text, limit=160):
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _module_config(module):
    """Config and bare state dict of an ncps LTC / LTCCell module."""
    cell = getattr(module, "rnn_cell", module)
    if getattr(module, "use_mixed", False):
        raise UnsupportedModelError("mixed_memory=True LTC models are not supported yet",
                                    "train without mixed_memory, or compile the LTC cell alone")
    if not all(hasattr(cell, a) for a in ("_ode_unfolds", "_epsilon", "_wiring", "_input_mapping")):
        kind = type(cell).__name__
        if "CfC" in kind:
            raise UnsupportedModelError(f"CfC models ({kind}) are not supported yet", "ltc2c compiles ncps LTC models")
        raise LoadError(f"{kind} is not an ncps LTC or LTCCell", "pass an ncps.torch.LTC or LTCCell")
    wiring = cell._wiring
    config = {
        "units": int(cell.state_size),
        "inputs": int(cell.sensory_size),
        "outputs": int(cell.motor_size),
        "ode_unfolds": int(cell._ode_unfolds),
        "epsilon": float(cell._epsilon),
        "constraints": "softplus" if getattr(cell, "_implicit_param_constraints", False) else "none",
        "input_mapping": _mapping_name(cell._input_mapping),
        "output_mapping": _mapping_name(cell._output_mapping),
        "wiring": type(wiring).__name__,
    }
    state = {k: v.detach().cpu() for k, v in cell.state_dict().items()}
    return config, state


def _mapping_name(value):
    return value if value in ("affine", "linear") else "none"


def save_checkpoint(module, path, **overrides):
    """Write {format, config, state_dict}; loads with weights_only=True and needs no flags.

    Same module, same bytes: torch.save names its archive after the file, so serialise to memory.
    """
    torch = _torch()
    config, state = _module_config(module)
    config.update({k: v for k, v in overrides.items() if v is not None})
    buffer = io.BytesIO()
    torch.save({"ltc2c_format": CHECKPOINT_FORMAT, "config": config, "state_dict": state}, buffer)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; a checkpoint is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _split_state_dict(raw):
    """-> (bare state dict, was_ltc_wrapper)."""
    if not isinstance(raw, dict) or not raw:
        raise LoadError("the file holds no state dict of an LTC",
                        "save an ncps LTC with torch.save(model.state_dict(), path)")
    keys = list(raw)
    if any(k.startswith("lstm.") for k in keys):
        raise UnsupportedModelError("mixed_memory=True LTC models (keys 'lstm.*') are not supported yet",
                                    "train without mixed_memory")
    wrapped = any(k.startswith(LTC_PREFIX) for k in keys)
    bare = {k[len(LTC_PREFIX):] if k.startswith(LTC_PREFIX) else k: v for k, v in raw.items()}
    if any(k.startswith(CFC_MARKERS) for k in bare) and "gleak" not in bare:
        raise UnsupportedModelError("CfC models are not supported yet", "ltc2c compiles ncps LTC / LTCCell models")
    missing = [k for k in REQUIRED_PARAMS if k not in bare]
    if missing:
        sample = ", ".join(sorted(bare)[:4])
        raise LoadError(f"not an ncps LTC state dict: missing {', '.join(missing[:3])}"
                        f"{' ...' if len(missing) > 3 else ''} (found keys: {sample})",
                        "pass the state_dict of an ncps.torch.LTC or LTCCell")
    return bare, wrapped


def _to_numpy(name, value):
    torch = _torch()
    if not isinstance(value, torch.Tensor):
        raise ModelError(f"parameter '{name}' is a {type(value).__name__}, not a tensor",
                         "pass an unmodified ncps state dict")
    return value.detach().to(torch.float64).cpu().numpy()


def _infer_mapping(params, prefix):
    if f"{prefix}_w" in params and f"{prefix}_b" in params:
        return "affine"
    if f"{prefix}_w" in params:
        return "linear"
    return "none"


def _check(params, config):
    sizes = {"N": config.units, "I": config.inputs, "M": config.outputs}
    for name, array in params.items():
        want = tuple(sizes[d] for d in PARAM_SHAPES[name])
        if array.shape != want:
            raise ModelError(f"inconsistent shapes: '{name}' is {list(array.shape)}, expected {list(want)} "
                             f"for {config.units} neurons, {config.inputs} inputs, {config.outputs} outputs",
                             "the state dict was edited or mixes two models")
        if not np.all(np.isfinite(array)):
            raise ModelError(f"parameter '{name}' contains NaN or Inf", "retrain or fix the checkpoint")
    for name in ("sparsity_mask", "sensory_sparsity_mask"):
        values = params[name]
        if not np.all((values == 0) | (values == 1)):
            bad = values[(values != 0) & (values != 1)].flat[0]
            raise ModelError(f"'{name}' must contain only 0 and 1 (found {bad:g})",
                             "the masks come from the wiring; do not train or edit them")


def _build(bare, config_values, sha):
    extra = sorted(set(bare) - set(PARAM_SHAPES))
    if extra:
        raise LoadError(f"unexpected keys in LTC state dict: {', '.join(extra[:4])}",
                        "pass the state dict of a plain ncps LTC / LTCCell")
    params = {k: _to_numpy(k, v) for k, v in bare.items()}
    for key in ("gleak", "sensory_sigma"):
        if params[key].ndim < 1 or (key == "sensory_sigma" and params[key].ndim != 2):
            raise ModelError(f"inconsistent shapes: '{key}' is {list(params[key].shape)}",
                             "the state dict was edited or mixes two models")
    units = int(params["gleak"].shape[0])
    inputs = int(params["sensory_sigma"].shape[0])
    cfg = dict(config_values)
    cfg.setdefault("input_mapping", _infer_mapping(params, "input"))
    cfg.setdefault("output_mapping", _infer_mapping(params, "output"))
    if cfg.get("outputs") is None:
        cfg["outputs"] = int(params["output_w"].shape[0]) if "output_w" in params else units
    cfg["units"], cfg["inputs"] = units, inputs
    config = LtcConfig(**cfg)
    if config.ode_unfolds < 1:
        raise UsageError(f"--ode-unfolds must be >= 1 (got {config.ode_unfolds})", "use the value the model was trained with (ncps default 6)")
    if not (0 < config.outputs <= units):
        raise UsageError(f"outputs must be between 1 and {units} (got {config.outputs})", "pass --outputs M")
    if config.constraints not in CONSTRAINT_MODES:
        raise UsageError(f"unknown constraints mode '{config.constraints}'", "use softplus or none")
    if not config.elapsed_time > 0:
        raise UsageError(f"elapsed time must be > 0 (got {config.elapsed_time})", "pass --elapsed-time 1.0")
    _check(params, config)
    frozen = {k: frozen_array(v) for k, v in params.items()}
    return LtcModel(config=config, params=frozen, source_sha256=sha)


def load_model(path, *, ode_unfolds=None, epsilon=None, constraints=None, outputs=None,
               elapsed_time=None, trust_pickle=False):
    """Read MODEL into an LtcModel. Explicit options override what the file records."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"model file not found: {path}", "check the path")
    if path.is_dir():
        raise LoadError(f"{path} is a folder, not a model file", "pass the .pt file")
    sha = _sha256(path)
    raw = _read(str(path), trust_pickle)
    recorded = {}
    wrapped = False
    if isinstance(raw, dict) and "ltc2c_format" in raw:
        if raw.get("ltc2c_format") != CHECKPOINT_FORMAT or not isinstance(raw.get("config"), dict):
            raise LoadError(f"{path} is an ltc2c checkpoint of an unknown format",
                            "re-save it with this version's ltc2c.save")
        recorded = dict(raw["config"])
        bare, _ = _split_state_dict(raw.get("state_dict"))
    elif hasattr(raw, "state_dict") and callable(raw.state_dict):  # trusted pickled module
        recorded, bare = _module_config(raw)
    else:
        bare, wrapped = _split_state_dict(raw)
        recorded = {"constraints": "softplus" if wrapped else "none",
                    "wiring": _guess_wiring(bare)}
    recorded.pop("units", None)
    recorded.pop("inputs", None)
    for key, value in (("ode_unfolds", ode_unfolds), ("epsilon", epsilon), ("constraints", constraints),
                       ("outputs", outputs), ("elapsed_time", elapsed_time)):
        if value is not None:
            recorded[key] = value
    known = {"outputs", "ode_unfolds", "epsilon", "constraints", "input_mapping", "output_mapping",
             "wiring", "elapsed_time"}
    return _build(bare, {k: v for k, v in recorded.items() if k in known}, sha)


def _guess_wiring(bare):
    mask = bare.get("sparsity_mask")
    smask = bare.get("sensory_sparsity_mask")
    try:
        if mask is not None and smask is not None and bool((mask == 1).all()) and bool((smask == 1).all()):
            return "FullyConnected"
    except (TypeError, RuntimeError, AttributeError):
        pass
    return "unknown (sparse)"
