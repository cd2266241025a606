"""The account page's replies, in pages that each fit the page's padded floor.

Past `ACCOUNT_PAGE_FLOOR` (some 30 short replies, or one long one) the account page
grew to Padmé's next class, bigger than any failure's page: its size said "signed in,
and the reviewers wrote a lot". Now the replies go over as many pages as it takes, a
reply longer than a page in parts, so that every page is at most the floor before
padding (`app.source.sizes`), the size of a failed login's page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import escape

from app.services.replies import ShownReply
from app.source.sizes import ACCOUNT_PAGE_FLOOR, ECHO_ROOM, HEADER_ROOM, echoed

# What a page keeps for its replies when the rest of it leaves less (a report given back
# echoes the words sent, and is as big as they were: its request said so already).
_LEAST_ROOM: Final = 6 * 1024
# Page numbers the links are measured with: the widest a page may show.
_WIDEST: Final = 9999
# Bytes kept spare: a page's own numbers and token are measured, not foretold.
_SPARE: Final = 64


@dataclass(frozen=True)
class Piece:
    """One part of one reply, as one card of the account page shows it."""

    reply: ShownReply
    text: str | None
    part: int = 1
    parts: int = 1


@dataclass(frozen=True)
class Paged:
    """The pieces one page shows, which page it is and how many there are (0: no replies)."""

    pieces: list[Piece]
    page: int
    pages: int


Measure = Callable[..., int]


def page_of(
    replies: Sequence[ShownReply],
    number: int | None,
    *,
    frame: Measure,
    card: Measure,
    stand_ins: Sequence[ShownReply] = (),
) -> Paged:
    """The pieces of page `number` (clamped; None: the last, the newest), each within the floor.

    The oldest replies came first: reading the newest took one request more for each page
    before it, and the count of a visit's requests said how much the reviewers had written.

    `frame(pieces, page, pages)` and `card(piece)` are the bytes the page around the
    replies and one reply's card take as rendered. Each of `stand_ins` is measured and
    drawn as a reply is, and thrown away: a page takes as long with few replies as with
    many (`app.services.replies.open_stand_ins`).
    """
    # The page's own room leaves the headers theirs, and a report given back its own.
    around = frame([], _WIDEST, _WIDEST) - echoed()
    room = max(ACCOUNT_PAGE_FLOOR - HEADER_ROOM - ECHO_ROOM - _SPARE - around, _LEAST_ROOM)
    for stand_in in stand_ins:
        for piece, _size in _parts(stand_in, room, card):
            card(piece)  # as the page draws a reply's card, after measuring it
    if not replies:
        return Paged([], 1, 0)
    pages: list[list[Piece]] = [[]]
    used = 0
    for piece, size in (p for reply in replies for p in _parts(reply, room, card)):
        if pages[-1] and used + size > room:
            pages.append([])
            used = 0
        pages[-1].append(piece)
        used += size
    number = len(pages) if number is None else min(max(number, 1), len(pages))
    return Paged(pages[number - 1], number, len(pages))


def _parts(reply: ShownReply, room: int, card: Measure) -> list[tuple[Piece, int]]:
    """A reply as pieces whose cards each fit `room` (its text cut between words), sized."""
    whole = Piece(reply, reply.text)
    size = card(whole)
    if reply.text is None or size <= room:
        return [(whole, size)]
    # The card around a text, at its widest: the first part's notes or the last's button.
    frame = max(card(Piece(reply, "", 1, _WIDEST)), card(Piece(reply, "", _WIDEST, _WIDEST)))
    limit = max(room - frame, 1024)
    texts = _cut(reply.text, limit)
    pieces = [Piece(reply, text, n, len(texts)) for n, text in enumerate(texts, 1)]
    return [(piece, card(piece)) for piece in pieces]


def _cut(text: str, limit: int) -> list[str]:
    """Cut `text` into parts of at most `limit` bytes as the page writes them (escaped)."""
    parts: list[str] = []
    rest = text
    while _weight(rest) > limit:
        low, high = 1, len(rest)  # the longest head within the limit, by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if _weight(rest[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        space = rest.rfind(" ", 0, low)
        cut = space + 1 if space > low // 2 else low
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def _weight(text: str) -> int:
    return len(str(escape(text)).encode())
