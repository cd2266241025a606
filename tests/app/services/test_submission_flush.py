"""A submission's file is on disk before its rows commit, however slow the disk's flush."""

from __future__ import annotations

import errno
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from app.db import Database
from app.models import Item
from tests.app.support import (
    Visitor,
    assert_form_given_back,
    db_session,
    envelope_files,
    form,
)

# What the source wrote, looked for in the form given back.
CANARY = "canary-" + secrets.token_hex(8)
# A file larger than any report's envelope or database page, so its flush is told apart.
_FILE = os.urandom(300_000)
# How long the file's flush takes: longer than the rest of the request on a loaded machine.
_SLOW = 0.1


@pytest.fixture
def events(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """What happened, in order: the file's flush starting and ending (on whichever thread),
    each statement, COMMIT."""
    seen: list[tuple[str, Any]] = []
    lock = threading.Lock()
    fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        info = os.fstat(fd)
        big = info.st_size > len(_FILE)
        if big:
            with lock:
                seen.append(("flush starts", info.st_ino))
            time.sleep(_SLOW)
        fsync(fd)
        if big:
            with lock:
                seen.append(("flushed", info.st_ino))

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        with lock:
            seen.append(("statement", sql.split(None, 3)[:3]))

    def commit(_conn: Any) -> None:
        with lock:
            seen.append(("commit", None))

    monkeypatch.setattr(os, "fsync", slow_fsync)
    database: Database = app.extensions["raazdar.db"]
    engine = database.engine
    assert engine is not None
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def _file_inode(instance: Path) -> int:
    (stored,) = [p for p in envelope_files(instance) if p.stat().st_size > len(_FILE)]
    return stored.stat().st_ino


def _at(seen: list[tuple[str, Any]], what: str, detail: Any = None, after: int = -1) -> int:
    """Where `what` first happened after `after`; past the end if it never did."""
    found = (i for i, (kind, d) in enumerate(seen) if kind == what and detail in (None, d))
    return next((i for i in found if i > after), len(seen))


def _items_inserted(seen: list[tuple[str, Any]]) -> int:
    return _at(seen, "statement", ["INSERT", "INTO", "items"])


@pytest.mark.parametrize("who", ["new source", "returning source"])
def test_a_submissions_rows_commit_only_once_its_file_is_on_disk(
    app: Flask, instance: Path, visitor: Visitor, events: list[tuple[str, Any]], who: str
) -> None:
    page = visitor.start()
    if who == "returning source":
        visitor.filed(visitor.send(page, "first"))
        page = form(visitor.get("/account"), "/account")
    events.clear()

    sent = visitor.send(page, "a report", [("files", "ledger.pdf", _FILE, "application/pdf")])

    visitor.filed(sent)
    inode = _file_inode(instance)
    ends = _at(events, "flushed", inode)
    items = _items_inserted(events)
    # Durable before any row names it, however the flush is placed in the request.
    assert ends < _at(events, "commit", after=items), (
        "the submission's rows committed before its file was on disk"
    )
    assert visitor.get("/submitted")


def test_a_file_whose_flush_fails_is_refused_with_the_form_given_back(
    app: Flask, instance: Path, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's flush fails as the disk fills (ENOSPC from `fsync`: delayed allocation):
    nothing is stored, no row names the file, and the form goes back with what was written."""
    fsync = os.fsync
    failed: list[int] = []

    def full(fd: int) -> None:
        if not failed and os.fstat(fd).st_size > len(_FILE):
            failed.append(fd)  # once: overwriting the file as it is retired may flush it
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    page = visitor.start()

    sent = visitor.send(page, CANARY, [("files", "ledger.pdf", _FILE, "application/pdf")])

    assert_form_given_back(sent, CANARY, "ledger.pdf")
    assert envelope_files(instance) == []
    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
