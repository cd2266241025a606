"""Many sources at once through the real server: no submission is lost, every envelope opens."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.instance import InstancePaths, load_config
from app.models import Item, Source
from tests.app.live import demo_instance, live_server, stored_envelopes

pytestmark = pytest.mark.slow

SUBMISSIONS = 200
THREADS = 20
REQUEST_TIMEOUT = 60.0
OVERALL_TIMEOUT = 300.0
MARKER = re.compile(r"marker-[0-9a-f]{16}")
ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


class _Inputs(HTMLParser):
    """Collect the name and value of every <input> on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.values[named["name"] or ""] = named.get("value") or ""


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """Encode a form as a browser would; return the body and its content type."""
    boundary = f"----raazdar{secrets.token_hex(12)}"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _submit(base: str, marker: str) -> tuple[int, str]:
    """Be one new source: open the form, then send a message and a file; return the answer
    (its status, and "filed" if it is the confirmation)."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(
        address.hostname or "", address.port, timeout=REQUEST_TIMEOUT
    )
    try:
        connection.request("GET", "/submit")
        page = connection.getresponse()
        html = page.read().decode()
        assert page.status == 200, page.status
        cookie = SimpleCookie(page.getheader("Set-Cookie") or "")
        inputs = _Inputs()
        inputs.feed(html)
        fields = {
            "csrf_token": inputs.values["csrf_token"],
            "codename": inputs.values["codename"],
            "message": f"رپورٹ {marker}\r\nconcurrency test",
            "agency": "",
            "province": "",
            "district": "",
            "when": "",
        }
        content = f"{marker}\n".encode() * 64
        body, content_type = _multipart(fields, {"files": (f"{marker}.txt", content)})
        headers = {
            "Content-Type": content_type,
            "Cookie": "; ".join(f"{k}={m.value}" for k, m in cookie.items()),
        }
        connection.request("POST", "/submit", body=body, headers=headers)
        answer = connection.getresponse()
        filed = 'class="filed"' in answer.read().decode()  # confirmed in place
        return answer.status, "filed" if filed else ""
    finally:
        connection.close()


def _raw(base: str, request: bytes) -> int:
    """Send bytes no client library would, and return the status gunicorn answers."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        status_line = sock.recv(64).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh demo instance."""
    return demo_instance(tmp_path / "instance")


@pytest.fixture
def server_log(tmp_path: Path) -> Path:
    """Where gunicorn's output (its error log and the app's) goes."""
    return tmp_path / "gunicorn.log"


@pytest.fixture
def server(instance: Path, server_log: Path) -> Iterator[str]:
    """gunicorn serving the instance, as deployed."""
    with live_server(instance, log=server_log) as url:
        yield url


def _counts(instance: Path) -> tuple[int, dict[str, int]]:
    """Count the sources, and the items of each kind, in the instance's database."""
    engine = make_engine(load_config(InstancePaths(instance)).database_url_in(instance))
    try:
        with Session(engine) as session:
            sources = session.scalar(select(func.count()).select_from(Source)) or 0
            kinds = dict(session.execute(select(Item.kind, func.count()).group_by(Item.kind)).all())
    finally:
        engine.dispose()
    return sources, {str(k): int(v) for k, v in kinds.items()}


def test_concurrent_submissions_are_all_stored_and_open(
    server: str, instance: Path, server_log: Path
) -> None:
    markers = {f"marker-{secrets.token_hex(8)}" for _ in range(SUBMISSIONS)}
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=THREADS)
    try:
        futures = {pool.submit(_submit, server, marker): marker for marker in markers}
        answers = {futures[f]: f.result() for f in as_completed(futures, timeout=OVERALL_TIMEOUT)}
    finally:
        # On a timeout, give up at once: stopping the server ends the stragglers.
        pool.shutdown(wait=False, cancel_futures=True)
    elapsed = time.monotonic() - started
    print(
        f"\n{SUBMISSIONS} submissions from {THREADS} threads in {elapsed:.2f} s: "
        f"{SUBMISSIONS / elapsed:.1f} submissions/s"
    )

    refused = {m: a for m, a in answers.items() if a != (200, "filed")}
    assert not refused
    assert _counts(instance) == (SUBMISSIONS, {"report": SUBMISSIONS, "file": SUBMISSIONS})
    assert not any(InstancePaths(instance).staging.iterdir())

    envelopes = stored_envelopes(instance)
    reports = [json.loads(e.plaintext) for e in envelopes if e.metadata.kind == "report"]
    files = [e for e in envelopes if e.metadata.kind == "file"]
    assert len(envelopes) == 2 * SUBMISSIONS
    assert {m for r in reports for m in MARKER.findall(r["message"])} == markers
    assert {f.plaintext.decode().split("\n", 1)[0] for f in files} == markers
    assert {f.metadata.filename for f in files} == {f"{m}.txt" for m in markers}

    # The server said nothing about any of it, and quotes no address even when refusing.
    assert _raw(server, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 203.0.113.7\r\n\r\n") == 400
    time.sleep(0.5)  # the worker logs after answering
    log = server_log.read_text("utf-8")
    assert "Invalid request" in log
    assert not ADDRESS.search(log)
    assert not MARKER.search(log)
