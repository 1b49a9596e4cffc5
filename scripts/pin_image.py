"""Pin action.yml to a prebuilt image by digest: `scripts/pin-image IMAGE@sha256:<64 hex>`.

Run in the repository root. Rewrites `runs.image` in action.yml to
`docker://IMAGE@sha256:<64 hex>` and changes nothing else (other keys, comments,
order and line endings stay). IMAGE may carry a `:tag` before the `@`; it is the
release image, the Dockerfile's `release` target, as the release workflow pushes it
(tests/test_rehearsal.py pins one built here).

It edits only a layout it reads without doubt: block mappings of plain keys whose
values are one-line plain or quoted scalars or `|`/`>` block scalars, comments, LF
or CRLF line ends. Anything else is refused: flow `{...}`/`[...]` collections,
anchors, aliases, tags, sequences, quoted keys, scalars continued on another line,
tabs, a byte-order mark, control characters, and the characters YAML parsers take
as line breaks where a line-based edit does not (NEL U+0085, LS U+2028, PS U+2029,
a lone CR). After rewriting, it parses both texts and writes the file only if the
one difference is runs.image. Every refusal exits with status 2 and leaves
action.yml unchanged. Standard library only: it runs on the release runner, and
GitHub's runner images do not promise a YAML library for their python3.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
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

# `key:` at some indentation, followed by a space or the end of the line.
_KEY = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_-]*):(?= |$)", re.ASCII)
_BLOCK_HEADER = re.compile(r"[|>][+-]?")  # no explicit indentation indicator
# What a plain scalar may not start with here: YAML's indicators, except `-`, `?`
# and `:` followed by a non-space, which still start a plain scalar.
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
_LINE_BREAKS = "\u2028\u2029"  # besides NEL, a Cc character, refused with the others
_NOT_IN_YAML = "\ufeff\ufffe\uffff"


class PinError(Exception):
    """action.yml cannot be pinned safely; the message says why."""


@dataclass(frozen=True)
class Scalar:
    """A value as written: where its token is, and its text (for comparison only)."""

    line: int  # 0-based
    start: int
    end: int
    text: str
    one_line: bool = True


Node = Scalar | dict[str, "Node"]


def _check_characters(text: str) -> None:
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        body = line.removesuffix("\r") if number < len(lines) else line  # CR LF, not a lone CR
        for column, char in enumerate(body, 1):
            if unicodedata.category(char) == "Cc" or char in _LINE_BREAKS or char in _NOT_IN_YAML:
                raise PinError(
                    f"line {number}, column {column}: character U+{ord(char):04X} "
                    "(a tab, control character, line break other than LF/CRLF, or BOM)"
                )


def _end_of_quoted(line: str, start: int) -> int:
    """The index after the closing quote of the scalar opening at start; -1 if none."""
    quote, i = line[start], start + 1
    while i < len(line):
        if quote == "'" and line[i] == "'":
            if line[i + 1 : i + 2] != "'":
                return i + 1
            i += 2
        elif quote == '"' and line[i] == "\\":
            i += 2
        elif quote == '"' and line[i] == '"':
            return i + 1
        else:
            i += 1
    return -1


def _scalar(lines: list[str], number: int, start: int) -> tuple[Scalar, int]:
    """The value starting at lines[number][start:]; the index of the line after it."""
    line = lines[number]
    first = line[start]
    where = f"line {number + 1}"
    if first in "'\"":
        end = _end_of_quoted(line, start)
        if end < 0:
            raise PinError(f"{where}: a quoted scalar continued on another line")
        rest = line[end:]
        if rest.strip() and not re.fullmatch(r" +#.*", rest):
            raise PinError(f"{where}: text after a quoted scalar")
        return Scalar(number, start, end, line[start:end]), number + 1
    if first in "|>":
        token = line[start:].split(" ", 1)[0]
        rest = line[start + len(token) :]
        if not _BLOCK_HEADER.fullmatch(token) or (rest.strip() and not re.match(r" +#", rest)):
            raise PinError(f"{where}: a block scalar header other than | or > with + or -")
        indent = len(line) - len(line.lstrip(" "))
        after, content_indent, leading_blank = number + 1, 0, 0
        while after < len(lines):
            body = lines[after].lstrip(" ")
            width = len(lines[after]) - len(body)
            if body and width <= indent:
                break
            if not body and not content_indent:
                leading_blank = max(leading_blank, width)
            elif body:
                content_indent = content_indent or width
                if width < content_indent or leading_blank > content_indent:
                    raise PinError(f"line {after + 1}: a block scalar's lines indented unevenly")
            after += 1
        text = "\n".join([token, *lines[number + 1 : after]])
        return Scalar(number, start, start + len(token), text, one_line=False), after
    if first in _INDICATORS and not (first in "-?:" and line[start + 1 : start + 2].strip()):
        raise PinError(f"{where}: a value starting with {first!r} (flow, anchor, alias, tag…)")
    comment = line.find(" #", start)
    end = len(line[:comment].rstrip(" ")) if comment >= 0 else len(line.rstrip(" "))
    token = line[start:end]
    if ": " in token or token.endswith(":"):
        raise PinError(f"{where}: ': ' inside a plain scalar")
    return Scalar(number, start, end, token), number + 1


def parse(text: str) -> dict[str, Node]:
    """The mapping in action.yml's text, or PinError for a layout it does not read."""
    _check_characters(text)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    root: dict[str, Node] = {}
    stack: list[tuple[int, dict[str, Node]]] = [(0, root)]
    opened: tuple[int, dict[str, Node], str] | None = None  # indent, mapping, key
    scalar_indent = -1  # a one-line scalar's key indent: nothing may be nested below it
    number = 0
    while number < len(lines):
        line = lines[number]
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if scalar_indent >= 0 and body and indent > scalar_indent:
            raise PinError(f"line {number + 1}: indented under a scalar (a continuation?)")
        if not body or body.startswith("#"):
            number += 1
            continue
        scalar_indent = -1
        if opened is not None:  # `key:` alone: a mapping if this line is deeper, else null
            parent_indent, parent, key = opened
            if indent > parent_indent:
                child: dict[str, Node] = {}
                parent[key] = child
                stack.append((indent, child))
            opened = None
        while indent < stack[-1][0]:
            stack.pop()
        match = _KEY.match(line)
        if indent != stack[-1][0] or match is None:
            raise PinError(f"line {number + 1}: not a `key: value` line of the mapping above it")
        mapping, key = stack[-1][1], match.group(2)
        if key in mapping:
            raise PinError(f"line {number + 1}: {key!r} again in the same mapping")
        rest = line[match.end() :]
        if not rest.strip() or re.fullmatch(r" +#.*", rest):
            mapping[key] = Scalar(number, len(line), len(line), "")  # null, until a child shows
            opened = (indent, mapping, key)
            number += 1
            continue
        value, number = _scalar(lines, number, match.end() + len(rest) - len(rest.lstrip(" ")))
        mapping[key] = value
        scalar_indent = indent if value.one_line else -1
    if not root:
        raise PinError("no top-level mapping")
    return root


def _shape(node: Node) -> object:
    """What a node says, in order, without where it is written."""
    if isinstance(node, Scalar):
        return node.text
    return [(key, _shape(value)) for key, value in node.items()]


def _runs(document: dict[str, Node]) -> dict[str, Node]:
    runs = document.get("runs")
    if not isinstance(runs, dict):
        raise PinError("action.yml has no block mapping `runs:`")
    return runs


def _runs_image(document: dict[str, Node]) -> Scalar:
    image = _runs(document).get("image")
    if not isinstance(image, Scalar) or not image.one_line or not image.text:
        raise PinError("runs has no one-line `image:` value")
    return image


def check_only_image_changed(before: str, after: str, reference: str) -> None:
    """PinError unless after says what before says, but runs.image: docker://reference."""
    old, new = parse(before), parse(after)
    image = _runs_image(new)
    if image.text != f"docker://{reference}":
        raise PinError("the rewritten runs.image is not the reference")
    expected = _shape({**old, "runs": {**_runs(old), "image": image}})
    if _shape(new) != expected:
        raise PinError("rewriting changed more than runs.image")


def pin(text: str, reference: str) -> str:
    """action.yml's text with runs.image set to docker://reference, nothing else changed."""
    if not REFERENCE.fullmatch(reference):
        raise ValueError(reference)
    image = _runs_image(parse(text))
    lines = text.split("\n")
    line = lines[image.line]
    lines[image.line] = f"{line[: image.start]}docker://{reference}{line[image.end :]}"
    pinned = "\n".join(lines)
    check_only_image_changed(text, pinned, reference)
    return pinned


def main(argv: list[str]) -> int:
    """Pin ./action.yml; 2 for a refusal (file unchanged), 1 if it cannot be read or written."""
    if len(argv) != 1:
        print("usage: scripts/pin-image IMAGE[:TAG]@sha256:<64 hex>", file=sys.stderr)
        return 2
    path = Path("action.yml")
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"pin-image: cannot read action.yml here ({exc})", file=sys.stderr)
        return 1
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        print("pin-image: refused, action.yml is unchanged: it is not UTF-8", file=sys.stderr)
        return 2
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
        print(f"pin-image: refused, action.yml is unchanged: {exc}", file=sys.stderr)
        return 2
    try:
        path.write_bytes(pinned.encode("utf-8"))
    except OSError as exc:
        print(f"pin-image: cannot write action.yml ({exc})", file=sys.stderr)
        return 1
    print(f"action.yml: runs.image: docker://{argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
