"""The body the app reads: from gunicorn's socket in place, with gunicorn's own count kept."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from app import create_app
from app.config import config_for
from app.settings import set_setting
from app.uploads import LargeReadsMiddleware
from tests.app.live import demo_instance, left_behind, live_server, stored_envelopes, submit_form
from tests.app.support import FilePart, db_session, multipart

NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: x.onion\r\n\r\n"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected pair: the server's end, the client's end (closed once its sends are done)."""
    server, client = socket.socketpair()
    server.settimeout(5)  # a reader waiting for bytes that never come fails, not hangs
    with server, client:
        yield server, client
        for sender in _senders:
            sender.join(timeout=10)
        _senders.clear()


_senders: list[threading.Thread] = []


def _send(client: socket.socket, data: bytes, *, then_close: bool = False) -> None:
    """Send from another thread, as a client would (more than a socket's buffer holds)."""

    def send() -> None:
        client.sendall(data)
        if then_close:
            client.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send, daemon=True)
    _senders.append(sender)
    sender.start()


def _as_app_sees_it(body: Body) -> Any:
    """The stream the middleware hands the app in place of gunicorn's body."""
    seen: list[Any] = []

    def app(environ: dict[str, Any], _start: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        return []

    LargeReadsMiddleware(app)({"wsgi.input": body}, None)
    return seen[0]


def _body_on(
    pair: tuple[socket.socket, socket.socket],
    length: int,
    sent: bytes,
    *,
    held: bytes = b"",
    then_close: bool = False,
) -> tuple[Body, SocketUnreader, Any]:
    """gunicorn's body of `length` bytes after a head (`held`: read with it), the client
    sending `sent`; with the stream the app is handed for it."""
    server, client = pair
    _send(client, sent, then_close=then_close)
    unreader = SocketUnreader(server)
    if held:
        unreader.unread(held)
    body = Body(LengthReader(unreader, length))
    return body, unreader, _as_app_sees_it(body)


def _read_all(readinto: Callable[[memoryview], int], size: int) -> bytes:
    out = bytearray()
    view = memoryview(bytearray(size))
    while count := readinto(view):
        out += view[:count]
    return bytes(out)


@pytest.mark.parametrize("held", [0, 100, 70_000], ids=["none-held", "some-held", "all-held"])
@pytest.mark.parametrize("read_size", [7, 65536, 1 << 20])
def test_a_body_arrives_whole_and_the_next_request_is_left_for_gunicorn(
    pair: tuple[socket.socket, socket.socket], held: int, read_size: int
) -> None:
    data = os.urandom(70_000)
    # What gunicorn read with the head: part of the body, or all of it and the next request.
    taken = (data + NEXT_REQUEST)[: held + (len(NEXT_REQUEST) if held == len(data) else 0)]
    sent = (data + NEXT_REQUEST)[len(taken) :]
    body, unreader, stream = _body_on(pair, len(data), sent, held=taken)
    assert _read_all(stream.readinto, read_size) == data
    assert body.read() == b""  # gunicorn finds nothing left to drain
    assert not body.failed
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_what_the_app_leaves_unread_is_drained_by_gunicorn_exactly(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    data = os.urandom(300_000)
    body, unreader, stream = _body_on(pair, len(data), data[1000:] + NEXT_REQUEST, held=data[:1000])
    view = memoryview(bytearray(5000))
    first = bytearray()
    while len(first) < 120_000:
        first += view[: stream.readinto(view)]
    rest = b"".join(iter(lambda: body.read(65536), b""))  # gunicorn's drain after the response
    assert bytes(first) + rest == data
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_a_body_cut_short_reads_as_its_end_and_keeps_the_connection_from_reuse(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    data = os.urandom(50_000)
    body, _unreader, stream = _body_on(pair, len(data), data[:20_000], then_close=True)
    assert _read_all(stream.readinto, 65536) == data[:20_000]
    assert body.failed  # gunicorn closes the connection instead of reading a next request


def test_a_failed_read_keeps_the_connection_from_reuse(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    body, _unreader, stream = _body_on(pair, 100, b"x" * 10)
    pair[0].settimeout(0.05)
    view = memoryview(bytearray(100))
    assert stream.readinto(view) == 10
    assert not body.failed
    with pytest.raises(TimeoutError):
        stream.readinto(view)
    assert body.failed


def test_read_and_readline_give_the_body_in_order(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    data = b"first line\r\n" + os.urandom(40_000)
    _body, unreader, stream = _body_on(pair, len(data), data[30:] + NEXT_REQUEST, held=data[:30])
    assert stream.read(5) == data[:5]
    assert stream.readline() == data[5:12]
    assert stream.read(-1) == data[12:]
    assert stream.read(10) == b""
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_a_chunked_body_is_still_read_whole(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    data = os.urandom(200_000)
    chunks = b"".join(
        b"%x\r\n" % len(data[i : i + 30_000]) + data[i : i + 30_000] + b"\r\n"
        for i in range(0, len(data), 30_000)
    )
    _send(client, chunks + b"0\r\n\r\n")
    unreader = SocketUnreader(server)
    body = Body(ChunkedReader(None, unreader))
    stream = _as_app_sees_it(body)
    assert _read_all(stream.readinto, 65536) == data


# --- Through gunicorn ----------------------------------------------------------

LIMIT_MIB = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """gunicorn with one worker, as deployed, taking uploads of up to LIMIT_MIB."""
    instance = demo_instance(tmp_path_factory.mktemp("uploads") / "instance")
    app = create_app(config_for(instance))
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", LIMIT_MIB)
        session.commit()
    with live_server(instance, workers=1) as url:
        yield url, instance


@pytest.fixture
def conn(served: tuple[str, Path]) -> Iterator[http.client.HTTPConnection]:
    """A keep-alive connection to the server, closed after the test."""
    parts = urlsplit(served[0])
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    yield connection
    connection.close()


def _post(
    conn: http.client.HTTPConnection, cookie: str, body: bytes, content_type: str
) -> http.client.HTTPResponse:
    conn.request(
        "POST", "/submit", body=body, headers={"Content-Type": content_type, "Cookie": cookie}
    )
    response = conn.getresponse()
    response.read()
    return response


def _next_request_is_served_or_refused(conn: http.client.HTTPConnection, cookie: str) -> None:
    """The connection serves a next request, or is closed: never a request read from a body."""
    try:
        conn.request("GET", "/submit", headers={"Cookie": cookie})
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionError):
        return
    response.read()
    assert response.status in {200, 303}


@pytest.mark.slow
def test_an_upload_through_gunicorn_arrives_whole_and_the_connection_serves_the_next(
    served: tuple[str, Path], conn: http.client.HTTPConnection
) -> None:
    instance = served[1]
    content = os.urandom(1024 * 1024 + 12345)
    cookie, fields = submit_form(conn)
    body, content_type = multipart(
        [*fields.items(), ("message", "whole?")],
        [("files", "whole.bin", content, "application/octet-stream")],
    )
    answer = _post(conn, cookie, body, content_type)
    assert answer.status == 200  # the report filed, confirmed in place
    signed_in = (answer.getheader("Set-Cookie") or "").split(";", 1)[0]
    conn.request("GET", "/submitted", headers={"Cookie": signed_in})
    response = conn.getresponse()
    response.read()
    assert response.status == 200  # the same connection, after a body read in place
    assert content in [e.plaintext for e in stored_envelopes(instance)]


_REFUSED = {
    # Just over the limit: read with its files dropped, its form given back (app.limits).
    "over-the-limit": [("files", "big.bin", os.urandom(LIMIT_MIB * 1024 * 1024 + 1), "text/plain")],
    # Refused midway, when the file one over the count starts: the rest is not read.
    "one-file-too-many": [
        ("files", f"{n}.bin", os.urandom(40_000), "text/plain") for n in range(21)
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("files", list(_REFUSED.values()), ids=list(_REFUSED))
def test_a_refused_upload_through_gunicorn_leaves_nothing_and_no_stray_request(
    served: tuple[str, Path], conn: http.client.HTTPConnection, files: list[FilePart]
) -> None:
    instance = served[1]
    before = left_behind(instance)
    cookie, fields = submit_form(conn)
    body, content_type = multipart(list(fields.items()), files)
    assert _post(conn, cookie, body, content_type).status == 413
    _next_request_is_served_or_refused(conn, cookie)
    assert left_behind(instance) == before


@pytest.mark.slow
def test_an_upload_cut_short_through_gunicorn_leaves_nothing_staged(
    served: tuple[str, Path], conn: http.client.HTTPConnection
) -> None:
    instance = served[1]
    before = left_behind(instance)
    cookie, fields = submit_form(conn)
    body, content_type = multipart(
        list(fields.items()), [("files", "cut.bin", os.urandom(600_000), "text/plain")]
    )
    parts = urlsplit(served[0])
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        head = (
            f"POST /submit HTTP/1.1\r\nHost: x.onion\r\nCookie: {cookie}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
    # Bounded, and generous: on a loaded machine (two test workers, other jobs) the
    # worker may take seconds to be scheduled and see the connection end.
    deadline = time.monotonic() + 30
    while left_behind(instance) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left_behind(instance) == before
    submit_form(conn)  # the worker still serves (on a new connection: the last one idled out)
