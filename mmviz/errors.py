"""Errors that carry a message meant for a person (shown in the UI, one line in the CLI)."""


class MmvizError(ValueError):
    """Bad input or state, with a message that says what is wrong and what to do."""
