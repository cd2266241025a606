"""A staff page its account's pace refused is refused again in the worker's main loop, holding
no thread, until its Retry-After is out (app/page_pacing.py, app/worker.py).

Unit-level: a worker built in this process (`tests.app.test_worker._busy_worker`) serving the
real app, fed connections over socket pairs, its main loop's steps called by hand; the
refusal itself made by the app through Flask's test client, as the worker's thread would.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.workers.gthread import TConn

from app import circuits, page_pacing
from app.worker import HeadFirstWorker
from app.worker_reads import _paced, page_request
from tests.app.staff_support import login, make_staff, staff_client
from tests.app.test_worker import _busy_worker

NOW = 10**15


@pytest.fixture(autouse=True)
def empty_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Empty pace tables of the test's own, and a clock that stands still."""
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW)
    monkeypatch.setattr(circuits, "_now", lambda: NOW)
    for module, name in (
        (page_pacing, "_staff_spent"),
        (page_pacing, "_refused"),
        (circuits, "_circuit_requests"),
    ):
        table = getattr(module, name)
        monkeypatch.setattr(module, name, memoryview(bytearray(table.nbytes)).cast("q"))
    yield
    page_pacing.set_head_key(None)


def _cookie(browser: FlaskClient) -> str:
    cookie = browser.get_cookie("rz")
    assert cookie is not None
    return cookie.value


def _head(path: str, cookie: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x.onion\r\nCookie: rz={cookie}\r\n\r\n".encode()


def _staff_request(worker: HeadFirstWorker, clients: list[socket.socket], head: bytes) -> Any:
    """A new connection to the staff listener sends `head`, and the main loop reads it."""
    client, server = socket.socketpair()
    conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
    clients += [conn.sock, client]
    conn.circuit = -1
    conn.staff_circuit = -1
    conn.on_staff = True
    worker.nr_conns += 1
    worker.enqueue_req(conn)
    client.sendall(head)
    worker._read_head(conn, conn.sock)
    return conn


def _refuse_in_the_app(browser: FlaskClient, key: int | None) -> int:
    """Load the dashboard, as a worker's thread serving a head of `key`, until it is refused;
    return its Retry-After."""
    page_pacing.set_head_key(key)
    try:
        while (response := browser.get("/staff/")).status_code == 200:
            pass
    finally:
        page_pacing.set_head_key(None)
    assert response.status_code == 503, response.status_code
    return int(response.headers["Retry-After"])


def test_a_staff_page_its_accounts_pace_refused_is_refused_again_before_any_thread(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal took one of the staff's threads (some 2 ms of CPU): one stolen session
    sending the dashboard on many connections filled the staff's share of threads and its
    places to wait with refusals, and a colleague was answered busy at once. The same page of
    the same login (whatever cookie of it comes: each answer gives a new one) is now answered
    busy in the main loop until its Retry-After is out; its never-paced pages, and any other
    login's pages, still reach a thread."""
    mallory = staff_client(app)
    login(mallory, app, make_staff(app, "mallory"))
    alice = staff_client(app)
    login(alice, app, make_staff(app, "alice"))
    served: list[Any] = []
    clients: list[socket.socket] = []
    with _busy_worker(app) as worker:
        monkeypatch.setattr(worker, "_to_thread", served.append)
        try:
            first = _staff_request(worker, clients, _head("/staff/", _cookie(mallory)))
            assert served == [first]
            wait = _refuse_in_the_app(mallory, first.head_key)
            # The refusal's answer gave the login a new cookie; a page more, another.
            mallory.get("/staff/account/password")
            again = _staff_request(worker, clients, _head("/staff/?n=2", _cookie(mallory)))
            clients[-1].settimeout(5)
            answer = clients[-1].recv(65536)
            never_paced = _staff_request(
                worker, clients, _head("/staff/account/password", _cookie(mallory))
            )
            other_login = _staff_request(worker, clients, _head("/staff/", _cookie(alice)))
        finally:
            for sock in clients:
                sock.close()
    assert again not in served, "a page the account's pace refused reached a thread again"
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:30]
    assert f"\r\nretry-after: {wait}\r\n".encode() in answer.lower()
    assert served == [first, never_paced, other_login]


def test_a_pages_head_past_its_retry_after_reaches_the_app_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    mallory = staff_client(app)
    login(mallory, app, make_staff(app, "mallory"))
    asked = page_request(_head("/staff/", _cookie(mallory)))
    assert asked is not None
    key = page_pacing.head_key(asked[0], asked[1], b"a login")
    wait = _refuse_in_the_app(mallory, key)
    assert page_pacing.refused_at_head(key) == wait
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW + wait * 10**9)
    assert page_pacing.refused_at_head(key) == 0


@pytest.mark.parametrize(
    "head",
    [
        b"GET /staff/ HTTP/1.1\r\nCookie: rz=TOKEN\r\n\r\n",
        b"GET /staff/?a=1#b HTTP/1.1\r\nCookie: a=1; rz=TOKEN ; rz=OTHER\r\n\r\n",
        b"GET /%73taff/ HTTP/1.1\r\nCOOKIE:  rz=TOKEN\r\n\r\n",
        b"GET http://x.onion/staff/ HTTP/1.1\r\nCookie: rz=TOKEN\r\n\r\n",
    ],
)
def test_the_same_page_of_the_same_cookie_is_read_the_same_however_its_head_says_it(
    head: bytes,
) -> None:
    assert page_request(head) == (b"GET", b"/staff/", b"TOKEN")


@pytest.mark.parametrize(
    "head",
    [
        b"POST /staff/ HTTP/1.1\r\nCookie: rz=TOKEN\r\nContent-Length: 0\r\n\r\n",
        b"GET /staff/ HTTP/1.1\r\nCookie: rzz=TOKEN\r\n\r\n",
        b"GET /staff/ HTTP/1.1\r\n\r\n",
    ],
)
def test_a_form_or_a_page_without_a_session_is_no_page_request(head: bytes) -> None:
    assert page_request(head) is None
