"""A staff export's download never holds the sweep, whose delay keeps arrival times on disk.

A download read one byte a minute (a slow staff member, or a stolen staff device) kept
the store's lock the sweep waits for (`EnvelopeStore.steady`) and, on PostgreSQL, the
export's transaction, whose locks the sweep's rebuild waits for: until it ended, new
reports waited in holding, their files dating each.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Item
from app.operations.sweep import last_sweep, sweep
from app.services.context import services
from tests.app.staff.test_staff_dashboard import read, report
from tests.app.staff.test_staff_export_cut import _PHOTO, _download
from tests.app.support import Visitor, db_session

# How long the sweep may take beside a download that reads nothing (seconds): it takes well
# under a second here alone.
_SWEEP_WITHIN = 8.0


def _run_sweep(app: Flask, *, force: bool, failed: list[BaseException]) -> None:
    try:
        with app.app_context(), db_session(app) as session:
            sweep(session.get_bind().engine, services().store, force=force)
    except BaseException as exc:
        failed.append(exc)


def _held(app: Flask) -> list[str]:
    """The envelopes still in holding: each file dates its arrival until a sweep moves it."""
    with app.app_context():
        return list(services().store.held())


@pytest.mark.parametrize("run", ["the-periods-sweep", "the-hourly-run"])
def test_a_download_that_reads_nothing_does_not_hold_the_sweep(
    app: Flask, visitor: Visitor, staff: FlaskClient, instance: Path, tmp_path: Path, run: str
) -> None:
    """The sweep runs while a download waits on its browser; the download then either comes
    whole, verified and marked exported, or is cut with nothing marked exported."""
    due = run == "the-periods-sweep"
    report(visitor, "The SHO released the agent for money", _PHOTO)
    if not due:  # swept this period already: the timer's hourly run does the rest
        _run_sweep(app, force=True, failed=[])
    with app.app_context():
        swept_before = last_sweep(services().store)
    response, pieces = _download(staff)
    head = b"".join(next(pieces) for _ in range(4))

    failed: list[BaseException] = []
    sweeping = threading.Thread(
        target=_run_sweep, args=(app,), kwargs={"force": due, "failed": failed}
    )
    sweeping.start()
    sweeping.join(timeout=_SWEEP_WITHIN)
    held = sweeping.is_alive()
    rest = b""
    try:
        for piece in pieces:
            rest += piece
        cut = False
    except BrokenPipeError:
        cut = True
    response.close()
    sweeping.join(timeout=60)

    assert not held, f"the sweep waited more than {_SWEEP_WITHIN} s on a download"
    assert not failed, failed
    with app.app_context():
        assert (last_sweep(services().store) != swept_before) is due
    if due:
        assert _held(app) == [], "arrivals still wait in holding"
    with db_session(app) as session:
        exported = set(session.scalars(select(Item.exported)))
    if cut:
        assert exported == {False}, "a download cut short marked its items exported"
        return
    manifest, opened = read(app, instance, head + rest, tmp_path / "items")
    assert exported == {True}
    assert any(b"SHO released the agent" in p for p in opened.values())
    assert len(manifest.entries) == len(opened)
