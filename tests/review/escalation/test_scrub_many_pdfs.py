"""An office document that embeds many PDFs, or a member it cannot open: refused at once.

The attack: each PDF embedded in a document is rebuilt, and its text read, by a confined
child of its own, a second or so each, and a package may hold 10,000 members. Before, 12
tiny PDFs in a 10,798-byte .docx held `scrub` 12.5 s; 10,000 of them, a few hundred
kilobytes of .docx, would have held the reviewer for hours. And a member encrypted with a
password ended the command as a fault in the tool (a RuntimeError), not a refusal.
"""

from __future__ import annotations

import io
import time

import pikepdf
import pytest

from review.escalation import scrub as scrubbing
from review.escalation.scrub import Unsupported, scrub
from tests.review.fixtures import docx_with_parts


def _tiny_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_document_of_many_embedded_pdfs_is_refused_before_any_is_rebuilt() -> None:
    tiny = _tiny_pdf()
    many = scrubbing.MAX_EMBEDDED_PDFS + 1
    # Half in the document, half in a spreadsheet embedded in it: they share one count.
    inner = docx_with_parts({f"word/embeddings/In{n}.pdf": tiny for n in range(many // 2)})
    parts = {f"word/embeddings/Doc{n}.pdf": tiny for n in range(many - many // 2)}
    data = docx_with_parts({**parts, "word/embeddings/Sheet1.xlsx": inner})

    started = time.monotonic()
    with pytest.raises(Unsupported, match=f"more than {scrubbing.MAX_EMBEDDED_PDFS} PDFs"):
        scrub(data, lambda text: text)
    # Each PDF rebuilt takes a child of its own: four would take seconds.
    assert time.monotonic() - started < 3.0


def test_a_document_with_a_password_protected_member_is_refused_not_a_fault() -> None:
    data = bytearray(docx_with_parts({}))
    # Every member marked encrypted (bit 0 of the flags, in its local and central headers):
    # zipfile asks for a password to read one.
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + flags] |= 0x1
            at = data.find(signature, at + 4)
    with pytest.raises(Unsupported, match="cannot be read"):
        scrub(bytes(data), lambda text: text)
