"""The float reference: the model run by ncps itself when installed, else ltc2c's float64 IR evaluation."""

import numpy as np

from .. import reference


def ncps_available():
    try:
        import ncps.torch  # noqa: F401
    except ImportError:
        return False
    return True


def build_ncps_cell(model):
    """An ncps LTCCell carrying exactly the IR's parameters and configuration."""
    import torch
    from ncps.torch import LTCCell
    from ncps.wirings import FullyConnected

    cfg = model.config
    wiring = FullyConnected(cfg.units, output_dim=cfg.outputs)  # masks come from the state dict
    mapping = {"affine": "affine", "linear": "linear", "none": None}
    cell = LTCCell(wiring, in_features=cfg.inputs, input_mapping=mapping[cfg.input_mapping],
                   output_mapping=mapping[cfg.output_mapping], ode_unfolds=cfg.ode_unfolds,
                   epsilon=cfg.epsilon, implicit_param_constraints=cfg.constraints == "softplus")
    state = {k: torch.tensor(np.asarray(v), dtype=torch.float32) for k, v in model.params.items()}
    cell.load_state_dict(state, strict=True)
    return cell.eval()


def run_ncps(model, inputs, elapsed_times=None):
    """inputs [S,T,I] -> (outputs [S,T,M], final state [S,N]) from ncps in float32."""
    import torch

    cell = build_ncps_cell(model)
    n_seq, n_steps, _ = inputs.shape
    x_all = torch.tensor(inputs, dtype=torch.float32)
    h = torch.zeros(n_seq, model.config.units)
    outputs = np.zeros((n_seq, n_steps, model.config.outputs))
    default_dt = model.config.elapsed_time
    with torch.no_grad():
        for t in range(n_steps):
            # [S,1] elapsed time broadcasts per sequence against cm [N]
            dt = default_dt if elapsed_times is None else torch.tensor(elapsed_times[:, t:t + 1], dtype=torch.float32)
            y, h = cell(x_all[:, t], h, dt)
            outputs[:, t] = y.numpy()
    return outputs, h.numpy().astype(np.float64)


def run_reference(model, folded, inputs, elapsed_times=None):
    """-> (outputs, states, label)."""
    if ncps_available():
        outputs, states = run_ncps(model, inputs, elapsed_times)
        return outputs, states, "ncps"
    outputs, states = reference.run(folded, inputs, elapsed_times)
    return outputs, states, "ir-float64"
