"""Bad input: a clear ::error, exit 1, no request sent, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Api

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
    ("url newline", {"api-url": "https://api.twitter.com\n/x"}, "without spaces or control"),
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
    ("ca-bundle missing", {"ca-bundle": "nope.pem"}, "is not a file in the workspace"),
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
        "Revoke in the last job instead: give it sealed-bearer, passphrase, api-key, api-secret "
        "and invalidate: true.",
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


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_refused_before_any_request(
    run, api: Api, tmp_path: Path, changes, expected
) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    inputs = {**api.inputs(), **changes}
    result = run(inputs, workspace=tmp_path)
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert expected in error
    assert "Traceback" not in result.log
    assert api.fake.requests == []
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


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
