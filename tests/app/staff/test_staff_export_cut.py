"""A staff export's download cut by what ends its login: a removal, a reset, a lock, a logout.

Before the export was streamed, a colleague removed as she pressed got 403 at once;
streamed, she got every piece but the last (ciphertext for the reviewers), and the
stream went on until its commit refused her (`staff.hold_staff`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import reviewer_accounts
from app.models import Item
from app.services import staff as staff_service
from tests.app.staff.test_staff_dashboard import report
from tests.app.staff_support import (
    PASSWORD,
    StaffUser,
    known_user,
    login,
    make_staff,
    next_code,
    page_token,
    post_confirmed,
    staff_client,
)
from tests.app.support import Visitor, audit_trail, db_session, form

# A report's photo of some megabytes: its envelope is several pieces of the download.
_PHOTO = b"\xff\xd8 a photo " + bytes(6 * 1024 * 1024)
# The most a download may hand out once its login has ended: one piece.
_BOUND = 1024 * 1024
# How long a download that reads nothing more may keep its writer once its login ended (s).
_ENDS_WITHIN = 10.0


def _download(client: FlaskClient) -> tuple[TestResponse, Iterator[bytes]]:
    """Press "Download bundle" with the password and a code; the body's pieces, unread."""
    html = client.get("/staff/").get_data(as_text=True)
    token = form(html, "/staff/export").fields["csrf_token"]
    response = post_confirmed(
        client, "/staff/export", {"csrf_token": token, "since": ""}, buffered=False
    )
    assert response.status_code == 200, response.status_code
    return response, iter(cast("Iterable[bytes]", response.response))


def _items_begun(pieces: Iterator[bytes]) -> int:
    """Take the download's head (version, manifest, signature) and its first item piece."""
    return sum(len(next(pieces)) for _ in range(4))


def _rest(pieces: Iterator[bytes]) -> tuple[int, bool]:
    """Read the rest of a download: how many bytes came, and whether it was cut."""
    got = 0
    try:
        for piece in pieces:
            got += len(piece)
    except BrokenPipeError:  # the server closes the connection of a download cut short
        return got, True
    return got, False


def _remove(app: Flask) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.remove_account(session, "root", staff_service.get_account(session, "alice"))


def _reset_password(app: Flask) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.reset_password(session, "root", staff_service.get_account(session, "alice"))


def _reset_second_factor(app: Flask) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.reset_totp(session, "root", staff_service.get_account(session, "alice"))


def _locked_by_a_keyring(app: Flask) -> None:
    # What a keyring install that drops her reviewer does to her account (PROTOCOL §8.10).
    with app.app_context(), db_session(app) as session:
        reviewer_accounts.lock_account(session, staff_service.get_account(session, "alice"))
        session.commit()


def _other_sessions_ended(app: Flask) -> None:
    """Alice, at her own laptop, ends every other session (a cookie was copied)."""
    laptop = staff_client(app)
    login(laptop, app, known_user(app, "alice"))
    token = page_token(laptop, "/staff/account/password", "/staff/account/sessions/end")
    ended = laptop.post(
        "/staff/account/sessions/end",
        data={
            "csrf_token": token,
            "reauth_password": PASSWORD,
            "reauth_code": next_code(app, known_user(app, "alice")),
        },
    )
    assert ended.status_code == 303, ended.status_code


CHANGES: dict[str, Callable[[Flask], None]] = {
    "removed": _remove,
    "password-reset": _reset_password,
    "second-factor-reset": _reset_second_factor,
    "locked-by-a-keyring-install": _locked_by_a_keyring,
    "other-sessions-ended": _other_sessions_ended,
}


def _exported(app: Flask) -> set[bool]:
    """Whether the items (the report's text, its photo) are marked exported."""
    with db_session(app) as session:
        return set(session.scalars(select(Item.exported)))


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_download_whose_login_ends_hands_out_at_most_a_piece_more(
    app: Flask, visitor: Visitor, staff: FlaskClient, change: str
) -> None:
    """Removed, reset, locked or logged out elsewhere as her download runs, a colleague (or
    whoever holds her cookie) gets at most one piece more, and nothing is marked exported."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO released the agent for money", _PHOTO)
    response, pieces = _download(staff)
    before = _items_begun(pieces)
    CHANGES[change](app)
    after, cut = _rest(pieces)
    response.close()

    assert after <= _BOUND, f"{after} bytes came after the login ended ({before} before it)"
    assert cut, "the download came whole"
    assert _exported(app) == {False}
    assert "export" not in {action for actor, action, _ in audit_trail(app) if actor == "alice"}


def test_a_download_whose_login_ends_lets_its_writer_go_though_nothing_more_is_read(
    app: Flask, visitor: Visitor, staff: FlaskClient
) -> None:
    """A browser that stops reading as its account is removed (a trickle, a stall) does not
    keep the export's writer, its store lock and its database connection, for the minutes
    a stalled download is given (`bundle_stream.STALLED`)."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO released the agent for money", _PHOTO)
    response, pieces = _download(staff)
    _items_begun(pieces)
    _remove(app)
    deadline = time.monotonic() + _ENDS_WITHIN
    while _writers() and time.monotonic() < deadline:
        time.sleep(0.05)
    writing = _writers()
    _rest(pieces)
    response.close()
    assert not writing, f"the writer still ran {_ENDS_WITHIN} s after the removal"
    assert _exported(app) == {False}


def _writers() -> list[threading.Thread]:
    """The export writers' threads still running (`BundleStream`)."""
    return [t for t in threading.enumerate() if t.name == "raazdar-export" and t.is_alive()]


def _set_role(app: Flask, role: str) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.set_role(session, "root", staff_service.get_account(session, "alice"), role)


def test_a_demoted_administrators_download_goes_on(
    app: Flask, visitor: Visitor, alice: StaffUser
) -> None:
    """An export is no administrator's power: demoted as it runs, an administrator's download
    comes whole, as one she pressed again at once would, and is marked exported."""
    make_staff(app, "root", role="admin")
    _set_role(app, "admin")
    desk = staff_client(app)
    login(desk, app, alice)
    report(visitor, "The SHO released the agent for money", _PHOTO)
    response, pieces = _download(desk)
    before = _items_begun(pieces)
    _set_role(app, "staff")
    after, cut = _rest(pieces)
    response.close()
    assert not cut
    assert before + after == int(response.headers["Content-Length"])
    assert _exported(app) == {True}
