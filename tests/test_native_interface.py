"""The native action (native/action.yml) offers exactly the Docker action's interface, and
its companion (native/invalidate) exactly the inputs its code reads; each input reaches
the code as the runner gives a Docker action its inputs (INPUT_ and the name upper-cased)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from xbearer import native

from ghrunner import ROOT


def _load(path: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / path).read_text())
    assert isinstance(loaded, dict)
    return loaded


DOCKER = _load("action.yml")
NATIVE = _load("native/action.yml")
COMPANION = _load("native/invalidate/action.yml")


def _step_env(action: dict[str, Any]) -> dict[str, str]:
    (step,) = action["runs"]["steps"]
    return {k: v for k, v in step["env"].items() if k.startswith("INPUT_")}


def test_the_native_action_has_the_docker_actions_inputs_with_their_defaults_and_words() -> None:
    assert NATIVE["inputs"] == DOCKER["inputs"]  # names, order, defaults, descriptions


def test_the_native_action_outputs_what_the_docker_action_outputs_from_its_step() -> None:
    assert list(NATIVE["outputs"]) == list(DOCKER["outputs"])
    for name, output in NATIVE["outputs"].items():
        assert output["description"] == DOCKER["outputs"][name]["description"], name
        assert output["value"] == f"${{{{ steps.token.outputs.{name} }}}}", name


def test_every_input_reaches_the_code_as_a_docker_actions_input_does() -> None:
    for action in (NATIVE, COMPANION):
        expected = {f"INPUT_{n.upper()}": f"${{{{ inputs.{n} }}}}" for n in action["inputs"]}
        assert _step_env(action) == expected


def test_the_companion_declares_the_inputs_its_code_reads() -> None:
    assert tuple(COMPANION["inputs"]) == native.COMPANION_INPUTS
    for name in ("api-url", "timeout", "retries", "ca-bundle"):  # the route, as the main step's
        assert COMPANION["inputs"][name] == DOCKER["inputs"][name], name


def test_both_steps_start_the_bootstrap_with_their_step_through_bash() -> None:
    for action, step in ((NATIVE, "main"), (COMPANION, "invalidate")):
        assert action["runs"]["using"] == "composite"
        (run,) = action["runs"]["steps"]
        assert run["shell"] == "bash"
        assert re.fullmatch(
            rf'source "\$GITHUB_ACTION_PATH/(\.\./)?bootstrap\.sh" {step}', run["run"]
        )


def _native_steps(doc: object) -> list[dict[str, Any]]:
    """Every step of a workflow (or snippet) that uses the native action or its companion."""
    if isinstance(doc, dict):
        uses = doc.get("uses")
        found = [doc] if isinstance(uses, str) and uses.startswith("OWNER/REPO/native") else []
        return found + [step for value in doc.values() for step in _native_steps(value)]
    if isinstance(doc, list):
        return [step for item in doc for step in _native_steps(item)]
    return []


def test_the_readme_and_examples_give_the_native_actions_only_what_they_declare() -> None:
    readme = (ROOT / "README.md").read_text()
    texts = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    texts += [p.read_text() for p in sorted((ROOT / "examples").glob("*.yml"))]
    seen = {"native": 0, "native/invalidate": 0}
    for text in texts:
        for step in _native_steps(yaml.safe_load(text)):
            action, _, ref = step["uses"].removeprefix("OWNER/REPO/").partition("@")
            declared = (NATIVE if action == "native" else COMPANION)["inputs"]
            assert ref == "main" and set(step.get("with", {})) <= set(declared), step
            seen[action] += 1
            if action == "native/invalidate":  # the last step, whatever failed before it
                assert step["if"] == "always()", step
                assert step["with"]["bearer"] == "${{ steps.token.outputs.bearer }}"
    assert seen == {"native": 2, "native/invalidate": 2}  # the README's and examples/native.yml
