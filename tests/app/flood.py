"""Real sources and a flood against a live server: browsers, flooders, and what the host shows.

Shared by the concurrency-tier flood test (tests/app/test_flood.py) and the login
benchmark (tests/bench/login.py). Everything talks to loopback only, and every
flooder stops when told, so a flood is bounded by its caller.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import urlencode, urlsplit

from app.kdf_pool import SLOT_DIR
from crypto import generate_codename
from crypto.encoding import b64encode
from tests.app.live import MASTERS, TorConnection
from tests.app.support import multipart

TIMEOUT = 60.0
_N = TypeVar("_N", int, float)


class _Inputs(HTMLParser):
    """Collect the name and value of every <input> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.values[named["name"] or ""] = named.get("value") or ""


def inputs(html: str) -> dict[str, str]:
    """The inputs of a page, by name (the last of each name)."""
    parser = _Inputs()
    parser.feed(html)
    return parser.values


class Browser:
    """One visitor over one kept-alive loopback connection, keeping its cookie."""

    def __init__(self, base: str, circuit: int | None = None) -> None:
        address = urlsplit(base)
        self.connection = TorConnection(address.hostname or "", address.port, TIMEOUT, circuit)
        self.cookies: dict[str, str] = {}
        # Whether the connection has carried an answer: a kept-alive one the server closed
        # while it was idle fails the next request before any answer, which a browser sends
        # again on a new connection when it may (a GET).
        self._answered = False

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()
        self._answered = False

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        """Send one request; return the status, the body as text and the headers."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reused = self._answered
        try:
            response, text = self._exchange(method, path, body, sent)
        except (ConnectionResetError, BrokenPipeError):  # RemoteDisconnected among them
            if not (reused and method in ("GET", "HEAD")):
                raise
            response, text = self._exchange(method, path, body, sent)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text, dict(response.headers.items())

    def _exchange(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, str]:
        """One request and its answer on the connection (closed on failure)."""
        try:
            self.connection.request(method, path, body=body or None, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            self.close()  # the next request reconnects
            raise
        self._answered = True
        return response, text

    def get(self, path: str) -> tuple[int, str]:
        """GET a page."""
        status, text, _ = self.request("GET", path)
        return status, text

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        """POST an url-encoded form; return the status."""
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, headers)[0]

    def post_multipart(self, path: str, fields: dict[str, str]) -> int:
        """POST a multipart form, as the report forms are sent; return the status."""
        body, content_type = multipart(list(fields.items()))
        return self.request("POST", path, body, {"Content-Type": content_type})[0]


def new_source(base: str, circuit: int | None = None) -> str:
    """Be a new source: report once through /submit; return the codename."""
    browser = Browser(base, circuit)
    try:
        status, html = browser.get("/submit")
        assert status == 200, status
        fields = {k: v for k, v in inputs(html).items() if k in ("csrf_token", "codename")}
        status = browser.post_multipart("/submit", {**fields, "message": "first report"})
        assert status == 200, status  # filed, confirmed in place
        return fields["codename"]
    finally:
        browser.close()


def log_in(base: str, codename: str, circuit: int | None = None) -> tuple[Browser, int, float]:
    """Log in with a codename in a new browser; return it, the status and the POST's seconds."""
    browser = Browser(base, circuit)
    status, html = browser.get("/login")
    assert status == 200, status
    started = time.monotonic()
    status = browser.post_form(
        "/login", {"csrf_token": inputs(html)["csrf_token"], "codename": codename}
    )
    return browser, status, time.monotonic() - started


def signed_in(browser: Browser) -> bool:
    """Say whether the browser's session is a source's account.

    A login's answer cannot say it: a wrong codename, like a right one, is a 303 to
    the account page (which then shows the login's form again).
    """
    status, html = browser.get("/account")
    return status == 200 and 'action="/logout"' in html


def send_more(browser: Browser) -> int:
    """From the account page, send another report; return the status."""
    status, html = browser.get("/account")
    assert status == 200, status
    token = inputs(html)["csrf_token"]
    return browser.post_multipart("/account", {"csrf_token": token, "message": "more"})


class Flooders:
    """Threads flooding until `stop` is set, for the length of a `with` block: `work` says
    what each runs, and with what."""

    stop: threading.Event
    threads: list[threading.Thread]

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """Each flooder's function and its arguments."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start every flooder."""
        self.threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in self.work()]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop every flooder and wait for it (each stops after its request in flight)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=TIMEOUT)


@dataclass
class Flood(Flooders):
    """Flooders of wrong codenames and garbage API proofs, running until `stop` is set.

    `circuits` are the Tor circuits the flooders come on, in turn (empty: tor
    names none).
    """

    base: str
    logins: int
    proofs: int
    circuits: tuple[int, ...] = ()
    stop: threading.Event = field(default_factory=threading.Event)
    sent: list[int] = field(default_factory=lambda: [0])
    busy: list[int] = field(default_factory=lambda: [0])
    wrong_logins: list[int] = field(default_factory=lambda: [0])
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, status: int, login: bool = False) -> None:
        with self.lock:
            self.sent[0] += 1
            self.busy[0] += status == 503
            # Derived (a wrong codename), not turned away busy before any derivation.
            self.wrong_logins[0] += login and status != 503

    def _circuit(self, flooder: int) -> int | None:
        return self.circuits[flooder % len(self.circuits)] if self.circuits else None

    def _wrong_codenames(self, flooder: int) -> None:
        browser = Browser(self.base, self._circuit(flooder))
        with contextlib.suppress(OSError, http.client.HTTPException):
            _status, html = browser.get("/login")
            token = inputs(html)["csrf_token"]
            while not self.stop.is_set():
                # Well formed (its checksum word right), so each one costs a derivation.
                fields = {"csrf_token": token, "codename": generate_codename()}
                self._count(browser.post_form("/login", fields), login=True)
        browser.close()

    def _garbage_proofs(self, flooder: int) -> None:
        browser = Browser(self.base, self._circuit(flooder))
        with contextlib.suppress(OSError, http.client.HTTPException):
            while not self.stop.is_set():
                status, _text, _headers = browser.request("POST", "/api/v1/challenges")
                self._count(status)
                headers = {
                    "Raazdar-Source": b64encode(secrets.token_bytes(32)),
                    "Raazdar-Challenge": b64encode(secrets.token_bytes(80)),
                    "Raazdar-Signature": b64encode(secrets.token_bytes(64)),
                }
                self._count(browser.request("GET", "/api/v1/replies", headers=headers)[0])
        browser.close()

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """The wrong codenames' flooders, then the garbage proofs', each numbered."""
        targets = [self._wrong_codenames] * self.logins + [self._garbage_proofs] * self.proofs
        return [(t, (n,)) for n, t in enumerate(targets)]


@dataclass
class PageFlood(Flooders):
    """Circuits loading one account's page as fast as they are answered, one cookie shared."""

    base: str
    cookies: dict[str, str]
    circuits: range
    # What each loads: the account page, or a cheap one to set beside it.
    path: str = "/account"
    # Whether each request sends the cookie as given, whatever the answers set since (a
    # cookie sent again, as an attacker may).
    replay: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    built: list[int] = field(default_factory=lambda: [0])
    # Answered 200 (a failed login's page, built on an account page for nobody, among them).
    served: list[int] = field(default_factory=lambda: [0])
    refused: list[int] = field(default_factory=lambda: [0])
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _load(self, circuit: int) -> None:
        browser = Browser(self.base, circuit)
        browser.cookies = self.cookies  # one login, sent down every circuit
        with contextlib.suppress(OSError, http.client.HTTPException):
            while not self.stop.is_set():
                if self.replay:
                    browser.cookies = dict(self.cookies)
                status, html = browser.get(self.path)
                with self.lock:
                    self.built[0] += status == 200 and 'action="/logout"' in html
                    self.served[0] += status == 200
                    self.refused[0] += status == 503
        browser.close()

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """A loader on each circuit."""
        return [(self._load, (c,)) for c in self.circuits]


def page_after_login(base: str, codename: str, circuit: int) -> tuple[str, float]:
    """Log in on `circuit` and load the account page: how it went ("in" or the status), and
    the seconds both took."""
    browser, status, seconds = log_in(base, codename, circuit)
    try:
        started = time.monotonic()
        shown = signed_in(browser) if status == 303 else False
        return ("in" if shown else str(status)), seconds + time.monotonic() - started
    finally:
        browser.close()


@contextlib.contextmanager
def sampled_peak(measure: Callable[[], _N], every: float) -> Iterator[list[_N]]:
    """Call `measure` every `every` seconds while the block runs; yield [the highest value]."""
    peak = [measure()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            peak[0] = max(peak[0], measure())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join(timeout=5)


def derivation_peak(instance: Path) -> contextlib.AbstractContextManager[list[int]]:
    """Sample /proc/locks while the block runs: the most slots of the pool held at once."""

    def slots_held() -> int:
        directory = instance / SLOT_DIR
        inodes = (
            {p.stat().st_ino for p in directory.glob("slot-*")} if directory.exists() else set()
        )
        held = set()
        # /proc/locks is read in pages: a slot freed and taken again between
        # two pages shows twice, so slots are counted once each.
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) > 5 and fields[1] == "FLOCK" and "->" not in line:
                inode = int(fields[5].rsplit(":", 1)[-1])
                if inode in inodes:
                    held.add(inode)
        return len(held)

    return sampled_peak(slots_held, 0.002)


def gunicorn_pids(instance: Path) -> dict[int, int]:
    """The gunicorn processes serving `instance` (master and workers), each with its parent."""
    master = MASTERS.get(instance)
    if master is None:
        return {}
    pids: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if master in (int(entry.name), parent):
                pids[int(entry.name)] = parent
    return pids


def worker_pids(instance: Path) -> list[int]:
    """The gunicorn workers serving `instance` (the master's children)."""
    pids = gunicorn_pids(instance)
    return sorted(pid for pid, parent in pids.items() if parent in pids)


def worker_peak_rss_mib(instance: Path) -> list[float]:
    """The peak RSS (VmHWM) of each gunicorn worker serving `instance`, in MiB."""
    peaks = []
    for pid in worker_pids(instance):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
    return peaks


def cpu_count() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0))
