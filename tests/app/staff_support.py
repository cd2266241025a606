"""Helpers for staff tests: accounts with known passwords and TOTP secrets, and a real login.

`login` goes through the login form as a person would, with a code the server has
not yet seen; `make_staff` writes the account directly, its secret sealed as the
server seals it (PROTOCOL §15).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app import runkey
from app.models import StaffAccount
from app.services import staff as staff_service
from crypto import TokenKey
from crypto.constants import PERSON_TOTP_KEY, TOKEN_CONTEXT_TOTP
from tests.app.support import db_session, form, login_grants

STAFF_ENVIRON: Final = {"raazdar.listener": "staff"}
PASSWORD: Final = "correct horse battery staple"
LOGIN_PATH: Final = "/staff/login"


@dataclass(frozen=True)
class StaffUser:
    """A staff account and what its owner knows: the password and the TOTP secret."""

    id: str
    username: str
    password: str
    secret: str
    role: str


@dataclass
class GuessesHere:
    """A session's count of wrong passwords (`staff_service.PasswordGuesses`) kept here,
    for a service called outside a request: no limit, each settled in its own commit."""

    session: Session
    wrong: int = 0

    def take(self) -> bool:
        self.wrong += 1
        return True

    def settle(self, give_back: bool, alongside: Callable[[], None]) -> bool:
        alongside()
        self.session.commit()
        self.wrong -= 1 if give_back else 0
        return True


def staff_client(app: Flask) -> FlaskClient:
    """A browser that reaches the app through the staff listener."""
    client = app.test_client()
    client.environ_base.update(STAFF_ENVIRON)
    return client


def seal_totp_secret(app: Flask, secret: str) -> str:
    """Seal a TOTP secret as the server stores it."""
    key = TokenKey(app.config["SECRET_KEY"][:32]).derive(PERSON_TOTP_KEY)
    return key.seal(secret.encode("ascii"), TOKEN_CONTEXT_TOTP)


def known_user(app: Flask, username: str, password: str = PASSWORD) -> StaffUser:
    """An enrolled account as its owner knows it: its secret opened as the server opens it."""
    key = TokenKey(app.config["SECRET_KEY"][:32]).derive(PERSON_TOTP_KEY)
    with db_session(app) as session:
        account = staff_service.get_account(session, username)
        assert account.totp_secret is not None
        secret = key.open(account.totp_secret, TOKEN_CONTEXT_TOTP).decode("ascii")
        return StaffUser(account.id, account.username, password, secret, account.role)


def make_staff(
    app: Flask,
    username: str = "alice",
    *,
    role: str = "staff",
    password: str = PASSWORD,
    enrolled: bool = True,
    actor: str = "test",
) -> StaffUser:
    """Add an account with `password` and (unless `enrolled` is false) a TOTP secret set up.

    `actor` is who the audit log says added it (`audit.CONSOLE`: one an admin page may promote).
    """
    secret = pyotp.random_base32()
    with app.app_context(), db_session(app) as session:
        account, _ = staff_service.create_account(
            session, actor, username, role=role, password=password
        )
        if enrolled:
            account.totp_secret = seal_totp_secret(app, secret)
            account.totp_enrolled = True
            session.commit()
        return StaffUser(account.id, account.username, password, secret, role)


def last_step(app: Flask, user: StaffUser) -> int:
    """The last TOTP step the server accepted for `user` (0 if none), read back from its tag."""
    with db_session(app) as session:
        account = session.get(StaffAccount, user.id)
        assert account is not None
        spent = account.totp_spent
    if not spent:
        return 0
    run = runkey.current()
    now = int(time.time()) // 30
    for step in range(now - 10, now + 10):
        if run.tag("totp-step", user.id, step) == spent:
            return step
    raise AssertionError("the spent tag is no recent step's under this run's key")


def fresh_code(app: Flask, user: StaffUser, secret: str | None = None) -> str:
    """A valid code the server has not seen yet (two are left in each 30-second step)."""
    totp = pyotp.TOTP(secret or user.secret)
    now = int(time.time()) // totp.interval
    last = last_step(app, user)
    for step in (now, now + 1):
        if step > last:
            return totp.generate_otp(step)
    raise AssertionError("no fresh code left in this time step: log in less often")


def next_code(app: Flask, user: StaffUser) -> str:
    """A valid code as the next time step brings it, without waiting for the step.

    The account's last spent step is forgotten, as 30 seconds later it would no
    longer bar the code of now; use it only where the codes of now are all spent.
    """
    with db_session(app) as session:
        account = session.get(StaffAccount, user.id)
        assert account is not None
        account.totp_spent = 0
        session.commit()
    return pyotp.TOTP(user.secret).now()


def login_token(client: FlaskClient) -> str:
    """The CSRF token of the login form."""
    page = client.get(LOGIN_PATH)
    assert page.status_code == 200, page.status_code
    return form(page.get_data(as_text=True), LOGIN_PATH).fields["csrf_token"]


def submit_login(client: FlaskClient, username: str, password: str, code: str = "") -> TestResponse:
    """Send the login form."""
    return client.post(
        LOGIN_PATH,
        data={
            "csrf_token": login_token(client),
            "username": username,
            "password": password,
            "code": code,
        },
    )


def login(client: FlaskClient, app: Flask, user: StaffUser) -> TestResponse:
    """Log in through the form with the password and a fresh code; check it worked."""
    response = submit_login(client, user.username, user.password, fresh_code(app, user))
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"] == "/staff/"
    return response


def page_token(client: FlaskClient, path: str = "/staff/", action: str = "/staff/logout") -> str:
    """A CSRF token from a form of a staff page (by default, the logout button)."""
    html = client.get(path).get_data(as_text=True)
    return form(html, action).fields["csrf_token"]


def post_confirmed(
    client: FlaskClient,
    path: str,
    data: dict[str, str],
    password: str = PASSWORD,
    *,
    buffered: bool = True,
) -> TestResponse:
    """Send a form as its owner at the desk does: asked the password and a code
    (`app.staff.reauth`, every time for `EACH_TIME`, the export among them), give them.

    The code is the one of now, its step made new (two confirmations in one
    30-second step would otherwise wait for the next); the account's secret is read
    back as the server opens it, and `password` is the one it was made with.
    `buffered=False` leaves the last answer's body unread, for the caller to read or cut.
    """
    response = client.post(path, data=data)
    if response.status_code != 401 or "reauth_code" not in response.get_data(as_text=True):
        return response
    app = client.application
    grants = login_grants(app, client)
    assert grants is not None, "asked to confirm, but logged in as no one"
    assert "staff" in grants, "asked to confirm, but logged in as no staff member"
    with db_session(app) as session:
        owner = session.get(StaffAccount, grants["staff"]["id"])
        assert owner is not None
        username = owner.username
        spent = update(StaffAccount).where(StaffAccount.id == owner.id)
        session.execute(spent.values(totp_spent=0))
        session.commit()
    user = known_user(app, username, password)
    fields = form(response.get_data(as_text=True), path).fields
    code = pyotp.TOTP(user.secret).now()
    return client.post(
        path,
        data={**fields, "reauth_password": password, "reauth_code": code},
        buffered=buffered,
    )
