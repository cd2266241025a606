"""PostgreSQL's own log holds no error of the app's ordinary work: each line dated it.

PostgreSQL logs every error of a session (`log_min_messages` is `warning` as
installed), with its time, its detail and the statement: a designation already
taken, a challenge sent twice, each said when a source made an account or sent
a request, and named the key.
"""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import runkey, throttle
from app.models import Throttle
from app.services import sources
from crypto.codename import random_words
from crypto.encoding import b64encode
from tests.app.api_support import API, ApiClient
from tests.app.seized_wal import logged_for
from tests.app.support import db_session

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_new_api_account_whose_designation_is_taken_logs_no_error(
    app: Flask, device: ApiClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every two-word draw names the one designation there is: the next draws are taken.
    monkeypatch.setattr(
        sources,
        "random_words",
        lambda count: ["Amber", "Basil"] if count == 2 else random_words(count),
    )
    with logged_for(str(make_url(database_url).database)) as lines:
        answers = [ApiClient(app.test_client(), device.pinned).register() for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert not lines, f"the server's log dates a new account: {lines}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_challenge_sent_twice_logs_no_error(device: ApiClient, database_url: str) -> None:
    """A client on Tor sends a request again when its answer was lost."""
    body = json.dumps(
        {
            "lookup_tag": b64encode(device.keys.lookup_tag),
            "public_key": device.keys.public_key.to_text(),
            "signing_key": device.keys.verify_key.to_text(),
        }
    ).encode()
    headers = device.headers("POST", f"{API}/sources", body)
    with logged_for(str(make_url(database_url).database)) as lines:
        answers = [
            device.send(
                "POST", f"{API}/sources", body, content_type="application/json", headers=headers
            )
            for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [200, 401]
    assert not lines, f"the server's log dates a request: {lines}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_failures_of_one_bucket_counted_at_once_log_no_error(
    app: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two wrong staff passwords at once: the second's insert of the bucket's row waits
    for the first's, and was refused (an error logged with the bucket and the time)."""
    monkeypatch.setenv(runkey.ENV, f"{secrets.token_hex(32)}:{time.time() - 3600:.0f}")
    bucket = f"staff-login:{secrets.token_hex(16)}"
    with logged_for(str(make_url(database_url).database)) as lines, app.app_context():
        with db_session(app) as first, db_session(app) as second:
            throttle.charge(first, [(bucket, 300, 5)])  # its row, not yet committed
            waiting = threading.Thread(target=throttle.record_failure, args=(second, bucket, 300))
            waiting.start()
            time.sleep(0.5)  # the second's insert waits for the first's row
            first.commit()
            waiting.join(timeout=30)
        with db_session(app) as session:
            counted = session.execute(
                select(Throttle.failures).where(Throttle.bucket == bucket)
            ).scalar()
    assert counted == 2
    assert not lines, f"the server's log dates a failed login: {lines}"
