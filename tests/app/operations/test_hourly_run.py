"""Between two sweeps, the timer's hourly run leaves the filesystem's journal no commit before it.

A source's login or reading of replies writes the database only: no envelope, no
file of its own. SQLite's files then take the write's time (their change time,
which no call can set back), and ext4 commits the inode table block that holds it
to its journal within five seconds, in a commit stamped to the nanosecond. The
journal kept every such commit until the period's sweep wrote it anew (a day by
default): a timeline of the day's logins and reads, to five seconds.

The instance lives on an ext4 image of its own, as in test_journal.py.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from app import create_app
from app.config import config_for
from app.operations.sweep import sweep
from crypto import SigningKey
from tests.app.operations.test_journal import (
    _change_times,
    _commit_times,
    _journal,
    ext4,
    instance_on,
)
from tests.app.support import Visitor, deletion, reply_to

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root"),
]

__all__ = ["ext4"]  # the fixture, shared with the journal's seizure

# ext4 commits its journal every five seconds (`commit=`): a login's commit comes by then.
COMMIT_INTERVAL = 5.0
# The most the kernel's coarse clock (file stamps) lags time.time_ns(): one tick at HZ=100.
CLOCK_TICK = 10_000_000


def _clock(ns: int) -> str:
    return f"{dt.datetime.fromtimestamp(ns / 1e9, dt.UTC):%H:%M:%S.%f}"


def test_a_login_before_the_timers_run_is_dated_by_no_commit_or_stamp_after_it(
    ext4: tuple[Path, Path], tmp_path: Path
) -> None:
    image, mount = ext4
    with instance_on(mount) as (instance, paths, engine, store):
        app = create_app(config_for(instance))
        visitor = Visitor(app.test_client())
        page = visitor.start()
        visitor.filed(visitor.send(page, "the SHO took money at the checkpost"))
        codename = page.fields["codename"]
        assert sweep(engine, store, force=True).ran  # the period's sweep
        time.sleep(1.1)
        came = time.time_ns()
        assert Visitor(app.test_client()).logs_in(codename)
        app.extensions["raazdar.db"].engine.dispose()
        time.sleep(COMMIT_INTERVAL + 0.2)
        run = time.time_ns()
        assert not sweep(engine, store).ran  # the timer's next run, in the same period

    database = paths.database
    names = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
    stamped = {p.name: p.stat().st_ctime_ns for p in names if p.exists()}
    dating = {name: _clock(ns) for name, ns in stamped.items() if ns < run - CLOCK_TICK}
    journal = _commit_times(_journal(image, tmp_path / "journal.bin"))
    commits = [t for t in journal if t < run - CLOCK_TICK]
    login = [_clock(t) for t in commits if came <= t]
    said = f"the login came at {_clock(came)}, the timer ran at {_clock(run)}"
    assert not dating, f"{said}; the database's files keep its time: {dating}; commits {login}"
    assert not commits, f"{said}; {len(commits)} commit(s) from before the run: {login}"


def test_a_reply_deleted_before_the_timers_run_is_dated_by_no_inode_after_it(
    ext4: tuple[Path, Path],
) -> None:
    """A deleted reply waited, emptied, as `store/.deleted-…` until the period's sweep.

    Its change time, and its inode's once freed, said when the source deleted it:
    when she was signed in and had read it.
    """
    image, mount = ext4
    with instance_on(mount) as (instance, _paths, engine, store):
        app = create_app(config_for(instance))
        visitor = Visitor(app.test_client())
        page = visitor.start()
        visitor.filed(visitor.send(page, "the SHO took money at the checkpost"))
        reply = reply_to(app, page.fields["codename"], "Thank you.", SigningKey.generate())
        assert sweep(engine, store, force=True).ran  # the period's sweep
        inode = store.stored_path(reply).stat().st_ino
        time.sleep(1.1)
        came = time.time_ns()
        delete = deletion(visitor.get("/account"), reply)
        assert visitor.client.post(delete.action, data=delete.fields).status_code == 303
        went = time.time_ns()
        app.extensions["raazdar.db"].engine.dispose()
        time.sleep(1.1)
        run = time.time_ns()
        assert not sweep(engine, store).ran  # the timer's next run, in the same period

    waiting = {
        p.name: _clock(p.lstat().st_ctime_ns)
        for p in [instance, *instance.rglob("*")]
        if came - CLOCK_TICK <= p.lstat().st_ctime_ns <= went
    }
    stamps = _change_times(image, [inode])[inode]
    freed = [_clock(s * 1_000_000_000) for s in stamps if came // 10**9 <= s <= went // 10**9]
    said = f"the reply went at {_clock(came)}, the timer ran at {_clock(run)}"
    assert not waiting, f"{said}; files keep the deletion's time: {waiting}"
    assert not freed, f"{said}; its freed inode keeps it: {freed}"
