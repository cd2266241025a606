"""Guesses sent at once get no more checks than the limit allows.

Every staff guess counter (a session's wrong passwords at a re-confirmation or a
password change, an account's codes tried behind the right password) read its
count, checked the guess, and counted it after. Requests sent together each read
the count before any wrote it: each was checked, however many there were.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.services import staff as staff_service
from crypto import verify_password
from tests.app.staff.test_staff_admin import Staff, staff_browser
from tests.app.staff_support import (
    PASSWORD,
    StaffUser,
    fresh_code,
    login,
    login_token,
    make_staff,
    next_code,
    staff_client,
    submit_login,
)
from tests.app.support import form

LIMIT = 2
# One request in the staff's slot and four waiting (`kdf_pool.STAFF_PLACES`): as many as
# reach the password's check at once; more are told "busy" before it.
AT_ONCE = 5
# Past STAFF_REAUTH_SECONDS: a session left open on a desk since the morning.
_LONG_AGO = 60 * 60
# What a password's check takes on a server (Argon2id at its interactive cost, some 0.5 s):
# the tests' instances hash at a cost that takes none.
_HASH_SECONDS = 0.3


def _at_once(
    clients: list[FlaskClient], send: Callable[[FlaskClient, int], TestResponse]
) -> list[int]:
    """Send one request from each client at the same moment; return the statuses."""
    start = threading.Barrier(len(clients))
    statuses: list[int] = [0] * len(clients)

    def one(n: int) -> None:
        start.wait(timeout=10)
        statuses[n] = send(clients[n], n).status_code

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _passwords_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Note each password checked, the check taking as long as on a server."""
    checked: list[str] = []

    def slow(encoded: str, password: str) -> bool:
        checked.append(password)
        time.sleep(_HASH_SECONDS)
        return verify_password(encoded, password)

    monkeypatch.setattr(staff_service, "verify_password", slow)
    return checked


def _codes_tried(monkeypatch: pytest.MonkeyPatch, meeting: int) -> list[str]:
    """Note each code tried; the requests meet before trying theirs (at most 1 s), so that
    all have read the count by then before any counts: the window of the race."""
    tried: list[str] = []
    meet = threading.Barrier(meeting)
    real = staff_service._use_code

    def met(session: Any, account: Any, secret: str, code: str) -> bool:
        if account is not None:  # None: a refused login's stand-in, no account's code
            tried.append(code)
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=1)
        return real(session, account, secret, code)

    monkeypatch.setattr(staff_service, "_use_code", met)
    return tried


def _copies(app: Flask, browser: FlaskClient, count: int) -> list[FlaskClient]:
    """Browsers holding `browser`'s cookie as it stands: one session's requests sent at once."""
    cookie = browser.get_cookie("rz")
    assert cookie is not None
    copies = []
    for _ in range(count):
        copy = staff_browser(app).client
        copy.set_cookie("rz", cookie.value)
        copies.append(copy)
    return copies


@pytest.fixture
def guarded(make_app: Callable[..., Flask]) -> Flask:
    return make_app(STAFF_LOGIN_FAILURES=LIMIT)


@pytest.fixture
def root(guarded: Flask) -> StaffUser:
    return make_staff(guarded, "root", role="admin")


def _idle_admin(app: Flask, root: StaffUser) -> tuple[Staff, str]:
    admin = staff_browser(app).log_in(root.id, authenticated_ago=_LONG_AGO)
    return admin, admin.token()


def test_wrong_passwords_sent_at_once_at_a_confirmation_are_checked_no_more_than_the_limit(
    guarded: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever holds a session left open guesses the password at the confirmation page: a
    few a session, then it ends. Sent at once, each guess waiting for the staff's slot was
    checked after the session had ended."""
    admin, token = _idle_admin(guarded, root)
    checked = _passwords_checked(monkeypatch)

    def guess(client: FlaskClient, n: int) -> TestResponse:
        data = {"csrf_token": token, "username": "deputy", "role": "staff"}
        data |= {"reauth_password": f"guess number {n}", "reauth_code": "000000"}
        return client.post("/staff/admin/accounts/new", data=data)

    _at_once(_copies(guarded, admin.client, AT_ONCE), guess)
    assert len(checked) <= LIMIT, f"{len(checked)} passwords checked, the limit {LIMIT}"


def test_wrong_current_passwords_sent_at_once_are_checked_no_more_than_the_limit(
    guarded: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = staff_client(guarded)
    login(owner, guarded, root)
    page = owner.get("/staff/account/password").get_data(as_text=True)
    token = form(page, "/staff/account/password").fields["csrf_token"]
    checked = _passwords_checked(monkeypatch)
    new = "seven unrelated words for the new passphrase"

    def guess(client: FlaskClient, n: int) -> TestResponse:
        data = {"csrf_token": token, "current": f"guess number {n}", "new": new}
        data |= {"repeated": new, "code": "000000"}
        return client.post("/staff/account/password", data=data)

    _at_once(_copies(guarded, owner, AT_ONCE), guess)
    assert len(checked) <= LIMIT, f"{len(checked)} passwords checked, the limit {LIMIT}"


def test_codes_sent_at_once_behind_the_right_password_are_tried_no_more_than_the_limit(
    guarded: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever has the password guesses codes: LIMIT a window. Sent at once, each login
    read the count before any counted its code, and each code was tried."""
    clients = [staff_client(guarded) for _ in range(AT_ONCE - 1)]
    tokens = [login_token(client) for client in clients]
    tried = _codes_tried(monkeypatch, len(clients))

    def guess(client: FlaskClient, n: int) -> TestResponse:
        data = {"csrf_token": tokens[n], "username": "root", "password": PASSWORD}
        return client.post("/staff/login", data={**data, "code": f"{n:06d}"})

    assert _at_once(clients, guess) == [401] * len(clients)
    assert len(tried) <= LIMIT, f"{len(tried)} codes tried, the limit {LIMIT}"
    # The owner is refused for the window, as after LIMIT codes tried one by one.
    owner = staff_client(guarded)
    data = {"csrf_token": login_token(owner), "username": "root", "password": PASSWORD}
    assert (
        owner.post("/staff/login", data={**data, "code": fresh_code(guarded, root)}).status_code
        == 401
    )


def test_codes_sent_at_once_at_a_confirmation_are_tried_no_more_than_the_limit(
    guarded: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, token = _idle_admin(guarded, root)
    tried = _codes_tried(monkeypatch, AT_ONCE - 1)

    def guess(client: FlaskClient, n: int) -> TestResponse:
        data = {"csrf_token": token, "username": "deputy", "role": "staff"}
        data |= {"reauth_password": PASSWORD, "reauth_code": f"{n:06d}"}
        return client.post("/staff/admin/accounts/new", data=data)

    _at_once(_copies(guarded, admin.client, AT_ONCE - 1), guess)
    assert len(tried) <= LIMIT, f"{len(tried)} codes tried, the limit {LIMIT}"


def test_one_code_sent_twice_at_once_logs_in_once(
    guarded: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code seen over a shoulder, typed at once beside its owner: each login read the
    spent step before either wrote it."""
    clients = [staff_client(guarded) for _ in range(2)]
    tokens = [login_token(client) for client in clients]
    code = fresh_code(guarded, root)
    _codes_tried(monkeypatch, 2)

    def send(client: FlaskClient, n: int) -> TestResponse:
        data = {"csrf_token": tokens[n], "username": "root", "password": PASSWORD}
        return client.post("/staff/login", data={**data, "code": code})

    assert sorted(_at_once(clients, send)) == [303, 401], "one code logged in twice"


def test_right_passwords_and_codes_are_given_back_so_using_them_locks_no_one_out(
    make_app: Callable[..., Flask],
) -> None:
    """Each guess is counted before its check: a right one kept counted, the owner's own
    logins and confirmations would end her session, and throttle her, after a few."""
    app = make_app(STAFF_LOGIN_FAILURES=LIMIT, STAFF_LOGIN_DAILY_FAILURES=LIMIT)
    root = make_staff(app, "root", role="admin")
    for _ in range(LIMIT + 1):
        assert (
            submit_login(staff_client(app), "root", PASSWORD, next_code(app, root)).status_code
            == 303
        )
    admin, token = _idle_admin(app, root)
    for n in range(LIMIT + 1):
        data = {"csrf_token": token, "resources_en": f"Help {n}", "resources_ur": "مدد"}
        data |= {"reauth_password": PASSWORD, "reauth_code": next_code(app, root)}
        done = admin.client.post("/staff/admin/settings/resources", data=data)
        assert done.status_code == 303, f"confirmation {n + 1}: {done.status_code}"
        ended = done.headers["Location"].startswith("/staff/login")
        assert not ended, f"confirmation {n + 1} ended the session"
    owner = staff_client(app)
    assert submit_login(owner, "root", PASSWORD, next_code(app, root)).status_code == 303
