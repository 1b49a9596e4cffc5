"""Run the action's release image through every mode before it is released, on one platform.

`PYTHONPATH=tests python3 scripts/smoke_image.py IMAGE [--platform linux/arm64]` (tests/ is
the import root of the fakes and the runner emulation, as for the tests) starts the fake X
API (tests/fakes) on 127.0.0.1 and runs IMAGE as GitHub's runner runs a Docker action
(INPUT_* variables, the file-command files and a workspace mounted; see
tests/ghrunner.py), on that platform (another architecture runs under QEMU). An
IMAGE@sha256:... reference is pulled first, for that platform. Then:

1. a token request that also seals the token with a passphrase;
2. a second run that unseals it, with `invalidate: true`;
3. that run's post step (`/app/bin/post`, its state passed back), which revokes it.

Each run must exit 0, leave the right outputs, send the right requests (one token
request in all, one revocation) and show no secret in clear in its log. Exit 0
when all three passed; 1, with what went wrong and the failing run's log as the
runner would show it, otherwise; 2 for bad usage. Standard library only: the
release workflow runs it with the runner's own python3.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import ghrunner
from fakes import API_KEY, API_SECRET, FakeX, Server

PASSPHRASE = "smoke test passphrase"  # the fake's, no secret
# Generous: on another architecture every instruction runs under QEMU.
TIMEOUT = 300.0
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


class SmokeFailure(Exception):
    """A mode did not do what it must; the message says what, never a secret."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


def _step(
    name: str,
    image: str,
    inputs: Mapping[str, str],
    workspace: Path,
    tokens: Iterable[str],
    *,
    post: bool = False,
    state: Mapping[str, str] | None = None,
) -> ghrunner.Run:
    """One run of the image, as the runner starts it; it must exit 0 and leak nothing."""
    try:
        result = ghrunner.run(
            inputs,
            image=image,
            post=post,
            state=state,
            env={"RUNNER_DEBUG": "1"},  # debug lines are scanned for leaks too
            workspace=workspace,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{name}: still running after {TIMEOUT:.0f} s") from exc
    try:
        ghrunner.assert_no_leak(result, [*tokens, *(state or {}).values()], trust_runner=False)
    except AssertionError as exc:  # its text names the secret, never its value
        raise SmokeFailure(f"{name}: {exc}") from None
    if result.rc != 0:
        shown = "\n".join(ghrunner.shown(result.log, result.inputs))
        raise SmokeFailure(f"{name}: exit status {result.rc}; its log:\n{shown}")
    return result


def smoke(image: str, fake: FakeX, url: str, workspace: Path) -> list[str]:
    """Run the three modes against the fake at url; what each did, or SmokeFailure."""
    token = fake.token
    credentials = {"api-key": API_KEY, "api-secret": API_SECRET, "api-url": url, "retries": "0"}
    done = []

    name = "token request, sealed with a passphrase"
    minted = _step(name, image, {**credentials, "passphrase": PASSPHRASE}, workspace, [token])
    outputs = minted.outputs
    _check(outputs.get("bearer") == token, f"{name}: output bearer is not the API's token")
    _check(outputs.get("token-type") == "bearer", f"{name}: output token-type is not bearer")
    sealed = outputs.get("sealed-bearer", "")
    _check(bool(sealed) and token not in sealed, f"{name}: no sealed-bearer without the token")
    _check(len(fake.token_requests()) == 1, f"{name}: {len(fake.token_requests())} token requests")
    done.append(name)

    name = "sealed-bearer unsealed, to be revoked"
    handed = {**credentials, "sealed-bearer": sealed, "passphrase": PASSPHRASE}
    handed["invalidate"] = "true"
    unsealed = _step(name, image, handed, workspace, [token])
    _check(unsealed.outputs.get("bearer") == token, f"{name}: output bearer is not the token")
    _check(len(fake.token_requests()) == 1, f"{name}: unsealing sent a token request")
    _check(bool(unsealed.state), f"{name}: no state for the post step")
    done.append(name)

    name = "post step: token revoked"
    revoked = _step(name, image, handed, workspace, [token], post=True, state=unsealed.state)
    revocations = [r for r in fake.requests if r.path.startswith("/oauth2/invalidate_token")]
    _check(len(revocations) == 1, f"{name}: {len(revocations)} revocation requests")
    _check(token in fake.revoked, f"{name}: the API did not revoke the token")
    warnings = revoked.annotations("warning")
    _check(not warnings, f"{name}: warned {warnings}")
    done.append(name)
    return done


def main(argv: list[str]) -> int:
    """Smoke-test IMAGE on one platform; 0 passed, 1 failed, 2 bad usage."""
    parser = argparse.ArgumentParser(
        prog="smoke_image.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("image", help="the image: a local tag, or IMAGE@sha256:... to pull")
    parser.add_argument("--platform", help="run it as this platform, e.g. linux/arm64")
    args = parser.parse_args(argv)
    if args.platform:
        if not _PLATFORM.fullmatch(args.platform):
            parser.error(f"--platform {args.platform!r} is not OS/ARCH[/VARIANT]")
        # The docker CLI reads it for `docker pull` and for `docker run`, which ghrunner
        # starts: the image is pulled, or refused, for that platform only.
        os.environ["DOCKER_DEFAULT_PLATFORM"] = args.platform
    where = args.platform or "this machine's platform"
    if "@" in args.image:  # from a registry, by digest: this platform's image, afresh
        pulled = subprocess.run(
            ["docker", "pull", "-q", args.image], capture_output=True, text=True, check=False
        )
        if pulled.returncode:
            print(
                f"smoke_image: {args.image} FAILED on {where}: docker pull: "
                f"{pulled.stderr.strip()}",
                file=sys.stderr,
            )
            return 1
    server = Server(FakeX(), host="127.0.0.1")
    url = server.start()
    try:
        with tempfile.TemporaryDirectory() as workspace:
            done = smoke(args.image, server.fake, url, Path(workspace))
    except SmokeFailure as exc:
        print(f"smoke_image: {args.image} FAILED on {where}: {exc}", file=sys.stderr)
        return 1
    finally:
        server.shutdown()
        server.server_close()
    for name in done:
        print(f"{where}: {name}: ok")
    print(f"smoke_image: {args.image} passed every mode on {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
