"""Sealing for later jobs: round trip, wrong passphrase, tampering, truncation, version."""

from __future__ import annotations

import base64

import pytest
from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id

from xbearer import sealing
from xbearer.sealing import SealError, seal, unseal

import ghrunner
from fakes import API_KEY, API_SECRET, TOKEN

PASS = "correct horse battery staple"


def _blob(sealed: str) -> bytearray:
    text = sealed.split(".", 1)[1]
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _pack(blob: bytes | bytearray) -> str:
    return "v2." + base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")


def test_round_trip_with_fresh_salt_and_nonce() -> None:
    first, second = seal(TOKEN, PASS), seal(TOKEN, PASS)
    assert first != second
    assert unseal(first, PASS) == unseal(second, PASS) == TOKEN
    assert _blob(first)[:16] != _blob(second)[:16]  # salt
    assert _blob(first)[24:48] != _blob(second)[24:48]  # nonce


def test_sealed_value_is_one_url_safe_line_holding_no_secret() -> None:
    sealed = seal(TOKEN, PASS)
    assert sealed.startswith("v2.")
    assert all(c.isalnum() or c in "-_." for c in sealed)
    secrets = {"token": TOKEN, "decoded": TOKEN.replace("%2B", "+"), "passphrase": PASS}
    ghrunner.assert_absent(sealed, {**secrets, "key": API_KEY, "secret": API_SECRET}, "sealed")


def test_wrong_passphrase() -> None:
    with pytest.raises(SealError, match="Wrong passphrase"):
        unseal(seal(TOKEN, PASS), PASS + "!")


def test_passphrase_is_unicode_normalised() -> None:
    assert unseal(seal(TOKEN, "caf\u00e9 au lait 123"), "cafe\u0301 au lait 123") == TOKEN


# Byte classes of the blob: salt 0-15, check 16-23, nonce 24-47, ciphertext, tag (16 before
# the sum), sum (last 4). Flipping any byte must be refused with a clear reason.
def _positions(length: int) -> dict[str, int]:
    return {
        "salt": 3,
        "check": 18,
        "nonce": 30,
        "ciphertext": 60,
        "tag": length - 4 - 8,
        "sum": length - 2,
    }


@pytest.mark.parametrize("part", ["salt", "check", "nonce", "ciphertext", "tag", "sum"])
def test_any_flipped_byte_is_refused(part: str) -> None:
    blob = _blob(seal(TOKEN, PASS))
    blob[_positions(len(blob))[part]] ^= 0x01
    with pytest.raises(SealError, match="altered"):
        unseal(_pack(blob), PASS)


@pytest.mark.parametrize("part", ["salt", "check", "nonce", "ciphertext", "tag"])
def test_tampering_that_fixes_the_checksum_is_still_refused(part: str) -> None:
    blob = _blob(seal(TOKEN, PASS))
    body = blob[:-4]
    body[_positions(len(blob))[part]] ^= 0x01
    forged = _pack(body + sealing._sum(bytes(body)))
    # An altered salt derives another key, as a wrong passphrase does: the format cannot
    # tell them apart. An altered check is told: the right key still opens the rest.
    expected = {"salt": "Wrong passphrase", "check": "tampered with: its check was altered"}
    with pytest.raises(SealError, match=expected.get(part, "tampered with: it fails auth")):
        unseal(forged, PASS)


def test_an_altered_check_with_a_wrong_passphrase_is_still_a_wrong_passphrase() -> None:
    blob = _blob(seal(TOKEN, PASS))
    body = blob[:-4]
    body[18] ^= 0x01  # in the check
    with pytest.raises(SealError, match="Wrong passphrase"):
        unseal(_pack(body + sealing._sum(bytes(body))), PASS + "!")


@pytest.mark.parametrize(
    ("sealed_with", "opened_with"),
    [(PASS + " ", PASS), (PASS, PASS + " \n"), ("\t" + PASS, " " + PASS + " ")],
)
def test_whitespace_around_the_passphrase_is_no_part_of_it(
    sealed_with: str, opened_with: str
) -> None:
    assert unseal(seal(TOKEN, sealed_with), opened_with) == TOKEN


@pytest.mark.parametrize("cut", [1, 4, 20, 100])
def test_truncation_is_refused(cut: int) -> None:
    sealed = seal(TOKEN, PASS)
    with pytest.raises(SealError, match="truncated"):
        unseal(sealed[:-cut], PASS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("v9.AAAA", "version v9"),
        ("AAAA", "not a sealed value"),
        ("v2.AA AA", "not a sealed value"),
        ("v2.", "not a sealed value"),
        ("v2.A", "truncated"),
        ("v2.AAAA", "truncated"),
    ],
)
def test_malformed_values(value: str, expected: str) -> None:
    with pytest.raises(SealError, match=expected):
        unseal(value, PASS)


def _opens_with_key_derived_at(sealed: str, opslimit: int, memlimit: int) -> bool:
    """Whether an Argon2id key derived from PASS at this cost, here and not by the
    sealing module, opens the sealed value (its check matches and it decrypts)."""
    blob = bytes(_blob(sealed)[:-4])
    salt, check, nonce, body = blob[:16], blob[16:24], blob[24:48], blob[48:]
    out = argon2id.kdf(40, PASS.encode(), salt, opslimit=opslimit, memlimit=memlimit)
    key, expected = out[:32], out[32:]
    try:
        plain = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            body, b"v2" + salt + check + nonce, nonce, key
        )
    except CryptoError:
        return False
    return check == expected and plain == f"app:{TOKEN}".encode()


def test_key_derivation_is_memory_hard() -> None:
    assert sealing.MEMLIMIT >= 64 * 1024 * 1024 and sealing.OPSLIMIT >= 3
    # What seal() does, not only what it declares: the key that opens its value is
    # Argon2id's at 64 MiB and 3 passes; a cheaper derivation (less memory, fewer
    # passes) opens nothing.
    sealed = seal(TOKEN, PASS)
    assert _opens_with_key_derived_at(sealed, 3, 64 * 1024 * 1024)
    assert not _opens_with_key_derived_at(sealed, 3, 32 * 1024 * 1024)
    assert not _opens_with_key_derived_at(sealed, 2, 64 * 1024 * 1024)
