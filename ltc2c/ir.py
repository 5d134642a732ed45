"""The ltc2c intermediate representation: plain frozen dataclasses of read-only numpy arrays.

`LtcModel` holds the parameters exactly as ncps stores them (raw, before the positivity
transform) plus the configuration the state dict does not record. Nothing here imports torch.
"""

from dataclasses import dataclass, field, fields

import numpy as np

CONSTRAINT_MODES = ("softplus", "none")
MAPPING_MODES = ("affine", "linear", "none")

# Parameter names in ncps order, with the shape each must have: N neurons, I inputs, M motors.
PARAM_SHAPES = {
    "gleak": ("N",),
    "vleak": ("N",),
    "cm": ("N",),
    "sigma": ("N", "N"),
    "mu": ("N", "N"),
    "w": ("N", "N"),
    "erev": ("N", "N"),
    "sensory_sigma": ("I", "N"),
    "sensory_mu": ("I", "N"),
    "sensory_w": ("I", "N"),
    "sensory_erev": ("I", "N"),
    "sparsity_mask": ("N", "N"),
    "sensory_sparsity_mask": ("I", "N"),
    "input_w": ("I",),
    "input_b": ("I",),
    "output_w": ("M",),
    "output_b": ("M",),
}
REQUIRED_PARAMS = tuple(name for name in PARAM_SHAPES if not name.startswith(("input_", "output_")))


def frozen_array(values, dtype=np.float64):
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class LtcConfig:
    """What the compiler must know beyond the tensors."""

    units: int
    inputs: int
    outputs: int
    ode_unfolds: int = 6
    epsilon: float = 1e-8
    constraints: str = "softplus"
    input_mapping: str = "affine"
    output_mapping: str = "affine"
    wiring: str = "unknown"
    elapsed_time: float = 1.0

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class LtcModel:
    """An LTC cell: config, raw ncps parameters (float64, read-only) and the sha256 of its source file."""

    config: LtcConfig
    params: dict = field(repr=False)
    source_sha256: str = ""

    def param(self, name):
        return self.params[name]

    def has(self, name):
        return name in self.params
