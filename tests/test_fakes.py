"""The test doubles themselves, over real HTTP: X's OAuth 2.0, GitHub's secrets API, the
simulated browser and the leak scanner. The action's tests rely on each behaviour here."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import pytest
import requests
from nacl.public import PublicKey, SealedBox

from xbearer.answers import validate_token

import browser
import ghrunner
from conftest import Api, GitHub
from fakes import API_KEY, API_SECRET, TOKEN
from fakes.x_oauth2 import (
    CLIENT_ID,
    CLIENT_SECRET,
    INVALID_CODE,
    INVALID_TOKEN,
    PUBLIC_CLIENT_ID,
    REDIRECT_MISMATCH,
    REDIRECT_URI,
    USER,
    VERIFIER_MISMATCH,
)

BASIC = (CLIENT_ID, CLIENT_SECRET)
APP = (API_KEY, API_SECRET)
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750


# -- helpers --------------------------------------------------------------------------------
def pkce() -> tuple[str, str]:
    """A real code verifier (RFC 7636: 43 to 128 unreserved characters) and its S256."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(api: Api, challenge: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "tweet.read tweet.write users.read offline.access",
        "state": "s" + secrets.token_hex(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return f"{api.url}/i/oauth2/authorize?{urlencode(query)}"


def get_code(api: Api, challenge: str, **params: str) -> str:
    answer = requests.get(authorize_url(api, challenge, **params), allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def token(
    api: Api, form: dict[str, str], auth: tuple[str, str] | None = BASIC, timeout: float = 5
) -> requests.Response:
    return requests.post(f"{api.url}/2/oauth2/token", data=form, auth=auth, timeout=timeout)


def refresh(
    api: Api, value: str, auth: tuple[str, str] | None = BASIC, timeout: float = 5, **change: str
) -> requests.Response:
    form = {"refresh_token": value, "grant_type": "refresh_token", "client_id": CLIENT_ID}
    return token(api, {**form, **change}, auth, timeout)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def oauth_error(answer: requests.Response) -> tuple[int, str, str | None]:
    body = answer.json()
    return answer.status_code, body["error"], body.get("error_description")


def shaped_like_x(value: str, kind: str) -> None:
    """X's shape, and what the action accepts: an RFC 6750 b64token of 32 to 1024 chars."""
    assert B64TOKEN.fullmatch(value) and 32 <= len(value) <= 1024
    validate_token(value)
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    assert re.fullmatch(rf"[\w-]{{45}}:\d{{13}}:1:0:{kind}:1", decoded), decoded


# -- X: authorize, code, token --------------------------------------------------------------
def test_pkce_flow_from_authorize_to_a_working_token(api: Api) -> None:
    verifier, challenge = pkce()
    url = authorize_url(api, challenge, state="xyz")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    shaped_like_x(code, "ac")
    assert api.fake.oauth2.codes[code].method == "S256"

    form = {
        "code": code,
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    answer = token(api, form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["token_type", "expires_in", "access_token", "scope", "refresh_token"]
    assert (body["token_type"], body["expires_in"]) == ("bearer", 7200)
    assert body["scope"] == "tweet.read tweet.write users.read offline.access"
    shaped_like_x(body["access_token"], "at")
    shaped_like_x(body["refresh_token"], "rt")
    me = requests.get(f"{api.url}/2/users/me", headers=bearer(body["access_token"]), timeout=5)
    assert me.json() == {"data": USER}
    # The code was single use.
    assert oauth_error(token(api, form)) == (400, "invalid_request", INVALID_CODE)


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"code_verifier": "x" * 43}, VERIFIER_MISMATCH),
        ({"redirect_uri": "http://127.0.0.1:8788/other"}, REDIRECT_MISMATCH),
        ({"code": "bm9wZQ"}, INVALID_CODE),
    ],
    ids=["verifier", "redirect_uri", "code"],
)
def test_a_code_exchange_is_checked(api: Api, change: dict[str, str], description: str) -> None:
    verifier, challenge = pkce()
    form = {
        "code": get_code(api, challenge),
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        **change,
    }
    assert oauth_error(token(api, form)) == (400, "invalid_request", description)
    assert api.fake.oauth2.valid_access_tokens() == []


def test_plain_challenge_and_no_offline_access(api: Api) -> None:
    code = get_code(api, "v" * 43, code_challenge_method="plain", scope="tweet.read users.read")
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID}
    answer = token(
        api, {**form, "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": "v" * 43}
    )
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()  # X: no offline.access, no refresh token
    assert answer.json()["scope"] == "tweet.read users.read"


def test_a_code_expires(api: Api) -> None:
    api.fake.oauth2.code_lifetime = 0
    verifier, challenge = pkce()
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code_verifier": verifier}
    answer = token(api, {**form, "code": get_code(api, challenge), "redirect_uri": REDIRECT_URI})
    assert oauth_error(answer) == (400, "invalid_request", INVALID_CODE)


def test_authorize_denied_redirects_with_access_denied(api: Api) -> None:
    api.fake.oauth2.decision = "deny"
    answer = requests.get(
        authorize_url(api, pkce()[1], state="st"), allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{REDIRECT_URI}?error=access_denied&state=st"
    assert api.fake.oauth2.codes == {}


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "bm9ib2R5OjE6Y2k"},
        {"redirect_uri": "http://127.0.0.1:9999/callback"},
        {"scope": "tweet.read everything"},
        {"scope": ""},
        {"code_challenge": ""},
        {"code_challenge_method": "S512"},
        {"state": ""},
        {"state": "s" * 501},
        {"response_type": "token"},
    ],
    ids=lambda change: "-".join(f"{k}={v[:12]}" for k, v in change.items()),
)
def test_authorize_refuses_bad_parameters_with_a_page(api: Api, change: dict[str, str]) -> None:
    answer = requests.get(authorize_url(api, pkce()[1], **change), allow_redirects=False, timeout=5)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "Something went wrong" in answer.text


# -- X: refresh, clients, revoke -------------------------------------------------------------
def test_refresh_rotates_and_the_old_token_is_refused(api: Api) -> None:
    oauth2 = api.fake.oauth2
    first = oauth2.issue_refresh_token()
    answer = refresh(api, first)
    assert answer.status_code == 200, answer.text
    second = answer.json()["refresh_token"]
    shaped_like_x(second, "rt")
    assert second != first
    assert oauth2.valid_refresh_tokens() == [second]
    again = refresh(api, first)
    assert again.json() == {"error": "invalid_request", "error_description": INVALID_TOKEN}
    assert again.status_code == 400
    third = refresh(api, second)
    assert third.status_code == 200
    assert oauth2.valid_refresh_tokens() == [third.json()["refresh_token"]]
    assert len(oauth2.token_requests()) == 3
    assert {first, second, answer.json()["access_token"]} <= set(oauth2.issued())


def test_two_refreshes_with_one_token_at_once_one_wins(api: Api) -> None:
    value = api.fake.oauth2.issue_refresh_token()
    start = threading.Barrier(2)
    statuses: list[int] = []

    def go() -> None:
        start.wait()
        statuses.append(refresh(api, value).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]


def test_public_client_sends_client_id_only(api: Api) -> None:
    value = api.fake.oauth2.issue_refresh_token(PUBLIC_CLIENT_ID)
    answer = refresh(api, value, auth=None, client_id=PUBLIC_CLIENT_ID)
    assert answer.status_code == 200, answer.text
    # A public client has no secret to send.
    basic = refresh(api, answer.json()["refresh_token"], auth=(PUBLIC_CLIENT_ID, "anything"))
    assert oauth_error(basic) == (401, "unauthorized_client", "Missing valid authorization header")


@pytest.mark.parametrize(
    ("auth", "form", "expected"),
    [
        (None, {}, (401, "unauthorized_client", "Missing valid authorization header")),
        (
            (CLIENT_ID, "wrong-secret"),
            {},
            (401, "unauthorized_client", "Missing valid authorization header"),
        ),
        (
            BASIC,
            {"client_id": ""},
            (400, "invalid_request", "Missing required parameter [client_id]."),
        ),
        (
            BASIC,
            {"client_id": PUBLIC_CLIENT_ID},
            (401, "unauthorized_client", "Missing valid authorization header"),
        ),
        (
            BASIC,
            {"refresh_token": ""},
            (400, "invalid_request", "Missing required parameter [refresh_token]."),
        ),
        (BASIC, {"grant_type": "client_credentials"}, (400, "invalid_request", None)),
        (None, {"client_id": "bm9ib2R5OjE6Y2k"}, (401, "invalid_client", None)),
    ],
    ids=[
        "no-basic",
        "wrong-secret",
        "no-client-id",
        "other-client-id",
        "no-token",
        "grant",
        "unknown-client",
    ],
)
def test_confidential_client_authentication(
    api: Api, auth: tuple[str, str] | None, form: dict[str, str], expected: tuple[Any, ...]
) -> None:
    value = api.fake.oauth2.issue_refresh_token()
    form = {"refresh_token": value, "grant_type": "refresh_token", "client_id": CLIENT_ID, **form}
    status, error, description = oauth_error(token(api, form, auth))
    assert (status, error) == expected[:2]
    if expected[2]:
        assert description == expected[2]
    assert api.fake.oauth2.valid_refresh_tokens() == [value]  # nothing rotated


def test_a_refresh_token_of_another_client_is_invalid(api: Api) -> None:
    value = api.fake.oauth2.issue_refresh_token(PUBLIC_CLIENT_ID)
    assert oauth_error(refresh(api, value)) == (400, "invalid_request", INVALID_TOKEN)


def test_revoke_access_and_refresh_tokens(api: Api) -> None:
    oauth2 = api.fake.oauth2
    body = refresh(api, oauth2.issue_refresh_token()).json()
    access, new_refresh = body["access_token"], body["refresh_token"]
    me = f"{api.url}/2/users/me"
    assert requests.get(me, headers=bearer(access), timeout=5).status_code == 200
    form = {"token": access, "token_type_hint": "access_token", "client_id": CLIENT_ID}
    answer = requests.post(f"{api.url}/2/oauth2/revoke", data=form, auth=BASIC, timeout=5)
    assert (answer.status_code, answer.json()) == (200, {"revoked": True})
    refused = requests.get(me, headers=bearer(access), timeout=5)
    assert refused.status_code == 401
    assert refused.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }
    assert access in oauth2.revoked()
    # A refresh token too; a confidential client must authenticate to revoke.
    form = {"token": new_refresh, "token_type_hint": "refresh_token", "client_id": CLIENT_ID}
    unauthenticated = requests.post(f"{api.url}/2/oauth2/revoke", data=form, timeout=5)
    assert unauthenticated.status_code == 401
    assert new_refresh not in oauth2.revoked()
    requests.post(f"{api.url}/2/oauth2/revoke", data=form, auth=BASIC, timeout=5)
    assert oauth_error(refresh(api, new_refresh)) == (400, "invalid_request", INVALID_TOKEN)
    assert len(oauth2.revoke_requests()) == 3


# -- X: the API with user tokens ---------------------------------------------------------------
def test_user_tokens_on_the_api(api: Api) -> None:
    oauth2 = api.fake.oauth2
    writer = refresh(api, oauth2.issue_refresh_token()).json()["access_token"]
    reader_refresh = oauth2.issue_refresh_token(
        scopes=("tweet.read", "users.read", "offline.access")
    )
    reader = refresh(api, reader_refresh).json()["access_token"]
    post = f"{api.url}/2/tweets"

    created = requests.post(post, json={"text": "hello"}, headers=bearer(writer), timeout=5)
    assert created.status_code == 201
    data = created.json()["data"]
    assert data == {"edit_history_tweet_ids": [data["id"]], "id": data["id"], "text": "hello"}
    assert oauth2.tweets == [{"id": data["id"], "text": "hello", "username": USER["username"]}]

    no_scope = requests.post(post, json={"text": "hi"}, headers=bearer(reader), timeout=5)
    assert (no_scope.status_code, no_scope.json()["title"]) == (403, "Forbidden")
    app_only = requests.post(post, json={"text": "hi"}, headers=bearer(TOKEN), timeout=5)
    assert (app_only.status_code, app_only.json()["title"]) == (403, "Unsupported Authentication")
    me = requests.get(f"{api.url}/2/users/me", headers=bearer(TOKEN), timeout=5)
    assert me.status_code == 403
    bad = requests.post(post, json={"txt": "hi"}, headers=bearer(writer), timeout=5)
    assert bad.status_code == 400
    assert len(oauth2.tweets) == 1

    # GET /2/tweets takes both kinds of token; an unknown one still gets X's v1.1 code 89.
    for value in (reader, TOKEN):
        answer = requests.get(f"{post}?ids=20", headers=bearer(value), timeout=5)
        assert answer.json() == {"data": [{"id": "20", "text": "just setting up my twttr"}]}
    unknown = requests.get(f"{post}?ids=20", headers=bearer("AAAA" * 10), timeout=5)
    assert unknown.json()["errors"][0]["code"] == 89

    oauth2.expire(reader)
    expired = requests.get(f"{api.url}/2/users/me", headers=bearer(reader), timeout=5)
    assert expired.status_code == 401


# -- X: faults ----------------------------------------------------------------------------------
BEFORE = [
    ("status:503", 503, None),
    ("status:500", 500, None),
    ("status:429", 429, None),
    ("retry-after:2", 429, ("Retry-After", "2")),
    ("html:502", 502, None),
]


@pytest.mark.parametrize(("fault", "status", "header"), BEFORE, ids=[f[0] for f in BEFORE])
def test_token_faults_before_x_rotates(
    api: Api, fault: str, status: int, header: tuple[str, str] | None
) -> None:
    value = api.fake.oauth2.issue_refresh_token()
    api.fake.oauth2.faults = [fault]
    answer = refresh(api, value)
    assert answer.status_code == status
    if header:
        assert answer.headers[header[0]] == header[1]
    assert api.fake.oauth2.valid_refresh_tokens() == [value]  # not rotated: a retry works
    assert refresh(api, value).status_code == 200


def test_token_reset_at_reset_and_stall_do_not_rotate(api: Api) -> None:
    value = api.fake.oauth2.issue_refresh_token()
    api.fake.oauth2.faults = ["reset-at:5", "reset", "stall:1"]
    limited = refresh(api, value)
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert int(limited.headers["x-rate-limit-reset"]) > 0
    with pytest.raises(requests.ConnectionError):
        refresh(api, value)
    with pytest.raises(requests.Timeout):
        refresh(api, value, timeout=0.3)
    assert api.fake.oauth2.valid_refresh_tokens() == [value]


@pytest.mark.parametrize("fault", ["lost-answer", "lost-answer:504", "slow:1"])
def test_token_faults_after_x_rotated(api: Api, fault: str) -> None:
    value = api.fake.oauth2.issue_refresh_token()
    api.fake.oauth2.faults = [fault]
    if fault == "lost-answer":
        with pytest.raises(requests.ConnectionError):
            refresh(api, value)
    elif fault == "slow:1":
        with pytest.raises(requests.Timeout):
            refresh(api, value, timeout=0.3)
    else:
        assert refresh(api, value).status_code == 504
    # X rotated: the old token is dead, a new one (that never arrived) is valid.
    (rotated,) = api.fake.oauth2.valid_refresh_tokens()
    assert rotated != value
    assert oauth_error(refresh(api, value)) == (400, "invalid_request", INVALID_TOKEN)


@pytest.mark.parametrize(
    ("fault", "revoked"), [("status:503", False), ("reset", False), ("lost-answer", True)]
)
def test_revoke_faults(api: Api, fault: str, revoked: bool) -> None:
    access = refresh(api, api.fake.oauth2.issue_refresh_token()).json()["access_token"]
    api.fake.oauth2.revoke_faults = [fault]
    form = {"token": access, "client_id": CLIENT_ID}
    try:
        answer = requests.post(f"{api.url}/2/oauth2/revoke", data=form, auth=BASIC, timeout=5)
        assert answer.status_code == 503
    except requests.ConnectionError:
        assert fault != "status:503"
    assert (access in api.fake.oauth2.revoked()) == revoked


# -- GitHub: secrets ------------------------------------------------------------------------------
def gh_headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def secrets_url(github: GitHub, environment: str | None = None, repo: str = "owner/repo") -> str:
    if environment:
        return f"{github.url}/repos/{repo}/environments/{environment}/secrets"
    return f"{github.url}/repos/{repo}/actions/secrets"


def seal(github: GitHub, token: str, value: str, environment: str | None = None) -> dict[str, str]:
    """Fetch the public key and seal `value` to it, as the action does."""
    answer = requests.get(
        f"{secrets_url(github, environment)}/public-key", headers=gh_headers(token), timeout=5
    )
    assert answer.status_code == 200, answer.text
    key = answer.json()
    assert set(key) == {"key_id", "key"} and len(base64.b64decode(key["key"])) == 32
    sealed = SealedBox(PublicKey(base64.b64decode(key["key"]))).encrypt(value.encode())
    return {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key["key_id"]}


def put(github: GitHub, token: str | None, name: str, body: Any, **kw: Any) -> requests.Response:
    url = f"{secrets_url(github, kw.pop('environment', None), kw.pop('repo', 'owner/repo'))}/{name}"
    headers = {**gh_headers(token), **kw.pop("headers", {})}
    return requests.put(url, json=body, headers=headers, timeout=kw.pop("timeout", 5))


@pytest.mark.parametrize("environment", [None, "production"])
def test_store_with_a_real_sealed_box_and_read_it_back(
    github: GitHub, environment: str | None
) -> None:
    token = github.fake.add_token("write")
    created = put(
        github,
        token,
        "x_refresh_token",
        seal(github, token, "first", environment),
        environment=environment,
    )
    assert created.status_code == 201
    updated = put(
        github,
        token,
        "X_REFRESH_TOKEN",
        seal(github, token, "second", environment),
        environment=environment,
    )
    assert (updated.status_code, updated.content) == (204, b"")
    assert github.fake.secret("X_REFRESH_TOKEN", environment) == "second"
    assert github.fake.history("x_refresh_token", environment) == ["first", "second"]
    other = "production" if environment is None else None
    assert github.fake.secret("X_REFRESH_TOKEN", other) is None  # each has its own secrets
    last = github.fake.requests[-1]
    assert last.headers["Accept"] == "application/vnd.github+json"
    assert last.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert last.headers["Authorization"] == f"Bearer {token}"
    assert len(github.fake.put_requests()) == 2 and len(github.fake.key_requests()) == 2


def test_each_store_has_its_own_key(github: GitHub) -> None:
    token = github.fake.add_token("write")
    body = seal(github, token, "value", "production")
    answer = put(github, token, "NAME", body)  # sealed to the environment's key
    assert answer.status_code == 422
    assert github.fake.secret("NAME") is None


IMPROPER = "Bad request - validation failed due to an improperly encrypted secret"


@pytest.mark.parametrize(
    ("kind", "change", "status", "message"),
    [
        (None, {}, 401, "Requires authentication"),
        ("unknown", {}, 401, "Bad credentials"),
        ("read", {}, 403, "Resource not accessible by personal access token"),
        ("github_token", {}, 403, "Resource not accessible by integration"),
        ("write", {"repo": "owner/other"}, 404, "Not Found"),
        ("write", {"environment": "staging"}, 404, "Not Found"),
        ("write", {"name": "1ST"}, 422, "Failed to add secret. Name is invalid"),
        ("write", {"name": "BAD-NAME"}, 422, "Failed to add secret. Name is invalid"),
        (
            "write",
            {"name": "GITHUB_TOKEN"},
            422,
            "Failed to add secret. Secret names must not start with GITHUB_.",
        ),
        ("write", {"key_id": "1"}, 422, IMPROPER),
        ("write", {"encrypted_value": base64.b64encode(b"x" * 80).decode()}, 422, IMPROPER),
        ("write", {"encrypted_value": "not base64!"}, 422, None),
        ("write", {"key_id": None}, 422, 'Invalid request.\n\n"key_id" wasn\'t supplied.'),
        ("write", {"headers": {"X-GitHub-Api-Version": "2020-01-01"}}, 400, None),
    ],
    ids=[
        "no-token",
        "bad-credentials",
        "read-only",
        "GITHUB_TOKEN",
        "repo",
        "environment",
        "name-digit",
        "name-dash",
        "name-GITHUB_",
        "key_id",
        "undecryptable",
        "not-base64",
        "no-key_id",
        "api-version",
    ],
)
def test_github_refuses_as_github_does(
    github: GitHub, kind: str | None, change: dict[str, Any], status: int, message: str | None
) -> None:
    writer = github.fake.add_token("write")
    body: dict[str, Any] = seal(github, writer, "value")
    token: str | None = None
    if kind == "unknown":
        token = "github_pat_11" + "A" * 82
    elif kind:
        token = github.fake.add_token(kind)
    kw = {k: change.pop(k) for k in ("repo", "environment", "headers") if k in change}
    name = change.pop("name", "X_REFRESH_TOKEN")
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    answer = put(github, token, name, body, **kw)
    assert answer.status_code == status, answer.text
    doc = answer.json()
    assert doc["status"] == str(status) and doc["documentation_url"].startswith(
        "https://docs.github.com/rest"
    )
    if message:
        assert doc["message"] == message
    assert all(not store.secrets for store in github.fake.stores.values())


def test_read_only_and_github_token_on_the_public_key(github: GitHub) -> None:
    url = f"{secrets_url(github)}/public-key"
    reader = github.fake.add_token("read")
    assert requests.get(url, headers=gh_headers(reader), timeout=5).status_code == 200
    job = requests.get(url, headers=gh_headers(github.fake.add_token("github_token")), timeout=5)
    assert (job.status_code, job.json()["message"]) == (
        403,
        "Resource not accessible by integration",
    )


def test_a_rotated_key_refuses_values_sealed_to_the_old_one(github: GitHub) -> None:
    token = github.fake.add_token("write")
    body = seal(github, token, "value")
    github.fake.rotate_key()
    assert put(github, token, "NAME", body).json()["message"] == IMPROPER
    assert put(github, token, "NAME", seal(github, token, "value")).status_code == 201


@pytest.mark.parametrize(
    ("fault", "status", "stored"),
    [
        ("status:500", 500, False),
        ("status:503", 503, False),
        ("status:401", 401, False),
        ("status:403", 403, False),
        ("status:429", 429, False),
        ("retry-after:2", 429, False),
        ("reset", None, False),
        ("stall:1", None, False),
        ("lost-answer", None, True),
        ("lost-answer:502", 502, True),
        ("slow:1", None, True),
    ],
)
def test_github_put_faults(github: GitHub, fault: str, status: int | None, stored: bool) -> None:
    token = github.fake.add_token("write")
    body = seal(github, token, "value")
    github.fake.faults["put"] = [fault]
    if status is None:
        with pytest.raises((requests.ConnectionError, requests.Timeout)):
            put(github, token, "NAME", body, timeout=0.3)
    else:
        answer = put(github, token, "NAME", body)
        assert answer.status_code == status
        if status == 401:
            assert answer.json()["message"] == "Bad credentials"
        if status == 429:
            assert answer.headers["Retry-After"] == ("2" if fault == "retry-after:2" else "1")
    assert (github.fake.secret("NAME") == "value") == stored
    assert put(github, token, "NAME", body).status_code == (204 if stored else 201)


@pytest.mark.parametrize("fault", ["status:502", "reset", "slow:1"])
def test_github_public_key_faults(github: GitHub, fault: str) -> None:
    token = github.fake.add_token("write")
    github.fake.faults["public-key"] = [fault]
    url = f"{secrets_url(github)}/public-key"
    if fault == "status:502":
        assert requests.get(url, headers=gh_headers(token), timeout=5).status_code == 502
    else:
        with pytest.raises((requests.ConnectionError, requests.Timeout)):
            requests.get(url, headers=gh_headers(token), timeout=0.3)
    assert requests.get(url, headers=gh_headers(token), timeout=5).status_code == 200


def test_two_runs_through_the_doubles(api: Api, github: GitHub) -> None:
    """What the action will do: each run refreshes with the stored token and stores the new one."""
    writer = github.fake.add_token("write")
    github.fake.set_secret("X_REFRESH_TOKEN", api.fake.oauth2.issue_refresh_token())
    for _ in range(2):
        answer = refresh(api, str(github.fake.secret("X_REFRESH_TOKEN")))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        stored = put(github, writer, "X_REFRESH_TOKEN", seal(github, writer, body["refresh_token"]))
        assert stored.status_code == 204
        me = requests.get(f"{api.url}/2/users/me", headers=bearer(body["access_token"]), timeout=5)
        assert me.status_code == 200
    assert len(github.fake.history("X_REFRESH_TOKEN")) == 3
    assert api.fake.oauth2.valid_refresh_tokens() == [github.fake.secret("X_REFRESH_TOKEN")]


# -- one fault vocabulary: every fake, every queue ------------------------------------------------
def _queues(api: Api, github: GitHub) -> dict[str, Callable[[str], requests.Response]]:
    """For each queue of each fake: queue one fault, then send that queue's request."""
    writer = github.fake.add_token("write")
    value = api.fake.oauth2.issue_refresh_token()

    def app_only(fault: str) -> requests.Response:
        api.fake.faults = [fault]
        form = {"grant_type": "client_credentials"}
        return requests.post(f"{api.url}/oauth2/token", data=form, auth=APP, timeout=5)

    def user_context(fault: str) -> requests.Response:
        api.fake.oauth2.faults = [fault]
        return refresh(api, value)

    def github_put(fault: str) -> requests.Response:
        body = seal(github, writer, "value")
        github.fake.faults["put"] = [fault]
        return put(github, writer, "NAME", body)

    return {"X app-only": app_only, "X user context": user_context, "GitHub": github_put}


@pytest.mark.parametrize("queue", ["X app-only", "X user context", "GitHub"])
def test_every_fake_acts_out_the_same_faults_in_its_own_words(
    api: Api, github: GitHub, queue: str
) -> None:
    send = _queues(api, github)[queue]
    limited = send("retry-after:2")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    until = send("reset-at:5")
    assert until.status_code == 429 and "Retry-After" not in until.headers
    reset = {k: v for k, v in until.headers.items() if k.lower().endswith("-reset")}
    assert reset and all(int(v) > 0 for v in reset.values()), until.headers
    proxy = send("html:502")
    assert proxy.status_code == 502 and proxy.headers["Content-Type"] == "text/html"
    refused = send("status:503")
    assert refused.status_code == 503 and refused.json()  # the service's own error document
    assert send("lost-answer:504").status_code == 504
    with pytest.raises(requests.ConnectionError):
        send("reset")


# -- the simulated browser ----------------------------------------------------------------------
@pytest.fixture
def callback() -> Iterator[tuple[str, list[str]]]:
    """A trivial loopback callback server: its URL and the queries it received."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(urlsplit(self.path).query)
            body = b"You can close this window."
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_browser_follows_to_the_callback(
    api: Api, callback: tuple[str, list[str]], decision: str
) -> None:
    url, received = callback
    api.fake.oauth2.clients[CLIENT_ID].redirect_uris.append(url)
    api.fake.oauth2.decision = decision
    visit = browser.follow(authorize_url(api, pkce()[1], redirect_uri=url, state="st"))
    assert visit.authorize.status_code == 302
    assert visit.callback.text == "You can close this window."
    assert received == [urlsplit(visit.location).query]
    if decision == "approve":
        assert visit.query["state"] == "st" and visit.query["code"] in api.fake.oauth2.codes
    else:
        assert visit.query == {"error": "access_denied", "state": "st"}


def test_browser_stops_at_an_error_page_and_at_non_loopback(api: Api) -> None:
    with pytest.raises(AssertionError, match="without a redirect"):
        browser.follow(authorize_url(api, pkce()[1], redirect_uri="http://127.0.0.1:1/nope"))
    with pytest.raises(AssertionError, match="only opens loopback"):
        browser.follow("https://x.com/i/oauth2/authorize")
    assert len(api.fake.requests) == 1


# -- the leak scanner -----------------------------------------------------------------------------
def _run(log: str = "", summary: str = "", output: str = "", **inputs: str) -> ghrunner.Run:
    files = {"STEP_SUMMARY": summary, "OUTPUT": output}
    return ghrunner.Run(0, log, files, inputs)


def test_leak_scanner_covers_user_context_secrets(api: Api) -> None:
    refresh_token = api.fake.oauth2.issue_refresh_token()
    inputs = {
        "refresh-token": refresh_token,
        "client-id": CLIENT_ID,
        "client-secret": CLIENT_SECRET,
        "github-token": "github_pat_11" + "B" * 82,
    }
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    issued = api.fake.oauth2.issued()
    for log in (
        f"refreshing with {refresh_token}",
        f"Authorization: Basic {basic}",
        f"github token {inputs['github-token']}",
        f"secret {CLIENT_SECRET}",
    ):
        with pytest.raises(AssertionError) as caught:
            ghrunner.assert_no_leak(_run(log, **inputs), issued, trust_runner=False)
        for value in (*inputs.values(), basic):
            if value != CLIENT_ID:
                assert value not in str(caught.value)  # the failure never quotes a secret
    # Masked first, as the action must: nothing shows.
    masked = "".join(
        f"::add-mask::{v}\n" for v in (refresh_token, CLIENT_SECRET, basic, inputs["github-token"])
    )
    ghrunner.assert_no_leak(
        _run(masked + f"using {refresh_token} {basic}", **inputs), issued, trust_runner=False
    )


@pytest.mark.parametrize("encode", [str, quote_plus], ids=["raw", "form-encoded"])
def test_leak_scanner_knows_both_basic_forms(encode: Callable[[str], str]) -> None:
    inputs = {"client-id": "id:with space", "client-secret": "p@ss word/+="}
    basic = base64.b64encode(f"{encode('id:with space')}:{encode('p@ss word/+=')}".encode())
    with pytest.raises(AssertionError, match="client basic"):
        ghrunner.assert_no_leak(_run(f"Authorization: Basic {basic.decode()}", **inputs))


def test_leak_scanner_reads_the_summary_and_outputs_but_bearer(api: Api) -> None:
    body = refresh(api, api.fake.oauth2.issue_refresh_token()).json()
    access, new_refresh = body["access_token"], body["refresh_token"]
    issued = api.fake.oauth2.issued()
    ghrunner.assert_no_leak(_run(output=f"bearer={access}\ntoken-type=bearer\n"), issued)
    with pytest.raises(AssertionError, match="in the job summary"):
        ghrunner.assert_no_leak(_run(summary=f"stored {new_refresh}"), issued)
    with pytest.raises(AssertionError, match="in output 'scope'"):
        ghrunner.assert_no_leak(_run(output=f"bearer={access}\nscope={new_refresh}\n"), issued)
    with pytest.raises(AssertionError, match="in output 'expires-in'"):
        ghrunner.assert_no_leak(_run(output=f"expires-in<<EOF\n{access}\nEOF\n"), issued)
