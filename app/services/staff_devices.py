"""Known devices: a signed cookie that gives a staff member's logins a place a flood cannot take.

A browser that has just made a full login (the password and a code, or an
enrolment's first code) gets a cookie: a random id, the last day it holds and a
MAC of both with the account's id and epoch, under a key derived from the
server's secret key. It names nothing else: no account, no address, no user
agent. A login that carries one made for the name it gives waits in a place of
the staff's slot kept for known devices, one a cookie and two an account at a
time, ahead of logins without one (`app.kdf_pool.staff_slot`): whoever holds a staff device's
onion key can flood the staff's slot on new circuits, or on none named, but not
with cookies they do not have. Checking one is a MAC before any password's
hash, and a cookie that fails it (forged, expired, another account's, an old
epoch's, the name unknown) is treated exactly as no cookie: it queues, and
says nothing of the password, the code or whether the name exists.

Its id is half random, half a MAC of the random half and the last day (`head_place`): the
worker's main loop checks that one MAC, knowing no account, before any thread sees the
request, and serves a known device's requests from the device's own share and budget
(`app.staff_heads`), apart from those proving nothing. A cookie made before ids held a MAC
still queues as before, and proves nothing at the head until its owner's next full login.

Stolen with a laptop, a cookie only queues: the password and a code are still
needed, and a removal, a reset or a new password moves the account's epoch on
and voids it. A rotation of the secret key voids every one (each staff
member's next full login issues a new one). Nothing of it is stored or logged
on the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Final

from flask import Flask, current_app

from app import kdf_pool
from app.models import StaffAccount, today

COOKIE: Final = "rz_device"
PATH: Final = "/staff"
LIFETIME_DAYS: Final = 90
_PERSON: Final = b"rz-staff-device1"
_HEAD_PERSON: Final = b"rz-staff-dhead1"
_PLACE_PERSON: Final = b"rz-staff-dplace1"
_VERSION: Final = "d1"
_ID_BYTES: Final = 16
# Of the id: the random half, then the head's MAC of it and the last day (`head_place`).
_RANDOM_BYTES: Final = 8
_MAC_BYTES: Final = 32
# Longer than any cookie made here: read no further.
_LONGEST: Final = 160


def issue(account: StaffAccount) -> str:
    """A new known device's cookie for `account`, as it is now (its epoch)."""
    until = (today() + dt.timedelta(days=LIFETIME_DAYS)).toordinal()
    random = secrets.token_bytes(_RANDOM_BYTES)
    ident = random + _head_mac(_head_key(current_app.config["SECRET_KEY"]), random, until)
    mac = _mac(ident, until, account.id, account.epoch)
    return f"{_VERSION}.{ident.hex()}.{until}.{mac.hex()}"


def place_key(cookie: str | None, account: StaffAccount | None) -> int | None:
    """The key of the kept place a login carrying `cookie` under `account` may wait in
    (`app.kdf_pool.staff_slot`), or None: no cookie, or not a live one of this account.

    One MAC, made even when the name is unknown, so nothing tells the two apart.
    """
    parsed = _parse(cookie)
    if parsed is None:
        return None
    ident, until, mac = parsed
    ident_of, epoch = (account.id, account.epoch) if account is not None else ("", -1)
    expected = _mac(ident, until, ident_of, epoch)
    if not hmac.compare_digest(mac, expected) or account is None:
        return None
    if until < today().toordinal():
        return None
    # Its account's tag above its own id: one account's devices hold few kept places
    # together, however many cookies its full logins made (`kdf_pool.KEPT_PER_ACCOUNT`).
    # Keyed, so that nobody can make an account whose tag is a colleague's, and count
    # against her places.
    tag = hashlib.blake2b(
        account.id.encode(), digest_size=3, key=_key(), person=_PLACE_PERSON
    ).digest()
    own = int.from_bytes(ident[: kdf_pool.DEVICE_ID_BITS // 8], "big")
    return int.from_bytes(tag, "big") << kdf_pool.DEVICE_ID_BITS | own


def head_place(app: Flask, cookie: str | None) -> int | None:
    """The key of the known device a request's `cookie` names, read at the head with no
    account known (its id's MAC, `issue`), its random half; None for none, a
    forged, altered or foreign one, or one past its last day. A device its account no
    longer holds (a removal, a reset) still names it, until that day: one device's budget
    (`app.staff_heads`); its login, and what it asks, the app refuses."""
    parsed = _parse(cookie)
    if parsed is None:
        return None
    ident, until, _mac_of_account = parsed
    key: bytes | None = app.extensions.get("raazdar.device_head_key")
    if key is None:
        key = app.extensions["raazdar.device_head_key"] = _head_key(app.config["SECRET_KEY"])
    random, mac = ident[:_RANDOM_BYTES], ident[_RANDOM_BYTES:]
    if not hmac.compare_digest(mac, _head_mac(key, random, until)):
        return None
    if until < today().toordinal():
        return None
    return int.from_bytes(random, "big")


def _head_mac(key: bytes, random: bytes, until: int) -> bytes:
    message = random + until.to_bytes(8, "big")
    return hashlib.blake2b(message, key=key, digest_size=_ID_BYTES - _RANDOM_BYTES).digest()


def _head_key(secret: bytes) -> bytes:
    """The head MAC's key, derived from the secret key apart from the account MAC's."""
    return hashlib.blake2b(b"", key=secret[:32], person=_HEAD_PERSON).digest()


def _parse(cookie: str | None) -> tuple[bytes, int, bytes] | None:
    """The id, last day and MAC of a cookie of the form `issue` makes, or None."""
    if not cookie or len(cookie) > _LONGEST:
        return None
    parts = cookie.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        return None
    if not (parts[2].isascii() and parts[2].isdigit()):
        return None
    try:
        ident, mac = bytes.fromhex(parts[1]), bytes.fromhex(parts[3])
    except ValueError:
        return None
    if len(ident) != _ID_BYTES or len(mac) != _MAC_BYTES:
        return None
    return ident, int(parts[2]), mac


def _mac(ident: bytes, until: int, account_id: str, epoch: int) -> bytes:
    message = "\x1f".join([ident.hex(), str(until), account_id, str(epoch)]).encode()
    return hashlib.blake2b(message, key=_key(), digest_size=_MAC_BYTES).digest()


def _key() -> bytes:
    """The MAC's key, derived from the secret key (a rotation of it voids every cookie)."""
    key: bytes | None = current_app.extensions.get("raazdar.device_key")
    if key is None:
        secret: bytes = current_app.config["SECRET_KEY"]
        key = hashlib.blake2b(b"", key=secret[:32], person=_PERSON).digest()
        current_app.extensions["raazdar.device_key"] = key
    return key
