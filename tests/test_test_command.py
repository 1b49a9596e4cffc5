"""scripts/test: the coverage floor is the whole suite's; a run narrowed to some tests (a
file, a node ID, -k, -m) reports coverage and never fails for it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ghrunner import ROOT

WHOLE = {
    "no arguments": [],
    ".ci/run's": ["-p", "no:cacheprovider"],
    "GitHub's CI, without the testbed": ["-m", "not testbed"],
    "options only": ["-x", "-n", "2", "-q"],
}
NARROWED = {
    "a file": ["tests/test_cli.py"],
    "a node ID": ["tests/test_cli.py::test_version"],
    "a directory": ["tests"],
    "a marker": ["-m", "testbed"],
    "a marker, attached": ["-mtestbed"],
    "a keyword": ["-k", "token"],
    "a keyword, attached": ["-ktoken"],
    "the last failures": ["--lf"],
    "a file after options": ["-p", "no:cacheprovider", "-m", "not testbed", "tests/test_cli.py"],
}


def _pytest_arguments(tmp_path: Path, *args: str) -> list[str]:
    """The arguments scripts/test's `suite` gives pytest, with a python that only prints them."""
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    python.chmod(0o755)
    script = 'source scripts/test && bin=$1 && shift && suite "$@"'
    proc = subprocess.run(
        ["bash", "-c", script, "bash", str(tmp_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.splitlines()


@pytest.mark.parametrize("args", WHOLE.values(), ids=WHOLE.keys())
def test_the_whole_suite_keeps_the_floor(tmp_path: Path, args: list[str]) -> None:
    assert _pytest_arguments(tmp_path, *args) == [
        "-m",
        "pytest",
        "--cov",
        "--cov-report=term:skip-covered",
        *args,
    ]


@pytest.mark.parametrize("args", NARROWED.values(), ids=NARROWED.keys())
def test_a_narrowed_run_reports_coverage_without_the_floor(tmp_path: Path, args: list[str]) -> None:
    assert _pytest_arguments(tmp_path, *args) == [
        "-m",
        "pytest",
        "--cov",
        "--cov-report=term:skip-covered",
        "--cov-fail-under=0",
        *args,
    ]


def test_one_file_under_the_floor_passes_and_says_its_coverage(tmp_path: Path) -> None:
    # The suite's real command on one quick file, whose coverage is far under 90 %.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV")}
    script = 'source scripts/test && bin=.venv/bin && suite "$@"'
    args = ["-n0", "-q", "-p", "no:cacheprovider", "tests/test_masks.py"]
    proc = subprocess.run(
        ["bash", "-c", script, "bash", *args],
        cwd=ROOT,
        env={**env, "COVERAGE_FILE": str(tmp_path / ".coverage")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TOTAL" in proc.stdout and "passed" in proc.stdout
    assert "Required test coverage" not in proc.stdout
