"""A disk that fails at any step of a submission: the source is told, and nothing stays.

Every step the submission takes is failed in turn (`tests.app.faults.StepFaults`): a
report filed has its rows and its files; one refused has neither, no account, and
nothing in staging but the blank files that wait for the sweep.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app.models import Item, Source
from tests.app.faults import StepFaults
from tests.app.support import Visitor, envelope_files, row_counts, staging_files

_FILE = ("files", "ledger.pdf", b"%PDF- the station's ledger" * 100, "application/pdf")

# A full disk, and a disk that fails (one step only: the next goes through).
_ERRORS = [pytest.param(errno.ENOSPC, id="full"), pytest.param(errno.EIO, id="eio")]


@pytest.mark.parametrize("error", _ERRORS)
def test_a_submission_failing_at_any_step_is_refused_and_leaves_nothing(
    app: Flask, instance: Path, visitor: Visitor, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """A step whose failure the submission gets past (a best-effort one) files the report
    whole; any other refuses it, with no account, no row and no file left of it."""
    kept = {"sources": 0, "items": 0}

    def send() -> TestResponse:
        visitor.client.delete_cookie("rz")  # a new source each time, the one before filed or not
        return visitor.send(visitor.start(), "the SHO took money", [_FILE])

    def failed(step: int, result: TestResponse) -> None:
        if 'class="filed"' in result.get_data(as_text=True):
            kept.update(sources=kept["sources"] + 1, items=kept["items"] + 2)
        else:
            assert result.status_code in (200, 500, 503), step  # the form back; an error page
        assert row_counts(app, Source, Item) == kept, step
        assert len(envelope_files(instance)) == kept["items"], f"step {step} left an envelope"
        assert staging_files(instance) == [], f"step {step} left a file in staging"

    steps = StepFaults(monkeypatch, error).walk(send, failed)

    assert steps > 10
    assert kept["items"] < 2 * steps, "no step's failure refused the report"
    assert row_counts(app, Source, Item) == {
        "sources": kept["sources"] + 1,
        "items": kept["items"] + 2,
    }
    assert staging_files(instance) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: no WAL of ours
@pytest.mark.parametrize("error", _ERRORS)
def test_a_filed_report_whose_wal_emptying_fails_is_answered_and_emptied_later(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    error: int,
) -> None:
    """The emptying after the response (`app.db.empty_wal`) meets a disk that fails the
    WAL's flush once: the report was filed and said so, nothing escapes the response's
    close (a traceback in the server's log), and the WAL is emptied again on its own."""
    wal = instance / "raazdar.db-wal"
    fsync = os.fsync
    failed: list[int] = []

    def failing_once(fd: int) -> None:
        if not failed and os.path.samefile(f"/proc/self/fd/{fd}", wal):
            failed.append(fd)
            raise OSError(error, os.strerror(error))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_once)
    page = visitor.start()

    visitor.filed(visitor.send(page, "the SHO took money"))

    assert failed, "the WAL was never flushed: nothing was tried"
    for _ in range(100):
        if wal.stat().st_size == 0:
            break
        time.sleep(0.1)
    assert wal.stat().st_size == 0, "the WAL was left whole after its emptying failed"
