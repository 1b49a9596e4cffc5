"""Nothing that runs is missing from the release image: each mode (tests/image_modes.py)
runs under strace in the default image (the whole base with the action installed), where
it is measured: which modules it imports, and which files glibc, OpenSSL and Python open
or look for; and under strace again, chrooted into the release image's files. Every
module measured must import in the release image, and no file the whole base has for a
mode may be looked for in vain in the release image's files (a loader cache, a
configuration file, a locale).
"""

from __future__ import annotations

import ast
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import trustme
from image_modes import MODES, PYTHON, run_mode

from conftest import IMAGE

# -- the modes, measured in the whole base and in the release image's files ------

PROBE = """\
ARG PLAIN
ARG RELEASE
FROM ${RELEASE} AS release
FROM ${PLAIN}
RUN apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends strace >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
COPY --from=release / /rootfs
"""
# Run in the whole base: the entry point, recording the modules loaded when it exits.
RECORD = """\
import atexit, sys
def record():
    names = sorted(sys.modules)
    with open("/github/workspace/modules.txt", "w") as out:
        out.write(repr(names))
atexit.register(record)
path = sys.argv[1]
with open(path) as script:
    code = compile(script.read(), path, "exec")
exec(code, {"__name__": "__main__", "__file__": path})
"""
# The chroot gets the /etc/hosts and /etc/resolv.conf Docker gives the container (a
# shell would drop the INPUT_API-KEY variables: their names are not a shell's).
CHROOT = """\
import os, shutil, sys
for name in ("/etc/hosts", "/etc/resolv.conf"):
    shutil.copy(name, "/rootfs" + name)
os.execvp(sys.argv[1], sys.argv[1:])
"""
STRACE = ["strace", "-f", "-qq", "-e", "trace=%file", "-e", "signal=none", "-o"]
# What Docker mounts in every container, and the chroot lacks.
PROVIDED = ("/proc/", "/sys/", "/dev/", "/etc/hostname")
# A system call on a path, as strace writes it: PID call(..."/path"...) = result [ERRNO]
_CALL = re.compile(r'^\d+ +(\w+)\((?:[^"]*?, )?"(/[^"]*)".*\) += (-?\d+)(?: (\w+))?')


@dataclass
class Measure:
    """One mode: what it imported in the whole base, what it should have imported, what
    the release image's files were asked for, and what of that they lacked."""

    modules: list[str]
    expected: tuple[str, ...]
    looked_for: list[str]
    missing: list[str]


def looked_for(trace: str, after: str | None = None) -> dict[str, bool]:
    """Absolute paths the traced processes opened or looked for: found or not.

    With `after`, only what happened after that system call (e.g. the chroot).
    """
    found: dict[str, bool] = {}
    started = after is None
    for line in trace.splitlines():
        match = _CALL.match(line)
        if not match:
            continue
        call, path, ret, _errno = match.groups()
        if not started:
            started = call == after and ret == "0"
            continue
        found[path] = found.get(path, False) or int(ret) >= 0
    assert started, f"no {after} in the trace"
    return found


@pytest.fixture(scope="module")
def measured(
    image: str, release_image: str, ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Measure]:
    """Each mode run under strace in the default image (recording its modules) and in a
    chroot of the release image's files."""
    probe = f"{IMAGE}-probe"
    args = [f"--build-arg={a}" for a in (f"PLAIN={image}", f"RELEASE={release_image}")]
    done = subprocess.run(
        ["docker", "build", "-q", "--network", "host", "-t", probe, *args, "-"],
        input=PROBE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    whole = [*STRACE, "/github/workspace/whole.trace", PYTHON, "-IBSu", "-c", RECORD]
    final = [PYTHON, "-IBSc", CHROOT, *STRACE, "/github/workspace/final.trace"]
    final += ["chroot", "/rootfs"]

    def measure(name: str) -> Measure:
        ws = tmp_path_factory.mktemp("mode")
        step = run_mode(name, ca, ws, probe, command=lambda entry: [*whole, entry])
        run_mode(name, ca, ws, probe, command=lambda entry: [*final, entry], under="/rootfs")
        in_whole = looked_for((ws / "whole.trace").read_text())
        in_final = looked_for((ws / "final.trace").read_text(), after="chroot")
        missing = [
            path
            for path, found in in_final.items()
            if not found
            and in_whole.get(path)
            and not path.startswith(PROVIDED)
            # a source the release image ships as bytecode in its place, which was loaded
            and not (path.endswith(".py") and in_final.get(path + "c"))
        ]
        modules = ast.literal_eval((ws / "modules.txt").read_text())
        return Measure(modules, step.imports, sorted(in_final), missing)

    # The modes are independent (each its own servers and workspace), and mostly wait on
    # Docker: a few at a time.
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(MODES, pool.map(measure, MODES), strict=True))


IMPORT = """\
import importlib, sys
sys.path[:0] = ["/app/lib", "/app"]
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        print(f"{name}: {type(exc).__name__}: {exc}".replace("\\n", " "))
"""


def _unimportable(image: str, names: list[str]) -> dict[str, str]:
    """The names among these that do not import in the image: name -> why."""
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, image]
    done = subprocess.run(
        [*python, "-IBSu", "-c", IMPORT, *names], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())


def test_every_module_any_mode_imports_imports_in_the_release_image(
    measured: dict[str, Measure], release_image: str
) -> None:
    for name, measure in measured.items():
        assert set(measure.expected) <= set(measure.modules), f"{name} was not measured"
    every = sorted({m for measure in measured.values() for m in measure.modules} - {"__main__"})
    assert len(every) > 200  # the interpreter's own start alone imports dozens
    # A few names are registered by an extension module as it loads (cffi's and
    # Cython's), and import by name nowhere: they come with the module that made them.
    # The whole base with the action installed (the probe image) says which.
    registered = _unimportable(f"{IMAGE}-probe", every)
    assert len(registered) < 10, registered
    failed = _unimportable(release_image, every)
    users = {f: [n for n, m in measured.items() if f in m.modules] for f in failed}
    assert failed.keys() == registered.keys(), f"modules that do not import, and the modes: {users}"


def test_nothing_any_mode_looks_for_is_missing_from_the_release_image(
    measured: dict[str, Measure],
) -> None:
    asked = {path for measure in measured.values() for path in measure.looked_for}
    # The trace sees what the loader, glibc and OpenSSL look for, not only Python.
    assert {"/etc/ld.so.cache", "/etc/nsswitch.conf"} <= asked
    assert any(path.endswith("/openssl.cnf") for path in asked)
    missing = {name: m.missing for name, m in measured.items() if m.missing}
    assert not missing, f"in the whole base, looked for in vain in the release image: {missing}"
