"""Seal the token for a later job: Argon2id key from a passphrase, XChaCha20-Poly1305.

A sealed value is ``v2.`` + base64url(salt | check | nonce | ciphertext+tag | sum):
``check`` (8 bytes derived with the key) tells a wrong passphrase from an altered
value (an altered check too: the right key still opens the rest), and ``sum``
(BLAKE2b-32 of all before it) catches truncation and typos before the costly key
derivation. The plaintext is the kind of token (``app:``,
``user:`` or ``refresh:``) and the token, so that a later job can tell what it holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from nacl import bindings, exceptions, pwhash, utils

from .errors import ACTION_TERMS, ActionError, Terms

VERSION = "v2"
KINDS = ("app", "user", "refresh")  # an app-only token, a user access token, a refresh token
SALT, CHECK, NONCE, TAG, SUM = 16, 8, 24, 16, 4
OPSLIMIT = 3
MEMLIMIT = 64 * 1024 * 1024  # memory-hard: 64 MiB per guess
_SEALED = re.compile(r"(v\d+)\.([A-Za-z0-9_-]+)")


class SealError(ActionError):
    """A sealed value that cannot be opened; the message says why."""


def passphrase_bytes(passphrase: str) -> bytes:
    """The one passphrase rule, for the action's passphrase input and xbearer unseal's
    X_PASSPHRASE (or prompt) alike: whitespace around it is no part of it (a YAML block
    or a copied line adds some, and the action's inputs come stripped), and Unicode is
    compared in NFC."""
    return unicodedata.normalize("NFC", passphrase.strip()).encode()


def _derive(passphrase: str, salt: bytes) -> tuple[bytes, bytes]:
    secret = passphrase_bytes(passphrase)
    out = pwhash.argon2id.kdf(32 + CHECK, secret, salt, opslimit=OPSLIMIT, memlimit=MEMLIMIT)
    return out[:32], out[32:]


def _decrypt(blob: bytes, check: bytes, key: bytes) -> bytes | None:
    """The plaintext, if the value authenticates with this key and check; else None."""
    nonce = blob[SALT + CHECK : SALT + CHECK + NONCE]
    header = blob[:SALT] + check + nonce
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[SALT + CHECK + NONCE :], VERSION.encode() + header, nonce, key
            )
        )
    except exceptions.CryptoError:
        return None


def _sum(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=SUM).digest()


@dataclass(frozen=True)
class Sealed:
    """What a sealed value holds: the kind of token (one of KINDS), and the token."""

    kind: str
    value: str


def seal(token: str, passphrase: str, kind: str = "app") -> str:
    """Encrypt the token and its kind; fresh salt and nonce every time."""
    if kind not in KINDS:
        raise ValueError(kind)
    salt, nonce = utils.random(SALT), utils.random(NONCE)
    key, check = _derive(passphrase, salt)
    header = salt + check + nonce
    ciphertext = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        f"{kind}:{token}".encode(), VERSION.encode() + header, nonce, key
    )
    blob = header + ciphertext
    return f"{VERSION}.{base64.urlsafe_b64encode(blob + _sum(blob)).decode().rstrip('=')}"


def unseal(sealed: str, passphrase: str, terms: Terms = ACTION_TERMS) -> str:
    """The token in a value made by seal(); SealError says, in `terms`, what is wrong."""
    return open_sealed(sealed, passphrase, terms).value


def check_sealed(sealed: str, terms: Terms = ACTION_TERMS) -> bytes:
    """The bytes of a well-formed sealed value, checked without the passphrase (so that
    a value that is not one is refused before anybody is asked for it)."""
    value = terms.name("sealed-bearer")
    match = _SEALED.fullmatch(sealed.strip())
    if not match:
        raise SealError(
            terms.say(
                action=f"sealed-bearer is not a sealed value (it should start with '{VERSION}.'): "
                "pass the sealed-bearer output of the minting job unchanged.",
                cli=f"the value given is not a sealed value (it should start with '{VERSION}.'): "
                "pass the value exactly as the action gave it.",
            )
        )
    version, text = match.groups()
    if version != VERSION:
        raise SealError(
            terms.say(
                action=f"sealed-bearer has version {version}; this version of the action reads "
                f"{VERSION}: use the same action version in both jobs.",
                cli=f"the sealed value has version {version}; this version of xbearer reads "
                f"{VERSION}: install the xbearer of the action's version.",
            )
        )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealError(f"{value} is truncated or altered: its encoding is broken.") from None
    blob, total = raw[:-SUM], raw[-SUM:]
    if len(raw) < SALT + CHECK + NONCE + TAG + 1 + SUM:
        raise SealError(
            terms.say(
                action="sealed-bearer is truncated: pass the whole sealed-bearer output.",
                cli="the sealed value is truncated: pass all of it, exactly as the action gave it.",
            )
        )
    if not hmac.compare_digest(_sum(blob), total):
        raise SealError(f"{value} is truncated or altered: its checksum does not match.")
    return blob


def open_sealed(sealed: str, passphrase: str, terms: Terms = ACTION_TERMS) -> Sealed:
    """Decrypt a value made by seal(); SealError says, in `terms`, what is wrong with it."""
    value = terms.name("sealed-bearer")
    blob = check_sealed(sealed, terms)
    salt, check = blob[:SALT], blob[SALT : SALT + CHECK]
    key, expected = _derive(passphrase, salt)
    if not hmac.compare_digest(check, expected):
        # The right passphrase opens the rest when only the check was altered: the format
        # tells that. An altered salt derives another key, as a wrong passphrase does.
        if _decrypt(blob, expected, key) is not None:
            raise SealError(f"{value} was tampered with: its check was altered.")
        raise SealError(
            terms.say(
                action="Wrong passphrase for sealed-bearer: use the one the minting job used.",
                cli="Wrong passphrase for the sealed value: use the passphrase the workflow "
                "sealed it with.",
            )
        )
    plain = _decrypt(blob, check, key)
    if plain is None:
        raise SealError(f"{value} was tampered with: it fails authentication.")
    kind, _, token = plain.decode().partition(":")
    return Sealed(kind, token)
