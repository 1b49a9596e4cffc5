"""The fakes on a real runner's loopback, for the native action's matrix workflow
(.github/workflows/native.yml), where GitHub's own variables cannot be changed:

- X's API on plain HTTP on 127.0.0.1 (api-url may be plain HTTP only on loopback);
- GitHub's Actions secrets API of $GITHUB_REPOSITORY over HTTPS, reached as
  api.github.com through a CONNECT proxy on 127.0.0.1 (HTTPS_PROXY for later steps),
  its certificate issued by a CA of this run that `ca-bundle` names.

``python -m fakes.runner`` starts them in a process of its own, which lives until the
job ends, and sets the step's outputs (the credentials the fakes accept, masked) and
the job's HTTPS_PROXY and NO_PROXY. Needs scripts/fakes-requirements.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import trustme

from . import x
from .github import FakeGitHub
from .proxy import ConnectProxy
from .server import Server
from .x_oauth2 import CLIENT_ID, CLIENT_SECRET

GITHUB = "api.github.com:443"
SECRETS = ("api-secret", "client-secret", "refresh-token", "github-token")
READY_WITHIN = 60  # seconds for the fakes' process to start


def serve(repository: str, ca_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Start the fakes and the proxy in this process; their step outputs and job variables."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.github.com").configure_cert(context)
    fake_x = x.FakeX()
    x_url = Server(fake_x).start()
    github = FakeGitHub(repository=repository)
    github_port = urlsplit(Server(github, tls=context).start()).port
    assert github_port is not None
    proxy = ConnectProxy(routes={GITHUB: ("127.0.0.1", github_port)}).start()
    refresh = fake_x.oauth2.issue_refresh_token()
    github.set_secret("X_REFRESH_TOKEN", refresh)
    outputs = {
        "api-url": x_url,
        "api-key": x.API_KEY,
        "api-secret": x.API_SECRET,
        "client-id": CLIENT_ID,
        "client-secret": CLIENT_SECRET,
        "refresh-token": refresh,
        "github-token": github.add_token("write"),
        "ca-bundle": ca_path.name,  # relative to the workspace, as the input reads it
    }
    return outputs, {"HTTPS_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost"}


def _detached(ready: Path) -> None:
    """Start the fakes in a process the step's end does not stop; wait until they serve."""
    command = [sys.executable, "-m", "fakes.runner", "--ready", str(ready)]
    # No stream of the step's: the runner reads them to their end, which would be the job's.
    quiet = subprocess.DEVNULL
    if os.name == "nt":
        flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        subprocess.Popen(command, creationflags=flags, stdin=quiet, stdout=quiet, stderr=quiet)
    else:
        subprocess.Popen(command, start_new_session=True, stdin=quiet, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + READY_WITHIN
    while not ready.exists():
        if time.monotonic() > deadline:
            raise SystemExit(
                f"python -m fakes.runner: the fakes did not start in {READY_WITHIN} s."
            )
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes.runner", description=__doc__)
    parser.add_argument("--ready", type=Path, help=argparse.SUPPRESS)  # the serving process
    args = parser.parse_args()
    if args.ready:
        workspace = Path(os.environ.get("GITHUB_WORKSPACE") or ".")
        repository = os.environ.get("GITHUB_REPOSITORY") or "owner/repo"
        outputs, variables = serve(repository, workspace / "fakes-ca.pem")
        written = args.ready.with_suffix(".tmp")
        written.write_text(json.dumps({"outputs": outputs, "env": variables, "pid": os.getpid()}))
        written.replace(args.ready)  # whole, or not at all
        while True:
            time.sleep(3600)
    from actions_toolkit import core

    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp, "ready.json")
        _detached(ready)
        started = json.loads(ready.read_text())
    for name in SECRETS:
        core.set_secret(started["outputs"][name])
    for name, value in started["outputs"].items():
        core.set_output(name, value)
    for name, value in started["env"].items():
        core.export_variable(name, value)
    x_url, proxy = started["outputs"]["api-url"], started["env"]["HTTPS_PROXY"]
    print(f"The fakes (process {started['pid']}) serve X at {x_url} and GitHub via {proxy}.")


if __name__ == "__main__":
    main()
