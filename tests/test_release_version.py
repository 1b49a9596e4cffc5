"""scripts/release_version.py: a release is newer than every vX.Y.Z tag, or refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ghrunner import ROOT

SCRIPT = ROOT / "scripts" / "release_version.py"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        check=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with releases v1.0.0, v1.2.0 (annotated), v9.9.9, and the moving
    tags, a pre-release and other tags that are not releases."""
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    for tag in ["v1.0.0", "v9.9.9", "v1", "v1.2", "v10.0.0-rc1", "v10", "x10.0.0", "v010.0.0"]:
        _git(tmp_path, "tag", tag)
    _git(tmp_path, "tag", "-a", "v1.2.0", "-m", "v1.2.0")
    return tmp_path


def _check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=repo, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("version", ["9.9.10", "9.10.0", "10.0.0", "10.0.1"])
def test_a_newer_version_passes_with_the_tags_it_moves(repo: Path, version: str) -> None:
    result = _check(repo, version)
    assert result.returncode == 0, result.stderr
    major, minor, _ = version.split(".")
    assert result.stdout == f"major={major}\nminor={major}.{minor}\n"


@pytest.mark.parametrize("version", ["9.9.9", "9.9.8", "1.2.1", "1.3.0", "0.1.0"])
def test_a_version_not_newer_than_the_latest_release_is_refused(repo: Path, version: str) -> None:
    result = _check(repo, version)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{version} is not newer than the latest release, v9.9.9" in result.stderr


def test_the_first_release(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    assert _check(tmp_path, "0.1.0").stdout == "major=0\nminor=0.1\n"


@pytest.mark.parametrize(
    "args", [[], ["1.2"], ["v1.2.3"], ["01.2.3"], ["1.2.3 "], ["1.2.3\n"], ["1.2.3", "1.2.4"]]
)
def test_a_malformed_version_is_refused(repo: Path, args: list[str]) -> None:
    result = _check(repo, *args)
    assert result.returncode == 2 and "the version must be X.Y.Z" in result.stderr


def test_no_repository(tmp_path: Path) -> None:
    result = _check(tmp_path, "1.0.0")
    assert result.returncode == 2 and "cannot list the tags" in result.stderr
