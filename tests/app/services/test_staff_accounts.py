"""Staff accounts in the service layer: what holds when two administrators act at once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app import reviewer_accounts
from app.models import StaffAccount
from app.operations import keyring_admin
from app.services import audit
from app.services import staff as staff_service
from tests.app.operations.test_keyring_install import newest, successor
from tests.app.operations.test_keyring_revokes_staff import demo_reviewer_signing_key
from tests.app.staff_support import (
    PASSWORD,
    GuessesHere,
    StaffUser,
    make_staff,
    seal_totp_secret,
)
from tests.app.support import db_session, new_reviewer


def _at_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch, actions: list[Callable[[Any], None]]
) -> list[BaseException | None]:
    """Run `actions` in threads, each with its own session, meeting after their checks.

    Each waits (at most 2 s) for the others where it writes its audit entry, after
    it has checked what it may do and before it commits: the window of a race.
    """
    meet = threading.Barrier(len(actions))
    record = audit.record

    def meeting_record(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=2)
        return record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", meeting_record)
    return _in_threads(app, actions)


def _in_threads(app: Flask, actions: list[Callable[[Any], None]]) -> list[BaseException | None]:
    """Run `actions` in threads, each with its own session; return what each raised."""
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            with app.app_context(), db_session(app) as session:
                actions[index](session)
        except BaseException as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _admins(app: Flask) -> int:
    with db_session(app) as session:
        query = select(func.count()).select_from(StaffAccount).where(StaffAccount.role == "admin")
        return session.scalar(query) or 0


@pytest.mark.parametrize("how", ["demote", "remove"])
def test_two_administrators_acting_on_each_other_at_once_leave_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Each sees two administrators, so each may go: together they must not leave none."""
    for name in ("amna", "bilal"):
        make_staff(app, name, role="admin")

    def act(name: str) -> Callable[[Any], None]:
        def action(session: Any) -> None:
            account = staff_service.get_account(session, name)
            if how == "demote":
                staff_service.set_role(session, "console", account, "staff")
            else:
                staff_service.remove_account(session, "console", account)

        return action

    outcomes = _at_once(app, monkeypatch, [act("amna"), act("bilal")])
    assert _admins(app) == 1, f"administrators left: {_admins(app)} ({outcomes})"
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1
    assert isinstance(refused[0], staff_service.AccountError)
    assert "last administrator" in str(refused[0])


@pytest.mark.parametrize("how", ["remove", "demote", "reset"])
def test_an_administrator_changed_since_their_request_came_in_is_refused(
    app: Flask, how: str
) -> None:
    """What the page read as the request came in is held against what the row says now."""
    make_staff(app, "amna", role="admin")
    make_staff(app, "bilal", role="admin")
    with app.app_context(), db_session(app) as request_session:
        # As the request loaded its administrator.
        amna = staff_service.get_account(request_session, "amna")
        request_session.commit()
        with db_session(app) as other:
            target = staff_service.get_account(other, "amna")
            if how == "remove":
                staff_service.remove_account(other, "bilal", target)
            elif how == "demote":
                staff_service.set_role(other, "bilal", target, "staff")
            else:
                staff_service.reset_password(other, "bilal", target, "a passphrase of bilal's")
        with pytest.raises(staff_service.NoLongerAdmin):
            staff_service.hold_admin(request_session, amna)
        request_session.rollback()
        bilal = staff_service.get_account(request_session, "bilal")
        staff_service.hold_admin(request_session, bilal)


def _own_change(app: Flask, how: str, user: StaffUser) -> Callable[[Any], None]:
    """What the account's own device, or an administrator's reset of it, does."""

    def action(session: Any) -> None:
        account = staff_service.get_account(session, user.username)
        if how == "enrol":
            secret = pyotp.random_base32()
            sealed = seal_totp_secret(app, secret)
            assert staff_service.confirm_enrolment(
                session, account, sealed, pyotp.TOTP(secret).now()
            )
        elif how == "change":
            code = pyotp.TOTP(user.secret).now()
            guesses = GuessesHere(session)
            staff_service.change_own_password(
                session, account, PASSWORD, "a new passphrase", code, guesses
            )
        else:
            staff_service.reset_password(session, "bilal", account, "a passphrase of bilal's")

    return action


@pytest.mark.parametrize("how", ["enrol", "change", "reset"])
def test_a_removal_racing_a_change_of_the_same_account_does_not_deadlock(
    app: Flask, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A change writes its account's row, then the audit log's head; a removal took the
    head first, then the row. Each held what the other waited for: on PostgreSQL one was
    killed as a deadlock, a 500 to whoever sent it."""
    make_staff(app, "amna", role="admin")
    user = make_staff(app, "hina", enrolled=how != "enrol")
    changing, removal_audited = threading.Event(), threading.Event()
    record = audit.record

    def in_turn(session: Any, actor: str, action: str, **detail: Any) -> Any:
        if action == "staff-removed":
            entry = record(session, actor, action, **detail)
            removal_audited.set()
            return entry
        # The change holds its row: the removal comes now, and audits (at most 2 s) first.
        changing.set()
        removal_audited.wait(timeout=2)
        return record(session, actor, action, **detail)

    monkeypatch.setattr(audit, "record", in_turn)

    def remove(session: Any) -> None:
        assert changing.wait(timeout=10)
        account = staff_service.get_account(session, user.username)
        staff_service.remove_account(session, "amna", account)

    outcomes = _in_threads(app, [_own_change(app, how, user), remove])
    assert outcomes == [None, None], f"one of them failed: {outcomes}"
    with db_session(app) as session:
        assert session.get(StaffAccount, user.id) is None
        assert audit.verify(session).ok


@pytest.mark.parametrize("name", [audit.CONSOLE, staff_service.LOGIN_ACTOR])
def test_no_account_takes_a_name_the_audit_log_keeps_for_the_server(app: Flask, name: str) -> None:
    """An administrator adds an account called "console" (or "login"): what it did was logged
    as done at the server's console, by whoever runs the server."""
    with app.app_context(), db_session(app) as session:
        with pytest.raises(staff_service.AccountError, match="the audit log"):
            staff_service.create_account(session, "amna", name, role="admin")
        assert staff_service.find_account(session, name) is None


def test_a_removed_accounts_name_is_not_given_to_another(app: Flask) -> None:
    """An administrator removes a colleague and adds an account of the same name for someone
    else: the log's entries of the two read as one person's, the removed colleague's
    earlier work and the newcomer's later work alike."""
    make_staff(app, "hina")
    with app.app_context(), db_session(app) as session:
        staff_service.remove_account(session, "amna", staff_service.get_account(session, "hina"))
        with pytest.raises(staff_service.AccountError, match="the audit log"):
            staff_service.create_account(session, "amna", "HINA", role="staff")
        assert staff_service.find_account(session, "hina") is None


def test_an_install_and_a_removal_of_the_account_it_locks_both_go_through_at_once(
    app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The removal held rehana's row and took kiran's (whose password she set) after; the
    install, which locks both, took kiran's first: on PostgreSQL one of them was aborted."""
    make_staff(app, "rehana")
    make_staff(app, "kiran", actor="rehana")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        staff_service.bind_reviewer(session, "root", account, demo_reviewer_signing_key(instance))
        # Kiran's row comes first by id and on disk: whichever way a scan takes them.
        for name, ident in (("kiran", "0" * 32), ("rehana", "f" * 32)):
            session.execute(
                update(StaffAccount).where(StaffAccount.username == name).values(id=ident)
            )
        session.commit()
    _, other = new_reviewer()
    data = successor(instance, [other]).to_bytes()

    meet = threading.Barrier(2)
    first = threading.Event()
    set_by, hold = staff_service.passwords_set_by, reviewer_accounts.hold_unlisted

    def removal_meets(session: Any, username: str) -> list[str]:
        if not first.is_set():
            first.set()
            meet.wait(timeout=5)
            time.sleep(0.5)  # the install takes the rows it can meanwhile
        return set_by(session, username)

    def install_meets(session: Any, manifest: Any) -> None:
        meet.wait(timeout=5)
        hold(session, manifest)

    monkeypatch.setattr(staff_service, "passwords_set_by", removal_meets)
    monkeypatch.setattr(reviewer_accounts, "hold_unlisted", install_meets)

    def install(session: Any) -> None:
        keyring_admin.install(session, data, actor="console")
        session.commit()

    def remove(session: Any) -> None:
        staff_service.remove_account(
            session, "console", staff_service.get_account(session, "rehana")
        )

    outcomes = _in_threads(app, [install, remove])
    assert outcomes == [None, None], f"one of them was aborted: {outcomes}"
    with app.app_context(), db_session(app) as session:
        assert staff_service.find_account(session, "rehana") is None
        assert "kiran" in audit.locked(session)
        assert audit.newest_keyring(session) == newest(instance).manifest.version
