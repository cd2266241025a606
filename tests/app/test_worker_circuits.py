"""One circuit held open against the worker: its kept-alive connections, its queue, its requests.

Unit-level: a worker built in this process (`tests.app.test_worker._busy_worker`), fed
connections over socket pairs, its main loop's steps called by hand.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from gunicorn.workers.gthread import TConn

from app import circuits
from app.worker import HeadFirstWorker
from app.worker_reads import _paced
from app.worker_turns import CIRCUIT_THREADS, CIRCUIT_WAITING
from tests.app.test_worker import _busy_worker

# Circuits of these tests' own (the tables of `app.circuits` are shared by the whole process).
HOLDER, NEWCOMER, QUEUED, REUSED = 0x7A110001, 0x7A110002, 0x7A110003, 0x7A110004


def _hello(environ: Any, start_response: Any) -> list[bytes]:
    """A page, at once."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


@contextlib.contextmanager
def _pairs() -> Iterator[list[socket.socket]]:
    """The socket pairs a test makes (each client's end last), closed at its end."""
    clients: list[socket.socket] = []
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def _connection(worker: HeadFirstWorker, clients: list[socket.socket], circuit: int) -> Any:
    """A connection of `circuit` the worker holds (its tor line read), and its client's end."""
    client, server = socket.socketpair()
    conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
    clients += [conn.sock, client]  # the worker's end too, closed with the test's
    conn.circuit = circuit
    worker.nr_conns += 1
    worker.circuit_conns.setdefault(circuit, []).append(conn)
    return conn


def _kept_alive(worker: HeadFirstWorker, conn: Any) -> None:
    """Put `conn` where gthread puts a connection whose request was answered with keep-alive."""
    conn.sock.setblocking(False)
    conn.set_timeout()
    worker.keepalived_conns.append(conn)
    worker.poller.register(
        conn.sock, selectors.EVENT_READ, partial(worker.on_client_socket_readable, conn)
    )


def test_idle_kept_alive_connections_of_a_few_circuits_cannot_shut_a_new_circuit_out() -> None:
    """Circuits each holding their share of a worker's connections kept alive (asking again
    every few seconds, before `keepalive` closes them) held all of `worker_connections`:
    `_make_room` closed only heads still coming, so a new circuit's connection was closed
    unanswered, every time, for as long as the flood went on. An idle kept-alive connection
    of the circuit holding the most now makes room, as a head still coming does."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker._connections = 8
        held = [_connection(worker, clients, HOLDER) for _ in range(8)]
        for conn in held:
            _kept_alive(worker, conn)
        newcomer = _connection(worker, clients, NEWCOMER)  # one past worker_connections
        assert worker._make_room(NEWCOMER), "a new circuit was shut out by idle connections"
        assert worker.nr_conns == 8
        assert sum(conn.sock.fileno() == -1 for conn in held) == 1
        assert len(worker.keepalived_conns) == 7, "a closed connection is still kept alive"
        newcomer.close()


def test_a_request_past_a_circuits_waiting_ones_is_answered() -> None:
    """A circuit holding its share of threads queued 16 more requests (`CIRCUIT_WAITING`);
    the next was closed unanswered, a report's form lost with it. It is now answered as one
    that waited its turn too long (`_give_back`): what came of it read, and answered."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker.circuit_load[QUEUED] = CIRCUIT_THREADS
        for _ in range(CIRCUIT_WAITING):
            conn = _connection(worker, clients, QUEUED)
            conn.head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n"
            worker._to_thread(conn)
        late = _connection(worker, clients, QUEUED)
        late.head = b"POST / HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 5\r\n\r\nhello"
        worker._to_thread(late)
        worker.murder_pending()
        clients[-1].settimeout(10)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            answer = clients[-1].recv(65536)
        late.close()  # as the main loop does once its thread is done
    assert answer.startswith(b"HTTP/1.1 "), "a request past the circuit's waiting ones was closed"


def test_a_page_past_a_circuits_waiting_ones_takes_no_kept_thread() -> None:
    """A request past a circuit's waiting ones is answered at once; a page served so took a
    kept thread past the circuit's share, and a circuit sending its pages sixteen deep had one
    of them served at every round of the main loop beside its four. A request with no body
    to give back is answered busy in the main loop instead, holding no thread."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker.circuit_load[QUEUED] = CIRCUIT_THREADS
        for _ in range(CIRCUIT_WAITING + 1):
            conn = _connection(worker, clients, QUEUED)
            conn.head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n"
            worker._to_thread(conn)
        worker.murder_pending()
        taken = worker.quick_in_flight
        clients[-1].settimeout(10)
        answer = clients[-1].recv(65536)
    assert taken == 0, "the page past the circuit's waiting ones took a kept thread"
    assert answer.startswith(b"HTTP/1.1 503 "), f"the page past them was answered {answer[:20]!r}"
    assert b"\r\nretry-after: " in answer.lower()


def _one_request(worker: HeadFirstWorker, clients: list[socket.socket], circuit: int) -> Any:
    """A new connection of `circuit` sends one request, whole, and the main loop reads it."""
    conn = _connection(worker, clients, circuit)
    worker.enqueue_req(conn)
    clients[-1].sendall(b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n")
    worker._read_head(conn, conn.sock)
    return conn


def test_one_circuit_held_open_cannot_send_requests_without_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tor's proof-of-work prices a circuit, not its requests: a circuit kept open was served
    every request it sent, however many, and never paid again. A circuit now sends
    `circuits.CIRCUIT_BURST` requests at once and then one each `CIRCUIT_SPACING_NS` (across
    every worker of the host); past that it is answered busy in the main loop, holding no
    thread, and told when to come back."""
    served: list[Any] = []
    burst = circuits.CIRCUIT_BURST
    started = time.monotonic()
    with _busy_worker(_hello) as worker:
        monkeypatch.setattr(worker, "_to_thread", served.append)
        for _ in range(burst + 16):
            with _pairs() as clients:
                conn = _one_request(worker, clients, REUSED)
                answer = b""
                if conn.sock.fileno() == -1:
                    clients[-1].settimeout(5)
                    answer = clients[-1].recv(65536)
                else:
                    conn.close()
    assert len(served) <= burst + 2 + (time.monotonic() - started) * 4, (
        f"one circuit had {len(served)} requests served in a row"
    )
    assert answer.startswith(b"HTTP/1.1 503 "), f"a refused request was answered {answer[:30]!r}"
    assert b"\r\nretry-after: " in answer.lower()
