"""Known devices: a signed cookie that gives a staff member's logins a place a flood cannot take.

A browser that has just made a full login (the password and a code, or an
enrolment's first code) gets a cookie: an id, the last day it holds and a
MAC of both with the account's id and epoch, under a key derived from the
server's secret key. It names nothing else: no account (its id's tag opens to
nobody without the secret key), no address, no user agent. A login that
carries one made for the name it gives waits in a place of the staff's slot
kept for known devices, one a cookie and two an account at a time, ahead of
logins without one (`app.kdf_pool.staff_slot`): whoever holds a staff device's
onion key can flood the staff's slot on new circuits, or on none named, but not
with cookies they do not have. Checking one is a MAC before any password's
hash, and a cookie that fails it (forged, expired, another account's, an old
epoch's, the name unknown) is treated exactly as no cookie: it queues, and
says nothing of the password, the code or whether the name exists.

Its id is a random part, the account's head tag (`account_tag`: a MAC of the account's id
and epoch, the same for each of the account's cookies until its epoch moves) and a MAC of
both and the last day (`head_place`): the worker's main loop checks that one MAC, knowing no
account, and that the tag is one of an account standing now (`live_tags`, which each worker
reads again every `staff_heads.TAGS_SECONDS`), before any thread sees the request, and serves
a known device's requests from the device's own share and budget (`app.staff_heads`), apart
from those proving nothing. A removal, a reset, a new password or a keyring install that
locks the account so voids its cookies at the head within seconds, as at the login: a
removed colleague's cookie, its MAC still holding, had its device's budget and share until
its last day. A cookie made before ids held a tag (`d1`) still queues as before, and proves
nothing at the head until its owner's next full login.

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
from collections.abc import Container
from typing import Final

from flask import Flask, current_app
from sqlalchemy import select

from app import kdf_pool
from app.models import StaffAccount, today

COOKIE: Final = "rz_device"
PATH: Final = "/staff"
LIFETIME_DAYS: Final = 90
# How many days after today an administrator's link for a new browser holds (`link`).
LINK_DAYS: Final = 1
# The query field of the login page's address that carries a link's cookie (`link`).
LINK_FIELD: Final = "device"
_PERSON: Final = b"rz-staff-device1"
_HEAD_PERSON: Final = b"rz-staff-dhead1"
_PLACE_PERSON: Final = b"rz-staff-dplace1"
_TAG_PERSON: Final = b"rz-staff-dtag1"
# A cookie whose id carries its account's head tag; one before tags (`d1`) still MACs.
_VERSION: Final = "d2"
_UNTAGGED: Final = "d1"
_ID_BYTES: Final = 24
_UNTAGGED_ID_BYTES: Final = 16
# Of the id: the random part, the account's head tag (`account_tag`), then the head's MAC of
# both and the last day (`head_place`).
_RANDOM_BYTES: Final = 8
_TAG_BYTES: Final = 8
_MAC_BYTES: Final = 32
_HEAD_MAC_BYTES: Final = 8
# Longer than any cookie made here: read no further.
_LONGEST: Final = 160


def issue(account: StaffAccount, days: int = LIFETIME_DAYS) -> str:
    """A new known device's cookie for `account`, as it is now (its epoch), holding `days`
    days after today (`LINK_DAYS` for an administrator's link: `app.cli.staff`)."""
    until = (today() + dt.timedelta(days=days)).toordinal()
    key = _head_key(current_app.config["SECRET_KEY"])
    tagged = secrets.token_bytes(_RANDOM_BYTES) + account_tag(key, account.id, account.epoch)
    ident = tagged + _head_mac(key, tagged, until)
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


def head_place(app: Flask, cookie: str | None, live: Container[bytes]) -> int | None:
    """The key of the known device a request's `cookie` names, read at the head with no
    account known (its id's MAC, `issue`), its random part; None for none, a forged,
    altered or foreign one, one past its last day, one made before ids held a tag, or one
    whose account's tag is not in `live` (`live_tags`: the account removed, or its epoch
    moved on by a reset, a new password or a lock). Not `place_key`'s key: the head knows
    no account to tag it with, and keys a device's own budget (`app.staff_heads`)."""
    parsed = _parse(cookie)
    if parsed is None:
        return None
    ident, until, _mac_of_account = parsed
    if len(ident) != _ID_BYTES:
        return None
    tagged, mac = ident[: _RANDOM_BYTES + _TAG_BYTES], ident[_RANDOM_BYTES + _TAG_BYTES :]
    if not hmac.compare_digest(mac, _head_mac(_head_key_of(app), tagged, until)):
        return None
    if until < today().toordinal() or tagged[_RANDOM_BYTES:] not in live:
        return None
    return int.from_bytes(tagged[:_RANDOM_BYTES], "big")


def link(account: StaffAccount) -> str:
    """The login page's address (under the staff onion) for a new browser of `account`: it
    carries a known device's cookie holding `LINK_DAYS` days, which the worker's main loop
    reads from the address as from a cookie, and the page sets as one.

    During a flood of requests proving nothing, a staff member's first login from a new
    browser shared their budget and was answered busy for as long as it ran; whoever floods
    holds a staff device's onion key, and nothing else that one browser holds and another
    does not, so only what an administrator hands over tells her apart."""
    return f"{PATH}/login?{LINK_FIELD}={issue(account, days=LINK_DAYS)}"


def account_tag(key: bytes, account_id: str, epoch: int) -> bytes:
    """The head tag of an account in its epoch: what its cookies carry, and `live_tags` lists."""
    message = f"{account_id}\x1f{epoch}".encode()
    return hashlib.blake2b(message, key=key, person=_TAG_PERSON, digest_size=_TAG_BYTES).digest()


def live_tags(app: Flask) -> frozenset[bytes]:
    """The head tags of every account standing now, in its epoch now, read from the database
    (a locked account's too: its epoch moved, and its cookies' tags with it)."""
    key = _head_key_of(app)
    session = app.extensions["raazdar.db"].new_session()
    try:
        rows = session.execute(select(StaffAccount.id, StaffAccount.epoch)).all()
    finally:
        session.close()
    return frozenset(account_tag(key, ident, epoch) for ident, epoch in rows)


def _head_key_of(app: Flask) -> bytes:
    """The head MAC's key of `app`, kept once derived (read in the main loop, for every head)."""
    key: bytes | None = app.extensions.get("raazdar.device_head_key")
    if key is None:
        key = app.extensions["raazdar.device_head_key"] = _head_key(app.config["SECRET_KEY"])
    return key


def _head_mac(key: bytes, tagged: bytes, until: int) -> bytes:
    message = tagged + until.to_bytes(8, "big")
    return hashlib.blake2b(message, key=key, digest_size=_HEAD_MAC_BYTES).digest()


def _head_key(secret: bytes) -> bytes:
    """The head MAC's key, derived from the secret key apart from the account MAC's."""
    return hashlib.blake2b(b"", key=secret[:32], person=_HEAD_PERSON).digest()


def _parse(cookie: str | None) -> tuple[bytes, int, bytes] | None:
    """The id, last day and MAC of a cookie of the form `issue` makes, or None."""
    if not cookie or len(cookie) > _LONGEST:
        return None
    parts = cookie.split(".")
    if len(parts) != 4 or parts[0] not in (_VERSION, _UNTAGGED):
        return None
    if not (parts[2].isascii() and parts[2].isdigit()):
        return None
    try:
        ident, mac = bytes.fromhex(parts[1]), bytes.fromhex(parts[3])
    except ValueError:
        return None
    length = _ID_BYTES if parts[0] == _VERSION else _UNTAGGED_ID_BYTES
    if len(ident) != length or len(mac) != _MAC_BYTES:
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
