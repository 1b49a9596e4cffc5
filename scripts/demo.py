"""The action end to end, offline: a two-job workflow as GitHub's runner runs and shows it.

Run `scripts/demo` (it checks Docker and Python first, and runs this with tests/ as the
import root of the fakes and the runner emulation). The action's image is built
from the Dockerfile, the fake X API (tests/fakes) answers on 127.0.0.1, and each
step runs the way the runner runs it: the action in its container with the runner's
mounts and variables, a `run:` step as a shell command. Each log is printed as the
Actions log shows it, masks applied; the file-command files, which only the runner
reads, are printed beside it, secrets shown by their length only. Standard library
only: the demo installs nothing but the image.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import ghrunner
from fakes import API_KEY, API_SECRET, FakeX, Server

IMAGE = "xbearer:demo"
PASSPHRASE = "demo passphrase, from a secret"
WORKFLOW = """\
jobs:
  mint:
    outputs: { sealed: "${{ steps.token.outputs.sealed-bearer }}" }
    steps:
      - id: token
        uses: ./            # api-key, api-secret, passphrase, export-env: TWITTER_BEARER_TOKEN
      - run: echo "Authorization: Bearer $BEARER"     # BEARER: steps.token.outputs.bearer
  use:
    needs: mint
    steps:
      - id: token
        uses: ./            # sealed-bearer, passphrase; api-key, api-secret, invalidate: true
      - run: curl -H "Authorization: Bearer $BEARER" $API_URL/2/tweets?ids=20"""
GET_TWEETS = """
import os, urllib.error, urllib.request
request = urllib.request.Request(os.environ["API_URL"] + "/2/tweets?ids=20",
                                 headers={"Authorization": "Bearer " + os.environ["BEARER"]})
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        print("GET /2/tweets:", response.status, response.read().decode())
except urllib.error.HTTPError as error:
    print("GET /2/tweets:", error.code, error.read().decode())
"""


def value_shown(value: str, masks: set[str]) -> str:
    """A file command's value as the demo prints it: never a secret, nor all of a sealed one."""
    if value in masks:
        return f"<token: {len(value)} characters>"
    if value.startswith("v2."):
        return f"{value[:10]}…{value[-6:]} (sealed, {len(value)} characters)"
    return value


def step(title: str, result: ghrunner.Run, masks: set[str]) -> None:
    """Print one step's log as the Actions log shows it; add its masks to the job's."""
    print(f"\n  ▶ {title}  (exit code {result.rc})")
    registered = ghrunner.mask_values(result.log)
    if registered:
        print(
            f"    ({len(registered)} values registered with ::add-mask::; the runner hides "
            "those lines and shows *** for each value from then on)"
        )
    masks |= registered
    debug = "[debug] "
    for line in ghrunner.shown(result.log, result.inputs, masks=masks):
        shown = line.replace(debug, "[debug, shown only with RUNNER_DEBUG=1] ", 1)
        print(f"    | {shown if line.startswith(debug) else line}")
    for kind in ("OUTPUT", "ENV", "STATE"):
        if result.files[kind]:
            print(f"    runner-internal GITHUB_{kind} file (read by the runner, never logged):")
            for name, value in ghrunner.parse_file_command(result.files[kind]).items():
                print(f"      {name} = {value_shown(value, masks)}")


def shell(title: str, script: list[str], env: dict[str, str], masks: set[str]) -> None:
    """A `run:` step: a command on the runner; its output shown with the job's masks."""
    proc = subprocess.run(
        script, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    step(
        title,
        ghrunner.Run(
            proc.returncode,
            proc.stdout + proc.stderr,
            {kind: "" for kind in ghrunner.FILE_COMMANDS},
            {},
        ),
        masks,
    )


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else "python:3.13-slim"
    print(
        f"Building the action's image from the Dockerfile (base {base}). The first run takes "
        "about a minute, mostly pulling the base image; later runs take a few seconds.",
        flush=True,
    )
    started = time.monotonic()
    ghrunner.build_image(IMAGE, base)
    print(f"Built {IMAGE} in {time.monotonic() - started:.1f} s.")
    fake = FakeX()
    url = Server(fake).start()
    print(f"Fake X API on {url}: demo key and secret, nothing leaves this machine.")
    print(f"\nThe workflow, run in GitHub's order (job 1, its post step, then job 2):\n{WORKFLOW}")
    secrets = {"api-key": API_KEY, "api-secret": API_SECRET, "passphrase": PASSPHRASE}

    print("\n━━ Job 1: mint ━━")
    masks: set[str] = set()
    mint_inputs = {**secrets, "api-url": url, "export-env": "TWITTER_BEARER_TOKEN"}
    mint = ghrunner.run(mint_inputs, image=IMAGE)
    step("uses: ./  (obtain, mask, output, seal)", mint, masks)
    bearer = mint.outputs.get("bearer", "")
    shell(
        'run: echo "Authorization: Bearer $BEARER"',
        ["sh", "-c", 'echo "Authorization: Bearer $BEARER"'],
        {"BEARER": bearer},
        masks,
    )
    mint_post = ghrunner.run(mint_inputs, image=IMAGE, post=True, state=mint.state)
    step("Post uses: ./  (end of job 1)", mint_post, masks)

    print("\n━━ Job 2: use (needs: mint) ━━")
    masks = set()
    use_inputs = {
        **secrets,
        "api-url": url,
        "sealed-bearer": mint.outputs.get("sealed-bearer", ""),
        "invalidate": "true",
    }
    use = ghrunner.run(use_inputs, image=IMAGE)
    step("uses: ./  (unseal, no request to X)", use, masks)
    api_env = {"BEARER": use.outputs.get("bearer", ""), "API_URL": url}
    shell("run: curl ... /2/tweets", [sys.executable, "-c", GET_TWEETS], api_env, masks)
    use_post = ghrunner.run(use_inputs, image=IMAGE, post=True, state=use.state)
    step("Post uses: ./  (end of job 2: revoke)", use_post, masks)

    print("\n━━ After the workflow ━━")
    shell("The same GET with the revoked token", [sys.executable, "-c", GET_TWEETS], api_env, masks)
    seen = [f"{r.method} {r.path.split('?')[0]}" for r in fake.requests]
    print(f"\nRequests the fake X API received: {', '.join(seen)}")
    return max(mint.rc, mint_post.rc, use.rc, use_post.rc)


if __name__ == "__main__":
    raise SystemExit(main())
