"""What the size of a source's account page tells whoever watches the encrypted traffic.

Tor hides where a page comes from, not how many cells it takes: a guard relay or
the source's ISP counts them. The account page must not say by its size whether
the reviewers have replied, or how much.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from flask import Flask

from crypto import generate_codename
from tests.app.support import Visitor, reply_to, reviewer_keys, turn

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
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
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


_REPLY_TEXT = r'<p class="reply">(.*?)</p>'


def _pages(visitor: Visitor) -> list[str]:
    """Every page of the account, from the newest, following its link to older replies."""
    shown = [visitor.get("/account")]
    while (earlier := turn(shown[-1], "earlier")) is not None and len(shown) < 20:
        response = visitor.client.post("/account", data={**earlier.fields, "message": ""})
        assert response.status_code == 200
        shown.append(response.get_data(as_text=True))
    return shown


def test_an_account_with_many_replies_is_the_size_of_a_failed_login(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    # Past 24 KiB (some 30 short replies, or one long one) the account page grew to
    # Padmé's next class: bigger than any failure's page, its size said "signed in, and
    # the reviewers wrote a lot". Every page of it must be the failed login's size.
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    texts = [f"Question {n}: which thana, and who else was there? " * 2 for n in range(30)]
    texts.append("ایس ایچ او کے بارے میں مزید بتائیں۔ " * 700)  # one reply over 24 KiB alone
    for text in texts:
        reply_to(app, codename, text, signer, written=dt.date.today())
    # Its first part carries the longest notes a reply has: written long before it was listed.
    texts.append("ایس ایچ او نے پیسے لیے۔ " * 1000)
    reply_to(app, codename, texts[-1], signer, written=dt.date.today() - dt.timedelta(days=90))
    stranger = Visitor(app.test_client())
    for lang in ("en", "ur"):
        visitor.client.get(f"/lang/{lang}")
        stranger.client.get(f"/lang/{lang}")
        answer = stranger.log_in(generate_codename())
        failed = len(stranger.client.get(answer.headers["Location"]).data)
        pages = _pages(visitor)
        sizes = {len(p.encode()) for p in pages}
        assert sizes == {failed}, f"the account page's size says it has many replies: {sizes}"
        # Nothing is lost to the paging: every reply can be read, in full.
        # The pages come newest first; each, and a reply's parts over them, reads in order.
        read = "".join(
            html.unescape(t) for p in reversed(pages) for t in re.findall(_REPLY_TEXT, p, re.S)
        )
        assert len(read) == sum(map(len, texts)), f"the pages show too much or too little ({lang})"
        for text in texts:
            assert text in read, f"a reply cannot be read in full ({lang})"
