"""A reply's day is the server's word: a seized server may not pass an old one off as new.

A reply sealed to the codename's key (every reply to a browser source, and to a
`raazdar-submit` source whose one-time keys ran out) opens at every run. The
signature covers its text, not the day the server lists it under, so a seized
server could list a reviewer's old "meet our investigator at the court gate on
Friday" again under today's day, or twice, for the source to read as a new
request. The device remembers, sealed, the day it first showed each one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.models import Reply
from app.services.context import services
from app.services.replies import post_reply
from tests.app.support import db_session, reply_to, reviewer_keys
from tests.submit.support import Device

ASK = "Can you meet our investigator at the district court gate on Friday at ten?"
OLD_DAY = dt.date(2026, 11, 2)


def _first_reply(device: Device, codename_file: Path, app: Flask, instance: Path) -> str:
    """A report, and the reviewer's genuine reply to it, listed under a day weeks ago."""
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, codename_file.read_text().strip(), ASK, signer)
    with db_session(app) as session:
        row = session.get(Reply, reply_id)
        assert row is not None
        row.received_day = OLD_DAY
        session.commit()
    return reply_id


def _listed_again(app: Flask, reply_id: str, *, drop_original: bool) -> None:
    """As a seized server: the same envelope listed anew, under today's day."""
    with app.app_context(), db_session(app) as session:
        row = session.get(Reply, reply_id)
        assert row is not None
        envelope = services().store.path(reply_id).read_bytes()
        source = row.source_id
        if drop_original:
            session.delete(row)
            session.commit()
        post_reply(session, source, envelope)


def test_an_old_reply_listed_again_under_today_is_shown_with_the_day_it_was_first_shown(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    reply_id = _first_reply(device, codename_file, app, instance)
    first = device.run("replies", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    assert f"reply 1 of 1, {OLD_DAY}, from Demo reviewer" in first.stdout

    _listed_again(app, reply_id, drop_original=True)
    today = dt.datetime.now(dt.UTC).date()
    again = device.run("replies", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert ASK in again.stdout
    assert f"{today}, from" not in again.stdout, (
        f"the old reply was shown as today's: {again.stdout.splitlines()[0]}"
    )
    assert f"reply 1 of 1, {OLD_DAY}, from Demo reviewer" in again.stdout
    assert f"now lists it under {today}" in again.stderr


def test_one_reply_listed_twice_is_shown_once(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    reply_id = _first_reply(device, codename_file, app, instance)
    _listed_again(app, reply_id, drop_original=False)
    with db_session(app) as session:
        assert len(session.execute(select(Reply)).scalars().all()) == 2
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 0, read.output
    assert read.stdout.count(ASK) == 1, "one reply, listed twice by the server, was shown twice"
    assert "the same reply as reply 1" in read.stdout
