"""`xbearer unseal`: the value from the argument or standard input, the passphrase from
X_PASSPHRASE or a hidden prompt; each failure its own one-line error in the CLI's words."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xbearer import config, sealing
from xbearer.config import CommonSettings
from xbearer.errors import ACTION_TERMS, ActionError
from xbearer.github import SecretStore
from xbearer.oauth2 import Client
from xbearer.sealing import seal
from xbearer.transport import Endpoint
from xbearer.user_context import UserContext

import ghrunner
from fakes.x_oauth2 import make_token
from ghrunner import ROOT, host_env
from terminal import Terminal

PASS = "correct horse battery staple"
PLAIN = make_token("rt")  # a refresh token the action could not store
SEALED = seal(PLAIN, PASS)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in host_env().items() if k != "X_PASSPHRASE"}
    return {**env, "PYTHONPATH": str(ROOT / "src"), **extra}


def _unseal(
    *args: str, stdin: str | None = None, passphrase: str | None = PASS
) -> subprocess.CompletedProcess[str]:
    env = _env() if passphrase is None else _env(X_PASSPHRASE=passphrase)
    return subprocess.run(
        [sys.executable, "-m", "xbearer", "unseal", *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,  # no controlling terminal: nobody to prompt
        timeout=60,
        check=False,
    )


def _assert_clean(err: str) -> None:
    ghrunner.assert_absent(err, {"passphrase": PASS, "plaintext": PLAIN}, "standard error")
    assert "sealed-bearer" not in err and "Traceback" not in err and ".)." not in err


def test_from_the_argument() -> None:
    result = _unseal(SEALED)
    assert result.returncode == 0, result.stderr
    assert result.stdout == PLAIN + "\n" and result.stderr == ""


def test_from_standard_input() -> None:
    result = _unseal(stdin=SEALED + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == PLAIN + "\n" and result.stderr == ""


def _pack(blob: bytes | bytearray) -> str:
    return "v2." + base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")


def _blob(sealed: str) -> bytearray:
    text = sealed.split(".", 1)[1]
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _tampered() -> str:
    """A ciphertext byte changed, and the checksum made to match: only the AEAD tag can tell."""
    body = _blob(SEALED)[: -sealing.SUM]
    body[60] ^= 0x01
    return _pack(body + sealing._sum(bytes(body)))


@pytest.mark.parametrize(
    ("value", "passphrase", "expected"),
    [
        (
            SEALED,
            PASS + "!",
            "Wrong passphrase for the sealed value: use the passphrase the workflow sealed it "
            "with.",
        ),
        (
            SEALED[:-20],
            PASS,
            "the sealed value is truncated or altered: its checksum does not match.",
        ),
        (
            SEALED[:39],  # 36 characters: 27 bytes, fewer than any sealed value has
            PASS,
            "the sealed value is truncated: pass all of it, exactly as the action gave it.",
        ),
        (_tampered(), PASS, "the sealed value was tampered with: it fails authentication."),
        (
            "AAAA",
            PASS,
            "the value given is not a sealed value (it should start with 'v2.'): pass the value "
            "exactly as the action gave it.",
        ),
        (
            "v9.AAAA",
            PASS,
            "the sealed value has version v9; this version of xbearer reads v2: install the "
            "xbearer of the action's version.",
        ),
    ],
    ids=["wrong passphrase", "truncated", "cut short", "tampered", "not sealed", "version"],
)
def test_each_failure_is_one_line_of_its_own(value: str, passphrase: str, expected: str) -> None:
    for result in (
        _unseal(value, passphrase=passphrase),
        _unseal(stdin=value, passphrase=passphrase),
    ):
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == f"xbearer: error: {expected}\n"
        _assert_clean(result.stderr)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            "X_PASSPHRASE is not set: set X_PASSPHRASE to the passphrase the workflow sealed "
            "it with",
        ),
        ({"X_PASSPHRASE": ""}, "X_PASSPHRASE is empty: set X_PASSPHRASE"),
    ],
    ids=["unset", "empty"],
)
def test_no_passphrase_and_no_terminal(env: dict[str, str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "xbearer", "unseal", SEALED],
        env=_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"xbearer: error: {expected}"), result.stderr
    assert "or run xbearer unseal in a terminal to be asked for it." in result.stderr


@pytest.mark.parametrize("stdin", ["", "\n  \n"])
def test_nothing_to_unseal(stdin: str) -> None:
    result = _unseal(stdin=stdin)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "xbearer: error: No sealed value: give it as the argument, or on standard input (such "
        "as xbearer unseal < sealed.txt).\n"
    )


def _sealed_by_the_action(passphrase: str) -> str:
    """A sealed-bearer output as the action makes it: its passphrase input read as the
    action reads inputs, then sealed."""
    common = config.load(
        config.Inputs({"passphrase": passphrase}),
        invalidate=False,
        workspace=".",
        environ={},
    )
    assert common.passphrase is not None
    return seal(PLAIN, common.passphrase, "app")


@pytest.mark.parametrize("given", [PASS + " ", PASS, " " + PASS + "\n"])
def test_a_value_the_action_sealed_opens_with_the_passphrase_as_the_secret_holds_it(
    given: str,
) -> None:
    # The secret holds "PASSPHRASE " (a trailing space): the action's input and
    # X_PASSPHRASE are the same secret, and the same rule applies to both.
    result = _unseal(_sealed_by_the_action(PASS + " "), passphrase=given)
    assert result.returncode == 0, result.stderr
    assert result.stdout == PLAIN + "\n"
    result = _unseal(_sealed_by_the_action(given), passphrase=PASS + " ")
    assert result.returncode == 0, result.stderr


def test_a_blank_passphrase_variable_is_refused() -> None:
    result = _unseal(SEALED, passphrase="   ")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "xbearer: error: X_PASSPHRASE is blank: set it to the passphrase itself.\n"
    )


@pytest.mark.parametrize("value", ["AAAA", "v9.AAAA", SEALED[:-20]])
def test_a_value_that_is_not_sealed_is_refused_before_the_passphrase_is_asked(
    value: str,
) -> None:
    terminal = Terminal(["unseal", value], _env())
    assert terminal.finish() == 1
    assert b"Passphrase" not in terminal.screen
    assert terminal.screen.startswith(b"xbearer: error: the ")


def test_the_passphrase_is_asked_for_on_a_terminal() -> None:
    terminal = Terminal(["unseal", SEALED], _env())
    terminal.expect(rb"Passphrase \(or set X_PASSPHRASE\): ")
    terminal.type(PASS)
    assert terminal.finish() == 0, terminal.screen
    assert PLAIN.encode() in terminal.screen
    assert PASS.encode() not in terminal.screen  # not echoed


def test_a_piped_value_and_the_passphrase_typed_at_the_terminal(tmp_path: Path) -> None:
    # `xbearer unseal < sealed.txt` in a terminal: standard input is the file, the prompt
    # goes to the terminal itself.
    sealed = tmp_path / "sealed.txt"
    sealed.write_text(SEALED + "\n")
    terminal = Terminal(["unseal"], _env(), stdin=str(sealed))
    terminal.expect(rb"Passphrase \(or set X_PASSPHRASE\): ")
    terminal.type(PASS)
    assert terminal.finish() == 0, terminal.screen
    assert PLAIN.encode() in terminal.screen and PASS.encode() not in terminal.screen


def test_the_sealed_value_typed_at_the_terminal() -> None:
    terminal = Terminal(["unseal"], _env(X_PASSPHRASE=PASS))
    terminal.expect(rb"Sealed value: ")
    terminal.type(SEALED)
    assert terminal.finish() == 0, terminal.screen
    assert terminal.screen.endswith(PLAIN.encode() + b"\r\n")


def test_a_wrong_passphrase_typed_at_the_terminal() -> None:
    terminal = Terminal(["unseal", SEALED], _env())
    terminal.expect(rb"Passphrase \(or set X_PASSPHRASE\): ")
    terminal.type("not the passphrase")
    assert terminal.finish() == 1
    assert terminal.screen.endswith(
        b"xbearer: error: Wrong passphrase for the sealed value: use the passphrase the "
        b"workflow sealed it with.\r\n"
    )
    assert PLAIN.encode() not in terminal.screen


def test_nothing_typed_for_the_passphrase() -> None:
    terminal = Terminal(["unseal", SEALED], _env())
    terminal.expect(rb"Passphrase \(or set X_PASSPHRASE\): ")
    terminal.type("")
    assert terminal.finish() == 1
    assert b"xbearer: error: No passphrase was typed: type it at the prompt, or set " \
        b"X_PASSPHRASE." in terminal.screen  # fmt: skip


def test_ctrl_d_at_the_prompt_is_cancelled() -> None:
    terminal = Terminal(["unseal", SEALED], _env())
    terminal.expect(rb"Passphrase \(or set X_PASSPHRASE\): ")
    terminal.send(b"\x04")  # Ctrl-D
    assert terminal.finish() == 130
    assert terminal.screen.endswith(b"xbearer: cancelled.\r\n")


def test_the_refresh_token_the_action_rescued_opens() -> None:
    # What user-context mode says when X rotated the refresh token but GitHub would not
    # store it: the new one, sealed with the passphrase, to recover with xbearer unseal.
    endpoint = Endpoint("https://api.x.com", 5, 0, None, ACTION_TERMS)
    common = CommonSettings(endpoint, None, None, None, invalidate=False, passphrase=PASS)
    store = SecretStore(endpoint, "unused", "owner/repo", "X_REFRESH_TOKEN")
    context = UserContext(common, Client("client"), "old", store)
    message = context._rescue(ActionError("GitHub refused."), PLAIN, "tweet.read")
    (sealed,) = re.findall(r"sealed with passphrase: (v2\.[\w-]+) ", message)
    assert "xbearer unseal" in message and PLAIN not in message
    result = _unseal(stdin=sealed)
    assert result.returncode == 0, result.stderr
    assert result.stdout == PLAIN + "\n"
