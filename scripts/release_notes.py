"""Print a version's section of CHANGELOG.md: `python3 scripts/release_notes.py X.Y.Z`.

The release workflow publishes it as the release notes; a version without a
section (or with an empty one) is exit status 1, so nothing is released without
notes. Needs only Python's standard library.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def section(changelog: str, version: str) -> str:
    """The text under `## [version]` up to the next `## ` heading; "" if none."""
    heading = re.compile(rf"^## \[{re.escape(version)}\][^\n]*\n", re.M)
    start = heading.search(changelog)
    if not start:
        return ""
    following = re.compile(r"^## |^\[[^\]]+\]: ", re.M).search(changelog, start.end())
    return changelog[start.end() : following.start() if following else None].strip()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not VERSION.fullmatch(argv[0]):
        print("usage: scripts/release_notes.py X.Y.Z", file=sys.stderr)
        return 2
    notes = section(Path("CHANGELOG.md").read_text(encoding="utf-8"), argv[0])
    if not notes:
        print(f"release_notes: CHANGELOG.md has no notes under '## [{argv[0]}]'.", file=sys.stderr)
        return 1
    print(notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
