"""A device reads the status the reviewers set, beside its replies."""

from __future__ import annotations

from flask import Flask

from app.models import Source
from tests.app.api_support import ApiClient
from tests.app.support import db_session, source_id

API = "/api/v1"


def test_the_replies_list_carries_the_status_notice(device: ApiClient, app: Flask) -> None:
    listed = device.send("GET", f"{API}/replies")
    assert listed.status_code == 200
    assert listed.get_json() == {"replies": [], "notice": None}
    with db_session(app) as session:
        source = session.get(Source, source_id(app, device.codename))
        assert source is not None
        source.notice = "needs-info"
        session.commit()
    listed = device.send("GET", f"{API}/replies")
    assert listed.get_json() == {"replies": [], "notice": "needs-info"}
