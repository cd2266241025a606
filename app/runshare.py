"""App hosts on one database share one run key, passed between their runs sealed.

Each host's run has an X25519 key pair made from its run key (`app.runkey`), so
it lives in memory only, and registers the public half (`RunHost`). At each
staff login a host exchanges: it takes up the oldest run key offered to it, and
offers the key it uses to every other registered run, sealed under the key the
two runs share (`RunKeyOffer`). Soon every host makes its tags under the oldest
run's key: a TOTP code spent on one host is spent on all, and failures on each
count together. A copy of the database holds offers that only a run's private
key opens, and no disk holds one; the rows say how many runs began since the
table was emptied, never when.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import runkey
from app.db import insert_absent
from app.models import RunHost, RunKeyOffer
from crypto import CryptoError, PrivateKey, PublicKey, TokenKey
from crypto.constants import PERSON_RUN_HOST, PERSON_RUN_OFFER, TOKEN_CONTEXT_RUN_KEY

# By this host's public key: the other runs this process has met (a test runs
# several hosts in one process).
_met: Final[dict[str, set[str]]] = {}
# Each start of a host is a run; most end. Past this many, a new run empties the
# tables: the live ones register again at their next exchange, keeping the key
# they took up, and offer it to the new run then.
MAX_RUNS: Final = 64


def exchange(session: Session) -> None:
    """Register this run, take up the oldest run key offered to it, offer the one it uses.

    Called first in a staff login's transaction, which it commits.
    """
    private = PrivateKey.derive(runkey.own().key, PERSON_RUN_HOST)
    me = private.public_key.raw.hex()
    hosts = set(session.scalars(select(RunHost.host)))
    if me not in hosts and len(hosts) >= MAX_RUNS:
        session.execute(delete(RunKeyOffer))
        session.execute(delete(RunHost))
        hosts = set()
    if me not in hosts:
        session.execute(insert_absent(session, RunHost).values(host=me))
    others = hosts - {me}
    met = _met.setdefault(me, set())
    if not others <= met:
        # A run not met before may have written tags under a key of its own.
        runkey.doubt()
        met |= others
    _take_up_oldest(session, private, me)
    _offer(session, private, me, others)
    session.commit()


def take_up(session: Session) -> None:
    """Take up an older run key offered since this request's exchange, before a tag is made.

    A login looks for offers first and spends its code a password's hash later
    (seconds, with a wait for the staff's slot): a host that met this one and
    offered its key meanwhile began, from that moment, to read tags it cannot
    open as old ones two steps on, and the code spent here under this run's own
    key was accepted there again.
    """
    private = PrivateKey.derive(runkey.own().key, PERSON_RUN_HOST)
    _take_up_oldest(session, private, private.public_key.raw.hex())


def _take_up_oldest(session: Session, private: PrivateKey, me: str) -> None:
    offers = session.execute(
        select(RunKeyOffer.offerer, RunKeyOffer.sealed).where(RunKeyOffer.host == me)
    ).all()
    using = runkey.current()
    best = using
    for offerer, sealed in offers:
        key = _open(private, me, offerer, sealed)
        if key is not None and (key.started, key.key) < (best.started, best.key):
            best = key
    if best.key != using.key:
        runkey.adopt(best)


def _offer(session: Session, private: PrivateKey, me: str, others: set[str]) -> None:
    using = runkey.current()
    made = dict(
        session.execute(
            select(RunKeyOffer.host, RunKeyOffer.sealed).where(RunKeyOffer.offerer == me)
        ).all()
    )
    for host in sorted(others):
        if host in made:
            offered = _open(private, host, host, made[host])
            if offered is not None and offered.key == using.key:
                continue
        shared = _shared(private, host)
        if shared is None:
            continue
        sealed = shared.seal(_payload(using), _context(host))
        if host in made:
            session.execute(
                update(RunKeyOffer)
                .where(RunKeyOffer.host == host, RunKeyOffer.offerer == me)
                .values(sealed=sealed)
            )
        else:
            values = {"host": host, "offerer": me, "sealed": sealed}
            session.execute(insert_absent(session, RunKeyOffer).values(**values))


def _shared(private: PrivateKey, other: str) -> TokenKey | None:
    """The key this run shares with the run registered as `other`, or None if that is no key."""
    try:
        return private.agree(PublicKey(bytes.fromhex(other)), PERSON_RUN_OFFER)
    except (CryptoError, ValueError):
        return None


def _context(host: str) -> bytes:
    # Bound to the run it is for: an offer moved to another row opens nowhere.
    return TOKEN_CONTEXT_RUN_KEY + b":" + host.encode("ascii")


def _payload(key: runkey.RunKey) -> bytes:
    return f"{key.key.hex()}:{key.started:.0f}".encode("ascii")


def _open(private: PrivateKey, host: str, other: str, sealed: str) -> runkey.RunKey | None:
    """Open an offer made for `host` between this run and `other`, or None."""
    shared = _shared(private, other)
    if shared is None:
        return None
    try:
        key_hex, _, started = shared.open(sealed, _context(host)).decode("ascii").partition(":")
        return runkey.RunKey(bytes.fromhex(key_hex), float(started))
    except (CryptoError, UnicodeDecodeError, ValueError):
        return None
