"""Settings and the taxonomy are kept by each worker, and an edit anywhere reaches every one."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app.services import settings_admin
from app.settings import get_setting, revision_kept, set_setting, taxonomy
from tests.app.support import db_session


def _edit(app: Flask, edit: Callable[..., object]) -> None:
    """Make an administrator's edit through `app`'s database, and commit it."""
    with db_session(app) as session:
        edit(session)
        session.commit()


def test_a_setting_changed_through_one_worker_is_seen_by_another(
    make_app: Callable[..., Flask],
) -> None:
    one, other = make_app(), make_app()
    browser = other.test_client()
    assert "Raazdar" in browser.get("/").get_data(as_text=True)
    _edit(one, lambda s: settings_admin.update(s, {"organisation": "Haqdar Watch"}, actor="a"))
    assert "Haqdar Watch" in browser.get("/").get_data(as_text=True)


def test_a_term_added_through_one_worker_is_offered_by_another(
    make_app: Callable[..., Flask],
) -> None:
    one, other = make_app(), make_app()
    browser = other.test_client()
    browser.get("/lang/en")
    assert "Port Authority" not in browser.get("/submit").get_data(as_text=True)
    _edit(
        one,
        lambda s: settings_admin.add_term(s, "agency", "port", "Port Authority", "پورٹ", actor="a"),
    )
    assert "Port Authority" in browser.get("/submit").get_data(as_text=True)


def test_the_form_keeps_its_choices_per_language_and_term(app: Flask) -> None:
    # The choices are built once per language and taxonomy copy, not per request.
    browser = app.test_client()
    for lang, shown, hidden in (
        ("en", "Punjab Police", "پنجاب پولیس"),
        ("ur", "پنجاب پولیس", "Punjab Police"),
        ("en", "Punjab Police", "پنجاب پولیس"),
    ):
        browser.get(f"/lang/{lang}")
        html = browser.get("/submit").get_data(as_text=True)
        assert shown in html
        assert hidden not in html
    _edit(
        app,
        lambda s: settings_admin.add_term(s, "agency", "port", "Port Authority", "پورٹ", actor="a"),
    )
    assert "Port Authority" in browser.get("/submit").get_data(as_text=True)
    browser.get("/lang/ur")
    assert "پورٹ" in browser.get("/submit").get_data(as_text=True)


def test_an_edit_rolled_back_is_not_kept(app: Flask) -> None:
    with db_session(app) as session:
        assert get_setting(session, "upload_limit_mib") == 500
        set_setting(session, "upload_limit_mib", 7)
        # The transaction that made it sees it ...
        assert get_setting(session, "upload_limit_mib") == 7
        session.rollback()
    # ... and nobody sees it once it is undone.
    with db_session(app) as session:
        assert get_setting(session, "upload_limit_mib") == 500


def test_an_edit_in_a_request_is_seen_later_in_the_same_request(app: Flask) -> None:
    with app.test_request_context(), db_session(app) as session:
        codes = [t.code for t in taxonomy(session)["when"]]
        settings_admin.remove_term(session, "when", codes[0], actor="a")
        session.commit()
        assert [t.code for t in taxonomy(session)["when"]] == codes[1:]
        set_setting(session, "organisation", "Later")
        session.commit()
        assert get_setting(session, "organisation") == "Later"


def test_a_rollback_of_reads_keeps_the_revision_but_not_of_an_edit(app: Flask) -> None:
    # A request's revision survives a rollback that undid only reads (the body's wait,
    # app.limits), not one that undid the request's own edit.
    with app.test_request_context(), db_session(app) as session:
        assert get_setting(session, "upload_limit_mib") == 500
        with revision_kept():
            session.rollback()
        assert get_setting(session, "upload_limit_mib") == 500
        set_setting(session, "upload_limit_mib", 7)
        session.flush()
        assert get_setting(session, "upload_limit_mib") == 7
        with revision_kept():
            session.rollback()
        assert get_setting(session, "upload_limit_mib") == 500
