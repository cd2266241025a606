"""A wrong staff password and a wrong code behind the right one write alike.

A code tried behind the right password is counted against the account (the throttle
that stops a TOTP search); a wrong password is counted nowhere, so that nobody can lock
an owner out by trying passwords. Counted, a wrong code committed its count where a
wrong password wrote nothing: on a live server, a few milliseconds of commits against
Argon2id's 0.8 s told whoever timed the staff login that the password had been right.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.app.staff_support import StaffUser, make_staff, staff_client, submit_login

_WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)


@contextmanager
def _commits_seen(app: Flask) -> Iterator[list[tuple[str, ...]]]:
    """The tables each committed transaction wrote, one tuple a commit that wrote."""
    engine = app.extensions["raazdar.db"].engine
    seen: list[tuple[str, ...]] = []
    pending: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if (written := _WRITE.match(sql)) is not None:
            pending.append(written.group(2).lower())

    def commit(_conn: Any) -> None:
        if pending:
            seen.append(tuple(sorted(set(pending))))
        pending.clear()

    def rollback(_conn: Any) -> None:
        pending.clear()

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


def _written(
    app: Flask, client: FlaskClient, user: StaffUser, password: str
) -> list[tuple[str, ...]]:
    client.get("/staff/login")
    with _commits_seen(app) as seen:
        response = submit_login(client, user.username, password, "000000")
    assert response.status_code == 401
    return seen


def test_a_wrong_password_writes_what_a_wrong_code_behind_the_right_one_writes(
    app: Flask,
) -> None:
    alice = make_staff(app, "alice")
    client = staff_client(app)
    _written(app, client, alice, "a first login meets the other hosts' keys (runshare)")
    wrong_code = _written(app, client, alice, alice.password)
    wrong_password = _written(app, client, alice, "not the password at all")
    assert wrong_password == wrong_code, (
        f"a wrong password committed {wrong_password}, a wrong code {wrong_code}"
    )


def test_a_throttled_accounts_right_password_writes_what_a_wrong_one_writes(app: Flask) -> None:
    # Throttled, the right password tries no code and counts nothing: it must still commit
    # what a wrong password's stand-in counts commit, or the silence names it.
    alice = make_staff(app, "alice")
    client = staff_client(app)
    _written(app, client, alice, "a first login meets the other hosts' keys (runshare)")
    for _ in range(int(app.config["STAFF_LOGIN_FAILURES"])):
        # The count that locks the account commits its audit entry with it: one commit.
        assert len(_written(app, client, alice, alice.password)) == 1
    right = _written(app, client, alice, alice.password)
    wrong = _written(app, client, alice, "not the password at all")
    assert right == wrong, f"throttled, the right password committed {right}, a wrong one {wrong}"
