"""App hosts on one database share one run key: a code spent on one is spent on all,
and failures on each count together, yet a copy of the database still dates nothing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from sqlalchemy import text

from app import runkey, runshare
from app.models import RunHost, RunKeyOffer
from app.services import staff as staff_service
from crypto import PrivateKey, verify_password
from crypto.constants import PERSON_RUN_HOST
from tests.app.staff_support import PASSWORD, fresh_code, make_staff, staff_client, submit_login
from tests.app.support import db_session, row_counts
from tests.app.test_runkey import _dated


class Hosts:
    """Two app hosts in one test process: each has its own run key, as each has its own
    gunicorn master; `on(n)` makes what follows run on host n."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]) -> None:
        self._monkeypatch = monkeypatch
        now = time.time()
        # Both up for a while: a run begun long ago no longer doubts a tag it cannot read.
        self._keys = [f"{secrets.token_hex(32)}:{now - age:.0f}" for age in (3600, 1800)]
        self.apps: list[Flask] = []
        for n in range(2):
            self.on(n)
            self.apps.append(make_app(STAFF_LOGIN_FAILURES=3))

    def on(self, n: int) -> Flask:
        self._monkeypatch.setenv(runkey.ENV, self._keys[n])
        return self.apps[n] if n < len(self.apps) else Flask(__name__)


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]) -> Hosts:
    return Hosts(monkeypatch, make_app)


def test_a_code_spent_on_one_host_is_refused_on_the_other(hosts: Hosts) -> None:
    """Behind Onionbalance each host had a run key of its own, so the tag one host wrote
    for a spent code was one the other could not read: a code seen once (over a shoulder,
    by a keylogger, on a screen share) logged in again on the other host."""
    alice = make_staff(hosts.apps[0], "alice")
    code = fresh_code(hosts.apps[0], alice)
    assert submit_login(staff_client(hosts.on(0)), "alice", PASSWORD, code).status_code == 303
    replay = submit_login(staff_client(hosts.on(1)), "alice", PASSWORD, code)
    assert replay.status_code == 401, "a code spent on one host logged in again on the other"


def test_codes_tried_on_two_hosts_count_together(hosts: Hosts) -> None:
    """Each host counted failures under its own key, and each began the count again when
    it found the other's: wrong codes sent to the hosts in turn were never throttled, and
    the right code still logged in after any number of wrong ones."""
    alice = make_staff(hosts.apps[0], "alice")
    for attempt in range(6):
        client = staff_client(hosts.on(attempt % 2))
        assert submit_login(client, "alice", PASSWORD, "123456").status_code == 401
    for n in (0, 1):
        right = submit_login(
            staff_client(hosts.on(n)), "alice", PASSWORD, fresh_code(hosts.apps[0], alice)
        )
        assert right.status_code == 401, "six codes tried on two hosts, and no throttle (limit 3)"


def test_a_code_spent_on_a_new_host_before_it_met_the_others_is_refused_on_them(
    hosts: Hosts,
) -> None:
    """A host that has not yet taken up the shared key spends codes under its own: the
    others cannot read that tag, and since they have just met that host, they refuse."""
    make_staff(hosts.apps[0], "bob")
    alice = make_staff(hosts.apps[0], "alice")
    # Host 0 is up and has been used; host 1 has not met it yet.
    submit_login(staff_client(hosts.on(0)), "bob", PASSWORD, "123456")
    code = fresh_code(hosts.on(1), alice)
    assert submit_login(staff_client(hosts.apps[1]), "alice", PASSWORD, code).status_code == 303
    replay = submit_login(staff_client(hosts.on(0)), "alice", PASSWORD, code)
    assert replay.status_code == 401, "a code spent on a new host logged in again on an old one"


def test_the_hosts_take_up_the_oldest_runs_key(hosts: Hosts) -> None:
    for n in (0, 1, 0, 1):
        hosts.on(n)
        with hosts.apps[n].app_context(), db_session(hosts.apps[n]) as session:
            runshare.exchange(session)
    keys = []
    for n in (0, 1):
        hosts.on(n)
        keys.append(runkey.current().key)
    hosts.on(0)
    assert keys == [runkey.own().key] * 2


def test_a_seized_database_holds_no_run_key_and_dates_no_run(hosts: Hosts) -> None:
    """What passes the run key between hosts is sealed to each run's key pair, which is
    made from the run key itself, in memory: a copy of the database cannot open it."""
    for n in (0, 1, 0):
        hosts.on(n)
        with hosts.apps[n].app_context(), db_session(hosts.apps[n]) as session:
            runshare.exchange(session)
    key = runkey.current().key
    with db_session(hosts.apps[0]) as session:
        rows = [
            *session.execute(text("SELECT * FROM run_hosts")).all(),
            *session.execute(text("SELECT * FROM run_key_offers")).all(),
        ]
    values = [value for row in rows for value in row]
    assert len(rows) == 4  # two runs, and an offer from each to the other
    assert [v for v in values if _dated(v)] == []
    assert not any(key.hex() in str(v) or str(int(key.hex(), 16)) in str(v) for v in values)
    # Opened with any key but a run's own, an offer says nothing.
    stranger = PrivateKey.derive(secrets.token_bytes(32), PERSON_RUN_HOST)
    offers = [row for row in rows if len(row) == 3]
    assert all(runshare._open(stranger, h, o, s) is None for h, o, s in offers)


def test_runs_long_ended_do_not_pile_up(hosts: Hosts) -> None:
    """Every start of a host registers a run, and every live run offers its key to each:
    past `MAX_RUNS`, a new run empties the tables, and the live ones come back."""
    with db_session(hosts.apps[0]) as session:
        for _ in range(runshare.MAX_RUNS):
            session.add(RunHost(host=PrivateKey.generate().public_key.raw.hex()))
        session.commit()
    for n in (0, 1, 0, 1):
        hosts.on(n)
        with hosts.apps[n].app_context(), db_session(hosts.apps[n]) as session:
            runshare.exchange(session)
    assert row_counts(hosts.apps[0], RunHost, RunKeyOffer) == {
        "run_hosts": 2,
        "run_key_offers": 2,
    }
    shared = runkey.current().key
    hosts.on(0)
    assert shared == runkey.own().key  # host 1 took up host 0's key


def test_a_code_spent_on_a_new_host_as_an_old_one_meets_it_is_refused_there(
    hosts: Hosts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Host 1's first login looked for offered keys before host 0 met it and offered one, so
    it spent the code under its own key; host 0 met it a second before a 30-second step
    ended, and from two steps on took a tag it cannot read for an old one: the code, for
    the step after the one it was spent in (the drift allows it), logged in on host 0."""
    make_staff(hosts.apps[0], "bob")
    alice = make_staff(hosts.apps[0], "alice")
    submit_login(staff_client(hosts.on(0)), "bob", PASSWORD, "123456")  # host 0 is in use
    boundary = (int(time.time()) // 30 + 2) * 30
    clock = [boundary - 3.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    checking = verify_password

    def host_0_meets_host_1(encoded: str, password: str) -> bool:
        # While host 1 checks the password, host 0 logs someone in and so meets host 1.
        clock[0] = boundary - 1.0
        hosts.on(0)
        with hosts.apps[0].app_context(), db_session(hosts.apps[0]) as session:
            runshare.exchange(session)
        hosts.on(1)
        clock[0] = boundary + 1.0
        return checking(encoded, password)

    monkeypatch.setattr(staff_service, "verify_password", host_0_meets_host_1)
    code = pyotp.TOTP(alice.secret).generate_otp(boundary // 30 + 1)
    assert submit_login(staff_client(hosts.on(1)), "alice", PASSWORD, code).status_code == 303
    monkeypatch.setattr(staff_service, "verify_password", checking)
    clock[0] = boundary + 2.0
    replay = submit_login(staff_client(hosts.on(0)), "alice", PASSWORD, code)
    assert replay.status_code == 401, "a code spent on a new host logged in again on an old one"
