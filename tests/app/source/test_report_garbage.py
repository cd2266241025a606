"""A report's text fields filled to the form's limit with what Unicode makes long."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from app.models import Item, Source
from tests.app.support import Visitor, multipart, row_counts

# U+FDFA, a ligature whose compatibility form is 18 letters in four words (NFKC, §7.3).
_SWELLS = "\ufdfa"
# As many as a form's text fields hold (1 MiB together), less room for the others.
_MEGABYTE_OF_THEM = _SWELLS * ((1024 * 1024 - 8192) // len(_SWELLS.encode()))


def _send(visitor: Visitor, field: str, value: str) -> tuple[int, str, float]:
    """Send a first report with `value` in `field`: the status, the page and its CPU seconds."""
    page = visitor.start()
    fields = {**page.fields, "message": "The SHO took money.", field: value}
    body, content_type = multipart(list(fields.items()))
    began = time.process_time()
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    return response.status_code, response.get_data(as_text=True), time.process_time() - began


@pytest.mark.parametrize("field", ["district", "message"])
def test_a_report_field_past_its_length_is_refused_without_a_look_for_a_codename(
    app: Flask, visitor: Visitor, field: str
) -> None:
    """Each field was looked through for a codename (NFKC, which makes each U+FDFA 18
    letters) after its length check had refused it: a district of a megabyte of them took
    some 0.8 s of a thread's CPU a request (session 42), against a few ms for a report
    refused for an ordinary long district, and a circuit's burst of such forms, refused
    all, took the workers' CPU for a minute. Refused for its length, a field is not looked
    through: it costs what any refused report costs."""
    status, _, plain = _send(visitor, "district", "x" * 200)
    assert status == 200
    status, shown, swollen = _send(visitor, field, _MEGABYTE_OF_THEM)
    assert status == 200, "the report was not given back"
    assert "at most" in shown, "the page does not say the field is too long"
    assert "This is a codename" not in shown
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}
    assert swollen < max(0.2, 10 * plain), (
        f"a {field} of a megabyte of U+FDFA took {swollen:.2f} s of CPU,"
        f" an ordinary long district {plain:.3f} s"
    )
