"""Staff accounts' rows taken in one order by every change: none deadlocks on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from app.cli import rotate as rotate_cli
from app.models import StaffAccount
from app.operations import keyring_admin
from app.services import audit, staff_admin
from app.services import staff as staff_service
from tests.app.operations.test_keyring_install import successor
from tests.app.operations.test_keyring_revokes_staff import demo_reviewer_signing_key
from tests.app.services.test_staff_accounts import _in_threads
from tests.app.staff_support import make_staff
from tests.app.support import db_session, new_reviewer


def _leaver_with_an_admin_she_set_up(app: Flask, instance: Path) -> None:
    """Amna administers; rehana, bound to a reviewer, set the password of kiran, an
    administrator; by id rehana comes first, then kiran, then amna."""
    make_staff(app, "amna", role="admin")
    make_staff(app, "rehana")
    make_staff(app, "kiran", role="admin", actor="rehana")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        staff_service.bind_reviewer(session, "root", account, demo_reviewer_signing_key(instance))
        for name, ident in (("rehana", "1" * 32), ("kiran", "e" * 32), ("amna", "f" * 32)):
            session.execute(
                update(StaffAccount).where(StaffAccount.username == name).values(id=ident)
            )
        session.commit()


def _page_removal(meet: threading.Barrier | None) -> Callable[[Any], None]:
    """Amna removes rehana on the admin pages, as `app.staff.admin._attempt` runs it."""

    def remove(session: Any) -> None:
        me = staff_service.get_account(session, "amna")
        staff_service.hold_admin(session, me)
        if meet is not None:
            meet.wait(timeout=5)
            time.sleep(0.5)  # the install takes the rows it can meanwhile
        staff_admin.remove(session, "1" * 32, actor=me)

    return remove


def _console_install(data: bytes, meet: threading.Barrier | None) -> Callable[[Any], None]:
    """`raazdar keyring install` of a keyring that drops rehana's reviewer."""

    def install(session: Any) -> None:
        if meet is not None:
            meet.wait(timeout=5)
        keyring_admin.install(session, data, actor="console")
        session.commit()

    return install


def test_a_removal_on_the_admin_pages_and_an_install_locking_an_admin_both_go_through(
    app: Flask, instance: Path
) -> None:
    """The page held every administrator's row first (kiran's among them), then wanted
    rehana's; the install held rehana's and wanted kiran's: on PostgreSQL one of them
    was aborted (a deadlock)."""
    _leaver_with_an_admin_she_set_up(app, instance)
    _, other = new_reviewer()
    data = successor(instance, [other]).to_bytes()
    meet = threading.Barrier(2)

    outcomes = _in_threads(app, [_page_removal(meet), _console_install(data, meet)])
    assert outcomes == [None, None], f"one of them was aborted: {outcomes}"
    with app.app_context(), db_session(app) as session:
        assert staff_service.find_account(session, "rehana") is None
        assert "kiran" in audit.locked(session)
        assert staff_service.get_account(session, "amna").role == "admin"


def test_a_reset_on_the_admin_pages_and_a_secret_keys_rotation_both_go_through(
    app: Flask, instance: Path
) -> None:
    """The page held every administrator's row, then wanted rehana's to reset her second
    factor; the rotation sealed each secret again, rehana's row first by id, and wanted
    the administrators': on PostgreSQL one of them was aborted (a deadlock)."""
    _leaver_with_an_admin_she_set_up(app, instance)
    meet = threading.Barrier(2)
    replaced = app.config["SECRET_KEY"]

    def reset(session: Any) -> None:
        me = staff_service.get_account(session, "amna")
        staff_service.hold_admin(session, me)
        meet.wait(timeout=5)
        time.sleep(0.5)  # the rotation takes the rows it can meanwhile
        staff_admin.reset_second_factor(session, "1" * 32, actor=me)

    def rotate(_: Any) -> None:
        meet.wait(timeout=5)
        rotate_cli._record(
            instance,
            "secret-key-rotated",
            logins_void=True,
            replaced_secret_key=replaced,
            secret_key=bytes(64),
        )

    outcomes = _in_threads(app, [reset, rotate])
    assert outcomes == [None, None], f"one of them was aborted: {outcomes}"
    with app.app_context(), db_session(app) as session:
        assert not staff_service.get_account(session, "rehana").totp_enrolled
        assert audit.entries(session, action="secret-key-rotated")


def test_staff_changes_run_together_many_times_never_deadlock(
    app: Flask, instance: Path, database_url: str
) -> None:
    """Round after round, with accounts' ids drawn at random: an admin page's removal of a
    leaver and its reset of a member, a console install locking the leaver and the
    administrator she set up, a demotion or promotion, a secret key's rotation and "end
    my other sessions", all at once. None is aborted, and each round's leaver is gone."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the interleavings are PostgreSQL's")
    make_staff(app, "amna", role="admin")
    make_staff(app, "kiran", role="admin")
    make_staff(app, "rehana")
    key = app.config["SECRET_KEY"]
    dropped = demo_reviewer_signing_key(instance)
    rounds = 4
    for n in range(rounds):
        make_staff(app, f"leaver{n}")
        make_staff(app, f"boss{n}", role="admin", actor=f"leaver{n}")
        with app.app_context(), db_session(app) as session:
            leaver = staff_service.get_account(session, f"leaver{n}")
            staff_service.bind_reviewer(session, "root", leaver, dropped)
            leaver_id = leaver.id
        _, listed = new_reviewer(f"reviewer{n}")
        data = successor(instance, [listed]).to_bytes()
        dropped = str(listed.signing_key.fingerprint)

        def page(act: Callable[[Any, StaffAccount], None]) -> Callable[[Any], None]:
            def run(session: Any) -> None:
                me = staff_service.get_account(session, "amna")
                staff_service.hold_admin(session, me)
                act(session, me)

            return run

        def remove(session: Any, me: StaffAccount, ident: str = leaver_id) -> None:
            staff_admin.remove(session, ident, actor=me)

        def reset(session: Any, me: StaffAccount) -> None:
            rehana = staff_service.get_account(session, "rehana")
            staff_admin.reset_second_factor(session, rehana.id, actor=me)

        def role(session: Any, n: int = n) -> None:
            kiran = staff_service.get_account(session, "kiran")
            staff_service.set_role(session, "console", kiran, ("staff", "admin")[n % 2])

        def sessions_ended(session: Any) -> None:
            with app.test_request_context():  # asked from none of kiran's sessions
                kiran = staff_service.get_account(session, "kiran")
                staff_service.end_other_sessions(session, kiran)

        def rotate(_: Any) -> None:
            rotate_cli._record(
                instance,
                "secret-key-rotated",
                logins_void=True,
                replaced_secret_key=key,
                secret_key=key,
            )

        actions = [
            page(remove),
            _console_install(data, None),
            page(reset),
            role,
            rotate,
            sessions_ended,
        ]
        outcomes = _in_threads(app, actions)
        assert outcomes == [None] * len(actions), f"round {n}: {outcomes}"
        with app.app_context(), db_session(app) as session:
            assert staff_service.find_account(session, f"leaver{n}") is None
            assert f"boss{n}" in audit.locked(session)
