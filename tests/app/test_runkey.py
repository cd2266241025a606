"""Throttle windows and spent TOTP steps: a seized database cannot date them; they still work."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from app import runkey, throttle
from app.errors import ThrottledError
from app.migrate import upgrade
from app.models import Throttle
from tests.app.staff_support import (
    PASSWORD,
    StaffUser,
    fresh_code,
    make_staff,
    page_token,
    staff_client,
    submit_login,
)
from tests.app.support import db_session

# Every unit of time a stamp might be counted in: seconds, TOTP steps, minutes, windows, hours.
UNITS = (1, 30, 60, 300, 600, 900, 3600)


def _dated(value: object, *, within: int = 900) -> bool:
    """Say whether `value` is a count of some unit of time since the epoch, up to now."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    now = int(time.time())
    return any((now - within) // unit <= value <= now // unit + 2 for unit in UNITS)


def _restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a restart does to the run key: a new one, begun now."""
    monkeypatch.setenv(runkey.ENV, f"{secrets.token_hex(32)}:{time.time():.0f}")


@pytest.fixture
def alice(app: Flask) -> StaffUser:
    return make_staff(app, "alice")


def test_a_seized_throttle_row_cannot_say_when_the_last_failure_was(app: Flask) -> None:
    with app.app_context(), db_session(app) as session:
        throttle.record_failure(session, "source-login", 300)
        row = session.get(Throttle, "source-login")
        assert row is not None
        assert not _dated(row.window)


def test_the_throttle_counts_across_a_restart_and_forgets_two_windows_after_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart's new key cannot read the last run's window, which may be current: its
    counts go on for two windows (a restart began every count again), then are forgotten.
    Such a window may as well be years old: alone it refuses no one, and one try is let
    through, whose failure refuses the next."""
    with app.app_context(), db_session(app) as session:
        for _ in range(3):
            throttle.record_failure(session, "bucket", 300)
        with pytest.raises(ThrottledError):
            throttle.check(session, "bucket", 3, 300)
        _restart(monkeypatch)
        throttle.check(session, "bucket", 3, 300)
        throttle.record_failure(session, "bucket", 300)
        with pytest.raises(ThrottledError):
            throttle.check(session, "bucket", 3, 300)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 601)
        throttle.check(session, "bucket", 3, 300)


def test_a_seized_account_cannot_say_when_its_last_login_was(app: Flask, alice: StaffUser) -> None:
    client = staff_client(app)
    assert submit_login(client, "alice", PASSWORD, fresh_code(app, alice)).status_code == 303
    with db_session(app) as session:
        row = session.execute(
            text("SELECT * FROM staff_accounts WHERE id = :id"), {"id": alice.id}
        ).one()
    assert [v for v in row if _dated(v)] == []


def test_a_code_spent_just_before_a_restart_is_refused_after_it(
    app: Flask, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = fresh_code(app, alice)
    first = staff_client(app)
    assert submit_login(first, "alice", PASSWORD, code).status_code == 303
    first.post("/staff/logout", data={"csrf_token": page_token(first)})
    _restart(monkeypatch)
    again = staff_client(app)
    assert submit_login(again, "alice", PASSWORD, code).status_code == 401


def test_a_code_is_refused_twice_within_a_run(app: Flask, alice: StaffUser) -> None:
    code = fresh_code(app, alice)
    assert submit_login(staff_client(app), "alice", PASSWORD, code).status_code == 303
    assert submit_login(staff_client(app), "alice", PASSWORD, code).status_code == 401


def test_upgrading_forgets_each_accounts_last_login_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staff_accounts (id, username, role, password_hash, "
                    "totp_enrolled, totp_last_step, epoch, created_day) VALUES "
                    "(:id, 'alice', 'staff', 'x', 1, :step, 1, '2026-01-01')"
                ),
                {"id": secrets.token_hex(16), "step": int(time.time()) // 30},
            )
            connection.execute(
                text("INSERT INTO throttle VALUES ('source-login', :w, 3)"),
                {"w": int(time.time()) // 300},
            )
        upgrade(url, "0007")
        with engine.connect() as connection:
            (spent,) = connection.execute(text("SELECT totp_spent FROM staff_accounts")).one()
            windows = connection.execute(text("SELECT count(*) FROM throttle")).scalar()
    finally:
        engine.dispose()
    assert not _dated(spent)
    assert spent != 0  # a login there was: refused for a minute after the next start
    assert windows == 0
