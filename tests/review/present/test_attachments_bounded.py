"""A text attachment of millions of characters is drawn a part at a time, as a report is.

The attack: `report view` and the terminal UI laid a text attachment out whole, up to
the 32 MiB read into memory (about 8 s and 55 MB a million characters: minutes and
gigabytes, at each redraw of the UI), and a PDF's pages up to the 64 MiB of text its
reader may return.
"""

from __future__ import annotations

from review.casework.reports import Attachment
from review.present.attachments import blocks
from review.present.text import SHOWN_MAX


def _text_file(text: str) -> tuple[Attachment, bytes]:
    data = text.encode("utf-8")
    return Attachment(1, "item", "filed", "log.txt", "text/plain", len(data)), data


def test_a_long_text_attachment_is_drawn_in_part_and_says_how_much_is_left() -> None:
    attachment, data = _text_file("x\n" * SHOWN_MAX + "the end")
    shown = blocks(attachment, data, 80)
    drawn = sum(len(b.text) for b in shown if b.kind == "text")
    assert drawn <= SHOWN_MAX, f"the view lays out {drawn:,} characters"
    notes = [b.text for b in shown if b.kind == "note"]
    assert notes == [
        f"({SHOWN_MAX + len('the end'):,} more characters: not shown here; `raazdar-review"
        " report view` reads a PDF's other pages with --pages, and `open` writes a file for a"
        " viewer of its own)"
    ]


def test_a_text_attachment_the_form_could_send_is_drawn_whole() -> None:
    attachment, data = _text_file("word " * 40_000)
    assert [b.kind for b in blocks(attachment, data, 80)] == ["text"]
