"""A device deletes a reply it has read, as the account page can: a seized server keeps none.

A reply left on the server tells whoever seizes it that a reviewer answered
that account. A source who reads replies with `raazdar-submit` must be able to
take it off, signed like the client's other requests, and only their own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.models import Reply
from tests.app.api.test_api import assert_error
from tests.app.api_support import API, ApiClient
from tests.app.support import (
    envelope_files,
    reply_to,
    retired_files,
    reviewer_keys,
    row_counts,
)


def _reply(app: Flask, instance: Path, device: ApiClient) -> str:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    return reply_to(app, device.codename, "Which police station?", signer)


def test_a_device_deletes_its_reply_from_the_server_row_and_file(
    device: ApiClient, app: Flask, instance: Path
) -> None:
    reply_id = _reply(app, instance, device)
    assert len(envelope_files(instance)) == 1
    deleted = device.send("DELETE", f"{API}/replies/{reply_id}")
    assert deleted.status_code == 204, (
        f"the device could not delete its reply: {deleted.status_code} {deleted.get_data()!r}"
    )
    assert row_counts(app, Reply) == {"replies": 0}, "the reply's row stayed on the server"
    assert envelope_files(instance) == [], "the reply's envelope stayed in the store"
    assert retired_files(instance), "the file was freed at once, its inode dating the deletion"
    assert device.send("GET", f"{API}/replies").get_json()["replies"] == []
    # Deleting it again says there is no such reply, as for any id not the device's.
    assert_error(device.send("DELETE", f"{API}/replies/{reply_id}"), 404, "not-found")


def test_a_reply_is_deleted_only_by_its_own_source_with_a_valid_proof(
    device: ApiClient,
    app: Flask,
    instance: Path,
    client: FlaskClient,
) -> None:
    reply_id = _reply(app, instance, device)
    stranger = ApiClient(client, device.pinned)
    assert stranger.register().status_code == 201
    assert_error(stranger.send("DELETE", f"{API}/replies/{reply_id}"), 404, "not-found")
    # A proof signed for reading the reply does not delete it.
    headers = device.headers("GET", f"{API}/replies/{reply_id}")
    assert_error(client.delete(f"{API}/replies/{reply_id}", headers=headers), 401)
    assert_error(client.delete(f"{API}/replies/{reply_id}"), 401)
    assert_error(device.send("DELETE", f"{API}/replies/not-an-id"), 404, "not-found")
    assert row_counts(app, Reply) == {"replies": 1}
    assert len(envelope_files(instance)) == 1
