"""Per-app objects the services need: the store and the keyring cache."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.db import Database, db_session
from app.demo import demo_timestamp
from app.errors import KeyringUnavailable, fault
from app.instance import InstancePaths, database_directory
from app.keyring import (
    KeyringCache,
    KeyringState,
    fresh_timestamp,
    keyring_held,
    timestamp_path,
    write_replacing,
)
from app.models import ExportHead, today
from app.services import audit
from app.store import EnvelopeStore, SealingKey
from app.subkeys import SubkeyCache, below_floor, sealing_day
from crypto import (
    CryptoError,
    Manifest,
    SignedSubkeyList,
    SignedTimestamp,
    Timestamp,
    VerifyKey,
)
from crypto.envelope import Header
from crypto.subkeys import SubkeyError, check_sealed_to_subkeys, requires_subkeys, sealing_keys

logger = logging.getLogger(__name__)

# Rule D2's refusals that are the sender's doing; the others are about the server's lists.
_SENDERS_FAULT: Final = frozenset({"stanzas", "version"})
# Where a request keeps the latest day an export was dated, once read (`Services.sealing_day`).
_LATEST_EXPORT_DAY: Final = "raazdar.latest_export_day"
# Built once: a statement is immutable, and building it costs more than running it.
_READ_EXPORT_DAY: Final = select(ExportHead.day).where(ExportHead.id == 1)


@dataclass
class Services:
    """What one app instance shares across requests."""

    paths: InstancePaths
    store: EnvelopeStore
    keyrings: KeyringCache
    subkeys: SubkeyCache
    # The subkey ids the audit log records replaced, for which list files (`_refuse_superseded`).
    _replaced: tuple[tuple[object, ...], frozenset[bytes]] | None = field(
        default=None, repr=False, compare=False
    )
    # The last answer of `recipients` under subkeys: for which manifest (the very
    # object the keyring cache holds), which list files and which day.
    _sealing: tuple[Manifest, tuple[object, ...], dt.date, tuple[SealingKey, ...]] | None = field(
        default=None, repr=False, compare=False
    )
    # The keyring state (the very object the cache holds) and day a fresh timestamp was seen.
    _fresh: tuple[KeyringState, dt.date] | None = field(default=None, repr=False, compare=False)

    def keyring(self) -> KeyringState:
        """The keyring state for today."""
        return self.keyrings.state(today())

    def manifest(self) -> Manifest:
        """The manifest in force, or `KeyringUnavailable`."""
        return self.keyring().require()

    def recipients(self) -> list[SealingKey]:
        """The keys new reports are sealed to, or `KeyringUnavailable` (see `sealing`)."""
        return self.sealing()[1]

    def sealing(self) -> tuple[Manifest, list[SealingKey]]:
        """The manifest in force and the keys new reports are sealed to under it, read together
        (one look at the keyring's files and one at the lists'), or `KeyringUnavailable`.

        The one place that decides the keys: under a keyring of hybrid reviewers
        (format 3), each reviewer's subkey of this week and nothing else; without
        one for everybody, nothing is sealed (docs/PROTOCOL.md §5A.8). Nor without a
        fresh timestamp for a keyring that names a timestamp key (`_require_fresh`).
        """
        state = self._require_fresh(self.keyring())
        manifest = state.require()
        if not requires_subkeys(manifest):
            return manifest, [r.encryption_key for r in manifest.recipients]
        # Checking the lists costs an Ed25519 verification and canonical JSON per
        # reviewer; the answer holds for the day, for these lists under this
        # keyring (`crypto.subkeys.current`), so it is kept for exactly that.
        day = self.sealing_day()
        stamp, lists = self.subkeys.current()
        # Before the cache: a timestamp installed since may name a later list. The state
        # passed `_require_fresh`: its timestamp, if the keyring names a key, is verified.
        vouched = state.timestamp if manifest.timestamp is not None else None
        _refuse_below_floor(vouched.timestamp if vouched else None, manifest, lists)
        cached = self._sealing
        if cached is not None and cached[0] is manifest and cached[1] == stamp and cached[2] == day:
            return manifest, list(cached[3])
        self._refuse_superseded(stamp, lists)
        try:
            keys = tuple(sealing_keys(manifest, lists, day))
        except SubkeyError as exc:
            raise KeyringUnavailable(f"no current subkey for every reviewer ({exc.rule})") from exc
        self._sealing = (manifest, stamp, day, keys)
        return manifest, list(keys)

    def _require_fresh(self, state: KeyringState) -> KeyringState:
        """`state`, or `KeyringUnavailable` unless a timestamp vouches for its keyring today.

        For a browser source the server is the sealer, and the timestamp is all that
        shows a successor withheld (one dropping a revoked reviewer, PROTOCOL §8.8):
        `raazdar-submit` refuses the keyring once it lapses, and so does this. Checked
        once per keyring state and day; a format-1 keyring names no timestamp key.
        """
        day, fresh = today(), self._fresh
        if state.manifest is None or state.manifest.timestamp is None:
            return state
        if fresh is not None and fresh[0] is state and fresh[1] == day:
            return state
        if fresh_timestamp(state, day) is None:
            self.timestamp()  # a demo instance renews its own
            state = self.keyring()
            if fresh_timestamp(state, day) is None:
                raise KeyringUnavailable(
                    "no fresh keyring timestamp vouches for the keyring in force, so nothing"
                    " is sealed: install the next (`raazdar keyring timestamp FILE`)"
                )
        self._fresh = (state, day)
        return state

    def sealing_day(self) -> dt.date:
        """The day whose week reports are sealed to: today, or the latest day an export was
        dated if the clock is now behind it (docs/PROTOCOL.md §5A.8, rule D2).

        The workstation may destroy every week an export's day closes (rule D1): a
        clock that ran ahead for an export and was then set back would otherwise
        seal, and accept, reports for weeks whose keys are about to go unexported.
        The export's day is read once per request (a submission asks as it seals and
        again as it files), on the request's own connection, which reads the settings'
        revision at the same moment: a connection of its own cost a second checkout
        from the pool on every upload's path. The clock is read at every call, so a
        week that turns during an upload is still seen.
        """
        if has_request_context():
            if _LATEST_EXPORT_DAY not in request.environ:
                request.environ[_LATEST_EXPORT_DAY] = self._latest_export_day()
            latest = request.environ[_LATEST_EXPORT_DAY]
        else:
            latest = self._latest_export_day()
        return sealing_day(today(), latest)

    def _latest_export_day(self) -> dt.date | None:
        if has_request_context():
            # On the request's own connection, which its next statement (the settings'
            # revision, the upload limit) takes anyway: a connection of its own cost a
            # second checkout from the pool on every report's path, for one row.
            # Read-committed on PostgreSQL and SQLite's autocommit reads alike see the
            # latest export committed, as a fresh connection would.
            day: dt.date | None = db_session().connection().execute(_READ_EXPORT_DAY).scalar()
            return day
        database: Database = current_app.extensions["raazdar.db"]
        assert database.engine is not None  # noqa: S101 - init_app made it
        with database.engine.connect() as own:
            latest: dt.date | None = own.execute(_READ_EXPORT_DAY).scalar()
        return latest

    def accepts_sealed(self, header: Header, manifest: Manifest) -> bool:
        """Whether an envelope sealed elsewhere is sealed as `recipients` would have sealed it.

        Unsigned, to exactly the keyring's recipients; under a keyring of hybrid
        reviewers, rule D2: v2, to one subkey of a week not yet closed for each
        reviewer, so nothing for a week arrives after an export that let the
        workstation destroy it. A list the server lacks is its own fault:
        `KeyringUnavailable`, as for sealing.
        """
        if header.signer is not None:
            return False
        if not requires_subkeys(manifest):
            wanted = {r.encryption_key.fingerprint.key_id for r in manifest.recipients}
            named = [s.key_id for s in header.stanzas]
            return len(named) == len(wanted) and set(named) == wanted
        stamp, lists = self.subkeys.current()
        self._refuse_superseded(stamp, lists)
        # Verified here: an upload's end is not held to a fresh timestamp, only its start.
        _refuse_below_floor(fresh_timestamp(self.keyring(), today()), manifest, lists)
        try:
            check_sealed_to_subkeys(header, manifest, lists, self.sealing_day())
        except SubkeyError as exc:
            if exc.rule in _SENDERS_FAULT:
                return False
            raise KeyringUnavailable(
                f"no valid subkey list for every reviewer ({exc.rule})"
            ) from exc
        return True

    def _refuse_superseded(
        self, stamp: tuple[object, ...], lists: Mapping[str, SignedSubkeyList]
    ) -> None:
        """`KeyringUnavailable` if a list names a subkey a re-keying replaced (a leaked one).

        The record beside the lists can be removed with them; the audit log's is
        read again whenever the list files change.
        """
        known = self._replaced
        if known is None or known[0] != stamp:
            known = (stamp, _replaced_subkeys())
            self._replaced = known
        for signed in lists.values():
            if any(key.fingerprint.key_id in known[1] for _, key in signed.subkeys.subkeys):
                raise KeyringUnavailable(
                    "a reviewer's subkey list names a subkey replaced after a compromise: "
                    "install the re-keyed list again"
                )

    def reviewer_signing_keys(self) -> frozenset[VerifyKey]:
        """The signing keys of the reviewers in the keyring in force: a revoked one is out."""
        manifest = self.keyring().manifest
        return frozenset(r.signing_key for r in manifest.recipients) if manifest else frozenset()

    def timestamp(self) -> SignedTimestamp | None:
        """The keyring timestamp to serve; a demo instance re-signs its own when it is stale.

        A real instance holds no timestamp key: it serves what the administrators
        installed, stale or not, and the clients judge it.
        """
        state = self.keyring()
        if state.manifest is None or fresh_timestamp(state, today()) is not None:
            return state.timestamp
        with contextlib.suppress(OSError, CryptoError):
            stamp = demo_timestamp(self.paths.demo_keys, state.manifest, today())
            if stamp is not None:
                with keyring_held(self.paths):  # the sweep makes it anew (`keyring_held`)
                    write_replacing(timestamp_path(self.paths), stamp.to_bytes())
                return stamp
        return state.timestamp


def _refuse_below_floor(
    stamp: Timestamp | None, manifest: Manifest, lists: Mapping[str, SignedSubkeyList]
) -> None:
    """`KeyringUnavailable` if a list is numbered below what the verified timestamp names.

    A browser report was sealed to list 7 under a timestamp naming list 8, the
    re-keyed list every `raazdar-submit` device took instead (PROTOCOL §8.8).
    """
    older = below_floor(manifest, lists, dict(stamp.subkeys)) if stamp is not None else None
    if older is not None:
        raise KeyringUnavailable(older)


def init_app(app: Flask) -> None:
    """Create the store and the keyring cache for this app."""
    paths = InstancePaths(app.config["INSTANCE_DIR"])
    app.extensions["raazdar"] = Services(
        paths=paths,
        store=EnvelopeStore(
            paths.store, paths.staging, database_directory(app.config["DATABASE_URL"])
        ),
        keyrings=KeyringCache(paths, lambda: _installed_keyring(app)),
        subkeys=SubkeyCache(paths),
    )


def _replaced_subkeys() -> frozenset[bytes]:
    """The subkey ids the audit log records replaced, on a connection of its own.

    A log that cannot be read seals nothing (`_unchecked`), and is read again at
    the next request: nothing unchecked is kept.
    """
    database: Database = current_app.extensions["raazdar.db"]
    assert database.engine is not None  # noqa: S101 - init_app made it
    try:
        with Session(database.engine) as session:
            return audit.superseded_subkeys(session)
    except SQLAlchemyError as exc:
        _unchecked("the subkey lists", exc)


def _installed_keyring(app: Flask) -> int | None:
    """The newest keyring version the audit log records installed, on a connection of its own.

    A log that cannot be read (a lock held, a permission taken back, no tables yet)
    is no check a rollback slips through: nothing is sealed (`_unchecked`), and the
    keyring cache reads it again at the next request (`app.keyring.KeyringCache`).
    """
    database: Database = app.extensions["raazdar.db"]
    if database.engine is None:
        return None
    try:
        with Session(database.engine) as session:
            return audit.newest_keyring(session)
    except SQLAlchemyError as exc:
        _unchecked("the keyring", exc)


def _unchecked(what: str, exc: SQLAlchemyError) -> NoReturn:
    """Refuse to seal when the audit log cannot be read to check `what`; nothing is kept.

    A database locked, down or unreachable is the machine's passing fault, answered
    "busy, try again" as any other read is (`app.handlers`); anything else (a table
    gone, a permission taken back) is the keyring's refusal, with its reason.
    """
    logger.warning("the audit log could not be read to check %s: nothing is sealed", what)
    if fault(exc) is not None:
        raise exc
    raise KeyringUnavailable(
        f"the audit log could not be read to check {what} against what it records installed"
        " (a rollback is found there): nothing is sealed until it can be"
        " (is the database reachable and migrated? `raazdar doctor`)"
    ) from exc


def services() -> Services:
    """Return the current app's services."""
    result: Services = current_app.extensions["raazdar"]
    return result
