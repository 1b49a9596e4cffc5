"""Bad input: a clear ::error, exit 1, no request sent, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xbearer.config import parse_api_url
from xbearer.errors import ACTION_TERMS

import ghrunner
from conftest import Api, lower_case_sentences

SEALED = "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

# (case id, inputs changed from a good run, text the error must contain)
BAD_INPUTS = [
    ("key missing", {"api-key": ""}, "api-key is empty"),
    ("key whitespace", {"api-key": "  \t "}, "api-key is empty"),
    ("secret missing", {"api-secret": ""}, "api-secret is empty"),
    ("secret whitespace", {"api-secret": "   "}, "api-secret is empty"),
    ("key newline", {"api-key": "abc\nAuthorization: x"}, "api-key contains a control character"),
    ("secret CR", {"api-secret": "abc\rdef"}, "api-secret contains a control character"),
    ("secret NUL", {"api-secret": "abc\x01def"}, "api-secret contains a control character"),
    ("url not a url", {"api-url": "not a url"}, "api-url must be"),
    ("url no scheme", {"api-url": "api.twitter.com"}, "api-url must be an https:// URL"),
    ("url ftp", {"api-url": "ftp://api.twitter.com"}, "api-url must be an https:// URL"),
    ("url file", {"api-url": "file:///etc/passwd"}, "api-url must be an https:// URL"),
    ("url http remote", {"api-url": "http://api.twitter.com"}, "only for a loopback host"),
    ("url http private", {"api-url": "http://10.0.0.1"}, "only for a loopback host"),
    ("url user-info", {"api-url": "https://u:p@api.twitter.com"}, "must not contain user-info"),
    ("url query", {"api-url": "https://api.twitter.com/?x=1"}, "must not have a query"),
    ("url empty query", {"api-url": "https://api.twitter.com/?"}, "must not have a query"),
    ("url fragment", {"api-url": "https://api.twitter.com/#f"}, "must not have a query"),
    ("url bad port", {"api-url": "https://api.twitter.com:99999"}, "not a valid URL"),
    ("url newline", {"api-url": "https://api.twitter.com\n/x"}, "without spaces, control or"),
    ("url word joiner", {"api-url": "https://api\u2060x.com"}, "control or invisible characters"),
    ("url leading dot", {"api-url": "https://.example.com"}, "its host is not a valid name"),
    ("url wildcard", {"api-url": "https://*.example.com"}, "its host is not a valid name"),
    ("url underscore", {"api-url": "https://api_x.example.com"}, "its host is not a valid name"),
    ("url empty label", {"api-url": "https://api..x.com"}, "its host is not a valid name"),
    ("url full-width", {"api-url": "https://ｌｏｃａｌｈｏｓｔ:8080"}, "not a valid name"),
    (
        "url with the token path",
        {"api-url": "https://api.twitter.com/oauth2/token"},
        "api-url is the API's base URL, without a path: use https://api.twitter.com, not "
        "https://api.twitter.com/oauth2/token.",
    ),
    ("url with /2", {"api-url": "https://api.x.com/2/"}, "without a path: use https://api.x.com,"),
    ("timeout text", {"timeout": "ten"}, "timeout must be a number"),
    ("timeout zero", {"timeout": "0"}, "timeout must be a number"),
    ("timeout negative", {"timeout": "-5"}, "timeout must be a number"),
    ("timeout huge", {"timeout": "1e9"}, "timeout must be a number"),
    ("timeout nan", {"timeout": "nan"}, "timeout must be a number"),
    ("timeout inf", {"timeout": "inf"}, "timeout must be a number"),
    ("retries text", {"retries": "three"}, "retries must be a whole number"),
    ("retries negative", {"retries": "-1"}, "retries must be a whole number"),
    ("retries float", {"retries": "1.5"}, "retries must be a whole number"),
    ("retries huge", {"retries": "1000"}, "retries must be a whole number"),
    ("retries unicode digit", {"retries": "３"}, "retries must be a whole number"),
    ("invalidate yes", {"invalidate": "yes"}, "invalidate must be true or false"),
    ("invalidate 1", {"invalidate": "1"}, "invalidate must be true or false"),
    ("invalidate tRUE", {"invalidate": "tRUE"}, "invalidate must be true or false"),
    ("ca-bundle missing", {"ca-bundle": "nope.pem"}, "ca-bundle 'nope.pem': no such file in the"),
    ("ca-bundle absolute", {"ca-bundle": "/nope.pem"}, "ca-bundle '/nope.pem': no such file."),
    ("ca-bundle not pem", {"ca-bundle": "junk.pem"}, "is not a PEM bundle"),
    (
        "export-env invalid",
        {"export-env": "MY-TOKEN"},
        "export-env must be an environment variable",
    ),
    ("export-env digit", {"export-env": "1TOKEN"}, "export-env must be an environment variable"),
    ("export-env PATH", {"export-env": "PATH"}, "would change how later steps run"),
    ("export-env LD_PRELOAD", {"export-env": "LD_PRELOAD"}, "would change how later steps run"),
    ("export-env NODE_OPTIONS", {"export-env": "node_options"}, "would change how later steps run"),
    ("export-env GITHUB_", {"export-env": "GITHUB_TOKEN"}, "would change how later steps run"),
    ("export-env RUNNER_", {"export-env": "RUNNER_TEMP"}, "would change how later steps run"),
    ("export-env BASH_ENV", {"export-env": "BASH_ENV"}, "would change how later steps run"),
    *[
        (f"export-env {name}", {"export-env": name}, "would change how later steps run")
        for name in (
            "SHELLOPTS",
            "bashopts",
            "HTTPS_PROXY",
            "https_proxy",
            "NO_PROXY",
            "all_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "LANG",
            "LC_ALL",
            "lc_ctype",
            "TMPDIR",
        )
    ],
    (
        "sealed without passphrase",
        {"api-key": "", "api-secret": "", "sealed-bearer": SEALED},
        "sealed-bearer needs passphrase",
    ),
    (
        "sealed and api inputs without invalidate",
        {"sealed-bearer": SEALED, "passphrase": "p" * 16},
        "not both: with sealed-bearer, the keys are only for invalidate: true",
    ),
    (
        "sealed and key only",
        {"api-secret": "", "sealed-bearer": SEALED, "passphrase": "p" * 16},
        "not both",
    ),
    (
        "sealed and invalidate without keys",
        {
            "api-key": "",
            "api-secret": "",
            "sealed-bearer": SEALED,
            "passphrase": "p" * 16,
            "invalidate": "true",
        },
        "invalidate with sealed-bearer needs api-key and api-secret",
    ),
    (
        "sealed, invalidate and only the key",
        {"api-secret": "", "sealed-bearer": SEALED, "passphrase": "p" * 16, "invalidate": "true"},
        "api-secret is empty",
    ),
    (
        "passphrase with invalidate in the minting step",
        {"passphrase": "p" * 16, "invalidate": "true"},
        "passphrase with invalidate: true: a step that mints and seals the token would revoke "
        "it when this job ends, before any later job can use it. Drop invalidate here",
    ),
    (
        "empty sealed-bearer in the last job (keys, passphrase, invalidate)",
        {"sealed-bearer": "", "passphrase": "p" * 16, "invalidate": "true"},
        "If this is that last job, its sealed-bearer is empty: the earlier job's output did not "
        "arrive",
    ),
    (
        "empty sealed-bearer with a passphrase",
        {"api-key": "", "api-secret": "", "sealed-bearer": "", "passphrase": "p" * 16},
        "sealed-bearer is empty, with passphrase set: the earlier job's output did not arrive",
    ),
    ("short passphrase", {"passphrase": "short"}, "at least 12 characters"),
    ("access-token alone", {"invalidate": "true", "access-token": "a-b"}, "together, or neither"),
    (
        "access-token without invalidate",
        {"access-token": "a-b", "access-token-secret": "c"},
        "only used with invalidate",
    ),
    (
        "access-token newline",
        {"invalidate": "true", "access-token": "a\nb", "access-token-secret": "c"},
        "access-token contains a control character",
    ),
]


def _first_per_input(
    cases: list[tuple[str, dict[str, str], str]],
) -> list[tuple[str, dict[str, str], str]]:
    """The first case for each set of inputs changed."""
    first: dict[frozenset[str], tuple[str, dict[str, str], str]] = {}
    for case in cases:
        first.setdefault(frozenset(case[1]), case)
    return list(first.values())


# Every case runs the main step's function in-process (the same code as the entry point,
# without starting a process); each input's first case also runs the entry point end to
# end, so that the input's value is shown to reach its check.
WIRING = _first_per_input(BAD_INPUTS)


def _refused_before_any_request(result, api: Api, expected: str) -> None:
    __tracebackhide__ = True
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert expected in error
    assert lower_case_sentences(error) == [], error
    assert "Traceback" not in result.log
    assert api.fake.requests == []
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_refused_before_any_request(
    run_in_process, api: Api, tmp_path: Path, changes, expected
) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    result = run_in_process({**api.inputs(), **changes}, workspace=tmp_path)
    _refused_before_any_request(result, api, expected)


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in WIRING], ids=[c[0] for c in WIRING]
)
def test_the_entry_point_refuses_each_bad_input_before_any_request(
    run, api: Api, tmp_path: Path, changes, expected
) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    result = run({**api.inputs(), **changes}, workspace=tmp_path)
    _refused_before_any_request(result, api, expected)


def test_empty_key_mentions_forks_and_dependabot(run, api: Api) -> None:
    result = run(api.inputs(api_key=""))
    (error,) = result.annotations("error")
    assert "forks" in error and "Dependabot" in error


def test_errors_do_not_echo_a_url_with_user_info(run, api: Api) -> None:
    result = run(api.inputs(api_url="https://user:hunter2hunter2@api.twitter.com"))
    assert "hunter2hunter2" not in result.log


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_yaml_core_booleans_are_accepted(run, api: Api, value: str) -> None:
    result = run(api.inputs(invalidate=value))
    assert result.rc == 0, result.log
    assert ("token" in result.state) == (value.lower() == "true")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}", "http://localhost:{port}/", "http://127.0.0.1:{port}/"]
)
def test_loopback_http_is_allowed(run, api: Api, url: str) -> None:
    port = api.url.rsplit(":", 1)[1]
    result = run(api.inputs(api_url=url.format(port=port)))
    assert result.rc == 0, result.log


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_variable_naming_an_unreadable_file_is_an_error_naming_it(
    run, api: Api, variable: str
) -> None:
    # The runner passes the job's environment into the container, paths and all.
    result = run(api.inputs(), env={variable: "/home/runner/work/_temp/corp-ca.pem"})
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert f"{variable} names '/home/runner/work/_temp/corp-ca.pem'" in error
    assert f"unset {variable}, or set ca-bundle" in error
    assert "internal error" not in error
    assert api.fake.requests == []


PROXIES = {
    "socks5h": "socks5h://127.0.0.1:1080",
    "ftp": "ftp://proxy.example:21",
    "no host": "http://:8080",
    "unclosed bracket": "http://[oops",
    "bad port": "http://proxy.example:99999",
    "space": "http://proxy example:3128",
}


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("value", PROXIES.values(), ids=PROXIES.keys())
def test_a_proxy_variable_that_is_no_http_proxy_is_an_error_naming_it(
    run, api: Api, variable: str, value: str
) -> None:
    # Only https:// goes through a proxy; the loopback fake is plain http, so name an
    # https API host: the error comes before any connection.
    result = run(api.inputs(api_url="https://api.x.com"), env={variable: value})
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert error.startswith(f"{variable} must be the URL of an HTTP proxy"), error
    assert "internal error" not in error and "Traceback" not in result.log


def test_no_proxy_exempts_the_host_from_a_bad_proxy_variable(run, api: Api) -> None:
    # NO_PROXY decides first: an unusable proxy for a host it exempts is no error. The
    # step then fails to resolve the (reserved, never resolvable) host, not on the proxy.
    env = {"HTTPS_PROXY": "socks5h://127.0.0.1:1080", "NO_PROXY": "example.invalid"}
    result = run(api.inputs(api_url="https://api.example.invalid", retries="0"), env=env)
    (error,) = result.annotations("error")
    assert "HTTPS_PROXY" not in error and "Could not resolve api.example.invalid" in error


def test_outside_a_runner_the_entry_point_refuses_to_run(api: Api) -> None:
    # Without GITHUB_OUTPUT/GITHUB_STATE the toolkit would fall back to ::set-output,
    # printing the token in clear.
    env = {
        **ghrunner.host_env(),
        "PYTHONPATH": str(ghrunner.ROOT / "src"),
        **{f"INPUT_{k.upper()}": v for k, v in api.inputs(passphrase="p" * 16).items()},
    }
    done = subprocess.run(
        [sys.executable, str(ghrunner.ROOT / "src" / "bin" / "main")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("::error::GITHUB_OUTPUT and GITHUB_STATE are not set")
    assert "use the xbearer command" in done.stdout
    assert "set-output" not in done.stdout and "save-state" not in done.stdout
    assert api.fake.requests == []


def test_an_empty_sealed_bearer_names_the_job_output_as_the_examples_do(run, api: Api) -> None:
    result = run({"sealed-bearer": "", "passphrase": "p" * 16, "api-url": api.url})
    (error,) = result.annotations("error")
    assert "under outputs: (sealed: ${{ steps.token.outputs.sealed-bearer }})" in error
    assert "pass sealed-bearer: ${{ needs.mint.outputs.sealed }}" in error
    example = (ghrunner.ROOT / "examples" / "later-jobs.yml").read_text()
    assert "sealed: ${{ steps.token.outputs.sealed-bearer }}" in example
    assert "sealed-bearer: ${{ needs.mint.outputs.sealed }}" in example


def test_api_url_defaults_to_x_own_host_and_api_twitter_com_still_works() -> None:
    assert parse_api_url("", ACTION_TERMS) == "https://api.x.com"
    assert parse_api_url("https://api.twitter.com", ACTION_TERMS) == "https://api.twitter.com"
    assert parse_api_url("https://api.twitter.com/", ACTION_TERMS) == "https://api.twitter.com"
