"""Replies to a source: stored sealed to the source's key, opened only in memory.

A reply of format 2 carries, sealed, the day its reviewer wrote it (`crypto.reply`):
the page shows it beside the day the reply is listed under, and says when the two
cannot both be true, so a database altered to re-date a reply is caught. The page
is the server's own: code in the wrong hands could show anything (PROTOCOL §5A.11).

A reply sealed to one of a `raazdar-submit` device's one-time prekeys (an envelope
v2, PROTOCOL §5A.9) opens nowhere but on that device. Its reviewer's signature is
checked here all the same: a genuine one is named as such, to be read with the app,
not called unverifiable (which invited the source to delete it unread, for good).
An envelope listed a second time (a disk altered to post it again) is shown once,
and its copy named as such, as `raazdar-submit` does.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db import commit_or_confirm
from app.errors import CommitUnconfirmed, SubmissionError
from app.models import Reply, Source, new_id
from app.services.context import services
from app.services.sources import SignedIn
from crypto import (
    CryptoError,
    PrivateKey,
    SigningKey,
    VerifyKey,
    open_envelope,
    read_header,
    seal_bytes,
    verify_signature,
)
from crypto.reply import doubtful_delay, read_reply, reply_content

# Explicit embeddings, overrides and isolates: one pasted from a hostile report turns
# "0300-7654321" around on the page. raazdar-submit removes the same (submit/cli.py).
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A stand-in reply's words: as long as a short question (`open_stand_ins`).
_STAND_IN_TEXT: Final = "x" * 160


def shown_text(text: str) -> str:
    """A reply's text as the page shows it: controls but line breaks and tabs, and bidi
    overrides, each replaced by U+FFFD (seen, not obeyed)."""
    return "".join(
        "\ufffd"
        if (unicodedata.category(ch) == "Cc" and ch not in "\r\n\t") or ch in _BIDI_CONTROLS
        else ch
        for ch in text
    )


@dataclass(frozen=True)
class ShownReply:
    """A reply as the source sees it; `text` is None when it could not be verified."""

    id: str
    day: str
    text: str | None
    # The day its reviewer wrote it, sealed in it; None for a reply written before.
    written: str | None = None
    # Days from writing to listing when no stick's journey takes that long (< 0: before).
    doubtful: int | None = None
    # Signed by a reviewer and sealed to a one-time prekey: only raazdar-submit opens it.
    one_time: bool = False
    # The same envelope as one listed before it, and that one's day: not shown twice.
    again: str | None = None


def post_reply(session: Session, source_id: str, envelope: bytes) -> str:
    """Store a reply envelope for a source (the caller has checked its signature)."""
    svc = services()
    if session.get(Source, source_id) is None:
        raise SubmissionError("no such source")
    envelope_id, staged = svc.store.stage_ciphertext(envelope)
    try:
        session.add(Reply(id=envelope_id, source_id=source_id, size=len(envelope)))
        session.flush()
        # Held until the commit answers: the timer destroys only what no writer holds.
        with svc.store.filing():
            svc.store.publish(envelope_id, staged)
            commit_or_confirm(session, select(Reply.id).where(Reply.id == envelope_id))
    except CommitUnconfirmed:
        raise  # it may have landed: the file stays, published and forced to disk
    except BaseException:
        session.rollback()
        # Freed now, their inodes would date the failure (`EnvelopeStore.retire_file`).
        svc.store.retire_file(staged)
        svc.store.retire_file(svc.store.path(envelope_id))
        raise
    return envelope_id


def read_replies(session: Session, who: SignedIn) -> list[ShownReply]:
    """Decrypt a source's replies in memory; a reply that fails to verify is shown as such."""
    svc = services()
    trusted = svc.reviewer_signing_keys()
    rows = session.execute(
        select(Reply).where(Reply.source_id == who.source_id).order_by(Reply.received_day, Reply.id)
    ).scalars()
    shown = []
    # The day each envelope was first listed under: one listed again is not shown twice.
    first: dict[bytes, str] = {}
    for reply in rows:
        day = reply.received_day.isoformat()
        try:
            out = io.BytesIO()
            with svc.store.open(reply.id) as stored:
                data = stored.read()
            name = hashlib.sha256(data).digest()
            if name in first:
                shown.append(ShownReply(reply.id, day, None, again=first[name]))
                continue
            first[name] = day
            if read_header(io.BytesIO(data)).version.number != 1:
                verify_signature(io.BytesIO(data), trusted)
                shown.append(ShownReply(reply.id, day, None, one_time=True))
                continue
            opened = open_envelope(
                io.BytesIO(data), out, [who.private_key], trusted_signers=trusted
            )
            body = read_reply(out.getvalue(), opened.metadata)
        except (CryptoError, OSError, UnicodeDecodeError):
            # Shown as such, and not logged: a log line's time would date the source's visit,
            # at every visit once the reply's signer has left the keyring.
            shown.append(ShownReply(reply.id, day, None))
            continue
        text = shown_text(body.text)
        if body.written is None:
            shown.append(ShownReply(reply.id, day, text))
            continue
        late = doubtful_delay(body.written, reply.received_day)
        shown.append(ShownReply(reply.id, day, text, body.written.isoformat(), late))
    return shown


@dataclass(frozen=True)
class _StandIn:
    """A reply sealed to a key of nobody's and signed by another, opened in a real one's stead."""

    envelope: bytes
    opener: PrivateKey
    signer: VerifyKey


@functools.cache
def _stand_in() -> _StandIn:
    """The stand-in reply of this process: made once, opened at every account page."""
    opener, signer = PrivateKey.generate(), SigningKey.generate()
    content, metadata = reply_content(_STAND_IN_TEXT, dt.date.today())
    envelope = seal_bytes(content, [opener.public_key], metadata, signer=signer)
    return _StandIn(envelope, opener, signer.verify_key)


def open_stand_ins(count: int) -> list[ShownReply]:
    """Open `count` stand-in replies as `read_replies` opens a real one, to be thrown away.

    An account page opened and checked each of its replies (an X25519 opening and a
    signature): the page a right login leads to took longer by that much than a wrong
    one's, and said how much the reviewers had written. Every page opens as many
    replies, real or stand-ins, up to `SOURCE_REPLIES_WEIGHED` (docs/PROTOCOL.md §7.3.2).
    """
    stand_in = _stand_in()
    trusted = services().reviewer_signing_keys() | {stand_in.signer}
    shown = []
    for _ in range(count):
        out = io.BytesIO()
        data = stand_in.envelope
        hashlib.sha256(data).digest()
        read_header(io.BytesIO(data))
        opened = open_envelope(io.BytesIO(data), out, [stand_in.opener], trusted_signers=trusted)
        body = read_reply(out.getvalue(), opened.metadata)
        written = body.written or dt.date.today()
        doubtful_delay(written, dt.date.today())
        shown.append(ShownReply(new_id(), written.isoformat(), shown_text(body.text)))
    return shown


def delete_reply(session: Session, who: SignedIn, reply_id: str) -> bool:
    """Delete one of the source's own replies, file and row; False if it is not theirs."""
    return delete_own_reply(session, who.source_id, reply_id)


def delete_every_reply(session: Session, who: SignedIn) -> int:
    """Delete all the source's replies, files and rows, in one commit; say how many.

    A source warned of a checkpoint has a minute, not a press over Tor per reply:
    whoever takes the phone and the codename reads every reply left here.
    """
    rows = session.execute(select(Reply).where(Reply.source_id == who.source_id)).scalars().all()
    for reply in rows:
        session.delete(reply)
    session.commit()
    for reply in rows:
        # As `delete_own_reply`: overwritten now, its inode freed by the next sweep.
        services().store.retire(reply.id)
    return len(rows)


def delete_own_reply(session: Session, source_id: str, reply_id: str) -> bool:
    """Delete a reply of the source `source_id`, file and row; False if it is not theirs.

    The account page and the API (`raazdar-submit replies --delete`) both delete here.
    """
    # One statement, never the ORM's delete of a row loaded before: the source's second press,
    # in another worker, matched no row, and SQLAlchemy warned so on the server's stderr,
    # outside the scrubbed log, a line journald dates to the second.
    deleted = session.execute(
        delete(Reply)
        .where(Reply.id == reply_id, Reply.source_id == source_id)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if not deleted.rowcount:  # type: ignore[attr-defined]
        return False
    # Its inode is freed by the next sweep: freed now, it would date the deletion.
    services().store.retire(reply_id)
    return True
