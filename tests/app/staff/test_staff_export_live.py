"""A staff export cut half-way on a real gunicorn: the browser closes the connection.

The test client runs the app's body in the test's own thread; gunicorn meets a client
gone as a failed send on its request thread, and closes the response there.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from app import create_app
from app.config import config_for
from app.models import AuditEntry, Item, StaffAccount
from app.operations import sweep as sweep_module
from app.services.context import services
from tests.app.flood import Browser, inputs, worker_pids
from tests.app.live import demo_instance, left_behind, live_server
from tests.app.staff_support import PASSWORD, StaffUser, make_staff
from tests.app.support import Visitor, db_session
from tests.ports import free_port

_PHOTO = b"\xff\xd8 a photo " + bytes(8 * 1024 * 1024)
# The browser's receive buffer (bytes), and how much of the bundle it reads before it closes.
_WINDOW = 64 * 1024
_READ = 1024 * 1024
# How long the server may take to let go of a download whose browser went away (seconds).
_FREED_WITHIN = 10.0


def _fresh_code(app: Flask, user: StaffUser) -> str:
    """The code of now, its step made new (the login spent it)."""
    with db_session(app) as session:
        session.execute(update(StaffAccount).where(StaffAccount.id == user.id).values(totp_spent=0))
        session.commit()
    return pyotp.TOTP(user.secret).now()


def _logged_in(app: Flask, staff: str, user: StaffUser) -> Browser:
    browser = Browser(staff)
    status, html = browser.get("/staff/login")
    assert status == 200, status
    fields = {
        "csrf_token": inputs(html)["csrf_token"],
        "username": user.username,
        "password": PASSWORD,
        "code": _fresh_code(app, user),
    }
    assert browser.post_form("/staff/login", fields) == 303
    return browser


def _export_request(app: Flask, browser: Browser, user: StaffUser) -> bytes:
    """The confirmed export's request as the browser sends it (password and a code)."""
    status, html = browser.get("/staff/")
    assert status == 200, status
    token = inputs(html.split('action="/staff/export"', 1)[1])["csrf_token"]
    status, asked, _ = browser.request(
        "POST",
        "/staff/export",
        urlencode({"csrf_token": token, "since": ""}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 401, status
    fields = {
        **inputs(asked.split('action="/staff/export"', 1)[1]),
        "reauth_password": PASSWORD,
        "reauth_code": _fresh_code(app, user),
    }
    body = urlencode(fields).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    head = (
        "POST /staff/export HTTP/1.1\r\nHost: staff\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n"
    )
    return head.encode() + body


def _download(staff: str, request: bytes, keep: int | None) -> tuple[int, int]:
    """Send the export's request; read `keep` bytes of the body (all: None) and close.

    Returns the size the headers named and the body's bytes read.
    """
    parts = urlsplit(staff)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # A small window, as a browser's behind tor: what the server hands the network is
        # all it can count as taken, and the kernel's buffers on loopback held megabytes.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _WINDOW)
        sock.settimeout(30)
        sock.connect((parts.hostname or "", parts.port or 80))
        sock.sendall(request)
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(65536)
        head, body = got.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        size = int(
            next(
                line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
            ).split(b":")[1]
        )
        want = size if keep is None else keep
        while len(body) < want:
            chunk = sock.recv(min(65536, want - len(body)))
            if not chunk:
                break
            body += chunk
        # Closed with bytes still unread: the kernel resets the connection, as a browser's
        # tab closed (or a circuit dropped) does.
        return size, len(body)


def _threads(pid: int) -> int:
    """How many threads the process `pid` runs."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def _alices_exports(app: Flask) -> int:
    with db_session(app) as session:
        found = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "alice"))
        return sum(action == "export" for action in found)


def _exported(app: Flask) -> set[bool]:
    with db_session(app) as session:
        return set(session.scalars(select(Item.exported)))


def test_a_download_cut_half_way_on_gunicorn_lets_everything_go_and_the_next_one_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser closes the connection half-way through its bundle: the worker's threads
    are free again (one thread serves every request here), nothing is marked exported,
    nothing is left in the store, the sweep runs at once with its rebuild in the database
    file (no reader held it), and the next export comes whole."""
    instance = demo_instance(tmp_path / "instance")
    app = create_app(config_for(instance))
    alice = make_staff(app, "alice")
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    photo = [("files", "evidence.jpg", _PHOTO, "image/jpeg")]
    visitor.filed(visitor.send(visitor.start(), "The SHO released the agent for money", photo))
    # Swept in: what is left in the store's holding and staging after is the export's.
    monkeypatch.setattr(sweep_module, "REBUILD_WAIT", 5.0)
    with app.app_context(), db_session(app) as session:
        engine, store = session.get_bind().engine, services().store
    sweep_module.sweep(engine, store, force=True)
    stored = sorted(p.name for p in store.root.iterdir())

    staff_port = free_port()
    env = {"RAAZDAR_STAFF_BIND": f"127.0.0.1:{staff_port}", "RAAZDAR_THREADS": "1"}
    with live_server(instance, workers=1, log=tmp_path / "gunicorn.log", env=env):
        staff = f"http://127.0.0.1:{staff_port}"
        browser = _logged_in(app, staff, alice)
        request = _export_request(app, browser, alice)
        (worker,) = worker_pids(instance)
        threads = _threads(worker)
        size, read = _download(staff, request, _READ)
        assert read < size

        deadline = time.monotonic() + _FREED_WITHIN
        while _threads(worker) > threads and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _threads(worker) <= threads, "the export's writer outlived its download"
        # Its one request thread is free: a page comes at once.
        assert browser.get("/staff/")[0] == 200
        assert _exported(app) == {False}
        assert _alices_exports(app) == 0
        assert left_behind(instance) == []
        assert sorted(p.name for p in store.root.iterdir()) == stored
        started = time.monotonic()
        report = sweep_module.sweep(engine, store, force=True)
        assert time.monotonic() - started < 5.0
        assert not report.rebuild_waiting, "a reader of the database outlived the download"

        size, read = _download(staff, _export_request(app, browser, alice), None)
        assert read == size
        browser.close()
    assert _exported(app) == {True}
    assert _alices_exports(app) == 1
