"""Compile-time folding of an `LtcModel` into the form the code generators consume.

Folds the positivity transform, the input affine map (into the sensory sigmoid argument),
W*erev and gleak*vleak, and turns the masks into synapse lists sorted by destination neuron
(CSC), so masked synapses cost nothing. Exact: a masked synapse contributes 0 in ncps.
"""

from dataclasses import dataclass

import numpy as np

from .ir import frozen_array


def softplus(x):
    """torch.nn.Softplus(beta=1, threshold=20) in float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def positive(values, constraints):
    return softplus(values) if constraints == "softplus" else np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class SynapseList:
    """Synapses sorted by destination: those of neuron i are [ptr[i], ptr[i+1]).

    The sigmoid argument is z = gain * x[pre] + bias; the synapse adds w*s to the denominator and
    w_erev*s to the numerator of its destination.
    """

    pre: np.ndarray
    post: np.ndarray
    ptr: np.ndarray
    gain: np.ndarray
    bias: np.ndarray
    w: np.ndarray
    w_erev: np.ndarray
    erev: np.ndarray

    @property
    def count(self):
        return int(self.pre.size)


@dataclass(frozen=True)
class FoldedModel:
    """Everything the step needs, precomputed in float64."""

    name_hint: str
    units: int
    inputs: int
    outputs: int
    ode_unfolds: int
    epsilon: float
    elapsed_time: float
    sensory: SynapseList
    recurrent: SynapseList
    cm: np.ndarray  # pos(cm); cm_t = cm * unfolds / elapsed_time
    gleak: np.ndarray  # pos(gleak)
    gleak_vleak: np.ndarray
    vleak: np.ndarray
    output_scale: np.ndarray
    output_offset: np.ndarray
    min_effective_conductance: float  # < 0 means the convexity bound does not hold
    source_sha256: str
    config: dict

    def cm_t(self, elapsed_time=None):
        dt = self.elapsed_time if elapsed_time is None else elapsed_time
        return self.cm / (dt / self.ode_unfolds)


def _synapses(mask, gain, bias, w, erev):
    pre, post = np.nonzero(mask)
    order = np.lexsort((pre, post))  # by destination, then source
    pre, post = pre[order], post[order]
    counts = np.bincount(post, minlength=mask.shape[1])
    ptr = np.concatenate([[0], np.cumsum(counts)])
    return SynapseList(
        pre=frozen_array(pre, np.int64),
        post=frozen_array(post, np.int64),
        ptr=frozen_array(ptr, np.int64),
        gain=frozen_array(gain[pre, post]),
        bias=frozen_array(bias[pre, post]),
        w=frozen_array(w[pre, post]),
        w_erev=frozen_array(w[pre, post] * erev[pre, post]),
        erev=frozen_array(erev[pre, post]),
    )


def fold(model):
    """LtcModel -> FoldedModel."""
    cfg = model.config
    p = model.params
    mode = cfg.constraints
    n_in = cfg.inputs

    input_w = p["input_w"] if "input_w" in p else np.ones(n_in)
    input_b = p["input_b"] if "input_b" in p else np.zeros(n_in)
    # z = ssigma * (iw*u + ib - smu) = (ssigma*iw) * u + ssigma*(ib - smu)
    s_sigma = p["sensory_sigma"]
    s_gain = s_sigma * input_w[:, None]
    s_bias = s_sigma * (input_b[:, None] - p["sensory_mu"])
    s_w = positive(p["sensory_w"], mode)
    sensory = _synapses(p["sensory_sparsity_mask"], s_gain, s_bias, s_w, p["sensory_erev"])

    sigma = p["sigma"]
    r_w = positive(p["w"], mode)
    recurrent = _synapses(p["sparsity_mask"], sigma, -sigma * p["mu"], r_w, p["erev"])

    cm = positive(p["cm"], mode)
    gleak = positive(p["gleak"], mode)
    m = cfg.outputs
    output_scale = p["output_w"] if "output_w" in p else np.ones(m)
    output_offset = p["output_b"] if "output_b" in p else np.zeros(m)
    conductances = np.concatenate([cm, gleak, sensory.w, recurrent.w])
    return FoldedModel(
        name_hint="ltc",
        units=cfg.units,
        inputs=n_in,
        outputs=m,
        ode_unfolds=cfg.ode_unfolds,
        epsilon=cfg.epsilon,
        elapsed_time=cfg.elapsed_time,
        sensory=sensory,
        recurrent=recurrent,
        cm=frozen_array(cm),
        gleak=frozen_array(gleak),
        gleak_vleak=frozen_array(gleak * p["vleak"]),
        vleak=frozen_array(p["vleak"]),
        output_scale=frozen_array(output_scale),
        output_offset=frozen_array(output_offset),
        min_effective_conductance=float(conductances.min()) if conductances.size else 0.0,
        source_sha256=model.source_sha256,
        config=cfg.as_dict(),
    )


def summary(model, folded):
    """Facts for `ltc2c info`."""
    cfg = model.config
    n, n_in = cfg.units, cfg.inputs
    trainable = sum(int(np.size(v)) for k, v in model.params.items() if "mask" not in k)
    return {
        "neurons": n,
        "inputs": n_in,
        "outputs": cfg.outputs,
        "wiring": cfg.wiring,
        "recurrent_synapses": folded.recurrent.count,
        "recurrent_density": folded.recurrent.count / float(n * n),
        "sensory_synapses": folded.sensory.count,
        "sensory_density": folded.sensory.count / float(n_in * n) if n_in else 0.0,
        "parameters": trainable,
        "ode_unfolds": cfg.ode_unfolds,
        "epsilon": cfg.epsilon,
        "constraints": cfg.constraints,
        "input_mapping": cfg.input_mapping,
        "output_mapping": cfg.output_mapping,
        "elapsed_time": cfg.elapsed_time,
        "sigmoids_per_step": folded.sensory.count + cfg.ode_unfolds * folded.recurrent.count,
        "divisions_per_step": cfg.ode_unfolds * n,
        "convexity_bound_holds": folded.min_effective_conductance >= 0.0,
    }
