"""Benchmark the action's images: what a fresh runner pulls, one run, builds, a fresh job.

Usage: PYTHONPATH=tests .venv/bin/python bench/run.py [--base IMAGE] [--only NAME ...]
(Docker up; see scripts/setup. pull_bytes, pull and fresh_job also need
../shared/testbed: a registry on loopback and a second, empty engine.)

"Release" is the image a release pushes (the Dockerfile's `release` target), "plain"
the one a job on `@main` builds (its default target).

1. pull_bytes: the compressed bytes a fresh runner pulls for the release image (its
   manifest's layers and config, in the loopback registry) vs for the base alone;
   with it built on bench/slim-like (a stand-in shaped like the real
   python:3.13-slim, which cannot be pulled here) and the real slim's own size
2. pull: pulling the release image by digest on the fresh engine, reset to empty
   before each sample, vs pulling the base alone there; interleaved, median of 5
3. run, run_naive, run_curl: one token request, container start to exit, against
   the fake X API on loopback; the release image vs the plain one (the same files,
   not cut down), vs the naive requests script (bench/reference), and vs X's
   documented curl command in a container; interleaved, median of 15
4. fresh_job: a job on a fresh runner (the second engine, reset before each
   sample), median of 5: (A) the Dockerfile path, building the plain image with
   the base pulled from the loopback registry and then one token request, vs (B)
   the release path, pulling the release image pinned by digest and then one token
   request; with the bytes each path pulls
5. cold_build, cold_build_buildkit: building the plain image with no layer cache
   (base present) vs the naive build, with the legacy builder and with BuildKit as
   GitHub's runners build (through a Docker client on PATH that has it): the four
   builds taking turns, each best of 3
6. rebuild: after a change to one source file, which steps of the plain image
   rebuild, and time, best of 3
7. native_warm, native_cold, native_cold_base_cached: the native action (native/: no
   Docker) started as the runner starts its composite step, one token request, side by
   side in one interleaved run with the Docker action: warm (a later step of the job,
   its packages already in RUNNER_TEMP; median of 15) vs one `docker run` of the built
   image (the release path, once pulled); cold (an empty RUNNER_TEMP: the locked wheels
   from PyPI, pip's cache off; median of 5) vs the `@main` path on a fresh runner (the
   second engine, reset: the Dockerfile built with the base pulled from the loopback
   registry, then one run), and vs the `@main` build where the base is already there (no
   layer cache, BuildKit as GitHub's runners build where a client has it, then one run)
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

from fakes import API_KEY, API_SECRET, FakeX, Server
from testbed import Testbed

ROOT = Path(__file__).resolve().parent.parent

OURS, PLAIN = "xbearer:bench", "xbearer-plain:bench"  # the release image; the default
SLIM_LIKE, ON_SLIM_LIKE = "xbearer-slim-like-base:bench", "xbearer-on-slim-like:bench"
NAIVE, CURL = "xbearer-reference:bench", "xbearer-curl:bench"
TARGETS = {
    "pull_bytes": 0.30,
    "pull": 0.35,
    "run": 1.0,
    "run_naive": 1.0,
    "run_curl": 1.5,
    "fresh_job": 0.75,
    "cold_build": 1.0,
    "cold_build_buildkit": 1.0,
    "rebuild": 0.2,
    "native_warm": 1.5,
    "native_cold": 0.5,
    "native_cold_base_cached": 0.5,
}
# python:3.13.15-slim for linux/amd64, the digest the Dockerfile pins: compressed
# transfer size per docker-library/repo-info, repos/python/remote/3.13.15-slim.md.
REAL_SLIM_BYTES = 45967048
RESULTS = ROOT / "bench" / "results.json"
INPUTS = {"INPUT_API-KEY": API_KEY, "INPUT_API-SECRET": API_SECRET, "INPUT_RETRIES": "0"}
Row = dict[str, float]


def docker(
    *args: str, env: dict[str, str] | None = None, client: str = "docker"
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([client, *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"docker {' '.join(args[:3])} failed:\n{result.stdout}{result.stderr}")
    return result


def build(
    context: Path,
    tag: str,
    base: str,
    *,
    env: dict[str, str] | None = None,
    target: str | None = None,
    buildkit: str | None = None,
) -> tuple[float, str]:
    """A build that may use the layer cache: the time, and the log. With the legacy
    builder, whose log names each step and whether it came from the cache, or with
    BuildKit through the client `buildkit` (its plain progress says as much)."""
    args = ["build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, str(context)]
    if target:
        args[1:1] = ["--target", target]
    if buildkit:
        args.insert(1, "--progress=plain")
    env = {**(env or os.environ), "DOCKER_BUILDKIT": "1" if buildkit else "0"}
    started = time.perf_counter()
    done = docker(*args, env={**env, "BUILDX_BUILDER": "default"}, client=buildkit or "docker")
    return time.perf_counter() - started, done.stdout + done.stderr


def run_action(image: str, url: str, env: dict[str, str] | None = None) -> None:
    """One token request by the action in its container, as a job step runs it: with
    the runner's file-command files (the action refuses to run without them)."""
    with tempfile.TemporaryDirectory() as files:
        variables = {**INPUTS, "INPUT_API-URL": url}
        for name in ("OUTPUT", "STATE"):
            (Path(files) / name).touch()
            variables[f"GITHUB_{name}"] = f"/github/file_commands/{name}"
        args = [arg for name in variables for arg in ("-e", name)]
        mount = ["-v", f"{files}:/github/file_commands"]
        environment = {**(env or os.environ), **variables}
        docker("run", "--rm", "--network", "host", *mount, *args, image, env=environment)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def context_copy(dest: Path) -> Path:
    for name in ("Dockerfile", ".dockerignore", "requirements.txt"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "scripts").mkdir()
    for name in ("image_tree.py", "image_bytecode.py"):
        shutil.copy2(ROOT / "scripts" / name, dest / "scripts" / name)
    return dest


def interleaved(samples: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Time each action `rounds` times, taking turns and rotating who goes first, so
    that the machine's noise falls on all alike."""
    names = list(samples)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(rounds):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            times[name].append(timed(samples[name]))
    return times


def runs(context: Path, base: str, url: str, fake: FakeX) -> dict[str, Row]:
    """One token request, container start to exit: the release image vs the plain one,
    the naive script and curl."""
    build(context, OURS, base, target="release")
    build(context, PLAIN, base)
    build(ROOT / "bench" / "reference", NAIVE, base)
    build(ROOT / "bench" / "curl", CURL, base)
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
    times = interleaved(
        {
            "ours": lambda: run_action(OURS, url),
            "run": lambda: run_action(PLAIN, url),
            "run_naive": lambda: run_action(NAIVE, url),
            "run_curl": lambda: docker("run", "--rm", "--network", "host", *curl),
        },
        rounds=15,
    )
    assert len(fake.token_requests()) - before == 4 * 15
    ours = statistics.median(times.pop("ours"))
    return {
        name: {"ours_s": ours, "reference_s": statistics.median(samples)}
        for name, samples in times.items()
    }


def step_times(log: str, times: list[float], total: float) -> dict[str, float]:
    """Seconds per Dockerfile instruction of a legacy build, from when each `Step N/M :`
    line arrived (`times`, one per line of `log`) to the next (the last: to the end)."""
    starts = [(t, line) for line, t in zip(log.splitlines(), times, strict=True)]
    starts = [(t, line.split(" : ", 1)[1]) for t, line in starts if line.startswith("Step ")]
    ends = [t for t, _ in starts[1:]] + [total]
    return {
        f"{i + 1} {what[:60]}": round(end - t, 2)
        for i, ((t, what), end) in enumerate(zip(starts, ends, strict=True))
    }


def buildkit_steps(log: str) -> dict[str, float]:
    """Seconds per step of a BuildKit build, as its plain progress reports them (`#7
    [build 3/3] RUN ...`, then `#7 DONE 1.4s`); BuildKit may run steps side by side."""
    names = dict(re.findall(r"^(#\d+) (\[[^\]]+\] .*|exporting to image)$", log, re.M))
    done = re.findall(r"^(#\d+) DONE ([\d.]+)s$", log, re.M)
    steps = [
        (names[n], float(t))
        for n, t in done
        if not names.get(n, "[internal]").startswith("[internal]")
    ]
    return {f"{i + 1} {what.split('] ', 1)[-1][:60]}": t for i, (what, t) in enumerate(steps)}


def buildkit_docker() -> str | None:
    """A Docker client on PATH that builds with BuildKit, as GitHub's runners do: one
    with buildx, or one from before buildx (18.09 to 22.x) that has BuildKit built in.
    None if there is none (an engine that old may still build with BuildKit)."""
    clients = {
        str(Path(d, "docker").resolve())
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if Path(d, "docker").is_file()
    }
    for client in sorted(clients):
        probe = subprocess.run(
            [client, "build", "--progress=plain", "-t", "xbearer-buildkit-probe:bench", "-"],
            input="FROM scratch\nLABEL probe=buildkit\n",
            capture_output=True,
            text=True,
            env={**os.environ, "DOCKER_BUILDKIT": "1", "BUILDX_BUILDER": "default"},
            check=False,
        )
        subprocess.run(
            [client, "rmi", "xbearer-buildkit-probe:bench"], capture_output=True, check=False
        )
        if probe.returncode == 0 and "[internal] load build definition" in probe.stderr:
            return client
    return None


def timed_build(
    context: Path, tag: str, base: str, buildkit: str | None = None
) -> tuple[float, dict[str, float]]:
    """A build with no layer cache, its output read as it comes: the time, and per step.
    With the legacy builder, or with BuildKit through the client `buildkit`."""
    args = [buildkit or "docker", "build", "--no-cache", "--network", "host"]
    args += ["--build-arg", f"BASE={base}", "-t", tag, str(context)]
    if buildkit:
        args.insert(2, "--progress=plain")
    # BuildKit through buildx's default builder, the engine's own, so the image lands in it.
    env = {**os.environ, "DOCKER_BUILDKIT": "1" if buildkit else "0", "BUILDX_BUILDER": "default"}
    started = time.perf_counter()
    lines, times = [], []
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            times.append(time.perf_counter() - started)
    total = time.perf_counter() - started
    log = "\n".join(lines)
    if proc.returncode:
        raise SystemExit(f"docker build {context} failed:\n" + log)
    return total, buildkit_steps(log) if buildkit else step_times(log, times, total)


def cold_builds(context: Path, base: str, builders: dict[str, str | None]) -> dict[str, Row]:
    """The plain image's build with no layer cache vs the naive build, with each builder
    (a row's name: None for the legacy builder, or a client that has BuildKit): the
    builds take turns, rotating who goes first, so that the machine's noise falls on all
    alike; each the best of 3."""
    builds = {
        (name, who): (context, PLAIN) if who == "ours" else (ROOT / "bench" / "reference", NAIVE)
        for name in builders
        for who in ("ours", "naive")
    }
    order = list(builds)
    samples: dict[tuple[str, str], list[tuple[float, dict[str, float]]]] = {b: [] for b in order}
    for turn in range(3):
        for key in order[turn:] + order[:turn]:
            where, tag = builds[key]
            samples[key].append(timed_build(where, tag, base, builders[key[0]]))
    rows = {}
    for name, client in builders.items():
        best, naive = min(samples[name, "ours"]), min(samples[name, "naive"])
        builder = "BuildKit" if client else "legacy builder"
        for who, (total, steps) in (("ours", best), ("naive", naive)):
            print(
                f"cold build ({builder}), {who}: {total:.2f} s: "
                + "; ".join(f"{k} {v}" for k, v in steps.items())
            )
        rows[name] = {
            "ours_s": best[0],
            "reference_s": naive[0],
            **{f"ours step {k}": v for k, v in best[1].items()},
            **{f"naive step {k}": v for k, v in naive[1].items()},
        }
    return rows


def rebuild(context: Path, base: str, cold_s: float, buildkit: str | None) -> Row:
    """After a change to one source file, which steps of the plain image rebuild and how
    long, best of 3 (each a new change, so that each rebuilds), with BuildKit if a client
    has it (else the legacy builder), as its cold build is measured."""
    source = context / "src" / "xbearer" / "cli" / "__init__.py"
    samples = []
    for turn in range(3):
        # A change never built before, or the cache of an earlier run would have it.
        source.write_text(source.read_text() + f"\n# changed {turn} at {time.time_ns()}\n")
        samples.append(build(context, PLAIN, base, buildkit=buildkit))
    rebuild_s, log = min(samples)
    steps, rebuilt = rebuilt_steps(log, buildkit=bool(buildkit))
    print(f"rebuild after one source change: {len(rebuilt)} of {len(steps)} steps: {rebuilt}")
    return {
        "ours_s": rebuild_s,
        "reference_s": cold_s,
        "steps": len(steps),
        "steps_rebuilt": len(rebuilt),
    }


def rebuilt_steps(log: str, *, buildkit: bool) -> tuple[list[str], list[str]]:
    """The steps of a build's log (ARG and FROM aside), and those not taken from cache."""
    if buildkit:  # `#7 [plain 3/5] COPY src/ /app/`, and `#7 CACHED` if it was
        named = re.findall(r"^(#\d+) \[[^\]]+ \d+/\d+\] (.*)$", log, re.M)
        cached = set(re.findall(r"^(#\d+) CACHED$", log, re.M))
        kept = [(n, what) for n, what in named if not what.startswith("FROM")]
        return [what for _, what in kept], [what for n, what in kept if n not in cached]
    blocks = log.split("\nStep ")[1:]  # one per Dockerfile instruction
    instructions = [b for b in blocks if not b.split(" : ", 1)[1].startswith(("ARG", "FROM"))]
    steps = [b.split("\n", 1)[0] for b in instructions]
    return steps, [b.split("\n", 1)[0] for b in instructions if "Using cache" not in b]


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


class Released:
    """The base and our image pushed to the loopback registry, as a release pushes it."""

    def __init__(self, context: Path, base: str) -> None:
        self.testbed = Testbed(ROOT.parent / "shared" / "testbed")
        self.base = self.testbed.push(base, "library/python", "3.13-slim")
        build(context, OURS, base, target="release")
        self.ours = self.testbed.push(OURS, "xbearer/action", "bench")
        self.fresh = {**os.environ, "DOCKER_HOST": self.testbed.fresh_host}


def pull_bytes(released: Released, context: Path, base: str) -> Row:
    """The release image vs the base; and it built on a stand-in shaped like the real slim."""
    build(ROOT / "bench" / "slim-like", SLIM_LIKE, base)
    build(context, ON_SLIM_LIKE, SLIM_LIKE, target="release")
    on_slim_like = released.testbed.push(ON_SLIM_LIKE, "xbearer/on-slim-like", "bench")
    return {
        "ours_bytes": registry_bytes(released.testbed, released.ours),
        "reference_bytes": registry_bytes(released.testbed, released.base),
        "real_slim_bytes": REAL_SLIM_BYTES,
        "ours_on_slim_like_bytes": registry_bytes(released.testbed, on_slim_like),
    }


def pull(released: Released) -> Row:
    samples: dict[str, list[float]] = {"ours": [], "base": []}
    for turn in range(5):  # interleaved, each on an engine reset to empty
        order = [("ours", released.ours), ("base", released.base)]
        for name, reference in order[turn % 2 :] + order[: turn % 2]:
            released.testbed.reset_fresh_engine()
            started = time.perf_counter()
            docker("pull", reference, env=released.fresh)
            samples[name].append(time.perf_counter() - started)
    released.testbed.reset_fresh_engine()
    return {
        "ours_s": statistics.median(samples["ours"]),
        "reference_s": statistics.median(samples["base"]),
    }


def fresh_job(released: Released, context: Path, url: str, buildkit: str | None) -> Row:
    """The Dockerfile path (the plain image built as a job on `@main` builds it: with
    BuildKit, if a client has it) vs the release path, on an engine reset to empty."""
    fresh, testbed = released.fresh, released.testbed
    dockerfile, release, downloads = [], [], 0
    for _ in range(5):  # interleaved, each on an engine reset to empty
        testbed.reset_fresh_engine()
        started = time.perf_counter()
        _, log = build(context, "xbearer:fresh", released.base, env=fresh, buildkit=buildkit)
        run_action("xbearer:fresh", url, fresh)
        dockerfile.append(time.perf_counter() - started)
        downloads = pip_bytes(log)
        testbed.reset_fresh_engine()
        started = time.perf_counter()
        docker("pull", released.ours, env=fresh)
        run_action(released.ours, url, fresh)
        release.append(time.perf_counter() - started)
    testbed.reset_fresh_engine()
    return {
        "ours_s": statistics.median(release),
        "reference_s": statistics.median(dockerfile),
        "ours_bytes": registry_bytes(testbed, released.ours),
        "reference_bytes": registry_bytes(testbed, released.base) + downloads,
        "reference_pip_bytes": downloads,
    }


def native_step(url: str, runner_temp: Path, env: dict[str, str] | None = None) -> str:
    """One token request by the native action as the runner runs its composite step:
    bash with the step's script from native/action.yml, the inputs as its `env:` gives
    them, the file-command files, a Python 3.11+ first on PATH (as a hosted runner's
    python3: the interpreter itself, not a shim); its log."""
    import yaml

    (step,) = yaml.safe_load((ROOT / "native" / "action.yml").read_text())["runs"]["steps"]
    python = Path(sys.base_prefix) / "bin"
    with tempfile.TemporaryDirectory() as files:
        variables = {**os.environ, **INPUTS, "INPUT_API-URL": url, **(env or {})}
        for name in ("OUTPUT", "STATE"):
            (Path(files) / name).touch()
            variables[f"GITHUB_{name}"] = str(Path(files) / name)
        variables.update(
            GITHUB_ACTION_PATH=str(ROOT / "native"),
            RUNNER_TEMP=str(runner_temp),
            PATH=f"{python}{os.pathsep}{os.environ['PATH']}",
        )
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=variables,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode or not (Path(files) / "OUTPUT").read_text():
            raise SystemExit(f"the native action failed:\n{done.stdout}{done.stderr}")
        return done.stdout


def native_starts(released: Released | None, context: Path, base: str, url: str) -> dict[str, Row]:
    """The native action's start, warm and cold, against the Docker action's release path
    and its @main build, in one run, interleaved round by round."""
    build(context, OURS, base, target="release")
    buildkit = buildkit_docker()
    cold_env = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1"}  # PyPI, every byte
    with tempfile.TemporaryDirectory() as tmp:
        warm_temp = Path(tmp, "warm")
        native_step(url, warm_temp, cold_env)  # the job's first step: the later ones reuse it
        caches = iter(range(100))

        def cold() -> None:
            log = native_step(url, Path(tmp, f"cold-{next(caches)}"), cold_env)
            assert "Installed the action's" in log, log

        def main_cached_base() -> None:
            timed_build(context, "xbearer:main-bench", base, buildkit)
            run_action("xbearer:main-bench", url)

        def main_fresh() -> None:
            assert released is not None
            released.testbed.reset_fresh_engine()
            build(context, "xbearer:fresh", released.base, env=released.fresh, buildkit=buildkit)
            run_action("xbearer:fresh", url, released.fresh)

        heavy: dict[str, Callable[[], object]] = {
            "cold": cold,
            "main_cached_base": main_cached_base,
        }
        if released is not None:
            heavy["main_fresh"] = main_fresh
        light: dict[str, Callable[[], object]] = {
            "warm": lambda: native_step(url, warm_temp),
            "docker_run": lambda: run_action(OURS, url),
        }
        times: dict[str, list[float]] = {name: [] for name in (*heavy, *light)}
        for _ in range(5):  # each round: every heavy sample once, the light ones 3 times
            for name, samples in (*interleaved(heavy, 1).items(), *interleaved(light, 3).items()):
                times[name] += samples
    if released is not None:
        released.testbed.reset_fresh_engine()
    median = {name: statistics.median(samples) for name, samples in times.items()}
    rows = {
        "native_warm": {"ours_s": median["warm"], "reference_s": median["docker_run"]},
        "native_cold_base_cached": {
            "ours_s": median["cold"],
            "reference_s": median["main_cached_base"],
        },
    }
    if released is not None:
        rows["native_cold"] = {"ours_s": median["cold"], "reference_s": median["main_fresh"]}
    else:
        print("native_cold: not measured: the fresh-runner @main path needs ../shared/testbed")
    return rows


NATIVE_ROWS = {"native_warm", "native_cold", "native_cold_base_cached"}


def native_rows(context: Path, base: str, url: str) -> dict[str, Row]:
    """native_starts, with the fresh runner when ../shared/testbed is there."""
    if not (ROOT.parent / "shared" / "testbed" / "registry-up").exists():
        return native_starts(None, context, base, url)
    released = Released(context, base)
    try:
        return native_starts(released, context, base, url)
    finally:
        released.testbed.close()  # what it started, it stops


def report(results: dict[str, Row]) -> None:
    print(f"{'measure':<24} {'ours':>12} {'reference':>12} {'ratio':>7} {'target':>7}")
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
            f"{name:<24} {ours / scale:>10.2f}{unit:>2} {reference / scale:>10.2f}{unit:>2} "
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
    client = buildkit_docker()
    if not client:
        print(
            "no Docker client on PATH builds with BuildKit (one with buildx, or one from "
            "18.09 to 22.x): cold_build_buildkit is not measured, the rest builds with the "
            "legacy builder"
        )
    with tempfile.TemporaryDirectory() as tmp:
        context = context_copy(Path(tmp))
        if {"run", "run_naive", "run_curl"} & set(wanted):
            results.update(runs(context, args.base, url, fake))
        if {"pull_bytes", "pull", "fresh_job"} & set(wanted):
            released = Released(context, args.base)
            try:
                results["pull_bytes"] = pull_bytes(released, context, args.base)
                if "pull" in wanted:
                    results["pull"] = pull(released)
                if "fresh_job" in wanted:
                    results["fresh_job"] = fresh_job(released, context, url, client)
            finally:
                released.testbed.close()  # what it started, it stops
        if NATIVE_ROWS & set(wanted):
            results.update(native_rows(context, args.base, url))
        builders: dict[str, str | None] = {"cold_build": None} if "cold_build" in wanted else {}
        if "cold_build_buildkit" in wanted and client:
            builders["cold_build_buildkit"] = client
        if builders:
            results.update(cold_builds(context, args.base, builders))
        if "rebuild" in wanted:  # last: it changes the context
            build(context, PLAIN, args.base, buildkit=client)
            cold = results.get("cold_build_buildkit" if client else "cold_build", {})
            results["rebuild"] = rebuild(context, args.base, cold.get("ours_s", 0.0), client)
    results = {name: results[name] for name in TARGETS if name in results}
    report(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
