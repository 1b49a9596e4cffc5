"""The one exception type the action reports as an ``::error`` annotation."""


class ActionError(Exception):
    """A failure with a message that is safe to show: no secret, no traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(ActionError):
    """An input is missing or malformed; raised before any request is sent."""
