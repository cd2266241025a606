"""The account page's size, padded: the traffic must not say whether the reviewers replied.

Tor hides which site a page comes from, not how many cells it takes: a guard
relay or the source's ISP counts them, and the account page grew by a few
hundred bytes with each reply, its notice and its text.
"""

from __future__ import annotations

from typing import Final

from flask import Response, request

from crypto.padding import padded_size

# Every account page below this is this size: the report form alone is 8-11 KiB (English,
# Urdu); the replies go over pages that each fit (`app.source.paging`), so that no page
# says by its size how much the reviewers wrote. With the stylesheet it stays within a
# source page's 30 KB (tests/app/source/test_pages.py).
ACCOUNT_PAGE_FLOOR: Final = 24 * 1024
_PADDED_ENDPOINTS: Final = frozenset({"source.account"})


def pad_account_page(response: Response) -> Response:
    """Pad an account page (shown, or a report given back) with trailing spaces.

    `/account` after a wrong codename's login shows the login page: padded too, the
    two look alike (`app.source.views.login`).
    """
    if (
        request.endpoint not in _PADDED_ENDPOINTS
        or response.mimetype != "text/html"
        or response.is_streamed
        or response.direct_passthrough
        or 300 <= response.status_code < 400
    ):
        return response
    body = response.get_data()
    response.set_data(body + b" " * (padded_size(len(body), ACCOUNT_PAGE_FLOOR) - len(body)))
    return response
