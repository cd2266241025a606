"""Staff login: two factors, codes used once, throttling, sessions that end, who sees what."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEntry, StaffAccount
from app.services import staff as staff_service
from app.staff import auth
from crypto import verify_password
from tests.app.staff_support import (
    LOGIN_PATH,
    PASSWORD,
    STAFF_ENVIRON,
    StaffUser,
    fresh_code,
    last_step,
    login,
    login_token,
    make_staff,
    page_token,
    staff_client,
    submit_login,
)
from tests.app.support import (
    Visitor,
    assert_clean_page,
    audit_trail,
    db_session,
    form,
    login_grants,
)

WRONG = "The username, password or code is wrong."


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_client(app)


def logged_in(client: FlaskClient) -> bool:
    """Say whether the client's session opens the dashboard."""
    response = client.get("/staff/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN_PATH)
    return False


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    return [(actor, action) for actor, action, _ in audit_trail(app)]


def step_now() -> int:
    return int(time.time()) // 30


# The listener.


def _staff_urls(app: Flask) -> list[tuple[str, set[str]]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            urls.append((path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return urls


def test_every_staff_url_is_404_without_the_staff_listener(
    app: Flask, client: FlaskClient, visitor: Visitor, alice: StaffUser
) -> None:
    urls = _staff_urls(app)
    assert {"/staff/", "/staff/login", "/staff/logout", "/staff/export"} <= {u for u, _ in urls}
    # A valid CSRF token, so that the listener check (not CSRF) is what refuses a POST.
    token = form(visitor.get("/login"), "/login").fields["csrf_token"]
    for path, methods in urls:
        if "GET" in methods:
            assert client.get(path).status_code == 404, path
        if "POST" in methods:
            response = client.post(
                path, data={"csrf_token": token, "username": "alice", "password": PASSWORD}
            )
            assert response.status_code == 404, path
    assert staff_client(app).get("/staff/login").status_code == 200


def test_a_staff_url_off_the_staff_listener_looks_absent_even_without_a_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    # CSRF would answer 400 for a route that exists: the listener check must come first.
    for path, methods in _staff_urls(app):
        if "POST" in methods:
            assert client.post(path, data={}).status_code == 404, path
    assert client.post("/staff/no-such-page", data={}).status_code == 404


# Logging in.


def test_password_and_code_open_the_dashboard(
    app: Flask, staff: FlaskClient, alice: StaffUser
) -> None:
    assert not logged_in(staff)
    login(staff, app, alice)
    assert logged_in(staff)
    page = staff.get("/staff/").get_data(as_text=True)
    assert "<bdi>alice</bdi> (staff)" in page
    with db_session(app) as session:
        account = session.get(StaffAccount, alice.id)
        assert account is not None
        assert account.last_login_day is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "not the password at all"),
        ("nobody", PASSWORD),
        ("alice", ""),
        ("alice", "x" * 5000),
    ],
)
def test_wrong_password_or_unknown_user_is_refused_alike(
    app: Flask, staff: FlaskClient, alice: StaffUser, username: str, password: str
) -> None:
    response = submit_login(staff, username, password, fresh_code(app, alice))
    assert response.status_code in {400, 401}
    assert not logged_in(staff)
    assert_clean_page(response, *([password[:40]] if password else []))
    if response.status_code == 401:
        assert WRONG in response.get_data(as_text=True)


def test_unknown_user_costs_a_password_hash_too(
    app: Flask, staff: FlaskClient, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = verify_password

    def counting(encoded: str, password: str) -> bool:
        checked.append(encoded)
        return real(encoded, password)

    monkeypatch.setattr(staff_service, "verify_password", counting)
    unknown = submit_login(staff, "nobody", PASSWORD, "123456")
    known = submit_login(staff, "alice", "wrong password here", "123456")
    assert unknown.status_code == known.status_code == 401
    assert unknown.get_data(as_text=True).count(WRONG) == 1
    assert len(checked) == 2
    assert all(encoded.startswith("$argon2id$") for encoded in checked)


def test_username_is_case_and_space_insensitive(
    app: Flask, staff: FlaskClient, alice: StaffUser
) -> None:
    response = submit_login(staff, "  Alice ", PASSWORD, fresh_code(app, alice))
    assert response.status_code == 303
    assert logged_in(staff)


@pytest.mark.parametrize("code", ["", "000000", "12345", "abcdef", "1234567"])
def test_wrong_or_missing_code_is_refused(
    app: Flask, staff: FlaskClient, alice: StaffUser, code: str
) -> None:
    valid = {
        pyotp.TOTP(alice.secret).generate_otp(s) for s in range(step_now() - 1, step_now() + 2)
    }
    if code in valid:
        pytest.skip("the random secret happens to give this code now")
    response = submit_login(staff, "alice", PASSWORD, code)
    assert response.status_code in {400, 401}
    assert not logged_in(staff)


def test_code_from_another_secret_is_refused(
    app: Flask, staff: FlaskClient, alice: StaffUser
) -> None:
    other = make_staff(app, "bob")
    response = submit_login(staff, "alice", PASSWORD, fresh_code(app, alice, other.secret))
    assert response.status_code == 401
    assert not logged_in(staff)


def test_a_code_is_accepted_once(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    code = fresh_code(app, alice)
    assert submit_login(staff, "alice", PASSWORD, code).status_code == 303
    staff.post("/staff/logout", data={"csrf_token": page_token(staff)})
    assert not logged_in(staff)
    again = submit_login(staff, "alice", PASSWORD, code)
    assert again.status_code == 401
    assert WRONG in again.get_data(as_text=True)
    # Nor from a second browser (another worker would see the same row).
    other = staff_client(app)
    assert submit_login(other, "alice", PASSWORD, code).status_code == 401
    assert not logged_in(other)


def test_a_code_older_than_the_last_accepted_is_refused(
    app: Flask, staff: FlaskClient, alice: StaffUser
) -> None:
    totp = pyotp.TOTP(alice.secret)
    ahead = submit_login(staff, "alice", PASSWORD, totp.generate_otp(step_now() + 1))
    assert ahead.status_code == 303
    assert last_step(app, alice) == step_now() + 1
    other = staff_client(app)
    response = submit_login(other, "alice", PASSWORD, totp.generate_otp(step_now()))
    assert response.status_code == 401


def test_two_workers_racing_with_one_code_let_one_in(app: Flask, alice: StaffUser) -> None:
    code = fresh_code(app, alice)
    with app.app_context(), db_session(app) as first, db_session(app) as second:
        # Both load the account before either spends the code.
        mine, theirs = first.get(StaffAccount, alice.id), second.get(StaffAccount, alice.id)
        assert mine is not None
        assert theirs is not None
        second.commit()
        won = staff_service._use_code(first, mine, alice.secret, code)
        first.commit()
        lost = staff_service._use_code(second, theirs, alice.secret, code)
        second.commit()
    assert (won, lost) == (True, False)


def test_login_starts_a_fresh_session(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    before = staff.get(LOGIN_PATH).get_data(as_text=True)
    old_token = form(before, LOGIN_PATH).fields["csrf_token"]
    with staff.session_transaction() as session:
        session["planted"] = "by someone else"
    login(staff, app, alice)
    with staff.session_transaction() as session:
        assert "planted" not in session
    grants = login_grants(app, staff)
    assert grants is not None
    assert grants[auth.SESSION_KEY]["id"] == alice.id
    assert page_token(staff) != old_token


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/staff/", "/staff/"),
        ("//evil.example/staff/", "/staff/"),
        ("https://evil.example/", "/staff/"),
        ("/submit", "/staff/"),
    ],
)
def test_login_returns_only_to_a_staff_page(
    app: Flask, staff: FlaskClient, alice: StaffUser, target: str, expected: str
) -> None:
    path = f"{LOGIN_PATH}?next={target}"
    html = staff.get(path).get_data(as_text=True)
    action = re.findall(r'<form method="post" action="([^"]+)"', html)[0]
    token = form(html, action).fields["csrf_token"]
    response = staff.post(
        action.replace("&amp;", "&"),
        data={
            "csrf_token": token,
            "username": "alice",
            "password": PASSWORD,
            "code": fresh_code(app, alice),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_staff_required_sends_back_after_login(app: Flask, staff: FlaskClient) -> None:
    response = staff.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/"


def test_login_rehashes_a_password_made_with_old_costs(
    app: Flask, staff: FlaskClient, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db_session(app) as session:
        before = session.execute(
            select(StaffAccount.password_hash).where(StaffAccount.id == alice.id)
        ).scalar_one()
    monkeypatch.setattr(staff_service, "needs_rehash", lambda encoded, cost: True)
    login(staff, app, alice)
    with db_session(app) as session:
        account = session.get(StaffAccount, alice.id)
        assert account is not None
        assert account.password_hash != before
        assert verify_password(account.password_hash, PASSWORD)
        epoch = account.epoch
    assert epoch == 1  # a rehash is not a new password: no session ends
    assert logged_in(staff)


def test_a_login_rehashing_its_password_does_not_undo_a_reset_made_meanwhile(
    app: Flask, staff: FlaskClient, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old password's new hash is written only over the hash the login checked."""
    given = "the administrator's own new passphrase"
    check = verify_password
    reset: list[threading.Thread] = []

    def reset_alice() -> None:
        with app.app_context(), db_session(app) as session:
            account = staff_service.get_account(session, "alice")
            staff_service.reset_password(session, "console", account, given)

    def then_reset(encoded: str, password: str) -> bool:
        verdict = check(encoded, password)
        if not reset:
            reset.append(threading.Thread(target=reset_alice))
            reset[0].start()
            reset[0].join(timeout=30)
        return verdict

    monkeypatch.setattr(staff_service, "needs_rehash", lambda encoded, cost: True)
    monkeypatch.setattr(staff_service, "verify_password", then_reset)
    response = submit_login(staff, "alice", PASSWORD, fresh_code(app, alice))

    with db_session(app) as session:
        encoded = session.execute(
            select(StaffAccount.password_hash).where(StaffAccount.id == alice.id)
        ).scalar_one()
    assert check(encoded, given), "the login's rehash undid the reset: the old password stands"
    assert response.status_code == 401
    assert not logged_in(staff)


def test_an_account_removed_during_its_login_is_refused_plainly(
    app: Flask, staff: FlaskClient, alice: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removed between the password's check and the code's, the login gets a 401, not a 500."""
    make_staff(app, "root", role="admin")
    check = verify_password
    removal: list[threading.Thread] = []

    def remove_alice() -> None:
        with app.app_context(), db_session(app) as session:
            account = staff_service.get_account(session, "alice")
            staff_service.remove_account(session, "root", account)

    def then_remove(encoded: str, password: str) -> bool:
        verdict = check(encoded, password)
        if not removal:
            removal.append(threading.Thread(target=remove_alice))
            removal[0].start()
            removal[0].join(timeout=30)
        return verdict

    monkeypatch.setattr(staff_service, "verify_password", then_remove)
    response = submit_login(staff, "alice", PASSWORD, fresh_code(app, alice))

    assert response.status_code == 401, f"the login answered {response.status_code}"
    assert not logged_in(staff)


# Throttling.


def test_wrong_codes_after_the_right_password_are_throttled_per_account_across_workers(
    make_app: Callable[..., Flask],
) -> None:
    """Whoever has the password guesses codes: five of them a window, then none."""
    first, second = make_app(STAFF_LOGIN_FAILURES=3), make_app(STAFF_LOGIN_FAILURES=3)
    alice = make_staff(first, "alice")
    make_staff(first, "bob", password="another good password")
    clients = [staff_client(first), staff_client(second)]
    for attempt in range(3):
        response = submit_login(clients[attempt % 2], "alice", PASSWORD, "123456")
        assert response.status_code == 401
    # The right password and code, on either worker: refused while the window lasts,
    # as a wrong login is (`test_a_guesser_without_the_code_cannot_tell_the_right_password`).
    for client in clients:
        response = submit_login(client, "alice", PASSWORD, fresh_code(first, alice))
        assert response.status_code == 401
        assert WRONG in response.get_data(as_text=True)
        assert not logged_in(client)
    # Another account is not locked by alice's failures.
    assert submit_login(clients[1], "bob", "another good password", "").status_code == 401
    with db_session(first) as session:
        refusals = [
            e.detail
            for e in session.execute(select(AuditEntry)).scalars()
            if e.action == "staff-login-throttled"
        ]
    assert refusals == ['{"username": "alice"}']


def _answers(app: Flask, password: str, tries: int) -> list[tuple[int, str]]:
    """What a guesser without the code sees: each try's status and page, token left out."""
    client = staff_client(app)
    answers = []
    for _ in range(tries):
        response = submit_login(client, "alice", password, "123456")
        page = re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))
        answers.append((response.status_code, page))
    return answers


def test_a_guesser_without_the_code_cannot_tell_the_right_password(
    make_app: Callable[..., Flask],
) -> None:
    """Codes are counted only behind the right password, so a throttle that answered
    differently told a guesser which password was right: each guess tried once more
    than the limit, with any code, and the right one alone came back "too many". A
    throttled account now answers every login as a wrong one, whatever the password."""
    app = make_app(STAFF_LOGIN_FAILURES=3)
    alice = make_staff(app, "alice")
    wrong = _answers(app, "a guess at the password", 5)
    right = _answers(app, PASSWORD, 5)
    assert right == wrong, "the throttle told the right password from a wrong one"
    assert all(status == 401 and WRONG in page for status, page in right)
    # Not a code is tried while it lasts: the owner's right one is refused the same way.
    owner = staff_client(app)
    response = submit_login(owner, "alice", PASSWORD, fresh_code(app, alice))
    assert response.status_code == 401
    assert not logged_in(owner)
    assert audit_actions(app).count(("login", "staff-login-throttled")) == 1


@pytest.mark.parametrize("name", ["admin", "nobody"])
def test_wrong_passwords_lock_no_one_out(make_app: Callable[..., Flask], name: str) -> None:
    """Whoever reaches the staff onion may try passwords under a name; counted, five of them
    locked the account, and its owner with the right password and code was refused for as
    long as the tries went on. A wrong password is refused and counted nowhere: the password
    is the guard (its check takes a slot of the pool), and codes are counted behind it."""
    app = make_app(STAFF_LOGIN_FAILURES=2)
    admin = make_staff(app, "admin", role="admin")
    outsider = staff_client(app)
    statuses = [
        submit_login(outsider, name, "a guess at it", "123456").status_code for _ in range(6)
    ]
    assert statuses == [401] * 6
    owner = staff_client(app)
    assert submit_login(owner, "admin", PASSWORD, fresh_code(app, admin)).status_code == 303
    assert logged_in(owner)
    assert "staff-login-throttled" not in {action for _, action in audit_actions(app)}


@pytest.mark.parametrize("reset", ["password", "second factor"])
def test_an_administrators_reset_lifts_the_throttle_it_answers(
    make_app: Callable[..., Flask], reset: str
) -> None:
    """The audit log's `staff-login-throttled` tells an administrator someone else has the
    password, and the remedy is a reset (deploy/README.md). The count stayed: the owner,
    handed the new password, was refused with it and a right code for up to two windows,
    locked out by whoever had the old one."""
    app = make_app(STAFF_LOGIN_FAILURES=3)
    alice = make_staff(app, "alice")
    for _ in range(3):
        assert submit_login(staff_client(app), "alice", PASSWORD, "123456").status_code == 401
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "alice")
        if reset == "password":
            new = staff_service.reset_password(session, "admin", account)
        else:
            new = staff_service.reset_totp(session, "admin", account)
    owner = staff_client(app)
    code = fresh_code(app, alice) if reset == "password" else ""
    response = submit_login(owner, "alice", new, code)
    assert response.status_code == 303, "the owner was locked out after the reset"


def test_a_stolen_password_buys_a_few_guesses_a_day_at_the_code_not_a_few_a_window(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever has the password may guess codes: five a window, window after window, was
    480 a day, each right with three chances in a million, so one such guesser in two got
    in within a year and a half. A day's guesses are counted too."""
    app = make_app(
        STAFF_LOGIN_FAILURES=3, STAFF_LOGIN_WINDOW_SECONDS=60, STAFF_LOGIN_DAILY_FAILURES=6
    )
    alice = make_staff(app, "alice")
    real, now = time.time, time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    for window in range(3):
        # Two codes a window, then two windows on: the window's own limit never bites.
        now = real() + window * 121
        for _ in range(2):
            assert submit_login(staff_client(app), "alice", PASSWORD, "123456").status_code == 401
    now = real() + 3 * 121
    code = pyotp.TOTP(alice.secret).generate_otp(int(now) // 30)
    response = submit_login(staff_client(app), "alice", PASSWORD, code)
    assert response.status_code == 401, "six codes tried in six minutes, and still one more"


def test_the_throttle_window_passes(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(STAFF_LOGIN_FAILURES=1, STAFF_LOGIN_WINDOW_SECONDS=60)
    alice = make_staff(app, "alice")
    client = staff_client(app)
    assert submit_login(client, "alice", PASSWORD, "123456").status_code == 401
    assert submit_login(client, "alice", PASSWORD, fresh_code(app, alice)).status_code == 401
    real = time.time
    # A failure counts in its window and the next (`app.throttle`): two windows on, it is gone.
    monkeypatch.setattr(time, "time", lambda: real() + 121)
    code = pyotp.TOTP(alice.secret).generate_otp(int(real() + 121) // 30)
    assert submit_login(client, "alice", PASSWORD, code).status_code == 303


# Sessions that end.


def test_session_ends_at_its_absolute_deadline(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(STAFF_SESSION_MAX_SECONDS=60)
    alice = make_staff(app)
    client = staff_client(app)
    login(client, app, alice)
    real = time.time
    # Active all along (the idle deadline is pushed on), but past the absolute one.
    monkeypatch.setattr(time, "time", lambda: real() + 45)
    assert logged_in(client)
    monkeypatch.setattr(time, "time", lambda: real() + 90)
    assert not logged_in(client)
    with client.session_transaction() as session:
        assert auth.SESSION_KEY not in session


def test_session_ends_when_idle(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(SESSION_IDLE_SECONDS=60)
    alice = make_staff(app)
    client = staff_client(app)
    login(client, app, alice)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    assert not logged_in(client)


@pytest.mark.parametrize("change", ["password", "2fa"])
def test_a_new_password_or_second_factor_ends_every_session(
    app: Flask, alice: StaffUser, change: str
) -> None:
    browsers = [staff_client(app), staff_client(app)]
    for browser in browsers:
        login(browser, app, alice)
        assert logged_in(browser)
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "alice")
        if change == "password":
            staff_service.reset_password(session, "console", account, "a brand new password")
        else:
            staff_service.reset_totp(session, "console", account)
    for browser in browsers:
        assert not logged_in(browser)
    if change == "password":
        assert submit_login(browsers[0], "alice", PASSWORD, "").status_code == 401


def test_removed_account_has_no_session(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    make_staff(app, "root", role="admin")
    login(staff, app, alice)
    with app.app_context(), db_session(app) as session:
        staff_service.remove_account(
            session, "console", staff_service.get_account(session, "alice")
        )
    assert not logged_in(staff)


def test_logout_needs_the_csrf_token(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    login(staff, app, alice)
    refused = staff.post("/staff/logout")
    assert refused.status_code == 400
    assert logged_in(staff)
    forged = staff.post("/staff/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert logged_in(staff)
    done = staff.post("/staff/logout", data={"csrf_token": page_token(staff)})
    assert done.status_code == 303
    assert done.headers["Location"] == LOGIN_PATH
    assert not logged_in(staff)


def test_login_form_needs_the_csrf_token(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    response = staff.post(
        LOGIN_PATH, data={"username": "alice", "password": PASSWORD, "code": fresh_code(app, alice)}
    )
    assert response.status_code == 400
    assert not logged_in(staff)
    assert last_step(app, alice) == 0


# Who may see what.


def test_a_source_session_is_not_a_staff_session(app: Flask, visitor: Visitor) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "a report"))
    assert visitor.get("/account")
    client = visitor.client
    for path in ("/staff/", "/staff/enrol"):
        response = client.get(path, environ_base=STAFF_ENVIRON)
        assert response.status_code in {302, 303}
        assert response.headers["Location"].startswith(LOGIN_PATH)
    grants = login_grants(app, client)
    assert grants is not None
    assert auth.SESSION_KEY not in grants


def test_admin_required_refuses_staff_and_admits_admins(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    probe = Blueprint("probe", __name__)

    @probe.get("/probe-admin")
    @auth.admin_required
    def admin_only() -> str:
        return "admin area"

    @probe.get("/probe-staff")
    @auth.staff_required
    def staff_only() -> str:
        return "staff area"

    app.register_blueprint(probe)
    alice = make_staff(app, "alice")
    root = make_staff(app, "root", role="admin")
    anonymous, as_alice, as_root = staff_client(app), staff_client(app), staff_client(app)
    login(as_alice, app, alice)
    submit_login(as_root, "root", PASSWORD, fresh_code(app, root))
    assert anonymous.get("/probe-admin").status_code == 302
    assert anonymous.get("/probe-staff").status_code == 302
    assert as_alice.get("/probe-staff").get_data(as_text=True) == "staff area"
    refused = as_alice.get("/probe-admin")
    assert refused.status_code == 403
    assert_clean_page(refused)
    assert as_root.get("/probe-admin").get_data(as_text=True) == "admin area"


def test_admin_pages_refuse_staff(app: Flask, staff: FlaskClient, alice: StaffUser) -> None:
    login(staff, app, alice)
    admin_pages = [
        (path, methods)
        for path, methods in _staff_urls(app)
        if "/admin" in path and "GET" in methods
    ]
    for path, _ in admin_pages:
        assert staff.get(path).status_code == 403, path


# Enrolment of the second factor.


def _enrolment_secret(html: str) -> str:
    match = re.search(r'<p class="fp">([A-Z2-7 ]+)</p>', html)
    assert match, "no secret on the enrolment page"
    return match.group(1).replace(" ", "")


def test_first_login_enrols_the_second_factor(app: Flask, staff: FlaskClient) -> None:
    bob = make_staff(app, "bob", enrolled=False)
    response = submit_login(staff, "bob", PASSWORD, "")
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/enrol"
    # A pending enrolment grants nothing else.
    assert not logged_in(staff)
    page = staff.get("/staff/enrol")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html
    assert "<img" not in html
    assert "<script" not in html
    secret = _enrolment_secret(html)
    assert secret != bob.secret
    token = form(html, "/staff/enrol").fields["csrf_token"]
    wrong = staff.post("/staff/enrol", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 401
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert not logged_in(staff)
    code = pyotp.TOTP(secret).now()
    done = staff.post("/staff/enrol", data={"csrf_token": token, "code": code})
    assert done.status_code == 303
    assert done.headers["Location"] == "/staff/"
    assert logged_in(staff)
    with db_session(app) as session:
        account = session.get(StaffAccount, bob.id)
        assert account is not None
        assert account.totp_enrolled
        assert account.totp_secret is not None
        assert secret not in account.totp_secret
    assert ("bob", "staff-2fa-enrolled") in audit_actions(app)
    # The confirming code was spent: it does not log in again.
    other = staff_client(app)
    assert submit_login(other, "bob", PASSWORD, code).status_code == 401
    enrolled = StaffUser(bob.id, "bob", PASSWORD, secret, "staff")
    login(other, app, enrolled)


def test_enrolment_without_a_password_is_refused(app: Flask, staff: FlaskClient) -> None:
    make_staff(app, "bob", enrolled=False)
    response = staff.get("/staff/enrol")
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN_PATH


def test_enrolment_expires(app: Flask, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    make_staff(app, "bob", enrolled=False)
    submit_login(staff, "bob", PASSWORD, "")
    html = staff.get("/staff/enrol").get_data(as_text=True)
    secret = _enrolment_secret(html)
    token = form(html, "/staff/enrol").fields["csrf_token"]
    real = time.time
    later = real() + auth.ENROLMENT_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    code = pyotp.TOTP(secret).generate_otp(int(later) // 30)
    # The cookie's own idle deadline (30 minutes) has not passed: the enrolment's has.
    response = staff.post("/staff/enrol", data={"csrf_token": token, "code": code})
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN_PATH
    assert not logged_in(staff)


def test_enrolment_ends_if_the_password_changes_meanwhile(app: Flask, staff: FlaskClient) -> None:
    make_staff(app, "bob", enrolled=False)
    submit_login(staff, "bob", PASSWORD, "")
    assert staff.get("/staff/enrol").status_code == 200
    with app.app_context(), db_session(app) as session:
        staff_service.reset_password(session, "console", staff_service.get_account(session, "bob"))
    assert staff.get("/staff/enrol").status_code == 303


def test_an_enrolment_confirmed_as_the_password_is_reset_does_not_enrol(
    app: Flask, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever enrols on a leaked password as it is reset keeps no second factor on the account."""
    make_staff(app, "bob", enrolled=False)
    submit_login(staff, "bob", PASSWORD, "")
    html = staff.get("/staff/enrol").get_data(as_text=True)
    secret = _enrolment_secret(html)
    token = form(html, "/staff/enrol").fields["csrf_token"]
    opening = staff_service._open
    reset: list[threading.Thread] = []

    def reset_bob() -> None:
        with app.app_context(), db_session(app) as session:
            account = staff_service.get_account(session, "bob")
            staff_service.reset_password(session, "console", account, "a passphrase for bob")

    def then_reset(*args: Any) -> str | None:
        # The pending secret is opened after the page checked the enrolment, before any write.
        opened = opening(*args)
        if not reset:
            reset.append(threading.Thread(target=reset_bob))
            reset[0].start()
            reset[0].join(timeout=30)
        return opened

    monkeypatch.setattr(staff_service, "_open", then_reset)
    response = staff.post(
        "/staff/enrol", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )

    with db_session(app) as session:
        account = staff_service.get_account(session, "bob")
        enrolled = account.totp_enrolled
    assert not enrolled, "the enrolment went over the reset: its secret is the account's factor"
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN_PATH
    assert not logged_in(staff)


def test_an_enrolled_account_is_never_led_to_enrolment(
    app: Flask, staff: FlaskClient, alice: StaffUser
) -> None:
    response = submit_login(staff, "alice", PASSWORD, "")
    assert response.status_code == 401
    assert staff.get("/staff/enrol").status_code == 303


def test_the_server_key_and_a_database_copy_cannot_mint_an_enrolment(app: Flask) -> None:
    """A seizer holds SECRET_KEY and the account's row (its id and epoch), not its password.
    A pending enrolment they seal into a cookie of their own must lead nowhere: it would
    give them a second factor of their choosing, and so a staff login, for an account
    not enrolled yet (a new one, or one whose second factor an administrator reset)."""
    bob = make_staff(app, "bob", role="admin", enrolled=False)
    with db_session(app) as session:
        account = session.get(StaffAccount, bob.id)
        assert account is not None
        epoch = account.epoch
    theirs = pyotp.random_base32()
    seizer = staff_client(app)
    seizer.get(LOGIN_PATH)
    with app.test_request_context():
        sealed = staff_service._seal(theirs)  # the TOTP key comes from SECRET_KEY
    with seizer.session_transaction() as cookie:  # sealed with SECRET_KEY's key, as a seizer can
        cookie[auth.PENDING_KEY] = {
            "id": bob.id,
            "epoch": epoch,
            "until": int(time.time()) + 600,
            "secret": sealed,
        }
    page = seizer.get("/staff/enrol")
    assert page.status_code == 303
    assert page.headers["Location"] == LOGIN_PATH
    with app.test_request_context():
        code = pyotp.TOTP(theirs).now()
    token = form(seizer.get(LOGIN_PATH).get_data(as_text=True), LOGIN_PATH).fields["csrf_token"]
    seizer.post("/staff/enrol", data={"csrf_token": token, "code": code})
    assert not logged_in(seizer)
    with db_session(app) as session:
        account = session.get(StaffAccount, bob.id)
        assert account is not None
        assert not account.totp_enrolled


def test_a_cookie_planted_before_the_login_is_not_the_session_after_it(
    app: Flask, alice: StaffUser
) -> None:
    """Session fixation: whoever plants a cookie of their own in a staff member's browser
    (a shared machine) before she logs in must not hold her session after it."""
    attacker = staff_client(app)
    login_token(attacker)  # a session of the login page's, with its CSRF token
    planted = attacker.get_cookie("rz")
    assert planted is not None
    victim = staff_client(app)
    victim.set_cookie("rz", planted.value)
    login(victim, app, alice)
    assert logged_in(victim)
    after = victim.get_cookie("rz")
    assert after is not None
    assert after.value != planted.value
    assert not logged_in(attacker), "the planted cookie holds the session its victim began"
