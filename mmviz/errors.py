"""Errors that carry a message meant for a person (shown in the UI, one line in the CLI)."""


class MmvizError(ValueError):
    """Bad input or state, with a message that says what is wrong and what to do."""


class ConfigError(MmvizError):
    """A run config refused before the run exists. ``field`` names the value at fault as the
    forms and ``--set`` name it (``data.path``, ``model.dim``, ``train.batch_size``), so a form
    can put the message beside that field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field
