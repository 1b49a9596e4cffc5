"""Benchmark the action's image: build, size, run, rebuild, and a fresh runner's job.

Usage: .venv/bin/python bench/run.py [--base IMAGE] [--only NAME ...]
(Docker up; see scripts/setup. fresh_job also needs ../shared/testbed.)

1. cold_build: build with no layer cache (base present), ours vs the naive
   build, best of 3
2. size: bytes each image adds to its base
3. run: one token request, container start to exit, against the fake X API on
   loopback: ours vs X's documented curl command in a container, median of 7
4. rebuild: after a change to one source file, which steps rebuild, and time
5. fresh_job: a job on a fresh runner (the second engine, reset before each
   sample), median of 5: (A) the Dockerfile path, building the image with the
   base pulled from the loopback registry and then one token request, vs (B) the
   release path, pulling the image pinned by digest and then one token request;
   with the bytes each path pulls
Prints a table and updates bench/results.json (the README's table comes from it:
scripts/readme_tables.py). Ratios, not absolute times, are what to compare: this
machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_x import API_KEY, API_SECRET, FakeX, Server  # noqa: E402
from testbed import Testbed  # noqa: E402

OURS, REFERENCE, CURL = "xbearer:bench", "xbearer-reference:bench", "xbearer-curl:bench"
TARGETS = {"size": 0.35, "cold_build": 0.8, "run": 1.5, "rebuild": 0.2, "fresh_job": 0.75}
RESULTS = ROOT / "bench" / "results.json"
INPUTS = {"INPUT_API-KEY": API_KEY, "INPUT_API-SECRET": API_SECRET, "INPUT_RETRIES": "0"}
Row = dict[str, float]


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"docker {' '.join(args[:3])} failed:\n{result.stdout}{result.stderr}")
    return result


def build(
    context: Path, tag: str, base: str, *, cache: bool, env: dict[str, str] | None = None
) -> tuple[float, str]:
    args = ["build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, str(context)]
    if not cache:
        args.insert(1, "--no-cache")
    started = time.perf_counter()
    out = docker(*args, env=env).stdout
    return time.perf_counter() - started, out


def size(image: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)


def run_action(image: str, url: str, env: dict[str, str] | None = None) -> None:
    """One token request by the action in its container, as a job step runs it."""
    variables = {**INPUTS, "INPUT_API-URL": url}
    args = [arg for name in variables for arg in ("-e", name)]
    docker(
        "run", "--rm", "--network", "host", *args, image, env={**(env or os.environ), **variables}
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def context_copy(dest: Path) -> Path:
    for name in ("Dockerfile", ".dockerignore", "requirements.txt"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def cold_build(context: Path, base: str) -> Row:
    ours, reference = [], []
    for _ in range(3):  # interleaved, so noise hits both alike
        ours.append(build(context, OURS, base, cache=False)[0])
        reference.append(build(ROOT / "bench" / "reference", REFERENCE, base, cache=False)[0])
    return {"ours_s": min(ours), "reference_s": min(reference)}


def image_size(context: Path, base: str) -> Row:
    build(context, OURS, base, cache=True)
    build(ROOT / "bench" / "reference", REFERENCE, base, cache=True)
    return {
        "ours_bytes": size(OURS) - size(base),
        "reference_bytes": size(REFERENCE) - size(base),
    }


def run(base: str, url: str, fake: FakeX) -> Row:
    build(ROOT / "bench" / "curl", CURL, base, cache=True)
    curl = [
        CURL,
        "-sSf",
        "-u",
        f"{API_KEY}:{API_SECRET}",
        "--data",
        "grant_type=client_credentials",
        f"{url}/oauth2/token",
    ]
    before = len(fake.token_requests())
    ours, reference = [], []
    for _ in range(7):
        ours.append(timed(lambda: run_action(OURS, url)))
        reference.append(timed(lambda: docker("run", "--rm", "--network", "host", *curl)))
    assert len(fake.token_requests()) - before == 14
    return {"ours_s": statistics.median(ours), "reference_s": statistics.median(reference)}


def rebuild(context: Path, base: str, cold_s: float) -> Row:
    source = context / "src" / "xbearer" / "cli.py"
    source.write_text(source.read_text() + "\n# changed\n")
    rebuild_s, log = build(context, OURS, base, cache=True)
    blocks = log.split("\nStep ")[1:]  # one per Dockerfile instruction
    steps = [b for b in blocks if not b.split(" : ", 1)[1].startswith(("ARG", "FROM"))]
    rebuilt = [b.split("\n", 1)[0] for b in steps if "Using cache" not in b]
    print(f"rebuild after one source change: {len(rebuilt)} of {len(steps)} steps: {rebuilt}")
    return {
        "ours_s": rebuild_s,
        "reference_s": cold_s,
        "steps": len(steps),
        "steps_rebuilt": len(rebuilt),
    }


def registry_bytes(testbed: Testbed, reference: str) -> int:
    """Compressed bytes a pull of this reference fetches: its layers and its config."""
    repository, digest = reference.removeprefix(testbed.registry + "/").split("@")
    request = urllib.request.Request(
        f"http://{testbed.registry}/v2/{repository}/manifests/{digest}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        manifest = json.load(answer)
    return int(manifest["config"]["size"]) + sum(int(x["size"]) for x in manifest["layers"])


def pip_bytes(build_log: str) -> int:
    """What pip downloaded during a build, from its `Downloading x.whl (N kB)` lines."""
    units = {"kB": 1e3, "MB": 1e6, "GB": 1e9}
    found = re.findall(r"Downloading \S+ \(([\d.]+) (kB|MB|GB)\)", build_log)
    return int(sum(float(n) * units[unit] for n, unit in found))


def fresh_job(context: Path, base: str, url: str) -> Row:
    testbed = Testbed(ROOT.parent / "shared" / "testbed")
    registry_base = testbed.push(base, "library/python", "3.13-slim")
    build(context, OURS, base, cache=True)
    released = testbed.push(OURS, "xbearer/action", "bench")
    fresh = {**os.environ, "DOCKER_HOST": testbed.fresh_host}
    dockerfile, release, downloads = [], [], 0
    for _ in range(5):  # interleaved, each on an engine reset to empty
        testbed.reset_fresh_engine()
        started = time.perf_counter()
        _, log = build(context, "xbearer:fresh", registry_base, cache=True, env=fresh)
        run_action("xbearer:fresh", url, fresh)
        dockerfile.append(time.perf_counter() - started)
        downloads = pip_bytes(log)
        testbed.reset_fresh_engine()
        started = time.perf_counter()
        docker("pull", released, env=fresh)
        run_action(released, url, fresh)
        release.append(time.perf_counter() - started)
    testbed.reset_fresh_engine()
    return {
        "ours_s": statistics.median(release),
        "reference_s": statistics.median(dockerfile),
        "ours_bytes": registry_bytes(testbed, released),
        "reference_bytes": registry_bytes(testbed, registry_base) + downloads,
        "reference_pip_bytes": downloads,
    }


def report(results: dict[str, Row]) -> None:
    print(f"{'measure':<12} {'ours':>12} {'reference':>12} {'ratio':>7} {'target':>7}")
    for name, row in results.items():
        by_time = "ours_s" in row
        ours, reference = (
            (row["ours_s"], row["reference_s"])
            if by_time
            else (row["ours_bytes"], row["reference_bytes"])
        )
        row["ratio"], row["target"] = ours / reference, TARGETS[name]
        unit, scale = ("s", 1.0) if by_time else ("MB", 1e6)
        print(
            f"{name:<12} {ours / scale:>10.2f}{unit:>2} {reference / scale:>10.2f}{unit:>2} "
            f"{row['ratio']:>7.2f} {'≤ ' + str(TARGETS[name]):>7}"
        )
    if "fresh_job" in results:
        row = results["fresh_job"]
        print(
            f"fresh_job pulls: release {row['ours_bytes'] / 1e6:.1f} MB; Dockerfile "
            f"{(row['reference_bytes'] - row['reference_pip_bytes']) / 1e6:.1f} MB of base "
            f"+ {row['reference_pip_bytes'] / 1e6:.1f} MB from PyPI"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "local/python-standin:3.13"))
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="repeatable")
    args = parser.parse_args()
    wanted = args.only or list(TARGETS)
    results: dict[str, Row] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    fake = FakeX()
    url = Server(fake).start()
    with tempfile.TemporaryDirectory() as tmp:
        context = context_copy(Path(tmp))
        if "cold_build" in wanted:
            results["cold_build"] = cold_build(context, args.base)
        if "size" in wanted:
            results["size"] = image_size(context, args.base)
        if "run" in wanted:
            build(context, OURS, args.base, cache=True)
            results["run"] = run(args.base, url, fake)
        if "fresh_job" in wanted:
            results["fresh_job"] = fresh_job(context, args.base, url)
        if "rebuild" in wanted:  # last: it changes the context
            build(context, OURS, args.base, cache=True)
            cold = results.get("cold_build", {}).get("ours_s", 0.0)
            results["rebuild"] = rebuild(context, args.base, cold)
    results = {name: results[name] for name in TARGETS if name in results}
    report(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
