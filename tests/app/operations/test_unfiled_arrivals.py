"""A held envelope whose row never commits is gone by the timer's next run, and never one
whose row commits late.

A submission renames its envelopes into holding, forced to disk, just before its rows
commit. Killed between the two (SIGKILL, the OOM killer), it left envelopes no row names:
unreadable, never exported, counted against the floors, their inodes and creation times
dated past the period's sweep, until the daily purge a day on. The writer now holds
each envelope it publishes (`flock`) until its commit has answered, and the timer's run
(hourly, and at `raazdar serve`) destroys the held envelopes no row names once unheld
and unchanged `ABANDONED_AFTER`, asking the database again under the lock it takes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.engine.default import DefaultDialect

from app import db as app_db
from app import store as store_module
from app.models import Item
from app.operations import sweep as sweep_module
from app.operations.sweep import sweep
from app.store import UNHELD_AFTER, EnvelopeStore
from tests.app.operations.test_exchange import Review, cli, submit
from tests.app.support import Visitor, db_session, reviewer_keys, row_counts


def _without_file(app: Flask, store: EnvelopeStore) -> list[str]:
    """The items whose envelope file is gone."""
    with db_session(app) as session:
        ids = list(session.scalars(select(Item.id)))
    return [i for i in ids if not store.exists(i)]


@pytest.mark.parametrize("marker", ["published", "commit-sent"])
def test_a_report_killed_between_publish_and_commit_is_gone_by_the_hourly_run(
    app: Flask,
    client: FlaskClient,
    engine: Engine,
    store: EnvelopeStore,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL after a browser report's envelopes were published, before its commit ran."""
    assert sweep(engine, store, force=True).ran  # the period's sweep; then the hourly runs
    page = Visitor(client).start()

    def run() -> None:
        app.extensions["raazdar.db"].engine.dispose(close=False)  # the parent's stay its own
        real_publish = EnvelopeStore.publish_staged
        real_commit: Callable[[DefaultDialect, Any], None] = DefaultDialect.do_commit
        armed: list[bool] = []

        def publish(self: EnvelopeStore, staged: Any) -> list[Path]:
            published = real_publish(self, staged)
            if marker == "published":
                os.kill(os.getpid(), signal.SIGKILL)
            armed.append(True)
            return published

        def do_commit(dialect: DefaultDialect, dbapi_connection: Any) -> None:
            if armed:
                os.kill(os.getpid(), signal.SIGKILL)
            real_commit(dialect, dbapi_connection)

        EnvelopeStore.publish_staged = publish  # type: ignore[method-assign,assignment]
        DefaultDialect.do_commit = do_commit  # type: ignore[method-assign]
        photo = ("files", "photo.jpg", b"\xff\xd8 the SHO's car", "image/jpeg")
        Visitor(client).send(page, "The SHO took money.", [photo])

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    assert row_counts(app, Item)["items"] == 0
    assert len(store.held()) == 2
    monkeypatch.setattr(store_module, "ABANDONED_AFTER", UNHELD_AFTER)
    time.sleep(UNHELD_AFTER + 0.1)
    assert not sweep(engine, store).ran
    assert store.held() == [], "a killed submission's envelopes outlived the hourly run"


def test_an_envelope_whose_commit_is_slow_outlives_the_hourly_run(
    app: Flask,
    client: FlaskClient,
    engine: Engine,
    store: EnvelopeStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report whose commit takes longer than the age rule: published, held by its writer,
    and its row not yet there when the timer looks. It is kept, and lands whole."""
    assert sweep(engine, store, force=True).ran
    page = Visitor(client).start()
    published, go_on = threading.Event(), threading.Event()
    real = app_db.commit_or_confirm

    def slow_commit(session: Any, proof: Any) -> None:
        published.set()
        assert go_on.wait(60)
        real(session, proof)

    monkeypatch.setattr("app.services.submissions.commit_or_confirm", slow_commit)
    monkeypatch.setattr(store_module, "ABANDONED_AFTER", UNHELD_AFTER)
    answers: list[int] = []
    photo = ("files", "photo.jpg", b"\xff\xd8 the SHO's car", "image/jpeg")
    sender = threading.Thread(
        target=lambda: answers.append(
            Visitor(client).send(page, "The SHO took money.", [photo]).status_code
        )
    )
    sender.start()
    try:
        assert published.wait(60)
        held = store.held()
        assert len(held) == 2
        time.sleep(UNHELD_AFTER + 0.1)
        sweep_module.free_unfiled(engine, store)
        assert store.held() == held, "the timer destroyed envelopes whose rows were committing"
    finally:
        go_on.set()
        sender.join(60)
    assert len(answers) == 1
    assert answers[0] < 400
    assert row_counts(app, Item)["items"] == 2
    assert _without_file(app, store) == [], "a report's row outlived its file"


def test_the_replies_a_killed_reply_bundle_apply_published_are_gone_by_the_hourly_run(
    app: Flask,
    instance: Path,
    engine: Engine,
    store: EnvelopeStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL after a reply bundle's first reply was published, before its commit."""
    review = Review(instance, reviewer_keys(instance))
    for n in range(2):
        submit(app.test_client(), f"report {n}", b"\xff\xd8 a photo")
    assert cli(instance, "export", "--out", str(tmp_path / "e.rzb"))[0] == 0
    manifest, _ = review.read(tmp_path / "e.rzb", tmp_path / "items")
    bundle = review.replies(tmp_path / "r.rzr", manifest, "Which police station?")
    assert sweep(engine, store, force=True).ran
    with db_session(app) as session:
        items = set(session.scalars(select(Item.id)))

    def run() -> None:
        real = EnvelopeStore.publish
        calls = 0

        def dying(self: EnvelopeStore, envelope_id: str, staged: Path) -> Path:
            nonlocal calls
            calls += 1
            if calls == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, envelope_id, staged)

        EnvelopeStore.publish = dying  # type: ignore[method-assign,assignment]
        cli(instance, "import-replies", str(bundle))

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    assert len(store.held()) == 1
    monkeypatch.setattr(store_module, "ABANDONED_AFTER", UNHELD_AFTER)
    time.sleep(UNHELD_AFTER + 0.1)
    assert not sweep(engine, store).ran
    assert store.held() == [], "a killed apply's reply outlived the hourly run"
    assert {i for i in items if store.exists(i)} == items, "the hourly run took an item"
    status, output = cli(instance, "import-replies", str(bundle))
    assert status == 0, output
    assert "2 reply(ies) posted, 4 acknowledged item(s) deleted" in output
