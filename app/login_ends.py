"""Login rows deleted when their login ends, not at the sweep of their day, days later.

A login left without a logout (the tab closed, the phone put away) ends for the app
at its idle deadline, but its row, holding what the login granted (a source's
reply-opening key), stayed until the sweep of its day, one or two days later: until
then the cookie still in a seized phone's browser and a copy of the database opened
it. Each process notes the rows it writes or opens, as they are sealed, and when each
ends (its idle or absolute deadline, whichever comes first); a thread of its own
deletes a row once that is past, if it is still sealed as noted: a re-seal, by any
worker, moved its deadline and noted the row again there. A process starting notes
every row standing as ending an idle deadline on (`Ends.note_standing`): the notes
of the one before it died with it. What is noted lives in
this process's memory only (row ids, digests of their ciphertext, deadlines), never
on a disk.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from app.models import SessionRow

if TYPE_CHECKING:
    from app.db import Database

# How often the thread looks for rows whose login has ended (seconds).
LOOK_EVERY: Final = 60.0
# The most rows one process keeps noted (some 10 MB); past it, a row is left to its day's
# sweep. Logins come one a derivation: a worker deriving ten a second for the 30 minutes
# of the idle deadline notes 18,000.
_MOST: Final = 100_000
# Ids per SELECT: below SQLite's bound on a statement's parameters.
_CHUNK: Final = 500
# Kept apart from `time`, which a test may replace with a clock of its own.
_sleep = time.sleep


class Ends:
    """The login rows one database's process has seen, and when each login ends."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._due: dict[str, tuple[bytes, float]] = {}
        self._thread: threading.Thread | None = None
        _all.add(self)

    def note(self, row_id: str, sealed: str, ends: float) -> None:
        """Note that the row `row_id`, sealed as `sealed`, ends at `ends` (`time.time()`)."""
        with self._lock:
            if len(self._due) >= _MOST and row_id not in self._due:
                return
            self._due[row_id] = (_digest(sealed), ends)
            if self._thread is None or not self._thread.is_alive():
                # Holding the notes weakly: an app let go (a test's) takes its thread with it.
                self._thread = threading.Thread(
                    target=_run, args=(weakref.ref(self),), name="raazdar-login-ends", daemon=True
                )
                self._thread.start()

    def note_standing(self, ends: float) -> int:
        """Note every login row on the database now as ending by `ends`; return how many.

        For a process starting: what the one before it noted died with it, and a row
        no process notes stayed until its day's sweep. After `raazdar rotate
        secret-key` no cookie opens one again, so none came back to note it either.
        Every row standing was last sealed before now, so its login ends within an
        idle deadline from now; a cookie that comes back notes its own, sooner.
        """
        session = self._database.new_session()
        try:
            rows = session.execute(select(SessionRow.id, SessionRow.sealed).limit(_MOST)).all()
        except SQLAlchemyError:
            return 0  # no schema yet, or the database away: the day's sweep remains
        finally:
            session.close()
        for row_id, sealed in rows:
            self.note(row_id, sealed, ends)
        return len(rows)

    def forget(self, row_id: str) -> None:
        """Forget a row deleted already (a logout, a lapsed cookie come back)."""
        with self._lock:
            self._due.pop(row_id, None)

    def end_due(self) -> int:
        """Delete the rows whose login has ended, unless re-sealed since; return how many."""
        now = time.time()
        with self._lock:
            noted = {r: note for r, note in self._due.items() if note[1] <= now}
            for row_id in noted:
                del self._due[row_id]
        if not noted:
            return 0
        due = {row_id: digest for row_id, (digest, _ends) in noted.items()}
        session = self._database.new_session()
        deleted = 0
        try:
            ids = list(due)
            rows = [
                row
                for at in range(0, len(ids), _CHUNK)
                for row in session.execute(
                    select(SessionRow.id, SessionRow.sealed).where(
                        SessionRow.id.in_(ids[at : at + _CHUNK])
                    )
                ).all()
            ]
            for row_id, sealed in rows:
                if _digest(sealed) != due[row_id]:
                    continue  # re-sealed since: its deadline moved, and is noted where it was
                done = session.execute(
                    delete(SessionRow).where(SessionRow.id == row_id, SessionRow.sealed == sealed)
                )
                deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
            session.commit()
        except SQLAlchemyError:
            # The database away (a restart, a full disk, every connection held): looked for
            # again at the next look. Dropped, each row stayed until its day's sweep.
            session.rollback()
            with self._lock:
                for row_id, note in noted.items():
                    self._due.setdefault(row_id, note)  # unless noted anew meanwhile
            return 0
        finally:
            session.close()
        return deleted

    def _settled(self) -> bool:
        """Say whether nothing is left to look for; the thread then ends (`note` starts one)."""
        with self._lock:
            if self._due:
                return False
            self._thread = None
            return True


def _run(held: weakref.ref[Ends]) -> None:
    """Delete the rows of ended logins every `LOOK_EVERY` seconds while any is noted."""
    while True:
        _sleep(LOOK_EVERY)
        ends = held()
        if ends is None:
            return
        ends.end_due()
        if ends._settled():
            return
        del ends


def _digest(sealed: str) -> bytes:
    """What is kept of a row's ciphertext to know it again: 16 bytes, not some 700."""
    return hashlib.blake2b(sealed.encode(), digest_size=16).digest()


_all: weakref.WeakSet[Ends] = weakref.WeakSet()


def _after_fork() -> None:
    """In a forked child: no thread came with it, and a lock held at the fork stays held."""
    for ends in list(_all):
        ends._lock = threading.Lock()
        ends._thread = None


os.register_at_fork(after_in_child=_after_fork)
