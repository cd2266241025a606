"""A new account draws its designation again when the one drawn is taken, longer once two
words are all taken."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app import db as app_db
from app.models import Source
from app.services import sources
from crypto.codename import generate_codename, random_words
from tests.app.api_support import ApiClient
from tests.app.support import Visitor, db_session
from tests.app.test_query_plans import statements


def _report(app: Flask) -> None:
    client = app.test_client()
    client.get("/lang/en")
    visitor = Visitor(client)
    visitor.filed(visitor.send(visitor.start(), "the SHO"))


def test_a_designation_already_taken_is_drawn_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(app)
    with db_session(app) as session:
        (taken,) = session.execute(select(Source.designation)).scalars()
    draws: Iterator[str] = iter([taken, "Fresh Name"])
    monkeypatch.setattr(sources, "new_designation", lambda _draw=0: next(draws))
    _report(app)
    with db_session(app) as session:
        names = sorted(session.execute(select(Source.designation)).scalars())
    assert names == sorted([taken, "Fresh Name"])


def _two_word_designations_used_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every two-word draw names the one designation there is (as though a flood had taken
    the other 60 million); longer draws are drawn as ever."""
    monkeypatch.setattr(
        sources,
        "random_words",
        lambda count: ["Amber", "Basil"] if count == 2 else random_words(count),
    )


def test_new_sources_get_accounts_once_every_two_word_designation_is_taken(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account keeps its designation for a year, and one Tor circuit may make one a
    minute: about 115 circuits a year long took all 60 million two-word designations,
    after which no new source could make an account, in Tor Browser or by the API. The
    draws that find two words taken go on to three (7776 cubed: 4.7e11)."""
    _two_word_designations_used_up(monkeypatch)
    made = 0
    for _ in range(4):
        client = app.test_client()
        client.get("/lang/en")
        visitor = Visitor(client)
        made += visitor.send(visitor.start(), "the SHO").status_code == 200
    assert made == 4, f"{4 - made} of 4 new sources were refused an account"
    with db_session(app) as session:
        names = list(session.execute(select(Source.designation)).scalars())
    assert len(set(names)) == 4
    assert sorted(len(n.split()) for n in names) == [2, 3, 3, 3]


def test_a_new_api_account_is_made_once_every_two_word_designation_is_taken(
    app: Flask, device: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_word_designations_used_up(monkeypatch)
    answers = [ApiClient(app.test_client(), device.pinned).register() for _ in range(3)]
    assert [a.status_code for a in answers] == [201] * 3, answers[-1].get_data(as_text=True)


def test_a_new_source_s_account_costs_one_statement(app: Flask, visitor: Visitor) -> None:
    """The insert already does nothing if the codename's account exists: no look-up first."""
    start = visitor.start()
    with statements(app) as seen:
        visitor.filed(visitor.send(start, "the SHO"))
    by_tag = [
        " ".join(s.split()) for s, _ in seen if "sources.lookup_tag" in s or "lookup_tag," in s
    ]
    assert len(by_tag) == 1, by_tag
    assert by_tag[0].startswith("INSERT")


def test_an_account_made_already_is_found_and_no_second_is_made(app: Flask) -> None:
    """The same form sent twice: the second insert does nothing and finds the first's row."""
    with app.test_request_context():
        keys = sources.derive(generate_codename())
        session = app_db.db_session()
        first = sources.create_account(session, keys)
        session.commit()
        second = sources.create_account(session, keys)
        session.commit()
    assert second == first
    with db_session(app) as session:
        assert list(session.execute(select(Source.id)).scalars()) == [first]
