"""Which mode a step's inputs choose, and which inputs may not come with it: the
selection table, in-process (test_inputs.py and test_user_context.py run the same
refusals end to end, through the action)."""

from __future__ import annotations

import pytest

from xbearer import config, selection
from xbearer.app_only import AppOnly
from xbearer.client import Credentials
from xbearer.errors import ACTION_TERMS, InputError
from xbearer.handoff import Handoff
from xbearer.modes import Mode
from xbearer.oauth2 import Client
from xbearer.user_context import UserContext

PASSPHRASE = "p" * 16
KEYS = {"api-key": "k" * 20, "api-secret": "s" * 40}
OWNER = {"access-token": "1-a", "access-token-secret": "b" * 20}
CLIENT = {"client-id": "client", "client-secret": "c" * 20}
USER = {
    "refresh-token": "r" * 20,
    **CLIENT,
    "refresh-token-secret-name": "X_REFRESH_TOKEN",
    "github-token": "g" * 20,
}


def _inputs(given: dict[str, str]) -> tuple[config.Inputs, config.CommonSettings]:
    inputs = config.Inputs(given)
    invalidate = given.get("invalidate") == "true"
    common = config.load(inputs, invalidate=invalidate, workspace=".", environ={})
    return inputs, common


CHOICES: list[tuple[str, dict[str, str], type[Mode]]] = [
    ("nothing: app-only, whose inputs then say what is missing", {}, AppOnly),
    ("the app's keys", KEYS, AppOnly),
    ("the keys and the owner's token, to revoke", {**KEYS, **OWNER, "invalidate": "true"}, AppOnly),
    ("the keys with a passphrase: mint and seal", {**KEYS, "passphrase": PASSPHRASE}, AppOnly),
    ("a refresh token", {"refresh-token": "r" * 20}, UserContext),
    ("only github-token: user context", {"github-token": "g" * 20}, UserContext),
    ("only client-id: user context", {"client-id": "client"}, UserContext),
    (
        "the client with a passphrase: mint and seal",
        {**CLIENT, "passphrase": PASSPHRASE},
        UserContext,
    ),
    ("the user inputs with a passphrase", {**USER, "passphrase": PASSPHRASE}, UserContext),
    (
        "the user inputs with the keys: user context, which refuses them",
        {**USER, **KEYS},
        UserContext,
    ),
    ("sealed-bearer", {"sealed-bearer": "v2.x", "passphrase": PASSPHRASE}, Handoff),
    (
        "sealed-bearer with the keys to revoke",
        {"sealed-bearer": "v2.x", "passphrase": PASSPHRASE, **KEYS, "invalidate": "true"},
        Handoff,
    ),
    (
        "sealed-bearer with a refresh token: the later job's, which refuses it",
        {"sealed-bearer": "v2.x", "passphrase": PASSPHRASE, "refresh-token": "r" * 20},
        Handoff,
    ),
    (
        "a passphrase alone: a later job whose sealed-bearer is missing",
        {"passphrase": PASSPHRASE},
        Handoff,
    ),
    (
        "a passphrase and invalidate with the keys: a last job whose sealed-bearer is missing",
        {"passphrase": PASSPHRASE, "invalidate": "true", **KEYS},
        Handoff,
    ),
    (
        "a passphrase and invalidate with the client: a last job whose sealed-bearer is missing",
        {"passphrase": PASSPHRASE, "invalidate": "true", **CLIENT},
        Handoff,
    ),
    (
        "a passphrase and invalidate with a refresh token: user context",
        {"passphrase": PASSPHRASE, "invalidate": "true", **USER},
        UserContext,
    ),
]


@pytest.mark.parametrize(("given", "chosen"), [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES])
def test_the_inputs_choose_one_mode(given: dict[str, str], chosen: type[Mode]) -> None:
    assert selection.select(*_inputs(given)) is chosen


REFUSED = [
    (
        "sealed-bearer without passphrase, before its other inputs are looked at",
        {"sealed-bearer": "v2.x", **USER},
        "sealed-bearer needs passphrase: the one the sealing job used.",
    ),
    (
        "sealed-bearer with a refresh-token source",
        {"sealed-bearer": "v2.x", "passphrase": PASSPHRASE, "github-token": "g" * 20},
        "Give either sealed-bearer (with passphrase) or refresh-token, not both",
    ),
    (
        "a refresh token with the app's keys",
        {**USER, **KEYS},
        "Give either refresh-token (a user token) or api-key and api-secret",
    ),
    (
        "a refresh token with the owner's access token",
        {**USER, "access-token": "1-a"},
        "access-token and access-token-secret belong to app-only tokens.",
    ),
]


@pytest.mark.parametrize(
    ("given", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_inputs_that_exclude_each_other_are_refused_before_the_mode_reads_them(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError) as refused:
        selection.load(*_inputs(given), {}, ACTION_TERMS)
    assert message in refused.value.message


def test_every_secret_input_of_every_mode_is_masked() -> None:
    for mode in selection.MODES:
        assert set(mode.secret_inputs) <= set(mode.inputs)
        assert set(mode.secret_inputs) <= set(selection.SECRET_INPUTS)
    expected = {
        "api-key",
        "api-secret",
        "access-token",
        "access-token-secret",
        "passphrase",
        "refresh-token",
        "client-secret",
        "github-token",
    }
    assert set(selection.SECRET_INPUTS) == expected


def test_both_basic_credentials_are_derived_secrets_whichever_mode_is_chosen() -> None:
    inputs, _ = _inputs({**KEYS, **CLIENT})
    app = Credentials(KEYS["api-key"], KEYS["api-secret"]).basic
    client = Client(CLIENT["client-id"], CLIENT["client-secret"]).basic
    assert selection.derived_secrets(inputs) == [client, app]


def test_a_public_client_and_a_lone_key_derive_no_secret() -> None:
    inputs, _ = _inputs({"api-key": "k" * 20, "client-id": "client"})
    assert selection.derived_secrets(inputs) == []


def test_a_new_mode_is_chosen_by_its_line_in_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    class Carrier(AppOnly):
        kind = "a carrier pigeon's token"

    choices: dict[type[Mode], selection.Test] = {Carrier: lambda i, _: i.any(["api-key"])}
    monkeypatch.setattr(selection, "CHOICES", {**choices, **selection.CHOICES})
    monkeypatch.setitem(selection.REFUSED, Carrier, selection.REFUSED[AppOnly])
    assert selection.select(*_inputs(KEYS)) is Carrier
    assert selection.select(*_inputs({"refresh-token": "r" * 20})) is UserContext
    assert isinstance(selection.load(*_inputs(KEYS), {}, ACTION_TERMS), Carrier)
