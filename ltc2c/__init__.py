"""ltc2c: compile liquid time-constant networks (ncps) to portable C for microcontrollers."""

__version__ = "0.1.0"


def save(module, path, **overrides):
    """Write a self-describing ltc2c checkpoint (config + state dict) of an ncps LTC or LTCCell."""
    from .load import save_checkpoint

    return save_checkpoint(module, path, **overrides)


def load_model(path, **options):
    """Load a model file into the ltc2c IR (see :func:`ltc2c.load.load_model`)."""
    from .load import load_model as _load_model

    return _load_model(path, **options)
