"""The ncps models the acceptance criteria name, built seeded and perturbed away from init
so that every term (softplus, masks, erev, mappings) matters."""

import torch
from ncps.torch import LTC, LTCCell
from ncps.wirings import AutoNCP, FullyConnected, Random


def _perturb(module, seed, scale=0.3):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            if param.requires_grad:
                param.add_(scale * torch.randn(param.shape, generator=gen))
    return module


def autoncp_16_2():
    torch.manual_seed(1)
    return _perturb(LTC(3, AutoNCP(16, 2)), 11)


def fully_connected_8():
    torch.manual_seed(2)
    return _perturb(LTC(5, 8), 12)


def cell_linear_no_output_map():
    torch.manual_seed(3)
    cell = LTCCell(FullyConnected(6, 2), in_features=4, implicit_param_constraints=False,
                   input_mapping="linear", output_mapping=None)
    _perturb(cell, 13)
    cell.apply_weight_constraints()  # as a user of the un-constrained cell does after each step
    return cell


def random_12_3():
    torch.manual_seed(4)
    return _perturb(LTC(4, Random(12, 3, sparsity_level=0.5)), 14)


def autoncp_unfolds_3():
    torch.manual_seed(5)
    return _perturb(LTC(3, AutoNCP(16, 2), ode_unfolds=3), 15)


def autoncp_unfolds_12():
    torch.manual_seed(6)
    return _perturb(LTC(2, AutoNCP(12, 3), ode_unfolds=12), 16)


ACCEPTANCE_MODELS = {
    "autoncp_16_2": autoncp_16_2,
    "fc_8": fully_connected_8,
    "cell_fc6_linear": cell_linear_no_output_map,
    "random_12_3": random_12_3,
    "autoncp_u3": autoncp_unfolds_3,
    "autoncp_u12": autoncp_unfolds_12,
}


def input_size(module):
    cell = getattr(module, "rnn_cell", module)
    return cell.sensory_size


def run_ncps(module, inputs, elapsed_times=None):
    """Reference outputs [S,T,M] and final state [S,N] from ncps itself (float32, one sequence at a time
    when elapsed times vary: ncps's LTC broadcasts per-sample timespans only for batch 1)."""
    cell = getattr(module, "rnn_cell", module)
    outs, states = [], []
    with torch.no_grad():
        for s in range(inputs.shape[0]):
            h = torch.zeros(1, cell.state_size)
            seq = []
            for t in range(inputs.shape[1]):
                x = torch.tensor(inputs[s:s + 1, t], dtype=torch.float32)
                dt = 1.0 if elapsed_times is None else float(elapsed_times[s, t])
                y, h = cell(x, h, dt)
                seq.append(y[0].numpy())
            outs.append(seq)
            states.append(h[0].numpy())
    import numpy as np
    return np.array(outs, dtype=np.float64), np.array(states, dtype=np.float64)


# What a bare state dict does not record, per acceptance model (load_model keyword arguments).
LOAD_OPTIONS = {"cell_fc6_linear": {"outputs": 2}, "autoncp_u3": {"ode_unfolds": 3},
                "autoncp_u12": {"ode_unfolds": 12}}
