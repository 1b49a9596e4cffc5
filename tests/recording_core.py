"""A recording stand-in for actions-toolkit's `core`, for steps run in the test's process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from actions_toolkit.command import Command
from actions_toolkit.file_command import prepare_key_value_message


class RecordingCore:
    """actions-toolkit's `core` for a step run in this process: inputs and state from
    mappings, the log and the file commands recorded in the toolkit's own formats (its
    Command and key-value message), the process's environment never read nor written."""

    def __init__(
        self, inputs: Mapping[str, str], state: Mapping[str, str], kinds: Iterable[str]
    ) -> None:
        self.inputs, self.saved = inputs, state
        self.log: list[str] = []
        self.files: dict[str, list[str]] = {kind: [] for kind in kinds}

    def _command(self, name: str, message: str) -> None:
        self.log.append(str(Command(name, {}, message)))

    def _file(self, kind: str, name: str, value: str) -> None:
        self.files[kind].append(prepare_key_value_message(name, value))

    def get_input(self, name: str, *, trim_whitespace: bool = True) -> str:
        value = self.inputs.get(name, "")
        return value.strip() if trim_whitespace else value

    def get_boolean_input(self, name: str) -> bool:
        value = self.get_input(name)
        if value not in ("true", "True", "TRUE", "false", "False", "FALSE"):
            raise TypeError(f"Input does not meet YAML 1.2 Core Schema: {name}")
        return value.lower() == "true"

    def get_state(self, name: str) -> str:
        return self.saved.get(name, "")

    def set_secret(self, secret: str) -> None:
        self._command("add-mask", secret)

    def set_output(self, name: str, value: str) -> None:
        self._file("OUTPUT", name, value)

    def export_variable(self, name: str, val: str) -> None:
        self._file("ENV", name, val)

    def save_state(self, name: str, value: str) -> None:
        self._file("STATE", name, value)

    def debug(self, message: str) -> None:
        self._command("debug", message)

    def info(self, message: str) -> None:
        self.log.append(message)

    def warning(self, message: str) -> None:
        self._command("warning", message)

    def error(self, message: str) -> None:
        self._command("error", message)
