"""A challenge is spent once, even by copies of one signed request sent at once."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from flask import Flask

from app.services import api as api_service
from tests.app.api_support import API, ApiClient


def test_one_signed_request_sent_twice_at_once_is_answered_once(
    app: Flask, device: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request captured on its way (a bridge, an exit to a clearnet mirror) is sent
    again beside the original: each checked its signature before either spent the
    challenge. The second must find it spent."""
    path = f"{API}/replies"
    headers = device.headers("GET", path)
    meet = threading.Barrier(2)
    spending = api_service._spend
    reached: list[bytes] = []

    def met(session: Any, nonce: bytes) -> bool:
        reached.append(nonce)
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=1)  # both signatures checked, neither challenge spent yet
        return spending(session, nonce)

    monkeypatch.setattr(api_service, "_spend", met)
    statuses: list[int] = []

    def send() -> None:
        statuses.append(app.test_client().get(path, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(reached) == 2, "the copies did not both come to spend the challenge"
    assert sorted(statuses) == [200, 401], f"one challenge answered {statuses}"
