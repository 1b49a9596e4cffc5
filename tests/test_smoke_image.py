"""The release's own smoke test (scripts/smoke_image.py), run here on the release image
(`--target release`) built here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from fakes import FakeX, Server
from ghrunner import ROOT

SCRIPT = ROOT / "scripts" / "smoke_image.py"
MODES = [
    "token request, sealed with a passphrase",
    "sealed-bearer unsealed, to be revoked",
    "post step: token revoked",
]


def _smoke(*args: str) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, so only the standard library and tests/ (the fakes' import
    # root, as the release workflow gives it) can be imported, as with the runner's own
    # python3 in the release workflow.
    return subprocess.run(
        [sys.executable, "-S", str(SCRIPT), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke_image", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mode_passes_on_the_built_image_with_the_standard_library_alone(
    release_image: str,
) -> None:
    result = _smoke(release_image, "--platform", "linux/amd64")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        *(f"linux/amd64: {mode}: ok" for mode in MODES),
        f"smoke_image: {release_image} passed every mode on linux/amd64",
    ]


@pytest.fixture
def broken_image(release_image: str) -> Iterator[str]:
    """The image with its main entry point swapped for the post one: exits 0, outputs nothing."""
    tag = f"{release_image}-smoke-broken"
    subprocess.run(
        ["docker", "build", "-q", "--network", "none", "-t", tag, "-"],
        input=f'FROM {release_image}\nENTRYPOINT ["/app/bin/post"]\n',
        capture_output=True,
        text=True,
        check=True,
    )
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def test_an_image_that_exits_0_without_a_token_fails_the_release(broken_image: str) -> None:
    result = _smoke(broken_image)
    assert result.returncode == 1
    assert (
        f"smoke_image: {broken_image} FAILED on this machine's platform: token request, "
        "sealed with a passphrase: output bearer is not the API's token" in result.stderr
    )
    assert "passed" not in result.stdout


def test_a_platform_the_image_lacks_fails_the_release(release_image: str) -> None:
    # The image built here is for this machine only: asked for arm64, docker finds none.
    result = _smoke(release_image, "--platform", "linux/arm64")
    assert result.returncode == 1
    assert f"FAILED on linux/arm64: {MODES[0]}: exit status 125" in result.stderr


def test_an_image_the_registry_does_not_serve_fails_the_release() -> None:
    # By digest, it is pulled first, for the platform asked: here nothing listens.
    missing = "127.0.0.1:9/xbearer/action@sha256:" + "0" * 64
    result = _smoke(missing, "--platform", "linux/arm64")
    assert result.returncode == 1
    assert result.stderr.startswith(f"smoke_image: {missing} FAILED on linux/arm64: docker pull: ")


def test_usage() -> None:
    assert _smoke().returncode == 2
    assert _smoke("x", "--platform", "arm64; rm -rf /").returncode == 2


@pytest.fixture
def failing_revocation() -> Iterator[tuple[FakeX, str]]:
    """A fake X API whose revocation answers 503, over capacity."""
    fake = FakeX(revoke_faults=["status:503"])
    server = Server(fake, host="127.0.0.1")
    yield fake, server.start()
    server.shutdown()
    server.server_close()


def test_a_token_left_unrevoked_fails_the_release(
    release_image: str, failing_revocation: tuple[FakeX, str], tmp_path: Path
) -> None:
    smoke = _module()
    fake, url = failing_revocation
    with pytest.raises(smoke.SmokeFailure) as failure:
        smoke.smoke(release_image, fake, url, tmp_path)
    assert str(failure.value) == "post step: token revoked: the API did not revoke the token"
