"""The action end to end, offline: build its image, run it against the bundled fake X API.

Run `scripts/demo` (it sets up first). Each step runs in the action's container with
the mounts and variables GitHub's runner gives it; the log is shown the way the runner
shows it (masks applied), then the file-command files the step wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ghrunner  # noqa: E402
from fake_x import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, FakeX, Server  # noqa: E402

IMAGE = "xbearer:demo"
PASSPHRASE = "demo passphrase, from a secret"


def show(title: str, result: ghrunner.Run) -> None:
    print(f"\n### {title}: exit code {result.rc}")
    masks = sum(1 for cmd, _ in ghrunner.commands(result.log) if cmd == "add-mask")
    print(f"--- log, as the runner shows it ({masks} values masked with ::add-mask::) ---")
    for line in ghrunner.shown(result.log, result.inputs):
        print(f"  {line}")
    for kind in ("OUTPUT", "ENV", "STATE"):
        if result.files[kind]:
            print(f"--- GITHUB_{kind} file, read by the runner only ---")
            for name, value in ghrunner.parse_file_command(result.files[kind]).items():
                print(f"  {name} = {value}")


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else "python:3.13-slim"
    print(f"Building the action's image on {base} ...")
    ghrunner.build_image(IMAGE, base)
    fake = FakeX()
    url = Server(fake).start()
    print(f"Fake X API on {url} (demo key and secret; nothing leaves this machine)")
    inputs = {
        "api-key": API_KEY,
        "api-secret": API_SECRET,
        "api-url": url,
        "passphrase": PASSPHRASE,
        "export-env": "TWITTER_BEARER_TOKEN",
        "invalidate": "true",
        "access-token": ACCESS_TOKEN,
        "access-token-secret": ACCESS_TOKEN_SECRET,
    }
    main_step = ghrunner.run(inputs, image=IMAGE)
    show("Job 1, main step: obtain, mask, output, seal", main_step)
    sealed = ghrunner.parse_file_command(main_step.files["OUTPUT"]).get("sealed-bearer", "")
    later = ghrunner.run({"sealed-bearer": sealed, "passphrase": PASSPHRASE}, image=IMAGE)
    show("Job 2: unseal sealed-bearer (no request to X)", later)
    post = ghrunner.run(
        inputs, image=IMAGE, post=True, state=ghrunner.parse_file_command(main_step.files["STATE"])
    )
    show("Job 1, post step: revoke (invalidate: true)", post)
    seen = [f"{r.method} {r.path.split('?')[0]}" for r in fake.requests]
    print(f"\nRequests the fake X API received: {seen}")
    return max(main_step.rc, later.rc, post.rc)


if __name__ == "__main__":
    raise SystemExit(main())
