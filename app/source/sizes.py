"""Every source page padded to one size on the wire: the traffic must not say which page it is.

Tor hides which site a page comes from, not how many cells it takes: a guard
relay or the source's ISP counts them (498 bytes of a stream each). The account
page grew by a few hundred bytes with each reply; and the landing page, the
form offering a codename, the page for a lapsed account, the confirmation and
the error pages each took their own number of cells, so the count said a new
visitor from a returning one, a report filed from one refused.
"""

from __future__ import annotations

from typing import Final

from flask import Flask, Response, request
from markupsafe import escape

from app.listeners import is_staff_listener
from crypto.padding import padme

# What every source page takes on the wire, status line and headers included (the
# session cookie, one size whenever there is one, and Vary: Cookie come after, as
# a server's Date does). The report form alone is 8-11 KiB (English, Urdu); the
# replies go over pages that each fit (`app.source.paging`). With the stylesheet
# it stays within a source page's 30 KB (tests/app/source/test_pages.py).
ACCOUNT_PAGE_FLOOR: Final = 24 * 1024
# What the status line and headers may take of the floor (some 1.8 KB today).
HEADER_ROOM: Final = 2 * 1024
# What the floor keeps for a report given back (its words, district and file names,
# escaped): past it, the page grows by Padmé's class of those alone, so a refusal's
# few bytes of message never move it to another class.
ECHO_ROOM: Final = 4 * 1024
# The report form's fields a page gives back as they were sent.
_ECHOED: Final = ("message", "district", "files")


def echoed() -> int:
    """The bytes of what this request sent that a page giving its report back shows."""
    # Never parse a body here: one refused unread (too large) must stay unread.
    sent = request.__dict__.get("form")
    if request.method != "POST" or sent is None:
        return 0
    values = [v for name in _ECHOED for v in sent.getlist(name)]
    staged = getattr(request, "sealed_uploads", None)
    values += [f.metadata.filename or "" for f in (staged.files() if staged else [])]
    return sum(len(str(escape(v)).encode()) for v in values)


def wire_size(echo: int) -> int:
    """The bytes a source page takes on the wire when it gives back `echo` bytes."""
    return ACCOUNT_PAGE_FLOOR + max(padme(echo) - ECHO_ROOM, 0)


def _head(response: Response) -> int:
    line = len(f"HTTP/1.1 {response.status}\r\n\r\n")
    return line + sum(len(k) + len(v) + 4 for k, v in response.headers.items())


def pad_source_page(response: Response) -> Response:
    """Pad a source page's body with trailing spaces to its size on the wire (`wire_size`)."""
    if (
        response.mimetype != "text/html"
        or response.is_streamed
        or response.direct_passthrough
        or 300 <= response.status_code < 400
        or request.path.startswith("/api/")
        or is_staff_listener(request)
    ):
        return response
    body = response.get_data()
    target = wire_size(echoed())
    if _head(response) + len(body) > target:  # not foreseen: Padmé's class, never less
        target = padme(_head(response) + len(body))
    # Content-Length is a header too: settle it with the body it announces.
    for _ in range(3):
        response.set_data(body + b" " * max(target - _head(response) - len(body), 0))
    return response


def init_app(app: Flask) -> None:
    """Pad every source page; registered before `app.security`, so its headers are weighed."""
    app.after_request(pad_source_page)
