"""`Expect: 100-continue` against the worker: the `100 Continue` is owed only to a body read.

Unit-level, as `tests.app.test_worker_circuits`: a worker built in this process, fed
connections over socket pairs, its main loop's steps called by hand.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import Any

import pytest
from gunicorn.workers.gthread import TConn
from sqlalchemy import select as select_rows

from app.models import Source
from app.worker import HeadFirstWorker
from app.worker_reads import _paced
from tests.app.live import tor_line
from tests.app.support import db_session
from tests.app.test_worker import _busy_worker, report_request
from tests.app.test_worker_circuits import (
    _answer,
    _connection,
    _pairs,
    _reads_its_body,
    _spend_turns,
)

# Circuits of these tests' own (the tables of `app.circuits` are shared by the whole process).
EXPECTING, TOO_BIG, PATIENT_SENDER = 0x7A130001, 0x7A130002, 0x7A130003
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# The worker serves either database alike: the app on SQLite alone.
_ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _expecting(head: bytes) -> bytes:
    """`head` asking `Expect: 100-continue`, as curl and many clients ask before a body."""
    return head[:-2] + b"Expect: 100-continue\r\n\r\n"


def _until_answered(worker: HeadFirstWorker, conn: Any) -> None:
    """Run the main loop's reading of `conn`'s head until it is handed on (10 s at most)."""
    deadline = time.monotonic() + 10
    while conn in worker.reading_heads and time.monotonic() < deadline:
        select.select([conn.sock], [], [], 1)
        worker._read_head(conn, conn.sock)


@_ON_SQLITE
def test_a_form_refused_for_its_pace_is_never_asked_for_its_body(app: Any) -> None:
    """A report refused for its circuit's pace is given back on a kept thread, which read
    what had come of its body; gunicorn had answered its `Expect: 100-continue` first, as it
    built the request, so the client was told to send the body the worker would never read,
    and sent it all (a flood spending the server's bandwidth and reads) before its busy page.
    No `100 Continue` now goes before a refusal: the client sends nothing more."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", 64 * 1024)
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(EXPECTING)
        conn = _connection(worker, clients, EXPECTING)
        worker.enqueue_req(conn)
        clients[-1].sendall(_expecting(head))
        _until_answered(worker, conn)
        answer = _answer(clients[-1])
        conn.close()  # as the main loop does once its thread is done
    assert not answer.startswith(_CONTINUE), (
        f"a form refused for its pace was told to send its {len(body):,}-byte body first"
    )
    assert answer.startswith(b"HTTP/1.1 503 "), f"the paced form was answered {answer[:40]!r}"


@_ON_SQLITE
def test_a_report_refused_before_its_body_is_read_is_never_asked_for_it(app: Any) -> None:
    """The app refuses a report said to be far over the upload limit before reading a byte
    of it (`app.limits`), as it refuses a report while no keyring is in force: gunicorn's
    `100 Continue` had told the client to send its gigabytes first, and the thread then read
    them to keep the connection. The refusal now goes alone, and the connection is closed."""
    head, _body = report_request(app, "the SHO's cousin keeps the ledger", 1024)
    declared = 3 * 1024 * 1024 * 1024
    start = head.index(b"Content-Length: ") + len(b"Content-Length: ")
    head = head[:start] + f"{declared}\r\n\r\n".encode()
    with _busy_worker(app) as worker, _pairs() as clients:
        worker.in_flight = 0  # a thread is free
        conn = _connection(worker, clients, TOO_BIG)
        worker.enqueue_req(conn)
        clients[-1].sendall(_expecting(head))
        _until_answered(worker, conn)
        answer = _answer(clients[-1])
        started = time.monotonic()
        while conn in worker.in_threads and time.monotonic() < started + 10:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            worker.method_queue.run_callbacks(None)
        held = time.monotonic() - started
        clients[-1].settimeout(1)
        closed = clients[-1].recv(1) == b""
        conn.close()
    assert not answer.startswith(_CONTINUE), (
        f"a report refused unread was told to send its {declared:,} bytes first"
    )
    assert answer.startswith(b"HTTP/1.1 413 "), f"the oversize report was answered {answer[:40]!r}"
    assert held < 1, f"the thread waited {held:.1f} s for a body no one asked for"
    assert closed, "the connection was kept for a body no one asked for"


def test_a_body_the_app_reads_is_asked_for_as_it_is_read() -> None:
    """A body the app reads gets its `100 Continue` as the app first reads it: a client
    waiting for one before it sends (as curl does, a second) is served as before."""
    body = b"x" * 5000
    head = b"POST /submit HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 5000\r\n\r\n"
    with _busy_worker(_reads_its_body) as worker, _pairs() as clients:
        worker.in_flight = 0
        conn = _connection(worker, clients, PATIENT_SENDER)
        worker.enqueue_req(conn)
        client = clients[-1]
        client.sendall(_expecting(head))
        _until_answered(worker, conn)
        client.settimeout(10)
        interim = b""
        while len(interim) < len(_CONTINUE) and (chunk := client.recv(len(_CONTINUE))):
            interim += chunk
        client.sendall(body)
        answer = _answer(client)
        client.shutdown(socket.SHUT_WR)
        conn.close()
    assert interim == _CONTINUE, f"a body the app reads was asked for with {interim!r}"
    assert answer.startswith(b"HTTP/1.1 200 "), f"the body read was answered {answer[:40]!r}"


@_ON_SQLITE
def test_a_report_asking_for_a_continue_is_filed(app: Any) -> None:
    """A report whose client waits for its `100 Continue` before it sends the body gets it
    as the app's form reader first reads the socket (`recv_into`), and is filed."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", 64 * 1024)
    with _busy_worker(app) as worker, _pairs() as clients:
        worker.in_flight = 0
        conn = _connection(worker, clients, PATIENT_SENDER + 0x10)
        worker.enqueue_req(conn)
        client = clients[-1]
        client.sendall(_expecting(head))
        _until_answered(worker, conn)
        client.settimeout(10)
        interim = b""
        while len(interim) < len(_CONTINUE) and (chunk := client.recv(len(_CONTINUE))):
            interim += chunk
        client.sendall(body)
        answer = _answer(client)
        conn.close()
    assert interim == _CONTINUE, f"a report was asked for its body with {interim!r}"
    assert answer.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 303 ")), answer[:40]
    with db_session(app) as session:
        assert session.execute(select_rows(Source)).first() is not None, "the report was lost"


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A client's and the worker's ends of one TCP connection over loopback, as tor's is."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _address = listener.accept()
    return client, server


def _send_all_then_read(client: socket.socket, data: bytes) -> bytes:
    """Send `data` whole, then read the answer, as urllib3 (raazdar-submit) does: a reset or a
    broken pipe while sending is taken for a server that answered early, and the answer read."""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        client.sendall(data)
    return _answer(client)


@_ON_SQLITE
def test_a_busy_page_written_in_the_main_loop_reaches_a_client_still_sending(app: Any) -> None:
    """A connection finding every place taken is answered busy in the main loop, its body
    unread, and closed at once (no graceful wait: a flood's connections would hold places
    for it). Closed with a body still coming, the kernel resets it: checked here that the
    page written before the reset still reaches a client that was sending a report far
    larger than the sockets' buffers when it came, over TCP as tor connects."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", 8 * 1024 * 1024)
    client, server = _tcp_pair()
    with client, _busy_worker(app) as worker, _pairs() as clients:
        worker._connections = 1
        worker.enqueue_req(_connection(worker, clients, 0x7A130010))  # a head still coming
        conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
        conn.circuit = None  # its tor line not read yet
        worker.nr_conns += 1  # one past worker_connections, in the slack
        worker.enqueue_req(conn)
        answers: list[bytes] = []
        sender = threading.Thread(
            target=lambda: answers.append(
                _send_all_then_read(client, tor_line(0x7A130011) + head + body)
            )
        )
        sender.start()
        select.select([conn.sock], [], [], 5)
        worker._read_head(conn, conn.sock)
        sender.join(20)
    answer = answers[0] if answers else b""
    assert answer.startswith(b"HTTP/1.1 503 "), (
        f"a client still sending its report when answered busy read {answer[:40]!r}"
    )
    assert b"Nothing you sent was stored" in answer
