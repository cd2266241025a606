"""What a refused re-confirmation or password change tells whoever sits at the session:
nothing of which factor was wrong.

Whoever holds a staff session left open (a laptop on a desk, a copied cookie) is asked
the password and a code for an admin change, and for a new password of the account's
own. A wrong password is counted against the session and a wrong code behind the right
password against the account. If the answer, or what follows the password's hash,
differs, it says the password typed was right, without the code: a leaked or reused
password confirmed from the session, as the login no longer confirms it
(test_staff_login_timing.py).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app.services import staff as staff_service
from crypto import KdfParams, hash_password
from tests.app.staff.test_staff_admin import staff_browser
from tests.app.staff.test_staff_login_timing import _after_the_hash, _steps_seen
from tests.app.staff_support import StaffUser, make_staff, page_token

# Past STAFF_REAUTH_SECONDS: a session left open on a desk since the morning.
_LONG_AGO = 60 * 60


@pytest.fixture
def root(app: Flask) -> StaffUser:
    return make_staff(app, "root", role="admin")


def _refused_change(app: Flask, root: StaffUser, right_password: bool) -> int:
    """One admin change, confirmed with a wrong code or a wrong password, on a session of
    its own (a wrong password is counted against the session); return its status."""
    desk = staff_browser(app).log_in(root.id, authenticated_ago=_LONG_AGO)
    data = {
        "username": "deputy",
        "role": "staff",
        "reauth_password": root.password if right_password else "not the password",
        "reauth_code": "000000",
    }
    return desk.post("/staff/admin/accounts/new", data).status_code


def _work(app: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch, right: bool) -> list[str]:
    with _steps_seen(app, monkeypatch) as steps:
        assert _refused_change(app, root, right) == 401
    return _after_the_hash(steps)


def test_a_re_confirmations_wrong_code_does_a_wrong_passwords_work_after_the_hash(
    app: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for right in (True, False):  # the first of each warms what is cached (runshare, the slot)
        _refused_change(app, root, right)
    wrong_code = _work(app, root, monkeypatch, True)
    wrong_password = _work(app, root, monkeypatch, False)
    unlike = next(
        (f"{c!r} / {p!r}" for c, p in zip(wrong_code, wrong_password, strict=False) if c != p),
        "",
    )
    assert wrong_code == wrong_password, (
        f"a wrong code did {len(wrong_code)} steps after the hash, a wrong password"
        f" {len(wrong_password)}; first unlike: {unlike}"
    )


_PASSWORD_PAGE = "/staff/account/password"
_NEW = "seven unrelated words make a long passphrase"


def _refused_new_password(app: Flask, root: StaffUser, right_password: bool) -> TestResponse:
    """A password change with a wrong code or a wrong current password, on a session of
    its own."""
    desk = staff_browser(app).log_in(root.id)
    return desk.client.post(
        _PASSWORD_PAGE,
        data={
            "csrf_token": page_token(desk.client, _PASSWORD_PAGE, _PASSWORD_PAGE),
            "current": root.password if right_password else "not the password",
            "new": _NEW,
            "repeated": _NEW,
            "code": "000000",
        },
    )


def _as_shown(response: TestResponse) -> tuple[int, str]:
    """The answer's status and page, its session's own CSRF token aside."""
    page = re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))
    return response.status_code, page


def test_a_password_changes_wrong_code_is_answered_as_a_wrong_password_is(
    app: Flask, root: StaffUser
) -> None:
    wrong_code = _as_shown(_refused_new_password(app, root, True))
    wrong_password = _as_shown(_refused_new_password(app, root, False))
    assert wrong_code[0] == wrong_password[0] == 403
    assert wrong_code == wrong_password, "a password change said which factor was wrong"


def test_a_password_changes_wrong_code_does_a_wrong_passwords_work_after_the_hash(
    app: Flask, root: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for right in (True, False):  # the first of each warms what is cached (runshare, the slot)
        _refused_new_password(app, root, right)
    done: dict[bool, list[str]] = {}
    for right in (True, False):
        with _steps_seen(app, monkeypatch) as steps:

            def hashing(password: str, cost: KdfParams, seen: list[str] = steps) -> str:
                seen.append("hash new")  # as costly as the current one's check
                return hash_password(password, cost)

            monkeypatch.setattr(staff_service, "hash_password", hashing)
            assert _refused_new_password(app, root, right).status_code == 403
        done[right] = _after_the_hash(steps)
    wrong_code, wrong_password = done[True], done[False]
    unlike = next(
        (f"{c!r} / {p!r}" for c, p in zip(wrong_code, wrong_password, strict=False) if c != p),
        "",
    )
    assert wrong_code == wrong_password, (
        f"a wrong code did {len(wrong_code)} steps after the hash, a wrong password"
        f" {len(wrong_password)}; first unlike: {unlike}"
    )
