"""What a tag says through `POST /sources` to someone who holds it but not its keys."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import circuits
from app.models import Source
from app.services import api as api_service
from crypto.encoding import b64encode
from crypto.request import verify_request
from tests.app.api_support import API, ApiClient
from tests.app.support import db_session


def _claim(device: ApiClient, tag: bytes) -> tuple[int, str]:
    """Ask for an account under `tag` with the device's own keys: the answer's status and code."""
    body = json.dumps(
        {
            "lookup_tag": b64encode(tag),
            "public_key": device.keys.public_key.to_text(),
            "signing_key": device.keys.verify_key.to_text(),
        }
    ).encode()
    path = f"{API}/sources"
    headers = device.headers("POST", path, body, tag=tag)
    response = device.send("POST", path, body, content_type="application/json", headers=headers)
    return response.status_code, (response.get_json() or {}).get("error", "")


def _accounts(app: Flask) -> int:
    with db_session(app) as session:
        return session.scalar(select(func.count()).select_from(Source)) or 0


def test_a_tag_holder_learns_whether_it_has_an_account_no_faster_than_it_makes_accounts(
    app: Flask,
    device: ApiClient,
    on_circuit: Callable[[int | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whoever holds a lookup tag (an old copy of the database) but not its keys asked for an
    account under it with keys of their own: `409` if it has one, else a new account, or,
    once their circuit had made its account of the minute, `503 busy`, and nothing made.
    Past that first account, each request told, with nothing kept, whether a tag has an
    account here, four a second a circuit: which of a year-old copy's sources are still
    here. Now a request that does not bring an account's own keys takes the circuit's turn
    at a new account first, whatever the tag: one answer a minute a circuit, as accounts."""
    honest = device  # its account made on no named circuit
    on_circuit(7)
    holder = ApiClient(device.client, device.pinned)
    assert holder.register().status_code == 201  # the circuit's account of the minute
    before = _accounts(app)
    present = [_claim(holder, honest.keys.lookup_tag) for _ in range(4)]
    absent = [_claim(holder, secrets.token_bytes(32)) for _ in range(4)]
    assert present == absent, f"a tag with an account: {present}; one without: {absent}"
    assert set(present) == {(503, "busy")}
    assert _accounts(app) == before
    # A minute on, the circuit's one answer of the minute; then busy again, whatever the tag.
    later = time.monotonic_ns() + circuits.ACCOUNT_SPACING_SECONDS * 10**9
    monkeypatch.setattr(circuits, "_now", lambda: later)
    assert _claim(holder, honest.keys.lookup_tag) == (409, "conflict")
    assert _claim(holder, secrets.token_bytes(32)) == (503, "busy")
    # The account's own device is never held back: its keys bring its account.
    assert honest.register().status_code == 200


def test_a_proof_for_a_tag_without_an_account_is_checked_as_one_for_a_tag_with_one(
    device: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proof whose tag names no account was refused at the look-up; one whose tag names an
    account had its challenge opened and its signature checked first (some 0.3 ms in the
    process, more on a loaded host). Both are a 401, but whoever holds a tag and times
    enough refusals, signed with any key, learns whether it has an account here. Now the
    signature of a tag without one is checked against a key nobody holds."""
    checked: list[str] = []
    real = verify_request

    def counted(*args: object, **kwargs: object) -> None:
        checked.append("signature")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api_service, "verify_request", counted)
    stranger = ApiClient(device.client, device.pinned)
    path = f"{API}/replies"
    for named, tag in (("an account", device.keys.lookup_tag), ("none", secrets.token_bytes(32))):
        checked.clear()
        response = device.client.get(path, headers=stranger.headers("GET", path, tag=tag))
        assert response.status_code == 401
        assert checked == ["signature"], f"a tag naming {named}: {len(checked)} signature checks"
