"""What the size of a source's account page tells whoever watches the encrypted traffic.

Tor hides where a page comes from, not how many cells it takes: a guard relay or
the source's ISP counts them. The account page must not say by its size whether
the reviewers have replied, or how much.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask

from tests.app.support import Visitor, reply_to, reviewer_keys

_REPLIES = (
    "Which police station was it?",
    "Thank you. Do you know the number of the van, or the name of its driver? " * 4,
    "We have written to the oversight body about the SHO.",
)


def test_the_account_page_is_the_same_size_with_or_without_replies(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    assert visitor.send(page, "The SHO lets the vans through.").status_code == 303
    signer = reviewer_keys(instance).signing
    assert signer is not None
    sizes: dict[str, list[int]] = {"en": [], "ur": []}

    def look() -> None:
        for lang, seen in sizes.items():
            visitor.client.get(f"/lang/{lang}")
            seen.append(len(visitor.client.get("/account").data))

    look()
    for text in _REPLIES:
        reply_to(app, codename, text, signer, written=dt.date.today())
        look()
    for lang, seen in sizes.items():
        assert len(set(seen)) == 1, f"the page's size counts the replies ({lang}): {seen}"
