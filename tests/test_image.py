"""The release image (`--target release`) holds only what runs, and every way the action
runs works in it.

Each mode of tests/image_modes.py runs in it as the runner runs it, and compiles nothing
there (test_image_plain.py runs the same on the default image); its files are listed
against its rules (no shell, bytecode only for what the modes load, licences), which hold
for the release image only. test_image_trace.py proves that nothing a mode needs was
left out.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest
import trustme
from image_modes import MODES, PYTHON, compiled_at_run_time

import ghrunner
from conftest import BASE, IMAGE

# -- the modes, in the release image ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_runs_and_compiles_nothing_in_the_release_image(
    mode: str, release_image: str, ca: trustme.CA, tmp_path: Path
) -> None:
    compiled = compiled_at_run_time(mode, ca, tmp_path, release_image)
    assert not compiled, f"{mode}: compiled at run time: {compiled}"


# -- what the release image holds ------------------------------------------------

LIST = """\
import importlib.util, os, sysconfig
print(sysconfig.get_paths()["stdlib"])
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    for name in dirs + files:
        path = os.path.join(top, name)
        kind = "l" if os.path.islink(path) else "d" if os.path.isdir(path) else "f"
        flags = ""
        if name.endswith(".py") and kind == "f":
            pyc = importlib.util.cache_from_source(path)
            flags = open(pyc, "rb").read(8)[4:].hex() if os.path.exists(pyc) else "none"
        elif name.endswith(".pyc") and kind == "f" and os.path.basename(top) != "__pycache__":
            flags = open(path, "rb").read(8)[4:].hex()
        print(kind, path, flags)
"""


@pytest.fixture(scope="module")
def listing(release_image: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The standard library's directory, and every path in the release image: its kind
    (f, d, l) and, for a Python source, its bytecode's flags (01000000: unchecked hash),
    for sourceless bytecode (a .pyc outside __pycache__), its own."""
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, release_image]
    lines = subprocess.run(
        [*python, "-IBSc", LIST], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = {}
    for line in lines[1:]:
        kind, path, flags = (line + " ").split(" ", 2)
        paths[path] = (kind, flags.strip())
    return lines[0], paths


def test_the_release_image_has_no_shell_no_package_manager_no_test_suite(
    listing: tuple[str, dict[str, tuple[str, str]]],
) -> None:
    stdlib, paths = listing
    tools = {"sh", "bash", "dash", "busybox", "apt", "apt-get", "dpkg", "pip", "pip3"}
    assert not [path for path in paths if os.path.basename(path) in tools]
    assert not [p for p in paths if p.startswith(("/var/lib/dpkg", "/etc/apt"))]
    for gone in ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "pydoc_data", "sqlite3"):
        assert f"{stdlib}/{gone}" not in paths
    assert f"{stdlib}/os.py" in paths and f"{stdlib}/LICENSE.txt" in paths
    # Nothing of the extension modules whose libraries are left out.
    assert not [p for p in paths if re.search(r"/_(sqlite3|tkinter|curses)\.", p)]
    assert "/app/lib/tests" not in paths and "/app/lib/bin" not in paths
    assert not [p for p in paths if p.endswith(("/site-packages", "/dist-packages"))]


def test_the_release_image_holds_the_action_as_its_source_has_it_and_no_build_script(
    listing: tuple[str, dict[str, tuple[str, str]]],
) -> None:
    # The release image takes of the plain one only what runs, so the scripts that
    # built it stay behind, and the source ships as src/ has it (what the build context
    # takes of it: no egg-info, no bytecode).
    _, paths = listing
    src = ghrunner.ROOT / "src"
    kind_of = lambda path: "l" if path.is_symlink() else "d" if path.is_dir() else "f"  # noqa: E731
    expected = {
        f"/app/{path.relative_to(src)}": kind_of(path)
        for path in src.rglob("*")
        if not any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts)
    }
    packages = "/app/lib"
    shipped = {
        path: kind
        for path, (kind, _) in paths.items()
        if path.startswith("/app/")
        and path != packages
        and not path.startswith(packages + "/")
        and "/__pycache__" not in path
    }
    assert shipped == expected
    assert paths[packages][0] == "d"
    assert not [p for p in paths if os.path.basename(p) in ("image_bytecode.py", "image_tree.py")]


APP_FILES = """\
import os
for top, dirs, files in os.walk("/app"):
    dirs[:] = [name for name in dirs if name != "__pycache__"]
    for name in files:
        print(os.path.join(top, name).removesuffix("c"))
"""


def test_the_release_image_ships_what_the_default_image_installs(
    image: str, release_image: str
) -> None:
    # Cut down from the default image, not built beside it: the same packages, the same
    # action, each module as source or as bytecode in its place.
    def modules(tag: str) -> set[str]:
        python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, tag]
        listed = subprocess.run(
            [*python, "-IBSc", APP_FILES], capture_output=True, text=True, check=True
        )
        return set(listed.stdout.split())

    shipped = modules(release_image)
    assert "/app/lib/requests/__init__.py" in shipped and "/app/xbearer/action.py" in shipped
    assert shipped == modules(image)


def test_the_release_image_holds_unchecked_bytecode_only_for_what_the_modes_load(
    listing: tuple[str, dict[str, tuple[str, str]]],
) -> None:
    # What a mode loads compiles nothing at run time (test_no_mode_compiles_...); the
    # rest of the standard library keeps its source only: compiling it all made the
    # build slower than a naive one.
    stdlib, paths = listing
    sources = {p: flags for p, (kind, flags) in paths.items() if flags and p.endswith(".py")}
    sourceless = {p: flags for p, (kind, flags) in paths.items() if flags and p.endswith(".pyc")}
    compiled = {path: flags for path, flags in sources.items() if flags != "none"}
    assert [p for p in compiled if p.startswith("/app/xbearer/")]
    assert f"{stdlib}/json/decoder.pyc" in sourceless and f"{stdlib}/argparse.py" in sources
    assert f"{stdlib}/argparse.py" not in compiled and f"{stdlib}/argparse.pyc" not in sourceless
    bytecode = {**compiled, **sourceless}
    stale = {path: flags for path, flags in bytecode.items() if flags != "01000000"}
    assert not stale, f"bytecode that is not unchecked-hash: {sorted(stale)[:20]}"
    modules = {p.removesuffix("c") for p in [*sources, *sourceless] if p.startswith(stdlib + "/")}
    loaded = {p.removesuffix("c") for p in bytecode if p.startswith(stdlib + "/")}
    assert len(loaded) < len(modules) / 2


def test_the_packages_ship_bytecode_in_place_of_source_and_the_action_its_source(
    listing: tuple[str, dict[str, tuple[str, str]]],
) -> None:
    # What the modes load beyond the action's own package is taken as bytecode without
    # the source it came from: fewer bytes to pull.
    stdlib, paths = listing
    packages = ("/app/lib/requests/__init__", "/app/lib/urllib3/connectionpool")
    for module in (*packages, f"{stdlib}/http/client", f"{stdlib}/json/decoder"):
        assert f"{module}.pyc" in paths and f"{module}.py" not in paths
    both = [p for p in paths if p.endswith(".pyc") and p.removesuffix("c") in paths]
    assert not both, f"sourceless bytecode beside its source: {both[:20]}"
    # The action keeps its source (its tracebacks keep their lines), compiled beside it.
    own = {p.stem for p in (ghrunner.ROOT / "src" / "xbearer").glob("*.py")}
    assert {f"/app/xbearer/{name}.py" for name in own} <= paths.keys()
    assert not [
        p
        for p in paths
        if p.startswith("/app/xbearer/") and p.endswith(".pyc") and "/__pycache__/" not in p
    ]


def test_the_release_image_has_a_writable_tmp_and_resolves_localhost(release_image: str) -> None:
    check = (
        "import os, socket, stat, tempfile\n"
        "print(oct(stat.S_IMODE(os.stat('/tmp').st_mode)))\n"
        "with tempfile.NamedTemporaryFile(dir='/tmp') as f: f.write(b'x')\n"
        "print(sorted({a[4][0] for a in socket.getaddrinfo('localhost', 443)}))\n"
    )
    # No network at all: /etc/hosts is the one Docker writes into every container.
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, release_image]
    done = subprocess.run([*python, "-IBSc", check], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    mode, addresses = done.stdout.splitlines()
    assert mode == "0o1777"
    assert "127.0.0.1" in addresses


GC_PROBE = """\
import atexit, gc, runpy, sys
seen = {}
class Probe:
    @staticmethod
    def find_spec(name, path=None, target=None):
        seen.setdefault(name, gc.isenabled())
sys.meta_path.insert(0, Probe)
atexit.register(lambda: print(seen.get("requests"), gc.isenabled(), gc.get_freeze_count()))
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@pytest.mark.parametrize("entry", ["/app/bin/main", "/app/bin/post"])
def test_the_entry_points_freeze_what_loading_made_out_of_the_collectors_way(
    entry: str, release_image: str
) -> None:
    # Collection stays off while the modules load, and what they made is frozen: the
    # collections of a run (and the one at exit) skip it, about 14 ms of a run.
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, release_image]
    done = subprocess.run(
        [*python, "-IBSu", "-c", GC_PROBE, entry], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip(), done.stderr
    enabled_while_loading, enabled_after, frozen = done.stdout.splitlines()[-1].split()
    assert (enabled_while_loading, enabled_after) == ("False", "True"), done.stdout + done.stderr
    assert int(frozen) > 10_000, done.stdout + done.stderr


def test_requests_trusts_certifis_bundle_in_the_release_image(release_image: str) -> None:
    check = (
        "import sys; sys.path[:0] = ['/app/lib']\n"
        "import ssl, certifi, requests.utils\n"
        "assert requests.utils.DEFAULT_CA_BUNDLE_PATH == certifi.where()\n"
        "context = ssl.create_default_context(cafile=certifi.where())\n"
        "print(certifi.where(), len(context.get_ca_certs()))\n"
    )
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, release_image]
    done = subprocess.run([*python, "-IBSc", check], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    path, count = done.stdout.split()
    assert path.startswith("/app/lib/certifi/") and int(count) > 100


LICENCES = """\
import os, subprocess, sys, sysconfig
root, missing, packages = "/rootfs", [], set()
# Python built outside Debian (the official image's, in /usr/local): its LICENSE.txt.
stdlib, config = sysconfig.get_paths()["stdlib"], sysconfig.get_config_var
python = os.path.exists(root + stdlib + "/LICENSE.txt")
pythons = (os.path.realpath(sys.executable), os.path.join(config("LIBDIR"), config("INSTSONAME")))
for top, _, files in os.walk(root):
    for name in files:
        path = os.path.join(top, name)
        if path.startswith(root + "/app/") or os.path.islink(path):
            continue
        with open(path, "rb") as file:
            if file.read(4) != b"\\x7fELF":
                continue
        inside = os.path.realpath(path)[len(root):]
        found = subprocess.run(["dpkg-query", "-S", inside], capture_output=True, text=True)
        package = found.stdout.split(":")[0] if found.returncode == 0 else ""
        if not package and python and (inside in pythons or inside.startswith(stdlib + "/")):
            package = "python"
        packages.add(package)
        if package != "python" and not os.path.exists(f"{root}/usr/share/doc/{package}/copyright"):
            missing.append(f"{inside} ({package or 'no package'})")
for top, dirs, files in os.walk(root + "/app/lib"):
    for name in dirs:
        if name.endswith(".dist-info"):
            found = [f for _, _, fs in os.walk(os.path.join(top, name)) for f in fs]
            if not any(f.upper().startswith(("LICEN", "COPYING")) for f in found):
                missing.append(name)
print(sorted(packages))
print(missing)
"""


def test_the_release_image_carries_the_licences_of_what_it_ships() -> None:
    # Asked of dpkg in the stage that assembled the release image's files in /rootfs.
    build = f"{IMAGE}-tree"
    ghrunner.build_image(build, BASE, target="tree")
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, build]
    done = subprocess.run([*python, "-IBSc", LICENCES], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    packages, missing = (ast.literal_eval(line) for line in done.stdout.splitlines())
    assert {"libc6", "libssl3t64"} <= set(packages)
    assert missing == []


def test_the_build_names_no_architecture() -> None:
    # The release builds linux/amd64 and linux/arm64 from the same Dockerfile: library
    # directories (x86_64-linux-gnu, aarch64-linux-gnu) come from the loader, not from us.
    scripts = ghrunner.ROOT / "scripts"
    for path in (
        ghrunner.ROOT / "Dockerfile",
        scripts / "image_tree.py",
        scripts / "image_bytecode.py",
    ):
        text = path.read_text()
        assert not re.search(r"x86_64|x86-64|aarch64|amd64|arm64|linux-gnu", text), path
