"""A flood of slow bodies through the API: what a chunk still coming over Tor holds."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from app.services import resumable
from tests.app.api_support import API, ApiClient


class _Watched(io.BytesIO):
    """A chunk's body that notes, at each read, how many database connections are out."""

    def __init__(self, data: bytes, app: Flask) -> None:
        super().__init__(data)
        self._pool = app.extensions["raazdar.db"].engine.pool
        self.held: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.held.append(self._pool.checkedout())
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        self.held.append(self._pool.checkedout())
        return super().readinto(buffer)


def test_a_chunk_still_streaming_in_holds_no_database_connection(
    app: Flask, device: ApiClient, envelope: bytes
) -> None:
    """A chunk comes over Tor at as little as 500 bytes a second: 8 MiB for hours. Its request
    read the day of the last purge before the body, in a transaction it kept open all the
    while: a database connection per slow chunk (on PostgreSQL idle in a transaction), and one
    account's upload and one live challenge, never spent, let a flood of slow chunks from many
    circuits take every connection of each worker's pool, and then of PostgreSQL's."""
    response = device.start_upload(envelope)
    assert response.status_code == 201, response.get_data(as_text=True)
    path = f"{API}/uploads/{response.get_json()['upload']}"
    chunk = envelope[: 64 * 1024]
    stream = _Watched(chunk, app)
    response = device.client.open(
        path,
        method="PATCH",
        input_stream=stream,
        content_type=resumable.OFFSET_CONTENT_TYPE,
        headers=device.headers("PATCH", path, chunk, offset=0),
        environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["offset"] == len(chunk)
    assert stream.held, "the chunk's body was never read"
    assert max(stream.held) == 0, (
        f"the request held {max(stream.held)} database connection(s) while its chunk came"
    )
