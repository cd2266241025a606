"""A lookup tag whose account was removed, taken by whoever holds it with keys of their own."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.instance import InstancePaths
from app.models import Item, Source
from app.operations.retention import purge
from app.store import EnvelopeStore
from crypto import Fingerprint
from crypto.encoding import b64encode
from tests.app.api_support import API, ApiClient
from tests.app.support import Form, Visitor, db_session, demo_authorities, form


@pytest.fixture
def pinned(instance: Path) -> frozenset[Fingerprint]:
    return frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))


def _purged(app: Flask, instance: Path) -> None:
    """The daily purge, two days on: an account the API made that never filed goes."""
    paths = InstancePaths(instance)
    with db_session(app) as session:
        store = EnvelopeStore(paths.store, paths.staging)
        purge(session, store, dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2))


def _squat(client: FlaskClient, pinned: frozenset[Fingerprint], of: ApiClient, keep: bool) -> None:
    """Make an account under `of`'s tag with the squatter's own signing key, and the
    squatter's own public key too, or (`keep`) `of`'s, as a copy of the database gives it."""
    squatter = ApiClient(client, pinned)
    tag = of.keys.lookup_tag
    body = json.dumps(
        {
            "lookup_tag": b64encode(tag),
            "public_key": (of if keep else squatter).keys.public_key.to_text(),
            "signing_key": squatter.keys.verify_key.to_text(),
        }
    ).encode()
    path = f"{API}/sources"
    headers = squatter.headers("POST", path, body, tag=tag)
    made = client.post(path, data=body, content_type="application/json", headers=headers)
    assert made.status_code == 201, made.get_json()


@pytest.mark.parametrize("keep", [False, True], ids=["their-keys", "her-public-key"])
def test_a_codename_never_files_into_an_account_made_under_its_tag_with_other_keys(
    app: Flask, client: FlaskClient, pinned: frozenset[Fingerprint], instance: Path, keep: bool
) -> None:
    """A device's account that never filed goes at the purge two days on, and its tag is
    free. Whoever holds the tag (a copy of the database from those days) made an account
    under it with keys of their own; the source, coming back in Tor Browser with her
    codename, was signed into that account (the login looked the tag up and never
    compared the keys), and a report sent with the codename once that login ended was
    filed under it: the reviewers' replies to it were sealed to the squatter's key, which
    read them through the API. With her public key (in the copy) and a signing key of
    their own, the replies were sealed to her, but the squatter's key listed and deleted
    them through the API. A codename now opens only an account whose keys are its own:
    the squatted one is answered as a wrong codename, and nothing is filed under it."""
    source = ApiClient(client, pinned)
    assert source.register().status_code == 201
    _purged(app, instance)
    _squat(client, pinned, source, keep)

    browser = Visitor(app.test_client())
    browser.client.get("/lang/en")
    token = form(browser.get("/login"), "/login").fields["csrf_token"]
    sent = Form(
        "/account",
        "post",
        "multipart/form-data",
        {"csrf_token": token, "codename": source.codename},
    )
    browser.send(sent, "The SHO's men guard the brick kiln at night.")
    with db_session(app) as session:
        squatted = session.execute(
            select(Source).where(Source.lookup_tag == source.keys.lookup_tag)
        ).scalar_one()
        filed = session.execute(select(Item).where(Item.source_id == squatted.id)).all()
    assert squatted.signing_key != source.keys.verify_key.to_text()
    assert not filed, "the source's report was filed under the squatter's account"
    assert not Visitor(app.test_client()).logs_in(source.codename)
