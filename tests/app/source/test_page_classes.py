"""Which page a source is on, read from the Tor cells its answers take.

A guard relay or the source's ISP counts the cells of each answer (498 bytes of a
stream each): its status line, headers and body. Pages a source moves between
must take the same number, or the count says a new visitor from one whose
account lapsed, a typo's page from a refusal's, a report filed from one refused.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app import sessions
from crypto import generate_codename
from tests.app.support import ClockAhead, Visitor, form, shown_codename

# What one Tor cell carries of a stream.
CELL = 498


def _bytes(response: TestResponse) -> int:
    """The answer as it goes over the stream: status line, headers and body."""
    head = len(f"HTTP/1.1 {response.status}\r\n\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    return head + len(response.get_data())


def _cells(response: TestResponse) -> int:
    return -(-_bytes(response) // CELL)


def _sizes(pages: dict[str, TestResponse]) -> dict[int, list[str]]:
    classes: dict[int, list[str]] = {}
    for name, response in pages.items():
        classes.setdefault(_cells(response), []).append(f"{name} {response.status_code}")
    return classes


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


def _pages_of_a_visit(app: Flask, later: ClockAhead, lang: str) -> dict[str, TestResponse]:
    """Every page a source's visit shows that echoes nothing she wrote."""
    visitor = Visitor(app.test_client())
    get = visitor.client.get
    visitor.client.get(f"/lang/{lang}")
    seen = {"landing": get("/"), "login": get("/login"), "not found": get("/no-such-page")}
    new = seen["submit, a new visitor"] = get("/submit")
    page = form(new.get_data(as_text=True), "/submit")
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
    seen["submitted"] = get("/submitted")
    seen["account"] = get("/account")
    seen["resources"] = get("/resources")
    seen["keys"] = get("/keys")
    later.ahead = 31 * 60  # the login lapsed
    seen["submit, a lapsed account"] = get("/submit")
    later.ahead = 0
    stranger = Visitor(app.test_client())
    stranger.client.get(f"/lang/{lang}")
    failed = stranger.log_in(generate_codename())
    seen["a failed login"] = stranger.client.get(failed.headers["Location"])
    seen["a refused form"] = stranger.client.post("/logout", data={"csrf_token": "stale"})
    return seen


def test_the_pages_of_a_visit_take_the_same_cells(
    make_app: Callable[..., Flask], later: ClockAhead
) -> None:
    app = make_app()
    for lang in ("en", "ur"):
        classes = _sizes(_pages_of_a_visit(app, later, lang))
        assert len(classes) == 1, f"the cells say which page a source is on ({lang}): {classes}"
    # Nor which language she reads: Urdu pages were bigger, and fewer insiders read English.
    both = {
        f"{lang} {page}": r
        for lang in ("en", "ur")
        for page, r in _pages_of_a_visit(app, later, lang).items()
    }
    assert len(_sizes(both)) == 1, f"the cells say the source's language: {_sizes(both)}"


def _visit(visitor: Visitor, path: str) -> list[int]:
    """The cells of every answer a browser takes to show `path`, redirects followed."""
    response = visitor.client.get(path)
    seen = [_cells(response)]
    while response.status_code in (301, 302, 303):
        response = visitor.client.get(response.headers["Location"])
        seen.append(_cells(response))
    return seen


def test_the_submit_page_looks_alike_to_a_new_a_lapsed_and_a_signed_in_source(
    app: Flask, later: ClockAhead
) -> None:
    # A signed-in source was sent to /account: a redirect and a second answer, where a new
    # visitor and one whose account lapsed had one. The count said "has a live login".
    new, lapsed, signed_in = (Visitor(app.test_client()) for _ in range(3))
    for visitor in (lapsed, signed_in):
        visitor.filed(visitor.send(visitor.start(), "The SHO lets the vans through."))
    later.ahead = 31 * 60
    assert "/login" in lapsed.get("/submit")
    later.ahead = 0
    seen = {
        name: _visit(v, "/submit")
        for name, v in zip(("new", "lapsed", "signed in"), (new, lapsed, signed_in), strict=True)
    }
    assert len(set(map(tuple, seen.values()))) == 1, f"/submit's answers say who asks: {seen}"
    # The signed-in source is shown her account there, and no new codename.
    page = signed_in.get("/submit")
    assert 'action="/logout"' in page
    assert shown_codename(page) is None


def _given_back(app: Flask, lang: str, text: str) -> dict[str, TestResponse]:
    """Every page that gives the report `text` back, as each refusal or switch shows it."""
    visitor = Visitor(app.test_client())
    post = visitor.client.post
    visitor.client.get(f"/lang/{lang}")
    first = visitor.start()
    switch = {**first.fields, "message": text, "switch_lang": lang}
    seen = {"first, switched": post("/submit", data=switch)}
    seen["first, holding a codename"] = visitor.send(first, text)
    stale = form(visitor.get("/submit"), "/submit")
    stale.fields["csrf_token"] = "stale"
    seen["first, a stale form"] = visitor.send(stale, text)
    visitor.filed(visitor.send(visitor.start(), "first"))
    later = form(visitor.get("/account"), "/account")
    seen["later, switched"] = post("/account", data={**later.fields, "message": text, **switch})
    seen["later, holding a codename"] = visitor.send(later, text)
    visitor.log_out()
    visitor.client.get(f"/lang/{lang}")
    ended = seen["later, its login ended"] = visitor.send(later, text)
    resume = form(ended.get_data(as_text=True), "/account")
    resume.fields["codename"] = generate_codename()
    seen["later, a wrong codename"] = visitor.send(resume, text)
    return seen


@pytest.mark.parametrize("words", [12, 2200], ids=["short", "13 KiB"])
def test_a_report_given_back_takes_the_same_cells_whatever_refused_it(
    app: Flask, words: int
) -> None:
    # A few bytes of a refusal's message, over the words given back, crossed a cell or a
    # padding class: the count said a switch from a codename written in the report.
    text = f"{' '.join(['thana'] * words)} {generate_codename()}"
    for lang in ("en", "ur"):
        classes = _sizes(_given_back(app, lang, text))
        assert len(classes) == 1, f"the cells say what refused the report ({lang}): {classes}"


def test_a_report_given_back_says_no_more_of_its_length_than_its_class(app: Flask) -> None:
    # Padmé's class of 13,000 bytes is 12,801 to 13,312 (a multiple of 512): a page giving
    # back any of them takes the same bytes, and the next class 512 more.
    visitor = Visitor(app.test_client())
    page = visitor.start()

    def switched(length: int) -> int:
        text = ("The SHO took money at the thana. " * 500)[:length]
        fields = {**page.fields, "message": text, "switch_lang": "en"}
        return _bytes(visitor.client.post("/submit", data=fields))

    sizes = [switched(n) for n in (12_801, 13_000, 13_312, 13_313)]
    assert sizes[:3] == [sizes[0]] * 3, f"the page says the report's length: {sizes}"
    assert sizes[3] == sizes[0] + 512, f"the page is not sized by the report's class: {sizes}"


def test_every_source_page_takes_the_same_bytes_on_the_wire(app: Flask) -> None:
    # A gate over `app.url_map`: a page added later is weighed as well, signed in or not.
    paths = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("source.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
    ]
    signed_in = Visitor(app.test_client())
    signed_in.filed(signed_in.send(signed_in.start(), "first"))
    seen: dict[str, TestResponse] = {}
    for lang in ("en", "ur"):
        for who, visitor in (("visitor", Visitor(app.test_client())), ("signed in", signed_in)):
            visitor.client.get(f"/lang/{lang}")
            for path in [*paths, "/no-such-page"]:
                response = visitor.client.get(path)
                if response.mimetype == "text/html" and response.status_code < 300:
                    seen[f"{lang} {who} {path}"] = response
    assert len(seen) > 2 * 2 * 5, sorted(seen)
    sizes: dict[int, list[str]] = {}
    for name, response in seen.items():
        sizes.setdefault(_bytes(response), []).append(name)
    assert len(sizes) == 1, f"a source page takes its own bytes on the wire: {sizes}"
