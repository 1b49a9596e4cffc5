"""Benchmark the test suite: `pytest -m "not testbed"` here against a reference commit.

Usage: .venv/bin/python bench/suite.py [--reference COMMIT] [--rounds N]
(Docker up; see scripts/setup.) The reference (by default the last commit before the
suite was made parallel and its validators in-process) is checked out beside this
one, so that its tests find ../shared as these do; the two suites run in turn, each
`rounds` times, and the best wall time of each is compared. The machine is shared and
noisy: the ratio is what counts. Writes bench/suite-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "8531005"  # before issue 22: serial, a process per bad input
COMMAND = [sys.executable, "-m", "pytest", "-m", "not testbed", "-q", "-p", "no:cacheprovider"]


def _timed(checkout: Path, image: str) -> tuple[float, str]:
    """One run of the suite in a checkout: its wall time and its last line."""
    env = {**os.environ, "XBEARER_TEST_IMAGE": image}
    start = time.perf_counter()
    done = subprocess.run(
        COMMAND, cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    last = done.stdout.strip().rpartition("\n")[2]
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        sys.exit("\n".join([f"the suite failed in {checkout}: {last}", *failed]))
    return wall, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    reference = Path(tempfile.mkdtemp(prefix=".suite-reference-", dir=ROOT.parent))
    subprocess.run(
        ["git", "worktree", "add", "-q", "--detach", str(reference), args.reference],
        cwd=ROOT,
        check=True,
    )
    walls: dict[str, list[float]] = {"reference": [], "head": []}
    lines = {}
    try:
        for _ in range(args.rounds):
            for name, checkout in (("reference", reference), ("head", ROOT)):
                wall, lines[name] = _timed(checkout, f"xbearer-suite-{name}:bench")
                walls[name].append(wall)
                print(f"{name}: {wall:.1f} s ({lines[name]})", flush=True)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(reference)], cwd=ROOT, check=True
        )
    best = {name: min(times) for name, times in walls.items()}
    passed = {name: int(re.findall(r"(\d+) passed", line)[0]) for name, line in lines.items()}
    result = {
        "reference": args.reference,
        "command": "pytest -m 'not testbed'",
        "wall_s": {name: round(t, 1) for name, t in best.items()},
        "tests_passed": passed,
        "ratio": round(best["head"] / best["reference"], 2),
        "target": 0.5,
    }
    (ROOT / "bench" / "suite-results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
