"""Check a version to release: `python3 scripts/release_version.py X.Y.Z`.

Run in a clone with every tag fetched. The version must be X.Y.Z (numbers without
leading zeros) and newer than every vX.Y.Z tag there: a release moves vX and vX.Y
(the tags of the image, and vX of the repository), and an older or equal version
would take them back. Prints `major=X` and `minor=X.Y` for $GITHUB_OUTPUT. Exit
status 1 if the version is not newer than the latest release (named in the
message), 2 for a malformed version or when the tags cannot be listed.
"""

from __future__ import annotations

import re
import subprocess
import sys

_NUMBER = r"(0|[1-9][0-9]*)"
VERSION = re.compile(rf"{_NUMBER}\.{_NUMBER}\.{_NUMBER}", re.ASCII)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def latest(tags: list[str]) -> str | None:
    """The highest X.Y.Z among tags named vX.Y.Z; other tags (v1, v1.2, v1.2.3-rc1) don't count."""
    versions = [tag[1:] for tag in tags if tag.startswith("v") and VERSION.fullmatch(tag[1:])]
    return max(versions, key=_key, default=None)


def main(argv: list[str]) -> int:
    """Check argv[0] against the tags of the repository here; print the outputs."""
    if len(argv) != 1 or not VERSION.fullmatch(argv[0]):
        shown = argv[0] if len(argv) == 1 else " ".join(argv)
        print(f"release_version: the version must be X.Y.Z, not {shown!r}", file=sys.stderr)
        return 2
    version = argv[0]
    listed = subprocess.run(
        ["git", "tag", "--list", "v*"], capture_output=True, text=True, check=False
    )
    if listed.returncode:
        print(f"release_version: cannot list the tags: {listed.stderr.strip()}", file=sys.stderr)
        return 2
    newest = latest(listed.stdout.split())
    if newest is not None and _key(version) <= _key(newest):
        print(
            f"release_version: {version} is not newer than the latest release, v{newest}: "
            "releasing it would move vX and vX.Y backwards",
            file=sys.stderr,
        )
        return 1
    major, minor, _ = version.split(".")
    print(f"major={major}\nminor={major}.{minor}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
