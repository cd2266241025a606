"""Benchmark: the server taking an upload, against sealing the same bytes directly.

    python -m tests.bench.upload [--sizes 0.0625,1,100] [--repeat 3] [--profile N]

For each size it starts gunicorn on a demo instance (tests/app/live.py), posts a
multipart form with a file of that many MiB through the real source form, and
times the request from the first byte sent to the response. Beside it, in the
same run, it times `crypto.seal` of the same file to a file: the cost of the
cryptography alone; and, as a second baseline, sealing what the app seals for the
submission (its report text and its file, to the app's own recipients, both forced to disk
with their directory). It prints the ratio (target <= 1.5) and the peak RSS of the
gunicorn workers (flat: it must not grow with the upload), then one JSON line.
The in-process call and the sealing alone are also timed in CPU seconds of this
process (user + system), which move less than wall time when other processes
share the cores, and the upload through gunicorn in CPU seconds of its workers
(every thread, from the kernel's per-task run time). `--profile N` profiles N
warm in-process uploads of each size, a new source's then a returning one's
(cProfile, CPU time, the POST alone), and prints where their time went.
The in-process call is timed to its response's body; its `close()`, where a request
that wrote empties SQLite's WAL (as gunicorn closes it once the body is sent), is
called after the timed part and printed apart.

A returning source's upload (signed in, the account page's form) is timed too, beside the
floor: what the promises alone cost for its submission, with no Flask and no ORM (`_Floor`),
and the least a request costs in this stack, a bare Flask request (`_bare_flask`); and a new
source's report served by the least second handler this app could have in front of Flask
(`_LeastHandler`: no Flask, no ORM, only the plain case), which bounds what serving the
report's POST outside Flask's and the ORM's machinery could win; since session 39 a returning
source's report too (`_LeastReturningHandler`: its login row and account checked, no key
derived), the bound for the case a real instance's time is judged by. The figures above use
the test suite's fast key derivation; one line more times a new source's first upload with
the derivation `raazdar init` sets for a real instance (Argon2id, `KdfParams.INTERACTIVE`),
beside sealing alone and the derivation alone: there the derivation is the cost, by design.
The target is judged at the sizes it names, 1 MiB and above.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hmac
import http.client
import io
import json
import os
import pstats
import re
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, render_template
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect, generate_csrf
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from app import create_app, kdf_pool, sessions, uploads
from app.config import config_for
from app.db import EmptiedAfterResponse, checkpoint
from app.files import fsync_together
from app.models import SessionRow, new_id, today
from app.operations.setup import initialise
from app.security import HEADERS
from app.services import sources, submissions
from app.services.context import services
from app.services.sources import SignedIn
from app.services.submissions import _INSERT_ITEMS, REPORT_TYPE, Report
from app.sessions import SealedSessionInterface
from app.source.sizes import _head, wire_size
from app.uploads import SealedUploads, SealingRequest, _socket_body
from crypto import (
    KdfParams,
    Metadata,
    PrivateKey,
    TokenKey,
    derive_source_keys,
    generate_codename,
    holds_codename,
    seal,
)
from crypto.constants import KEY_BYTES, TOKEN_CONTEXT_SESSION
from crypto.encoding import b64decode, b64encode
from tests.app.flood import gunicorn_pids, worker_pids
from tests.app.live import demo_instance, live_server

_BLOCK = 1024 * 1024


def _worker_peak_rss_mib(instance: Path) -> float:
    """Largest VmHWM among the gunicorn processes serving `instance` (not other benches')."""
    peak = 0
    for pid in gunicorn_pids(instance):
        with contextlib.suppress(OSError):
            match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            if match:
                peak = max(peak, int(match.group(1)))
    return round(peak / 1024, 1)


def _run_seconds(pids: list[int]) -> float:
    """CPU seconds every thread of the processes `pids` has run (nanosecond counts, not ticks)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def _form_page(host: str, port: int) -> tuple[str, dict[str, str]]:
    """GET /submit: the session cookie, and the form's hidden fields a browser sends back."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/submit")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    conn.close()
    if not cookie:
        raise SystemExit("bench: the submit page set no cookie")
    return cookie, {name: _hidden(html, name) for name in ("csrf_token", "once", "codename")}


def _post_file(base: str, path: Path, workers: list[int]) -> Timing:
    """POST the source form with `path` attached: seconds to the response, workers' CPU seconds."""
    host, port = base.removeprefix("http://").split(":")
    cookie, fields = _form_page(host, int(port))
    cpu_before = _run_seconds(workers)
    boundary = secrets.token_hex(16)
    head, tail = _multipart({**fields, "message": "benchmark"}, boundary)
    length = len(head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    conn.putrequest("POST", "/submit")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.putheader("Cookie", cookie)
    conn.endheaders()
    start = time.perf_counter()
    conn.send(head)
    with path.open("rb") as src:
        while block := src.read(_BLOCK):
            conn.send(block)
    conn.send(tail)
    response = conn.getresponse()
    answer = response.read()
    timing = Timing()
    timing.wall = time.perf_counter() - start
    conn.close()
    timing.cpu = _run_seconds(workers) - cpu_before
    if not _filed(str(response.status), answer):
        raise SystemExit(f"bench: the upload was refused with {response.status}")
    return timing


def _filed(status: str, page: bytes) -> bool:
    """Say whether the app's answer is a report's confirmation (in place: `200`, its page)."""
    return status.startswith("200") and b'class="filed"' in page


class _Body:
    """A multipart body read from disk: the head, the file, the tail (memory stays flat).

    Read in place, as a gunicorn worker reads an upload's body (`app.uploads._SocketBody`:
    `recv_into` the multipart reader's buffer): `readinto` reads the file into the buffer
    given, and `_read_in_place` hands this body to the app as the worker's socket body is
    handed. Until session 27 it was read through `read`, which joined each block to the
    head and was sliced again by the app's `_LargeReads`: two copies of every byte that
    no request served by gunicorn makes, counted in the app's time (about 0.3 ms of CPU
    at 1 MiB, docs/benchmarks.md, the uploads' eleventh pass).
    """

    def __init__(self, head: bytes, path: Path, tail: bytes) -> None:
        self._parts: list[Any] = [io.BytesIO(head), path.open("rb", buffering=0), io.BytesIO(tail)]

    def readinto(self, target: memoryview | bytearray) -> int:
        while self._parts:
            count: int = self._parts[0].readinto(target)
            if count:
                return count
            self._parts.pop(0).close()
        return 0

    def read(self, size: int = -1) -> bytes:
        out = b""
        while self._parts and (size < 0 or len(out) < size):
            block = self._parts[0].read(-1 if size < 0 else size - len(out))
            if not block:
                self._parts.pop(0).close()
                continue
            out += block
        return out


def _read_in_place(stream: Any) -> Any:
    """`app.uploads._socket_body`, which also hands a `_Body` to the app to be read in place."""
    return stream if isinstance(stream, _Body) else _socket_body(stream)


def _multipart(fields: dict[str, str], boundary: str) -> tuple[bytes, bytes]:
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    if found is None:
        raise SystemExit(f"bench: the page carried no {name}")
    return found.group(1)


def _returning_source(flask_app: Any) -> FlaskClient:
    """A client signed in as a source with an account (made by a first, text-only report)."""
    client: FlaskClient = flask_app.test_client()
    # Buffered: each response read whole and closed, as a server does (the WAL emptied).
    html = client.get("/submit", buffered=True).get_data(as_text=True)
    fields = {"csrf_token": _hidden(html, "csrf_token"), "codename": _hidden(html, "codename")}
    made = client.post("/submit", data={**fields, "message": "first"}, buffered=True)
    if not _filed(made.status, made.get_data()):
        raise SystemExit(f"bench: the first report was refused: {made.status}")
    return client


def _in_process(
    flask_app: Any,
    path: Path,
    profile: cProfile.Profile | None = None,
    returning: FlaskClient | None = None,
) -> Timing:
    """Call the app directly (no socket, no client): the server's own share of the time.

    `flask_app` is made once and warmed by an upload first, as a gunicorn worker
    is: a fresh app's first request loads the keyring and compiles templates.
    Only the POST is timed (and profiled, if `profile` is given), not the GET
    of the form before it. A new source posts the first form (`/submit`: its
    codename's keys derived, its account made, a login); a `returning` one,
    signed in, posts the form of its account page (`/account`).
    """
    client = returning or flask_app.test_client()
    page = "/account" if returning is not None else "/submit"
    html = client.get(page, buffered=True).get_data(as_text=True)  # closed, as a server does
    # The form's one-time token too, as a browser sends it: the app looks it up.
    fields = {"csrf_token": _hidden(html, "csrf_token"), "once": _hidden(html, "once")}
    if returning is None:
        fields["codename"] = _hidden(html, "codename")
    return _post_form(flask_app, page, fields, _cookie(client), path, "the app", profile)


def _least_returning_in_process(
    returning: FlaskClient, least: _LeastReturningHandler, path: Path
) -> Timing:
    """A returning source's report posted to `least` (its form and cookie from the account page)."""
    html = returning.get("/account", buffered=True).get_data(as_text=True)
    fields = {"csrf_token": _hidden(html, "csrf_token")}
    cookie = _cookie(returning)
    return _post_form(least.wsgi, "/account", fields, cookie, path, "the least returning handler")


def _least_in_process(flask_app: Any, least: _LeastHandler, path: Path) -> Timing:
    """A new source's report posted to `least` (its form and cookie from the app's own page)."""
    client = flask_app.test_client()
    html = client.get("/submit", buffered=True).get_data(as_text=True)
    fields = {name: _hidden(html, name) for name in ("csrf_token", "once", "codename")}
    return _post_form(least.wsgi, "/submit", fields, _cookie(client), path, "the least handler")


def _cookie(client: FlaskClient) -> str:
    """The session cookie the page just read gave."""
    cookie = client.get_cookie("rz")
    if cookie is None:
        raise SystemExit("bench: the page came without a session cookie")
    return cookie.value


def _post_form(
    wsgi_app: Any,
    page: str,
    fields: dict[str, str],
    cookie: str,
    path: Path,
    what: str,
    profile: cProfile.Profile | None = None,
) -> Timing:
    """A form's `fields`, a message and `path`'s file posted to `page` with the session cookie,
    as a browser sends them; refused, the bench stops and says what `what` answered."""
    boundary = secrets.token_hex(16)
    head, tail = _multipart({**fields, "message": "benchmark"}, boundary)
    timing, statuses, body = _post_in_process(
        wsgi_app,
        page,
        _Body(head, path, tail),
        f"multipart/form-data; boundary={boundary}",
        len(head) + path.stat().st_size + len(tail),
        f"rz={cookie}",
        profile,
    )
    if not _filed(statuses[0] if statuses else "", body):
        raise SystemExit(f"bench: {what} answered {statuses}")
    return timing


def _post_in_process(
    wsgi_app: Any,
    path_info: str,
    stream: Any,
    content_type: str,
    length: int,
    cookie: str,
    profile: cProfile.Profile | None = None,
) -> tuple[Timing, list[str], bytes]:
    """POST `stream` to a WSGI app in this process: the call's time, its statuses and body."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path_info,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(length),
        "HTTP_COOKIE": cookie,
        "HTTP_HOST": "127.0.0.1",
    }
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    with Timing() as timing:
        if profile is not None:
            profile.enable()
        response = wsgi_app(environ, start_response)
        body = b"".join(response)
        if profile is not None:
            profile.disable()
    # Closed outside the timed part, as a server closes a response once its body is
    # written: a request that wrote empties the WAL there (`app.db.EmptiedAfterResponse`).
    with Timing() as closing:
        close = getattr(response, "close", None)
        if close is not None:
            close()
    timing.close = closing.wall
    return timing, statuses, body


class Timing:
    """Wall and CPU seconds of a `with` block (CPU: this process's user + system), or as set.

    `close`: wall seconds of what follows the response, untimed by `wall` (the response's
    close, where a request that wrote empties the WAL), when the caller measures it.
    """

    wall = 0.0
    cpu = 0.0
    close = 0.0

    def __enter__(self) -> Timing:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def _profile(flask_app: Any, path: Path, count: int, returning: FlaskClient | None = None) -> None:
    """Profile `count` warm in-process uploads of `path` (a new source's, or a `returning`
    one's) and print where the time went."""
    # CPU time as the clock: waits on the disk and on other jobs are left out.
    profile = cProfile.Profile(time.process_time)
    for _ in range(count):
        _in_process(flask_app, path, profile, returning)
    size = path.stat().st_size / _BLOCK
    who = "a returning source" if returning is not None else "a new source"
    print(
        f"--- profile: {count} in-process uploads of {size:g} MiB by {who}"
        " (POST only, CPU time) ---"
    )
    stats = pstats.Stats(profile, stream=sys.stdout)
    per_call = stats.total_tt / count * 1000  # type: ignore[attr-defined]
    calls = stats.total_calls / count  # type: ignore[attr-defined]
    print(f"per upload, under the profiler: {per_call:.2f} ms of CPU, {calls:.0f} Python calls")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def _seal_file(path: Path, out: Path, key: PrivateKey) -> Timing:
    """Seal `path` to `out` (fsynced, as the server does)."""
    with Timing() as timing, path.open("rb") as src, out.open("wb") as dst:
        seal(src, dst, [key.public_key], Metadata("file", filename="bench.bin"))
        dst.flush()
        os.fsync(dst.fileno())
    return timing


def _recipients(flask_app: Any) -> list[Any]:
    """The keys the app seals a new submission to today (its keyring's, or this week's subkeys)."""
    with flask_app.app_context():
        return services().recipients()


def _seal_submission(path: Path, out: Path, recipients: list[Any]) -> Timing:
    """Seal what the app seals for one submission, to the app's own recipients: the report's
    text and the file, each to its own file, both forced to disk with their directory."""
    report = Report(message="benchmark", fields={}, language="en").encode()
    with Timing() as timing:
        with out.open("wb") as dst:
            seal(io.BytesIO(report), dst, recipients, Metadata("report", REPORT_TYPE))
            dst.flush()
            os.fsync(dst.fileno())
        with path.open("rb") as src, out.with_suffix(".file").open("wb") as dst:
            seal(src, dst, recipients, Metadata("file", filename="bench.bin"))
            dst.flush()
            os.fsync(dst.fileno())
        directory = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return timing


class _Floor:
    """What the promises alone cost for one submission of a signed-in source: no Flask, no ORM.

    Its report text and its file sealed to the app's recipients, each to its own file;
    both files and their directory forced to disk together (`fsync_together`, as the
    app publishes them: docs/PROTOCOL.md section 1.1.1); then one transaction on a copy
    of the instance's own database, under the app's pragmas (WAL, `synchronous =
    FULL`, `secure_delete`): the account's day touched and an item inserted for each
    envelope, committed; the WAL is emptied after the timed part (its cut flushed), as
    the app empties it once the response is sent, and timed apart (`Timing.close`). A new source's
    submission does all of this and more (its codename's keys derived, its account
    and a login inserted), so no implementation keeping those promises takes less.
    """

    def __init__(self, flask_app: Any, root: Path, recipients: list[Any]) -> None:
        self._root, self._recipients = root / "floor", recipients
        self._root.mkdir()
        source = make_url(flask_app.config["DATABASE_URL"]).database
        if source is None:
            raise SystemExit("bench: the floor needs the instance's SQLite database")
        with contextlib.closing(sqlite3.connect(source)) as original:
            self._db = sqlite3.connect(self._root / "floor.db", isolation_level=None)
            original.backup(self._db)
        for pragma in ("foreign_keys = ON", "secure_delete = ON", "journal_mode = WAL"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("PRAGMA synchronous = FULL")
        found = self._db.execute("SELECT id FROM sources LIMIT 1").fetchone()
        if found is None:
            raise SystemExit("bench: the floor needs a source's account (run after an upload)")
        self._source = found[0]

    def close(self) -> None:
        self._db.close()

    def submit(self, path: Path) -> Timing:
        report = Report(message="benchmark", fields={}, language="en").encode()
        names = [secrets.token_hex(16) for _ in range(2)]
        with Timing() as timing:
            out = [(self._root / name).with_suffix(".rze").open("wb") for name in names]
            try:
                seal(io.BytesIO(report), out[0], self._recipients, Metadata("report", REPORT_TYPE))
                with path.open("rb") as src:
                    seal(src, out[1], self._recipients, Metadata("file", filename="bench.bin"))
                for dst in out:
                    dst.flush()
                fsync_together([dst.fileno() for dst in out], self._root)
            finally:
                for dst in out:
                    dst.close()
            day, submission = time.strftime("%Y-%m-%d"), secrets.token_hex(16)
            self._db.execute("BEGIN")
            self._db.execute("UPDATE sources SET active_day = ? WHERE id = ?", (day, self._source))
            self._db.executemany(
                "INSERT INTO items (id, source_id, submission_id, kind, size, received_day,"
                " exported) VALUES (?, ?, ?, ?, ?, ?, 0)",
                [
                    (name, self._source, submission, kind, 1, day)
                    for name, kind in zip(names, ("report", "file"), strict=True)
                ],
            )
            self._db.execute("COMMIT")
        # After the answer, as the app empties the WAL: copied, overwritten, cut, the cut flushed.
        with Timing() as closing:
            checkpoint(self._db)
        timing.close = closing.wall
        for name in names:
            (self._root / name).with_suffix(".rze").unlink()
        return timing


class _LeastRequest(SealingRequest):
    """The least handler's request: its form's token checked before its first file is sealed,
    as the app's request checks it (`app.uploads.SealingRequest`), with the handler's own check."""

    token_holds: Callable[[str], bool] = staticmethod(lambda sent: False)

    def _before_file(self, fields: list[tuple[str, str]]) -> None:
        if not self.token_holds(dict(fields).get("csrf_token", "")):
            raise SystemExit("bench: the least handler refused its own form's token")


class _LeastHandler:
    """The least a handler of a new source's report could cost in this app: no Flask, no ORM.

    A WSGI callable doing, with the app's own functions and statements, what a new source's
    report needs and no more: the cookie opened, the body parsed and its file sealed as it
    streams in (`SealingRequest` and `SealedUploads` on a bare Werkzeug request), the form's
    CSRF token, its codename's offer and its message (no codename in it) checked, the
    recipients read before the body and after it, the upload limit, the codename's keys
    derived in a slot of the pool, and on one raw connection the account, the login and the
    items inserted in one transaction, published and committed as `submissions.submit` does;
    then the cookie sealed and the confirmation given in place (200) with the app's headers,
    padded to a source page's size: the page drawn once, beforehand, with only the logout
    form's CSRF token put in per request (wrapped in `EmptiedAfterResponse`, so the WAL is
    emptied after the answer). It answers only the
    plain case and checks nothing it need not check (the listener, the host, the cross-site
    headers, the form's other fields, the pacing):
    a measure of what any second handler would still spend, not one to serve with.
    """

    def __init__(self, flask_app: Any) -> None:
        self._app = flask_app
        self._database = flask_app.extensions["raazdar.db"]
        self._key = SealedSessionInterface()._key(flask_app)
        self._csrf = URLSafeTimedSerializer(flask_app.config["SECRET_KEY"], salt="wtf-csrf-token")
        # The confirmation drawn once, the logout form's token left as a mark to fill in.
        mark = "CSRF-TOKEN-MARK"
        with flask_app.test_request_context("/submit", method="POST"):
            g.csrf_token = mark  # what Flask-WTF's csrf_token() then returns
            page = render_template("source/submitted.html").encode()
        self._before, self._after = page.split(mark.encode())
        self.wsgi = EmptiedAfterResponse(self._serve, self._database)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        config = self._app.config
        with self._app.app_context():
            request = _LeastRequest(environ)
            data = json.loads(self._key.open(request.cookies["rz"], TOKEN_CONTEXT_SESSION))["data"]
            request.token_holds = lambda sent: hmac.compare_digest(
                data["csrf_token"], self._csrf.loads(sent)
            )
            svc = services()
            recipients = svc.recipients()
            with self._database.engine.connect() as connection:
                limit = json.loads(
                    connection.exec_driver_sql(
                        "SELECT value FROM settings WHERE key = 'upload_limit_mib'"
                    ).scalar_one()
                )
            request.max_content_length = limit * 1024 * 1024
            request.sealed_uploads = SealedUploads(svc.store, recipients, config["MAX_FILES"])
            form = request.form
            token = self._csrf.loads(form["csrf_token"])
            codename, message = form["codename"], form["message"]
            if not (
                hmac.compare_digest(data["csrf_token"], token)
                and any(sources.was_offered(codename, d) for d in data["offered"])
                and not holds_codename(message)
            ):
                raise SystemExit("bench: the least handler refused its own form")
            files = request.sealed_uploads.files()
            keys = kdf_pool.in_slot(
                config,
                lambda: derive_source_keys(
                    codename, config["CODENAME_SALT"], config["CODENAME_KDF"]
                ),
            )
            staged = _staged(svc, message, files)
            now = int(time.time())
            lifetime = int(config["SOURCE_SESSION_MAX_SECONDS"])
            row_id, login_key = new_id(), secrets.token_bytes(KEY_BYTES)
            source_id = new_id()
            with self._database.engine.connect() as connection, connection.begin():
                connection.execute(
                    sources._insert_unless_taken("sqlite"),
                    {
                        "id": source_id,
                        "lookup_tag": keys.lookup_tag,
                        "public_key": keys.public_key.to_text(),
                        "signing_key": keys.verify_key.to_text(),
                        "designation": sources.new_designation(3),
                    },
                ).scalar_one()
                grants = {
                    "source": {"id": source_id, "sk": b64encode(keys.private_key.secret_bytes())}
                }
                payload = {
                    "sid": row_id,
                    "until": now + lifetime,
                    "idle": int(config["SESSION_IDLE_SECONDS"]),
                    "seen": now,
                    "data": grants,
                }
                connection.execute(
                    insert(SessionRow),
                    [
                        {
                            "id": row_id,
                            "sealed": sessions._seal(login_key, row_id, payload),
                            "expires_day": sessions._last_day(now, lifetime),
                            "staff_id": None,
                        }
                    ],
                )
                submission = secrets.token_hex(16)
                connection.execute(
                    _INSERT_ITEMS,
                    [
                        {
                            "id": e.id,
                            "source_id": source_id,
                            "submission_id": submission,
                            "kind": e.metadata.kind,
                            "size": _sealed_size(e),
                            "received_day": today(),
                        }
                        for e in staged
                    ],
                )
                svc.store.publish_staged(staged)
            kept = {"csrf_token": data["csrf_token"], "offered": data["offered"]}
            kept["login"] = {"sid": row_id, "key": b64encode(login_key)}
            return self._confirm(kept, now)(environ, start_response)

    def _confirm(self, kept: dict[str, Any], now: int) -> Response:
        """The confirmation in place, padded, with the cookie sealed again around `kept`."""
        config = self._app.config
        cookie = self._key.seal(
            json.dumps({"exp": now + int(config["SESSION_IDLE_SECONDS"]), "data": kept}).encode(),
            TOKEN_CONTEXT_SESSION,
        )
        body = self._before + self._csrf.dumps(kept["csrf_token"]).encode() + self._after
        response = Response(body, 200, mimetype="text/html")
        response.set_cookie("rz", cookie, httponly=True, samesite="Strict")
        response.headers.extend(HEADERS.items())
        response.vary.add("Cookie")
        for _ in range(3):  # as `app.source.sizes.pad_source_page` settles Content-Length
            spaces = max(wire_size(0) - _head(response) - len(body), 0)
            response.set_data(body + b" " * spaces)
        return response


class _LeastReturningHandler(_LeastHandler):
    """The least a handler of a returning source's report could cost in this app: no Flask,
    no ORM (session 39: the case that matters once a codename's derivation is off the path).

    As `_LeastHandler`, with the app's own functions and statements, and no more: the cookie
    opened, and the login row it names read and opened with the cookie's key (its deadlines
    and turn checked, as `app.sessions` does; not re-sealed: the bench's requests come within
    a tenth of the idle deadline, when the app does not re-seal either), the account's key
    checked against the row's (`app.services.sources.resume`), the body parsed and its file
    sealed as it streams in behind the form's CSRF token, the recipients read before the body
    and after it, the upload limit, the report sealed, and on one connection the account
    touched (`submissions._TOUCH_ACCOUNT`) and the items inserted, published and committed;
    then the cookie sealed and the confirmation drawn once with the token put in, padded. It
    leaves out the form's other fields and one-time id, the pacing of later reports, the
    listener, host and cross-site checks and every refusal: a measure, not one to serve with.
    """

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        config = self._app.config
        with self._app.app_context():
            request = _LeastRequest(environ)
            data = json.loads(self._key.open(request.cookies["rz"], TOKEN_CONTEXT_SESSION))["data"]
            request.token_holds = lambda sent: hmac.compare_digest(
                data["csrf_token"], self._csrf.loads(sent)
            )
            svc = services()
            recipients = svc.recipients()
            login = data["login"]
            row_id = login["sid"]
            with self._database.engine.connect() as connection:
                limit = json.loads(
                    connection.exec_driver_sql(
                        "SELECT value FROM settings WHERE key = 'upload_limit_mib'"
                    ).scalar_one()
                )
            request.max_content_length = limit * 1024 * 1024
            request.sealed_uploads = SealedUploads(svc.store, recipients, config["MAX_FILES"])
            form = request.form
            token = self._csrf.loads(form["csrf_token"])
            message = form["message"]
            if not hmac.compare_digest(data["csrf_token"], token) or holds_codename(message):
                raise SystemExit("bench: the least returning handler refused its own form")
            files = request.sealed_uploads.files()
            staged = _staged(svc, message, files)
            now = int(time.time())
            with self._database.engine.connect() as connection, connection.begin():
                sealed = connection.execute(sessions._SEALED_ROW, {"id": row_id}).scalar_one()
                row = json.loads(
                    TokenKey(b64decode(login["key"], length=KEY_BYTES)).open(
                        sealed, sessions._ROW_CONTEXT + row_id.encode()
                    )
                )
                if not (
                    row["sid"] == row_id
                    and now < min(row["until"], row["seen"] + row["idle"])
                    and hmac.compare_digest(row["turn"], login["turn"])
                ):
                    raise SystemExit("bench: the least returning handler's login had ended")
                who = SignedIn.from_session(row["data"]["source"])
                if (
                    who is None
                    or connection.execute(sources._ACCOUNT_KEY, {"id": who.source_id}).scalar_one()
                    != who.private_key.public_key.to_text()
                ):
                    raise SystemExit("bench: the least returning handler's account is not its")
                connection.execute(
                    submissions._TOUCH_ACCOUNT, {"source": who.source_id, "day": today()}
                ).scalar_one()
                submission = secrets.token_hex(16)
                connection.execute(
                    _INSERT_ITEMS,
                    [
                        {
                            "id": e.id,
                            "source_id": who.source_id,
                            "submission_id": submission,
                            "kind": e.metadata.kind,
                            "size": _sealed_size(e),
                            "received_day": today(),
                        }
                        for e in staged
                    ],
                )
                svc.store.publish_staged(staged)
            return self._confirm(data, now)(environ, start_response)


def _staged(svc: Any, message: str, files: list[Any]) -> list[Any]:
    """The report's envelope sealed and each file's finished, none flushed: the least
    handlers' staging, as `submissions.submit` stages them."""
    _manifest, recipients = svc.sealing()
    report = Report(message=message, fields={}, language="en").encode()
    staged = [
        svc.store.stage_bytes(report, recipients, Metadata("report", REPORT_TYPE), flush=False)
    ]
    for upload in files:
        upload.finish(flush=False)
        staged.append(upload)
    return staged


def _sealed_size(envelope: Any) -> int:
    """A finished envelope's size."""
    if envelope.result is None:
        raise SystemExit("bench: an envelope was not finished")
    size: int = envelope.result.envelope_size
    return size


# What `raazdar init` sets for a real instance's codenames (`app.cli.instance`).
_PRODUCTION_KDF = KdfParams.INTERACTIVE


def _production_kdf_instance(root: Path) -> Path:
    """A demo instance like `demo_instance`'s, but deriving codenames' keys as a real one does."""
    initialise(root, signed=None, database_url=None, kdf=_PRODUCTION_KDF, demo=True)
    return root


def _derive_alone(flask_app: Any) -> float:
    """Seconds one codename's keys take to derive under `flask_app`'s settings, alone."""
    config = flask_app.config
    codename = generate_codename()
    with Timing() as timing:
        derive_source_keys(codename, config["CODENAME_SALT"], config["CODENAME_KDF"])
    return timing.wall


def _bare_flask(root: Path) -> Any:
    """The least a request costs in this stack: a Flask app with Flask-WTF's CSRF check, a
    signed cookie session and one SQLAlchemy statement on SQLite, whose view does nothing else.
    Returns a function timing one warm POST to it."""
    bare = Flask("bare")
    bare.config["SECRET_KEY"] = secrets.token_hex(32)
    CSRFProtect(bare)
    engine = create_engine(f"sqlite:///{root / 'bare.db'}")
    sessions = sessionmaker(engine)

    @bare.get("/form")
    def form() -> str:
        return str(generate_csrf())

    @bare.post("/post")
    def post() -> tuple[str, int]:
        with sessions() as session:
            session.execute(text("SELECT 1")).all()
        return "", 303

    client = bare.test_client()
    body = f"csrf_token={client.get('/form').get_data(as_text=True)}".encode()
    cookie = client.get_cookie("session")
    if cookie is None:
        raise SystemExit("bench: the bare app set no session cookie")

    def one() -> Timing:
        timing, statuses, _ = _post_in_process(
            bare,
            "/post",
            io.BytesIO(body),
            "application/x-www-form-urlencoded",
            len(body),
            f"session={cookie.value}",
        )
        if statuses != ["303 SEE OTHER"]:
            raise SystemExit(f"bench: the bare app answered {statuses}")
        return timing

    for _ in range(50):
        one()
    return one


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="0.0625,1,100", help="upload sizes in MiB, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=3, help="take the best of N runs")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile N in-process uploads per size, a new source's and a returning one's",
    )
    args = parser.parse_args()
    # The in-process body is read as the worker's socket body is (`_Body`).
    uploads._socket_body = _read_in_place
    sizes = [float(s) for s in args.sizes.split(",")]
    key = PrivateKey.generate()
    results = []
    with tempfile.TemporaryDirectory(prefix="rz-bench-upload-") as tmp:
        root = Path(tmp)
        instance = demo_instance(root / "instance")
        flask_app = create_app(config_for(instance))
        recipients = _recipients(flask_app)
        returning = _returning_source(flask_app)
        floor = _Floor(flask_app, root, recipients)
        bare = _bare_flask(root)
        least_handler = _LeastHandler(flask_app)
        least_returning = _LeastReturningHandler(flask_app)
        # A second instance with the key derivation `raazdar init` sets for real instances.
        production_kdf = create_app(config_for(_production_kdf_instance(root / "kdf")))
        with contextlib.closing(floor), live_server(instance, workers=2) as base:
            baseline_rss = _worker_peak_rss_mib(instance)
            for size in sizes:
                data = root / f"{size}.bin"
                with data.open("wb") as out:
                    left = round(size * _BLOCK)
                    while left:
                        out.write(os.urandom(min(left, _BLOCK)))
                        left -= min(left, _BLOCK)
                # Warm up first: the first request of an app or a worker is dearer.
                workers = worker_pids(instance)
                _in_process(flask_app, data)
                _in_process(flask_app, data, returning=returning)
                _least_in_process(flask_app, least_handler, data)
                _least_returning_in_process(returning, least_returning, data)
                _in_process(production_kdf, data)
                floor.submit(data)
                _post_file(base, data, workers)
                server, sealing, inproc, whole, again, least = [], [], [], [], [], []
                handler: list[Timing] = []
                handler_back: list[Timing] = []
                for _ in range(args.repeat):
                    sealing.append(_seal_file(data, root / "sealed.rze", key))
                    whole.append(_seal_submission(data, root / "whole.rze", recipients))
                    least.append(floor.submit(data))
                    server.append(_post_file(base, data, workers))
                    inproc.append(_in_process(flask_app, data))
                    again.append(_in_process(flask_app, data, returning=returning))
                    handler.append(_least_in_process(flask_app, least_handler, data))
                    handler_back.append(
                        _least_returning_in_process(returning, least_returning, data)
                    )
                # Slow by design (a third of a second or more each): the best of at most three.
                kdf_new = [_in_process(production_kdf, data) for _ in range(min(args.repeat, 3))]
                kdf_alone = min(_derive_alone(production_kdf) for _ in range(min(args.repeat, 3)))
                best_server = min(t.wall for t in server)
                cpu_server = min(t.cpu for t in server)
                best_seal, best_app = min(t.wall for t in sealing), min(t.wall for t in inproc)
                best_whole = min(t.wall for t in whole)
                cpu_seal, cpu_app = min(t.cpu for t in sealing), min(t.cpu for t in inproc)
                best_again, best_floor = min(t.wall for t in again), min(t.wall for t in least)
                best_bare = min(bare().wall for _ in range(max(args.repeat, 20)))
                best_handler = min(t.wall for t in handler)
                best_handler_back = min(t.wall for t in handler_back)
                best_kdf_new = min(t.wall for t in kdf_new)
                results.append(
                    {
                        "size_mib": size,
                        "server_s": round(best_server, 6),
                        "seal_s": round(best_seal, 6),
                        "ratio": round(best_server / best_seal, 2),
                        "app_s": round(best_app, 6),
                        "app_ratio": round(best_app / best_seal, 2),
                        "submission_seal_s": round(best_whole, 6),
                        "app_submission_ratio": round(best_app / best_whole, 2),
                        "returning_s": round(best_again, 6),
                        "returning_ratio": round(best_again / best_seal, 2),
                        "returning_cpu_s": round(min(t.cpu for t in again), 6),
                        "app_close_s": round(min(t.close for t in inproc), 6),
                        "returning_close_s": round(min(t.close for t in again), 6),
                        "floor_close_s": round(min(t.close for t in least), 6),
                        "floor_s": round(best_floor, 6),
                        "floor_ratio": round(best_floor / best_seal, 2),
                        "floor_cpu_s": round(min(t.cpu for t in least), 6),
                        "bare_request_s": round(best_bare, 6),
                        "least_handler_s": round(best_handler, 6),
                        "least_handler_ratio": round(best_handler / best_seal, 2),
                        "least_handler_cpu_s": round(min(t.cpu for t in handler), 6),
                        "floor_and_bare_ratio": round((best_floor + best_bare) / best_seal, 2),
                        "least_returning_s": round(best_handler_back, 6),
                        "least_returning_ratio": round(best_handler_back / best_seal, 2),
                        "least_returning_cpu_s": round(min(t.cpu for t in handler_back), 6),
                        "production_kdf_new_s": round(best_kdf_new, 6),
                        "production_kdf_ratio": round(best_kdf_new / best_seal, 2),
                        "production_kdf_derive_s": round(kdf_alone, 6),
                        "app_cpu_s": round(cpu_app, 6),
                        "seal_cpu_s": round(cpu_seal, 6),
                        "app_cpu_ratio": round(cpu_app / max(cpu_seal, 1e-6), 2),
                        "server_cpu_s": round(cpu_server, 6),
                        "server_cpu_ratio": round(cpu_server / max(cpu_seal, 1e-6), 2),
                        "worker_peak_rss_mib": _worker_peak_rss_mib(instance),
                    }
                )
                if args.profile:
                    _profile(flask_app, data, args.profile)
                    _profile(flask_app, data, args.profile, returning)
                data.unlink()
    print(f"worker peak RSS before any upload: {baseline_rss} MiB")
    print("server: gunicorn over loopback, client on the same 2 cores; app: the WSGI app")
    print("called in-process with the body streamed from disk; seal: crypto.seal alone;")
    print("cpu: CPU seconds of the in-process call, of sealing alone and of the gunicorn")
    print("workers during the upload (best of the runs); cpu ratio: app cpu / seal cpu")
    print(
        f"{'size':>8} {'server s':>9} {'app s':>8} {'seal s':>8} {'server/seal':>12}"
        f" {'app/seal':>9} {'app cpu':>8} {'seal cpu':>9} {'cpu ratio':>10}"
        f" {'server cpu':>11} {'worker RSS':>11}"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['server_s']:>9.4f} {r['app_s']:>8.4f} {r['seal_s']:>8.4f}"
            f" {r['ratio']:>12.2f} {r['app_ratio']:>9.2f} {r['app_cpu_s']:>8.4f}"
            f" {r['seal_cpu_s']:>9.4f} {r['app_cpu_ratio']:>10.2f} {r['server_cpu_s']:>11.4f}"
            f" {r['worker_peak_rss_mib']:>9.1f}Mi"
        )
    print(
        "sealing the submission alone (its report text and its file, to the app's own"
        f" recipients, {len(recipients)} of them, both forced to disk with their directory):"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['submission_seal_s']:>8.4f} s;"
            f" app / this: {r['app_submission_ratio']:.2f}"
        )
    print(
        "a returning source (signed in: no key derivation, no new account) beside the floor:"
        " what the promises alone cost for its submission (the two envelopes sealed, forced"
        " to disk together with their directory, the rows committed; the WAL emptied after the"
        " answer, timed apart below)"
    )
    print(
        f"{'size':>8} {'app s':>8} {'app/seal':>9} {'app cpu':>8}"
        f" {'floor s':>8} {'floor/seal':>11} {'floor cpu':>10} {'app/floor':>10}"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['returning_s']:>8.4f} {r['returning_ratio']:>9.2f}"
            f" {r['returning_cpu_s']:>8.4f} {r['floor_s']:>8.4f} {r['floor_ratio']:>11.2f}"
            f" {r['floor_cpu_s']:>10.4f} {r['returning_s'] / r['floor_s']:>10.2f}"
        )
    print(
        "after the answer (untimed above): the response's close, where the WAL is emptied"
        " (checkpoint and its cut flushed), new source / returning / floor:"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['app_close_s']:>8.4f} {r['returning_close_s']:>8.4f}"
            f" {r['floor_close_s']:>8.4f} s"
        )
    print(
        "the floor plus the least a request costs in this stack (Flask, Flask-WTF's CSRF"
        " check, a cookie session, one SQLAlchemy statement, and nothing else):"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi  bare request {r['bare_request_s']:.6f} s;"
            f" (floor + bare request) / seal: {r['floor_and_bare_ratio']:.2f}"
        )
    print(
        "a new source's report served by the least second handler of this app (no Flask, no"
        " ORM, the app's own checks and statements, the plain case only: `_LeastHandler`):"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['least_handler_s']:>8.4f} s;"
            f" / seal: {r['least_handler_ratio']:.2f}; cpu {r['least_handler_cpu_s']:.4f} s"
            f" (the app's: {r['app_cpu_s']:.4f} s)"
        )
    print(
        "a returning source's report served by the least second handler of this app (no Flask,"
        " no ORM, its login row and account checked, the plain case only:"
        " `_LeastReturningHandler`):"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['least_returning_s']:>8.4f} s;"
            f" / seal: {r['least_returning_ratio']:.2f}; cpu {r['least_returning_cpu_s']:.4f} s"
            f" (the app's: {r['returning_cpu_s']:.4f} s)"
        )
    kdf = _PRODUCTION_KDF
    print(
        "a new source's first upload with the key derivation of a real instance (Argon2id,"
        f" ops {kdf.ops}, {kdf.mem >> 20} MiB; the figures above use the test suite's fast"
        " settings), beside sealing alone and the derivation alone:"
    )
    for r in results:
        print(
            f"{r['size_mib']:>6g}Mi {r['production_kdf_new_s']:>8.4f} s;"
            f" / seal: {r['production_kdf_ratio']:.2f};"
            f" the derivation alone {r['production_kdf_derive_s']:.4f} s"
        )
    # The target names 1 MiB and 100 MiB; smaller uploads are printed for the fixed cost.
    named = [r for r in results if r["size_mib"] >= 1] or results
    met = all(r["app_ratio"] <= 1.5 for r in named)
    floor_met = all(r["floor_ratio"] <= 1.5 for r in named)
    print(
        "target: the app's time <= 1.5x sealing alone at 1 MiB and above:"
        f" {'met' if met else 'MISSED'} (the floor alone: {'within' if floor_met else 'ABOVE'} it)"
    )
    print(
        json.dumps(
            {
                "baseline_rss_mib": baseline_rss,
                "uploads": results,
                "target_met": met,
                "floor_within_target": floor_met,
            }
        )
    )


if __name__ == "__main__":
    main()
