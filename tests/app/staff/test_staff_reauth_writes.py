"""A wrong password and a wrong code at a re-confirmation write alike.

A wrong password is counted against the session (its row re-sealed), a wrong code behind
the right password against the account (the throttle). Each committed only its own: a
watcher of the database's writes (a seized disk's WAL, a colleague reading PostgreSQL's
statistics of the `sessions` and `throttle` tables) read which factor had been wrong, and
so that whoever sat at the open session had the password.
"""

from __future__ import annotations

import pytest
from flask import Flask

from tests.app.staff.test_staff_admin import staff_browser
from tests.app.staff.test_staff_login_writes import _commits_seen
from tests.app.staff_support import StaffUser, fresh_code, make_staff

# Past STAFF_REAUTH_SECONDS: a session left open on a desk since the morning.
_LONG_AGO = 60 * 60


@pytest.fixture
def root(app: Flask) -> StaffUser:
    return make_staff(app, "root", role="admin")


def _written(app: Flask, root: StaffUser, wrong: str) -> list[tuple[str, ...]]:
    admin = staff_browser(app).log_in(root.id, authenticated_ago=_LONG_AGO)
    admin.get("/staff/")
    data = {
        "username": "deputy",
        "role": "staff",
        "reauth_password": "not the password" if wrong == "password" else root.password,
        "reauth_code": "000000" if wrong == "code" else fresh_code(app, root),
    }
    with _commits_seen(app) as seen:
        refused = admin.post("/staff/admin/accounts/new", data)
    assert refused.status_code == 401
    return seen


def test_a_wrong_password_writes_what_a_wrong_code_writes(app: Flask, root: StaffUser) -> None:
    _written(app, root, "code")  # a first confirmation meets the other hosts' keys (runshare)
    wrong_code = _written(app, root, "code")
    wrong_password = _written(app, root, "password")
    assert wrong_password == wrong_code, (
        f"a wrong password committed {wrong_password}, a wrong code {wrong_code}"
    )
