"""A staff flood on a real server (gunicorn, two workers, a staff listener) holds no other
staff member back: one logged-in session loading pages on many connections, and a device
with no session loading the login page and sending wrong passwords, while a colleague logs
in, opens the dashboard and takes an export (app/page_pacing.py, app/worker.py)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import update

from app import create_app
from app.config import config_for
from app.models import StaffAccount
from app.services import staff_devices
from app.services.staff import get_account, remove_account
from tests.app.flood import Browser, Flooders, inputs, new_source
from tests.app.live import demo_instance, live_server
from tests.app.staff_support import PASSWORD, StaffUser, make_staff
from tests.app.support import db_session
from tests.ports import free_port

pytestmark = pytest.mark.slow

WORKERS = 2
# The stolen session's connections (the staff's, together, may hold 32 of each worker), and
# the device with no session's: login pages, and wrong passwords.
SESSION_FLOODERS = 48
LOGIN_PAGE_FLOODERS = 6
WRONG_PASSWORD_FLOODERS = 2
FLOOD_SECONDS = 4.0
# The longest any step of the colleague's may take during the flood (seconds): a login is one
# derivation in the staff's slot (fast settings here), a page some 10 ms, an export a bundle
# of one report.
STEP_BOUND = 10.0
# Circuits, where the staff onion names them: the flood's, the colleague's.
FLOOD_CIRCUIT, DEVICE_CIRCUIT, DESK_CIRCUIT = 0x5AFF0001, 0x5AFF0002, 0x5AFF0003


class _Counted(Flooders):
    """Flooders counting the statuses they are answered (0: closed unanswered)."""

    statuses: dict[int, int]
    lock: threading.Lock

    def _count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def _loop(self, send: Callable[[], int]) -> None:
        """`send` until `stop` is set, each answer counted."""
        while not self.stop.is_set():
            try:
                self._count(send())
            except (OSError, http.client.HTTPException):
                self._count(0)  # closed unanswered: it connects again
                time.sleep(0.01)


@dataclass
class StaffFlood(_Counted):
    """A stolen staff session loading `path` on many connections, and a device with no
    session loading the login page and sending wrong passwords, until `stop` is set."""

    base: str
    cookies: dict[str, str]
    circuits: bool
    path: str = "/staff/"
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: dict[int, int] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _circuit(self, circuit: int) -> int | None:
        return circuit if self.circuits else None

    def _session(self) -> None:
        browser = Browser(self.base, self._circuit(FLOOD_CIRCUIT))
        browser.cookies = dict(self.cookies)  # the stolen cookie, sent as it was taken
        self._loop(lambda: browser.get(self.path)[0])
        browser.close()

    def _login_pages(self) -> None:
        browser = Browser(self.base, self._circuit(DEVICE_CIRCUIT))
        self._loop(lambda: browser.get("/staff/login")[0])
        browser.close()

    def _wrong_passwords(self) -> None:
        browser = Browser(self.base, self._circuit(DEVICE_CIRCUIT))

        def guess() -> int:
            status, html = browser.get("/staff/login")
            if status != 200:
                return status
            fields = {"csrf_token": inputs(html)["csrf_token"], "username": "nobody"}
            return browser.post_form("/staff/login", {**fields, "password": "x" * 12})

        self._loop(guess)
        browser.close()

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """The stolen session's flooders, the login pages' and the wrong passwords'."""
        targets = (
            [self._session] * SESSION_FLOODERS
            + [self._login_pages] * LOGIN_PAGE_FLOODERS
            + [self._wrong_passwords] * WRONG_PASSWORD_FLOODERS
        )
        return [(t, ()) for t in targets]


def _fresh_code(app: Flask, user: StaffUser) -> str:
    """The code of now, the account's last spent step forgotten (the test's process cannot
    read the server's tags of spent steps: they are under its run key)."""
    with db_session(app) as session:
        session.execute(update(StaffAccount).where(StaffAccount.id == user.id).values(totp_spent=0))
        session.commit()
    return pyotp.TOTP(user.secret).now()


def _log_in(app: Flask, browser: Browser, user: StaffUser) -> int:
    """Send the login form as its owner would; return the status (303: in)."""
    status, html = browser.get("/staff/login")
    if status != 200:
        return status
    fields = {
        "csrf_token": inputs(html)["csrf_token"],
        "username": user.username,
        "password": user.password,
        "code": _fresh_code(app, user),
    }
    return browser.post_form("/staff/login", fields)


def _export(app: Flask, browser: Browser, user: StaffUser) -> int:
    """Ask for an export from the dashboard, confirm it with the password and a code; return
    the status of the bundle's answer (200: a bundle)."""
    status, html = browser.get("/staff/")
    if status != 200:
        return status
    token = inputs(html)["csrf_token"]
    status = browser.post_form("/staff/export", {"csrf_token": token})
    if status != 401:  # asked to confirm
        return status
    fields = {
        "csrf_token": token,
        "reauth_password": PASSWORD,
        "reauth_code": _fresh_code(app, user),
    }
    return browser.post_form("/staff/export", fields)


def _timed(step: object) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status: int = step()  # type: ignore[operator]
    except (OSError, http.client.HTTPException):
        status = 0
    return status, round(time.monotonic() - started, 2)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh demo instance."""
    return demo_instance(tmp_path / "instance")


@pytest.fixture(params=[False, True], ids=["staff-circuits-unnamed", "staff-circuits-named"])
def circuits(request: pytest.FixtureRequest) -> bool:
    """Whether tor names the staff onion's circuits (RAAZDAR_TOR_STAFF_CIRCUITS)."""
    named: bool = request.param
    return named


@pytest.fixture
def servers(instance: Path, tmp_path: Path, circuits: bool) -> Iterator[tuple[str, str]]:
    """gunicorn serving the instance as deployed (tor naming the sources' circuits): the
    source listener's base URL and the staff listener's."""
    staff_port = free_port()
    env = {
        "RAAZDAR_STAFF_BIND": f"127.0.0.1:{staff_port}",
        "RAAZDAR_TOR_CIRCUITS": "1",
        "RAAZDAR_TOR_STAFF_CIRCUITS": "1" if circuits else "0",
    }
    log = tmp_path / "gunicorn.log"
    with live_server(instance, workers=WORKERS, log=log, env=env) as url:
        yield url, f"http://127.0.0.1:{staff_port}"


def test_a_staff_flood_still_lets_a_colleague_log_in_see_the_dashboard_and_export(
    servers: tuple[str, str], instance: Path, circuits: bool
) -> None:
    """One logged-in staff session (a stolen device) loading the dashboard on four dozen
    connections, beside a device with no session loading the login page and sending wrong
    passwords: a colleague's login, dashboard and export are each served within
    `STEP_BOUND`."""
    base, staff = servers
    app = create_app(config_for(instance))
    mallory, alice = make_staff(app, "mallory"), make_staff(app, "alice")
    new_source(base, 1)  # one report waits, for the export
    stolen = Browser(staff, DESK_CIRCUIT + 1 if circuits else None)
    assert _log_in(app, stolen, mallory) == 303
    stolen.close()
    # The colleague's browser logged in from this desk before: a known device.
    desk = Browser(staff, DESK_CIRCUIT if circuits else None)
    assert _log_in(app, desk, alice) == 303
    desk.connection.close()
    desk.cookies.pop("rz", None)  # logged out since: only the known device's cookie stays
    with StaffFlood(staff, stolen.cookies, circuits) as flood:
        time.sleep(FLOOD_SECONDS)
        steps = {
            "login": _timed(lambda: _log_in(app, desk, alice)),
            "dashboard": _timed(lambda: desk.get("/staff/")[0]),
            "export": _timed(lambda: _export(app, desk, alice)),
        }
    desk.close()
    print(f"\nthe colleague's steps (status, seconds): {steps}; the flood: {flood.statuses}")
    assert flood.statuses.get(200, 0) > 0  # the flood ran, some of it served
    assert [status for status, _ in steps.values()] == [303, 200, 200], steps
    slowest = max(seconds for _, seconds in steps.values())
    assert slowest <= STEP_BOUND, f"a step of the colleague's took {slowest} s: {steps}"


# A device with no live session: connections loading the login page with no cookie, and pages
# with the cookie of a login ended since (a stolen laptop's, logged out by its owner).
NO_SESSION_FLOODERS = 48


@dataclass
class NoSessionFlood(_Counted):
    """A staff device with no live session loading the login page (with no cookie, and with
    the device's own known-device cookie) and the dashboard with an ended login's cookie, on
    `NO_SESSION_FLOODERS` connections until `stop` is set."""

    base: str
    ended: dict[str, str]
    device: dict[str, str]
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: dict[int, int] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _flood(self, path: str, cookies: dict[str, str]) -> None:
        browser = Browser(self.base)

        def get() -> int:
            browser.cookies = dict(cookies)  # sent as it was taken, whatever the answer set
            return browser.get(path)[0]

        self._loop(get)
        browser.close()

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """A third on each of the login page, the login page with the device's cookie and
        the dashboard with the ended cookie."""
        targets: list[tuple[object, ...]] = [
            ("/staff/login", {}),
            ("/staff/login", self.device),
            ("/staff/", self.ended),
        ]
        return [(self._flood, t) for t in targets * (NO_SESSION_FLOODERS // 3)]


@pytest.mark.parametrize("circuits", [False], ids=["staff-circuits-unnamed"])
def test_a_device_with_no_live_session_flooding_login_pages_leaves_a_colleague_served(
    servers: tuple[str, str], instance: Path
) -> None:
    """A staff device whose login has ended (its onion key still held) loading the login page
    (with no cookie, and with the device's own known-device cookie) and the dashboard with its
    ended cookie on four dozen connections, where tor names no staff circuit: a logged-in
    colleague's dashboard and export, and her login again from her known device, are each
    served within `STEP_BOUND`."""
    base, staff = servers
    app = create_app(config_for(instance))
    mallory, alice = make_staff(app, "mallory"), make_staff(app, "alice")
    new_source(base, 1)  # one report waits, for the export
    stolen = Browser(staff)
    assert _log_in(app, stolen, mallory) == 303
    ended = {"rz": stolen.cookies["rz"]}  # taken before its owner logged out
    device = {"rz_device": stolen.cookies["rz_device"]}
    token = inputs(stolen.get("/staff/")[1])["csrf_token"]
    assert stolen.post_form("/staff/logout", {"csrf_token": token}) in (302, 303)
    stolen.close()
    desk = Browser(staff)
    assert _log_in(app, desk, alice) == 303
    with NoSessionFlood(staff, ended, device) as flood:
        time.sleep(FLOOD_SECONDS)
        steps = {"dashboard": _timed(lambda: desk.get("/staff/")[0])}
        steps["export"] = _timed(lambda: _export(app, desk, alice))
        desk.cookies.pop("rz", None)  # logged out since: only the known device's cookie stays
        steps["login"] = _timed(lambda: _log_in(app, desk, alice))
        steps["dashboard again"] = _timed(lambda: desk.get("/staff/")[0])
    desk.close()
    print(f"\nthe colleague's steps (status, seconds): {steps}; the flood: {flood.statuses}")
    assert sum(flood.statuses.values()) > NO_SESSION_FLOODERS  # the flood ran
    assert [status for status, _ in steps.values()] == [200, 200, 303, 200], steps
    slowest = max(seconds for _, seconds in steps.values())
    assert slowest <= STEP_BOUND, f"a step of the colleague's took {slowest} s: {steps}"


# The requests a removed colleague sends with her own device's cookie during the flood, one
# after another, and the most of them the head may serve: she proves nothing any more.
VOIDED_REQUESTS = 16
VOIDED_SERVED = 2
# How long the workers take to read the accounts again (`app.worker`'s `TAGS_SECONDS`), and some.
REREAD_SECONDS = 3.0


@pytest.mark.parametrize("circuits", [False], ids=["staff-circuits-unnamed"])
def test_a_removed_colleagues_device_cookie_gets_no_more_at_the_head_than_no_cookie(
    servers: tuple[str, str], instance: Path
) -> None:
    """A colleague removed (her onion key still held), sending her own device's cookie, whose
    MAC still holds, during a flood of requests proving nothing: she is held to their one
    budget, not served from a device's own budget and share."""
    _base, staff = servers
    app = create_app(config_for(instance))
    mallory = make_staff(app, "mallory")
    stolen = Browser(staff)
    assert _log_in(app, stolen, mallory) == 303
    device = {"rz_device": stolen.cookies["rz_device"]}
    stolen.close()
    with app.app_context(), db_session(app) as session:
        remove_account(session, "test", get_account(session, mallory.username))
    time.sleep(REREAD_SECONDS)
    voided = Browser(staff)
    with NoSessionFlood(staff, ended={}, device={}) as flood:
        time.sleep(1.0)
        statuses = []
        for _ in range(VOIDED_REQUESTS):
            voided.cookies = dict(device)
            statuses.append(_timed(lambda: voided.get("/staff/login")[0])[0])
    voided.close()
    print(f"\nthe removed colleague's statuses: {statuses}; the flood: {flood.statuses}")
    assert flood.statuses.get(503, 0) > 0  # the flood spent the budget
    served = statuses.count(200)
    assert served <= VOIDED_SERVED, f"{served} of {VOIDED_REQUESTS} served: {statuses}"


@dataclass
class FormFlood(_Counted):
    """A stolen live session sending a staff form (`path`, with its CSRF token) on
    `SESSION_FLOODERS` connections until `stop` is set."""

    base: str
    cookies: dict[str, str]
    path: str
    fields: dict[str, str]
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: dict[int, int] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _flood(self) -> None:
        browser = Browser(self.base)

        def post() -> int:
            browser.cookies = dict(self.cookies)  # sent as it was taken
            return browser.post_form(self.path, self.fields)

        self._loop(post)
        browser.close()

    def work(self) -> list[tuple[Callable[..., None], tuple[object, ...]]]:
        """`SESSION_FLOODERS` of them."""
        return [(self._flood, ())] * SESSION_FLOODERS


@pytest.mark.parametrize("circuits", [False], ids=["staff-circuits-unnamed"])
def test_a_stolen_sessions_flood_of_forms_leaves_a_colleague_served(
    servers: tuple[str, str], instance: Path
) -> None:
    """One logged-in staff session (a stolen device) sending the export's form with a valid
    CSRF token on four dozen connections, where tor names no staff circuit: a logged-in
    colleague's dashboard and export, and her login again from her known device, are each
    served within `STEP_BOUND`."""
    base, staff = servers
    app = create_app(config_for(instance))
    mallory, alice = make_staff(app, "mallory"), make_staff(app, "alice")
    new_source(base, 1)  # one report waits, for the export
    stolen = Browser(staff)
    assert _log_in(app, stolen, mallory) == 303
    token = inputs(stolen.get("/staff/")[1])["csrf_token"]
    stolen.close()
    desk = Browser(staff)
    assert _log_in(app, desk, alice) == 303
    with FormFlood(staff, stolen.cookies, "/staff/export", {"csrf_token": token}) as flood:
        time.sleep(FLOOD_SECONDS)
        steps = {"dashboard": _timed(lambda: desk.get("/staff/")[0])}
        steps["export"] = _timed(lambda: _export(app, desk, alice))
        desk.cookies.pop("rz", None)  # logged out since: only the known device's cookie stays
        steps["login"] = _timed(lambda: _log_in(app, desk, alice))
        steps["dashboard again"] = _timed(lambda: desk.get("/staff/")[0])
    desk.close()
    print(f"\nthe colleague's steps (status, seconds): {steps}; the flood: {flood.statuses}")
    assert sum(flood.statuses.values()) > SESSION_FLOODERS  # the flood ran
    assert [status for status, _ in steps.values()] == [200, 200, 303, 200], steps
    slowest = max(seconds for _, seconds in steps.values())
    assert slowest <= STEP_BOUND, f"a step of the colleague's took {slowest} s: {steps}"


def _device_link(app: Flask, user: StaffUser) -> str:
    """The link an administrator hands a colleague for a new browser (`raazdar staff
    device-link`): the login page, carrying a known device's cookie of her account."""
    with app.test_request_context(), db_session(app) as session:
        account = get_account(session, user.username)
        return staff_devices.link(account)


@pytest.mark.parametrize("circuits", [False], ids=["staff-circuits-unnamed"])
def test_a_new_browsers_first_login_by_an_administrators_link_is_served_during_a_flood(
    servers: tuple[str, str], instance: Path
) -> None:
    """A colleague's first login from a new browser (no cookie at all), opening the link an
    administrator gave her, while a device with no session floods the login page on four
    dozen connections where tor names no staff circuit: the link, the login page and her
    login are each served within `STEP_BOUND`."""
    _base, staff = servers
    app = create_app(config_for(instance))
    alice = make_staff(app, "alice")
    link = _device_link(app, alice)
    newcomer = Browser(staff)
    with NoSessionFlood(staff, ended={}, device={}) as flood:
        time.sleep(FLOOD_SECONDS)
        steps = {"link": _timed(lambda: newcomer.get(link)[0])}
        steps["login"] = _timed(lambda: _log_in(app, newcomer, alice))
        steps["dashboard"] = _timed(lambda: newcomer.get("/staff/")[0])
    newcomer.close()
    print(f"\nthe newcomer's steps (status, seconds): {steps}; the flood: {flood.statuses}")
    assert flood.statuses.get(503, 0) > 0  # the flood spent the budget
    assert [status for status, _ in steps.values()] == [303, 303, 200], steps
    slowest = max(seconds for _, seconds in steps.values())
    assert slowest <= STEP_BOUND, f"a step of the newcomer's took {slowest} s: {steps}"
