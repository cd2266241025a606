"""A signed-in source never sees a second codename, and a form sent twice files one report."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import circuits, kdf_pool, sessions
from app.models import Item, Source
from app.services import submissions
from tests.app.support import (
    Form,
    Visitor,
    envelope_files,
    form,
    forms,
    row_counts,
    shown_codename,
    staging_files,
)


class _Later:
    """`time` for `app.sessions`, some seconds ahead of the real clock."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


def _reported(visitor: Visitor) -> str:
    page = visitor.start()
    response = visitor.send(page, "The SHO lets the agent's vans through.")
    visitor.filed(response)
    return page.fields["codename"]


def test_back_after_sending_shows_no_new_codename(visitor: Visitor) -> None:
    _reported(visitor)
    # Back in the browser: the submit page is fetched again (it is never cached), and
    # shows her report form in place (a redirect said "has a live login").
    page = visitor.get("/submit")
    assert 'action="/logout"' in page
    assert shown_codename(page) is None


def test_the_form_a_signed_in_source_is_shown_at_submit_files_a_later_report(
    visitor: Visitor, app: Flask
) -> None:
    # Her replies are left to `/account` there, a button away (the page's time said she
    # held a login: test_login_timing.py); what she writes in its form is filed all the same.
    _reported(visitor)
    page = visitor.get("/submit")
    assert '<a class="button" href="/account">' in page
    visitor.filed(visitor.send(form(page, "/account"), "The same vans, a second night."))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}


def test_a_signed_in_source_posting_the_first_form_again_is_not_given_an_account(
    visitor: Visitor, app: Flask
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    # The same form sent again (the answer was lost, or Back and send).
    again = visitor.send(page, "first")
    assert again.status_code == 200
    assert 'class="filed"' in again.get_data(as_text=True)  # confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}


def test_the_same_post_twice_files_one_report(app: Flask, visitor: Visitor) -> None:
    page = visitor.start()
    assert "once" in page.fields
    # The answer to the first POST is lost: the browser keeps its old cookie and retries.
    saved = visitor.client.get_cookie("rz")
    assert saved is not None
    first = visitor.send(page, "The SHO took money.")
    visitor.filed(first)
    visitor.client.set_cookie("rz", saved.value)
    second = visitor.send(page, "The SHO took money.")
    assert second.status_code == 200
    assert 'class="filed"' in second.get_data(as_text=True)  # confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    # ... and the retry is answered with the original confirmation, signed in.
    assert "/logout" in visitor.get("/submitted")


def test_the_same_account_form_twice_files_one_report(app: Flask, visitor: Visitor) -> None:
    _reported(visitor)
    page = form(visitor.get("/account"), "/account")
    assert "once" in page.fields
    visitor.filed(visitor.send(page, "More: the van's number."))
    visitor.filed(visitor.send(page, "More: the van's number."))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}
    # A fresh form is a fresh report.
    page = form(visitor.get("/account"), "/account")
    visitor.filed(visitor.send(page, "And another thing."))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 3}


def test_a_token_of_another_source_tells_nothing(
    app: Flask, visitor: Visitor, make_app: Callable[..., Flask]
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "mine"))
    other = Visitor(app.test_client())
    other.client.get("/lang/en")
    _reported(other)
    theirs = form(other.get("/account"), "/account")
    # Another source replays the first source's one-time token on their own form.
    theirs.fields["once"] = page.fields["once"]
    other.filed(other.send(theirs, "theirs"))
    assert row_counts(app, Source, Item) == {"sources": 2, "items": 3}


def test_back_after_the_session_lapsed_shows_no_new_codename(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client: FlaskClient = make_app().test_client()
    client.get("/lang/en")
    visitor = Visitor(client)
    _reported(visitor)
    later.ahead = 31 * 60
    html = visitor.get("/submit")
    assert shown_codename(html) is None
    assert 'href="/login"' in html
    # Still none on reload: only the visitor's own choice gives a new codename.
    assert shown_codename(visitor.get("/submit")) is None
    fresh = visitor.get("/submit?new=1")
    assert shown_codename(fresh) is not None
    assert any(f.action == "/submit" for f in forms(fresh))


def test_back_after_a_form_sent_past_the_lapse_shows_no_new_codename(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client: FlaskClient = make_app().test_client()
    client.get("/lang/en")
    visitor = Visitor(client)
    page = visitor.start()
    later.ahead = 31 * 60
    # Filed under the codename it shows (tests/app/source/test_long_writing.py) ...
    visitor.filed(visitor.send(page, "late"))
    # ... and the page behind it no longer shows a codename of its own: the account's.
    back = visitor.get("/submit")
    assert 'action="/logout"' in back
    assert shown_codename(back) is None


def test_a_first_visit_still_gets_a_codename(visitor: Visitor) -> None:
    assert shown_codename(visitor.get("/submit")) is not None
    # A reload in the same live session offers one too (tabs; issue 12 keeps a few).
    assert shown_codename(visitor.get("/submit")) is not None


def test_a_form_changed_after_back_is_a_new_report(app: Flask, visitor: Visitor) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    visitor.filed(visitor.send(page, "first, and more I forgot"))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}


def _meeting_before(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """Two requests meet before each one's first call of `module.name`, then go on together.

    Each waits there for the other (or 3 s: a request kept waiting by the other's
    lock never comes, and that is the fix).
    """
    met = threading.Barrier(2)
    first = threading.local()
    call = getattr(module, name)

    def meet(*args: Any, **kwargs: Any) -> Any:
        if not getattr(first, "done", False):
            first.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                met.wait(timeout=3)
        return call(*args, **kwargs)

    monkeypatch.setattr(module, name, meet)


@pytest.fixture
def looking_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests that look for their form's submission both look before either files it."""
    _meeting_before(monkeypatch, submissions, "filed_by")


def _press_send_twice(
    app: Flask, visitor: Visitor, page: Form, message: str, circuit: int | None = None
) -> list[int]:
    """Send pressed twice on a slow link: the same form, from the same browser, at once."""
    cookie = visitor.client.get_cookie("rz")
    assert cookie is not None

    def press_send(_n: int) -> int:
        browser = Visitor(app.test_client())
        browser.client.set_cookie("rz", cookie.value)
        kdf_pool.set_circuit(circuit)  # as `app.worker` says, for this thread's request
        try:
            return browser.send(page, message).status_code
        finally:
            kdf_pool.set_circuit(None)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(press_send, range(2)))


@pytest.mark.usefixtures("looking_at_once")
def test_the_same_account_form_sent_twice_at_once_files_one_report(
    app: Flask, visitor: Visitor
) -> None:
    """Both requests arrive before either is filed: each looks for the form's submission,
    finds none, and must still not file it twice."""
    _reported(visitor)
    page = form(visitor.get("/account"), "/account")
    answers = _press_send_twice(app, visitor, page, "More: the van's number.")
    assert answers == [200, 200]  # both confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}, "filed twice"


@pytest.mark.parametrize("circuit", [None, 77], ids=["circuits-unnamed", "on-a-circuit"])
def test_the_first_form_sent_twice_at_once_makes_one_account_and_one_report(
    app: Flask,
    visitor: Visitor,
    circuit: int | None,
    on_circuit: Callable[[int | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a circuit, the second must not be told that the circuit made an account a
    moment ago, and that nothing was stored: the account is its own, and so is the report.
    Both derive the codename's keys at once, in two slots, and go on together to file the
    form (where its submission is looked for, under the account's lock: `submit`)."""
    _meeting_before(monkeypatch, submissions, "submit")
    if circuit is not None:
        _meeting_before(monkeypatch, circuits, "take_account_turn")
    page = visitor.start()
    answers = _press_send_twice(app, visitor, page, "The SHO took money.", circuit)
    assert answers == [200, 200], "one of the two was refused"
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}


def test_a_long_report_is_serialised_once(
    visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its one-time id and its envelope both need the report's bytes: a 200,000-character
    # report took 0.8 ms of CPU to serialise, and was serialised twice.
    from app.services import submissions

    page = visitor.start()
    serialised: list[object] = []

    def dumps(obj: object, **kwargs: Any) -> str:
        serialised.append(obj)
        return json.dumps(obj, **kwargs)

    monkeypatch.setattr(submissions, "json", SimpleNamespace(dumps=dumps))
    visitor.filed(visitor.send(page, "ایس ایچ او " * 10_000))
    assert len(serialised) == 1


def test_a_first_report_looks_for_its_form_once(
    app: Flask, visitor: Visitor, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new source's first form was looked for by the view, then again under the new
    account's lock, where alone it decides: a statement more on every first report's path.
    Sent again, the same form is still answered as filed, signed in as the codename that
    filed it, and files and leaves nothing."""
    looks: list[str] = []
    real = submissions.filed_by

    def counted(session: Any, submission_id: str) -> str | None:
        looks.append(submission_id)
        return real(session, submission_id)

    monkeypatch.setattr(submissions, "filed_by", counted)
    page = visitor.start()
    message, files = "The SHO took money.", [("files", "v.txt", b"LEA-1", "text/plain")]
    visitor.filed(visitor.send(page, message, files))
    assert len(looks) == 1, f"a first report looked for its form's submission {len(looks)} times"
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}
    stored = envelope_files(instance)
    again = visitor.send(page, message, files)  # Back and send: its answer was lost
    assert again.status_code == 200
    assert 'class="filed"' in again.get_data(as_text=True)  # confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}
    assert envelope_files(instance) == stored
    assert staging_files(instance) == []
    assert visitor.get("/account")


def test_a_report_from_the_account_page_looks_for_its_form_once(
    app: Flask, visitor: Visitor, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account form's submission was looked for before the report was sealed, then again
    under the account's lock: two statements on every follow-up's path where the second
    alone decides (a form sent twice at once passes the first in both requests)."""
    _reported(visitor)
    looks: list[str] = []
    real = submissions.filed_by

    def counted(session: Any, submission_id: str) -> str | None:
        looks.append(submission_id)
        return real(session, submission_id)

    monkeypatch.setattr(submissions, "filed_by", counted)
    page = form(visitor.get("/account"), "/account")
    message, files = "More: the van's number.", [("files", "v.txt", b"LEA-1", "text/plain")]
    visitor.filed(visitor.send(page, message, files))
    assert len(looks) == 1, f"one report looked for its form's submission {len(looks)} times"
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 3}
    # Sent again, it is still answered as filed, and files and leaves nothing: its report's
    # envelope, sealed before the look now, is discarded with its file's.
    stored = envelope_files(instance)
    again = visitor.send(page, message, files)
    assert again.status_code == 200
    assert 'class="filed"' in again.get_data(as_text=True)  # confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 3}
    assert envelope_files(instance) == stored
    assert staging_files(instance) == []


@pytest.mark.parametrize("which", ["first", "later"])
def test_a_filed_form_sent_again_after_logging_out_gives_no_words_back(
    app: Flask, visitor: Visitor, which: str
) -> None:
    # A report filed is confirmed in place, so its POST stays in the tab's history. A phone
    # taken before New Identity: Back to it, and the browser offers to send it again. Sent
    # after logging out, its token stale, it was a form given back, the report's words in it.
    words = f"The SHO of Thana Saddar {secrets.token_hex(4)} sold the papers of the girls."
    page = visitor.start()
    if which == "later":
        visitor.filed(visitor.send(page, "first"))
        page = form(visitor.get("/account"), "/account")
    visitor.filed(visitor.send(page, words))
    visitor.log_out()
    again = visitor.send(page, words)
    shown = again.get_data(as_text=True)
    assert words not in shown, "the words of a filed report came back to whoever sent it again"
    assert 'class="filed"' in shown
    assert row_counts(app, Item) == {"items": 2 if which == "later" else 1}
