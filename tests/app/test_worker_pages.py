"""Every answer the worker, or gunicorn under it, builds itself, as a source's browser gets it.

The app pads every source page to one size on the wire (`app.source.sizes`) and
writes it in the source's language. The answers built under it (a circuit past its
pace, a request past its circuit's waiting ones, a head too long, a connection finding
no place, gunicorn's own refusals of a malformed request) were a short plain-text
`503 Service Unavailable` in English, or a short page: their size on the wire (one
cell, or a few) told whoever counts cells that the source was refused, and why.

Unit-level: a worker built in this process (`tests.app.test_worker._busy_worker`), fed
connections over socket pairs, each path driven as the main loop or a thread drives it.
"""

from __future__ import annotations

import ast
import contextlib
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from gunicorn.workers.gthread import TConn

from app import circuits
from app.security import HEADERS
from app.source.sizes import wire_size
from app.worker import HeadFirstWorker
from app.worker_reads import _paced
from app.worker_turns import CIRCUIT_THREADS, CIRCUIT_WAITING
from tests.app.live import tor_line
from tests.app.support import TRANSLATIONS
from tests.app.test_worker import _busy_worker

APP = Path(__file__).resolve().parents[2] / "app"
# Circuits of these tests' own (the tables of `app.circuits` are shared by the whole process).
PACED, QUEUED, LATE = 0x7A130001, 0x7A130002, 0x7A130003

_BUSY = (
    "The server is busy",
    "Too many people are using this site right now. Nothing you sent was stored. "
    "Please try again in a minute.",
)
_REFUSED = ("Request refused", "The request could not be understood. Nothing was stored.")


def _hello(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _connection(worker: HeadFirstWorker, circuit: int | None) -> tuple[Any, socket.socket]:
    """A connection of `circuit` the worker holds, and its client's end."""
    client, server = socket.socketpair()
    conn = TConn(worker.cfg, _paced(server), ("127.0.0.1", 1), ("127.0.0.1", 2))
    conn.circuit = circuit
    worker.nr_conns += 1
    if circuit is not None:
        worker.circuit_conns.setdefault(circuit, []).append(conn)
    return conn, client


def _answer(client: socket.socket) -> bytes:
    """All the worker answers on `client`'s connection, until it closes it."""
    client.settimeout(10)
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := client.recv(65536):
            answer += chunk
    return answer


@pytest.fixture(autouse=True)
def _pool_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets the sources' circuits' pool whole, and spends it on its own."""
    monkeypatch.setattr(circuits, "_shared", memoryview(bytearray(8)).cast("q"))


def _paced_page(worker: HeadFirstWorker) -> bytes:
    """A page asked for on a circuit past its turns (`_head_in`), and the pool they share for a
    while (`circuits.SHARED_BURST`: it gets one back each 62.5 ms)."""
    while not circuits.take_circuit_turn(PACED):
        pass
    circuits._shared[0] = time.monotonic_ns() + 3600 * 10**9
    conn, client = _connection(worker, PACED)
    with client:
        worker.enqueue_req(conn)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n")
        worker._read_head(conn, conn.sock)
        return _answer(client)


def _page_past_waiting(worker: HeadFirstWorker) -> bytes:
    """A page past its circuit's waiting ones (`_wait_turn`)."""
    worker.circuit_load[QUEUED] = CIRCUIT_THREADS
    held = []
    for _ in range(CIRCUIT_WAITING + 1):
        conn, client = _connection(worker, QUEUED)
        held.append(client)
        conn.head = b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n"
        worker._to_thread(conn)
    try:
        return _answer(held[-1])
    finally:
        for client in held:
            client.close()
        for conn in list(worker.waiting_until):
            conn.close()


def _long_head(worker: HeadFirstWorker) -> bytes:
    """A head longer than the main loop reads (`_refuse_head`)."""
    conn, client = _connection(worker, PACED + 10)
    with client:
        worker.enqueue_req(conn)
        client.sendall(b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"x" * 70_000 + b"\r\n")
        while conn in worker.reading_heads:
            worker._read_head(conn, conn.sock)
        return _answer(client)


def _no_place(worker: HeadFirstWorker) -> bytes:
    """A connection finding every place of a full worker taken (`_take_tor_line`)."""
    worker._connections = 0
    conn, client = _connection(worker, None)
    with client:
        worker.enqueue_req(conn)
        client.sendall(tor_line(LATE) + b"GET / HTTP/1.1\r\nHost: x.onion\r\n\r\n")
        worker._read_head(conn, conn.sock)
        return _answer(client)


def _gunicorns(request: bytes) -> Callable[[HeadFirstWorker], bytes]:
    """A request gunicorn's parser refuses, served on a thread as the worker hands it one."""

    def refused(worker: HeadFirstWorker) -> bytes:
        conn, client = _connection(worker, PACED + 20)
        with client:
            conn.head = request
            worker.handle(conn)
            conn.close()
            return _answer(client)

    return refused


PATHS: dict[str, tuple[Callable[[HeadFirstWorker], bytes], int, tuple[str, str]]] = {
    "paced": (_paced_page, 503, _BUSY),
    "past-waiting": (_page_past_waiting, 503, _BUSY),
    "long-head": (_long_head, 400, _REFUSED),
    "no-place": (_no_place, 503, _BUSY),
    "bad-request-line": (_gunicorns(b"GET / HTTP/1.1 x\r\nHost: x.onion\r\n\r\n"), 400, _REFUSED),
    "too-many-fields": (
        _gunicorns(b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n"),
        431,
        _REFUSED,
    ),
    "bad-expect": (
        _gunicorns(b"POST / HTTP/1.1\r\nHost: x.onion\r\nExpect: 200-ok\r\n\r\n"),
        417,
        _REFUSED,
    ),
    "bad-coding": (
        _gunicorns(b"POST / HTTP/1.1\r\nHost: x.onion\r\nTransfer-Encoding: gzip\r\n\r\n"),
        400,
        _REFUSED,
    ),
}


def _urdu(words: str) -> str:
    with (TRANSLATIONS / "ur" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return str(read_po(po)[words].string)


@pytest.mark.parametrize("path", list(PATHS))
def test_an_answer_the_worker_builds_looks_like_the_apps(path: str) -> None:
    """Each answer built under the app is the app's page size on the wire (status line and
    headers included; Date and Connection, which gunicorn adds to the app's too, aside), a
    page in English and Urdu in the app's words for it, with its strict headers, and
    Retry-After where it says to come back."""
    drive, status, (title, text) = PATHS[path]
    with _busy_worker(_hello) as worker:
        answer = drive(worker)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), f"{path} was answered {lines[0]!r}"
    fields = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    assert fields.get("content-type") == "text/html; charset=utf-8", fields
    added = sum(len(line) + 2 for line in lines[1:] if line.lower().startswith(("date:", "conn")))
    assert len(answer) - added == wire_size(0), (
        f"{path}: {len(answer) - added} bytes on the wire, the app's pages {wire_size(0)}"
    )
    page = body.decode()
    for words in (title, text):
        assert words in page, f"{path} does not say {words!r}"
        assert _urdu(words) in page, f"{path} does not say {words!r} in Urdu"
    for name, value in HEADERS.items():
        assert fields.get(name.lower()) == value, f"{path} lacks the app's {name}"
    if status == 503:
        assert int(fields["retry-after"]) > 0, f"{path} does not say when to come back"


def test_no_status_line_is_written_but_through_the_one_page_writer() -> None:
    """Every status line written under the app goes through `worker_reads._write_page`, so a
    new path answering a source in the main loop cannot write an unpadded English one."""
    writers = []
    for source in APP.rglob("*.py"):
        whole = source.read_text(encoding="utf-8")
        # A function matching both is in a file matching both: only such files are walked.
        if not (re.search(r"HTTP/1\.[01] ", whole) and re.search(r"write_nonblock|\.send", whole)):
            continue
        for node in ast.walk(ast.parse(whole)):
            if not isinstance(node, ast.FunctionDef):
                continue
            text = ast.get_source_segment(whole, node) or ""
            if re.search(r"HTTP/1\.[01] ", text) and re.search(r"write_nonblock|\.send", text):
                writers.append(f"{source.relative_to(APP)}:{node.name}")
    assert writers == ["worker_reads.py:_write_page"], writers


def test_a_head_still_coming_holds_no_more_than_a_browsers_head_could_need() -> None:
    """A head not yet whole holds a place and its bytes in the main loop until `HEAD_SECONDS`:
    1,000 circuits each sending 60 KB of one, then a byte now and then, held 58 MiB more of
    the workers (tests/bench/floods.py, fat-heads), four times that on four workers full.
    Tor Browser's heads are under 2 KiB (the server's cookie some 1 KiB, cookies held to 8
    KiB, a login's short form 4 KiB with it): one past 16 KiB is answered 400 at once."""
    with _busy_worker(_hello) as worker:
        conn, client = _connection(worker, PACED + 30)
        with client:
            worker.enqueue_req(conn)
            client.sendall(b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"x" * 17_000 + b"\r\n")
            for _ in range(4):
                if conn in worker.reading_heads:
                    worker._read_head(conn, conn.sock)
            held = conn in worker.reading_heads
            answer = b"" if held else _answer(client)
            if held:
                worker._drop(conn)
    assert not held, "17 KB of a head still coming were held, the connection kept reading"
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:40]
