"""Run a step of the native action on the runner: its locked packages, then its code.

bootstrap.sh starts this with a Python 3.11+ (isolated, no site-packages). The runtime
packages are requirements.txt, installed by pip with every hash checked, no resolver and
wheels only, so a SHA-pinned `uses:` pins every byte that runs. They go into a folder
named by the lock's digest, the OS, the architecture and the Python (RUNNER_TOOL_CACHE,
which a self-hosted runner keeps between jobs, else RUNNER_TEMP); a later step or job
that finds it complete reuses it (a warm start). The install is made beside that folder
and renamed into place when complete, so a cancelled or failed install is never reused,
and the rename never crosses drives (Windows' RUNNER_TEMP is often on D:). Then the
action's own src/ (this checkout's, not an installed copy) runs in this process, with
sys.path set to exactly those two folders.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent  # the action's checkout
LOCK = ROOT / "requirements.txt"
SRC = ROOT / "src"
COMPLETE = ".xbearer-complete"  # written last, inside the folder, before the rename
SETUP_PYTHON = "add actions/setup-python (python-version: '3.13') as a step before this one"


class BootstrapError(Exception):
    """The packages could not be installed; the message says why, in one line."""


def python_tag() -> str:
    """The OS, architecture and Python whose wheels the folder holds: cffi, PyNaCl and
    charset-normalizer ship compiled code for each (free-threaded builds apart)."""
    import platform
    import sysconfig

    threads = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    return f"{sys.platform}-{platform.machine().lower()}-{sys.implementation.cache_tag}{threads}"


def packages_dir(environ: Mapping[str, str], lock: bytes) -> Path:
    """Where this lock's packages live for this Python, under the runner's tool cache."""
    root = environ.get("RUNNER_TOOL_CACHE") or environ.get("RUNNER_TEMP")
    if not root:
        import tempfile

        root = tempfile.gettempdir()
    digest = hashlib.sha256(lock).hexdigest()[:16]
    return Path(root, "xbearer-native", f"{digest}-{python_tag()}")


def install(target: Path) -> None:
    """pip-install the lock into a folder beside `target`, then rename it into place."""
    import shutil
    import subprocess
    import tempfile
    import time

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    except OSError as exc:
        raise BootstrapError(
            f"Could not make a folder for the action's packages in {target.parent} "
            f"({exc.strerror}): RUNNER_TOOL_CACHE (else RUNNER_TEMP) must be writable."
        ) from None
    command = [sys.executable, "-I", "-X", "utf8", "-m", "pip", "install"]
    command += ["--require-hashes", "--no-deps", "--only-binary", ":all:", "--no-input"]
    command += ["--disable-pip-version-check", "--no-warn-script-location"]
    command += ["--target", str(partial), "-r", str(LOCK)]
    # pip gets the job's environment (a mirror or a proxy set there) but no input.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("INPUT_")}
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - this Python's pip, our arguments
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
        )
        if done.returncode:
            _show_pip(done.stdout.decode("utf-8", "replace"))
            if b"No module named pip" in done.stdout:
                raise BootstrapError(f"{sys.executable} has no pip: {SETUP_PYTHON}.")
            raise BootstrapError(
                f"pip could not install the action's locked dependencies (exit "
                f"{done.returncode}; its output is above) for Python "
                f"{sys.version_info[0]}.{sys.version_info[1]} ({python_tag()}): PyPI (or the "
                "index pip is set to use) is unreachable, or it has no wheel with a hash in "
                "requirements.txt for this platform."
            )
        (partial / COMPLETE).write_text(f"{time.time():.0f}\n")
        try:
            os.rename(partial, target)
        except OSError:
            if not (target / COMPLETE).is_file():  # not another job's complete install
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    count = len(list(target.glob("*.dist-info")))
    print(
        f"Installed the action's {count} locked packages (hashes checked) in "
        f"{time.monotonic() - started:.1f} s into {target}: later steps on this runner reuse them."
    )


def _show_pip(output: str) -> None:
    """pip's output in a folded group, with workflow commands off: it is pip's text (and
    an index's), so the marker that turns them back on is random, as GitHub asks."""
    import secrets

    marker = f"xbearer-pip-{secrets.token_hex(16)}"
    print(f"::group::pip's output\n::stop-commands::{marker}")
    print(output.rstrip())
    print(f"::{marker}::\n::endgroup::")


def main(step: Literal["main", "invalidate"]) -> int:
    """Make sure the packages are there, then run the step; its exit status."""
    import signal

    def cancelled(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signum)

    target = packages_dir(os.environ, LOCK.read_bytes())
    if not (target / COMPLETE).is_file():
        previous = signal.signal(signal.SIGTERM, cancelled)
        try:
            install(target)
        except BootstrapError as exc:
            print(f"::error::{exc} Nothing was output.")
            return 1
        except KeyboardInterrupt as exc:
            signum = exc.args[0] if exc.args else signal.SIGINT
            print(
                f"The step was cancelled ({signal.Signals(signum).name}) while installing the "
                "action's dependencies: nothing was output."
            )
            return 128 + signum
        finally:
            signal.signal(signal.SIGTERM, previous)
    sys.path[:0] = [str(target), str(SRC)]
    from xbearer import native

    return native.run(step)


if __name__ == "__main__":
    STEPS: dict[str, Literal["main", "invalidate"]] = {"main": "main", "invalidate": "invalidate"}
    raise SystemExit(main(STEPS[sys.argv[1]]))
