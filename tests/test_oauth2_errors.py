"""A refused OAuth 2.0 request's hint, keyed on RFC 6749's `error` code first and X's
`error_description` second (answers.oauth_hint): from tables for a refresh and a code
exchange, in-process; and end to end, a refresh that a spec-compliant server (the fake
with `rfc_errors`) refuses in the RFC's words."""

from __future__ import annotations

import json

import pytest
from requests.structures import CaseInsensitiveDict

from xbearer.answers import oauth_error, oauth_hint
from xbearer.errors import ACTION_TERMS, CLI_TERMS
from xbearer.oauth2 import (
    INVALID_CODE,
    INVALID_TOKEN,
    REDIRECT_MISMATCH,
    VERIFIER_MISMATCH,
    exchange_hint,
    refresh_hint,
)
from xbearer.transport import Answer, Endpoint

from conftest import Api, GitHub
from fakes.x_oauth2 import NO_AUTH_HEADER, RFC_WORDS


def _answer(status: int, body: object = None, *, raw: bytes = b"") -> Answer:
    data = raw if body is None else json.dumps(body).encode()
    return Answer(status, CaseInsensitiveDict({"Content-Type": "application/json"}), data, 1)


def _error(status: int, error: object, description: str | None = None) -> Answer:
    body = {"error": error} | ({} if description is None else {"error_description": description})
    return _answer(status, body)


# --- Reading the error, and the keying --------------------------------------------------
@pytest.mark.parametrize(
    ("body", "read"),
    [
        (b'{"error": "invalid_grant"}', ("invalid_grant", "")),
        (b'{"error": "invalid_request", "error_description": "No."}', ("invalid_request", "No.")),
        (b'{"error_description": "No."}', ("", "No.")),
        (b'{"error": 7, "error_description": ["No."]}', ("", "")),
        (b'{"errors": [{"code": 99, "message": "Unable to verify"}]}', ("", "")),
        (b'["invalid_grant"]', ("", "")),
        (b"<html>Bad Gateway</html>", ("", "")),
        (b"", ("", "")),
    ],
)
def test_an_oauth_error_is_its_code_and_description(body: bytes, read: tuple[str, str]) -> None:
    assert oauth_error(body) == read


KEYS = {
    ("invalid_grant", ""): "grant",
    ("invalid_request", INVALID_TOKEN): "X's grant",
    ("invalid_request", ""): "request",
}


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_error(400, "invalid_grant"), "grant"),
        (_error(400, "invalid_grant", "Refresh token revoked."), "grant"),
        (_error(400, "invalid_grant", INVALID_TOKEN), "grant"),  # the code comes first
        (_error(400, "invalid_request", INVALID_TOKEN), "X's grant"),  # then X's words
        (_error(400, "invalid_request", "Missing required parameter [code]."), "request"),
        (_error(400, "invalid_request"), "request"),
        (_error(400, "invalid_scope"), None),  # a code without a hint here
        (_error(400, "", INVALID_TOKEN), None),  # words without a code
        (_answer(400, {"error_description": INVALID_TOKEN}), None),
        (_answer(400, raw=b"not json"), None),
    ],
)
def test_a_hint_is_keyed_on_the_rfc_code_first_and_xs_words_second(
    answer: Answer, hint: str | None
) -> None:
    assert oauth_hint(answer, KEYS) == hint


# --- A refused refresh (the action's words) ---------------------------------------------
ACTION = Endpoint("https://api.x.com", 10, 3, None, ACTION_TERMS)
USED = (
    "refresh-token was used already, most likely by another run of this workflow at the same "
    "time: give the job a concurrency: group so that runs refresh one at a time. If no other "
    "run used it, it was revoked: authorize the account again (xbearer authorize)."
)
CREDENTIALS = (
    "check client-id and client-secret: the app's OAuth 2.0 Client ID and, for a confidential "
    "client, its Client Secret (refresh-token was not used)."
)
CHECK = "check client-id and refresh-token."
NOT_ACTED = "X did not act on it, so refresh-token was not used: re-run the job later."
MAY_HAVE_ROTATED = (
    "the refresh may have reached X, which then rotated refresh-token: the one stored may no "
    "longer work. If the next run says it is invalid, authorize the account again (xbearer "
    "authorize)."
)
NO_REFRESH = "api.x.com does not refresh tokens: check api-url."
SCOPE = (
    "the app may no longer have a scope the account granted: check its permissions in the "
    "developer portal, then authorize the account again (xbearer authorize)."
)
NOTHING = "Nothing was output."  # the action's last words after a failed refresh
RFC_GRANT, RFC_CLIENT = RFC_WORDS[INVALID_TOKEN][1], RFC_WORDS[NO_AUTH_HEADER][1]
REFRESHES: dict[str, tuple[Answer, str]] = {
    "RFC: invalid_grant": (_error(400, "invalid_grant"), USED),
    "RFC: invalid_grant, its words": (_error(400, "invalid_grant", RFC_GRANT), USED),
    "RFC: invalid_grant as a 401": (_error(401, "invalid_grant"), USED),
    "X: invalid_request, the token was invalid": (
        _error(400, "invalid_request", INVALID_TOKEN),
        USED,
    ),
    "X: the words decide, not the status": (_error(401, "invalid_request", INVALID_TOKEN), USED),
    "X: the words alone are no code": (_answer(400, {"error_description": INVALID_TOKEN}), CHECK),
    "RFC: invalid_request": (_error(400, "invalid_request"), CHECK),
    "X: a missing parameter": (
        _error(400, "invalid_request", "Missing required parameter [refresh_token]."),
        CHECK,
    ),
    "RFC: invalid_request as a 401": (_error(401, "invalid_request"), CHECK),
    "RFC: invalid_client": (_error(401, "invalid_client"), CREDENTIALS),
    "RFC: invalid_client, its words": (_error(401, "invalid_client", RFC_CLIENT), CREDENTIALS),
    "RFC: invalid_client as a 400": (_error(400, "invalid_client"), CREDENTIALS),
    "X: unauthorized_client, no valid header": (
        _error(401, "unauthorized_client", NO_AUTH_HEADER),
        CREDENTIALS,
    ),
    "RFC: unauthorized_client": (_error(400, "unauthorized_client"), CREDENTIALS),
    "RFC: unsupported_grant_type": (_error(400, "unsupported_grant_type"), NO_REFRESH),
    "RFC: invalid_scope": (_error(400, "invalid_scope"), SCOPE),
    "another code: the status, 400": (_error(400, "slow_down"), CHECK),
    "another code: the status, 401": (_error(401, "access_denied"), CREDENTIALS),
    "another code: the status, 503": (_error(503, "temporarily_unavailable"), NOT_ACTED),
    "another code: the status, 500": (_error(500, "server_error"), MAY_HAVE_ROTATED),
    "a code that is no string": (_error(401, 401), CREDENTIALS),
    "no JSON, 400": (_answer(400, raw=b"Bad Request"), CHECK),
    "no JSON, 401": (_answer(401, raw=b""), CREDENTIALS),
    "no JSON, 403": (_answer(403, raw=b"<html>Forbidden</html>"), CREDENTIALS),
    "no JSON, 404": (_answer(404, raw=b"Not Found"), CHECK),
    "no JSON, 429": (_answer(429, raw=b""), NOT_ACTED),
    "no JSON, 503": (_answer(503, raw=b"<html>Unavailable</html>"), NOT_ACTED),
    "no JSON, 500": (_answer(500, raw=b""), MAY_HAVE_ROTATED),
    "no JSON, 502": (_answer(502, raw=b"<html>Bad Gateway</html>"), MAY_HAVE_ROTATED),
    "no JSON, 504": (_answer(504, raw=b""), MAY_HAVE_ROTATED),
    "X's problem JSON, 401": (
        _answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401}),
        CREDENTIALS,
    ),
}


@pytest.mark.parametrize(("answer", "hint"), REFRESHES.values(), ids=REFRESHES.keys())
def test_a_refused_refresh_is_hinted_from_its_rfc_code_then_xs_words_then_its_status(
    answer: Answer, hint: str
) -> None:
    assert refresh_hint(answer, ACTION) == hint


# --- A refused code exchange (xbearer authorize's words) --------------------------------
AUTHORIZE = Endpoint(
    "https://api.x.com",
    10,
    3,
    None,
    CLI_TERMS.renamed({"client-id": "--client-id", "client-secret": "X_CLIENT_SECRET"}),
)
CODE = (
    "the authorization code was used already or expired (X's live 30 seconds), or it was given "
    "for another client, callback URL or code verifier."
)
CLIENT = (
    "check --client-id and X_CLIENT_SECRET (given for a confidential client, not for a public one)."
)
FALLBACK = (
    "check --client-id and X_CLIENT_SECRET (given for a confidential client, not for a public "
    "one), and that the callback URL is registered in the app's settings."
)
EXCHANGES: dict[str, tuple[Answer, str]] = {
    "RFC: invalid_grant": (_error(400, "invalid_grant"), CODE),
    "RFC: invalid_grant, its words": (
        _error(400, "invalid_grant", RFC_WORDS[INVALID_CODE][1]),
        CODE,
    ),
    "X: the code was invalid": (_error(400, "invalid_request", INVALID_CODE), CODE),
    "X: another callback URL": (_error(400, "invalid_request", REDIRECT_MISMATCH), CODE),
    "X: another code verifier": (_error(400, "invalid_request", VERIFIER_MISMATCH), CODE),
    "X: the refresh's words are not the code's": (
        _error(400, "invalid_request", INVALID_TOKEN),
        FALLBACK,
    ),
    "RFC: invalid_request": (_error(400, "invalid_request"), FALLBACK),
    "RFC: invalid_client": (_error(401, "invalid_client"), CLIENT),
    "X: unauthorized_client, no valid header": (
        _error(401, "unauthorized_client", NO_AUTH_HEADER),
        CLIENT,
    ),
    "RFC: unsupported_grant_type": (
        _error(400, "unsupported_grant_type"),
        "api.x.com does not exchange authorization codes: check --api-url.",
    ),
    "RFC: invalid_scope": (
        _error(400, "invalid_scope"),
        "X refused the scopes asked for: check them against the app's permissions.",
    ),
    "another code": (_error(400, "access_denied"), FALLBACK),
    "no JSON, 401": (_answer(401, raw=b""), FALLBACK),
    "no JSON, 500": (_answer(500, raw=b"<html>oops</html>"), FALLBACK),
}


@pytest.mark.parametrize(("answer", "hint"), EXCHANGES.values(), ids=EXCHANGES.keys())
def test_a_refused_code_exchange_is_hinted_from_its_rfc_code_then_xs_words(
    answer: Answer, hint: str
) -> None:
    assert exchange_hint(answer, AUTHORIZE) == hint


# --- End to end: a spec-compliant server ---------------------------------------------
def test_a_refresh_token_a_spec_compliant_server_calls_invalid_grant_names_concurrency(
    run, api: Api, github: GitHub
) -> None:
    api.fake.oauth2.rfc_errors = True
    inputs = api.user_inputs(github)
    assert run(inputs).rc == 0
    again = run(inputs)  # the refresh token of the first run, which rotated it
    assert again.rc == 1
    (error,) = again.annotations("error")
    assert error == f"The refresh failed: HTTP 400: invalid_grant: {RFC_GRANT} — {USED} {NOTHING}"
    assert len(api.fake.oauth2.token_requests()) == 2  # a refusal is not retried


def test_a_client_a_spec_compliant_server_calls_invalid_client_is_named(
    run, api: Api, github: GitHub
) -> None:
    api.fake.oauth2.rfc_errors = True
    inputs = api.user_inputs(github, client_secret="W" * 50)
    result = run(inputs)
    (error,) = result.annotations("error")
    assert error == (
        f"The refresh failed: HTTP 401: invalid_client: {RFC_CLIENT} — {CREDENTIALS} {NOTHING}"
    )
    assert api.fake.oauth2.valid_refresh_tokens() == [inputs["refresh-token"]]
