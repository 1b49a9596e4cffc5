"""The time budget holds against what blocks in C (a resolver that never answers), off
the main thread too; SIGINT and SIGTERM cancel a step at once."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from xbearer.client import Credentials, request_token
from xbearer.errors import ActionError

import ghrunner
from conftest import BASE, Api, endpoint
from fakes import API_KEY, API_SECRET

CREDS = Credentials(API_KEY, API_SECRET)


@pytest.fixture
def stubborn_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """getaddrinfo that blocks for 10 s and carries on through any signal, as glibc's
    resolver does when its nameserver never answers; yields the names looked up."""
    asked: list[str] = []

    def getaddrinfo(host: str, *_args: object, **_kwargs: object) -> list[object]:
        asked.append(host)
        ends = time.monotonic() + 10
        while time.monotonic() < ends:
            with contextlib.suppress(BaseException):  # retried through the signal, as in C
                time.sleep(0.05)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked


@pytest.mark.parametrize("proxy", [None, "http://proxy.example:3128"], ids=["api", "proxy"])
def test_a_resolver_that_never_answers_cannot_stretch_the_budget(
    stubborn_resolver: list[str], proxy: str | None
) -> None:
    target = endpoint("https://api.example.com", timeout=1)
    if proxy:
        from dataclasses import replace

        target = replace(target, proxy=proxy)
    started = time.monotonic()
    with pytest.raises(ActionError) as failure:
        request_token(CREDS, target)
    elapsed = time.monotonic() - started
    assert "within the time budget of 1 s" in failure.value.message
    assert 0.9 < elapsed < 2, elapsed  # not the resolver's 10 s
    assert stubborn_resolver == ["proxy.example" if proxy else "api.example.com"]


def test_the_budget_holds_off_the_main_thread_and_leaves_a_callers_timer_alone(
    stubborn_resolver: list[str],
) -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, _frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 30)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            request_token(CREDS, endpoint("https://api.example.com", timeout=1))
        except BaseException as exc:  # noqa: BLE001 - examined below
            outcome.append(exc)

    try:
        caller = threading.Thread(target=call)
        started = time.monotonic()
        caller.start()
        caller.join(5)
        assert time.monotonic() - started < 2
        assert isinstance(outcome[0], ActionError), outcome
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < remaining <= 30  # the caller's timer still runs, untouched
        assert fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def silent_nameserver(tmp_path: Path) -> Iterator[Path]:
    """A resolv.conf whose nameserver (UDP 127.0.0.153:53) takes queries and never
    answers; the listener runs in a container, which may bind port 53 on loopback."""
    name = f"xbearer-dns-sink-{uuid.uuid4().hex[:8]}"
    sink = (
        "import socket, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.bind(('127.0.0.153', 53))\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    subprocess.run(
        [
            *("docker", "run", "-d", "--rm", "--name", name, "--network", "host"),
            *("--entrypoint", "python3", BASE, "-c", sink),
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            "ready"
            not in subprocess.run(
                ["docker", "logs", name], capture_output=True, text=True, check=False
            ).stdout
        ):
            assert time.monotonic() < deadline, "the silent nameserver did not start"
            time.sleep(0.1)
        resolv = tmp_path / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.153\noptions timeout:5 attempts:2\n")
        yield resolv
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_the_container_ends_within_the_budget_when_dns_never_answers(
    image: str, api: Api, silent_nameserver: Path
) -> None:
    inputs = api.inputs(api_url="https://api.example.com", timeout="1", retries="0")
    mounts = ["-v", f"{silent_nameserver}:/etc/resolv.conf:ro"]
    started = time.monotonic()
    result = ghrunner.run(inputs, image=image, docker_args=mounts)
    elapsed = time.monotonic() - started
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert "No complete answer from api.example.com within the time budget of 1 s" in error
    assert elapsed < 6, elapsed  # 1 s and a container's start, not the resolver's 10 s
    # The post step's revocation is bound by the same budget: a warning, in time.
    state = {
        "token": "A" * 40,
        "route": '{"api-url": "https://api.example.com", "proxy": "", "ca": ""}',
    }
    started = time.monotonic()
    post = ghrunner.run(
        api.inputs(api_url="https://api.example.com", timeout="1", retries="0", invalidate="true"),
        image=image,
        post=True,
        state=state,
        docker_args=mounts,
    )
    assert time.monotonic() - started < 6
    assert post.rc == 0, post.log
    (warning,) = post.annotations("warning")
    assert "within the time budget of 1 s" in warning


class _SignalOnceAsked:
    """A `during` callback: once the fake X API has the request, send the signal (to
    the process, or with `docker kill` to the container); `sent` is when."""

    def __init__(self, api: Api, signum: int, container: str | None = None) -> None:
        self.api, self.signum, self.container = api, signum, container
        self.sent = 0.0

    def __call__(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while not self.api.fake.requests:
            assert time.monotonic() < deadline, "the step never sent its request"
            time.sleep(0.02)
        if self.container:
            name = signal.Signals(self.signum).name
            kill = ["docker", "kill", "--signal", name, self.container]
            subprocess.run(kill, check=True, capture_output=True)
        else:
            proc.send_signal(self.signum)
        self.sent = time.monotonic()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_cancelled_step_stops_at_once_and_outputs_nothing(run, api: Api, signum: int) -> None:
    api.fake.faults = ["slow:30"]
    during = _SignalOnceAsked(api, signum)
    result = run(api.inputs(timeout="60", retries="0"), during=during)
    assert time.monotonic() - during.sent < 3
    assert result.rc == 128 + signum, result.log
    name = signal.Signals(signum).name
    assert f"The step was cancelled ({name}): nothing was output." in result.log
    assert "Traceback" not in result.log and "KeyboardInterrupt" not in result.log
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


def test_sigterm_cancels_the_container_where_python_is_pid_1(image: str, api: Api) -> None:
    api.fake.faults = ["slow:30"]
    name = f"xbearer-cancel-{uuid.uuid4().hex[:8]}"
    during = _SignalOnceAsked(api, signal.SIGTERM, container=name)
    result = ghrunner.run(
        api.inputs(timeout="60", retries="0"),
        image=image,
        docker_args=["--name", name],
        during=during,
    )
    assert time.monotonic() - during.sent < 5
    assert result.rc == 143, result.log
    assert "The step was cancelled (SIGTERM): nothing was output." in result.log
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
