"""A PDF built to hang the reviewer while a packet is made: it is given bounded time, apart.

The attack: an escalation rebuilds each PDF attachment without its metadata,
and reads its text to check the redactions, in the reviewer's own process with
no time bound. 400 KB of PDF (3,000 pages that all use one form, whose resources
name the same form 10,000 times) cost the metadata check pages x names steps:
it held the reviewer's process past 40 s (minutes in all), and a few MB of it
would for hours, while `escalation new` or the terminal UI waits. Now both run
in a confined child process (`review.casework.pdfwork`), given a wall-clock
deadline, CPU time and memory, as `report view`'s PDF reader is.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from review.casework import pdfs
from review.escalation.scrub import Scrubbed, Unsupported, document_text, scrub

# The deadline the test gives; the old in-process cleaning ran far past it.
DEADLINE = 4.0
# What the test waits before it calls the reviewer hung.
HUNG = 40


def forms_pdf(pages: int, names: int) -> bytes:
    """`pages` pages that draw one form, whose resources name that form `names` times."""
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)
    xobjects = b" ".join(b"/X%d 3 0 R" % i for i in range(names))
    objs[3] = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << %s >> >>"
        b" /Length 3 >>\nstream\nq Q\nendstream" % xobjects
    )
    for i in range(pages):
        objs[4 + i] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10]"
            b" /Resources << /XObject << /F 3 0 R >> >> >>"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number, body in objs.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref, size = len(out), len(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


class Hung(Exception):
    """The reviewer's process was still cleaning the PDF when the test gave up on it."""


@pytest.fixture
def watchdog() -> Iterator[None]:
    def hung(_signum: int, _frame: FrameType | None) -> None:
        raise Hung(f"cleaning the PDF held the reviewer's process past {HUNG} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HUNG)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = getattr(pdfs, "LIMITS", None)
    if limits is not None:
        monkeypatch.setattr(pdfs, "LIMITS", dataclasses.replace(limits, seconds=DEADLINE))


@pytest.mark.usefixtures("watchdog", "short_deadline")
def test_a_pdf_built_to_hang_the_cleaning_is_refused_in_bounded_time() -> None:
    started = time.monotonic()
    with pytest.raises(Unsupported, match=f"took longer than {DEADLINE:g} s"):
        scrub(forms_pdf(3000, 10_000), str)
    assert time.monotonic() - started < DEADLINE + 15


@pytest.mark.usefixtures("watchdog", "short_deadline")
def test_a_pdf_built_to_hang_the_text_check_is_refused_in_bounded_time() -> None:
    started = time.monotonic()
    with pytest.raises(Unsupported, match=f"took longer than {DEADLINE:g} s"):
        document_text(Scrubbed(forms_pdf(3000, 10_000), "application/pdf", "pdf", True))
    assert time.monotonic() - started < DEADLINE + 15


@pytest.mark.usefixtures("watchdog")
def test_an_ordinary_pdf_is_still_cleaned_and_read_apart() -> None:
    pdf = forms_pdf(3, 3)
    cleaned = scrub(pdf, str)
    assert cleaned.data.startswith(b"%PDF-")
    assert b"/Count 3" in cleaned.data
    assert "q Q" in document_text(Scrubbed(pdf, "application/pdf", "pdf", True))


def test_a_child_that_dies_is_a_refusal_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no memory for what it reads, the child cannot even answer.
    monkeypatch.setattr(pdfs, "LIMITS", dataclasses.replace(pdfs.LIMITS, memory=1 << 20))
    with pytest.raises(Unsupported, match="the PDF cannot be read here: it ended with status"):
        scrub(forms_pdf(3, 3) + bytes(64 << 20), str)
