"""Source accounts: created on first submission, found by the tag a codename derives.

Nobody can be locked out. A wrong codename is not counted anywhere: what is
limited is the work, Argon2id derivations, by a pool shared by every worker
(`app.kdf_pool`). A login spends one whether or not its codename is well formed
(its timing must not say "typo"); a first report only for one it was offered.
The browser's first submission creates an account only for the codename this
server generated for that visitor, so it is never a way to log in.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Final

from flask import current_app
from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.orm import Session

from app import circuits, kdf_pool
from app.errors import AccountPaced, SubmissionError
from app.models import Source, new_id, today
from crypto import (
    CodenameError,
    CryptoError,
    PrivateKey,
    SourceKeys,
    check_codename,
    derive_source_keys,
    generate_codename,
    normalize_codename,
    random_words,
)
from crypto.encoding import b64decode, b64encode

_OFFER_PERSON = b"rz-codename-offer"
_LOGIN_TAG_PERSON = b"raazdar source login tag v1:"
# Built once: a statement is immutable, and building it costs more than running it.
_FIND_ACCOUNT = select(Source.id).where(Source.lookup_tag == bindparam("tag"))
_ACCOUNT_KEY = select(Source.public_key).where(Source.id == bindparam("id"))


@dataclass(frozen=True)
class SignedIn:
    """A signed-in source: their id and the key that opens their replies."""

    source_id: str
    private_key: PrivateKey

    def to_session(self) -> dict[str, str]:
        """Serialise for the session row (sealed under the cookie's own key)."""
        return {"id": self.source_id, "sk": b64encode(self.private_key.secret_bytes())}

    @classmethod
    def decoy(cls) -> SignedIn:
        """A source of no account, whose login row weighs what a real one's does."""
        return cls(new_id(), PrivateKey(secrets.token_bytes(32)))

    @classmethod
    def from_session(cls, value: object) -> SignedIn | None:
        """Read back what `to_session` wrote, or None."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(str(value["id"]), PrivateKey(b64decode(str(value["sk"]), length=32)))
        except (KeyError, ValueError, CryptoError):
            return None


def login_tags(who: SignedIn) -> tuple[str, str]:
    """The tags of `who`'s logins made today and yesterday: today's first.

    A keyed digest of the account's own key and the day, so only whoever holds the
    codename makes it, and a copy of the database cannot tell whose login a row is, nor
    link one account's logins of different days. A login lives two hours at most: one
    of yesterday's may still be live.
    """
    key = who.private_key.secret_bytes()
    day = today()
    return (_login_tag(key, day), _login_tag(key, day - dt.timedelta(days=1)))


def _login_tag(key: bytes, day: dt.date) -> str:
    text = _LOGIN_TAG_PERSON + day.isoformat().encode()
    return hashlib.blake2b(text, key=key, digest_size=16).hexdigest()


def derive(codename: str) -> SourceKeys:
    """Derive a codename's keys in a slot of the shared pool (`KdfBusy` if none comes free)."""
    config = current_app.config
    salt, params = config["CODENAME_SALT"], config["CODENAME_KDF"]
    return kdf_pool.in_slot(config, lambda: derive_source_keys(codename, salt, params))


def offer_digest(codename: str) -> str:
    """A keyed digest binding a generated codename to the visitor's session (not the codename)."""
    key = hashlib.blake2b(current_app.config["SECRET_KEY"], digest_size=32).digest()
    mac = hmac.new(key, _OFFER_PERSON + normalize_codename(codename).encode(), hashlib.sha256)
    return mac.hexdigest()


def was_offered(codename: str, offered: Any) -> bool:
    """Say whether `codename` is the one this server generated for the visitor."""
    return isinstance(offered, str) and hmac.compare_digest(offer_digest(codename), offered)


# Draws of a new account's designation: the first `TWO_WORD_DRAWS` are two words, the rest three.
# An account keeps its designation for a year and a Tor circuit may make one a minute, so
# about 115 circuits a year long took all 60 million pairs and no new account could be made;
# a draw that finds two words taken so often goes on to three (4.7e11 of them).
ACCOUNT_DRAWS: Final = 5
TWO_WORD_DRAWS: Final = 3


def new_designation(draw: int = 0) -> str:
    """Random words, unrelated to any codename, by which reviewers know a source: two, or
    three from the `TWO_WORD_DRAWS`th draw of one account on (the pairs nearly all taken)."""
    count = 2 if draw < TWO_WORD_DRAWS else 3
    return " ".join(word.capitalize() for word in random_words(count))


def create_account(session: Session, keys: SourceKeys) -> str:
    """Create the account of a codename generated for this visitor (or find it, made already).

    Only a codename this server generated for the visitor's own session gets
    here, so an existing account is one this visitor made a moment ago (the
    same form sent again with the back button), never someone else's. Returns
    the account's id. A new one takes its Tor circuit's turn (`app.circuits`), or
    `AccountPaced`: an account keeps a row and a designation for a year, and one
    circuit making one per request would in time leave none for anybody. Taken
    here, not before the derivation: only the derived tag says whether the
    account is new (the same source sending a second report from the form),
    and only once its row is in (the same form sent twice at once).
    The insert comes first, and the account is looked up by its tag only if
    nothing was inserted. Statements on the session's connection, not objects:
    nothing else reads the row in this request. A new row is inserted only if
    nothing unique in it is taken (`ON CONFLICT DO NOTHING`, SQLite and
    PostgreSQL alike), so a designation already taken is drawn again without a
    savepoint: no failed statement ever aborts the transaction.
    """
    connection = session.connection()
    row = {
        "lookup_tag": keys.lookup_tag,
        "public_key": keys.public_key.to_text(),
        "signing_key": keys.verify_key.to_text(),
    }
    statement = _insert_unless_taken(connection.dialect.name)
    for draw in range(ACCOUNT_DRAWS):
        source_id = new_id()
        made = connection.execute(
            statement, {**row, "id": source_id, "designation": new_designation(draw)}
        ).scalar_one_or_none()
        if made is not None:
            # Taken once the row is in (the caller's rollback undoes it if refused):
            # the same form sent twice at once waits for it at its own insert, finds the
            # account, and is never told that its circuit made one a moment ago.
            wait = circuits.take_account_turn(kdf_pool.current_circuit())
            if wait:
                raise AccountPaced(wait)
            return source_id
        # Nothing inserted: the tag taken (the same form sent again, or twice at once,
        # made it), or the id or designation drawn taken (drawn again). Looked up only
        # now: a new account, nearly every one, costs its insert alone.
        found = connection.execute(_FIND_ACCOUNT, {"tag": keys.lookup_tag}).scalar_one_or_none()
        if found is not None:
            connection.execute(update(Source).where(Source.id == found).values(active_day=today()))
            return str(found)
    raise SubmissionError("could not create an account; please try again")


@functools.cache
def _insert_unless_taken(dialect: str) -> Insert:
    """A new account's insert that does nothing if its id, tag or designation is taken.

    It returns the new id, or no row if nothing was inserted (psycopg counts no rows
    for it: `rowcount` is -1). Built once per dialect, like `_FIND_ACCOUNT`.
    """
    # Imported here: each dialect's module is large, and an instance uses one.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(Source).on_conflict_do_nothing().returning(Source.id)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(Source).on_conflict_do_nothing().returning(Source.id)
    raise SubmissionError(f"no account insert for {dialect}")


def log_in(session: Session, codename: str) -> SignedIn | None:
    """Check a codename against the accounts (one derivation, never counted).

    A mistyped one (`check_codename` refuses it) costs the same derivation and look-up,
    of a codename drawn at random, and opens nothing: answered at once, its timing told
    a person typing from memory from a script guessing (docs/PROTOCOL.md §18.3).
    A right one's account is marked active today in the open transaction, for the
    caller to commit with its login row: a commit of its own made a right codename's
    answer later than a wrong one's (tests/app/source/test_login_timing.py).
    """
    try:
        check_codename(codename)
    except CodenameError:
        well_formed = False
    else:
        well_formed = True
    keys = derive(codename if well_formed else generate_codename())
    source = session.execute(
        select(Source).where(Source.lookup_tag == keys.lookup_tag)
    ).scalar_one_or_none()
    if source is None or not well_formed or not _holds_own_keys(source, keys):
        return None
    source.active_day = today()
    _note_signing_key(source, keys)
    return SignedIn(source.id, keys.private_key)


def _holds_own_keys(source: Source, keys: SourceKeys) -> bool:
    """Whether the account under the codename's tag was made with the codename's own keys.

    A tag is free again once its account is removed (the purge of one the API made that
    never filed, expiry, a reply bundle), and whoever holds it (a copy of the database) can
    make an account under it through the API with keys of their own: the codename, signed
    into that one, filed reports whose replies were sealed to the other key.
    """
    if source.public_key != keys.public_key.to_text():
        return False
    return source.signing_key is None or source.signing_key == keys.verify_key.to_text()


def resume(session: Session, stored: object) -> SignedIn | None:
    """The source a session row names, only if its key is the account's own public key."""
    who = SignedIn.from_session(stored)
    if who is None:
        return None
    # A statement, not an object: every signed-in request asks, and nothing here changes the row.
    found = session.connection().execute(_ACCOUNT_KEY, {"id": who.source_id}).scalar_one_or_none()
    if found is None or found != who.private_key.public_key.to_text():
        return None
    return who


def _note_signing_key(source: Source, keys: SourceKeys) -> None:
    """Give an account made before the API its signing key, so its codename works there too."""
    if source.signing_key is None:
        source.signing_key = keys.verify_key.to_text()
