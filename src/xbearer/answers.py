"""Reading an answer, shared by every client (X's app-only and OAuth 2.0 endpoints,
GitHub's API): a JSON object body, X's error code and message, the hint an OAuth 2.0
error calls for, a refusal in one line with its caller's hint, and whether an access
token is a bearer token."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

from .errors import ActionError, clean
from .transport import Answer

MIN_TOKEN, MAX_TOKEN = 32, 1024
MAX_CODE_DIGITS = 10

# The token as sent is an RFC 6750 b64token ('=' only as trailing padding) that may
# carry %XX escapes; its percent-decoded form keeps to the b64token alphabet, with
# '=' anywhere (X's app-only tokens carry an encoded '=' inside). Nothing else: no
# whitespace, no ':' of workflow commands.
_ENCODED = re.compile(r"(?:[A-Za-z0-9\-._~+/]|%[0-9A-Fa-f]{2})+=*")
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/=]+")


def json_object(body: bytes) -> dict[str, object]:
    """A JSON object body, or {} for anything else."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def validate_token(token: str, problem: str = "") -> None:
    """Refuse anything but a percent-encoded RFC 6750 b64token of sane length."""
    if (
        not MIN_TOKEN <= len(token) <= MAX_TOKEN
        or not _ENCODED.fullmatch(token)
        or not _B64TOKEN.fullmatch(unquote(token))
    ):
        raise ActionError(
            problem + f"the access token is not a bearer token ({MIN_TOKEN} to {MAX_TOKEN} "
            "characters of the RFC 6750 alphabet); it was not output."
        )


def x_error(body: bytes, secrets: Sequence[str]) -> tuple[int | None, str]:
    """X's error code and message, from {"errors":[{"code":..,"message":..}]}, or
    OAuth 2.0's {"error":..,"error_description":..}."""
    doc = json_object(body)
    errors = doc.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else doc
    if not isinstance(first, dict):
        return None, ""
    code = first.get("code")
    message = first.get("message")
    if not isinstance(message, str):  # OAuth 2.0's error, or X's problem+json (RFC 7807)
        parts = [first.get(name) for name in ("error", "error_description", "title", "detail")]
        message = ": ".join(part for part in parts if isinstance(part, str) and part)
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        clean(message, secrets) if isinstance(message, str) else "",
    )


def oauth_error(body: bytes) -> tuple[str, str]:
    """An OAuth 2.0 error answer's `error` code and `error_description` (RFC 6749,
    section 5.2), each "" if absent."""
    doc = json_object(body)
    error, description = doc.get("error"), doc.get("error_description")
    return (
        error if isinstance(error, str) else "",
        description if isinstance(description, str) else "",
    )


def oauth_hint(answer: Answer, hints: Mapping[tuple[str, str], str]) -> str | None:
    """The caller's hint for an OAuth 2.0 error answer, keyed on RFC 6749's `error` code
    first and X's `error_description` second: (code, description) where X says in words
    what the RFC has a code for (X answers a used refresh token with invalid_request
    and "Value passed for the token was invalid.", a spec-compliant server with
    invalid_grant), (code, "") for any description. None: no error code, or no hint."""
    error, description = oauth_error(answer.body)
    if not error:
        return None
    return hints.get((error, description), hints.get((error, "")))


def describe_refusal(answer: Answer, secrets: Sequence[str], hint: str) -> str:
    """X's answer in a line: status, X's error code and message, and what to do (`hint`,
    the caller's: only it knows what its request needs)."""
    code, message = x_error(answer.body, secrets)
    what = f"HTTP {answer.status}"
    if code is not None:
        digits = str(code)
        cut = digits[:MAX_CODE_DIGITS] + ("…" if len(digits) > MAX_CODE_DIGITS else "")
        what += f", code {cut}"
    if message:
        what += f": {message}"
    elif answer.broken:
        what += f" whose body broke off ({answer.broken})"
    elif answer.body:
        kind = clean(answer.headers.get("Content-Type", "unknown type"), secrets, 60)
        what += f" with a non-JSON body ({kind}, {len(answer.body)} bytes)"
    return f"{what} — {hint}"
