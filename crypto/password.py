"""Staff passwords: Argon2id hashes in libsodium's string format, and diceware passphrases.

The hash string carries its own salt and cost, so raising the cost later only
needs `needs_rehash` at the next successful login.
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import Final

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id

from crypto import constants as C
from crypto.codename import random_words
from crypto.errors import CryptoError, FormatError
from crypto.kdf import KdfParams

# libsodium's "moderate" level (3 passes, 256 MiB) is too slow for a login form on
# a small server under load; "interactive" (2 passes, 64 MiB) is its own advice
# for online use, and a passphrase of seven diceware words carries the rest. An
# instance made with the testing derivation, which production refuses
# (`app.config`), hashes at `KdfParams.TESTING` instead.
COST: Final = KdfParams(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
_PREFIX = b"$argon2id$"
# The length of the digest in libsodium's hash strings.
_DIGEST_BYTES = 32
# The costs a hash string names: memory in KiB, then passes.
_COSTS: Final = re.compile(r"\$argon2id\$v=19\$m=([0-9]{1,10}),t=([0-9]{1,3}),p=1\$")


def hash_password(password: str, cost: KdfParams = COST) -> str:
    """Hash `password` with Argon2id at `cost` and a fresh salt; return the encoded string."""
    check_password(password)
    digest: bytes = argon2id.str(password.encode("utf-8"), opslimit=cost.ops, memlimit=cost.mem)
    return digest.decode("ascii")


def verify_password(encoded: str, password: str) -> bool:
    """Say whether `password` matches `encoded`; a malformed hash never matches."""
    raw = encoded.encode("ascii", "replace")
    if not raw.startswith(_PREFIX) or len(password) > C.PASSWORD_MAX_CHARS:
        return False
    try:
        return bool(argon2id.verify(raw, password.encode("utf-8")))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.RuntimeError, ValueError):
        return False


def unmatchable_hash(cost: KdfParams = COST) -> str:
    """Return a hash of `cost` that no password matches, made without hashing one.

    Checking a password against it costs what checking one against a real hash
    costs, so a name without an account is refused as slowly as one with, and
    making it costs nothing, so it needs no hash of its own beforehand.
    """
    salt = _b64(secrets.token_bytes(argon2id.SALTBYTES))
    digest = _b64(secrets.token_bytes(_DIGEST_BYTES))
    return f"{_PREFIX.decode()}v=19{_params(cost)}{salt}${digest}"


def _b64(raw: bytes) -> str:
    # libsodium's hash strings use base64 without padding.
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def needs_rehash(encoded: str, cost: KdfParams = COST) -> bool:
    """Say whether `encoded` was made with other costs than `cost`."""
    return _params(cost) not in encoded


def hash_cost(encoded: str) -> KdfParams | None:
    """The costs `encoded` was made at, or None for a string not of this module's form."""
    found = _COSTS.match(encoded)
    if found is None:
        return None
    try:
        return KdfParams(int(found.group(2)), int(found.group(1)) * 1024)
    except CryptoError:
        return None


def _params(cost: KdfParams) -> str:
    """The costs as a hash string names them, between its version and its salt."""
    return f"$m={cost.mem // 1024},t={cost.ops},p=1$"


def generate_passphrase(words: int = C.PASSPHRASE_WORDS) -> str:
    """Make a diceware passphrase (EFF long list): 7 words carry about 90 bits."""
    return " ".join(random_words(words))


def check_password(password: str) -> None:
    """Refuse a password this module would not hash (`FormatError`): its length, checked
    before any work (a new password refused only after the current one's check said so)."""
    if not C.PASSWORD_MIN_CHARS <= len(password) <= C.PASSWORD_MAX_CHARS:
        raise FormatError(
            f"a password has {C.PASSWORD_MIN_CHARS} to {C.PASSWORD_MAX_CHARS} characters"
        )
