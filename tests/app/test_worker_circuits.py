"""One circuit held open against the worker: its kept-alive connections, its queue, its requests.

Unit-level: a worker built in this process (`tests.app.test_worker._busy_worker`), fed
connections over socket pairs, its main loop's steps called by hand.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from gunicorn.workers.gthread import TConn
from sqlalchemy import select as select_rows

from app import circuits, kdf_pool, worker_reads
from app.listeners import local_address
from app.models import Source
from app.worker import STAFF_CONNECTIONS, HeadFirstWorker
from app.worker_reads import _paced
from app.worker_turns import CIRCUIT_THREADS, CIRCUIT_WAITING, GIVE_BACK_SECONDS, QUICK_THREADS
from crypto import generate_codename
from tests.app.live import tor_line
from tests.app.support import TRANSLATIONS, Visitor, db_session, form
from tests.app.test_worker import _busy_worker, report_request

# Circuits of these tests' own (the tables of `app.circuits` are shared by the whole process).
HOLDER, NEWCOMER, QUEUED, REUSED = 0x7A110001, 0x7A110002, 0x7A110003, 0x7A110004
PACED, PUSHER, PATIENT = 0x7A110005, 0x7A110006, 0x7A110007
LOGGING_IN, LATE, STARVED = 0x7A110008, 0x7A110009, 0x7A11000A
TWO_TABS, SLOW_PHONE, EVICTOR = 0x7A11000B, 0x7A11000C, 0x7A11000D
TRICKLER, SLOW_READER = 0x7A11000E, 0x7A11000F
LINGERER, CHUNKER = 0x7A110010, 0x7A110011
SIPPERS, SIPPED_OUT = (0x7A110012, 0x7A110013), 0x7A110014
BESIDE_STAFF, COOKIE_STUFFER = 0x7A110015, 0x7A110016
STAFF_FLOODER = 0x7A110017


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


def test_a_kept_alive_connection_on_each_of_many_circuits_cannot_shut_a_new_one_out() -> None:
    """A thousand circuits, each holding one connection kept alive (asking again every few
    seconds), held all of a worker's `worker_connections`: no circuit held two more than a
    newcomer, so `_make_room` closed none and a new circuit's connection was closed
    unanswered, every time, for as long as the flood went on. The connection kept alive idle
    the longest now makes room (its browser opens another, as after `keepalive`)."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker._connections = 8
        held = [_connection(worker, clients, circuit) for circuit in range(8)]
        for conn in held:
            _kept_alive(worker, conn)
        worker.nr_conns += 1  # one past worker_connections, accepted, its tor line read
        assert worker._make_room(NEWCOMER), "a new circuit was shut out by idle connections"
        assert worker.nr_conns == 8
        assert held[0].sock.fileno() == -1, "the connection idle the longest was kept"
        assert sum(conn.sock.fileno() == -1 for conn in held) == 1


def _opens(worker: HeadFirstWorker, clients: list[socket.socket], circuit: int) -> bytes:
    """A new connection of `circuit`, one past what the worker holds, that sends tor's line and
    no request; what the worker answers on it before it is closed."""
    client, server = socket.socketpair()
    clients.append(client)
    conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
    conn.circuit = None  # its tor line not read yet
    worker.nr_conns += 1
    worker.enqueue_req(conn)
    client.sendall(tor_line(circuit))
    select.select([conn.sock], [], [], 5)
    worker._read_head(conn, conn.sock)
    client.setblocking(False)
    answer = b""
    with contextlib.suppress(BlockingIOError, ConnectionResetError):
        answer = client.recv(65536)
    client.close()  # and it goes, to open the next
    if conn in worker.reading_heads:
        worker._read_head(conn, conn.sock)
    return answer


def test_one_circuit_opening_connections_without_requests_cannot_evict_sources() -> None:
    """A new connection of a circuit holding none makes room in a full worker by closing a
    source's idle kept-alive connection (`_idlest_kept_alive`), and a connection sending no
    request took no turn of its circuit's pace: one circuit past its pace, opening and
    closing connections, evicted every source's in turn. A connection that would make room
    now takes a turn; past its circuit's pace it is answered busy and evicts no one."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker._connections = 8
        sources = [_connection(worker, clients, 0x7A140000 + n) for n in range(8)]
        for conn in sources:
            _kept_alive(worker, conn)
        _spend_turns(EVICTOR)
        answers, evicted = [], 0
        for _ in range(8):
            answers.append(_opens(worker, clients, EVICTOR))
            for n, conn in enumerate(sources):
                if conn.sock.fileno() == -1:  # its source opens another, and asks again
                    evicted += 1
                    sources[n] = _connection(worker, clients, 0x7A140000 + n)
                    _kept_alive(worker, sources[n])
        fresh = _opens(worker, clients, NEWCOMER + 0x100)
        evicted_for_fresh = sum(conn.sock.fileno() == -1 for conn in sources)
    assert evicted == 0, f"{evicted} sources' kept-alive connections evicted by one circuit"
    assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers), [a[:20] for a in answers]
    assert evicted_for_fresh == 1, "a circuit within its pace no longer makes room"
    assert fresh == b""


def test_slow_heads_on_the_staff_listener_cannot_shut_sources_out() -> None:
    """Connections to the staff listener name no circuit: none was ever closed to make room,
    nor capped. A colleague about to be revoked, still holding the staff onion's client key,
    opening connections and trickling their heads there (slowloris), held every place of a
    worker, and each source's new connection was answered busy. All staff connections together
    now hold at most `STAFF_CONNECTIONS` of a worker, the one idle longest closed for a new one,
    so a source still finds a place, and so does a staff member."""
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker.circuits = True
        worker._connections = STAFF_CONNECTIONS + 8
        staff = socket.create_server(("127.0.0.1", 0))
        source = socket.create_server(("127.0.0.1", 0))
        clients += [staff, source]
        worker.staff_binds = frozenset({local_address(staff)})
        port = staff.getsockname()[1]
        for _ in range(worker._connections + 4):  # and more come as heads time out
            clients.append(socket.create_connection(("127.0.0.1", port)))
            if worker.nr_conns < worker.worker_connections:
                worker.accept(staff)
            clients[-1].sendall(b"GET /staff/ HTTP/1.1\r\n")
        held_by_staff = worker.nr_conns
        newest_held = worker.staff_conns[-1] in worker.reading_heads
        clients.append(socket.create_connection(source.getsockname()))
        clients[-1].sendall(tor_line(NEWCOMER + 0x200) + b"GET / HTTP/1.1\r\n")
        worker.accept(source)
        conn = next(c for c in worker.reading_heads if c.circuit is None)
        worker._read_head(conn, conn.sock)
        clients[-1].setblocking(False)
        answer = b""
        with contextlib.suppress(BlockingIOError):
            answer = clients[-1].recv(65536)
        for c in list(worker.reading_heads):
            worker._drop(c)
    assert held_by_staff <= STAFF_CONNECTIONS, (
        f"slow heads on the staff listener held {held_by_staff} of a worker's places"
    )
    assert answer == b"", f"a source's new connection was answered {answer[:20]!r}"
    assert newest_held, "a staff member's new connection found no place"


def _reads_its_body(environ: Any, start_response: Any) -> list[bytes]:
    """Read the whole body (as a form's view does), then a page."""
    while environ["wsgi.input"].read(65536):
        pass
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "7")])
    return [b"</html>"]


def test_slow_bodies_on_the_staff_listener_cannot_hold_every_thread() -> None:
    """Requests on the staff listener name no circuit: none shared a circuit's four threads,
    none was pre-empted. A colleague about to be revoked (or anyone holding the staff onion's
    client key), sending a body at 500 bytes/s on each of the staff's 32 connections (a
    form's 500 KB: some 17 minutes each; a bundle's, for days), held every thread of each
    worker, and a source's report waited its turn until it was answered busy. The staff
    listener's requests now share one circuit's threads (`CIRCUIT_THREADS`) and its rules."""
    threads = 2 * CIRCUIT_THREADS
    head = (
        b"POST /staff/login HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 500000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    )
    with _busy_worker(_reads_its_body, threads) as worker, _pairs() as clients:
        worker.in_flight = 0
        worker.circuits = True
        staff = socket.create_server(("127.0.0.1", 0))
        clients.append(staff)
        worker.staff_binds = frozenset({local_address(staff)})
        for _ in range(threads):  # a body's first bytes come, the rest at 500 bytes/s
            clients.append(socket.create_connection(staff.getsockname()))
            worker.accept(staff)
            clients[-1].sendall(head + b"a=")
            conn = worker.staff_conns[-1]
            select.select([conn.sock], [], [], 5)
            worker._read_head(conn, conn.sock)
        held = worker.in_flight
        source = _connection(worker, clients, BESIDE_STAFF)
        source.head = b"POST /submit HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 9000\r\n\r\n"
        worker._to_thread(source)
        served = source in worker.in_threads
        for client in clients:  # the staff's bodies end; their threads let go
            client.close()
        deadline = time.monotonic() + 10
        while worker.in_threads and time.monotonic() < deadline:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            worker.method_queue.run_callbacks(None)
        for conn in worker.staff_conns:
            conn.sock.close()
    assert served, (
        f"slow bodies on the staff listener held {held} of {threads} threads; "
        "a source's report waited its turn"
    )


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


def _one_request(
    worker: HeadFirstWorker,
    clients: list[socket.socket],
    circuit: int,
    staff_circuit: int = -1,
) -> Any:
    """A new connection of `circuit` (-1: the staff listener's, on `staff_circuit`) sends one
    request, whole, and the main loop reads it."""
    conn = _connection(worker, clients, circuit)
    conn.staff_circuit = staff_circuit
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
    every worker of the host), and at most `SHARED_BURST` more from the pool all source
    circuits share; past that it is answered busy in the main loop, holding no thread, and
    told when to come back."""
    served: list[Any] = []
    burst = circuits.CIRCUIT_BURST + circuits.SHARED_BURST
    # Its pace and the pool's (which may come back while the test runs), twice over.
    pace = 2 * (10**9 / circuits.CIRCUIT_SPACING_NS + 10**9 / circuits.SHARED_SPACING_NS)
    started = time.monotonic()
    answer = b""
    with _busy_worker(_hello) as worker:
        monkeypatch.setattr(worker, "_to_thread", served.append)
        for _ in range(burst + 16):
            with _pairs() as clients:
                conn = _one_request(worker, clients, REUSED)
                if conn.sock.fileno() == -1:
                    clients[-1].settimeout(5)
                    answer = clients[-1].recv(65536)
                else:
                    conn.close()
    assert len(served) <= burst + 2 + (time.monotonic() - started) * pace, (
        f"one circuit had {len(served)} requests served in a row"
    )
    assert answer.startswith(b"HTTP/1.1 503 "), f"a refused request was answered {answer[:30]!r}"
    assert b"\r\nretry-after: " in answer.lower()


def test_one_staff_circuit_held_open_cannot_send_requests_without_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the staff onion names circuits, a staff circuit took no turn at all: a logged-in
    stolen device sent requests without end, each reaching one of the staff's threads. It now
    takes its circuit's turns as a source's does, kept apart from the sources' circuits, and
    past them is answered busy in the main loop, holding no thread."""
    served: list[Any] = []
    burst = circuits.STAFF_CIRCUIT_BURST
    started = time.monotonic()
    with _busy_worker(_hello) as worker:
        monkeypatch.setattr(worker, "_to_thread", served.append)
        for _ in range(burst + 16):
            with _pairs() as clients:
                conn = _one_request(worker, clients, -1, staff_circuit=STAFF_FLOODER)
                answer = b""
                if conn.sock.fileno() == -1:
                    clients[-1].settimeout(5)
                    answer = clients[-1].recv(65536)
                else:
                    conn.close()
    assert len(served) <= burst + 2 + (time.monotonic() - started) * 4, (
        f"one staff circuit had {len(served)} requests served in a row"
    )
    assert answer.startswith(b"HTTP/1.1 503 "), f"a refused request was answered {answer[:30]!r}"
    assert b"\r\nretry-after: " in answer.lower()
    # The sources' circuit of the same number took none of those turns.
    assert circuits.take_circuit_turn(STAFF_FLOODER) == 0


def _spend_turns(circuit: int) -> None:
    """Spend every turn `circuit` has now (`circuits.take_circuit_turn`), and the shared pool's
    for a while, as a flood going on would: it gets one back each 62.5 ms, and a request sent
    past the circuit's turns was served from it."""
    while not circuits.take_circuit_turn(circuit):
        pass
    circuits._shared[0] = time.monotonic_ns() + 3600 * 10**9


@pytest.fixture(autouse=True)
def _pool_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets the sources' circuits' pool whole, and spends it on its own."""
    monkeypatch.setattr(circuits, "_shared", memoryview(bytearray(8)).cast("q"))


def _send(client: socket.socket, data: bytes) -> None:
    """Send `data`, as much of it as the worker reads before it answers and closes."""
    with contextlib.suppress(OSError):
        client.sendall(data)


def _answer(client: socket.socket) -> bytes:
    """What the worker answers on `client`'s connection, up to the end of a page."""
    client.settimeout(10)
    answer = b""  # closed unanswered, the body unread: reset
    with contextlib.suppress(ConnectionResetError):
        while b"</html>" not in answer and (chunk := client.recv(65536)):
            answer += chunk
    return answer


@pytest.mark.parametrize("file_size", [1024, 256 * 1024], ids=["all-with-the-head", "coming"])
def test_a_report_past_its_circuits_turns_is_answered_busy_with_its_form(
    app: Any, file_size: int
) -> None:
    """A report sent on a circuit past its turns (`circuits.take_circuit_turn`) was answered
    a bare 503 in the main loop and closed: what the source wrote was lost (Back refills no
    form). It is now answered as a pre-empted report is: busy, Retry-After, its message
    given back; and never filed, the turn being spent."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", file_size)
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(PACED)
        conn = _connection(worker, clients, PACED)
        worker.enqueue_req(conn)
        sender = threading.Thread(target=_send, args=(clients[-1], head + body))
        sender.start()
        deadline = time.monotonic() + 10
        while conn in worker.reading_heads and time.monotonic() < deadline:
            select.select([conn.sock], [], [], 1)
            worker._read_head(conn, conn.sock)
        answer = _answer(clients[-1])
        sender.join(10)
        conn.close()  # as the main loop does once its thread is done
    assert answer.startswith(b"HTTP/1.1 503 "), f"the paced report was answered {answer[:40]!r}"
    assert b"\r\nretry-after: " in answer.lower()
    assert b"the SHO&#39;s cousin keeps the ledger" in answer, "the report's message was lost"
    with db_session(app) as session:
        assert session.execute(select_rows(Source)).first() is None, "the paced report was filed"


def _answers_while_serving(worker: HeadFirstWorker, clients: list[socket.socket]) -> list[bytes]:
    """What the worker answers on each of `clients`, its main loop's rounds run meanwhile (the
    threads' ends it is told of, and `murder_pending`) for at most 15 s; and the most kept
    threads busy at once meanwhile, as the last item's length."""
    answers: dict[int, bytes] = {}
    readers = [
        threading.Thread(target=lambda i=i: answers.__setitem__(i, _answer(clients[i])))
        for i in range(len(clients))
    ]
    for reader in readers:
        reader.start()
    most = worker.quick_in_flight
    deadline = time.monotonic() + 15
    while any(r.is_alive() for r in readers) and time.monotonic() < deadline:
        select.select([worker.method_queue.fileno()], [], [], 0.05)
        worker.method_queue.run_callbacks(None)
        worker.murder_pending()
        most = max(most, worker.quick_in_flight)
    for reader in readers:
        reader.join(1)
    return [answers.get(i, b"") for i in range(len(clients))] + [b"x" * most]


def test_a_circuit_past_its_turns_has_one_form_given_back_at_a_time(app: Any) -> None:
    """A form given back takes a kept thread a moment: a circuit past its turns sending forms
    as fast as it can would hold every kept thread (pages of everyone else wait on them while
    the other threads are busy). One of its forms at a time is given back; the others wait
    their turn in the main loop, holding no thread, and are given back after it."""
    head, body = report_request(app, "a second copy", 1024)
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(PACED)
        conns = []
        for _ in range(QUICK_THREADS):
            conn = _connection(worker, clients, PACED)
            conn.sock.setblocking(False)
            conn.head = head + body
            conns.append(conn)
            worker._head_in(conn)
        taken = worker.quick_in_flight
        *answers, most = _answers_while_serving(worker, clients[3::2])
        for conn in conns:
            conn.close()
    assert taken == 1, f"one circuit past its turns took {taken} kept threads"
    assert len(most) == 1, f"one circuit past its turns took {len(most)} kept threads at once"
    assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers), [a[:20] for a in answers]
    lost = sum(b"a second copy" not in a for a in answers)
    assert not lost, f"{lost} of {len(answers)} forms of one circuit lost what was written"


def test_a_second_tab_past_its_circuits_turns_keeps_its_form_too(app: Any) -> None:
    """A source with two tabs on one circuit (a report in one, a login in the other) past its
    turns: the first form was given back, and the second, while the first was being given
    back, was answered a bare 503 in the main loop and closed, what she wrote lost to a flood
    she did not cause. Each is now given back, one after the other."""
    codename = generate_codename()
    report_head, report_body = report_request(app, "the driver's name is in the ledger", 1024)
    login = _login_request(app, codename)
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(TWO_TABS)
        for request in (report_head + report_body, login):
            conn = _connection(worker, clients, TWO_TABS)
            conn.sock.setblocking(False)
            conn.head = request
            worker._head_in(conn)
        *answers, _ = _answers_while_serving(worker, clients[1::2])
    assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers), [a[:20] for a in answers]
    kept = [
        b"the driver&#39;s name is in the ledger" in answers[0],
        codename.encode() in answers[1],
    ]
    assert all(kept), f"the second tab's form was lost (report kept, login kept: {kept})"


def _login_request(app: Any, codename: str) -> bytes:
    """A login's request, as a browser sends it: its head (the cookie the form came with)
    and its urlencoded body (the form's token and `codename`)."""
    visitor = Visitor(app.test_client())
    page = form(visitor.get("/login"), "/login")
    cookie = visitor.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    body = urlencode({**page.fields, "codename": codename}).encode()
    return (
        f"POST /login HTTP/1.1\r\nHost: x.onion\r\nCookie: {cookie.key}={cookie.value}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("split", [False, True], ids=["with-the-head", "after-the-head"])
def test_a_login_past_its_circuits_turns_is_answered_busy_with_its_codename(
    app: Any, split: bool
) -> None:
    """A login sent on a circuit past its turns was answered a bare 503 in the main loop: the
    form's give-back covered reports' multipart bodies only, and the source typed her eight
    words (or 29 digits) again. It is now answered as a login past the derivation slots is:
    busy, Retry-After, the login form with the codename in its box; nothing derived. Its body
    may come in a cell after its head's: the main loop reads that too."""
    codename = generate_codename()
    request = _login_request(app, codename)
    end = request.index(b"\r\n\r\n") + 4
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(LOGGING_IN)
        conn = _connection(worker, clients, LOGGING_IN)
        worker.enqueue_req(conn)
        for part in [request[:end], request[end:]] if split else [request]:
            clients[-1].sendall(part)
            select.select([conn.sock], [], [], 5)
            worker._read_head(conn, conn.sock)
        answer = _answer(clients[-1])
        conn.close()  # as the main loop does once its thread is done
    assert answer.startswith(b"HTTP/1.1 503 "), f"the paced login was answered {answer[:40]!r}"
    assert b"\r\nretry-after: " in answer.lower()
    assert codename.encode() in answer, "the paced login's codename was lost"
    assert b'id="login"' in answer
    assert "سرور اس وقت مصروف ہے".encode() in answer, "the page does not say the server is busy"


def test_a_login_whose_body_comes_late_on_a_slow_phone_is_served(app: Any) -> None:
    """A login's head is read by the main loop with its body (`_short_form_coming`), under the
    head's deadline, 20 s from when the connection opened: a source on a slow phone over Tor,
    whose head took 19 s and whose body came 1.5 s after it, was closed unanswered and typed
    her codename again. Its body now has a body's own grace from when its head came whole."""
    codename = generate_codename()
    request = _login_request(app, codename)
    end = request.index(b"\r\n\r\n") + 4
    kdf_pool.start_derivers(2)  # as a worker does as it starts (`init_process`)
    with _busy_worker(app) as worker, _pairs() as clients:
        conn = _connection(worker, clients, SLOW_PHONE)
        worker.enqueue_req(conn)
        worker.reading_heads[conn] = time.monotonic() + 1.0  # opened 19 s ago, its head coming
        clients[-1].sendall(request[:end])
        select.select([conn.sock], [], [], 5)
        worker._read_head(conn, conn.sock)
        time.sleep(1.5)  # the body's cell, behind the head's on a slow circuit
        worker.murder_pending()
        _send(clients[-1], request[end:])
        if conn in worker.reading_heads:
            select.select([conn.sock], [], [], 5)
            worker._read_head(conn, conn.sock)
        clients[-1].settimeout(10)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in answer and (chunk := clients[-1].recv(65536)):
                answer += chunk
        conn.close()  # as the main loop does once its thread is done
    assert answer.startswith(b"HTTP/1.1 303 "), (
        f"a login whose body came late was answered {answer[:30]!r}"
    )
    assert b"\r\nLocation: /account\r\n" in answer, "the login did not let her in"


def test_a_login_whose_body_never_comes_is_answered_not_closed_bare(app: Any) -> None:
    """A login whose body does not come within its grace is answered (408, the app's page of a
    refused request), not closed unanswered: a connection reset says nothing to a source."""
    request = _login_request(app, generate_codename())
    end = request.index(b"\r\n\r\n") + 4
    with _busy_worker(app) as worker, _pairs() as clients:
        conn = _connection(worker, clients, SLOW_PHONE)
        worker.enqueue_req(conn)
        clients[-1].sendall(request[:end])
        select.select([conn.sock], [], [], 5)
        worker._read_head(conn, conn.sock)
        worker.reading_heads[conn] = time.monotonic() - 0.1  # its body's grace is out
        worker.murder_pending()
        answer = _answer(clients[-1])
    assert answer.startswith(b"HTTP/1.1 408 "), f"a login without a body got {answer[:30]!r}"
    assert b"Nothing was stored" in answer


@pytest.mark.parametrize("coming", ["head", "login-body"])
def test_a_head_trickled_a_byte_at_a_time_costs_the_main_loop_little(app: Any, coming: str) -> None:
    """A head the main loop reads is searched for its end as each piece of it comes: the
    whole of what had come, every time (and a login's head again, its fields lowered and
    matched, for each piece of its body). A head of 60 KB of short fields trickled a byte at
    a time cost the main loop, which serves every connection of the worker, some 4 s of CPU
    within its 20 s (a circuit's 32 connections, more than the loop has); it now looks only
    at what came since. (Heads are now held to 16 KiB: 15 KB of them are trickled.)"""
    fields = b"a:b\r\n" * 3_000
    if coming == "head":
        head, trickled = b"GET / HTTP/1.1\r\n", fields
    else:  # a login's body of 4 KB behind a head of 15 KB, a byte at a time
        login = _login_request(app, "1" * 29)
        end = login.index(b"\r\n\r\n") + 2
        head = login[:end] + fields + b"Content-Length: 4000\r\n\r\n"
        head = head.replace(b"Content-Length: ", b"X-Was: ", 1)
        trickled = b"c" * 3999
    with _busy_worker(app) as worker, _pairs() as clients:
        conn = _connection(worker, clients, TRICKLER)
        worker.enqueue_req(conn)
        clients[-1].sendall(head)
        worker._read_head(conn, conn.sock)
        started = time.thread_time()
        for byte in range(len(trickled)):
            clients[-1].send(trickled[byte : byte + 1])
            worker._read_head(conn, conn.sock)
        spent = time.thread_time() - started
        still = conn in worker.reading_heads
    assert still, "the trickled head was not read to its end"
    assert spent < 1.0, f"{len(trickled)} bytes a byte at a time cost the main loop {spent:.2f} s"


def _page(environ: Any, start_response: Any) -> list[bytes]:
    """A source page's size (24 KiB), at once."""
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "24576")])
    return [b" " * 24576]


def _held_by_a_client_reading_nothing(app: Any, circuit: int, head: bytes) -> bool:
    """Whether a client of `circuit` asking `head` of `app` and reading nothing still holds its
    thread `SEND_SECONDS` + 5 s later, its stream's window full (4 KiB socket buffers)."""
    with _busy_worker(app) as worker, _pairs() as clients:
        worker.in_flight = 0  # a thread is free
        conn = _connection(worker, clients, circuit)
        # Tor's window for the stream full: what it takes of the answer is all it holds.
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        clients[-1].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.head = head
        worker._to_thread(conn)
        deadline = time.monotonic() + worker_reads.SEND_SECONDS + 5
        while conn in worker.in_threads and time.monotonic() < deadline:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            worker.method_queue.run_callbacks(None)
        return conn in worker.in_threads  # the client's end closed now ends the write


def test_a_client_reading_nothing_holds_its_thread_only_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread writes a page with no deadline: a client that asks and reads nothing, once
    tor's window for its stream is full (some 250 KB: a few pipelined pages), held the thread
    for as long as it liked, in a write the worker cannot pre-empt (only reads are), and
    eight such circuits held every thread of two workers. A write that makes no progress for
    `SEND_SECONDS` now ends the request, and the thread is free."""
    monkeypatch.setattr(worker_reads, "SEND_SECONDS", 1.0)  # 10 s as deployed: same path
    head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n"
    held = _held_by_a_client_reading_nothing(_page, SLOW_READER, head)
    assert not held, (
        f"a client reading nothing held its thread past {worker_reads.SEND_SECONDS + 5:.0f} s"
    )


def test_a_continue_sent_to_a_client_reading_nothing_holds_its_thread_only_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gunicorn answers `Expect: 100-continue` with its own `send` of `100 Continue`, past
    `PacedSocket.sendall` and its deadline: a client that pipelined answers it never read
    until tor's window for its stream was full, then asked so, held the thread in that send
    for as long as it liked. It now ends as any stalled write of an answer does."""
    monkeypatch.setattr(worker_reads, "SEND_SECONDS", 1.0)
    with _busy_worker(_reads_its_body) as worker, _pairs() as clients:
        worker.in_flight = 0
        conn = _connection(worker, clients, SLOW_READER)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        clients[-1].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # the answers before it, never read
            while True:
                conn.sock.send(b" " * 4096)
        conn.head = (
            b"POST /submit HTTP/1.1\r\nHost: x.onion\r\nExpect: 100-continue\r\n"
            b"Content-Length: 5000\r\n\r\n"
        )
        worker._to_thread(conn)
        deadline = time.monotonic() + worker_reads.SEND_SECONDS + 5
        while conn in worker.in_threads and time.monotonic() < deadline:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            worker.method_queue.run_callbacks(None)
        held = conn in worker.in_threads
    assert not held, (
        f"a client reading no 100 Continue held its thread past "
        f"{worker_reads.SEND_SECONDS + 5:.0f} s"
    )


def test_a_file_sent_to_a_client_reading_nothing_holds_its_thread_only_a_while(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file's answer (a staff export's bundle: `send_file`, gunicorn's `wsgi.file_wrapper`)
    goes out by `sendfile`, not through `PacedSocket.sendall`, and had no write deadline: a
    client on the staff listener asking for a bundle and reading nothing held the thread for
    as long as it liked, and sixteen such held every thread of a worker. Its writes now end
    the request as a page's do, after `SEND_SECONDS` without progress."""
    monkeypatch.setattr(worker_reads, "SEND_SECONDS", 1.0)
    bundle = tmp_path / "bundle.bin"
    bundle.write_bytes(os.urandom(1024 * 1024))

    def _bundle(environ: Any, start_response: Any) -> Any:
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("Content-Length", "1048576")],
        )
        return environ["wsgi.file_wrapper"](bundle.open("rb"))

    head = b"POST /staff/export HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 0\r\n\r\n"
    held = _held_by_a_client_reading_nothing(_bundle, SLOW_READER, head)
    assert not held, (
        f"a client reading no file held its thread past {worker_reads.SEND_SECONDS + 5:.0f} s"
    )


def test_a_files_answer_goes_out_whole_a_piece_at_a_time(tmp_path: Path) -> None:
    """`PacedSocket.sendfile` sends a file's answer a MiB at a time (what is out known as it
    goes, for `rate`): a client reading it gets every byte, in order, and no more."""
    bundle = tmp_path / "bundle.bin"
    content = os.urandom(2 * 1024 * 1024 + 12345)
    bundle.write_bytes(content)

    def _bundle(environ: Any, start_response: Any) -> Any:
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(content)))],
        )
        return environ["wsgi.file_wrapper"](bundle.open("rb"))

    with _busy_worker(_bundle) as worker, _pairs() as clients:
        worker.in_flight = 0
        conn = _connection(worker, clients, SLOW_READER)
        conn.head = b"GET /staff/export HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n"
        worker._to_thread(conn)
        clients[-1].settimeout(10)
        answer = b""
        while chunk := clients[-1].recv(1 << 20):
            answer += chunk
            if len(answer) > len(content) and b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                if len(body) >= len(content):
                    break
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == content


def test_answers_that_close_their_connection_never_stall_the_main_loop() -> None:
    """A request answered with `Connection: close` (asked so, or refused by the app) had its
    connection closed by gthread's `finish_request`, in the main loop, gracefully: it waited
    up to 2 s for the client to close its end (`util.close_graceful`). A circuit asking so on
    its four threads' connections, and closing none, stopped the main loop of the worker 2 s
    for each: no head read, no connection accepted, no thread given its next request. The
    linger now waits in the main loop's poller, and the close takes no time there."""
    head = b"GET / HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n"
    with _busy_worker(_hello) as worker, _pairs() as clients:
        worker.in_flight = 0
        conns = [_connection(worker, clients, LINGERER) for _ in range(CIRCUIT_THREADS)]
        for conn in conns:
            conn.head = head
            worker._to_thread(conn)
        stalled, deadline = 0.0, time.monotonic() + 10
        while worker.in_threads and time.monotonic() < deadline:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            began = time.monotonic()
            worker.method_queue.run_callbacks(None)
            stalled += time.monotonic() - began
        served = not worker.in_threads
        lingering = all(conn.sock.fileno() != -1 for conn in conns)
        for conn in conns:  # their clients close: each linger ends in the poller
            clients[clients.index(conn.sock) + 1].close()
        for _ in range(8):
            for key, _events in worker.poller.select(0.2):
                key.data(key.fileobj)
        closed = all(conn.sock.fileno() == -1 for conn in conns)
        places = worker.nr_conns
    assert served, "the requests were never answered"
    assert stalled < 0.5, (
        f"{len(conns)} closing answers stalled the main loop {stalled:.1f} s, clients idle"
    )
    assert lingering, "a connection closed before its client could read its answer"
    assert closed, "a connection whose client closed its end still lingers"
    assert places == 0, f"{places} places still counted"


def test_a_body_in_one_byte_chunks_is_refused_before_a_thread_reads_it() -> None:
    """A chunked body costs gunicorn's reader some 4 us of CPU a chunk, in Python: 600 KB of
    one-byte chunks cost a thread as much as 1.5 GiB said by its length (0.3 ms a MiB), and
    a few circuits sending them as fast as tor carries them took the CPU from every page. No
    client of the server frames a body so (Tor Browser, raazdar-submit: each says its length):
    a head with `Transfer-Encoding` is refused 400 in the main loop, holding no thread."""
    spent: list[float] = []

    def _reader(environ: Any, start_response: Any) -> list[bytes]:
        began = time.thread_time()
        while environ["wsgi.input"].read(1024 * 1024):
            pass
        spent.append(time.thread_time() - began)
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "7")])
        return [b"</html>"]

    head = (
        b"POST /submit HTTP/1.1\r\nHost: x.onion\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    )
    body = b"1\r\nx\r\n" * 100_000 + b"0\r\n\r\n"
    with _busy_worker(_reader) as worker, _pairs() as clients:
        worker.in_flight = 0
        conn = _connection(worker, clients, CHUNKER)
        worker.enqueue_req(conn)
        sender = threading.Thread(target=_send, args=(clients[-1], head + body))
        sender.start()
        deadline = time.monotonic() + 20
        while conn in worker.reading_heads and time.monotonic() < deadline:
            select.select([conn.sock], [], [], 0.2)
            worker._read_head(conn, conn.sock)
        while conn in worker.in_threads and time.monotonic() < deadline:
            select.select([worker.method_queue.fileno()], [], [], 0.2)
            worker.method_queue.run_callbacks(None)
        answer = _answer(clients[-1])
        sender.join(timeout=10)
    assert spent == [], f"{len(body) // 1000} KB of one-byte chunks cost a thread {spent[0]:.2f} s"
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:40]


def _big_page(environ: Any, start_response: Any) -> list[bytes]:
    """A 1 MiB answer, at once."""
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(1 << 20))])
    return [b" " * (1 << 20)]


def test_clients_reading_a_little_at_a_time_cannot_hold_every_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread writing an answer is pre-empted for no one (only reads were): a client reading
    a little every few seconds (with tor, a stream's SENDME every few seconds: 25 KB each)
    made progress within `SEND_SECONDS` and held its thread as long as the answer lasted,
    pipelining the next. Two circuits so, four requests each, held all eight threads of a
    worker (five circuits, of a deployed one), and another circuit's page waited its turn
    until `WAIT_SECONDS`. A write stalled past `SCARCE_GRACE_SECONDS` now gives its thread up
    as a slow body does (`_victim`), to a request of a circuit holding fewer."""
    monkeypatch.setattr(worker_reads, "SCARCE_GRACE_SECONDS", 1.0)  # 5 s as deployed
    head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n"
    stop = threading.Event()

    def _sip(clients: list[socket.socket]) -> None:
        while not stop.wait(0.25):
            for client in clients:
                with contextlib.suppress(OSError):
                    client.recv(2048)

    with _busy_worker(_big_page) as worker, _pairs() as clients:
        worker.in_flight = 0
        sippers = []
        for circuit in SIPPERS:
            for _ in range(CIRCUIT_THREADS):
                conn = _connection(worker, clients, circuit)
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                clients[-1].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                clients[-1].settimeout(0.01)
                sippers.append(clients[-1])
                conn.head = head
                worker._to_thread(conn)
        sipping = threading.Thread(target=_sip, args=(sippers,))
        sipping.start()
        try:
            time.sleep(1.5)  # every thread writing, a little at a time, past its grace
            held = worker.in_flight + worker.quick_in_flight
            newcomer = _connection(worker, clients, SIPPED_OUT)
            newcomer.head = head
            clients[-1].settimeout(0.01)
            began, answer = time.monotonic(), b""
            worker._to_thread(newcomer)
            while not answer and time.monotonic() - began < 5:
                select.select([worker.method_queue.fileno(), clients[-1]], [], [], 0.2)
                worker.method_queue.run_callbacks(None)
                worker.murder_pending()  # as the main loop does: waiting ones served
                with contextlib.suppress(OSError):
                    answer = clients[-1].recv(64)
            took = time.monotonic() - began
        finally:
            stop.set()
            sipping.join()
    assert held == 2 * CIRCUIT_THREADS, f"{held} threads held by the sipping circuits"
    assert answer.startswith(b"HTTP/1.1 200 "), (
        f"another circuit's page waited {took:.1f} s for a thread (threads held by slow readers)"
    )


def test_a_short_form_past_its_circuits_turns_other_than_a_login_is_not_served(
    app: Any,
) -> None:
    """A short form past its circuit's turns reaches the app only for a login's busy answer:
    any other (a log-out, a reply's deletion) is refused busy before its view."""
    request = _login_request(app, generate_codename()).replace(b"POST /login ", b"POST /logout ")
    with _busy_worker(app) as worker, _pairs() as clients:
        _spend_turns(LOGGING_IN)
        conn = _connection(worker, clients, LOGGING_IN)
        worker.enqueue_req(conn)
        clients[-1].sendall(request)
        select.select([conn.sock], [], [], 5)
        worker._read_head(conn, conn.sock)
        answer = _answer(clients[-1])
        conn.close()
    assert answer.startswith(b"HTTP/1.1 503 "), f"a paced log-out was answered {answer[:40]!r}"
    assert b"\r\nretry-after: " in answer.lower()


def test_a_connection_finding_every_place_taken_is_answered_busy(app: Any) -> None:
    """A new connection to a worker holding all its `worker_connections`, none of which could
    make room (every one a head still coming, one per circuit, or a request being served),
    was closed unanswered: a source's report sent on it ended in a connection error, which
    says nothing of whether it was stored. It is now answered busy with Retry-After in the
    main loop, its body unread, and closed."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", 64 * 1024)
    with _busy_worker(app) as worker, _pairs() as clients:
        worker._connections = 8
        for circuit in range(8):  # heads still coming, one of each circuit
            worker.enqueue_req(_connection(worker, clients, 0x7A120000 + circuit))
        client, server = socket.socketpair()
        clients.append(client)
        conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
        conn.circuit = None  # its tor line not read yet
        worker.nr_conns += 1  # one past worker_connections, in the slack
        worker.enqueue_req(conn)
        sender = threading.Thread(target=_send, args=(client, tor_line(LATE) + head + body))
        sender.start()
        select.select([conn.sock], [], [], 5)
        worker._read_head(conn, conn.sock)
        answer = _answer(client)
        sender.join(10)
        held = worker.nr_conns
    assert answer.startswith(b"HTTP/1.1 503 "), (
        f"a connection finding every place taken was answered {answer[:40]!r}"
    )
    assert b"\r\nretry-after: " in answer.lower()
    assert b"Nothing you sent was stored" in answer
    assert held == 8, "the connection answered busy still holds a place"


def test_a_form_no_kept_thread_could_give_back_is_answered_busy(app: Any) -> None:
    """A report that waited its turn too long is given back on a kept thread (`_give_back`);
    while a flood's whole requests kept every kept thread busy for `GIVE_BACK_SECONDS` more,
    it was closed unanswered, the source's report ending in a connection error. It is now
    answered busy in the main loop, its body unread, saying nothing was stored."""
    head, body = report_request(app, "the SHO's cousin keeps the ledger", 64 * 1024)
    with _busy_worker(app) as worker, _pairs() as clients:
        conn = _connection(worker, clients, STARVED)
        conn.sock.setblocking(False)
        conn.head = head
        worker.circuit_load[STARVED] = CIRCUIT_THREADS
        worker._to_thread(conn)  # waits its turn
        worker.quick_in_flight = QUICK_THREADS  # every kept thread busy, for as long
        worker.waiting_until[conn] = (time.monotonic() - GIVE_BACK_SECONDS - 1.0, STARVED)
        sender = threading.Thread(target=_send, args=(clients[-1], body))
        sender.start()
        worker.murder_pending()
        answer = _answer(clients[-1])
        sender.join(10)
        worker.quick_in_flight = 0
    assert answer.startswith(b"HTTP/1.1 503 "), (
        f"a form no kept thread could give back was answered {answer[:40]!r}"
    )
    assert b"\r\nretry-after: " in answer.lower()
    assert b"Nothing you sent was stored" in answer


def test_the_page_of_a_connection_finding_no_place_says_what_the_apps_busy_page_says() -> None:
    """The main loop's busy page (`write_busy`) cannot choose a language: it carries both,
    each in the words the app's own busy page says in it."""
    with (TRANSLATIONS / "ur" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    page = worker_reads._PAGES[worker_reads._BUSY].decode()
    for words in (
        "The server is busy",
        "Too many people are using this site right now. Nothing you sent was stored. "
        "Please try again in a minute.",
    ):
        assert words in page
        urdu = str(catalog[words].string)
        assert urdu in page, f"the busy page's Urdu for {words!r} is not the app's"


@contextlib.contextmanager
def _closer_pipe(worker: HeadFirstWorker) -> Iterator[int]:
    """The worker's pipe to the process that asks tor to close circuits; yields its read end."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    worker.closer = write
    try:
        yield read
    finally:
        os.close(read)
        os.close(write)


def _asked_closed(read: int) -> list[int]:
    """The circuits the worker asked closed so far."""
    with contextlib.suppress(BlockingIOError):
        data = os.read(read, 4096)
        return [circuit for (circuit,) in struct.iter_unpack("<I", data)]
    return []


def test_a_circuit_pushing_past_its_pace_is_asked_closed_to_tor() -> None:
    """A circuit past its turns was answered busy, every request, and went on sending as
    long as it liked: tor's proof-of-work prices a new circuit, and this one never paid
    again. Refused `circuits.CLOSE_AFTER_REFUSALS` times in a row, the worker now asks tor,
    through the pipe `raazdar serve` reads (`app.operations.tor.closer`), to close it."""
    with _busy_worker(_hello) as worker, _closer_pipe(worker) as read:
        _spend_turns(PUSHER)
        for _ in range(circuits.CLOSE_AFTER_REFUSALS):
            with _pairs() as clients:
                conn = _one_request(worker, clients, PUSHER)
                assert conn.sock.fileno() == -1, "a request past the circuit's turns was served"
        asked = _asked_closed(read)
    assert asked == [PUSHER], (
        f"a circuit refused {circuits.CLOSE_AFTER_REFUSALS} times in a row was never torn "
        f"down (asked closed: {asked})"
    )


def test_a_circuit_that_waits_out_its_busy_is_never_asked_closed() -> None:
    """A client that waits out its Retry-After gets its next turn: its refusals never add up
    to `CLOSE_AFTER_REFUSALS`, however long it goes on."""
    refusals = circuits.Refusals()
    closes = [
        refusals.note(PATIENT, refused=i % 8 != 7) for i in range(8 * circuits.CLOSE_AFTER_REFUSALS)
    ]
    assert not any(closes)
    assert not refusals.note(None, refused=True)
    assert [refusals.note(PATIENT, True) for _ in range(circuits.CLOSE_AFTER_REFUSALS)][-1]


def test_a_circuit_served_a_turn_now_and_then_is_still_asked_closed() -> None:
    """Refusals counted in a row were undone by one turn served: a circuit sending 63 past
    its pace and then one in its next turn (every half second) was refused 126 times a
    second, never `CLOSE_AFTER_REFUSALS` in a row, and never asked closed. A turn served now
    takes back `circuits.REFUSALS_FORGIVEN` refusals, not all of them."""
    refusals = circuits.Refusals()
    pattern = [True] * (circuits.CLOSE_AFTER_REFUSALS - 1) + [False]
    closes = [refusals.note(PUSHER, refused) for _ in range(4) for refused in pattern]
    assert any(closes), "a circuit refused 63 times for each turn it had was never asked closed"


def test_a_head_stuffed_with_cookies_is_refused_in_the_main_loop(app: Any) -> None:
    """gunicorn takes fifty fields of 8 KiB, and Cookie fields of `a=b; ` as long as the head
    the main loop reads (56 KiB, 13 KiB since heads are held to 16 KiB) were handed to a
    thread, where Werkzeug's parse of them cost 10 to 45 ms of CPU (3 to 12 ms), before any
    check (the session is opened from them first). The app's own cookie is one, some 1 KiB;
    a head whose cookies are longer than a browser keeps one (4 KiB) twice over is answered
    400 in the main loop, holding no thread."""
    visitor = Visitor(app.test_client())
    visitor.filed(visitor.send(visitor.start(), "a first report"))
    own = visitor.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert own is not None
    assert len(f"{own.key}={own.value}") * 4 < worker_reads.COOKIE_LIMIT
    stuffed = b"".join(b"Cookie: " + b"a=b; " * 900 + b"\r\n" for _ in range(3))
    with _busy_worker(app) as worker, _pairs() as clients:
        conn = _connection(worker, clients, COOKIE_STUFFER)
        conn.sock.setblocking(False)
        conn.head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n" + stuffed + b"\r\n"
        worker._head_in(conn)
        ready = select.select([clients[-1]], [], [], 1)[0]
        answer = clients[-1].recv(65536) if ready else b""
    assert answer.startswith(b"HTTP/1.1 400 "), "13 KiB of cookies went on to a thread's turn"
