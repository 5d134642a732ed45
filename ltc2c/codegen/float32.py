"""Template data for the float32 step: sparse synapse tables and per-neuron constants."""

from .cformat import c_float, c_int, index_type, rows


def _synapse_table(syn):
    return [
        {"pre": c_int(p), "gain": c_float(g), "bias": c_float(b), "w": c_float(w), "w_erev": c_float(we)}
        for p, g, b, w, we in zip(syn.pre, syn.gain, syn.bias, syn.w, syn.w_erev)
    ]


def context(folded):
    n = folded.units
    return {
        "units": n,
        "inputs": folded.inputs,
        "outputs": folded.outputs,
        "ode_unfolds": folded.ode_unfolds,
        "elapsed_time": c_float(folded.elapsed_time),
        "state_type": "float",
        "index_type": index_type(max(n, folded.inputs, folded.sensory.count, folded.recurrent.count) + 1),
        "sensory": _synapse_table(folded.sensory),
        "recurrent": _synapse_table(folded.recurrent),
        "sensory_ptr": rows(c_int(x) for x in folded.sensory.ptr),
        "recurrent_ptr": rows(c_int(x) for x in folded.recurrent.ptr),
        "cm": rows(c_float(x) for x in folded.cm),
        "cm_t": rows(c_float(x) for x in folded.cm_t()),
        # epsilon joins the leak once, at compile time, instead of every unfold of every neuron
        "leak_den": rows(c_float(x) for x in folded.gleak + folded.epsilon),
        "gleak_vleak": rows(c_float(x) for x in folded.gleak_vleak),
        "output_scale": rows(c_float(x) for x in folded.output_scale),
        "output_offset": rows(c_float(x) for x in folded.output_offset),
    }
