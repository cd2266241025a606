"""Tor names each connection's circuit (HiddenServiceExportCircuitID): the worker reads it,
keeps it from the app's addresses and logs, and refuses a connection that does not start so."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import circuits, kdf_pool
from app.worker_reads import tor_circuit
from crypto import PrivateKey, SigningKey
from crypto.encoding import b64encode
from crypto.request import body_digest, sign_request
from tests.app.flood import Browser, inputs, log_in, new_source, signed_in
from tests.app.live import demo_instance, live_server, tor_line
from tests.app.test_kdf_pool import locks_held
from tests.app.workers import at_once_in_workers
from tests.ports import free_port


@pytest.mark.parametrize(
    ("line", "circuit"),
    [
        # The example in tor's manual, and the shapes tor's "%x:%x" gives.
        (b"PROXY TCP6 fc00:dead:beef:4dad::ffff:ffff ::1 65535 42", 4294967295),
        (b"PROXY TCP6 fc00:dead:beef:4dad::0:5 ::1 65535 80", 5),
        (b"PROXY TCP6 fc00:dead:beef:4dad::1:5 ::1 443 80", 65541),
        (tor_line(123456789).rstrip(b"\r\n"), 123456789),
    ],
)
def test_tors_line_names_the_circuit(line: bytes, circuit: int) -> None:
    assert tor_circuit(line) == circuit


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1",
        b"PROXY TCP6 fc00:dead:beef:4dae::ffff:ffff ::1 65535 42",  # not tor's prefix
        b"PROXY TCP6 fc00:dead:beef:4dad:1::5 ::1 65535 42",  # more than the low 32 bits
        b"PROXY TCP4 127.0.0.1 127.0.0.1 65535 42",
        b"PROXY TCP6 fc00:dead:beef:4dad::ffff:ffff 2001:db8::1 65535 42",
        b"PROXY TCP6 fc00:dead:beef:4dad::zz ::1 1 2",
        b"PROXY TCP6 fc00:dead:beef:4dad::1 ::1 1 2 extra",
    ],
)
def test_anything_else_names_no_circuit(line: bytes) -> None:
    assert tor_circuit(line) is None


def _raw(base: str, sent: bytes) -> bytes:
    """Send `sent` on a new connection; return all the server answered before closing."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as sock:
        sock.sendall(sent)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


WORKERS = 2


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """gunicorn told that tor names circuits on the source listener; (base, staff port, log)."""
    staff_port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {"RAAZDAR_TOR_CIRCUITS": "1", "RAAZDAR_STAFF_BIND": f"127.0.0.1:{staff_port}"}
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=WORKERS, log=log, env=env) as base:
        yield base, staff_port, log


@pytest.mark.slow
def test_a_source_connection_must_start_with_tors_line(served: tuple[str, int, Path]) -> None:
    base, staff_port, log = served
    request = b"GET /keys.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # From tor: answered; the line is not part of the request.
    assert _raw(base, tor_line(77) + request).startswith(b"HTTP/1.1 200")
    # Not from tor (no line, or a line tor would not write): closed, nothing said.
    assert _raw(base, request) == b""
    assert _raw(base, b"PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n" + request) == b""
    assert _raw(base, b"x" * 200) == b""
    # A second line naming another circuit is not tor's, and is no request either.
    assert b" 200 " not in _raw(base, tor_line(77) + tor_line(78) + request)
    # The staff listener is not an onion that names circuits: no line expected there.
    staff = f"http://127.0.0.1:{staff_port}"
    assert _raw(staff, b"GET /staff/login HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1")
    # Neither circuit ids nor tor's addresses are ever written to the log.
    text = log.read_text("utf-8", errors="replace")
    for written in ("fc00", "dead:beef", "PROXY"):
        assert written not in text


@pytest.fixture
def staff_named(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """gunicorn told that tor names circuits on the staff listener too; (staff base, log,
    instance)."""
    staff_port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        "RAAZDAR_TOR_CIRCUITS": "1",
        "RAAZDAR_TOR_STAFF_CIRCUITS": "1",
        "RAAZDAR_STAFF_BIND": f"127.0.0.1:{staff_port}",
    }
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=WORKERS, log=log, env=env):
        yield f"http://127.0.0.1:{staff_port}", log, instance


def test_a_staff_connection_must_start_with_tors_line_where_the_staff_onion_names_circuits(
    staff_named: tuple[str, Path, Path],
) -> None:
    """Whoever holds a staff device's onion key must not name circuits of their own: each
    new one would be a circuit the staff's slot never served, first in its queue."""
    staff, log, _ = staff_named
    request = b"GET /staff/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert _raw(staff, tor_line(91) + request).startswith(b"HTTP/1.1 200")
    assert _raw(staff, request) == b""
    assert _raw(staff, b"PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n" + request) == b""
    assert b" 200 " not in _raw(staff, tor_line(91) + tor_line(92) + request)
    text = log.read_text("utf-8", errors="replace")
    for written in ("fc00", "dead:beef", "PROXY"):
        assert written not in text


def _staff_login(staff: str, circuit: int, answers: list[tuple[int, float]]) -> None:
    """Send a staff login under a made-up name on a new connection of `circuit`; note its
    status and when it came."""
    browser = Browser(staff, circuit)
    try:
        status, html = browser.get("/staff/login")
        assert status == 200, status
        fields = {
            "csrf_token": inputs(html)["csrf_token"],
            "username": f"nobody-{secrets.token_hex(4)}",
            "password": "a guess at the password",
            "code": "000000",
        }
        answers.append((browser.post_form("/staff/login", fields), time.monotonic()))
    finally:
        browser.close()


def test_a_staff_logins_circuit_reaches_the_staffs_slot(
    staff_named: tuple[str, Path, Path],
) -> None:
    """The staff's slot takes circuits in turn only if it is told each login's: one circuit
    holds at most two of its places, and a third login of its is told busy at once, not
    after the whole wait (`kdf_pool.PLACES_PER_CIRCUIT`)."""
    staff, _, instance = staff_named
    answers: list[tuple[int, float]] = []
    logins = [
        threading.Thread(target=_staff_login, args=(staff, 93, answers))
        for _ in range(kdf_pool.PLACES_PER_CIRCUIT + 1)
    ]
    with locks_held(kdf_pool.staff_slot_paths(instance)):
        started = time.monotonic()
        for login in logins:
            login.start()
        while not answers and time.monotonic() - started < 5:
            time.sleep(0.05)
        early = list(answers)
    for login in logins:
        login.join(timeout=30)
    assert [status for status, _ in early] == [503], (
        f"no login of a circuit past its share was refused at once: {answers}"
    )


@pytest.mark.slow
def test_a_circuit_is_kept_for_every_request_on_its_connection(
    served: tuple[str, int, Path],
) -> None:
    base, _, _ = served
    codename = new_source(base, circuit=5)
    browser, status, _seconds = log_in(base, codename, circuit=5)
    try:
        assert status == 303
        # The same kept-alive connection: the line came once, the session works on.
        assert signed_in(browser)
        assert signed_in(browser)
    finally:
        browser.close()
    other = Browser(base, circuit=6)
    try:
        assert other.get("/login")[0] == 200
    finally:
        other.close()


def _new_account(base: str, circuit: int) -> int:
    """Make an API account with new keys on a new connection of `circuit`; return the status."""
    browser = Browser(base, circuit)
    try:
        status, text, _headers = browser.request("POST", "/api/v1/challenges")
        assert status == 200, status
        signer, tag = SigningKey.generate(), secrets.token_bytes(32)
        path = "/api/v1/sources"
        body = json.dumps(
            {
                "lookup_tag": b64encode(tag),
                "public_key": PrivateKey.generate().public_key.to_text(),
                "signing_key": signer.verify_key.to_text(),
            }
        ).encode()
        challenge = json.loads(text)["challenge"]
        headers = {
            "Content-Type": "application/json",
            "Raazdar-Source": b64encode(tag),
            "Raazdar-Challenge": challenge,
            "Raazdar-Signature": sign_request(
                signer, challenge, "POST", path, body_digest(body), None
            ),
        }
        return browser.request("POST", path, body, headers)[0]
    finally:
        browser.close()


@pytest.mark.slow
def test_one_circuit_makes_one_account_a_minute_whichever_worker_serves_it(
    served: tuple[str, int, Path],
) -> None:
    base, _, _ = served
    # New connections, so both workers take some of them.
    made = sorted(_new_account(base, circuit=40) for _ in range(4 * WORKERS))
    assert made == [201] + [503] * (4 * WORKERS - 1)
    assert _new_account(base, circuit=41) == 201


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_two_workers_at_once_let_a_circuit_make_one_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each worker reads the circuit's cell, then notes its account there: two that both
    read before either wrote each let the circuit make one, two accounts in its minute."""
    circuit = 90_210  # a circuit no other test uses
    cell = 2 * (circuit % circuits._CELLS)
    circuits._made[cell : cell + 2] = memoryview(bytes(16)).cast("q")
    turns = at_once_in_workers(
        monkeypatch, circuits, "_now", lambda: circuits.take_account_turn(circuit)
    )
    assert sorted(turns)[0] == 0, turns
    assert sorted(turns)[1] > 0, f"one circuit made two accounts at once: {turns}"
