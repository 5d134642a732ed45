"""Template data for the integer step (int16 / int8 weights): synapse records in const tables,
looped over per target neuron.

Every number the C uses comes from a QuantizedModel (ltc2c.quantize); the C mirrors ltc2c.emulate.
"""

from .cformat import c_float, c_int, rows

RUNTIME_FILES = ("ltc2c_port.h", "ltc2c_fixed.h")


def _lut_literal(value):
    return f"0x{int(value):08X}u"


def _group(q, qs, name, title):
    """Synapse records {gain | pre, bias, w | w_erev << 16} grouped by target neuron, without the
    synapses whose weight rounded to 0 (|w_erev| <= w * 32767/32768 makes them add exactly 0)."""
    records = []
    for k in _kept(q, qs):
        records += [int(qs.gain[k]), int(qs.bias[k]), int(qs.w_erev[k]) * 65536 + int(qs.w[k])]
    counts = _kept_counts(q, qs)
    return {
        "name": name, "title": title, "count": max(1, len(records) // 3),
        "records": rows((c_int(x) for x in (records or [0, 0, 0])), per_line=6),
        "counts": rows(c_int(3 * c) for c in counts),
        "count_type": "uint8_t" if 3 * max(counts, default=0) <= 255 else "uint16_t",
        "mask": (1 << qs.pre_bits) - 1, "used": bool(records),
    }


def _kept(q, qs):
    """Indices of the synapses with a nonzero weight, in target-neuron order."""
    return [k for j in range(q.units) for k in range(int(qs.ptr[j]), int(qs.ptr[j + 1])) if qs.w[k] != 0]


def _kept_counts(q, qs):
    return [sum(1 for k in range(int(qs.ptr[j]), int(qs.ptr[j + 1])) if qs.w[k] != 0) for j in range(q.units)]


def _runs(counts, marked=True, max_runs=4):
    """Neuron ranges [start, stop) with and without synapses (one loop each, no per-neuron test);
    more than MAX_RUNS ranges become one loop that tests every neuron."""
    runs = []
    for j, c in enumerate(counts):
        has = c > 0
        if runs and runs[-1]["synapses"] == has:
            runs[-1]["stop"] = j + 1
        else:
            runs.append({"start": j, "stop": j + 1, "synapses": has, "marked": 1})
    if len(runs) > max_runs or not marked:  # the marked loops need pre in one byte (mask 255)
        runs = [{"start": 0, "stop": len(counts), "synapses": True, "marked": 0}]
    return runs


def _same(values):
    values = tuple(values)
    return values[0] if values and all(v == values[0] for v in values) else None


def context(folded, q):
    n = q.units
    variable_dt = q.elapsed_min_q != q.elapsed_max_q
    lo, hi = q.elapsed_range
    sensory_runs = _runs(_kept_counts(q, q.sensory), q.sensory.pre_bits == 8)
    recurrent_runs = _runs(_kept_counts(q, q.recurrent), q.recurrent.pre_bits == 8)
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
        "lut_range": f"{q.lut_range:g}",
        "lut": rows((_lut_literal(x) for x in q.lut), per_line=8),
        "leak_den": rows(c_int(x) for x in q.leak_den),
        "leak_num": rows(c_int(x) for x in q.leak_num),
        "cm_default": rows(c_int(x) for x in q.cm_default),
        "cm_mult": rows(c_int(x) for x in q.cm_mult),
        "cm_shift": rows(c_int(x) for x in q.cm_shift),
        "groups": [dict(g, counted=any(r["synapses"] and not r["marked"] for r in runs))
                   for g, runs in ((_group(q, q.sensory, "sensory", "Sensory"), sensory_runs),
                                   (_group(q, q.recurrent, "recurrent", "Recurrent"), recurrent_runs))
                   if g["used"]],
        "sensory_mask": (1 << q.sensory.pre_bits) - 1,
        "sensory_runs": sensory_runs,
        "recurrent_runs": recurrent_runs,
        "recurrent_mask": (1 << q.recurrent.pre_bits) - 1,
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
        f"weights int{ctx['weight_bits']}, sigmoid table {ctx['lut_size']} entries on "
        f"[-{ctx['lut_range']}, {ctx['lut_range']}), "
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
