"""A logged-in staff account's requests take turns of its own pace, the expensive pages more;
what stops a flooding account never waits for one (app/page_pacing.py, app/staff/auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from app import circuits, kdf_pool, page_pacing
from app.models import StaffAccount
from app.page_pacing import STAFF_BURST, STAFF_PAGE_TURNS, STAFF_TAXONOMY_TURNS
from tests.app.staff_support import (
    StaffUser,
    login,
    make_staff,
    page_token,
    post_confirmed,
    staff_client,
)
from tests.app.support import db_session

# The dashboards one account has built before it is refused, at most.
DASHBOARDS = STAFF_BURST // STAFF_PAGE_TURNS


NOW = 10**15


@pytest.fixture(autouse=True)
def empty_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets empty pace tables (they are the process's, shared by every test), and
    a clock that stands still: no turn comes back while a test runs."""
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW)
    monkeypatch.setattr(circuits, "_now", lambda: NOW)
    empty = memoryview(bytearray(page_pacing._staff_spent.nbytes)).cast("q")
    monkeypatch.setattr(page_pacing, "_staff_spent", empty)
    empty = memoryview(bytearray(circuits._circuit_requests.nbytes)).cast("q")
    monkeypatch.setattr(circuits, "_circuit_requests", empty)
    yield
    kdf_pool.set_circuit(None)


def _logged_in(app: Flask, user: StaffUser) -> FlaskClient:
    browser = staff_client(app)
    login(browser, app, user)
    return browser


def _flood(browser: FlaskClient, path: str = "/staff/", most: int = 4 * DASHBOARDS) -> int:
    """Load `path` until it is refused busy (or `most` times); say how many were built."""
    built = 0
    while (response := browser.get(path)).status_code == 200:
        built += 1
        if built >= most:
            return built
    assert response.status_code == 503, response.status_code
    assert int(response.headers["Retry-After"]) >= 1
    assert "The server is busy" in response.get_data(as_text=True)
    return built


def test_a_logged_in_session_flooding_the_dashboard_is_answered_busy_past_its_pace(
    app: Flask,
) -> None:
    """A stolen staff device, logged in, loaded the dashboard (11 ms of CPU each) in a loop,
    every one built, and held the staff's share of threads from the others."""
    flooder = _logged_in(app, make_staff(app, "mallory"))
    built = _flood(flooder)
    print(f"\ndashboards built before a refusal: {built}")
    assert built <= DASHBOARDS, "the flooding session's dashboards were never refused"
    assert built == DASHBOARDS  # a desk's reloads fit in the burst


def test_one_account_on_many_sessions_and_circuits_is_one_budget(app: Flask) -> None:
    mallory = make_staff(app, "mallory")
    first = _logged_in(app, mallory)
    second = _logged_in(app, mallory)
    kdf_pool.set_circuit(71)
    _flood(first)
    kdf_pool.set_circuit(72)
    assert second.get("/staff/").status_code == 503
    # Another account's budget is its own.
    assert _logged_in(app, make_staff(app, "alice")).get("/staff/").status_code == 200


def test_the_taxonomy_and_audit_pages_cost_more_than_a_cheap_page(app: Flask) -> None:
    root = make_staff(app, "root", role="admin")
    browser = _logged_in(app, root)
    assert _flood(browser, "/staff/admin/taxonomy") == STAFF_BURST // STAFF_TAXONOMY_TURNS
    page_pacing._staff_spent[:] = memoryview(bytearray(page_pacing._staff_spent.nbytes)).cast("q")
    assert _flood(browser, "/staff/admin/audit") == STAFF_BURST // STAFF_PAGE_TURNS
    page_pacing._staff_spent[:] = memoryview(bytearray(page_pacing._staff_spent.nbytes)).cast("q")
    # A cheap page takes one turn: with three left, three are built.
    assert page_pacing.take_staff_turns(root.id, None, STAFF_BURST - 3) == 0
    assert _flood(browser, "/staff/admin/accounts") == 3


def test_a_named_staff_circuit_is_paced_across_accounts(app: Flask) -> None:
    """Where the staff onion names circuits, one circuit is paced whichever accounts it
    carries: its turns are the circuit's (`circuits.take_circuit_turns`), its request's own
    taken as its head came in (`app.worker`), kept apart from the sources' circuits."""
    # Fewer turns left than a dashboard takes beside its own.
    spent = circuits.STAFF_CIRCUIT_BURST - STAFF_PAGE_TURNS + 2
    assert circuits.take_circuit_turns(circuits.staff_key(90), spent) == 0
    kdf_pool.set_circuit(90)
    assert _logged_in(app, make_staff(app, "alice")).get("/staff/").status_code == 503
    kdf_pool.set_circuit(91)
    assert _logged_in(app, make_staff(app, "bob")).get("/staff/").status_code == 200
    # A source's circuit 90 is another circuit.
    assert circuits.take_circuit_turns(90, STAFF_PAGE_TURNS) == 0


def test_the_removal_and_2fa_reset_of_a_flooder_and_a_logout_are_never_paced(
    app: Flask,
) -> None:
    """An administrator whose own session was stolen and floods (its budget spent) still
    removes the flooding colleague, resets a second factor, ends the other sessions and logs
    out: they are how the others stop a flood."""
    root = make_staff(app, "root", role="admin", actor="console")
    mallory = make_staff(app, "mallory")
    bob = make_staff(app, "bob")
    desk = _logged_in(app, root)
    token = page_token(desk)
    _flood(_logged_in(app, root))  # the stolen copy spends root's budget
    assert desk.get("/staff/").status_code == 503

    removed = post_confirmed(
        desk, f"/staff/admin/accounts/{mallory.id}/remove", {"confirm": "y", "csrf_token": token}
    )
    assert removed.status_code == 303, removed.status_code
    reset = post_confirmed(desk, f"/staff/admin/accounts/{bob.id}/reset-2fa", {"csrf_token": token})
    assert reset.status_code == 200, reset.status_code  # its new passphrase, shown once
    with db_session(app) as session:
        names = set(session.scalars(select(StaffAccount.username)))
        reset_account = session.get(StaffAccount, bob.id)
        assert reset_account is not None
        assert not reset_account.totp_enrolled
    assert "mallory" not in names

    ended = post_confirmed(desk, "/staff/account/sessions/end", {"csrf_token": token})
    assert ended.status_code == 303, ended.status_code
    out = desk.post("/staff/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["Location"].endswith("/staff/login")


def test_a_refused_page_reads_nothing_of_the_account_and_keeps_the_cookie_as_it_came(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal read the account (for the busy page's menu) and re-sealed the cookie, some
    half of its 2 ms of CPU on one of the staff's threads, for nothing: it now reads only the
    login's row, which names the account to pace, and sends no cookie back."""
    flooder = _logged_in(app, make_staff(app, "mallory"))
    _flood(flooder)
    read: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        read.append(sql)

    engine = app.extensions["raazdar.db"].engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        refused = flooder.get("/staff/")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert refused.status_code == 503
    assert "The server is busy" in refused.get_data(as_text=True)
    assert [sql for sql in read if "staff_accounts" in sql] == []
    assert "Set-Cookie" not in refused.headers
    # Served again once its turns come back, the account read and its cookie re-sealed.
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW + 10 * 10**9)
    served = flooder.get("/staff/")
    assert served.status_code == 200
    assert "Set-Cookie" in served.headers
