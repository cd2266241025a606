"""A reply's content: the day it was written and the keyring in force (format 3), the day
alone (format 2), or neither (format 1), sealed before its text."""

from __future__ import annotations

import datetime as dt

import pytest

from crypto import FormatError, Metadata
from crypto.constants import REPLY_TYPE, REPLY_TYPE_KEYRING, REPLY_TYPE_V1
from crypto.envelope.metadata import KeyringSeen
from crypto.reply import ReplyText, doubtful_delay, read_reply, reply_content

DAY = dt.date(2026, 11, 2)


def test_a_reply_carries_its_day_before_its_text_under_a_type_of_its_own() -> None:
    content, metadata = reply_content("ملیں؟\nFriday", DAY)
    assert content == "written 2026-11-02\n\nملیں؟\nFriday".encode()
    assert metadata == Metadata("reply", "text/plain; charset=utf-8; raazdar-reply=2")
    assert read_reply(content, metadata) == ReplyText("ملیں؟\nFriday", DAY)


def test_a_reply_of_format_3_names_the_keyring_in_force_after_its_day() -> None:
    keyring = KeyringSeen(3, bytes(range(32)))
    content, metadata = reply_content("Friday", DAY, keyring)
    assert content == (
        b"written 2026-11-02\nkeyring 3 "
        b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\nFriday"
    )
    assert metadata == Metadata("reply", "text/plain; charset=utf-8; raazdar-reply=3")
    assert read_reply(content, metadata) == ReplyText("Friday", DAY, keyring)
    # Under format 2's type its head is no day and a blank line: refused, not read as text.
    with pytest.raises(FormatError):
        read_reply(content, Metadata("reply", REPLY_TYPE))


@pytest.mark.parametrize(
    "content",
    [
        b"written 2026-11-02\n\nMeet",  # format 2's head alone
        b"written 2026-11-02\nkeyring 0 " + b"00" * 32 + b"\n\nMeet",
        b"written 2026-11-02\nkeyring 01 " + b"00" * 32 + b"\n\nMeet",
        b"written 2026-11-02\nkeyring 1 " + b"AA" * 32 + b"\n\nMeet",
        b"written 2026-11-02\nkeyring 1 " + b"00" * 31 + b"\n\nMeet",
    ],
)
def test_a_reply_of_format_3_without_a_good_keyring_is_refused(content: bytes) -> None:
    with pytest.raises(FormatError):
        read_reply(content, Metadata("reply", REPLY_TYPE_KEYRING))


def test_a_reply_of_format_1_is_its_text_with_no_day() -> None:
    # Even text that looks like a day is the reviewer's words in a reply of format 1.
    text = b"written 2026-11-02\n\nMeet"
    assert read_reply(text, Metadata("reply", REPLY_TYPE_V1)) == ReplyText(text.decode(), None)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"Meet on Friday", "reply"),
        (b"written 2026-13-02\n\nMeet", "reply"),
        (b"written 2026-11-02\nMeet", "reply"),
        (b"written 26-11-02\n\nMeet", "reply"),
        (b" written 2026-11-02\n\nMeet", "reply"),
        (b"written 2026-11-02\n\n\xff", "reply"),
        (b"written 2026-11-02\n\nMeet", "message"),
    ],
)
def test_a_reply_of_format_2_without_a_good_day_or_text_is_refused(
    content: bytes, kind: str
) -> None:
    with pytest.raises(FormatError):
        read_reply(content, Metadata(kind, REPLY_TYPE))


def test_text_that_is_not_utf8_is_refused_in_format_1_too() -> None:
    with pytest.raises(FormatError):
        read_reply(b"\xff", Metadata("reply", REPLY_TYPE_V1))


@pytest.mark.parametrize(
    ("listed", "doubt"),
    [
        (DAY, None),
        (DAY + dt.timedelta(days=7), None),
        (DAY + dt.timedelta(days=8), 8),
        (DAY - dt.timedelta(days=1), -1),
    ],
)
def test_a_listing_more_than_a_week_late_or_before_the_day_written_is_doubtful(
    listed: dt.date, doubt: int | None
) -> None:
    assert doubtful_delay(DAY, listed) == doubt
