"""Whoever sits at a session left open learns nothing of which password guess was right.

The confirmation page (an admin change) and the password page each take the
password and a code. A thief at an unlocked staff browser has the session but
not the phone: every guess goes with a wrong code. A right password given back
to the session (and its code counted against the account) let the session live
one guess longer than wrong ones did, and the account's throttle, reached only
behind the right password, was told at once: either said which guess was right.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.app.staff.test_staff_admin import Staff, staff_browser
from tests.app.staff.test_staff_password import PATH, change
from tests.app.staff.test_staff_reauth_timing import _refused_change, _work
from tests.app.staff_support import PASSWORD, login, make_staff, staff_client, submit_login

LIMIT = 2
# Past STAFF_REAUTH_SECONDS: a session left open on a desk since the morning.
_LONG_AGO = 60 * 60
_WRONG_CODE = "000000"


def _answer(response: TestResponse) -> tuple[int, str]:
    """What the thief sees of an answer: its status and where it sends her."""
    return response.status_code, response.headers.get("Location", "")


def _confirmations(app: Flask, name: str, guess: str) -> list[tuple[int, str]]:
    root = make_staff(app, name, role="admin")
    admin: Staff = staff_browser(app).log_in(root.id, authenticated_ago=_LONG_AGO)
    token = admin.token()
    answers = []
    for n in range(LIMIT + 2):
        data = {"csrf_token": token, "resources_en": f"Help {n}", "resources_ur": "مدد"}
        data |= {"reauth_password": guess, "reauth_code": _WRONG_CODE}
        answers.append(_answer(admin.client.post("/staff/admin/settings/resources", data=data)))
    return answers


def _password_changes(app: Flask, name: str, guess: str) -> list[tuple[int, str]]:
    alice = make_staff(app, name)
    taken = staff_client(app)
    login(taken, app, alice)
    answers = []
    for _ in range(LIMIT + 2):
        if taken.get(PATH).status_code != 200:
            answers.append((0, "session gone"))
            continue
        answers.append(_answer(change(taken, guess, code=_WRONG_CODE)))
    return answers


@pytest.mark.parametrize("page", [_confirmations, _password_changes])
def test_a_session_s_answers_are_the_same_whichever_password_guess_was_right(
    make_app: Callable[..., Flask],
    page: Callable[[Flask, str, str], list[tuple[int, str]]],
) -> None:
    # Two accounts of one instance: the throttle and the sessions are each one's own.
    app = make_app(STAFF_LOGIN_FAILURES=LIMIT)
    right = page(app, "alice", PASSWORD)
    wrong = page(app, "bilal", "not the password at all")
    assert right == wrong, f"the right password's answers {right}, a wrong one's {wrong}"


def test_a_throttled_accounts_confirmation_does_a_wrong_passwords_work_after_the_hash(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throttled account's confirmation was refused before the hash, at once, with a page
    of its own: whoever timed it or read it knew that codes had been tried behind the right
    password, their own guess's among them."""
    root = make_staff(app, "root", role="admin")
    for _ in range(int(app.config["STAFF_LOGIN_FAILURES"])):
        assert submit_login(staff_client(app), "root", PASSWORD, _WRONG_CODE).status_code == 401
    for right in (True, False):  # the first of each warms what is cached (runshare, the slot)
        _refused_change(app, root, right)
    right_password = _work(app, root, monkeypatch, True)
    wrong_password = _work(app, root, monkeypatch, False)
    assert right_password == wrong_password, (
        f"a throttled account's right password did {len(right_password)} steps after the"
        f" hash, a wrong one {len(wrong_password)}"
    )
