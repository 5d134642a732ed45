"""Template data for the integer step (int16 / int8 weights): unrolled synapses with constants.

Every number the C uses comes from a QuantizedModel (ltc2c.quantize); the C mirrors ltc2c.emulate.
"""

from .cformat import c_float, c_int, rows

RUNTIME_FILES = ("ltc2c_port.h", "ltc2c_fixed.h")


def _lut_literal(value):
    return f"0x{int(value):08X}u"


def _scaled(term, shift):
    """'an' or 'an * 8' for the int8 power-of-two shift."""
    return term if shift == 0 else f"{term} * {1 << int(shift)}"


def _synapses_of(qs, j):
    """Synapses into neuron j, dropping those whose weight rounded to 0 (they add exactly 0)."""
    out = []
    for k in range(int(qs.ptr[j]), int(qs.ptr[j + 1])):
        if qs.w[k] == 0:
            continue  # |w_erev| <= w * 32767/32768 forces w_erev == 0 too
        out.append({
            "pre": c_int(qs.pre[k]), "gain": c_int(qs.gain[k]), "bias": c_int(qs.bias[k]),
            "shift": c_int(qs.idx_shift[k]), "frac": c_int(qs.frac_bits[k]),
            "w": c_int(qs.w[k]), "w_erev": c_int(qs.w_erev[k]),
        })
    return out


def _neurons(q):
    neurons = []
    for j in range(q.units):
        neurons.append({
            "index": j,
            "sensory": _synapses_of(q.sensory, j),
            "recurrent": _synapses_of(q.recurrent, j),
            "leak_num": c_int(q.leak_num[j]),
            "leak_den": c_int(q.leak_den[j]),
            "sensory_num": _scaled("an", q.sensory_shift[j]),
            "sensory_den": _scaled("ad", q.sensory_shift[j]),
            "recurrent_num": _scaled("an", q.recurrent_shift[j]),
            "recurrent_den": _scaled("ad", q.recurrent_shift[j]),
        })
    return neurons


def _same(values):
    values = tuple(values)
    return values[0] if values and all(v == values[0] for v in values) else None


def context(folded, q):
    n = q.units
    variable_dt = q.elapsed_min_q != q.elapsed_max_q
    lo, hi = q.elapsed_range
    return {
        "units": n,
        "inputs": q.inputs,
        "outputs": q.outputs,
        "ode_unfolds": q.ode_unfolds,
        "elapsed_time": c_float(q.elapsed_time),
        "mode": q.mode,
        "weight_bits": 16 if q.mode == "int16" else 8,
        "state_scale": f"{q.state_scale:.9g}",
        "state_bound": f"{q.state_bound:.6g}",
        "input_bits": list(q.input_frac_bits),
        "input_bits_all": _same(q.input_frac_bits),
        "input_scale": rows(c_float(2.0 ** b) for b in q.input_frac_bits),
        "output_bits": list(q.output_frac_bits),
        "output_bits_all": _same(q.output_frac_bits),
        "output_unit": rows(c_float(2.0 ** -b) for b in q.output_frac_bits),
        "elapsed_bits": q.elapsed_frac_bits,
        "elapsed_scale": c_float(2.0 ** q.elapsed_frac_bits),
        "elapsed_min_q": q.elapsed_min_q,
        "elapsed_max_q": q.elapsed_max_q,
        "elapsed_default_q": q.elapsed_default_q,
        "elapsed_range": f"{lo:g}:{hi:g}",
        "clamp_low": q.elapsed_min_q > 0,
        "clamp_high": q.elapsed_max_q < 65535,
        "variable_dt": variable_dt,
        "lut_size": int(q.lut.size),
        "lut_last": int(q.lut.size) - 1,
        "lut_step": f"1/{1 << q.lut_step_bits}",
        "lut": rows((_lut_literal(x) for x in q.lut), per_line=8),
        "cm_default": rows(c_int(x) for x in q.cm_default),
        "cm_mult": rows(c_int(x) for x in q.cm_mult),
        "cm_shift": rows(c_int(x) for x in q.cm_shift),
        "neurons": _neurons(q),
        "output_stage": [
            {"index": i, "mult": c_int(q.out_mult[i]), "add": c_int(q.out_add[i]), "shift": c_int(q.out_shift[i])}
            for i in range(q.outputs)
        ],
        "has_sensory": any(q.sensory.w > 0),
        "has_recurrent": any(q.recurrent.w > 0),
    }


def _provenance(ctx):
    prov = dict(ctx["prov"])
    prov["lines"] = list(prov["lines"]) + [
        f"fixed point: state int16 (scale {ctx['state_scale']}, |v| <= {ctx['state_bound']}), "
        f"weights int{ctx['weight_bits']}, sigmoid table {ctx['lut_size']} x step {ctx['lut_step']}, "
        f"elapsed time range {ctx['elapsed_range']}",
    ]
    return prov


def render_files(env, ctx):
    ctx = dict(ctx, prov=_provenance(ctx))
    name = ctx["name"]
    return {
        f"{name}.h": env.get_template("model_fixed.h.j2").render(ctx),
        f"{name}.c": env.get_template("model_fixed.c.j2").render(ctx),
    }
