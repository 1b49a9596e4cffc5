"""The runtime dependencies have one source: pyproject.toml declares the ranges,
requirements.in pins one version of each (plus their own dependencies, since the image
installs with --no-deps), and requirements.txt is requirements.in compiled with hashes."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from ghrunner import ROOT


def _pins(text: str) -> dict[str, Version]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)
    return {name.lower(): Version(version) for name, version in found}


def test_requirements_in_pins_every_runtime_dependency_within_pyprojects_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["action"]]
    pins = _pins((ROOT / "requirements.in").read_text())
    for line in declared:
        requirement = Requirement(line)
        name = requirement.name.lower()
        assert name in pins, f"{name} is declared in pyproject.toml, not pinned in requirements.in"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])


def test_requirements_txt_is_requirements_in_compiled_with_hashes() -> None:
    compiled = (ROOT / "requirements.txt").read_text()
    assert _pins(compiled) == _pins((ROOT / "requirements.in").read_text())
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", compiled, flags=re.M)[1:]
    assert all("--hash=sha256:" in block for block in blocks)


def test_requirements_dev_txt_pins_every_tool_with_hashes() -> None:
    compiled = (ROOT / "requirements-dev.txt").read_text()
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", compiled, flags=re.M)[1:]
    pins = _pins(compiled)
    assert {"pytest", "pytest-xdist", "pytest-cov", "coverage"} <= pins.keys()
    assert all("--hash=sha256:" in block for block in blocks)
