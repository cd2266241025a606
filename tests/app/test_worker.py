"""The gunicorn worker as deployed: slow clients hold no thread; gunicorn does not name itself."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import resource
import select
import selectors
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import TConn

from app import kdf_pool
from app.security import HEADERS
from app.services import resumable
from app.worker import HeadFirstWorker
from app.worker_reads import (
    BODY_MIN_RATE,
    PREEMPTED_RETRY_AFTER,
    SCARCE_BODY_RATE,
    BodyPreempted,
    BodyTooSlow,
    _paced,
    _whole,
)
from app.worker_turns import CIRCUIT_THREADS, QUICK_THREADS
from crypto import generate_codename
from tests.app.api_support import API, ApiClient
from tests.app.flood import log_in, worker_pids
from tests.app.live import (
    TorConnection,
    demo_instance,
    left_behind,
    live_server,
    submit_form,
    tor_line,
)
from tests.app.support import Visitor, multipart, staging_files
from tests.app.test_kdf_pool import locks_held

pytestmark = pytest.mark.slow

SLOW_CONNECTIONS = 16
DRIP_SECONDS = 2.0
PAGE_LOADS = 40
# More slow bodies from one circuit than both workers have threads (2 x 16).
CIRCUIT_FLOOD = 40
FLOODED, ANOTHER = 7, 1234
# gunicorn's default, which app/gunicorn.conf.py keeps.
WORKER_CONNECTIONS = 1000


@dataclass(frozen=True)
class SharedServer:
    """The module's one server for requests that change nothing (`shared`): its URL, its log."""

    url: str
    log: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServer]:
    """gunicorn with two workers, as deployed (threads as in app/gunicorn.conf.py), once for
    the module's tests that leave it as they found it: each started its own (some 12 s each,
    twelve of them)."""
    root = tmp_path_factory.mktemp("shared-server")
    log = root / "gunicorn.log"
    with live_server(demo_instance(root / "instance"), workers=2, log=log) as url:
        yield SharedServer(url, log)


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "", parts.port or 80


def _raw(base: str, request: bytes) -> bytes:
    """Send `request` and return the whole answer (the server closes after it)."""
    with socket.create_connection(_address(base), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _drip(base: str, head: bytes, stop: threading.Event) -> None:
    """Be a slow client: send `head`, then one byte every two seconds until told to stop."""
    with contextlib.suppress(OSError), socket.create_connection(_address(base), timeout=30) as sock:
        sock.sendall(head)
        while not stop.wait(DRIP_SECONDS):
            sock.sendall(b"x")


def _page_load(base: str, circuit: int | None = None, timeout: float = 30) -> float:
    started = time.monotonic()
    connection = TorConnection(*_address(base), timeout, circuit)
    try:
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
    return time.monotonic() - started


def test_slow_clients_do_not_slow_down_everyone_else(shared: SharedServer) -> None:
    # Its slow clients close at its end: the server drops them, as it found itself.
    server = shared.url
    stop = threading.Event()
    # Half drip their request head, half a body they announced as large.
    heads = [b"GET / HTTP/1.1\r\nHost: x.onion\r\nX-Slow: "] * (SLOW_CONNECTIONS // 2) + [
        b"POST /login HTTP/1.1\r\nHost: x.onion\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 100000\r\n\r\ncodename="
    ] * (SLOW_CONNECTIONS // 2)
    drippers = [threading.Thread(target=_drip, args=(server, h, stop)) for h in heads]
    for thread in drippers:
        thread.start()
    try:
        time.sleep(2 * DRIP_SECONDS)  # every slow connection has been accepted and is dripping
        loads = sorted(_page_load(server) for _ in range(PAGE_LOADS))
    finally:
        stop.set()
        for thread in drippers:
            thread.join(timeout=30)
    p95 = loads[int(0.95 * len(loads)) - 1]
    print(
        f"\npage loads with {SLOW_CONNECTIONS} slow clients: "
        f"median {statistics.median(loads):.3f} s, p95 {p95:.3f} s"
    )
    assert p95 < 1.0


# A login whose body is a megabyte: sent slowly, it holds a thread as long as it keeps up.
SLOW_LOGIN_HEAD = (
    b"POST /login HTTP/1.1\r\nHost: x.onion\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 1048576\r\n\r\ncodename="
)
SLOW_LOGIN = SLOW_LOGIN_HEAD + b"a" * (1048576 - len(b"codename="))


def _trickle(
    base: str,
    circuit: int,
    stop: threading.Event,
    heads: list[bytes] | None = None,
    *,
    request: bytes = SLOW_LOGIN,
    first: int = len(SLOW_LOGIN_HEAD),
    rate: float = 1.5,
) -> None:
    """Send `request` from `circuit`: its `first` bytes at once, then the rest at `rate`
    times the least rate (never falling behind). With `heads`, stop at an answer that comes
    before the end and keep its head."""
    with contextlib.suppress(OSError), socket.create_connection(_address(base), timeout=30) as sock:
        sock.sendall(tor_line(circuit) + request[:first])
        sent, step = first, 0.1
        while not stop.wait(step) and sent < len(request):
            if heads is not None and select.select([sock], [], [], 0)[0]:
                # Nothing: closed unanswered, one too many of its circuit waiting its turn.
                if head := sock.recv(65536).partition(b"\r\n\r\n")[0]:
                    heads.append(head)
                return
            more = int(rate * BODY_MIN_RATE * step)
            sock.sendall(request[sent : sent + more])
            sent += more


def test_one_circuit_of_slow_bodies_cannot_hold_every_thread(tmp_path: Path) -> None:
    """Bodies that keep above the least rate pass the deadlines; from one circuit they hold
    a few threads only, so a page for anyone else is served at once (tor's streams on one
    circuit are unlimited, so one client could otherwise hold them all, cheaply)."""
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=2, env={"RAAZDAR_TOR_CIRCUITS": "1"}) as base:
        stop = threading.Event()
        flood = [
            threading.Thread(target=_trickle, args=(base, FLOODED, stop))
            for _ in range(CIRCUIT_FLOOD)
        ]
        for thread in flood:
            thread.start()
        try:
            time.sleep(3)  # every flooding connection is accepted and sending its body
            loads = [_page_load(base, ANOTHER, timeout=10) for _ in range(10)]
        finally:
            stop.set()
            for thread in flood:
                thread.join(timeout=30)
    print(f"\npage loads beside one flooding circuit: slowest {max(loads):.3f} s")
    assert max(loads) < 2.0


def test_one_circuit_cannot_fill_a_workers_connections(tmp_path: Path) -> None:
    """A worker takes at most `worker_connections` (1000) at once, counting heads still
    coming and kept-alive ones. Heads never finished, all from one circuit, filled them:
    the worker took no other connection until they timed out, and were sent again."""
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=1, env={"RAAZDAR_TOR_CIRCUITS": "1"}) as base:
        held = []
        try:
            for _ in range(WORKER_CONNECTIONS):
                sock = socket.create_connection(_address(base), timeout=10)
                held.append(sock)
                sock.sendall(tor_line(FLOODED) + b"GET / HTTP/1.1\r\nHost: x.onion\r\n")
            time.sleep(1)
            loads = [_page_load(base, ANOTHER, timeout=10) for _ in range(3)]
        finally:
            for sock in held:
                sock.close()
    assert max(loads) < 2.0


def test_many_circuits_cannot_fill_a_workers_connections(tmp_path: Path) -> None:
    """Each circuit may hold 32 connections of a worker (and tor lets it open 32 streams), so
    thirty-two circuits, each holding 32 heads never finished, filled the worker's 1,000
    connections: it took no other until the heads timed out (20 s), and they were sent again.
    A connection of a circuit holding fewer now takes the place of a head still coming of
    the circuit holding the most."""
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=1, env={"RAAZDAR_TOR_CIRCUITS": "1"}) as base:
        held = []
        try:
            for circuit in range(300, 300 + WORKER_CONNECTIONS // 32 + 1):
                for _ in range(32):
                    sock = socket.create_connection(_address(base), timeout=10)
                    held.append(sock)
                    sock.sendall(tor_line(circuit) + b"GET / HTTP/1.1\r\nHost: x.onion\r\n")
            time.sleep(1)
            loads = []
            for circuit in FRESH_CIRCUITS[:3]:
                with contextlib.suppress(OSError):
                    loads.append(_page_load(base, circuit, timeout=10))
        finally:
            for sock in held:
                sock.close()
    assert len(loads) == 3, f"{3 - len(loads)} of 3 other circuits got no page in 10 s"
    assert max(loads) < 2.0


def test_a_circuit_asking_for_more_at_once_than_its_share_is_answered_in_full(
    tmp_path: Path,
) -> None:
    """A browser fetches a page's parts at once on one circuit: past the circuit's share
    of threads they wait their turn, holding none, and every one is answered."""
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=1, env={"RAAZDAR_TOR_CIRCUITS": "1"}) as base:
        times: list[float] = []
        fetchers = [
            threading.Thread(target=lambda: times.append(_page_load(base, ANOTHER, timeout=20)))
            for _ in range(3 * CIRCUIT_THREADS)
        ]
        for thread in fetchers:
            thread.start()
        for thread in fetchers:
            thread.join(timeout=60)
    assert len(times) == 3 * CIRCUIT_THREADS


def test_gunicorn_does_not_name_itself(shared: SharedServer) -> None:
    answer = _raw(
        shared.url, b"GET /static/style.css HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n"
    )
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200")
    assert b"\r\nserver:" not in head
    assert b"\r\netag:" not in head
    assert b"\r\nlast-modified:" not in head


def _answer(sock: socket.socket) -> bytes:
    """Read one answer of a kept-alive connection: its head and the body it announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head = data.split(b"\r\n\r\n", 1)[0]
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(data) < len(head) + 4 + length:
        data += sock.recv(65536)
    return data


def test_a_closing_answer_takes_the_bytes_of_a_kept_alive_one(shared: SharedServer) -> None:
    server = shared.url
    # gunicorn says `Connection: close` or `Connection: keep-alive`, five bytes apart,
    # after the app padded the page: a server under load closes more connections, and a
    # client that asks it to close was answered in fewer bytes than its neighbours.
    request = b"GET /login HTTP/1.1\r\nHost: x.onion\r\n%s\r\n"
    closing = _raw(server, request % b"Connection: close\r\n")
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(request % b"")
        kept = _answer(sock)
    assert b"\r\nconnection: keep-alive" in kept.lower()
    assert b"\r\nconnection: close" in closing.lower()
    assert len(closing) == len(kept), f"closing {len(closing)} bytes, kept alive {len(kept)}"


@pytest.mark.parametrize("host", [b"a" * 64 + b".onion", b"a..b"])
def test_a_malformed_host_is_a_normal_400_page_and_no_log_line(
    shared: SharedServer, host: bytes
) -> None:
    server, server_log = shared.url, shared.log
    before = server_log.read_bytes()
    request = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    answers = [_raw(server, request) for _ in range(5)]
    time.sleep(0.5)  # anything logged is logged after the answer
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        assert b"content-security-policy:" in head.lower()
        assert b"<html" in body
    assert server_log.read_bytes() == before


# Requests gunicorn's parser refuses itself, before the app (and its headers) is reached;
# each carries a marker that the answer must not repeat.
MALFORMED = {
    "request line": b"GET /MARKER HTTP/1.1 extra\r\nHost: x.onion\r\n\r\n",
    "method": b"G<T /MARKER HTTP/1.1\r\nHost: x.onion\r\n\r\n",
    "long request line": b"GET /MARKER" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x.onion\r\n\r\n",
    "long header": b"GET / HTTP/1.1\r\nHost: x.onion\r\nX-MARKER: " + b"a" * 9000 + b"\r\n\r\n",
    "header name": b"GET / HTTP/1.1\r\nHost: x.onion\r\nX MARKER: 1\r\n\r\n",
    "content length": b"POST / HTTP/1.1\r\nHost: x.onion\r\nContent-Length: MARKER\r\n\r\n",
    "chunk size": b"POST /login HTTP/1.1\r\nHost: x.onion\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nMARKER\r\n",
    # A field folded over two lines, a length said twice, HTTP/2's preface (h2c is off).
    "folded field": b"GET / HTTP/1.1\r\nHost: x.onion\r\nX-A: 1\r\n MARKER\r\n\r\n",
    "two lengths": b"POST /login HTTP/1.1\r\nHost: x.onion\r\nContent-Length: 6\r\n"
    b"Content-Length: 7\r\n\r\nMARKER",
    "http/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nMARKER",
}


@pytest.mark.parametrize("request_", MALFORMED.values(), ids=MALFORMED.keys())
def test_gunicorns_own_refusals_carry_the_strict_headers_and_repeat_nothing(
    shared: SharedServer, request_: bytes
) -> None:
    server = shared.url
    # gunicorn answers these itself (util.write_error): an HTML page with no
    # Cache-Control, no CSP and no framing rule, repeating the request's words.
    head, _, body = _raw(server, request_).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 4") or status.startswith(b"HTTP/1.1 5"), status
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
    }
    missing = {
        name: value
        for name, value in HEADERS.items()
        if fields.get(name.lower().encode()) != value.encode()
    }
    assert missing == {}, f"{status!r} lacks {sorted(missing)}"
    assert b"MARKER" not in body.upper()


def test_a_range_asked_of_a_page_or_a_file_is_answered_whole(shared: SharedServer) -> None:
    """A part of a page (`Range`) would say where its padding begins, and a part of a large
    answer asked again and again would cost a flood less of its pace a byte: neither the
    worker nor the app answers one (no `conditional` response), whatever is asked."""
    for path in (b"/login", b"/static/style.css"):
        ask = b"GET " + path + b" HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n"
        whole = _raw(shared.url, ask + b"\r\n")
        for asked in (b"bytes=0-9", b"bytes=-10", b"bytes=0-0,5-5"):
            part = _raw(shared.url, ask + b"Range: " + asked + b"\r\n\r\n")
            assert part.startswith(b"HTTP/1.1 200 "), (path, asked, part[:40])
            assert b"\r\ncontent-range:" not in part.lower()
            assert len(part) == len(whole), (path, asked)


def test_a_body_read_into_a_buffer_keeps_the_body_deadline() -> None:
    server, client = socket.socketpair()
    with client, _paced(server) as paced:
        paced.setblocking(True)
        view = memoryview(bytearray(10))
        client.sendall(b"abc")
        deadline = paced.body_deadline = time.monotonic() + 0.3
        assert paced.recv_into(view) == 3
        assert paced.body_deadline == deadline + 3 / BODY_MIN_RATE
        started = time.monotonic()
        with pytest.raises(BodyTooSlow):
            paced.recv_into(view)  # nothing more comes: no waiting past the deadline
        assert time.monotonic() - started < 2
        client.sendall(b"late")
        paced.body_deadline = time.monotonic() - 1
        with pytest.raises(BodyTooSlow):
            paced.recv_into(view)  # behind already: cut off, bytes waiting or not
        assert paced.gettimeout() is None  # the socket is left blocking, as gunicorn set it


# Circuits that each send more slow bodies than a worker serves of one circuit at once:
# four per worker's sixteen threads are enough to hold every thread of both workers.
FLOOD_CIRCUITS = range(100, 106)
FLOOD_PER_CIRCUIT = 24
FRESH_CIRCUITS = range(5000, 5008)
SLOW_SOURCE = 42
CHUNK = 256 * 1024
PAGE_PARTS = 3


def _fresh_circuits_beside(
    source: threading.Thread,
    flood: list[threading.Thread],
    stop: threading.Event,
    fresh: Callable[[int], None],
    wait: float,
) -> bool:
    """Start the source's body, then the flood; once every thread of both workers is reading
    a slow body, load a page on each of `FRESH_CIRCUITS` at once (`fresh`, each given `wait`
    seconds); then stop them all. Whether the source was still sending at the end."""
    source.start()
    time.sleep(1)  # the source's body is being read before the flood comes
    for thread in flood:
        thread.start()
    try:
        time.sleep(4)  # every thread of both workers is reading a slow body
        fresh_loads = [threading.Thread(target=fresh, args=(c,)) for c in FRESH_CIRCUITS]
        for thread in fresh_loads:
            thread.start()
        for thread in fresh_loads:
            thread.join(timeout=wait)
        return source.is_alive()
    finally:
        stop.set()
        for thread in [source, *flood]:
            thread.join(timeout=30)


def test_a_few_circuits_of_slow_bodies_cannot_lock_every_other_circuit_out(
    tmp_path: Path,
) -> None:
    """The cap of `CIRCUIT_THREADS` is per worker: six circuits, each keeping two dozen bodies
    just above the least rate, held every thread of both workers, for as long as the bodies
    last (hours), and a page for any other circuit waited behind them. A request of a circuit
    holding no thread now takes the thread of the slowest body of the circuit holding the most,
    and a source sending one body, slower than any of the flood's, is never the one."""
    instance = demo_instance(tmp_path / "instance")
    log = tmp_path / "gunicorn.log"
    answers: list[bytes] = []
    env = {"RAAZDAR_TOR_CIRCUITS": "1"}
    source_answers: list[bytes] = []
    with live_server(instance, workers=2, log=log, env=env) as base:
        stop = threading.Event()
        source = threading.Thread(
            target=_trickle,
            args=(base, SLOW_SOURCE, stop, source_answers),
            kwargs={"rate": 1.1},
        )
        flood = [
            threading.Thread(target=_trickle, args=(base, circuit, stop, answers))
            for circuit in FLOOD_CIRCUITS
            for _ in range(FLOOD_PER_CIRCUIT)
        ]
        served: list[int] = []

        def fresh(circuit: int) -> None:
            # A browser: the page, then its parts at once, on the circuit's own connections.
            with contextlib.suppress(OSError):
                _page_load(base, circuit, timeout=10)
                parts: list[float] = []
                fetchers = [
                    threading.Thread(
                        target=lambda: parts.append(_page_load(base, circuit, timeout=10))
                    )
                    for _ in range(PAGE_PARTS)
                ]
                for thread in fetchers:
                    thread.start()
                for thread in fetchers:
                    thread.join(timeout=30)
                if len(parts) == PAGE_PARTS:
                    served.append(circuit)

        source_sending = _fresh_circuits_beside(source, flood, stop, fresh, wait=30)
    print(f"\nfresh circuits served beside the flood: {len(served)} of {len(FRESH_CIRCUITS)}")
    assert len(served) == len(FRESH_CIRCUITS), (
        f"{len(served)} of {len(FRESH_CIRCUITS)} fresh circuits were served"
    )
    # A pre-empted body is told to come again (the API's uploads resume), and nothing is logged.
    print(f"flooding bodies pre-empted with an answer: {len(answers)}")
    assert answers, "no flooding body was pre-empted"
    for head in answers:
        assert head.startswith(b"HTTP/1.1 503"), head.split(b"\r\n", 1)[0]
        assert b"\r\nretry-after: " in head.lower()
    assert b"unexpected" not in log.read_bytes()
    assert source_sending, f"the slow source's one body was cut off: {source_answers}"


class _PreemptedBody(io.BytesIO):
    """A request body whose read is pre-empted by the worker after `arrived` bytes."""

    def __init__(self, body: bytes, arrived: int) -> None:
        super().__init__(body[:arrived])
        self.arrived = arrived

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.arrived:
            raise BodyPreempted
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        if self.tell() >= self.arrived:
            raise BodyPreempted
        return super().readinto(buffer)


def test_a_pre_empted_chunk_is_a_503_to_resume_and_leaves_nothing(
    device: ApiClient, envelope: bytes, instance: Path
) -> None:
    """The API's answer to a chunk the worker pre-empted: 503 with Retry-After in the API's
    shape, the chunk discarded whole, and the upload resumed from the offset it had."""
    response = device.start_upload(envelope)
    assert response.status_code == 201
    upload = response.get_json()["upload"]
    first = device.patch(upload, 0, envelope[:CHUNK])
    assert first.status_code == 200
    before = staging_files(instance)
    path = f"{API}/uploads/{upload}"
    chunk = envelope[CHUNK:]
    cut = device.client.open(
        path,
        method="PATCH",
        input_stream=_PreemptedBody(chunk, CHUNK // 2),
        content_type=resumable.OFFSET_CONTENT_TYPE,
        headers=device.headers("PATCH", path, chunk, offset=CHUNK),
        environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
    )
    device.challenge = cut.headers.get("Raazdar-Next-Challenge")
    assert cut.status_code == 503, cut.get_data(as_text=True)
    assert cut.get_json()["error"] == "unavailable"
    assert cut.headers["Retry-After"] == str(PREEMPTED_RETRY_AFTER)
    assert staging_files(instance) == before
    head = device.offset(upload)
    assert int(head.headers["Upload-Offset"]) == CHUNK
    rest = device.patch(upload, CHUNK, chunk)
    assert rest.status_code == 200, rest.get_data(as_text=True)
    assert rest.get_json()["complete"] is True


def _body_after_head(base: str, circuit: int) -> bytes:
    """Send a form's head, then its body a moment later; return the answer's head. (Longer
    than a login's: the main loop reads the body of a form as short itself, `_short_form`.)"""
    body = b"codename=" + b"x" * 5000
    with socket.create_connection(_address(base), timeout=10) as sock:
        sock.sendall(
            tor_line(circuit) + b"POST /login HTTP/1.1\r\nHost: x.onion\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        time.sleep(0.3)
        sock.sendall(body)
        return sock.recv(65536).partition(b"\r\n\r\n")[0]


def test_a_pre_empted_report_form_is_a_busy_page_and_leaves_nothing(tmp_path: Path) -> None:
    """A browser's report whose body is pre-empted is answered 503 with Retry-After (the
    busy page), and the file it was sealing is let go: nothing stays in staging or holding."""
    instance = demo_instance(tmp_path / "instance")
    env = {"RAAZDAR_TOR_CIRCUITS": "1", "RAAZDAR_THREADS": str(CIRCUIT_THREADS)}
    with live_server(instance, workers=1, env=env) as base:
        connection = TorConnection(*_address(base), 10, FLOODED)
        try:
            cookie, fields = submit_form(connection)
        finally:
            connection.close()
        body, content_type = multipart(
            [*fields.items(), ("message", "slow")],
            [("files", "slow.bin", os.urandom(300_000), "application/octet-stream")],
        )
        request = (
            f"POST /submit HTTP/1.1\r\nHost: x.onion\r\nCookie: {cookie}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        before = left_behind(instance)
        stop = threading.Event()
        heads: list[bytes] = []
        senders = [
            threading.Thread(
                target=_trickle,
                args=(base, FLOODED, stop, heads),
                kwargs={"request": request, "first": 64 * 1024},
            )
            for _ in range(CIRCUIT_THREADS)
        ]
        for thread in senders:
            thread.start()
        try:
            time.sleep(2)  # every thread is sealing a slow report's file
            assert len(left_behind(instance)) > len(before)
            # A request whose body comes after its head: the threads kept for requests
            # that came whole (`QUICK_THREADS`) would serve a page without pre-empting.
            assert _body_after_head(base, ANOTHER).startswith(b"HTTP/1.1 ")
            deadline = time.monotonic() + 10
            while not heads and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in senders:
                thread.join(timeout=30)
        assert len(heads) == 1, heads
        assert heads[0].startswith(b"HTTP/1.1 503"), heads[0].split(b"\r\n", 1)[0]
        assert f"\r\nretry-after: {PREEMPTED_RETRY_AFTER}\r\n".encode() in heads[0].lower()
        deadline = time.monotonic() + 30
        while left_behind(instance) != before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left_behind(instance) == before


# One slow body from each of more circuits than both workers have threads (2 x 16): no
# circuit holds two of a worker's threads, so none is pre-empted by the k + 2 rule.
WIDE_FLOOD = range(200, 264)


def _flooding_body(base: str, circuit: int, stop: threading.Event, answers: list[bytes]) -> None:
    """One slow body at a time from `circuit`, sent again as soon as it is answered."""
    while not stop.is_set():
        _trickle(base, circuit, stop, answers)
        stop.wait(0.2)


def test_one_slow_body_on_each_of_many_circuits_cannot_lock_every_other_circuit_out(
    tmp_path: Path,
) -> None:
    """Sixty-four circuits, each sending one body just above the least rate (and again when
    it is answered), held every thread of both workers for as long as the bodies last (a
    1 MiB body, half an hour): a page for any other circuit waited behind them. While every
    thread is taken, a body slower than `SCARCE_BODY_RATE` now gives its thread up to a
    circuit holding none; a source sending above that rate keeps its own."""
    instance = demo_instance(tmp_path / "instance")
    log = tmp_path / "gunicorn.log"
    answers: list[bytes] = []
    source_answers: list[bytes] = []
    served: list[float] = []
    with live_server(instance, workers=2, log=log, env={"RAAZDAR_TOR_CIRCUITS": "1"}) as base:
        stop = threading.Event()
        rate = 1.5 * SCARCE_BODY_RATE / BODY_MIN_RATE
        source = threading.Thread(
            target=_trickle, args=(base, SLOW_SOURCE, stop, source_answers), kwargs={"rate": rate}
        )
        flood = [
            threading.Thread(target=_flooding_body, args=(base, circuit, stop, answers))
            for circuit in WIDE_FLOOD
        ]

        def fresh(circuit: int) -> None:
            with contextlib.suppress(OSError):
                served.append(_page_load(base, circuit, timeout=30))

        source_sending = _fresh_circuits_beside(source, flood, stop, fresh, wait=60)
    slowest = f"slowest {max(served):.1f} s" if served else "none"
    print(f"\nfresh circuits served beside a wide flood: {len(served)} of 8, {slowest}")
    assert len(served) == len(FRESH_CIRCUITS), (
        f"{len(served)} of {len(FRESH_CIRCUITS)} fresh circuits were served"
    )
    for head in answers:
        assert head.startswith(b"HTTP/1.1 503"), head.split(b"\r\n", 1)[0]
    assert b"unexpected" not in log.read_bytes()
    assert source_sending, (
        f"the source's one body, above the scarce rate, was cut: {source_answers}"
    )


# One body from each of more circuits than the worker has threads (4 here), each kept above
# `SCARCE_BODY_RATE`: no body lags, so none is pre-empted for a circuit holding no thread.
ABOVE_SCARCE_FLOOD = range(600, 606)


def test_bodies_just_above_the_scarce_rate_cannot_keep_pages_and_logins_from_anyone(
    tmp_path: Path,
) -> None:
    """A body kept just above `SCARCE_BODY_RATE` (4 KiB/s) on each of a few hundred circuits
    held every thread of every worker, and no other circuit was even accepted: its page, its
    login, its short form waited for as long as the flood's bodies lasted. A request whose
    body came whole with its head now takes one of `QUICK_THREADS`, kept for such."""
    instance = demo_instance(tmp_path / "instance")
    env = {"RAAZDAR_TOR_CIRCUITS": "1", "RAAZDAR_THREADS": str(CIRCUIT_THREADS)}
    rate = 1.5 * SCARCE_BODY_RATE / BODY_MIN_RATE
    served: list[float] = []
    with live_server(instance, workers=1, env=env) as base:
        stop = threading.Event()
        flood = [
            threading.Thread(target=_trickle, args=(base, circuit, stop), kwargs={"rate": rate})
            for circuit in ABOVE_SCARCE_FLOOD
        ]
        for thread in flood:
            thread.start()
        try:
            time.sleep(2)  # every thread reads a body (none will lag)
            for circuit in FRESH_CIRCUITS[:3]:
                with contextlib.suppress(OSError):
                    served.append(_page_load(base, circuit, timeout=5))
            # A page's parts at once, more than the kept threads: each waits its turn for one.
            parts: list[float] = []
            fetchers = [
                threading.Thread(target=lambda: parts.append(_page_load(base, ANOTHER, 10)))
                for _ in range(3 * QUICK_THREADS)
            ]
            for thread in fetchers:
                thread.start()
            for thread in fetchers:
                thread.join(timeout=20)
            flooding = sum(thread.is_alive() for thread in flood)
        finally:
            stop.set()
            for thread in flood:
                thread.join(timeout=30)
    assert flooding == len(ABOVE_SCARCE_FLOOD), "the flood's bodies were cut, not held"
    assert len(served) == 3, f"{3 - len(served)} of 3 other circuits got no page in 5 s"
    assert max(served) < 2.0
    assert len(parts) == 3 * QUICK_THREADS, f"{len(parts)} of a page's 12 parts came in 10 s"


@pytest.mark.parametrize(
    ("head", "whole"),
    [
        (b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n", True),
        (b"POST /login HTTP/1.1\r\nContent-Length: 9\r\n\r\ncodename=", True),
        (b"POST /login HTTP/1.1\r\nContent-Length: 9\r\n\r\ncode", False),
        (b"POST /login HTTP/1.1\r\ncontent-length:  9 \r\n\r\ncodename=", True),
        (b"POST /login HTTP/1.1\r\nContent-Length: 9\r\nContent-Length: 0\r\n\r\n", False),
        (b"POST /login HTTP/1.1\r\nContent-Length : 9\r\n\r\n", False),
        (b"POST /login HTTP/1.1\r\nX: 1\r\n content-length: 9\r\n\r\n", False),
        (b"POST /login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False),
        (b"POST /login HTTP/1.1\r\nContent-Length: 9\r\n", False),
    ],
)
def test_only_a_request_whose_body_is_all_here_is_whole(head: bytes, whole: bool) -> None:
    """A thread kept for whole requests must never wait on a client: any head whose body
    might still be coming (however its length is spelt) is not whole."""
    assert _whole(head) is whole


# A worker of `CIRCUIT_THREADS` threads (and its kept ones), one derivation slot with room to wait
# for it, started under a soft limit of `LOW_FILES` open files: shared by the attacks below
# (each on circuits of its own), so that they start one server, not one each.
LOW_FILES = 128


@dataclass
class SmallWorker:
    instance: Path
    base: str
    log: Path


@contextlib.contextmanager
def _soft_file_limit(soft: int) -> Iterator[None]:
    """Lower this process's soft limit on open files for the block (what it starts inherits),
    as systemd starts a service (a soft 1,024 under a hard limit far above)."""
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, old)


@pytest.fixture(scope="module")
def small_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallWorker]:
    """One worker of four threads, tor naming circuits, one derivation slot (16 places)."""
    root = tmp_path_factory.mktemp("small-worker")
    instance, log = demo_instance(root / "instance"), root / "gunicorn.log"
    env = {
        "RAAZDAR_TOR_CIRCUITS": "1",
        "RAAZDAR_THREADS": str(CIRCUIT_THREADS),
        "RAAZDAR_KDF_SLOTS": "1",
        "RAAZDAR_KDF_QUEUE": "16",
    }
    with contextlib.ExitStack() as server:
        with _soft_file_limit(LOW_FILES):  # gunicorn's alone: this process holds the floods
            base = server.enter_context(live_server(instance, workers=1, log=log, env=env))
        yield SmallWorker(instance, base, log)


# Logins from a few circuits, two each (`kdf_pool.PLACES_PER_CIRCUIT`): as many as the worker's
# threads (4 here) and its kept ones together, all waiting for the one derivation slot.
LOGIN_FLOOD = [circuit for circuit in range(800, 804) for _ in range(2)]


def test_logins_waiting_for_derivations_cannot_hold_the_threads_kept_for_pages(
    small_worker: SmallWorker,
) -> None:
    """A login comes whole with its head, so while every other thread was busy it took one of
    `QUICK_THREADS`; and it holds that thread while it waits for a derivation slot (up to
    `KDF_WAIT_SECONDS`). Logins from a few circuits, sent again as they are answered, held every
    kept thread, and no page was served to anyone. Now only some of them may wait there; a
    login past those is given its form back, busy, at once."""
    instance, base = small_worker.instance, small_worker.base
    statuses: list[int] = []
    served: list[float] = []

    def login(circuit: int) -> None:
        with contextlib.suppress(OSError):
            browser, status, _ = log_in(base, generate_codename(), circuit)
            browser.close()
            statuses.append(status)

    # Every slot taken, as other workers' (or hosts') derivations would hold them.
    with locks_held(kdf_pool.slot_paths(instance, 1)):
        logins = [threading.Thread(target=login, args=(c,)) for c in LOGIN_FLOOD]
        for thread in logins:
            thread.start()
        time.sleep(1.5)  # every login waits for the slot
        with contextlib.suppress(OSError):
            served.append(_page_load(base, ANOTHER, timeout=3))
    for thread in logins:
        thread.join(timeout=30)
    assert served, "no page was served while logins waited for a derivation slot"
    assert len(statuses) == len(LOGIN_FLOOD), "a login went unanswered"
    assert set(statuses) <= {200, 303, 503}, statuses


# Kept-alive connections whose next request's head comes a byte at a time, as many as the
# worker's threads (4 here).
KEPT_ALIVE_DRIPS = range(900, 900 + CIRCUIT_THREADS)


def _drip_next_head(base: str, circuit: int, stop: threading.Event, answers: list[bytes]) -> None:
    """Load a page with the next request's first bytes behind it, then drip the rest of that
    head; keep what the server answers to it."""
    with contextlib.suppress(OSError), socket.create_connection(_address(base), timeout=30) as sock:
        sock.sendall(tor_line(circuit) + b"GET /login HTTP/1.1\r\nHost: x.onion\r\n\r\nGET /lo")
        first = b""
        while b"</html>" not in first:
            if not (chunk := sock.recv(65536)):
                return
            first += chunk
        for byte in b"gin HTTP/1.1\r\nHost: x.onion\r\nX-Drip: " + b"x" * 64:
            if stop.wait(0.5):
                return
            sock.sendall(bytes([byte]))
            if select.select([sock], [], [], 0)[0]:
                answers.append(sock.recv(65536).partition(b"\r\n")[0])
                return


def test_a_next_head_dripped_on_a_kept_alive_connection_holds_no_thread_and_logs_nothing(
    small_worker: SmallWorker,
) -> None:
    """The main loop read a new connection's head, but a kept-alive connection whose next
    head had begun behind the last request went straight to a thread, which waited for the
    rest of it under a body's deadline: a few such held every thread, and the one pre-empted
    for another circuit's form (or fallen behind) was answered 500 with a line in the log,
    "Error handling request: BodyPreempted". Its head is now read in the main loop too."""
    base, log = small_worker.base, small_worker.log
    answers: list[bytes] = []
    stop = threading.Event()
    drips = [
        threading.Thread(target=_drip_next_head, args=(base, circuit, stop, answers))
        for circuit in KEPT_ALIVE_DRIPS
    ]
    for thread in drips:
        thread.start()
    try:
        time.sleep(1.5)  # every page is answered, and every next head is dripping
        started = time.monotonic()
        form = _body_after_head(base, ANOTHER)
        took = time.monotonic() - started
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in drips:
            thread.join(timeout=30)
    assert form.split(b"\r\n", 1)[0] != b"", "another circuit's form went unanswered"
    assert took < 2.0, f"another circuit's form waited {took:.1f} s for a thread"
    assert answers == [], f"a dripping head was answered: {answers}"
    assert b"Error handling request" not in log.read_bytes(), log.read_text()


@contextlib.contextmanager
def _busy_worker(app: Any, threads: int = CIRCUIT_THREADS) -> Iterator[HeadFirstWorker]:
    """A worker serving `app` in this process (no accept loop), every request thread taken:
    what is handed to it is served by its threads as in gunicorn, the rest waits its turn."""
    cfg = Config()
    cfg.set("threads", threads)
    worker = HeadFirstWorker(0, os.getpid(), [], None, 30, cfg, Logger(cfg))
    worker.wsgi = app
    worker.tpool = worker.get_thread_pool()
    worker.poller = selectors.DefaultSelector()
    worker.method_queue.init()
    worker.in_flight = threads
    try:
        yield worker
    finally:
        worker.tpool.shutdown(wait=True)
        if worker.quick_pool is not None:
            worker.quick_pool.shutdown(wait=True)
        worker.method_queue.close()
        worker.poller.close()
        worker.tmp.close()


def report_request(app: Any, message: str, file_size: int) -> tuple[bytes, bytes]:
    """A first report's request, as a browser sends it: its head (cookie, a codename offered to
    it) and its multipart body (`message`, then a file of `file_size` random bytes)."""
    visitor = Visitor(app.test_client())
    page = visitor.start()
    cookie = visitor.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    body, content_type = multipart(
        [*page.fields.items(), ("message", message)],
        [("files", "ledger.bin", os.urandom(file_size), "application/octet-stream")],
    )
    head = (
        f"POST /submit HTTP/1.1\r\nHost: x.onion\r\nCookie: {cookie.key}={cookie.value}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head, body


def test_a_report_that_waited_its_turn_too_long_is_answered_busy_with_its_form(
    app: Any,
) -> None:
    """A report whose body was still coming, finding every thread busy and none to pre-empt,
    waited its turn holding no thread; past `WAIT_SECONDS` it was closed unanswered, and the
    source's report was lost with it. It now gets a kept thread that reads what has come, no
    more, and is answered as a pre-empted body is: busy, its form (the message) given back."""
    head, body = report_request(app, "the station's records, page one", 64 * 1024)
    client, server = socket.socketpair()
    with client, _busy_worker(app) as worker:
        conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
        conn.circuit, conn.head = ANOTHER, head
        worker.nr_conns += 1
        worker._to_thread(conn)
        assert conn in worker.waiting_until, "the report found a thread"
        client.sendall(body[: len(body) // 2])  # its body goes on coming while it waits
        worker.waiting_until[conn] = (time.monotonic() - 1, ANOTHER)
        worker.murder_pending()
        client.settimeout(10)
        answer = b""  # closed unanswered, the body unread: reset
        with contextlib.suppress(ConnectionResetError):
            while b"</html>" not in answer and (chunk := client.recv(65536)):
                answer += chunk
    conn.close()  # as the worker's main loop does once the thread is done
    assert answer.startswith(b"HTTP/1.1 503"), f"the waiting report was answered {answer[:40]!r}"
    assert f"\r\nretry-after: {PREEMPTED_RETRY_AFTER}\r\n".encode() in answer.lower()
    assert b"the station&#39;s records, page one" in answer, "the report's message was lost"


def test_a_report_still_coming_when_the_worker_stops_is_answered_busy_with_its_form(
    app: Any,
) -> None:
    """A worker told to stop (a restart, a reload) served its requests until its
    `graceful_timeout` ran out, then was killed: a report whose body was still coming over a
    slow circuit was cut unanswered, and lost. Before that end its body is now pre-empted, and
    it is answered busy, its form (the message) given back."""
    head, body = report_request(app, "the inspector's second phone", 256 * 1024)
    client, server = socket.socketpair()
    with client, _busy_worker(app) as worker:
        worker.in_flight = 0  # a thread is free: the report is served, its body read there
        conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
        conn.circuit, conn.head = ANOTHER, head
        worker.nr_conns += 1
        worker._to_thread(conn)
        client.sendall(body[: len(body) // 2])  # the rest comes slowly, or not yet
        deadline = time.monotonic() + 10
        while not conn.sock.waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.alive = False  # SIGTERM
        worker.murder_pending()
        worker.stopping_since = time.monotonic() - worker.cfg.graceful_timeout
        worker.murder_pending()
        client.settimeout(5)
        answer = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while b"</html>" not in answer and (chunk := client.recv(65536)):
                answer += chunk
        client.shutdown(socket.SHUT_WR)  # let an unanswered request's thread end
    conn.close()
    assert answer.startswith(b"HTTP/1.1 503"), f"the report was answered {answer[:40]!r}"
    assert b"the inspector&#39;s second phone" in answer, "the report's message was lost"


# Heads never finished, from a few circuits (each under its share of a worker's connections):
# more than a worker started under a soft limit of `LOW_FILES` open files may hold.
FILE_FLOOD = range(1000, 1007)
FILE_FLOOD_HEADS = 24


def test_connections_past_the_open_file_limit_cannot_kill_a_worker(
    small_worker: SmallWorker,
) -> None:
    """A worker takes up to `worker_connections` (1,000) and 32 more, but systemd starts a
    service with a soft limit of 1,024 open files: heads never finished from a few dozen
    circuits made accept() fail with EMFILE, which killed the worker ("Exception in worker
    process"), and with it every source's upload it was reading. A worker now raises its soft
    limit to what its connections need (within the hard limit), and an accept() that finds no
    descriptor free stops accepting a moment instead of dying."""
    base, log = small_worker.base, small_worker.log
    before = worker_pids(small_worker.instance)
    held: list[socket.socket] = []
    try:
        for circuit in FILE_FLOOD:
            for _ in range(FILE_FLOOD_HEADS):
                sock = socket.create_connection(_address(base), timeout=10)
                held.append(sock)
                sock.sendall(tor_line(circuit) + b"GET / HTTP/1.1\r\nHost: x.onion\r\n")
        time.sleep(1)
        page = _page_load(base, ANOTHER, timeout=10)
    finally:
        for sock in held:
            sock.close()
    assert worker_pids(small_worker.instance) == before, f"the worker died: {log.read_text()}"
    assert page < 2.0
    assert b"Exception in worker process" not in log.read_bytes()


class _NoDescriptors:
    """A listener whose accept() finds no descriptor free (EMFILE)."""

    def accept(self) -> tuple[socket.socket, Any]:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))


def test_an_accept_that_finds_no_descriptor_free_pauses_accepting() -> None:
    """Past the hard limit (or the system's), accept() fails with EMFILE: the worker died of
    it. It now stops accepting a moment (the loop would spin on the listener otherwise)."""
    with _busy_worker(None) as worker:
        worker.in_flight = 0
        worker._connections = 1000
        worker.accept(_NoDescriptors())
        assert worker.worker_connections == 0, "the worker goes on accepting"


def test_a_head_longer_than_the_main_loop_reads_is_refused_there(
    small_worker: SmallWorker,
) -> None:
    """The main loop reads heads up to 16 KiB, but gunicorn takes heads of fifty 8 KiB fields
    (some 400 KiB): a longer head went to a thread, which waited for the rest under a body's
    deadline, the rest dripped at 500 bytes a second for some ten minutes a thread. No browser
    sends such a head: it is answered 400 in the main loop, holding no thread."""
    fields = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"x" * 8000) for n in range(9))
    with socket.create_connection(_address(small_worker.base), timeout=10) as sock:
        sock.sendall(tor_line(1100) + b"GET / HTTP/1.1\r\nHost: x.onion\r\n" + fields)
        ready = select.select([sock], [], [], 3)[0]
        answer = sock.recv(65536) if ready else b""
    assert answer.startswith(b"HTTP/1.1 400 "), f"the long head was answered {answer[:30]!r}"
    assert b"Error handling request" not in small_worker.log.read_bytes()
