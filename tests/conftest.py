"""Fixtures: the fake X API over HTTP and HTTPS on loopback, the fake GitHub REST API,
and a leak-checked runner."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from xbearer.errors import ACTION_TERMS
from xbearer.transport import Endpoint

import ghrunner
from fakes import API_KEY, API_SECRET, CLIENT_ID, CLIENT_SECRET, FakeX, Server
from fakes.github import FakeGitHub
from testbed import Testbed

STANDIN = "local/python-standin:3.13"
BASE = os.environ.get("BASE", STANDIN)  # scripts/setup picks it
# Another tag lets two checkouts share one Docker engine without building over each other.
IMAGE = os.environ.get("XBEARER_TEST_IMAGE", "xbearer:test")


# A suite started in the background (a shell's `&`) inherits SIGINT ignored, as would every
# command it starts: the Ctrl-C tests' commands would never see theirs. A Ctrl-C at a
# terminal reaches a command whose SIGINT is at its default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

INPUT_NAMES = frozenset(
    yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())["inputs"]
)


def lower_case_sentences(message: str) -> list[str]:
    """The sentences of a message that start in lower case, other than with an input's
    name (a name keeps its spelling): people read these messages."""
    starts = re.findall(r"(?:^|[.!?] )([a-z][\w-]*)", message)
    return [word for word in starts if word not in INPUT_NAMES]


class Api:
    """A running fake X API: its state and base URL."""

    def __init__(self, fake: FakeX, url: str, server: Server) -> None:
        self.fake, self.url, self.server = fake, url, server

    @property
    def host(self) -> str:
        """host:port, as messages name it."""
        return self.url.split("://", 1)[1]

    def inputs(self, **extra: str) -> dict[str, str]:
        """Inputs for a run against this fake: its key, secret and URL, plus extra."""
        base = {
            "api-key": API_KEY,
            "api-secret": API_SECRET,
            "api-url": self.url,
            "timeout": "2",
            "retries": "3",
        }
        base.update({k.replace("_", "-"): v for k, v in extra.items()})
        return base

    def user_inputs(self, github: GitHub, **extra: str) -> dict[str, str]:
        """Inputs for a user-context run, plus extra: a fresh refresh token of the fake's
        confidential client (also stored in the fake GitHub's X_REFRESH_TOKEN, as its owner
        would have), a GitHub token that may write secrets, and this fake's URL."""
        refresh = self.fake.oauth2.issue_refresh_token()
        github.fake.set_secret("X_REFRESH_TOKEN", refresh)
        base = {
            "refresh-token": refresh,
            "client-id": CLIENT_ID,
            "client-secret": CLIENT_SECRET,
            "refresh-token-secret-name": "X_REFRESH_TOKEN",
            "github-token": github.fake.add_token("write"),
            "api-url": self.url,
            "timeout": "2",
            "retries": "3",
        }
        base.update({k.replace("_", "-"): v for k, v in extra.items()})
        return base


class GitHub:
    """A running fake GitHub REST API: its state and base URL."""

    def __init__(self, fake: FakeGitHub, url: str, server: Server[FakeGitHub]) -> None:
        self.fake, self.url, self.server = fake, url, server

    def env(self) -> dict[str, str]:
        """The runner's variables that point a step at this fake."""
        return {"GITHUB_API_URL": self.url, "GITHUB_REPOSITORY": self.fake.repository}


def endpoint(url: str, timeout: float = 5, retries: int = 0) -> Endpoint:
    """An endpoint for calling the client directly, in the action's words."""
    return Endpoint(url, timeout, retries, None, ACTION_TERMS)


def _serve(tls: Any = None, host: str = "127.0.0.1") -> Iterator[Api]:
    fake = FakeX()
    server = Server(fake, host=host, tls=tls)
    url = server.start()
    yield Api(fake, url, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def api() -> Iterator[Api]:
    """The fake X API over plain HTTP on 127.0.0.1 (allowed: loopback)."""
    yield from _serve()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_api(ca: trustme.CA, tmp_path: Path) -> Iterator[Api]:
    """The fake X API over HTTPS with a test CA; tmp_path/ca.pem trusts it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    yield from _serve(context)


def _github() -> Iterator[GitHub]:
    fake = FakeGitHub()
    server = Server(fake)
    url = server.start()
    yield GitHub(fake, url, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def github() -> Iterator[GitHub]:
    """The fake GitHub REST API (Actions secrets of owner/repo) on 127.0.0.1."""
    yield from _github()


def _leak_checked(
    start: Callable[..., ghrunner.Run], api: Api, request: pytest.FixtureRequest
) -> Callable[..., ghrunner.Run]:
    """`start` (a way to run the action) with every run scanned for leaks of every secret
    form: the inputs, every token the fake X issued, and (in a test that uses the `github`
    fixture, whose GITHUB_API_URL and GITHUB_REPOSITORY the run gets) every GitHub token."""
    github: GitHub | None = None
    if "github" in request.fixturenames:
        github = request.getfixturevalue("github")

    def _run(inputs: dict[str, str], **kwargs: Any) -> ghrunner.Run:
        __tracebackhide__ = True  # a failure report shows no frame's secrets
        runner = github.env() if github else {}
        env = {"RUNNER_DEBUG": "1", **runner, **kwargs.pop("env", {})}
        result = start(inputs, env=env, **kwargs)
        tokens = [api.fake.token, *api.fake.oauth2.issued(), *kwargs.get("state", {}).values()]
        tokens += list(github.fake.tokens) if github else []
        ghrunner.assert_no_leak(result, tokens, trust_runner=False)
        return result

    return _run


@pytest.fixture
def run(api: Api, request: pytest.FixtureRequest) -> Callable[..., ghrunner.Run]:
    """Run the action's entry point in a process of its own, scanned for leaks."""
    return _leak_checked(ghrunner.run, api, request)


@pytest.fixture
def run_in_process(api: Api, request: pytest.FixtureRequest) -> Callable[..., ghrunner.Run]:
    """Run the main step's function in the test's process (no start-up: for the cases that
    differ only in an input's value), scanned for leaks as `run` is."""
    return _leak_checked(ghrunner.run_in_process, api, request)


@pytest.fixture(scope="session")
def image() -> str:
    """The action's image as a job on `@main` builds it (the Dockerfile's default
    target), on the offline stand-in base."""
    assert shutil.which("docker"), "docker is needed: run ../shared/testbed/docker-up"
    ghrunner.build_image(IMAGE, BASE)
    return IMAGE


@pytest.fixture(scope="session")
def release_image(image: str) -> str:
    """The action's image as a release pushes it (`--target release`: only what runs),
    built after the default target, whose steps it reuses from the cache."""
    ghrunner.build_image(f"{image}-release", BASE, target="release")
    return f"{image}-release"


TESTBED = ghrunner.ROOT.parent / "shared" / "testbed"


@pytest.fixture(scope="session")
def testbed() -> Iterator[Testbed]:
    """This repository's offline testbed (../shared/testbed beside the checkout); what
    it started is stopped when the session ends."""
    assert (TESTBED / "registry-up").exists(), (
        f"the release rehearsal needs the testbed scripts in {TESTBED}: a loopback image "
        "registry and a second, empty Docker engine (run with -m 'not testbed' without them)"
    )
    bed = Testbed(TESTBED)
    yield bed
    bed.close()
