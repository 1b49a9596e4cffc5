"""requirements.txt installs, hash-checked and from wheels alone, on every runner GitHub
hosts: the native action (native/) installs it there, so a lock without one platform's
wheel hashes fails every job on that runner; so does the fakes' lock, which the matrix
workflow installs (scripts/fakes-requirements.txt). For each locked package, PyPI's index
(its JSON simple API, PEP 691) lists the pinned version's wheels; pip takes one whose
tags the runner's Python accepts (packaging.tags, as pip computes them) and whose hash
the lock names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from packaging import tags
from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
INDEX = "https://pypi.org/simple"
PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14))
# What each hosted runner's Python accepts: Ubuntu 24.04's glibc is 2.39; macOS 14 and
# later on both architectures; Windows on x64 and arm64.
RUNNERS = {
    "Linux x64": ["manylinux2014_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(39, 16, -1))],
    "Linux arm64": [
        "manylinux2014_aarch64",
        *(f"manylinux_2_{m}_aarch64" for m in range(39, 16, -1)),
    ],
    "macOS x64": list(tags.mac_platforms((14, 0), "x86_64")),
    "macOS arm64": list(tags.mac_platforms((14, 0), "arm64")),
    "Windows x64": ["win_amd64"],
    "Windows arm64": ["win_arm64"],
}

# The matrix workflow's runners, and which kind each is.
MATRIX = {
    "ubuntu-latest": "Linux x64",
    "ubuntu-24.04-arm": "Linux arm64",
    "macos-latest": "macOS arm64",
    "windows-latest": "Windows x64",
}


def _lock(text: str) -> dict[str, tuple[str, set[str]]]:
    """Each package's pinned version and the hashes the lock allows for it."""
    locked: dict[str, tuple[str, set[str]]] = {}
    for entry in re.split(r"\n(?=\S)", text):
        pin = re.match(r"([A-Za-z0-9._-]+)==(\S+)", entry)
        if pin:
            locked[pin[1].lower()] = (pin[2], set(re.findall(r"sha256:([0-9a-f]{64})", entry)))
    return locked


LOCK = _lock((ROOT / "requirements.txt").read_text())
FAKES = _lock((ROOT / "scripts" / "fakes-requirements.txt").read_text())


@pytest.fixture(scope="module")
def wheels() -> dict[str, list[tuple[frozenset[tags.Tag], str]]]:
    """Each locked package's wheels of its pinned version on PyPI: tags and sha256."""
    found = {}
    pins = {name: version for lock in (LOCK, FAKES) for name, (version, _) in lock.items()}
    assert all(LOCK[name][0] == FAKES[name][0] for name in LOCK.keys() & FAKES.keys())
    with requests.Session() as session:
        for name, version in pins.items():
            answer = session.get(
                f"{INDEX}/{name}/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                timeout=60,
            )
            answer.raise_for_status()
            found[name] = [
                (parse_wheel_filename(file["filename"])[3], file["hashes"]["sha256"])
                for file in answer.json()["files"]
                if file["filename"].endswith(".whl")
                and str(parse_wheel_filename(file["filename"])[1]) == version
            ]
    return found


def _accepted(platforms: list[str], python: tuple[int, int]) -> set[tags.Tag]:
    return {
        *tags.cpython_tags(python, platforms=platforms),
        *tags.compatible_tags(python, "cp" + "".join(map(str, python)), platforms),
    }


def missing(
    lock: dict[str, tuple[str, set[str]]],
    wheels: dict[str, list[tuple[frozenset[tags.Tag], str]]],
    runners: tuple[str, ...] = tuple(RUNNERS),
) -> Iterator[str]:
    """Each runner, Python and package for which no wheel is both accepted and locked."""
    for runner in runners:
        platforms = RUNNERS[runner]
        for python in PYTHONS:
            accepted = _accepted(platforms, python)
            for name, (_, hashes) in lock.items():
                if not any(t & accepted and sha in hashes for t, sha in wheels[name]):
                    yield f"{name} on {runner}, Python {python[0]}.{python[1]}"


def test_the_lock_has_a_hashed_wheel_of_every_package_for_every_hosted_runner(wheels) -> None:
    assert len(LOCK) >= 10
    assert list(missing(LOCK, wheels)) == []


def test_the_fakes_lock_installs_on_every_runner_of_the_matrix_workflow(wheels) -> None:
    """cryptography (for trustme's certificates) has no wheel for macOS x64 nor Windows
    arm64, which the matrix does not run on: the fakes need not either."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "native.yml").read_text())
    matrix = workflow["jobs"]["native"]["strategy"]["matrix"]["runner"]
    assert matrix == list(MATRIX)
    assert {"trustme", "pynacl", "actions-toolkit"} <= FAKES.keys()
    assert list(missing(FAKES, wheels, tuple(MATRIX.values()))) == []


def test_a_lock_without_one_platforms_hashes_fails_the_check(wheels) -> None:
    """The check can fail: drop the hashes of cffi's Windows wheels and it names them."""
    version, hashes = LOCK["cffi"]
    windows = {sha for t, sha in wheels["cffi"] if any("win" in tag.platform for tag in t)}
    assert windows <= hashes and windows
    lock = {**LOCK, "cffi": (version, hashes - windows)}
    gaps = list(missing(lock, wheels))
    assert gaps and all(gap.startswith("cffi on Windows") for gap in gaps), gaps
