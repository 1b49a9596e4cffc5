"""Pin action.yml to a prebuilt image by digest: `scripts/pin-image IMAGE@sha256:<64 hex>`.

Run in the repository root. Rewrites `runs.image` in action.yml to
`docker://IMAGE@sha256:<64 hex>` and changes nothing else (other keys, comments,
order and line endings stay). IMAGE may carry a `:tag` before the `@`. Anything
that is not such a digest reference is refused with exit status 2, the file
unchanged. Needs only Python's standard library (it runs on the release runner).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The reference grammar of the OCI distribution spec (distribution/reference),
# restricted to a sha256 digest.
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
REFERENCE = re.compile(rf"{_NAME}(?::{_TAG})?@sha256:[a-f0-9]{{64}}", re.ASCII)

# A block-style `image:` key, its value, an optional comment, the line ending.
_IMAGE_LINE = re.compile(
    r"(?P<key>[ ]+image[ ]*:)(?P<value>[^#\r\n]*?)(?P<rest>[ ]+#.*)?(?P<eol>\r?\n?)"
)


class PinError(Exception):
    """The file cannot be pinned; the message says why."""


def pin(text: str, reference: str) -> str:
    """action.yml's text with runs.image set to docker://reference, nothing else changed."""
    if not REFERENCE.fullmatch(reference):
        raise ValueError(reference)
    lines = text.splitlines(keepends=True)
    in_runs, child_indent = False, None
    found: list[tuple[int, re.Match[str]]] = []
    for number, line in enumerate(lines):
        body = line.lstrip(" ")
        if not body.strip() or body.startswith("#"):
            continue
        indent = len(line) - len(body)
        if indent == 0:
            in_runs, child_indent = body.rstrip().startswith("runs:"), None
            continue
        if in_runs:
            child_indent = indent if child_indent is None else child_indent
            match = _IMAGE_LINE.fullmatch(line)
            if indent == child_indent and match:
                found.append((number, match))
    if len(found) != 1:
        raise PinError("action.yml must have exactly one block-style runs.image key.")
    ((number, match),) = found
    lines[number] = f"{match['key']} docker://{reference}{match['rest'] or ''}{match['eol']}"
    return "".join(lines)


def main(argv: list[str]) -> int:
    """Pin ./action.yml; 2 for a bad reference or usage, 1 for a file that cannot be pinned."""
    if len(argv) != 1:
        print("usage: scripts/pin-image IMAGE[:TAG]@sha256:<64 hex>", file=sys.stderr)
        return 2
    path = Path("action.yml")
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"pin-image: cannot read action.yml here ({exc})", file=sys.stderr)
        return 1
    try:
        pinned = pin(text, argv[0])
    except ValueError:
        print(
            f"pin-image: {argv[0]!r} is not an image reference with a sha256 digest "
            "(IMAGE[:TAG]@sha256:<64 lowercase hex>); action.yml is unchanged.",
            file=sys.stderr,
        )
        return 2
    except PinError as exc:
        print(f"pin-image: {exc}", file=sys.stderr)
        return 1
    path.write_text(pinned, encoding="utf-8", newline="")
    print(f"action.yml: runs.image: docker://{argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
