"""A reply's content: its text and, sealed with it, the day its reviewer wrote it.

The day a server lists a reply under is its own word, which no signature
covers: a seized server could list a reviewer's weeks-old "meet our
investigator on Friday" under today's day. A reply of format 2 (its metadata
type `REPLY_TYPE`) starts with the UTC day the workstation wrote it, inside
the ciphertext, so the server never sees it and cannot change it: the
envelope's AEAD and its reviewer's signature cover it. Only a day, never a
time of day. A reply of format 1 (plain text, written before) carries none.
A reply of format 3 (`REPLY_TYPE_KEYRING`) also names, after the day, the
keyring its reviewers held in force: a device shown another keyring of that
version (a fork), or an older one than theirs (a successor withheld), sees it.
See docs/PROTOCOL.md §5A.11.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from crypto import constants as C
from crypto.envelope.metadata import KeyringSeen, Metadata
from crypto.errors import FormatError

_WRITTEN: Final = re.compile(rb"written ([0-9]{4}-[0-9]{2}-[0-9]{2})\n\n")
_WRITTEN_UNDER: Final = re.compile(
    rb"written ([0-9]{4}-[0-9]{2}-[0-9]{2})\nkeyring ([1-9][0-9]{0,8}) ([0-9a-f]{64})\n\n"
)


@dataclass(frozen=True)
class ReplyText:
    """An opened reply's text, the day it was written (None for a reply of format 1), and
    the keyring its reviewers held (None before format 3)."""

    text: str
    written: dt.date | None
    keyring: KeyringSeen | None = None


def reply_content(
    text: str, written: dt.date, keyring: KeyringSeen | None = None
) -> tuple[bytes, Metadata]:
    """The content and metadata a workstation seals for a reply written on day `written`,
    under `keyring` in force there (format 3; format 2 without one)."""
    head = b"written " + written.isoformat().encode("ascii")
    if keyring is None:
        return head + b"\n\n" + text.encode("utf-8"), Metadata("reply", C.REPLY_TYPE)
    head += f"\nkeyring {keyring.version} {keyring.digest.hex()}".encode("ascii")
    return head + b"\n\n" + text.encode("utf-8"), Metadata("reply", C.REPLY_TYPE_KEYRING)


def read_reply(content: bytes, metadata: Metadata) -> ReplyText:
    """Read an opened reply's content by its metadata's type: formats 2 and 3 strictly, else 1.

    Raises `FormatError` for text that is not UTF-8, or a reply of format 2 or 3 without
    its day (and, of format 3, its keyring).
    """
    written: dt.date | None = None
    keyring: KeyringSeen | None = None
    if metadata.content_type in (C.REPLY_TYPE, C.REPLY_TYPE_KEYRING):
        under = metadata.content_type == C.REPLY_TYPE_KEYRING
        found = (_WRITTEN_UNDER if under else _WRITTEN).match(content)
        if metadata.kind != "reply" or found is None:
            raise FormatError(
                "a reply of format 3 must start with its day and keyring"
                if under
                else "a reply of format 2 must start with the day it was written"
            )
        try:
            written = dt.date.fromisoformat(found.group(1).decode("ascii"))
        except ValueError as exc:
            raise FormatError("a reply's written day is not a date") from exc
        if under:
            keyring = KeyringSeen(int(found.group(2)), bytes.fromhex(found.group(3).decode()))
        content = content[found.end() :]
    try:
        return ReplyText(content.decode("utf-8"), written, keyring)
    except UnicodeDecodeError as exc:
        raise FormatError("a reply's text is not UTF-8") from exc


def doubtful_delay(written: dt.date, listed: dt.date) -> int | None:
    """The days from writing to listing if they cannot be a stick's journey, else None.

    More than `REPLY_DELAY_DAYS` (queued, exported, carried, imported: days, not weeks)
    or fewer than none (listed before it was written, which cannot be).
    """
    late = (listed - written).days
    return late if late < 0 or late > C.REPLY_DELAY_DAYS else None
