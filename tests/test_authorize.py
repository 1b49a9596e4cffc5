"""`xbearer authorize` over real loopback HTTP: the CLI as a subprocess, the fake X API's
authorize and token endpoints, a simulated browser, and the fake GitHub's secrets."""

from __future__ import annotations

import base64
import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests

from xbearer import authorize, loopback, oauth2
from xbearer.errors import CLI_TERMS
from xbearer.transport import Endpoint

import ghrunner
from browser import Visit, follow
from conftest import Api, GitHub
from fakes.x_oauth2 import CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, USER, s256
from ghrunner import ROOT, host_env
from terminal import Terminal

DEFAULT_SCOPE = "tweet.read users.read offline.access"
URL = re.compile(r"http://127\.0\.0\.1:\d+/i/oauth2/authorize\?\S+")
# What this machine's environment must not lend the command: it names its own.
OWN = ("X_CLIENT_SECRET", "GH_TOKEN", "GITHUB_TOKEN", "X_PASSPHRASE", "BROWSER")
XBEARER = (sys.executable, "-m", "xbearer")
RUNNING: list[subprocess.Popen[str]] = []  # commands a test started, ended after it


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in host_env().items() if k not in OWN}
    return {**env, "PYTHONPATH": str(ROOT / "src"), **extra}


class Run:
    """A running `xbearer authorize` against the fake X API, on a free port whose callback
    URL is registered for its client."""

    def __init__(
        self,
        api: Api,
        *args: str,
        client_id: str = CLIENT_ID,
        env: dict[str, str] | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> None:
        self.api, self.port = api, _free_port()
        self.callback = f"http://127.0.0.1:{self.port}/callback"
        api.fake.oauth2.clients[client_id].redirect_uris.append(self.callback)
        argv = [
            "authorize",
            *("--client-id", client_id, "--port", str(self.port)),
            *("--api-url", api.url, "--authorize-url", f"{api.url}/i/oauth2/authorize"),
            *("--timeout", "2", "--retries", "1"),
            *args,
        ]
        if env is None:
            env = _env(X_CLIENT_SECRET=CLIENT_SECRET) if client_id == CLIENT_ID else _env()
        self.argv, self.env = argv, env
        self.proc = subprocess.Popen(
            [*XBEARER, *argv],
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # no controlling terminal: nobody to prompt
        )
        RUNNING.append(self.proc)
        self.before = ""

    def url(self) -> str:
        """The authorize URL, once the command printed it on standard error."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.before += line
            found = URL.search(line)
            if found:
                return found.group()
        raise AssertionError(f"no authorize URL on standard error: {self.before}")

    def paste(self, line: str) -> None:
        """Write a line to the command's standard input (started with stdin=PIPE)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Exit status, standard output, standard error (all of it: read through the
        stream url() read from, which may hold lines it read ahead)."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=timeout)  # the outputs are a few lines: no pipe fills
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        return self.proc.returncode, out, self.before + err


@pytest.fixture(autouse=True)
def _no_strays() -> Iterator[None]:
    """A failed test leaves no command running."""
    yield
    while RUNNING:
        proc = RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _secrets(api: Api, github: GitHub | None = None) -> list[str]:
    """Everything that must never reach standard error: the client secret, every code
    and token the fake issued, every PKCE verifier sent, every GitHub token."""
    found = [CLIENT_SECRET, *api.fake.oauth2.issued(), *api.fake.oauth2.codes]
    for seen in api.fake.oauth2.token_requests():
        found += [v for k, v in parse_qsl(seen.body.decode()) if k == "code_verifier"]
        auth = seen.headers.get("Authorization", "")
        found += [auth.split(" ", 1)[-1]] if auth else []
    found += list(github.fake.tokens) if github else []
    return [s for s in found if s]


def _assert_clean(err: str, api: Api, github: GitHub | None = None) -> None:
    """Standard error: no secret, no traceback, no message ending in '.).'."""
    secrets = {f"secret {n}": value for n, value in enumerate(_secrets(api, github))}
    ghrunner.assert_absent(err, secrets, "standard error")
    assert "Traceback" not in err and ".)." not in err, err


def _endpoint(api: Api) -> Endpoint:
    return Endpoint(api.url, 5, 0, None, CLI_TERMS)


def test_approve_prints_a_refresh_token_that_refreshes(api: Api) -> None:
    run = Run(api, "--no-browser")
    url = run.url()
    visit = follow(url)
    rc, out, err = run.finish()
    assert rc == 0, err
    refresh = out.strip()
    assert out == refresh + "\n"
    assert refresh in api.fake.oauth2.valid_refresh_tokens()
    assert visit.callback.status_code == 200 and "Authorized" in visit.callback.text
    # The authorize URL as the design writes it: PKCE S256, a state, the loopback callback.
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == run.callback
    assert query["scope"] == DEFAULT_SCOPE
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 20
    (exchange,) = api.fake.oauth2.token_requests()
    form = dict(parse_qsl(exchange.body.decode()))
    assert form["grant_type"] == "authorization_code" and form["client_id"] == CLIENT_ID
    assert form["redirect_uri"] == run.callback and form["code"] == visit.query["code"]
    assert s256(form["code_verifier"]) == query["code_challenge"]
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.headers["Authorization"] == f"Basic {basic}"  # confidential
    _assert_clean(err, api)
    # The refresh token works: one refresh at X rotates it.
    client = oauth2.Client(CLIENT_ID, CLIENT_SECRET)
    tokens = oauth2.refresh(client, refresh, _endpoint(api), lambda _: None)
    assert tokens.refresh_token in api.fake.oauth2.valid_refresh_tokens()
    assert refresh not in api.fake.oauth2.valid_refresh_tokens()


def test_a_public_client_sends_its_id_and_no_secret(api: Api) -> None:
    run = Run(api, "--no-browser", client_id=PUBLIC_CLIENT_ID)
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()
    (exchange,) = api.fake.oauth2.token_requests()
    assert "Authorization" not in exchange.headers
    assert dict(parse_qsl(exchange.body.decode()))["client_id"] == PUBLIC_CLIENT_ID
    _assert_clean(err, api)


def test_a_wrong_client_secret_is_named_as_the_variable(api: Api) -> None:
    run = Run(api, "--no-browser", env=_env(X_CLIENT_SECRET="not-the-secret"))
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert "xbearer: error: X did not exchange the authorization code: HTTP 401" in err
    assert "check --client-id and X_CLIENT_SECRET" in err
    assert "Then run xbearer authorize again." in err
    assert "not-the-secret" not in err
    _assert_clean(err, api)


def test_a_code_a_spec_compliant_server_calls_invalid_grant_is_said_used_or_expired(
    api: Api,
) -> None:
    api.fake.oauth2.rfc_errors = True  # invalid_grant, where X says invalid_request in words
    api.fake.oauth2.code_lifetime = 0  # expired before the exchange
    run = Run(api, "--no-browser")
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert (
        "xbearer: error: X did not exchange the authorization code: HTTP 400: invalid_grant: "
        "The authorization code is invalid or expired. — the authorization code was used "
        "already or expired (X's live 30 seconds), or it was given for another client, "
        "callback URL or code verifier. Then run xbearer authorize again."
    ) in err
    _assert_clean(err, api)


def test_json_prints_the_tokens_and_the_account_that_approved(api: Api) -> None:
    run = Run(
        api, "--no-browser", "--json", "--scope", "tweet.read tweet.write users.read offline.access"
    )
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    doc = json.loads(out)
    assert set(doc) == {"access_token", "expires_in", "scope", "refresh_token", "account"}
    assert doc["account"] == {"id": USER["id"], "username": USER["username"]}
    assert doc["expires_in"] == 7200
    assert doc["scope"] == "tweet.read tweet.write users.read offline.access"
    assert doc["access_token"] in api.fake.oauth2.valid_access_tokens()
    assert doc["refresh_token"] in api.fake.oauth2.valid_refresh_tokens()
    _assert_clean(err, api)


def test_the_account_that_approved_is_shown(api: Api) -> None:
    run = Run(api, "--no-browser")
    follow(run.url())
    rc, _, err = run.finish()
    assert rc == 0, err
    assert f"xbearer: approved by @{USER['username']} (id {USER['id']}): " in err
    assert "warning" not in err


def test_scopes_withheld_or_granted_beyond_are_warnings(api: Api) -> None:
    api.fake.oauth2.granted = ("tweet.read", "users.read", "offline.access", "like.read")
    run = Run(api, "--no-browser", "--scope", "tweet.read tweet.write users.read offline.access")
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    assert "xbearer: warning: X did not grant tweet.write, which was asked for.\n" in err
    assert "xbearer: warning: X granted like.read, which was not asked for.\n" in err
    assert err.count("warning") == 2
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()


def test_without_users_read_the_account_is_unknown_and_said_so(api: Api) -> None:
    run = Run(api, "--no-browser", "--json", "--scope", "tweet.read offline.access")
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    assert json.loads(out)["account"] is None
    assert (
        "xbearer: warning: X answered GET /2/users/me with HTTP 403, which needs users.read: "
        "check which account approved in X's connected apps.\n"
    ) in err
    _assert_clean(err, api)


def _approve(url: str) -> str:
    """Approve at the fake X, as a browser would, and return where X sends it: the
    callback address, which the browser may not reach."""
    with requests.Session() as session:
        session.trust_env = False
        answer = session.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_paste_takes_the_address_from_standard_input_and_listens_on_nothing(api: Api) -> None:
    run = Run(api, "--paste", "--json", stdin=subprocess.PIPE)
    url = run.url()
    location = _approve(url)
    assert _listeners(run.port) == []
    run.paste(location)
    rc, out, err = run.finish()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["refresh_token"] in api.fake.oauth2.valid_refresh_tokens()
    assert doc["account"] == {"id": USER["id"], "username": USER["username"]}
    assert f"X's codes live {authorize.CODE_LIFETIME} seconds" in err
    assert "waiting up to" not in err
    (exchange,) = api.fake.oauth2.token_requests()
    assert dict(parse_qsl(exchange.body.decode()))["redirect_uri"] == run.callback
    _assert_clean(err, api)


def test_paste_turns_away_an_address_of_another_authorization(api: Api) -> None:
    run = Run(api, "--paste", stdin=subprocess.PIPE)
    location = _approve(run.url())
    query = dict(parse_qsl(urlsplit(location).query))
    run.paste("not an address")
    run.paste(f"{run.callback}?{urlencode({**query, 'state': 'someone-elses-state'})}")
    run.paste(location)
    rc, out, err = run.finish()
    assert rc == 0, err
    assert "that is not the address the browser landed on" in err
    assert "turned away an answer without this authorization's state" in err
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()
    (exchange,) = api.fake.oauth2.token_requests()
    assert dict(parse_qsl(exchange.body.decode()))["code"] == query["code"]


def test_paste_with_standard_input_ended_is_an_error(api: Api) -> None:
    run = Run(api, "--paste")  # standard input: /dev/null
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert err.endswith(
        "xbearer: error: Standard input ended before the address the browser landed on was "
        f"pasted (it starts with {run.callback}?), so nothing was authorized. Run xbearer "
        "authorize again.\n"
    )
    assert api.fake.oauth2.token_requests() == []


def _terminal_authorize(api: Api, *args: str) -> tuple[Terminal, str]:
    """`xbearer authorize ARGS` on a terminal, and its authorize URL."""
    port = _free_port()
    api.fake.oauth2.clients[CLIENT_ID].redirect_uris.append(f"http://127.0.0.1:{port}/callback")
    argv = ["authorize", "--client-id", CLIENT_ID, "--port", str(port), "--api-url", api.url]
    argv += ["--authorize-url", f"{api.url}/i/oauth2/authorize", *args]
    terminal = Terminal(argv, _env(X_CLIENT_SECRET=CLIENT_SECRET))
    return terminal, terminal.expect(URL.pattern.encode()).group().decode()


@pytest.mark.parametrize("option", ["--paste", "--no-browser"])
def test_the_address_pasted_at_the_terminal_prompt_authorizes(api: Api, option: str) -> None:
    terminal, url = _terminal_authorize(api, option)
    terminal.expect(rb"Paste the address here: ")
    terminal.type(_approve(url))
    assert terminal.finish() == 0, terminal.screen
    (refresh,) = api.fake.oauth2.valid_refresh_tokens()
    assert refresh.encode() in terminal.screen
    assert b"approved by @XDevelopers" in terminal.screen


def test_no_browser_in_a_terminal_takes_the_browser_if_it_comes_first(api: Api) -> None:
    terminal, url = _terminal_authorize(api, "--no-browser")
    terminal.expect(rb"Paste the address here: ")
    visit = follow(url)
    assert terminal.finish() == 0, terminal.screen
    assert visit.callback.status_code == 200
    (refresh,) = api.fake.oauth2.valid_refresh_tokens()
    assert refresh.encode() in terminal.screen


def test_denied_at_x_is_an_error_and_nothing_is_exchanged(api: Api) -> None:
    api.fake.oauth2.decision = "deny"
    run = Run(api, "--no-browser")
    visit = follow(run.url())
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert visit.query["error"] == "access_denied"
    assert visit.callback.status_code == 403 and "denied" in visit.callback.text
    assert err.endswith(
        "xbearer: error: The authorization was denied at X (access_denied): nothing was "
        "authorized. Run xbearer authorize again.\n"
    )
    assert api.fake.oauth2.token_requests() == []
    _assert_clean(err, api)


def test_a_callback_with_another_state_is_turned_away_and_the_real_one_still_counts(
    api: Api,
) -> None:
    run = Run(api, "--no-browser")
    url = run.url()
    with requests.Session() as session:
        session.trust_env = False
        approved = session.get(url, allow_redirects=False, timeout=10)
        location = approved.headers["Location"]
        query = dict(parse_qsl(urlsplit(location).query))
        forged = f"{run.callback}?{urlencode({**query, 'state': 'someone-elses-state'})}"
        answers = [session.get(forged, timeout=10) for _ in range(3)]
        bare = session.get(f"{run.callback}?error=access_denied", timeout=10)
        assert run.proc.poll() is None  # still waiting
        assert api.fake.oauth2.token_requests() == []
        assert not api.fake.oauth2.codes[query["code"]].used
        real = session.get(location, timeout=10)
    rc, out, err = run.finish()
    assert rc == 0, err
    assert all(a.status_code == 400 and "does not belong" in a.text for a in answers)
    assert bare.status_code == 400
    assert real.status_code == 200 and "Authorized" in real.text
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()
    assert err.count("turned away an answer without this authorization's state") == 1
    _assert_clean(err, api)


def test_other_paths_are_not_the_callback(api: Api) -> None:
    run = Run(api, "--no-browser")
    url = run.url()
    stray = requests.get(f"http://127.0.0.1:{run.port}/favicon.ico", timeout=10)
    follow(url)
    rc, out, err = run.finish()
    assert stray.status_code == 404
    assert rc == 0, err
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()


def test_a_browser_gone_mid_answer_is_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # socketserver prints a traceback for a request that failed (a broken pipe when the
    # browser closes the tab before the page is written); the callback's server does not.
    callbacks = loopback.Callbacks(None, "state", "http://127.0.0.1:8788/callback")
    server = loopback.listen(0, callbacks)
    try:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            server.handle_error(None, ("127.0.0.1", 50000))
    finally:
        server.server_close()
    assert capsys.readouterr().err == ""


def test_no_callback_within_wait_is_a_timeout(api: Api) -> None:
    run = Run(api, "--no-browser", "--wait", "1")
    run.url()
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert "xbearer: error: No answer came back within 1 s, so nothing was authorized." in err
    assert f"that {run.callback} is registered as a callback URL" in err
    assert "(--wait gives more time)" in err
    # The port is free again.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", run.port))
    _assert_clean(err, api)


def test_ctrl_c_while_waiting_is_cancelled(api: Api) -> None:
    run = Run(api, "--no-browser")
    run.url()
    run.proc.send_signal(signal.SIGINT)
    rc, out, err = run.finish()
    assert rc == 130 and out == ""
    assert err.endswith("\nxbearer: cancelled.\n") and "Traceback" not in err


def test_a_lost_answer_says_the_code_works_once(api: Api) -> None:
    api.fake.oauth2.faults = ["lost-answer"]
    run = Run(api, "--no-browser")
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    assert "broke before a complete answer arrived" in err
    assert "Run xbearer authorize again: an authorization code works once." in err
    assert len(api.fake.oauth2.token_requests()) == 1  # never replayed
    _assert_clean(err, api)


def test_a_port_in_use_is_named(api: Api) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                *XBEARER,
                "authorize",
                "--client-id",
                CLIENT_ID,
                "--port",
                str(port),
                "--no-browser",
                "--api-url",
                api.url,
            ],
            env=_env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"xbearer: error: Port {port} on 127.0.0.1 is in use")
    assert api.fake.oauth2.requests == []


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["--scope", "tweet.read users.read"],
            {},
            "--scope must include offline.access: without it X gives no refresh token",
        ),
        (["--wait", "0"], {}, "--wait must be a number of seconds above 0"),
        (["--port", "70000"], {}, "--port must be a TCP port, from 1 to 65535."),
        (["--client-id", "two words"], {}, "--client-id must be the app's OAuth 2.0 Client ID"),
        (
            ["--confidential"],
            {},
            "X_CLIENT_SECRET is not set: set it to the app's OAuth 2.0 Client Secret",
        ),
        ([], {"X_CLIENT_SECRET": ""}, "X_CLIENT_SECRET is empty: set it to the app's"),
        ([], {"X_CLIENT_SECRET": "  "}, "X_CLIENT_SECRET is empty: set it to the app's"),
        (
            [],
            {"X_CLIENT_SECRET": "two\nlines"},
            "X_CLIENT_SECRET contains a control character (a newline?)",
        ),
        (["--repo", "owner/repo"], {}, "--repo needs --secret NAME"),
        (["--secret", "X_REFRESH_TOKEN"], {}, "--secret needs --repo OWNER/REPO"),
        (
            ["--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN"],
            {},
            "Neither GH_TOKEN nor GITHUB_TOKEN is set: --repo stores the refresh token with a "
            'GitHub token from one of them, which needs the repository permission "Secrets: '
            'read and write"',
        ),
        (
            ["--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN"],
            {"GH_TOKEN": ""},
            "GH_TOKEN is empty and GITHUB_TOKEN is not set: --repo stores",
        ),
        (["--repo", "owner", "--secret", "X"], {"GH_TOKEN": "t"}, "--repo must be OWNER/REPO"),
        (
            ["--repo", "owner/repo", "--secret", "GITHUB_X"],
            {"GH_TOKEN": "t"},
            "--secret must be a secret name",
        ),
        (
            ["--authorize-url", "http://x.example/i/oauth2/authorize"],
            {},
            "--authorize-url must use https://",
        ),
        (["--api-url", "https://api.x.com/2"], {}, "--api-url is the API's base URL"),
    ],
    ids=[
        "no offline.access",
        "wait",
        "port",
        "client id",
        "confidential without a terminal",
        "empty client secret",
        "blank client secret",
        "client secret of two lines",
        "repo alone",
        "secret alone",
        "no github token",
        "empty github token",
        "bad repo",
        "bad secret name",
        "authorize url",
        "api url",
    ],
)
def test_bad_input_is_refused_before_anything_starts(api: Api, args, env, expected) -> None:
    argv = ["authorize", "--client-id", CLIENT_ID, "--no-browser", "--api-url", api.url]
    if "--client-id" in args:
        argv = argv[:1] + argv[3:]
    result = subprocess.run(
        [*XBEARER, *argv, *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"xbearer: error: {expected}"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and ".)." not in result.stderr
    assert api.fake.oauth2.requests == []


def test_json_and_repo_do_not_go_together() -> None:
    result = subprocess.run(
        [
            *XBEARER,
            "authorize",
            "--client-id",
            CLIENT_ID,
            "--json",
            "--repo",
            "owner/repo",
            "--secret",
            "X",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --repo: not allowed with argument --json" in result.stderr


def _authorize_until_refused(
    api: Api, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """`xbearer authorize` with no browser, for a run that must end before one is needed."""
    return subprocess.run(
        [*XBEARER, "authorize", "--no-browser", "--api-url", api.url, "--retries", "0", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


# -- storing it in a GitHub secret ----------------------------------------------------------
@pytest.mark.parametrize("environment", [None, "production"])
def test_repo_stores_the_refresh_token_and_prints_only_where(
    api: Api, github: GitHub, environment: str | None
) -> None:
    token = github.fake.add_token("write")
    extra = ["--environment", environment] if environment else []
    env = _env(X_CLIENT_SECRET=CLIENT_SECRET, GH_TOKEN=token, GITHUB_API_URL=github.url)
    run = Run(
        api, "--no-browser", "--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN", *extra, env=env
    )
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    assert f"approved by @{USER['username']}" in err
    scope = f"environment {environment} of " if environment else ""
    assert out == f"Stored the refresh token in the secret X_REFRESH_TOKEN of {scope}owner/repo.\n"
    stored = github.fake.secret("X_REFRESH_TOKEN", environment)
    assert stored is not None and stored in api.fake.oauth2.valid_refresh_tokens()
    for secret in _secrets(api, github):
        assert secret not in out
    _assert_clean(err, api, github)
    # What the action will do with it: refresh once.
    tokens = oauth2.refresh(
        oauth2.Client(CLIENT_ID, CLIENT_SECRET), stored, _endpoint(api), lambda _: None
    )
    assert tokens.access_token in api.fake.oauth2.valid_access_tokens()


def test_repo_warns_of_a_companion_it_could_not_delete_and_still_stores(
    api: Api, github: GitHub
) -> None:
    github.fake.faults["delete"] = ["status:500"] * 4
    env = _env(
        X_CLIENT_SECRET=CLIENT_SECRET,
        GH_TOKEN=github.fake.add_token("write"),
        GITHUB_API_URL=github.url,
    )
    run = Run(
        api, "--no-browser", "--retries", "0", "--repo", "owner/repo", "--secret", "X_RT", env=env
    )
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    (companion,) = re.findall(r"X_RT_WRITE_CHECK_[0-9A-F]{12}", err)
    assert (
        f"xbearer: warning: The write check's companion secret {companion} of owner/repo could "
        "not be deleted (GitHub answered HTTP 500): delete it in the repository's settings"
    ) in err
    assert github.fake.secret(companion) == "write check by xbearer"
    assert out == "Stored the refresh token in the secret X_RT of owner/repo.\n"
    assert github.fake.secret("X_RT") in api.fake.oauth2.valid_refresh_tokens()
    _assert_clean(err, api, github)


def test_github_token_comes_from_github_token_too(api: Api, github: GitHub) -> None:
    env = _env(
        X_CLIENT_SECRET=CLIENT_SECRET,
        GITHUB_TOKEN=github.fake.add_token("write"),
        GITHUB_API_URL=github.url,
    )
    run = Run(api, "--no-browser", "--repo", "owner/repo", "--secret", "X_RT", env=env)
    follow(run.url())
    rc, out, err = run.finish()
    assert rc == 0, err
    assert out == "Stored the refresh token in the secret X_RT of owner/repo.\n"
    assert github.fake.secret("X_RT") in api.fake.oauth2.valid_refresh_tokens()


@pytest.mark.parametrize(
    ("kind", "status", "said"),
    [
        (
            "unknown",
            401,
            "Bad credentials): GH_TOKEN is wrong, expired or revoked: renew it and "
            "store it again. It",
        ),
        ("github_token", 403, "Resource not accessible by integration): GH_TOKEN"),
    ],
)
def test_a_github_token_that_cannot_reach_the_secret_fails_before_the_browser(
    api: Api, github: GitHub, kind: str, status: int, said: str
) -> None:
    token = "github_pat_" + "x" * 82 if kind == "unknown" else github.fake.add_token(kind)
    env = _env(X_CLIENT_SECRET=CLIENT_SECRET, GH_TOKEN=token, GITHUB_API_URL=github.url)
    result = _authorize_until_refused(
        api, env, "--client-id", CLIENT_ID, "--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN"
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "xbearer: error: GitHub refused to read the public key for the secret X_REFRESH_TOKEN "
        f"of owner/repo (HTTP {status}: {said} needs the repository permission "
        '"Secrets: read and write" (a fine-grained personal access token) or the repo scope '
        "(a classic token, such as gh auth token prints).\n"
    )
    ghrunner.assert_absent(result.stderr, {"GitHub token": token}, "standard error")
    assert api.fake.oauth2.requests == []  # X never asked


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--repo", "owner/other"], "check that GH_TOKEN may access owner/other"),
        (
            ["--repo", "owner/repo", "--environment", "staging"],
            "check that environment staging exists in owner/repo and that GH_TOKEN may access",
        ),
    ],
    ids=["repository", "environment"],
)
def test_a_secret_github_cannot_find_is_named(
    api: Api, github: GitHub, args: list[str], where: str
) -> None:
    env = _env(GH_TOKEN=github.fake.add_token("write"), GITHUB_API_URL=github.url)
    result = _authorize_until_refused(
        api, env, "--client-id", PUBLIC_CLIENT_ID, "--secret", "X_REFRESH_TOKEN", *args
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "(HTTP 404: Not Found): " + where in result.stderr
    assert 'needs the repository permission "Secrets: read and write"' in result.stderr
    assert api.fake.oauth2.requests == []


def test_a_token_that_may_only_read_secrets_fails_before_the_browser(
    api: Api, github: GitHub
) -> None:
    # Writing is checked on a companion secret before X is asked: nothing to lose.
    env = _env(
        X_CLIENT_SECRET=CLIENT_SECRET,
        GH_TOKEN=github.fake.add_token("read"),
        GITHUB_API_URL=github.url,
    )
    result = _authorize_until_refused(
        api, env, "--client-id", CLIENT_ID, "--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN"
    )
    assert result.returncode == 1 and result.stdout == ""
    assert re.search(
        "xbearer: error: GitHub refused to write the companion secret "
        r"X_REFRESH_TOKEN_WRITE_CHECK_[0-9A-F]{12} \(the write check for the secret "
        r"X_REFRESH_TOKEN of owner/repo\) \(HTTP 403: Resource not accessible by personal "
        r'access token\): GH_TOKEN needs the repository permission "Secrets: read and write"',
        result.stderr,
    ), result.stderr
    assert api.fake.oauth2.requests == []  # X never asked
    assert github.fake.secret("X_REFRESH_TOKEN") is None
    _assert_clean(result.stderr, api, github)


# -- the browser and the terminal --------------------------------------------------------------
def _browser_script(tmp_path: Path, record: Path) -> Path:
    """A `$BROWSER` that records its URL, says something on standard output as real
    launchers do, and then does what the account owner does."""
    script = tmp_path / "browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from browser import follow\n"
        f"pathlib.Path({str(record)!r}).write_text(sys.argv[1])\n"
        "print('Opening in existing browser session.', flush=True)\n"
        "follow(sys.argv[1])\n"
    )
    script.chmod(0o755)
    return script


def test_a_browser_is_opened_and_its_chatter_stays_off_standard_output(
    api: Api, tmp_path: Path
) -> None:
    record = tmp_path / "opened"
    browser = _browser_script(tmp_path, record)
    run = Run(api, env=_env(X_CLIENT_SECRET=CLIENT_SECRET, BROWSER=str(browser)))
    url = run.url()
    rc, out, err = run.finish()
    assert rc == 0, err
    assert record.read_text() == url
    assert out.strip() in api.fake.oauth2.valid_refresh_tokens()
    assert out == out.strip() + "\n"  # the launcher's line went to standard error
    assert "Opening in existing browser session." in err
    assert "xbearer: opened it in your browser." in err
    _assert_clean(err, api)


def test_no_browser_opens_none(api: Api, tmp_path: Path) -> None:
    record = tmp_path / "opened"
    browser = _browser_script(tmp_path, record)
    run = Run(api, "--no-browser", env=_env(X_CLIENT_SECRET=CLIENT_SECRET, BROWSER=str(browser)))
    follow(run.url())
    rc, _, err = run.finish()
    assert rc == 0, err
    assert not record.exists()


def test_confidential_asks_for_the_client_secret_on_a_terminal(api: Api) -> None:
    port = _free_port()
    api.fake.oauth2.clients[CLIENT_ID].redirect_uris.append(f"http://127.0.0.1:{port}/callback")
    terminal = Terminal(
        [
            "authorize",
            "--client-id",
            CLIENT_ID,
            "--confidential",
            "--no-browser",
            "--port",
            str(port),
            "--api-url",
            api.url,
            "--authorize-url",
            f"{api.url}/i/oauth2/authorize",
        ],
        _env(),
    )
    terminal.expect(rb"Client secret \(or set X_CLIENT_SECRET\): ")
    terminal.type(CLIENT_SECRET)
    url = terminal.expect(URL.pattern.encode()).group().decode()
    follow(url)
    assert terminal.finish() == 0, terminal.screen
    (refresh,) = api.fake.oauth2.valid_refresh_tokens()
    assert refresh.encode() in terminal.screen
    assert CLIENT_SECRET.encode() not in terminal.screen  # not echoed
    (exchange,) = api.fake.oauth2.token_requests()
    assert exchange.headers["Authorization"].startswith("Basic ")


def test_nothing_typed_for_the_client_secret(api: Api) -> None:
    terminal = Terminal(
        [
            "authorize",
            "--client-id",
            CLIENT_ID,
            "--confidential",
            "--no-browser",
            "--port",
            str(_free_port()),
            "--api-url",
            api.url,
        ],
        _env(),
    )
    terminal.expect(rb"Client secret \(or set X_CLIENT_SECRET\): ")
    terminal.type("")
    assert terminal.finish() == 1
    assert (
        b"xbearer: error: No client secret was typed: type it at the prompt, or set "
        b"X_CLIENT_SECRET." in terminal.screen
    )
    assert api.fake.oauth2.requests == []


def _listeners(port: int) -> list[str]:
    """The local addresses listening on this TCP port, from the kernel's tables (Linux)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hexport = local.partition(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_only_loopback_is_listened_on(api: Api) -> None:
    run = Run(api, "--no-browser")
    follow_url = run.url()
    assert _listeners(run.port) == ["0100007F"]  # 127.0.0.1, and nothing else
    follow(follow_url)
    rc, _, err = run.finish()
    assert rc == 0, err
    assert _listeners(run.port) == []


def test_the_callback_page_holds_no_code(api: Api) -> None:
    run = Run(api, "--no-browser")
    visit: Visit = follow(run.url())
    rc, _, err = run.finish()
    assert rc == 0, err
    assert visit.query["code"] not in visit.callback.text
    assert visit.callback.headers["Cache-Control"] == "no-store"
