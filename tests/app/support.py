"""Helpers for the server tests: a source's browser, raw request bodies, what an instance holds."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import json
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.db import Base
from app.demo import DEMO_KEYRING_FORMAT, DEMO_PASSPHRASE, DEMO_REVIEWER, subkeys_paths
from app.errors import AppError
from app.instance import InstancePaths
from app.keyring import manifest_path
from app.models import AuditEntry, Item, Source
from app.services.replies import post_reply
from app.store import HOLDING_NAME
from app.subkeys import install_lists
from crypto import (
    AuthorityKey,
    HybridPrivateKey,
    KeyFile,
    KeyPair,
    Metadata,
    Period,
    PrivateKey,
    PublicKey,
    Recipient,
    SignedManifest,
    SigningKey,
    SubkeySecrets,
    derive_source_keys,
    open_bytes,
    seal_bytes,
    sign_subkeys,
)
from crypto.constants import MANIFEST_FORMAT_HYBRID
from crypto.reply import reply_content
from crypto.subkeys import generate as generate_subkeys

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"

# What a browser sends for a file part: (field name, file name, content, content type).
FilePart = tuple[str, str, bytes, str]

# The rendered traceback or exception text that must never reach a visitor.
LEAK_MARKERS = ("Traceback", 'File "', "Error:", "Exception", "werkzeug", "sqlalchemy")


@dataclass
class Form:
    """One <form> of a page: where it posts and the values of its inputs."""

    action: str
    method: str
    enctype: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.codename: str | None = None
        self._in_codename = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(a.get("action", ""), a.get("method", "get").lower(), a.get("enctype", ""))
            )
        elif tag == "input" and self.forms and a.get("type") == "hidden" and "name" in a:
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "p" and "codename" in a.get("class", "").split():
            self._in_codename = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_codename = False

    def handle_data(self, data: str) -> None:
        if self._in_codename:
            self.codename = (self.codename or "") + data


def forms(html: str) -> list[Form]:
    """Every form of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> Form:
    """The form of a page that posts to `action`."""
    found = [f for f in forms(html) if f.action == action]
    assert len(found) == 1, f"expected one form posting to {action}, found {len(found)}"
    return found[0]


def deletion(html: str, reply_id: str) -> Form:
    """The form of the account page that deletes the reply `reply_id` (named in its body)."""
    found = [f for f in forms(html) if f.action == "/replies/delete"]
    found = [f for f in found if f.fields.get("reply") == reply_id]
    assert len(found) == 1, f"expected one form deleting {reply_id}, found {len(found)}"
    return found[0]


def turn(html: str, button: str) -> Form | None:
    """The account page's report form as its "earlier" or "later" button sends it, if shown.

    The buttons send the report form with the page number in the body, not an address a
    browser's history keeps (`app.source.views._turned_page`).
    """
    found = re.search(rf'<button [^>]*name="page" value="(\d+)" id="{button}"', html)
    if found is None:
        return None
    report = form(html, "/account")
    return Form(report.action, "post", "", {**report.fields, "page": found.group(1)})


def shown_codename(html: str) -> str | None:
    """The codename the submit page shows the source."""
    parser = _FormParser()
    parser.feed(html)
    return parser.codename.strip() if parser.codename else None


def html_lang(html: str) -> tuple[str, str]:
    """The page's language and direction, from <html lang dir>."""
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    assert match, "a page without <html lang dir>"
    return match.group(1), match.group(2)


def multipart(
    fields: Sequence[tuple[str, str]], files: Sequence[FilePart] = (), *, boundary: str = ""
) -> tuple[bytes, str]:
    """Build a multipart/form-data body in memory; return it and its content type.

    Built here rather than by the test client, which spools large bodies to a
    temporary file (on the client's side, but it would muddle the canary search).
    """
    boundary = boundary or f"----raazdar-test-{secrets.token_hex(12)}"
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for name, filename, content, content_type in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class ClosingClient(FlaskClient):
    """A browser whose every response is read whole and closed before it returns.

    As gunicorn does once a body is written: a request that wrote empties the WAL
    at its response's close (`app.db.EmptiedAfterResponse`), before the next request.
    """

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> TestResponse:
        return super().open(*args, buffered=buffered, **kwargs)


def shows_login(response: TestResponse) -> bool:
    """Say whether an answer is the login page, as a page needing a login shows it in place.

    A `302` to `/login` and a second answer, where a signed-in source got one, told whoever
    counts the answers that the browser held no login (docs/PROTOCOL.md §7.3.2).
    """
    page = response.get_data(as_text=True)
    return (
        response.status_code == 200 and 'action="/login"' in page and 'action="/logout"' not in page
    )


def holds_login(response: TestResponse) -> bool:
    """Say whether an answer to `/account` is the account page, not the login page in place."""
    return response.status_code == 200 and 'action="/logout"' in response.get_data(as_text=True)


@dataclass
class Visitor:
    """A source's browser: the pages it sees and the forms it sends, as a person would."""

    client: FlaskClient

    def get(self, path: str, status: int = 200) -> str:
        """Load a page and return its HTML."""
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    def start(self) -> Form:
        """Open the submit page: the form, with the codename it carries."""
        return form(self.get("/submit"), "/submit")

    def send(
        self,
        page: Form,
        message: str = "",
        files: Iterable[FilePart] = (),
        choices: dict[str, str | list[str]] | None = None,
    ) -> TestResponse:
        """Send a report through a form of the submit or account page."""
        fields = [*page.fields.items(), ("message", message)]
        for name, value in (choices or {}).items():
            values = value if isinstance(value, list) else [value]
            fields += [(name, v) for v in values]
        body, content_type = multipart(fields, list(files))
        return self.client.post(page.action, data=body, content_type=content_type)

    def filed(self, response: TestResponse) -> str:
        """The confirmation a report's answer shows; fails if the report was not filed.

        A report filed is confirmed in place, answered as one refused is: one page of one
        size (docs/PROTOCOL.md §7.3.2).
        """
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (response.status_code, page[:300])
        assert 'class="filed"' in page, f"the report was not filed: {page[:300]}"
        return page

    def log_in(self, codename: str) -> TestResponse:
        """Log in with a codename through the login form."""
        page = form(self.get("/login"), "/login")
        return self.client.post("/login", data={**page.fields, "codename": codename})

    def logs_in(self, codename: str) -> bool:
        """Log in with a codename; say whether it opened the account.

        A wrong codename is answered as a right one is (the same redirect, to the
        same path): only the page it leads to says which.
        """
        response = self.log_in(codename)
        assert response.status_code == 303, response.status_code
        return 'action="/logout"' in self.get(response.headers["Location"])

    def action_token(self) -> str:
        """A CSRF token from the account page's buttons (log out, delete)."""
        return form(self.get("/account"), "/logout").fields["csrf_token"]

    def log_out(self) -> TestResponse:
        """Press "Log out" on the account page, then come back in by the site's name.

        Logging out leaves no cookie, so the language too goes; the link of the
        page shown in its place sets the language again (its link names it).
        """
        response = self.client.post("/logout", data={"csrf_token": self.action_token()})
        if response.status_code == 200:
            page = response.get_data(as_text=True)
            brand = re.search(r'<a class="brand" href="([^"]+)"', page)
            assert brand, "the page after logging out has no way back in"
            self.client.get(html.unescape(brand.group(1)))
        return response


def reviewer_keys(instance: Path) -> KeyPair:
    """The demo reviewer's keys (X25519 to open reports, Ed25519 to sign replies)."""
    data = (InstancePaths(instance).demo_keys / "reviewer.key").read_bytes()
    return KeyFile.from_bytes(data).unlock(DEMO_PASSPHRASE)


def demo_subkeys(instance: Path) -> SubkeySecrets:
    """The demo reviewer's weekly subkey secrets, sealed v2 to their X-Wing key by `init --demo`."""
    _, sealed = subkeys_paths(InstancePaths(instance).demo_keys, DEMO_REVIEWER)
    plaintext, _ = open_bytes(sealed.read_bytes(), reviewer_keys(instance).decryption_keys)
    return SubkeySecrets.from_bytes(plaintext)


def reviewer_openers(instance: Path) -> list[PrivateKey | HybridPrivateKey]:
    """Every key the demo reviewer opens reports with: long-term keys and the weeks' subkeys."""
    keys = reviewer_keys(instance).decryption_keys
    if subkeys_paths(InstancePaths(instance).demo_keys, DEMO_REVIEWER)[1].exists():
        keys += [key for _, key in demo_subkeys(instance).keys]
    return keys


def demo_authorities(instance: Path) -> list[SigningKey]:
    """The demo authority keys, in order (the demo keyring needs two of the three)."""
    keys = []
    for path in sorted(InstancePaths(instance).demo_keys.glob("authority-*.key")):
        signing = KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing
        assert signing is not None
        keys.append(signing)
    return keys


def new_reviewer(name: str = "new-reviewer") -> tuple[KeyPair, Recipient]:
    """A fresh reviewer, and the keyring entry that names them (with their X-Wing key
    when the demo keyring is format 3, which every successor must stay)."""
    keys = KeyPair.generate()
    assert keys.encryption_public is not None
    assert keys.signing_public is not None
    hybrid = keys.hybrid_public if DEMO_KEYRING_FORMAT == MANIFEST_FORMAT_HYBRID else None
    return keys, Recipient(
        name, name.replace("-", " "), keys.encryption_public, keys.signing_public, hybrid
    )


def install_successor(
    instance: Path,
    recipients: Sequence[Recipient],
    *,
    signers: Sequence[SigningKey] | None = None,
    expires: dt.date | None = None,
    authorities: Sequence[AuthorityKey] | None = None,
) -> SignedManifest:
    """Sign the next keyring version (by the demo authorities, unless told) and install it;
    with `authorities`, it rotates the authority set to them (`signers` must include them)."""
    paths = InstancePaths(instance)
    newest = sorted(paths.manifests.glob("*.json"))[-1]
    current = SignedManifest.from_bytes(newest.read_bytes()).manifest
    manifest = dataclasses.replace(
        current,
        version=current.version + 1,
        previous=current.digest(),
        expires=expires or current.expires,
        recipients=tuple(recipients),
        authorities=tuple(authorities) if authorities is not None else current.authorities,
    )
    signed = SignedManifest(manifest)
    for key in signers if signers is not None else demo_authorities(instance)[:2]:
        signed = signed.sign(key)
    manifest_path(paths, manifest.version).write_bytes(signed.to_bytes())
    return signed


def install_subkeys(instance: Path, keys: KeyPair) -> HybridPrivateKey:
    """Issue a reviewer of the keyring in force weekly subkeys and install their signed list,
    as their workstation and an administrator would; return this week's secret subkey."""
    paths = InstancePaths(instance)
    newest = sorted(paths.manifests.glob("*.json"))[-1]
    manifest = SignedManifest.from_bytes(newest.read_bytes()).manifest
    day = dt.datetime.now(dt.UTC).date()
    secrets_ = generate_subkeys(Period.of(day))
    assert keys.signing is not None
    signed = sign_subkeys(secrets_.public_list(keys.signing.verify_key, day), keys.signing)
    install_lists(paths, [signed.to_bytes()], manifest, day)
    key = secrets_.get(Period.of(day))
    assert key is not None
    return key


def remove_keyring(instance: Path) -> None:
    """Take every manifest away, as if the keyring had never been installed."""
    for path in InstancePaths(instance).manifests.glob("*.json"):
        path.unlink()


def envelope_files(instance: Path) -> list[Path]:
    """The envelopes in the store, and those held there since they arrived (by name)."""
    store = InstancePaths(instance).store
    return sorted(
        [*store.glob("*.rze"), *(store / HOLDING_NAME).glob("*.rze")], key=lambda p: p.name
    )


RETIRED_PREFIX = ".deleted-"


def staging_files(instance: Path) -> list[Path]:
    """Anything in staging (there should be nothing between requests) but the blank files
    that wait there for the sweep (`app.store.EnvelopeStore.retire_file`)."""
    staging = InstancePaths(instance).staging
    return sorted(p for p in staging.iterdir() if not p.name.startswith(RETIRED_PREFIX))


def free_blocks(monkeypatch: pytest.MonkeyPatch, blocks: int, free: int) -> None:
    """Make every filesystem look `blocks` blocks of 4 KiB large with `free` of them free."""
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        fields[0] = fields[1] = 4096  # f_bsize, f_frsize
        fields[2] = blocks
        fields[3] = fields[4] = free  # f_bfree, f_bavail
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)


def retired_files(instance: Path) -> list[Path]:
    """The files deleted since the sweep, overwritten and cut to nothing, that wait for it."""
    store = InstancePaths(instance).store
    return sorted(
        p
        for directory in (store, store / ".staging", store / HOLDING_NAME)
        if directory.is_dir()
        for p in directory.iterdir()
        if p.name.startswith(RETIRED_PREFIX)
    )


def opened_envelopes(instance: Path) -> dict[str, tuple[Metadata, bytes]]:
    """Every stored envelope opened with the demo reviewer's keys, by id."""
    keys = reviewer_openers(instance)
    opened = {}
    for path in envelope_files(instance):
        plaintext, info = open_bytes(path.read_bytes(), keys)
        opened[path.stem] = (info.metadata, plaintext)
    return opened


def db_session(app: Flask) -> Session:
    """A session on the app's database, outside any request."""
    session: Session = app.extensions["raazdar.db"].new_session()
    return session


def audit_trail(app: Flask) -> list[tuple[str, str, dict[str, object]]]:
    """Every audit entry, oldest first: (actor, action, details)."""
    with db_session(app) as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        return [(e.actor, e.action, json.loads(e.detail)) for e in rows]


def source_id(app: Flask, codename: str) -> str:
    """The id of the account a codename opens (looked up as the server does)."""
    keys = derive_source_keys(codename, app.config["CODENAME_SALT"], app.config["CODENAME_KDF"])
    with db_session(app) as session:
        query = select(Source.id).where(Source.lookup_tag == keys.lookup_tag)
        return session.execute(query).scalar_one()


def reply_to(
    app: Flask, codename: str, text: str, signer: SigningKey, *, written: dt.date | None = None
) -> str:
    """Post a reply as a reply bundle does: sealed to the source's key, signed by `signer`.

    With `written`, the reply carries that day as a workstation seals it (format 2);
    without, it is plain text, as replies written before were (format 1).
    """
    content, metadata = (
        reply_content(text, written)
        if written is not None
        else (text.encode(), Metadata("reply", "text/plain; charset=utf-8"))
    )
    with app.app_context(), db_session(app) as session:
        source = session.get(Source, source_id(app, codename))
        assert source is not None
        envelope = seal_bytes(
            content, [PublicKey.from_text(source.public_key)], metadata, signer=signer
        )
        return post_reply(session, source.id, envelope)


def row_counts(app: Flask, *models: Any) -> dict[str, int]:
    """How many rows each model's table holds."""
    with db_session(app) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in models
        }


def all_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the models declare, as plain values."""
    with db_session(app) as session:
        return {
            table.name: [dict(row._mapping) for row in session.execute(table.select())]
            for table in Base.metadata.sorted_tables
        }


def assert_nothing_stored(app: Flask, instance: Path) -> None:
    """No account, no item, no envelope, nothing left in staging."""
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}
    assert envelope_files(instance) == []
    assert staging_files(instance) == []


def assert_clean_page(response: TestResponse, *echoes: str) -> None:
    """An error page: HTML from the template, no exception text, none of the input echoed."""
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "<h1>" in body
    for marker in LEAK_MARKERS:
        assert marker not in body, marker
    for echo in echoes:
        assert echo not in body, echo


def message_box(page: str) -> str:
    """What the message box of a page holds, as the browser shows it."""
    found = re.search(r'<textarea[^>]*name="message"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no message box"
    # A textarea's first newline is dropped by the browser (and written by WTForms);
    # a browser shows and sends back line ends as it was given them, in either form.
    text = html.unescape(found.group(1)).removeprefix("\r\n").removeprefix("\n")
    return text.replace("\r\n", "\n")


def refusal_said(shown: str) -> str:
    """What a page given back says of why the report was not taken."""
    said = re.search(r'id="refusal"[^>]*>(.*?)</p>', shown, re.S)
    assert said, "the page says nothing of why"
    return html.unescape(said.group(1))


def assert_form_given_back(response: TestResponse, message: str, *files: str) -> None:
    """A report refused for a while (503, Retry-After) on a clean page that gives the form
    back: what the source wrote in its box, and each file named to attach again."""
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert_clean_page(response)
    shown = response.get_data(as_text=True)
    assert message_box(shown) == message, "what the source wrote was lost"
    for name in files:
        assert name in refusal_said(shown), f"{name} is not named to attach again"


def login_grants(app: Flask, client: FlaskClient) -> dict[str, Any] | None:
    """What the browser's login row grants (opened as the server does), or None."""
    from app import sessions
    from app.db import db_session as app_db_session

    cookie = client.get_cookie("rz")
    if cookie is None:
        return None
    with app.test_request_context("/", headers={"Cookie": f"rz={cookie.value}"}):
        return sessions.current_login(app_db_session())


def plant_login(
    app: Flask,
    client: FlaskClient,
    grants: dict[str, Any],
    *,
    staff_id: str | None = None,
    lifetime: int = 3600,
) -> None:
    """Give the browser a real login row for `grants`, as the login views make one."""
    from flask import session

    from app import sessions
    from app.db import db_session as app_db_session

    with app.test_request_context("/"):
        idle = int(app.config["SESSION_IDLE_SECONDS"])
        sessions.start_login(
            app_db_session(), grants, lifetime=lifetime, idle=idle, staff_id=staff_id
        )
        reference = session[sessions.LOGIN_KEY]
    with client.session_transaction() as browser:
        browser[sessions.LOGIN_KEY] = reference


def compile_catalogs() -> None:
    """Compile each catalog of app/translations whose .mo is missing or older than its .po.

    `deploy/bootstrap.sh` does it for a checkout; a test that reads Urdu pages needs it too.
    """
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po)
        partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
        with partial.open("wb") as mo:
            write_mo(mo, catalog)
        partial.replace(mo_path)  # atomic: a parallel run never loads half a catalog


class StoppedClock:
    """A stand-in for a module's `time`, stopped at a moment of today (UTC)."""

    def __init__(self, hour: int, minute: int) -> None:
        midnight = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), dt.UTC)
        self.moment = (midnight + dt.timedelta(hours=hour, minutes=minute)).timestamp()

    def time(self) -> float:
        return self.moment


class ClockAhead:
    """A stand-in for a module's `time`, `ahead` seconds past the real clock (a source
    who wrote for half an hour, say)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        import time

        return time.time() + self.ahead


def flushes_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """From now on, each `os.fsync` of this process as (the file's path, its size then)."""
    flushed: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        flushed.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return flushed


@contextlib.contextmanager
def sqlite_temp_files_opened() -> Iterator[set[str]]:
    """Within the block, every temporary file SQLite opens in this process (deleted at once).

    SQLite opens such a file (`etilqs_…`) and unlinks it at once, so no listing
    shows it: a thread watches the process's descriptors while the block runs.
    """
    seen: set[str] = set()
    during = threading.Event()
    during.set()

    def watch() -> None:
        while during.is_set():
            for fd in os.listdir("/proc/self/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/self/fd/{fd}")
                    if "etilqs_" in target:
                        seen.add(target)

    watcher = threading.Thread(target=watch, name="sqlite-temp-watch")
    watcher.start()
    try:
        yield seen
    finally:
        during.clear()
        watcher.join()


class ServerStarted(Exception):
    """gunicorn would start here (`refusal_to_serve`)."""


def refusal_to_serve(instance: Path, monkeypatch: pytest.MonkeyPatch) -> AppError:
    """What `raazdar serve` refuses the instance with; the test fails if gunicorn would start."""
    from app.operations import serve

    def started(*_args: Any, **_kwargs: Any) -> Any:
        raise ServerStarted

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", started)
    try:
        serve.serve(instance, port=1, tor_mode="off", say=lambda _line: None)
    except ServerStarted:
        pytest.fail("the server started")
    except AppError as refused:
        return refused
    pytest.fail("serve returned without refusing")
