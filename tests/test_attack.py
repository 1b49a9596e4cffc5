"""Attacks through the API's answers, and the leak scanner that guards every test."""

from __future__ import annotations

import json
from unittest import mock
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xbearer.client import Credentials

import ghrunner
from conftest import Api, _serve
from fakes import API_KEY, API_SECRET, TOKEN

HOSTILE_TOKENS = [
    "AAAA\nBBBB",
    "AAAA\r\nname=evil",
    "::set-output name=bearer::evil",
    "::add-mask::AAAA",
    "AAAA%0A::warning::x",
    "AAAA%0D%0Aevil",
    "AAAA\nghadelimiter_00000000-0000-0000-0000-000000000000\nbearer=evil",
    "ghadelimiter_x%0Abearer=evil",
    "AAAA BBBB",
    "AAAA\tBBBB",
    "AAAA\x00BBBB",
    "AAAA%ZZ",
    "AAAA%",
    "AAAA\u2028BBBB",
    "ÄAAA",
    "A" * 1025,
]
# Long enough, so that the alphabet refuses them, not their length; then what only the
# length or the padding rule refuses ("e" would have masked every e of the log).
HOSTILE_TOKENS = [
    *(("A" * 32 + token) if len(token) < 1025 else token for token in HOSTILE_TOKENS),
    "e",
    "A" * 31,
    "A" * 20 + "=" + "A" * 20,
    "=" * 40,
]


@pytest.mark.parametrize("token", HOSTILE_TOKENS, ids=range(len(HOSTILE_TOKENS)))
def test_hostile_tokens_are_refused(run, api: Api, token: str) -> None:
    api.fake.faults = ["json:" + json.dumps({"token_type": "bearer", "access_token": token})]
    result = run(api.inputs(export_env="TWITTER_BEARER_TOKEN", invalidate="true"))
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert "not a bearer token" in error
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    # The refused value is never printed, masked or not, nor registered as a mask ("e"
    # would hide every e of the job's log).
    assert token not in ghrunner.mask_values(result.log)
    # A one-character token occurs in any text; it must not occur as a quoted value.
    assert (token if len(token) > 1 else repr(token)) not in result.log
    assert json.dumps(token) not in result.log
    assert ghrunner.commands(result.log)[-1][0] == "error"


@pytest.mark.parametrize("token", ["A" * 32, "A" * 40 + "==", "AAAA%3D" + "B" * 30 + "%2F"])
def test_tokens_of_xs_shape_are_accepted(run, api: Api, token: str) -> None:
    api.fake.faults = ["json:" + json.dumps({"token_type": "bearer", "access_token": token})]
    result = run(api.inputs())
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == token


def test_error_bodies_never_echo_the_authorization_header(run, api: Api) -> None:
    api.fake.faults = ["echo-auth"]
    result = run(api.inputs())
    (error,) = result.annotations("error")
    assert "HTTP 400, code 214: Bad request from Basic ***" in error
    basic = Credentials(API_KEY, API_SECRET).basic
    assert basic not in result.log.replace(f"::add-mask::{basic}", "")


def test_error_messages_are_one_sanitised_truncated_line(run, api: Api) -> None:
    message = "bad\n::set-output name=bearer::evil\r\x1b[31m" + "x" * 500
    api.fake.custom = (403, {}, json.dumps({"errors": [{"code": 99, "message": message}]}).encode())
    api.fake.faults = ["custom"]
    result = run(api.inputs())
    assert result.rc == 1
    lines = [
        line
        for line in result.log.splitlines()
        if not line.startswith(("::add-mask::", "::debug::"))
    ]
    assert len(lines) == 1 and lines[0].startswith("::error::")
    (error,) = result.annotations("error")
    assert "\n" not in error and "\x1b" not in error
    assert "bad ::set-output name=bearer::evil" in error and "x" * 199 not in error
    assert result.outputs == {}


def test_leak_scanner_catches_a_token_printed_before_its_mask() -> None:
    inputs = {"api-key": API_KEY, "api-secret": API_SECRET}
    early = ghrunner.Run(0, f"token is {TOKEN}\n::add-mask::{TOKEN}\n", {}, inputs)
    with pytest.raises(AssertionError, match="leak: token 0 in clear in shown log line 1") as info:
        ghrunner.assert_no_leak(early, [TOKEN])
    assert TOKEN not in str(info.value)
    decoded = unquote(TOKEN)
    late = ghrunner.Run(
        0, f"::add-mask::{TOKEN.replace('%', '%25')}\n{TOKEN} {decoded}\n", {}, inputs
    )
    with pytest.raises(AssertionError, match="token 0 decoded"):
        ghrunner.assert_no_leak(late, [TOKEN])
    both = f"::add-mask::{TOKEN.replace('%', '%25')}\n::add-mask::{decoded}\n"
    ghrunner.assert_no_leak(ghrunner.Run(0, both + f"{TOKEN} {decoded}\n", {}, inputs), [TOKEN])


def test_leak_scanner_reads_command_data_as_the_runner_does() -> None:
    inputs = {"api-key": API_KEY, "api-secret": API_SECRET}
    escaped = TOKEN.replace("%", "%25")
    with pytest.raises(AssertionError, match="token 0 in clear"):
        ghrunner.assert_no_leak(ghrunner.Run(1, f"::error::bad {escaped}\n", {}, inputs), [TOKEN])
    basic = Credentials(API_KEY, API_SECRET).basic
    with pytest.raises(AssertionError, match="basic"):
        ghrunner.assert_no_leak(ghrunner.Run(1, f"Authorization: Basic {basic}\n", {}, inputs))
    # secrets.* inputs are masked from the start, as the runner does.
    ghrunner.assert_no_leak(ghrunner.Run(0, f"key {API_KEY}\n", {}, inputs))
    # The strict mode trusts no runner masks: the action must mask inputs itself first.
    with pytest.raises(AssertionError, match="passphrase"):
        run = ghrunner.Run(0, "::debug::phrase here\n", {}, {"passphrase": "phrase here"})
        ghrunner.assert_no_leak(run, trust_runner=False)


def test_file_command_parser_follows_the_runner() -> None:
    text = "a<<EOF\nline1\nline2\nEOF\nb=c=d\n"
    assert ghrunner.parse_file_command(text) == {"a": "line1\nline2", "b": "c=d"}
    with pytest.raises(AssertionError, match="no closing delimiter"):
        ghrunner.parse_file_command("a<<EOF\nvalue\n")


# -- property-based: any answer from the API --------------------------------------------------

header_text = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    # What http.client hands over is Latin-1: superscript and other non-ASCII digits too.
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=40,
    ),
    st.integers(-(10**25), 10**25).map(str),
)
# Messages with lone surrogates, controls, bidi overrides: JSON can carry them all.
message_text = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=60
) | st.sampled_from(["\ud800", "a\udfffb", "\u202e::error::x", "ok\x1b[31m"])
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.dictionaries(
        st.sampled_from(["token_type", "access_token", "errors", "error"]),
        st.one_of(
            message_text,
            st.integers(),
            st.none(),
            st.booleans(),
            st.lists(
                st.dictionaries(
                    st.sampled_from(["code", "message"]),
                    st.one_of(st.integers(), message_text),
                    max_size=2,
                ),
                max_size=2,
            ),
        ),
        max_size=3,
    ).map(lambda d: json.dumps(d).encode()),
)
headers = st.dictionaries(
    st.sampled_from(["Retry-After", "x-rate-limit-reset", "Content-Type", "Location", "X-Echo"]),
    header_text,
    max_size=3,
)


@pytest.fixture(scope="module")
def module_api():
    yield from _serve()


def test_a_lone_surrogate_in_xs_message_is_described(run, api: Api) -> None:
    body = json.dumps({"errors": [{"code": 99, "message": "bad \ud800 news \u202e"}]})
    api.fake.custom = (403, {}, body.encode())
    api.fake.faults = ["custom"]
    result = ghrunner.run_in_process(api.inputs())
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "HTTP 403, code 99: bad news — check" in error


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(status=st.integers(200, 599), headers=headers, body=bodies, retries=st.sampled_from("01"))
def test_any_api_answer_ends_cleanly(
    module_api: Api, status: int, headers, body: bytes, retries: str
) -> None:
    # With one retry, a 429 or 5xx answer's headers decide the wait, then the message.
    module_api.fake.custom = (status, dict(headers), body)
    module_api.fake.faults = ["custom", "custom"]
    with mock.patch("xbearer.transport.time.sleep"):  # what is waited for, not the wait
        result = ghrunner.run_in_process(module_api.inputs(retries=retries, timeout="2"))
    ghrunner.assert_no_leak(result, [TOKEN])
    assert "Traceback" not in result.log
    if result.rc == 0:
        outputs = result.outputs
        assert set(outputs) == {"bearer", "token-type"}
        assert status == 200 and outputs["bearer"] in body.decode("utf-8", "replace")
    else:
        assert result.rc == 1
        assert len(result.annotations("error")) == 1
        assert "internal error" not in result.annotations("error")[0]
        assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
