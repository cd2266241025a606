"""A codename written into a report is given back, never sealed to the reviewers.

A codename in a report would sit in the review workspace, in every copy of it,
and in the text an escalation packet quotes: whoever read it there could log in
as the source, read the reviewers' questions and answer them in their place.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.test import TestResponse

from app.models import Item, Source
from crypto import generate_codename, generate_digit_codename
from tests.app.support import (
    Visitor,
    envelope_files,
    form,
    message_box,
    opened_envelopes,
    row_counts,
)

_URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def assert_given_back(response: TestResponse, message: str) -> None:
    """The form again, what the source wrote in it, and why it was not sent."""
    shown = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message_box(shown) == message
    assert "Never write your codename in a report" in shown


def _written(codename: str) -> list[str]:
    """The ways a source might write their codename into the message."""
    return [
        f"My codename is {codename}, please answer me.",
        f"کوڈ نیم: {codename.upper()}\nThe SHO took money.",
        f"{codename.replace(' ', '  ')}.",
    ]


def test_the_codename_in_a_first_report_is_given_back(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    for message in _written(page.fields["codename"]):
        response = visitor.send(page, message)
        assert opened_envelopes(instance) == {}, "the codename was sealed to the reviewers"
        assert_given_back(response, message)
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}


def test_a_codename_in_a_later_report_is_given_back(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    before = set(envelope_files(instance))
    account = form(visitor.get("/account"), "/account")
    # Any codename (the account's is known to nobody here), in Urdu digits too.
    for codename in (generate_codename(), generate_digit_codename().translate(_URDU_DIGITS)):
        message = f"Please write to me, {codename}"
        response = visitor.send(account, message)
        assert set(envelope_files(instance)) == before, "the codename was sealed to the reviewers"
        assert_given_back(response, message)


def test_a_codename_in_the_district_box_is_given_back(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    response = visitor.send(
        page, "The SHO took money.", choices={"district": page.fields["codename"]}
    )
    assert opened_envelopes(instance) == {}, "the codename was sealed to the reviewers"
    assert_given_back(response, "The SHO took money.")


def test_words_of_the_list_that_are_no_codename_are_sent(app: Flask, visitor: Visitor) -> None:
    # Eight words of the list whose last is not their checksum, and 29 digits that fail
    # the check digit: a report may hold such runs (a list of phone numbers).
    page = visitor.start()
    words = generate_codename().split()
    words[-1], words[0] = words[0], words[-1]
    numbers = "0300-1234567 0321-7654321 0345-1112223 11"
    response = visitor.send(page, f"{' '.join(words)} {numbers}")
    visitor.filed(response)
