"""Every way the action runs, as a table: MODES maps a name to the inputs, the fakes'
set-up and the proof in its log that it ran to its end; `run_mode()` runs one in an image
as the runner runs it (or under another command, e.g. strace) and checks that it did;
`compiled_at_run_time()` says what a run of it compiled. Used by test_image.py (the
release image), test_image_plain.py (the default one) and test_image_trace.py (the
measurement).
"""

from __future__ import annotations

import json
import os
import subprocess
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import trustme

import ghrunner
from conftest import Api, GitHub, _github, _serve
from fakes import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, TOKEN
from fakes.proxy import ConnectProxy

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


def compiled_at_run_time(name: str, ca: trustme.CA, workspace: Path, image: str) -> list[str]:
    """Run this mode in `image` with every check of `run_mode`, and say what the run
    compiled: the entry point as the image runs it, but with bytecode writing allowed
    (no -B), so that a module imported without valid bytecode in the image is compiled
    and its .pyc written into the container, where `docker diff` sees it. One run proves
    both that the mode works in the image and that it compiles nothing there."""
    container = f"{image.replace(':', '-')}-diff-{os.getpid()}"
    try:
        run_mode(
            name,
            ca,
            workspace,
            image,
            command=lambda entry: [PYTHON, "-ISu", entry],
            keep=container,
        )
        changed = subprocess.run(
            ["docker", "diff", container], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
    return [line for line in changed if line.endswith(".pyc") or "__pycache__" in line]
