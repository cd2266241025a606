"""The staff pages' export and reply upload on a disk a flood filled to its floor."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import store as store_module
from app.db import db_session as request_session
from app.models import ExportHead, Item, Reply
from app.services import bundle_stream
from app.services import dashboard as dashboard_service
from app.services import staff as staff_service
from app.services.context import services
from tests.app.staff.test_staff_dashboard import export, read, reply_bundle, report, upload
from tests.app.staff_support import login, make_staff, post_confirmed, staff_client
from tests.app.support import (
    Visitor,
    audit_trail,
    db_session,
    form,
    free_blocks,
    retired_files,
    row_counts,
)

# A filesystem of 100 000 blocks of 4 KiB with its last hundredth free: the floor, where no
# source's report is taken in (`EnvelopeStore.space_above_floor`).
_BLOCKS = 100_000
_AT_FLOOR = _BLOCKS // 100
# What is really left to write into the store at the floor, in this model: less than the
# report's photo, as a flood's reports take far more than the hundredth kept.
_ROOM = 64 * 1024
_PHOTO = b"\xff\xd8 a photo " + bytes(200 * 1024)


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    """Alice, a staff member, logged in at her desk."""
    client = staff_client(app)
    login(client, app, make_staff(app, "alice"))
    return client


def _flooded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fill the disk to its floor: the store's filesystem says so, and a file of the store
    for a bundle in transit (`EnvelopeStore.scratch`) takes no more than the room left."""
    free_blocks(monkeypatch, _BLOCKS, _AT_FLOOR)
    write = store_module._Scratch.write

    def full(self: store_module._Scratch, data: bytes) -> int:
        if self.tell() + len(data) > _ROOM:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, data)

    monkeypatch.setattr(store_module._Scratch, "write", full)


def test_a_disk_filled_to_its_floor_still_lets_staff_export_every_report(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flood took the disk to its floor: the staff pages' export still reaches the reviewers.

    Written whole into the store before it was sent, the bundle met a full disk, and
    every export was answered busy until an administrator ran `raazdar export --out`.
    """
    report(visitor, "The SHO released the agent for money", _PHOTO)
    _flooded(monkeypatch)
    response = export(staff)
    assert response.status_code == 200, f"the export was refused: {response.status_code}"
    manifest, plaintexts = read(app, instance, response.get_data(), tmp_path / "items")
    assert len(manifest.entries) == 2
    assert _PHOTO in plaintexts.values()
    with db_session(app) as session:
        assert all(session.execute(select(Item.exported)).scalars())
    assert audit_trail(app)[-1][:2] == ("alice", "export")


def _exported(app: Flask) -> tuple[list[bool], int | None]:
    """Which items are marked exported, and the export head's number (None before any)."""
    with db_session(app) as session:
        head = session.get(ExportHead, 1)
        marked = list(session.scalars(select(Item.exported).order_by(Item.id)))
        return marked, None if head is None else head.sequence


def test_a_download_cut_before_its_end_marks_nothing_exported(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
) -> None:
    """The browser closed half-way: no item is marked exported, no export audited, and the
    next export is the same bundle number with every item.

    Before, the bundle was committed before its first byte went: a download lost on
    the way marked every item exported in a bundle the staff member never had.
    """
    report(visitor, "The SHO released the agent for money", _PHOTO)
    html = staff.get("/staff/").get_data(as_text=True)
    token = form(html, "/staff/export").fields["csrf_token"]
    response = post_confirmed(
        staff, "/staff/export", {"csrf_token": token, "since": ""}, buffered=False
    )
    assert response.status_code == 200
    pieces = response.iter_encoded()
    taken = b""
    while len(taken) < 1024:  # the bundle's head, and no more
        taken += next(pieces)
    assert response.content_length is not None
    assert len(taken) < response.content_length
    response.close()  # as the server does when the browser goes away
    assert _exported(app) == ([False, False], None)
    assert "export" not in [action for _, action, _ in audit_trail(app)]
    response = export(staff)
    assert response.status_code == 200
    assert "raazdar-export-1-" in response.headers["Content-Disposition"]
    manifest, plaintexts = read(app, instance, response.get_data(), tmp_path / "items")
    assert manifest.chain is not None
    assert manifest.chain.sequence == 1
    assert _PHOTO in plaintexts.values()
    assert _exported(app) == ([True, True], 1)


def test_an_exports_last_piece_goes_only_once_its_items_are_marked_exported(
    app: Flask, visitor: Visitor, staff: FlaskClient
) -> None:
    """Every piece but the last goes before the commit, the last after it: a bundle the
    browser has whole is one the server counts as exported, and one it has not is not."""
    report(visitor, "The SHO released the agent for money", _PHOTO)
    seen: list[tuple[list[bool], int | None]] = []
    with app.test_request_context():
        session = request_session()
        account = staff_service.get_account(session, "alice")
        download = dashboard_service.export_download(session, account, None)
        assert download is not None
        size = 0
        for piece in download.stream:
            seen.append(_exported(app))
            size += len(piece)
        download.stream.close()
    assert size == download.size
    assert seen[:-1] == [([False, False], None)] * (len(seen) - 1)
    assert seen[-1] == ([True, True], 1)


def test_a_reply_bundle_is_applied_at_the_floor_and_frees_the_disk(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reviewers' acknowledgements are what free the disk: at the floor, their reply
    bundle is still taken in whole, its replies posted, and the envelopes it acknowledges
    overwritten and cut to nothing."""
    report(visitor, "The SHO released the agent for money", _PHOTO)
    _flooded(monkeypatch)
    with app.app_context():
        store = services().store
        held = store.envelope_bytes()
    assert held > len(_PHOTO)
    response = export(staff)
    manifest, _ = read(app, instance, response.get_data(), tmp_path / "items")
    bundle = reply_bundle(app, instance, manifest, "Which police station?")
    assert len(bundle) < _ROOM  # a reply bundle fits the room a flood leaves
    page = upload(staff, bundle)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "Reply bundle applied" in page.get_data(as_text=True)
    assert row_counts(app, Item, Reply) == {"items": 0, "replies": 1}
    with app.app_context():
        # What is left is the reply (a few KiB); what waits for the sweep was overwritten
        # and cut to nothing (`EnvelopeStore.retire_file`).
        assert services().store.envelope_bytes() < held - len(_PHOTO)
    waiting = [p for p in retired_files(instance) if p.is_file()]
    assert waiting
    assert all(p.stat().st_size == 0 for p in waiting)


def test_a_download_that_stalls_is_taken_as_cut_and_lets_the_store_go(
    app: Flask, visitor: Visitor, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser that stops taking pieces, with its connection left open, does not keep the
    export's transaction and the store's sweep (`EnvelopeStore.steady`) waiting for ever."""
    monkeypatch.setattr(bundle_stream, "STALLED", 0.2)
    report(visitor, "The SHO released the agent for money", _PHOTO)
    with app.test_request_context():
        session = request_session()
        account = staff_service.get_account(session, "alice")
        download = dashboard_service.export_download(session, account, None)
        assert download is not None
        pieces = iter(download.stream)
        taken = len(next(pieces))
        download.stream.join(timeout=5)
        assert not download.stream.writing, "the writer still waits on a stalled download"
        with pytest.raises(BrokenPipeError):  # the server closes the connection
            next(pieces)
        download.stream.close()
    assert taken < download.size
    assert _exported(app) == ([False, False], None)
