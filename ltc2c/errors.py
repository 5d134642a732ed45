"""Exceptions raised by ltc2c. Each carries a one-line message and a hint saying what to do next."""


class Ltc2cError(Exception):
    """Base class: `message` says what is wrong, `hint` what to try."""

    exit_code = 1

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self):
        return f"{self.message} ({self.hint})" if self.hint else self.message


class LoadError(Ltc2cError):
    """The model file cannot be read or is not an LTC."""


class UnsafePickleError(LoadError):
    """The file is a pickled module; loading it could run arbitrary code."""


class UnsupportedModelError(LoadError):
    """The file is a model ltc2c recognises but cannot compile yet."""


class ModelError(Ltc2cError):
    """The parameters are inconsistent or invalid (shapes, NaN, masks)."""


class UsageError(Ltc2cError):
    """An option value is invalid."""

    exit_code = 2


class QuantizationError(Ltc2cError):
    """A tensor's range does not fit the chosen fixed-point format."""


class CodegenError(Ltc2cError):
    """Code generation failed."""


class ToolchainNotFoundError(Ltc2cError):
    """A compiler or emulator needed for a target is not installed."""


class BuildError(Ltc2cError):
    """A compiler or linker returned an error."""

    def __init__(self, message, hint=None, command=None, output=""):
        super().__init__(message, hint)
        self.command = command
        self.output = output


class DataError(Ltc2cError):
    """A --data or --calib file is unreadable or has the wrong shape."""


class HarnessError(Ltc2cError):
    """The compiled test harness crashed or returned malformed output."""


class FlashError(Ltc2cError):
    """Flashing failed: no debug probe attached, or the probe tool reported an error."""
