"""A real workflow runner: act runs a two-job hand-off against the fake X API.

The workflow is GitHub's life cycle: job 1 mints and seals, job 2 unseals, uses and
(in its post step) would revoke the token.

act builds a local action's Dockerfile without host network, which cannot reach
PyPI here; so the test's copy of the repository points action.yml at the image
built from the same Dockerfile (`docker://xbearer:test`) and changes nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ghrunner
from conftest import BASE, Api
from fake_x import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, TOKEN

PASS = "correct horse battery staple"
SECRETS = {
    "TWITTER_API_KEY": API_KEY,
    "TWITTER_API_SECRET": API_SECRET,
    "HANDOFF_PASSPHRASE": PASS,
    "TWITTER_ACCESS_TOKEN": ACCESS_TOKEN,
    "TWITTER_ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
}


def _repo_copy(dest: Path, image: str) -> Path:
    files = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=ghrunner.ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ghrunner.ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
    metadata = (dest / "action.yml").read_text()
    assert metadata.count("  image: Dockerfile\n") == 1
    (dest / "action.yml").write_text(
        metadata.replace("  image: Dockerfile\n", f"  image: docker://{image}\n")
    )
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *command], cwd=dest, check=True)
    return dest


def test_two_job_handoff_under_act(image: str, api: Api, tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path / "repo", image)
    secret_file = tmp_path / "secrets"
    secret_file.write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    act = Path(sys.executable).parent / "act"
    proc = subprocess.run(
        [
            str(act),
            "push",
            "-W",
            "tests/workflows/handoff.yml",
            "-P",
            f"ubuntu-latest={BASE}",  # the job image: any image with bash and python3
            "--pull=false",
            "--network",
            "host",
            "--secret-file",
            str(secret_file),
            "--var",
            f"API_URL={api.url}",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
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
    # The whole act log, every secret form.
    inputs = {
        "api-key": API_KEY,
        "api-secret": API_SECRET,
        "passphrase": PASS,
        "access-token": ACCESS_TOKEN,
        "access-token-secret": ACCESS_TOKEN_SECRET,
    }
    for name, value in ghrunner.secret_forms(inputs, [TOKEN]).items():
        assert value not in log, f"leak: {name} in the act log"
