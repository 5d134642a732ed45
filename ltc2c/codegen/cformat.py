"""C literal formatting shared by the code generators."""

import numpy as np


def c_float(value):
    """A float32 literal that round-trips exactly."""
    f = float(np.float32(value))
    if f == 0.0:
        return "-0.0f" if np.signbit(f) else "0.0f"
    text = f"{f:.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_int(value):
    return str(int(value))


def rows(items, per_line=6, indent="    "):
    """Lay out already formatted literals a few per line."""
    items = list(items)
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return (",\n" + indent).join(lines) if lines else ""


def index_type(max_value):
    return "uint8_t" if max_value < 256 else "uint16_t"
