"""The image holds only what runs, and nothing that runs is missing from it.

MODES lists every way the action runs, each with a proof in its log that it ran
to its end. Each mode runs in the final image as the runner runs it. Each mode
also runs under strace in a copy of the whole base (the base with the action
installed, as the image was before it was cut down), where it is measured: which
modules it imports, and which files glibc, OpenSSL and Python open or look for;
and under strace again, chrooted into the final image's files. Every module
measured must import in the final image, and no file the whole base has for a
mode may be looked for in vain in the final image's files (a loader cache, a
configuration file, a locale).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import trustme

import ghrunner
from conftest import BASE, IMAGE, Api, GitHub, _github, _serve
from fake_x import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, TOKEN
from proxy import ConnectProxy

PASS = "correct horse battery staple"
PYTHON = "/usr/local/bin/python"  # the interpreter the entry points name
ENTRY = {False: "/app/bin/main", True: "/app/bin/post"}


@dataclass
class World:
    """What a mode talks to, fresh for each run: the fake X API over HTTP and over
    HTTPS (workspace/ca.pem trusts it), an HTTPS proxy, the workspace, the fake GitHub."""

    api: Api
    tls_api: Api
    proxy: ConnectProxy
    workspace: Path
    github: GitHub

    def tokens(self) -> list[str]:
        """Every token the fakes issued or accept: none may show in a log."""
        return [TOKEN, *self.api.fake.oauth2.issued(), *self.github.fake.tokens]


@dataclass(frozen=True)
class Step:
    """One run of the action in a mode, and what shows that it ran to its end."""

    inputs: dict[str, str]
    says: str  # in the log (annotations included) when the mode ran to its end
    rc: int = 0
    post: bool = False
    state: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()  # the fake's answers to token requests, in order
    custom: tuple[int, dict[str, str], bytes] | None = None  # the "custom" fault's answer
    hosts: dict[str, str] = field(default_factory=dict)  # added to the container's /etc/hosts
    imports: tuple[str, ...] = ()  # modules the mode cannot run without: the measure's check
    check: Callable[[World], object] = lambda world: True  # and what the fake saw


def _state(token: str, api: Api) -> dict[str, str]:
    """What a main step with invalidate leaves for its post step: the token, its route."""
    return {"token": token, "route": json.dumps({"api-url": api.url, "proxy": "", "ca": ""})}


def _revoke_user(w: World) -> Step:
    token = w.api.fake.oauth2.issue_access_token()
    return Step(
        w.api.user_inputs(w.github, invalidate="true"),
        "Revoked the user access token",
        post=True,
        state=_state(token, w.api),
        env=w.github.env(),
        check=lambda w: token in w.api.fake.oauth2.revoked(),
    )


@cache
def _sealed() -> str:
    from xbearer.sealing import seal

    return seal(TOKEN, PASS)


IDNA_HOST = "xn--bcher-kva.localhost"  # bücher.localhost; its certificate names it so


_TOKEN_BODY = json.dumps({"token_type": "bearer", "access_token": TOKEN}).encode()
_OAUTH1 = {"access-token": ACCESS_TOKEN, "access-token-secret": ACCESS_TOKEN_SECRET}

# Every mode of the action. A new mode is one more entry: a function of the World
# that returns the Step to run (its inputs, environment, the fake's answers) and
# what its log says when it ran to its end. A mode that talks to another server
# (say, GitHub's API) needs that server as a field of World, started in world().
MODES: dict[str, Callable[[World], Step]] = {
    "token request, export-env, job summary": lambda w: Step(
        w.api.inputs(export_env="TWITTER_BEARER_TOKEN"),
        "Obtained a bearer token",
        imports=("requests", "urllib3", "actions_toolkit.core", "xbearer.action"),
        check=lambda w: w.api.fake.token_requests(),
    ),
    "seal (Argon2id, XChaCha20-Poly1305)": lambda w: Step(
        w.api.inputs(passphrase=PASS),
        "Sealed it as sealed-bearer",
        imports=("nacl.pwhash", "nacl.bindings", "_cffi_backend"),
    ),
    "unseal": lambda w: Step(
        {"sealed-bearer": _sealed(), "passphrase": PASS, "api-url": w.api.url},
        "Unsealed the bearer token",
        imports=("nacl.bindings",),
        check=lambda w: not w.api.fake.requests,
    ),
    "revoke with Basic auth (post step)": lambda w: Step(
        w.api.inputs(invalidate="true"),
        "Revoked the bearer token",
        post=True,
        state=_state(TOKEN, w.api),
        check=lambda w: TOKEN in w.api.fake.revoked,
    ),
    "revoke with OAuth 1.0a (post step)": lambda w: Step(
        {**w.api.inputs(invalidate="true"), **_OAUTH1},
        "Revoked the bearer token",
        post=True,
        state=_state(TOKEN, w.api),
        imports=("requests_oauthlib", "oauthlib.oauth1"),
        check=lambda w: TOKEN in w.api.fake.revoked,
    ),
    "user context: refresh, the rotated token stored (sealed box)": lambda w: Step(
        w.api.user_inputs(w.github),
        "Stored the rotated refresh token",
        env=w.github.env(),
        imports=("nacl.public", "xbearer.user_context", "xbearer.github"),
        check=lambda w: (
            w.github.fake.secret("X_REFRESH_TOKEN") in w.api.fake.oauth2.valid_refresh_tokens()
        ),
    ),
    "user context: revoke the access token (post step)": _revoke_user,
    "post step with nothing to revoke": lambda w: Step(
        w.api.inputs(), "Nothing to revoke", post=True
    ),
    "HTTPS, ca-bundle": lambda w: Step(
        w.tls_api.inputs(ca_bundle="ca.pem"), "Obtained a bearer token", imports=("ssl", "_ssl")
    ),
    "HTTPS, CA bundle from REQUESTS_CA_BUNDLE": lambda w: Step(
        w.tls_api.inputs(),
        "Trusting the CA certificates named by REQUESTS_CA_BUNDLE",
        env={"REQUESTS_CA_BUNDLE": "/github/workspace/ca.pem"},
    ),
    "HTTPS through a proxy (HTTPS_PROXY)": lambda w: Step(
        w.tls_api.inputs(ca_bundle="ca.pem"),
        "Obtained a bearer token",
        env={"HTTPS_PROXY": w.proxy.url, "NO_PROXY": ""},
        check=lambda w: w.proxy.seen,
    ),
    "IDNA host name, resolved from /etc/hosts": lambda w: Step(
        {
            **w.tls_api.inputs(ca_bundle="ca.pem"),
            "api-url": w.tls_api.url.replace("127.0.0.1", "bücher.localhost"),
        },
        "Obtained a bearer token from bücher.localhost",
        hosts={IDNA_HOST: "127.0.0.1"},
        imports=("idna",),
    ),
    "TLS: certificate not trusted (certifi's CAs)": lambda w: Step(
        w.tls_api.inputs(retries="0"),
        "its certificate is not trusted",
        rc=1,
        imports=("certifi",),
    ),
    "TLS: https to a plain-http server": lambda w: Step(
        {**w.api.inputs(retries="0"), "api-url": w.api.url.replace("http:", "https:")},
        "no HTTPS server answered there",
        rc=1,
    ),
    "gzip answer": lambda w: Step(
        w.api.inputs(), "Obtained a bearer token", faults=("gzip",), imports=("zlib",)
    ),
    "deflate answer": lambda w: Step(
        w.api.inputs(),
        "Obtained a bearer token",
        faults=("custom",),
        custom=(200, {"Content-Encoding": "deflate"}, zlib.compress(_TOKEN_BODY)),
    ),
    "Retry-After as an HTTP-date": lambda w: Step(
        w.api.inputs(),
        "in 2 attempt(s)",
        faults=("retry-after:Thu, 01 Jan 1970 00:00:00 GMT",),
        imports=("email.utils",),
    ),
    "rate limit reset beyond the time budget": lambda w: Step(
        w.api.inputs(), "until", rc=1, faults=("reset-at:900",)
    ),
    "X refuses the credential": lambda w: Step(
        w.api.inputs(api_secret="wrong"), "HTTP 403, code 99", rc=1
    ),
    "an answer that is not JSON": lambda w: Step(
        w.api.inputs(), "non-JSON body", rc=1, faults=("html:404",)
    ),
    "connection reset": lambda w: Step(
        w.api.inputs(retries="0"), "broke before a complete answer", rc=1, faults=("reset",)
    ),
    "time budget runs out": lambda w: Step(
        w.api.inputs(timeout="1", retries="0"),
        "within the time budget",
        rc=1,
        faults=("trickle:0.3",),
    ),
    "input refused": lambda w: Step(
        w.api.inputs(api_url="http://example.com"), "only for a loopback host", rc=1
    ),
}


@contextmanager
def world(ca: trustme.CA, workspace: Path) -> Iterator[World]:
    """Fresh servers for one run; workspace/ca.pem trusts the HTTPS one."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1", IDNA_HOST).configure_cert(context)
    ca.cert_pem.write_to_path(str(workspace / "ca.pem"))
    for api in _serve():
        for tls_api in _serve(context):
            with ConnectProxy() as proxy:
                for github in _github():
                    yield World(api, tls_api, proxy, workspace, github)


def run_mode(
    name: str,
    ca: trustme.CA,
    workspace: Path,
    image: str,
    *,
    command: Callable[[str], list[str]] | None = None,
    under: str = "",
    keep: str = "",
) -> Step:
    """Run one mode in `image` (with `command(entry point)` instead of the entry point);
    check that it ran to its end and leaked nothing."""
    with world(ca, workspace) as w:
        step = MODES[name](w)
        for fake in (w.api.fake, w.tls_api.fake):
            fake.faults = list(step.faults)
            fake.custom = step.custom or fake.custom
        result = ghrunner.run(
            step.inputs,
            image=image,
            post=step.post,
            state=step.state,
            env={"RUNNER_DEBUG": "1", **step.env},
            workspace=workspace,
            command=command(ENTRY[step.post]) if command else (),
            under=under,
            hosts=step.hosts,
            keep=keep,
        )
        ghrunner.assert_no_leak(result, w.tokens(), trust_runner=False)
        assert result.rc == step.rc, f"{name}:\n{result.log}"
        assert step.says in result.log, f"{name}:\n{result.log}"
        assert "Traceback" not in result.log and "internal error" not in result.log.lower()
        assert step.check(w), f"{name}: the fake did not see what this mode does"
    return step


# -- the modes, in the final image --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_runs_in_the_final_image(
    mode: str, image: str, ca: trustme.CA, tmp_path: Path
) -> None:
    run_mode(mode, ca, tmp_path, image)


@pytest.mark.parametrize("mode", MODES)
def test_no_mode_compiles_python_at_run_time(
    mode: str, image: str, ca: trustme.CA, tmp_path: Path
) -> None:
    # The entry point as the image runs it, but with bytecode writing allowed (no -B):
    # a module imported without valid bytecode in the image is compiled, and its .pyc
    # written into the container, where `docker diff` sees it.
    container = f"{IMAGE.replace(':', '-')}-diff-{os.getpid()}"
    try:
        run_mode(
            mode, ca, tmp_path, image, command=lambda entry: [PYTHON, "-ISu", entry], keep=container
        )
        changed = subprocess.run(
            ["docker", "diff", container], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
    compiled = [line for line in changed if line.endswith(".pyc") or "__pycache__" in line]
    assert not compiled, f"{mode}: compiled at run time: {compiled}"


# -- the modes, measured in the whole base and in the final image's files ------

PROBE = """\
ARG BASE
ARG FINAL
FROM ${FINAL} AS final
FROM ${BASE}
RUN apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends strace >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
COPY --from=final /app /app
COPY --from=final / /rootfs
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
    the final image's files were asked for, and what of that they lacked."""

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
    image: str, ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Measure]:
    """Each mode run under strace in the whole base with the image's /app (recording its
    modules) and in a chroot of the final image's files."""
    probe = f"{IMAGE}-probe"
    args = [f"--build-arg={a}" for a in (f"BASE={BASE}", f"FINAL={image}")]
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
    results: dict[str, Measure] = {}
    for name in MODES:
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
            # a source the final image ships as bytecode in its place, which was loaded
            and not (path.endswith(".py") and in_final.get(path + "c"))
        ]
        modules = ast.literal_eval((ws / "modules.txt").read_text())
        results[name] = Measure(modules, step.imports, sorted(in_final), missing)
    return results


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


def test_every_module_any_mode_imports_imports_in_the_final_image(
    measured: dict[str, Measure], image: str
) -> None:
    for name, measure in measured.items():
        assert set(measure.expected) <= set(measure.modules), f"{name} was not measured"
    every = sorted({m for measure in measured.values() for m in measure.modules} - {"__main__"})
    assert len(every) > 200  # the interpreter's own start alone imports dozens
    # A few names are registered by an extension module as it loads (cffi's and
    # Cython's), and import by name nowhere: they come with the module that made them.
    # The whole base with the image's /app (the probe image) says which.
    registered = _unimportable(f"{IMAGE}-probe", every)
    assert len(registered) < 10, registered
    failed = _unimportable(image, every)
    users = {f: [n for n, m in measured.items() if f in m.modules] for f in failed}
    assert failed.keys() == registered.keys(), f"modules that do not import, and the modes: {users}"


def test_nothing_any_mode_looks_for_is_missing_from_the_final_image(
    measured: dict[str, Measure],
) -> None:
    asked = {path for measure in measured.values() for path in measure.looked_for}
    # The trace sees what the loader, glibc and OpenSSL look for, not only Python.
    assert {"/etc/ld.so.cache", "/etc/nsswitch.conf"} <= asked
    assert any(path.endswith("/openssl.cnf") for path in asked)
    missing = {name: m.missing for name, m in measured.items() if m.missing}
    assert not missing, f"found in the whole base, looked for in vain in the final image: {missing}"


# -- what the final image holds --------------------------------------------------

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
def listing(image: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The standard library's directory, and every path in the final image: its kind
    (f, d, l) and, for a Python source, its bytecode's flags (01000000: unchecked hash),
    for sourceless bytecode (a .pyc outside __pycache__), its own."""
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, image]
    lines = subprocess.run(
        [*python, "-IBSc", LIST], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = {}
    for line in lines[1:]:
        kind, path, flags = (line + " ").split(" ", 2)
        paths[path] = (kind, flags.strip())
    return lines[0], paths


def test_the_final_image_has_no_shell_no_package_manager_no_test_suite(
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


def test_the_final_image_holds_unchecked_bytecode_only_for_what_the_modes_load(
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
    # What the packages load is compiled before the source comes (a source change does
    # not redo it), without the source it came from: fewer bytes to copy.
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


def test_the_final_image_has_a_writable_tmp_and_resolves_localhost(image: str) -> None:
    check = (
        "import os, socket, stat, tempfile\n"
        "print(oct(stat.S_IMODE(os.stat('/tmp').st_mode)))\n"
        "with tempfile.NamedTemporaryFile(dir='/tmp') as f: f.write(b'x')\n"
        "print(sorted({a[4][0] for a in socket.getaddrinfo('localhost', 443)}))\n"
    )
    # No network at all: /etc/hosts is the one Docker writes into every container.
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, image]
    done = subprocess.run([*python, "-IBSc", check], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    mode, addresses = done.stdout.splitlines()
    assert mode == "0o1777"
    assert "127.0.0.1" in addresses


def test_requests_trusts_certifis_bundle_in_the_final_image(image: str) -> None:
    check = (
        "import sys; sys.path[:0] = ['/app/lib']\n"
        "import ssl, certifi, requests.utils\n"
        "assert requests.utils.DEFAULT_CA_BUNDLE_PATH == certifi.where()\n"
        "context = ssl.create_default_context(cafile=certifi.where())\n"
        "print(certifi.where(), len(context.get_ca_certs()))\n"
    )
    python = ["docker", "run", "--rm", "--network", "none", "--entrypoint", PYTHON, image]
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


def test_the_final_image_carries_the_licences_of_what_it_ships(image: str) -> None:
    # Asked of dpkg in the first stage, which assembled the final image's files in /rootfs.
    build = f"{IMAGE}-build"
    ghrunner.build_image(build, BASE, target="build")
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
