"""One account's finished uploads, paced as its later reports in Tor Browser are."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from flask import Flask

from app import circuits, report_pacing
from app.models import Item
from app.settings import set_setting
from crypto import Metadata
from tests.app.api.test_api import assert_error
from tests.app.api_support import ApiClient
from tests.app.support import db_session, row_counts, staging_files


def _one_mib_limit(app: Flask) -> None:
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", 1)
        session.commit()


def _upload_whole(device: ApiClient, envelope: bytes) -> int:
    """Start an upload and, if it is taken, send it whole; the start's status."""
    started = device.start_upload(envelope, kind="file")
    if started.status_code == 201:
        upload = started.get_json()["upload"]
        done = device.patch(upload, 0, envelope)
        assert done.status_code == 200, done.get_data(as_text=True)
        assert done.get_json()["complete"] is True
    return started.status_code


def test_one_account_cannot_fill_the_disk_with_finished_uploads(
    app: Flask, instance: Path, device: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed-in browser's later reports are paced by account (two upload limits at once,
    one more a minute), so that one session cannot fill the disk; an account's API uploads
    were paced by nothing once finished (held over, only unfinished ones make room). One
    codename, its requests sent down a few circuits, stored envelope after envelope at the
    upload limit as fast as Tor carried them, down to the tenth kept from uploads, and every
    other device's upload was refused until staff exported. Now a start past the account's
    pace is answered busy, with Retry-After, before anything of it is written."""
    _one_mib_limit(app)
    envelope = device.seal(
        secrets.token_bytes(900_000), Metadata("file", "application/octet-stream", "clip.mp4")
    )
    before = row_counts(app, Item)["items"]
    statuses = [_upload_whole(device, envelope) for _ in range(5)]
    stored = row_counts(app, Item)["items"] - before
    assert statuses == [201, 201, 503, 503, 503], f"one account stored {stored} of 5 at once"
    refused = device.start_upload(envelope, kind="file")
    assert_error(refused, 503, "busy")
    assert 0 < int(refused.headers["Retry-After"]) <= 2 * circuits.ACCOUNT_SPACING_SECONDS
    assert row_counts(app, Item)["items"] == before + 2
    assert staging_files(instance) == []
    # Another account is not held back; this one, a minute on, stores one more.
    other = ApiClient(device.client, device.pinned)
    assert other.register().status_code == 201
    other.upload(envelope, kind="file")
    later = time.monotonic_ns() + circuits.ACCOUNT_SPACING_SECONDS * 10**9
    monkeypatch.setattr(report_pacing, "_now", lambda: later)
    device.upload(envelope, kind="file")
