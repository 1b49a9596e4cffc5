"""Reading an answer (answers.py), in-process: what every client makes of a body."""

from __future__ import annotations

import json

import pytest
from requests.structures import CaseInsensitiveDict

from xbearer.answers import MAX_TOKEN, MIN_TOKEN, describe_refusal, json_object, validate_token
from xbearer.errors import ActionError
from xbearer.transport import Answer


def _answer(status: int, body: bytes, broken: str | None = None, **headers: str) -> Answer:
    return Answer(status, CaseInsensitiveDict(headers), body, 1, broken)


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"', b"null", b"[" * 10**5])
def test_a_body_that_is_not_a_json_object_reads_as_empty(body: bytes) -> None:
    assert json_object(body) == {}


def test_a_json_object_body_reads_as_its_object() -> None:
    assert json_object(b'{"revoked": true}') == {"revoked": True}


@pytest.mark.parametrize(
    "token",
    ["A" * MIN_TOKEN, "A" * MAX_TOKEN, "AAAA%3DAAAA" + "A" * 30, "a-b.c_d~e+f/g" * 3 + "=="],
)
def test_a_bearer_token_of_the_rfc_6750_alphabet_is_accepted(token: str) -> None:
    validate_token(token)


@pytest.mark.parametrize(
    "token",
    [
        "A" * (MIN_TOKEN - 1),
        "A" * (MAX_TOKEN + 1),
        "A" * 40 + " B",
        "A" * 40 + ":x",
        "A" * 40 + "%0A",  # decodes to a new line
        "A" * 40 + "%3",  # a broken escape
        "A" * 20 + "=" + "A" * 20,  # '=' only as trailing padding on the wire
    ],
)
def test_anything_else_is_refused_with_the_callers_words_and_not_quoted(token: str) -> None:
    with pytest.raises(ActionError) as caught:
        validate_token(token, "X answered 200 without usable tokens: ")
    assert caught.value.message.startswith("X answered 200 without usable tokens: the access")
    assert token not in caught.value.message


def test_a_refusal_ends_with_the_callers_hint_and_no_other_advice() -> None:
    body = json.dumps({"errors": [{"code": 99, "message": "Unable to verify"}]}).encode()
    text = describe_refusal(_answer(403, body), (), "check client-id.")
    assert text == "HTTP 403, code 99: Unable to verify — check client-id."


def test_an_oauth_2_error_is_read_as_error_and_description() -> None:
    body = b'{"error": "invalid_request", "error_description": "Value passed was invalid."}'
    text = describe_refusal(_answer(400, body), (), "hint.")
    assert text == "HTTP 400: invalid_request: Value passed was invalid. — hint."


def test_a_problem_json_error_is_read_as_title_and_detail() -> None:
    body = b'{"title": "Unauthorized", "detail": "Unauthorized", "status": 401}'
    assert describe_refusal(_answer(401, body), (), "hint.").startswith(
        "HTTP 401: Unauthorized: Unauthorized — "
    )


def test_a_secret_in_the_message_is_redacted() -> None:
    body = b'{"errors": [{"code": 32, "message": "bad refresh token s3cr3t-value"}]}'
    text = describe_refusal(_answer(401, body), ("s3cr3t-value",), "hint.")
    assert "s3cr3t-value" not in text and "bad refresh token ***" in text


def test_an_overlong_code_is_cut_and_a_boolean_is_no_code() -> None:
    long = b'{"errors": [{"code": 123456789012345, "message": "m"}]}'
    assert describe_refusal(_answer(400, long), (), "h.") == "HTTP 400, code 1234567890…: m — h."
    boolean = b'{"errors": [{"code": true, "message": "m"}]}'
    assert describe_refusal(_answer(400, boolean), (), "h.") == "HTTP 400: m — h."


def test_a_body_that_broke_off_or_is_not_json_is_named_not_quoted() -> None:
    broken = describe_refusal(_answer(502, b"", "Connection reset by peer"), (), "h.")
    assert broken == "HTTP 502 whose body broke off (Connection reset by peer) — h."
    html = _answer(502, b"<html>secret-page</html>", **{"Content-Type": "text/html"})
    assert describe_refusal(html, (), "h.") == (
        "HTTP 502 with a non-JSON body (text/html, 24 bytes) — h."
    )
