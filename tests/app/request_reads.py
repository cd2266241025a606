"""Build the app in a fresh interpreter, then list every file that serving requests reads.

Run by tests/app/test_preload.py as `python -m tests.app.request_reads INSTANCE SECRET`
(SECRET: the TOTP secret of the staff account `admin`, whose password is
`tests.app.staff_support.PASSWORD`). A fresh interpreter, because a test process has
already imported and read what a gunicorn worker would only read on its first request.
It prints, as JSON, what the process opened, listed, imported or ran after `create_app`
returned: `[event, path, where]`, `where` the innermost frames of the first time.

Besides the app it imports only gunicorn's worker class (a worker has it before the
app) and the helpers a browser and a device need, which the app imports anyway:
whatever it imports itself, a request could not be seen importing.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from types import FrameType
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

# The worker class too: gunicorn's master imports it before forking the workers.
from app import create_app, worker  # noqa: F401
from app.config import config_for
from crypto import Fingerprint
from tests.app.api_support import ApiClient
from tests.app.staff_support import LOGIN_PATH as LOGIN
from tests.app.staff_support import PASSWORD, STAFF_ENVIRON
from tests.app.support import demo_authorities

# Events that read a file or a directory (and so may set its access time), with the
# index of the path among their arguments. `import` (a module's name: the event gives
# no file) is raised only for a module not yet imported, and so covers extension
# modules, whose dlopen raises no `open`.
_EVENTS = {
    "open": 0,
    "os.listdir": 0,
    "os.scandir": 0,
    "import": 0,
    "subprocess.Popen": 0,
    "os.posix_spawn": 0,
    "os.exec": 0,
}
_STACK_DEPTH = 8
# (event, path) -> where it first happened, innermost frame first.
_seen: dict[tuple[str, str], str] = {}
_recording = False


def _where(args: tuple[Any, ...], index: int) -> str:
    """The path (or module name) an event names, as text."""
    found = args[index] if len(args) > index else None
    if isinstance(found, int):  # a file descriptor
        return os.readlink(f"/proc/self/fd/{found}")
    if isinstance(found, bytes):
        return os.fsdecode(found)
    return os.fspath(found) if found is not None else "."


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _recording or event not in _EVENTS:
        return
    key = (event, _where(args, _EVENTS[event]))
    if key not in _seen:
        # Frames, not `traceback`: that reads source files, which would call the hook again.
        frame: FrameType | None = sys._getframe(1)
        lines: list[str] = []
        while frame is not None and len(lines) < _STACK_DEPTH:
            lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            frame = frame.f_back
        _seen[key] = " < ".join(lines)


CODENAME = re.compile(r'<p class="codename"[^>]*>([^<]+)</p>')


class _Hidden(HTMLParser):
    """The hidden inputs of the form that posts to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, dict[str, str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif tag == "input" and self.inside and a.get("type") == "hidden" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")


def _hidden(client: FlaskClient, page: str, action: str) -> dict[str, str]:
    parser = _Hidden(action)
    parser.feed(client.get(page).get_data(as_text=True))
    assert "csrf_token" in parser.fields, f"no form posting to {action} on {page}"
    return parser.fields


def _plain_gets(app: Flask, prefix: str) -> list[str]:
    """Every GET rule of a blueprint without a variable part."""
    return sorted(
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith(prefix) and "GET" in (r.methods or ()) and not r.arguments
    )


def _source(app: Flask, lang: str) -> None:
    """A new source: every page, a report with a file, a bad login, errors."""
    client = app.test_client()
    client.get(f"/lang/{lang}")
    for path in _plain_gets(app, "source."):
        client.get(path)
    fields = _hidden(client, "/submit", "/submit")
    data: dict[str, Any] = {**fields, "message": "atime"}
    data["files"] = [(io.BytesIO(b"a file"), "note.txt", "text/plain")]
    sent = client.post("/submit", data=data, content_type="multipart/form-data")
    assert sent.status_code in (200, 303), sent.status_code
    for path in ("/submitted", "/account"):
        client.get(path)
    client.post("/logout", data=_hidden(client, "/account", "/logout"))
    stranger = app.test_client()
    stranger.get(f"/lang/{lang}")
    stranger.post("/login", data={**_hidden(stranger, "/login", "/login"), "codename": "x y"})
    stranger.post("/login", data=_hidden(stranger, "/login", "/login"))  # no codename at all
    bad = {"district": "x" * 999, "agency": "none", "complicity": "none"}
    stranger.post("/submit", data={**_hidden(stranger, "/submit", "/submit"), **bad})
    stranger.post("/submit", data={"message": "no token"})  # 400
    for path in ("/no-such-page", "/static/style.css", "/static/staff.css", "/static/none.css"):
        stranger.get(path)
    stranger.get("/lang/xx")


def _api(app: Flask, pinned: frozenset[Fingerprint]) -> None:
    """A source's device makes an account and sends a report with a file; then errors."""
    client = app.test_client()
    device = ApiClient(client, pinned)
    assert device.register().status_code == 201
    device.submit("atime", [("note.txt", b"a file")])
    device.send("GET", "/api/v1/replies")
    for path in ("keyring", "openapi.json", "replies", "replies/x", "nothing"):
        client.get(f"/api/v1/{path}")
    client.post("/api/v1/challenges", json={})
    client.post("/api/v1/sources", data=b"{", content_type="application/json")


def _staff(app: Flask, secret: str) -> None:
    """A stranger fails to log in; an admin sees every page in each language, and exports."""
    stranger = app.test_client()
    stranger.environ_base.update(STAFF_ENVIRON)
    data = {"username": "nobody", "password": "wrong", "code": "000000"}
    stranger.post("/staff/login", data={**_hidden(stranger, LOGIN, LOGIN), **data})
    stranger.post("/staff/login", data=_hidden(stranger, LOGIN, LOGIN))  # an empty form
    admin = app.test_client()
    admin.environ_base.update(STAFF_ENVIRON)
    data = {"username": "admin", "password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    sent = admin.post(LOGIN, data={**_hidden(admin, LOGIN, LOGIN), **data})
    assert sent.status_code == 303, sent.status_code
    for lang in ("en", "ur"):
        admin.get(f"/staff/language/{lang}")
        for path in _plain_gets(app, "staff."):
            admin.get(path)
        admin.get("/staff/no-such-page")
    asked = admin.post("/staff/export", data=_hidden(admin, "/staff/", "/staff/export"))
    assert asked.status_code == 401, asked.status_code  # the password and a code, each time
    parser = _Hidden("/staff/export")
    parser.feed(asked.get_data(as_text=True))
    code = pyotp.TOTP(secret).at(int(time.time()) + 30)  # the login spent the code of now
    data = {**parser.fields, "reauth_password": PASSWORD, "reauth_code": code}
    bundle = admin.post("/staff/export", data=data)
    assert bundle.status_code == 200, bundle.status_code
    bundle.get_data()


def main(instance: str, secret: str) -> None:
    """Build the app, serve a day's worth of requests, print what they read."""
    global _recording
    pinned = frozenset(k.verify_key.fingerprint for k in demo_authorities(Path(instance)))
    sys.addaudithook(_hook)
    app = create_app(config_for(Path(instance)))
    # The test client's own first reads: Werkzeug's version, the codec of its URLs.
    app.test_client()
    "localhost".encode("idna")
    _recording = True
    for lang in ("en", "ur"):
        _source(app, lang)
    _staff(app, secret)
    _api(app, pinned)
    _recording = False
    app.extensions["raazdar.db"].engine.dispose()
    json.dump(sorted([*key, stack] for key, stack in _seen.items()), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
