"""How the worker's main loop sorts a staff request's head by what it proves: a live login, a
known device, or nothing (app/staff_heads.py, app/worker.py).

Unit-level: a worker built in this process (`tests.app.test_worker._busy_worker`) serving the
real app; cookies made by the app through Flask's test client, as a browser is given them.
The live flood is tests/app/test_staff_flood.py.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app import page_pacing, sessions, staff_heads
from app.models import StaffAccount
from app.services import staff_devices
from app.services.staff import get_account, remove_account
from app.sessions import end_staff_logins
from app.worker import HeadFirstWorker
from app.worker_turns import STAFF_SHARE, _share
from tests.app.staff_support import StaffUser, login, make_staff, page_token, staff_client
from tests.app.support import db_session
from tests.app.test_worker import _busy_worker
from tests.app.test_worker_staff_pages import _staff_request

NOW = 10**15


@pytest.fixture(autouse=True)
def empty_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables of the test's own, and a clock that stands still."""
    monkeypatch.setattr(staff_heads, "_now", lambda: NOW)
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW)
    for name in ("_live", "_devices", "_anonymous"):
        table = getattr(staff_heads, name)
        monkeypatch.setattr(staff_heads, name, memoryview(bytearray(table.nbytes)).cast("q"))


@pytest.fixture
def worker(app: Flask) -> Iterator[HeadFirstWorker]:
    with _busy_worker(app) as built:
        yield built


def _head(path: str = "/staff/", **cookies: str) -> bytes:
    field = "; ".join(f"{name}={value}" for name, value in cookies.items())
    sent = f"Cookie: {field}\r\n" if cookies else ""
    return f"GET {path} HTTP/1.1\r\nHost: x.onion\r\n{sent}\r\n".encode()


def _sorted(worker: HeadFirstWorker, head: bytes) -> tuple[str, int]:
    """What the main loop makes of `head`: its share's kind (login, device, none) and its wait."""
    conn = SimpleNamespace(head=head, staff=True)
    wait = worker._staff_turn(conn)
    share = _share(conn)
    assert share is not None
    if share == STAFF_SHARE:
        return "none", wait
    return ("login" if share > -3 - (1 << 30) else "device"), wait


def _cookies(browser: FlaskClient) -> dict[str, str]:
    session = browser.get_cookie("rz")
    device = browser.get_cookie(staff_devices.COOKIE, path=staff_devices.PATH)
    return {
        name: cookie.value
        for name, cookie in (("rz", session), (staff_devices.COOKIE, device))
        if cookie is not None
    }


def _logged_in(app: Flask, name: str) -> FlaskClient:
    browser = staff_client(app)
    login(browser, app, make_staff(app, name))
    return browser


def _anonymous_left() -> int:
    """How many turns the budget of requests proving nothing has left now."""
    spent = max(staff_heads._anonymous[0] - NOW, 0)
    return staff_heads.ANONYMOUS_BURST - spent // staff_heads.ANONYMOUS_SPACING_NS


def test_a_live_logins_request_takes_its_own_share_and_no_budget(
    app: Flask, worker: HeadFirstWorker
) -> None:
    alice = _logged_in(app, "alice")
    assert _sorted(worker, _head(rz=_cookies(alice)["rz"])) == ("login", 0)
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST


def test_two_live_logins_take_turns_under_shares_of_their_own(
    app: Flask, worker: HeadFirstWorker
) -> None:
    shares = set()
    for name in ("alice", "bob"):
        conn = SimpleNamespace(head=_head(rz=_cookies(_logged_in(app, name))["rz"]), staff=True)
        worker._staff_turn(conn)
        shares.add(_share(conn))
    assert len(shares) == 2
    assert STAFF_SHARE not in shares


def test_an_ended_logins_cookie_proves_nothing(app: Flask, worker: HeadFirstWorker) -> None:
    """A copy of the cookie taken before its owner logged out (a stolen laptop's)."""
    alice = _logged_in(app, "alice")
    copy = _cookies(alice)["rz"]
    alice.post("/staff/logout", data={"csrf_token": page_token(alice)})
    assert _sorted(worker, _head(rz=copy)) == ("none", 0)
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST - 1


def test_a_cookie_past_its_idle_deadline_proves_nothing(
    app: Flask, worker: HeadFirstWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _cookies(_logged_in(app, "alice"))["rz"]
    later = time.time() + int(app.config["SESSION_IDLE_SECONDS"]) + 1
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: later))
    assert _sorted(worker, _head(rz=copy)) == ("none", 0)


def test_a_removed_accounts_login_proves_nothing_after_its_first_request(
    app: Flask, worker: HeadFirstWorker
) -> None:
    """Its rows go with a removal, no cookie of it at hand: the app sees its login gone at its
    next request, and from then on its cookie proves nothing."""
    user = make_staff(app, "mallory")
    mallory = staff_client(app)
    login(mallory, app, user)
    copy = _cookies(mallory)["rz"]
    with db_session(app) as session:
        end_staff_logins(session, user.id)
        session.commit()
    mallory.get("/staff/")  # its login found gone
    assert _sorted(worker, _head(rz=copy)) == ("none", 0)


def test_a_known_devices_request_takes_its_own_share_and_its_budget(
    app: Flask, worker: HeadFirstWorker
) -> None:
    """A stolen device's own cookie is held to that one cookie's budget, and spends no one
    else's: not the budget of requests proving nothing."""
    device = _cookies(_logged_in(app, "alice"))[staff_devices.COOKIE]
    head = _head("/staff/login", rz_device=device)
    waits = [_sorted(worker, head) for _ in range(staff_heads.DEVICE_BURST + 1)]
    assert waits[:-1] == [("device", 0)] * staff_heads.DEVICE_BURST
    assert waits[-1][0] == "device"
    assert waits[-1][1] > 0, "a device's cookie had more than its budget"
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST


def _altered(cookie: str, part: int) -> str:
    parts = cookie.split(".")
    last = parts[part][-1]
    parts[part] = parts[part][:-1] + ("0" if last != "0" else "1")
    return ".".join(parts)


def _foreign(cookie: str) -> str:
    """The cookie as another server (another secret key) would have made it."""
    version, ident, until, mac = cookie.split(".")
    tagged = bytes.fromhex(ident)[:16]
    head_mac = staff_devices._head_mac(staff_devices._head_key(b"\x07" * 32), tagged, int(until))
    return ".".join([version, (tagged + head_mac).hex(), until, mac])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: _altered(c, 1), id="its-id-altered"),
        pytest.param(lambda c: _altered(c, 2), id="its-last-day-moved"),
        pytest.param(_foreign, id="another-servers"),
        pytest.param(lambda c: "d2." + "ab" * 24 + ".800000." + "cd" * 32, id="made-up"),
        pytest.param(lambda c: c + "0", id="too-long-a-mac"),
    ],
)
def test_a_forged_or_foreign_devices_cookie_proves_nothing(
    app: Flask, worker: HeadFirstWorker, forge: Any
) -> None:
    device = forge(_cookies(_logged_in(app, "alice"))[staff_devices.COOKIE])
    assert _sorted(worker, _head("/staff/login", rz_device=device)) == ("none", 0)
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST - 1


def test_a_devices_cookie_past_its_last_day_proves_nothing(
    app: Flask, worker: HeadFirstWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff_devices, "today", lambda: dt.date(2001, 1, 1))
    device = _cookies(_logged_in(app, "alice"))[staff_devices.COOKIE]
    monkeypatch.undo()
    assert _sorted(worker, _head("/staff/login", rz_device=device)) == ("none", 0)


@pytest.mark.parametrize(
    "ident",
    [
        pytest.param(bytes(range(16)), id="a-random-id"),
        pytest.param(None, id="an-id-with-a-head-mac-and-no-tag"),
    ],
)
def test_a_devices_cookie_made_before_ids_held_a_tag_still_has_its_kept_place(
    app: Flask, worker: HeadFirstWorker, ident: bytes | None
) -> None:
    """Made with a random id, or one whose head MAC covered no account's tag (`d1`): it proves
    nothing at the head, and its login still waits in its device's place (`place_key`) until
    its owner's next full login gives a new one."""
    alice = make_staff(app, "alice")
    until = 800_000
    if ident is None:
        random = bytes(range(8))
        key = staff_devices._head_key(app.config["SECRET_KEY"])
        ident = random + staff_devices._head_mac(key, random, until)
    with app.app_context(), db_session(app) as session:
        account = session.get(StaffAccount, alice.id)
        assert account is not None
        mac = staff_devices._mac(ident, until, account.id, account.epoch)
        old = f"d1.{ident.hex()}.{until}.{mac.hex()}"
        assert staff_devices.place_key(old, account) is not None
    assert _sorted(worker, _head("/staff/login", rz_device=old)) == ("none", 0)


def test_requests_proving_nothing_past_their_budget_are_refused_before_any_thread(
    app: Flask, worker: HeadFirstWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login page with no cookie, on many connections: past the budget every such request
    of the host shares, each is answered busy with Retry-After in the main loop."""
    served: list[Any] = []
    clients: list[socket.socket] = []
    monkeypatch.setattr(worker, "_to_thread", served.append)
    try:
        conns = [
            _staff_request(worker, clients, _head("/staff/login"))
            for _ in range(staff_heads.ANONYMOUS_BURST + 1)
        ]
        clients[-1].settimeout(5)
        answer = clients[-1].recv(65536)
    finally:
        for sock in clients:
            sock.close()
    assert served == conns[:-1]
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:30]
    assert b"\r\nretry-after: " in answer.lower()


def test_a_new_browsers_first_login_proves_nothing_and_is_served_when_no_flood_runs(
    app: Flask, worker: HeadFirstWorker
) -> None:
    """The login page, the form, the dashboard after: the first two within the budget of
    requests proving nothing, the last its new login's."""
    browser = staff_client(app)
    assert _sorted(worker, _head("/staff/login")) == ("none", 0)
    session = browser.get("/staff/login")
    assert session.status_code == 200
    assert _sorted(worker, _head("/staff/login", rz=_cookies(browser)["rz"])) == ("none", 0)
    login(browser, app, make_staff(app, "alice"))
    assert _sorted(worker, _head(rz=_cookies(browser)["rz"]))[0] == "login"


def _removed(app: Flask, user: StaffUser) -> None:
    """`raazdar staff remove`, or the admin page's removal."""
    with app.app_context(), db_session(app) as session:
        remove_account(session, "test", get_account(session, user.username))


def _epoch_moved(app: Flask, user: StaffUser) -> None:
    """A reset, a new password, or a keyring install that locks the account."""
    with db_session(app) as session:
        session.execute(
            update(StaffAccount)
            .where(StaffAccount.id == user.id)
            .values(epoch=StaffAccount.epoch + 1)
        )
        session.commit()


@pytest.mark.parametrize(
    "void",
    [pytest.param(_removed, id="removed"), pytest.param(_epoch_moved, id="reset-or-locked")],
)
def test_a_devices_cookie_its_account_no_longer_holds_proves_nothing(
    app: Flask, worker: HeadFirstWorker, void: Any
) -> None:
    """A removed colleague's own device cookie still MACs: it must take no device's budget
    or share at the head once the worker has read the accounts again (`_read_live_tags`)."""
    user = make_staff(app, "mallory")
    browser = staff_client(app)
    login(browser, app, user)
    device = _cookies(browser)[staff_devices.COOKIE]
    assert _sorted(worker, _head("/staff/login", rz_device=device)) == ("device", 0)
    void(app, user)
    worker.live_tags = None  # read again, as its thread does every few seconds
    assert _sorted(worker, _head("/staff/login", rz_device=device)) == ("none", 0)
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST - 1


def _link(app: Flask, user: StaffUser) -> str:
    with app.test_request_context(), db_session(app) as session:
        return staff_devices.link(get_account(session, user.username))


def test_an_administrators_link_is_a_known_devices_at_the_head(
    app: Flask, worker: HeadFirstWorker
) -> None:
    """A new browser opening it has no cookie yet: the address carries it."""
    link = _link(app, make_staff(app, "alice"))
    assert _sorted(worker, _head(link)) == ("device", 0)
    assert _anonymous_left() == staff_heads.ANONYMOUS_BURST


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(lambda link: _head(link.replace("/login", "/")), id="another-page"),
        pytest.param(lambda link: _head(link).replace(b"GET ", b"POST ", 1), id="a-form"),
        pytest.param(lambda link: _head(link.replace("device=", "devices=")), id="another-field"),
        pytest.param(lambda link: _head(_altered(link, 1)), id="its-id-altered"),
    ],
)
def test_a_link_anywhere_else_or_altered_proves_nothing(
    app: Flask, worker: HeadFirstWorker, head: Any
) -> None:
    link = _link(app, make_staff(app, "alice"))
    assert _sorted(worker, head(link)) == ("none", 0)


def test_a_removed_colleagues_link_proves_nothing(app: Flask, worker: HeadFirstWorker) -> None:
    user = make_staff(app, "mallory")
    link = _link(app, user)
    _removed(app, user)
    worker.live_tags = None  # read again, as its thread does every few seconds
    assert _sorted(worker, _head(link)) == ("none", 0)
