"""The command line: same request, its own words, key and secret never from argv."""

from __future__ import annotations

import ast
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import xbearer
from xbearer.sealing import seal
from xbearer.transport import USER_AGENT

from browser import follow
from conftest import Api, GitHub
from fakes import API_KEY, API_SECRET, TOKEN
from fakes.x_oauth2 import CLIENT_ID, CLIENT_SECRET
from ghrunner import ROOT, host_env
from terminal import Terminal

AUTHORIZE_URL = re.compile(r"http://127\.0\.0\.1:\d+/i/oauth2/authorize\?\S+")
# Words that belong to GitHub Actions, not to a terminal.
ACTIONS_WORDS = re.compile(
    r"(?<![-\w])(api-key|api-secret|api-url|ca-bundle)|repository secret|re-run the job|runner"
    r"|workspace|Dependabot|fork"
)


def _cli(
    *args: str, key: str | None = API_KEY, secret: str | None = API_SECRET
) -> subprocess.CompletedProcess[str]:
    """The command, without a terminal; key or secret None: that variable is unset."""
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src")}
    for name, value in (("X_API_KEY", key), ("X_API_SECRET", secret)):
        env.pop(name, None)
        if value is not None:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-m", "xbearer", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal
        timeout=60,
        check=False,
    )


def test_prints_the_token_only(api: Api) -> None:
    result = _cli("--api-url", api.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"
    assert result.stderr == ""


def test_json(api: Api) -> None:
    result = _cli("--api-url", api.url, "--json")
    assert json.loads(result.stdout) == {"token_type": "bearer", "access_token": TOKEN}


def test_errors_go_to_stderr_in_the_clis_words_without_secrets(api: Api) -> None:
    result = _cli("--api-url", api.url, "--retries", "0", secret="wrong-secret")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "xbearer: error: Token request failed after 1 attempt(s): HTTP 403, code 99"
    )
    assert (
        "check that X_API_KEY and X_API_SECRET are the app's API key and API secret key"
        in result.stderr
    )
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr
    assert "wrong-secret" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "key", "expected"),
    [
        (
            [],
            "",
            "X_API_KEY is empty: set X_API_KEY and X_API_SECRET in the environment, or run "
            "xbearer in a terminal to be asked for them.",
        ),
        (
            [],
            None,
            "X_API_KEY is not set: set X_API_KEY and X_API_SECRET in the environment, or run "
            "xbearer in a terminal to be asked for them.",
        ),
        (["--timeout", "0"], API_KEY, "--timeout must be a number of seconds above 0"),
        (["--retries", "x"], API_KEY, "--retries must be a whole number"),
        (
            ["--ca-bundle", "nope.pem"],
            API_KEY,
            "--ca-bundle 'nope.pem': no such file in the current directory.",
        ),
        (["--ca-bundle", "/nope.pem"], API_KEY, "--ca-bundle '/nope.pem': no such file.\n"),
        (["--api-url", "http://example.com"], API_KEY, "--api-url must use https://"),
    ],
    ids=[
        "empty key",
        "unset key",
        "timeout",
        "retries",
        "ca-bundle",
        "absolute ca-bundle",
        "api-url",
    ],
)
def test_bad_input_is_told_in_the_clis_words(api: Api, args, key, expected) -> None:
    result = _cli("--api-url", api.url, *args, key=key)
    assert result.returncode == 1
    assert result.stderr.startswith(f"xbearer: error: {expected}")
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr
    assert api.fake.requests == []


def test_network_errors_are_told_in_the_clis_words(api: Api) -> None:
    api.server.shutdown()
    api.server.server_close()
    result = _cli("--api-url", api.url, "--retries", "0")
    assert result.returncode == 1
    assert "Could not connect to" in result.stderr
    assert "check --api-url and this machine's network" in result.stderr
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr


def test_the_prompt_asks_for_key_and_secret_without_echo(api: Api) -> None:
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src")}
    env.pop("X_API_KEY", None)
    env.pop("X_API_SECRET", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child, on a real terminal
        argv = [sys.executable, "-m", "xbearer", "--api-url", api.url]
        os.execve(sys.executable, argv, env)  # noqa: S606 - no shell: the terminal's child
    screen = b""
    for answer, prompt in (
        (API_KEY, b"API key (or set X_API_KEY): "),
        (API_SECRET, b"API secret key (or set X_API_SECRET): "),
    ):
        deadline = time.monotonic() + 30
        while prompt not in screen and time.monotonic() < deadline:
            screen += os.read(fd, 1024)
        assert prompt in screen, screen
        os.write(fd, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert TOKEN.encode() in screen
    assert API_KEY.encode() not in screen and API_SECRET.encode() not in screen  # no echo


def test_help_shows_the_variables_and_defaults_and_no_secret_option() -> None:
    help_text = " ".join(_cli("--help").stdout.split())
    assert help_text.startswith("usage: xbearer ")
    assert "$X_API_KEY" in help_text and "$X_API_SECRET" in help_text
    assert "(default: https://api.x.com)" in help_text
    assert "(default: 10)" in help_text and "(default: 3)" in help_text


@pytest.mark.parametrize(
    ("command", "option", "variable"),
    [
        ([], "--api-key", "X_API_KEY"),
        ([], "--api-secret", "X_API_SECRET"),
        (["authorize", "--client-id", "id"], "--client-secret", "X_CLIENT_SECRET"),
        (["authorize"], "--github-token", "GH_TOKEN (or GITHUB_TOKEN)"),
        (["authorize", "--client-id", "id"], "--token", "GH_TOKEN (or GITHUB_TOKEN)"),
        (["unseal"], "--passphrase", "X_PASSPHRASE"),
    ],
)
@pytest.mark.parametrize("form", ["separate", "joined", "alone"])
def test_an_option_naming_a_secret_is_a_usage_error_naming_its_variable(
    command: list[str], option: str, variable: str, form: str
) -> None:
    value = "s3cr3t-value-from-the-command-line"
    given = {"separate": [option, value], "joined": [f"{option}={value}"], "alone": [option]}
    result = _cli(*command, *given[form])
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("usage: xbearer")
    assert result.stderr.endswith(
        f"error: {option} is not an option: secrets never come from the command line (ps and "
        f"the shell's history would show them); set {variable} instead.\n"
    )
    assert value not in result.stderr


def test_version_says_a_development_version_until_the_changelog_has_a_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    result = _cli("--version")
    assert result.returncode == 0
    if released:
        assert xbearer.__version__ == released[0]
        assert result.stdout == f"xbearer {released[0]}\n"
    else:
        assert re.fullmatch(r"\d+\.\d+\.\d+\.dev\d+", xbearer.__version__)
        assert result.stdout == (
            f"xbearer {xbearer.__version__} (a development version, not a release)\n"
        )
    # One place for the number: the package's metadata and the User-Agent read it.
    assert 'version = { attr = "xbearer.__version__" }' in (ROOT / "pyproject.toml").read_text()
    assert f"x-bearer-token-action/{xbearer.__version__} " in USER_AGENT


def test_the_console_script_is_installed(api: Api) -> None:
    script = Path(sys.executable).parent / "xbearer"
    env = {**host_env(), "X_API_KEY": API_KEY, "X_API_SECRET": API_SECRET}
    result = subprocess.run(
        [str(script), "--api-url", api.url], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"


def test_pip_install_brings_what_the_commands_need_and_nothing_of_the_actions_glue(
    tmp_path: Path,
) -> None:
    # requests for every command, oauthlib for authorize, PyNaCl (with cffi) for unseal and
    # authorize --repo: all base dependencies, so every command works after `pip install`.
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert names == {
        "xbearer",
        *("requests", "urllib3", "idna", "charset-normalizer", "certifi"),
        "oauthlib",
        *("pynacl", "cffi", "pycparser"),
    }


@pytest.mark.parametrize(
    ("step", "needed"),
    [
        ("pass", set()),
        ("from xbearer.cli import bearer, unseal; bearer.parser(); unseal.parser()", set()),
        ("from xbearer.cli import authorize; authorize.parser()", {"oauthlib"}),
        ("import xbearer.sealing", {"nacl"}),
    ],
    ids=["import", "token and unseal parsers", "authorize parser", "unsealing"],
)
def test_the_cli_loads_only_what_a_command_needs(step: str, needed: set[str]) -> None:
    code = f"import sys, xbearer.cli; {step}; print(sorted(m.split('.')[0] for m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        env={**host_env(), "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for package in ("actions_toolkit", "nacl", "oauthlib", "requests_oauthlib", "github"):
        assert (f"'{package}'" in loaded) == (package in needed), package


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--api-url", "https://.example.com"], "--api-url must be an https:// URL such as"),
        (["--api-url", "https://api.twitter.com/oauth2/token"], "use https://api.twitter.com,"),
    ],
    ids=["empty label", "a path"],
)
def test_a_bad_url_is_an_error_not_a_traceback(args, expected) -> None:
    result = _cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("xbearer: error: ") and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_during_the_request_stops_without_a_traceback(api: Api) -> None:
    api.fake.faults = ["slow:30"]
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src"), "X_API_KEY": API_KEY}
    env["X_API_SECRET"] = API_SECRET
    with subprocess.Popen(
        [sys.executable, "-m", "xbearer", "--api-url", api.url, "--timeout", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        deadline = time.monotonic() + 30
        while not api.fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert out == "" and err.strip() == "xbearer: cancelled."


@pytest.mark.parametrize(
    ("env", "typed", "blamed"),
    [
        ({}, [API_KEY, "wrong-secret"], "the API key and API secret key you typed"),
        (
            {"X_API_KEY": API_KEY},
            ["wrong-secret"],
            "X_API_KEY and the API secret key you typed",
        ),
    ],
    ids=["both typed", "secret typed"],
)
def test_a_wrong_secret_typed_at_the_prompt_blames_what_was_typed(
    api: Api, env: dict[str, str], typed: list[str], blamed: str
) -> None:
    base = {k: v for k, v in host_env().items() if k not in ("X_API_KEY", "X_API_SECRET")}
    terminal = Terminal(["--api-url", api.url, "--retries", "0"], {**base, **env})
    prompts = [rb"API key \(or set X_API_KEY\): ", rb"API secret key \(or set X_API_SECRET\): "]
    for prompt, answer in zip(prompts[-len(typed) :], typed, strict=True):
        terminal.expect(prompt)
        terminal.type(answer)
    assert terminal.finish() == 1
    (error,) = [line for line in terminal.screen.decode().splitlines() if "error:" in line]
    assert f"check that {blamed} are the app's API key and API secret key" in error
    if "X_API_KEY" not in env:
        assert "X_API_KEY" not in error
    assert "X_API_SECRET" not in error and "wrong-secret" not in terminal.screen.decode()


@pytest.mark.parametrize(
    "command", [[], ["authorize"], ["unseal"]], ids=["token", "authorize", "unseal"]
)
def test_help_shows_no_empty_defaults(command: list[str]) -> None:
    result = _cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert text.startswith(f"usage: xbearer {' '.join(command)}".rstrip() + " ")
    defaults = re.findall(r"\(default: ([^)]*)\)", text)
    assert all(value.strip(" \"'") not in ("", "False", "None") for value in defaults), defaults
    assert "default: )" not in text and "(default: False)" not in text


def test_help_lists_the_commands_and_their_defaults() -> None:
    text = " ".join(_cli("--help").stdout.split())
    assert "xbearer {authorize,unseal} [options]" in text
    assert "commands: authorize authorize an X account once" in text
    assert "unseal decrypt a value the action sealed" in text
    authorize = " ".join(_cli("authorize", "--help").stdout.split())
    for default in (
        '(default: "tweet.read users.read offline.access")',
        "(default: 8788)",
        "(default: 300)",
        "(default: https://api.x.com)",
        "(default: https://x.com/i/oauth2/authorize)",
    ):
        assert default in authorize
    assert "$X_CLIENT_SECRET" in authorize and "$GH_TOKEN or $GITHUB_TOKEN" in authorize
    assert "--client-secret" not in authorize and "--token" not in authorize  # refused
    unseal = " ".join(_cli("unseal", "--help").stdout.split())
    assert "$X_PASSPHRASE or a hidden prompt, never from the command line" in unseal
    assert "--passphrase" not in unseal  # refused, never offered


def _strings(tree: ast.AST) -> list[str]:
    """Every string constant of a module, f-strings' literal parts included."""
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_no_message_ends_in_a_full_stop_inside_and_outside_a_parenthesis() -> None:
    # "…(such as #...)." reads badly: no string in src/ holds ".).", so no message built
    # from them can end so (tests of each command also check what they print).
    found = [
        f"{path.relative_to(ROOT)}: {text!r}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for text in _strings(ast.parse(path.read_text()))
        if ".)." in text
    ]
    assert found == []


def test_a_fresh_pip_install_runs_every_command(api: Api, github: GitHub, tmp_path: Path) -> None:
    # The base dependencies are all the commands need: a new environment, `pip install`,
    # then the token, authorize (oauthlib) storing into a secret and unseal (PyNaCl).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    xbearer = str(venv / "bin" / "xbearer")
    own = ("PYTHONPATH", "X_API_KEY", "X_API_SECRET", "X_CLIENT_SECRET", "X_PASSPHRASE", "GH_TOKEN")
    env = {k: v for k, v in host_env().items() if k not in own and k != "GITHUB_TOKEN"}
    token = subprocess.run(
        [xbearer, "--api-url", api.url],
        env={**env, "X_API_KEY": API_KEY, "X_API_SECRET": API_SECRET},
        capture_output=True,
        text=True,
        check=False,
    )
    assert token.returncode == 0 and token.stdout == TOKEN + "\n", token.stderr

    port = _free_port()
    api.fake.oauth2.clients[CLIENT_ID].redirect_uris.append(f"http://127.0.0.1:{port}/callback")
    gh_token = github.fake.add_token("write")
    with subprocess.Popen(
        [
            *(xbearer, "authorize", "--client-id", CLIENT_ID, "--port", str(port)),
            *("--no-browser", "--api-url", api.url),
            *("--authorize-url", f"{api.url}/i/oauth2/authorize"),
            *("--repo", "owner/repo", "--secret", "X_REFRESH_TOKEN"),
        ],
        env={**env, "X_CLIENT_SECRET": CLIENT_SECRET, "GH_TOKEN": gh_token}
        | {"GITHUB_API_URL": github.url},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        assert proc.stderr is not None
        url = next(m.group() for line in proc.stderr if (m := AUTHORIZE_URL.search(line)))
        follow(url)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == "Stored the refresh token in the secret X_REFRESH_TOKEN of owner/repo.\n"
    assert github.fake.secret("X_REFRESH_TOKEN") in api.fake.oauth2.valid_refresh_tokens()

    unsealed = subprocess.run(
        [xbearer, "unseal", seal(TOKEN, "a passphrase of 12+")],
        env={**env, "X_PASSPHRASE": "a passphrase of 12+"},
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    assert unsealed.returncode == 0 and unsealed.stdout == TOKEN + "\n", unsealed.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_guide_names_only_options_that_exist() -> None:
    guide = (ROOT / "docs" / "cli.md").read_text()
    helps = " ".join(_cli(*command, "--help").stdout for command in ([], ["authorize"], ["unseal"]))
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", guide))
    assert named >= {"--repo", "--secret", "--environment", "--confidential", "--no-browser"}
    assert {option for option in named if option not in helps} == set()
