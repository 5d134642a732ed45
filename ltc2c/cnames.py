"""Validation of the --name given to generated C symbols."""

import re

from .errors import UsageError

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline "
    "int long register restrict return short signed sizeof static struct switch typedef union unsigned "
    "void volatile while _Bool _Complex _Imaginary bool true false main".split()
)
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_name(name):
    """Return NAME if it is usable as a C prefix, else raise UsageError."""
    if not _IDENTIFIER.match(name or ""):
        raise UsageError(f"--name '{name}' is not a C identifier",
                         "use letters, digits and '_', starting with a letter, e.g. --name mynet")
    if name in C_KEYWORDS or name.startswith(("ltc2c", "LTC2C")):
        raise UsageError(f"--name '{name}' is reserved", "pick another name, e.g. --name mynet")
    if len(name) > 31:
        raise UsageError(f"--name '{name}' is longer than 31 characters", "use a shorter name")
    return name


def macro_prefix(name):
    return name.upper()
