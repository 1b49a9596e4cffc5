"""Benchmark the action's image against the naive build (issue: performance).

Usage: .venv/bin/python bench/run.py [--base IMAGE]   (Docker up; see scripts/setup)

1. cold build (no layer cache, base present): ours vs the reference, best of 3
2. bytes each image adds to its base
3. one token request, container start to exit, against the fake X API on
   loopback: ours vs X's documented curl command in a container, median of 7
4. rebuild after a change to one source file: which steps rebuild, and time
Prints a table and writes bench/results.json. Ratios, not absolute times, are
what to compare: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_x import API_KEY, API_SECRET, FakeX, Server  # noqa: E402

OURS, REFERENCE, CURL = "xbearer:bench", "xbearer-reference:bench", "xbearer-curl:bench"
TARGETS = {"size": 0.35, "cold_build": 0.8, "run": 1.5, "rebuild": 0.2}


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"docker {' '.join(args[:3])} failed:\n{result.stdout}{result.stderr}")
    return result


def build(context: Path, tag: str, base: str, *, cache: bool) -> tuple[float, str]:
    args = ["build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, str(context)]
    if not cache:
        args.insert(1, "--no-cache")
    started = time.perf_counter()
    out = docker(*args).stdout
    return time.perf_counter() - started, out


def size(image: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)


def timed_run(args: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"docker run failed: {result.stdout}{result.stderr}")
    return elapsed


def context_copy(dest: Path) -> Path:
    for name in ("Dockerfile", ".dockerignore", "requirements.txt"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "local/python-standin:3.13"))
    base = parser.parse_args().base
    results: dict[str, dict[str, float]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        context = context_copy(Path(tmp))
        ours_builds, ref_builds = [], []
        for _ in range(3):  # interleaved, so noise hits both alike
            ours_builds.append(build(context, OURS, base, cache=False)[0])
            ref_builds.append(build(ROOT / "bench" / "reference", REFERENCE, base, cache=False)[0])
        results["cold_build"] = {"ours_s": min(ours_builds), "reference_s": min(ref_builds)}

        base_size = size(base)
        results["size"] = {
            "ours_bytes": size(OURS) - base_size,
            "reference_bytes": size(REFERENCE) - base_size,
        }

        build(ROOT / "bench" / "curl", CURL, base, cache=True)
        fake = FakeX()
        url = Server(fake).start()
        env = {
            **os.environ,
            "INPUT_API-KEY": API_KEY,
            "INPUT_API-SECRET": API_SECRET,
            "INPUT_API-URL": url,
            "INPUT_RETRIES": "0",
        }
        ours_args = [
            "-e",
            "INPUT_API-KEY",
            "-e",
            "INPUT_API-SECRET",
            "-e",
            "INPUT_API-URL",
            "-e",
            "INPUT_RETRIES",
            OURS,
        ]
        curl_args = [
            CURL,
            "-sSf",
            "-u",
            f"{API_KEY}:{API_SECRET}",
            "--data",
            "grant_type=client_credentials",
            f"{url}/oauth2/token",
        ]
        ours_runs, curl_runs = [], []
        for _ in range(7):
            ours_runs.append(timed_run(ours_args, env))
            curl_runs.append(timed_run(curl_args))
        results["run"] = {
            "ours_s": statistics.median(ours_runs),
            "reference_s": statistics.median(curl_runs),
        }
        assert len(fake.token_requests()) == 14

        source = context / "src" / "xbearer" / "cli.py"
        source.write_text(source.read_text() + "\n# changed\n")
        rebuild_s, log = build(context, OURS, base, cache=True)
        blocks = log.split("\nStep ")[1:]  # one per Dockerfile instruction
        steps = [b for b in blocks if not b.split(" : ", 1)[1].startswith(("ARG", "FROM"))]
        rebuilt = [b.split("\n", 1)[0] for b in steps if "Using cache" not in b]
        results["rebuild"] = {
            "ours_s": rebuild_s,
            "reference_s": results["cold_build"]["ours_s"],
            "steps": len(steps),
            "steps_rebuilt": len(rebuilt),
        }

    print(f"{'measure':<12} {'ours':>12} {'reference':>12} {'ratio':>7} {'target':>7}")
    for name, row in results.items():
        ours_value = row.get("ours_s", row.get("ours_bytes", 0))
        ref_value = row.get("reference_s", row.get("reference_bytes", 1))
        row["ratio"] = ours_value / ref_value
        row["target"] = TARGETS[name]
        unit = "MB" if name == "size" else "s"
        scale = 1e6 if name == "size" else 1
        print(
            f"{name:<12} {ours_value / scale:>10.2f}{unit:>2} {ref_value / scale:>10.2f}{unit:>2} "
            f"{row['ratio']:>7.2f} {'≤ ' + str(TARGETS[name]):>7}"
        )
    print(
        f"rebuild after one source change: {results['rebuild']['steps_rebuilt']:.0f} of "
        f"{results['rebuild']['steps']:.0f} steps rebuilt: {rebuilt} "
        "(the rebuild ratio is against our own cold build)"
    )
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
