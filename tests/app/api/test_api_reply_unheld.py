"""A device says, signed with its account's key, that it cannot open a reply: kept for export.

The statement is what tells the reviewers a reply is lost (a wiped phone), so
the server keeps only one the account's own key signed, naming a one-time key
the reply is really sealed to: nobody else can make a reply look unread.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Reply
from crypto import HybridPrivateKey, SigningKey
from crypto.binding import UnheldPrekey
from crypto.encoding import canonical_json
from tests.app.api.test_api import assert_error
from tests.app.api_support import API, ApiClient
from tests.app.support import db_session
from tests.submit.test_reply_delete import seal_reply


def _unheld(app: Flask) -> str | None:
    with db_session(app) as session:
        (reply,) = session.query(Reply).all()
        return reply.unheld


def _body(statement: UnheldPrekey) -> bytes:
    return canonical_json(statement.to_json())


@pytest.fixture
def sealed(device: ApiClient, app: Flask, instance: Path) -> tuple[str, bytes]:
    """A reviewer's reply to the device's account sealed to a one-time key: its id, key id."""
    # The `device` fixture's account exists already.
    prekey = HybridPrivateKey.generate()
    reply_id = seal_reply(app, instance, device.codename, "Which night?", prekey)
    return reply_id, prekey.public_key.fingerprint.key_id


def test_the_accounts_own_statement_is_kept_with_the_reply(
    device: ApiClient, app: Flask, sealed: tuple[str, bytes]
) -> None:
    reply_id, key_id = sealed
    statement = UnheldPrekey.make(key_id, device.keys.signing_key)
    path = f"{API}/replies/{reply_id}/unheld"
    answer = device.send("POST", path, _body(statement), content_type="application/json")
    assert answer.status_code == 204, answer.get_data(as_text=True)
    assert _unheld(app) == _body(statement).decode()
    again = device.send("POST", path, _body(statement), content_type="application/json")
    assert again.status_code == 204


def test_a_statement_not_the_accounts_or_not_the_replys_is_refused(
    device: ApiClient, app: Flask, client: FlaskClient, sealed: tuple[str, bytes]
) -> None:
    reply_id, key_id = sealed
    path = f"{API}/replies/{reply_id}/unheld"
    for statement in (
        UnheldPrekey.make(key_id, SigningKey.generate()),  # another key's word
        UnheldPrekey.make(bytes(8), device.keys.signing_key),  # a key the reply is not sealed to
    ):
        answer = device.send("POST", path, _body(statement), content_type="application/json")
        assert_error(answer, 400, "bad-request")
    bad = device.send("POST", path, b'{"key_id": "00"}', content_type="application/json")
    assert_error(bad, 400, "bad-request")
    stranger = ApiClient(client, device.pinned)
    assert stranger.register().status_code == 201
    own = UnheldPrekey.make(key_id, stranger.keys.signing_key)
    answer = stranger.send("POST", path, _body(own), content_type="application/json")
    assert_error(answer, 404, "not-found")
    assert _unheld(app) is None
