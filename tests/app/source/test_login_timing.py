"""What a login's timing tells whoever times it: the same work for a right codename and a wrong one.

A guard relay, the source's own ISP, or whoever watches a seized server live sees
when a login's `POST` goes and when its answer, and the page after it, come back. A
right codename wrote and committed its login row (and its account's day, in a commit
of its own) and led to the account page, its report form rendered with every
category and district; a wrong one wrote nothing and led to the small login page. On
SQLite with the test derivation a right login took 29 ms to a wrong one's 11 (the
`POST` 13 against 6, the page after it 16 against 5): timed over many logins of one
circuit, it said which worked, and to a live server's watcher whether a codename had
an account.
"""

from __future__ import annotations

import statistics
import time

from flask import Flask

from app.models import SessionRow
from crypto import generate_codename
from tests.app.support import Visitor, form, row_counts

# Alternating logins timed: enough for steady medians, few for the suite's time.
_ROUNDS = 12


def _timed_login(app: Flask, codename: str) -> tuple[float, float]:
    """Seconds from a login's `POST` to its answer closed, and for the page it leads to."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    fields = form(visitor.get("/login"), "/login").fields
    started = time.perf_counter()
    # Closed, as the server closes an answer before the next request of its connection:
    # what comes after it (the WAL emptied) delays the page the redirect leads to.
    answer = visitor.client.post("/login", data={**fields, "codename": codename})
    answered = time.perf_counter()
    page = visitor.client.get(answer.headers["Location"])
    shown = time.perf_counter()
    assert ('action="/logout"' in page.get_data(as_text=True)) is not None, codename
    return answered - started, shown - answered


def test_a_right_codename_takes_as_long_as_a_wrong_one(app: Flask, visitor: Visitor) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
    visitor.log_out()
    right: list[tuple[float, float]] = []
    wrong: list[tuple[float, float]] = []
    _timed_login(app, page.fields["codename"])  # the first of each warms what is cached
    for _ in range(_ROUNDS):
        right.append(_timed_login(app, page.fields["codename"]))
        wrong.append(_timed_login(app, generate_codename()))
    told = []
    for step, name in enumerate(("the login's answer", "the page after it")):
        slow = statistics.median(t[step] for t in right) * 1000
        fast = statistics.median(t[step] for t in wrong) * 1000
        # Generous: a machine shared with other jobs slows both alike, the ratio stays.
        if slow > 1.5 * fast + 2:
            told.append(f"{name}: {slow:.1f} ms right, {fast:.1f} ms wrong")
    assert not told, f"a login's timing says the codename worked: {told}"
    # The wrong codenames' rows were written and deleted: the right ones' alone are left.
    assert row_counts(app, SessionRow) == {"sessions": _ROUNDS + 1}
