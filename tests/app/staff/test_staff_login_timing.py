"""What a refused staff login's timing tells whoever times it: nothing of why it was refused.

Whoever holds one staff device's onion key can send logins under any name, as often
as the staff's slot lets them. Every refusal answers alike and writes alike
(test_staff_login_writes.py), but after the password's hash a right password did
more: its code counted, the account's secret opened and the code tried, where a wrong
one wrote two stand-in counts and was done; throttled, it still read the counts. Some
10 ms more under load (`tests/bench/staff_login_timing.py`), with no limit on how
often it could be timed once the account was throttled: a leaked or reused password
was confirmed without the code. So every refusal does the same work after the hash,
on stand-ins where the real ones are not to be touched.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import event

from app import reviewer_accounts
from app.db import db_session as request_db_session
from app.services import staff as staff_service
from crypto import KdfParams, hash_password, verify_password
from tests.app.staff_support import PASSWORD, STAFF_ENVIRON, make_staff
from tests.app.support import db_session

# Why each login is refused: the name it gives, and whether its password is the right one.
KINDS = {
    "wrong password": ("alice", False),
    "no such name": ("nobody", False),
    "right password, wrong code": ("alice", True),
    "right password, throttled": ("bob", True),
    "right password, throttled before enrolling": ("dave", True),
    "locked account": ("carol", True),
}
# Alternating logins timed: enough for steady quartiles, few for the suite's time.
_ROUNDS = 12
_WRONG_CODE = "000000"


def _refused(app: Flask, name: str, right: bool) -> None:
    """One login `authenticate` refuses: `right` gives the account's password."""
    password = PASSWORD if right else f"{PASSWORD} not"
    with app.test_request_context("/staff/login", environ_base=STAFF_ENVIRON):
        login = staff_service.authenticate(request_db_session(), name, password, _WRONG_CODE)
    assert login is None, name


def _people(app: Flask) -> None:
    """Alice, bob throttled for his codes, carol locked, dave throttled before enrolling."""
    make_staff(app, "alice")
    make_staff(app, "bob")
    make_staff(app, "carol")
    make_staff(app, "dave", enrolled=False)
    with db_session(app) as session, app.app_context():
        reviewer_accounts.lock_account(session, staff_service.get_account(session, "carol"))
        session.commit()
    for _ in range(int(app.config["STAFF_LOGIN_FAILURES"])):
        _refused(app, "bob", True)
    with app.test_request_context("/staff/login", environ_base=STAFF_ENVIRON):
        session = request_db_session()
        first = staff_service.authenticate(session, "dave", PASSWORD, "")
        assert first is not None
        assert first.enrolment is not None
        for _ in range(int(app.config["STAFF_LOGIN_FAILURES"])):
            assert not staff_service.confirm_enrolment(
                session, first.account, first.enrolment, _WRONG_CODE
            )


@contextmanager
def _steps_seen(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What a login does, in order: each statement, each commit and rollback, each
    password hashed, each secret opened and each code computed to compare."""
    engine = app.extensions["raazdar.db"].engine
    seen: list[str] = []
    hashed, opened = verify_password, staff_service._open
    computed = pyotp.OTP.generate_otp

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    def written(_conn: Any, cursor: Any, sql: str, *_args: Any) -> None:
        # A commit whose statements changed no row writes nothing to the WAL, and waits on
        # no disk: the rows each write changed are the work too.
        if sql.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(f"{cursor.rowcount} rows")

    def hashing(encoded: str, password: str) -> bool:
        seen.append("hash")
        return hashed(encoded, password)

    def opening(sealed: str | None) -> str | None:
        seen.append("open the secret")
        return opened(sealed)

    def computing(otp: pyotp.OTP, step: int) -> str:
        seen.append("compute a code")
        return computed(otp, step)

    monkeypatch.setattr(staff_service, "verify_password", hashing)
    monkeypatch.setattr(staff_service, "_open", opening)
    monkeypatch.setattr(pyotp.OTP, "generate_otp", computing)
    ends = {"commit": lambda _conn: seen.append("COMMIT")}
    ends["rollback"] = lambda _conn: seen.append("ROLLBACK")
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "after_cursor_execute", written)
    for name, listener in ends.items():
        event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "after_cursor_execute", written)
        for name, listener in ends.items():
            event.remove(engine, name, listener)
        monkeypatch.undo()


def _after_the_hash(steps: list[str]) -> list[str]:
    assert steps.count("hash") == 1, steps
    return steps[steps.index("hash") + 1 :]


def test_every_refused_login_does_the_same_work_after_the_hash(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(app)
    for name, right in KINDS.values():
        _refused(app, name, right)  # the first of each warms what is cached
    done: dict[str, list[str]] = {}
    for kind, (name, right) in KINDS.items():
        with _steps_seen(app, monkeypatch) as steps:
            _refused(app, name, right)
        done[kind] = _after_the_hash(steps)
    wrong = done["wrong password"]
    told = [
        f"{kind}: {len(steps)} steps after the hash to a wrong password's {len(wrong)},"
        f" first unlike: {next((s for s, w in zip(steps, wrong, strict=False) if s != w), '')!r}"
        for kind, steps in done.items()
        if steps != wrong
    ]
    assert not told, f"a refused login's work says why it was refused: {told}"


def _usual(times: list[float]) -> float:
    """The first quartile, in milliseconds: what the work itself takes (other jobs on the
    machine only ever slow a login, `tests/app/source/test_login_timing.py`)."""
    return statistics.quantiles(times, n=4)[0] * 1000


def test_a_right_password_takes_as_long_after_the_hash_as_a_wrong_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The processor's time of this thread from the hash's end to the refusal: the hash
    # costs the same for every one (`crypto.unmatchable_hash`), and what follows it is
    # what told them apart. Processor time: other jobs on a shared machine barely move it.
    # Not the clock's: a commit's wait on a shared disk took the same login anywhere from
    # 11 to 74 ms at a load of 17, too wide to judge in a few seconds; the disk's share,
    # what each commit writes, is held by the rows each statement changed (above).
    _people(app)
    hashed_at: list[float] = []

    def hashing(encoded: str, password: str) -> bool:
        verdict = verify_password(encoded, password)
        hashed_at.append(time.thread_time())
        return verdict

    monkeypatch.setattr(staff_service, "verify_password", hashing)
    # Alice's codes are never throttled here (each of her logins counts one); bob's are.
    limits = {k: app.config[k] for k in ("STAFF_LOGIN_FAILURES", "STAFF_LOGIN_DAILY_FAILURES")}
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for round_ in range(_ROUNDS + 1):
        for kind, (name, right) in KINDS.items():
            app.config.update({k: 10**9 for k in limits} if name == "alice" else limits)
            _refused(app, name, right)
            if round_:  # the first of each warms what is cached
                times[kind].append(time.thread_time() - hashed_at[-1])
    app.config.update(limits)
    wrong = _usual(times["wrong password"])
    # Generous: a machine shared with other jobs slows each alike, the ratio stays. Either
    # way: a refusal quicker than a wrong password's names itself as well as a slower one.
    told = [
        f"{kind}: {_usual(took):.2f} ms, a wrong password {wrong:.2f} ms"
        for kind, took in times.items()
        if max(_usual(took), wrong) > 1.5 * min(_usual(took), wrong) + 0.5
    ]
    assert not told, f"the time after the hash says the password was right: {told}"


def test_a_hash_of_older_costs_is_made_again_only_behind_both_factors(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a rise in costs an account's hash is made again at its next login (PROTOCOL
    # §15). Made again behind the right password alone, its hash and its write would
    # say the password was right to whoever has no code.
    _people(app)
    monkeypatch.setattr(staff_service, "needs_rehash", lambda encoded, cost: True)
    with db_session(app) as session, app.app_context():
        before = staff_service.get_account(session, "alice").password_hash
    _refused(app, "alice", True)
    with db_session(app) as session, app.app_context():
        after = staff_service.get_account(session, "alice").password_hash
    assert after == before, "a right password with a wrong code made its hash again"


def test_a_login_under_a_name_hashed_at_older_costs_hashes_as_an_unknown_names_does(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a rise in costs an account keeps its hash of the old ones until its owner's
    # next full login (PROTOCOL §15). Checked at those costs alone, a login under its name
    # took the old cost's time and one under an unknown name today's: timing a wrong
    # password said which names had an account, and that each was older than the rise.
    _people(app)
    with app.app_context():
        today = reviewer_accounts.password_cost()
    older = KdfParams(today.ops + 1, today.mem)
    with db_session(app) as session, app.app_context():
        account = staff_service.get_account(session, "alice")
        account.password_hash = hash_password(PASSWORD, older)
        session.commit()
    hashed: list[str] = []

    def hashing(encoded: str, password: str) -> bool:
        hashed.append(encoded.split("$")[3])  # the costs it names: m=…,t=…,p=…
        return verify_password(encoded, password)

    monkeypatch.setattr(staff_service, "verify_password", hashing)
    done: dict[str, list[str]] = {}
    for name in ("alice", "nobody"):
        hashed.clear()
        _refused(app, name, False)
        done[name] = sorted(hashed)
    assert done["alice"] == done["nobody"], (
        f"a name hashed at older costs was checked at {done['alice']}, an unknown name at"
        f" {done['nobody']}"
    )
