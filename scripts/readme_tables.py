"""Keep the generated tables of the docs equal to their sources.

The README's inputs and outputs come from action.yml; docs/performance.md's figures
from bench/results.json. `python scripts/readme_tables.py` rewrites the tables
between the files' markers; tests/test_docs.py fails when they differ from what this
renders.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKERS = re.compile(
    r"(<!-- (inputs|outputs): generated from action.yml -->\n"
    r"|<!-- (bench): generated from bench/results.json -->\n).*?(<!-- end -->)",
    re.S,
)
# measure: (what it is, what it is compared with, why it can miss its target here)
MEASURES = {
    "pull_bytes": (
        "compressed bytes a fresh runner pulls",
        "the base image alone",
        "the image keeps the interpreter, the standard library that can run here with its "
        "bytecode, OpenSSL and the packages; nothing more can go without losing a mode.",
    ),
    "pull": (
        "pulling the image on an empty engine (median of 5)",
        "pulling the base image alone",
        "pulling pays a fixed cost per image and per layer besides the bytes.",
    ),
    "run": (
        "one token request, container start to exit (median of 15)",
        "the default image a job on `@main` builds: the same files, not cut down",
        "the two images run the same Python and the same code; only their files differ.",
    ),
    "run_naive": (
        "one token request, container start to exit (median of 15)",
        "a naive `requests` script in the whole base",
        "the two are level within this machine's noise. Both import the same `requests`; "
        "the naive script does less (no input checks, masks or retries), while the action's "
        "entry points keep what loading made out of the garbage collector's way and its "
        "image starts without the base.",
    ),
    "run_curl": (
        "one token request, container start to exit (median of 15)",
        "X's `curl` command",
        "the target leaves about 50 ms for all of Python, and a run takes about 70 ms of "
        "CPU in the container (measured apart from this table, from outside the process), "
        "nearly all of it importing `requests` and `actions-toolkit`, which this action "
        "must use; the interpreter's own start is about 6 ms of it.",
    ),
    "fresh_job": (
        "a job on a fresh runner: pull the released image by digest, one request (median of 5)",
        "build the Dockerfile's default target there with BuildKit, one request",
        "both paths first pull the base, which dominates here: the offline stand-in for "
        "`python:3.13-slim` is one large layer that this engine unpacks slowly, while the "
        "build the release path saves is short, because PyPI is milliseconds away. On "
        "GitHub's runners the base is the real, smaller `python:3.13-slim` and every job's "
        "build installs from PyPI over the network, so the gain is larger (users of Docker "
        "actions report 30–60 s per job falling to 2–5 s with a prebuilt image).",
    ),
    "cold_build": (
        "cold build, legacy builder, no layer cache (best of 3)",
        "naive `pip install` build",
        "the legacy builder (Docker before 23, or `DOCKER_BUILDKIT=0`; GitHub's runners use "
        "BuildKit) builds every stage before the one asked for, so the default target pays "
        "for the release image's stages too: cutting the files down and copying them `FROM "
        "scratch`. BuildKit builds only the stages the target needs.",
    ),
    "cold_build_buildkit": (
        "cold build with BuildKit, as GitHub's runners build, no layer cache (best of 3)",
        "naive `pip install` build",
        "ours installs fewer packages than the naive build (no PyGithub, no cryptography) "
        "and compiles only what runs, but in two steps where the naive build has one: the "
        "packages, then, after the source, the bytecode of what the modes load, which needs "
        "both; each step costs BuildKit a container, and this machine's noise is as large as "
        "the difference.",
    ),
    "rebuild": (
        "rebuild after one source change (best of 3)",
        "our cold build",
        "a source change rebuilds the two steps after it: copying the source, and compiling "
        "what the modes load in one pass, the packages' and the standard library's part "
        "included (a second pass before the source would spare that part, and make the "
        "build less plain). A job on `@main` never rebuilds: it starts with no layer cache.",
    ),
    "native_warm": (
        "the native action (no Docker), warm, as a later step of the same job: its packages "
        "in RUNNER_TEMP, one request (median of 15)",
        "one `docker run` of the built image: the release path, once pulled",
        "the native start is bash, a Python asked its version, then the action's Python "
        "loading the same modules as in the container, with no container to start.",
    ),
    "native_cold": (
        "the native action, cold: the locked wheels installed from PyPI (no pip cache), "
        "one request (median of 5)",
        "the `@main` path on a fresh runner: the base pulled, the Dockerfile built, one run",
        "the cold start is pip fetching ten index pages and ten wheels from PyPI one after "
        "another, checking and unpacking them, then the run.",
    ),
    "native_cold_base_cached": (
        "the native action, cold (the same samples)",
        "the `@main` build where the base is already there: no layer cache, then one run",
        "that build installs the same wheels from PyPI too (its longest step), so half of it "
        "leaves the native start less than its own download: the cold start is pip fetching "
        "ten index pages and ten wheels one after another (here through this machine's "
        "route to PyPI), checking, unpacking and compiling them. Every job pays it once, in "
        "its first native step; the later steps of that job start warm.",
    ),
}


def tables(action: dict[str, Any]) -> dict[str, str]:
    """Markdown tables for the inputs and outputs of an action.yml."""
    rows = ["| input | default | description |", "|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = f"`{spec['default']}`" if "default" in spec else "—"
        rows.append(f"| `{name}` | {default} | {spec['description']} |")
    outputs = ["| output | description |", "|---|---|"]
    outputs += [f"| `{name}` | {spec['description']} |" for name, spec in action["outputs"].items()]
    return {"inputs": "\n".join(rows), "outputs": "\n".join(outputs)}


def _figure(row: dict[str, float], side: str) -> str:
    if f"{side}_s" in row:
        return f"{row[f'{side}_s']:.2f} s"
    return f"{row[f'{side}_bytes'] / 1e6:.1f} MB"


def bench_table(results: dict[str, dict[str, float]]) -> str:
    """The benchmark table, what a fresh job pulls, and why any missed target was missed."""
    rows = [
        "| measure | ours | reference | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    for name, row in results.items():
        what, reference, why = MEASURES[name]
        met = row["ratio"] <= row["target"]
        rows.append(
            f"| {what} | {_figure(row, 'ours')} | {_figure(row, 'reference')} ({reference}) "
            f"| {row['ratio']:.2f} | ≤ {row['target']:g} | {'yes' if met else '**no**'} |"
        )
        if not met:
            short = what.split(":")[0].split(" (")[0]
            digits = 1 if name.endswith("buildkit") else 2
            notes.append(
                f"- **{short}**, against {reference}, misses its target: {why}"
                + _steps(row, digits)
            )
    if "pull_bytes" in results:
        notes.insert(0, _real_slim(results["pull_bytes"]))
    if {"cold_build", "cold_build_buildkit"} & set(results):
        notes.insert(0, _main_against_release(results))
    if "fresh_job" in results:
        job = results["fresh_job"]
        pip = job["reference_pip_bytes"]
        notes.insert(
            0,
            f"A fresh job pulls {job['ours_bytes'] / 1e6:.1f} MB by the release path, and "
            f"{(job['reference_bytes'] - pip) / 1e6:.1f} MB of base image plus "
            f"{pip / 1e6:.1f} MB of wheels from PyPI by the Dockerfile path.\n",
        )
    return "\n".join(rows) + ("\n\n" + "\n".join(notes) if notes else "")


def _steps(row: dict[str, float], digits: int) -> str:
    """A build's time per Dockerfile step, where the benchmark recorded it, to the
    `digits` its builder reports (BuildKit: tenths of a second)."""
    said = []
    for who, prefix in (("ours", "ours step "), ("naive", "naive step ")):
        steps = [(k.removeprefix(prefix), v) for k, v in row.items() if k.startswith(prefix)]
        shown = "; ".join(
            f"`{name.split(' ', 1)[1][:40]}` {v:.{digits}f} s" for name, v in steps if v >= 0.05
        )
        if shown:
            said.append(f"{who}: {shown}")
    return f" Per step (best of 3), {'. '.join(said)}." if said else ""


def _main_against_release(results: dict[str, dict[str, float]]) -> str:
    """What a job on `@main` (which builds the Dockerfile) pays against one on a release."""
    line = (
        "Until the first release, a job on `@main` (or on a commit) builds the `Dockerfile`'s "
        "default target, the plain image"
    )
    if "fresh_job" in results:
        job = results["fresh_job"]
        line += (
            f": {job['reference_s']:.1f} s on a fresh runner here, one request included, "
            f"against {job['ours_s']:.1f} s for a job on a release, which pulls the image "
            "by digest"
        )
    builds = [
        f"{results[name]['ours_s']:.1f} s {how} ({results[name]['ratio']:.2f} of a naive build's "
        "time)"
        for name, how in (
            ("cold_build_buildkit", "with BuildKit, as GitHub's runners build"),
            ("cold_build", "with the legacy builder"),
        )
        if name in results
    ]
    return line + (
        f". Where the base is already present, it still pays the cold build, "
        f"{' and '.join(builds)} here, which a job on a release does not.\n"
    )


def _real_slim(row: dict[str, float]) -> str:
    """What the real base weighs, and what the image built on it would weigh."""
    real, shaped = row["real_slim_bytes"], row["ours_on_slim_like_bytes"]
    return (
        f"The base here is the offline stand-in for `python:3.13-slim`, "
        f"{row['reference_bytes'] / 1e6:.1f} MB compressed. The real `python:3.13-slim` the "
        f"Dockerfile pins weighs {real / 1e6:.1f} MB for linux/amd64 (docker-library/repo-info). "
        "Built on a stand-in shaped like it (`bench/slim-like`: python.org's CPython 3.13 "
        "built as the official image builds it, in `/usr/local`, on the same Debian), the "
        f"image weighs {shaped / 1e6:.1f} MB: about {shaped / real:.2f} of the real base.\n"
    )


GENERATED = (ROOT / "README.md", ROOT / "docs" / "performance.md")


def render(readme: str, action: dict[str, Any], results: dict[str, dict[str, float]]) -> str:
    """A document with every generated table in it rendered anew."""
    generated = {**tables(action), "bench": bench_table(results)}
    return MARKERS.sub(
        lambda m: m.group(1) + generated[m.group(2) or m.group(3)] + "\n" + m.group(4), readme
    )


def sources() -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """action.yml and bench/results.json, parsed."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    return action, results


def main() -> int:
    for path in GENERATED:
        path.write_text(render(path.read_text(), *sources()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
