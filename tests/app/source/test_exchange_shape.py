"""What the shape of a source's exchange says: how many answers, and how many cells each.

The pages are padded to one size (test_page_classes.py), but a guard relay, the
source's ISP or a seized server's traffic log also counts the answers: a redirect
and a second page where another state has one page tells the states apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from app import sessions
from app.models import Item, Reply
from crypto import generate_codename
from tests.app.support import (
    ClockAhead,
    Visitor,
    db_session,
    deletion,
    form,
    reply_to,
    reviewer_keys,
    row_counts,
    turn,
)

# What one Tor cell carries of a stream.
CELL = 498


def _bytes(response: TestResponse) -> int:
    """The answer as it goes over the stream: status line, headers and body."""
    head = len(f"HTTP/1.1 {response.status}\r\n\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    return head + len(response.get_data())


def _shape(visitor: Visitor, response: TestResponse) -> list[int]:
    """The cells of an answer and of each the browser fetches after it on its own."""
    seen = [-(-_bytes(response) // CELL)]
    while response.status_code in (301, 302, 303, 307, 308):
        response = visitor.client.get(response.headers["Location"])
        seen.append(-(-_bytes(response) // CELL))
    return seen


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


def _signed_in(app: Flask) -> Visitor:
    visitor = Visitor(app.test_client())
    sent = visitor.send(visitor.start(), "first")
    assert sent.status_code in (200, 303)
    return visitor


def test_a_first_report_filed_and_one_refused_take_the_same_answers(app: Flask) -> None:
    # Filed: 303 to /submitted and a second page; refused (here: a codename written in it),
    # the form given back in place. One answer against two said which.
    text = "The SHO at the city thana lets the agent's vans through at night. " * 20
    filed, refused = Visitor(app.test_client()), Visitor(app.test_client())
    sent = filed.send(filed.start(), text)
    shapes = {"filed": _shape(filed, sent)}
    shapes["refused"] = _shape(
        refused, refused.send(refused.start(), f"{text} {generate_codename()}")
    )
    assert shapes["filed"] == shapes["refused"], f"the answers say the report was filed: {shapes}"
    assert row_counts(app, Item) == {"items": 1}


def test_a_later_report_filed_and_one_refused_take_the_same_answers(app: Flask) -> None:
    text = "The SHO at the city thana lets the agent's vans through at night. " * 20
    visitor = _signed_in(app)
    page = form(visitor.get("/account"), "/account")
    shapes = {"refused": _shape(visitor, visitor.send(page, f"{text} {generate_codename()}"))}
    page = form(visitor.get("/account"), "/account")
    shapes["filed"] = _shape(visitor, visitor.send(page, text))
    assert shapes["filed"] == shapes["refused"], f"the answers say the report was filed: {shapes}"


def test_the_account_and_confirmation_pages_do_not_say_whether_a_login_is_held(
    app: Flask,
) -> None:
    # A visitor with no login was sent to /login with a 302 and a second answer, where a
    # signed-in source got one: one request to a bookmark told who holds a live login.
    stranger, source = Visitor(app.test_client()), _signed_in(app)
    for path in ("/account", "/submitted"):
        shapes = {
            "no login": _shape(stranger, stranger.client.get(path)),
            "signed in": _shape(source, source.client.get(path)),
        }
        assert shapes["no login"] == shapes["signed in"], f"{path} says who is signed in: {shapes}"


def _exchange(visitor: Visitor, response: TestResponse) -> tuple[int, ...]:
    """The bytes of an answer and of each the browser fetches after it on its own."""
    seen = [_bytes(response)]
    while response.status_code in (301, 302, 303, 307, 308):
        response = visitor.client.get(response.headers["Location"])
        seen.append(_bytes(response))
    return tuple(seen)


def _visitors(app: Flask, instance: Path, later: ClockAhead, lang: str) -> dict[str, Visitor]:
    """A source in each state a GET may find her in, reading `lang`."""
    seen = {name: Visitor(app.test_client()) for name in ("new", "signed in", "replied", "lapsed")}
    for name, visitor in seen.items():
        visitor.client.get(f"/lang/{lang}")
        if name != "new":
            page = visitor.start()
            visitor.filed(visitor.send(page, "The SHO lets the vans through."))
        if name == "replied":
            signer = reviewer_keys(instance).signing
            assert signer is not None
            for text in ("Which police station?", "Meet us at the court gate. " * 40):
                reply_to(app, page.fields["codename"], text, signer, written=dt.date.today())
    later.ahead = 31 * 60  # the login lapsed
    seen["lapsed"].get("/submit")
    later.ahead = 0
    return seen


def test_every_source_get_is_one_answer_of_one_size_whoever_asks(
    app: Flask, instance: Path, later: ClockAhead
) -> None:
    # A gate over `app.url_map`: each source GET, in each language, for a new visitor, a
    # signed-in source with and without replies and one whose login lapsed, is one answer
    # of one size (redirects followed). The padding weighed pages, not how many a GET took:
    # /account and /submitted answered a visitor with no login 302 and a second page.
    exchanges: dict[tuple[int, ...], list[str]] = {}
    switches: dict[tuple[int, ...], list[str]] = {}
    for lang in ("en", "ur"):
        for who, visitor in _visitors(app, instance, later, lang).items():
            for rule in app.url_map.iter_rules():
                if not rule.endpoint.startswith("source.") or "GET" not in (rule.methods or ()):
                    continue
                if rule.endpoint == "source.keys_json":
                    continue  # the public keyring for programs: one document for everyone
                built = rule.build({"code": lang}, append_unknown=False)
                assert built is not None
                path = built[1]
                if rule.endpoint == "source.set_language":
                    # The header's link: back to the page it was on, for everyone alike.
                    path = f"{path}?next=/account"
                    seen = switches
                else:
                    seen = exchanges
                shape = _exchange(visitor, visitor.client.get(path))
                seen.setdefault(shape, []).append(f"{lang} {who} {path}")
                visitor.client.get(f"/lang/{lang}")
            shape = _exchange(visitor, visitor.client.get("/no-such-page"))
            exchanges.setdefault(shape, []).append(f"{lang} {who} 404")
    assert len(exchanges) == 1, f"a GET's answers say who asks, or what: {exchanges}"
    assert len(switches) == 1, f"the language switch says who asks: {switches}"
    assert len(next(iter(exchanges))) == 1, "a GET takes more than one answer"


_TEXT = "The SHO at the city thana lets the agent's vans through at night. " * 20


def _first_reports(app: Flask) -> dict[str, tuple[int, ...]]:
    """A first report's answers as filed, refused (a codename in it), stale and switched."""
    seen = {}
    for name in ("filed", "refused", "stale", "switched"):
        visitor = Visitor(app.test_client())
        visitor.client.get("/lang/en")
        page = visitor.start()
        text = f"{_TEXT} {generate_codename()}" if name == "refused" else _TEXT
        if name == "stale":
            page.fields["csrf_token"] = "stale"
        if name == "switched":
            sent = visitor.client.post(
                "/submit", data={**page.fields, "message": text, "switch_lang": "en"}
            )
        else:
            sent = visitor.send(page, text)
        seen[name] = _exchange(visitor, sent)
    return seen


def _later_reports(app: Flask, instance: Path) -> dict[str, tuple[int, ...]]:
    """A later report's answers: filed, refused, a page of replies turned, after its login
    ended, and sent again with the right and with a wrong codename."""
    seen = {}
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    first = visitor.start()
    visitor.filed(visitor.send(first, "first"))
    for name in ("filed", "refused"):
        page = form(visitor.get("/account"), "/account")
        text = f"{_TEXT} {generate_codename()}" if name == "refused" else _TEXT
        seen[name] = _exchange(visitor, visitor.send(page, text))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for n in range(40):  # two pages of replies, or more
        reply_to(app, first.fields["codename"], f"Question {n}: which thana? " * 8, signer)
    # A page of replies is asked for with the report's form, what was written in it given
    # back: in the body, not the address (`app.source.views._turned_page`).
    earlier = turn(visitor.get("/account"), "earlier")
    assert earlier is not None
    sent = visitor.client.post("/account", data={**earlier.fields, "message": _TEXT})
    seen["turned a page"] = _exchange(visitor, sent)
    page = form(visitor.get("/account"), "/account")
    visitor.log_out()
    visitor.client.get("/lang/en")
    ended = visitor.send(page, _TEXT)
    shown = ended.get_data(as_text=True)
    for name, codename in (("wrong", generate_codename()), ("right", first.fields["codename"])):
        again = form(shown, "/account")
        again.fields["codename"] = codename
        seen[f"codename {name}"] = _exchange(visitor, visitor.send(again, _TEXT))
    return seen


def _logins(app: Flask) -> dict[str, tuple[int, ...]]:
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    visitor.log_out()
    seen = {}
    words = page.fields["codename"].split()
    typed = {"right": page.fields["codename"], "wrong": generate_codename()}
    typed["mistyped"] = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "zesty"])
    for name, codename in typed.items():
        someone = Visitor(app.test_client())
        someone.client.get("/lang/en")
        seen[name] = _exchange(someone, someone.log_in(codename))
    return seen


def _deletions(app: Flask, instance: Path, later: ClockAhead) -> dict[str, tuple[int, ...]]:
    """Deleting a reply, signed in and once the login has ended."""
    seen = {}
    for name in ("signed in", "login ended"):
        visitor = Visitor(app.test_client())
        visitor.client.get("/lang/en")
        page = visitor.start()
        visitor.filed(visitor.send(page, "first"))
        signer = reviewer_keys(instance).signing
        assert signer is not None
        reply = reply_to(app, page.fields["codename"], "Which station?", signer)
        delete = deletion(visitor.get("/account"), reply)
        later.ahead = 31 * 60 if name == "login ended" else 0
        seen[name] = _exchange(visitor, visitor.client.post(delete.action, data=delete.fields))
        later.ahead = 0
    return seen


def test_a_reply_deleted_already_is_answered_as_a_deletion_is(app: Flask, instance: Path) -> None:
    # "Delete this reply" pressed twice on a slow link, or in a second tab: the second press
    # was answered 404, one page where a deletion takes a 303 and the account page, so the
    # count of answers said the reply was gone already. Another source's reply id, too.
    signer = reviewer_keys(instance).signing
    assert signer is not None
    owner, visitor = Visitor(app.test_client()), Visitor(app.test_client())
    codenames = []
    for someone in (owner, visitor):
        page = someone.start()
        someone.filed(someone.send(page, "first"))
        codenames.append(page.fields["codename"])
    theirs = reply_to(app, codenames[0], "For the first source only.", signer)
    mine = reply_to(app, codenames[1], "Which station?", signer)
    delete = deletion(visitor.get("/account"), mine)
    seen = {"deleted": _exchange(visitor, visitor.client.post(delete.action, data=delete.fields))}
    sent_again = visitor.client.post(delete.action, data=delete.fields)
    seen["deleted already"] = _exchange(visitor, sent_again)
    other = {**delete.fields, "reply": theirs}
    seen["another's reply"] = _exchange(visitor, visitor.client.post(delete.action, data=other))
    assert len(set(seen.values())) == 1, f"a deletion's answers say what came of it: {seen}"
    with db_session(app) as session:
        assert session.get(Reply, mine) is None
        assert session.get(Reply, theirs) is not None, "a source deleted another's reply"


def test_every_source_post_is_answered_alike_whatever_came_of_it(
    app: Flask, instance: Path, later: ClockAhead
) -> None:
    # A gate over `app.url_map`'s source POSTs: each is weighed in every outcome a watcher
    # must not tell apart. A POST added later fails here until it is weighed too.
    weighed: dict[str, Callable[[Flask], dict[str, tuple[int, ...]]]] = {
        "source.submit": _first_reports,
        "source.account": lambda app: _later_reports(app, instance),
        "source.login": _logins,
        "source.delete_reply": lambda app: _deletions(app, instance, later),
    }
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("source.") and "POST" in (rule.methods or ())
    }
    # Logging out is one exchange for everyone: its answer clears the cookie whoever asks.
    assert posts - {"source.logout"} == set(weighed), "a source POST is not weighed here"
    for endpoint, outcomes in weighed.items():
        seen = outcomes(app)
        shapes: dict[tuple[int, ...], list[str]] = {}
        for name, shape in seen.items():
            shapes.setdefault(shape, []).append(name)
        assert len(shapes) == 1, f"{endpoint}'s answers say what came of it: {shapes}"


def _requests_to_read(visitor: Visitor, newest: str) -> int:
    """How many pages a source loads to read `newest`, following the replies' links."""
    loaded = [visitor.get("/account")]
    while newest not in loaded[-1] and len(loaded) < 20:
        later = turn(loaded[-1], "later")
        assert later is not None, "the newest reply is on no page"
        response = visitor.client.post("/account", data={**later.fields, "message": ""})
        loaded.append(response.get_data(as_text=True))
    return len(loaded)


def test_the_newest_reply_takes_one_request_however_many_came_before(
    app: Flask, instance: Path
) -> None:
    # The account page showed the oldest replies first: to read what the reviewers wrote
    # last, a source loaded one page more for every page of replies before it, and the
    # number of requests of her visit said how much they had written.
    signer = reviewer_keys(instance).signing
    assert signer is not None
    counts = {}
    for many in (1, 40):
        visitor = Visitor(app.test_client())
        page = visitor.start()
        visitor.filed(visitor.send(page, "first"))
        for n in range(many):
            text = f"Question {n}: which thana, and who else was there? " * 8
            reply_to(app, page.fields["codename"], text, signer, written=dt.date.today())
        with db_session(app) as session:  # came days before (one day's replies have no order)
            session.execute(update(Reply).values(received_day=dt.date.today() - dt.timedelta(3)))
            session.commit()
        newest = f"The newest of {many}: meet us at the court gate."
        reply_to(app, page.fields["codename"], newest, signer, written=dt.date.today())
        counts[many] = _requests_to_read(visitor, newest)
    assert counts == {1: 1, 40: 1}, (
        f"the requests to read the newest reply count the rest: {counts}"
    )
