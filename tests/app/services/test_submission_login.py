"""A new source's login row commits with their first submission, or not at all."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Item, SessionRow, Source
from app.services import sources as sources_service
from app.store import EnvelopeStore
from tests.app.support import (
    Visitor,
    assert_form_given_back,
    envelope_files,
    form,
    holds_login,
    shows_login,
    staging_files,
)


def _count(app: Flask, model: type[Item] | type[SessionRow]) -> int:
    database: Database = app.extensions["raazdar.db"]
    with database.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_first_submission_signs_in_with_a_login_row_committed_beside_its_items(
    app: Flask, visitor: Visitor
) -> None:
    response = visitor.send(visitor.start(), message="the first report")

    visitor.filed(response)
    assert _count(app, Item) == 1
    assert _count(app, SessionRow) == 1
    assert holds_login(visitor.client.get("/account"))  # signed in


def test_a_submission_that_fails_before_its_commit_leaves_no_login(
    app: Flask, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login row is added to the submission's transaction, so it rolls back with it."""

    def full_disk(_store: EnvelopeStore, _staged: object, **_flush: object) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EnvelopeStore, "publish_all", full_disk)

    response = visitor.send(visitor.start(), message="a report that cannot be stored")

    assert response.status_code == 503
    assert _count(app, Item) == 0
    assert _count(app, SessionRow) == 0
    assert shows_login(visitor.client.get("/account"))  # not signed in


def test_a_signed_in_source_whose_account_went_mid_request_stores_nothing(
    app: Flask, instance: Path, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account is deleted after the request found it signed in (the source deleted it in
    another tab): the submission is refused, and neither a row nor a file of it is left."""
    visitor.filed(visitor.send(visitor.start(), message="the first report"))
    page = form(visitor.get("/account"), "/account")
    stored = envelope_files(instance)
    signed_in = sources_service.resume

    def then_gone(session: Session, grants: object) -> sources_service.SignedIn | None:
        who = signed_in(session, grants)
        if who is not None:
            session.execute(delete(Source).where(Source.id == who.source_id))
        return who

    monkeypatch.setattr(sources_service, "resume", then_gone)

    response = visitor.send(
        page, "a second report", files=[("files", "note.txt", b"x", "text/plain")]
    )

    assert response.status_code == 400
    # The first report's item alone: the deletion, in the refused transaction, rolled back too.
    assert _count(app, Item) == 1
    assert envelope_files(instance) == stored
    assert staging_files(instance) == []


_FAULTS = {
    "full disk": OSError(errno.ENOSPC, "No space left on device"),
    "busy database": OperationalError("COMMIT", {}, Exception("database is locked")),
}


@pytest.mark.parametrize("fault", list(_FAULTS))
def test_a_report_refused_by_a_full_disk_or_a_busy_database_gives_the_form_back(
    app: Flask, instance: Path, visitor: Visitor, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A flood can fill the disk, or hold the database's writer past its wait: a report
    refused then (503, try again) replaced its form with the busy page, and what the
    source wrote, and for a first report the codename it was offered, were gone."""

    def failing(_store: EnvelopeStore, _staged: object, **_flush: object) -> list[Path]:
        raise _FAULTS[fault]

    publish_all = EnvelopeStore.publish_all
    monkeypatch.setattr(EnvelopeStore, "publish_all", failing)
    note = [("files", "note.txt", b"the names", "text/plain")]
    first = visitor.start()
    response = visitor.send(first, "the first report", files=note)
    assert_form_given_back(response, "the first report", "note.txt")
    assert first.fields["codename"] in response.get_data(as_text=True), "the codename was lost"
    assert _count(app, Item) == 0
    assert staging_files(instance) == []

    monkeypatch.setattr(EnvelopeStore, "publish_all", publish_all)
    visitor.filed(visitor.send(first, "the first report"))
    monkeypatch.setattr(EnvelopeStore, "publish_all", failing)
    later = form(visitor.get("/account"), "/account")
    response = visitor.send(later, "a second report", files=note)
    assert_form_given_back(response, "a second report", "note.txt")
    assert _count(app, Item) == 1
    assert staging_files(instance) == []
