"""A source's two deletions of a reply at once (two workers, a double press over Tor).

Each worker loaded the reply, then deleted it through the ORM: the second's DELETE matched
no row, and SQLAlchemy said so in a warning, on the server's standard error, outside the
scrubbed log: under journald a line dated to the second when a source deleted its replies
twice. Both deletions must leave the reply gone once, say nothing, and answer as usual.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.models import Reply
from app.services.replies import delete_every_reply, delete_own_reply
from app.services.sources import SignedIn
from crypto import PrivateKey
from tests.app.support import (
    Visitor,
    db_session,
    envelope_files,
    reply_to,
    reviewer_keys,
    source_id,
)


def _source_with_replies(visitor: Visitor, app: Flask, instance: Path) -> tuple[str, list[str]]:
    """A source who has made a report and has two replies; its id and theirs."""
    page = visitor.start()
    visitor.send(page, "The SHO took money from the agent.", [], {})
    codename = page.fields["codename"]
    signer = reviewer_keys(instance).signing
    assert signer is not None
    replies = [reply_to(app, codename, text, signer) for text in ("Thank you.", "Write again.")]
    return source_id(app, codename), replies


def test_a_reply_deleted_by_two_requests_at_once_is_gone_once_and_nothing_is_said(
    visitor: Visitor, app: Flask, instance: Path
) -> None:
    source, (reply, kept) = _source_with_replies(visitor, app, instance)
    with app.app_context(), db_session(app) as first, db_session(app) as second:
        loaded = second.get(Reply, reply)  # the second worker read it before the first deleted
        assert loaded is not None
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would reach the server's stderr
            assert delete_own_reply(first, source, reply)
            delete_own_reply(second, source, reply)
    with db_session(app) as session:
        left = session.execute(select(Reply.id).where(Reply.source_id == source)).scalars()
        assert list(left) == [kept]
    assert reply not in {p.stem for p in envelope_files(instance)}


def test_every_reply_deleted_by_two_requests_at_once_is_gone_once_and_nothing_is_said(
    visitor: Visitor, app: Flask, instance: Path
) -> None:
    source, replies = _source_with_replies(visitor, app, instance)
    who = SignedIn(source, PrivateKey.generate())  # deleting takes only the account's id
    with app.app_context(), db_session(app) as first, db_session(app) as second:
        loaded = second.execute(select(Reply).where(Reply.source_id == source)).scalars().all()
        assert len(loaded) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert delete_every_reply(first, who) == 2
            delete_every_reply(second, who)
    with db_session(app) as session:
        left = session.execute(select(Reply.id).where(Reply.source_id == source)).scalars()
        assert list(left) == []
    assert not {p.stem for p in envelope_files(instance)} & set(replies)
