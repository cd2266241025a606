"""A login's codename box filled to the form's limit with what Unicode makes long."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Flask

from tests.app.support import Visitor, form

# U+FDFA, a ligature whose compatibility form is 18 letters in four words (NFKC, §7.3).
_SWELLS = "\ufdfa"


def _post_raw(visitor: Visitor, fields: dict[str, str], codename: str) -> tuple[int, float]:
    """Send the login form with `codename` as raw UTF-8 (three bytes a character, not nine):
    the status and the CPU seconds the request took."""
    body = urlencode(fields).encode() + b"&codename=" + codename.encode()
    began = time.process_time()
    response = visitor.client.post(
        "/login", data=body, content_type="application/x-www-form-urlencoded"
    )
    return response.status_code, time.process_time() - began


def test_a_login_with_a_megabyte_of_garbage_costs_no_more_than_a_mistyped_one(
    app: Flask, visitor: Visitor
) -> None:
    """A codename is some 80 characters, and the box took whatever the form's megabyte held:
    each login normalised it three times (the check, the look-up, the codename shown back),
    and NFKC turns each U+FDFA into 18 letters. A megabyte of them cost some 3.6 s of CPU
    and over 100 MiB of memory a request, on the request's thread, before and besides the
    derivation the pool bounds: ten times a real Argon2id derivation, a circuit's burst of
    them a worker's memory. Now what is far longer than any codename is refused unread, as
    a mistyped one is, and costs what a mistyped one costs."""
    assert visitor.client.get("/lang/en").status_code < 400
    fields = form(visitor.get("/login"), "/login").fields
    status, typo = _post_raw(visitor, fields, "abacus tricky prism")
    assert status == 303
    fields = form(visitor.get("/login"), "/login").fields
    garbage = _SWELLS * ((1024 * 1024 - 4096) // len(_SWELLS.encode()))
    status, swollen = _post_raw(visitor, fields, garbage)
    assert status == 303, "the garbage was not answered as a wrong codename"
    assert swollen < max(0.25, 10 * typo), (
        f"a login with a megabyte of garbage took {swollen:.2f} s of CPU,"
        f" a mistyped one {typo:.3f} s"
    )
