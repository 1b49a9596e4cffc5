"""Run tests/workflows/handoff.yml under act (nektos/act) on a copy of the repository.

act builds a local action's Dockerfile without host network, which cannot reach
PyPI here; so a copy's action.yml points at an image built or pushed beforehand.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import ghrunner
from conftest import Api
from fakes import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, TOKEN

PASS = "correct horse battery staple"
SECRETS = {
    "X_API_KEY": API_KEY,
    "X_API_SECRET": API_SECRET,
    "HANDOFF_PASSPHRASE": PASS,
    "X_ACCESS_TOKEN": ACCESS_TOKEN,
    "X_ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
}


def repo_copy(dest: Path, point_at_image: Callable[[Path], None]) -> Path:
    """The tracked files in a new git repository; `point_at_image` edits its action.yml."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ghrunner.ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, files.split("\0")):
        source = ghrunner.ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
            (dest / name).chmod(source.stat().st_mode)
    point_at_image(dest)
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *command], cwd=dest, check=True)
    return dest


def run_act(
    repo: Path,
    api: Api,
    job_image: str,
    docker_host: str | None = None,
    *,
    workflow: str = "tests/workflows/handoff.yml",
    secrets: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """act push with a workflow (the hand-off's unless told) against the fake X API, with
    SECRETS and the vars API_URL (plus `secrets`, `variables`, and `env` for every step);
    (exit code, whole log)."""
    secret_file = repo.parent / "secrets"
    given = {**SECRETS, **(secrets or {})}
    secret_file.write_text("".join(f"{k}={v}\n" for k, v in given.items()))
    options = [
        arg
        for k, v in {"API_URL": api.url, **(variables or {})}.items()
        for arg in ("--var", f"{k}={v}")
    ]
    options += [arg for k, v in (env or {}).items() for arg in ("--env", f"{k}={v}")]
    process_env = {**ghrunner.host_env(), **({"DOCKER_HOST": docker_host} if docker_host else {})}
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "act"),
            "push",
            "-W",
            workflow,
            "-P",
            f"ubuntu-latest={job_image}",  # the job image: any image with bash and python3
            "--pull=false",  # pull what is missing, nothing else
            "--network",
            "host",
            "--secret-file",
            str(secret_file),
            *options,
        ],
        cwd=repo,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def assert_handoff(rc: int, log: str, api: Api) -> None:
    """The hand-off passed as GitHub would run it, and the whole log holds no secret."""
    assert rc == 0, log[-3000:]
    assert "GET /2/tweets: 200" in log
    assert "bearer in the log: ***" in log
    # Job 1 asked X once; job 2 unsealed without a request and called the API with the token.
    # Its post step ran but saw no token: act passes STATE_* to the post steps of node
    # actions only (nektos/act pkg/runner/action.go, runPostStep), so the revocation that
    # GitHub's runner would make is proven by tests/test_lifecycle.py and test_container.py.
    assert log.count("Nothing to revoke") == 2
    assert [(r.method, r.path.split("?")[0]) for r in api.fake.requests] == [
        ("POST", "/oauth2/token"),
        ("GET", "/2/tweets"),
    ]
    assert api.fake.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    inputs = {
        "api-key": API_KEY,
        "api-secret": API_SECRET,
        "passphrase": PASS,
        "access-token": ACCESS_TOKEN,
        "access-token-secret": ACCESS_TOKEN_SECRET,
    }
    ghrunner.assert_absent(log, ghrunner.secret_forms(inputs, [TOKEN]), "the act log")
