"""A staff member changes their own password: other sessions end, this one goes on."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models import StaffAccount
from app.services import staff as staff_service
from crypto import verify_password
from tests.app.staff.test_staff_auth import logged_in
from tests.app.staff_support import (
    LOGIN_PATH,
    PASSWORD,
    StaffUser,
    fresh_code,
    known_user,
    login,
    make_staff,
    next_code,
    page_token,
    staff_client,
    submit_login,
)
from tests.app.support import audit_trail, db_session

PATH = "/staff/account/password"
NEW = "seven unrelated words make a long passphrase"


def change(
    client: FlaskClient,
    current: str,
    new: str = NEW,
    repeated: str | None = None,
    code: str | None = None,
) -> TestResponse:
    """Send the form, with a code from the phone of alice's (the account these tests use)."""
    if code is None:
        code = next_code(client.application, known_user(client.application, "alice"))
    return client.post(
        PATH,
        data={
            "csrf_token": page_token(client, PATH, PATH),
            "current": current,
            "new": new,
            "repeated": new if repeated is None else repeated,
            "code": code,
        },
    )


def stored(app: Flask, user: StaffUser) -> tuple[str, int]:
    with db_session(app) as session:
        account = session.get(StaffAccount, user.id)
        assert account is not None
        return account.password_hash, account.epoch


@pytest.fixture
def two_devices(app: Flask, alice: StaffUser) -> tuple[FlaskClient, FlaskClient]:
    """Alice logged in twice: the laptop that changes the password, and another device."""
    laptop, other = staff_client(app), staff_client(app)
    login(laptop, app, alice)
    login(other, app, alice)
    return laptop, other


def test_the_change_ends_every_other_session_and_keeps_this_one(
    app: Flask, alice: StaffUser, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    laptop, other = two_devices
    copied = staff_client(app)
    cookie = laptop.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    # This device's own cookie, copied before the change: it opens nothing after.
    copied.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)

    response = change(laptop, PASSWORD)

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
    page = laptop.get("/staff/")
    assert page.status_code == 200
    assert "Every other session of your account has ended." in page.get_data(as_text=True)
    assert not logged_in(other)
    assert not logged_in(copied)


def test_the_new_password_is_the_one_that_works(app: Flask, alice: StaffUser) -> None:
    client = staff_client(app)
    login(client, app, alice)
    assert change(client, PASSWORD).status_code == 303
    encoded, _ = stored(app, alice)
    assert verify_password(encoded, NEW)
    assert not verify_password(encoded, PASSWORD)


def test_a_wrong_current_password_changes_nothing(
    app: Flask, alice: StaffUser, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    laptop, other = two_devices
    before = stored(app, alice)

    response = change(laptop, "not the password at all")

    assert response.status_code == 403
    assert "Your current password or the code is not right" in response.get_data(True)
    assert stored(app, alice) == before
    assert logged_in(laptop)
    assert logged_in(other)
    assert not [a for _, a, _ in audit_trail(app) if a == "staff-password-changed"]


@pytest.mark.parametrize(
    ("new", "repeated", "said"),
    [
        (NEW, NEW + " ", "The two new passwords differ."),
        ("too short", "too short", "A password has 12 to 1024 characters. Nothing changed."),
        (
            PASSWORD,
            PASSWORD,
            "The new password is the same as the current password you typed: choose another.",
        ),
    ],
    ids=["differ", "short", "same"],
)
def test_a_refused_new_password_changes_nothing(
    app: Flask,
    alice: StaffUser,
    two_devices: tuple[FlaskClient, FlaskClient],
    new: str,
    repeated: str,
    said: str,
) -> None:
    laptop, other = two_devices
    before = stored(app, alice)
    response = change(laptop, PASSWORD, new, repeated)
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
    assert stored(app, alice) == before
    assert logged_in(other)


def test_a_new_password_the_same_as_a_wrong_current_one_is_not_called_the_current_one(
    app: Flask, alice: StaffUser, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    """The new password is held against the one typed as current, before that one's hash
    (after it, the answer said which typed was right): the page called a wrong guess,
    typed in both, "your current one"."""
    laptop, _other = two_devices
    typed = "not the password at all"
    before = stored(app, alice)
    response = change(laptop, typed, typed)
    assert response.status_code == 400
    said = html.unescape(response.get_data(as_text=True))
    assert "is your current one" not in said, "a wrong guess was called the current password"
    assert "The new password is the same as the current password you typed" in said
    assert stored(app, alice) == before


def test_the_change_is_audited_without_any_password(app: Flask, alice: StaffUser) -> None:
    client = staff_client(app)
    login(client, app, alice)
    change(client, PASSWORD)
    assert audit_trail(app)[-1] == ("alice", "staff-password-changed", {"username": "alice"})
    assert not any(NEW in str(entry) or PASSWORD in str(entry) for entry in audit_trail(app))


def test_a_change_without_the_csrf_token_is_refused(app: Flask, alice: StaffUser) -> None:
    client = staff_client(app)
    login(client, app, alice)
    before = stored(app, alice)
    response = client.post(PATH, data={"current": PASSWORD, "new": NEW, "repeated": NEW})
    assert response.status_code == 400
    assert stored(app, alice) == before


def test_wrong_current_passwords_end_the_session_and_lock_no_one_out(
    make_app: Callable[..., Flask],
) -> None:
    """Whoever sits at a laptop left logged in, without the password, typed wrong ones into
    this form: each counted against the account, so a few locked its owner out of every
    login for half an hour, and a day's worth for two days. Now they end that session."""
    app = make_app(STAFF_LOGIN_FAILURES=2)
    alice = make_staff(app, "alice")
    taken, own = staff_client(app), staff_client(app)
    login(taken, app, alice)
    for _ in range(2):
        assert change(taken, "a wrong guess of it").status_code == 403
    owner = submit_login(own, "alice", PASSWORD, fresh_code(app, alice))
    assert owner.status_code == 303, "a session's wrong guesses locked the owner out"
    before = stored(app, alice)
    ended = change(taken, "a third guess")
    assert ended.status_code == 303
    assert ended.headers["Location"].startswith(LOGIN_PATH)
    assert not logged_in(taken), "a session kept guessing the password"
    assert stored(app, alice) == before
    assert ("alice", "staff-session-ended", {"username": "alice"}) in audit_trail(app)
    assert "staff-login-throttled" not in {action for _, action, _ in audit_trail(app)}


def test_a_session_ended_by_its_owner_s_wrong_codes_says_tries_failed_not_passwords(
    make_app: Callable[..., Flask],
) -> None:
    """Every try counts against the session now, the right password's with a wrong code too:
    its owner, typing her right password with codes her phone had moved past, had her
    session ended with "Too many wrong passwords", and looked for a typo in a right one."""
    app = make_app(STAFF_LOGIN_FAILURES=2)
    alice = make_staff(app, "alice")
    client = staff_client(app)
    login(client, app, alice)
    for _ in range(2):
        assert change(client, PASSWORD, code="000000").status_code == 403
    ended = change(client, PASSWORD, code="000000")
    assert ended.status_code == 303
    said = html.unescape(client.get(ended.headers["Location"]).get_data(as_text=True))
    assert "wrong passwords" not in said, "a right password's wrong codes were called so"
    assert "Too many failed tries at the password and code: this session has ended." in said


def test_an_account_locked_for_the_day_is_answered_as_a_wrong_password_whatever_is_typed(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the day's limit the page said "Wait 2 minutes" (two windows), and later told the
    lock at once; a lock is reached only by codes tried behind the right password, so it
    told whoever sat at the session which guess was right (`test_staff_guess_tells`). It is
    answered as a wrong password is, the right one and a right code too, as at a login."""
    app = make_app(
        STAFF_LOGIN_FAILURES=3,
        STAFF_LOGIN_WINDOW_SECONDS=60,
        STAFF_LOGIN_DAILY_FAILURES=4,
        SESSION_IDLE_SECONDS=3600,
    )
    alice = make_staff(app, "alice")
    client = staff_client(app)
    login(client, app, alice)
    real, start = time.time, time.time()
    for window in range(2):
        # Two a window, two windows on: the window's own limit never bites.
        monkeypatch.setattr(time, "time", lambda w=window: start + w * 121)
        for _ in range(2):
            # Codes guessed behind the right password: what the throttle counts.
            guess = submit_login(staff_client(app), "alice", PASSWORD, "123456")
            assert guess.status_code == 401
    monkeypatch.setattr(time, "time", lambda: start + 2 * 121)
    answers = [change(client, typed) for typed in (PASSWORD, "another wrong guess")]
    assert [a.status_code for a in answers] == [403, 403]
    shown = [html.unescape(a.get_data(as_text=True)) for a in answers]
    assert "Wait 2 minutes" not in shown[0], "a lock of up to two days was called 2 minutes"
    assert "Your current password or the code is not right" in shown[0]
    assert "Too many failed attempts" not in shown[0], "the lock was told"
    assert shown[0] == shown[1]
    # And it holds: the two minutes pass, and the right password and code change nothing.
    before = stored(app, alice)
    monkeypatch.setattr(time, "time", lambda: start + 2 * 121 + 180)
    assert change(client, PASSWORD).status_code == 403
    assert stored(app, alice) == before
    monkeypatch.setattr(time, "time", real)


def test_a_visitor_without_a_session_is_sent_to_log_in(app: Flask) -> None:
    response = staff_client(app).get(PATH)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN_PATH)


def _meanwhile(app: Flask, monkeypatch: pytest.MonkeyPatch, step: Callable[[], None]) -> None:
    """Run `step` once, on its own thread and session, just after the current password checks."""
    check = verify_password
    done: list[BaseException | None] = []

    def then_step(encoded: str, password: str) -> bool:
        verdict = check(encoded, password)
        if not done:
            done.append(None)

            def run() -> None:
                try:
                    with app.app_context():
                        step()
                except BaseException as exc:
                    done[0] = exc

            thread = threading.Thread(target=run)
            thread.start()
            thread.join(timeout=30)
            assert not thread.is_alive()
        return verdict

    monkeypatch.setattr(staff_service, "verify_password", then_step)


def test_a_password_reset_during_a_change_is_not_undone(
    app: Flask, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A colleague changing their password as an administrator resets it keeps nothing."""
    laptop = staff_client(app)
    login(laptop, app, alice)
    given = "the administrator's own new passphrase"

    def reset() -> None:
        with db_session(app) as session:
            account = staff_service.get_account(session, "alice")
            staff_service.reset_password(session, "console", account, given)

    _meanwhile(app, monkeypatch, reset)
    response = change(laptop, PASSWORD)

    encoded, _ = stored(app, alice)
    assert verify_password(encoded, given), "the reset was undone: the colleague's password stands"
    assert not verify_password(encoded, NEW)
    assert not logged_in(laptop), "the colleague's session outlived the reset"
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN_PATH
    page = laptop.get(LOGIN_PATH).get_data(as_text=True)
    assert "changed while you were changing your password" in page
    assert [a for _, a, _ in audit_trail(app)][-1] == "staff-password-reset"


def test_a_reset_landing_just_after_a_change_ends_the_session_it_began(
    app: Flask, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset that read the account before a change and wrote it after ends its session."""
    laptop = staff_client(app)
    login(laptop, app, alice)
    given = "the administrator's own new passphrase"
    loaded, go = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def reset() -> None:
        try:
            with app.app_context(), db_session(app) as session:
                account = staff_service.get_account(session, "alice")
                loaded.set()
                go.wait(timeout=30)
                staff_service.reset_password(session, "console", account, given)
        except BaseException as exc:
            failed.append(exc)

    admin = threading.Thread(target=reset)
    admin.start()
    assert loaded.wait(timeout=30)
    changing = staff_service.change_own_password

    def then_reset(*args: object) -> None:
        changing(*args)  # type: ignore[arg-type]
        go.set()
        admin.join(timeout=30)

    monkeypatch.setattr(staff_service, "change_own_password", then_reset)
    response = change(laptop, PASSWORD)
    go.set()
    admin.join(timeout=30)

    assert not failed, failed
    assert response.status_code == 303
    assert not logged_in(laptop), "the session the change began outlived the reset"


def test_logging_out_every_other_device_ends_their_sessions_and_keeps_this_one(
    app: Flask, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    """A laptop lost, or a cookie copied: its owner could end that session only by changing
    the password (or by an administrator's reset), there was no way to log it out alone."""
    here, lost = two_devices
    token = page_token(here, PATH, "/staff/account/sessions/end")
    response = here.post(
        "/staff/account/sessions/end",
        data={
            "csrf_token": token,
            "reauth_password": PASSWORD,
            "reauth_code": next_code(app, known_user(app, "alice")),
        },
    )
    assert response.status_code == 303
    assert not logged_in(lost), "the other device is still logged in"
    assert logged_in(here)
    assert audit_trail(app)[-1] == ("alice", "staff-sessions-ended", {"username": "alice"})


def test_a_password_and_a_session_without_the_phone_change_nothing(
    app: Flask, alice: StaffUser, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    """Whoever saw Alice type her password sits at her laptop left logged in, without her
    phone: the new password they chose ended her every other session and shut her out."""
    laptop, other = two_devices
    before = stored(app, alice)
    for code in ("", "000000"):
        taken = laptop.post(
            PATH,
            data={
                "csrf_token": page_token(laptop, PATH, PATH),
                "current": PASSWORD,
                "new": NEW,
                "repeated": NEW,
                "code": code,
            },
        )
        assert taken.status_code in (400, 403), f"changed with no code from the phone ({code!r})"
        assert stored(app, alice) == before, "the password changed without a code"
    assert logged_in(other)


def test_a_copied_cookie_cannot_log_its_owner_out_of_every_other_device(
    app: Flask, alice: StaffUser
) -> None:
    """A thief holding a copy of Alice's old cookie pressed "Log out every other device"
    each time she logged in again: her every new session ended, the copy's stayed."""
    old = staff_client(app)
    login(old, app, alice)
    copy = staff_client(app)
    cookie = old.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    copy.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    owner = staff_client(app)
    login(owner, app, alice)  # Alice, on a new device

    token = page_token(copy, PATH, "/staff/account/sessions/end")
    response = copy.post("/staff/account/sessions/end", data={"csrf_token": token})

    assert logged_in(owner), "the copy of the cookie logged its owner out"
    assert response.status_code == 401, response.status_code
    assert "staff-sessions-ended" not in [a for _, a, _ in audit_trail(app)]
    # A wrong password typed by the copy ends nothing either.
    wrong = copy.post(
        "/staff/account/sessions/end",
        data={"csrf_token": token, "reauth_password": "not hers", "reauth_code": "123456"},
    )
    assert wrong.status_code == 401, wrong.status_code
    assert logged_in(owner)
    # Alice, with her password and a fresh code, ends the copy's session and keeps hers.
    token = page_token(owner, PATH, "/staff/account/sessions/end")
    done = owner.post(
        "/staff/account/sessions/end",
        data={
            "csrf_token": token,
            "reauth_password": alice.password,
            "reauth_code": next_code(app, alice),
        },
    )
    assert done.status_code == 303, done.status_code
    assert logged_in(owner)
    assert not logged_in(copy)
    assert audit_trail(app)[-1] == ("alice", "staff-sessions-ended", {"username": "alice"})
