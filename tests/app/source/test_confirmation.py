"""A report's confirmation, drawn once per worker for each way it looks (`app.source.confirmation`):
the page each source is shown is the one the template draws for it, with its own CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jinja2.meta
import pytest
from flask import Flask, g, render_template, template_rendered
from werkzeug.test import TestResponse

from app.source import confirmation
from app.source.confirmation import TEMPLATE
from tests.app.support import Visitor, form, multipart

# A Tor Browser's request to the onion address: no browser warning on the page.
_TOR_BROWSER = {
    "Host": "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion",
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
}
# The names the templates may read besides the context's plain values: functions whose
# answer the drawn page's key covers (`url_for`: the root; `_`: the language) or fills in.
_FUNCTIONS = frozenset({"url_for", "_", "gettext", "csrf_token"})


@pytest.fixture
def drawn(app: Flask) -> Iterator[list[dict[str, Any]]]:
    """The confirmation's renderings, as Flask signals them, while the test runs."""
    seen: list[dict[str, Any]] = []

    def note(_sender: Flask, template: Any, context: dict[str, Any], **_extra: Any) -> None:
        if template.name == TEMPLATE:
            seen.append(context)

    with template_rendered.connected_to(note, app):
        yield seen


def _first_report(
    visitor: Visitor, lang: str = "en", headers: dict[str, str] | None = None
) -> TestResponse:
    """A first report, its requests sent with `headers` (a browser's, a proxy's)."""
    visitor.client.get(f"/lang/{lang}", headers=headers)
    page = form(visitor.client.get("/submit", headers=headers).get_data(as_text=True), "/submit")
    body, content_type = multipart([*page.fields.items(), ("message", "The SHO took money.")])
    response = visitor.client.post("/submit", data=body, content_type=content_type, headers=headers)
    visitor.filed(response)
    return response


def _later_report(visitor: Visitor) -> TestResponse:
    response = visitor.send(form(visitor.get("/account"), "/account"), "And again.")
    visitor.filed(response)
    return response


def test_a_confirmation_is_drawn_once_for_every_report_that_looks_alike(
    app: Flask, drawn: list[dict[str, Any]]
) -> None:
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    _first_report(first)
    _first_report(second)
    _later_report(first)
    _later_report(second)
    # Once for each path a report is sent to (the context's `here` names it).
    assert len(drawn) == 2, f"drawn {len(drawn)} times for four reports in one language"


def test_each_confirmation_carries_its_own_session_s_token(app: Flask) -> None:
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    pages = [_first_report(first).get_data(as_text=True)]
    pages.append(_first_report(second).get_data(as_text=True))
    tokens = [form(page, "/logout").fields["csrf_token"] for page in pages]
    assert tokens[0] != tokens[1]
    # Each source's token logs out its own session and no other's (answered in place: 200).
    assert second.client.post("/logout", data={"csrf_token": tokens[0]}).status_code == 400
    assert first.client.post("/logout", data={"csrf_token": tokens[0]}).status_code == 200
    assert second.client.post("/logout", data={"csrf_token": tokens[1]}).status_code == 200


@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize("headers", [{}, _TOR_BROWSER, {"X-Forwarded-For": "10.0.0.1"}])
def test_a_confirmation_drawn_once_is_the_page_the_template_draws_for_it(
    app: Flask, lang: str, headers: dict[str, str]
) -> None:
    # Another language and another browser's confirmation drawn first: neither is served.
    _first_report(Visitor(app.test_client()), "ur" if lang == "en" else "en")
    _first_report(Visitor(app.test_client()), lang, _TOR_BROWSER)
    served = _first_report(Visitor(app.test_client()), lang, headers).get_data(as_text=True)
    token = form(served, "/logout").fields["csrf_token"]
    with app.test_request_context("/submit", method="POST", headers=headers):
        from flask import session

        session["lang"] = lang
        g.csrf_token = token
        expected = render_template(TEMPLATE)
    assert served.startswith(expected)
    assert not served[len(expected) :].strip(" "), "more than padding after the page"


def test_a_confirmation_shows_the_organisation_s_new_name(app: Flask) -> None:
    from app.db import db_session
    from app.settings import set_setting

    _first_report(Visitor(app.test_client()))
    with app.test_request_context("/"):
        set_setting(db_session(), "organisation", "Insaaf Watch")
        db_session().commit()
    assert "Insaaf Watch" in _first_report(Visitor(app.test_client())).get_data(as_text=True)


def test_the_confirmation_s_templates_read_only_what_its_key_covers(app: Flask) -> None:
    loader = app.jinja_env.loader
    assert loader is not None
    read: set[str] = set()
    for name in (TEMPLATE, "base.html"):
        source = loader.get_source(app.jinja_env, name)[0]
        read |= jinja2.meta.find_undeclared_variables(app.jinja_env.parse(source))
    with app.test_request_context("/submit", method="POST"):
        context: dict[str, Any] = {}
        app.update_template_context(context)
    unkeyed = {k for k, v in context.items() if not isinstance(v, confirmation._PLAIN)}
    globals_read = (read & set(app.jinja_env.globals)) - _FUNCTIONS
    assert not read & unkeyed, f"read, but no part of the drawn page's key: {read & unkeyed}"
    assert not globals_read, f"functions the drawn page's key does not cover: {globals_read}"


def test_a_worker_keeps_a_bounded_number_of_drawn_confirmations() -> None:
    kept = confirmation._Drawn()
    for n in range(confirmation._KEPT * 3):
        kept.put((f"/account?{n}",), ("page",))
    assert kept.get(("/account?0",)) is None
    assert kept.get((f"/account?{confirmation._KEPT * 3 - 1}",)) == ("page",)
    assert len(kept._pages) == confirmation._KEPT


def test_a_confirmation_is_drawn_anew_when_templates_reload(make_app: Any) -> None:
    app = make_app(TEMPLATES_AUTO_RELOAD=True)
    seen: list[str] = []
    with template_rendered.connected_to(
        lambda *_a, template, **_k: seen.append(template.name), app
    ):
        _first_report(Visitor(app.test_client()))
        _first_report(Visitor(app.test_client()))
    assert seen.count(TEMPLATE) == 2
