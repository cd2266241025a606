"""Logins are rows that end: copied cookies, lifetimes, minted cookies, a seized database."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import login_ends, sessions
from app.cli import main
from app.models import Reply, SessionRow, Source
from crypto import CryptoError, PrivateKey, TokenKey, derive_source_keys
from crypto.constants import TOKEN_CONTEXT_SESSION
from crypto.encoding import b64decode, b64encode
from tests.app.staff_support import StaffUser, login, make_staff, page_token, staff_client
from tests.app.support import (
    StoppedClock,
    Visitor,
    all_rows,
    db_session,
    form,
    plant_login,
    reply_to,
    reviewer_keys,
    shows_login,
    source_id,
)

STAFF_HOME = "/staff/"


def signed_in(client: FlaskClient) -> tuple[Visitor, str]:
    """A source (in English) who has just reported; return their browser and codename."""
    client.get("/lang/en")
    visitor = Visitor(client)
    page = visitor.start()
    visitor.filed(visitor.send(page, "the SHO"))
    return visitor, page.fields["codename"]


def cookie(client: FlaskClient) -> str:
    """The session cookie the browser holds."""
    held = client.get_cookie("rz")
    assert held is not None
    return held.value


def is_signed_in(client: FlaskClient) -> bool:
    """Say whether the browser's cookie opens the account page (else the login page in place)."""
    response = client.get("/account")
    return response.status_code == 200 and not shows_login(response)


def mint(app: Flask, data: Mapping[str, object]) -> str:
    """Seal a cookie with the instance's secret key, as whoever holds that key can."""
    key = app.session_interface._key(app)  # type: ignore[attr-defined]
    body = json.dumps({"exp": int(time.time()) + 3600, "data": data}).encode()
    token: str = key.seal(body, TOKEN_CONTEXT_SESSION)
    return token


class _Later:
    """`time` for `app.sessions`, some seconds ahead of the real clock."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


# --- Logout ends the login everywhere ---------------------------------------------------


def test_a_cookie_copied_before_logout_opens_nothing_after(client: FlaskClient) -> None:
    visitor, _ = signed_in(client)
    copied = cookie(client)
    assert visitor.log_out().status_code == 200
    client.set_cookie("rz", copied)
    assert shows_login(client.get("/account"))


def test_a_cookie_copied_before_logout_opens_nothing_in_another_worker_either(
    make_app: Callable[..., Flask],
) -> None:
    # Nothing of a login is kept in a worker's memory that could outlive its row: the
    # copy, sent to a worker that served the login's pages, finds the row gone.
    app, other_worker = make_app(), make_app()
    client = app.test_client()
    visitor, _ = signed_in(client)
    copy = other_worker.test_client()
    copy.set_cookie("rz", cookie(client))
    assert is_signed_in(copy)
    assert visitor.log_out().status_code == 200
    assert not is_signed_in(copy)


def test_a_staff_cookie_copied_before_logout_opens_nothing_after(app: Flask) -> None:
    user: StaffUser = make_staff(app, "alice")
    staff = staff_client(app)
    login(staff, app, user)
    assert staff.get(STAFF_HOME).status_code == 200
    copied = cookie(staff)
    staff.post("/staff/logout", data={"csrf_token": page_token(staff)})
    staff.set_cookie("rz", copied)
    assert staff.get(STAFF_HOME).status_code == 302


def test_a_new_password_deletes_every_login_of_the_account(app: Flask) -> None:
    from app.services import staff as staff_service

    user = make_staff(app, "alice")
    staff = staff_client(app)
    login(staff, app, user)
    with app.app_context(), db_session(app) as session:
        assert session.execute(select(SessionRow.staff_id)).scalars().all() == [user.id]
        account = staff_service.find_account(session, "alice")
        assert account is not None
        staff_service.reset_password(session, "console", account)
        assert session.execute(select(SessionRow)).scalars().all() == []
    assert staff.get(STAFF_HOME).status_code == 302


# --- Lifetimes ---------------------------------------------------------------------------


def test_a_source_session_ends_at_its_absolute_lifetime(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client = make_app().test_client()
    signed_in(client)
    # Active every 25 minutes (under the 30-minute idle deadline) ...
    for minutes in (25, 50, 75, 100, 115):
        later.ahead = minutes * 60
        assert is_signed_in(client), minutes
    # ... and still out after 120 minutes, however active.
    later.ahead = 121 * 60
    assert shows_login(client.get("/account"))


@dataclass
class _Due:
    """A signed-in browser whose login's re-seal is due, and another tab of it served by
    another worker (None: no other tab)."""

    later: _Later
    app: Flask
    client: FlaskClient
    other_tab: FlaskClient | None


def _re_seal_due(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, *, other_tab: bool = True
) -> _Due:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    app, other_worker = make_app(), make_app() if other_tab else None
    client = app.test_client()
    signed_in(client)
    later.ahead = 4 * 60  # a re-seal is due
    tab = None
    if other_worker is not None:
        tab = other_worker.test_client()
        tab.set_cookie("rz", cookie(client))
    return _Due(later, app, client, tab)


@contextlib.contextmanager
def _refused_report(due: _Due) -> Iterator[Session]:
    """Inside a report's request from the account page, its login read with the re-seal
    deferred to the request's end (`defer_touch`): the request's session."""
    headers = {"Cookie": f"rz={cookie(due.client)}"}
    with due.app.test_request_context("/account", method="POST", headers=headers):
        db = due.app.extensions["raazdar.db"].new_session()
        assert sessions.current_login(db, defer_touch=True) is not None
        yield db


def _answer_taken(due: _Due) -> None:
    """The refused report's answer (inside its request): its cookie, as the browser keeps it."""
    answer = due.app.response_class()
    due.app.session_interface.save_session(due.app, flask_session, answer)
    set_cookie = answer.headers["Set-Cookie"]
    due.client.set_cookie("rz", set_cookie.split(";", 1)[0].split("=", 1)[1])


def test_a_refused_reports_re_seal_undoes_no_other_tabs(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report sent from the account page carries the login's re-seal in its own commit;
    # refused (busy in a flood, too big), the re-seal is committed alone as the request
    # ends. Written over whatever the row held by then, it undid another tab's page served
    # meanwhile, which had moved the login's turn on: the browser, holding that tab's
    # turn, was taken for a copy of its own cookie, and the login ended.
    due = _re_seal_due(make_app, monkeypatch)
    assert due.other_tab is not None
    with _refused_report(due) as db:
        assert sessions.touch_pending()
        db.rollback()  # the report refused: nothing of its transaction committed
        assert is_signed_in(due.other_tab)  # meanwhile, a page in another tab
        sessions.settle_touch(db)
        db.close()
    assert is_signed_in(due.other_tab), "a refused report's re-seal ended the login"


def test_a_refused_reports_answer_carries_the_turn_that_stands(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A POST's re-seal moves the login's turn as a page's does (test_sessions_copied.py);
    # if another tab's page re-sealed the row first, the POST's own turn was never
    # written, and its answer, carrying it, would end the login at the browser's next page.
    due = _re_seal_due(make_app, monkeypatch)
    assert due.other_tab is not None
    with _refused_report(due) as db:
        db.rollback()  # the report refused: nothing of its transaction committed
        assert is_signed_in(due.other_tab)  # meanwhile, a page in another tab
        sessions.settle_touch(db)
        db.close()
        _answer_taken(due)
    due.later.ahead = 4 * 60 + 30
    assert is_signed_in(due.client), "the refused report's answer ended the login"
    assert is_signed_in(due.other_tab)


def test_a_re_seal_that_loses_its_race_at_the_write_gives_the_answer_the_turn_that_won(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race one step later: another tab's page re-seals the row between the refused
    # report's last look at it and its write. The write changes nothing, and the answer
    # must carry the turn the other tab's page wrote.
    due = _re_seal_due(make_app, monkeypatch)
    other_tab = due.other_tab
    assert other_tab is not None
    with _refused_report(due) as db:
        db.rollback()  # the report refused: nothing of its transaction committed
        writes = db.execute
        raced_once: list[object] = []

        def raced(statement: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(statement, "is_update", False) and not raced_once:
                raced_once.append(statement)
                # Meanwhile two pages in another tab: a re-seal, and its turn taken.
                assert is_signed_in(other_tab)
                assert is_signed_in(other_tab)
            return writes(statement, *args, **kwargs)

        monkeypatch.setattr(db, "execute", raced)
        sessions.settle_touch(db)
        db.close()
        assert raced_once, "the re-seal was never written"
        _answer_taken(due)
    due.later.ahead = 4 * 60 + 30
    assert is_signed_in(due.client), "the refused report's answer ended the login"
    assert is_signed_in(other_tab)


def test_a_re_seal_whose_write_fails_leaves_the_answer_the_turn_its_row_holds(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deferred re-seal's turn goes into the answer only if the row holds it: its write
    # failing (the database away a moment), the answer carrying it ended the login.
    due = _re_seal_due(make_app, monkeypatch, other_tab=False)
    with _refused_report(due) as db:
        db.rollback()  # the report refused: nothing of its transaction committed
        writes = db.execute

        def failing(statement: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(statement, "is_update", False):
                raise OperationalError("UPDATE sessions", None, Exception("database is away"))
            return writes(statement, *args, **kwargs)

        monkeypatch.setattr(db, "execute", failing)
        sessions.settle_touch(db)
        db.close()
        _answer_taken(due)
    due.later.ahead = 4 * 60 + 30
    assert is_signed_in(due.client), "the answer of a re-seal never written ended the login"


def test_a_login_that_lapsed_is_deleted_when_its_cookie_comes_back(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    app = make_app()
    client = app.test_client()
    signed_in(client)
    (mine,) = _row_ids(app)
    later.ahead = 31 * 60
    # Its cookie ran out, and so did the row: it goes when the cookie comes back.
    assert shows_login(client.get("/account"))
    assert mine not in _row_ids(app)
    # Only the key the cookie held ends a row: the secret key names rows, not their keys.
    later.ahead = 0
    signed_in(app.test_client())
    (live,) = _row_ids(app)
    forged = {"ended": {"sid": live, "key": b64encode(secrets.token_bytes(32))}}
    intruder = app.test_client()
    intruder.set_cookie("rz", mint(app, forged))
    intruder.get("/account")
    assert _row_ids(app) == {live}


def test_a_login_left_idle_takes_its_key_with_it_when_it_ends(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, instance: Path
) -> None:
    # A phone put away signed in, no logout: the login ends at its idle deadline. Its row,
    # holding the source's reply-opening key, stayed until its day's sweep, a day or two:
    # the cookie still in the seized phone's browser and a copy of the server opened it.
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    monkeypatch.setattr(login_ends, "time", later)
    monkeypatch.setattr(login_ends, "LOOK_EVERY", 0.01)
    app, other_worker = make_app(), make_app()
    phone = app.test_client()
    _, codename = signed_in(phone)
    # A source still reading, whose last page another worker served, keeps her login.
    reading = app.test_client()
    signed_in(reading)
    reading_elsewhere = other_worker.test_client()
    reading_elsewhere.set_cookie("rz", cookie(reading))
    later.ahead = 25 * 60
    assert is_signed_in(reading_elsewhere)
    with db_session(app) as session:
        rows = session.execute(select(SessionRow)).scalars().all()
    phones = {row.sealed.encode() for row in rows if row.id == _reference(app, phone)["sid"]}
    sealed = {row.sealed.encode() for row in rows}
    later.ahead = 31 * 60
    deadline = time.monotonic() + 5
    while (opened := _opened_with_cookie(app, phone)) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    # Nor does the disk keep it (SQLite: overwritten, its WAL emptied; PostgreSQL keeps
    # a deleted row's version until the sweep, as deploy/README.md says).
    disk = list(instance.glob("raazdar.db*"))
    while disk and time.monotonic() < deadline and _held(disk, sealed) != sealed - phones:
        time.sleep(0.02)
    if disk:
        assert _held(disk, sealed) == sealed - phones, "the ended login's row is on the disk"
    private = derive_source_keys(codename, app.config["CODENAME_SALT"], app.config["CODENAME_KDF"])
    assert opened is None, "the ended login's row gave up the source's key" + (
        " (hers)" if opened == b64encode(private.private_key.secret_bytes()) else ""
    )
    assert is_signed_in(reading_elsewhere), "a login in use was ended with one left idle"


def test_a_rotated_secret_keys_logins_are_deleted_by_their_idle_deadline(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    instance: Path,
    runner: CliRunner,
) -> None:
    # "We think the server was compromised": the secret key is rotated, the server
    # restarted. No cookie opens again, so none came back to end its row, and the worker
    # that noted when each ends was gone: every row stayed until its day's sweep, a day
    # or two, telling a seizer that logins were live when the server was last in use.
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    monkeypatch.setattr(login_ends, "time", later)
    monkeypatch.setattr(login_ends, "LOOK_EVERY", 0.01)
    app = make_app()
    signed_in(app.test_client())
    login(staff_client(app), app, make_staff(app, "alice"))
    before = _row_ids(app)
    later.ahead = 20 * 60
    result = runner.invoke(main, ["--instance", str(instance), "rotate", "secret-key"])
    assert result.exit_code == 0, result.output
    # Until the restart the worker keeps the old key, and a source still logs in.
    signed_in(app.test_client())
    between = _row_ids(app) - before
    later.ahead = 25 * 60
    app.extensions.pop("raazdar.login_ends")  # the restart: the worker's notes die with it
    restarted = make_app()
    assert restarted.config["SECRET_KEY"] != app.config["SECRET_KEY"]
    # The logins before the rotation ended by 30 minutes on; the one after it by 55.
    for minutes, ended in ((31, before), (56, before | between)):
        later.ahead = minutes * 60
        deadline = time.monotonic() + 5
        while _row_ids(restarted) & ended and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _row_ids(restarted) & ended, f"logins ended are on the disk {minutes} min on"


def test_logins_ending_by_the_hundred_are_all_deleted(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A flood of logins to one account (a codename its flooder made) ends as it came: ids
    # are looked up a chunk at a time, below SQLite's bound on a statement's parameters.
    monkeypatch.setattr(login_ends, "_CHUNK", 4)
    ends = login_ends.Ends(app.extensions["raazdar.db"])
    today = dt.datetime.now(dt.UTC).date()
    rows = [SessionRow(id=secrets.token_hex(16), sealed=secrets.token_hex(300)) for _ in range(10)]
    with db_session(app) as session:
        session.add_all(SessionRow(id=r.id, sealed=r.sealed, expires_day=today) for r in rows)
        session.commit()
    kept = rows.pop()
    for row in rows:
        ends.note(row.id, row.sealed, time.time() - 1)
    ends.note(kept.id, "sealed otherwise since", time.time() - 1)
    assert ends.end_due() == len(rows)
    assert _row_ids(app) == {kept.id}


class _Away:
    """A database that cannot be reached (a restart, a full disk, every connection held)."""

    def __init__(self, path: Path) -> None:
        self._engine = create_engine(f"sqlite:///{path / 'missing' / 'raazdar.db'}")

    def new_session(self) -> Session:
        return Session(self._engine)


def test_a_login_whose_end_finds_the_database_away_is_deleted_at_the_next_look(
    app: Flask, tmp_path: Path
) -> None:
    # The look at a login's end met the database away for a moment (PostgreSQL restarted,
    # every connection held by a flood, SQLite's write lock held past its wait): the note
    # was dropped, and the row, with a source's reply-opening key, stayed to its day's sweep.
    ends = login_ends.Ends(app.extensions["raazdar.db"])
    row = SessionRow(id=secrets.token_hex(16), sealed=secrets.token_hex(300))
    today = dt.datetime.now(dt.UTC).date()
    with db_session(app) as session:
        session.add(SessionRow(id=row.id, sealed=row.sealed, expires_day=today))
        session.commit()
    ends.note(row.id, row.sealed, time.time() - 1)
    database, ends._database = ends._database, _Away(tmp_path)  # type: ignore[assignment]
    assert ends.end_due() == 0
    ends._database = database
    ends.end_due()
    assert row.id not in _row_ids(app), "a login's row outlived its end: the database was away"


def _held(files: list[Path], wanted: set[bytes]) -> set[bytes]:
    """Which of `wanted` the files hold."""
    data = b"".join(path.read_bytes() for path in files if path.is_file())
    return {w for w in wanted if w in data}


def _reference(app: Flask, client: FlaskClient) -> dict[str, str]:
    """The login reference the browser's cookie holds, as whoever has the secret key reads it."""
    key = app.session_interface._key(app)  # type: ignore[attr-defined]
    ref: dict[str, str] = json.loads(key.open(cookie(client), TOKEN_CONTEXT_SESSION))["data"][
        "login"
    ]
    return ref


def _opened_with_cookie(app: Flask, client: FlaskClient) -> str | None:
    """The reply-opening key a login row gives whoever holds the server and the browser's cookie."""
    ref = _reference(app, client)
    with db_session(app) as session:
        row = session.get(SessionRow, ref["sid"])
    if row is None:
        return None
    opened = TokenKey(b64decode(ref["key"])).open(
        row.sealed, b"raazdar session row v1:" + row.id.encode()
    )
    sk: str = json.loads(opened)["data"]["source"]["sk"]
    return sk


def test_ended_logins_are_swept_at_the_next_login(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(client)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    monkeypatch.setattr(sessions, "today", lambda: tomorrow)
    signed_in(app.test_client())
    with db_session(app) as session:
        assert len(session.execute(select(SessionRow)).scalars().all()) == 1


def _ended_row(app: Flask) -> str:
    """Put in a login row that ended yesterday, as a day's turn leaves one; return its id."""
    row_id = secrets.token_hex(16)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with db_session(app) as session:
        session.add(SessionRow(id=row_id, sealed="x" * 512, expires_day=yesterday))
        session.commit()
    return row_id


def _row_ids(app: Flask) -> set[str]:
    with db_session(app) as session:
        return set(session.execute(select(SessionRow.id)).scalars())


def test_ended_logins_are_swept_once_a_day_and_again_when_the_day_turns(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(client)
    # No row ends before today once today's sweep committed: a second login
    # the same day has nothing to sweep, and does not look.
    ended = _ended_row(app)
    signed_in(app.test_client())
    assert ended in _row_ids(app)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    monkeypatch.setattr(sessions, "today", lambda: tomorrow)
    signed_in(app.test_client())
    assert ended not in _row_ids(app)


def test_a_sweep_rolled_back_is_done_again_at_the_next_login(app: Flask) -> None:
    ended = _ended_row(app)
    with app.test_request_context():
        db = app.extensions["raazdar.db"].new_session()
        sessions.sweep_if_due(db)
        db.rollback()
        sessions.sweep_if_due(db)
        db.commit()
        db.close()
    assert ended not in _row_ids(app)
    ended = _ended_row(app)
    with app.test_request_context():
        db = app.extensions["raazdar.db"].new_session()
        sessions.sweep_if_due(db)
        db.commit()
        db.close()
    assert ended in _row_ids(app)


def test_a_login_row_shows_no_time_finer_than_a_day_and_no_source(
    client: FlaskClient, app: Flask
) -> None:
    _, codename = signed_in(client)
    with db_session(app) as session:
        (row,) = session.execute(select(SessionRow)).scalars().all()
        assert isinstance(row.expires_day, dt.date)
        assert row.staff_id is None
        assert source_id(app, codename) not in row.sealed
        assert len(row.sealed) % 4 == 0


@pytest.mark.parametrize("staff", [False, True])
def test_a_login_row_says_the_day_of_the_login_not_the_hour(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, staff: bool
) -> None:
    """A seizure learns the day a login was made, never whether it came late in the day.

    The row's day was the day its absolute lifetime ended: a source's row made on
    day D said D+1 exactly when the login came in D's last two hours, a staff
    member's in its last eight.
    """
    app = make_app()
    days = {}
    for n, hour in enumerate((0, 23)):
        monkeypatch.setattr(sessions, "time", StoppedClock(hour, 50))
        before = _row_ids(app)
        if staff:
            login(staff_client(app), app, make_staff(app, f"member{n}"))
        else:
            signed_in(app.test_client())
        with db_session(app) as session:
            rows = session.execute(select(SessionRow).where(SessionRow.id.not_in(before)))
            (days[hour],) = {row.expires_day for row in rows.scalars()}
    assert days[0] == days[23], f"a login at 00:50 ends by {days[0]}, one at 23:50 by {days[23]}"


# --- Whoever holds the secret key, or the database, is not a source ----------------------


def test_a_cookie_minted_for_another_source_is_refused(
    app: Flask, make_app: Callable[..., Flask], instance: Path
) -> None:
    _, victim_codename = signed_in(app.test_client())
    victim = source_id(app, victim_codename)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, victim_codename, "for the victim only", signer)
    attacker_key = b64encode(PrivateKey.generate().secret_bytes())
    with db_session(app) as session:
        rows = session.execute(select(SessionRow.id)).scalars().all()
    forged = [
        # The cookie format before logins were rows: an id and any key.
        {"source": {"id": victim, "sk": attacker_key}},
        # A real login row of the victim's, with a key the attacker made up.
        *({"login": {"sid": row, "key": b64encode(secrets.token_bytes(32))}} for row in rows),
    ]
    for data in forged:
        attacker = make_app().test_client()
        attacker.set_cookie("rz", mint(app, data))
        assert not is_signed_in(attacker), data
        token = form(Visitor(attacker).get("/login"), "/login").fields["csrf_token"]
        attacker.post("/replies/delete", data={"csrf_token": token, "reply": reply_id})
    with db_session(app) as session:
        assert session.get(Reply, reply_id) is not None


def test_a_cookie_minted_with_the_secret_key_ends_no_login(
    app: Flask, make_app: Callable[..., Flask]
) -> None:
    victim_browser = app.test_client()
    signed_in(victim_browser)
    (row,) = _row_ids(app)
    made_up = b64encode(secrets.token_bytes(32))
    for data in ({"login": {"sid": row, "key": made_up}}, {"ended": {"sid": row, "key": made_up}}):
        attacker = make_app().test_client()
        attacker.set_cookie("rz", mint(app, data))
        token = form(Visitor(attacker).get("/login"), "/login").fields["csrf_token"]
        attacker.post("/logout", data={"csrf_token": token})
        assert is_signed_in(victim_browser), data


def test_a_login_whose_key_is_not_the_accounts_is_refused(client: FlaskClient, app: Flask) -> None:
    # Even a row written with another key (as a database writer could) opens nothing.
    _, codename = signed_in(client)
    other = PrivateKey.generate()
    grants = {"source": {"id": source_id(app, codename), "sk": b64encode(other.secret_bytes())}}
    plant_login(app, client, grants)
    assert not is_signed_in(client)


def test_a_seized_database_and_secret_key_open_no_reply_and_act_as_nobody(
    app: Flask, make_app: Callable[..., Flask], instance: Path
) -> None:
    victim_browser = app.test_client()
    _, codename = signed_in(victim_browser)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, codename, "the reply", signer)
    assert "the reply" in Visitor(victim_browser).get("/account")
    secret_key: bytes = app.config["SECRET_KEY"]
    with db_session(app) as session:
        victim = session.execute(select(Source)).scalar_one()
        rows = session.execute(select(SessionRow)).scalars().all()
    # The database (every file of it) holds no copy of the key that opens the reply.
    private = derive_source_keys(
        codename, app.config["CODENAME_SALT"], app.config["CODENAME_KDF"]
    ).private_key.secret_bytes()
    for path in instance.glob("raazdar.db*"):
        data = path.read_bytes()
        assert private not in data
        assert b64encode(private).encode() not in data
    # No key derivable from the secret key opens a login row.
    candidates = [TokenKey(secret_key[:32]), app.session_interface._key(app)]  # type: ignore[attr-defined]
    for row in rows:
        for key in candidates:
            with pytest.raises(CryptoError):
                key.open(row.sealed, b"raazdar session row v1:" + row.id.encode())
    # Cookies minted with the secret key for the victim act as nobody.
    forged: list[Mapping[str, object]] = [
        {"source": {"id": victim.id, "sk": b64encode(PrivateKey.generate().secret_bytes())}},
        *({"login": {"sid": row.id, "key": b64encode(secret_key[:32])}} for row in rows),
    ]
    for minted in forged:
        attacker = make_app().test_client()
        attacker.set_cookie("rz", mint(app, minted))
        assert not is_signed_in(attacker)
    with db_session(app) as session:
        assert session.get(Reply, reply_id) is not None


def test_source_and_staff_rows_are_the_same_size(client: FlaskClient, app: Flask) -> None:
    signed_in(client)
    user = make_staff(app, "alice")
    login(staff_client(app), app, user)
    with db_session(app) as session:
        rows = session.execute(select(SessionRow)).scalars().all()
    assert {row.staff_id is None for row in rows} == {True, False}
    assert len({len(row.sealed) for row in rows}) == 1


# --- A report sent after minutes of writing ---------------------------------------------


def _commits(app: Flask) -> list[int]:
    """A list that grows by one at each commit of the app's database."""
    from sqlalchemy import event

    from app.db import Database

    database: Database = app.extensions["raazdar.db"]
    counted: list[int] = []
    event.listen(database.engine, "commit", lambda _connection: counted.append(1))
    return counted


def test_a_report_sent_after_minutes_of_writing_commits_once(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five minutes on the form moves the login's idle deadline (re-sealed after a tenth of
    # it): the re-seal was a commit of its own, two flushes of the disk more on the POST.
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    app = make_app()
    client = app.test_client()
    visitor, _codename = signed_in(client)
    page = form(visitor.get("/account"), "/account")
    later.ahead = 5 * 60
    commits = _commits(app)
    visitor.filed(visitor.send(page, "more, after five minutes"))
    assert len(commits) == 1
    # The re-seal went with the report: the deadline is 30 minutes from the report.
    later.ahead = (5 + 29) * 60
    assert is_signed_in(client)


@pytest.mark.parametrize(
    ("message", "choices", "status"),
    [("", {}, 400), ("x", {"agency": "no-such-agency"}, 200)],
    ids=["empty", "invalid-form"],
)
def test_a_report_refused_after_minutes_of_writing_still_moves_the_idle_deadline(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    message: str,
    choices: dict[str, str | list[str]],
    status: int,
) -> None:
    # Refused, by the service (which rolls its transaction back) or by the form: the login's
    # re-seal, which would have gone with the report, is committed on its own.
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    app = make_app()
    client = app.test_client()
    visitor, _codename = signed_in(client)
    page = form(visitor.get("/account"), "/account")
    later.ahead = 5 * 60
    response = visitor.send(page, message, choices=choices)
    assert response.status_code == status
    later.ahead = (5 + 29) * 60
    assert is_signed_in(client)


def test_a_flood_of_first_visits_writes_nothing_on_the_server(app: Flask, instance: Path) -> None:
    """Each new visitor is offered a codename and given a cookie: were either kept on the
    server (a row, a file), a flood of first visits from fresh browsers would grow the
    database and the disk at no cost. The offer lives in the cookie alone."""

    def files() -> dict[str, tuple[int, int]]:
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in instance.rglob("*")
            if p.is_file()
        }

    rows, before = all_rows(app), files()
    for _ in range(20):
        visitor = app.test_client()
        for path in ("/", "/submit", "/submit?new=1", "/login", "/lang/ur", "/account"):
            assert visitor.get(path).status_code in (200, 302, 303)
    assert all_rows(app) == rows, "first visits wrote rows"
    assert files() == before, "first visits wrote files"
