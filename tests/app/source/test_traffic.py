"""What a source's traffic tells whoever counts its Tor cells.

A guard relay, or the server's host watched live after a seizure, sees how many
bytes each request and answer take, and whether an answer is followed by another
request. A right codename and a wrong one must look the same: the same answer,
the same cookie, the same next request and the same page after it (else it
tells which circuits belong to real returning sources). A report's answer must
not add its length to what the request already says.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app.models import Item
from crypto import generate_codename
from tests.app.support import Visitor, form, row_counts

Wire = tuple[str, int, int, int]


def _wire(response: TestResponse) -> Wire:
    """What an answer weighs on the wire: its status line, header bytes, cookie and body."""
    headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    cookies = sum(len(v) for k, v in response.headers.items() if k == "Set-Cookie")
    return response.status, headers, cookies, len(response.get_data())


def _login_traffic(app: Flask, codename: str) -> list[Wire | tuple[str, int]]:
    """Every answer of a login, and every request the browser sends after it on its own."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    return _answer_traffic(visitor, visitor.log_in(codename))


def test_a_right_and_a_wrong_codename_look_the_same_on_the_wire(
    app: Flask, visitor: Visitor
) -> None:
    # One instance for the three claims (tests' time): the cookie, the answers, the failure said.
    sizes: dict[str, int] = {}

    def note(state: str) -> None:
        cookie = visitor.client.get_cookie("rz")
        assert cookie is not None, state
        sizes[state] = len(cookie.value)

    note("a visitor")
    for _ in range(5):  # every codename the cookie keeps for tabs, and one more
        page = visitor.start()
    note("offered codenames")
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
    note("signed in, with codenames offered")
    visitor.log_out()
    assert visitor.log_in(page.fields["codename"]).status_code == 303
    note("signed in again")
    assert len(set(sizes.values())) == 1, f"the cookie's size says what it holds: {sizes}"

    right = _login_traffic(app, page.fields["codename"])
    wrong = _login_traffic(app, generate_codename())
    assert right == wrong, f"a login's traffic says whether the codename worked: {right} {wrong}"

    # The source who typed a wrong codename is still told so, and only once.
    stranger = Visitor(app.test_client())
    stranger.client.get("/lang/en")
    response = stranger.log_in(generate_codename())
    if response.status_code == 303:
        response = stranger.client.get(response.headers["Location"])
    assert "No account has this codename" in response.get_data(as_text=True)
    again = stranger.get("/account")
    assert "No account has this codename" not in again, "the failure was said twice"
    assert 'action="/login"' in again, "no login: the login page in place"


def _report_traffic(app: Flask, message: str, *, filed: bool) -> int:
    """The bytes of the answer to a first report of `message`: filed, or given back (its
    form's token stale); either way one answer, and no request after it."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    page = visitor.start()
    if not filed:
        page.fields["csrf_token"] = "stale"
    response = visitor.send(page, message)
    if filed:
        visitor.filed(response)
    else:
        assert response.status_code == 400
    status, headers, _cookie, body = _wire(response)
    return len(f"HTTP/1.1 {status}\r\n\r\n") + headers + body


def test_the_answer_to_a_report_says_nothing_the_request_did_not(app: Flask) -> None:
    # The request's size says the report's length (no page without JavaScript can pad what
    # a browser sends: docs/PROTOCOL.md §7.3.2). A report filed is confirmed in place on a
    # page the size of the form given back, which echoes its words: their Padmé class, no
    # closer than the request said it, and nothing of whether it was filed.
    for message in ("The SHO took money.", "ایس ایچ او نے پیسے لیے۔ " * 2000):
        filed = _report_traffic(app, message, filed=True)
        given_back = _report_traffic(app, message, filed=False)
        assert filed == given_back, f"the answer says the report was filed: {filed} {given_back}"
    short = _report_traffic(app, "The SHO took money.", filed=True)
    assert short == _report_traffic(app, "The SHO took money at the thana.", filed=True)


def _mistyped(codename: str) -> str:
    """The codename with its last word changed: its checksum (or the word) no longer fits."""
    words = codename.split()
    return " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "zesty"])


def test_a_mistyped_codename_looks_like_a_wrong_one_on_the_wire(app: Flask) -> None:
    # A mistyped codename was answered at once, 200 with the login page (1.5 KiB), no
    # redirect and no derivation; a wrong one 303, a wait for Argon2id, and 24 KiB after.
    # Typos are what a person typing from memory makes, never a script guessing: the
    # shape and the timing picked out the circuits of real sources among the guesses.
    typo = _login_traffic(app, _mistyped(generate_codename()))
    wrong = _login_traffic(app, generate_codename())
    assert typo == wrong, f"a login's traffic says the codename was mistyped: {typo} {wrong}"


def _box(page: str) -> str:
    box = re.search(r'<textarea[^>]*name="codename"[^>]*>(.*?)</textarea>', page, re.S)
    assert box is not None, "the page has no codename box"
    return html.unescape(box.group(1)).strip()


@pytest.mark.parametrize("kind", ["wrong", "mistyped"])
def test_a_failed_login_gives_the_codename_typed_back(app: Flask, kind: str) -> None:
    # Eight words (or 29 digits) typed on a phone: the page saying they opened nothing
    # must let the source correct one word, not type them all again.
    typed = generate_codename() if kind == "wrong" else _mistyped(generate_codename())
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    for _ in range(4):  # the fullest cookie: every codename it keeps for tabs
        visitor.start()
    before = visitor.client.get_cookie("rz")
    response = visitor.log_in(typed)
    kept = visitor.client.get_cookie("rz")
    assert before is not None
    assert kept is not None
    assert len(kept.value) == len(before.value), "the cookie's size says a login failed"
    if response.status_code == 303:
        response = visitor.client.get(response.headers["Location"])
    page = response.get_data(as_text=True)
    said = "No account has this codename" if kind == "wrong" else "Check your codename"
    assert said in page
    assert _box(page) == typed, "the codename typed was lost"
    # Said once, and forgotten: the cookie keeps the codename for the redirect alone.
    again = visitor.get("/account")
    assert said not in again, "the failure was said twice"
    assert 'action="/login"' in again
    visitor.client.get("/lang/en")
    assert typed.split()[2] not in visitor.client.get("/login").get_data(as_text=True)


def _answer_traffic(visitor: Visitor, response: TestResponse) -> list[Wire | tuple[str, int]]:
    """An answer, and every request the browser sends after it on its own, as weighed."""
    seen: list[Wire | tuple[str, int]] = [_wire(response)]
    while response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        cookie = visitor.client.get_cookie("rz")
        seen.append((location, len(cookie.value) if cookie is not None else 0))
        response = visitor.client.get(location)
        seen.append(_wire(response))
    return seen


def test_a_report_sent_with_the_codename_after_its_login_ended_looks_alike_right_or_wrong(
    app: Flask, visitor: Visitor
) -> None:
    # A report sent after its login ended comes back with a box for the codename. Sent with
    # the right one it was filed and answered 303 and a small /submitted page; with a wrong
    # one, given back again (the report's words, 24 KiB or more): the cells said which.
    visitor.client.get("/lang/en")
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "first"))
    account = form(visitor.get("/account"), "/account")
    visitor.log_out()  # in another tab, or 30 idle minutes: the login ended
    written = "The SHO of the city station lets the agent's vans through. " * 3
    shown = visitor.send(account, written).get_data(as_text=True)

    def again(typed: str) -> list[Wire | tuple[str, int]]:
        sent = form(shown, "/account")
        sent.fields["codename"] = typed
        return _answer_traffic(visitor, visitor.send(sent, written))

    wrong = again(Visitor(app.test_client()).start().fields["codename"])
    assert again(_mistyped(codename)) == wrong, "the answer says the codename was mistyped"
    right = again(codename)
    assert right == wrong, f"the answer says whether the codename worked: {right} {wrong}"
    assert row_counts(app, Item) == {"items": 2}, "the report was not filed"
