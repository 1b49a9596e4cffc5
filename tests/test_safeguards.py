"""Safeguards for what a hostile or unlucky run meets: another run's rotation, a
cancellation, X's or GitHub's odd answers, a later step steering the post step, secrets
echoed back, a budget stretched. Each docstring says what happens without the safeguard.

Everything runs over loopback against the fakes (tests/fakes: X with its OAuth 2.0
side, GitHub); every run is leak-scanned (the `run` fixture, or `_scanned`).
Where a case needs X or GitHub to answer as the fakes do not by themselves, the
fake's handler is wrapped for the one test (monkeypatch), in the test's own process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from xbearer.sealing import seal, unseal

import ghrunner
from conftest import Api, GitHub
from fakes import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, x, x_oauth2
from fakes.x_oauth2 import CLIENT_ID, Token

PASS = "correct horse battery staple"
NAME = "X_REFRESH_TOKEN"


def _wrap_exchange(
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[x_oauth2.OAuth2, int, dict[str, Any]], tuple[int, dict[str, Any]]],
) -> None:
    """X's token endpoint answers as usual (rotating the refresh token), then `change`
    rewrites the answer that goes on the wire."""
    original = x_oauth2._exchange

    def exchange(oauth2: x_oauth2.OAuth2, seen: Any) -> tuple[int, dict[str, Any]]:
        status, body = original(oauth2, seen)
        return change(oauth2, status, body)

    monkeypatch.setattr(x_oauth2, "_exchange", exchange)


def _rename(oauth2: x_oauth2.OAuth2, old: str, new: str) -> None:
    """X issued `new` instead of `old` (same kind, client and scopes)."""
    with oauth2.lock:
        token = oauth2.tokens.pop(old)
        oauth2.tokens[new] = Token(new, token.kind, token.client_id, token.scopes, token.expires)


def _shown(result: ghrunner.Run) -> str:
    """The step's log as the runner shows it (masks applied): safe in a failure text."""
    return "\n".join(ghrunner.shown(result.log, result.inputs))


def _scanned(result: ghrunner.Run, tokens: tuple[str, ...] = ()) -> ghrunner.Run:
    """The leak scanner, its finding reported in its own words only (see the harness
    test at the end: its failure would otherwise print every secret)."""
    leak = ""
    try:
        ghrunner.assert_no_leak(result, tokens, trust_runner=False)
    except AssertionError as exc:
        leak = str(exc).splitlines()[0]
    assert not leak, leak
    return result


def _errors(result: ghrunner.Run) -> str:
    """The step's ::error annotations as the runner shows them (masks applied)."""
    return " | ".join(
        line for line in ghrunner.shown(result.log, result.inputs) if line.startswith("[error]")
    )


def _sealed_in(text: str) -> list[str]:
    """Every sealed value (v2.…) in a text."""
    return [word.strip("`.,;:()") for word in text.split() if word.startswith("v2.")]


def _kept(api: Api, github: GitHub, result: ghrunner.Run) -> bool:
    """Whether the refresh token X accepts now is kept: in the secret, or sealed in the
    step's log (the rescue)."""
    valid = api.fake.oauth2.valid_refresh_tokens()
    if not valid:
        return True  # nothing to keep: X holds no usable refresh token
    if github.fake.secret(NAME) in valid:
        return True
    for sealed in _sealed_in(result.log):
        try:
            if unseal(sealed, PASS) in valid:
                return True
        except Exception:  # noqa: BLE001, S112 - not a sealed value of ours
            continue
    return False


# --- A run holding a refresh token another run rotated leaves the secret as it is ---------
def test_a_stale_run_does_not_overwrite_the_rotated_refresh_token(run, api: Api, github) -> None:
    """Two runs of the workflow read the secret (R0) when their jobs start. Run A
    refreshes, X rotates to R1 and A stores R1. Run B then "proves" it can write by
    storing R0 over R1, and its refresh fails (X: R0 was used). The behaviour: the secret
    still holds R1, the one X accepts. Without it: it holds R0, which X refuses; R1 is
    stored nowhere and the account must be authorized again."""
    inputs = api.user_inputs(github)
    first = run(inputs)
    rc = first.rc
    assert rc == 0, _shown(first)
    rotated = github.fake.secret(NAME)
    stored = api.fake.oauth2.valid_refresh_tokens() == [rotated]
    assert stored
    stale = run(inputs)  # started before the first run stored R1: it holds R0
    rc = stale.rc
    assert rc == 1, _shown(stale)
    kept = github.fake.secret(NAME) == rotated
    assert kept, (
        "the stale run overwrote the rotated refresh token with the used one: "
        f"the secret's history is {len(github.fake.history(NAME))} values long, and X "
        "accepts none of what it holds now"
    )


# --- A cancelled run keeps the refresh token X rotated ------------------------------------
class _CancelWhen:
    """A `during` callback: SIGTERM the step once `ready()` holds."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        self.ready = ready

    def __call__(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while not self.ready():
            assert time.monotonic() < deadline, "the step never got there"
            time.sleep(0.02)
        time.sleep(0.2)
        proc.terminate()


def test_a_cancellation_while_storing_the_rotated_token_keeps_it(run, api: Api, github) -> None:
    """The run is cancelled (SIGTERM: a cancelled workflow, a job timeout, or
    concurrency's cancel-in-progress) after X rotated the refresh token, while the new
    one is being stored. The behaviour: the rotated refresh token is kept (storing finishes,
    or the rescue prints it sealed with passphrase). Without it: "The step was cancelled
    (SIGTERM): nothing was output." The secret holds the used refresh token and the new
    one is gone."""
    github.fake.faults["put"] = ["ok", "stall:10"]  # GitHub never sees the second PUT
    during = _CancelWhen(lambda: len(github.fake.put_requests()) == 2)
    result = run(api.user_inputs(github, passphrase=PASS, timeout="30"), during=during)
    rc, refreshes = result.rc, len(api.fake.oauth2.token_requests())
    assert rc != 0 and refreshes == 1  # X rotated
    kept = _kept(api, github, result)
    assert kept, (
        "cancelled after X rotated: neither the secret nor the log holds the new "
        "refresh token. The log says: " + _shown(result)
    )


def test_a_cancellation_during_the_refresh_waits_for_the_token_to_be_stored(
    run, api: Api, github: GitHub
) -> None:
    """Cancelled while X has the refresh (X rotates, its answer is late). Without it: only
    "nothing was output", the new refresh token lost. The behaviour: cancellation
    waits from the refresh until the new token is stored, then the step stops, saying
    what it did; nothing is output."""
    api.fake.oauth2.faults = ["slow:3"]  # X rotates at once, answers 3 s later
    during = _CancelWhen(lambda: len(api.fake.oauth2.token_requests()) == 1)
    result = run(api.user_inputs(github, timeout="30"), during=during)
    rc = result.rc
    assert rc == 143, _shown(result)
    kept = _kept(api, github, result)
    assert kept and github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()
    said = "cancelled (SIGTERM) after it had done this:" in result.log
    assert said and "Stored the rotated refresh token" in result.log, _shown(result)
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


# --- A 200 to a refresh: its new refresh token is kept, even when the rest fails ----------
def _long_refresh_token(oauth2: x_oauth2.OAuth2, status: int, body: dict[str, Any]):
    if status == 200:
        longer = base64.urlsafe_b64encode(os.urandom(900)).decode().rstrip("=")  # 1200 chars
        _rename(oauth2, body["refresh_token"], longer)
        body["refresh_token"] = longer
    return status, body


def _odd_access_token(oauth2: x_oauth2.OAuth2, status: int, body: dict[str, Any]):
    if status == 200:
        odd = body["access_token"][:20] + ":" + body["access_token"][20:]
        _rename(oauth2, body["access_token"], odd)
        body["access_token"] = odd
    return status, body


@pytest.mark.parametrize(
    "change",
    [_long_refresh_token, _odd_access_token],
    ids=["refresh token of 1200 characters", "access token with a colon"],
)
def test_a_200_after_rotation_never_drops_the_new_refresh_token(
    run, api: Api, github: GitHub, monkeypatch: pytest.MonkeyPatch, change
) -> None:
    """X answered 200 to the refresh, so it rotated: the old refresh token is dead. If
    the answer fails the action's checks (here a refresh token longer than the 1024
    characters allowed for a bearer token, or an access token that is not one), the new
    refresh token is still the only key to the account. The behaviour: stored (a secret may
    hold any string up to 48 KB), or shown sealed with passphrase. Without it: "X answered
    200 without usable tokens", the secret still holds the used token, nothing sealed,
    and no word that X rotated."""
    _wrap_exchange(monkeypatch, change)
    result = run(api.user_inputs(github, passphrase=PASS))
    kept = _kept(api, github, result)
    assert kept, _errors(result)
    # A long refresh token is no fault (a secret holds it); an odd access token is.
    rc = result.rc
    assert rc == (0 if change is _long_refresh_token else 1), _errors(result)


def _huge(oauth2: x_oauth2.OAuth2, status: int, body: dict[str, Any]):
    return status, {**body, "padding": "x" * 70_000}  # more than the 64 KiB read


def _wrapped(oauth2: x_oauth2.OAuth2, status: int, body: dict[str, Any]):
    return status, {"data": body}


@pytest.mark.parametrize("change", [_huge, _wrapped], ids=["over 64 KiB", "tokens one level down"])
def test_an_unusable_200_to_a_refresh_says_x_rotated(
    run, api: Api, github: GitHub, monkeypatch: pytest.MonkeyPatch, change
) -> None:
    """When a 200 cannot be read at all (over 64 KiB; not the documented shape), X has
    rotated the refresh token all the same. The behaviour: the error says so (the stored
    refresh token no longer works: authorize again), as for a lost answer. Observed:
    "sent more than 64 KiB (HTTP 200): check api-url" or "token_type is not 'bearer'",
    with no word about the refresh token, which the next run then finds dead."""
    _wrap_exchange(monkeypatch, change)
    result = run(api.user_inputs(github))
    error = _errors(result)
    said = "rotated" in error or "may have reached X" in error
    assert said, error


# --- GitHub's public key rotated during the run: read again, the token stored -------------
def test_a_public_key_rotated_during_the_run_does_not_lose_the_token(
    run, api: Api, github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public key is read once, before the proof write. If GitHub rotates the
    repository's key before the rotated refresh token is stored, that PUT is refused
    (422, "improperly encrypted secret"), never retried with a fresh key, and without
    passphrase the error says the new refresh token is lost. The behaviour: read the key
    again and store; the run succeeds."""

    def rotate_then_answer(oauth2, status, body):
        github.fake.rotate_key()
        return status, body

    _wrap_exchange(monkeypatch, rotate_then_answer)
    result = run(api.user_inputs(github))
    rc = result.rc
    assert rc == 0, _errors(result)
    stored = github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()
    assert stored


# --- The commands the errors name exist and do what they say ------------------------------
def test_the_commands_the_errors_name_exist(run, api: Api, github: GitHub) -> None:
    """When storing fails after X rotated, the error shows the refresh token sealed and
    says to recover it with `xbearer unseal` (and, without a passphrase, to run
    `xbearer authorize`); examples/post-as-account.yml sets up with `xbearer
    authorize`. The behaviour: `xbearer unseal` prints the rescued token. Without it: the
    command line has no subcommands ("unrecognized arguments"), exit status 2."""
    github.fake.faults["put"] = ["ok", "status:401"]
    result = run(api.user_inputs(github, passphrase=PASS))
    error = _errors(result)
    named = "`xbearer unseal`" in error
    assert named, error
    (sealed,) = _sealed_in(error)
    env = {**ghrunner.host_env(), "X_PASSPHRASE": PASS}
    unsealed = subprocess.run(
        [sys.executable, "-m", "xbearer", "unseal", sealed],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rc = unsealed.returncode
    assert rc == 0, f"xbearer unseal: exit status {rc}"
    recovered = unsealed.stdout.strip() in api.fake.oauth2.valid_refresh_tokens()
    assert recovered
    helped = subprocess.run(
        [sys.executable, "-m", "xbearer", "authorize", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rc = helped.returncode
    assert rc == 0, "xbearer authorize does not exist"


# --- A refresh that may have reached X is never sent again --------------------------------
@pytest.mark.parametrize("status", ["502", "504"])
def test_a_gateways_5xx_after_x_rotated_is_not_retried(run, api: Api, github, status) -> None:
    """user-context.md: "A 429 or 5xx answer means X did not rotate". A 502 or 504 from a
    gateway or proxy in front of X (the fake's lost-answer:CODE) comes after X rotated.
    The refresh is sent again with the used token, and the error blames another run
    ("used already, most likely by another run ... concurrency") instead of saying the
    refresh may have reached X. The behaviour: one refresh only, for a 502/504 at least,
    and the "may have reached X" message."""
    api.fake.oauth2.faults = [f"lost-answer:{status}"]
    result = run(api.user_inputs(github))
    error, refreshes = _errors(result), len(api.fake.oauth2.token_requests())
    said = "may have reached X" in error
    assert refreshes == 1 and said, f"{refreshes} refresh requests; {error}"


def test_a_tls_failure_after_the_refresh_was_sent_is_not_called_unused(
    tls_api: Api, github: GitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS error once counted as "connecting" whatever its moment, so when the
    connection broke at the TLS layer after the refresh was sent and X rotated (here:
    bytes that are no TLS record where the answer should be, as a broken middlebox
    sends), the error said "TLS handshake ... failed ... refresh-token was not used",
    and the next run, finding it dead, was told another run used it. The behaviour:
    "may have reached X" (transport.classify: only a TLS failure while connecting is
    not `sent`), and no second refresh."""

    def garbled(handler: Any, fault: str, *answer: Any) -> None:
        raw = socket.socket(fileno=handler.connection.fileno())  # under the TLS layer
        raw.sendall(b"HTTP/1.1 200 OK\r\n\r\nnot a TLS record")
        raw.detach()
        handler.close_connection = True

    monkeypatch.setattr(x.Handler, "answer", garbled)
    inputs = tls_api.user_inputs(github, ca_bundle="ca.pem")
    result = _scanned(ghrunner.run(inputs, workspace=tmp_path, env=github.env()))
    refreshes, rotated = (
        len(tls_api.fake.oauth2.token_requests()),
        inputs["refresh-token"] not in tls_api.fake.oauth2.valid_refresh_tokens(),
    )
    assert refreshes == 1 and rotated
    error = _errors(result)
    said = "may have reached X" in error and "was not used" not in error
    assert said, error


# --- A user-context step ends within its budget -------------------------------------------
def test_a_user_context_step_ends_within_its_budget(run, api: Api, github: GitHub) -> None:
    """README: the budget, (retries + 1) x timeout + 20 s per retry, "bounds the whole
    step, whatever the server does: the step ends inside it with an ::error". In
    user-context mode each of four requests (public key, proof write, refresh, store)
    has a budget of its own, so with slow but in-time answers and a final stall the
    step ends after about four budgets. Measured as a ratio to the budget (2 s here)."""
    github.fake.faults["public-key"] = ["slow:1.5"]
    github.fake.faults["put"] = ["slow:1.5", "stall:5"]
    api.fake.oauth2.faults = ["slow:1.5"]
    inputs = api.user_inputs(github, timeout="2", retries="0", passphrase=PASS)
    started = time.monotonic()
    result = run(inputs)
    ratio = (time.monotonic() - started) / 2.0
    rc = result.rc
    assert rc == 1, _errors(result)
    # As fixed: the README and action.yml say the budget bounds each request, and that
    # a user-token step makes up to five (key, write check and its deletion, refresh,
    # store).
    readme = (ghrunner.ROOT / "README.md").read_text()
    assert "each request ends within" in readme and "makes up to five" in readme
    assert ratio < 5.5, f"the step took {ratio:.1f} budgets"


# --- A sealed app-only token is never reported revoked as a user token --------------------
def test_a_sealed_app_only_token_is_not_reported_revoked_by_the_oauth2_client(
    run, api: Api
) -> None:
    """The last job of a hand-off gives client-id/client-secret (a user token's revoker)
    for a token that was minted app-only. The post step calls /2/oauth2/revoke, which
    answers {"revoked": true} for any token (RFC 7009), and reports "Revoked the user
    access token" while the app-only token stays live. The behaviour: the sealed value says
    which kind of token it holds, and the wrong revoker is an input error (or at least
    the post step does not claim a revocation)."""
    mint = run(api.inputs(passphrase=PASS))
    assert mint.rc == 0, _shown(mint)
    bearer, sealed = mint.outputs["bearer"], mint.outputs["sealed-bearer"]
    last_inputs = {
        "sealed-bearer": sealed,
        "passphrase": PASS,
        "client-id": CLIENT_ID,
        "client-secret": x_oauth2.CLIENT_SECRET,
        "invalidate": "true",
        "api-url": api.url,
    }
    last = run(last_inputs)
    refused = "sealed-bearer holds an app-only token, which client-id cannot revoke"
    assert refused in _errors(last)  # as fixed: the sealed value says what it holds
    post = run(last_inputs, post=True, state=last.state) if last.rc == 0 else last
    lookup = requests.get(
        f"{api.url}/2/tweets?ids=20", headers={"Authorization": f"Bearer {bearer}"}, timeout=5
    )
    claimed = "Revoked the user access token" in post.log
    live = lookup.status_code == 200
    assert not (claimed and live), "the post step says revoked; the token is still live"


# --- With invalidate off, no later step can make the post step send anything --------------
def test_with_invalidate_off_a_later_step_cannot_steer_the_post_step(
    tls_api: Api, tmp_path: Path
) -> None:
    """The post step acts on STATE_token alone and never reads `invalidate`. The runner
    builds the post step's environment from the env context (job env and GITHUB_ENV),
    then applies the state the main step saved "at last" (actions/runner,
    src/Runner.Worker/ActionRunner.cs): with invalidate off (the default) the main step
    saves none, so STATE_token and STATE_route that a later step wrote to GITHUB_ENV
    reach the post step as they are. With a forged route that matches its own
    HTTPS_PROXY and REQUESTS_CA_BUNDLE, the later step gets the app's key and secret
    (Basic) sent through its proxy, trusting its CA: the route check SECURITY.md
    describes is bypassed. (A later step can also LD_PRELOAD into the post step, as
    SECURITY.md says; this needs no native code and breaks a documented guarantee.)
    The behaviour: with invalidate off the post step sends nothing."""
    from fakes.proxy import ConnectProxy

    inputs = tls_api.inputs()  # invalidate off: the main step saves no state
    trust = {"REQUESTS_CA_BUNDLE": str(tmp_path / "ca.pem")}
    main = _scanned(ghrunner.run(inputs, workspace=tmp_path, env=trust))
    rc, saved = main.rc, bool(main.state)
    assert rc == 0 and not saved
    with ConnectProxy() as proxy:
        ca = hashlib.sha256((tmp_path / "ca.pem").read_bytes()).hexdigest()
        route = {
            "api-url": tls_api.url,
            "proxy": f"HTTPS_PROXY:{hashlib.sha256(proxy.url.encode()).hexdigest()}",
            "ca": f"REQUESTS_CA_BUNDLE:{ca}",
        }
        github_env = {  # what the later step appended to GITHUB_ENV
            **trust,
            "HTTPS_PROXY": proxy.url,
            "NO_PROXY": "",
            "STATE_token": "A" * 40,
            "STATE_route": json.dumps(route),
        }
        post = _scanned(ghrunner.run(inputs, workspace=tmp_path, post=True, env=github_env))
        tunnels = len(proxy.seen)
    revocations = len([r for r in tls_api.fake.requests if "invalidate" in r.path])
    assert tunnels == 0 and revocations == 0, (
        f"{tunnels} tunnel(s) through the later step's proxy, {revocations} revocation "
        f"request(s) with the app's credentials: {_shown(post)}"
    )


# --- Owner tokens without invalidate are an input error in every job ----------------------
def test_owner_tokens_without_invalidate_are_refused_in_a_later_job(run, api: Api) -> None:
    """In app-only mode access-token/access-token-secret without invalidate is an input
    error ("only used with invalidate: true"). With sealed-bearer they are accepted and
    ignored without a word. The behaviour: the same input error."""
    sealed = seal(api.fake.token, PASS)
    result = run(
        {
            "sealed-bearer": sealed,
            "passphrase": PASS,
            "access-token": ACCESS_TOKEN,
            "access-token-secret": ACCESS_TOKEN_SECRET,
        }
    )
    rc = result.rc
    assert rc == 1, "accepted: access-token and access-token-secret were ignored"


# --- X's scope reaches no summary or output with a secret in it ---------------------------
def test_a_scope_that_echoes_a_token_reaches_no_summary_or_output(
    run, api: Api, github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scope` from X's answer goes into the `scope` output, the log and the job summary,
    cleaned of control characters but not of secrets. A hostile or broken answer that
    carries the new refresh token (or the client secret) in `scope` puts it into the
    job summary and an output other than `bearer`: the leak scanner (run fixture)
    fails this test. The behaviour: secrets redacted from scope, or a scope that holds one
    refused."""

    def echo(oauth2, status, body):
        if status == 200:
            body["scope"] = f"tweet.read {body['refresh_token']}"
        return status, body

    _wrap_exchange(monkeypatch, echo)
    leak = ""
    try:
        run(api.user_inputs(github))
    except AssertionError as exc:  # the scanner's words only: see the harness test below
        leak = str(exc).splitlines()[0]
    assert not leak, leak


# --- The Basic credential sent is the one masked ------------------------------------------
def test_an_echoed_client_basic_credential_is_never_shown(
    run, api: Api, github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action masks and redacts base64(UTF-8 "id:secret") as the confidential
    client's Basic credential, but requests sends base64(Latin-1 "id:secret"). For a
    client secret with a Latin-1 letter the credential on the wire is neither masked
    nor redacted, and an error body that echoes the Authorization header shows it in
    the ::error annotation. The behaviour: the credential sent is the one masked."""
    client_secret = x_oauth2.CLIENT_SECRET[:-2] + "Çn"  # a Latin-1 letter

    def echo_header(oauth2, seen):
        header = seen.headers.get("Authorization", "")
        return 401, {"error": "unauthorized_client", "error_description": f"bad {header}"}

    monkeypatch.setattr(x_oauth2, "_exchange", echo_header)
    result = run(api.user_inputs(github, client_secret=client_secret))
    wire = base64.b64encode(f"{CLIENT_ID}:{client_secret}".encode("latin-1")).decode()
    shown = "\n".join(ghrunner.shown(result.log, result.inputs, trust_runner=False))
    clear = wire in shown
    assert not clear, "the client's Basic credential as sent shows in clear"


def test_a_client_secret_that_cannot_be_sent_is_an_input_error(
    run, api: Api, github: GitHub
) -> None:
    """A client secret outside Latin-1 cannot go into requests' Basic header: the
    refresh fails in the worker with UnicodeEncodeError after the proof write, and the
    error says "The refresh may have reached X, which then rotated refresh-token",
    though nothing was sent. The behaviour: an input error before any request (X's client
    IDs and secrets are ASCII: base64url)."""
    secret = x_oauth2.CLIENT_SECRET[:-2] + "€n"
    result = run(api.user_inputs(github, client_secret=secret))
    sent = len(api.fake.oauth2.token_requests()) + len(github.fake.requests)
    error = _errors(result)
    assert sent == 0 and "may have reached X" not in error, f"{sent} request(s); {error}"


# --- The README documents user-context mode -----------------------------------------------
def test_the_readme_documents_user_context_mode() -> None:
    """examples/post-as-account.yml says 'see the README, "Post as an account"'; the
    README had no such section, never said to set passphrase in this mode (as
    user-context.md asks), and the list of what is masked omitted refresh-token,
    client-secret, github-token and the client's Basic credential (now in SECURITY.md,
    which the README's Security section points to)."""
    readme = (ghrunner.ROOT / "README.md").read_text()
    section = "### Post as an account" in readme and "`passphrase` is recommended" in readme
    security = (ghrunner.ROOT / "SECURITY.md").read_text()
    masked = security.split("## What the action guarantees", 1)[1].split("\n- ", 2)[1]
    names = ("refresh-token", "client-secret", "github-token", "client's Basic credential")
    missing = [n for n in names if n not in masked]
    assert section and not missing, f"section: {section}; not said to be masked: {missing}"


# --- The leak scanner's report names secrets, never shows them ----------------------------
def test_a_leak_found_by_the_scanner_is_reported_without_the_secrets() -> None:
    """assert_no_leak names the secret, never its value, in its message; but pytest's
    report of a failure shows each frame's arguments, and the scanner's frame holds
    `tokens` (and `result`, whose log and inputs hold every secret); the run fixture's
    frame holds `inputs`. So the one failure that finds a leak prints every secret of
    the run in clear (seen in this file's scope test). The behaviour: the report holds no
    secret (e.g. `__tracebackhide__ = True` in the scanner and the fixture's runner)."""
    secret = ACCESS_TOKEN_SECRET
    leaky = ghrunner.Run(
        rc=0,
        log="::warning::a secret: " + secret,
        files={"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""},
        inputs={"access-token-secret": secret},
    )
    with pytest.raises(AssertionError) as failure:
        ghrunner.assert_no_leak(leaky, trust_runner=False)
    report = str(failure.getrepr(style="long", funcargs=True))
    shown = secret in report
    assert not shown, "the report of the scanner's failure holds the secret it found"


# --- A CA variable naming a FIFO is an error at once --------------------------------------
def test_a_ca_variable_naming_a_fifo_cannot_stretch_the_budget(
    run, api: Api, tmp_path: Path
) -> None:
    """config.parse_ca_bundle opens what REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE name (the
    ca-bundle input must be a regular file, the variables need not) before any budget
    applies, in the main thread. A FIFO with no writer blocks open() for good: the main
    step (an earlier step sets the variable) or the post step (a later step, through
    GITHUB_ENV) runs until the job's timeout, 6 hours by default. The behaviour: a clear
    error at once (not a regular file). Measured as a ratio to the budget (1 s)."""
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    started = time.monotonic()
    try:
        result = run(
            api.inputs(timeout="1", retries="0"), env={"REQUESTS_CA_BUNDLE": str(fifo)}, timeout=10
        )
    except subprocess.TimeoutExpired:
        result = None
    ratio = (time.monotonic() - started) / 1.0
    assert result is not None, f"the step still ran after {ratio:.0f} budgets: killed"
    rc = result.rc
    assert rc == 1 and ratio < 3, f"exit status {rc} after {ratio:.1f} budgets"
